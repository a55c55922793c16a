//! The spool directory: records no sink has taken yet, durable across crashes, trusted only
//! as far as the agent wrote them.
//!
//! Layout:
//! - `record-<id, 20 digits>-<pending>[-r<n>].json`: one record, pending for `t` (topic), `h`
//!   (HTTP) or `th`, refused for good `n` times so far. The file holds the record's bytes
//!   exactly as sent. Writes go to a temp file first, are fsynced, renamed into place, and the
//!   directory is fsynced; a crash leaves the old state or the new one, never a torn record.
//! - `.support-metrics-*.tmp`: the agent's writes in progress. Only these are ever cleaned up.
//! - `support-metrics.lock`: one agent per spool. It holds an exclusive lock (`flock`) on this
//!   file for as long as it uses the spool, and writes its pid into it.
//! - `quarantine/`: what was named like a record but was not one of ours (a link, a FIFO, a
//!   directory, a file too large or not our JSON), and records refused for good: moved aside,
//!   never sent or shown; at most [`QUARANTINE_MAX`] entries, the oldest go first.
//! - `trusted-roots.pem`: the HTTP client's trust bundle, when a CA file is configured.
//! - `broker-token.key`: the key broker tokens are derived with (mode 0600).
//!
//! Every record file is opened without following links and without blocking, must be a
//! regular file of at most [`MAX_RECORD_LEN`] bytes, and must pass core's
//! [`check_record`] before anything of it is used.

use std::collections::BTreeMap;
use std::fmt;
use std::fs::{self, DirBuilder, File, OpenOptions};
use std::io::{self, Read, Seek, Write};
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use support_metrics_core::reporter::{RecordId, Sink, Sinks};
use support_metrics_core::token::BrokerToken;
use support_metrics_core::wire::{check_record, MAX_RECORD_LEN};

use crate::ledger::LEDGER_FILE;
use crate::status::STATUS_FILE;

const PREFIX: &str = "record-";
const SUFFIX: &str = ".json";
/// The prefix of every temp file the agent writes (spool records, the trust bundle).
pub const TEMP_PREFIX: &str = ".support-metrics-";
/// The lock file's name.
pub const LOCK_FILE: &str = "support-metrics.lock";
/// Where files that are not ours, and records refused for good, are moved.
pub const QUARANTINE_DIR: &str = "quarantine";
/// The trust bundle's name (written by the HTTP client's setup).
pub const TRUST_BUNDLE: &str = "trusted-roots.pem";
/// The key broker tokens are derived with (see [`broker`](crate::broker)).
pub const TOKEN_KEY: &str = "broker-token.key";
/// Most entries kept in `quarantine/`.
pub const QUARANTINE_MAX: usize = 64;

/// A record in the spool.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Stored {
    /// The record.
    pub id: RecordId,
    /// Sinks that have not taken it.
    pub pending: Sinks,
    /// Permanent refusals so far.
    pub rejections: u8,
    /// The token of the run that made it (its `brokerProcessUUID`).
    pub token: BrokerToken,
}

/// Why the spool could not be opened.
#[derive(Debug)]
pub enum SpoolError {
    /// Another process holds the spool's lock.
    Busy {
        /// The spool.
        dir: PathBuf,
        /// The holder, as it wrote itself into the lock file.
        pid: Option<u32>,
    },
    /// The directory or the lock file could not be used.
    Io {
        /// The path.
        path: PathBuf,
        /// The cause.
        error: io::Error,
    },
}

impl fmt::Display for SpoolError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SpoolError::Busy { dir, pid: Some(pid) } => write!(
                f,
                "spool {} is in use by process {pid} (another support-metrics-agent); one agent per spool",
                dir.display()
            ),
            SpoolError::Busy { dir, pid: None } => write!(
                f,
                "spool {} is in use by another support-metrics-agent; one agent per spool",
                dir.display()
            ),
            SpoolError::Io { path, error } => write!(f, "spool {}: {error}", path.display()),
        }
    }
}

impl std::error::Error for SpoolError {}

/// Something found in the spool directory that is not used as a record.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Refused {
    /// The file's name in the spool.
    pub name: String,
    /// Why it is not a record of ours.
    pub why: String,
}

