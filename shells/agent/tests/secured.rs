//! Secured clusters with the real binary: TLS and mutual TLS (stunnel in front of tansu),
//! SASL/SCRAM (tansu's own authentication), with no client setting at all (the broker's own
//! listener settings) and with Java client properties under `client.*`. No password used here
//! may appear in anything the agent prints.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::Duration;

use common::{exit, stderr, stdout, BIN};
use support_metrics_bundle::{read_topic, Source};
use support_metrics_linux::client::connect;
use support_metrics_linux::properties_file::PropertiesFile;
use support_metrics_tests::scratch_dir;
use support_metrics_tests::secured::{Front, Pki, SecuredBroker, KEY_PASSWORD, STORE_PASSWORD};

const SCRAM_PASSWORD: &str = "Scr4m-Pa55-test";
const SCRAM: &str = "org.apache.kafka.common.security.scram.ScramLoginModule";

/// A broker config in `dir` (named after `broker`'s hash: each its own spool), reporting to
/// the topic only.
fn config(dir: &Path, broker: &str) -> PathBuf {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    broker.hash(&mut h);
    let dir = dir.join(format!("site-{:x}", h.finish()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("server.properties");
    std::fs::write(
        &path,
        format!(
            "broker.id=0\n\
             confluent.support.metrics.endpoint.secure.enable=false\n\
             confluent.support.metrics.endpoint.insecure.enable=false\n\
             confluent.support.metrics.spool.dir={}\n{broker}",
            dir.join("spool").display()
        ),
    )
    .unwrap();
    path
}

fn agent(verb: &str, config: &Path) -> Output {
    let mut c = Command::new(&*BIN);
    c.arg(verb).arg("--config").arg(config);
    if verb != "config" {
        c.args(["--broker-watch", "none"]);
    }
    c.env("SUPPORT_METRICS_LOG", "debug")
        .env_remove("DO_NOT_TRACK")
        .output()
        .expect("run agent")
}

/// Nothing printed holds a password of the test.
#[track_caller]
fn no_password(o: &Output) {
    let text = format!("{}{}", stdout(o), stderr(o));
    for p in [STORE_PASSWORD, KEY_PASSWORD, SCRAM_PASSWORD] {
        assert!(!text.contains(p), "{p} printed:\n{text}");
    }
}

/// `config --json`, checked for passwords.
fn agent_json(config: &Path) -> serde_json::Value {
    let out = Command::new(&*BIN)
        .args(["config", "--json", "--config"])
        .arg(config)
        .output()
        .unwrap();
    exit(&out, 0);
    no_password(&out);
    serde_json::from_slice(&out.stdout).unwrap()
}

/// Records on the topic, read back through the same derivation (the bundle tool's reader).
fn records_on_topic(config: &Path) -> usize {
    let file = PropertiesFile::read(config).unwrap();
    let (support, _) = file.config().unwrap();
    let connection = connect(Some(&file), support.bootstrap_servers(), Vec::new()).unwrap();
    let source = Source {
        connection,
        topic: "__confluent.support.metrics".into(),
        runtime: Duration::from_secs(10),
    };
    read_topic(&source, &mut |_| {}).map_or(0, |r| r.records.len())
}

/// `once` delivers to the topic; `config` shows how the client connects; no password shown.
#[track_caller]
fn delivers(config: &Path, security: &str) -> Output {
    let out = agent("once", config);
    no_password(&out);
    exit(&out, 0);
    let err = stderr(&out);
    assert!(err.contains("delivered record #1 to the topic"), "{err}");
    assert!(err.contains(security), "{security} not in:\n{err}");
    assert_eq!(records_on_topic(config), 1);
    let shown = agent("config", config);
    exit(&shown, 0);
    no_password(&shown);
    assert!(stdout(&shown).contains(security), "{}", stdout(&shown));
    let json = agent_json(config);
    assert_eq!(
        json["kafkaClient"]["security"]
            .as_str()
            .map(|s| s.contains(security)),
        Some(true),
        "{json}"
    );
    out
}

fn pki(dir: &Path) -> Pki {
    Pki::new(&dir.join("pki"))
}

#[test]
fn ssl_only_listener_needs_no_client_setting() {
    let dir = scratch_dir("secured-ssl");
    let pki = pki(&dir);
    let broker = SecuredBroker::start(&dir, &pki, Front::Tls, None);
    let config = config(
        &dir,
        &format!(
            "listeners=SSL://127.0.0.1:{port}\n\
             ssl.truststore.type=PKCS12\nssl.truststore.location={}\nssl.truststore.password={STORE_PASSWORD}\n\
             ssl.keystore.type=PKCS12\nssl.keystore.location={}\nssl.keystore.password={STORE_PASSWORD}\n",
            pki.path("truststore.p12"),
            pki.path("client.p12"),
            port = broker.port
        ),
    );
    delivers(
        &config,
        "SSL as the broker's listener SSL; from the broker's ssl.truststore.location",
    );
}

#[test]
fn mutual_tls_with_a_pkcs12_keystore() {
    let dir = scratch_dir("secured-mtls");
    let pki = pki(&dir);
    let broker = SecuredBroker::start(&dir, &pki, Front::MutualTls, None);
    let listener = format!(
        "listeners=SSL://127.0.0.1:{port}\nssl.truststore.type=PEM\nssl.truststore.location={}\n\
         ssl.keystore.type=PKCS12\nssl.keystore.location={}\nssl.keystore.password={STORE_PASSWORD}\n\
         ssl.key.password={STORE_PASSWORD}\n",
        pki.path("ca.pem"),
        pki.path("client.p12"),
        port = broker.port
    );
    // The listener does not ask for a client certificate: none is sent, and the terminator,
    // which requires one, refuses the connection.
    let without = config(&dir, &listener);
    let out = agent("once", &without);
    no_password(&out);
    exit(&out, 75);
    // It does: the broker's keystore goes with the agent's client.
    let with = config(&dir, &format!("{listener}ssl.client.auth=required\n"));
    delivers(
        &with,
        "ssl.keystore.location, ssl.keystore.type, ssl.keystore.password",
    );
}

fn scram_listener(protocol: &str, mechanism: &str, password: &str, port: u16) -> String {
    let lower = protocol.to_ascii_lowercase();
    format!(
        "listeners={protocol}://127.0.0.1:{port}\n\
         sasl.enabled.mechanisms={mechanism}\n\
         sasl.mechanism.inter.broker.protocol={mechanism}\n\
         listener.name.{lower}.{}.sasl.jaas.config={SCRAM} required \\\n    username=\"agent\" \\\n    password=\"{password}\";\n",
        mechanism.to_ascii_lowercase()
    )
}

#[test]
fn sasl_scram_needs_no_client_setting() {
    let dir = scratch_dir("secured-scram");
    let pki = pki(&dir);
    let broker = SecuredBroker::start(
        &dir,
        &pki,
        Front::Plain,
        Some(("scram512", "agent", SCRAM_PASSWORD)),
    );
    let config = config(
        &dir,
        &scram_listener(
            "SASL_PLAINTEXT",
            "SCRAM-SHA-512",
            SCRAM_PASSWORD,
            broker.port,
        ),
    );
    delivers(
        &config,
        "SASL_PLAINTEXT as the broker's listener SASL_PLAINTEXT, SASL SCRAM-SHA-512 (from sasl.mechanism.inter.broker.protocol)",
    );
}

#[test]
fn sasl_ssl_scram_and_a_wrong_password() {
    let dir = scratch_dir("secured-sasl-ssl");
    let pki = pki(&dir);
    let broker = SecuredBroker::start(
        &dir,
        &pki,
        Front::Tls,
        Some(("scram256", "agent", SCRAM_PASSWORD)),
    );
    let trust = format!(
        "ssl.truststore.location={}\nssl.truststore.password={STORE_PASSWORD}\n",
        pki.path("truststore.p12")
    );
    let wrong = config(
        &dir,
        &format!(
            "{}{trust}",
            scram_listener("SASL_SSL", "SCRAM-SHA-256", "not-the-Pa55word", broker.port)
        ),
    );
    let out = agent("once", &wrong);
    no_password(&out);
    assert!(
        !stderr(&out).contains("not-the-Pa55word"),
        "{}",
        stderr(&out)
    );
    assert_ne!(out.status.code(), Some(0));
    // librdkafka's own reason, not "broker transport failure"; an operator must fix it, so
    // the record waits a whole interval rather than hammering the broker with bad logins.
    assert!(
        stderr(&out).contains("the cluster refused it")
            && stderr(&out).contains("SASL authentication error"),
        "{}",
        stderr(&out)
    );
    let right = config(
        &dir,
        &format!(
            "{}{trust}",
            scram_listener("SASL_SSL", "SCRAM-SHA-256", SCRAM_PASSWORD, broker.port)
        ),
    );
    delivers(&right, "SASL SCRAM-SHA-256");
}

#[test]
fn java_client_properties_under_client() {
    let dir = scratch_dir("secured-java");
    let pki = pki(&dir);
    let broker = SecuredBroker::start(
        &dir,
        &pki,
        Front::Tls,
        Some(("scram512", "agent", SCRAM_PASSWORD)),
    );
    let p = "confluent.support.metrics.client.";
    let config = config(
        &dir,
        &format!(
            "confluent.support.metrics.bootstrap.servers=127.0.0.1:{port}\n\
             {p}security.protocol=SASL_SSL\n\
             {p}sasl.mechanism=SCRAM-SHA-512\n\
             {p}sasl.jaas.config={SCRAM} required username=\"agent\" password=\"{SCRAM_PASSWORD}\";\n\
             {p}ssl.truststore.type=PKCS12\n\
             {p}ssl.truststore.location={}\n\
             {p}ssl.truststore.password={STORE_PASSWORD}\n\
             {p}ssl.endpoint.identification.algorithm=https\n\
             {p}ssl.enabled.protocols=TLSv1.2,TLSv1.3\n",
            pki.path("truststore.p12"),
            port = broker.port
        ),
    );
    let out = delivers(
        &config,
        "SASL_SSL, with confluent.support.metrics.client.security.protocol",
    );
    // A Java-only setting is said, not fatal.
    assert!(
        stderr(&out).contains("client.ssl.enabled.protocols: a Java client setting without a librdkafka equivalent; ignored"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn a_jks_store_is_refused_with_the_command_that_converts_it() {
    let dir = scratch_dir("secured-jks");
    let pki = pki(&dir);
    let jks = pki.path("truststore.jks");
    let config = config(
        &dir,
        &format!(
            "confluent.support.metrics.bootstrap.servers=127.0.0.1:1\n\
             confluent.support.metrics.client.security.protocol=SSL\n\
             confluent.support.metrics.client.ssl.truststore.location={jks}\n\
             confluent.support.metrics.client.ssl.truststore.password={STORE_PASSWORD}\n"
        ),
    );
    for verb in ["once", "run", "config", "preview"] {
        let out = agent(verb, &config);
        no_password(&out);
        exit(&out, 78);
        let err = stderr(&out);
        assert!(
            err.contains("line 7: confluent.support.metrics.client.ssl.truststore.location"),
            "{err}"
        );
        assert!(
            err.contains(&format!(
                "keytool -importkeystore -srckeystore {jks} -srcstoretype JKS -destkeystore {} -deststoretype PKCS12",
                jks.replace(".jks", ".p12")
            )),
            "{err}"
        );
        assert_eq!(err.lines().count(), 1, "{err}");
    }
}
