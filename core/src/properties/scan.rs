//! Finding bytes fast in safe code: a machine word at a time ("SWAR": eight bytes on a PC,
//! four on a Cortex-M), portable, and needing neither `unsafe` nor SIMD intrinsics.

/// Index of the first `\r` or `\n` in `s`, or its length.
pub(super) fn find_eol(s: &[u8]) -> usize {
    // Both are below 0x0E, and bytes that low are rare in text (a tab is one): find those,
    // with a third of the work of two exact matches, and skip the ones that are not ends.
    let mut from = 0;
    loop {
        let rest = s.get(from..).unwrap_or_default();
        let at = from + search(rest, |word| swar::below(word, 0x0E), |b| b < 0x0E);
        match s.get(at) {
            Some(b'\r' | b'\n') | None => return at,
            Some(_) => from = at + 1,
        }
    }
}

/// Index of the first byte that is a line end, a backslash, non-ASCII, or another control byte
/// below 0x0E (rare; the caller checks which it found).
pub(super) fn find_eol_or_special(s: &[u8]) -> usize {
    search(
        s,
        |word| {
            swar::below(word, 0x0E)
                | swar::zero_bytes(word ^ swar::splat(b'\\'))
                | (word & swar::HIGH)
        },
        |b| b < 0x0E || b == b'\\' || b >= 0x80,
    )
}

/// Index of the first byte that may end a key: `=`, `:`, `\`, a blank, or a control byte
/// (rare; the caller checks which it found).
pub(super) fn find_key_stop(s: &[u8]) -> usize {
    search(
        s,
        |word| {
            swar::below(word, b' ' + 1)
                | swar::zero_bytes(word ^ swar::splat(b'='))
                | swar::zero_bytes(word ^ swar::splat(b':'))
                | swar::zero_bytes(word ^ swar::splat(b'\\'))
        },
        |b| b <= b' ' || b == b'=' || b == b':' || b == b'\\',
    )
}

/// Index of the first backslash or non-ASCII byte in `s`, or its length: the bytes before it
/// decode to themselves.
pub(super) fn find_escape_or_high(s: &[u8]) -> usize {
    search(
        s,
        |word| swar::zero_bytes(word ^ swar::splat(b'\\')) | (word & swar::HIGH),
        |b| b == b'\\' || b >= 0x80,
    )
}

/// Index of the first byte of `s` that `byte` accepts, or its length; `mask` says the same of
/// a whole word (see [`first_match`]). Without the `fast-parse` feature, byte by byte: on a
/// microcontroller the four word-at-a-time copies cost more flash than they save time.
#[inline(always)]
fn search(s: &[u8], mask: impl Fn(Word) -> Word, byte: impl Fn(u8) -> bool) -> usize {
    if cfg!(feature = "fast-parse") {
        first_match(s, mask)
    } else {
        s.iter().position(|&b| byte(b)).unwrap_or(s.len())
    }
}

/// Scans `s` eight bytes at a time; `mask` sets the high bit of every byte that matches (the
/// lowest one exactly; bits above it may be spurious).
#[inline(always)]
fn first_match(s: &[u8], mask: impl Fn(Word) -> Word) -> usize {
    let lowest = |m: Word| (m.trailing_zeros() / 8) as usize;
    // Two words a round: one branch for both.
    let mut rest = s;
    while let Some((pair, tail)) = rest.split_first_chunk::<{ 2 * W }>() {
        let (lo, hi) = pair.split_at(W);
        let (lo, hi) = (mask(word(lo)), mask(word(hi)));
        if lo | hi != 0 {
            // Both halves as one number: no branch on which half matched.
            let both = (hi as Pair) << Word::BITS | lo as Pair;
            return s.len() - rest.len() + (both.trailing_zeros() / 8) as usize;
        }
        rest = tail;
    }
    if let Some((w, tail)) = rest.split_first_chunk::<W>() {
        let m = mask(Word::from_le_bytes(*w));
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
    let m = if let Some(last) = s.last_chunk::<W>() {
        // Re-read the last word, ignoring the bytes already checked.
        mask(Word::from_le_bytes(*last)) >> (8 * (W - tail))
    } else {
        // Shorter than a word: assemble it (a `copy_from_slice` would call `memcpy`).
        let w = s
            .iter()
            .rev()
            .fold(0, |w: Word, &b| (w << 8) | Word::from(b));
        mask(w) & swar::low_bytes(tail)
    };
    at + lowest(m).min(tail)
}

/// The machine word: eight bytes at a time on a PC, four on a Cortex-M.
type Word = usize;
/// Bytes in a word.
const W: usize = core::mem::size_of::<Word>();
/// Two words side by side.
#[cfg(target_pointer_width = "64")]
type Pair = u128;
#[cfg(not(target_pointer_width = "64"))]
type Pair = u64;

/// The first `W` bytes of `s` (which has exactly that many) as a little-endian word.
#[inline(always)]
fn word(s: &[u8]) -> Word {
    s.first_chunk::<W>().map_or(0, |w| Word::from_le_bytes(*w))
}

/// Word-at-a-time byte search in safe code.
mod swar {
    use super::Word;

    const ONES: Word = Word::MAX / 0xFF;
    pub(super) const HIGH: Word = ONES * 0x80;

    pub(super) const fn splat(b: u8) -> Word {
        ONES * b as Word
    }

    /// High bit set in each byte of `v` below `n` (at most 0x80): exact for the lowest one.
    #[inline(always)]
    pub(super) const fn below(v: Word, n: u8) -> Word {
        v.wrapping_sub(splat(n)) & !v & HIGH
    }

    /// High bit set in each zero byte of `v`: exact for the lowest one, and for the others
    /// unless a lower byte was zero.
    #[inline(always)]
    pub(super) const fn zero_bytes(v: Word) -> Word {
        v.wrapping_sub(ONES) & !v & HIGH
    }

    /// High bits of the `n` (less than a word) low bytes.
    #[inline(always)]
    pub(super) const fn low_bytes(n: usize) -> Word {
        HIGH & ((1 << (8 * n)) - 1)
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
