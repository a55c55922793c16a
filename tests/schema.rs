//! `docs/record.schema.json` describes what the encoder writes: the same required keys, no
//! others, and values that satisfy its patterns and enums. The keys come from each record's
//! one description (`wire::Fields`), the same one the encoder and `encoded_len` walk.

use serde_json::Value;
use support_metrics_core::token::BrokerToken;
use support_metrics_core::wire::{AnonymousRecord, CollectorState, Fields};

/// The keys of `object` in its description's order.
fn described_keys(object: &impl Fields) -> Vec<&'static str> {
    let mut keys = Vec::new();
    object.for_each_key(|k| keys.push(k));
    keys
}

/// The schema's `required` list of a definition, in its order.
fn required_of(def: &Value) -> Vec<&str> {
    def["required"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect()
}
use support_metrics_tests::Rng;

fn schema() -> Value {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../docs/record.schema.json"
    ))
    .expect("docs/record.schema.json");
    serde_json::from_str(&text).expect("schema is JSON")
}

#[test]
fn anonymous_record_matches_schema() {
    let schema = schema();
    let anon = &schema["$defs"]["anonymous"];
    assert_eq!(anon["additionalProperties"], Value::Bool(false));
    let required: Vec<&str> = anon["required"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    let props: Vec<&String> = anon["properties"].as_object().unwrap().keys().collect();
    assert_eq!(
        required.len(),
        props.len(),
        "every documented key is required"
    );

    let mut rng = Rng::new(7);
    for state in [CollectorState::Running, CollectorState::ShuttingDown] {
        let token = BrokerToken::from_random_bytes(core::array::from_fn(|_| rng.next_u64() as u8));
        let text = token.text();
        let record = AnonymousRecord {
            timestamp: rng.next_u64() >> 20,
            kafka_version: "3.7.0",
            confluent_platform_version: Some(env!("CARGO_PKG_VERSION")),
            broker_process_uuid: text.as_str(),
            collector_state: state,
        };
        assert_eq!(
            described_keys(&record),
            required,
            "schema order = description order"
        );
        let mut buf = [0u8; 512];
        let n = record.encode(&mut buf).unwrap();
        let value: Value = serde_json::from_slice(&buf[..n]).unwrap();
        let obj = value.as_object().unwrap();
        let mut keys: Vec<&str> = obj.keys().map(String::as_str).collect();
        let mut want = required.clone();
        keys.sort_unstable();
        want.sort_unstable();
        assert_eq!(keys, want);

        assert!(obj["timestamp"].is_u64());
        let uuid = obj["brokerProcessUUID"].as_str().unwrap();
        assert!(uuid_matches_schema_pattern(uuid), "{uuid}");
        let allowed = anon["properties"]["collectorState"]["enum"]
            .as_array()
            .unwrap();
        assert!(allowed.contains(&obj["collectorState"]));
    }
}

/// The schema's pattern, `^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`,
/// checked by hand (no regex dependency) and pinned here so the two cannot drift apart.
fn uuid_matches_schema_pattern(s: &str) -> bool {
    let pattern =
        schema()["$defs"]["anonymous"]["properties"]["brokerProcessUUID"]["pattern"].clone();
    assert_eq!(
        pattern,
        "^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$"
    );
    let b = s.as_bytes();
    let hex = |c: &u8| c.is_ascii_digit() || (b'a'..=b'f').contains(c);
    b.len() == 36
        && b.iter().enumerate().all(|(i, c)| {
            if [8, 13, 18, 23].contains(&i) {
                *c == b'-'
            } else {
                hex(c)
            }
        })
        && b[14] == b'4'
        && b"89ab".contains(&b[19])
}

#[test]
fn customer_record_matches_schema() {
    use support_metrics_core::wire::{
        allowlist, ClusterFacts, CustomerFacts, CustomerRecord, HostFacts,
    };
    let schema = schema();
    let customer = &schema["$defs"]["customer"];
    assert_eq!(customer["additionalProperties"], Value::Bool(false));
    let mut required: Vec<&str> = customer["required"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    let config = [
        ("num.partitions", "3"),
        ("ssl.key.password", "x"),
        ("log.dirs", "/var"),
    ];
    let record = CustomerRecord {
        anonymous: AnonymousRecord {
            timestamp: 1,
            kafka_version: "3.7.0",
            confluent_platform_version: Some("0.1.0"),
            broker_process_uuid: "00112233-4455-4677-8899-aabbccddeeff",
            collector_state: CollectorState::Running,
        },
        facts: CustomerFacts {
            customer_id: "C1",
            cluster_id: "abc",
            broker_id: None,
            cluster: ClusterFacts::default(),
            host: HostFacts {
                os: "linux",
                arch: "x86_64",
                cpus: 1,
                memory_bytes: 1,
            },
            agent_uptime_secs: 0,
            broker_configuration: &config,
        },
    };
    assert_eq!(
        described_keys(&record),
        required,
        "schema order = description order"
    );
    for (object, def) in [
        (described_keys(&record.facts.cluster), "cluster"),
        (described_keys(&record.facts.host), "host"),
    ] {
        assert_eq!(object, required_of(&customer["properties"][def]), "{def}");
    }
    let mut buf = [0u8; 1024];
    let n = record.encode(&mut buf).unwrap();
    let value: Value = serde_json::from_slice(&buf[..n]).unwrap();
    let mut keys: Vec<&str> = value
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    keys.sort_unstable();
    required.sort_unstable();
    assert_eq!(keys, required);
    for (part, def) in [("cluster", "cluster"), ("host", "host")] {
        let mut want: Vec<&str> = customer["properties"][def]["required"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_str().unwrap())
            .collect();
        let mut got: Vec<&str> = value[part]
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        want.sort_unstable();
        got.sort_unstable();
        assert_eq!(got, want, "{part}");
    }
    let sent: Vec<&String> = value["brokerConfiguration"]
        .as_object()
        .unwrap()
        .keys()
        .collect();
    assert_eq!(sent, ["num.partitions"]);
    assert!(sent
        .iter()
        .all(|k| allowlist::ALLOWED.contains(&k.as_str())));
}
