//! The drive loop: a [`Reporter`] with real time, entropy, a spool directory and sinks.
//!
//! One thread runs the loop; each sink has a worker thread doing the blocking I/O, and every
//! answer (and a shutdown request) comes back as a [`Msg`] on one channel. The loop feeds it
//! to the reporter, drains the outputs, and waits for the next message or the reporter's
//! timeout, whichever is first. Decisions stay in the reporter.

use std::collections::{HashMap, HashSet};
use std::io::Read;
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use support_metrics_core::reporter::{
    DisabledReason, Event, Facts, Failure, HttpResult, Input, Level, Output, RecordId,
    RemoveReason, Reporter, ReporterConfig, Sink, Sinks, SpoolOp, Target, TopicResult,
    TransportError, MAX_REJECTIONS,
};
use support_metrics_core::time::Instant;
use support_metrics_core::token::BrokerToken;
use support_metrics_core::wire::CollectorState;

use crate::customer::{collect_customer, CustomerSource};
use crate::ledger::{self, Ledger};
use crate::log::Log;
use crate::sinks::{Destinations, HttpSink, Notice, TopicSink};
use crate::spool::Spool;
use crate::status::Status;
use crate::utc::{human, rfc3339};

/// Something for the loop.
pub enum Msg {
    /// The producer answered.
    Topic(RecordId, TopicResult, Option<String>),
    /// An endpoint answered.
    Http(RecordId, Target, HttpResult, Option<Notice>, Option<String>),
    /// SIGTERM or SIGINT.
    Shutdown,
    /// The watched broker stopped (its process is gone, or its listener and registration).
    BrokerGone,
}

/// How long the loop may run: until the reporter stops, and (for one cycle) no longer than a
/// deadline. When a one-cycle run is over is the reporter's decision
/// ([`RunMode::OneCycle`](support_metrics_core::reporter::RunMode::OneCycle)).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// Until the reporter stops (after a shutdown request).
    Daemon,
    /// Until the reporter stops, or the deadline passes.
    Once {
        /// Give up after this long.
        deadline: Duration,
    },
}

/// Facts that do not change while the agent runs.
#[derive(Clone, Debug)]
pub struct StaticFacts {
    /// Kafka version or `unknown`.
    pub kafka_version: String,
    /// The Confluent Platform release, `None` for a broker that is not Confluent Platform.
    pub platform_version: Option<String>,
}

/// What the run left behind.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Summary {
    /// Records still in the spool.
    pub spooled: usize,
    /// Records not taken by every sink and not in the spool either (its write failed): lost
    /// when the process ends.
    pub unsaved: usize,
    /// Records dropped because the spool was full.
    pub dropped: usize,
    /// The run ended because the watched broker stopped (its final record went out).
    pub broker_gone: bool,
}

/// The shell around one reporter.
pub struct Driver {
    reporter: Reporter,
    spool: Spool,
    /// Bytes of records written this run, in case the spool cannot be read back.
    cache: HashMap<u64, Vec<u8>>,
    origin: std::time::Instant,
    facts: StaticFacts,
    tx: Sender<Msg>,
    rx: Receiver<Msg>,
    topic: Option<Sender<TopicJob>>,
    http: Option<Sender<(RecordId, Target, Vec<u8>)>>,
    /// A `Collect` came in the last drain: answer it once the drain is over.
    collect: bool,
    /// The watched broker is up: its run's entropy, for the reporter when `run` starts.
    broker_up: Option<[u8; 16]>,
    /// The watched broker stopped.
    broker_gone: bool,
    /// Writes that failed in the last drain: told to the reporter once the drain is over.
    unwritten: Vec<RecordId>,
    /// Records whose write failed: in memory only.
    volatile: HashSet<u64>,
    next_timeout: Instant,
    last_notice: Option<Notice>,
    dropped: usize,
    customer: Option<CustomerSource>,
    /// Why the last attempt of each target failed (for the first warning of a failure).
    last_detail: [Option<String>; 3],
    /// A one-cycle run: no "next try" to announce.
    once: bool,
    /// Where deliveries are written down, with each target's description; and the state
    /// `status` shows. Off unless [`Driver::with_ledger`].
    ledger: Option<(Ledger, [String; 3])>,
    status: Status,
    log: Log,
}

