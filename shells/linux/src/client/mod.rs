//! How the agent's and the bundle tool's Kafka clients connect: the bootstrap servers, the
//! security settings (the operator's `client.*` settings in Java's or librdkafka's names, or
//! else the broker's own listener settings), translated into what librdkafka takes, with every
//! value that must not be shown known to a [`Redactor`].

pub mod derive;
pub mod java;
mod stores;

use support_metrics_core::config::CLIENT_PREFIX;

use crate::bootstrap::bootstrap;
use crate::properties_file::{Entry, PropertiesFile};
use crate::secrets::Redactor;

/// One client setting, and where it was written.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Setting {
    /// As a Java client or librdkafka names it (`ssl.truststore.location`).
    pub name: String,
    /// The value.
    pub value: String,
    /// The key as written where it came from (`confluent.support.metrics.client.ssl...`,
    /// `listener.name.ssl.ssl.truststore.location`).
    pub key: String,
    /// Where, for messages: `FILE: line N: KEY`, or an option of the command line.
    pub origin: String,
}

impl Setting {
    /// The setting `name` from `file`'s entry `e`.
    pub fn from_entry(file: &PropertiesFile, e: &Entry, name: &str) -> Setting {
        Setting {
            name: name.to_owned(),
            value: e.value.clone(),
            key: e.key.clone(),
            origin: format!("{}: line {}: {}", file.path().display(), e.line, e.key),
        }
    }

    /// Where it was written, for messages.
    pub fn origin(&self) -> &str {
        &self.origin
    }

    /// Every property of a client properties file (`--command-config`), keys as they are.
    pub fn all_of(file: &PropertiesFile) -> Vec<Setting> {
        file.entries()
            .iter()
            .map(|e| Setting::from_entry(file, e, &e.key))
            .collect()
    }

    /// What a Kafka tool's command line adds, in order: every property of the client
    /// properties file `--command-config` names, then each `--consumer-property KEY=VALUE`.
    pub fn command_line(
        command_config: Option<&std::path::Path>,
        properties: &[(String, String)],
    ) -> Result<Vec<Setting>, crate::properties_file::FileError> {
        let mut settings = match command_config {
            Some(path) => Setting::all_of(&PropertiesFile::read(path)?),
            None => Vec::new(),
        };
        settings.extend(properties.iter().map(|(k, v)| Setting {
            name: k.clone(),
            value: v.clone(),
            key: k.clone(),
            origin: format!("--consumer-property {k}"),
        }));
        Ok(settings)
    }

    /// The `confluent.support.metrics.client.*` settings of a broker config, prefix removed.
    pub fn client_settings_of(file: &PropertiesFile) -> Vec<Setting> {
        file.entries()
            .iter()
            .filter_map(|e| {
                let name = e
                    .key
                    .strip_prefix(CLIENT_PREFIX)
                    .filter(|n| !n.is_empty())?;
                Some(Setting::from_entry(file, e, name))
            })
            .collect()
    }
}

/// `KEY=VALUE`, as `--consumer-property` takes it (for clap's `value_parser`).
pub fn key_value(s: &str) -> Result<(String, String), String> {
    match s.split_once('=') {
        Some((k, v)) if !k.trim().is_empty() => Ok((k.trim().to_owned(), v.to_owned())),
        _ => Err("expected KEY=VALUE".to_owned()),
    }
}

/// librdkafka's `builtin.features` (`ssl,sasl,sasl_scram,...`).
pub fn builtin_features() -> String {
    rdkafka::ClientConfig::new()
        .create_native_config()
        .and_then(|c| c.get("builtin.features"))
        .unwrap_or_default()
}

/// Whether `name` chooses how the client authenticates or encrypts.
pub fn is_security(name: &str) -> bool {
    name == "security.protocol" || name.starts_with("sasl.") || name.starts_with("ssl.")
}

/// Everything a client needs: where, and with which librdkafka settings.
#[derive(Clone, Debug)]
pub struct Connection {
    /// `host:port[,...]`.
    pub servers: String,
    /// librdkafka settings (security and pass-throughs), in order.
    pub settings: Vec<(String, String)>,
    /// Knows every value of those settings that must not be shown.
    pub redactor: Redactor,
    /// How the security was chosen, naming keys and never values.
    pub security: String,
    /// Settings left out, each with why (for a warning).
    pub notes: Vec<String>,
}

impl Connection {
    /// Plain TCP to `servers`, with no setting of its own.
    pub fn plaintext(servers: &str) -> Connection {
        Connection {
            servers: servers.to_owned(),
            settings: Vec::new(),
            redactor: Redactor::default(),
            security: "PLAINTEXT".to_owned(),
            notes: Vec::new(),
        }
    }
}

