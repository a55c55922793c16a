//! Secrets never printed, destinations shown as they are: the real binary, as a careless
//! operator configures it.

mod common;

use std::process::{Command, Output};

use common::{exit, stderr, stdout, Site, BIN};
use support_metrics_tests::scratch_dir;
use support_metrics_tests::servers::TestServer;

const SECRETS: [&str; 4] = ["admin-secret", "changeit", "S3cretPass", "pr0xyPass"];

/// Everything the command printed, both streams.
fn printed(o: &Output) -> String {
    format!("{}{}", stdout(o), stderr(o))
}

#[track_caller]
fn no_secret(o: &Output) {
    let text = printed(o);
    for s in SECRETS {
        assert!(!text.contains(s), "{s} printed:\n{text}");
    }
}

fn run(site: &Site, args: &[&str]) -> Output {
    let mut c = Command::new(&*BIN);
    c.args(args).arg("--config").arg(&site.config);
    if args[0] != "config" {
        c.args(["--broker-watch", "none"]);
    }
    c.env("SUPPORT_METRICS_LOG", "debug")
        .env_remove("DO_NOT_TRACK");
    c.output().expect("run agent")
}

/// Finding 1: librdkafka's refusal echoed `password="admin-secret"` (and an unknown setting
/// its value) in the one line `once` printed.
#[test]
fn client_settings_librdkafka_refuses_are_named_never_shown() {
    for (setting, key) in [
        // A login module librdkafka has no equivalent for.
        (
            r#"sasl.jaas.config=org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginModule required clientId="a" clientSecret="admin-secret";"#,
            "confluent.support.metrics.client.sasl.jaas.config",
        ),
        // A JAAS text that does not parse (no final `;`).
        (
            r#"sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required username="admin" password="admin-secret""#,
            "confluent.support.metrics.client.sasl.jaas.config",
        ),
        // A setting neither Java nor librdkafka knows.
        (
            "ssl.keystore.secret=changeit",
            "confluent.support.metrics.client.ssl.keystore.secret",
        ),
    ] {
        let site = Site::new(
            "secrets-client",
            &format!(
                "confluent.support.metrics.topic=__confluent.support.metrics\n\
                 confluent.support.metrics.bootstrap.servers=127.0.0.1:1\n\
                 confluent.support.metrics.endpoint.secure=\n\
                 confluent.support.metrics.endpoint.insecure=\n\
                 confluent.support.metrics.client.{setting}\n"
            ),
        );
        for verb in ["once", "run"] {
            let out = run(&site, &[verb]);
            exit(&out, 78);
            no_secret(&out);
            assert!(stderr(&out).contains(key), "{}", stderr(&out));
        }
        for args in [
            &["config"][..],
            &["config", "--json"],
            &["config", "--raw"],
            &["config", "--raw", "--json"],
            &["preview"],
        ] {
            no_secret(&run(&site, args));
        }
    }
}

/// Finding 2: credentials in an endpoint were printed, and the request went to a host named
/// `user`; a backslash made the URL shown differ from the one connected to.
#[test]
fn endpoints_with_credentials_or_a_backslash_are_refused() {
    let server = TestServer::http();
    let port = server.url("").rsplit(':').next().unwrap().to_owned();
    for url in [
        format!("http://user:S3cretPass@127.0.0.1:{port}/x"),
        format!("http://127.0.0.1:1\\@127.0.0.1:{port}/x"),
    ] {
        let site = Site::new(
            "secrets-url",
            &format!(
                "confluent.support.metrics.endpoint.secure=\nconfluent.support.metrics.endpoint.insecure={url}\n"
            ),
        );
        for args in [
            &["once"][..],
            &["run"],
            &["preview"],
            &["config"],
            &["config", "--json"],
        ] {
            let out = run(&site, args);
            exit(&out, 78);
            no_secret(&out);
            let line = stderr(&out);
            assert!(
                line.contains("line 5")
                    && line.contains("confluent.support.metrics.endpoint.insecure"),
                "{args:?}: {line}"
            );
        }
        assert!(!site.spool().exists(), "nothing created");
    }
    assert_eq!(server.count(), 0, "nothing sent");
}

/// Finding 3: `config --raw` printed every password, the proxy's included.
#[test]
fn raw_config_hides_secrets_unless_asked() {
    let site = Site::new(
        "secrets-raw",
        "confluent.support.proxy=http://user:pr0xyPass@127.0.0.1:3128\n\
         ssl.keystore.password=changeit\n\
         listener.name.sasl_ssl.plain.sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required username=\"a\" password=\"admin-secret\";\n\
         confluent.support.metrics.client.sasl.password=S3cretPass\n",
    );
    for extra in [&[][..], &["--json"]] {
        let mut args = vec!["config", "--raw"];
        args.extend_from_slice(extra);
        let out = run(&site, &args);
        exit(&out, 0);
        no_secret(&out);
        assert!(stdout(&out).contains("***"), "{}", stdout(&out));
        assert!(stdout(&out).contains("num.partitions") || stdout(&out).contains("broker.id"));
        args.push("--show-secrets");
        let shown = stdout(&run(&site, &args));
        for s in ["changeit", "admin-secret", "pr0xyPass", "S3cretPass"] {
            assert!(shown.contains(s), "--show-secrets shows {s}: {shown}");
        }
    }
}

/// Finding 4: a missing CA file (or one without a certificate) gave exit 1 from `once`, a
/// message naming neither key nor line, nothing from `config`, and a spool created first.
#[test]
fn a_bad_ca_file_is_a_config_error_everywhere() {
    let dir = scratch_dir("secrets-ca");
    let empty = dir.join("no-cert.pem");
    std::fs::write(&empty, "not a certificate\n").unwrap();
    let missing = dir.join("missing.pem");
    for ca in [&missing, &empty] {
        let site = Site::new(
            "secrets-ca",
            &format!(
                "confluent.support.metrics.endpoint.ca.file={}\n",
                ca.display()
            ),
        );
        for verb in ["config", "once", "preview", "run"] {
            let out = run(&site, &[verb]);
            exit(&out, 78);
            let line = stderr(&out);
            assert!(
                line.contains("line 4")
                    && line.contains("confluent.support.metrics.endpoint.ca.file")
                    && line.contains(&ca.display().to_string()),
                "{verb}: {line}"
            );
            assert!(!site.spool().exists(), "{verb} created the spool");
        }
    }
}
