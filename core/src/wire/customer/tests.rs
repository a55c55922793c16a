use super::*;
use crate::wire::CollectorState;
extern crate std;
use std::vec;

const CONFIG: &[(&str, &str)] = &[
    ("broker.id", "0"),
    ("num.partitions", "3"),
    ("log.dirs", "/var/lib/kafka"),
    ("ssl.keystore.password", "KeystoreSecret-1"),
    ("listeners", "PLAINTEXT://kafka-0.internal:9092"),
    ("log.cleanup.policy", "compact,delete"),
    ("compression.type", "zstd://host/oops"),
];

fn record<'a>(config: &'a [(&'a str, &'a str)], broker_id: Option<i64>) -> CustomerRecord<'a> {
    CustomerRecord {
        anonymous: AnonymousRecord {
            timestamp: 1_764_000_000,
            kafka_version: "3.7.0",
            confluent_platform_version: Some("0.1.0"),
            broker_process_uuid: "00112233-4455-4677-8899-aabbccddeeff",
            collector_state: CollectorState::Running,
        },
        facts: CustomerFacts {
            customer_id: "C123456789",
            cluster_id: "MkU3OEVBNTcwNTJENDM2Qk",
            broker_id,
            cluster: ClusterFacts {
                brokers: 3,
                topics: 12,
                partitions: 57,
                replication_factor_histogram: [0, 7, 0, 50, 0, 0],
            },
            host: HostFacts {
                os: "linux",
                arch: "x86_64",
                cpus: 8,
                memory_bytes: 33_554_432_000,
            },
            agent_uptime_secs: 86_400,
            broker_configuration: config,
        },
    }
}

#[test]
fn golden_bytes_and_only_allowlisted_settings() {
    let mut buf = [0u8; 1024];
    let n = record(CONFIG, Some(0)).encode(&mut buf).unwrap();
    assert_eq!(
        core::str::from_utf8(&buf[..n]).unwrap(),
        r#"{"timestamp":1764000000,"kafkaVersion":"3.7.0","confluentPlatformVersion":"0.1.0","brokerProcessUUID":"00112233-4455-4677-8899-aabbccddeeff","collectorState":2,"customerId":"C123456789","clusterId":"MkU3OEVBNTcwNTJENDM2Qk","brokerId":0,"cluster":{"brokers":3,"topics":12,"partitions":57,"replicationFactorHistogram":[0,7,0,50,0,0]},"host":{"os":"linux","arch":"x86_64","cpus":8,"memoryBytes":33554432000},"agentUptimeSecs":86400,"brokerConfiguration":{"num.partitions":"3","log.cleanup.policy":"compact,delete"}}"#
    );
}

#[test]
fn encoded_len_is_exact() {
    let configs: [&[(&str, &str)]; 3] = [&[], CONFIG, &[("num.partitions", "1")]];
    for config in configs {
        for broker_id in [None, Some(0), Some(-7), Some(i64::MAX), Some(i64::MIN)] {
            let mut r = record(config, broker_id);
            for (ts, uptime) in [(0, 0), (u64::MAX, 9), (10, u64::MAX)] {
                (r.anonymous.timestamp, r.facts.agent_uptime_secs) = (ts, uptime);
                r.anonymous.kafka_version = "a\"b\\c\n\u{1}é";
                let mut buf = [0u8; 2048];
                let n = r.encode(&mut buf).unwrap();
                assert_eq!(n, r.encoded_len(), "{config:?} {broker_id:?} {ts}");
            }
        }
    }
    let r = record(CONFIG, None);
    let mut small = vec![0u8; r.encoded_len() - 1];
    assert_eq!(
        r.encode(&mut small),
        Err(EncodeError::BufferTooSmall {
            required: r.encoded_len()
        })
    );
}