impl Driver {
    /// A reporter for `config` (with entropy from the OS: the agent refuses to start without
    /// it), and a worker thread for each sink that is on.
    pub fn new(
        config: &ReporterConfig,
        spool: Spool,
        facts: StaticFacts,
        sinks: Destinations,
        log: Log,
    ) -> std::io::Result<Driver> {
        let mut seed = [0u8; 24];
        os_random(&mut seed)?;
        let entropy: [u8; 16] = seed[..16].try_into().unwrap_or_default();
        let seed = u64::from_le_bytes(seed[16..].try_into().unwrap_or_default());
        let (tx, rx) = mpsc::channel();
        let topic = sinks.topic.map(|sink| spawn_topic_worker(sink, tx.clone()));
        let http = sinks.http.map(|sink| spawn_http_worker(sink, tx.clone()));
        Ok(Driver {
            reporter: Reporter::new(Instant::default(), config, entropy, seed),
            spool,
            cache: HashMap::new(),
            origin: std::time::Instant::now(),
            facts,
            tx,
            rx,
            topic,
            http,
            collect: false,
            unwritten: Vec::new(),
            broker_up: None,
            broker_gone: false,
            volatile: HashSet::new(),
            next_timeout: Instant::MAX,
            last_notice: None,
            dropped: 0,
            customer: None,
            last_detail: Default::default(),
            once: false,
            ledger: None,
            status: Status::default(),
            log,
        })
    }

    /// Sends customer records, with facts from `source`.
    pub fn with_customer(mut self, source: CustomerSource) -> Driver {
        self.customer = Some(source);
        self
    }

    /// The watched broker is up, with `entropy` for its run's token (see
    /// [`broker`](crate::broker)): told to the reporter when [`run`](Self::run) starts.
    pub fn with_broker(mut self, entropy: [u8; 16]) -> Driver {
        self.broker_up = Some(entropy);
        self
    }

    /// A sender for shutdown requests (for the signal thread).
    pub fn sender(&self) -> Sender<Msg> {
        self.tx.clone()
    }

    fn now(&self) -> Instant {
        Instant::from_millis(u64::try_from(self.origin.elapsed().as_millis()).unwrap_or(u64::MAX))
    }

    /// Writes every delivery to the ledger beside the spool and keeps `status.json` there;
    /// `destinations` describe the topic, HTTPS and HTTP targets, in that order.
    pub fn with_ledger(mut self, destinations: [String; 3]) -> Self {
        self.ledger = Some((Ledger::new(self.spool.dir()), destinations));
        self
    }

    /// A sink took record `id`: written down, byte for byte.
    fn delivered(&mut self, id: RecordId, target: Target) {
        let Some((ledger, destinations)) = &self.ledger else {
            return;
        };
        let unix = unix_now();
        let record = match self.cache.get(&id.0) {
            Some(b) => Ok(b.clone()),
            None => self.spool.read(id),
        };
        let written = record.and_then(|record| {
            ledger.append(&ledger::Entry {
                unix,
                destination: destinations[target_index(target)].clone(),
                record,
            })
        });
        if let Err(e) = written {
            self.log.warn(&format!(
                "ledger {}: cannot write down record {id}: {e}",
                ledger.path().display()
            ));
        }
        self.status.sinks[target_index(target)].last_success = Some(unix);
        self.save_status();
    }

    fn save_status(&self) {
        if self.ledger.is_some() {
            if let Err(e) = self.status.save(self.spool.dir()) {
                self.log
                    .debug(&format!("cannot write the status file: {e}"));
            }
        }
    }

