//! The zip: `records/<partition>-<offset>` entries holding the record values exactly, and
//! `manifest.json` (topic, cluster ID, offset ranges, count, creation time, tool version,
//! SHA-256 of every entry). Written to a temp file beside the target and renamed at the end.

use std::fmt::Write as _;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use support_metrics_core::wire::{check_record, MAX_RECORD_LEN};
use support_metrics_linux::utc::{rfc3339, rfc3339_secs, utc};

use crate::{BundleError, Records};

const MANIFEST: &str = "manifest.json";

/// Records smaller than this are stored, not deflated.
const SMALL: usize = 1024;

/// What a bundle holds.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Summary {
    /// Records.
    pub records: usize,
    /// Partitions.
    pub partitions: usize,
    /// Values left out when writing: larger than any record of ours
    /// ([`MAX_RECORD_LEN`]), so not a report, and more than `verify` would read.
    pub skipped: usize,
}

/// `support-metrics-<topic>.<UTC yyyyMMdd-HHmmss>.zip`
pub fn default_file_name(topic: &str, now: SystemTime) -> String {
    let (y, mo, d, h, mi, se) = utc(now);
    format!("support-metrics-{topic}.{y:04}{mo:02}{d:02}-{h:02}{mi:02}{se:02}.zip")
}

/// A zip entry's time: the record's own `timestamp` (UTC; zip times have no zone), else now.
/// Our records begin with it (`{"timestamp":<secs>,`): read there, not by parsing the JSON,
/// which would cost more than the rest of the bundle.
fn entry_time(value: &[u8]) -> zip::DateTime {
    let secs = value.strip_prefix(b"{\"timestamp\":").and_then(|rest| {
        let n = rest.iter().take_while(|b| b.is_ascii_digit()).count();
        let digits = rest.get(..n).filter(|d| (1..=11).contains(&d.len()))?;
        std::str::from_utf8(digits).ok()?.parse::<u64>().ok()
    });
    let when = secs.map_or_else(SystemTime::now, |s| {
        std::time::UNIX_EPOCH + std::time::Duration::from_secs(s)
    });
    let (y, mo, d, h, mi, se) = utc(when);
    u16::try_from(y)
        .ok()
        .and_then(|y| {
            zip::DateTime::from_date_and_time(y, mo as u8, d as u8, h as u8, mi as u8, se as u8)
                .ok()
        })
        .unwrap_or_default()
}

fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(char::from(DIGITS[usize::from(b >> 4)]));
        s.push(char::from(DIGITS[usize::from(b & 15)]));
    }
    s
}

