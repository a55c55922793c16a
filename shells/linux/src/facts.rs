//! Facts about the local Kafka installation for the record.

use std::path::{Path, PathBuf};

use support_metrics_core::wire::MAX_VERSION_LEN;

/// What the record says when the Kafka version cannot be found.
pub const UNKNOWN: &str = "unknown";

/// The Kafka installation that owns `config`: `<home>/config/server.properties` gives
/// `<home>`; a config elsewhere gives its directory's parent.
pub fn kafka_home_for(config: &Path) -> Option<PathBuf> {
    let absolute = std::path::absolute(config).ok()?;
    absolute.parent()?.parent().map(Path::to_path_buf)
}

/// The Kafka version of the installation at `home`, from the jar names in `home/libs`:
/// `kafka_<scala>-<version>.jar` (the broker) first, else `kafka-clients-<version>.jar`.
/// Source, test and javadoc jars are not versions.
pub fn kafka_version(home: &Path) -> Option<String> {
    let mut broker = None;
    let mut clients = None;
    for entry in std::fs::read_dir(home.join("libs")).ok()? {
        let name = entry.ok()?.file_name();
        let Some(name) = name.to_str().and_then(|n| n.strip_suffix(".jar")) else {
            continue;
        };
        if let Some(rest) = name.strip_prefix("kafka_") {
            // kafka_2.13-3.7.0: the Scala version, a dash, the Kafka version.
            if let Some((_, v)) = rest.split_once('-') {
                broker = broker.or(valid(v));
            }
        } else if let Some(v) = name.strip_prefix("kafka-clients-") {
            clients = clients.or(valid(v));
        }
    }
    broker.or(clients)
}

fn valid(v: &str) -> Option<String> {
    let ok = !v.is_empty()
        && v.len() <= MAX_VERSION_LEN
        && v.starts_with(|c: char| c.is_ascii_digit())
        && v.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'-')
        && !["-sources", "-test", "-javadoc", "-test-sources"]
            .iter()
            .any(|s| v.ends_with(s));
    ok.then(|| v.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn install(name: &str, jars: &[&str]) -> PathBuf {
        let home = std::env::temp_dir().join(format!(
            "support-metrics-kafka-{name}-{}",
            std::process::id()
        ));
        let _ = std::fs::remove_dir_all(&home);
        std::fs::create_dir_all(home.join("libs")).unwrap();
        std::fs::create_dir_all(home.join("config")).unwrap();
        for jar in jars {
            std::fs::write(home.join("libs").join(jar), b"").unwrap();
        }
        home
    }

    #[test]
    fn broker_jar_wins_over_clients() {
        let home = install(
            "broker",
            &[
                "kafka-clients-3.6.1.jar",
                "kafka_2.13-3.7.0.jar",
                "kafka_2.13-3.7.0-sources.jar",
                "zstd-jni-1.5.5-6.jar",
            ],
        );
        assert_eq!(kafka_version(&home).as_deref(), Some("3.7.0"));
        let config = home.join("config/server.properties");
        assert_eq!(kafka_home_for(&config).as_deref(), Some(home.as_path()));
    }

    #[test]
    fn clients_jar_and_confluent_versions() {
        let home = install(
            "clients",
            &[
                "kafka-clients-7.6.0-ccs.jar",
                "kafka-clients-7.6.0-ccs-test.jar",
            ],
        );
        assert_eq!(kafka_version(&home).as_deref(), Some("7.6.0-ccs"));
    }

    #[test]
    fn nothing_found() {
        let home = install(
            "none",
            &[
                "kafka_2.13-.jar",
                "kafka-clients-x.jar",
                "slf4j-api-1.7.36.jar",
            ],
        );
        assert_eq!(kafka_version(&home), None);
        assert_eq!(kafka_version(&home.join("missing")), None);
    }
}
