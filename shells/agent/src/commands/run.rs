//! `run` (the daemon) and `once` (one cycle, then exit).

use std::path::Path;
use std::process::ExitCode;
use std::time::Duration;

use support_metrics_core::reporter::RunMode;
use support_metrics_linux::driver::{Driver, Mode, Msg};
use support_metrics_linux::sinks::Destinations;

use super::setup::Setup;

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
    )?;
    Ok(match setup.customer_source() {
        Some(source) => driver.with_customer(source),
        None => driver,
    })
}

pub(crate) fn run(path: &Path, kafka_home: Option<&Path>) -> anyhow::Result<ExitCode> {
    let setup = Setup::new(path, kafka_home, RunMode::Daemon)?;
    setup.log_warnings();
    let spool = setup.open_spool(Duration::ZERO)?;
    setup.log.info(&setup.egress());
    let mut driver = driver(&setup, spool)?;
    let shutdown = driver.sender();
    let mut signals = signal_hook::iterator::Signals::new([
        signal_hook::consts::SIGTERM,
        signal_hook::consts::SIGINT,
    ])?;
    std::thread::spawn(move || {
        if signals.forever().next().is_some() {
            let _ = shutdown.send(Msg::Shutdown);
        }
    });
    let summary = driver.run(Mode::Daemon);
    setup.log.info(&format!(
        "stopped; {} record(s) in the spool for the next start",
        summary.spooled
    ));
    Ok(ExitCode::SUCCESS)
}

pub(crate) fn once(path: &Path, kafka_home: Option<&Path>) -> anyhow::Result<ExitCode> {
    let setup = Setup::new(path, kafka_home, RunMode::OneCycle)?;
    setup.log_warnings();
    let spool = setup.open_spool(SPOOL_WAIT)?;
    setup.log.info(&setup.egress());
    // Whole-cycle bound: 30 s; each attempt gets less so that a fallback still fits.
    let mut driver = driver(&setup, spool)?;
    let summary = driver.run(Mode::Once {
        deadline: Duration::from_secs(30),
    });
    if summary.unsaved > 0 {
        setup.log.error(&format!(
            "{} record(s) reached neither every sink nor the spool (its write failed): lost",
            summary.unsaved
        ));
        Ok(ExitCode::from(crate::exit::IO_ERR))
    } else if summary.spooled == 0 {
        Ok(ExitCode::SUCCESS)
    } else {
        setup.log.warn(&format!(
            "{} record(s) kept in the spool for the next cycle",
            summary.spooled
        ));
        Ok(ExitCode::from(crate::exit::TEMP_FAIL))
    }
}
