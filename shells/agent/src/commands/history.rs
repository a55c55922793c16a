//! `history`: what left this machine, where and when, byte for byte (the ledger).

use std::io::Write;
use std::process::ExitCode;

use support_metrics_linux::ledger::{Ledger, MAX_AGE_DAYS, MAX_ENTRIES};
use support_metrics_linux::utc::{parse_date, rfc3339_secs};

use super::setup::spool_dir_of;
use crate::Broker;

pub(crate) fn run(broker: &Broker, as_json: bool, since: Option<&str>) -> anyhow::Result<ExitCode> {
    let since = since.map(|text| {
        parse_date(text).unwrap_or_else(|| {
            use clap::CommandFactory;
            crate::Cli::command()
                .error(
                    clap::error::ErrorKind::ValueValidation,
                    format!("--since {text:?}: expected a date, YYYY-MM-DD or YYYY-MM-DDTHH:MM:SSZ (UTC)"),
                )
                .exit()
        })
    });
    let ledger = Ledger::new(&spool_dir_of(broker)?);
    let entries: Vec<_> = ledger
        .read()
        .map_err(|e| anyhow::anyhow!("ledger {}: {e}", ledger.path().display()))?
        .into_iter()
        .filter(|e| since.is_none_or(|s| e.unix >= s))
        .collect();
    let mut out = std::io::stdout().lock();
    if as_json {
        let list: Vec<_> = entries.iter().map(|e| e.to_json()).collect();
        writeln!(out, "{}", serde_json::to_string_pretty(&list)?)?;
        return Ok(ExitCode::SUCCESS);
    }
    if entries.is_empty() {
        writeln!(
            out,
            "Nothing recorded as sent{} (ledger {}, which keeps {MAX_AGE_DAYS} days or {MAX_ENTRIES} entries).",
            since.and_then(rfc3339_secs).map(|s| format!(" since {s}")).unwrap_or_default(),
            ledger.path().display()
        )?;
        return Ok(ExitCode::SUCCESS);
    }
    for e in &entries {
        writeln!(
            out,
            "{}  {}  {} bytes",
            rfc3339_secs(e.unix).unwrap_or_default(),
            e.destination,
            e.record.len()
        )?;
        out.write_all(&e.record)?;
        writeln!(out)?;
    }
    Ok(ExitCode::SUCCESS)
}
