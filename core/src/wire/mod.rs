//! Records on the wire: JSON, encoded into caller-supplied buffers with serde-json-core.
//!
//! [`AnonymousRecord`] is the five-key record every broker sends; [`CustomerRecord`] adds
//! support facts for licensed customers, with broker settings filtered by [`allowlist`]. The
//! JSON Schema in `docs/record.schema.json` describes both.

pub mod allowlist;
mod check;
mod customer;
mod fields;
mod record;

pub use check::{check_record, Checked, MAX_RECORD_LEN};
pub use customer::{AllowedConfig, ClusterFacts, CustomerFacts, CustomerRecord, HostFacts};
pub use fields::{Fields, Value, Visit};
pub use record::{
    AnonymousRecord, CollectorState, OwnedAnonymousRecord, MAX_ANONYMOUS_LEN, MAX_VERSION_LEN,
};

use core::fmt;

/// Encoding failed.
#[non_exhaustive]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum EncodeError {
    /// The buffer is too small; the record needs `required` bytes.
    BufferTooSmall {
        /// The exact encoded length.
        required: usize,
    },
}

impl fmt::Display for EncodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            EncodeError::BufferTooSmall { required } => {
                write!(f, "buffer too small: the record needs {required} bytes")
            }
        }
    }
}

impl core::error::Error for EncodeError {}

/// Decoding failed: the bytes are not one of our records.
#[non_exhaustive]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum DecodeError {
    /// Not JSON, or not the record's shape: missing, unknown or mistyped keys, a string
    /// longer than the record allows, a `collectorState` other than 1 or 2.
    DecodeJson,
    /// `brokerProcessUUID` is not a lowercase UUIDv4.
    DecodeBadToken,
    /// Bytes other than whitespace after the JSON object.
    DecodeTrailingBytes,
    /// A string value holds a control character (C0, DEL or C1, raw or escaped): no record of
    /// ours does, and a log line, terminal or database downstream must not get one.
    DecodeControlCharacter,
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            DecodeError::DecodeJson => {
                "not a support-metrics record (JSON shape, type or length mismatch)"
            }
            DecodeError::DecodeBadToken => "brokerProcessUUID is not a UUIDv4",
            DecodeError::DecodeTrailingBytes => "bytes after the record",
            DecodeError::DecodeControlCharacter => {
                "a string in the record holds a control character"
            }
        })
    }
}

impl core::error::Error for DecodeError {}

/// Whether any of `strings` holds a control character (C0, DEL or C1).
pub(crate) fn any_control<'a>(strings: impl IntoIterator<Item = &'a str>) -> bool {
    strings.into_iter().any(|s| s.chars().any(char::is_control))
}

/// Whether `s` may stand in a record where a version or a cluster ID goes: at most
/// [`MAX_VERSION_LEN`] bytes and no control character. The check refuses a record with any
/// other, so a shell gives such a value from elsewhere (a broker's metadata) as unknown.
pub fn is_plain(s: &str) -> bool {
    s.len() <= MAX_VERSION_LEN && !any_control([s])
}

/// Exact length of `s` as a JSON string (quotes included), as serde-json-core writes it.
pub(crate) fn json_str_len(s: &str) -> usize {
    2 + s
        .chars()
        .map(|c| match c {
            '\\' | '"' | '\u{8}' | '\t' | '\n' | '\u{c}' | '\r' => 2,
            '\0'..='\u{1f}' => 6,
            c => c.len_utf8(),
        })
        .sum::<usize>()
}

/// Number of decimal digits of `v`.
pub(crate) fn decimal_len(mut v: u64) -> usize {
    let mut n = 1;
    while v >= 10 {
        v /= 10;
        n += 1;
    }
    n
}
