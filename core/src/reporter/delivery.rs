//! Delivery: per-sink state (at most one transmit in flight, backoff after failures, the last
//! failure for quiet logging), the HTTPS-to-HTTP fallback, and choosing each sink's next
//! transmit. States are indexed by [`Sink`], so a new sink is a new index, not new fields.

use crate::rand::Rng;
use crate::time::{Duration, Instant};

use super::vocab::{Failure, RecordId, Sink, Target};

/// A transmit handed to the shell and not yet answered.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct InFlight {
    id: RecordId,
    target: Target,
    /// `Output::Transmit` has been returned for it.
    sent: bool,
}

/// Delivery state of one sink.
#[derive(Clone, Debug, Default)]
struct SinkState {
    in_flight: Option<InFlight>,
    failures: u32,
    next_attempt: Instant,
    last_failure: Option<Failure>,
    last_fallback: Option<Failure>,
}

/// What an answer did to its sink.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Settled {
    /// The sink took the record; `recovered` after earlier failures.
    Delivered { recovered: bool },
    /// HTTPS failed; the same record goes to plain HTTP next.
    FellBack { failure: Failure, repeated: bool },
    /// The record left the table while in flight: nothing more to do for it.
    Abandoned,
    /// The attempt failed; the sink waits `retry_in`.
    Failed {
        failure: Failure,
        retry_in: Duration,
        repeated: bool,
    },
}

/// How failures are retried.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Retry {
    /// Plain HTTP is there to fall back to.
    pub(crate) fallback: bool,
    /// First retry delay.
    pub(crate) initial: Duration,
    /// Longest delay, and the wait after a fatal failure.
    pub(crate) interval: Duration,
}

/// Every sink's delivery state.
#[derive(Clone, Debug, Default)]
pub(crate) struct Delivery {
    sinks: [SinkState; Sink::COUNT],
}

impl Delivery {
    /// Every sink may try at once from `now`.
    pub(crate) fn new(now: Instant) -> Self {
        let mut d = Delivery::default();
        for s in &mut d.sinks {
            s.next_attempt = now;
        }
        d
    }

    /// Whether `id` was handed out for `sink` to `target` and not yet answered.
    pub(crate) fn awaits(&self, sink: Sink, id: RecordId, target: Target) -> bool {
        matches!(self.sinks[sink.index()].in_flight,
            Some(f) if f.sent && f.id == id && f.target == target)
    }

    /// Whether any sink has `id` in flight.
    pub(crate) fn busy(&self, id: RecordId) -> bool {
        self.sinks
            .iter()
            .any(|s| s.in_flight.is_some_and(|f| f.id == id))
    }

    /// Lets `sink` try again at `now`, whatever its backoff.
    pub(crate) fn retry_now(&mut self, sink: Sink, now: Instant) {
        self.sinks[sink.index()].next_attempt = now;
    }

    /// When `sink` may try next (its backoff), or `None` while it has a transmit in flight.
    pub(crate) fn ready_at(&self, sink: Sink) -> Option<Instant> {
        let s = &self.sinks[sink.index()];
        s.in_flight.is_none().then_some(s.next_attempt)
    }

    /// Whether no sink has anything in flight.
    pub(crate) fn idle(&self) -> bool {
        self.sinks.iter().all(|s| s.in_flight.is_none())
    }

    /// An answer for `sink`: `failure` is `None` for a delivery; `pending` says whether the
    /// record still waits for this sink (it may have been evicted meanwhile).
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn settle(
        &mut self,
        now: Instant,
        sink: Sink,
        target: Target,
        failure: Option<Failure>,
        pending: bool,
        retry: Retry,
        rng: &mut Rng,
    ) -> Settled {
        let state = &mut self.sinks[sink.index()];
        let Some(failure) = failure else {
            state.in_flight = None;
            state.failures = 0;
            state.next_attempt = now;
            if target == Target::SecureEndpoint {
                state.last_fallback = None;
            }
            let recovered = state.last_failure.take().is_some();
            return Settled::Delivered { recovered };
        };
        if target == Target::SecureEndpoint && retry.fallback && pending {
            let repeated = state.last_fallback == Some(failure);
            state.last_fallback = Some(failure);
            if let Some(f) = &mut state.in_flight {
                f.target = Target::InsecureEndpoint;
                f.sent = false;
            }
            return Settled::FellBack { failure, repeated };
        }
        state.in_flight = None;
        if !pending {
            // The attempt was abandoned with its record: it says too little about the sink to
            // delay the records still waiting.
            return Settled::Abandoned;
        }
        let random = rng.next_u64();
        state.failures = state.failures.saturating_add(1);
        let retry_in = if failure.is_fatal() {
            retry.interval
        } else {
            backoff(retry.initial, retry.interval, state.failures, random)
        };
        state.next_attempt = now + retry_in;
        let repeated = state.last_failure == Some(failure);
        state.last_failure = Some(failure);
        Settled::Failed {
            failure,
            retry_in,
            repeated,
        }
    }

    /// The next transmit for `sink`: a fallback waiting to be sent, else `candidate` if the
    /// sink is idle and its backoff is over (`urgent` ignores the backoff). `first` is the
    /// target of a new attempt on an HTTP sink.
    pub(crate) fn next_transmit(
        &mut self,
        now: Instant,
        sink: Sink,
        candidate: Option<RecordId>,
        urgent: bool,
        first: Target,
    ) -> Option<(RecordId, Target)> {
        let state = &mut self.sinks[sink.index()];
        if let Some(f) = &mut state.in_flight {
            if f.sent {
                return None;
            }
            f.sent = true;
            return Some((f.id, f.target));
        }
        let id = candidate?;
        if !urgent && now < state.next_attempt {
            return None;
        }
        let target = match sink {
            Sink::Topic => Target::Topic,
            Sink::Http => first,
        };
        state.in_flight = Some(InFlight {
            id,
            target,
            sent: true,
        });
        Some((id, target))
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