/// Writes `records` of `topic` to `path` (atomically). An existing file is kept unless `force`.
pub fn write_bundle(
    records: &Records,
    topic: &str,
    path: &Path,
    force: bool,
) -> Result<Summary, BundleError> {
    if path.exists() && !force {
        return Err(BundleError::Exists(path.to_owned()));
    }
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = dir.join(format!(".{name}.{}.tmp", std::process::id()));
    let result = write_to(records, topic, &tmp).and_then(|summary| {
        std::fs::rename(&tmp, path)
            .map_err(|e| BundleError::Other(format!("cannot create {}: {e}", path.display())))?;
        Ok(summary)
    });
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

fn write_to(records: &Records, topic: &str, tmp: &Path) -> Result<Summary, BundleError> {
    let io = |e: std::io::Error| BundleError::Other(format!("cannot write {}: {e}", tmp.display()));
    let zipe = |e: zip::result::ZipError| {
        BundleError::Other(format!("cannot write {}: {e}", tmp.display()))
    };
    // The records are in memory already; building the zip there too avoids a syscall and a
    // seek per entry.
    // Headers, central directory and manifest take well under 256 bytes per record.
    let capacity = records
        .records
        .iter()
        .map(|r| r.2.len() + 256)
        .sum::<usize>()
        + (1 << 16);
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::with_capacity(capacity)));
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    // A record of a few hundred bytes does not shrink on its own, and a deflate stream per
    // entry costs more than it saves: small records are stored.
    let stored =
        zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored);
    // The `sha256` object of the manifest, written as text: one entry per record.
    let mut hashes = String::with_capacity(records.records.len() * 96 + 2);
    hashes.push('{');
    let mut skipped = 0;
    for (partition, offset, value) in &records.records {
        if value.len() > MAX_RECORD_LEN {
            skipped += 1;
            continue;
        }
        let name = format!("records/{partition}-{offset}");
        let options = if value.len() < SMALL { stored } else { options };
        let options = options.last_modified_time(entry_time(value));
        zip.start_file(name.as_str(), options).map_err(zipe)?;
        zip.write_all(value).map_err(io)?;
        if hashes.len() > 1 {
            hashes.push(',');
        }
        // Entry names are ASCII digits, `/` and `-`; hex is ASCII: nothing to escape.
        let _ = write!(hashes, "\"{name}\":\"{}\"", hex(&Sha256::digest(value)));
    }
    let ranges: Vec<Value> = records
        .ranges
        .iter()
        .map(|&(p, from, to)| json!({"partition": p, "fromOffset": from, "toOffset": to}))
        .collect();
    let manifest = json!({
        "topic": topic,
        "clusterId": records.cluster_id,
        "partitions": ranges,
        "recordCount": records.records.len() - skipped,
        "skipped": skipped,
        "createdAt": rfc3339(SystemTime::now()),
        "toolVersion": env!("CARGO_PKG_VERSION"),
    });
    hashes.push('}');
    let mut text = serde_json::to_string(&manifest).unwrap_or_default();
    text.pop(); // the closing brace
    let _ = write!(text, ",\"sha256\":{hashes}}}");
    // Compact JSON, fast deflate: with one hash per record it is the largest entry.
    let fast = options.compression_level(Some(1));
    zip.start_file(MANIFEST, fast).map_err(zipe)?;
    zip.write_all(text.as_bytes()).map_err(io)?;
    let bytes = zip.finish().map_err(zipe)?.into_inner();
    let mut file = std::fs::File::create(tmp).map_err(io)?;
    file.write_all(&bytes).map_err(io)?;
    file.sync_all().map_err(io)?;
    Ok(Summary {
        records: records.records.len() - skipped,
        partitions: records.ranges.len(),
        skipped,
    })
}

/// The largest manifest read: a SHA-256 line per record, so about 160 000 records.
pub(crate) const MAX_MANIFEST_LEN: u64 = 16 << 20;

/// Opens a bundle: a zip whose every entry is `manifest.json` or
/// `records/<partition>-<offset>`, with a manifest of at most [`MAX_MANIFEST_LEN`] bytes.
/// Nothing is read whole before its size is known to be bounded.
/// Whether `path` can be a bundle: a regular file (a FIFO would block the reader, a
/// directory is no zip). The error says why, for "cannot read PATH: ...".
pub fn regular_file(path: &Path) -> std::io::Result<()> {
    match std::fs::metadata(path) {
        Ok(m) if m.is_file() => Ok(()),
        Ok(m) if m.is_dir() => Err(std::io::Error::other("a directory, not a bundle")),
        Ok(_) => Err(std::io::Error::other("not a regular file")),
        Err(e) => Err(e),
    }
}

fn open(path: &Path) -> Result<(zip::ZipArchive<std::fs::File>, Value), BundleError> {
    regular_file(path)
        .map_err(|e| BundleError::Other(format!("cannot read {}: {e}", path.display())))?;
    let file = std::fs::File::open(path)
        .map_err(|e| BundleError::Other(format!("cannot read {}: {e}", path.display())))?;
    let mut archive = zip::ZipArchive::new(file)
        .map_err(|e| BundleError::Corrupt(format!("{}: not a zip ({e})", path.display())))?;
    for name in archive.file_names() {
        let name = name.map_err(|e| BundleError::Corrupt(e.to_string()))?;
        if name != MANIFEST && entry_key(&name).is_none() {
            return Err(BundleError::Corrupt(format!(
                "unexpected entry {:?}: a bundle holds only {MANIFEST} and records/<partition>-<offset>",
                name.as_ref()
            )));
        }
    }
    let mut text = String::new();
    archive
        .by_name(MANIFEST)
        .map_err(|_| BundleError::Corrupt("no manifest.json".into()))?
        .take(MAX_MANIFEST_LEN + 1)
        .read_to_string(&mut text)
        .map_err(|e| BundleError::Corrupt(format!("manifest.json: {e}")))?;
    if text.len() as u64 > MAX_MANIFEST_LEN {
        return Err(BundleError::Corrupt(format!(
            "manifest.json: larger than {} MiB",
            MAX_MANIFEST_LEN >> 20
        )));
    }
    let manifest: Value = serde_json::from_str(&text)
        .map_err(|e| BundleError::Corrupt(format!("manifest.json: {e}")))?;
    Ok((archive, manifest))
}

