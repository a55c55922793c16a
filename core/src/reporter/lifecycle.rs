//! The broker's and the agent's lifecycle: when reports are due, the final record of a
//! broker run (when the broker stops, or the agent), and when the reporter stops.

use crate::jitter::jitter;
use crate::time::{Duration, Instant};
use crate::token::BrokerToken;
use crate::wire::CollectorState;

use super::{Collect, Event, Phase, Reporter, Sinks, UsageError};

impl Reporter {
    /// `Input::Shutdown`: the final record of a running broker, then stop.
    pub(super) fn shutdown(&mut self) {
        match self.phase {
            Phase::Running => self.final_report(true),
            Phase::Final { deadline, .. } => {
                self.phase = Phase::Final {
                    deadline,
                    stop: true,
                }
            }
            // The broker is down: its final record went out when it stopped.
            _ => self.phase = Phase::Stopped,
        }
    }

    /// `Input::BrokerUp`: a new broker run, with a token of its own.
    pub(super) fn broker_up(&mut self, now: Instant, entropy: [u8; 16]) -> Result<(), UsageError> {
        if self.phase != Phase::Waiting {
            return Err(UsageError::BrokerState);
        }
        self.now = now;
        self.token = BrokerToken::from_random_bytes(entropy);
        self.next_report = now + self.config.settle;
        self.phase = Phase::Running;
        Ok(())
    }

    /// `Input::BrokerDown`: the final record of this broker run, then no reports.
    pub(super) fn broker_down(&mut self, now: Instant) -> Result<(), UsageError> {
        if self.phase != Phase::Running {
            return Err(UsageError::BrokerState);
        }
        self.now = now;
        self.final_report(false);
        Ok(())
    }

    /// Time-driven transitions: the regular report and the shutdown deadline.
    pub(super) fn advance(&mut self) {
        match self.phase {
            Phase::Running if self.now >= self.next_report => {
                self.collect = Collect::Requested(CollectorState::Running);
                let interval = self.config.interval.as_millis();
                let wait = jitter(interval, self.rng.next_u64());
                self.next_report = self.now + Duration::from_millis(wait);
            }
            Phase::Final { deadline, stop } if self.now >= deadline => {
                let settled = self.final_record.map_or(Sinks::NONE, |(_, s)| s);
                let unconfirmed = self.sinks.without(settled);
                if !unconfirmed.is_empty() {
                    self.push_event(Event::ShutdownIncomplete { unconfirmed });
                }
                self.final_done(stop);
            }
            _ => {}
        }
    }

    /// Asks for the final record of this broker run; `stop` when the agent stops after it.
    pub(super) fn final_report(&mut self, stop: bool) {
        let deadline = self.now + self.config.shutdown_grace;
        self.phase = Phase::Final { deadline, stop };
        self.collect = Collect::Requested(CollectorState::ShuttingDown);
    }

    /// The final record is settled (or its time is up): stop, or wait for the broker.
    pub(super) fn final_done(&mut self, stop: bool) {
        self.final_record = None;
        self.next_report = Instant::MAX;
        self.phase = if stop { Phase::Stopped } else { Phase::Waiting };
    }

    pub(super) fn shutdown_complete(&self) -> Option<bool> {
        match self.phase {
            Phase::Final { stop, .. }
                if self.collect == Collect::Idle
                    && self
                        .final_record
                        .is_some_and(|(_, s)| self.sinks.intersect(s) == self.sinks) =>
            {
                Some(stop)
            }
            _ => None,
        }
    }

    /// One cycle is over once its record was made and no sink has anything in flight: every
    /// record was tried on every sink (a sink that failed waits out its backoff, and a
    /// one-cycle run does not wait with it).
    pub(super) fn cycle_complete(&self) -> bool {
        self.config.one_cycle
            && self.phase == Phase::Running
            && self.collected_any
            && self.collect == Collect::Idle
            && self.delivery.idle()
    }
}
