//! The ledger: every record a sink took, appended beside the spool (`ledger.jsonl` in the
//! spool directory), so an operator can see what left the machine, where and when, byte for
//! byte (`support-metrics-agent history`).
//!
//! One JSON object per line: `time` (RFC 3339 UTC), `unix`, `destination` (`topic T via
//! SERVERS`, `POST URL`), `bytes`, `sha256`, `record` (the record's text exactly). Appended
//! with one write and fsynced; a line torn by a crash is skipped when read. Bounded: entries
//! older than [`MAX_AGE_DAYS`] and all but the newest [`MAX_ENTRIES`] are dropped, by
//! rewriting the file (temp file, fsync, rename) once it holds [`TRIM_SLACK`] more than that.

use std::fs::{self, OpenOptions};
use std::io::{self, BufRead, BufReader, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use crate::utc::rfc3339_secs;

/// The ledger's file name in the spool directory.
pub const LEDGER_FILE: &str = "ledger.jsonl";
/// Entries kept at most.
pub const MAX_ENTRIES: usize = 10_000;
/// Days an entry is kept.
pub const MAX_AGE_DAYS: u64 = 400;
/// Entries beyond [`MAX_ENTRIES`] before the file is rewritten.
const TRIM_SLACK: usize = 500;

/// One delivery.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Entry {
    /// When the sink confirmed it (seconds since the Unix epoch).
    pub unix: u64,
    /// Where it went.
    pub destination: String,
    /// The record, exactly as sent.
    pub record: Vec<u8>,
}

impl Entry {
    /// The entry as its JSON line's object.
    pub fn to_json(&self) -> Value {
        json!({
            "time": rfc3339_secs(self.unix),
            "unix": self.unix,
            "destination": self.destination,
            "bytes": self.record.len(),
            "sha256": hex(&Sha256::digest(&self.record)),
            "record": String::from_utf8_lossy(&self.record),
        })
    }

    fn from_json(v: &Value) -> Option<Entry> {
        let record = v.get("record")?.as_str()?.as_bytes().to_vec();
        // A line whose record does not match its hash is not ours (or torn): skipped.
        if v.get("sha256")?.as_str()? != hex(&Sha256::digest(&record)) {
            return None;
        }
        Some(Entry {
            unix: v.get("unix")?.as_u64()?,
            destination: v.get("destination")?.as_str()?.to_owned(),
            record,
        })
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The ledger of one spool directory.
#[derive(Clone, Debug)]
pub struct Ledger {
    path: PathBuf,
}

impl Ledger {
    /// The ledger in `spool_dir`.
    pub fn new(spool_dir: &Path) -> Ledger {
        Ledger {
            path: spool_dir.join(LEDGER_FILE),
        }
    }

    /// Its file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Appends `entry` (durably), then trims the file when it has grown past its bounds.
    pub fn append(&self, entry: &Entry) -> io::Result<()> {
        let mut line = entry.to_json().to_string();
        line.push('\n');
        let mut file = OpenOptions::new()
            .append(true)
            .create(true)
            .mode(0o600)
            .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK)
            .open(&self.path)?;
        if !file.metadata()?.is_file() {
            return Err(io::Error::other("the ledger is not a regular file"));
        }
        file.write_all(line.as_bytes())?;
        file.sync_data()?;
        self.trim(entry.unix)
    }

    /// Every entry, oldest first (lines that do not parse are skipped). A missing ledger is
    /// empty.
    pub fn read(&self) -> io::Result<Vec<Entry>> {
        let file = match OpenOptions::new()
            .read(true)
            .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK)
            .open(&self.path)
        {
            Ok(f) => f,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(e),
        };
        if !file.metadata()?.is_file() {
            return Err(io::Error::other("the ledger is not a regular file"));
        }
        let mut entries = Vec::new();
        for line in BufReader::new(file).lines() {
            let Ok(line) = line else { continue };
            if let Some(e) = serde_json::from_str(&line)
                .ok()
                .as_ref()
                .and_then(Entry::from_json)
            {
                entries.push(e);
            }
        }
        Ok(entries)
    }

