//! `serve` on a disk that fills up under it: every record it cannot store gets a 503 with one
//! line (the agent keeps it and tries again), the collector keeps running, says why in its
//! log, and stores again once there is room. A 200 is never given for a record that is not
//! stored. On a read-only disk it does not start, and says why.
//!
//! The database sits on a small tmpfs mounted for the test, so it needs root (as in CI);
//! elsewhere the test says so and passes without running.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use common::*;
use support_metrics_tests::scratch_dir;

/// A tmpfs of `size` at `dir`, unmounted when dropped; `None` when it cannot be mounted.
struct Tmpfs(PathBuf);

impl Tmpfs {
    fn mount(dir: &Path, size: &str) -> Option<Tmpfs> {
        std::fs::create_dir_all(dir).unwrap();
        let ok = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(dir)
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        ok.then(|| Tmpfs(dir.to_owned()))
    }

    fn remount(&self, how: &str) {
        assert!(Command::new("mount")
            .args(["-o", &format!("remount,{how}")])
            .arg(&self.0)
            .status()
            .unwrap()
            .success());
    }

    /// Fills what is left with a file; returns its path.
    fn fill(&self) -> PathBuf {
        let filler = self.0.join("filler");
        let _ = Command::new("dd")
            .args(["if=/dev/zero", "bs=4k"])
            .arg(format!("of={}", filler.display()))
            .stderr(Stdio::null())
            .status();
        filler
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(&self.0).status();
    }
}

/// Posts anonymous records `range`; the statuses.
fn post_all(c: &Collector, range: std::ops::Range<u64>, ts: u64) -> Vec<(u64, u16, String)> {
    range
        .map(|n| {
            let (status, answer) = c.post("/anon", anon(&token(n), ts, "3.7.0").as_bytes());
            (n, status, answer)
        })
        .collect()
}

/// Records the full disk is offered: enough that the database must grow past the log's
/// reused space.
/// `serve` on `db`, which must refuse to start: how it exited (killed after 20 s if it
/// started after all).
fn serve_refused(db: &str) -> std::process::Output {
    run_bounded(Command::new(BIN.as_str()).args([
        "serve",
        "--listen",
        "127.0.0.1:0",
        "--database",
        db,
    ]))
}

const OFFERED: u64 = 2000;

#[test]
fn a_full_or_read_only_disk_gets_503_and_the_collector_recovers() {
    let dir = scratch_dir("disk-full");
    let Some(disk) = Tmpfs::mount(&dir.join("db"), "8m") else {
        eprintln!("SKIPPED: cannot mount a tmpfs here (needs root); CI runs this as root");
        return;
    };
    let db = sqlite(&disk.0);
    let mut c = Collector::start(&db, &dir, &[]);
    let ts = now();
    let first = post_all(&c, 0..1, ts);
    assert_eq!(first[0].1, 200, "{}", first[0].2);

    // Full: records are refused until there is room again, never answered 200 unstored.
    let filler = disk.fill();
    let full = post_all(&c, 1..OFFERED, ts);
    let refused: Vec<_> = full.iter().filter(|r| r.1 != 200).collect();
    assert!(!refused.is_empty(), "a full disk refused nothing");
    for (n, status, answer) in &refused {
        assert_eq!(*status, 503, "record {n}: {answer}");
        assert_eq!(
            answer.trim(),
            "the record could not be stored; try again later"
        );
    }
    assert!(c.child.try_wait().unwrap().is_none(), "collector exited");
    std::fs::remove_file(&filler).unwrap();
    for (n, status, answer) in post_all(&c, 1..OFFERED, ts) {
        assert_eq!(
            status, 200,
            "record {n} after the disk has room again: {answer}"
        );
    }

    let log = c.stop_and_log();
    let path = disk.0.join("collector.db");
    assert!(
        log.lines()
            .any(|l| l.contains("ERROR cannot store a record")
                && l.contains(&path.display().to_string())
                && l.contains("full")),
        "{log}"
    );

    // Read-only (as after a file system error): `serve` refuses to start, naming the file
    // and the cause, and starts again once the disk is writable.
    disk.remount("ro");
    let out = serve_refused(&db);
    // `report` only reads: it works there.
    let on_read_only = stored(&db);
    disk.remount("rw");
    assert_eq!(on_read_only, OFFERED as i64);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(69), "{err}");
    assert_eq!(
        err.trim(),
        format!(
            "support-metrics-collector: {db}: cannot write {}: Read-only file system (os error 30)",
            path.display()
        )
    );
    let c = Collector::start(&db, &dir, &[]);
    for (n, status, answer) in post_all(&c, OFFERED..OFFERED + 10, ts) {
        assert_eq!(status, 200, "record {n} after the remount: {answer}");
    }
    drop(c);
    // Every record once: none lost, none twice.
    assert_eq!(stored(&db), OFFERED as i64 + 10);
}

/// A PostgreSQL database that only reads (a standby, or `default_transaction_read_only`):
/// `serve` refuses to start and says so, instead of answering 503 to every record; `report`
/// works.
#[test]
fn a_read_only_postgres_is_refused_at_start() {
    let db = postgres("readonly");
    // Migrated while writable, as a database a standby serves would be.
    stored(&db);
    let name = db.rsplit('/').next().unwrap();
    let mut client = postgres::Client::connect(&db, postgres::NoTls).unwrap();
    client
        .batch_execute(&format!(
            "ALTER DATABASE {name} SET default_transaction_read_only = on"
        ))
        .unwrap();
    let out = serve_refused(&db);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(69), "{err}");
    assert!(
        err.trim()
            .ends_with("the server only reads (a standby, or default_transaction_read_only)"),
        "{err}"
    );
    assert_eq!(err.lines().count(), 1, "{err}");
    // `report` only reads: it works there.
    assert_eq!(stored(&db), 0);
}