/// Decides the connection. `servers` are explicit servers (a command-line option or
/// `confluent.support.metrics.bootstrap.servers`); without them the broker's listeners in
/// `file` give them. `extra` settings come after the file's `client.*` settings. When no
/// security setting is given at all, the broker's own listener settings are used.
pub fn connect(
    file: Option<&PropertiesFile>,
    servers: Option<&str>,
    extra: Vec<Setting>,
) -> Result<Connection, String> {
    let mut given = file.map(Setting::client_settings_of).unwrap_or_default();
    given.extend(extra);
    let wanted = given
        .iter()
        .rev()
        .find(|s| s.name == "security.protocol")
        .map(|s| s.value.trim().to_owned());
    let (servers, listener) = match (servers, file) {
        (Some(s), _) => (s.to_owned(), None),
        (None, Some(f)) => {
            let get = |key: &str| f.get(key).map(str::to_owned);
            let b = bootstrap(None, get, wanted.as_deref())
                .map_err(|e| format!("{}: {e}", f.path().display()))?;
            (b.servers, b.listener.zip(b.protocol))
        }
        (None, None) => return Err("no bootstrap servers given".into()),
    };
    let secured: Vec<&Setting> = given.iter().filter(|s| is_security(&s.name)).collect();
    let (input, security) = match (secured.is_empty(), listener, file) {
        (false, listener, file) => {
            let mut keys: Vec<&str> = secured.iter().map(|s| s.key.as_str()).collect();
            keys.dedup();
            let mut input = Vec::new();
            // Without security.protocol of their own, the settings go with the listener's.
            let protocol = match (&wanted, listener, file) {
                (Some(p), _, _) => p.to_ascii_uppercase(),
                (None, Some((name, protocol)), Some(f)) => {
                    let protocol = protocol.to_ascii_uppercase();
                    input.push(Setting {
                        name: "security.protocol".into(),
                        value: protocol.clone(),
                        key: "listener.security.protocol.map".into(),
                        origin: format!("{}: listener {name}", f.path().display()),
                    });
                    format!("{protocol} as the broker's listener {name}")
                }
                (None, _, _) => "PLAINTEXT".to_owned(),
            };
            input.extend(given.iter().cloned());
            (input, format!("{protocol}, with {}", keys.join(", ")))
        }
        (true, Some((name, protocol)), Some(f)) => {
            let derived = derive::from_broker(f, &name, &protocol)?;
            let mut input = derived.settings;
            input.extend(given.iter().cloned());
            (input, derived.description)
        }
        (true, _, _) => (
            given.clone(),
            "PLAINTEXT, no client security settings".to_owned(),
        ),
    };
    let translated = java::translate(&input)?;
    if let Some((_, m)) = translated
        .settings
        .iter()
        .rev()
        .find(|(k, _)| k == "sasl.mechanisms")
    {
        if m == "GSSAPI" && !builtin_features().split(',').any(|f| f == "sasl_gssapi") {
            let origin = input
                .iter()
                .rev()
                .find(|s| s.name == "sasl.jaas.config" || s.name.starts_with("sasl.mechanism"))
                .map_or("sasl.mechanism", |s| s.origin());
            return Err(format!(
                "{origin}: Kerberos (GSSAPI) needs librdkafka built with Cyrus SASL (libsasl2), \
                 which this build does not link (it has: {}); use SCRAM, PLAIN or mutual TLS for the agent",
                builtin_features()
            ));
        }
    }
    let mut shown: Vec<(String, String)> = input
        .iter()
        .map(|s| (s.name.clone(), s.value.clone()))
        .chain(translated.settings.iter().cloned())
        .collect();
    shown.extend(
        translated
            .secrets
            .iter()
            .map(|s| ("password".to_owned(), s.clone())),
    );
    let redactor = Redactor::new(&shown);
    check_with_librdkafka(&servers, &translated.settings, &input, &redactor)?;
    Ok(Connection {
        servers,
        redactor,
        settings: translated.settings,
        security,
        notes: translated.notes,
    })
}

/// Whether librdkafka takes every setting, without making a client (no thread, no socket):
/// every command refuses what a client would.
fn check_with_librdkafka(
    servers: &str,
    settings: &[(String, String)],
    input: &[Setting],
    redactor: &Redactor,
) -> Result<(), String> {
    let mut config = rdkafka::ClientConfig::new();
    config.set("bootstrap.servers", servers);
    for (k, v) in settings {
        config.set(k, v);
    }
    let Err(e) = config.create_native_config() else {
        return Ok(());
    };
    if let rdkafka::error::KafkaError::ClientConfig(_, desc, key, _) = &e {
        if let Some(s) = input.iter().rev().find(|s| &s.name == key) {
            let why = redactor.clean(desc).replace(s.value.as_str(), "***");
            return Err(format!("{}: librdkafka refuses it: {why}", s.origin()));
        }
    }
    Err(format!(
        "librdkafka refuses a client setting: {}",
        crate::secrets::client_error(&e, settings, redactor)
    ))
}
