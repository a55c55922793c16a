//! Checking bytes that claim to be one of our records (a spooled file, a bundle entry): they
//! are sent or shown only when they are exactly an anonymous or a customer record as the
//! encoder writes them, with the allowlist holding for the broker settings.

use core::fmt;

use heapless::String;
use serde::de::{Deserializer, MapAccess, Visitor};
use serde::Deserialize;

use super::allowlist;
use super::{CollectorState, DecodeError, OwnedAnonymousRecord, MAX_VERSION_LEN};
use crate::customer::CustomerClass;
use crate::token::BrokerToken;

/// The most bytes a record of ours can take: a customer record with every allowlisted
/// setting at its longest value stays well below it. Anything longer is not our record.
pub const MAX_RECORD_LEN: usize = 64 * 1024;

/// What a checked record says about itself.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Checked {
    /// `brokerProcessUUID`: the token of the run that made it.
    pub token: BrokerToken,
    /// `collectorState`.
    pub state: CollectorState,
    /// `timestamp`, seconds since the Unix epoch.
    pub timestamp: u64,
    /// A customer record (with customer facts), not an anonymous one.
    pub customer: bool,
    /// Whose record: anonymous, the test ID `c0`, or a licensed customer. A customer record
    /// whose `customerId` is not a customer ID is not one of ours.
    pub class: CustomerClass,
}

impl Checked {
    /// Whether the record belongs on an endpoint whose last path segment is `suffix`
    /// (`anon`, `test` or `submit`): an anonymous record on `anon`, a `c0` record on `test`,
    /// a licensed customer's on `submit`. The agent chooses its endpoint by the same rule.
    pub fn fits_endpoint(&self, suffix: &str) -> bool {
        self.class.endpoint_suffix() == suffix
    }
}

/// Whether `bytes` are one of our records: at most [`MAX_RECORD_LEN`] bytes, JSON of exactly
/// the anonymous or the customer record's keys with their types, a well-formed token, no
/// control character in any string, and broker settings the allowlist allows. Whitespace may
/// surround it.
pub fn check_record(bytes: &[u8]) -> Result<Checked, DecodeError> {
    if bytes.len() > MAX_RECORD_LEN {
        return Err(DecodeError::DecodeJson);
    }
    match OwnedAnonymousRecord::decode(bytes) {
        // The anonymous shape with a bad token or a control character: say so, rather than
        // that it is no shape.
        Err(e @ (DecodeError::DecodeBadToken | DecodeError::DecodeControlCharacter)) => {
            return Err(e)
        }
        Err(_) => {}
        Ok(r) => {
            return checked(
                r.timestamp,
                &r.broker_process_uuid,
                r.collector_state,
                CustomerClass::Anonymous,
            )
        }
    }
    let mut scratch = [0u8; allowlist::MAX_VALUE + 64];
    let (r, _): (CustomerShape, usize) = serde_json_core::from_slice_escaped(bytes, &mut scratch)
        .map_err(|e| match e {
        serde_json_core::de::Error::TrailingCharacters => DecodeError::DecodeTrailingBytes,
        _ => DecodeError::DecodeJson,
    })?;
    let class = match CustomerClass::of(&r.customer_id) {
        Some(c @ (CustomerClass::Test | CustomerClass::Customer)) => c,
        _ => return Err(DecodeError::DecodeJson),
    };
    // The customer ID and the broker settings have stricter rules of their own.
    let strings = [
        Some(r.kafka_version.as_str()),
        r.confluent_platform_version.as_deref(),
        Some(r.cluster_id.as_str()),
        Some(r.host.os.as_str()),
        Some(r.host.arch.as_str()),
    ];
    if super::any_control(strings.into_iter().flatten()) {
        return Err(DecodeError::DecodeControlCharacter);
    }
    checked(
        r.timestamp,
        &r.broker_process_uuid,
        r.collector_state,
        class,
    )
}

fn checked(
    timestamp: u64,
    token: &str,
    state: CollectorState,
    class: CustomerClass,
) -> Result<Checked, DecodeError> {
    let token = BrokerToken::parse(token).ok_or(DecodeError::DecodeBadToken)?;
    Ok(Checked {
        token,
        state,
        timestamp,
        customer: class != CustomerClass::Anonymous,
        class,
    })
}

/// The customer record's shape, for checking only (the encoder's description is
/// `CustomerRecord`'s `Fields`; the schema test holds the two together).
#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[allow(dead_code)]
struct CustomerShape {
    timestamp: u64,
    kafka_version: String<MAX_VERSION_LEN>,
    #[serde(deserialize_with = "super::record::present")]
    confluent_platform_version: Option<String<MAX_VERSION_LEN>>,
    #[serde(rename = "brokerProcessUUID")]
    broker_process_uuid: String<36>,
    collector_state: CollectorState,
    customer_id: String<{ crate::customer::MAX_LEN }>,
    cluster_id: String<MAX_VERSION_LEN>,
    broker_id: Option<i64>,
    cluster: ClusterShape,
    host: HostShape,
    agent_uptime_secs: u64,
    broker_configuration: AllowedShape,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[allow(dead_code)]
struct ClusterShape {
    brokers: u32,
    topics: u32,
    partitions: u32,
    replication_factor_histogram: [u32; 6],
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[allow(dead_code)]
struct HostShape {
    os: String<32>,
    arch: String<32>,
    cpus: u32,
    memory_bytes: u64,
}

/// `brokerConfiguration`: an object whose every entry the allowlist allows.
struct AllowedShape;

impl<'de> Deserialize<'de> for AllowedShape {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Entries;
        impl<'de> Visitor<'de> for Entries {
            type Value = AllowedShape;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("allowlisted broker settings")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<AllowedShape, A::Error> {
                while let Some(key) = map.next_key::<String<128>>()? {
                    let value: String<{ allowlist::MAX_VALUE }> = map.next_value()?;
                    if !allowlist::allows(&key, &value) {
                        return Err(serde::de::Error::custom("setting not allowlisted"));
                    }
                }
                Ok(AllowedShape)
            }
        }
        d.deserialize_map(Entries)
    }
}

#[cfg(test)]
mod tests;
