//! A broker's `server.properties`, read exactly as the broker reads it.

use std::collections::HashMap;
use std::fmt;
use std::path::{Path, PathBuf};

use support_metrics_core::config::{ConfigBuilder, ConfigError, SupportConfig, Warning};
use support_metrics_core::properties::{ParseError, PropertiesParser, DEFAULT_CAPACITY};

/// One property as the broker sees it: the last occurrence of its key.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Entry {
    /// Decoded key.
    pub key: String,
    /// Decoded value, trailing whitespace kept.
    pub value: String,
    /// Line of the (last) occurrence.
    pub line: u32,
}

/// The largest config file read: far beyond any broker's `server.properties`.
pub const MAX_FILE_LEN: u64 = 16 << 20;

/// Reads a regular file of at most [`MAX_FILE_LEN`] bytes without blocking on it.
pub(crate) fn read_bounded(path: &Path) -> std::io::Result<Vec<u8>> {
    use std::io::{Error, Read};
    use std::os::unix::fs::OpenOptionsExt;
    let file = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK)
        .open(path)?;
    let meta = file.metadata()?;
    if !meta.is_file() {
        let what = if meta.is_dir() {
            "a directory"
        } else {
            "not a regular file (a FIFO, socket or device)"
        };
        return Err(Error::other(what));
    }
    let too_large = || Error::other(format!("larger than {} MiB", MAX_FILE_LEN >> 20));
    if meta.len() > MAX_FILE_LEN {
        return Err(too_large());
    }
    let mut bytes = Vec::with_capacity(meta.len() as usize);
    file.take(MAX_FILE_LEN + 1).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > MAX_FILE_LEN {
        return Err(too_large());
    }
    Ok(bytes)
}

/// Characters that do not show in an editor but make a key differ: byte-order marks,
/// zero-width and other format characters, non-breaking and exotic spaces, controls.
fn is_invisible(c: char) -> bool {
    matches!(c, '\u{feff}' | '\u{00a0}' | '\u{00ad}' | '\u{180e}' | '\u{2000}'..='\u{200f}'
        | '\u{2028}'..='\u{202f}' | '\u{205f}'..='\u{206f}' | '\u{3000}')
        || c.is_control()
}

/// The UTF-8 byte-order mark as Java's `Properties.load(InputStream)` decodes it (Latin-1).
const BOM_AS_LATIN1: &str = "\u{ef}\u{bb}\u{bf}";

/// A warning for a key that does not read as it looks: a byte-order mark (a file saved by a
/// Windows editor) or another invisible character in it.
fn invisible_warning(key: &str, line: u32) -> Option<String> {
    // Java reads the file as Latin-1: a UTF-8 editor's invisible character arrives as two or
    // three Latin-1 characters. Read it back as UTF-8 to name it.
    let bytes: Option<Vec<u8>> = key
        .chars()
        .map(|c| u8::try_from(u32::from(c)).ok())
        .collect();
    let utf8 = bytes.and_then(|b| String::from_utf8(b).ok());
    let key = match &utf8 {
        Some(k) if !key.starts_with(BOM_AS_LATIN1) => k.as_str(),
        _ => key,
    };
    let (what, visible) = if let Some(rest) = key.strip_prefix(BOM_AS_LATIN1) {
        (
            "begins with a byte-order mark (bytes EF BB BF: the file was saved as UTF-8 with BOM)"
                .to_owned(),
            rest.to_owned(),
        )
    } else if let Some(rest) = key.strip_prefix('\u{feff}') {
        (
            "begins with a byte-order mark (U+FEFF)".to_owned(),
            rest.to_owned(),
        )
    } else {
        let c = key.chars().find(|&c| is_invisible(c))?;
        (
            format!("holds an invisible character (U+{:04X})", u32::from(c)),
            key.replace(is_invisible, ""),
        )
    };
    Some(format!(
        "line {line}: the key {visible:?} {what}: the broker reads it as a different key than it looks; remove it"
    ))
}

/// Why a file could not be used. Each variant maps to one exit code (see the agent's help).
#[derive(Debug)]
pub enum FileError {
    /// Missing, unreadable, not a regular file, or larger than [`MAX_FILE_LEN`].
    Unreadable(PathBuf, std::io::Error),
    /// Java's `Properties.load` would refuse it (or a line exceeds our bound).
    Malformed(PathBuf, ParseError),
    /// A Proactive Support setting is invalid: "line N: invalid value V for KEY: why".
    Invalid(PathBuf, String),
    /// The Kafka client's settings cannot work; the text names the file, line and key.
    Client(String),
}

impl fmt::Display for FileError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FileError::Unreadable(p, e) => write!(f, "cannot read {}: {e}", p.display()),
            FileError::Malformed(p, e) => write!(f, "{}: {e}", p.display()),
            FileError::Invalid(p, e) => write!(f, "{}: {e}", p.display()),
            FileError::Client(e) => f.write_str(e),
        }
    }
}

impl core::error::Error for FileError {}

/// The parsed file: every property, and the builder holding the Proactive Support keys.
#[derive(Debug)]
pub struct PropertiesFile {
    path: PathBuf,
    entries: Vec<Entry>,
    index: HashMap<String, usize>,
    builder: ConfigBuilder,
    warnings: Vec<String>,
}

