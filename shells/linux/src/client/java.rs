//! Java client properties (what every Kafka tool takes: `sasl.jaas.config`,
//! `ssl.truststore.location`, ...) translated to librdkafka's settings. librdkafka's own names
//! pass through unchanged, so either vocabulary works, and both may be mixed.
//!
//! | Java client property | librdkafka setting |
//! |---|---|
//! | `security.protocol` | `security.protocol` |
//! | `sasl.mechanism` | `sasl.mechanisms` |
//! | `sasl.jaas.config` with `PlainLoginModule` / `ScramLoginModule` | `sasl.username`, `sasl.password` |
//! | `sasl.jaas.config` with `Krb5LoginModule` (`keyTab`, `principal`) | `sasl.kerberos.keytab`, `sasl.kerberos.principal` |
//! | `sasl.kerberos.service.name` | `sasl.kerberos.service.name` |
//! | `ssl.truststore.location`, PEM | `ssl.ca.location` |
//! | `ssl.truststore.location`, PKCS12 (+ `ssl.truststore.password`) | `ssl.ca.pem` (converted in memory) |
//! | `ssl.truststore.certificates` | `ssl.ca.pem` |
//! | `ssl.keystore.location`, PKCS12 (+ `ssl.keystore.password`) | `ssl.keystore.location`, `ssl.keystore.password` |
//! | `ssl.keystore.location`, PEM (+ `ssl.key.password`) | `ssl.certificate.location`, `ssl.key.location`, `ssl.key.password` |
//! | `ssl.keystore.key`, `ssl.keystore.certificate.chain` | `ssl.key.pem`, `ssl.certificate.pem` |
//! | `ssl.endpoint.identification.algorithm` (`https` or empty) | the same (`https` or `none`) |
//!
//! Store files are recognised by their content, whatever `ssl.*.type` says; JKS is refused
//! with the `keytool` command that converts it. OAUTHBEARER is refused: librdkafka's equivalent
//! (OIDC) needs libcurl, which this build does not link.

use support_metrics_core::config::is_secret_key;
use support_metrics_core::jaas;

use super::stores::{self, Format};
use super::Setting;

/// Java-only settings with no librdkafka meaning: noted and left out.
const JAVA_ONLY: [&str; 22] = [
    "ssl.protocol",
    "ssl.enabled.protocols",
    "ssl.keymanager.algorithm",
    "ssl.trustmanager.algorithm",
    "ssl.secure.random.implementation",
    "ssl.provider",
    "ssl.engine.factory.class",
    "ssl.truststore.type",
    "ssl.truststore.password",
    "ssl.keystore.type",
    "sasl.login.class",
    "sasl.login.callback.handler.class",
    "sasl.client.callback.handler.class",
    "sasl.login.refresh.window.factor",
    "sasl.login.refresh.window.jitter",
    "sasl.login.refresh.min.period.seconds",
    "sasl.login.refresh.buffer.seconds",
    "sasl.login.connect.timeout.ms",
    "sasl.login.read.timeout.ms",
    "sasl.kerberos.ticket.renew.window.factor",
    "sasl.kerberos.ticket.renew.jitter",
    "sasl.kerberos.min.time.before.relogin",
];

/// Java settings translated here (the rest of the input passes through). `ssl.key.password`
/// goes with whatever key it opens, so `keystore` places it.
const TRANSLATED: [&str; 10] = [
    "sasl.mechanism",
    "sasl.mechanisms",
    "sasl.jaas.config",
    "ssl.truststore.location",
    "ssl.truststore.certificates",
    "ssl.keystore.location",
    "ssl.keystore.password",
    "ssl.keystore.key",
    "ssl.keystore.certificate.chain",
    "ssl.key.password",
];

/// What librdkafka gets.
#[derive(Clone, Debug, Default)]
pub struct Translated {
    /// librdkafka settings, in order (a later one overrides an earlier one).
    pub settings: Vec<(String, String)>,
    /// Settings left out, each with why.
    pub notes: Vec<String>,
    /// Every value to keep out of output: passwords, JAAS texts, keys, converted stores.
    pub secrets: Vec<String>,
}

const PLAIN: &str = "PlainLoginModule";
const SCRAM: &str = "ScramLoginModule";
const KERBEROS: &str = "Krb5LoginModule";
const OAUTH: &str = "OAuthBearerLoginModule";

