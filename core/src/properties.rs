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
use heapless::{String, Vec};

use decode::{DecodeFailure, Field};
use scan::{ends_in_backslash, find_eol, find_eol_or_special, find_key_stop};

mod decode;
mod scan;

/// Capacity the Linux shells use: a logical line (raw) must fit in this many bytes, and so must
/// the UTF-8 of those of its key and value that hold escapes or non-ASCII bytes (plain ASCII
/// ones are used in place).
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
    /// The logical line, or the decoded text of its escaped or non-ASCII key and value, needs
    /// more than `capacity` bytes.
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

/// What [`PropertiesParser::fast_path`] did.
enum Fast {
    /// Consumed a run; go on.
    Took,
    /// Consumed the rest of the input.
    Exhausted,
    /// Completed a logical line: emit it.
    Complete,
    /// Nothing to do fast here: take one byte the slow way.
    NotHere,
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
    /// Decoded key then value.
    out: String<N>,
    mode: Mode,
    skip_blanks: bool,
    continued: bool,
    backslash: bool,
    /// The line may hold a backslash or a non-ASCII byte, so it may need decoding.
    special: bool,
    /// Physical line terminators seen so far.
    lines: u32,
    prev_cr: bool,
    start_line: u32,
    failed: Option<ParseError>,
    /// The last property may borrow `raw`: it is cleared on the next call, not at emit.
    emitted: bool,
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
            out: String::new(),
            mode: Mode::Line,
            skip_blanks: true,
            continued: false,
            backslash: false,
            special: false,
            lines: 0,
            prev_cr: false,
            start_line: 1,
            failed: None,
            emitted: false,
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
        if core::mem::take(&mut self.emitted) {
            self.raw.clear();
        }
        while let Some((&b, rest)) = input.split_first() {
            // Fast paths: whole runs without a line terminator, which is most of a file.
            // Processing them byte by byte gives the same state, only slower; without the
            // `fast-parse` feature (microcontrollers) they are left out to save flash.
            if cfg!(feature = "fast-parse") {
                match self.fast_path(input)? {
                    Fast::Took => continue,
                    Fast::Exhausted => break,
                    Fast::Complete => return self.emit().map(Some),
                    Fast::NotHere => {}
                }
            }
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
        if core::mem::take(&mut self.emitted) {
            self.raw.clear();
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
            self.special = false;
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
            self.special |= b == b'\\' || !b.is_ascii();
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

    /// One fast path, if one applies here: a whole comment, a run of leading blanks, or the
    /// rest of a started line up to and including its terminator.
    fn fast_path(&mut self, input: &mut &[u8]) -> Result<Fast, ParseError> {
        match self.mode {
            Mode::Comment => {
                let n = find_eol(input);
                if n > 0 {
                    self.prev_cr = false;
                }
                // The terminator ends the comment.
                let Some((&b, rest)) = input.get(n..).and_then(<[u8]>::split_first) else {
                    *input = &[];
                    return Ok(Fast::Exhausted);
                };
                *input = rest;
                self.count_line(b);
                self.mode = Mode::Line;
                self.skip_blanks = true;
                Ok(Fast::Took)
            }
            // Leading blanks (indented continuations): skipped, nothing else changes.
            Mode::Line if self.skip_blanks => {
                let n = input.iter().take_while(|&&c| is_blank(c)).count();
                if n > 0 {
                    *input = &input[n..];
                    self.prev_cr = false;
                    return Ok(Fast::Took);
                }
                Ok(Fast::NotHere)
            }
            // A non-empty line past its leading blanks: copy up to the terminator.
            Mode::Line if !self.skip_blanks && !self.raw.is_empty() => {
                let n = if self.special {
                    find_eol(input)
                } else {
                    self.find_eol_noting_special(input)
                };
                let (run, rest) = input.split_at(n);
                if n > 0 {
                    self.prev_cr = false;
                    self.raw
                        .extend_from_slice(run)
                        .map_err(|_| self.too_long())?;
                    self.backslash = ends_in_backslash(run, self.backslash);
                }
                // The terminator, as `step` would take it for a non-empty line.
                let Some((&b, rest)) = rest.split_first() else {
                    *input = &[];
                    return Ok(Fast::Exhausted);
                };
                *input = rest;
                self.count_line(b);
                if self.backslash {
                    self.mode = Mode::Continuation { cr: b == b'\r' };
                    return Ok(Fast::Took);
                }
                Ok(Fast::Complete)
            }
            _ => Ok(Fast::NotHere),
        }
    }

    /// [`find_eol`], and in the same pass whether a backslash or a non-ASCII byte comes first,
    /// which sets `special`, unless it is the backslash of a continuation.
    fn find_eol_noting_special(&mut self, s: &[u8]) -> usize {
        let at = find_eol_or_special(s);
        match s.get(at) {
            Some(b'\r' | b'\n') | None => at,
            Some(&c) => {
                let n = at + find_eol(s.get(at..).unwrap_or_default());
                // The first special byte is a backslash right before a terminator that is here:
                // a continuation, which the parser drops, so the line stays plain. It is alone:
                // a backslash before it, here or earlier in the line, would be special already.
                let continuation = c == b'\\' && at + 1 == n && n < s.len();
                if !continuation {
                    // Maybe just a control byte: `special` only means "check before use".
                    self.special = true;
                }
                n
            }
        }
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
        let line = self.start_line;
        self.skip_blanks = true;
        self.continued = false;
        self.backslash = false;
        self.emitted = true;
        let special = core::mem::take(&mut self.special);
        let (key_end, value_start) = split(&self.raw);
        if !special {
            // Plain ASCII, the usual case: key and value are slices of the line itself.
            let text = core::str::from_utf8(&self.raw).unwrap_or_default();
            return Ok(Property {
                key: text.get(..key_end).unwrap_or_default(),
                value: text.get(value_start..).unwrap_or_default(),
                line,
            });
        }
        let (key, value) = (&self.raw[..key_end], &self.raw[value_start..]);
        self.out.clear();
        let decoded = Field::decode(key, &mut self.out)
            .and_then(|k| Field::decode(value, &mut self.out).map(|v| (k, v)));
        let (k, v) = match decoded {
            Ok(fields) => fields,
            Err(kind) => {
                let e = match kind {
                    DecodeFailure::Malformed => ParseError::MalformedUnicodeEscape { line },
                    DecodeFailure::Full => ParseError::LineTooLong { line, capacity: N },
                };
                self.failed = Some(e);
                return Err(e);
            }
        };
        Ok(Property {
            key: k.resolve(key, &self.out),
            value: v.resolve(value, &self.out),
            line,
        })
    }
}

fn is_blank(c: u8) -> bool {
    c == b' ' || c == b'\t' || c == 0x0c
}

/// `Properties.load0`: where the raw key ends and the raw value starts in one logical line.
fn split(line: &[u8]) -> (usize, usize) {
    let mut key_len = 0;
    let mut has_sep = false;
    let mut value_start = line.len();
    while let Some(rest) = line.get(key_len..) {
        // Blanks, and the control bytes that share their range, then `=`, `:` and `\`.
        key_len += find_key_stop(rest);
        let Some(&c) = line.get(key_len) else {
            break;
        };
        if c < b' ' && !is_blank(c) {
            key_len += 1;
            continue;
        }
        if c == b'\\' {
            // The escaped character belongs to the key, whatever it is.
            key_len = (key_len + 2).min(line.len());
            continue;
        }
        value_start = key_len + 1;
        has_sep = c == b'=' || c == b':';
        break;
    }
    let blanks = line
        .get(value_start..)
        .unwrap_or_default()
        .iter()
        .position(|&c| {
            if is_blank(c) {
                return false;
            }
            if !has_sep && (c == b'=' || c == b':') {
                has_sep = true;
                return false;
            }
            true
        });
    (key_len, blanks.map_or(line.len(), |b| value_start + b))
}

#[cfg(test)]
mod tests;
