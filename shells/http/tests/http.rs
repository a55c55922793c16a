//! The HTTP sink against real servers on 127.0.0.1. One test function, because the trust
//! store is process-wide (see `trust`): the test CA is installed first, then every case runs.

use std::time::{Duration, Instant};

use support_metrics_core::reporter::{HttpResult, TransportError};
use support_metrics_http::trust::install_extra_roots;
use support_metrics_http::HttpClient;
use support_metrics_linux::sinks::Notice;
use support_metrics_tests::scratch_dir;
use support_metrics_tests::servers::{Answer, TestCa, TestServer};

const BODY: &[u8] = br#"{"timestamp":1,"kafkaVersion":"3.7.0","confluentPlatformVersion":"0.1.0","brokerProcessUUID":"00112233-4455-4677-8899-aabbccddeeff","collectorState":2}"#;

#[test]
fn http_sink_against_real_servers() {
    let dir = scratch_dir("http-sink");
    let ca = TestCa::new();
    let installed = install_extra_roots(&ca.write_ca(&dir, "ca.pem"), &dir).expect("trust test CA");
    assert_eq!(installed.extra_roots, 1);
    let client = HttpClient::new(None, None, Duration::from_secs(2));

    // Plain HTTP: exact body and headers, notice parsed from a 2xx body.
    let http = TestServer::http();
    http.answer(Answer::Status(
        200,
        r#"{"informationForUser":"Hello","confluentPlatformVersion":"7.9.0"}"#.into(),
    ));
    let posted = client.post(&http.url("/anon"), BODY);
    assert_eq!(posted.result, HttpResult::Status(200));
    assert_eq!(
        posted.notice,
        Some(Notice {
            information_for_user: Some("Hello".into()),
            confluent_platform_version: Some("7.9.0".into())
        })
    );
    let got = &http.received()[0];
    assert_eq!(
        (got.method.as_str(), got.path.as_str(), got.body.as_slice()),
        ("POST", "/anon", BODY)
    );
    assert_eq!(got.header("content-type"), Some("application/json"));
    assert_eq!(got.header("api-version"), Some("phone-home-v1"));

    // HTTPS with the trusted test CA.
    let https = TestServer::https(&ca);
    let posted = client.post(&https.url("/submit"), BODY);
    assert_eq!(posted.result, HttpResult::Status(200), "{posted:?}");
    assert_eq!(https.received()[0].body, BODY);

    // HTTPS with a certificate nobody trusts: a TLS failure, nothing delivered.
    let stranger = TestServer::https(&TestCa::new());
    let posted = client.post(&stranger.url("/anon"), BODY);
    assert_eq!(
        posted.result,
        HttpResult::Transport(TransportError::Tls),
        "{posted:?}"
    );
    assert_eq!(stranger.count(), 0);

    // Errors and redirects are statuses; a redirect is not followed.
    http.answer(Answer::Status(500, String::new()));
    assert_eq!(
        client.post(&http.url("/anon"), BODY).result,
        HttpResult::Status(500)
    );
    http.answer(Answer::Status(302, String::new()));
    assert_eq!(
        client.post(&http.url("/anon"), BODY).result,
        HttpResult::Status(302)
    );
    // A huge or non-JSON 2xx body is fine, it just has no notice.
    http.answer(Answer::Status(200, "x".repeat(200_000)));
    let posted = client.post(&http.url("/anon"), BODY);
    assert_eq!(
        (posted.result, posted.notice),
        (HttpResult::Status(200), None)
    );

    // A stalled server: a timeout, within the bound.
    http.answer(Answer::Stall(Duration::from_secs(5)));
    let started = Instant::now();
    let posted = client.post(&http.url("/anon"), BODY);
    assert_eq!(
        posted.result,
        HttpResult::Transport(TransportError::Timeout),
        "{posted:?}"
    );
    assert!(started.elapsed() < Duration::from_secs(5));

    // A dead proxy is a connect failure; NO_PROXY bypasses it.
    let dead = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let proxied = HttpClient::new(
        Some(&format!("http://u:p@127.0.0.1:{dead}")),
        None,
        Duration::from_secs(2),
    );
    http.answer(Answer::Status(200, String::new()));
    let posted = proxied.post(&http.url("/anon"), BODY);
    assert_eq!(
        posted.result,
        HttpResult::Transport(TransportError::Connect),
        "{posted:?}"
    );
    let bypass = HttpClient::new(
        Some(&format!("http://127.0.0.1:{dead}")),
        Some("127.0.0.1"),
        Duration::from_secs(2),
    );
    assert_eq!(
        bypass.post(&http.url("/anon"), BODY).result,
        HttpResult::Status(200)
    );
}
