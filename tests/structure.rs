//! The layout ARCHITECTURE.md promises, checked on the source: the reporter's modules import
//! in one direction, its state machine stays one readable file, and the drive loop leaves
//! records to core.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

fn source(path: &str) -> String {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    std::fs::read_to_string(root.join(path)).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// Sibling modules `file` names as `super::<sibling>::`.
fn siblings_used(text: &str, modules: &BTreeSet<String>) -> BTreeSet<String> {
    let mut used = BTreeSet::new();
    for (i, _) in text.match_indices("super::") {
        let rest = &text[i + "super::".len()..];
        let name: String = rest
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect();
        if rest[name.len()..].starts_with("::") && modules.contains(&name) {
            used.insert(name);
        }
    }
    used
}

#[test]
fn reporter_modules_import_without_cycles() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../core/src/reporter");
    let modules: BTreeSet<String> = std::fs::read_dir(&dir)
        .expect("core/src/reporter")
        .filter_map(|e| {
            let name = e.ok()?.file_name().into_string().ok()?;
            let stem = name.strip_suffix(".rs")?.to_owned();
            (stem != "mod" && stem != "tests").then_some(stem)
        })
        .collect();
    assert!(modules.contains("vocab") && modules.contains("delivery"));
    let graph: BTreeMap<String, BTreeSet<String>> = modules
        .iter()
        .map(|m| {
            let text = source(&format!("core/src/reporter/{m}.rs"));
            (m.clone(), siblings_used(&text, &modules))
        })
        .collect();
    assert!(graph["vocab"].is_empty(), "vocab.rs is the leaf: {graph:?}");
    // No cycle of any length: repeatedly remove modules that import nothing left.
    let mut left = graph.clone();
    while let Some(leaf) = left
        .iter()
        .find(|(_, deps)| deps.iter().all(|d| !left.contains_key(d)))
        .map(|(m, _)| m.clone())
    {
        left.remove(&leaf);
    }
    assert!(
        left.is_empty(),
        "reporter modules import in a cycle: {left:?}"
    );
}

#[test]
fn the_state_machine_stays_one_readable_file() {
    let lines = source("core/src/reporter/mod.rs").lines().count();
    assert!(lines < 400, "core/src/reporter/mod.rs has {lines} lines");
    assert!(!source("core/src/reporter/mod.rs").contains("placeholder"));
}

#[test]
fn the_drive_loop_leaves_records_to_core() {
    let driver = source("shells/linux/src/driver.rs");
    assert!(
        !driver.contains("serde_json") && !driver.contains("brokerProcessUUID"),
        "the drive loop parses a record"
    );
}
