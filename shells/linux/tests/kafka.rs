//! The topic sink against librdkafka's mock cluster (fault injection) and against the real
//! tansu broker that `ci/check.sh test` starts (`SUPPORT_METRICS_KAFKA`).

use std::time::Duration;

use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::mocking::MockCluster;
use rdkafka::types::{RDKafkaApiKey, RDKafkaRespErr as rd_kafka_resp_err_t};
use rdkafka::{ClientConfig, Message, Offset, TopicPartitionList};
use support_metrics_core::reporter::TopicResult;
use support_metrics_linux::client::Connection;
use support_metrics_linux::kafka::KafkaTopic;
use support_metrics_linux::log::Log;
use support_metrics_linux::sinks::TopicSink;

const RECORD: &[u8] = br#"{"timestamp":1,"kafkaVersion":"3.7.0","confluentPlatformVersion":"0.1.0","brokerProcessUUID":"00112233-4455-4677-8899-aabbccddeeff","collectorState":2}"#;
const KEY: &[u8] = b"00112233-4455-4677-8899-aabbccddeeff";

fn sink(servers: &str, topic: &str) -> KafkaTopic {
    KafkaTopic::new(&Connection::plaintext(servers), topic, Log::from_env()).expect("sink")
}

/// Every record of every partition of `topic`, read by assignment (no group), bounded in time.
fn read_all(servers: &str, topic: &str, expect: usize) -> Vec<(Vec<u8>, Vec<u8>)> {
    let consumer: BaseConsumer = ClientConfig::new()
        .set("bootstrap.servers", servers)
        .set("group.id", "support-metrics-tests")
        .set("enable.auto.commit", "false")
        .create()
        .expect("consumer");
    let metadata = consumer
        .fetch_metadata(Some(topic), Duration::from_secs(5))
        .expect("metadata");
    let partitions = metadata
        .topics()
        .first()
        .map_or(1, |t| t.partitions().len().max(1));
    let mut tpl = TopicPartitionList::new();
    for p in 0..partitions as i32 {
        tpl.add_partition_offset(topic, p, Offset::Beginning)
            .expect("partition");
    }
    consumer.assign(&tpl).expect("assign");
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

/// The mock cluster has no CreateTopics: creation times out, the sink warns and produces
/// anyway (the mock auto-creates, as many brokers do).
#[test]
fn mock_cluster_without_create_topics_still_delivers() {
    let cluster = MockCluster::new(3).expect("mock cluster");
    let servers = cluster.bootstrap_servers();
    let mut topic = sink(&servers, "__confluent.support.metrics");
    let (result, detail) = topic.produce(KEY, RECORD, Duration::from_secs(10));
    assert_eq!(result, TopicResult::Delivered, "{detail:?}");
    assert_eq!(
        read_all(&servers, "__confluent.support.metrics", 1),
        [(KEY.to_vec(), RECORD.to_vec())]
    );
}

#[test]
fn mock_cluster_faults_are_retriable_then_recover() {
    let cluster = MockCluster::new(1).expect("mock cluster");
    cluster.create_topic("faulty", 1, 1).expect("topic");
    let servers = cluster.bootstrap_servers();
    let mut topic = sink(&servers, "faulty");
    assert_eq!(
        topic.produce(KEY, RECORD, Duration::from_secs(10)).0,
        TopicResult::Delivered
    );
    // Every produce request fails with NOT_ENOUGH_REPLICAS for a while.
    let errors = [rd_kafka_resp_err_t::RD_KAFKA_RESP_ERR_NOT_ENOUGH_REPLICAS; 50];
    cluster.request_errors(RDKafkaApiKey::Produce, &errors);
    let (result, _) = topic.produce(KEY, RECORD, Duration::from_secs(2));
    assert_eq!(result, TopicResult::Retriable);
    cluster.clear_request_errors(RDKafkaApiKey::Produce);
    assert_eq!(
        topic.produce(KEY, RECORD, Duration::from_secs(10)).0,
        TopicResult::Delivered
    );
    // An authorization failure is fatal: an operator must act.
    cluster.request_errors(
        RDKafkaApiKey::Produce,
        &[rd_kafka_resp_err_t::RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED; 5],
    );
    assert_eq!(
        topic.produce(KEY, RECORD, Duration::from_secs(5)).0,
        TopicResult::Fatal
    );
}

#[test]
fn dead_cluster_is_retriable_within_the_timeout() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut topic = sink(&format!("127.0.0.1:{port}"), "nowhere");
    let started = std::time::Instant::now();
    let (result, detail) = topic.produce(KEY, RECORD, Duration::from_secs(2));
    assert_eq!(result, TopicResult::Retriable, "{detail:?}");
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
}

