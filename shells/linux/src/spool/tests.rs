use std::os::unix::fs::symlink;

use support_metrics_core::wire::{AnonymousRecord, CollectorState};

use super::*;

fn dir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!(
        "support-metrics-spool-{name}-{}",
        std::process::id()
    ));
    let _ = fs::remove_dir_all(&d);
    d
}

const TOKEN: &str = "00112233-4455-4677-8899-aabbccddeeff";

/// A real record, different for each `n`.
fn record(n: u64) -> Vec<u8> {
    let mut buf = [0u8; 512];
    let len = AnonymousRecord {
        timestamp: n,
        kafka_version: "3.7.0",
        confluent_platform_version: Some("0.1.0"),
        broker_process_uuid: TOKEN,
        collector_state: CollectorState::Running,
    }
    .encode(&mut buf)
    .unwrap();
    buf[..len].to_vec()
}

fn open(d: &Path) -> Spool {
    Spool::open(d, Duration::ZERO).unwrap()
}

fn stored(id: u64, pending: Sinks, rejections: u8) -> Stored {
    Stored {
        id: RecordId(id),
        pending,
        rejections,
        token: BrokerToken::parse(TOKEN).unwrap(),
    }
}

fn names(d: &Path) -> Vec<String> {
    let mut names: Vec<String> = fs::read_dir(d)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    names.sort();
    names
}

#[test]
fn names_round_trip() {
    for (id, pending, rejections) in [
        (1, Sinks::ALL, 0),
        (42, Sink::Topic.into(), 2),
        (u64::MAX, Sink::Http.into(), 255),
    ] {
        let name = file_name(&stored(id, pending, rejections));
        assert_eq!(parse_name(&name), Some((id, pending, rejections)), "{name}");
    }
    assert_eq!(
        file_name(&stored(42, Sinks::ALL, 0)),
        "record-00000000000000000042-th.json"
    );
    assert_eq!(
        file_name(&stored(42, Sinks::ALL, 2)),
        "record-00000000000000000042-th-r2.json"
    );
    for bad in [
        "record-42-th.json",
        "record-00000000000000000042-.json",
        "record-00000000000000000042-x.json",
        "record-00000000000000000042-t-r.json",
        "record-00000000000000000042-t-r0.json",
        "record-00000000000000000042-t-r999.json",
        "notes.txt",
        "record-0000000000000000004a-t.json",
    ] {
        assert_eq!(parse_name(bad), None, "{bad}");
    }
}

#[test]
fn write_update_read_remove_survive_reopen() {
    let d = dir("cycle");
    {
        let mut spool = open(&d);
        assert!(spool.is_empty());
        spool.write(RecordId(7), Sinks::ALL, &record(7)).unwrap();
        spool
            .write(RecordId(3), Sink::Topic.into(), &record(3))
            .unwrap();
        spool.update(RecordId(7), Sink::Http.into(), 1).unwrap();
    }
    let mut again = open(&d);
    let records: Vec<_> = again.records().collect();
    assert_eq!(
        records,
        [
            stored(3, Sink::Topic.into(), 0),
            stored(7, Sink::Http.into(), 1)
        ]
    );
    assert_eq!(again.read(RecordId(7)).unwrap(), record(7));
    again.remove(RecordId(7)).unwrap();
    again.remove(RecordId(7)).unwrap(); // already gone: fine
    assert!(again.update(RecordId(7), Sinks::ALL, 0).is_err());
    drop(again);
    assert_eq!(open(&d).len(), 1);
    assert_eq!(names(&d), ["record-00000000000000000003-t.json", LOCK_FILE]);
}

#[test]
fn only_the_agents_temp_files_are_cleaned_and_its_own_files_are_not_strangers() {
    let d = dir("crash");
    fs::create_dir_all(&d).unwrap();
    for name in [
        ".support-metrics-record-00000000000000000009.tmp",
        ".record-00000000000000000008.tmp",
    ] {
        fs::write(d.join(name), b"half").unwrap();
    }
    for name in [".notes.txt.tmp", ".X0-lock.tmp", "README", TRUST_BUNDLE] {
        fs::write(d.join(name), b"not ours").unwrap();
    }
    fs::write(d.join("record-00000000000000000004-t.json"), record(4)).unwrap();
    let spool = open(&d);
    assert_eq!(spool.len(), 1);
    assert!(!d
        .join(".support-metrics-record-00000000000000000009.tmp")
        .exists());
    assert!(!d.join(".record-00000000000000000008.tmp").exists());
    for kept in [".notes.txt.tmp", ".X0-lock.tmp", "README", TRUST_BUNDLE] {
        assert!(d.join(kept).exists(), "{kept} is left alone");
    }
    let mut strangers: Vec<_> = spool
        .strangers()
        .iter()
        .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    strangers.sort();
    assert_eq!(strangers, [".X0-lock.tmp", ".notes.txt.tmp", "README"]);
}

