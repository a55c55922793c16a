//! A reference model for the properties parser: the straightforward byte-at-a-time version
//! that [`crate::properties::PropertiesParser`]'s fast paths (word-at-a-time scans, bulk
//! copies, decoding shortcuts) must agree with, event for event.

use heapless::Vec;

use crate::properties::{ParseError, Property};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Mode {
    /// Collecting the characters of a logical line.
    Line,
    /// Inside a comment, up to and including the line terminator.
    Comment,
    /// Saw an unescaped-backslash line end; the next byte decides (EOF keeps the line, a `\n`
    /// right after `\r` is swallowed).
    Continuation { cr: bool },
}

/// The parser as first written: one byte at a time through `LineReader`'s state machine, no
/// fast paths. The real parser must emit exactly what this one does; the Java differential
/// tests checked this one against `Properties.load` on 200 000 generated files.
#[derive(Clone, Debug)]
pub(crate) struct ReferenceParser<const N: usize> {
    raw: Vec<u8, N>,
    out: Vec<u8, N>,
    /// Copies of the fields that need no decoding: they do not count against `out`.
    plain: Vec<u8, N>,
    mode: Mode,
    skip_blanks: bool,
    continued: bool,
    backslash: bool,
    /// Physical line terminators seen so far.
    lines: u32,
    prev_cr: bool,
    start_line: u32,
    failed: Option<ParseError>,
}

impl<const N: usize> ReferenceParser<N> {
    /// A parser at the start of a document.
    pub(crate) const fn new() -> Self {
        Self {
            raw: Vec::new(),
            out: Vec::new(),
            plain: Vec::new(),
            mode: Mode::Line,
            skip_blanks: true,
            continued: false,
            backslash: false,
            lines: 0,
            prev_cr: false,
            start_line: 1,
            failed: None,
        }
    }

    /// Consumes bytes from the front of `input` until a logical line completes (returns it) or
    /// `input` is empty (returns `None`; feed more, or call [`finish`](Self::finish)).
    ///
    /// After an error the parser stays failed and returns the same error.
    pub(crate) fn next<'s>(
        &'s mut self,
        input: &mut &[u8],
    ) -> Result<Option<Property<'s>>, ParseError> {
        if let Some(e) = self.failed {
            return Err(e);
        }
        while let Some((&b, rest)) = input.split_first() {
            *input = rest;
            self.count_line(b);
            match self.mode {
                Mode::Comment => {
                    if b == b'\r' || b == b'\n' {
                        self.mode = Mode::Line;
                        self.skip_blanks = true;
                    }
                    continue;
                }
                Mode::Continuation { cr } => {
                    self.raw.pop();
                    self.skip_blanks = true;
                    self.continued = true;
                    self.backslash = false;
                    self.mode = Mode::Line;
                    if cr && b == b'\n' {
                        continue;
                    }
                }
                Mode::Line => {}
            }
            if self.step(b)? {
                return self.emit().map(Some);
            }
        }
        Ok(None)
    }

    /// Ends the document: returns the last logical line if it had no terminator, and makes the
    /// parser ready for a new document.
    pub(crate) fn finish(&mut self) -> Result<Option<Property<'_>>, ParseError> {
        if let Some(e) = self.failed {
            return Err(e);
        }
        let pending = match self.mode {
            Mode::Comment => false,
            // Java checks for EOF right after the line terminator, before dropping the
            // backslash: the line counts even when nothing is left of it.
            Mode::Continuation { .. } => {
                self.raw.pop();
                true
            }
            Mode::Line if self.raw.is_empty() => false,
            Mode::Line => {
                if self.backslash {
                    self.raw.pop();
                }
                true
            }
        };
        self.mode = Mode::Line;
        self.lines = 0;
        self.prev_cr = false;
        if !pending {
            self.raw.clear();
            self.skip_blanks = true;
            self.continued = false;
            self.backslash = false;
            return Ok(None);
        }
        // `emit` resets the per-line state.
        self.emit().map(Some)
    }

    fn count_line(&mut self, b: u8) {
        if b == b'\r' || (b == b'\n' && !self.prev_cr) {
            self.lines = self.lines.saturating_add(1);
        }
        self.prev_cr = b == b'\r';
    }

    /// One character of `LineReader.readLine`; true when a logical line is complete.
    fn step(&mut self, b: u8) -> Result<bool, ParseError> {
        let newline = b == b'\n' || b == b'\r';
        if self.skip_blanks {
            if b == b' ' || b == b'\t' || b == 0x0c || (newline && !self.continued) {
                return Ok(false);
            }
            self.skip_blanks = false;
            self.continued = false;
        }
        if self.raw.is_empty() && (b == b'#' || b == b'!') {
            self.mode = Mode::Comment;
            return Ok(false);
        }
        if !newline {
            if self.raw.is_empty() {
                self.start_line = self.lines.saturating_add(1);
            }
            self.raw.push(b).map_err(|_| self.too_long())?;
            self.backslash = b == b'\\' && !self.backslash;
            return Ok(false);
        }
        if self.raw.is_empty() {
            self.skip_blanks = true;
            return Ok(false);
        }
        if self.backslash {
            self.mode = Mode::Continuation { cr: b == b'\r' };
            return Ok(false);
        }
        Ok(true)
    }

    fn too_long(&mut self) -> ParseError {
        let e = ParseError::LineTooLong {
            line: self.start_line,
            capacity: N,
        };
        self.failed = Some(e);
        e
    }

    /// Splits the raw line into key and value (`Properties.load0`) and decodes both.
    fn emit(&mut self) -> Result<Property<'_>, ParseError> {
        let (key, value) = split(&self.raw);
        let line = self.start_line;
        // A field with no backslash and no byte above 0x7F is its own text and takes no room
        // in `out`; the others are decoded into `out`, key first.
        let needs_decoding = |field: &[u8]| field.iter().any(|&b| b == b'\\' || b >= 0x80);
        let (key_decoded, value_decoded) = (needs_decoding(key), needs_decoding(value));
        self.out.clear();
        self.plain.clear();
        let mut out_key_len = 0;
        let mut result = Ok(());
        if key_decoded {
            result = decode(key, &mut self.out).map(|n| out_key_len = n);
        } else {
            // Fits: the raw line does.
            let _ = self.plain.extend_from_slice(key);
        }
        if result.is_ok() {
            if value_decoded {
                result = decode(value, &mut self.out).map(|_| ());
            } else {
                let _ = self.plain.extend_from_slice(value);
            }
        }
        let plain_key_len = if key_decoded { 0 } else { key.len() };
        self.raw.clear();
        self.skip_blanks = true;
        self.continued = false;
        self.backslash = false;
        if let Err(kind) = result {
            let e = match kind {
                DecodeFailure::Malformed => ParseError::MalformedUnicodeEscape { line },
                DecodeFailure::Full => ParseError::LineTooLong { line, capacity: N },
            };
            self.failed = Some(e);
            return Err(e);
        }
        let (out_key, out_value) = self.out.split_at(out_key_len);
        let (plain_key, plain_value) = self.plain.split_at(plain_key_len);
        let key = if key_decoded { out_key } else { plain_key };
        let value = if value_decoded {
            out_value
        } else {
            plain_value
        };
        // Built from whole UTF-8 sequences or ASCII, so this never fails.
        let key = core::str::from_utf8(key).unwrap_or_default();
        let value = core::str::from_utf8(value).unwrap_or_default();
        Ok(Property { key, value, line })
    }
}

