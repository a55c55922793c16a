//! `consume` on a secured cluster (SASL_SSL: stunnel in front of tansu with SCRAM), with the
//! client security the agent and the bundle tool use: `--command-config` (a Java client
//! properties file) or `--config` (derived from the broker's own listener). A wrong password
//! fails within the runtime, says so, and is never printed.

mod common;

use std::process::{Command, Output};
use std::time::Duration;

use common::*;
use support_metrics_linux::client::{connect, Setting};
use support_metrics_linux::kafka::KafkaTopic;
use support_metrics_linux::log::Log;
use support_metrics_linux::sinks::TopicSink;
use support_metrics_tests::scratch_dir;
use support_metrics_tests::secured::{Front, Pki, SecuredBroker, STORE_PASSWORD};

const PASSWORD: &str = "Collector-Scr4m-Pa55";
const WRONG: &str = "Wr0ng-Collector-Pa55";
const SCRAM: &str = "org.apache.kafka.common.security.scram.ScramLoginModule";

/// The Java client properties: SASL_SSL, SCRAM-SHA-512, a PKCS12 truststore.
fn client_properties(pki: &Pki, password: &str) -> String {
    format!(
        "security.protocol=SASL_SSL\nsasl.mechanism=SCRAM-SHA-512\n\
         sasl.jaas.config={SCRAM} required username=\"ops\" password=\"{password}\";\n\
         ssl.truststore.type=PKCS12\nssl.truststore.location={}\nssl.truststore.password={STORE_PASSWORD}\n",
        pki.path("truststore.p12")
    )
}

fn printed(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

fn consume(db: &str, group: &str, security: &[&str], runtime: &str) -> Output {
    Command::new(BIN)
        .args(["consume", "--database", db, "--group", group])
        .args(security)
        .args(["--exit-at-end", "--runtime", runtime])
        .output()
        .expect("run consume")
}

#[test]
fn consume_reads_a_secured_topic() {
    let dir = scratch_dir("collector-secured");
    let pki = Pki::new(&dir.join("pki"));
    let broker = SecuredBroker::start(&dir, &pki, Front::Tls, Some(("scram512", "ops", PASSWORD)));
    let address = broker.address();
    let topic = "secured-metrics";
    let settings: Vec<Setting> = client_properties(&pki, PASSWORD)
        .lines()
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| Setting {
            name: k.into(),
            value: v.into(),
            key: k.into(),
            origin: k.into(),
        })
        .collect();
    let connection = connect(None, Some(&address), settings).unwrap();
    let mut sink = KafkaTopic::new(&connection, topic, Log::from_env()).unwrap();
    let record = anon(&token(7), now(), "3.7.0");
    let (result, detail) = sink.produce(b"k", record.as_bytes(), Duration::from_secs(10));
    assert_eq!(
        result,
        support_metrics_core::reporter::TopicResult::Delivered,
        "{detail:?}"
    );

    // --command-config, as Kafka's tools take it.
    let command_config = dir.join("client.properties");
    std::fs::write(&command_config, client_properties(&pki, PASSWORD)).unwrap();
    let cc = command_config.display().to_string();
    let db = sqlite(&dir);
    let out = consume(
        &db,
        "g-command-config",
        &[
            "--bootstrap-server",
            &address,
            "--topic",
            topic,
            "--command-config",
            &cc,
        ],
        "60",
    );
    assert!(out.status.success(), "{}", printed(&out));
    assert!(
        printed(&out).contains("1 records, 1 new"),
        "{}",
        printed(&out)
    );
    assert!(!printed(&out).contains(PASSWORD));
    assert_eq!(stored(&db), 1);

    // --config: the broker's own file; the listener's security is the client's.
    let server = dir.join("server.properties");
    std::fs::write(
        &server,
        format!(
            "listeners=SASL_SSL://127.0.0.1:{}\nsasl.enabled.mechanisms=SCRAM-SHA-512\n\
             sasl.mechanism.inter.broker.protocol=SCRAM-SHA-512\n\
             listener.name.sasl_ssl.scram-sha-512.sasl.jaas.config={SCRAM} required username=\"ops\" password=\"{PASSWORD}\";\n\
             ssl.truststore.location={}\nssl.truststore.password={STORE_PASSWORD}\n",
            broker.port,
            pki.path("truststore.p12")
        ),
    )
    .unwrap();
    let db2 = format!("sqlite:{}", dir.join("derived.db").display());
    let out = consume(
        &db2,
        "g-config",
        &["--config", &server.display().to_string(), "--topic", topic],
        "60",
    );
    assert!(out.status.success(), "{}", printed(&out));
    assert!(!printed(&out).contains(PASSWORD));
    assert_eq!(stored(&db2), 1);

    // A wrong password: not a success, within the runtime, never printed.
    std::fs::write(&command_config, client_properties(&pki, WRONG)).unwrap();
    let started = std::time::Instant::now();
    let out = consume(
        &db,
        "g-wrong",
        &[
            "--bootstrap-server",
            &address,
            "--topic",
            topic,
            "--command-config",
            &cc,
        ],
        "5",
    );
    assert_eq!(out.status.code(), Some(69), "{}", printed(&out));
    assert!(started.elapsed() < Duration::from_secs(30));
    // The cause, librdkafka's reason, not only "broker transport failure".
    assert!(
        printed(&out).contains("SASL authentication error"),
        "{}",
        printed(&out)
    );
    assert!(!printed(&out).contains(WRONG), "{}", printed(&out));
}