/// Translates `input` (Java names, librdkafka names, or both).
pub fn translate(input: &[Setting]) -> Result<Translated, String> {
    let last = |name: &str| input.iter().rev().find(|s| s.name == name);
    let mut t = Translated::default();
    for s in input {
        if is_secret_key(&s.name) && !s.value.is_empty() {
            t.secrets.push(s.value.clone());
        }
    }
    for s in input {
        let name = s.name.as_str();
        if TRANSLATED.contains(&name) || name == "ssl.endpoint.identification.algorithm" {
            continue;
        }
        if JAVA_ONLY.contains(&name) {
            // The store's type and password are used above when the store is.
            let used = match name {
                "ssl.truststore.type" | "ssl.truststore.password" => {
                    last("ssl.truststore.location").is_some()
                }
                "ssl.keystore.type" => last("ssl.keystore.location").is_some(),
                _ => false,
            };
            if !used {
                t.notes.push(format!(
                    "{}: a Java client setting without a librdkafka equivalent; ignored",
                    s.origin()
                ));
            }
            continue;
        }
        t.settings.push((s.name.clone(), s.value.clone()));
    }
    sasl(input, &mut t)?;
    truststore(input, &mut t)?;
    keystore(input, &mut t)?;
    if let Some(s) = last("ssl.endpoint.identification.algorithm") {
        let value = match s.value.trim() {
            "" => "none".to_owned(),
            v if v.eq_ignore_ascii_case("https") => "https".to_owned(),
            v => v.to_owned(),
        };
        t.settings
            .push(("ssl.endpoint.identification.algorithm".into(), value));
    }
    t.secrets.retain(|s| !s.is_empty());
    Ok(t)
}

fn sasl(input: &[Setting], t: &mut Translated) -> Result<(), String> {
    let last = |name: &str| input.iter().rev().find(|s| s.name == name);
    let mut mechanism = last("sasl.mechanisms")
        .or_else(|| last("sasl.mechanism"))
        .map(|s| (s.value.trim().to_ascii_uppercase(), s));
    if let Some(j) = last("sasl.jaas.config") {
        let module =
            jaas::parse(&j.value).map_err(|e| format!("{}: cannot be read: {e}", j.origin()))?;
        let class = module.class();
        let simple = class.rsplit('.').next().unwrap_or(class);
        let option = |name: &str| module.option(name).map(|v| v.chars().collect::<String>());
        let mech = mechanism.as_ref().map(|(m, _)| m.as_str());
        let wants = |allowed: &[&str], default: Option<&str>| -> Result<String, String> {
            match (mech, default) {
                (Some(m), _) if allowed.contains(&m) => Ok(m.to_owned()),
                (None, Some(d)) => Ok(d.to_owned()),
                (m, _) => Err(format!(
                    "{}: {simple} needs sasl.mechanism {}{}",
                    j.origin(),
                    allowed.join(" or "),
                    m.map(|m| format!(", not {m}")).unwrap_or_default()
                )),
            }
        };
        let chosen = match simple {
            PLAIN | SCRAM => {
                let chosen = if simple == PLAIN {
                    wants(&["PLAIN"], Some("PLAIN"))?
                } else {
                    wants(&["SCRAM-SHA-256", "SCRAM-SHA-512"], None)?
                };
                for (java, rdkafka) in
                    [("username", "sasl.username"), ("password", "sasl.password")]
                {
                    let value = option(java).ok_or_else(|| {
                        format!("{}: {simple} has no {java}=\"...\" option", j.origin())
                    })?;
                    if java == "password" {
                        t.secrets.push(value.clone());
                    }
                    t.settings.push((rdkafka.into(), value));
                }
                chosen
            }
            KERBEROS => {
                let chosen = wants(&["GSSAPI"], Some("GSSAPI"))?;
                for (java, rdkafka) in [
                    ("keyTab", "sasl.kerberos.keytab"),
                    ("principal", "sasl.kerberos.principal"),
                ] {
                    if let Some(value) = option(java) {
                        t.settings.push((rdkafka.into(), value));
                    }
                }
                chosen
            }
            OAUTH => {
                return Err(format!(
                    "{}: OAUTHBEARER is not supported: librdkafka's equivalent \
                     (sasl.oauthbearer.method=oidc) needs libcurl, which this build does not link; \
                     use SCRAM, PLAIN or mutual TLS for the agent",
                    j.origin()
                ))
            }
            _ => {
                return Err(format!(
                    "{}: login module {class} has no librdkafka equivalent \
                     (supported: {PLAIN}, {SCRAM}, {KERBEROS})",
                    j.origin()
                ))
            }
        };
        mechanism = Some((chosen, j));
    }
    if let Some((m, _)) = mechanism {
        t.settings.push(("sasl.mechanisms".into(), m));
    }
    Ok(())
}

