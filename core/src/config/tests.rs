use super::*;
extern crate std;
use std::string::{String as StdString, ToString};
use std::vec::Vec;

#[derive(Debug)]
enum LoadError {
    Parse(ParseError),
    /// key, line, value, reason, message
    Config(Key, u32, StdString, Reason, StdString),
}

impl core::fmt::Display for LoadError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "{self:?}")
    }
}

struct Invalid {
    key: Key,
    line: u32,
    value: StdString,
    reason: Reason,
    message: StdString,
}

fn load(text: &str) -> Result<(SupportConfig, Vec<StdString>), LoadError> {
    let mut warnings = Vec::new();
    let mut builder = ConfigBuilder::new();
    builder
        .read::<4096>(text.as_bytes(), |w| warnings.push(w.to_string()))
        .map_err(LoadError::Parse)?;
    match builder.build() {
        Ok((config, warning)) => {
            warnings.extend(warning.map(|w| w.to_string()));
            Ok((config, warnings))
        }
        Err(e) => Err(LoadError::Config(
            e.key,
            e.line,
            e.value.into(),
            e.reason,
            e.to_string(),
        )),
    }
}

#[track_caller]
fn ok(text: &str) -> SupportConfig {
    let (config, warnings) = load(text).unwrap_or_else(|e| panic!("{text:?}: {e}"));
    assert_eq!(warnings, Vec::<StdString>::new(), "{text:?}");
    config
}

#[track_caller]
fn invalid(text: &str) -> Invalid {
    match load(text) {
        Err(LoadError::Config(key, line, value, reason, message)) => Invalid {
            key,
            line,
            value,
            reason,
            message,
        },
        other => panic!("{text:?}: expected a config error, got {other:?}"),
    }
}

/// The reference defaults: an empty file (or one with only broker keys) reports.
#[test]
fn defaults() {
    for text in ["", "broker.id=0\nzookeeper.connect=localhost:2181\n"] {
        let c = ok(text);
        assert!(c.enabled() && c.is_reporting() && c.has_http());
        assert_eq!(c.customer_id(), "anonymous");
        assert_eq!(c.customer_class(), CustomerClass::Anonymous);
        assert_eq!(c.report_interval_hours(), 24);
        assert_eq!(c.report_interval_ms(), 86_400_000);
        assert_eq!(c.topic(), Some("__confluent.support.metrics"));
        assert_eq!(
            c.secure_endpoint(),
            Some("https://support-metrics.confluent.io/anon")
        );
        assert_eq!(
            c.insecure_endpoint(),
            Some("http://support-metrics.confluent.io/anon")
        );
        assert_eq!(c.proxy(), None);
        for k in Key::ALL {
            assert_eq!(c.source(k), Source::Default);
        }
        assert_eq!(c, SupportConfig::default());
    }
}

#[test]
fn endpoints_follow_the_customer_class() {
    let c = ok("confluent.support.customer.id=c0");
    assert_eq!(
        (c.customer_id(), c.customer_class()),
        ("c0", CustomerClass::Test)
    );
    assert_eq!(
        c.secure_endpoint(),
        Some("https://support-metrics.confluent.io/test")
    );
    assert_eq!(
        c.insecure_endpoint(),
        Some("http://support-metrics.confluent.io/test")
    );
    let c = ok("confluent.support.customer.id=C123");
    assert_eq!(
        (c.customer_id(), c.customer_class()),
        ("C123", CustomerClass::Customer)
    );
    assert_eq!(
        c.secure_endpoint(),
        Some("https://support-metrics.confluent.io/submit")
    );
    let c = ok("confluent.support.customer.id=5003001200D8cyJ");
    assert_eq!(c.customer_id(), "5003001200D8cyJ");
    let c = ok("confluent.support.customer.id=ANONYMOUS");
    assert_eq!(
        (c.customer_id(), c.customer_class()),
        ("ANONYMOUS", CustomerClass::Anonymous)
    );
    assert_eq!(c.source(Key::CustomerId), Source::Line(1));
}

#[test]
fn invalid_customer_id_falls_back_with_a_warning() {
    let (c, w) = load("\nconfluent.support.customer.id=Hello World").unwrap();
    assert_eq!(c.customer_id(), "anonymous");
    assert_eq!(c.customer_class(), CustomerClass::Anonymous);
    assert_eq!(
        w,
        ["line 2: 'Hello World' is not a valid Confluent customer ID -- falling back to id 'anonymous'"]
    );
    let (c, w) = load("confluent.support.customer.id=").unwrap();
    assert_eq!(c.customer_id(), "anonymous");
    assert_eq!(
        w,
        ["line 1: no customer ID configured -- falling back to id 'anonymous'"]
    );
    let (c, _) = load("confluent.support.customer.id=c1234567890123456789012345678901").unwrap();
    assert_eq!(c.customer_id(), "anonymous");
}

