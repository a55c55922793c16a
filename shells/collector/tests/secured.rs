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
use support_metrics_tests::secured::{
    scram_client_properties, scram_server_properties, Front, Pki, SecuredBroker,
};

const PASSWORD: &str = "Collector-Scr4m-Pa55";
const WRONG: &str = "Wr0ng-Collector-Pa55";

fn printed(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

fn consume(db: &str, group: &str, security: &[&str], runtime: &str) -> Output {
    Command::new(BIN.as_str())
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
    let command_config = dir.join("client.properties");
    std::fs::write(&command_config, scram_client_properties(&pki, PASSWORD)).unwrap();
    let settings = Setting::command_line(Some(&command_config), &[]).unwrap();
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
    let cc = command_config.display().to_string();
    let by_command_config = [
        "--bootstrap-server",
        &address,
        "--topic",
        topic,
        "--command-config",
        &cc,
    ];
    let db = sqlite(&dir);
    let out = consume(&db, "g-command-config", &by_command_config, "60");
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
        scram_server_properties(broker.port, &pki, PASSWORD),
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
    std::fs::write(&command_config, scram_client_properties(&pki, WRONG)).unwrap();
    let started = std::time::Instant::now();
    let out = consume(&db, "g-wrong", &by_command_config, "5");
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