#[test]
fn tansu_broker_round_trip() {
    let servers = std::env::var("SUPPORT_METRICS_KAFKA").expect(
        "SUPPORT_METRICS_KAFKA is not set: run the tests with ci/check.sh test, which starts tansu",
    );
    let name = format!("sm-test-{}", std::process::id());
    let mut topic = sink(&servers, &name);
    for _ in 0..3 {
        let (result, detail) = topic.produce(KEY, RECORD, Duration::from_secs(10));
        assert_eq!(result, TopicResult::Delivered, "{detail:?}");
    }
    let got = read_all(&servers, &name, 3);
    assert_eq!(got.len(), 3);
    assert!(got.iter().all(|(k, v)| k == KEY && v == RECORD));
}

/// An existing topic with other settings is used as it is (one warning in the log).
#[test]
fn existing_topic_with_other_settings_is_used() {
    let cluster = MockCluster::new(1).expect("mock cluster");
    cluster.create_topic("preexisting", 4, 1).expect("topic");
    let servers = cluster.bootstrap_servers();
    let mut topic = sink(&servers, "preexisting");
    for _ in 0..2 {
        assert_eq!(
            topic.produce(KEY, RECORD, Duration::from_secs(10)).0,
            TopicResult::Delivered
        );
    }
    assert_eq!(read_all(&servers, "preexisting", 2).len(), 2);
}

/// A cluster ID a record could not carry (a control character, more than 64 bytes) is the
/// broker's word, not ours: it is given as unknown, so the customer record still passes the
/// check and is sent, rather than being refused after it was made. A real tansu broker, with
/// the cluster ID it is started with.
#[test]
fn a_cluster_id_no_record_can_carry_is_unknown() {
    use support_metrics_linux::customer::ReadCluster;
    use support_metrics_linux::kafka::ClusterInfo;
    use support_metrics_tests::secured::{free_port, tansu_bin};
    let plain = "MkU3OEVBNTcwNTJENDM2Qk";
    let long = "x".repeat(65);
    for (id, want) in [
        (plain, Some(plain)),
        ("evil\u{1b}[2Jcluster", None),
        ("two\nlines", None),
        (long.as_str(), None),
    ] {
        let port = free_port();
        let mut child = std::process::Command::new(tansu_bin())
            .args(["broker", "--listener-url"])
            .arg(format!("tcp://127.0.0.1:{port}"))
            .arg("--advertised-listener-url")
            .arg(format!("tcp://127.0.0.1:{port}"))
            .args(["--storage-engine", "memory://tansu/", "--cluster-id", id])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("start tansu (ci/tansu.sh install)");
        let servers = format!("127.0.0.1:{port}");
        let deadline = std::time::Instant::now() + Duration::from_secs(15);
        while std::net::TcpStream::connect(&servers).is_err() {
            assert!(std::time::Instant::now() < deadline, "tansu did not listen");
            std::thread::sleep(Duration::from_millis(50));
        }
        let info = ClusterInfo::new(&Connection::plaintext(&servers)).expect("client");
        let read = info.read(Duration::from_secs(10));
        let _ = child.kill();
        let _ = child.wait();
        let (_, got) = read.expect("metadata");
        assert_eq!(got.as_deref(), want, "{id:?}");
    }
}