#[test]
fn interval() {
    assert_eq!(
        ok("confluent.support.metrics.report.interval.hours=1").report_interval_ms(),
        3_600_000
    );
    assert_eq!(
        ok("confluent.support.metrics.report.interval.hours= 24 ").report_interval_hours(),
        24
    );
    assert_eq!(
        ok("confluent.support.metrics.report.interval.hours=").report_interval_hours(),
        24
    );
    assert_eq!(
        ok("confluent.support.metrics.report.interval.hours=+7").report_interval_hours(),
        7
    );
    let c = ok("confluent.support.metrics.report.interval.hours=10000");
    assert_eq!(c.report_interval_ms(), 36_000_000_000);
    let big = ok("confluent.support.metrics.report.interval.hours=876000");
    assert_eq!(big.report_interval_ms(), 876_000 * 3_600_000);
    for (v, reason) in [
        ("0", Reason::IntervalTooSmall),
        ("-1", Reason::IntervalTooSmall),
        ("abc", Reason::NotAnInteger),
        ("1.5", Reason::NotAnInteger),
        ("24h", Reason::NotAnInteger),
        ("-", Reason::NotAnInteger),
        ("876001", Reason::IntervalTooLarge),
        ("99999999999999999999", Reason::IntervalTooLarge),
    ] {
        let e = invalid(&std::format!(
            "x=1\nconfluent.support.metrics.report.interval.hours={v}"
        ));
        assert_eq!(
            (e.key, e.line, e.value.as_str(), e.reason),
            (Key::ReportIntervalHours, 2, v, reason)
        );
    }
}

#[test]
fn booleans_are_strict() {
    for v in ["true", "TRUE", "True", " true "] {
        assert!(
            ok(&std::format!("confluent.support.metrics.enable={v}")).enabled(),
            "{v}"
        );
    }
    for v in ["false", "FALSE", "fAlSe\t"] {
        let c = ok(&std::format!("confluent.support.metrics.enable={v}"));
        assert!(!c.enabled() && !c.is_reporting(), "{v}");
    }
    for key in [
        Key::Enable,
        Key::SecureEndpointEnable,
        Key::InsecureEndpointEnable,
    ] {
        for v in ["yes", "1", "on", "", "tru"] {
            let e = invalid(&std::format!("{key}={v}"));
            assert_eq!(
                (e.key, e.line, e.reason),
                (key, 1, Reason::NotABoolean),
                "{key}={v}"
            );
        }
    }
}

#[test]
fn topic() {
    assert_eq!(
        ok("confluent.support.metrics.topic=__another_example_topic").topic(),
        Some("__another_example_topic")
    );
    assert_eq!(ok("confluent.support.metrics.topic=").topic(), None);
    assert_eq!(ok("confluent.support.metrics.topic=   ").topic(), None);
    let max = "t".repeat(249);
    assert_eq!(
        ok(&std::format!("confluent.support.metrics.topic={max}")).topic(),
        Some(max.as_str())
    );
    for (v, e) in [
        ("bad topic", TopicError::InvalidCharacter),
        ("tópico", TopicError::InvalidCharacter),
        (".", TopicError::Dots),
        ("..", TopicError::Dots),
        (&"t".repeat(250), TopicError::TooLong),
    ] {
        assert_eq!(
            invalid(&std::format!("confluent.support.metrics.topic={v}")).reason,
            Reason::InvalidTopic(e)
        );
    }
}

#[test]
fn endpoints_are_settable_and_empty_disables() {
    let c = ok(
        "confluent.support.metrics.endpoint.secure=https://127.0.0.1:8443/in\n\
                confluent.support.metrics.endpoint.insecure=",
    );
    assert_eq!(c.secure_endpoint(), Some("https://127.0.0.1:8443/in"));
    assert_eq!(c.insecure_endpoint(), None);
    assert_eq!(c.source(Key::SecureEndpoint), Source::Line(1));
    let c = ok("confluent.support.metrics.endpoint.secure.enable=false");
    assert_eq!(
        (c.secure_endpoint(), c.insecure_endpoint().is_some()),
        (None, true)
    );
    let c = ok("confluent.support.metrics.endpoint.insecure.enable=false\n\
                confluent.support.metrics.endpoint.insecure=http://127.0.0.1/x");
    assert_eq!(c.insecure_endpoint(), None);
    let c = ok("confluent.support.metrics.endpoint.secure.enable=false\n\
                confluent.support.metrics.endpoint.insecure.enable=false");
    assert!(!c.has_http() && c.is_reporting());
    let c = ok("confluent.support.metrics.endpoint.secure=\nconfluent.support.metrics.endpoint.insecure=\n\
                confluent.support.metrics.topic=");
    assert!(c.enabled() && !c.is_reporting());
    let c = ok("confluent.support.metrics.topic=\nconfluent.support.metrics.endpoint.insecure=");
    assert!(c.is_reporting(), "HTTPS only");
}

