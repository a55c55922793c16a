//! The two logical sinks (topic, HTTP), sets of them, and per-sink delivery state.

use crate::time::{Duration, Instant};

use super::output::{Failure, RecordId, Target};

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
    /// Both sinks, in the order they are served.
    pub const ALL: [Sink; 2] = [Sink::Topic, Sink::Http];

    fn bit(self) -> u8 {
        match self {
            Sink::Topic => 1,
            Sink::Http => 2,
        }
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
    /// Topic and HTTP.
    pub const ALL: Sinks = Sinks(3);

    /// The set stored as `bits`; unknown bits are ignored.
    pub const fn from_bits(bits: u8) -> Self {
        Sinks(bits & 3)
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

    /// The sinks in the set, topic first.
    pub fn iter(self) -> impl Iterator<Item = Sink> {
        Sink::ALL.into_iter().filter(move |s| self.contains(*s))
    }
}

impl From<Sink> for Sinks {
    fn from(s: Sink) -> Sinks {
        Sinks(s.bit())
    }
}

/// A transmit handed to the shell and not yet answered.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct InFlight {
    pub(crate) id: RecordId,
    pub(crate) target: Target,
    /// `Output::Transmit` has been returned for it.
    pub(crate) sent: bool,
}

/// Delivery state of one sink: at most one transmit in flight, backoff after failures, and
/// the last failure for quiet logging.
#[derive(Clone, Debug, Default)]
pub(crate) struct SinkState {
    pub(crate) in_flight: Option<InFlight>,
    pub(crate) failures: u32,
    pub(crate) next_attempt: Instant,
    pub(crate) last_failure: Option<Failure>,
    pub(crate) last_fallback: Option<Failure>,
}

impl SinkState {
    pub(crate) fn is_idle(&self) -> bool {
        self.in_flight.is_none()
    }
}

/// Exponential backoff with "equal jitter": the `failures`-th retry waits between half and all
/// of `initial * 2^(failures-1)`, never more than `cap`.
pub(crate) fn backoff(initial: Duration, cap: Duration, failures: u32, random: u64) -> Duration {
    let shift = failures.saturating_sub(1).min(63);
    let full = initial
        .as_millis()
        .saturating_mul(1u64 << shift)
        .min(cap.as_millis());
    let half = full / 2;
    Duration::from_millis(half + random % (full - half + 1))
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
        let mut it = Sinks::ALL.iter();
        assert_eq!(
            (it.next(), it.next(), it.next()),
            (Some(Sink::Topic), Some(Sink::Http), None)
        );
        s.remove(Sink::Http);
        assert!(s.is_empty());
    }

    #[test]
    fn backoff_doubles_with_jitter_and_caps() {
        let initial = Duration::from_secs(30);
        let cap = Duration::from_hours(1);
        for (n, full) in [
            (1, 30_000u64),
            (2, 60_000),
            (3, 120_000),
            (8, 3_600_000),
            (100, 3_600_000),
        ] {
            let lo = backoff(initial, cap, n, 0).as_millis();
            let hi = backoff(initial, cap, n, full / 2).as_millis();
            assert_eq!((lo, hi), (full / 2, full), "failure {n}");
            for r in [1, 12345, u64::MAX] {
                let d = backoff(initial, cap, n, r).as_millis();
                assert!(d >= full / 2 && d <= full, "failure {n}: {d}");
            }
        }
        // Never beyond the cap, whatever the initial delay.
        assert!(backoff(Duration::from_hours(5), cap, 1, u64::MAX).as_millis() <= 3_600_000);
    }
}
