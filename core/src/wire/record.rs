//! The anonymous record: exactly `timestamp`, `kafkaVersion`, `confluentPlatformVersion`,
//! `brokerProcessUUID` and `collectorState`. No cluster ID, host name or address.

use heapless::String;
use serde::{Deserialize, Serialize, Serializer};

use super::fields::{self, Fields, Nullable, Visit};
use super::{DecodeError, EncodeError};
use crate::token::BrokerToken;

/// Longest version string a decoded record may carry.
pub const MAX_VERSION_LEN: usize = 64;

/// The most bytes an anonymous record can take: its keys and punctuation, a 20-digit
/// timestamp, both versions at [`MAX_VERSION_LEN`] characters that each need a 6-byte
/// escape, and the token. A buffer this large takes any anonymous record.
pub const MAX_ANONYMOUS_LEN: usize = 98 + 20 + 2 * (2 + 6 * MAX_VERSION_LEN) + 38;

/// The collector's state when the record was made (reference `Collector` state ids).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(into = "u8", try_from = "u8")]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum CollectorState {
    /// A regular report (2).
    Running,
    /// The final report sent while the agent stops (1).
    ShuttingDown,
}

impl From<CollectorState> for u8 {
    fn from(s: CollectorState) -> u8 {
        match s {
            CollectorState::Running => 2,
            CollectorState::ShuttingDown => 1,
        }
    }
}

impl TryFrom<u8> for CollectorState {
    type Error = &'static str;
    fn try_from(v: u8) -> Result<Self, Self::Error> {
        match v {
            2 => Ok(CollectorState::Running),
            1 => Ok(CollectorState::ShuttingDown),
            _ => Err("collectorState must be 1 or 2"),
        }
    }
}

/// The anonymous record, borrowing its strings: what the encoder takes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct AnonymousRecord<'a> {
    /// Seconds since the Unix epoch when the record was collected (from the caller's clock).
    pub timestamp: u64,
    /// Kafka version of the broker, or `unknown`.
    pub kafka_version: &'a str,
    /// The Confluent Platform release the broker runs; `None` (JSON `null`) when the broker
    /// is not Confluent Platform.
    pub confluent_platform_version: Option<&'a str>,
    /// The broker token: a UUIDv4 new for every agent start.
    pub broker_process_uuid: &'a str,
    /// Running, or shutting down for the final report.
    pub collector_state: CollectorState,
}

/// The record's one description: its keys, in order, with their values.
impl Fields for AnonymousRecord<'_> {
    fn fields<W: Visit>(&self, w: &mut W) {
        w.field("timestamp", &self.timestamp);
        w.field("kafkaVersion", &self.kafka_version);
        w.field(
            "confluentPlatformVersion",
            &Nullable(self.confluent_platform_version),
        );
        w.field("brokerProcessUUID", &self.broker_process_uuid);
        w.field("collectorState", &self.collector_state);
    }
}

impl Serialize for AnonymousRecord<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        fields::serialize(self, s)
    }
}

/// The anonymous record with owned, bounded strings: what the decoder gives.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct OwnedAnonymousRecord {
    /// See [`AnonymousRecord::timestamp`].
    pub timestamp: u64,
    /// See [`AnonymousRecord::kafka_version`].
    pub kafka_version: String<MAX_VERSION_LEN>,
    /// See [`AnonymousRecord::confluent_platform_version`]. The key must be there, `null`
    /// or a string.
    #[serde(deserialize_with = "present")]
    pub confluent_platform_version: Option<String<MAX_VERSION_LEN>>,
    /// See [`AnonymousRecord::broker_process_uuid`].
    #[serde(rename = "brokerProcessUUID")]
    pub broker_process_uuid: String<36>,
    /// See [`AnonymousRecord::collector_state`].
    pub collector_state: CollectorState,
}

impl AnonymousRecord<'_> {
    /// The exact number of bytes [`encode`](Self::encode) writes.
    pub fn encoded_len(&self) -> usize {
        Fields::encoded_len(self)
    }

    /// Writes the JSON into `buf` and returns its length. A buffer that is too small gets
    /// [`EncodeError::BufferTooSmall`] with the exact size needed.
    pub fn encode(&self, buf: &mut [u8]) -> Result<usize, EncodeError> {
        serde_json_core::to_slice(self, buf).map_err(|_| EncodeError::BufferTooSmall {
            required: self.encoded_len(),
        })
    }

    /// Writes the JSON into `buf`; a buffer that is too small gets
    /// [`EncodeError::BufferTooSmall`] with [`MAX_ANONYMOUS_LEN`], which always suffices.
    /// Cheaper than [`encode`](Self::encode) in code: the exact length is not computed.
    pub fn encode_bounded(&self, buf: &mut [u8]) -> Result<usize, EncodeError> {
        serde_json_core::to_slice(self, buf).map_err(|_| EncodeError::BufferTooSmall {
            required: MAX_ANONYMOUS_LEN,
        })
    }

    /// A borrowed view of a decoded record.
    pub fn from_owned(r: &OwnedAnonymousRecord) -> AnonymousRecord<'_> {
        AnonymousRecord {
            timestamp: r.timestamp,
            kafka_version: &r.kafka_version,
            confluent_platform_version: r.confluent_platform_version.as_deref(),
            broker_process_uuid: &r.broker_process_uuid,
            collector_state: r.collector_state,
        }
    }
}

impl OwnedAnonymousRecord {
    /// Decodes one record. Whitespace may surround it; anything else is an error, as are
    /// missing or unknown keys, a token that is not a UUIDv4 and a version holding a control
    /// character.
    pub fn decode(bytes: &[u8]) -> Result<Self, DecodeError> {
        let mut scratch = [0u8; MAX_VERSION_LEN];
        let (record, used): (Self, usize) =
            serde_json_core::from_slice_escaped(bytes, &mut scratch).map_err(|e| match e {
                serde_json_core::de::Error::TrailingCharacters => DecodeError::DecodeTrailingBytes,
                _ => DecodeError::DecodeJson,
            })?;
        // serde-json-core has already checked that only whitespace follows.
        debug_assert!(bytes[used..].iter().all(u8::is_ascii_whitespace));
        if !BrokerToken::is_token(&record.broker_process_uuid) {
            return Err(DecodeError::DecodeBadToken);
        }
        let versions = [
            Some(record.kafka_version.as_str()),
            record.confluent_platform_version.as_deref(),
        ];
        if super::any_control(versions.into_iter().flatten()) {
            return Err(DecodeError::DecodeControlCharacter);
        }
        Ok(record)
    }

    /// The borrowed view, for re-encoding.
    pub fn as_record(&self) -> AnonymousRecord<'_> {
        AnonymousRecord::from_owned(self)
    }
}

/// An `Option` whose key must be present (`null` or a value): serde would take a missing
/// key as `None`.
pub(crate) fn present<'de, D, T>(d: D) -> Result<Option<T>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(d)
}

#[cfg(test)]
mod tests;
