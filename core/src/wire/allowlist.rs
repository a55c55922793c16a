//! Which broker settings a customer record may carry: an exact-key allowlist of harmless
//! tuning values, never a denylist. A key is sent only if it is on the list *and* its value
//! looks like a plain setting (letters, digits, `._-,`, at most 64 bytes), so a path, host,
//! URL or secret never leaves even if a listed key is misused.

/// The allowlisted broker settings, sorted.
pub const ALLOWED: &[&str] = &[
    "auto.create.topics.enable",
    "auto.leader.rebalance.enable",
    "background.threads",
    "compression.type",
    "controlled.shutdown.enable",
    "default.replication.factor",
    "delete.topic.enable",
    "group.initial.rebalance.delay.ms",
    "group.max.session.timeout.ms",
    "group.min.session.timeout.ms",
    "inter.broker.protocol.version",
    "leader.imbalance.check.interval.seconds",
    "leader.imbalance.per.broker.percentage",
    "log.cleaner.enable",
    "log.cleaner.threads",
    "log.cleanup.policy",
    "log.flush.interval.messages",
    "log.flush.interval.ms",
    "log.message.format.version",
    "log.message.timestamp.type",
    "log.retention.bytes",
    "log.retention.check.interval.ms",
    "log.retention.hours",
    "log.retention.minutes",
    "log.retention.ms",
    "log.roll.hours",
    "log.roll.ms",
    "log.segment.bytes",
    "message.max.bytes",
    "min.insync.replicas",
    "num.io.threads",
    "num.network.threads",
    "num.partitions",
    "num.replica.fetchers",
    "offsets.commit.timeout.ms",
    "offsets.retention.minutes",
    "offsets.topic.num.partitions",
    "offsets.topic.replication.factor",
    "process.roles",
    "queued.max.requests",
    "replica.fetch.max.bytes",
    "replica.lag.time.max.ms",
    "request.timeout.ms",
    "socket.receive.buffer.bytes",
    "socket.request.max.bytes",
    "socket.send.buffer.bytes",
    "transaction.state.log.min.isr",
    "transaction.state.log.num.partitions",
    "transaction.state.log.replication.factor",
    "transactional.id.expiration.ms",
    "unclean.leader.election.enable",
    "zookeeper.connection.timeout.ms",
    "zookeeper.session.timeout.ms",
];

/// Longest value sent.
pub const MAX_VALUE: usize = 64;

/// Whether `key = value` may appear in a customer record.
pub fn allows(key: &str, value: &str) -> bool {
    ALLOWED.binary_search(&key).is_ok()
        && value.len() <= MAX_VALUE
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"._-,".contains(&b))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sorted_and_free_of_sensitive_words() {
        assert!(
            ALLOWED.windows(2).all(|w| w[0] < w[1]),
            "sorted, no duplicates"
        );
        for key in ALLOWED {
            assert!(!crate::config::is_secret_key(key), "{key} looks secret");
            for word in [
                "keystore",
                "truststore",
                "listener",
                "host",
                "dir",
                "connect",
                "license",
                "rack",
                "sasl",
                "ssl",
                "principal",
                "token",
            ] {
                // `zookeeper.connection.timeout.ms` is a duration, the only "connect" allowed.
                if word == "connect" && key.ends_with(".timeout.ms") {
                    continue;
                }
                assert!(!key.contains(word), "{key} contains {word}");
            }
        }
    }

    #[test]
    fn only_listed_keys_with_plain_values() {
        assert!(allows("num.partitions", "3"));
        assert!(allows("log.cleanup.policy", "compact,delete"));
        assert!(allows("process.roles", "broker,controller"));
        assert!(!allows("ssl.keystore.password", "x"));
        assert!(!allows("listeners", "PLAINTEXT://:9092"));
        assert!(!allows("log.dirs", "/var/lib/kafka"));
        assert!(!allows("num.partitions ", "3"), "exact keys only");
        assert!(!allows("Num.Partitions", "3"));
        assert!(
            !allows("num.partitions", "/etc/passwd"),
            "values are checked too"
        );
        assert!(!allows("compression.type", "zstd://host"));
        assert!(!allows("num.partitions", &"9".repeat(65)));
    }
}
