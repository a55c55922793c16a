//! The agent's client security taken from the broker's own config, as the broker's
//! inter-broker client would connect: the chosen listener's security protocol, its
//! `listener.name.<listener>.*` overrides or else the global `ssl.*` / `sasl.*` settings, and
//! the inter-broker SASL mechanism with that listener's JAAS login module.

use super::Setting;
use crate::properties_file::PropertiesFile;

/// The trust side of TLS (and the host name check), read for every TLS listener.
const TRUST: [&str; 5] = [
    "ssl.truststore.location",
    "ssl.truststore.type",
    "ssl.truststore.password",
    "ssl.truststore.certificates",
    "ssl.endpoint.identification.algorithm",
];

/// The client certificate, read when the listener asks for one (`ssl.client.auth`).
const KEYSTORE: [&str; 6] = [
    "ssl.keystore.location",
    "ssl.keystore.type",
    "ssl.keystore.password",
    "ssl.keystore.key",
    "ssl.keystore.certificate.chain",
    "ssl.key.password",
];

/// Java client settings derived from the broker's config, and how they were chosen.
#[derive(Clone, Debug)]
pub struct Derived {
    /// In Java names, each with the broker key it came from.
    pub settings: Vec<Setting>,
    /// Which listener and mechanism, from which keys (never a value).
    pub description: String,
}

/// Derives the client security for `listener` (its name, and its protocol as
/// `listener.security.protocol.map` gives it) from `file`.
pub fn from_broker(
    file: &PropertiesFile,
    listener: &str,
    protocol: &str,
) -> Result<Derived, String> {
    let prefix = format!("listener.name.{}.", listener.to_ascii_lowercase());
    let lookup = |name: &str| -> Option<Setting> {
        [format!("{prefix}{name}"), name.to_owned()]
            .into_iter()
            .find_map(|key| file.entry(&key).map(|e| Setting::from_entry(file, e, name)))
    };
    let protocol = protocol.to_ascii_uppercase();
    let mut settings = vec![Setting {
        name: "security.protocol".into(),
        value: protocol.clone(),
        key: "listener.security.protocol.map".into(),
        origin: format!("{}: listener {listener}", file.path().display()),
    }];
    let mut used: Vec<String> = Vec::new();
    let mut take = |settings: &mut Vec<Setting>, s: Setting| {
        used.push(s.key.clone());
        settings.push(s);
    };
    let mut mechanism_note = String::new();
    if protocol.ends_with("SSL") {
        for name in TRUST {
            if let Some(s) = lookup(name) {
                take(&mut settings, s);
            }
        }
        let client_auth = lookup("ssl.client.auth")
            .map(|s| s.value.trim().to_ascii_lowercase())
            .unwrap_or_default();
        if client_auth == "required" || client_auth == "requested" {
            for name in KEYSTORE {
                if let Some(s) = lookup(name) {
                    take(&mut settings, s);
                }
            }
        }
    }
    if protocol.starts_with("SASL_") {
        let enabled: Vec<String> = lookup("sasl.enabled.mechanisms")
            .map(|s| s.value)
            .unwrap_or_else(|| "GSSAPI".into())
            .split(',')
            .map(|m| m.trim().to_ascii_uppercase())
            .filter(|m| !m.is_empty())
            .collect();
        let inter_key = "sasl.mechanism.inter.broker.protocol";
        let inter = file
            .get(inter_key)
            .map_or("GSSAPI".to_owned(), |m| m.trim().to_ascii_uppercase());
        let jaas = |mechanism: &str| {
            let key = format!(
                "{prefix}{}.sasl.jaas.config",
                mechanism.to_ascii_lowercase()
            );
            file.entry(&key)
                .map(|e| Setting::from_entry(file, e, "sasl.jaas.config"))
        };
        let (mechanism, why) = if enabled.contains(&inter) {
            (inter.clone(), inter_key.to_owned())
        } else {
            let first = enabled
                .iter()
                .find(|m| jaas(m).is_some())
                .or(enabled.first())
                .cloned()
                .unwrap_or(inter.clone());
            (first, format!("{prefix}sasl.enabled.mechanisms"))
        };
        let Some(login) = jaas(&mechanism) else {
            return Err(format!(
                "{}: listener {listener} ({protocol}) uses SASL {mechanism} (from {why}), but there is no \
                 {prefix}{}.sasl.jaas.config to take the agent's credentials from (a JAAS file given to the \
                 broker's JVM is not read); set confluent.support.metrics.client.sasl.jaas.config",
                file.path().display(),
                mechanism.to_ascii_lowercase()
            ));
        };
        settings.push(Setting {
            name: "sasl.mechanism".into(),
            value: mechanism.clone(),
            key: why.clone(),
            origin: format!("{}: {why}", file.path().display()),
        });
        take(&mut settings, login);
        if mechanism == "GSSAPI" {
            if let Some(s) = lookup("sasl.kerberos.service.name") {
                take(&mut settings, s);
            }
        }
        mechanism_note = format!(", SASL {mechanism} (from {why})");
    }
    let from = if used.is_empty() {
        String::new()
    } else {
        format!("; from the broker's {}", used.join(", "))
    };
    Ok(Derived {
        settings,
        description: format!(
            "{protocol} as the broker's listener {listener}{mechanism_note}{from}"
        ),
    })
}
