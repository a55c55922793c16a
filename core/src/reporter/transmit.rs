//! Transmits: handing records to the sinks, and what their answers change.

use super::delivery::{Retry, Settled};
use super::{
    Event, Failure, Output, Phase, RecordId, RemoveReason, Reporter, Sink, Target, MAX_REJECTIONS,
};
use crate::time::Instant;

impl Reporter {
    /// A transmit came back: deliver, fall back to plain HTTP, or schedule a retry.
    pub(super) fn settle(&mut self, id: RecordId, target: Target, failure: Option<Failure>) {
        let sink = target.sink();
        let pending = self.table.get(id).is_some_and(|e| e.pending.contains(sink));
        // A refusal for good may be this record's fault, not the sink's: while other records
        // are due, the sink goes on with them at once; the record waits a whole interval.
        let others_waiting = self.table.others_due(sink, id, self.now);
        let retry = Retry {
            fallback: self.config.http_insecure(),
            initial: self.config.retry_initial,
            interval: self.config.interval,
            others_waiting,
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
                // Refused for good: the record's next try is an interval away, whatever the
                // sink does meanwhile.
                let retry_in = if failure.is_fatal() {
                    self.rejected(id);
                    self.config.interval
                } else {
                    retry_in
                };
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
        let Some(entry) = self.table.get_mut(id) else {
            return;
        };
        entry.rejections = entry.rejections.saturating_add(1);
        entry.not_before = self.now + self.config.interval;
        entry.dirty = true;
        if entry.rejections >= MAX_REJECTIONS {
            self.table.remove(id, RemoveReason::Rejected);
        }
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
        let shutting_down = matches!(self.phase, Phase::ShuttingDown { .. });
        // While stopping, only the final record is sent, once per sink, without waiting for
        // backoff; older records stay in the spool for the next start.
        let candidate = if shutting_down {
            self.final_record
                .filter(|(_, settled)| !settled.contains(sink) && self.sinks.contains(sink))
                .map(|(id, _)| id)
        } else {
            self.table.next_for(sink, self.now)
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
            Phase::ShuttingDown { deadline } => deadline,
            Phase::Running => {
                let now = self.now;
                let due = Sink::ALL
                    .into_iter()
                    .filter(|&s| self.delivery.is_idle(s))
                    .filter_map(|s| self.table.next_due(s, now))
                    .min()
                    .unwrap_or(Instant::MAX);
                self.next_report.min(due).min(
                    self.delivery
                        .wake(now, |sink| self.table.next_for(sink, now).is_some()),
                )
            }
            Phase::Stopped => Instant::MAX,
        }
    }
}
