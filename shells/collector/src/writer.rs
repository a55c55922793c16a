//! The one writer: a thread that owns the database connection and commits what the
//! receivers hand it in groups. Every sender waiting when a commit starts shares it, so the
//! disk syncs once for many records, and each sender hears back only after the commit.

use tokio::sync::{mpsc, oneshot};

use crate::record::{Origin, Row};
use crate::store::Store;

/// Most rows one transaction takes.
const MAX_GROUP: usize = 2048;

struct Job {
    rows: Vec<(Row, Origin)>,
    reply: oneshot::Sender<Result<Vec<bool>, String>>,
}

/// A handle to the writer; cheap to clone.
#[derive(Clone)]
pub struct Writer {
    jobs: mpsc::Sender<Job>,
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
                    let mut rows = Vec::with_capacity(n);
                    let mut replies = Vec::with_capacity(group.len());
                    for job in group {
                        replies.push((job.rows.len(), job.reply));
                        rows.extend(job.rows);
                    }
                    match store.insert(&rows, crate::now()) {
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
