//! The words the reporter and its shell share: records, sinks, targets, and what a delivery
//! attempt gave. A leaf: nothing else of the reporter is imported here.

use core::fmt;

/// A record's identity, unique across runs (the spool keeps it): 1 to
/// [`MAX`](Self::MAX).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct RecordId(pub u64);

impl RecordId {
    /// The highest id a record may have: far below `u64::MAX`, so the id after the highest
    /// spooled one always exists and never collides with it.
    pub const MAX: u64 = u64::MAX / 2;

    /// Whether this id is one the reporter hands out (1 to [`MAX`](Self::MAX)).
    pub const fn is_valid(self) -> bool {
        self.0 >= 1 && self.0 <= Self::MAX
    }
}

impl fmt::Display for RecordId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "#{}", self.0)
    }
}

/// A logical destination of every record.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Sink {
    /// The internal Kafka topic.
    Topic,
    /// The vendor endpoint: HTTPS, falling back to HTTP.
    Http,
}

impl Sink {
    /// Every sink, in the order they are served.
    pub const ALL: [Sink; 2] = [Sink::Topic, Sink::Http];
    /// How many sinks there are.
    pub const COUNT: usize = Self::ALL.len();

    /// The sink's position in [`ALL`](Self::ALL), for per-sink arrays.
    pub const fn index(self) -> usize {
        match self {
            Sink::Topic => 0,
            Sink::Http => 1,
        }
    }

    const fn bit(self) -> u8 {
        1 << self.index()
    }
}

/// A set of sinks, e.g. those a record is still pending for. Persisted by the shell as
/// [`bits`](Self::bits).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Sinks(u8);

impl Sinks {
    /// No sink.
    pub const NONE: Sinks = Sinks(0);
    /// Every sink.
    pub const ALL: Sinks = Sinks((1 << Sink::COUNT) - 1);

    /// The set stored as `bits`; unknown bits are ignored.
    pub const fn from_bits(bits: u8) -> Self {
        Sinks(bits & Self::ALL.0)
    }

    /// The stored form.
    pub const fn bits(self) -> u8 {
        self.0
    }

    /// Whether `sink` is in the set.
    pub fn contains(self, sink: Sink) -> bool {
        self.0 & sink.bit() != 0
    }

    /// Adds `sink`.
    pub fn insert(&mut self, sink: Sink) {
        self.0 |= sink.bit();
    }

    /// Removes `sink`.
    pub fn remove(&mut self, sink: Sink) {
        self.0 &= !sink.bit();
    }

    /// Whether the set is empty.
    pub fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// The sinks in both sets.
    pub fn intersect(self, other: Sinks) -> Sinks {
        Sinks(self.0 & other.0)
    }

    /// The sinks in `self` but not in `other`.
    pub fn without(self, other: Sinks) -> Sinks {
        Sinks(self.0 & !other.0)
    }

    /// The sinks in the set, in [`Sink::ALL`] order.
    pub fn iter(self) -> impl Iterator<Item = Sink> {
        Sink::ALL.into_iter().filter(move |s| self.contains(*s))
    }
}

impl From<Sink> for Sinks {
    fn from(s: Sink) -> Sinks {
        Sinks(s.bit())
    }
}

/// Where one transmit goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Target {
    /// Produce to the internal topic.
    Topic,
    /// POST to the HTTPS endpoint.
    SecureEndpoint,
    /// POST to the HTTP endpoint.
    InsecureEndpoint,
}

impl Target {
    /// The logical sink this target serves.
    pub fn sink(self) -> Sink {
        match self {
            Target::Topic => Sink::Topic,
            Target::SecureEndpoint | Target::InsecureEndpoint => Sink::Http,
        }
    }
}

/// What the Kafka producer reported for one record.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum TopicResult {
    /// Acknowledged by the cluster.
    Delivered,
    /// Failed, but may work later (broker down, timeout, not enough replicas).
    Retriable,
    /// Failed in a way that needs an operator (authorization, record too large): retried
    /// only once per interval.
    Fatal,
}

/// What one HTTP POST gave.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum HttpResult {
    /// A response arrived with this status; only 2xx is success.
    Status(u16),
    /// No response.
    Transport(TransportError),
}

/// Why a POST got no response.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum TransportError {
    /// Name resolution or TCP connect failed (includes the proxy).
    Connect,
    /// TLS handshake failed, e.g. a certificate nobody trusts.
    Tls,
    /// No answer in time.
    Timeout,
    /// Anything else (reset connection, malformed response).
    Other,
}

/// Why a delivery attempt failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Failure {
    /// The producer's verdict (never `Delivered`).
    Topic(TopicResult),
    /// An HTTP status other than 2xx.
    Status(u16),
    /// No HTTP response.
    Transport(TransportError),
}

impl Failure {
    /// The failure in a producer's answer; `None` for a delivery.
    pub(crate) fn of_topic(result: TopicResult) -> Option<Failure> {
        match result {
            TopicResult::Delivered => None,
            other => Some(Failure::Topic(other)),
        }
    }

    /// The failure in an HTTP answer; `None` for a 2xx status.
    pub(crate) fn of_http(result: HttpResult) -> Option<Failure> {
        match result {
            HttpResult::Status(s) if (200..300).contains(&s) => None,
            HttpResult::Status(s) => Some(Failure::Status(s)),
            HttpResult::Transport(e) => Some(Failure::Transport(e)),
        }
    }

    /// Retrying soon will not help: wait a whole interval.
    pub(crate) fn is_fatal(self) -> bool {
        match self {
            Failure::Topic(t) => t == TopicResult::Fatal,
            // A client error other than timeout / too many requests: the request is refused.
            Failure::Status(s) => (400..500).contains(&s) && s != 408 && s != 429,
            Failure::Transport(_) => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sets() {
        let mut s = Sinks::NONE;
        assert!(s.is_empty());
        s.insert(Sink::Http);
        assert!(s.contains(Sink::Http) && !s.contains(Sink::Topic));
        assert_eq!(s.bits(), 2);
        assert_eq!(Sinks::from_bits(0xff), Sinks::ALL);
        assert_eq!(
            Sinks::ALL.intersect(Sink::Topic.into()),
            Sinks::from_bits(1)
        );
        assert_eq!(Sinks::ALL.without(Sink::Topic.into()), Sink::Http.into());
        let mut it = Sinks::ALL.iter();
        assert_eq!(
            (it.next(), it.next(), it.next()),
            (Some(Sink::Topic), Some(Sink::Http), None)
        );
        s.remove(Sink::Http);
        assert!(s.is_empty());
        for (i, sink) in Sink::ALL.into_iter().enumerate() {
            assert_eq!(sink.index(), i);
        }
    }
}