    /// Runs until the reporter stops: after a shutdown request, or once its one cycle is
    /// over; `mode` bounds a one-cycle run in time.
    pub fn run(&mut self, mode: Mode) -> Summary {
        self.once = matches!(mode, Mode::Once { .. });
        self.drain();
        if let Some(entropy) = self.broker_up.take() {
            self.feed(Input::BrokerUp {
                now: self.now(),
                entropy,
            });
        }
        let spooled: Vec<_> = self.spool.records().collect();
        for stored in spooled {
            self.feed(Input::Spooled {
                now: self.now(),
                id: stored.id,
                pending: stored.pending,
                token: Some(stored.token),
                rejections: stored.rejections,
            });
        }
        self.answer_collect();
        let deadline = match mode {
            Mode::Once { deadline } => Some(self.origin + deadline),
            Mode::Daemon => None,
        };
        loop {
            if self.reporter.is_stopped() || (self.broker_gone && self.reporter.is_waiting()) {
                break;
            }
            let wake = self.wake_at(deadline);
            let wait = wake.saturating_duration_since(std::time::Instant::now());
            match self.rx.recv_timeout(wait) {
                Ok(msg) => self.handle(msg),
                Err(RecvTimeoutError::Timeout) => {
                    if deadline.is_some_and(|d| std::time::Instant::now() >= d) {
                        self.log
                            .warn("gave up waiting for the sinks: the deadline passed");
                        break;
                    }
                    self.feed(Input::Timer { now: self.now() });
                }
                Err(RecvTimeoutError::Disconnected) => break,
            }
            self.answer_collect();
        }
        Summary {
            spooled: self.spool.len(),
            unsaved: self.reporter.volatile_records(),
            dropped: self.dropped,
            broker_gone: self.broker_gone,
        }
    }

    fn wake_at(&self, deadline: Option<std::time::Instant>) -> std::time::Instant {
        let far = std::time::Instant::now() + Duration::from_secs(86_400);
        let at = self
            .origin
            .checked_add(Duration::from_millis(self.next_timeout.as_millis()))
            .map_or(far, |at| at.min(far));
        deadline.map_or(at, |d| at.min(d))
    }

    fn handle(&mut self, msg: Msg) {
        let now = self.now();
        match msg {
            Msg::Topic(id, result, detail) => {
                self.last_detail[target_index(Target::Topic)] = detail;
                if result == TopicResult::Delivered {
                    self.delivered(id, Target::Topic);
                }
                self.feed(Input::TopicResult { now, id, result });
            }
            Msg::Http(id, target, result, notice, detail) => {
                self.last_detail[target_index(target)] = detail;
                if matches!(result, HttpResult::Status(s) if (200..300).contains(&s)) {
                    self.delivered(id, target);
                }
                if let Some(n) = notice {
                    if self.last_notice.as_ref() != Some(&n) {
                        if let Some(text) = &n.information_for_user {
                            self.log.info(&format!("message from the vendor: {text}"));
                        }
                        if let Some(v) = &n.confluent_platform_version {
                            self.log
                                .info(&format!("latest version reported by the vendor: {v}"));
                        }
                        self.last_notice = Some(n);
                    }
                }
                self.feed(Input::HttpResult {
                    now,
                    id,
                    target,
                    result,
                });
            }
            Msg::BrokerGone => {
                self.log
                    .info("the broker stopped: sending the final report of its run");
                self.broker_gone = true;
                self.feed(Input::BrokerDown { now });
            }
            Msg::Shutdown => {
                self.log
                    .info("shutdown requested: sending the final report");
                self.feed(Input::Shutdown { now });
            }
        }
    }

    fn answer_collect(&mut self) {
        if !std::mem::take(&mut self.collect) {
            return;
        }
        let unix = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        let facts = self.facts.clone();
        let anonymous = Facts::new(&facts.kafka_version, facts.platform_version.as_deref());
        if let Some(source) = &self.customer {
            let gathered = source.gather(self.origin.elapsed(), Duration::from_secs(3));
            if let Some(why) = gathered.problem() {
                self.log.warn(&format!(
                    "the cluster's facts could not be read ({why}): this customer record shows 0 brokers, topics and partitions and clusterId \"unknown\""
                ));
            }
            let now = self.now();
            match collect_customer(&mut self.reporter, (now, unix), anonymous, &gathered) {
                Ok((op, buf)) => {
                    self.spool_op(op, &buf);
                    self.drain();
                    return;
                }
                Err(e) => self.log.error(&format!(
                    "internal: customer record refused: {e}; sending the anonymous record"
                )),
            }
        }
        let input = Input::Collected {
            now: self.now(),
            unix_time_secs: unix,
            facts: anonymous,
        };
        self.feed(input);
    }

