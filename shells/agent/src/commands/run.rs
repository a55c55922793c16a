//! `run` (the daemon) and `once` (one cycle, then exit).

use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::Sender;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use support_metrics_core::reporter::RunMode;
use support_metrics_linux::broker::{watch_listener, watch_process, Watch};
use support_metrics_linux::driver::{Driver, Mode, Msg};
use support_metrics_linux::log::{count, Log};
use support_metrics_linux::sinks::Destinations;

use super::setup::{Setup, Up};
use crate::{egress, Broker};

/// How long `once`, `preview` and `demo` wait for another agent to let go of the spool.
pub(crate) const SPOOL_WAIT: Duration = Duration::from_secs(5);

/// The loop with the topic and HTTP sinks the config turns on.
pub(super) fn driver(
    setup: &Setup,
    spool: support_metrics_linux::spool::Spool,
) -> anyhow::Result<Driver> {
    let sinks = Destinations {
        topic: setup.topic()?,
        http: setup.http(Duration::from_secs(10)),
    };
    let driver = Driver::new(
        &setup.reporter,
        spool,
        setup.facts.clone(),
        sinks,
        setup.log,
    )?
    .with_ledger(egress::targets(setup));
    Ok(match setup.customer_source() {
        Some(source) => driver.with_customer(source),
        None => driver,
    })
}

/// How often the daemon looks at the broker it watches.
const WATCH_EVERY: Duration = Duration::from_secs(1);

/// Listener mode: checks in a row without the broker before it counts as stopped.
const LISTENER_MISSES: u32 = 5;

pub(crate) fn run(broker: &Broker) -> anyhow::Result<ExitCode> {
    let stop = Arc::new(AtomicBool::new(false));
    let current: Arc<Mutex<Option<Sender<Msg>>>> = Arc::default();
    // SIGHUP stops like SIGTERM (final report, exit 0): the settings are read again at every
    // broker restart, and a half-applied reload would be worse than a clean restart.
    let mut signals = signal_hook::iterator::Signals::new([
        signal_hook::consts::SIGTERM,
        signal_hook::consts::SIGINT,
        signal_hook::consts::SIGHUP,
    ])?;
    {
        let (stop, current) = (stop.clone(), current.clone());
        std::thread::spawn(move || {
            if let Some(signal) = signals.forever().next() {
                let name = match signal {
                    signal_hook::consts::SIGHUP => "SIGHUP",
                    signal_hook::consts::SIGINT => "SIGINT",
                    _ => "SIGTERM",
                };
                Log::from_env().info(&format!("{name} received: stopping"));
                stop.store(true, Ordering::SeqCst);
                if let Some(tx) = current.lock().ok().and_then(|c| c.clone()) {
                    let _ = tx.send(Msg::Shutdown);
                }
            }
        });
    }
    let mut setup = Setup::new(broker, RunMode::Daemon)?;
    setup.log_warnings();
    let mut spool = Some(setup.open_spool(Duration::ZERO)?);
    setup.log.info(&setup.egress());
    loop {
        let Some(up) = wait_for_broker(&setup, &stop) else {
            setup.log.info("stopped while the broker was down");
            return Ok(ExitCode::SUCCESS);
        };
        // Every broker run after the first reads the settings anew when it starts: a changed
        // setting takes effect "followed by a restart of the broker", as inside the broker.
        let spool = match spool.take() {
            Some(spool) => spool,
            None => {
                setup = Setup::new(broker, RunMode::Daemon)?;
                let spool = setup.open_spool(Duration::ZERO)?;
                setup.log.info(&format!(
                    "settings read again from {}: {}",
                    setup.path.display(),
                    setup.egress()
                ));
                spool
            }
        };
        let mut driver = driver(&setup, spool)?;
        if setup.watch != Watch::None {
            driver = driver.with_broker(setup.run_entropy(&up, true)?);
        }
        let tx = driver.sender();
        match up {
            Up::Process(p) => watch_process(p, WATCH_EVERY, tx.clone()),
            Up::Listener(cluster, id) => {
                watch_listener(cluster, id, WATCH_EVERY, LISTENER_MISSES, tx.clone())
            }
            Up::Always => {}
        }
        if let Ok(mut c) = current.lock() {
            *c = Some(tx.clone());
        }
        if stop.load(Ordering::SeqCst) {
            let _ = tx.send(Msg::Shutdown);
        }
        let summary = driver.run(Mode::Daemon);
        if let Ok(mut c) = current.lock() {
            *c = None;
        }
        if !summary.broker_gone || stop.load(Ordering::SeqCst) {
            setup.log.info(&format!(
                "stopped; {} in the spool for the next start",
                count(summary.spooled, "record")
            ));
            return Ok(ExitCode::SUCCESS);
        }
        setup
            .log
            .info("the broker stopped; waiting for it to start again");
    }
}

/// Waits until the watched broker runs (at once when not watched); `None` when a signal
/// asked to stop first.
fn wait_for_broker(setup: &Setup, stop: &AtomicBool) -> Option<Up> {
    let mut said = false;
    let mut client = None;
    loop {
        if stop.load(Ordering::SeqCst) {
            return None;
        }
        if let Some(up) = setup.find_broker(&mut client) {
            if said {
                setup
                    .log
                    .info(&format!("the broker is up: {}", egress::broker(setup)));
            }
            return Some(up);
        }
        if !said {
            setup.log.info(&format!(
                "waiting for the broker: {}",
                egress::broker(setup)
            ));
            said = true;
        }
        std::thread::sleep(WATCH_EVERY);
    }
}

pub(crate) fn once(broker: &Broker) -> anyhow::Result<ExitCode> {
    let setup = Setup::new(broker, RunMode::OneCycle)?;
    setup.log_warnings();
    let Some(up) = setup.find_broker(&mut None) else {
        setup.log.error(&format!(
            "the broker is not running ({}): nothing sent",
            egress::broker(&setup)
        ));
        return Ok(ExitCode::from(crate::exit::UNAVAILABLE));
    };
    let spool = setup.open_spool(SPOOL_WAIT)?;
    setup.log.info(&setup.egress());
    // Whole-cycle bound: 30 s; each attempt gets less so that a fallback still fits.
    let mut driver = driver(&setup, spool)?;
    if setup.watch != Watch::None {
        driver = driver.with_broker(setup.run_entropy(&up, true)?);
    }
    let summary = driver.run(Mode::Once {
        deadline: Duration::from_secs(30),
    });
    if summary.unsaved > 0 {
        setup.log.error(&format!(
            "{} reached neither every sink nor the spool (its write failed): lost",
            count(summary.unsaved, "record")
        ));
        Ok(ExitCode::from(crate::exit::IO_ERR))
    } else if summary.spooled == 0 {
        Ok(ExitCode::SUCCESS)
    } else {
        setup.log.warn(&format!(
            "{} kept in the spool for the next run",
            count(summary.spooled, "record")
        ));
        Ok(ExitCode::from(crate::exit::TEMP_FAIL))
    }
}