/// The spool directory, locked, with an index of the records in it.
#[derive(Debug)]
pub struct Spool {
    dir: PathBuf,
    index: BTreeMap<u64, Stored>,
    quarantined: Vec<Refused>,
    strangers: Vec<PathBuf>,
    /// Held for the spool's life: dropping it releases the lock.
    _lock: File,
}

impl Spool {
    /// Opens (creating it if needed, mode 0700) the spool at `dir`, waiting at most `wait` for
    /// its lock; removes the agent's half-written files; moves whatever is named like a
    /// record but is not one of ours to `quarantine/` (listed by
    /// [`quarantined`](Self::quarantined)); other files are left alone and listed by
    /// [`strangers`](Self::strangers).
    pub fn open(dir: &Path, wait: Duration) -> Result<Spool, SpoolError> {
        let io = |path: &Path| {
            let path = path.to_owned();
            move |error| SpoolError::Io { path, error }
        };
        DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)
            .map_err(io(dir))?;
        let lock = lock(dir, wait)?;
        let mut spool = Spool {
            dir: dir.to_owned(),
            index: BTreeMap::new(),
            quarantined: Vec::new(),
            strangers: Vec::new(),
            _lock: lock,
        };
        for (name, found) in scan(dir).map_err(io(dir))? {
            match found {
                Found::Own => {}
                Found::Temp => {
                    let _ = fs::remove_file(dir.join(&name));
                }
                Found::Stranger => spool.strangers.push(dir.join(&name)),
                Found::Record(stored, _) => {
                    spool.index.insert(stored.id.0, stored);
                }
                Found::Refused(why) => {
                    spool.move_aside(&name);
                    spool.quarantined.push(Refused { name, why });
                }
            }
        }
        Ok(spool)
    }

    /// The records in `dir` and what would be refused, without changing anything (a missing
    /// directory is empty). Waits at most `wait` for the lock when the directory exists, so
    /// that no agent writes while it is read.
    pub fn peek(dir: &Path, wait: Duration) -> Result<Peeked, SpoolError> {
        let io = |error| SpoolError::Io {
            path: dir.to_owned(),
            error,
        };
        let _lock = match fs::symlink_metadata(dir) {
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Peeked::default()),
            Err(e) => return Err(io(e)),
            Ok(_) => lock(dir, wait)?,
        };
        let mut peeked = Peeked::default();
        for (name, found) in scan(dir).map_err(io)? {
            match found {
                Found::Record(stored, bytes) => peeked.records.push((stored, bytes)),
                Found::Refused(why) => peeked.refused.push(Refused { name, why }),
                Found::Own | Found::Temp | Found::Stranger => {}
            }
        }
        peeked.records.sort_by_key(|(s, _)| s.id);
        Ok(peeked)
    }

    /// The directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Records in the spool, oldest (lowest id) first.
    pub fn records(&self) -> impl Iterator<Item = Stored> + '_ {
        self.index.values().copied()
    }

    /// Number of records.
    pub fn len(&self) -> usize {
        self.index.len()
    }

    /// Whether the spool holds no record.
    pub fn is_empty(&self) -> bool {
        self.index.is_empty()
    }

    /// What `open` moved to `quarantine/`, and why.
    pub fn quarantined(&self) -> &[Refused] {
        &self.quarantined
    }

    /// Files in the directory that are not the agent's (left alone).
    pub fn strangers(&self) -> &[PathBuf] {
        &self.strangers
    }

    /// Stores a record durably. On failure nothing is left behind: no temp file, and the
    /// record is not in the index.
    pub fn write(&mut self, id: RecordId, pending: Sinks, bytes: &[u8]) -> io::Result<()> {
        let token = check_record(bytes)
            .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e.to_string()))?
            .token;
        let tmp = self
            .dir
            .join(format!("{TEMP_PREFIX}{PREFIX}{:020}.tmp", id.0));
        let written = (|| {
            let mut file = OpenOptions::new()
                .write(true)
                .create(true)
                .truncate(true)
                .mode(0o600)
                .custom_flags(libc::O_NOFOLLOW)
                .open(&tmp)?;
            file.write_all(bytes)?;
            file.sync_all()?;
            drop(file);
            if let Some(old) = self.index.get(&id.0) {
                fs::remove_file(self.path(old))?;
            }
            let stored = Stored {
                id,
                pending,
                rejections: 0,
                token,
            };
            fs::rename(&tmp, self.path(&stored))?;
            self.sync_dir()?;
            Ok(stored)
        })();
        match written {
            Ok(stored) => {
                self.index.insert(id.0, stored);
                Ok(())
            }
            Err(e) => {
                let _ = fs::remove_file(&tmp);
                self.index.remove(&id.0);
                Err(e)
            }
        }
    }

    /// Records what is left of a record: `pending` sinks, `rejections` refusals (a rename).
    pub fn update(&mut self, id: RecordId, pending: Sinks, rejections: u8) -> io::Result<()> {
        let old = *self.index.get(&id.0).ok_or_else(|| not_found(id))?;
        let new = Stored {
            pending,
            rejections,
            ..old
        };
        if old != new {
            fs::rename(self.path(&old), self.path(&new))?;
            self.sync_dir()?;
            self.index.insert(id.0, new);
        }
        Ok(())
    }

    /// Deletes a record; one that is not there is already gone.
    pub fn remove(&mut self, id: RecordId) -> io::Result<()> {
        if let Some(stored) = self.index.remove(&id.0) {
            match fs::remove_file(self.path(&stored)) {
                Err(e) if e.kind() != io::ErrorKind::NotFound => return Err(e),
                _ => {}
            }
            self.sync_dir()?;
        }
        Ok(())
    }

    /// Moves a record to `quarantine/` (refused for good); returns where it went.
    pub fn quarantine(&mut self, id: RecordId) -> io::Result<PathBuf> {
        let stored = self.index.remove(&id.0).ok_or_else(|| not_found(id))?;
        let name = file_name(&stored);
        self.move_aside(&name)
            .ok_or_else(|| io::Error::other(format!("cannot move {name} to {QUARANTINE_DIR}/")))
    }

    /// The bytes of a record, checked again as they are read.
    pub fn read(&self, id: RecordId) -> io::Result<Vec<u8>> {
        let stored = self.index.get(&id.0).ok_or_else(|| not_found(id))?;
        read_record(&self.path(stored))
            .map_err(|why| io::Error::new(io::ErrorKind::InvalidData, why))
    }

    fn path(&self, stored: &Stored) -> PathBuf {
        self.dir.join(file_name(stored))
    }

    fn sync_dir(&self) -> io::Result<()> {
        File::open(&self.dir)?.sync_all()
    }

    /// Moves `name` into `quarantine/`, keeping at most [`QUARANTINE_MAX`] entries there;
    /// `None` when it could not be moved (it is then removed, so it is never read again).
    fn move_aside(&self, name: &str) -> Option<PathBuf> {
        let q = self.dir.join(QUARANTINE_DIR);
        let moved = (|| {
            DirBuilder::new().mode(0o700).create(&q).or_else(|e| {
                if e.kind() == io::ErrorKind::AlreadyExists {
                    Ok(())
                } else {
                    Err(e)
                }
            })?;
            // A link planted in its place must not make the agent trim another directory.
            if !fs::symlink_metadata(&q)?.is_dir() {
                return Err(io::Error::other("quarantine is not a directory"));
            }
            trim_quarantine(&q)?;
            let stamp = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_nanos());
            let to = q.join(format!("{stamp}-{name}"));
            fs::rename(self.dir.join(name), &to)?;
            Ok::<_, io::Error>(to)
        })();
        if moved.is_err() {
            let path = self.dir.join(name);
            let _ = match fs::symlink_metadata(&path) {
                Ok(m) if m.is_dir() => fs::remove_dir_all(&path),
                _ => fs::remove_file(&path),
            };
        }
        moved.ok()
    }
}

