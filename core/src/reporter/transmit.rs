//! Transmits: handing records to the sinks, and what their answers change.

use super::delivery::{Retry, Settled};
use super::{Event, Failure, Output, Phase, RecordId, Reporter, Sink, Target, MAX_REJECTIONS};
use crate::time::Instant;

impl Reporter {
    /// A transmit came back: deliver, fall back to plain HTTP, or schedule a retry.
    pub(super) fn settle(&mut self, id: RecordId, target: Target, failure: Option<Failure>) {
        let sink = target.sink();
        let pending = self.table.get(id).is_some_and(|e| e.pending.contains(sink));
        let retry = Retry {
            fallback: self.config.http_insecure(),
            initial: self.config.retry_initial,
            interval: self.config.interval,
        };
        let settled = self.delivery.settle(
            self.now,
            sink,
            target,
            failure,
            pending,
            retry,
            &mut self.rng,
        );
        match settled {
            Settled::Delivered { recovered } => {
                self.table.delivered(id, sink);
                self.mark_final(id, sink);
                self.push_event(Event::Delivered { id, target });
                if recovered {
                    self.push_event(Event::Recovered { sink });
                }
            }
            Settled::FellBack { failure, repeated } => self.push_event(Event::FellBack {
                id,
                failure,
                repeated,
            }),
            Settled::Abandoned => {}
            Settled::Failed {
                failure,
                retry_in,
                repeated,
            } => {
                self.mark_final(id, sink);
                // Refused for good: the record waits a whole interval (`retry_in`), but that
                // may be its own fault, not the sink's: while other records are due, the sink
                // goes on with them at once.
                if failure.is_fatal() {
                    self.rejected(id);
                    if self.table.next_for(sink, self.now).0.is_some() {
                        self.delivery.retry_now(sink, self.now);
                    }
                }
                self.push_event(Event::Failed {
                    id,
                    target,
                    failure,
                    retry_in,
                    repeated,
                });
            }
        }
    }

    /// A sink refused `id` for good: count it, and past [`MAX_REJECTIONS`] move it aside.
    fn rejected(&mut self, id: RecordId) {
        let until = self.now + self.config.interval;
        self.table.refused(id, until, MAX_REJECTIONS);
    }

    pub(super) fn mark_final(&mut self, id: RecordId, sink: Sink) {
        if let Some((final_id, settled)) = &mut self.final_record {
            if *final_id == id {
                settled.insert(sink);
            }
        }
    }

    /// A transmit for `sink` if it is idle and due (or a fallback is waiting to be sent).
    pub(super) fn next_transmit(&mut self, sink: Sink) -> Option<Output> {
        let shutting_down = matches!(self.phase, Phase::Final { .. });
        // While stopping, only the final record is sent, once per sink, without waiting for
        // backoff; older records stay in the spool for the next start.
        let candidate = if shutting_down {
            self.final_record
                .filter(|(_, settled)| !settled.contains(sink) && self.sinks.contains(sink))
                .map(|(id, _)| id)
        } else {
            self.table.next_for(sink, self.now).0
        };
        let first = if self.config.http_secure() {
            Target::SecureEndpoint
        } else {
            Target::InsecureEndpoint
        };
        let (id, target) =
            self.delivery
                .next_transmit(self.now, sink, candidate, shutting_down, first)?;
        let key = self.table.get(id).and_then(|e| e.key);
        Some(Output::Transmit { id, target, key })
    }

    /// When the reporter wants to be woken: the next report, a sink's backoff ending, a
    /// refused record becoming due, or the shutdown deadline.
    pub(super) fn next_timeout(&self) -> Instant {
        match self.phase {
            Phase::Final { deadline, .. } => deadline,
            Phase::Running | Phase::Waiting => {
                let mut at = self.next_report;
                for sink in Sink::ALL {
                    if let Some(ready) = self.delivery.ready_at(sink) {
                        let (_, work) = self.table.next_for(sink, self.now);
                        at = at.min(work.max(ready));
                    }
                }
                at
            }
            Phase::Stopped => Instant::MAX,
        }
    }
}