    fn feed(&mut self, input: Input<'_>) {
        if let Err(e) = self.reporter.handle_input(input) {
            // A bug in this loop, not in the world: say so loudly, keep the process alive.
            self.log
                .error(&format!("internal: reporter refused {input:?}: {e}"));
            return;
        }
        self.drain();
    }

    fn drain(&mut self) {
        let mut buf = vec![0u8; 4096];
        for _ in 0..1000 {
            let out = match self.reporter.poll_output(&mut buf) {
                Ok(out) => out,
                Err(too_small) => {
                    buf.resize(too_small.required, 0);
                    continue;
                }
            };
            match out {
                Output::Collect => self.collect = true,
                Output::Spool(op) => self.spool_op(op, &buf),
                Output::Transmit { id, target, key } => self.transmit(id, target, key),
                Output::Event(event) => self.event(event),
                Output::Timeout(at) => {
                    self.next_timeout = at;
                    return self.tell_unwritten();
                }
                Output::Stopped => return self.tell_unwritten(),
            }
        }
        self.log
            .error("internal: the reporter did not finish a drain");
    }

    /// The writes of the last drain that failed, told to the reporter (which decides what
    /// that means, and says so).
    fn tell_unwritten(&mut self) {
        for id in std::mem::take(&mut self.unwritten) {
            if !self.reporter.is_stopped() {
                self.feed(Input::WriteFailed {
                    now: self.now(),
                    id,
                });
            }
        }
    }

    fn spool_op(&mut self, op: SpoolOp, buf: &[u8]) {
        let dir = self.spool.dir().display().to_string();
        let result = match op {
            SpoolOp::Write { id, pending, len } => {
                self.cache.insert(id.0, buf[..len].to_vec());
                let written = self.spool.write(id, pending, &buf[..len]);
                if written.is_err() {
                    // Said to the reporter once this drain is over.
                    self.unwritten.push(id);
                    self.volatile.insert(id.0);
                }
                written
            }
            // A record whose write failed has no file to rename or delete.
            SpoolOp::Update { id, .. } | SpoolOp::Remove { id, .. }
                if self.volatile.contains(&id.0) =>
            {
                if matches!(op, SpoolOp::Remove { .. }) {
                    self.cache.remove(&id.0);
                    self.volatile.remove(&id.0);
                }
                Ok(())
            }
            SpoolOp::Update {
                id,
                pending,
                rejections,
            } => self.spool.update(id, pending, rejections),
            SpoolOp::Remove {
                id,
                reason: RemoveReason::Rejected,
            } => {
                self.cache.remove(&id.0);
                self.spool.quarantine(id).map(|to| {
                    self.log.warn(&format!(
                        "record {id} was refused for good {MAX_REJECTIONS} times; moved to {}; it will not be sent again",
                        to.display()
                    ));
                })
            }
            SpoolOp::Remove { id, reason } => {
                self.cache.remove(&id.0);
                match reason {
                    RemoveReason::DroppedByCap => {
                        self.dropped += 1;
                        self.log.warn(&format!(
                            "spool full: dropped the oldest record {id}, it will not be sent"
                        ));
                    }
                    RemoveReason::SinksDisabled => {
                        self.log.info(&format!(
                            "dropped spooled record {id}: its sinks are off now"
                        ));
                    }
                    RemoveReason::Delivered | RemoveReason::Rejected => {}
                }
                self.spool.remove(id)
            }
        };
        if let Err(e) = result {
            self.log.error(&format!("spool {dir}: {e}"));
        }
    }

