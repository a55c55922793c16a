//! Hand-written cases of `Properties.load` behaviour. `tests/java_properties.rs` checks the
//! same parser against a real JVM on a generated corpus.

use super::*;
extern crate std;
use std::string::{String, ToString};
use std::vec::Vec;

type Events = Vec<(String, String, u32)>;

fn collect<const N: usize>(chunks: &[&[u8]]) -> Result<Events, ParseError> {
    let mut parser = PropertiesParser::<N>::new();
    let mut events = Vec::new();
    for chunk in chunks {
        parser.feed(chunk, |p| {
            events.push((p.key.to_string(), p.value.to_string(), p.line))
        })?;
    }
    if let Some(p) = parser.finish()? {
        events.push((p.key.to_string(), p.value.to_string(), p.line));
    }
    Ok(events)
}

/// Parses in one chunk, at every two-chunk split, and byte by byte; all must agree.
#[track_caller]
fn parse(input: &[u8]) -> Result<Events, ParseError> {
    let whole = collect::<256>(&[input]);
    for cut in 0..=input.len() {
        assert_eq!(
            collect::<256>(&[&input[..cut], &input[cut..]]),
            whole,
            "split at {cut}"
        );
    }
    let bytes: Vec<&[u8]> = input.chunks(1).collect();
    assert_eq!(collect::<256>(&bytes), whole, "byte by byte");
    whole
}

#[track_caller]
fn check(input: &str, want: &[(&str, &str, u32)]) {
    check_bytes(input.as_bytes(), want)
}

#[track_caller]
fn check_bytes(input: &[u8], want: &[(&str, &str, u32)]) {
    let got = parse(input).unwrap_or_else(|e| panic!("{input:?}: {e}"));
    let want: Events = want
        .iter()
        .map(|(k, v, l)| (k.to_string(), v.to_string(), *l))
        .collect();
    assert_eq!(got, want, "input {:?}", String::from_utf8_lossy(input));
}

#[test]
fn separators() {
    check("a=b", &[("a", "b", 1)]);
    check("a:b", &[("a", "b", 1)]);
    check("a b", &[("a", "b", 1)]);
    check("a\tb", &[("a", "b", 1)]);
    check("a\u{c}b", &[("a", "b", 1)]);
    check("a = b", &[("a", "b", 1)]);
    check("a  =  : b", &[("a", ": b", 1)]);
    check("a==b", &[("a", "=b", 1)]);
    check("a", &[("a", "", 1)]);
    check("a=", &[("a", "", 1)]);
    check("=b", &[("", "b", 1)]);
    check(":", &[("", "", 1)]);
    check("  \t a=1", &[("a", "1", 1)]);
}

#[test]
fn trailing_whitespace_of_values_is_kept() {
    check("a = b  \t", &[("a", "b  \t", 1)]);
    check("a=\\  b", &[("a", "  b", 1)]);
}

#[test]
fn comments_only_at_line_start() {
    check("# c\n! c\n  # indented\n\t!x=1\n", &[]);
    check("a=#b!c", &[("a", "#b!c", 1)]);
    check("\\#k=1", &[("#k", "1", 1)]);
    check("#no terminator", &[]);
}

#[test]
fn escapes() {
    check("a=\\t\\n\\r\\f\\q\\\\", &[("a", "\t\n\r\u{c}q\\", 1)]);
    check("a\\=b=c", &[("a=b", "c", 1)]);
    check("a\\:b:c", &[("a:b", "c", 1)]);
    check("a\\ b c", &[("a b", "c", 1)]);
    check("a=\\u0041\\u00e9\\u00E9", &[("a", "Aéé", 1)]);
    check("\\u0041=\\u20AC", &[("A", "€", 1)]);
}

#[test]
fn surrogates() {
    check("a=\\uD83D\\uDE00", &[("a", "😀", 1)]);
    check("a=\\uD83D", &[("a", "\u{FFFD}", 1)]);
    check("a=\\uDE00x", &[("a", "\u{FFFD}x", 1)]);
    check("a=\\uD83Dx", &[("a", "\u{FFFD}x", 1)]);
    check("a=\\uD83D\\uD83D\\uDE00", &[("a", "\u{FFFD}😀", 1)]);
}

#[test]
fn malformed_unicode_escape_names_the_line() {
    for (input, line) in [
        ("a=\\u00", 1),
        ("a=\\u00G0", 1),
        ("x=1\ny=\\u12\n", 2),
        ("x=1\n\n\\u=3", 3),
        ("k\\u00=1", 1),
        ("a=1\\\n\\uZZZZ\nb=2", 1),
    ] {
        assert_eq!(
            parse(input.as_bytes()),
            Err(ParseError::MalformedUnicodeEscape { line }),
            "{input:?}"
        );
    }
}

#[test]
fn continuations() {
    check("a=b\\\n   c", &[("a", "bc", 1)]);
    check("a=b\\\r\n \tc", &[("a", "bc", 1)]);
    check("a=b\\\r c", &[("a", "bc", 1)]);
    check("a=b\\\n\\\n  c\nd=e", &[("a", "bc", 1), ("d", "e", 4)]);
    check("a=b\\\n#c\n", &[("a", "b#c", 1)]);
    check("a=b\\\n\nc=d", &[("a", "b", 1), ("c", "d", 3)]);
    check("a=1\\\\\nb=2", &[("a", "1\\", 1), ("b", "2", 2)]);
    check("a=1\\\\\\\nb=2", &[("a", "1\\b=2", 1)]);
    check("a=b\\", &[("a", "b", 1)]);
    check("a=b\\\\", &[("a", "b\\", 1)]);
    check("a=b\\\n", &[("a", "b", 1)]);
}

