//! `Properties.loadConvert`: escapes and ISO-8859-1 bytes to UTF-8.
//!
//! The output is a `heapless::String` built from whole characters, so handing out `&str` needs
//! no UTF-8 validation. (Writing bytes and validating afterwards was tried: `from_utf8` on
//! non-ASCII text cost more than the decoding.)

use core::ops::Range;

use heapless::String;

use super::scan::find_escape_or_high;

/// Why a key or value could not be decoded.
pub(super) enum DecodeFailure {
    /// `\u` without four hex digits.
    Malformed,
    /// The output buffer is full.
    Full,
}

/// Where a decoded key or value lives.
pub(super) enum Field {
    /// Plain ASCII: the raw bytes are the text, no copy needed.
    Raw,
    /// Decoded into the output buffer at this range.
    Decoded(Range<usize>),
}

impl Field {
    /// Decodes `raw` into `out` from `at` if it needs decoding.
    /// Decodes `raw` onto `out` if it needs decoding.
    pub(super) fn decode<const N: usize>(
        raw: &[u8],
        out: &mut String<N>,
    ) -> Result<Field, DecodeFailure> {
        let plain = find_escape_or_high(raw);
        if plain == raw.len() {
            return Ok(Field::Raw);
        }
        let start = out.len();
        decode(raw, plain, out)?;
        Ok(Field::Decoded(start..out.len()))
    }

    pub(super) fn resolve<'a>(self, raw: &'a [u8], out: &'a str) -> &'a str {
        // Neither fallback is reachable: `Raw` is ASCII (its check is a fast scan), and ranges
        // end on pushed characters.
        match self {
            Field::Raw => core::str::from_utf8(raw).unwrap_or_default(),
            Field::Decoded(range) => out.get(range).unwrap_or_default(),
        }
    }
}

/// Decodes `raw`, whose first `plain` bytes are ASCII without escapes, onto `out`.
fn decode<const N: usize>(
    raw: &[u8],
    plain: usize,
    out: &mut String<N>,
) -> Result<(), DecodeFailure> {
    let (ascii, rest) = raw.split_at(plain);
    push_ascii(ascii, out)?;
    // A high surrogate waiting for its low half; 0 for none (0 is never a surrogate).
    let mut high = 0u16;
    // Byte by byte from the first escape on: escapes come in clusters, and a word-at-a-time
    // scan between two of them costs more than it saves.
    let mut i = 0;
    while let Some(&c) = rest.get(i) {
        if c != b'\\' {
            // ISO-8859-1: the byte is the character.
            i += 1;
            if high != 0 {
                put(char::REPLACEMENT_CHARACTER, out)?;
                high = 0;
            }
            put(char::from(c), out)?;
            continue;
        }
        // The line never ends in an unescaped backslash, so an escape always has its
        // character; stop quietly if that ever fails to hold.
        let Some(&e) = rest.get(i + 1) else {
            break;
        };
        i += 2;
        // `\u` first and apart: a `match` here compiles to a jump table, which predicts badly.
        let unit = if e == b'u' {
            let digits = rest.get(i..i + 4).ok_or(DecodeFailure::Malformed)?;
            i += 4;
            hex4(digits).ok_or(DecodeFailure::Malformed)?
        } else {
            u16::from(ESCAPED[usize::from(e)])
        };
        if high != 0 {
            if (0xDC00..=0xDFFF).contains(&unit) {
                let c = 0x10000 + ((u32::from(high) - 0xD800) << 10) + (u32::from(unit) - 0xDC00);
                put(
                    char::from_u32(c).unwrap_or(char::REPLACEMENT_CHARACTER),
                    out,
                )?;
                high = 0;
                continue;
            }
            put(char::REPLACEMENT_CHARACTER, out)?;
            high = 0;
        }
        if (0xD800..=0xDBFF).contains(&unit) {
            high = unit;
        } else {
            // A lone low surrogate is no `char`: U+FFFD.
            put(
                char::from_u32(u32::from(unit)).unwrap_or(char::REPLACEMENT_CHARACTER),
                out,
            )?;
        }
    }
    if high != 0 {
        put(char::REPLACEMENT_CHARACTER, out)?;
    }
    Ok(())
}

/// Appends bytes known to be ASCII.
fn push_ascii<const N: usize>(ascii: &[u8], out: &mut String<N>) -> Result<(), DecodeFailure> {
    if ascii.len() < 16 {
        // A short prefix is cheaper byte by byte than a validated copy.
        for &b in ascii {
            out.push(char::from(b)).map_err(|_| DecodeFailure::Full)?;
        }
        return Ok(());
    }
    // ASCII, so this never falls back; the check is a fast word-at-a-time scan.
    let ascii = core::str::from_utf8(ascii).unwrap_or_default();
    out.push_str(ascii).map_err(|_| DecodeFailure::Full)
}

/// Appends one character.
#[inline(always)]
fn put<const N: usize>(c: char, out: &mut String<N>) -> Result<(), DecodeFailure> {
    if !cfg!(feature = "fast-parse") {
        return out.push(c).map_err(|_| DecodeFailure::Full);
    }
    // One branch per UTF-8 length, so that each copy has a length known when compiling and
    // becomes plain stores rather than a `memcpy` call.
    let pushed = match u32::from(c) {
        0..0x80 => out.push(c),
        0x80..0x800 => out.push_str(c.encode_utf8(&mut [0; 2])),
        0x800..0x10000 => out.push_str(c.encode_utf8(&mut [0; 3])),
        _ => out.push_str(c.encode_utf8(&mut [0; 4])),
    };
    pushed.map_err(|_| DecodeFailure::Full)
}

/// The value of four hex digits, as `Integer.parseInt(s, 16)` sees them in `loadConvert`.
#[inline]
fn hex4(digits: &[u8]) -> Option<u16> {
    let &[a, b, c, d] = digits else {
        return None;
    };
    let [a, b, c, d] = [a, b, c, d].map(|x| HEX[usize::from(x)]);
    // Invalid digits are 0xFF in the table, so any high nibble set means one was bad.
    if (a | b | c | d) & 0xF0 != 0 {
        return None;
    }
    Some(u16::from(a) << 12 | u16::from(b) << 8 | u16::from(c) << 4 | u16::from(d))
}

/// What `\x` stands for, `u` aside: `\t \r \n \f` are controls, anything else itself.
const ESCAPED: [u8; 256] = {
    let mut table = [0; 256];
    let mut i = 0;
    while i < 256 {
        table[i] = i as u8;
        i += 1;
    }
    table[b't' as usize] = 0x09;
    table[b'r' as usize] = 0x0d;
    table[b'n' as usize] = 0x0a;
    table[b'f' as usize] = 0x0c;
    table
};

const HEX: [u8; 256] = {
    let mut table = [0xFF; 256];
    let mut i = 0;
    while i < 10 {
        table[b'0' as usize + i] = i as u8;
        i += 1;
    }
    let mut i = 0;
    while i < 6 {
        table[b'a' as usize + i] = 10 + i as u8;
        table[b'A' as usize + i] = 10 + i as u8;
        i += 1;
    }
    table
};
