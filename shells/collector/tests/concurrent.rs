//! Two `serve` processes on one SQLite database (an operator starting a second by mistake, or
//! a restart overlapping the old one): both keep answering, every record answered 200 is
//! stored, and a record posted to both is stored once.

mod common;

use common::*;
use support_metrics_tests::scratch_dir;

#[test]
fn two_collectors_on_one_sqlite_database_store_each_record_once() {
    let dir = scratch_dir("concurrent-sqlite");
    let db = sqlite(&dir);
    let a = Collector::start(&db, &dir, &[]);
    let b = Collector::start(&db, &dir, &[]);
    let ts = now();
    std::thread::scope(|s| {
        for t in 0..4u64 {
            let (a, b) = (&a, &b);
            s.spawn(move || {
                for n in t * 100..t * 100 + 100 {
                    let body = anon(&token(n), ts, "3.7.0");
                    // Each record to both, in either order.
                    let (first, second) = if n % 2 == 0 { (a, b) } else { (b, a) };
                    for c in [first, second] {
                        let (status, answer) = c.post("/anon", body.as_bytes());
                        assert_eq!(status, 200, "record {n}: {answer}");
                    }
                }
            });
        }
    });
    drop((a, b));
    assert_eq!(stored(&db), 400);
}
