//! Bundles and command lines as an attacker or a careless operator makes them, against the
//! real binary: zip bombs, entry names that escape, control characters, slow servers, and
//! arguments out of range. No broker is needed.

use std::io::Write as _;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use support_metrics_tests::scratch_dir;

const BIN: &str = env!("CARGO_BIN_EXE_support-metrics-bundle");
const OURS: &str = r#"{"timestamp":1,"kafkaVersion":"3.7.0","confluentPlatformVersion":"0.1.0","brokerProcessUUID":"00112233-4455-4677-8899-aabbccddeeff","collectorState":2}"#;

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

#[track_caller]
fn exit(o: &Output, code: i32) {
    assert_eq!(o.status.code(), Some(code), "{}", text(o));
}

/// Writes a zip with Python's zipfile (C zlib, streamed): `entries` are (name, kind, arg)
/// where kind is `text` (arg is the content) or `zeros` (arg is a size in MiB); the manifest
/// lists the SHA-256 of every entry, so only size or name can make it wrong.
fn make_zip(path: &Path, entries: &[(&str, &str, &str)], manifest_topic: &str) {
    let spec = serde_json::to_string(entries).unwrap();
    let topic = serde_json::to_string(manifest_topic).unwrap();
    let script = format!(
        r#"
import hashlib, json, zipfile
entries = json.loads({spec:?})
hashes = {{}}
with zipfile.ZipFile({:?}, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as z:
    for name, kind, arg in entries:
        h = hashlib.sha256()
        with z.open(name, "w", force_zip64=True) as f:
            if kind == "text":
                f.write(arg.encode()); h.update(arg.encode())
            else:
                chunk = bytes(1 << 20)
                for _ in range(int(arg)):
                    f.write(chunk); h.update(chunk)
        if name != "manifest.json":
            hashes[name] = h.hexdigest()
    if not any(n == "manifest.json" for n, _, _ in entries):
        z.writestr("manifest.json", json.dumps({{"topic": json.loads({topic:?}), "clusterId": "c",
            "partitions": [], "recordCount": len(hashes), "createdAt": "2026-01-01T00:00:00Z",
            "sha256": hashes}}))
"#,
        path.display().to_string(),
    );
    let out = Command::new("python3")
        .arg("-c")
        .arg(script)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out));
}

/// Runs the bundle tool and returns its output and peak RSS in KiB (from the kernel's
/// accounting of the finished child, read through Python's `resource`).
fn run_measured(args: &[&str]) -> (i32, String, u64) {
    let script = format!(
        r#"
import resource, subprocess, sys
p = subprocess.run({:?}, capture_output=True)
sys.stdout.write(str(p.returncode) + "\n" + str(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss) + "\n")
sys.stdout.write((p.stdout + p.stderr).decode(errors="replace"))
"#,
        std::iter::once(BIN)
            .chain(args.iter().copied())
            .collect::<Vec<_>>()
    );
    let out = Command::new("python3")
        .arg("-c")
        .arg(script)
        .output()
        .unwrap();
    let s = String::from_utf8_lossy(&out.stdout).into_owned();
    let mut lines = s.splitn(3, '\n');
    let code = lines.next().unwrap().trim().parse().unwrap();
    let rss = lines.next().unwrap().trim().parse().unwrap();
    (code, lines.next().unwrap_or("").to_owned(), rss)
}

/// Finding 5: a 1 MB zip with a 1 GiB entry (valid hash), and a 1 GiB manifest, took verify
/// and inspect to 1 GB of memory. Now: refused, in bounded memory.
#[test]
fn zip_bombs_fail_in_bounded_memory() {
    let dir = scratch_dir("bundle-bomb");
    let entry = dir.join("entry-bomb.zip");
    make_zip(
        &entry,
        &[
            ("records/0-0", "text", OURS),
            ("records/0-1", "zeros", "1024"),
        ],
        "t",
    );
    let manifest = dir.join("manifest-bomb.zip");
    make_zip(&manifest, &[("manifest.json", "zeros", "1024")], "t");
    assert!(
        std::fs::metadata(&entry).unwrap().len() < 4 << 20,
        "a small file"
    );
    for (zip, why) in [
        (&entry, "records/0-1: larger than any record"),
        (&manifest, "manifest.json: larger than 16 MiB"),
    ] {
        for verb in ["verify", "inspect"] {
            let (code, out, rss) = run_measured(&[verb, zip.to_str().unwrap()]);
            assert_eq!(code, 65, "{verb}: {out}");
            assert!(out.contains(why), "{verb}: {out}");
            assert!(rss < 64 * 1024, "{verb} peaked at {rss} KiB");
            eprintln!("{verb} {}: peak RSS {rss} KiB", zip.display());
        }
    }
}

