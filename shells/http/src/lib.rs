//! HTTP for the support-metrics agent: the endpoint client (minreq with rustls on ring) and
//! the trust bundle for `confluent.support.metrics.endpoint.ca.file`. Its own crate, so that
//! binaries without HTTP (the bundle tool) do not build a TLS stack.

pub mod client;
pub mod trust;

use support_metrics_core::reporter::{HttpResult, Target, TransportError};
use support_metrics_linux::sinks::{HttpSink, Posted};

pub use client::HttpClient;

/// The HTTP sink: a client and the two endpoint URLs (`None` when off).
pub struct HttpEndpoints {
    /// The client (proxy, timeout).
    pub client: HttpClient,
    /// The HTTPS URL.
    pub secure: Option<String>,
    /// The HTTP URL.
    pub insecure: Option<String>,
}

impl HttpSink for HttpEndpoints {
    fn post(&mut self, target: Target, body: &[u8]) -> Posted {
        let url = match target {
            Target::SecureEndpoint => self.secure.as_deref(),
            _ => self.insecure.as_deref(),
        };
        match url {
            Some(url) => self.client.post(url, body),
            None => Posted {
                result: HttpResult::Transport(TransportError::Other),
                notice: None,
                detail: Some("no endpoint for this target".to_owned()),
            },
        }
    }
}
