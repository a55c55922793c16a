//! `config`: the effective Proactive Support settings, where each came from, and warnings;
//! with `--raw`, every property of the file as the broker reads it.

use std::collections::BTreeMap;
use std::io::Write;
use std::process::ExitCode;

use serde_json::{json, Map, Value};
use support_metrics_core::config::{is_secret_key, Key, Source, SupportConfig};
use support_metrics_core::reporter::RunMode;
use support_metrics_core::url::redact_credentials;
use support_metrics_linux::client::Setting;
use support_metrics_linux::properties_file::PropertiesFile;

use super::setup::Setup;
use crate::egress;
use crate::Broker;

/// `raw` is `Some(show_secrets)` for `--raw`.
pub(crate) fn run(broker: &Broker, as_json: bool, raw: Option<bool>) -> anyhow::Result<ExitCode> {
    let mut out = std::io::stdout().lock();
    if let Some(show_secrets) = raw {
        let file = PropertiesFile::read(broker.config())?;
        write_raw(&mut out, &file, as_json, show_secrets)?;
    } else {
        let setup = Setup::new(broker, RunMode::Daemon)?;
        let (file, config, warnings) = (setup.file(), &setup.config, &setup.warnings);
        if as_json {
            let mut value = settings_json(file, config, warnings);
            value["kafkaVersion"] = json!(setup.versions.kafka);
            value["confluentPlatformVersion"] = json!(setup.versions.platform);
            value["versionSource"] = json!(setup.versions.source);
            value["brokerWatch"] = json!(setup.watch.name());
            value["spoolDir"] = json!(setup.spool_dir.display().to_string());
            value["kafkaClient"] = kafka_client(&setup);
            value["broker"] = json!(egress::broker(&setup));
            writeln!(out, "{}", serde_json::to_string_pretty(&value)?)?;
        } else {
            write_table(&mut out, &setup)?;
        }
    }
    out.flush()?;
    Ok(ExitCode::SUCCESS)
}

/// What `--raw` shows of a value: secrets as `***`, credentials in URLs taken out.
fn raw_value(key: &str, value: &str, show_secrets: bool) -> String {
    if show_secrets {
        value.to_owned()
    } else if is_secret_key(key) {
        "***".to_owned()
    } else {
        redact_credentials(value).to_string()
    }
}

fn write_raw(
    out: &mut impl Write,
    file: &PropertiesFile,
    as_json: bool,
    show_secrets: bool,
) -> std::io::Result<()> {
    if as_json {
        let sorted: BTreeMap<&str, String> = file
            .entries()
            .iter()
            .map(|e| (e.key.as_str(), raw_value(&e.key, &e.value, show_secrets)))
            .collect();
        let map: Map<String, Value> = sorted
            .into_iter()
            .map(|(k, v)| (k.to_owned(), Value::from(v)))
            .collect();
        return writeln!(out, "{}", Value::Object(map));
    }
    for e in file.entries() {
        writeln!(
            out,
            "line {}: {} = {}",
            e.line,
            e.key.escape_debug(),
            raw_value(&e.key, &e.value, show_secrets).escape_debug()
        )?;
    }
    Ok(())
}

fn source(config: &SupportConfig, key: Key) -> String {
    match config.source(key) {
        Source::Default => "default".to_owned(),
        Source::Line(n) => format!("line {n}"),
    }
}

/// The effective value of `key`, as shown in the table.
fn shown(config: &SupportConfig, key: Key) -> String {
    let or_off = |v: Option<&str>, flag: Key, on: bool| match v {
        Some(v) => v.to_owned(),
        None if !on => format!("(disabled by {flag}=false)"),
        None => "(disabled)".to_owned(),
    };
    match key {
        Key::Enable => config.enabled().to_string(),
        Key::CustomerId => format!("{} ({})", config.customer_id(), config.customer_class()),
        Key::ReportIntervalHours => config.report_interval_hours().to_string(),
        Key::Topic => config.topic().unwrap_or("(disabled)").to_owned(),
        Key::SecureEndpoint => or_off(
            config.secure_endpoint(),
            Key::SecureEndpointEnable,
            config.secure_endpoint_enabled(),
        ),
        Key::InsecureEndpoint => or_off(
            config.insecure_endpoint(),
            Key::InsecureEndpointEnable,
            config.insecure_endpoint_enabled(),
        ),
        Key::SecureEndpointEnable => config.secure_endpoint_enabled().to_string(),
        Key::InsecureEndpointEnable => config.insecure_endpoint_enabled().to_string(),
        Key::Proxy => config
            .proxy()
            .map_or("(none)".to_owned(), |p| p.redacted().to_string()),
        Key::BootstrapServers => config
            .bootstrap_servers()
            .unwrap_or("(from the broker's listeners)")
            .to_owned(),
        Key::EndpointCaFile => config
            .endpoint_ca_file()
            .unwrap_or("(system roots only)")
            .to_owned(),
        Key::SpoolDir => config.spool_dir().unwrap_or("(default)").to_owned(),
    }
}

