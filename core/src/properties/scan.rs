//! Finding bytes fast in safe code: eight bytes at a time in a `u64` ("SWAR"), which is
//! portable to a microcontroller and needs neither `unsafe` nor SIMD intrinsics.

/// Index of the first `\r` or `\n` in `s`, or its length.
pub(super) fn find_eol(s: &[u8]) -> usize {
    // Both are below 0x0E, and bytes that low are rare in text (a tab is one): find those,
    // with a third of the work of two exact matches, and skip the ones that are not ends.
    let mut from = 0;
    loop {
        let rest = s.get(from..).unwrap_or_default();
        let at = from + first_match(rest, |word| swar::below(word, 0x0E));
        match s.get(at) {
            Some(b'\r' | b'\n') | None => return at,
            Some(_) => from = at + 1,
        }
    }
}

/// Index of the first byte that is a line end, a backslash, non-ASCII, or another control byte
/// below 0x0E (rare; the caller checks which it found).
pub(super) fn find_eol_or_special(s: &[u8]) -> usize {
    first_match(s, |word| {
        swar::below(word, 0x0E) | swar::zero_bytes(word ^ swar::splat(b'\\')) | (word & swar::HIGH)
    })
}

/// Index of the first byte that may end a key: `=`, `:`, `\`, a blank, or a control byte
/// (rare; the caller checks which it found).
pub(super) fn find_key_stop(s: &[u8]) -> usize {
    first_match(s, |word| {
        swar::below(word, b' ' + 1)
            | swar::zero_bytes(word ^ swar::splat(b'='))
            | swar::zero_bytes(word ^ swar::splat(b':'))
            | swar::zero_bytes(word ^ swar::splat(b'\\'))
    })
}

/// Index of the first backslash or non-ASCII byte in `s`, or its length: the bytes before it
/// decode to themselves.
pub(super) fn find_escape_or_high(s: &[u8]) -> usize {
    first_match(s, |word| {
        swar::zero_bytes(word ^ swar::splat(b'\\')) | (word & swar::HIGH)
    })
}

/// Scans `s` eight bytes at a time; `mask` sets the high bit of every byte that matches (the
/// lowest one exactly; bits above it may be spurious).
#[inline(always)]
fn first_match(s: &[u8], mask: impl Fn(u64) -> u64) -> usize {
    let lowest = |m: u64| (m.trailing_zeros() / 8) as usize;
    // Sixteen bytes a round: one branch for two words.
    let mut rest = s;
    while let Some((block, tail)) = rest.split_first_chunk::<16>() {
        let both = u128::from_le_bytes(*block);
        let (lo, hi) = (mask(both as u64), mask((both >> 64) as u64));
        if lo | hi != 0 {
            // Both halves as one number: no branch on which half matched.
            let both = u128::from(hi) << 64 | u128::from(lo);
            return s.len() - rest.len() + (both.trailing_zeros() / 8) as usize;
        }
        rest = tail;
    }
    if let Some((word, tail)) = rest.split_first_chunk::<8>() {
        let m = mask(u64::from_le_bytes(*word));
        if m != 0 {
            return s.len() - rest.len() + lowest(m);
        }
        rest = tail;
    }
    let at = s.len() - rest.len();
    let tail = rest.len();
    if tail == 0 {
        return at;
    }
    let m = if let Some(last) = s.last_chunk::<8>() {
        // Re-read the last eight bytes, ignoring the ones already checked.
        mask(u64::from_le_bytes(*last)) >> (8 * (8 - tail))
    } else {
        // Shorter than a word: assemble it (a `copy_from_slice` would call `memcpy`).
        let word = s.iter().rev().fold(0u64, |w, &b| (w << 8) | u64::from(b));
        mask(word) & swar::low_bytes(tail)
    };
    at + lowest(m).min(tail)
}

/// Word-at-a-time byte search in safe code.
mod swar {
    const ONES: u64 = 0x0101_0101_0101_0101;
    pub(super) const HIGH: u64 = 0x8080_8080_8080_8080;

    pub(super) const fn splat(b: u8) -> u64 {
        ONES * b as u64
    }

    /// High bit set in each byte of `v` below `n` (at most 0x80): exact for the lowest one.
    #[inline(always)]
    pub(super) const fn below(v: u64, n: u8) -> u64 {
        v.wrapping_sub(splat(n)) & !v & HIGH
    }

    /// High bit set in each zero byte of `v`: exact for the lowest one, and for the others
    /// unless a lower byte was zero.
    #[inline(always)]
    pub(super) const fn zero_bytes(v: u64) -> u64 {
        v.wrapping_sub(ONES) & !v & HIGH
    }

    /// High bits of the `n` (< 8) low bytes.
    #[inline(always)]
    pub(super) const fn low_bytes(n: usize) -> u64 {
        HIGH & ((1u64 << (8 * n)) - 1)
    }
}

/// Whether a line that had `before` (an unescaped backslash pending) ends in an unescaped
/// backslash after `run`, as the byte-wise rule `backslash = b == '\\' && !backslash` says.
pub(super) fn ends_in_backslash(run: &[u8], before: bool) -> bool {
    let trailing = run.iter().rev().take_while(|&&b| b == b'\\').count();
    let odd = trailing % 2 == 1;
    if trailing == run.len() {
        before != odd
    } else {
        odd
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every search against its byte-at-a-time definition: each length up to 40, the target
    /// byte at each position, over fillers that include near misses and high bytes.
    #[test]
    fn searches_match_their_definitions() {
        type Search = (fn(&[u8]) -> usize, fn(u8) -> bool);
        let searches: [(&str, Search); 4] = [
            ("find_eol", (find_eol, |b| b == b'\r' || b == b'\n')),
            (
                "find_eol_or_special",
                (find_eol_or_special, |b| b < 0x0E || b == b'\\' || b >= 0x80),
            ),
            (
                "find_key_stop",
                (find_key_stop, |b| {
                    b <= b' ' || b == b'=' || b == b':' || b == b'\\'
                }),
            ),
            (
                "find_escape_or_high",
                (find_escape_or_high, |b| b == b'\\' || b >= 0x80),
            ),
        ];
        let fillers = [
            b'a', b'\t', 0x0c, b'[', b'<', 0x7f, 0x8a, b'\\', 0x0d, b'=', b' ',
        ];
        for (name, (search, matches)) in searches {
            for filler in fillers {
                for len in 0..34 {
                    for target in 0..=255u8 {
                        for at in 0..=len {
                            let mut s = [filler; 40];
                            if at < len {
                                s[at] = target;
                            }
                            let s = &s[..len];
                            let want = s.iter().position(|&b| matches(b)).unwrap_or(len);
                            // `find_eol` skips the near misses below 0x0E itself.
                            assert_eq!(search(s), want, "{name} {s:?}");
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn ends_in_backslash_follows_the_bytewise_rule() {
        for len in 0..8u32 {
            for bits in 0..(1u32 << len) {
                let run: heapless::Vec<u8, 8> = (0..len)
                    .map(|i| if bits >> i & 1 == 1 { b'\\' } else { b'x' })
                    .collect();
                for before in [false, true] {
                    let bytewise = run.iter().fold(before, |bs, &b| b == b'\\' && !bs);
                    if !run.is_empty() {
                        assert_eq!(
                            ends_in_backslash(&run, before),
                            bytewise,
                            "{run:?} {before}"
                        );
                    }
                }
            }
        }
    }
}