/// Java's EOF handling keeps an empty logical line only when the input ends right after the
/// continuation's line terminator.
/// A continuation's backslash leaves the line plain (the fast path does not mark it for
/// decoding); every other backslash next to it still counts. `check` also splits each input
/// at every position, so the backslash lands at chunk ends too.
#[test]
fn continuation_backslashes_next_to_escapes() {
    check("k=x\\\nu00e9\n", &[("k", "xu00e9", 1)]);
    check("k=x\\u00e9\n", &[("k", "x\u{e9}", 1)]);
    check("k=x\\\\\ny=1\n", &[("k", "x\\", 1), ("y", "1", 2)]);
    check("k=a\\\n  \\u00e9b\\\n  c\n", &[("k", "a\u{e9}bc", 1)]);
    check("k=a\\\n\\\\\nz=1", &[("k", "a\\", 1), ("z", "1", 3)]);
    check("k=x\\\r\n  y\r\n", &[("k", "xy", 1)]);
    // ISO-8859-1 before the continuation still needs decoding.
    check_bytes(b"k=\xe9\\\nx\n", &[("k", "\u{e9}x", 1)]);
}

#[test]
fn empty_continued_line_at_end_of_input() {
    check("\\", &[("", "", 1)]);
    check("\\\n", &[("", "", 1)]);
    check("\\\r", &[("", "", 1)]);
    check("\\\r\n", &[]);
    check("\\\n  ", &[]);
    check("\\\n#c=1\nd=2", &[("d", "2", 3)]);
    check("\\\n\n", &[]);
}

#[test]
fn line_ends_and_numbers() {
    check(
        "\n\na=1\r\nb=2\rc=3\\\nd\ne=4\r\n\r\n",
        &[("a", "1", 3), ("b", "2", 4), ("c", "3d", 5), ("e", "4", 7)],
    );
    check("\r\n\r\n\ra=1", &[("a", "1", 4)]);
}

#[test]
fn iso_8859_1() {
    check_bytes(b"k=\xe9\xff\x80", &[("k", "éÿ\u{80}", 1)]);
    check_bytes(b"\xe9=1", &[("é", "1", 1)]);
}

#[test]
fn duplicates_are_all_reported_in_order() {
    check(
        "a=b\nb=c\na=d",
        &[("a", "b", 1), ("b", "c", 2), ("a", "d", 3)],
    );
}

#[test]
fn capacity_is_an_error_not_a_truncation() {
    assert_eq!(
        collect::<4>(&[b"abcd"]),
        Ok(std::vec![("abcd".into(), "".into(), 1)])
    );
    assert_eq!(
        collect::<4>(&[b"a=1\nabcde=1"]),
        Err(ParseError::LineTooLong {
            line: 2,
            capacity: 4
        })
    );
    // Raw fits (3 bytes) but decoded UTF-8 does not (6 bytes).
    assert_eq!(
        collect::<4>(&[b"\xe9\xe9\xe9"]),
        Err(ParseError::LineTooLong {
            line: 1,
            capacity: 4
        })
    );
}

#[test]
fn errors_are_sticky_and_finish_resets() {
    let mut parser = PropertiesParser::<64>::new();
    let mut input: &[u8] = b"a=\\u0\nb=1\n";
    let err = parser.next(&mut input).unwrap_err();
    assert_eq!(parser.next(&mut input).unwrap_err(), err);
    assert_eq!(parser.finish().unwrap_err(), err);

    let mut parser = PropertiesParser::<64>::new();
    let mut input: &[u8] = b"\n\na=1";
    assert_eq!(parser.next(&mut input).unwrap(), None);
    assert_eq!(parser.finish().unwrap().map(|p| p.line), Some(3));
    let mut input: &[u8] = b"b=2";
    assert_eq!(parser.next(&mut input).unwrap(), None);
    let p = parser.finish().unwrap().unwrap();
    assert_eq!((p.key, p.value, p.line), ("b", "2", 1));
    assert_eq!(parser.finish().unwrap(), None);
}

/// Every input over a small alphabet of tricky bytes, up to length 5: one chunk and any
/// chunking agree, and nothing panics.
#[test]
fn exhaustive_small_inputs_chunk_independent() {
    const ALPHABET: &[u8] = b"\\\r\n =#u0a";
    let mut buf = Vec::new();
    for len in 0..=5u32 {
        for mut n in 0..(ALPHABET.len() as u32).pow(len) {
            buf.clear();
            for _ in 0..len {
                buf.push(ALPHABET[(n % ALPHABET.len() as u32) as usize]);
                n /= ALPHABET.len() as u32;
            }
            let whole = collect::<64>(&[&buf]);
            let bytes: Vec<&[u8]> = buf.chunks(1).collect();
            assert_eq!(
                collect::<64>(&bytes),
                whole,
                "{:?}",
                String::from_utf8_lossy(&buf)
            );
        }
    }
}
