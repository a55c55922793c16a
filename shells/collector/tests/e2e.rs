//! The collector with its neighbours: the real agent posting to it, a bundle of a tansu topic
//! imported, the same topic consumed, a `kill -9` under load, and the page in a real browser.

mod common;

use std::collections::HashSet;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::*;
use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
use rdkafka::client::DefaultClientContext;
use rdkafka::config::ClientConfig;
use rdkafka::producer::{BaseProducer, BaseRecord, Producer};
use support_metrics_bundle::{read_topic, write_bundle, Source};
use support_metrics_linux::client::Connection;
use support_metrics_tests::scratch_dir;

fn kafka() -> String {
    std::env::var("SUPPORT_METRICS_KAFKA").expect(
        "SUPPORT_METRICS_KAFKA is not set: run the tests with ci/check.sh test, which starts tansu",
    )
}

/// The agent binary of this workspace's build (built if missing).
fn agent() -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    let dir = exe.parent().and_then(|d| d.parent()).unwrap().to_owned();
    let bin = dir.join("support-metrics-agent");
    if !bin.exists() {
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
        let ok = Command::new(cargo)
            .args(["build", "-q", "-p", "support-metrics-agent"])
            .status()
            .unwrap();
        assert!(ok.success(), "cannot build the agent");
    }
    bin
}

/// The real agent's `once` with the topic off, its spool in `dir`, and `endpoints` (the
/// endpoint settings); its stderr, after asserting it succeeded.
fn agent_once(dir: &std::path::Path, endpoints: &str) -> String {
    let config = dir.join("server.properties");
    std::fs::write(
        &config,
        format!(
            "broker.id=0\nconfluent.support.metrics.topic=\nconfluent.support.metrics.spool.dir={}\n{endpoints}",
            dir.join("spool").display()
        ),
    )
    .unwrap();
    let out = Command::new(agent())
        .args([
            "once",
            "--config",
            config.to_str().unwrap(),
            "--broker-watch",
            "none",
        ])
        .env_remove("DO_NOT_TRACK")
        .env_remove("SSL_CERT_FILE")
        .output()
        .unwrap();
    let said = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(out.status.success(), "{said}");
    said
}

/// What the real agent sends with `once` shows up in /api/fleet and on the page.
#[test]
fn agent_once_shows_up_in_the_fleet() {
    let dir = scratch_dir("e2e-agent");
    let c = Collector::start(&sqlite(&dir), &dir, &[]);
    agent_once(
        &dir,
        &format!(
            "confluent.support.metrics.endpoint.secure=\nconfluent.support.metrics.endpoint.insecure={}\n",
            c.url("/anon")
        ),
    );
    let f = c.fleet();
    assert_eq!(
        (f["records"].as_i64(), f["brokersLive"].as_i64()),
        (Some(1), Some(1)),
        "{f:#}"
    );
    let token = f["brokers"][0]["token"].as_str().unwrap().to_owned();
    assert_eq!(f["brokers"][0]["class"], "anonymous");
    let (_, page) = c.get("/");
    assert!(page.contains(&token), "{page}");
}

fn create_topic(servers: &str, topic: &str) {
    let admin: AdminClient<DefaultClientContext> = ClientConfig::new()
        .set("bootstrap.servers", servers)
        .create()
        .unwrap();
    let new = NewTopic::new(topic, 1, TopicReplication::Fixed(1));
    let opts = AdminOptions::new().request_timeout(Some(Duration::from_secs(10)));
    let results = futures_executor::block_on(admin.create_topics([&new], &opts)).unwrap();
    assert!(results.iter().all(Result::is_ok), "{results:?}");
}

fn produce(servers: &str, topic: &str, value: &[u8]) {
    let producer: BaseProducer = ClientConfig::new()
        .set("bootstrap.servers", servers)
        .set("linger.ms", "0")
        .create()
        .unwrap();
    producer
        .send(
            BaseRecord::<(), [u8]>::to(topic)
                .partition(0)
                .payload(value),
        )
        .map_err(|(e, _)| e)
        .unwrap();
    producer.flush(Duration::from_secs(10)).unwrap();
}