    /// Rewrites the file without entries past the bounds, when there are enough of them.
    fn trim(&self, now: u64) -> io::Result<()> {
        let oldest = now.saturating_sub(MAX_AGE_DAYS * 86_400);
        // Streamed: the daemon's heap never holds the whole ledger for this check.
        let mut lines = 0;
        let mut first_old = false;
        for line in BufReader::new(fs::File::open(&self.path)?).lines() {
            let line = line?;
            if lines == 0 {
                first_old = serde_json::from_str::<Value>(&line)
                    .ok()
                    .and_then(|v| v.get("unix")?.as_u64())
                    .is_some_and(|t| t < oldest);
            }
            lines += 1;
        }
        if lines <= MAX_ENTRIES + TRIM_SLACK && !first_old {
            return Ok(());
        }
        let mut keep: Vec<Entry> = self
            .read()?
            .into_iter()
            .filter(|e| e.unix >= oldest)
            .collect();
        let excess = keep.len().saturating_sub(MAX_ENTRIES);
        keep.drain(..excess);
        let dir = self.path.parent().unwrap_or(Path::new("."));
        let temp = dir.join(format!(".support-metrics-ledger-{}", std::process::id()));
        {
            let mut out = OpenOptions::new()
                .write(true)
                .create_new(true)
                .mode(0o600)
                .open(&temp)?;
            for e in &keep {
                writeln!(out, "{}", e.to_json())?;
            }
            out.sync_all()?;
        }
        fs::rename(&temp, &self.path)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scratch(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("sm-ledger-{name}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).unwrap();
        dir
    }

    fn entry(unix: u64, n: usize) -> Entry {
        Entry {
            unix,
            destination: "POST https://example.invalid/anon".into(),
            record: format!("{{\"n\":{n},\"s\":\"\\u00e9\\\"\"}}").into_bytes(),
        }
    }

    #[test]
    fn appends_read_back_byte_for_byte_and_torn_lines_are_skipped() {
        let dir = scratch("roundtrip");
        let ledger = Ledger::new(&dir);
        assert!(ledger.read().unwrap().is_empty());
        ledger.append(&entry(1_800_000_000, 1)).unwrap();
        // A crash in the middle of a line.
        let mut f = OpenOptions::new().append(true).open(ledger.path()).unwrap();
        f.write_all(b"{\"time\":\"2026").unwrap();
        drop(f);
        // The next append starts after the torn text: that line is lost, not the next.
        let mut f = OpenOptions::new().append(true).open(ledger.path()).unwrap();
        f.write_all(b"\n").unwrap();
        drop(f);
        ledger.append(&entry(1_800_000_060, 2)).unwrap();
        let read = ledger.read().unwrap();
        assert_eq!(read, [entry(1_800_000_000, 1), entry(1_800_000_060, 2)]);
    }

    #[test]
    fn bounded_by_age_and_count() {
        let dir = scratch("bounded");
        let ledger = Ledger::new(&dir);
        let now = 1_800_000_000;
        // One entry older than the bound, then more than the count.
        ledger
            .append(&entry(now - (MAX_AGE_DAYS + 1) * 86_400, 0))
            .unwrap();
        assert_eq!(
            ledger.read().unwrap().len(),
            1,
            "trimmed only when something is old at append"
        );
        let mut text = String::new();
        for n in 0..MAX_ENTRIES + TRIM_SLACK {
            text.push_str(&entry(now - 1, n).to_json().to_string());
            text.push('\n');
        }
        let mut f = OpenOptions::new().append(true).open(ledger.path()).unwrap();
        f.write_all(text.as_bytes()).unwrap();
        drop(f);
        ledger.append(&entry(now, 99_999)).unwrap();
        let read = ledger.read().unwrap();
        assert_eq!(read.len(), MAX_ENTRIES);
        assert_eq!(read.last(), Some(&entry(now, 99_999)));
        assert!(read.iter().all(|e| e.unix >= now - MAX_AGE_DAYS * 86_400));
    }
}