/// Reads an entry: at most [`MAX_RECORD_LEN`] bytes (no record of ours is larger).
fn read_entry(entry: &mut impl Read, name: &str) -> Result<Vec<u8>, BundleError> {
    let mut bytes = Vec::new();
    entry
        .take(MAX_RECORD_LEN as u64 + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| BundleError::Corrupt(format!("{name}: {e}")))?;
    if bytes.len() > MAX_RECORD_LEN {
        return Err(BundleError::Corrupt(format!(
            "{name}: larger than any record ({MAX_RECORD_LEN} bytes)"
        )));
    }
    Ok(bytes)
}

/// Checks every entry against the manifest: same names, same count, same SHA-256.
pub fn verify(path: &Path) -> Result<Summary, BundleError> {
    each_verified(path, |_, _| {})
}

/// Hands every entry of a bundle, with its bytes, to `each` in entry order, an entry at a
/// time (memory stays bounded however many entries a bundle holds), each checked against the
/// manifest first; then checks the count. Call [`verify`] before when nothing may be used
/// from a bundle that does not match as a whole.
pub fn each_verified(
    path: &Path,
    each: impl FnMut(String, Vec<u8>),
) -> Result<Summary, BundleError> {
    let (manifest, seen) = check_entries(path, each)?;
    let partitions = manifest["partitions"].as_array().map_or(0, Vec::len);
    Ok(Summary {
        records: seen,
        partitions,
        skipped: manifest_skipped(&manifest),
    })
}

/// Reads every entry in bounded memory, checks its SHA-256 against the manifest and hands it
/// to `each`; then checks the count. Returns the manifest and the number of entries.
fn check_entries(
    path: &Path,
    mut each: impl FnMut(String, Vec<u8>),
) -> Result<(Value, usize), BundleError> {
    let (mut archive, manifest) = open(path)?;
    let hashes = manifest["sha256"]
        .as_object()
        .ok_or_else(|| BundleError::Corrupt("manifest has no sha256 map".into()))?;
    let mut seen = 0;
    for i in 0..archive.len() {
        let mut entry = archive
            .by_index(i)
            .map_err(|e| BundleError::Corrupt(e.to_string()))?;
        let name = entry
            .name()
            .map_err(|e| BundleError::Corrupt(e.to_string()))?
            .into_owned();
        if name == MANIFEST {
            continue;
        }
        let want = hashes
            .get(&name)
            .and_then(Value::as_str)
            .ok_or_else(|| BundleError::Corrupt(format!("{name} is not in the manifest")))?;
        let bytes = read_entry(&mut entry, &name)?;
        if hex(&Sha256::digest(&bytes)) != want {
            return Err(BundleError::Corrupt(format!("{name}: SHA-256 differs")));
        }
        seen += 1;
        each(name, bytes);
    }
    let count = manifest["recordCount"].as_u64().unwrap_or(u64::MAX) as usize;
    if seen != hashes.len() || seen != count {
        return Err(BundleError::Corrupt(format!(
            "{seen} entries, manifest lists {} (recordCount {count})",
            hashes.len()
        )));
    }
    Ok((manifest, seen))
}