fn is_blank(c: u8) -> bool {
    c == b' ' || c == b'\t' || c == 0x0c
}

/// `Properties.load0`: the raw key and the raw value of one logical line.
fn split(line: &[u8]) -> (&[u8], &[u8]) {
    let mut key_len = 0;
    let mut value_start = line.len();
    let mut has_sep = false;
    let mut backslash = false;
    while let Some(&c) = line.get(key_len) {
        if !backslash && (c == b'=' || c == b':') {
            value_start = key_len + 1;
            has_sep = true;
            break;
        }
        if !backslash && is_blank(c) {
            value_start = key_len + 1;
            break;
        }
        backslash = c == b'\\' && !backslash;
        key_len += 1;
    }
    while let Some(&c) = line.get(value_start) {
        if !is_blank(c) {
            if !has_sep && (c == b'=' || c == b':') {
                has_sep = true;
            } else {
                break;
            }
        }
        value_start += 1;
    }
    (&line[..key_len], &line[value_start..])
}

enum DecodeFailure {
    Malformed,
    Full,
}

/// `Properties.loadConvert`, writing UTF-8. Returns the length of `out` afterwards.
fn decode<const N: usize>(raw: &[u8], out: &mut Vec<u8, N>) -> Result<usize, DecodeFailure> {
    let mut utf16 = Utf16Sink::default();
    let mut i = 0;
    while let Some(&c) = raw.get(i) {
        i += 1;
        let unit = if c != b'\\' {
            u16::from(c)
        } else {
            // The line never ends in an unescaped backslash, so an escape always has its
            // character; stop quietly if that ever fails to hold.
            let Some(&e) = raw.get(i) else { break };
            i += 1;
            match e {
                b'u' => {
                    let digits = raw.get(i..i + 4).ok_or(DecodeFailure::Malformed)?;
                    i += 4;
                    digits.iter().try_fold(0u16, |acc, &d| {
                        let v = (d as char).to_digit(16).ok_or(DecodeFailure::Malformed)?;
                        Ok((acc << 4) | v as u16)
                    })?
                }
                b't' => 0x09,
                b'r' => 0x0d,
                b'n' => 0x0a,
                b'f' => 0x0c,
                other => u16::from(other),
            }
        };
        utf16.push(unit, out)?;
    }
    utf16.flush(out)?;
    Ok(out.len())
}

/// Turns UTF-16 code units into UTF-8, pairing surrogates; a lone one becomes U+FFFD.
#[derive(Default)]
struct Utf16Sink {
    high: Option<u16>,
}

impl Utf16Sink {
    fn push<const N: usize>(
        &mut self,
        unit: u16,
        out: &mut Vec<u8, N>,
    ) -> Result<(), DecodeFailure> {
        if let Some(high) = self.high.take() {
            if (0xDC00..=0xDFFF).contains(&unit) {
                let c = 0x10000 + ((u32::from(high) - 0xD800) << 10) + (u32::from(unit) - 0xDC00);
                return put(
                    char::from_u32(c).unwrap_or(char::REPLACEMENT_CHARACTER),
                    out,
                );
            }
            put(char::REPLACEMENT_CHARACTER, out)?;
        }
        if (0xD800..=0xDBFF).contains(&unit) {
            self.high = Some(unit);
            return Ok(());
        }
        put(
            char::from_u32(u32::from(unit)).unwrap_or(char::REPLACEMENT_CHARACTER),
            out,
        )
    }

    fn flush<const N: usize>(&mut self, out: &mut Vec<u8, N>) -> Result<(), DecodeFailure> {
        match self.high.take() {
            Some(_) => put(char::REPLACEMENT_CHARACTER, out),
            None => Ok(()),
        }
    }
}

fn put<const N: usize>(c: char, out: &mut Vec<u8, N>) -> Result<(), DecodeFailure> {
    let mut tmp = [0u8; 4];
    out.extend_from_slice(c.encode_utf8(&mut tmp).as_bytes())
        .map_err(|_| DecodeFailure::Full)
}
