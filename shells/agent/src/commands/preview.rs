//! `preview`: the exact bytes the next cycle would send, and where; sends nothing.

use std::io::Write;
use std::path::Path;
use std::process::ExitCode;

use support_metrics_core::reporter::{
    CollectError, Facts, Input, Output, Reporter, Sink, Sinks, SpoolOp,
};
use support_metrics_core::time::Instant;
use support_metrics_linux::driver::os_random;
use support_metrics_linux::spool::Spool;

use super::setup::Setup;

pub(crate) fn run(path: &Path, kafka_home: Option<&Path>) -> anyhow::Result<ExitCode> {
    let mut setup = Setup::new(path, kafka_home)?;
    let mut out = std::io::stdout().lock();
    let sinks = setup.reporter.sinks();
    if sinks.is_empty() {
        writeln!(out, "{}. Nothing would be sent.", setup.egress())?;
        return Ok(ExitCode::SUCCESS);
    }
    let spooled = Spool::peek(&setup.spool_dir)?;
    setup.reporter.settle = support_metrics_core::time::Duration::ZERO;
    let mut entropy = [0u8; 16];
    os_random(&mut entropy)?;
    let mut reporter = Reporter::new();
    let now = Instant::from_millis(0);
    let mut new_record = None;
    let mut buf = vec![0u8; 4096];
    let mut drain =
        |reporter: &mut Reporter, new_record: &mut Option<(u64, Vec<u8>)>| -> anyhow::Result<()> {
            loop {
                match reporter.poll_output(&mut buf) {
                    Ok(Output::Spool(SpoolOp::Write { id, len, .. })) => {
                        *new_record = Some((id.0, buf[..len].to_vec()))
                    }
                    Ok(Output::Timeout(_) | Output::Stopped) => return Ok(()),
                    Ok(_) => {}
                    Err(e) => buf.resize(e.required, 0),
                }
            }
        };
    reporter.handle_input(Input::Start {
        now,
        config: &setup.reporter,
        entropy,
        seed: 0,
    })?;
    drain(&mut reporter, &mut new_record)?;
    let mut listed = Vec::new();
    for (id, pending, file) in &spooled {
        reporter.handle_input(Input::Spooled {
            now,
            id: *id,
            pending: *pending,
        })?;
        drain(&mut reporter, &mut new_record)?;
        let still = pending.intersect(sinks);
        if !still.is_empty() {
            listed.push((id.0, still, std::fs::read(file)?, true));
        }
    }
    let facts = Facts::new(&setup.facts.kafka_version, &setup.facts.platform_version);
    let unix = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    if let Some(source) = setup.customer_source() {
        let gathered = source.gather(std::time::Duration::ZERO, std::time::Duration::from_secs(3));
        let pairs = gathered.pairs();
        let mut record = vec![0u8; 8192];
        let op = loop {
            match reporter.handle_collected_customer(
                now,
                unix,
                facts,
                &gathered.view(&pairs),
                &mut record,
            ) {
                Ok(op) => break op,
                Err(CollectError::BufferTooSmall(b)) => record.resize(b.required, 0),
                Err(CollectError::Usage(e)) => anyhow::bail!("internal: {e}"),
            }
        };
        if let SpoolOp::Write { id, len, .. } = op {
            new_record = Some((id.0, record[..len].to_vec()));
        }
    } else {
        reporter.handle_input(Input::Collected {
            now,
            unix_time_secs: unix,
            facts,
        })?;
    }
    drain(&mut reporter, &mut new_record)?;
    if let Some((id, bytes)) = new_record {
        listed.push((id, sinks, bytes, false));
    }
    writeln!(out, "{}", setup.egress())?;
    writeln!(
        out,
        "The next cycle would send {} record(s). Nothing was sent.",
        listed.len()
    )?;
    for (id, pending, bytes, from_spool) in listed {
        let origin = if from_spool {
            "from the spool"
        } else {
            "new; its brokerProcessUUID is made anew at every start"
        };
        writeln!(
            out,
            "\nrecord #{id} ({origin}) -> {}",
            destinations(&setup, pending)
        )?;
        out.write_all(&bytes)?;
        writeln!(out)?;
    }
    Ok(ExitCode::SUCCESS)
}

fn destinations(setup: &Setup, pending: Sinks) -> String {
    let c = &setup.config;
    let mut to = Vec::new();
    if pending.contains(Sink::Topic) {
        to.push(format!("topic {}", c.topic().unwrap_or("?")));
    }
    if pending.contains(Sink::Http) {
        match (c.secure_endpoint(), c.insecure_endpoint()) {
            (Some(s), Some(i)) => to.push(format!("POST {s} (if that fails: POST {i})")),
            (Some(s), None) => to.push(format!("POST {s}")),
            (None, Some(i)) => to.push(format!("POST {i}")),
            (None, None) => {}
        }
    }
    to.join("; ")
}