/// What [`Spool::peek`] found.
#[derive(Debug, Default)]
pub struct Peeked {
    /// Records with their bytes, oldest first.
    pub records: Vec<(Stored, Vec<u8>)>,
    /// Files named like records that are not ours.
    pub refused: Vec<Refused>,
}

enum Found {
    /// The lock, the quarantine, the trust bundle.
    Own,
    /// The agent's temp file (a crash left it).
    Temp,
    /// Not the agent's business.
    Stranger,
    /// A checked record, and its bytes.
    Record(Stored, Vec<u8>),
    /// Named like a record but not one of ours.
    Refused(String),
}

/// Every entry of `dir`, classified; records are read and checked.
fn scan(dir: &Path) -> io::Result<Vec<(String, Found)>> {
    let mut found = Vec::new();
    let mut ids = BTreeMap::new();
    for entry in fs::read_dir(dir)? {
        let name = entry?.file_name().to_string_lossy().into_owned();
        let own = [
            LOCK_FILE,
            QUARANTINE_DIR,
            TRUST_BUNDLE,
            TOKEN_KEY,
            LEDGER_FILE,
            STATUS_FILE,
        ];
        let kind = if own.contains(&name.as_str()) {
            Found::Own
        } else if is_temp(&name) {
            Found::Temp
        } else if !name.starts_with(PREFIX) {
            Found::Stranger
        } else {
            match parse_name(&name) {
                None => Found::Refused("not a record file name".to_owned()),
                Some((id, ..)) if !RecordId(id).is_valid() => {
                    Found::Refused(format!("record id {id} is out of range"))
                }
                Some((id, ..)) if ids.contains_key(&id) => {
                    Found::Refused(format!("a second file for record #{id}"))
                }
                Some((id, pending, rejections)) => match checked_record(&dir.join(&name)) {
                    Err(why) => Found::Refused(why),
                    Ok((bytes, token)) => {
                        ids.insert(id, ());
                        let stored = Stored {
                            id: RecordId(id),
                            pending,
                            rejections,
                            token,
                        };
                        Found::Record(stored, bytes)
                    }
                },
            }
        };
        found.push((name, kind));
    }
    Ok(found)
}

