//! The spool as a hostile or clumsy operator leaves it, against the real binary and real HTTP
//! servers on 127.0.0.1: entries that are not the agent's records, a read-only or full disk
//! (a small tmpfs when the tests run as root, else a directory without write permission),
//! two agents at once, a record the endpoint refuses for good, ids out of range, and config
//! files that are not files.

mod common;

use std::os::unix::fs::{symlink, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use common::{exit, five_keys, stderr, stdout, Site, BIN};
use support_metrics_tests::scratch_dir;
use support_metrics_tests::servers::{Answer, TestServer};

const TOKEN: &str = "00112233-4455-4677-8899-aabbccddeeff";

/// An anonymous record as an earlier run would have spooled it.
fn old_record(kafka_version: &str) -> String {
    format!(
        r#"{{"timestamp":1764000000,"kafkaVersion":"{kafka_version}","confluentPlatformVersion":"0.1.0","brokerProcessUUID":"{TOKEN}","collectorState":2}}"#
    )
}

fn http_site(name: &str, server: &TestServer) -> Site {
    let site = Site::new(
        name,
        &format!(
            "confluent.support.metrics.endpoint.secure=\nconfluent.support.metrics.endpoint.insecure={}\n",
            server.url("/anon")
        ),
    );
    std::fs::create_dir_all(site.spool()).unwrap();
    site
}

/// Runs `command`, killing it if it outlives `bound` (then the test fails).
#[track_caller]
fn bounded(mut command: Command, bound: Duration) -> Output {
    let child = command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start agent");
    let started = Instant::now();
    let pid = child.id();
    let waiter = std::thread::spawn(move || child.wait_with_output());
    while !waiter.is_finished() {
        if started.elapsed() > bound {
            let _ = Command::new("kill").args(["-9", &pid.to_string()]).status();
            let out = waiter.join().unwrap().unwrap();
            panic!(
                "still running after {bound:?}\nstdout:\n{}\nstderr:\n{}",
                stdout(&out),
                stderr(&out)
            );
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    waiter.join().unwrap().expect("agent output")
}

fn quarantined(site: &Site) -> Vec<String> {
    std::fs::read_dir(site.spool().join("quarantine"))
        .map(|d| {
            d.map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default()
}

fn mkfifo(path: &Path) {
    assert!(Command::new("mkfifo").arg(path).status().unwrap().success());
}

/// Finding 1: a link to a secret, a FIFO, a directory, a 200 MB file and junk, each named
/// like a record. Before: the secret was POSTed and printed, the FIFO hung `once` and
/// `preview`, the 200 MB file was read whole and sent, the directory aborted `preview`.
#[test]
fn what_the_agent_did_not_write_is_moved_aside_never_sent_or_shown() {
    let server = TestServer::http();
    let site = http_site("spool-hostile", &server);
    let spool = site.spool();
    let secret = site.dir.join("secret.txt");
    std::fs::write(&secret, "db.password=S3cretPass\n").unwrap();
    symlink(&secret, spool.join("record-00000000000000000001-h.json")).unwrap();
    mkfifo(&spool.join("record-00000000000000000002-h.json"));
    std::fs::create_dir(spool.join("record-00000000000000000003-h.json")).unwrap();
    let big = std::fs::File::create(spool.join("record-00000000000000000004-h.json")).unwrap();
    big.set_len(200 << 20).unwrap(); // sparse: no disk used
    std::fs::write(spool.join("record-00000000000000000005-h.json"), "junk").unwrap();
    // The agent's own trust bundle and a stranger's temp file are no business of the spool.
    std::fs::write(spool.join("trusted-roots.pem"), "").unwrap();
    std::fs::write(spool.join(".notes.txt.tmp"), "an editor's").unwrap();

    let preview = bounded(site.command("preview"), Duration::from_secs(20));
    exit(&preview, 0);
    let shown = stdout(&preview);
    assert!(
        !shown.contains("S3cretPass") && !shown.contains("junk"),
        "{shown}"
    );
    assert_eq!(shown.matches("Not shown:").count(), 5, "{shown}");
    assert!(shown.contains("would send 1 record."), "{shown}");

    let once = bounded(site.command("once"), Duration::from_secs(30));
    exit(&once, 0);
    let log = stderr(&once);
    let got = server.received();
    assert_eq!(got.len(), 1, "only the new record is sent: {log}");
    five_keys(&got[0].body, 2);
    assert!(!log.contains("S3cretPass"), "{log}");
    for why in [
        "a symbolic link",
        "not a regular file",
        "a directory",
        "larger than any record",
        "not a support-metrics record",
    ] {
        assert!(log.contains(why), "no warning says {why:?}:\n{log}");
    }
    assert_eq!(quarantined(&site).len(), 5, "{:?}", quarantined(&site));
    assert_eq!(
        std::fs::read_to_string(&secret).unwrap(),
        "db.password=S3cretPass\n",
        "the link's target is untouched"
    );
    assert!(
        spool.join(".notes.txt.tmp").exists(),
        "other temp files stay"
    );
    assert!(!log.contains("trusted-roots.pem"), "{log}");
}

/// Finding 1: with a FIFO named like a record, `run` still stops within 5 s of SIGTERM.
#[test]
fn run_honours_sigterm_with_a_fifo_in_the_spool() {
    let server = TestServer::http();
    let site = http_site("spool-fifo-run", &server);
    mkfifo(&site.spool().join("record-00000000000000000001-h.json"));
    let mut child = site
        .command("run")
        .stderr(Stdio::piped())
        .spawn()
        .expect("start run");
    wait_for(
        || site.spool().join("support-metrics.lock").exists(),
        &mut child,
    );
    std::thread::sleep(Duration::from_millis(500));
    let sent = Instant::now();
    let _ = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        assert!(
            sent.elapsed() < Duration::from_secs(5),
            "SIGTERM not honoured in 5 s"
        );
        std::thread::sleep(Duration::from_millis(20));
    };
    assert_eq!(status.code(), Some(0));
}

#[track_caller]
fn wait_for(mut ready: impl FnMut() -> bool, child: &mut Child) {
    let start = Instant::now();
    while !ready() {
        if start.elapsed() > Duration::from_secs(10) {
            let _ = child.kill();
            panic!("not ready within 10 s");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn is_root() -> bool {
    let out = Command::new("id").arg("-u").output().unwrap();
    String::from_utf8_lossy(&out.stdout).trim() == "0"
}

/// A spool the agent cannot write to: a small tmpfs (read-only, or full) when root, else a
/// directory without write permission. Unmounted when dropped.
struct Unwritable {
    dir: PathBuf,
    mounted: bool,
}

impl Unwritable {
    fn new(name: &str, full: bool) -> Unwritable {
        let dir = scratch_dir(name).join("spool");
        std::fs::create_dir_all(&dir).unwrap();
        let mounted = is_root()
            && Command::new("mount")
                .args(["-t", "tmpfs", "-o", "size=64k", "tmpfs"])
                .arg(&dir)
                .status()
                .unwrap()
                .success();
        // The lock file exists before the disk turns unwritable, as on a spool that ran.
        std::fs::write(dir.join("support-metrics.lock"), "").unwrap();
        if mounted && full {
            // Fill it: writes fail with "No space left on device".
            let _ = Command::new("dd")
                .args(["if=/dev/zero", "bs=4k", "count=64"])
                .arg(format!("of={}", dir.join("filler").display()))
                .stderr(Stdio::null())
                .status();
        } else if mounted {
            assert!(Command::new("mount")
                .args(["-o", "remount,ro"])
                .arg(&dir)
                .status()
                .unwrap()
                .success());
        } else {
            std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o500)).unwrap();
        }
        eprintln!(
            "unwritable spool: {}",
            if mounted {
                "a tmpfs (root)"
            } else {
                "mode 0500 (not root)"
            }
        );
        Unwritable { dir, mounted }
    }
}

impl Drop for Unwritable {
    fn drop(&mut self) {
        if self.mounted {
            let _ = Command::new("umount").arg(&self.dir).status();
        } else {
            let _ = std::fs::set_permissions(&self.dir, std::fs::Permissions::from_mode(0o700));
        }
    }
}

fn site_on(name: &str, spool: &Path, server: &TestServer) -> Site {
    Site::with_spool(
        scratch_dir(name),
        spool,
        &format!(
            "confluent.support.metrics.endpoint.secure=\nconfluent.support.metrics.endpoint.insecure={}\n",
            server.url("/anon")
        ),
    )
}

/// Finding 2: before, the log said "kept in the spool", `once` exited 0 and the record was
/// gone; a 0-byte temp file was left on the full disk.
#[test]
fn a_write_that_failed_is_never_called_kept() {
    for full in [false, true] {
        let name = if full { "spool-full" } else { "spool-ro" };
        let disk = Unwritable::new(name, full);
        let server = TestServer::http();
        server.answer(Answer::Status(500, String::new()));
        let site = site_on(name, &disk.dir, &server);
        let out = bounded(site.command("once"), Duration::from_secs(30));
        exit(&out, 74);
        let log = stderr(&out);
        assert!(log.contains("could not be written to the spool"), "{log}");
        assert!(log.contains("lost"), "{log}");
        assert!(!log.contains("kept in the spool"), "{log}");
        let leftovers: Vec<_> = std::fs::read_dir(&disk.dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|n| n.ends_with(".tmp"))
            .collect();
        assert!(leftovers.is_empty(), "{leftovers:?}");

        // With a working endpoint the record still goes out, from memory, and the log says
        // it was never durable.
        server.answer(Answer::Status(200, String::new()));
        let out = bounded(site.command("once"), Duration::from_secs(30));
        exit(&out, 0);
        assert!(stderr(&out).contains("could not be written to the spool"));
        assert_eq!(
            server
                .received()
                .iter()
                .filter(|r| r.body.len() > 2)
                .count(),
            2
        );
    }
}

/// Finding 3: before, a daemon and a manual `once` delivered the same record twice, and two
/// `once` at once made two records with one id.
#[test]
fn one_agent_per_spool() {
    let server = TestServer::http();
    server.answer(Answer::Status(500, String::new()));
    let site = http_site("spool-lock", &server);
    exit(&site.once(), 75); // record #1 stays in the spool
    server.answer(Answer::Status(200, String::new()));

    let mut daemon = site
        .command("run")
        .stderr(Stdio::null())
        .spawn()
        .expect("start run");
    let lock = site.spool().join("support-metrics.lock");
    let pid = daemon.id().to_string();
    wait_for(
        || std::fs::read_to_string(&lock).is_ok_and(|t| t.trim() == pid),
        &mut daemon,
    );
    let second = bounded(site.command("run"), Duration::from_secs(10));
    exit(&second, 75);
    assert!(
        stderr(&second).contains(&format!("in use by process {pid}")),
        "{}",
        stderr(&second)
    );
    let manual = bounded(site.command("once"), Duration::from_secs(20));
    exit(&manual, 75);
    assert!(stderr(&manual).contains(&pid), "{}", stderr(&manual));
    let _ = Command::new("kill").args(["-TERM", &pid]).status();
    let _ = daemon.wait();

    // Two `once` at the same moment: one waits for the other; no record goes out twice.
    server.answer(Answer::Status(500, String::new()));
    exit(&site.once(), 75);
    server.answer(Answer::Status(200, String::new()));
    let before = server.received().len();
    let both: Vec<_> = (0..2)
        .map(|_| {
            let mut c = site.command("once");
            c.stdout(Stdio::null()).stderr(Stdio::piped());
            c.spawn().unwrap()
        })
        .collect();
    for child in both {
        let out = child.wait_with_output().unwrap();
        assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    }
    let bodies: Vec<Vec<u8>> = server.received()[before..]
        .iter()
        .map(|r| r.body.clone())
        .collect();
    let mut unique = bodies.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), bodies.len(), "a record was delivered twice");
    assert_eq!(
        bodies.len(),
        3,
        "the spooled record and one new record each"
    );
    assert_eq!(site.spooled(), 0);
}

/// Finding 4: a record the endpoint answers 400 to no longer blocks the others, and after
/// three refusals it is moved aside with a warning.
#[test]
fn a_refused_record_steps_aside_then_is_quarantined() {
    let server = TestServer::http();
    server.answer(Answer::Refuse {
        marker: "refuse-me".to_owned(),
        status: 400,
    });
    let site = http_site("spool-refused", &server);
    std::fs::write(
        site.spool().join("record-00000000000000000001-h.json"),
        old_record("refuse-me"),
    )
    .unwrap();
    for run in 1..=3 {
        let out = bounded(site.command("once"), Duration::from_secs(30));
        let delivered = server
            .received()
            .iter()
            .filter(|r| !String::from_utf8_lossy(&r.body).contains("refuse-me"))
            .count();
        assert_eq!(
            delivered,
            run,
            "run {run}: the new record went out: {}",
            stderr(&out)
        );
        if run < 3 {
            exit(&out, 75);
        } else {
            exit(&out, 0);
            assert!(
                stderr(&out).contains("refused for good 3 times"),
                "{}",
                stderr(&out)
            );
        }
    }
    assert_eq!(site.spooled(), 0);
    assert_eq!(quarantined(&site).len(), 1);
}

/// Finding 5: before, a file with id u64::MAX made the next record take the same id,
/// overwrite it, and `once` exit 0 with an empty spool.
#[test]
fn an_id_out_of_range_is_quarantined_and_the_new_record_kept() {
    let server = TestServer::http();
    server.answer(Answer::Status(500, String::new()));
    let site = http_site("spool-max-id", &server);
    std::fs::write(
        site.spool().join("record-18446744073709551615-h.json"),
        old_record("3.6.0"),
    )
    .unwrap();
    let out = bounded(site.command("once"), Duration::from_secs(30));
    exit(&out, 75);
    assert!(stderr(&out).contains("out of range"), "{}", stderr(&out));
    assert_eq!(site.spooled(), 1, "the new record is kept");
    assert!(site
        .spool()
        .join("record-00000000000000000001-h.json")
        .exists());
}

/// Records only HTTP could take, once DO_NOT_TRACK is set and the topic is off: removed with
/// the reason, and `once` exits 0 (before: 75 on every run).
#[test]
fn records_no_sink_can_take_are_removed() {
    let server = TestServer::http();
    let site = http_site("spool-dnt", &server);
    std::fs::write(
        site.spool().join("record-00000000000000000003-h.json"),
        old_record("3.6.0"),
    )
    .unwrap();
    let out = bounded(
        {
            let mut c = site.command("once");
            c.env("DO_NOT_TRACK", "1");
            c
        },
        Duration::from_secs(30),
    );
    exit(&out, 0);
    assert!(
        stderr(&out).contains("its sinks are off now"),
        "{}",
        stderr(&out)
    );
    assert_eq!(site.spooled(), 0);
    assert_eq!(server.count(), 0);
}

/// Finding 7: `--config /dev/zero` grew to gigabytes; a FIFO blocked forever.
#[test]
fn a_config_that_is_not_a_file_is_refused_at_once() {
    let dir = scratch_dir("config-not-a-file");
    let fifo = dir.join("server.properties");
    mkfifo(&fifo);
    let big = dir.join("big.properties");
    std::fs::File::create(&big)
        .unwrap()
        .set_len(17 << 20)
        .unwrap();
    for (path, why) in [
        (Path::new("/dev/zero"), "not a regular file"),
        (fifo.as_path(), "not a regular file"),
        (dir.as_path(), "a directory"),
        (big.as_path(), "larger than 16 MiB"),
    ] {
        for verb in ["config", "once", "preview"] {
            let mut c = Command::new(&*BIN);
            c.args([verb, "--config"]).arg(path);
            let out = bounded(c, Duration::from_secs(10));
            exit(&out, 66);
            let line = stderr(&out);
            assert!(
                line.contains(why) && line.contains(&path.display().to_string()),
                "{verb} {}: {line}",
                path.display()
            );
            assert_eq!(line.trim().lines().count(), 1, "{line}");
        }
    }
}