#[test]
fn endpoint_errors() {
    let e = invalid("confluent.support.metrics.endpoint.secure=anyValue");
    assert_eq!(e.reason, Reason::InvalidUrl(UrlError::MissingScheme));
    let e = invalid("confluent.support.metrics.endpoint.secure=http://example.com");
    assert_eq!(
        e.reason,
        Reason::WrongScheme {
            expected: Scheme::Https
        }
    );
    let e = invalid("confluent.support.metrics.endpoint.insecure=https://example.com");
    assert_eq!(
        e.reason,
        Reason::WrongScheme {
            expected: Scheme::Http
        }
    );
    // A disabled endpoint's URL is not checked: it is never used.
    ok("confluent.support.metrics.endpoint.secure.enable=false\nconfluent.support.metrics.endpoint.secure=junk");
}

#[test]
fn proxy() {
    let c = ok("confluent.support.proxy=http://alice:s3cret@proxy.example.com:3128");
    let p = c.proxy().unwrap();
    assert_eq!((p.host, p.port), ("proxy.example.com", Some(3128)));
    assert_eq!(
        p.redacted().to_string(),
        "http://alice:***@proxy.example.com:3128"
    );
    assert_eq!(ok("confluent.support.proxy=").proxy(), None);
    assert_eq!(
        invalid("confluent.support.proxy=https://proxy.example.com").reason,
        Reason::ProxyNotHttp
    );
    assert_eq!(
        invalid("confluent.support.proxy=proxy:3128").reason,
        Reason::InvalidUrl(UrlError::MissingScheme)
    );
    assert_eq!(
        invalid("confluent.support.proxy=http://p:3128/path").reason,
        Reason::ProxyHasPath
    );
}

#[test]
fn unknown_support_keys_warn_with_suggestions() {
    let (_, w) = load(
        "confluent.support.metrics.enabled=true\nconfluent.support.report.interval.hours=1\n\
         confluent.support.zzz=1\nconfluent.other=1\nbroker.id=1\n",
    )
    .unwrap();
    assert_eq!(
        w,
        [
            "line 1: unknown setting confluent.support.metrics.enabled (did you mean confluent.support.metrics.enable?)",
            "line 2: unknown setting confluent.support.report.interval.hours (renamed; use confluent.support.metrics.report.interval.hours)",
            "line 3: unknown setting confluent.support.zzz (ignored)",
        ]
    );
}

#[test]
fn last_occurrence_wins() {
    let c = ok("confluent.support.metrics.enable=maybe\nconfluent.support.metrics.enable=false\n");
    assert!(!c.enabled());
    assert_eq!(c.source(Key::Enable), Source::Line(2));
    let long = "x".repeat(MAX_VALUE_LEN + 1);
    let e = invalid(&std::format!("confluent.support.proxy={long}"));
    assert_eq!((e.reason, e.value.len()), (Reason::TooLong, MAX_VALUE_LEN));
    ok(&std::format!(
        "confluent.support.proxy={long}\nconfluent.support.proxy=\n"
    ));
}

#[test]
fn error_message_names_key_value_line_and_reason() {
    let e = invalid("a=1\n\nconfluent.support.metrics.report.interval.hours=abc\n");
    assert_eq!(
        e.message,
        "line 3: invalid value \"abc\" for confluent.support.metrics.report.interval.hours: not a whole number"
    );
    match load("a=\\u12") {
        Err(LoadError::Parse(e)) => assert_eq!(e.to_string(), "line 1: malformed \\uxxxx encoding"),
        other => panic!("{other:?}"),
    }
}

#[test]
fn error_value_cut_at_char_boundary() {
    let long: StdString = "\\u00e9".repeat(MAX_VALUE_LEN);
    let e = invalid(&std::format!(
        "confluent.support.customer.id=x\nconfluent.support.proxy={long}"
    ));
    assert_eq!(e.reason, Reason::TooLong);
    assert!(
        e.value.len() <= MAX_VALUE_LEN && e.value.chars().all(|c| c == 'é'),
        "{:?}",
        e.value
    );
}

