//! PostgreSQL closing the collector's connections (a restart, a failover, an administrator's
//! `pg_terminate_backend`): the records posted meanwhile get 503, none is answered 200
//! unstored, and the collector connects again by itself: posts and the fleet view work
//! without a restart.

mod common;

use common::*;
use support_metrics_tests::scratch_dir;

/// Closes every connection to `db` but the caller's.
fn terminate_connections(db: &str) {
    let name = db.rsplit('/').next().unwrap();
    let mut admin = postgres::Client::connect(db, postgres::NoTls).unwrap();
    let closed = admin
        .query(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
             WHERE datname = $1 AND pid <> pg_backend_pid()",
            &[&name],
        )
        .unwrap();
    assert!(
        !closed.is_empty(),
        "the collector had no connection to close"
    );
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
