//! The bundle tool on a secured cluster (SASL_SSL: stunnel in front of tansu with SCRAM):
//! `--config` derives the client security from the broker's listener as the agent does, and
//! `--command-config` takes a Java client properties file, as Kafka's own tools do.

use std::path::Path;
use std::process::{Command, Output};
use std::time::Duration;

use support_metrics_linux::client::{connect, Setting};
use support_metrics_linux::kafka::KafkaTopic;
use support_metrics_linux::log::Log;
use support_metrics_linux::sinks::TopicSink;
use support_metrics_tests::scratch_dir;
use support_metrics_tests::secured::{
    scram_client_properties, scram_server_properties, Front, Pki, SecuredBroker,
};

const BIN: &str = env!("CARGO_BIN_EXE_support-metrics-bundle");
const PASSWORD: &str = "Bundle-Scr4m-Pa55";

fn bundle(args: &[&str]) -> Output {
    Command::new(BIN).args(args).output().expect("run bundle")
}

fn printed(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

#[test]
fn command_config_and_derived_config_read_a_secured_topic() {
    let dir = scratch_dir("bundle-secured");
    let pki = Pki::new(&dir.join("pki"));
    let broker = SecuredBroker::start(&dir, &pki, Front::Tls, Some(("scram512", "ops", PASSWORD)));
    let address = broker.address();
    let topic = "secured-bundle";
    // One record, written through the same translation.
    let command_config = dir.join("client.properties");
    std::fs::write(&command_config, scram_client_properties(&pki, PASSWORD)).unwrap();
    let settings = Setting::command_line(Some(&command_config), &[]).unwrap();
    let connection = connect(None, Some(&address), settings).unwrap();
    let mut sink = KafkaTopic::new(&connection, topic, Log::from_env()).unwrap();
    let (result, detail) = sink.produce(b"k", b"{\"a\":1}", Duration::from_secs(10));
    assert_eq!(
        result,
        support_metrics_core::reporter::TopicResult::Delivered,
        "{detail:?}"
    );

    let out_zip = |name: &str| dir.join(name).display().to_string();
    let cc = command_config.display().to_string();
    let a = out_zip("a.zip");
    let out = bundle(&[
        "-b",
        &address,
        "--command-config",
        &cc,
        "--topic",
        topic,
        "--file",
        &a,
    ]);
    assert!(out.status.success(), "{}", printed(&out));
    assert!(printed(&out).contains("with 1 record"), "{}", printed(&out));
    assert!(!printed(&out).contains(PASSWORD));

    // The broker's own config, nothing for the client: the listener's settings are used.
    let server = dir.join("server.properties");
    std::fs::write(
        &server,
        format!(
            "{}confluent.support.metrics.topic={topic}\n",
            scram_server_properties(broker.port, &pki, PASSWORD)
        ),
    )
    .unwrap();
    let b = out_zip("b.zip");
    let out = bundle(&["--config", &server.display().to_string(), "--file", &b]);
    assert!(out.status.success(), "{}", printed(&out));
    assert!(
        printed(&out).contains("SASL SCRAM-SHA-512"),
        "{}",
        printed(&out)
    );
    assert!(!printed(&out).contains(PASSWORD));
    assert!(Path::new(&b).exists());

    // A wrong password fails (within the runtime) and is never printed.
    std::fs::write(
        &command_config,
        scram_client_properties(&pki, "Wr0ng-Pa55word"),
    )
    .unwrap();
    let c = out_zip("c.zip");
    let out = bundle(&[
        "-b",
        &address,
        "--command-config",
        &cc,
        "--topic",
        topic,
        "--file",
        &c,
        "--runtime",
        "5",
    ]);
    // Exit 69 with librdkafka's reason, not "broker transport failure".
    assert_eq!(out.status.code(), Some(69), "{}", printed(&out));
    assert!(
        printed(&out).contains("SASL authentication error"),
        "{}",
        printed(&out)
    );
    assert!(
        !printed(&out).contains("Wr0ng-Pa55word"),
        "{}",
        printed(&out)
    );
    // A JKS truststore: exit 78 with the command that converts it.
    std::fs::write(
        &command_config,
        format!(
            "security.protocol=SSL\nssl.truststore.location={}\n",
            pki.path("truststore.jks")
        ),
    )
    .unwrap();
    let out = bundle(&["-b", &address, "--command-config", &cc, "--file", &c]);
    assert_eq!(out.status.code(), Some(78), "{}", printed(&out));
    assert!(
        printed(&out).contains("-deststoretype PKCS12"),
        "{}",
        printed(&out)
    );
}
