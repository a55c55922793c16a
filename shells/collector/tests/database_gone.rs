//! PostgreSQL closing the collector's connections (a restart, a failover, an administrator's
//! `pg_terminate_backend`): the records posted meanwhile get 503, none is answered 200
//! unstored, and the collector connects again by itself: posts and the fleet view work
//! without a restart.

mod common;

use common::*;
use support_metrics_tests::scratch_dir;

/// The server processes behind every connection to `db` (the collector's), and a client to
/// act on them.
fn backends(db: &str) -> (postgres::Client, Vec<i32>) {
    let name = db.rsplit('/').next().unwrap();
    let mut admin = postgres::Client::connect(db, postgres::NoTls).unwrap();
    let pids = admin
        .query(
            "SELECT pid FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()",
            &[&name],
        )
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    (admin, pids)
}

/// Closes every connection to `db` but the caller's.
fn terminate_connections(db: &str) {
    let (mut admin, pids) = backends(db);
    assert!(!pids.is_empty(), "the collector had no connection to close");
    for pid in pids {
        admin
            .execute("SELECT pg_terminate_backend($1)", &[&pid])
            .unwrap();
    }
}

#[test]
fn the_collector_reconnects_when_postgres_closes_its_connections() {
    let dir = scratch_dir("postgres-gone");
    let db = postgres("gone");
    let mut c = Collector::start(&db, &dir, &[]);
    let ts = now();
    let post = |n: u64| c.post("/anon", anon(&token(n), ts, "3.7.0").as_bytes());
    assert_eq!(post(0).0, 200);
    assert_eq!(c.fleet()["records"], 1);

    terminate_connections(&db);
    // At most the first post after the cut fails; a few more are allowed for the server to
    // notice. Every 200 must be stored.
    let mut answered = vec![0];
    for n in 1..=20 {
        let (status, answer) = post(n);
        match status {
            200 => answered.push(n),
            503 => assert_eq!(
                answer.trim(),
                "the record could not be stored; try again later"
            ),
            _ => panic!("record {n}: {status} {answer}"),
        }
    }
    assert!(
        answered.len() >= 18,
        "only {answered:?} stored after the cut"
    );
    // The fleet's own connection was cut too.
    let (status, _) = c.get("/api/fleet");
    assert!(status == 200 || status == 503, "{status}");
    assert_eq!(c.fleet()["records"], answered.len());

    let log = c.stop_and_log();
    assert!(log.contains("INFO reconnected to postgres://"), "{log}");
    assert_eq!(stored(&db), answered.len() as i64);
}

/// The backends serving `db`'s other connections, stopped (SIGSTOP) until dropped: a server
/// that hangs rather than closes.
struct Stopped(Vec<i32>);

impl Stopped {
    fn backends_of(db: &str) -> Option<Stopped> {
        let (_, pids) = backends(db);
        if pids.is_empty() || !pids.iter().all(|p| signal(*p, "-STOP")) {
            for p in &pids {
                signal(*p, "-CONT");
            }
            return None;
        }
        Some(Stopped(pids))
    }
}

impl Drop for Stopped {
    fn drop(&mut self) {
        for p in &self.0 {
            signal(*p, "-CONT");
        }
    }
}

#[test]
fn a_hung_postgres_gets_503_within_the_request_timeout() {
    let dir = scratch_dir("postgres-hung");
    let db = postgres("hung");
    let c = Collector::start(&db, &dir, &["--request-timeout", "2"]);
    let ts = now();
    let post = |n: u64| c.post("/anon", anon(&token(n), ts, "3.7.0").as_bytes());
    assert_eq!(post(0).0, 200);
    let Some(stopped) = Stopped::backends_of(&db) else {
        eprintln!("SKIPPED: cannot stop PostgreSQL's backends here (needs root); CI runs as root");
        return;
    };
    let started = std::time::Instant::now();
    let (status, answer) = post(1);
    let waited = started.elapsed();
    drop(stopped);
    assert_eq!(status, 503, "{answer}");
    assert_eq!(
        answer.trim(),
        "the record could not be stored; try again later"
    );
    assert!(waited < std::time::Duration::from_secs(10), "{waited:?}");
    // Back: the resend and a new record are stored, the resend once.
    assert_eq!(post(1).0, 200);
    assert_eq!(post(2).0, 200);
    drop(c);
    assert_eq!(stored(&db), 3);
}
