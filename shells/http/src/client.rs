//! The HTTP client: minreq with rustls.
//!
//! One POST per call: the record as the body, `Content-Type: application/json`,
//! `api-version: phone-home-v1`. Redirects are not followed (a redirect could turn HTTPS into
//! plain HTTP). At most 64 KiB of the response body is read; if it is JSON with
//! `informationForUser` or `confluentPlatformVersion`, those come back as a [`Notice`].

use core::time::Duration;
use std::io::Read;

use support_metrics_core::reporter::{HttpResult, TransportError};
use support_metrics_core::url::HttpUrl;
use support_metrics_linux::sinks::{Notice, Posted};

/// The `User-Agent` of every request.
pub const USER_AGENT: &str = concat!("support-metrics-agent/", env!("CARGO_PKG_VERSION"));

/// Most response-body bytes read.
pub const MAX_BODY: usize = 64 * 1024;

/// Posts records; holds the proxy and the `NO_PROXY` list.
#[derive(Clone, Debug)]
pub struct HttpClient {
    proxy: Option<String>,
    no_proxy: Vec<String>,
    timeout: Duration,
}

impl HttpClient {
    /// A client using `proxy` (an `http://` URL, credentials allowed) for every host not
    /// matched by `no_proxy` (the `NO_PROXY` convention: comma-separated host names, domain
    /// suffixes, `*`). Each POST takes at most `timeout` (whole seconds, at least 1).
    pub fn new(proxy: Option<&str>, no_proxy: Option<&str>, timeout: Duration) -> Self {
        // rustls' crypto: ring, installed before minreq builds its one TLS config. (minreq
        // also pulls in aws-lc-rs; ring's code is a fraction of its size, and less resident
        // memory for a daemon.) Already installed is fine.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let no_proxy = no_proxy
            .unwrap_or("")
            .split(',')
            .map(|s| s.trim().trim_start_matches('.').to_ascii_lowercase())
            .filter(|s| !s.is_empty())
            .collect();
        HttpClient {
            proxy: proxy.map(str::to_owned),
            no_proxy,
            timeout,
        }
    }

    /// Whether requests to `url` go through the proxy.
    pub fn uses_proxy(&self, url: &str) -> bool {
        let Some(_) = &self.proxy else { return false };
        let host =
            HttpUrl::parse(url).map(|u| u.host.trim_matches(['[', ']']).to_ascii_lowercase());
        let Ok(host) = host else { return true };
        !self
            .no_proxy
            .iter()
            .any(|rule| rule == "*" || host == *rule || host.ends_with(&format!(".{rule}")))
    }

    /// POSTs `body` to `url` and classifies the outcome.
    pub fn post(&self, url: &str, body: &[u8]) -> Posted {
        let mut request = minreq::post(url)
            .with_header("User-Agent", USER_AGENT)
            .with_header("Content-Type", "application/json")
            .with_header("api-version", "phone-home-v1")
            .with_body(body.to_vec())
            .with_timeout(self.timeout.as_secs().max(1))
            .with_follow_redirects(false);
        // Where the request went, for the failure's words: the endpoint, and the proxy
        // (without its password) when one is used.
        let mut via = format!("POST {url}");
        let mut proxied = false;
        if self.uses_proxy(url) {
            if let Some(proxy) = &self.proxy {
                let shown = support_metrics_core::url::redact_credentials(proxy).to_string();
                via = format!("POST {url} through proxy {shown}");
                proxied = true;
                match minreq::Proxy::new(proxy) {
                    Ok(p) => request = request.with_proxy(p),
                    Err(e) => return transport(TransportError::Connect, &e, &via, true),
                }
            }
        }
        match request.send_lazy() {
            Ok(response) => {
                let status = response.status_code;
                let notice = if (200..300).contains(&status) {
                    read_notice(response)
                } else {
                    None
                };
                Posted {
                    result: HttpResult::Status(status),
                    notice,
                    detail: None,
                }
            }
            Err(e) => transport(classify(&e), &e, &via, proxied),
        }
    }
}

fn transport(kind: TransportError, e: &minreq::Error, via: &str, proxied: bool) -> Posted {
    // Through a proxy, a connection failure is the proxy's: said so.
    let detail = if proxied && kind == TransportError::Connect {
        format!("{via}: cannot reach the proxy ({})", cause(e))
    } else {
        format!("{via}: {}", cause(e))
    };
    Posted {
        result: HttpResult::Transport(kind),
        notice: None,
        detail: Some(detail),
    }
}