fn write_table(out: &mut impl Write, setup: &Setup) -> std::io::Result<()> {
    let (file, config) = (setup.file(), &setup.config);
    writeln!(
        out,
        "Proactive Support settings from {}\n",
        file.path().display()
    )?;
    let rows: Vec<(Key, String, String)> = Key::ALL
        .iter()
        .map(|&k| {
            let value = match k {
                // Resolved: absolute, the default decided.
                Key::SpoolDir => setup.spool_dir.display().to_string(),
                k => shown(config, k),
            };
            (k, value, source(config, k))
        })
        .collect();
    let key_width = Key::ALL.iter().map(|k| k.name().len()).max().unwrap_or(0);
    let value_width = rows
        .iter()
        .map(|(_, v, _)| v.len())
        .max()
        .unwrap_or(0)
        .max(5);
    writeln!(
        out,
        "{:key_width$}  {:value_width$}  from",
        "setting", "value"
    )?;
    for (key, value, from) in &rows {
        writeln!(
            out,
            "{:key_width$}  {value:value_width$}  {from}",
            key.name()
        )?;
    }
    writeln!(out, "\nReporting: {}", egress::describe(setup))?;
    writeln!(out, "Broker: {}", egress::broker(setup))?;
    let v = &setup.versions;
    writeln!(out, "Kafka version: {} (from {})", v.kafka, v.source)?;
    match &v.platform {
        Some(p) => writeln!(
            out,
            "Confluent Platform version: {p} (from the Kafka version)"
        )?,
        None => writeln!(
            out,
            "Confluent Platform version: none (not Confluent Platform)"
        )?,
    }
    for w in setup
        .warnings
        .iter()
        .chain(setup.version_warning().as_ref())
        .chain(setup.connection_notes())
    {
        writeln!(out, "warning: {}", support_metrics_linux::log::printable(w))?;
    }
    Ok(())
}

/// `confluent.support.metrics.client.*` settings, prefix removed. Values of keys that look
/// secret are shown as `***`.
fn client_settings(file: &PropertiesFile) -> Map<String, Value> {
    Setting::client_settings_of(file)
        .into_iter()
        .map(|Setting { name, value, .. }| {
            let shown = if is_secret_key(&name) {
                "***".to_owned()
            } else {
                redact_credentials(&value).to_string()
            };
            (name, Value::from(shown))
        })
        .collect()
}

/// How the Kafka clients connect: servers, how the security was chosen, and the librdkafka
/// settings, secret values as `***` and PEM texts by their size.
fn kafka_client(setup: &Setup) -> Value {
    match &setup.connection {
        Ok(c) => {
            let settings: Map<String, Value> = c
                .settings
                .iter()
                .map(|(k, v)| {
                    let shown = if is_secret_key(k) {
                        "***".to_owned()
                    } else if k.ends_with(".pem") {
                        format!("(PEM, {} bytes)", v.len())
                    } else {
                        redact_credentials(v).to_string()
                    };
                    (k.clone(), Value::from(shown))
                })
                .collect();
            json!({
                "bootstrapServers": c.servers,
                "security": c.security,
                "settings": settings,
                "notes": c.notes,
            })
        }
        Err(e) => json!({ "error": e }),
    }
}

fn settings_json(file: &PropertiesFile, config: &SupportConfig, warnings: &[String]) -> Value {
    let sources: Map<String, Value> = Key::ALL
        .iter()
        .map(|&k| (k.name().to_owned(), Value::from(source(config, k))))
        .collect();
    json!({
        "file": file.path().display().to_string(),
        "enabled": config.enabled(),
        "reporting": config.is_reporting(),
        "customerId": config.customer_id(),
        "customerClass": config.customer_class().as_str(),
        "reportIntervalHours": config.report_interval_hours(),
        "topic": config.topic(),
        "secureEndpoint": config.secure_endpoint(),
        "insecureEndpoint": config.insecure_endpoint(),
        "proxy": config.proxy().map(|p| p.redacted().to_string()),
        "bootstrapServers": config.bootstrap_servers(),
        "endpointCaFile": config.endpoint_ca_file(),
        "spoolDir": config.spool_dir(),
        "clientSettings": client_settings(file),
        "sources": sources,
        "warnings": warnings,
    })
}