/// Reads a record file: no link followed, no blocking, a regular file, at most
/// [`MAX_RECORD_LEN`] bytes, and one of our records. The error says why not.
pub fn read_record(path: &Path) -> Result<Vec<u8>, String> {
    checked_record(path).map(|(bytes, _)| bytes)
}

/// [`read_record`], with the token the record carries.
fn checked_record(path: &Path) -> Result<(Vec<u8>, BrokerToken), String> {
    let mut file = OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK)
        .open(path)
        .map_err(|e| match e.raw_os_error() {
            Some(libc::ELOOP) => "a symbolic link".to_owned(),
            _ => e.to_string(),
        })?;
    let meta = file.metadata().map_err(|e| e.to_string())?;
    if !meta.is_file() {
        return Err(if meta.is_dir() {
            "a directory".to_owned()
        } else {
            "not a regular file".to_owned()
        });
    }
    if meta.len() > MAX_RECORD_LEN as u64 {
        return Err(format!(
            "{} bytes, larger than any record ({MAX_RECORD_LEN})",
            meta.len()
        ));
    }
    let mut bytes = Vec::with_capacity(meta.len() as usize);
    Read::by_ref(&mut file)
        .take(MAX_RECORD_LEN as u64 + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| e.to_string())?;
    if bytes.len() > MAX_RECORD_LEN {
        return Err(format!("larger than any record ({MAX_RECORD_LEN} bytes)"));
    }
    let token = check_record(&bytes).map_err(|e| e.to_string())?.token;
    Ok((bytes, token))
}

/// Whether a process holds the lock of the spool in `dir`, and its pid when it wrote one:
/// `None` when nobody does (or there is no spool). Takes nothing and creates nothing.
pub fn lock_holder(dir: &Path) -> Option<Option<u32>> {
    let mut file = OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK)
        .open(dir.join(LOCK_FILE))
        .ok()?;
    match file.try_lock_shared() {
        Ok(()) => None,
        Err(_) => {
            let mut text = String::new();
            let _ = Read::by_ref(&mut file).take(32).read_to_string(&mut text);
            Some(text.trim().parse().ok())
        }
    }
}

/// Record files in `dir` by their names (nothing is read: the daemon may hold the lock).
pub fn record_count(dir: &Path) -> usize {
    fs::read_dir(dir).map_or(0, |entries| {
        entries
            .filter_map(Result::ok)
            .filter(|e| parse_name(&e.file_name().to_string_lossy()).is_some())
            .count()
    })
}