#[test]
fn agent_keys() {
    let c = ok(
        "confluent.support.metrics.bootstrap.servers=kafka-1:9092, [::1]:9093\n\
                confluent.support.metrics.endpoint.ca.file=/etc/ssl/extra.pem\n\
                confluent.support.metrics.spool.dir=/var/lib/support-metrics\n\
                confluent.support.metrics.client.security.protocol=SSL\n\
                confluent.support.metrics.client.ssl.ca.location=/etc/kafka/ca.pem\n",
    );
    assert_eq!(c.bootstrap_servers(), Some("kafka-1:9092, [::1]:9093"));
    assert_eq!(c.endpoint_ca_file(), Some("/etc/ssl/extra.pem"));
    assert_eq!(c.spool_dir(), Some("/var/lib/support-metrics"));
    let c =
        ok("confluent.support.metrics.bootstrap.servers=\nconfluent.support.metrics.spool.dir=");
    assert_eq!((c.bootstrap_servers(), c.spool_dir()), (None, None));
    for bad in [
        "kafka-1",
        "kafka-1:0",
        "kafka-1:99999",
        ":9092",
        "a:1,,b:2",
        "PLAINTEXT://k:9092",
    ] {
        let e = invalid(&std::format!(
            "confluent.support.metrics.bootstrap.servers={bad}"
        ));
        assert_eq!(e.reason, Reason::InvalidBootstrapServers, "{bad}");
    }
    // The bare prefix is not a client setting: it is a typo.
    let (_, w) = load("confluent.support.metrics.client.=x").unwrap();
    assert_eq!(w.len(), 1, "{w:?}");
}

#[test]
fn values_are_trimmed_of_ascii_whitespace_only() {
    // Blanks a properties value keeps: trailing spaces, and tabs or form feeds from escapes.
    let c = ok("confluent.support.metrics.enable=false \\t\\f\n");
    assert!(!c.enabled());
    // U+3000 (an ideographic space, `\u3000` in the file) is not ASCII whitespace: the URL
    // keeps it and is refused, rather than trimmed into something the operator did not write.
    let e = invalid("confluent.support.metrics.endpoint.secure=https://example.com\\u3000\n");
    assert_eq!(e.key, Key::SecureEndpoint);
}

#[test]
fn endpoints_take_no_credentials_and_errors_never_show_them() {
    for (text, reason) in [
        (
            "confluent.support.metrics.endpoint.insecure=http://user:S3cretPass@127.0.0.1:18001/x\n",
            Reason::InvalidUrl(UrlError::Credentials),
        ),
        (
            "confluent.support.metrics.endpoint.secure=https://admin:S3cretPass@example.com/x\n",
            Reason::InvalidUrl(UrlError::Credentials),
        ),
        // Shown as port 18001 by one reader, connecting to port 80 by another: refused.
        (
            "confluent.support.metrics.endpoint.insecure=http://127.0.0.1:18009\\\\@127.0.0.1:18001/x\n",
            Reason::InvalidUrl(UrlError::InvalidCharacter),
        ),
        (
            "confluent.support.proxy=http://user:S3cretPass@proxy:3128:bad\n",
            Reason::InvalidUrl(UrlError::InvalidPort),
        ),
    ] {
        let e = invalid(text);
        assert_eq!(e.reason, reason, "{text}");
        assert_eq!(e.line, 1);
        assert!(!e.message.contains("S3cretPass"), "{}", e.message);
        assert!(e.message.contains("line 1") && e.message.contains(e.key.name()), "{}", e.message);
    }
    // The proxy may carry credentials: they are used, and shown as ***.
    let c = ok("confluent.support.proxy=http://user:S3cretPass@proxy:3128\n");
    let shown = c.proxy().unwrap().redacted().to_string();
    assert_eq!(shown, "http://user:***@proxy:3128");
}

#[test]
fn credentials_are_redacted_from_any_url_like_text() {
    use crate::url::redact_credentials;
    for (text, shown) in [
        ("http://u:p@h:1/x", "http://***@h:1/x"),
        ("http://h:1\\@h:2/x", "http://***@h:2/x"),
        ("http://h/x@y", "http://h/x@y"),
        ("no url at all", "no url at all"),
        ("u:p@h", "***@h"),
    ] {
        assert_eq!(redact_credentials(text).to_string(), shown, "{text}");
    }
}

#[test]
fn secret_keys_by_their_words() {
    for key in [
        "ssl.keystore.password",
        "sasl.jaas.config",
        "SSL.KEY.PASSWORD",
        "confluent.support.metrics.client.sasl.oauthbearer.token.endpoint.url",
        "aws.secret",
        "client.credentials.file",
    ] {
        assert!(is_secret_key(key), "{key}");
    }
    for key in [
        "num.partitions",
        "security.protocol",
        "sasl.mechanism",
        "log.dirs",
    ] {
        assert!(!is_secret_key(key), "{key}");
    }
}
