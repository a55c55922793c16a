//! Differential test: core's push parser against `java.util.Properties.load(InputStream)` in
//! a real JVM, on hand-picked edge cases, a realistic broker file and a generated corpus. Our
//! side also parses in random chunk sizes, so chunk boundaries are covered at the same time.

use std::collections::BTreeMap;
use std::path::PathBuf;

use support_metrics_core::properties::{ParseError, PropertiesParser, DEFAULT_CAPACITY};
use support_metrics_tests::{below, java_load_all, propgen, scratch_dir, JavaResult, Rng};

fn ours(bytes: &[u8], chunk: usize) -> Result<BTreeMap<String, String>, ParseError> {
    let mut parser = Box::new(PropertiesParser::<DEFAULT_CAPACITY>::new());
    let mut map = BTreeMap::new();
    for piece in bytes.chunks(chunk.max(1)) {
        parser.feed(piece, |p| {
            map.insert(p.key.to_owned(), p.value.to_owned());
        })?;
    }
    if let Some(p) = parser.finish()? {
        map.insert(p.key.to_owned(), p.value.to_owned());
    }
    Ok(map)
}

/// Writes the inputs, runs Java once, compares; returns a description of each disagreement.
fn disagreements(inputs: &[Vec<u8>], rng: &mut Rng) -> Vec<String> {
    let dir = scratch_dir("java-diff");
    let files: Vec<PathBuf> = inputs
        .iter()
        .enumerate()
        .map(|(i, bytes)| {
            let path = dir.join(format!("{i}.properties"));
            std::fs::write(&path, bytes).expect("write case");
            path
        })
        .collect();
    let java = java_load_all(&files);
    let mut problems = Vec::new();
    for (bytes, java) in inputs.iter().zip(java) {
        let chunk = 1 + below(rng, bytes.len().max(1));
        let whole = ours(bytes, usize::MAX);
        let chunked = ours(bytes, chunk);
        let agree = match (&whole, &java) {
            (Ok(a), java @ JavaResult::Ok(_)) => java.matches(a),
            (Err(ParseError::MalformedUnicodeEscape { .. }), JavaResult::Err(m)) => {
                m == "Malformed \\uxxxx encoding."
            }
            _ => false,
        };
        if !agree || whole != chunked {
            problems.push(format!(
                "input {:?}\n  java:    {java:?}\n  ours:    {whole:?}\n  chunked ({chunk}): {chunked:?}",
                String::from_utf8_lossy(bytes)
            ));
        }
    }
    problems
}

#[track_caller]
fn assert_agree(inputs: &[Vec<u8>], seed: u64) {
    let problems = disagreements(inputs, &mut Rng::new(seed));
    assert!(
        problems.is_empty(),
        "{} of {} inputs disagree with Java (seed {seed}); first ones:\n{}",
        problems.len(),
        inputs.len(),
        problems
            .iter()
            .take(5)
            .cloned()
            .collect::<Vec<_>>()
            .join("\n")
    );
}

const EDGE_CASES: &[&[u8]] = &[
    b"",
    b"a=b",
    b"a:b",
    b"a b",
    b"a\tb",
    b"a\x0cb",
    b"a = b  \t",
    b"a  =  : b",
    b"a==b",
    b"a",
    b"=b",
    b":",
    b"  \t a=1",
    b"a=\\  b",
    b"# c\n! c\n  # indented\n\t!x=1\n",
    b"a=#b!c",
    b"\\#k=1",
    b"#no terminator",
    b"a=\\t\\n\\r\\f\\q\\\\",
    b"a\\=b=c",
    b"a\\ b c",
    b"a=\\u0041\\u00e9\\u00E9",
    b"a=\\uD83D\\uDE00",
    b"a=\\uD83D",
    b"a=\\uDE00x",
    b"a=\\uD83D\\uD83D\\uDE00",
    b"a=\\u00",
    b"a=\\u00G0",
    b"x=1\ny=\\u12\n",
    b"k\\u00=1",
    b"a=b\\\n   c",
    b"a=b\\\r\n \tc",
    b"a=b\\\r c",
    b"a=b\\\n\\\n  c\nd=e",
    b"a=b\\\n#c\n",
    b"a=b\\\n\nc=d",
    b"a=1\\\\\nb=2",
    b"a=1\\\\\\\nb=2",
    b"a=b\\",
    b"a=b\\\\",
    b"a=b\\\n",
    b"\\",
    b"\\\n",
    b"\\\r",
    b"\\\r\n",
    b"\\\n  ",
    b"\\\n#c=1\nd=2",
    b"\\\n\n",
    b"\n\na=1\r\nb=2\rc=3\\\nd\ne=4\r\n\r\n",
    b"k=\xe9\xff\x80",
    b"\xe9=1",
    b"a=b\nb=c\na=d",
    b"a=\\u000a\\u005c",
    b"\x00=\x00",
    b"key\\\r\n\\\r\n\\\r\nvalue",
    b"!\\\nx=1",
    b"#\\\nx=1",
];

#[test]
fn edge_cases_match_java() {
    let mut inputs: Vec<Vec<u8>> = EDGE_CASES.iter().map(|c| c.to_vec()).collect();
    let server = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/data/server.properties"
    ))
    .expect("tests/data/server.properties");
    inputs.push(server);
    assert_agree(&inputs, 1);
}

/// SUPPORT_METRICS_JAVA_CASES (default 3000) files from SUPPORT_METRICS_JAVA_SEED (default
/// fixed), so a deeper run is one environment variable away.
#[test]
fn generated_corpus_matches_java() {
    let env = |name: &str, default: u64| {
        std::env::var(name)
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(default)
    };
    let cases = env("SUPPORT_METRICS_JAVA_CASES", 3000) as usize;
    let seed = env("SUPPORT_METRICS_JAVA_SEED", 0x5eed_0fca_fe00);
    let mut rng = Rng::new(seed);
    let inputs: Vec<Vec<u8>> = (0..cases)
        .map(|_| propgen::properties_file(&mut rng, 60))
        .collect();
    let errors = inputs
        .iter()
        .filter(|b| ours(b, usize::MAX).is_err())
        .count();
    // The corpus must exercise both outcomes, or it tests less than it seems to.
    assert!(
        errors > cases / 50 && errors < cases / 2,
        "{errors} of {cases} inputs fail to parse"
    );
    assert_agree(&inputs, seed);
}
