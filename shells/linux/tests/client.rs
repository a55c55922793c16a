//! Client security: Java client properties translated to librdkafka, and derived from the
//! broker's config, against stores generated for real (openssl, keytool).

use std::path::Path;
use std::sync::OnceLock;

use support_metrics_linux::client::java::translate;
use support_metrics_linux::client::{connect, Connection, Setting};
use support_metrics_linux::properties_file::PropertiesFile;
use support_metrics_tests::scratch_dir;
use support_metrics_tests::secured::{Pki, KEY_PASSWORD, STORE_PASSWORD};

fn pki() -> &'static Pki {
    static PKI: OnceLock<Pki> = OnceLock::new();
    PKI.get_or_init(|| Pki::new(&scratch_dir("client-pki")))
}

fn settings(pairs: &[(&str, &str)]) -> Vec<Setting> {
    pairs
        .iter()
        .map(|(k, v)| Setting {
            name: k.to_string(),
            value: v.to_string(),
            key: format!("client.{k}"),
            origin: format!("test: client.{k}"),
        })
        .collect()
}

fn get<'a>(t: &'a [(String, String)], key: &str) -> Option<&'a str> {
    t.iter()
        .rev()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.as_str())
}

const PLAIN: &str = "org.apache.kafka.common.security.plain.PlainLoginModule";
const SCRAM: &str = "org.apache.kafka.common.security.scram.ScramLoginModule";

