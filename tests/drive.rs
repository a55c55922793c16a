//! The one std test driver of the reporter, shared by the simulator (`harness.rs`) and the
//! model test (`model.rs`): it builds the reporter, feeds an earlier run's spool before the
//! first collect is answered (the contract), drains after every input through the shared
//! `Checker`, answers every `Collect` with fixed facts, and keeps every input and output so a
//! run can be replayed. (The fuzz target's driver lives in core: it must work without `std`.)

use support_metrics_core::fuzzing::Checker;
use support_metrics_core::reporter::{
    Facts, Input, Output, RecordId, Reporter, ReporterConfig, Sinks, SpoolOp,
};
use support_metrics_core::time::Instant;
use support_metrics_core::token::BrokerToken;

/// A record of an earlier run: id, pending sinks, the token of that run, refusals so far.
pub(crate) type Spooled = (u64, Sinks, Option<BrokerToken>, u8);

/// One output, with the record's bytes for a write.
#[derive(Clone, Debug)]
pub(crate) struct Polled {
    pub(crate) out: Output,
    pub(crate) bytes: Vec<u8>,
}

pub(crate) struct Driver {
    pub(crate) reporter: Reporter,
    pub(crate) checker: Box<Checker>,
    pub(crate) now: Instant,
    /// Every accepted input, in order (for replays).
    pub(crate) inputs: Vec<Input<'static>>,
    /// Every output and when it came.
    pub(crate) outputs: Vec<(Instant, Output)>,
    config: ReporterConfig,
    entropy: [u8; 16],
    seed: u64,
    facts: Facts<'static>,
    unix: fn(Instant) -> u64,
    collect: bool,
    loading: bool,
}

impl Driver {
    /// A reporter built at `now`, drained, told about `spooled`, then asked to collect.
    /// `facts` and `unix` (wall-clock seconds at a virtual instant) answer every collect.
    pub(crate) fn start(
        now: Instant,
        config: &ReporterConfig,
        (entropy, seed): ([u8; 16], u64),
        spooled: &[Spooled],
        (facts, unix): (Facts<'static>, fn(Instant) -> u64),
    ) -> (Driver, Vec<Polled>) {
        let mut driver = Driver {
            reporter: Reporter::new(now, config, entropy, seed),
            checker: Box::new(Checker::new(config)),
            now,
            inputs: Vec::new(),
            outputs: Vec::new(),
            config: config.clone(),
            entropy,
            seed,
            facts,
            unix,
            collect: false,
            loading: true,
        };
        let mut polled = driver.drain();
        for &(id, pending, token, rejections) in spooled {
            driver
                .checker
                .spooled(RecordId(id), pending, token, rejections);
            let input = Input::Spooled {
                now,
                id: RecordId(id),
                pending,
                token,
                rejections,
            };
            polled.extend(driver.feed(input));
        }
        driver.loading = false;
        polled.extend(driver.answer_collect());
        (driver, polled)
    }

    /// Feeds `input`, drains, and answers a collect the drain asked for.
    pub(crate) fn feed(&mut self, input: Input<'static>) -> Vec<Polled> {
        self.reporter
            .handle_input(input)
            .unwrap_or_else(|e| panic!("driver misuse at {:?}: {e} ({input:?})", self.now));
        self.checker.input(&input);
        self.inputs.push(input);
        self.now = input.now();
        let mut polled = self.drain();
        if !self.loading {
            polled.extend(self.answer_collect());
        }
        polled
    }

    fn answer_collect(&mut self) -> Vec<Polled> {
        if !std::mem::take(&mut self.collect) {
            return Vec::new();
        }
        self.feed(Input::Collected {
            now: self.now,
            unix_time_secs: (self.unix)(self.now),
            facts: self.facts,
        })
    }

    fn drain(&mut self) -> Vec<Polled> {
        let mut buf = [0u8; 512];
        let mut polled = Vec::new();
        for _ in 0..64 {
            let out = self
                .reporter
                .poll_output(&mut buf)
                .expect("512 bytes hold an anonymous record");
            self.checker.output(&out, &self.reporter);
            self.outputs.push((self.now, out));
            let bytes = match out {
                Output::Spool(SpoolOp::Write { len, .. }) => buf[..len].to_vec(),
                _ => Vec::new(),
            };
            self.collect |= out == Output::Collect;
            polled.push(Polled { out, bytes });
            if matches!(out, Output::Timeout(_) | Output::Stopped) {
                return polled;
            }
        }
        panic!("a drain did not end within 64 outputs");
    }

    /// Same config, entropy, seed and inputs give the same outputs.
    pub(crate) fn check_replay(&self) {
        let start = self.outputs.first().map_or(self.now, |o| o.0);
        let mut again = Reporter::new(start, &self.config, self.entropy, self.seed);
        let mut outputs = Vec::new();
        let mut buf = [0u8; 512];
        let mut now = start;
        for input in std::iter::once(None).chain(self.inputs.iter().map(Some)) {
            if let Some(input) = input {
                again.handle_input(*input).expect("replay accepted");
                now = input.now();
            }
            loop {
                let out = again.poll_output(&mut buf).expect("buffer");
                outputs.push((now, out));
                if matches!(out, Output::Timeout(_) | Output::Stopped) {
                    break;
                }
            }
        }
        assert_eq!(outputs, self.outputs, "replay differs");
    }
}