    fn transmit(&mut self, id: RecordId, target: Target, key: Option<BrokerToken>) {
        let bytes = match self.cache.get(&id.0) {
            Some(b) => Some(b.clone()),
            None => match self.spool.read(id) {
                Ok(b) => Some(b),
                Err(e) => {
                    self.log
                        .error(&format!("cannot read record {id} from the spool: {e}"));
                    None
                }
            },
        };
        // Never send a half-built record: without its bytes the attempt fails at once.
        let sent = bytes.and_then(|bytes| match target {
            Target::Topic => self.topic.as_ref().map(|t| {
                let key = key
                    .map(|k| k.text().as_str().to_owned())
                    .unwrap_or_default();
                t.send(TopicJob { id, key, bytes }).is_ok()
            }),
            _ => self
                .http
                .as_ref()
                .map(|h| h.send((id, target, bytes)).is_ok()),
        });
        if sent != Some(true) {
            // No worker for an enabled sink: answer as a failure so nothing waits forever.
            let detail = Some("no sink available".to_owned());
            let _ = self.tx.send(match target {
                Target::Topic => Msg::Topic(id, TopicResult::Retriable, detail),
                t => Msg::Http(
                    id,
                    t,
                    HttpResult::Transport(TransportError::Other),
                    None,
                    detail,
                ),
            });
        }
    }

    fn event(&mut self, event: Event) {
        let detail = match event {
            Event::Failed { target, .. } => self.last_detail[target_index(target)].as_deref(),
            Event::FellBack { .. } => {
                self.last_detail[target_index(Target::SecureEndpoint)].as_deref()
            }
            _ => None,
        };
        let mut text = describe(&event, detail);
        let failed = match event {
            Event::Failed { target, .. } => Some(target),
            Event::FellBack { .. } => Some(Target::SecureEndpoint),
            _ => None,
        };
        if let Some(target) = failed {
            self.status.sinks[target_index(target)].last_error = Some((unix_now(), text.clone()));
            self.save_status();
        }
        if let Event::Failed { id, retry_in, .. } = event {
            let kept = if self.volatile.contains(&id.0) {
                "kept in memory only (not in the spool)"
            } else {
                "kept in the spool"
            };
            let retry = Duration::from_millis(retry_in.as_millis());
            if self.once {
                text.push_str(&format!("; {kept} for the next run"));
            } else {
                text.push_str(&format!("; {kept}, next try in {}", human(retry)));
            }
        }
        // The agent's startup line already says why reporting is off.
        let level = match event {
            Event::Disabled { .. } => Level::Debug,
            e => e.level(),
        };
        match level {
            Level::Debug => self.log.debug(&text),
            Level::Info => self.log.info(&text),
            Level::Warn => self.log.warn(&text),
            Level::Error => self.log.error(&text),
        }
        if let Event::Collected {
            state: CollectorState::Running,
            ..
        } = event
        {
            if !self.once {
                let wait = self
                    .reporter
                    .next_report()
                    .as_millis()
                    .saturating_sub(self.now().as_millis());
                let due = SystemTime::now() + Duration::from_millis(wait);
                self.log
                    .info(&format!("next report due at {}", rfc3339(due)));
                self.status.next_report_due =
                    due.duration_since(UNIX_EPOCH).ok().map(|d| d.as_secs());
                self.save_status();
            }
        }
    }
}

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

fn target_index(t: Target) -> usize {
    match t {
        Target::Topic => 0,
        Target::SecureEndpoint => 1,
        Target::InsecureEndpoint => 2,
    }
}

