//! Keeping the values of client settings out of every line the agent prints: librdkafka's
//! error texts echo settings verbatim (a JAAS line with its password, an unknown property with
//! its value), and they reach logs and the journal.

use rdkafka::error::KafkaError;
use support_metrics_core::config::{is_secret_key, CLIENT_PREFIX};

/// Values shorter than this are only taken out when their key looks secret: a value such as
/// `SSL` or `all` is also a common word of error texts.
const MIN_PLAIN_LEN: usize = 4;

/// Settings whose values are vocabulary (`SASL_SSL`, `SCRAM-SHA-512`, `https`), never secret:
/// taking them out would only make error texts unreadable.
const VOCABULARY: [&str; 7] = [
    "security.protocol",
    "sasl.mechanism",
    "sasl.mechanisms",
    "sasl.kerberos.service.name",
    "ssl.endpoint.identification.algorithm",
    "ssl.truststore.type",
    "ssl.keystore.type",
];

/// Takes the values of client settings out of texts.
#[derive(Clone, Debug, Default)]
pub struct Redactor {
    /// Longest first, so a value containing another is taken out whole.
    values: Vec<String>,
}

impl Redactor {
    /// For the client settings `settings` (keys without the `client.` prefix): every value
    /// of a key that looks secret, and every other value of at least four bytes.
    pub fn new(settings: &[(String, String)]) -> Redactor {
        let mut values: Vec<String> = settings
            .iter()
            .filter(|(k, v)| {
                !v.is_empty()
                    && (is_secret_key(k)
                        || (v.len() >= MIN_PLAIN_LEN && !VOCABULARY.contains(&k.as_str())))
            })
            .map(|(_, v)| v.clone())
            .collect();
        values.sort_by_key(|v| std::cmp::Reverse(v.len()));
        values.dedup();
        Redactor { values }
    }

    /// `text` with every known value replaced by `***`.
    pub fn clean(&self, text: &str) -> String {
        let mut text = text.to_owned();
        for v in &self.values {
            if text.contains(v.as_str()) {
                text = text.replace(v.as_str(), "***");
            }
        }
        text
    }
}

/// Why librdkafka would not make a client, in words that name the setting and never a value:
/// `confluent.support.metrics.client.<key>: <librdkafka's reason>` when one setting was
/// refused, librdkafka's message (cleaned) otherwise.
pub fn client_error(e: &KafkaError, settings: &[(String, String)], redactor: &Redactor) -> String {
    match e {
        KafkaError::ClientConfig(_, desc, key, value) => {
            let named = if settings.iter().any(|(k, _)| k == key) {
                format!("{CLIENT_PREFIX}{key}")
            } else {
                key.clone()
            };
            let mut why = redactor.clean(desc);
            if !value.is_empty() {
                why = why.replace(value.as_str(), "***");
            }
            format!("{named}: librdkafka refuses it: {why}")
        }
        other => redactor.clean(&other.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rdkafka::config::{ClientConfig, RDKafkaLogLevel};
    use rdkafka::producer::BaseProducer;

    fn settings(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    /// librdkafka's own refusals, for real: the message names the key, never the value.
    #[test]
    fn refused_settings_are_named_not_shown() {
        for pairs in [
            vec![(
                "sasl.jaas.config",
                r#"org.apache.kafka.common.security.plain.PlainLoginModule required username="admin" password="admin-secret";"#,
            )],
            vec![("ssl.truststore.password", "changeit")],
            vec![("acks", "sometimes-Secr3t")],
        ] {
            let settings = settings(&pairs);
            let mut config = ClientConfig::new();
            config.set_log_level(RDKafkaLogLevel::Emerg);
            for (k, v) in &settings {
                config.set(k, v);
            }
            let e = config
                .create::<BaseProducer>()
                .err()
                .expect("librdkafka refuses it");
            let raw = e.to_string();
            let line = client_error(&e, &settings, &Redactor::new(&settings));
            let (key, value) = &settings[0];
            // What the agent printed before: librdkafka's text, value included.
            assert!(raw.contains(value.as_str()), "{raw}");
            assert!(!line.contains(value.as_str()), "{line}");
            for secret in ["admin-secret", "changeit", "Secr3t"] {
                assert!(!line.contains(secret), "{line}");
            }
            assert!(line.contains(&format!("{CLIENT_PREFIX}{key}")), "{line}");
        }
    }

    #[test]
    fn every_secret_and_long_value_is_taken_out() {
        let r = Redactor::new(&settings(&[
            ("sasl.password", "pw"),
            ("sasl.username", "alice-the-admin"),
            ("security.protocol", "SSL"),
            ("acks", "all"),
        ]));
        assert_eq!(
            r.clean("auth failed for alice-the-admin with pw over SSL, acks=all"),
            "auth failed for *** with *** over SSL, acks=all"
        );
    }
}