fn run(args: &[&str]) -> (i32, String) {
    let out = Command::new(BIN.as_str()).args(args).output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
    )
}

/// One record posted over HTTP, imported from a bundle (twice) and consumed from the topic
/// is one record; a message that is not ours on the topic is skipped.
fn one_record_however_it_arrives(name: &str, db: &str) {
    let dir = scratch_dir(name);
    let servers = kafka();
    let topic = format!("sm-collector-{name}-{}", std::process::id());
    create_topic(&servers, &topic);
    let record = anon(&token(7), now(), "3.7.0");
    produce(&servers, &topic, record.as_bytes());
    produce(&servers, &topic, b"someone else's message");

    let c = Collector::start(db, &dir, &[]);
    assert_eq!(c.post("/anon", record.as_bytes()).0, 200);
    drop(c);

    let source = Source {
        connection: Connection::plaintext(&servers),
        topic: topic.clone(),
        runtime: Duration::from_secs(30),
    };
    let records = read_topic(&source, &mut |_| {}).unwrap();
    let bundle = dir.join("bundle.zip");
    write_bundle(&records, &topic, &bundle, false).unwrap();
    let b = bundle.to_str().unwrap();
    let (code, out) = run(&["import", "--database", db, b]);
    assert_eq!(code, 0, "{out}");
    assert!(
        out.contains("1 records, 0 new, 1 already stored, 1 entries not support-metrics records"),
        "{out}"
    );
    let (code, out) = run(&["import", "--database", db, b]);
    assert_eq!(code, 0, "{out}");

    let (code, out) = run(&[
        "consume",
        "--database",
        db,
        "--bootstrap-server",
        &servers,
        "--topic",
        &topic,
        "--group",
        &format!("g-{name}-{}", std::process::id()),
        "--exit-at-end",
        "--runtime",
        "60",
    ]);
    assert_eq!(code, 0, "{out}");
    assert!(
        out.contains("1 records, 0 new, 1 already stored, 1 other messages skipped"),
        "{out}"
    );
    assert_eq!(stored(db), 1);

    // A bundle that does not match its manifest: exit 65, nothing of it stored.
    let mut bytes = std::fs::read(&bundle).unwrap();
    let tampered = dir.join("tampered.zip");
    let at = bytes.windows(5).position(|w| w == b"3.7.0");
    match at {
        Some(i) => bytes[i + 4] = b'9',
        None => bytes.truncate(bytes.len() / 2),
    }
    std::fs::write(&tampered, &bytes).unwrap();
    let (code, out) = run(&["import", "--database", db, tampered.to_str().unwrap()]);
    assert_eq!(code, 65, "{out}");
    assert!(
        out.contains("tampered.zip") && out.contains("nothing of it stored"),
        "{out}"
    );
    assert_eq!(stored(db), 1);
}

#[test]
fn one_record_however_it_arrives_sqlite() {
    let dir = scratch_dir("e2e-once-db");
    one_record_however_it_arrives("once-sqlite", &sqlite(&dir));
}

#[test]
fn one_record_however_it_arrives_postgres() {
    one_record_however_it_arrives("once-postgres", &postgres("once"));
}