/// Takes the spool's lock, waiting at most `wait`; writes our pid into the lock file.
fn lock(dir: &Path, wait: Duration) -> Result<File, SpoolError> {
    let path = dir.join(LOCK_FILE);
    let io = |error| SpoolError::Io {
        path: path.clone(),
        error,
    };
    let open = |write: bool| {
        OpenOptions::new()
            .read(true)
            .write(write)
            .create(write)
            .truncate(false)
            .mode(0o600)
            .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK)
            .open(&path)
    };
    // On a read-only spool the lock still works on an existing file (records cannot be
    // written there, which the reporter hears about record by record).
    let (mut file, writable) = match open(true) {
        Ok(file) => (file, true),
        Err(e) if e.raw_os_error() == Some(libc::EROFS) => (open(false).map_err(io)?, false),
        Err(e) => return Err(io(e)),
    };
    if !file.metadata().map_err(io)?.is_file() {
        return Err(io(io::Error::other("the lock is not a regular file")));
    }
    let until = Instant::now() + wait;
    loop {
        match file.try_lock() {
            Ok(()) => break,
            Err(fs::TryLockError::WouldBlock) if Instant::now() < until => {
                std::thread::sleep(Duration::from_millis(50));
            }
            Err(fs::TryLockError::WouldBlock) => {
                let mut text = String::new();
                let _ = Read::by_ref(&mut file).take(32).read_to_string(&mut text);
                return Err(SpoolError::Busy {
                    dir: dir.to_owned(),
                    pid: text.trim().parse().ok(),
                });
            }
            Err(fs::TryLockError::Error(e)) => return Err(io(e)),
        }
    }
    if writable {
        // The pid is for the message another agent shows; failing to write it is no reason
        // to give the lock up.
        let _ = file
            .set_len(0)
            .and_then(|()| file.rewind())
            .and_then(|()| writeln!(file, "{}", std::process::id()));
    }
    Ok(file)
}

/// The agent's temp files: `.support-metrics-*.tmp`, and `.record-<20 digits>.tmp` from
/// versions before it.
fn is_temp(name: &str) -> bool {
    let legacy = name
        .strip_prefix(".record-")
        .and_then(|r| r.strip_suffix(".tmp"))
        .is_some_and(|d| d.len() == 20 && d.bytes().all(|b| b.is_ascii_digit()));
    legacy || (name.starts_with(TEMP_PREFIX) && name.ends_with(".tmp"))
}

/// Keeps `quarantine/` below [`QUARANTINE_MAX`] entries before one more goes in: the oldest
/// (names start with the time they were moved) are deleted.
fn trim_quarantine(q: &Path) -> io::Result<()> {
    let mut names: Vec<_> = fs::read_dir(q)?
        .filter_map(|e| e.ok().map(|e| e.file_name()))
        .collect();
    names.sort();
    let excess = (names.len() + 1).saturating_sub(QUARANTINE_MAX);
    for name in names.into_iter().take(excess) {
        let path = q.join(name);
        match fs::symlink_metadata(&path) {
            Ok(m) if m.is_dir() => fs::remove_dir_all(&path)?,
            _ => fs::remove_file(&path)?,
        }
    }
    Ok(())
}

fn not_found(id: RecordId) -> io::Error {
    io::Error::new(
        io::ErrorKind::NotFound,
        format!("record {id} is not in the spool"),
    )
}

/// `record-00000000000000000042-th.json`, or `...-th-r2.json` after two refusals.
pub fn file_name(stored: &Stored) -> String {
    let mut sinks = String::new();
    if stored.pending.contains(Sink::Topic) {
        sinks.push('t');
    }
    if stored.pending.contains(Sink::Http) {
        sinks.push('h');
    }
    let refused = match stored.rejections {
        0 => String::new(),
        n => format!("-r{n}"),
    };
    format!("{PREFIX}{:020}-{sinks}{refused}{SUFFIX}", stored.id.0)
}

fn parse_name(name: &str) -> Option<(u64, Sinks, u8)> {
    let rest = name.strip_prefix(PREFIX)?.strip_suffix(SUFFIX)?;
    let (digits, rest) = rest.split_once('-')?;
    if digits.len() != 20 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let (sinks, rejections) = match rest.split_once("-r") {
        Some((sinks, n)) if !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()) => {
            (sinks, n.parse::<u8>().ok().filter(|&n| n > 0)?)
        }
        Some(_) => return None,
        None => (rest, 0),
    };
    let mut pending = Sinks::NONE;
    match sinks {
        "t" => pending.insert(Sink::Topic),
        "h" => pending.insert(Sink::Http),
        "th" => pending = Sinks::ALL,
        _ => return None,
    }
    Some((digits.parse().ok()?, pending, rejections))
}

#[cfg(test)]
mod tests;