/// Lists the records of a bundle: each entry's name, its record's time (RFC 3339), whether
/// its SHA-256 matches the manifest (a mismatch is flagged `HASH MISMATCH`), and the record
/// as escaped JSON when it is one of ours (anything else by its size). With `as_json`, one
/// JSON object instead. Returns the summary and how many entries did not match.
pub fn inspect(
    path: &Path,
    out: &mut impl Write,
    as_json: bool,
) -> Result<(Summary, usize), BundleError> {
    let (mut archive, manifest) = open(path)?;
    let io = |e: std::io::Error| BundleError::Other(e.to_string());
    let mut names: Vec<String> = archive
        .file_names()
        .filter_map(|n| n.ok().map(|n| n.into_owned()))
        .filter(|n| n != MANIFEST)
        .collect();
    names.sort_by_key(|n| entry_key(n));
    if !as_json {
        // JSON values print escaped: no control character of the file reaches the terminal.
        writeln!(
            out,
            "topic {} (cluster {}), created {}",
            manifest["topic"], manifest["clusterId"], manifest["createdAt"]
        )
        .map_err(io)?;
    }
    let mut mismatched = 0;
    let mut listed = Vec::new();
    for name in &names {
        let mut entry = archive
            .by_name(name)
            .map_err(|e| BundleError::Corrupt(e.to_string()))?;
        let bytes = read_entry(&mut entry, name)?;
        let matches = manifest["sha256"][name.as_str()].as_str()
            == Some(hex(&Sha256::digest(&bytes)).as_str());
        if !matches {
            mismatched += 1;
        }
        // Only a record of ours is shown, and as JSON (escaped); anything else by its size.
        let record = match serde_json::from_slice::<Value>(&bytes) {
            Ok(v) if check_record(&bytes).is_ok() => Some(v),
            _ => None,
        };
        let time = record
            .as_ref()
            .and_then(|r| r["timestamp"].as_u64())
            .and_then(rfc3339_secs);
        if as_json {
            let (partition, offset) = entry_key(name).unwrap_or_default();
            listed.push(json!({
                "entry": name,
                "partition": partition,
                "offset": offset,
                "time": time,
                "sha256Matches": matches,
                "bytes": bytes.len(),
                "record": record,
            }));
            continue;
        }
        let shown = match &record {
            Some(v) => v.to_string(),
            None => format!("({} bytes, not a support-metrics record)", bytes.len()),
        };
        let flag = if matches { "" } else { " HASH MISMATCH" };
        writeln!(
            out,
            "{name} {}{flag}: {shown}",
            time.as_deref().unwrap_or("-")
        )
        .map_err(io)?;
    }
    if as_json {
        let value = json!({
            "topic": manifest["topic"],
            "clusterId": manifest["clusterId"],
            "createdAt": manifest["createdAt"],
            "records": listed,
            "mismatched": mismatched,
        });
        writeln!(
            out,
            "{}",
            serde_json::to_string_pretty(&value).unwrap_or_default()
        )
        .map_err(io)?;
    }
    let partitions = manifest["partitions"].as_array().map_or(0, Vec::len);
    Ok((
        Summary {
            records: names.len(),
            partitions,
            skipped: manifest_skipped(&manifest),
        },
        mismatched,
    ))
}

fn manifest_skipped(manifest: &Value) -> usize {
    manifest["skipped"].as_u64().map_or(0, |n| n as usize)
}

/// `records/<partition>-<offset>` as (partition, offset): decimal digits only, so no path,
/// no `..` and no control character passes.
fn entry_key(name: &str) -> Option<(i32, i64)> {
    let (p, o) = name.strip_prefix("records/")?.split_once('-')?;
    let digits = |s: &str| !s.is_empty() && s.len() <= 19 && s.bytes().all(|b| b.is_ascii_digit());
    if !digits(p) || !digits(o) {
        return None;
    }
    Some((p.parse().ok()?, o.parse().ok()?))
}

