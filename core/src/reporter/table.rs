//! The reporter's view of the spool: which records exist and what each still needs. No
//! payloads: the shell's spool holds the bytes.

use heapless::{Deque, Vec};

use crate::time::Instant;
use crate::token::BrokerToken;
use crate::wire::CollectorState;

use super::config::SPOOL_CAPACITY;
use super::output::RemoveReason;
use super::vocab::{RecordId, Sink, Sinks};

/// Most spool removals a single input can cause, with room to spare.
const REMOVALS: usize = 8;

#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Entry {
    pub(crate) id: RecordId,
    /// `None` for records from an earlier run: their bytes are already in the spool.
    pub(crate) made: Option<(u64, CollectorState)>,
    /// The token of the run that made it: the topic message's key.
    pub(crate) key: Option<BrokerToken>,
    pub(crate) pending: Sinks,
    /// The spool does not have it yet (`Write` not emitted).
    pub(crate) unwritten: bool,
    /// The spool's `pending` or `rejections` are stale (`Update` not emitted).
    pub(crate) dirty: bool,
    /// Permanent refusals so far.
    pub(crate) rejections: u8,
    /// Not sent before this instant: a record refused for good waits a whole interval for
    /// its next try, while the others go on.
    pub(crate) not_before: Instant,
    /// The shell could not store it: it lives in memory only.
    pub(crate) volatile: bool,
}

/// Records oldest first, plus the removals the shell has not been told about yet.
#[derive(Clone, Debug, Default)]
pub(crate) struct Table {
    entries: Vec<Entry, SPOOL_CAPACITY>,
    removals: Deque<(RecordId, RemoveReason), REMOVALS>,
}

impl Table {
    pub(crate) fn len(&self) -> usize {
        self.entries.len()
    }

    pub(crate) fn contains(&self, id: RecordId) -> bool {
        self.get(id).is_some()
    }

    pub(crate) fn get_mut(&mut self, id: RecordId) -> Option<&mut Entry> {
        self.entries.iter_mut().find(|e| e.id == id)
    }

    pub(crate) fn get(&self, id: RecordId) -> Option<&Entry> {
        self.entries.iter().find(|e| e.id == id)
    }

    /// Adds `entry`; at `cap`, first drops the oldest record not in `busy` (or the oldest
    /// of all when every one is busy), which the shell then hears about as `DroppedByCap`.
    pub(crate) fn push(&mut self, entry: Entry, cap: usize, busy: impl Fn(RecordId) -> bool) {
        while self.entries.len() >= cap {
            let victim = self.entries.iter().position(|e| !busy(e.id)).unwrap_or(0);
            if let Some(old) = self.remove_at(victim) {
                self.note_removal(old.id, RemoveReason::DroppedByCap);
            }
        }
        // Cannot fail: the loop made room (cap <= SPOOL_CAPACITY).
        let _ = self.entries.push(entry);
    }

    /// The sink took the record: forget it when nothing is pending any more.
    pub(crate) fn delivered(&mut self, id: RecordId, sink: Sink) {
        self.change(id, RemoveReason::Delivered, |e| {
            e.pending.remove(sink);
            e.pending.is_empty()
        });
    }

    /// A sink refused the record for good: it waits until `until`, and leaves after
    /// `max` refusals.
    pub(crate) fn refused(&mut self, id: RecordId, until: Instant, max: u8) {
        self.change(id, RemoveReason::Rejected, |e| {
            e.rejections = e.rejections.saturating_add(1);
            e.not_before = until;
            e.rejections >= max
        });
    }

    /// Applies `f` to record `id`; it leaves the table for `reason` when `f` says so, else
    /// its new state is due in the spool (`dirty`).
    fn change(&mut self, id: RecordId, reason: RemoveReason, f: impl FnOnce(&mut Entry) -> bool) {
        let Some(pos) = self.entries.iter().position(|e| e.id == id) else {
            return;
        };
        let entry = &mut self.entries[pos];
        if !f(entry) {
            entry.dirty = true;
        } else if self.remove_at(pos).is_some() {
            self.note_removal(id, reason);
        }
    }

    /// `Vec::remove`, keeping the order, by swaps: the one `memmove` call in the core would
    /// link 1.5 KiB of `memmove` on a microcontroller. At most 32 entries of a few words.
    fn remove_at(&mut self, i: usize) -> Option<Entry> {
        let last = self.entries.len().checked_sub(1)?;
        for j in i..last {
            self.entries.swap(j, j + 1);
        }
        self.entries.pop()
    }

    pub(crate) fn note_removal(&mut self, id: RecordId, reason: RemoveReason) {
        // The drain contract bounds removals per input well below the capacity.
        let pushed = self.removals.push_back((id, reason));
        debug_assert!(pushed.is_ok(), "removal queue overflow");
    }

    pub(crate) fn next_removal(&mut self) -> Option<(RecordId, RemoveReason)> {
        self.removals.pop_front()
    }

    pub(crate) fn next_unwritten(&mut self) -> Option<&mut Entry> {
        self.entries.iter_mut().find(|e| e.unwritten)
    }

    pub(crate) fn next_dirty(&mut self) -> Option<&mut Entry> {
        self.entries.iter_mut().find(|e| e.dirty && !e.unwritten)
    }

    /// The written record `sink` should try at `now` (of those pending for it and due, the
    /// oldest among the least often refused, so a refused record never holds back one never
    /// refused), and when `sink` next has work: `now` if there is such a record, else when
    /// the first refused one becomes due.
    pub(crate) fn next_for(&self, sink: Sink, now: Instant) -> (Option<RecordId>, Instant) {
        let mut best: Option<&Entry> = None;
        let mut work = Instant::MAX;
        for e in self.entries.iter() {
            if !e.pending.contains(sink) || e.unwritten {
                continue;
            }
            work = work.min(e.not_before.max(now));
            if e.not_before <= now && best.is_none_or(|b| e.rejections < b.rejections) {
                best = Some(e);
            }
        }
        (best.map(|e| e.id), work)
    }

    /// Records only in memory (their spool write failed), still pending somewhere.
    pub(crate) fn volatile(&self) -> usize {
        self.entries.iter().filter(|e| e.volatile).count()
    }
}