/// An event in words (no Rust names), with the shell's `detail` of a failure.
fn describe(event: &Event, detail: Option<&str>) -> String {
    let cause = |failure: Failure| match detail {
        Some(d) => format!("{}: {d}", failure_words(failure)),
        None => failure_words(failure),
    };
    match *event {
        Event::Started { sinks, .. } => format!("reporting started: {}", sinks_words(sinks)),
        Event::Disabled { reason } => match reason {
            DisabledReason::Disabled => {
                "reporting is off (confluent.support.metrics.enable=false)".to_owned()
            }
            DisabledReason::NoSinks => "reporting is off: no topic and no endpoint".to_owned(),
            DisabledReason::DoNotTrack => {
                "reporting is off: no topic, and DO_NOT_TRACK forbids HTTP".to_owned()
            }
        },
        Event::Collected { id, state } => match state {
            CollectorState::Running => format!("collected record {id}"),
            CollectorState::ShuttingDown => {
                format!("collected record {id}, the final report of this broker run")
            }
        },
        Event::Delivered { id, target } => format!("delivered record {id} to {}", target_name(target)),
        Event::FellBack { id, failure, .. } => {
            format!("HTTPS failed for record {id} ({}); falling back to HTTP", cause(failure))
        }
        Event::Failed { id, target, failure, .. } => format!(
            "could not deliver record {id} to {} ({})",
            target_name(target),
            cause(failure)
        ),
        Event::Recovered { sink } => format!("{} works again", sink_name(sink)),
        Event::NotDurable { id } => format!(
            "record {id} could not be written to the spool: it is sent from memory in this run only, and lost if the agent stops before every sink took it"
        ),
        Event::ShutdownIncomplete { unconfirmed } => format!(
            "the final report was not confirmed by {} before the deadline; it stays in the spool",
            sinks_words(unconfirmed)
        ),
    }
}

fn failure_words(f: Failure) -> String {
    match f {
        Failure::Topic(TopicResult::Fatal) => "the cluster refused it".into(),
        Failure::Topic(_) => "the cluster did not take it".into(),
        Failure::Status(code) => format!("HTTP status {code}"),
        Failure::Transport(TransportError::Connect) => "cannot connect".into(),
        Failure::Transport(TransportError::Tls) => "the TLS handshake failed".into(),
        Failure::Transport(TransportError::Timeout) => "no answer in time".into(),
        Failure::Transport(TransportError::Other) => "the connection failed".into(),
    }
}

fn sink_name(s: Sink) -> &'static str {
    match s {
        Sink::Topic => "the topic",
        Sink::Http => "HTTP",
    }
}

fn sinks_words(sinks: Sinks) -> String {
    let names: Vec<&str> = Sink::ALL
        .iter()
        .filter(|s| sinks.contains(**s))
        .map(|s| sink_name(*s))
        .collect();
    if names.is_empty() {
        "no sink".to_owned()
    } else {
        names.join(" and ")
    }
}

fn target_name(t: Target) -> &'static str {
    match t {
        Target::Topic => "the topic",
        Target::SecureEndpoint => "the HTTPS endpoint",
        Target::InsecureEndpoint => "the HTTP endpoint",
    }
}

/// A record for the topic worker: its key (the token of the run that made it) and bytes.
struct TopicJob {
    id: RecordId,
    key: String,
    bytes: Vec<u8>,
}

fn spawn_topic_worker(mut sink: Box<dyn TopicSink>, tx: Sender<Msg>) -> Sender<TopicJob> {
    let (jobs, rx) = mpsc::channel::<TopicJob>();
    std::thread::spawn(move || {
        for job in rx {
            let (result, detail) =
                sink.produce(job.key.as_bytes(), &job.bytes, Duration::from_secs(10));
            if tx.send(Msg::Topic(job.id, result, detail)).is_err() {
                return;
            }
        }
    });
    jobs
}

fn spawn_http_worker(
    mut sink: Box<dyn HttpSink>,
    tx: Sender<Msg>,
) -> Sender<(RecordId, Target, Vec<u8>)> {
    let (jobs, rx) = mpsc::channel::<(RecordId, Target, Vec<u8>)>();
    std::thread::spawn(move || {
        for (id, target, bytes) in rx {
            let posted = sink.post(target, &bytes);
            let msg = Msg::Http(id, target, posted.result, posted.notice, posted.detail);
            if tx.send(msg).is_err() {
                return;
            }
        }
    });
    jobs
}

/// Fills `buf` from the OS random source; the agent refuses to start without one.
pub fn os_random(buf: &mut [u8]) -> std::io::Result<()> {
    std::fs::File::open("/dev/urandom")
        .and_then(|mut f| f.read_exact(buf))
        .map_err(|e| {
            std::io::Error::new(
                e.kind(),
                format!("cannot read random bytes from /dev/urandom: {e}"),
            )
        })
}
