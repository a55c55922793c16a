//! The real agent binary with the topic on, against the tansu broker that `ci/check.sh test`
//! starts (`SUPPORT_METRICS_KAFKA`) and an HTTP server on 127.0.0.1.

mod common;

use std::process::{Command, Output};
use std::time::Duration;

use common::BIN;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::{ClientConfig, Message, Offset, TopicPartitionList};
use serde_json::Value;
use support_metrics_tests::scratch_dir;
use support_metrics_tests::servers::TestServer;

fn broker() -> String {
    std::env::var("SUPPORT_METRICS_KAFKA").expect(
        "SUPPORT_METRICS_KAFKA is not set: run the tests with ci/check.sh test, which starts tansu",
    )
}

/// `once` on `config`; no broker process here: the agent's run stands for the broker's.
fn once_command(config: &std::path::Path) -> Command {
    let mut c = Command::new(&*BIN);
    c.args(["once", "--broker-watch", "none", "--config"])
        .arg(config)
        .env("SUPPORT_METRICS_LOG", "debug");
    c
}

fn once(config: &std::path::Path) -> Output {
    once_command(config)
        .env_remove("DO_NOT_TRACK")
        .output()
        .unwrap()
}

fn topic_records(servers: &str, topic: &str, expect: usize) -> Vec<Vec<u8>> {
    topic_messages(servers, topic, expect)
        .into_iter()
        .map(|(_, v)| v)
        .collect()
}

/// (key, value) of every record on partition 0.
fn topic_messages(servers: &str, topic: &str, expect: usize) -> Vec<(Vec<u8>, Vec<u8>)> {
    let consumer: BaseConsumer = ClientConfig::new()
        .set("bootstrap.servers", servers)
        .set("group.id", "support-metrics-e2e")
        .set("enable.auto.commit", "false")
        .create()
        .unwrap();
    let mut tpl = TopicPartitionList::new();
    tpl.add_partition_offset(topic, 0, Offset::Beginning)
        .unwrap();
    consumer.assign(&tpl).unwrap();
    let mut got = Vec::new();
    for _ in 0..100 {
        if got.len() >= expect {
            break;
        }
        if let Some(Ok(m)) = consumer.poll(Duration::from_millis(100)) {
            got.push((
                m.key().unwrap_or_default().to_vec(),
                m.payload().unwrap_or_default().to_vec(),
            ));
        }
    }
    got
}

fn write_config(name: &str, bootstrap: &str, http: &TestServer) -> (std::path::PathBuf, String) {
    let dir = scratch_dir(name);
    let topic = format!("sm-{name}-{}", std::process::id());
    let config = dir.join("server.properties");
    std::fs::write(
        &config,
        format!(
            "broker.id=0\nconfluent.support.metrics.topic={topic}\nconfluent.support.metrics.bootstrap.servers={bootstrap}\n\
             confluent.support.metrics.endpoint.secure=\nconfluent.support.metrics.endpoint.insecure={}\n\
             confluent.support.metrics.spool.dir={}\n",
            http.url("/anon"),
            dir.join("spool").display()
        ),
    )
    .unwrap();
    (config, topic)
}

#[test]
fn topic_record_equals_http_body() {
    let servers = broker();
    let http = TestServer::http();
    let (config, topic) = write_config("e2e-kafka-normal", &servers, &http);
    let out = once(&config);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let on_topic = topic_records(&servers, &topic, 1);
    let over_http: Vec<Vec<u8>> = http.received().into_iter().map(|r| r.body).collect();
    assert_eq!(on_topic, over_http, "the same bytes to both sinks");
    let v: Value = serde_json::from_slice(&on_topic[0]).unwrap();
    assert_eq!(v.as_object().unwrap().len(), 5, "{v}");
}

#[test]
fn broker_down_then_up_loses_nothing() {
    let servers = broker();
    let http = TestServer::http();
    let dead = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let (config, topic) = write_config("e2e-kafka-down", &format!("127.0.0.1:{dead}"), &http);
    let out = once(&config);
    assert_eq!(
        out.status.code(),
        Some(75),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(http.count(), 1, "HTTP is not held up by the dead broker");
    let text = std::fs::read_to_string(&config)
        .unwrap()
        .replace(&format!("127.0.0.1:{dead}"), &servers);
    std::fs::write(&config, text).unwrap();
    let out = once(&config);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let on_topic = topic_records(&servers, &topic, 2);
    assert_eq!(on_topic.len(), 2, "the spooled record and the new one");
    let bodies: Vec<Vec<u8>> = http.received().into_iter().map(|r| r.body).collect();
    assert_eq!(
        on_topic, bodies,
        "each record once over HTTP, once on the topic, in order"
    );
}

#[test]
fn customer_record_carries_cluster_facts() {
    let servers = broker();
    let http = TestServer::http();
    let (config, topic) = write_config("e2e-kafka-customer", &servers, &http);
    let mut text = std::fs::read_to_string(&config).unwrap();
    text.push_str("confluent.support.customer.id=C123456789\nnum.partitions=1\nssl.key.password=hunter2secret\n");
    std::fs::write(&config, text).unwrap();
    // The agent gives the cluster read 3 s; a broker that has just started (the first
    // tests of a run) can take longer to answer its first metadata request, and the record
    // then says `unknown`. What this test checks is the facts, so the broker is warmed first.
    let warm: BaseConsumer = ClientConfig::new()
        .set("bootstrap.servers", &servers)
        .create()
        .unwrap();
    warm.fetch_metadata(None, Duration::from_secs(30)).unwrap();
    let _ = warm.client().fetch_cluster_id(Duration::from_secs(30));
    let out = once(&config);
    let said = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(out.status.code(), Some(0), "{said}");
    let body = http.received()[0].body.clone();
    assert_eq!(
        topic_records(&servers, &topic, 1),
        std::slice::from_ref(&body)
    );
    let v: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(v["customerId"], "C123456789");
    let (key, _) = topic_messages(&servers, &topic, 1).remove(0);
    assert_eq!(
        key,
        v["brokerProcessUUID"].as_str().unwrap().as_bytes(),
        "key = the broker token"
    );
    assert!(
        v["cluster"]["brokers"].as_u64().unwrap() >= 1,
        "{v}\n{said}"
    );
    // Collected before its own topic is created: a fresh broker may report 0 topics.
    assert!(
        v["clusterId"]
            .as_str()
            .is_some_and(|id| !id.is_empty() && id != "unknown"),
        "{v}\n{said}"
    );
    assert_eq!(v["brokerConfiguration"]["num.partitions"], "1");
    assert!(!String::from_utf8_lossy(&body).contains("hunter2"));
    let submit = http.received()[0].path.clone();
    assert_eq!(submit, "/anon", "the endpoint is as configured");
}

#[test]
fn do_not_track_keeps_the_topic() {
    let servers = broker();
    let http = TestServer::http();
    let (config, topic) = write_config("e2e-kafka-dnt", &servers, &http);
    let out = once_command(&config)
        .env("DO_NOT_TRACK", "1")
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(http.count(), 0, "no HTTP under DO_NOT_TRACK");
    assert_eq!(
        topic_records(&servers, &topic, 1).len(),
        1,
        "the topic still gets the record"
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("HTTP off (DO_NOT_TRACK)"));
}
