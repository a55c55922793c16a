//! `preview`: the exact bytes the next cycle would send, and where; sends nothing.

use std::io::Write;
use std::process::ExitCode;

use support_metrics_core::reporter::{Facts, Input, Output, Reporter, RunMode, SpoolOp};
use support_metrics_core::time::Instant;
use support_metrics_linux::customer::collect_customer;
use support_metrics_linux::driver::os_random;
use support_metrics_linux::log::count;
use support_metrics_linux::spool::{Spool, QUARANTINE_DIR};

use super::run::SPOOL_WAIT;
use super::setup::Setup;
use crate::{egress, Broker};

pub(crate) fn run(broker: &Broker, as_json: bool) -> anyhow::Result<ExitCode> {
    let setup = Setup::new(broker, RunMode::OneCycle)?;
    setup.log_warnings();
    let mut out = std::io::stdout().lock();
    let sinks = setup.reporter.sinks();
    if sinks.is_empty() {
        writeln!(out, "{}. Nothing would be sent.", setup.egress())?;
        return Ok(ExitCode::SUCCESS);
    }
    let Some(up) = setup.find_broker(&mut None) else {
        writeln!(
            out,
            "The broker is not running ({}): nothing would be sent.",
            egress::broker(&setup)
        )?;
        return Ok(ExitCode::from(crate::exit::UNAVAILABLE));
    };
    let peeked = Spool::peek(&setup.spool_dir, SPOOL_WAIT)?;
    let mut entropy = [0u8; 16];
    os_random(&mut entropy)?;
    let now = Instant::from_millis(0);
    let mut reporter = Reporter::new(now, &setup.reporter, entropy, 0);
    let mut new_record = None;
    let run_entropy = setup.run_entropy(&up, false)?;
    let mut buf = vec![0u8; 4096];
    let mut drain = |reporter: &mut Reporter, new_record: &mut Option<(u64, Vec<u8>)>| loop {
        match reporter.poll_output(&mut buf) {
            Ok(Output::Spool(SpoolOp::Write { id, len, .. })) => {
                *new_record = Some((id.0, buf[..len].to_vec()))
            }
            Ok(Output::Timeout(_) | Output::Stopped) => return,
            Ok(_) => {}
            Err(e) => buf.resize(e.required, 0),
        }
    };
    drain(&mut reporter, &mut new_record);
    if setup.reporter.watch_broker {
        reporter.handle_input(Input::BrokerUp {
            now,
            entropy: run_entropy,
        })?;
        drain(&mut reporter, &mut new_record);
    }
    let mut listed = Vec::new();
    for (stored, bytes) in peeked.records {
        reporter.handle_input(Input::Spooled {
            now,
            id: stored.id,
            pending: stored.pending,
            token: Some(stored.token),
            rejections: stored.rejections,
        })?;
        drain(&mut reporter, &mut new_record);
        let still = stored.pending.intersect(sinks);
        if !still.is_empty() {
            listed.push((stored.id.0, still, bytes, true));
        }
    }
    let facts = Facts::new(
        &setup.facts.kafka_version,
        setup.facts.platform_version.as_deref(),
    );
    let unix = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    if let Some(source) = setup.customer_source() {
        let gathered = source.gather(std::time::Duration::ZERO, std::time::Duration::from_secs(3));
        if let Some(why) = gathered.problem() {
            setup.log.warn(&format!(
                "the cluster's facts could not be read ({why}): the customer record shows 0 brokers, topics and partitions and clusterId \"unknown\""
            ));
        }
        let (op, record) = collect_customer(&mut reporter, (now, unix), facts, &gathered)
            .map_err(|e| anyhow::anyhow!("internal: {e}"))?;
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
    drain(&mut reporter, &mut new_record);
    if let Some((id, bytes)) = new_record {
        listed.push((id, sinks, bytes, false));
    }
    if as_json {
        let records: Vec<serde_json::Value> = listed
            .iter()
            .map(|(id, pending, bytes, from_spool)| {
                serde_json::json!({
                    "id": id,
                    "fromSpool": from_spool,
                    "destinations": egress::destinations(&setup, *pending),
                    "bytes": bytes.len(),
                    "record": String::from_utf8_lossy(bytes),
                })
            })
            .collect();
        let refused: Vec<serde_json::Value> = peeked
            .refused
            .iter()
            .map(|r| serde_json::json!({"name": r.name, "why": r.why}))
            .collect();
        let value = serde_json::json!({
            "reporting": setup.egress(),
            "sent": false,
            "records": records,
            "notRecords": refused,
        });
        writeln!(out, "{}", serde_json::to_string_pretty(&value)?)?;
        return Ok(ExitCode::SUCCESS);
    }
    writeln!(out, "{}", setup.egress())?;
    writeln!(
        out,
        "The next cycle would send {}. Nothing was sent.",
        count(listed.len(), "record")
    )?;
    for refused in &peeked.refused {
        writeln!(
            out,
            "Not shown: {} in the spool is not a record of this agent ({}); `once` or `run` will move it to {QUARANTINE_DIR}/.",
            refused.name.escape_debug(),
            refused.why
        )?;
    }
    for (id, pending, bytes, from_spool) in listed {
        let origin = if from_spool {
            "from the spool"
        } else {
            if setup.reporter.watch_broker {
                "new; its brokerProcessUUID is the token of this broker run"
            } else {
                "new; its brokerProcessUUID is made anew at every start"
            }
        };
        writeln!(
            out,
            "\nrecord #{id} ({origin}) -> {}",
            egress::destinations(&setup, pending)
        )?;
        out.write_all(&bytes)?;
        writeln!(out)?;
    }
    Ok(ExitCode::SUCCESS)
}