/// A failure in words: certificate problems named as such.
fn cause(e: &minreq::Error) -> String {
    use rustls::{CertificateError, Error as Tls};
    let tls = match e {
        minreq::Error::IoError(io) => io.get_ref().and_then(|i| i.downcast_ref::<Tls>()),
        _ => None,
    };
    match tls {
        Some(Tls::InvalidCertificate(c)) => match c {
            CertificateError::UnknownIssuer => {
                "certificate signed by an unknown authority (set confluent.support.metrics.endpoint.ca.file to trust its CA)".into()
            }
            CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. } => {
                "the certificate is not valid for this host name".into()
            }
            CertificateError::Expired | CertificateError::ExpiredContext { .. } => {
                "the certificate has expired".into()
            }
            _ => format!("TLS error: {}", tls.map_or(String::new(), ToString::to_string)),
        },
        Some(other) => format!("TLS error: {other}"),
        None => match e {
            minreq::Error::ProxyConnect => "cannot connect to the proxy".into(),
            minreq::Error::BadProxy | minreq::Error::BadProxyCreds => {
                "the proxy refused the request".into()
            }
            other => other.to_string(),
        },
    }
}

fn read_notice(response: minreq::ResponseLazy) -> Option<Notice> {
    let mut body = Vec::new();
    response.take(MAX_BODY as u64).read_to_end(&mut body).ok()?;
    let v: serde_json::Value = serde_json::from_slice(&body).ok()?;
    let text = |key: &str| v.get(key).and_then(|s| s.as_str()).map(str::to_owned);
    let notice = Notice {
        information_for_user: text("informationForUser"),
        confluent_platform_version: text("confluentPlatformVersion"),
    };
    (notice != Notice::default()).then_some(notice)
}

/// Sorts a failure into the reporter's kinds.
fn classify(e: &minreq::Error) -> TransportError {
    use std::io::ErrorKind;
    match e {
        minreq::Error::RustlsCreateConnection(_) => TransportError::Tls,
        minreq::Error::AddressNotFound | minreq::Error::ProxyConnect | minreq::Error::BadProxy => {
            TransportError::Connect
        }
        minreq::Error::IoError(io) => {
            let tls = io
                .get_ref()
                .is_some_and(|inner| inner.downcast_ref::<rustls::Error>().is_some());
            match io.kind() {
                _ if tls => TransportError::Tls,
                ErrorKind::TimedOut | ErrorKind::WouldBlock => TransportError::Timeout,
                ErrorKind::ConnectionRefused
                | ErrorKind::ConnectionReset
                | ErrorKind::ConnectionAborted
                | ErrorKind::NotConnected
                | ErrorKind::AddrNotAvailable
                | ErrorKind::HostUnreachable
                | ErrorKind::NetworkUnreachable => TransportError::Connect,
                _ => TransportError::Other,
            }
        }
        _ => TransportError::Other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_proxy_rules() {
        let c = HttpClient::new(
            Some("http://p:3128"),
            Some("localhost, .internal.example.com,10.0.0.1"),
            Duration::from_secs(1),
        );
        assert!(!c.uses_proxy("http://localhost:8080/x"));
        assert!(!c.uses_proxy("https://api.internal.example.com/x"));
        assert!(!c.uses_proxy("https://internal.example.com/x"));
        assert!(!c.uses_proxy("http://10.0.0.1/x"));
        assert!(c.uses_proxy("https://support-metrics.confluent.io/anon"));
        assert!(c.uses_proxy("https://notinternal.example.com/x"));
        let all = HttpClient::new(Some("http://p:3128"), Some("*"), Duration::from_secs(1));
        assert!(!all.uses_proxy("https://support-metrics.confluent.io/anon"));
        let none = HttpClient::new(None, None, Duration::from_secs(1));
        assert!(!none.uses_proxy("https://support-metrics.confluent.io/anon"));
    }

    #[test]
    fn refused_connection_is_a_connect_error() {
        // Bind then drop a listener: the port is (almost certainly) closed afterwards.
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let c = HttpClient::new(None, None, Duration::from_secs(2));
        let posted = c.post(&format!("http://127.0.0.1:{port}/anon"), b"{}");
        assert_eq!(
            posted.result,
            HttpResult::Transport(TransportError::Connect),
            "{posted:?}"
        );
        assert!(posted.detail.is_some());
    }
}