impl PropertiesFile {
    /// Reads and parses `path`: a regular file (links are followed) of at most
    /// [`MAX_FILE_LEN`] bytes, opened without blocking, so a FIFO or a device is refused at
    /// once. Unknown `confluent.support.*` keys become warnings.
    pub fn read(path: &Path) -> Result<Self, FileError> {
        let bytes = read_bounded(path).map_err(|e| FileError::Unreadable(path.to_owned(), e))?;
        Self::parse(path, &bytes)
    }

    /// Parses bytes that came from `path` (used in messages only).
    pub fn parse(path: &Path, bytes: &[u8]) -> Result<Self, FileError> {
        // On a thread of its own, joined at once: the 128 KiB parser passes through the stack
        // on its way into its box, and the stack pages a thread touches stay resident while
        // it lives; the main thread lives as long as the agent.
        std::thread::scope(|s| s.spawn(|| Self::parse_here(path, bytes)).join())
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
    }

    fn parse_here(path: &Path, mut bytes: &[u8]) -> Result<Self, FileError> {
        let malformed = |e| FileError::Malformed(path.to_owned(), e);
        let mut parser = Box::new(PropertiesParser::<DEFAULT_CAPACITY>::new());
        let mut file = PropertiesFile {
            path: path.to_owned(),
            entries: Vec::new(),
            index: HashMap::new(),
            builder: ConfigBuilder::new(),
            warnings: Vec::new(),
        };
        while let Some(p) = parser.next(&mut bytes).map_err(malformed)? {
            file.take(p);
        }
        if let Some(p) = parser.finish().map_err(malformed)? {
            file.take(p);
        }
        Ok(file)
    }

    fn take(&mut self, p: support_metrics_core::properties::Property<'_>) {
        if let Some(w) = self.builder.handle(&p) {
            self.warnings.push(w.to_string());
        }
        if let Some(w) = invisible_warning(p.key, p.line) {
            self.warnings.push(w);
        }
        let entry = Entry {
            key: p.key.to_owned(),
            value: p.value.to_owned(),
            line: p.line,
        };
        match self.index.get(p.key) {
            Some(&i) => self.entries[i] = entry,
            None => {
                self.index.insert(entry.key.clone(), self.entries.len());
                self.entries.push(entry);
            }
        }
    }

    /// The file's path as given.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The value of `key` as the broker reads it (last occurrence).
    pub fn get(&self, key: &str) -> Option<&str> {
        self.index.get(key).map(|&i| self.entries[i].value.as_str())
    }

    /// The entry of `key` (its last occurrence), with its line.
    pub fn entry(&self, key: &str) -> Option<&Entry> {
        self.index.get(key).map(|&i| &self.entries[i])
    }

    /// Every property, in order of first appearance, each with its last value.
    pub fn entries(&self) -> &[Entry] {
        &self.entries
    }

    /// Validates the Proactive Support settings. Returns the config and every warning
    /// (unknown keys, then the customer ID), each already formatted with its line.
    pub fn config(&self) -> Result<(SupportConfig, Vec<String>), FileError> {
        let (config, warning) = self
            .builder
            .build()
            .map_err(|e: ConfigError<'_>| FileError::Invalid(self.path.clone(), e.to_string()))?;
        let mut warnings = self.warnings.clone();
        warnings.extend(warning.as_ref().map(Warning::to_string));
        Ok((config, warnings))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_last_value_in_first_position() {
        let f = PropertiesFile::parse(Path::new("x"), b"a=1\nb=2\na=3\n").unwrap();
        let got: Vec<_> = f
            .entries()
            .iter()
            .map(|e| (e.key.as_str(), e.value.as_str(), e.line))
            .collect();
        assert_eq!(got, [("a", "3", 3), ("b", "2", 2)]);
        assert_eq!((f.get("a"), f.get("c")), (Some("3"), None));
        let f = PropertiesFile::parse(
            Path::new("x"),
            b"confluent.support.metrics.client.security.protocol=SSL\nconfluent.support.metrics.client.=x\nb=1\n",
        )
        .unwrap();
        let client: Vec<(String, String)> = crate::client::Setting::client_settings_of(&f)
            .into_iter()
            .map(|s| (s.name, s.value))
            .collect();
        assert_eq!(client, [("security.protocol".to_owned(), "SSL".to_owned())]);
    }

    #[test]
    fn errors_name_the_file() {
        let e = PropertiesFile::parse(Path::new("/etc/kafka/server.properties"), b"\nx=\\u1")
            .unwrap_err();
        assert_eq!(
            e.to_string(),
            "/etc/kafka/server.properties: line 2: malformed \\uxxxx encoding"
        );
        let f = PropertiesFile::parse(
            Path::new("s.properties"),
            b"confluent.support.metrics.enable=yes",
        )
        .unwrap();
        let e = f.config().unwrap_err();
        assert_eq!(
            e.to_string(),
            "s.properties: line 1: invalid value \"yes\" for confluent.support.metrics.enable: expected true or false"
        );
        let e = PropertiesFile::read(Path::new("/nonexistent/server.properties")).unwrap_err();
        assert!(matches!(e, FileError::Unreadable(..)));
        assert!(
            e.to_string()
                .starts_with("cannot read /nonexistent/server.properties: "),
            "{e}"
        );
    }
}
