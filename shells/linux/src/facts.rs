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

/// Operating system, architecture, logical CPUs and physical memory of this machine.
pub fn host() -> (&'static str, &'static str, u32, u64) {
    let cpus = std::thread::available_parallelism()
        .map_or(1, |n| u32::try_from(n.get()).unwrap_or(u32::MAX));
    let memory = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|text| {
            let line = text.lines().find(|l| l.starts_with("MemTotal:"))?;
            let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
            Some(kb * 1024)
        })
        .unwrap_or(0);
    (std::env::consts::OS, std::env::consts::ARCH, cpus, memory)
}

/// `broker.id`, else `node.id` (KRaft), as the broker reads them.
pub fn broker_id(get: impl Fn(&str) -> Option<String>) -> Option<i64> {
    ["broker.id", "node.id"]
        .iter()
        .find_map(|k| get(k)?.trim().parse().ok())
}

#[cfg(test)]
mod host_tests {
    #[test]
    fn host_facts_are_plausible() {
        let (os, arch, cpus, memory) = super::host();
        assert_eq!(os, "linux");
        assert!(
            !arch.is_empty() && cpus >= 1 && memory > 1 << 20,
            "{arch} {cpus} {memory}"
        );
    }

    #[test]
    fn broker_id_from_either_key() {
        let get = |pairs: &'static [(&'static str, &'static str)]| {
            move |k: &str| pairs.iter().find(|p| p.0 == k).map(|p| p.1.to_owned())
        };
        assert_eq!(super::broker_id(get(&[("broker.id", " 7 ")])), Some(7));
        assert_eq!(super::broker_id(get(&[("node.id", "3")])), Some(3));
        assert_eq!(
            super::broker_id(get(&[("broker.id", "x"), ("node.id", "3")])),
            Some(3)
        );
        assert_eq!(super::broker_id(get(&[])), None);
    }
}
