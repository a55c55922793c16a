//! The spool directory: records no sink has taken yet, durable across crashes.
//!
//! One file per record, named `record-<id, 20 digits>-<pending>.json` where `<pending>` is
//! `t` (topic), `h` (HTTP), or `th`. The file holds the record's bytes exactly as sent.
//! Writes go to a dot-file first, are fsynced, renamed into place, and the directory is
//! fsynced; a crash leaves either the old state or the new one, never a torn record. Changing
//! the pending sinks is a rename. Dot-files left by a crash are deleted on open.

use std::collections::BTreeMap;
use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use support_metrics_core::reporter::{RecordId, Sink, Sinks};
use support_metrics_core::token::BrokerToken;
use support_metrics_core::wire::token_of;

const PREFIX: &str = "record-";
const SUFFIX: &str = ".json";

/// The spool directory, with an index of the records in it. This process must be its only
/// writer.
#[derive(Debug)]
pub struct Spool {
    dir: PathBuf,
    index: BTreeMap<u64, Sinks>,
    ignored: Vec<PathBuf>,
}

impl Spool {
    /// Opens (creating it if needed) the spool at `dir`, removes half-written files, and reads
    /// the index. Files that are not spool records are left alone and listed by
    /// [`ignored`](Self::ignored).
    pub fn open(dir: &Path) -> io::Result<Spool> {
        fs::create_dir_all(dir)?;
        let mut spool = Spool {
            dir: dir.to_owned(),
            index: BTreeMap::new(),
            ignored: Vec::new(),
        };
        for entry in fs::read_dir(dir)? {
            let entry = entry?;
            let name = entry.file_name();
            let name = name.to_string_lossy();
            if name.starts_with('.') && name.ends_with(".tmp") {
                fs::remove_file(entry.path())?;
                continue;
            }
            match parse_name(&name) {
                Some((id, pending)) if !spool.index.contains_key(&id) => {
                    spool.index.insert(id, pending);
                }
                _ => spool.ignored.push(entry.path()),
            }
        }
        Ok(spool)
    }

    /// Lists the records in `dir` without changing anything (a missing directory is empty).
    pub fn peek(dir: &Path) -> io::Result<Vec<(RecordId, Sinks, PathBuf)>> {
        let entries = match fs::read_dir(dir) {
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
            other => other?,
        };
        let mut found = BTreeMap::new();
        for entry in entries {
            let entry = entry?;
            if let Some((id, pending)) = parse_name(&entry.file_name().to_string_lossy()) {
                found.entry(id).or_insert((pending, entry.path()));
            }
        }
        Ok(found
            .into_iter()
            .map(|(id, (p, path))| (RecordId(id), p, path))
            .collect())
    }

    /// The directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Records in the spool, oldest (lowest id) first, with the sinks still pending.
    pub fn records(&self) -> impl Iterator<Item = (RecordId, Sinks)> + '_ {
        self.index.iter().map(|(&id, &p)| (RecordId(id), p))
    }

    /// Number of records.
    pub fn len(&self) -> usize {
        self.index.len()
    }

    /// Whether the spool holds no record.
    pub fn is_empty(&self) -> bool {
        self.index.is_empty()
    }

    /// Files in the directory that are not spool records (or duplicate ids).
    pub fn ignored(&self) -> &[PathBuf] {
        &self.ignored
    }

    /// Stores a record durably.
    pub fn write(&mut self, id: RecordId, pending: Sinks, bytes: &[u8]) -> io::Result<()> {
        let tmp = self.dir.join(format!(".{PREFIX}{:020}.tmp", id.0));
        let mut file = OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .open(&tmp)?;
        file.write_all(bytes)?;
        file.sync_all()?;
        drop(file);
        if let Some(old) = self.index.get(&id.0) {
            fs::remove_file(self.path(id, *old))?;
        }
        fs::rename(&tmp, self.path(id, pending))?;
        self.sync_dir()?;
        self.index.insert(id.0, pending);
        Ok(())
    }

    /// Records that some sinks took the record: `pending` remain.
    pub fn update(&mut self, id: RecordId, pending: Sinks) -> io::Result<()> {
        let old = self
            .index
            .get(&id.0)
            .copied()
            .ok_or_else(|| not_found(id))?;
        if old != pending {
            fs::rename(self.path(id, old), self.path(id, pending))?;
            self.sync_dir()?;
            self.index.insert(id.0, pending);
        }
        Ok(())
    }

    /// Deletes a record; one that is not there is already gone.
    pub fn remove(&mut self, id: RecordId) -> io::Result<()> {
        if let Some(pending) = self.index.remove(&id.0) {
            match fs::remove_file(self.path(id, pending)) {
                Err(e) if e.kind() != io::ErrorKind::NotFound => return Err(e),
                _ => {}
            }
            self.sync_dir()?;
        }
        Ok(())
    }

    /// The bytes of a record.
    pub fn read(&self, id: RecordId) -> io::Result<Vec<u8>> {
        let pending = self
            .index
            .get(&id.0)
            .copied()
            .ok_or_else(|| not_found(id))?;
        fs::read(self.path(id, pending))
    }

    /// The token of the run that made a record (its topic key), read from its bytes by core;
    /// `None` when the record cannot be read or carries none.
    pub fn token(&self, id: RecordId) -> Option<BrokerToken> {
        token_of(&self.read(id).ok()?)
    }

    fn path(&self, id: RecordId, pending: Sinks) -> PathBuf {
        self.dir.join(file_name(id, pending))
    }

    fn sync_dir(&self) -> io::Result<()> {
        File::open(&self.dir)?.sync_all()
    }
}