/// The absolute form of `path`, for messages.
pub fn absolute(path: &Path) -> PathBuf {
    std::path::absolute(path).unwrap_or_else(|_| path.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, UNIX_EPOCH};

    #[test]
    fn file_names_and_dates() {
        let t = UNIX_EPOCH + Duration::from_secs(1_449_143_435); // 2015-12-03 11:50:35 UTC
        assert_eq!(
            default_file_name("__confluent.support.metrics", t),
            "support-metrics-__confluent.support.metrics.20151203-115035.zip"
        );
        assert_eq!(rfc3339(UNIX_EPOCH), "1970-01-01T00:00:00Z");
        assert_eq!(
            rfc3339(UNIX_EPOCH + Duration::from_secs(951_782_400)),
            "2000-02-29T00:00:00Z"
        );
        assert_eq!(entry_key("records/2-10"), Some((2, 10)));
        for bad in [
            "records/../x",
            "/etc/passwd",
            "records/1-2/../../x",
            "records/-1-2",
            "records/1-+2",
            "records/1-2\x1b]0;owned\x07",
            "records/1\n-2",
            "records/1-",
            "manifest.json.bak",
        ] {
            assert_eq!(entry_key(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn write_verify_inspect_and_tamper() {
        let dir = std::env::temp_dir().join(format!("sm-bundle-unit-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let ours = br#"{"timestamp":1,"kafkaVersion":"k","confluentPlatformVersion":"c","brokerProcessUUID":"00112233-4455-4677-8899-aabbccddeeff","collectorState":2}"#;
        let records = Records {
            cluster_id: Some("abc".into()),
            ranges: vec![(0, 0, 2), (1, 5, 6)],
            records: vec![
                (0, 0, ours.to_vec()),
                (0, 1, b"plain".to_vec()),
                (1, 5, vec![0, 255]),
            ],
        };
        let path = dir.join("b.zip");
        assert_eq!(
            write_bundle(&records, "t", &path, false).unwrap(),
            Summary {
                records: 3,
                partitions: 2,
                skipped: 0
            }
        );
        assert!(matches!(
            write_bundle(&records, "t", &path, false),
            Err(BundleError::Exists(_))
        ));
        write_bundle(&records, "t", &path, true).unwrap();
        assert_eq!(
            verify(&path).unwrap(),
            Summary {
                records: 3,
                partitions: 2,
                skipped: 0
            }
        );
        let mut out = Vec::new();
        inspect(&path, &mut out, false).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert!(
            text.contains("records/0-0 1970-01-01T00:00:01Z: {\"timestamp\":1"),
            "{text}"
        );
        assert!(
            text.contains("records/0-1 -: (5 bytes, not a support-metrics record)"),
            "{text}"
        );
        assert!(!text.contains("MISMATCH"), "{text}");
        // Entry names are relative, whatever the output path.
        let mut archive = zip::ZipArchive::new(std::fs::File::open(&path).unwrap()).unwrap();
        assert!(archive
            .file_names()
            .all(|n| n.is_ok_and(|n| !n.starts_with('/') && !n.contains(".."))));
        let mut back = Vec::new();
        archive
            .by_name("records/1-5")
            .unwrap()
            .read_to_end(&mut back)
            .unwrap();
        assert_eq!(back, [0, 255], "values byte for byte");
        // A zip whose entry differs from the manifest fails verification.
        let tampered = dir.join("t.zip");
        let mut zip = zip::ZipWriter::new(std::fs::File::create(&tampered).unwrap());
        let opts = zip::write::SimpleFileOptions::default();
        for name in ["records/0-0", "records/0-1", "records/1-5", MANIFEST] {
            let mut bytes = Vec::new();
            archive
                .by_name(name)
                .unwrap()
                .read_to_end(&mut bytes)
                .unwrap();
            if name == "records/0-1" {
                bytes = b"PLAIN".to_vec();
            }
            zip.start_file(name, opts).unwrap();
            zip.write_all(&bytes).unwrap();
        }
        zip.finish().unwrap();
        let err = verify(&tampered).unwrap_err();
        assert!(
            err.to_string().contains("records/0-1: SHA-256 differs"),
            "{err}"
        );
        // inspect lists everything, and flags what does not match.
        let mut out = Vec::new();
        let (_, mismatched) = inspect(&tampered, &mut out, false).unwrap();
        assert_eq!(mismatched, 1);
        let text = String::from_utf8(out).unwrap();
        assert!(
            text.contains("records/0-1 - HASH MISMATCH: (5 bytes"),
            "{text}"
        );
        let mut out = Vec::new();
        inspect(&tampered, &mut out, true).unwrap();
        let v: Value = serde_json::from_slice(&out).unwrap();
        assert_eq!(v["mismatched"], 1);
        assert_eq!(v["records"][0]["time"], "1970-01-01T00:00:01Z");
        assert_eq!(v["records"][0]["sha256Matches"], true);
        assert_eq!(v["records"][1]["sha256Matches"], false);
        assert_eq!(v["records"][0]["record"]["collectorState"], 2);
        assert!(std::fs::read_dir(&dir).unwrap().all(|e| !e
            .unwrap()
            .file_name()
            .to_string_lossy()
            .ends_with(".tmp")));
    }
}
