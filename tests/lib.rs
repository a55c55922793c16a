//! Shared helpers for the integration tests (and for the agent's CLI tests): a seeded PRNG,
//! the Java reference helper, and a scratch directory.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicU32, Ordering};

pub mod propgen;

/// SplitMix64: small, seeded, reproducible.
#[derive(Clone, Debug)]
pub struct Rng(u64);

impl Rng {
    /// A generator for `seed`.
    pub fn new(seed: u64) -> Self {
        Rng(seed)
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` (n > 0).
    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n as u64) as usize
    }
}

/// A fresh, empty directory under the system temp directory, unique to this process.
pub fn scratch_dir(name: &str) -> PathBuf {
    static COUNTER: AtomicU32 = AtomicU32::new(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let dir = std::env::temp_dir()
        .join("support-metrics-tests")
        .join(format!("{name}-{}-{n}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("create scratch dir");
    dir
}

/// What `java.util.Properties.load` made of one file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum JavaResult {
    /// The properties, keys sorted.
    Ok(std::collections::BTreeMap<String, String>),
    /// The exception message.
    Err(String),
}

/// Loads every file with the real JVM (tests/java/PropsDump.java) in one `java` run.
///
/// Panics with a clear message when Java is missing: the differential tests are required.
pub fn java_load_all(files: &[PathBuf]) -> Vec<JavaResult> {
    let helper = Path::new(env!("CARGO_MANIFEST_DIR")).join("java/PropsDump.java");
    let list_dir = scratch_dir("java-list");
    let list = list_dir.join("files.txt");
    let text: Vec<String> = files.iter().map(|f| f.display().to_string()).collect();
    std::fs::write(&list, text.join("\n")).expect("write file list");
    let out = Command::new("java")
        .arg(&helper)
        .arg(&list)
        .output()
        .unwrap_or_else(|e| panic!("cannot run `java` (JDK 11+ is required for these tests): {e}"));
    assert!(
        out.status.success(),
        "java helper failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8(out.stdout).expect("helper prints ASCII");
    let results: Vec<JavaResult> = stdout
        .lines()
        .map(|line| {
            let v: serde_json::Value = serde_json::from_str(line).expect("helper prints JSON");
            if let Some(map) = v.get("ok").and_then(|m| m.as_object()) {
                JavaResult::Ok(
                    map.iter()
                        .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_owned()))
                        .collect(),
                )
            } else {
                JavaResult::Err(v["err"].as_str().unwrap_or_default().to_owned())
            }
        })
        .collect();
    assert_eq!(results.len(), files.len(), "one result per file");
    results
}