fn not_found(id: RecordId) -> io::Error {
    io::Error::new(
        io::ErrorKind::NotFound,
        format!("record {id} is not in the spool"),
    )
}

/// `record-00000000000000000042-th.json`
pub fn file_name(id: RecordId, pending: Sinks) -> String {
    let mut sinks = String::new();
    if pending.contains(Sink::Topic) {
        sinks.push('t');
    }
    if pending.contains(Sink::Http) {
        sinks.push('h');
    }
    format!("{PREFIX}{:020}-{sinks}{SUFFIX}", id.0)
}

fn parse_name(name: &str) -> Option<(u64, Sinks)> {
    let rest = name.strip_prefix(PREFIX)?.strip_suffix(SUFFIX)?;
    let (digits, sinks) = rest.split_once('-')?;
    if digits.len() != 20 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let mut pending = Sinks::NONE;
    match sinks {
        "t" => pending.insert(Sink::Topic),
        "h" => pending.insert(Sink::Http),
        "th" => pending = Sinks::ALL,
        _ => return None,
    }
    Some((digits.parse().ok()?, pending))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dir(name: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!(
            "support-metrics-spool-{name}-{}",
            std::process::id()
        ));
        let _ = fs::remove_dir_all(&d);
        d
    }

    #[test]
    fn names_round_trip() {
        for (id, pending) in [
            (0, Sinks::ALL),
            (42, Sink::Topic.into()),
            (u64::MAX, Sink::Http.into()),
        ] {
            let name = file_name(RecordId(id), pending);
            assert_eq!(parse_name(&name), Some((id, pending)), "{name}");
        }
        assert_eq!(
            file_name(RecordId(42), Sinks::ALL),
            "record-00000000000000000042-th.json"
        );
        for bad in [
            "record-42-th.json",
            "record-00000000000000000042-.json",
            "record-00000000000000000042-x.json",
            "notes.txt",
            "record-0000000000000000004a-t.json",
        ] {
            assert_eq!(parse_name(bad), None, "{bad}");
        }
    }

    #[test]
    fn write_update_read_remove_survive_reopen() {
        let d = dir("cycle");
        let mut spool = Spool::open(&d).unwrap();
        assert!(spool.is_empty());
        spool.write(RecordId(7), Sinks::ALL, b"{\"a\":1}").unwrap();
        spool
            .write(RecordId(3), Sink::Topic.into(), b"three")
            .unwrap();
        spool.update(RecordId(7), Sink::Http.into()).unwrap();

        let mut again = Spool::open(&d).unwrap();
        let records: Vec<_> = again.records().collect();
        assert_eq!(
            records,
            [
                (RecordId(3), Sink::Topic.into()),
                (RecordId(7), Sink::Http.into())
            ]
        );
        assert_eq!(again.read(RecordId(7)).unwrap(), b"{\"a\":1}");
        again.remove(RecordId(7)).unwrap();
        again.remove(RecordId(7)).unwrap(); // already gone: fine
        assert!(again.update(RecordId(7), Sinks::ALL).is_err());
        assert_eq!(Spool::open(&d).unwrap().len(), 1);
        let names: Vec<String> = fs::read_dir(&d)
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        assert_eq!(names, ["record-00000000000000000003-t.json"]);
    }

    #[test]
    fn crash_leftovers_are_cleaned_and_strangers_ignored() {
        let d = dir("crash");
        fs::create_dir_all(&d).unwrap();
        // A crash between write and rename leaves a dot-file: it never was a record.
        fs::write(d.join(".record-00000000000000000009.tmp"), b"half").unwrap();
        fs::write(d.join("README"), b"not ours").unwrap();
        fs::write(d.join("record-00000000000000000004-t.json"), b"four").unwrap();
        fs::write(d.join("record-00000000000000000004-h.json"), b"dup").unwrap();
        let spool = Spool::open(&d).unwrap();
        assert_eq!(spool.len(), 1);
        assert!(!d.join(".record-00000000000000000009.tmp").exists());
        assert_eq!(spool.ignored().len(), 2, "{:?}", spool.ignored());
        assert!(d.join("README").exists(), "strangers are left alone");
    }

    #[test]
    fn rewrite_replaces_the_old_file() {
        let d = dir("rewrite");
        let mut spool = Spool::open(&d).unwrap();
        spool.write(RecordId(1), Sinks::ALL, b"old").unwrap();
        spool
            .write(RecordId(1), Sink::Topic.into(), b"new")
            .unwrap();
        assert_eq!(fs::read_dir(&d).unwrap().count(), 1);
        assert_eq!(spool.read(RecordId(1)).unwrap(), b"new");
    }
}
