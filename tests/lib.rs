//! Shared helpers for the integration tests (and for the agent's CLI tests): a seeded PRNG,
//! the Java reference helper, and a scratch directory.

use core::sync::atomic::{AtomicU32, Ordering};
use std::path::{Path, PathBuf};
use std::process::Command;

pub mod propgen;
pub mod secured;
#[cfg(feature = "servers")]
pub mod servers;
pub mod systemd;

/// The core's seeded PRNG (SplitMix64), reused for test data.
pub use support_metrics_core::rand::Rng;

/// Uniform-enough in `0..n` (n > 0) for test data.
pub fn below(rng: &mut Rng, n: usize) -> usize {
    (rng.next_u64() % n as u64) as usize
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

/// Checks what `NAME generate-docs DIR` wrote (for packaging): a roff man page for `name` and
/// for each of `subcommands` (`name-sub.1`), and the bash, zsh and fish completions. Returns
/// the completions' texts.
pub fn generated_docs(dir: &Path, name: &str, subcommands: &[&str]) -> Vec<String> {
    let pages =
        std::iter::once(name.to_owned()).chain(subcommands.iter().map(|s| format!("{name}-{s}")));
    for page in pages {
        let path = dir.join(format!("man/man1/{page}.1"));
        let text =
            std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        assert!(
            text.starts_with(".ie \\n(.g .ds Aq") && text.contains(".TH"),
            "{}",
            path.display()
        );
    }
    [
        format!("{name}.bash"),
        format!("_{name}"),
        format!("{name}.fish"),
    ]
    .iter()
    .map(|file| {
        let path = dir.join("completions").join(file);
        std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
    })
    .collect()
}

/// What `java.util.Properties.load` made of one file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum JavaResult {
    /// The `(key, value)` pairs, keys sorted, lone surrogates shown as U+FFFD (so two Java
    /// keys may print alike).
    Ok(Vec<(String, String)>),
    /// The exception message.
    Err(String),
}

impl JavaResult {
    /// Whether `ours` (a map with last-wins semantics) is what Java read. Keys that collide
    /// only because lone surrogates became U+FFFD (the documented difference) may hold any of
    /// Java's values for them; everything else must match exactly.
    pub fn matches(&self, ours: &std::collections::BTreeMap<String, String>) -> bool {
        let JavaResult::Ok(pairs) = self else {
            return false;
        };
        let mut java: std::collections::BTreeMap<&str, Vec<&str>> = Default::default();
        for (k, v) in pairs {
            java.entry(k).or_default().push(v);
        }
        java.len() == ours.len()
            && java.iter().all(|(k, values)| {
                ours.get(*k).is_some_and(|v| match values.as_slice() {
                    [only] => only == v,
                    many => k.contains('\u{FFFD}') && many.contains(&v.as_str()),
                })
            })
    }
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
            if let Some(pairs) = v.get("ok").and_then(|m| m.as_array()) {
                let text = |v: &serde_json::Value| v.as_str().unwrap_or_default().to_owned();
                JavaResult::Ok(pairs.iter().map(|p| (text(&p[0]), text(&p[1]))).collect())
            } else {
                JavaResult::Err(v["err"].as_str().unwrap_or_default().to_owned())
            }
        })
        .collect();
    assert_eq!(results.len(), files.len(), "one result per file");
    results
}

#[cfg(test)]
mod tests {
    use super::JavaResult;
    use std::collections::BTreeMap;

    fn ours(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    fn java(pairs: &[(&str, &str)]) -> JavaResult {
        JavaResult::Ok(
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        )
    }

    #[test]
    fn only_surrogate_collisions_are_relaxed() {
        assert!(java(&[("a", "1")]).matches(&ours(&[("a", "1")])));
        assert!(!java(&[("a", "1")]).matches(&ours(&[("a", "2")])));
        assert!(!java(&[("a", "1")]).matches(&ours(&[("a", "1"), ("b", "1")])));
        assert!(!java(&[("a", "1"), ("b", "1")]).matches(&ours(&[("a", "1")])));
        let collided = java(&[("\u{FFFD}", "x"), ("\u{FFFD}", "y")]);
        assert!(collided.matches(&ours(&[("\u{FFFD}", "y")])));
        assert!(!collided.matches(&ours(&[("\u{FFFD}", "z")])));
        assert!(!java(&[("a", "x"), ("a", "y")]).matches(&ours(&[("a", "y")])));
        assert!(!JavaResult::Err("Malformed".into()).matches(&ours(&[])));
    }
}
