//! Java `.properties` reader: a push parser with the semantics of
//! `java.util.Properties.load(InputStream)`, which is how a Kafka broker reads
//! `server.properties`.
//!
//! Feed it byte chunks of any size with [`PropertiesParser::next`]; a chunk may end anywhere,
//! even inside `\uXXXX` or between `\r` and `\n`. Call [`PropertiesParser::finish`] at the end
//! of the input. Each completed logical line yields one [`Property`]; a key that appears twice
//! yields two events, and the consumer keeps the last one, as `Properties` does.
//!
//! What Java does, and so do we:
//! - bytes are ISO-8859-1: every byte is one character, `0xE9` is `é`;
//! - `#` and `!` start a comment only as the first non-blank character of a logical line;
//! - the key ends at the first unescaped `=`, `:`, space, tab or form feed; blanks and at most
//!   one `=`/`:` after it are skipped; trailing whitespace of the value is kept;
//! - escapes `\t \n \r \f \uXXXX`; any other escaped character stands for itself;
//! - an odd number of backslashes at the end of a line continues it on the next line, whose
//!   leading blanks are dropped; `\n`, `\r` and `\r\n` all end a line.
//!
//! Where we differ, by necessity: Java strings are UTF-16 and may hold a lone surrogate
//! (`\uD800` with no partner); a Rust `str` cannot, so a lone surrogate becomes U+FFFD. A
//! logical line longer than the capacity `N` is an error ([`ParseError::LineTooLong`]), never a
//! truncation.

use core::fmt;
use heapless::Vec;

/// Capacity the Linux shells use: a logical line (raw) and its decoded key plus value (UTF-8)
/// must each fit in this many bytes.
pub const DEFAULT_CAPACITY: usize = 64 * 1024;

/// One `key=value` entry, borrowed from the parser until the next call.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Property<'a> {
    /// The key, with escapes decoded.
    pub key: &'a str,
    /// The value, with escapes decoded; trailing whitespace kept.
    pub value: &'a str,
    /// The 1-based physical line on which the logical line starts.
    pub line: u32,
}

/// Why Java would refuse the file, or why it does not fit our bounded buffers.
#[non_exhaustive]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum ParseError {
    /// A `\u` escape without four hex digits after it. Java's `load` throws
    /// `IllegalArgumentException: Malformed \uxxxx encoding.` for the whole file.
    MalformedUnicodeEscape {
        /// Line on which the offending logical line starts.
        line: u32,
    },
    /// The logical line, or its decoded key and value, needs more than `capacity` bytes.
    LineTooLong {
        /// Line on which the logical line starts.
        line: u32,
        /// The parser's capacity in bytes.
        capacity: usize,
    },
}

impl ParseError {
    /// The line the error is about.
    pub fn line(&self) -> u32 {
        match *self {
            ParseError::MalformedUnicodeEscape { line } | ParseError::LineTooLong { line, .. } => {
                line
            }
        }
    }
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ParseError::MalformedUnicodeEscape { line } => {
                write!(f, "line {line}: malformed \\uxxxx encoding")
            }
            ParseError::LineTooLong { line, capacity } => {
                write!(f, "line {line}: logical line longer than {capacity} bytes")
            }
        }
    }
}

impl core::error::Error for ParseError {}

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

/// Push parser for Java properties with capacity `N` bytes per logical line.
///
/// ```
/// use support_metrics_core::properties::PropertiesParser;
///
/// let mut parser = PropertiesParser::<256>::new();
/// let mut input: &[u8] = b"# comment\nbroker.id = 0\nlog.dirs=/tmp/\\\n    kafka";
/// let mut seen = 0;
/// while let Some(p) = parser.next(&mut input).unwrap() {
///     assert_eq!((p.key, p.value), ("broker.id", "0"));
///     seen += 1;
/// }
/// let last = parser.finish().unwrap().unwrap();
/// assert_eq!((last.key, last.value, last.line), ("log.dirs", "/tmp/kafka", 3));
/// assert_eq!(seen, 1);
/// ```
#[derive(Clone, Debug)]
pub struct PropertiesParser<const N: usize> {
    raw: Vec<u8, N>,
    out: Vec<u8, N>,
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

impl<const N: usize> Default for PropertiesParser<N> {
    fn default() -> Self {
        Self::new()
    }
}

impl<const N: usize> PropertiesParser<N> {
    /// A parser at the start of a document.
    pub const fn new() -> Self {
        Self {
            raw: Vec::new(),
            out: Vec::new(),
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
    pub fn next<'s>(&'s mut self, input: &mut &[u8]) -> Result<Option<Property<'s>>, ParseError> {
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
    pub fn finish(&mut self) -> Result<Option<Property<'_>>, ParseError> {
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

    /// Feeds one chunk and calls `on` for every property it completes.
    pub fn feed(
        &mut self,
        mut chunk: &[u8],
        mut on: impl FnMut(Property<'_>),
    ) -> Result<(), ParseError> {
        while let Some(p) = self.next(&mut chunk)? {
            on(p);
        }
        Ok(())
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
        self.out.clear();
        let decoded = decode(key, &mut self.out)
            .and_then(|key_len| decode(value, &mut self.out).map(|_| key_len));
        self.raw.clear();
        self.skip_blanks = true;
        self.continued = false;
        self.backslash = false;
        let key_len = match decoded {
            Ok(n) => n,
            Err(kind) => {
                let e = match kind {
                    DecodeFailure::Malformed => ParseError::MalformedUnicodeEscape { line },
                    DecodeFailure::Full => ParseError::LineTooLong { line, capacity: N },
                };
                self.failed = Some(e);
                return Err(e);
            }
        };
        let (key, value) = self.out.split_at(key_len);
        // Both halves were built from whole UTF-8 sequences, so this never fails.
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

#[cfg(test)]
mod tests;