/// `kill -9` while 16 clients post: every record answered 200 is in the database after.
fn kill_9_loses_nothing_answered(name: &str, db: &str) {
    let dir = scratch_dir(name);
    let mut c = Collector::start(db, &dir, &[]);
    let answered = Arc::new(Mutex::new(HashSet::new()));
    let stop = Arc::new(AtomicBool::new(false));
    let addr = c.addr;
    let clients: Vec<_> = (0..16u64)
        .map(|k| {
            let answered = Arc::clone(&answered);
            let stop = Arc::clone(&stop);
            std::thread::spawn(move || {
                for i in 0..100_000u64 {
                    if stop.load(Ordering::Relaxed) {
                        break;
                    }
                    let t = token((k << 32) | i);
                    let result = std::panic::catch_unwind(|| {
                        request(addr, "POST", "/anon", anon(&t, now(), "3.7.0").as_bytes())
                    });
                    match result {
                        Ok((200, _)) => {
                            answered.lock().unwrap().insert(t);
                        }
                        Ok(_) => {}
                        Err(_) => break,
                    }
                }
            })
        })
        .collect();
    std::thread::sleep(Duration::from_millis(1500));
    c.kill(); // SIGKILL
    stop.store(true, Ordering::Relaxed);
    for t in clients {
        let _ = t.join();
    }
    let answered = answered.lock().unwrap().clone();
    assert!(
        answered.len() > 50,
        "too few answered under load: {}",
        answered.len()
    );
    let out = Command::new(BIN.as_str())
        .args([
            "report",
            "--json",
            "--interval-hours",
            "1",
            "--database",
            db,
        ])
        .output()
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let stored: HashSet<String> = v["brokers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["token"].as_str().unwrap().to_owned())
        .collect();
    let lost: Vec<&String> = answered.difference(&stored).collect();
    assert!(
        lost.is_empty(),
        "{} answered records lost, e.g. {:?}",
        lost.len(),
        lost.first()
    );
}

#[test]
fn kill_9_under_load_sqlite() {
    let dir = scratch_dir("e2e-kill-db");
    kill_9_loses_nothing_answered("kill-sqlite", &sqlite(&dir));
}

#[test]
fn kill_9_under_load_postgres() {
    kill_9_loses_nothing_answered("kill-postgres", &postgres("kill"));
}

/// The page in Debian's chromium (headless): it loads, its three charts render as SVG, a
/// version string holding a script stays text (and never runs), and a screenshot is written
/// to target/screenshots/fleet.png.
#[test]
fn page_renders_in_a_real_browser() {
    let browser = ["chromium", "chromium-browser", "google-chrome"]
        .into_iter()
        .find(|b| {
            Command::new(b)
                .arg("--version")
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status()
                .is_ok_and(|s| s.success())
        })
        .expect("no chromium: run ci/check.sh setup, which installs Debian's chromium");
    let dir = scratch_dir("e2e-browser");
    let c = Collector::start(&sqlite(&dir), &dir, &[]);
    let t = now();
    let hostile = "<script>document.title='pwned'</script>";
    for (n, version) in [(1, "3.7.0"), (2, "3.7.0"), (3, "3.6.1"), (4, hostile)] {
        assert_eq!(
            c.post("/anon", anon(&token(n), t, version).as_bytes()).0,
            200
        );
    }
    assert_eq!(
        c.post(
            "/submit",
            customer(&token(5), t, "c42", "prod-eu-1", "7.9.0").as_bytes()
        )
        .0,
        200
    );

    let shots = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target/screenshots");
    std::fs::create_dir_all(&shots).unwrap();
    let shot = shots.join("fleet.png");
    let _ = std::fs::remove_file(&shot);
    let chrome = |args: &[String]| {
        let mut child = Command::new(browser)
            .args([
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-dev-shm-usage",
                "--hide-scrollbars",
            ])
            .arg(format!("--user-data-dir={}", dir.join("profile").display()))
            .args(args)
            .arg(c.url("/"))
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut out = child.stdout.take().unwrap();
        let reader = std::thread::spawn(move || {
            let mut s = String::new();
            let _ = std::io::Read::read_to_string(&mut out, &mut s);
            s
        });
        let deadline = Instant::now() + Duration::from_secs(90);
        while child.try_wait().unwrap().is_none() {
            assert!(
                Instant::now() < deadline,
                "chromium did not finish within 90 s"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        reader.join().unwrap()
    };
    let dom = chrome(&["--dump-dom".to_owned()]);
    assert!(
        dom.contains("<title>support-metrics fleet</title>"),
        "title changed or page missing:\n{dom}"
    );
    assert!(dom.matches("<svg").count() >= 3, "three charts:\n{dom}");
    assert!(
        dom.contains("&lt;script&gt;document.title='pwned'&lt;/script&gt;"),
        "{dom}"
    );
    assert!(
        !dom.contains("<script"),
        "a script element reached the page:\n{dom}"
    );
    assert!(dom.contains("prod-eu-1"));
    chrome(&[
        format!("--screenshot={}", shot.display()),
        "--window-size=1280,1600".to_owned(),
    ]);
    let png = std::fs::read(&shot).expect("chromium wrote no screenshot");
    assert!(
        png.starts_with(b"\x89PNG") && png.len() > 10_000,
        "screenshot of {} bytes",
        png.len()
    );
    eprintln!("screenshot: {}", shot.canonicalize().unwrap().display());
}

/// HTTPS as the README deploys it: Debian's stunnel terminates TLS (a certificate from a test
/// CA) in front of the collector, and the real agent posts over HTTPS, trusting that CA.
#[test]
fn agent_posts_over_https_through_a_tls_terminator() {
    use support_metrics_tests::secured::{free_port, stunnel, Pki};
    let dir = scratch_dir("e2e-https");
    let pki = Pki::new(&dir.join("pki"));
    let c = Collector::start(&sqlite(&dir), &dir, &[]);
    let port = free_port();
    let conf = dir.join("stunnel.conf");
    std::fs::write(
        &conf,
        format!(
            "foreground = yes\npid =\n[collector]\naccept = 127.0.0.1:{port}\nconnect = {}\ncert = {}\nkey = {}\n",
            c.addr,
            pki.path("server.pem"),
            pki.path("server.key")
        ),
    )
    .unwrap();
    let _stunnel = stunnel(&conf, port);
    let said = agent_once(
        &dir,
        &format!(
            "confluent.support.metrics.endpoint.insecure=\n\
             confluent.support.metrics.endpoint.secure=https://127.0.0.1:{port}/anon\n\
             confluent.support.metrics.endpoint.ca.file={}\n",
            pki.path("ca.pem")
        ),
    );
    assert!(said.contains("https://127.0.0.1"), "{said}");
    let f = c.fleet();
    assert_eq!(f["records"], 1, "{f:#}");
}

/// HTTPS served by the collector itself (`--tls-cert`, `--tls-key`): the real agent posts over
/// HTTPS trusting the test CA, and the sender's own address is stored (no terminator in
/// between). Plain HTTP to the HTTPS port is closed, not answered.
#[test]
fn agent_posts_over_https_to_the_collector_itself() {
    use support_metrics_tests::secured::Pki;
    let dir = scratch_dir("e2e-https-self");
    let pki = Pki::new(&dir.join("pki"));
    let db = sqlite(&dir);
    let c = Collector::start(
        &db,
        &dir,
        &[
            "--tls-cert",
            &pki.path("server.pem"),
            "--tls-key",
            &pki.path("server.key"),
            "--full-addresses",
        ],
    );
    let said = agent_once(
        &dir,
        &format!(
            "confluent.support.metrics.endpoint.insecure=\n\
             confluent.support.metrics.endpoint.secure=https://127.0.0.1:{}/anon\n\
             confluent.support.metrics.endpoint.ca.file={}\n",
            c.addr.port(),
            pki.path("ca.pem")
        ),
    );
    assert!(said.contains("https://127.0.0.1"), "{said}");
    let (status, _) = c.post("/anon", anon(&token(77), now(), "3.7.0").as_bytes());
    assert_eq!(status, 0, "plain HTTP on the HTTPS port was answered");
    drop(c);
    let out = Command::new(BIN.as_str())
        .args(["report", "--json", "--database", &db])
        .output()
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["records"], 1, "{v:#}");
    let conn = rusqlite::Connection::open(dir.join("collector.db")).unwrap();
    let remote: String = conn
        .query_row("SELECT remote FROM records", [], |r| r.get(0))
        .unwrap();
    assert_eq!(remote, "127.0.0.1");
}
