//! Collecting and writing records: the facts the shell brings, records from an earlier
//! run, and the encoding of every record into the spool's bytes.

use crate::token::{BrokerToken, TokenText};
use crate::wire::{
    AnonymousRecord, CollectorState, CustomerFacts, CustomerRecord, EncodeError, MAX_VERSION_LEN,
};

use super::table::Entry;
use super::{
    BufferTooSmall, Collect, CollectError, Event, Facts, RecordId, RemoveReason, Reporter, Sinks,
    SpoolOp, UsageError,
};
use crate::time::Instant;

impl Reporter {
    /// `Input::Collected` for a customer record. Customer facts are too big to keep until
    /// the next poll, so the record is encoded now into `buf`, and the returned
    /// `SpoolOp::Write` (its bytes are `buf[..len]`) must be stored before acting on the
    /// drain that follows, exactly as a polled write. On `Err` nothing changed: call again
    /// (with a bigger buffer for `BufferTooSmall`).
    pub fn handle_collected_customer(
        &mut self,
        now: Instant,
        unix_time_secs: u64,
        facts: Facts<'_>,
        customer: &CustomerFacts<'_>,
        buf: &mut [u8],
    ) -> Result<SpoolOp, CollectError> {
        self.check_input(now)?;
        let state = self.check_collected(&facts)?;
        if !self.config.customer {
            return Err(UsageError::NotACustomer.into());
        }
        let token = self.token.text();
        let record = CustomerRecord {
            anonymous: anonymous_record((unix_time_secs, state), facts, &token),
            facts: *customer,
        };
        let len = record.encode(buf).map_err(too_small)?;
        self.now = now;
        let id = self.collected(unix_time_secs, facts, state);
        let pending = self.pending_for(id).unwrap_or_default();
        if let Some(entry) = self.table.get_mut(id) {
            entry.unwritten = false;
        }
        self.undrained = true;
        Ok(SpoolOp::Write { id, pending, len })
    }

    /// A collection answer must be asked for and its facts must fit; the state to record.
    pub(super) fn check_collected(&self, facts: &Facts<'_>) -> Result<CollectorState, UsageError> {
        let Collect::Asked(state) = self.collect else {
            return Err(UsageError::NotCollecting);
        };
        if facts.kafka_version.len() > MAX_VERSION_LEN
            || facts
                .platform_version
                .is_some_and(|v| v.len() > MAX_VERSION_LEN)
        {
            return Err(UsageError::FactTooLong);
        }
        Ok(state)
    }

    /// `Input::Spooled`: checked, then adopted.
    pub(super) fn spooled(
        &mut self,
        now: Instant,
        id: RecordId,
        pending: Sinks,
        (token, rejections): (Option<BrokerToken>, u8),
    ) -> Result<(), UsageError> {
        if self.collected_any {
            return Err(UsageError::SpoolAfterCollect);
        }
        if !id.is_valid() {
            return Err(UsageError::BadRecordId);
        }
        if self.table.contains(id) {
            return Err(UsageError::DuplicateRecord);
        }
        self.now = self.now.max(now);
        self.adopt(id, pending, token, rejections);
        Ok(())
    }

    /// `Input::WriteFailed`: the record lives in memory only, which the shell must say.
    pub(super) fn write_failed(&mut self, now: Instant, id: RecordId) -> Result<(), UsageError> {
        let entry = self.table.get_mut(id).filter(|e| e.made.is_some());
        let Some(entry) = entry else {
            return Err(UsageError::NotWritten);
        };
        entry.volatile = true;
        self.now = now;
        self.push_event(Event::NotDurable { id });
        Ok(())
    }

    /// A record from an earlier run: keep it for the sinks still enabled.
    fn adopt(&mut self, id: RecordId, pending: Sinks, token: Option<BrokerToken>, rejections: u8) {
        self.next_id = self.next_id.max(id.0.saturating_add(1));
        let still = pending.intersect(self.sinks);
        if still.is_empty() {
            self.table.note_removal(id, RemoveReason::SinksDisabled);
            return;
        }
        let entry = Entry {
            id,
            made: None,
            key: token,
            pending: still,
            unwritten: false,
            dirty: still != pending,
            rejections,
            volatile: false,
            not_before: Instant::default(),
        };
        self.push_entry(entry);
    }

    pub(super) fn collected(
        &mut self,
        unix_time_secs: u64,
        facts: Facts<'_>,
        state: CollectorState,
    ) -> RecordId {
        self.collect = Collect::Idle;
        self.collected_any = true;
        self.kafka_version.clear();

        // Lengths were checked by the caller.
        let _ = self.kafka_version.push_str(facts.kafka_version);
        self.platform_version.clear();
        let _ = self
            .platform_version
            .push_str(facts.platform_version.unwrap_or_default());
        let id = RecordId(self.next_id);
        self.next_id = self.next_id.saturating_add(1);
        let entry = Entry {
            id,
            made: Some((unix_time_secs, state)),
            key: Some(self.token),
            pending: self.sinks,
            unwritten: true,
            dirty: false,
            rejections: 0,
            volatile: false,
            not_before: Instant::default(),
        };
        self.push_entry(entry);
        if state == CollectorState::ShuttingDown {
            self.final_record = Some((id, Sinks::NONE));
        }
        self.push_event(Event::Collected { id, state });
        id
    }

    /// Adds a record at the spool cap, evicting the oldest one not in flight.
    pub(super) fn push_entry(&mut self, entry: Entry) {
        let delivery = &self.delivery;
        self.table
            .push(entry, self.config.cap(), |id| delivery.busy(id));
    }

    pub(super) fn next_write(&mut self, buf: &mut [u8]) -> Result<Option<SpoolOp>, BufferTooSmall> {
        let platform = Some(self.platform_version.as_str()).filter(|p| !p.is_empty());
        let versions = Facts::new(&self.kafka_version, platform);
        let Some(entry) = self.table.next_unwritten() else {
            return Ok(None);
        };
        let Some(made) = entry.made else {
            entry.unwritten = false;
            return Ok(None);
        };
        let token = entry.key.unwrap_or(self.token).text();
        // The bound rather than the exact length: on a microcontroller the exact count costs
        // 0.4 KiB of code, and a buffer of the bound is what it would allocate anyway.
        let len = anonymous_record(made, versions, &token)
            .encode_bounded(buf)
            .map_err(too_small)?;
        entry.unwritten = false;
        Ok(Some(SpoolOp::Write {
            id: entry.id,
            pending: entry.pending,
            len,
        }))
    }
}

/// The anonymous part of every record: made at `made` (Unix seconds, state) with `facts`.
fn anonymous_record<'a>(
    made: (u64, CollectorState),
    facts: Facts<'a>,
    token: &'a TokenText,
) -> AnonymousRecord<'a> {
    AnonymousRecord {
        timestamp: made.0,
        kafka_version: facts.kafka_version,
        confluent_platform_version: facts.platform_version,
        broker_process_uuid: token.as_str(),
        collector_state: made.1,
    }
}

fn too_small(e: EncodeError) -> BufferTooSmall {
    match e {
        EncodeError::BufferTooSmall { required } => BufferTooSmall { required },
    }
}
