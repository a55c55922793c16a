//! `status`: is an agent running on this spool, each sink's last success and last error, the
//! next report due, and the records waiting.

use std::io::Write;
use std::process::ExitCode;

use serde_json::json;
use support_metrics_linux::ledger::Ledger;
use support_metrics_linux::spool::{lock_holder, record_count};
use support_metrics_linux::status::{Status, TARGETS};
use support_metrics_linux::utc::rfc3339_secs;

use super::setup::spool_dir_of;
use crate::Broker;

pub(crate) fn run(broker: &Broker, as_json: bool) -> anyhow::Result<ExitCode> {
    let dir = spool_dir_of(broker)?;
    let holder = lock_holder(&dir);
    let status = Status::load(&dir).unwrap_or_default();
    let waiting = record_count(&dir);
    // The ledger knows successes older than the status file.
    let mut status = status;
    if let Ok(entries) = Ledger::new(&dir).read() {
        for e in entries {
            let i = if e.destination.starts_with("topic ") {
                0
            } else if e.destination.starts_with("POST https://") {
                1
            } else {
                2
            };
            let last = &mut status.sinks[i].last_success;
            *last = Some(last.map_or(e.unix, |t| t.max(e.unix)));
        }
    }
    let mut out = std::io::stdout().lock();
    if as_json {
        let mut value = status.to_json();
        value["spoolDir"] = json!(dir.display().to_string());
        value["running"] = json!(holder.is_some());
        value["pid"] = json!(holder.flatten());
        value["recordsWaiting"] = json!(waiting);
        writeln!(out, "{}", serde_json::to_string_pretty(&value)?)?;
        return Ok(ExitCode::SUCCESS);
    }
    let time = |t: Option<u64>| t.and_then(rfc3339_secs).unwrap_or_else(|| "never".into());
    match holder {
        Some(Some(pid)) => writeln!(out, "Agent: running (pid {pid}) on spool {}", dir.display())?,
        Some(None) => writeln!(out, "Agent: running on spool {}", dir.display())?,
        None => writeln!(out, "Agent: not running on spool {}", dir.display())?,
    }
    writeln!(out, "Next report due: {}", time(status.next_report_due))?;
    writeln!(out, "Records waiting in the spool: {waiting}")?;
    for (name, s) in TARGETS.iter().zip(&status.sinks) {
        write!(out, "{name}: last success {}", time(s.last_success))?;
        match &s.last_error {
            Some((at, why)) => writeln!(out, "; last error {}: {why}", time(Some(*at)))?,
            None => writeln!(out, "; no error")?,
        }
    }
    Ok(ExitCode::SUCCESS)
}
