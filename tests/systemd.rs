//! The checks every shipped systemd unit passes, through `systemd-analyze`: it loads (no
//! unknown setting, its command exists), and its hardening rates "OK". Machines without
//! systemd skip them: each returns `None` there.

use std::path::Path;
use std::process::Command;

const ANALYZE: &str = "/usr/bin/systemd-analyze";

/// `systemd-analyze verify` of `dir/name`, with `dir` first on the unit path (so drop-ins
/// in `dir/name.d/` and units it names are found there): its complaints, if any.
pub fn verify(dir: &Path, name: &str) -> Option<Result<(), String>> {
    if !Path::new(ANALYZE).exists() {
        eprintln!("SKIPPED: no systemd-analyze on this machine");
        return None;
    }
    let out = Command::new(ANALYZE)
        .arg("verify")
        .arg(dir.join(name))
        .env("SYSTEMD_UNIT_PATH", format!("{}:", dir.display()))
        .output()
        .unwrap();
    let said = String::from_utf8_lossy(&out.stderr).into_owned();
    Some(if out.status.success() && !said.contains("Unknown") {
        Ok(())
    } else {
        Err(said)
    })
}

/// The exposure score `systemd-analyze security --offline=yes` gives `unit` (0 to 10; "OK"
/// is at most 2.0). Panics with its output when it prints no score.
pub fn exposure(unit: &Path) -> Option<f64> {
    if !Path::new(ANALYZE).exists() {
        eprintln!("SKIPPED: no systemd-analyze on this machine");
        return None;
    }
    let out = Command::new(ANALYZE)
        .args(["security", "--offline=yes", "--no-pager"])
        .arg(unit)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    let name = unit.file_name().unwrap().to_string_lossy();
    let score = text
        .lines()
        .find_map(|l| l.split(&format!("exposure level for {name}: ")).nth(1))
        .and_then(|rest| rest.split_whitespace().next()?.parse().ok());
    Some(score.unwrap_or_else(|| {
        panic!(
            "no score in:\n{text}{}",
            String::from_utf8_lossy(&out.stderr)
        )
    }))
}
