//! The one writer: a thread that owns the database connection and commits what the
//! receivers hand it in groups. Every sender waiting when a commit starts shares it, so the
//! disk syncs once for many records, and each sender hears back only after the commit.

use tokio::sync::{mpsc, oneshot};

use crate::record::{Origin, Row};
use crate::store::Store;

/// Most rows one transaction takes.
const MAX_GROUP: usize = 2048;

/// Where a job hears back: for each row, whether it was new; or why nothing was stored.
type Reply = oneshot::Sender<Result<Vec<bool>, String>>;

struct Job {
    rows: Vec<(Row, Origin)>,
    reply: Reply,
}

/// A handle to the writer; cheap to clone.
#[derive(Clone)]
pub struct Writer {
    jobs: mpsc::Sender<Job>,
}

/// Commits `group` in one transaction and answers each job. When the database refuses the
/// transaction, the group is split (see [`split`]): one sender's rows that the database
/// refuses fail that sender, not every record committed with them.
fn commit(store: &mut Store, group: Vec<Job>) {
    let mut rows = Vec::with_capacity(group.iter().map(|j| j.rows.len()).sum());
    let mut replies = Vec::with_capacity(group.len());
    for job in group {
        replies.push((job.rows.len(), job.reply));
        rows.extend(job.rows);
    }
    let at = crate::now();
    match store.insert(&rows, at) {
        Ok(fresh) => answer(replies, Ok(fresh)),
        Err(e) if replies.len() < 2 => answer(replies, Err(e)),
        Err(e) => split(store, &rows, replies, at, e),
    }
}

/// A group the database refused (`refused` says why): its halves are tried alone. When one
/// commits and the other does not, the database is up and the other holds what it refuses:
/// that half is split in turn, down to one job. When both fail, the database is down (or
/// both hold refused rows): every job gets the error, after two more attempts at most.
fn split(
    store: &mut Store,
    rows: &[(Row, Origin)],
    mut first: Vec<(usize, Reply)>,
    at: i64,
    refused: String,
) {
    let second = first.split_off(first.len() / 2);
    let (first_rows, second_rows) = rows.split_at(first.iter().map(|r| r.0).sum());
    match (store.insert(first_rows, at), store.insert(second_rows, at)) {
        (Ok(a), Ok(b)) => {
            answer(first, Ok(a));
            answer(second, Ok(b));
        }
        (Ok(a), Err(e)) => {
            answer(first, Ok(a));
            refuse(store, second_rows, second, at, e);
        }
        (Err(e), Ok(b)) => {
            answer(second, Ok(b));
            refuse(store, first_rows, first, at, e);
        }
        (Err(_), Err(_)) => {
            answer(first, Err(refused.clone()));
            answer(second, Err(refused));
        }
    }
}

/// A part of a group that the database refused while it took the rest: one job gets the
/// error; more are split again.
fn refuse(
    store: &mut Store,
    rows: &[(Row, Origin)],
    replies: Vec<(usize, Reply)>,
    at: i64,
    e: String,
) {
    if replies.len() < 2 {
        answer(replies, Err(e));
    } else {
        split(store, rows, replies, at, e);
    }
}

/// Answers each job of a transaction: its rows' share of `fresh`, or the error.
fn answer(replies: Vec<(usize, Reply)>, result: Result<Vec<bool>, String>) {
    match result {
        Ok(fresh) => {
            let mut fresh = fresh.into_iter();
            for (len, reply) in replies {
                let _ = reply.send(Ok(fresh.by_ref().take(len).collect()));
            }
        }
        Err(e) => {
            for (_, reply) in replies {
                let _ = reply.send(Err(e.clone()));
            }
        }
    }
}

