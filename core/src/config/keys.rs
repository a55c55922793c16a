//! The Proactive Support keys of `server.properties`, and suggestions for near misses.

use core::fmt;

/// Prefix shared by every Proactive Support key; an unknown key under it draws a warning.
pub const PREFIX: &str = "confluent.support.";

/// Prefix of Kafka client settings passed through to the topic's producer and admin client
/// (`confluent.support.metrics.client.security.protocol=SSL` sets `security.protocol`).
pub const CLIENT_PREFIX: &str = "confluent.support.metrics.client.";

/// A Proactive Support setting.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Key {
    /// `confluent.support.metrics.enable`
    Enable,
    /// `confluent.support.customer.id`
    CustomerId,
    /// `confluent.support.metrics.report.interval.hours`
    ReportIntervalHours,
    /// `confluent.support.metrics.topic`
    Topic,
    /// `confluent.support.metrics.endpoint.secure`
    SecureEndpoint,
    /// `confluent.support.metrics.endpoint.insecure`
    InsecureEndpoint,
    /// `confluent.support.metrics.endpoint.secure.enable`
    SecureEndpointEnable,
    /// `confluent.support.metrics.endpoint.insecure.enable`
    InsecureEndpointEnable,
    /// `confluent.support.proxy`
    Proxy,
    /// `confluent.support.metrics.bootstrap.servers`
    BootstrapServers,
    /// `confluent.support.metrics.endpoint.ca.file`
    EndpointCaFile,
    /// `confluent.support.metrics.spool.dir`
    SpoolDir,
}

impl Key {
    /// Every key, in the order the docs list them.
    pub const ALL: [Key; 12] = [
        Key::Enable,
        Key::CustomerId,
        Key::ReportIntervalHours,
        Key::Topic,
        Key::SecureEndpoint,
        Key::InsecureEndpoint,
        Key::SecureEndpointEnable,
        Key::InsecureEndpointEnable,
        Key::Proxy,
        Key::BootstrapServers,
        Key::EndpointCaFile,
        Key::SpoolDir,
    ];

    /// The property name.
    pub const fn name(self) -> &'static str {
        match self {
            Key::Enable => "confluent.support.metrics.enable",
            Key::CustomerId => "confluent.support.customer.id",
            Key::ReportIntervalHours => "confluent.support.metrics.report.interval.hours",
            Key::Topic => "confluent.support.metrics.topic",
            Key::SecureEndpoint => "confluent.support.metrics.endpoint.secure",
            Key::InsecureEndpoint => "confluent.support.metrics.endpoint.insecure",
            Key::SecureEndpointEnable => "confluent.support.metrics.endpoint.secure.enable",
            Key::InsecureEndpointEnable => "confluent.support.metrics.endpoint.insecure.enable",
            Key::Proxy => "confluent.support.proxy",
            Key::BootstrapServers => "confluent.support.metrics.bootstrap.servers",
            Key::EndpointCaFile => "confluent.support.metrics.endpoint.ca.file",
            Key::SpoolDir => "confluent.support.metrics.spool.dir",
        }
    }

    /// The key with this exact (case-sensitive) name.
    pub fn from_name(name: &str) -> Option<Key> {
        Key::ALL.into_iter().find(|k| k.name() == name)
    }

    pub(crate) fn index(self) -> usize {
        self as usize
    }
}

impl fmt::Display for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// What to tell the operator about an unknown `confluent.support.*` key.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Suggestion {
    /// An old name the reference renamed; the new key is this one.
    Renamed(Key),
    /// Probably a typo of this key.
    DidYouMean(Key),
    /// Nothing close.
    None,
}

/// Words that make a setting's value a secret wherever they appear in its key, in any case:
/// such values are shown as `***` by every command unless asked for. The customer record's
/// allowlist, the other way round, holds no key with one of them.
pub const SECRET_WORDS: [&str; 6] = ["password", "secret", "jaas", "key", "token", "credential"];

/// Whether the value of `key` is a secret (see [`SECRET_WORDS`]).
pub fn is_secret_key(key: &str) -> bool {
    let key = key.as_bytes();
    SECRET_WORDS.iter().any(|word| {
        key.windows(word.len())
            .any(|w| w.eq_ignore_ascii_case(word.as_bytes()))
    })
}

/// Keys the reference implementation once used, and what they are called now.
const RENAMED: [(&str, Key); 4] = [
    (
        "confluent.support.report.interval.hours",
        Key::ReportIntervalHours,
    ),
    ("confluent.support.internal.kafka.topic", Key::Topic),
    ("confluent.support.confluent.http", Key::InsecureEndpoint),
    ("confluent.support.confluent.https", Key::SecureEndpoint),
];

/// Longest key compared for typos; longer unknown keys get no suggestion.
const MAX_COMPARED: usize = 96;

/// A suggestion for an unknown key under [`PREFIX`].
pub fn suggest(unknown: &str) -> Suggestion {
    if let Some((_, key)) = RENAMED.iter().find(|(old, _)| *old == unknown) {
        return Suggestion::Renamed(*key);
    }
    let best = Key::ALL
        .into_iter()
        .filter_map(|k| edit_distance(unknown.as_bytes(), k.name().as_bytes()).map(|d| (d, k)))
        .min_by_key(|(d, _)| *d);
    match best {
        Some((d, k)) if d <= 3 => Suggestion::DidYouMean(k),
        _ => Suggestion::None,
    }
}

/// Levenshtein distance on bytes, case-insensitive; `None` when an input is too long.
fn edit_distance(a: &[u8], b: &[u8]) -> Option<usize> {
    if a.len() > MAX_COMPARED || b.len() > MAX_COMPARED {
        return None;
    }
    let mut row = [0usize; MAX_COMPARED + 1];
    for (j, cell) in row.iter_mut().enumerate().take(b.len() + 1) {
        *cell = j;
    }
    for (i, ca) in a.iter().enumerate() {
        let mut diagonal = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let substitute = diagonal + usize::from(!ca.eq_ignore_ascii_case(cb));
            diagonal = row[j + 1];
            row[j + 1] = substitute.min(row[j] + 1).min(row[j + 1] + 1);
        }
    }
    Some(row[b.len()])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for k in Key::ALL {
            assert_eq!(Key::from_name(k.name()), Some(k));
            assert!(k.name().starts_with(PREFIX));
            assert_eq!(Key::ALL[k.index()], k);
        }
        assert_eq!(Key::from_name("Confluent.support.metrics.enable"), None);
    }

    #[test]
    fn suggestions() {
        assert_eq!(
            suggest("confluent.support.report.interval.hours"),
            Suggestion::Renamed(Key::ReportIntervalHours)
        );
        assert_eq!(
            suggest("confluent.support.confluent.https"),
            Suggestion::Renamed(Key::SecureEndpoint)
        );
        assert_eq!(
            suggest("confluent.support.metrics.enabled"),
            Suggestion::DidYouMean(Key::Enable)
        );
        assert_eq!(
            suggest("confluent.support.customerid"),
            Suggestion::DidYouMean(Key::CustomerId)
        );
        assert_eq!(
            suggest("confluent.support.metrics.topik"),
            Suggestion::DidYouMean(Key::Topic)
        );
        assert_eq!(
            suggest("confluent.support.something.else.entirely"),
            Suggestion::None
        );
        assert_eq!(edit_distance(b"kitten", b"sitting"), Some(3));
        assert_eq!(edit_distance(b"", b"abc"), Some(3));
        assert_eq!(edit_distance(&[b'a'; 200], b"a"), None);
    }
}
