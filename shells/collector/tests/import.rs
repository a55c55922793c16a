//! `import` of a hostile bundle: one whose entries, each as large as any record may be and
//! each matching its manifest, inflate to far more than the collector's memory. The import
//! reads a bundle an entry at a time, twice (the whole of it against the manifest, then the
//! records into the database), so its memory stays bounded; it once held every entry.

mod common;

use std::io::{Cursor, Write};
use std::path::Path;
use std::process::Command;

use common::{anon, sqlite, stored, token, BIN};
use sha2::{Digest, Sha256};
use support_metrics_core::wire::MAX_RECORD_LEN;
use support_metrics_tests::scratch_dir;
use zip::write::SimpleFileOptions;
use zip::{CompressionMethod, ZipArchive, ZipWriter};

/// Entries of filler: about 100 MiB inflated, from a zip of about 300 KiB.
const FILLER_ENTRIES: usize = 1_500;

/// The collector's address space for the import: enough for its runtime and a batch of
/// records, far from what every entry held at once would take.
const ADDRESS_SPACE_KIB: u64 = 96 * 1024;

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// A bundle of one record and `FILLER_ENTRIES` entries of `MAX_RECORD_LEN` spaces (no record:
/// skipped), every entry listed in the manifest with its SHA-256. The filler is deflated
/// once and copied raw.
fn bomb(path: &Path, record: &str) {
    let filler = vec![b' '; MAX_RECORD_LEN];
    let deflated = SimpleFileOptions::default().compression_method(CompressionMethod::Deflated);
    let stored = SimpleFileOptions::default().compression_method(CompressionMethod::Stored);
    let mut seed = ZipWriter::new(Cursor::new(Vec::new()));
    seed.start_file("records/0-1", deflated).unwrap();
    seed.write_all(&filler).unwrap();
    let mut seed = ZipArchive::new(Cursor::new(seed.finish().unwrap().into_inner())).unwrap();

    let mut zip = ZipWriter::new(std::fs::File::create(path).unwrap());
    let mut hashes = serde_json::Map::new();
    zip.start_file("records/0-0", stored).unwrap();
    zip.write_all(record.as_bytes()).unwrap();
    hashes.insert("records/0-0".into(), hex(&Sha256::digest(record)).into());
    let filler_hash = hex(&Sha256::digest(&filler));
    for offset in 1..=FILLER_ENTRIES {
        let name = format!("records/0-{offset}");
        zip.raw_copy_file_rename(seed.by_index(0).unwrap(), &name)
            .unwrap();
        hashes.insert(name, filler_hash.clone().into());
    }
    let manifest = serde_json::json!({
        "topic": "__confluent.support.metrics",
        "clusterId": null,
        "partitions": [{"partition": 0, "fromOffset": 0, "toOffset": FILLER_ENTRIES + 1}],
        "recordCount": FILLER_ENTRIES + 1,
        "skipped": 0,
        "createdAt": "2026-12-02T00:00:00Z",
        "toolVersion": "0",
        "sha256": hashes,
    });
    zip.start_file("manifest.json", deflated).unwrap();
    zip.write_all(manifest.to_string().as_bytes()).unwrap();
    zip.finish().unwrap();
}

#[test]
fn a_bundle_that_inflates_past_the_memory_limit_imports_within_it() {
    let dir = scratch_dir("import-bomb");
    let bundle = dir.join("bomb.zip");
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    bomb(&bundle, &anon(&token(1), now, "3.7.0"));
    let db = sqlite(&dir);
    // The database first, outside the limit: the import alone is measured.
    assert_eq!(stored(&db), 0);
    let out = Command::new("bash")
        .arg("-c")
        .arg(format!(
            "ulimit -v {ADDRESS_SPACE_KIB} && exec \"$0\" import --database \"$1\" \"$2\""
        ))
        .arg(BIN.as_str())
        .arg(&db)
        .arg(&bundle)
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(out.status.code(), Some(0), "{text}");
    assert!(
        text.contains(&format!(
            "1 records, 1 new, 0 already stored, {FILLER_ENTRIES} entries not support-metrics records (skipped)"
        )),
        "{text}"
    );
    assert_eq!(stored(&db), 1);
}
