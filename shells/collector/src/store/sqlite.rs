//! SQLite: one file, WAL, `synchronous=FULL` (a commit is on disk before it returns), one
//! writer.

use rusqlite::{params, Connection, TransactionBehavior};

use super::schema::{too_new, MIGRATIONS, VERSIONS};
use super::{BrokerRow, DayCount, ADOPTION, BROKERS, INSERT};
use crate::record::{Origin, Row};

pub struct Sqlite {
    conn: Connection,
    path: String,
}

fn err(path: &str) -> impl Fn(rusqlite::Error) -> String + '_ {
    move |e| format!("sqlite:{path}: {e}")
}

impl Sqlite {
    /// Opens `path` and migrates it. When SQLite cannot, and the cause is the file system (a
    /// read-only or full disk, a missing directory, permissions), the error says that.
    pub(super) fn open(path: &str) -> Result<Sqlite, String> {
        // SQLite opens a FIFO or a device and then fails with "disk I/O error".
        if let Ok(meta) = std::fs::metadata(path) {
            if !meta.is_file() {
                let what = if meta.is_dir() {
                    "a directory"
                } else {
                    "not a regular file"
                };
                return Err(format!("--database sqlite:{path}: {what}"));
            }
        }
        Sqlite::open_migrated(path).map_err(|e| {
            if e.starts_with("--database") {
                return e;
            }
            if e.ends_with("file is not a database") {
                return format!("--database {e}");
            }
            match unwritable(path) {
                Some(why) => format!("sqlite:{path}: {why}"),
                None => e,
            }
        })
    }

    fn open_migrated(path: &str) -> Result<Sqlite, String> {
        let e = err(path);
        let mut conn = Connection::open(path).map_err(&e)?;
        conn.busy_timeout(std::time::Duration::from_secs(10))
            .map_err(&e)?;
        let mode: String = conn
            .query_row("PRAGMA journal_mode=WAL", [], |r| r.get(0))
            .map_err(&e)?;
        if !mode.eq_ignore_ascii_case("wal") {
            return Err(format!(
                "sqlite:{path}: cannot use write-ahead logging (journal mode {mode})"
            ));
        }
        conn.execute_batch("PRAGMA synchronous=FULL").map_err(&e)?;
        conn.execute_batch(VERSIONS).map_err(&e)?;
        loop {
            let tx = conn
                .transaction_with_behavior(TransactionBehavior::Immediate)
                .map_err(&e)?;
            let have: i64 = tx
                .query_row(
                    "SELECT COALESCE(MAX(version), 0) FROM support_metrics_schema",
                    [],
                    |r| r.get(0),
                )
                .map_err(&e)?;
            if have > MIGRATIONS.len() as i64 {
                return Err(format!("--database sqlite:{path}: {}", too_new(have)));
            }
            let Some(sql) = MIGRATIONS.get(have as usize) else {
                break;
            };
            tx.execute_batch(sql).map_err(&e)?;
            tx.execute(
                "INSERT INTO support_metrics_schema (version, applied_at) VALUES ($1, $2)",
                params![have + 1, crate::now()],
            )
            .map_err(&e)?;
            tx.commit().map_err(&e)?;
        }
        Ok(Sqlite {
            conn,
            path: path.to_owned(),
        })
    }

    pub(super) fn insert(
        &mut self,
        rows: &[(Row, Origin)],
        received_at: i64,
    ) -> Result<Vec<bool>, String> {
        let path = self.path.clone();
        let e = err(&path);
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(&e)?;
        let mut fresh = Vec::with_capacity(rows.len());
        {
            let mut stmt = tx.prepare_cached(INSERT).map_err(&e)?;
            for (r, o) in rows {
                let c = r.customer.as_ref();
                let n = stmt
                    .execute(params![
                        r.token,
                        r.timestamp,
                        i64::from(r.state),
                        r.class,
                        r.kafka_version,
                        r.cp_version,
                        c.map(|c| &c.customer_id),
                        c.map(|c| &c.cluster_id),
                        c.and_then(|c| c.broker_id),
                        c.map(|c| c.brokers),
                        c.map(|c| c.topics),
                        c.map(|c| c.partitions),
                        r.body,
                        o.via,
                        o.component,
                        o.remote,
                        received_at,
                    ])
                    .map_err(&e)?;
                fresh.push(n == 1);
            }
        }
        tx.commit().map_err(&e)?;
        Ok(fresh)
    }

    pub(super) fn brokers(&mut self, since: i64, until: i64) -> Result<Vec<BrokerRow>, String> {
        let path = self.path.clone();
        let e = err(&path);
        let mut stmt = self.conn.prepare_cached(BROKERS).map_err(&e)?;
        let rows = stmt
            .query_map(params![since, until], |r| {
                Ok(BrokerRow {
                    token: r.get(0)?,
                    ts: r.get(1)?,
                    state: r.get(2)?,
                    class: r.get(3)?,
                    kafka_version: r.get(4)?,
                    cp_version: r.get(5)?,
                    customer_id: r.get(6)?,
                    cluster_id: r.get(7)?,
                    broker_id: r.get(8)?,
                    brokers: r.get(9)?,
                    topics: r.get(10)?,
                    partitions: r.get(11)?,
                })
            })
            .map_err(&e)?;
        rows.collect::<Result<_, _>>().map_err(&e)
    }

    pub(super) fn adoption(&mut self, since: i64, until: i64) -> Result<Vec<DayCount>, String> {
        let path = self.path.clone();
        let e = err(&path);
        let mut stmt = self.conn.prepare_cached(ADOPTION).map_err(&e)?;
        let rows = stmt
            .query_map(params![since, until], |r| {
                Ok(DayCount {
                    day: r.get(0)?,
                    kafka_version: r.get(1)?,
                    brokers: r.get(2)?,
                })
            })
            .map_err(&e)?;
        rows.collect::<Result<_, _>>().map_err(&e)
    }

    /// Whether the file system lets the database be written (SQLite opens a database with
    /// its log on a read-only disk, and fails only at the first write), then takes the write
    /// lock and lets it go.
    pub(super) fn check_writable(&mut self) -> Result<(), String> {
        let path = self.path.clone();
        if let Some(why) = unwritable(&path) {
            return Err(format!("sqlite:{path}: {why}"));
        }
        self.conn
            .execute_batch("BEGIN IMMEDIATE; ROLLBACK")
            .map_err(err(&path))
    }

    pub(super) fn count(&mut self) -> Result<i64, String> {
        self.conn
            .query_row("SELECT COUNT(*) FROM records", [], |r| r.get(0))
            .map_err(err(&self.path))
    }
}

/// Why the database at `path` cannot be written, if the file system says so: its file opened
/// for writing or, before it exists, created (and removed again).
fn unwritable(path: &str) -> Option<String> {
    use std::fs::OpenOptions;
    use std::io::ErrorKind;
    let dir = std::path::Path::new(path)
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(std::path::Path::new("."));
    match OpenOptions::new().read(true).write(true).open(path) {
        Ok(_) => None,
        Err(e) if e.kind() == ErrorKind::NotFound => {
            if !dir.is_dir() {
                return Some(format!("no directory {}", dir.display()));
            }
            match OpenOptions::new().write(true).create_new(true).open(path) {
                Ok(_) => {
                    let _ = std::fs::remove_file(path);
                    None
                }
                Err(e) => Some(format!("cannot create {path}: {e}")),
            }
        }
        Err(e) => Some(format!("cannot write {path}: {e}")),
    }
}