#[test]
fn sasl_login_modules() {
    let jaas = format!(r#"{PLAIN} required username="alice" password="alice-s3cret";"#);
    let t = translate(&settings(&[
        ("security.protocol", "SASL_SSL"),
        ("sasl.jaas.config", &jaas),
    ]))
    .unwrap();
    assert_eq!(get(&t.settings, "security.protocol"), Some("SASL_SSL"));
    assert_eq!(get(&t.settings, "sasl.mechanisms"), Some("PLAIN"));
    assert_eq!(get(&t.settings, "sasl.username"), Some("alice"));
    assert_eq!(get(&t.settings, "sasl.password"), Some("alice-s3cret"));
    assert_eq!(get(&t.settings, "sasl.jaas.config"), None);
    assert!(t.secrets.iter().any(|s| s == "alice-s3cret"));

    let jaas = format!(r#"{SCRAM} required username="bob" password="b\"ob";"#);
    let e = translate(&settings(&[("sasl.jaas.config", &jaas)])).unwrap_err();
    assert!(e.starts_with("test: client.sasl.jaas.config: ScramLoginModule needs sasl.mechanism SCRAM-SHA-256 or SCRAM-SHA-512"), "{e}");
    let t = translate(&settings(&[
        ("sasl.mechanism", "scram-sha-512"),
        ("sasl.jaas.config", &jaas),
    ]))
    .unwrap();
    assert_eq!(get(&t.settings, "sasl.mechanisms"), Some("SCRAM-SHA-512"));
    assert_eq!(get(&t.settings, "sasl.password"), Some("b\"ob"));

    let krb = r#"com.sun.security.auth.module.Krb5LoginModule required useKeyTab=true storeKey=true keyTab="/etc/security/keytabs/agent.keytab" principal="agent@EXAMPLE.COM";"#;
    let t = translate(&settings(&[
        ("sasl.kerberos.service.name", "kafka"),
        ("sasl.jaas.config", krb),
    ]))
    .unwrap();
    assert_eq!(get(&t.settings, "sasl.mechanisms"), Some("GSSAPI"));
    assert_eq!(
        get(&t.settings, "sasl.kerberos.keytab"),
        Some("/etc/security/keytabs/agent.keytab")
    );
    assert_eq!(
        get(&t.settings, "sasl.kerberos.principal"),
        Some("agent@EXAMPLE.COM")
    );
    assert_eq!(
        get(&t.settings, "sasl.kerberos.service.name"),
        Some("kafka")
    );

    for (jaas, why) in [
        (
            r#"org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginModule required clientSecret="x-s3cret";"#,
            "OAUTHBEARER is not supported",
        ),
        (
            r#"com.example.Custom required password="x-s3cret";"#,
            "has no librdkafka equivalent",
        ),
        (
            r#"x.PlainLoginModule required password="x-s3cret";"#,
            "has no username",
        ),
        (
            r#"x.PlainLoginModule required password="x-s3cret""#,
            "missing the final `;`",
        ),
    ] {
        let e = translate(&settings(&[("sasl.jaas.config", jaas)])).unwrap_err();
        assert!(e.contains(why), "{e}");
        assert!(e.contains("client.sasl.jaas.config"), "{e}");
        assert!(!e.contains("x-s3cret"), "{e}");
    }
    // librdkafka's own names pass through.
    let t = translate(&settings(&[
        ("sasl.mechanisms", "PLAIN"),
        ("sasl.username", "u"),
        ("sasl.password", "p-s3cret"),
    ]))
    .unwrap();
    assert_eq!(get(&t.settings, "sasl.password"), Some("p-s3cret"));
}

#[test]
fn truststores() {
    let p = pki();
    let ca = std::fs::read_to_string(p.dir.join("ca.pem")).unwrap();
    let t = translate(&settings(&[
        ("ssl.truststore.location", &p.path("ca.pem")),
        ("ssl.truststore.type", "PEM"),
    ]))
    .unwrap();
    assert_eq!(
        get(&t.settings, "ssl.ca.location"),
        Some(p.path("ca.pem").as_str())
    );
    assert!(t.notes.is_empty(), "{:?}", t.notes);
    // PKCS12 made by keytool (what a Java site has): converted to PEM in memory, whatever the
    // declared type.
    for declared in ["PKCS12", "JKS"] {
        let t = translate(&settings(&[
            ("ssl.truststore.location", &p.path("truststore.p12")),
            ("ssl.truststore.type", declared),
            ("ssl.truststore.password", STORE_PASSWORD),
        ]))
        .unwrap();
        let pem = get(&t.settings, "ssl.ca.pem").unwrap();
        assert_eq!(pem.trim(), ca.trim());
        assert_eq!(get(&t.settings, "ssl.truststore.password"), None);
    }
    let e = translate(&settings(&[
        ("ssl.truststore.location", &p.path("truststore.p12")),
        ("ssl.truststore.password", "wrong-s3cret"),
    ]))
    .unwrap_err();
    assert!(
        e.contains("client.ssl.truststore.location: cannot open PKCS12 file"),
        "{e}"
    );
    assert!(!e.contains("wrong-s3cret"), "{e}");
    let jks = p.path("truststore.jks");
    let e = translate(&settings(&[
        ("ssl.truststore.location", &jks),
        ("ssl.truststore.password", STORE_PASSWORD),
    ]))
    .unwrap_err();
    let p12 = jks.replace(".jks", ".p12");
    assert!(e.contains(&format!("keytool -importkeystore -srckeystore {jks} -srcstoretype JKS -destkeystore {p12} -deststoretype PKCS12")), "{e}");
    assert!(!e.contains(STORE_PASSWORD), "{e}");
    let e = translate(&settings(&[(
        "ssl.truststore.location",
        &p.path("server.ext"),
    )]))
    .unwrap_err();
    assert!(
        e.contains("is neither PEM nor PKCS12 (no type given)"),
        "{e}"
    );
    let e = translate(&settings(&[(
        "ssl.truststore.location",
        "/nonexistent/t.p12",
    )]))
    .unwrap_err();
    assert!(
        e.contains("client.ssl.truststore.location: cannot read /nonexistent/t.p12"),
        "{e}"
    );
    // Inline certificates.
    let t = translate(&settings(&[("ssl.truststore.certificates", &ca)])).unwrap();
    assert_eq!(get(&t.settings, "ssl.ca.pem"), Some(ca.as_str()));
}

#[test]
fn keystores_and_host_names() {
    let p = pki();
    let t = translate(&settings(&[
        ("ssl.keystore.type", "PKCS12"),
        ("ssl.keystore.location", &p.path("client.p12")),
        ("ssl.keystore.password", STORE_PASSWORD),
        ("ssl.key.password", STORE_PASSWORD),
        ("ssl.endpoint.identification.algorithm", ""),
    ]))
    .unwrap();
    assert_eq!(
        get(&t.settings, "ssl.keystore.location"),
        Some(p.path("client.p12").as_str())
    );
    assert_eq!(
        get(&t.settings, "ssl.keystore.password"),
        Some(STORE_PASSWORD)
    );
    assert_eq!(
        get(&t.settings, "ssl.endpoint.identification.algorithm"),
        Some("none")
    );
    let e = translate(&settings(&[
        ("ssl.keystore.location", &p.path("client.p12")),
        ("ssl.keystore.password", "nope"),
    ]))
    .unwrap_err();
    assert!(e.contains("cannot open PKCS12 file"), "{e}");
    // A truststore given as the keystore.
    let e = translate(&settings(&[
        ("ssl.keystore.location", &p.path("truststore.p12")),
        ("ssl.keystore.password", STORE_PASSWORD),
    ]))
    .unwrap_err();
    assert!(e.contains("holds no private key"), "{e}");
    let t = translate(&settings(&[
        ("ssl.keystore.type", "PEM"),
        ("ssl.keystore.location", &p.path("client-keystore.pem")),
        ("ssl.key.password", KEY_PASSWORD),
    ]))
    .unwrap();
    let pem = p.path("client-keystore.pem");
    assert_eq!(
        get(&t.settings, "ssl.certificate.location"),
        Some(pem.as_str())
    );
    assert_eq!(get(&t.settings, "ssl.key.location"), Some(pem.as_str()));
    assert_eq!(get(&t.settings, "ssl.key.password"), Some(KEY_PASSWORD));
    let e = translate(&settings(&[(
        "ssl.keystore.location",
        &p.path("client.jks"),
    )]))
    .unwrap_err();
    assert!(
        e.contains("is a JKS keystore") && e.contains("-deststoretype PKCS12"),
        "{e}"
    );
    // Java-only settings are noted, not passed to librdkafka (which would refuse them).
    let t = translate(&settings(&[
        ("ssl.enabled.protocols", "TLSv1.3"),
        ("acks", "all"),
    ]))
    .unwrap();
    assert_eq!(get(&t.settings, "ssl.enabled.protocols"), None);
    assert_eq!(get(&t.settings, "acks"), Some("all"));
    assert!(
        t.notes[0].contains(
            "client.ssl.enabled.protocols: a Java client setting without a librdkafka equivalent"
        ),
        "{:?}",
        t.notes
    );
}

fn broker_file(dir: &Path, text: &str) -> PropertiesFile {
    let path = dir.join("server.properties");
    std::fs::write(&path, text).unwrap();
    PropertiesFile::read(&path).unwrap()
}

fn derived(text: &str) -> Result<Connection, String> {
    let file = broker_file(&scratch_dir("client-derive"), text);
    connect(Some(&file), None, Vec::new())
}

#[test]
fn derived_from_the_broker() {
    let p = pki();
    // SSL only, PKCS12 truststore from the listener's own settings.
    let c = derived(&format!(
        "listeners=SSL://kafka-1:9093\n\
         ssl.truststore.location=/nonexistent/global.jks\n\
         listener.name.ssl.ssl.truststore.location={}\n\
         listener.name.ssl.ssl.truststore.password={STORE_PASSWORD}\n\
         ssl.keystore.location=/nonexistent/server.jks\n",
        p.path("truststore.p12")
    ))
    .unwrap();
    assert_eq!(c.servers, "kafka-1:9093");
    assert_eq!(get(&c.settings, "security.protocol"), Some("SSL"));
    assert!(get(&c.settings, "ssl.ca.pem").is_some());
    // No client certificate unless the listener asks for one.
    assert_eq!(get(&c.settings, "ssl.keystore.location"), None);
    assert!(
        c.security.contains("listener SSL")
            && c.security
                .contains("listener.name.ssl.ssl.truststore.location"),
        "{}",
        c.security
    );
    assert!(!c.security.contains(STORE_PASSWORD));
    assert_eq!(
        c.redactor.clean(&format!("x {STORE_PASSWORD} y")),
        "x *** y"
    );

    // Mutual TLS: the keystore goes with the client.
    let c = derived(&format!(
        "listeners=INTERNAL://:9094,EXTERNAL://:9092\n\
         listener.security.protocol.map=INTERNAL:SSL,EXTERNAL:SASL_SSL\n\
         inter.broker.listener.name=INTERNAL\n\
         ssl.client.auth=required\n\
         ssl.truststore.location={}\nssl.keystore.type=PKCS12\nssl.keystore.location={}\n\
         ssl.keystore.password={STORE_PASSWORD}\nssl.key.password={STORE_PASSWORD}\n",
        p.path("ca.pem"),
        p.path("client.p12")
    ))
    .unwrap();
    assert_eq!(c.servers, "localhost:9094");
    assert_eq!(
        get(&c.settings, "ssl.keystore.location"),
        Some(p.path("client.p12").as_str())
    );
    assert_eq!(
        get(&c.settings, "ssl.ca.location"),
        Some(p.path("ca.pem").as_str())
    );

    // SASL_SSL with the inter-broker mechanism; a broker's PLAIN module also lists its users.
    let c = derived(&format!(
        "listeners=SASL_SSL://:9093\n\
         sasl.enabled.mechanisms=PLAIN,SCRAM-SHA-512\n\
         sasl.mechanism.inter.broker.protocol=SCRAM-SHA-512\n\
         listener.name.sasl_ssl.plain.sasl.jaas.config={PLAIN} required username=\"admin\" password=\"plain-s3cret\" user_admin=\"plain-s3cret\" user_bob=\"bob-s3cret\";\n\
         listener.name.sasl_ssl.scram-sha-512.sasl.jaas.config={SCRAM} required username=\"admin\" password=\"scram-s3cret\";\n\
         ssl.truststore.location={}\n",
        p.path("ca.pem")
    ))
    .unwrap();
    assert_eq!(get(&c.settings, "security.protocol"), Some("SASL_SSL"));
    assert_eq!(get(&c.settings, "sasl.mechanisms"), Some("SCRAM-SHA-512"));
    assert_eq!(get(&c.settings, "sasl.password"), Some("scram-s3cret"));
    assert!(
        c.security
            .contains("SASL SCRAM-SHA-512 (from sasl.mechanism.inter.broker.protocol)"),
        "{}",
        c.security
    );
    assert!(
        c.security
            .contains("listener.name.sasl_ssl.scram-sha-512.sasl.jaas.config"),
        "{}",
        c.security
    );
    assert!(!c.security.contains("s3cret"), "{}", c.security);
    assert_eq!(c.redactor.clean("auth scram-s3cret"), "auth ***");

    // No JAAS for the mechanism: said, with what to set.
    let e = derived(
        "listeners=SASL_PLAINTEXT://:9092\nsasl.enabled.mechanisms=SCRAM-SHA-256\nsasl.mechanism.inter.broker.protocol=SCRAM-SHA-256\n",
    )
    .unwrap_err();
    assert!(
        e.contains("no listener.name.sasl_plaintext.scram-sha-256.sasl.jaas.config"),
        "{e}"
    );
    assert!(
        e.contains("confluent.support.metrics.client.sasl.jaas.config"),
        "{e}"
    );

    // A JKS truststore in the broker config: refused, naming the broker's key.
    let e = derived(&format!(
        "listeners=SSL://:9093\nssl.truststore.location={}\nssl.truststore.password={STORE_PASSWORD}\n",
        p.path("truststore.jks")
    ))
    .unwrap_err();
    assert!(
        e.contains("line 2: ssl.truststore.location") && e.contains("set ssl.truststore.location="),
        "{e}"
    );

    // Operator settings win: nothing derived.
    let c = derived(&format!(
        "listeners=SSL://:9093\nssl.truststore.location={}\n\
         confluent.support.metrics.client.ssl.ca.location={}\n",
        p.path("truststore.jks"),
        p.path("ca.pem")
    ))
    .unwrap();
    assert_eq!(get(&c.settings, "security.protocol"), Some("SSL"));
    assert_eq!(
        get(&c.settings, "ssl.ca.location"),
        Some(p.path("ca.pem").as_str())
    );
    assert!(
        c.security
            .contains("with confluent.support.metrics.client.ssl.ca.location"),
        "{}",
        c.security
    );

    // Plaintext stays plaintext.
    let c = derived("listeners=PLAINTEXT://:9092\n").unwrap();
    assert_eq!(get(&c.settings, "security.protocol"), Some("PLAINTEXT"));
}

/// This build's librdkafka has no GSSAPI: said before any client is made, naming the key.
#[test]
fn kerberos_without_libsasl2_is_refused_by_name() {
    let e = derived(
        "listeners=SASL_SSL://:9094\n\
         confluent.support.metrics.client.security.protocol=SASL_SSL\n\
         confluent.support.metrics.client.sasl.jaas.config=com.sun.security.auth.module.Krb5LoginModule required keyTab=\"/k.keytab\" principal=\"a@B\";\n",
    );
    if support_metrics_linux::client::builtin_features().contains("sasl_gssapi") {
        assert!(e.is_ok());
        return;
    }
    let e = e.unwrap_err();
    assert!(e.contains("line 3: confluent.support.metrics.client.sasl.jaas.config: Kerberos (GSSAPI) needs librdkafka built with Cyrus SASL"), "{e}");
}
