//! What the reporter needs to know, built from a [`SupportConfig`] plus the shell's facts.

use crate::config::SupportConfig;
use crate::time::Duration;

use super::vocab::{Sink, Sinks};

/// Most records the spool table holds; [`ReporterConfig::spool_cap`] may lower it.
pub const SPOOL_CAPACITY: usize = 32;

/// How long the reporter runs.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum RunMode {
    /// Until shut down: the first report after the settling time, then every interval.
    #[default]
    Daemon,
    /// One cycle (`once`, `preview`): the first report at once, and
    /// [`Output::Stopped`](super::Output::Stopped) as soon as it and every spooled record
    /// were tried on every sink.
    OneCycle,
}

/// What the shell knows that the config file does not say.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Run {
    /// The daemon or one cycle.
    pub mode: RunMode,
    /// `DO_NOT_TRACK` is set in the environment: no HTTP at all.
    pub do_not_track: bool,
}

/// Reporter settings. Start from [`ReporterConfig::new`] and adjust the public fields.
#[non_exhaustive]
#[derive(Clone, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct ReporterConfig {
    /// `confluent.support.metrics.enable`.
    pub enabled: bool,
    /// A topic is configured.
    pub topic: bool,
    /// The HTTPS endpoint is on.
    pub secure_endpoint: bool,
    /// The HTTP endpoint is on.
    pub insecure_endpoint: bool,
    /// `DO_NOT_TRACK` is set in the shell's environment: no HTTP at all.
    pub do_not_track: bool,
    /// One cycle, then [`Output::Stopped`](super::Output::Stopped) ([`RunMode::OneCycle`]).
    pub one_cycle: bool,
    /// The shell watches the broker: reporting waits for `Input::BrokerUp`, and each broker
    /// run has its own token and final record. Off, the agent's run is the broker's run.
    pub watch_broker: bool,
    /// Time between reports (before 0–1 % jitter).
    pub interval: Duration,
    /// Wait before the first report, so the broker can settle (reference: 10 s).
    pub settle: Duration,
    /// How long the final report may take once shutdown is requested (default 5 s).
    pub shutdown_grace: Duration,
    /// First retry delay after a failed delivery; doubles per failure, capped at `interval`.
    pub retry_initial: Duration,
    /// Records kept for retry; past it the oldest is dropped (1..=[`SPOOL_CAPACITY`]).
    pub spool_cap: usize,
    /// A valid, non-anonymous customer ID is configured: customer records are allowed.
    pub customer: bool,
}

impl ReporterConfig {
    /// The settings of `support` for `run`: 10 s settling (none for one cycle), 5 s shutdown
    /// grace, 30 s first retry, full spool.
    pub fn new(support: &SupportConfig, run: Run) -> Self {
        let one_cycle = run.mode == RunMode::OneCycle;
        ReporterConfig {
            enabled: support.enabled(),
            topic: support.topic().is_some(),
            secure_endpoint: support.secure_endpoint().is_some(),
            insecure_endpoint: support.insecure_endpoint().is_some(),
            do_not_track: run.do_not_track,
            one_cycle,
            watch_broker: false,
            interval: Duration::from_hours(u64::from(support.report_interval_hours())),
            settle: if one_cycle {
                Duration::ZERO
            } else {
                Duration::from_secs(10)
            },
            shutdown_grace: Duration::from_secs(5),
            retry_initial: Duration::from_secs(30),
            spool_cap: SPOOL_CAPACITY,
            customer: support.customer_class() != crate::customer::CustomerClass::Anonymous,
        }
    }

    /// The sinks that will actually be used: none when disabled; no HTTP under DO_NOT_TRACK.
    pub fn sinks(&self) -> Sinks {
        let mut sinks = Sinks::NONE;
        if !self.enabled {
            return sinks;
        }
        if self.topic {
            sinks.insert(Sink::Topic);
        }
        if self.http_secure() || self.http_insecure() {
            sinks.insert(Sink::Http);
        }
        sinks
    }

    pub(crate) fn http_secure(&self) -> bool {
        self.secure_endpoint && !self.do_not_track
    }

    pub(crate) fn http_insecure(&self) -> bool {
        self.insecure_endpoint && !self.do_not_track
    }

    pub(crate) fn cap(&self) -> usize {
        self.spool_cap.clamp(1, SPOOL_CAPACITY)
    }
}