#[test]
fn what_is_not_our_record_is_moved_aside_unread() {
    let d = dir("hostile");
    fs::create_dir_all(&d).unwrap();
    let secret = d.join("../secret.txt");
    fs::write(&secret, b"hunter2").unwrap();
    symlink(&secret, d.join("record-00000000000000000001-h.json")).unwrap();
    fs::create_dir(d.join("record-00000000000000000002-h.json")).unwrap();
    let status = std::process::Command::new("mkfifo")
        .arg(d.join("record-00000000000000000003-h.json"))
        .status()
        .unwrap();
    assert!(status.success());
    let big = File::create(d.join("record-00000000000000000004-h.json")).unwrap();
    big.set_len(200 << 20).unwrap(); // sparse: 200 MB, no disk
    fs::write(d.join("record-00000000000000000005-h.json"), b"junk").unwrap();
    fs::write(d.join("record-18446744073709551615-h.json"), record(6)).unwrap();
    fs::write(d.join("record-00000000000000000007-t.json"), record(7)).unwrap();
    fs::write(d.join("record-00000000000000000007-h.json"), record(7)).unwrap();

    let peeked = Spool::peek(&d, Duration::ZERO).unwrap();
    assert_eq!(peeked.records.len(), 1);
    assert_eq!(peeked.refused.len(), 7, "{:?}", peeked.refused);

    let spool = open(&d);
    assert_eq!(spool.records().map(|s| s.id.0).collect::<Vec<_>>(), [7]);
    let mut why: Vec<_> = spool
        .quarantined()
        .iter()
        .map(|r| (r.name.clone(), r.why.clone()))
        .collect();
    why.sort();
    let reasons: Vec<&str> = why.iter().map(|(_, w)| w.as_str()).collect();
    assert!(reasons.contains(&"a symbolic link"), "{why:?}");
    assert!(reasons.contains(&"a directory"), "{why:?}");
    assert!(reasons.contains(&"not a regular file"), "{why:?}");
    assert!(
        reasons.iter().any(|r| r.contains("larger than any record")),
        "{why:?}"
    );
    assert!(
        reasons.iter().any(|r| r.contains("out of range")),
        "{why:?}"
    );
    assert!(reasons.iter().any(|r| r.contains("second file")), "{why:?}");
    assert_eq!(why.len(), 7);
    assert_eq!(fs::read_dir(d.join(QUARANTINE_DIR)).unwrap().count(), 7);
    assert_eq!(
        fs::read(&secret).unwrap(),
        b"hunter2",
        "the link's target is untouched"
    );
}

#[test]
fn one_process_per_spool() {
    let d = dir("lock");
    let first = open(&d);
    let err = Spool::open(&d, Duration::from_millis(200)).unwrap_err();
    let SpoolError::Busy { pid, .. } = &err else {
        panic!("{err}")
    };
    assert_eq!(*pid, Some(std::process::id()));
    assert!(
        err.to_string().contains(&std::process::id().to_string()),
        "{err}"
    );
    assert!(matches!(
        Spool::peek(&d, Duration::ZERO),
        Err(SpoolError::Busy { .. })
    ));
    drop(first);
    open(&d);
}

#[test]
fn a_failed_write_leaves_nothing() {
    let d = dir("failed");
    let mut spool = open(&d);
    // Not a record: refused before anything is written.
    assert!(spool.write(RecordId(1), Sinks::ALL, b"three").is_err());
    // A directory where the final name goes: the rename fails, the temp file is removed.
    fs::create_dir(d.join("record-00000000000000000002-th.json")).unwrap();
    fs::write(d.join("record-00000000000000000002-th.json/x"), b"x").unwrap();
    assert!(spool.write(RecordId(2), Sinks::ALL, &record(2)).is_err());
    assert!(spool.is_empty());
    assert!(
        !names(&d).iter().any(|n| n.ends_with(".tmp")),
        "{:?}",
        names(&d)
    );
}

#[test]
fn rewrite_replaces_the_old_file_and_quarantine_is_bounded() {
    let d = dir("rewrite");
    let mut spool = open(&d);
    spool.write(RecordId(1), Sinks::ALL, &record(1)).unwrap();
    spool
        .write(RecordId(1), Sink::Topic.into(), &record(2))
        .unwrap();
    assert_eq!(names(&d).len(), 2, "{:?}", names(&d));
    assert_eq!(spool.read(RecordId(1)).unwrap(), record(2));
    for id in 2..(QUARANTINE_MAX as u64 + 10) {
        spool.write(RecordId(id), Sinks::ALL, &record(id)).unwrap();
        spool.quarantine(RecordId(id)).unwrap();
    }
    assert_eq!(
        fs::read_dir(d.join(QUARANTINE_DIR)).unwrap().count(),
        QUARANTINE_MAX
    );
}

#[test]
fn a_link_in_place_of_the_quarantine_is_not_followed() {
    let d = dir("quarantine-link");
    let elsewhere = dir("quarantine-elsewhere");
    fs::create_dir_all(&elsewhere).unwrap();
    for i in 0..(QUARANTINE_MAX + 5) {
        fs::write(elsewhere.join(format!("keep-{i}")), b"x").unwrap();
    }
    fs::create_dir_all(&d).unwrap();
    symlink(&elsewhere, d.join(QUARANTINE_DIR)).unwrap();
    fs::write(d.join("record-00000000000000000001-t.json"), b"junk").unwrap();
    let spool = open(&d);
    assert_eq!(spool.quarantined().len(), 1);
    assert_eq!(
        fs::read_dir(&elsewhere).unwrap().count(),
        QUARANTINE_MAX + 5,
        "nothing deleted through the link"
    );
    assert!(
        !d.join("record-00000000000000000001-t.json").exists(),
        "never read again"
    );
}
