//! Splitting strings at ASCII bytes. `str`'s own methods with `char` patterns bring in its
//! searcher machinery, about 1 KiB of code on a Cortex-M; a byte search is a few instructions.
//! An ASCII byte is always a `char` boundary, so the halves are valid `str`s.

/// Splits around the byte at `i`, dropping it.
pub(crate) fn split_around(s: &str, i: usize) -> (&str, &str) {
    (
        s.get(..i).unwrap_or_default(),
        s.get(i + 1..).unwrap_or_default(),
    )
}

/// `s.split_once(b)` for an ASCII `b`.
pub(crate) fn split_once(s: &str, b: u8) -> Option<(&str, &str)> {
    let i = s.bytes().position(|c| c == b)?;
    Some(split_around(s, i))
}

/// `s.rsplit_once(b)` for an ASCII `b`.
pub(crate) fn rsplit_once(s: &str, b: u8) -> Option<(&str, &str)> {
    let i = s.bytes().rposition(|c| c == b)?;
    Some(split_around(s, i))
}

/// `s.split(b)` for an ASCII `b`.
pub(crate) fn split(s: &str, b: u8) -> impl Iterator<Item = &str> {
    let mut rest = Some(s);
    core::iter::from_fn(move || {
        let r = rest?;
        match split_once(r, b) {
            Some((piece, tail)) => {
                rest = Some(tail);
                Some(piece)
            }
            None => {
                rest = None;
                Some(r)
            }
        }
    })
}

/// Whether `s` holds any of `bytes`.
pub(crate) fn contains_any(s: &str, bytes: &[u8]) -> bool {
    s.bytes().any(|c| bytes.contains(&c))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn agree_with_str() {
        let samples = [
            "",
            ",",
            "a,b",
            ",a,",
            "a,,b",
            "é,ü:x",
            "host:9092,h2:1",
            "::",
            "abc",
        ];
        for s in samples {
            for b in [b',', b':'] {
                let c = char::from(b);
                assert_eq!(split_once(s, b), s.split_once(c), "{s:?} {c}");
                assert_eq!(rsplit_once(s, b), s.rsplit_once(c), "{s:?} {c}");
                assert!(split(s, b).eq(s.split(c)), "{s:?} {c}");
                assert_eq!(contains_any(s, &[b]), s.contains(c), "{s:?} {c}");
            }
        }
    }
}