/// Finding 6: entry names with `../`, absolute paths or control characters passed verify, and
/// inspect printed control characters raw (a title escape, a forged line).
#[test]
fn only_the_layout_the_tool_writes_passes() {
    let dir = scratch_dir("bundle-names");
    for name in [
        "../escape",
        "/etc/cron.d/x",
        "records/../../x",
        "records/0-1\u{1b}]0;owned\u{7}",
        "records/0-1\nrecords/9-9: forged",
        "notes.txt",
    ] {
        let zip = dir.join("names.zip");
        let _ = std::fs::remove_file(&zip);
        make_zip(
            &zip,
            &[("records/0-0", "text", OURS), (name, "text", OURS)],
            "t",
        );
        for verb in ["verify", "inspect"] {
            let out = Command::new(BIN).args([verb]).arg(&zip).output().unwrap();
            exit(&out, 65);
            let shown = text(&out);
            assert!(
                shown.contains("unexpected entry"),
                "{verb} {name:?}: {shown}"
            );
            assert!(
                !shown.contains('\u{1b}') && !shown.contains("\nrecords/9-9"),
                "{shown:?}"
            );
        }
    }
    // Control characters in the manifest reach the terminal escaped.
    let zip = dir.join("topic.zip");
    make_zip(
        &zip,
        &[("records/0-0", "text", OURS)],
        "t\u{1b}]0;owned\u{7}\nforged: x",
    );
    let out = Command::new(BIN).arg("inspect").arg(&zip).output().unwrap();
    exit(&out, 0);
    let shown = String::from_utf8_lossy(&out.stdout);
    assert!(
        !shown.contains('\u{1b}') && !shown.contains("\nforged"),
        "{shown:?}"
    );
    assert_eq!(shown.lines().count(), 2, "{shown}");
}

/// Finding 7: `--runtime 18446744073709551615` panicked, `--runtime 0` was accepted; a
/// ZooKeeper server dripping a byte every 0.9 s held `--runtime 1` for 28 s.
#[test]
fn runtime_is_checked_and_bounds_the_whole_run() {
    for runtime in ["18446744073709551615", "0", "604801", "x"] {
        let out = Command::new(BIN)
            .args(["--bootstrap-server", "127.0.0.1:1", "--runtime", runtime])
            .output()
            .unwrap();
        exit(&out, 2);
        assert!(text(&out).contains("--runtime"), "{}", text(&out));
    }
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let drip = std::thread::spawn(move || {
        // Accept one client and answer one byte every 0.9 s, for at most 30 s.
        let Ok((mut stream, _)) = listener.accept() else {
            return;
        };
        for _ in 0..33 {
            if stream.write_all(&[0]).is_err() {
                return;
            }
            std::thread::sleep(Duration::from_millis(900));
        }
    });
    let dir = scratch_dir("bundle-drip");
    let started = Instant::now();
    let out = Command::new(BIN)
        .args([
            "--zookeeper",
            &format!("127.0.0.1:{port}"),
            "--runtime",
            "2",
        ])
        .arg("--file")
        .arg(dir.join("b.zip"))
        .output()
        .unwrap();
    let took = started.elapsed();
    exit(&out, 69);
    assert!(
        took < Duration::from_secs(5),
        "took {took:?}: {}",
        text(&out)
    );
    drop(drip);
}

/// Finding 8: exit codes and messages said what the README did not.
#[test]
fn command_line_mistakes_get_their_documented_codes() {
    let dir = scratch_dir("bundle-cli");
    let file = dir.join("b.zip");
    let out = Command::new(BIN)
        .args([
            "--bootstrap-server",
            "127.0.0.1:1",
            "--client-property",
            "nonsense",
        ])
        .output()
        .unwrap();
    exit(&out, 2);
    let out = Command::new(BIN)
        .args([
            "--bootstrap-server",
            "127.0.0.1:1",
            "--client-property",
            "foo.bar=S3cret1",
        ])
        .arg("--file")
        .arg(&file)
        .output()
        .unwrap();
    exit(&out, 78);
    assert!(
        text(&out).contains("foo.bar") && !text(&out).contains("S3cret1"),
        "{}",
        text(&out)
    );
    for verb in ["verify", "inspect"] {
        let out = Command::new(BIN).args([verb, "/tmp"]).output().unwrap();
        exit(&out, 66);
        assert!(
            text(&out).contains("/tmp") && text(&out).contains("a directory"),
            "{}",
            text(&out)
        );
        let missing: PathBuf = dir.join("missing.zip");
        let out = Command::new(BIN).arg(verb).arg(&missing).output().unwrap();
        exit(&out, 66);
        assert!(
            text(&out).contains(&missing.display().to_string()),
            "{}",
            text(&out)
        );
    }
}