fn truststore(input: &[Setting], t: &mut Translated) -> Result<(), String> {
    let last = |name: &str| input.iter().rev().find(|s| s.name == name);
    if let Some(certs) = last("ssl.truststore.certificates") {
        t.settings.push(("ssl.ca.pem".into(), certs.value.clone()));
        return Ok(());
    }
    let Some(location) = last("ssl.truststore.location") else {
        return Ok(());
    };
    let path = location.value.as_str();
    let bytes = stores::read(path).map_err(|e| format!("{}: {e}", location.origin()))?;
    match stores::sniff(&bytes) {
        Format::Pem => t.settings.push(("ssl.ca.location".into(), path.to_owned())),
        Format::Pkcs12 => {
            let password = last("ssl.truststore.password").map(|s| s.value.as_str());
            let pem = stores::pkcs12_ca_pem(&bytes, password, path)
                .map_err(|e| format!("{}: {e}", location.origin()))?;
            t.settings.push(("ssl.ca.pem".into(), pem));
        }
        Format::Jks => {
            return Err(format!(
                "{}: {}",
                location.origin(),
                stores::jks_refusal(path, &location.key)
            ))
        }
        Format::Unknown => return Err(unknown_store(location, last("ssl.truststore.type"))),
    }
    Ok(())
}

fn keystore(input: &[Setting], t: &mut Translated) -> Result<(), String> {
    keystore_files(input, t)?;
    // The key password goes with whatever key is used: the keystore's, or librdkafka's own
    // `ssl.key.location` / `ssl.key.pem` (librdkafka's name is the same).
    if let Some(p) = input.iter().rev().find(|s| s.name == "ssl.key.password") {
        t.settings
            .push(("ssl.key.password".into(), p.value.clone()));
    }
    Ok(())
}

fn keystore_files(input: &[Setting], t: &mut Translated) -> Result<(), String> {
    let last = |name: &str| input.iter().rev().find(|s| s.name == name);
    if let Some(key) = last("ssl.keystore.key") {
        let chain = last("ssl.keystore.certificate.chain").ok_or_else(|| {
            format!(
                "{}: needs ssl.keystore.certificate.chain beside it",
                key.origin()
            )
        })?;
        t.secrets.push(key.value.clone());
        t.settings.push(("ssl.key.pem".into(), key.value.clone()));
        t.settings
            .push(("ssl.certificate.pem".into(), chain.value.clone()));
        return Ok(());
    }
    let Some(location) = last("ssl.keystore.location") else {
        return Ok(());
    };
    let path = location.value.as_str();
    let bytes = stores::read(path).map_err(|e| format!("{}: {e}", location.origin()))?;
    match stores::sniff(&bytes) {
        Format::Pkcs12 => {
            let password = last("ssl.keystore.password").map(|s| s.value.as_str());
            stores::pkcs12_keystore_check(&bytes, password, path)
                .map_err(|e| format!("{}: {e}", location.origin()))?;
            t.settings
                .push(("ssl.keystore.location".into(), path.to_owned()));
            if let Some(p) = password {
                t.settings
                    .push(("ssl.keystore.password".into(), p.to_owned()));
            }
        }
        Format::Pem => {
            t.settings
                .push(("ssl.certificate.location".into(), path.to_owned()));
            t.settings
                .push(("ssl.key.location".into(), path.to_owned()));
        }
        Format::Jks => {
            return Err(format!(
                "{}: {}",
                location.origin(),
                stores::jks_refusal(path, &location.key)
            ))
        }
        Format::Unknown => return Err(unknown_store(location, last("ssl.keystore.type"))),
    }
    Ok(())
}

fn unknown_store(location: &Setting, declared: Option<&Setting>) -> String {
    format!(
        "{}: {} is neither PEM nor PKCS12 ({})",
        location.origin(),
        location.value,
        declared.map_or("no type given".to_owned(), |d| format!(
            "declared {}",
            d.value.trim()
        ))
    )
}