impl Writer {
    /// Starts the writer thread over `store`. It ends when every handle is dropped.
    pub fn start(mut store: Store) -> std::io::Result<Writer> {
        let (jobs, mut rx) = mpsc::channel::<Job>(4096);
        std::thread::Builder::new()
            .name("writer".into())
            .spawn(move || {
                while let Some(first) = rx.blocking_recv() {
                    let mut group = vec![first];
                    let mut n = group[0].rows.len();
                    while n < MAX_GROUP {
                        match rx.try_recv() {
                            Ok(job) => {
                                n += job.rows.len();
                                group.push(job);
                            }
                            Err(_) => break,
                        }
                    }
                    commit(&mut store, group);
                }
            })?;
        Ok(Writer { jobs })
    }

    /// Stores `rows`; for each, whether it was new. Returns once they are committed.
    pub async fn write(&self, rows: Vec<(Row, Origin)>) -> Result<Vec<bool>, String> {
        let (reply, answer) = oneshot::channel();
        self.jobs
            .send(Job { rows, reply })
            .await
            .map_err(|_| "the writer has stopped".to_owned())?;
        answer
            .await
            .map_err(|_| "the writer has stopped".to_owned())?
    }

    /// [`write`](Self::write) for code outside the async runtime (import, consume).
    pub fn write_blocking(&self, rows: Vec<(Row, Origin)>) -> Result<Vec<bool>, String> {
        let (reply, answer) = oneshot::channel();
        self.jobs
            .blocking_send(Job { rows, reply })
            .map_err(|_| "the writer has stopped".to_owned())?;
        answer
            .blocking_recv()
            .map_err(|_| "the writer has stopped".to_owned())?
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::decode;

    fn job(n: u64, kafka: &str) -> (Job, oneshot::Receiver<Result<Vec<bool>, String>>) {
        let body = format!(
            r#"{{"timestamp":1764000000,"kafkaVersion":"{kafka}","confluentPlatformVersion":null,"brokerProcessUUID":"00000000-0000-4000-8000-{n:012x}","collectorState":2}}"#
        );
        let origin = Origin {
            via: "http",
            component: None,
            remote: None,
        };
        let (reply, answer) = oneshot::channel();
        let rows = vec![(decode(body.as_bytes(), Some("anon")).unwrap(), origin)];
        (Job { rows, reply }, answer)
    }

    /// A database that refuses some rows (here a trigger; in the field a constraint, a value
    /// the server cannot store): only their senders hear the error; the others' records
    /// committed in the same group are stored and answered. And when it refuses everything,
    /// everyone hears it.
    #[test]
    fn a_refused_row_fails_its_sender_only() {
        let dir = std::env::temp_dir().join(format!("sm-writer-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("w.db");
        let url = format!("sqlite:{}", path.display());
        let mut store = Store::open(&url).unwrap();
        let refuse = |when: &str| {
            rusqlite::Connection::open(&path)
                .unwrap()
                .execute_batch(&format!(
                    "DROP TRIGGER IF EXISTS refuse; CREATE TRIGGER refuse BEFORE INSERT ON records \
                     WHEN {when} BEGIN SELECT RAISE(ABORT, 'refused here'); END"
                ))
                .unwrap();
        };
        refuse("NEW.kafka_version = 'refused'");
        for bad in [0, 3, 6] {
            let (jobs, answers): (Vec<_>, Vec<_>) = (0..7u64)
                .map(|i| job(bad * 10 + i, if i == bad { "refused" } else { "3.7.0" }))
                .unzip();
            commit(&mut store, jobs);
            for (i, mut answer) in answers.into_iter().enumerate() {
                let got = answer.try_recv().unwrap();
                if i as u64 == bad {
                    assert!(got.unwrap_err().contains("refused here"));
                } else {
                    assert_eq!(got, Ok(vec![true]), "job {i} of a group with {bad} refused");
                }
            }
        }
        assert_eq!(store.count().unwrap(), 18);
        // Refusing everything (as a full disk would): everyone hears it.
        refuse("1");
        let (jobs, answers): (Vec<_>, Vec<_>) = (100..108u64).map(|i| job(i, "3.7.0")).unzip();
        commit(&mut store, jobs);
        for mut answer in answers {
            assert!(answer.try_recv().unwrap().is_err());
        }
        assert_eq!(store.count().unwrap(), 18);
        let _ = std::fs::remove_dir_all(&dir);
    }
}
