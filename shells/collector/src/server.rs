//! `serve`: the HTTP endpoints the agents post to, and the fleet view.
//!
//! HTTP/1.1 on hyper, routed by axum. Every connection is bounded: headers within the idle
//! timeout (which also closes idle keep-alive connections), a body within the request
//! timeout and at most 64 KiB, at most `max_connections` at once. A 2xx answer means the
//! record is committed.

use std::future::Future;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::extract::{ConnectInfo, Path, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use http_body_util::{BodyExt, LengthLimitError, Limited};
use hyper_util::rt::{TokioIo, TokioTimer};
use support_metrics_core::wire::MAX_RECORD_LEN;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tower::ServiceExt;

use crate::advisories::Advisories;
use crate::fleet;
use crate::network::Network;
use crate::page;
use crate::record::{decode, Origin};
use crate::store::Store;
use crate::writer::Writer;

/// The runtime `serve` runs on: one worker per core but one, which is left to the writer
/// thread (on 2 cores, measured by `ci/bench collector`: as many records/s as with a worker
/// per core, or slightly more).
pub fn runtime() -> std::io::Result<tokio::runtime::Runtime> {
    let cores = std::thread::available_parallelism().map_or(1, usize::from);
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(cores.saturating_sub(1).max(1))
        .thread_name("http")
        .enable_all()
        .build()
}

/// What the routes need: the answers, the fleet window and its readers, the body timeout.
pub struct Settings {
    /// The advisories file's contents (empty when none).
    pub advisories: Advisories,
    /// Keep senders' full addresses instead of their /24 (IPv4) or /48 (IPv6).
    pub full_addresses: bool,
    /// The agents' report interval, for "seen in the last two intervals".
    pub interval_secs: u64,
    /// Longest wait for a request's body, and then for its record to be stored.
    pub request_timeout: Duration,
    /// Who may read the fleet view (`/`, `/api/fleet`): the rest get 403.
    pub fleet_from: Vec<Network>,
}

/// What bounds the connections `serve` accepts.
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    /// Longest wait for a request's headers, and for the next request on a kept-alive
    /// connection.
    pub idle_timeout: Duration,
    /// Most connections at once; more are closed as they arrive.
    pub max_connections: usize,
}

#[derive(Clone)]
struct App {
    /// The answer when no advisory can match: the same for every record.
    plain_answer: String,
    writer: Writer,
    /// The fleet's connection: one view computed at a time; the others wait here, not in a
    /// blocking thread each.
    reader: Arc<tokio::sync::Mutex<Store>>,
    settings: Arc<Settings>,
}

/// The router: the record endpoints, `/`, `/api/fleet` and `/healthz`.
pub fn router(writer: Writer, reader: Store, settings: Settings) -> Router {
    let app = App {
        plain_answer: settings.advisories.answer("", None).to_string(),
        writer,
        reader: Arc::new(tokio::sync::Mutex::new(reader)),
        settings: Arc::new(settings),
    };
    Router::new()
        .route("/", get(fleet_page))
        .route("/api/fleet", get(fleet_json))
        .route("/healthz", get(|| async { "ok\n" }))
        .route("/{endpoint}", post(post_record))
        .route("/{component}/{endpoint}", post(post_component_record))
        .fallback(|| async {
            reject(
                StatusCode::NOT_FOUND,
                "no such endpoint: POST /anon, /test, /submit or /<component>/<endpoint>",
            )
        })
        .with_state(app)
}

/// Serves `router` on `listener` (over TLS with `tls`) until `shutdown` completes, then waits
/// (at most 10 s) for the requests in flight.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    limits: Limits,
    tls: Option<Arc<rustls::ServerConfig>>,
    shutdown: impl Future<Output = ()>,
) {
    let tls = tls.map(tokio_rustls::TlsAcceptor::from);
    let slots = Arc::new(Semaphore::new(limits.max_connections));
    tokio::pin!(shutdown);
    loop {
        let (stream, addr) = tokio::select! {
            () = &mut shutdown => break,
            accepted = listener.accept() => match accepted {
                Ok(a) => a,
                Err(e) => {
                    // Out of file descriptors and the like: wait, do not spin.
                    crate::log("WARN", &format!("cannot accept a connection: {e}"));
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
        };
        let Ok(slot) = slots.clone().try_acquire_owned() else {
            drop(stream);
            continue;
        };
        let router = router.clone();
        let tls = tls.clone();
        tokio::spawn(async move {
            match tls {
                None => connection(stream, router, addr, limits).await,
                // The handshake is bounded like the headers that follow it.
                Some(acceptor) => {
                    let handshake = acceptor.accept(stream);
                    if let Ok(Ok(stream)) =
                        tokio::time::timeout(limits.idle_timeout, handshake).await
                    {
                        connection(stream, router, addr, limits).await;
                    }
                }
            }
            drop(slot);
        });
    }
    let all = u32::try_from(limits.max_connections).unwrap_or(u32::MAX);
    let _ = tokio::time::timeout(Duration::from_secs(10), slots.acquire_many(all)).await;
}

/// One connection: HTTP/1.1 with keep-alive, headers within the idle timeout.
async fn connection<I>(io: I, router: Router, addr: SocketAddr, limits: Limits)
where
    I: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    let service =
        hyper::service::service_fn(move |mut req: hyper::Request<hyper::body::Incoming>| {
            req.extensions_mut().insert(ConnectInfo(addr));
            router.clone().oneshot(req.map(Body::new))
        });
    let conn = hyper::server::conn::http1::Builder::new()
        .timer(TokioTimer::new())
        .header_read_timeout(limits.idle_timeout)
        .keep_alive(true)
        .serve_connection(TokioIo::new(io), service);
    let _ = conn.await;
}

async fn post_record(
    State(app): State<App>,
    ConnectInfo(addr): ConnectInfo<SocketAddr>,
    Path(endpoint): Path<String>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    receive(app, addr, None, endpoint, headers, body).await
}

async fn post_component_record(
    State(app): State<App>,
    ConnectInfo(addr): ConnectInfo<SocketAddr>,
    Path((component, endpoint)): Path<(String, String)>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let fits = (1..=64).contains(&component.len())
        && component
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b));
    if !fits {
        return reject(
            StatusCode::NOT_FOUND,
            "a component is 1 to 64 letters, digits, '.', '_' or '-'",
        );
    }
    receive(app, addr, Some(component), endpoint, headers, body).await
}

async fn receive(
    app: App,
    addr: SocketAddr,
    component: Option<String>,
    endpoint: String,
    headers: HeaderMap,
    body: Body,
) -> Response {
    if !matches!(endpoint.as_str(), "anon" | "test" | "submit") {
        return reject(
            StatusCode::NOT_FOUND,
            "no such endpoint: POST /anon, /test or /submit",
        );
    }
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > MAX_RECORD_LEN as u64) {
        return too_large();
    }
    let limited = Limited::new(body, MAX_RECORD_LEN);
    let bytes = match tokio::time::timeout(app.settings.request_timeout, limited.collect()).await {
        Err(_) => {
            let msg = format!(
                "body not received within {} s",
                app.settings.request_timeout.as_secs()
            );
            return reject(StatusCode::REQUEST_TIMEOUT, &msg);
        }
        Ok(Err(e)) if e.downcast_ref::<LengthLimitError>().is_some() => return too_large(),
        Ok(Err(_)) => return reject(StatusCode::BAD_REQUEST, "the body could not be read"),
        Ok(Ok(collected)) => collected.to_bytes(),
    };
    let row = match decode(&bytes, Some(&endpoint)) {
        Ok(row) => row,
        Err(why @ crate::record::Reject::WrongEndpoint { .. }) => {
            return reject(StatusCode::UNPROCESSABLE_ENTITY, &why.to_string())
        }
        Err(crate::record::Reject::TooLarge) => return too_large(),
        Err(why) => return reject(StatusCode::BAD_REQUEST, &why.to_string()),
    };
    let answer = if app.settings.advisories.list.is_empty() {
        app.plain_answer.clone()
    } else {
        app.settings
            .advisories
            .answer(&row.kafka_version, row.cp_version.as_deref())
            .to_string()
    };
    let origin = Origin {
        via: "http",
        component,
        remote: Some(address(addr.ip(), app.settings.full_addresses)),
    };
    // A database that hangs (a stopped server, a lost network) must not hold the sender: it
    // hears 503 and sends again; if the write lands after all, the key makes the resend one
    // record.
    let stored = tokio::time::timeout(
        app.settings.request_timeout,
        app.writer.write(vec![(row, origin)]),
    )
    .await
    .unwrap_or_else(|_| {
        Err(format!(
            "not stored within {} s",
            app.settings.request_timeout.as_secs()
        ))
    });
    match stored {
        Ok(_) => (
            StatusCode::OK,
            [(header::CONTENT_TYPE, "application/json")],
            answer,
        )
            .into_response(),
        Err(e) => {
            crate::log("ERROR", &format!("cannot store a record: {e}"));
            reject(
                StatusCode::SERVICE_UNAVAILABLE,
                "the record could not be stored; try again later",
            )
        }
    }
}

fn too_large() -> Response {
    reject(
        StatusCode::PAYLOAD_TOO_LARGE,
        &format!("body larger than {MAX_RECORD_LEN} bytes"),
    )
}

/// A refusal: the status and one line saying why.
fn reject(status: StatusCode, why: &str) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        format!("{why}\n"),
    )
        .into_response()
}

/// The sender's address as stored: its /24 (IPv4) or /48 (IPv6) unless `full`.
pub fn address(ip: IpAddr, full: bool) -> String {
    let ip = ip.to_canonical();
    if full {
        return ip.to_string();
    }
    match ip {
        IpAddr::V4(v4) => {
            let [a, b, c, _] = v4.octets();
            format!("{a}.{b}.{c}.0/24")
        }
        IpAddr::V6(v6) => {
            let s = v6.segments();
            let net = std::net::Ipv6Addr::new(s[0], s[1], s[2], 0, 0, 0, 0, 0);
            format!("{net}/48")
        }
    }
}

/// The fleet for a reader at `addr`: a 403 outside `--fleet-from`.
async fn compute(app: &App, addr: SocketAddr) -> Result<fleet::Fleet, Response> {
    if !app
        .settings
        .fleet_from
        .iter()
        .any(|n| n.contains(addr.ip()))
    {
        return Err(reject(
            StatusCode::FORBIDDEN,
            "the fleet view answers only to the addresses in the collector's --fleet-from",
        ));
    }
    let app = app.clone();
    let mut store = app.reader.clone().lock_owned().await;
    let job = tokio::task::spawn_blocking(move || {
        fleet::compute(
            &mut store,
            &app.settings.advisories,
            crate::now(),
            app.settings.interval_secs,
        )
    });
    match job.await {
        Ok(Ok(f)) => Ok(f),
        Ok(Err(e)) => {
            crate::log("ERROR", &format!("cannot read the fleet: {e}"));
            Err(reject(
                StatusCode::SERVICE_UNAVAILABLE,
                "the database cannot be read; see the collector's log",
            ))
        }
        Err(_) => Err(reject(
            StatusCode::INTERNAL_SERVER_ERROR,
            "the fleet view failed",
        )),
    }
}

async fn fleet_page(
    State(app): State<App>,
    ConnectInfo(addr): ConnectInfo<SocketAddr>,
) -> Response {
    match compute(&app, addr).await {
        Ok(f) => {
            let mut r = (
                [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
                page::render(&f),
            )
                .into_response();
            // No script is ever needed: the page forbids them outright.
            r.headers_mut().insert(
                header::CONTENT_SECURITY_POLICY,
                HeaderValue::from_static(
                    "default-src 'none'; style-src 'unsafe-inline'; img-src 'self'",
                ),
            );
            r.headers_mut().insert(
                header::X_CONTENT_TYPE_OPTIONS,
                HeaderValue::from_static("nosniff"),
            );
            r
        }
        Err(r) => r,
    }
}

async fn fleet_json(
    State(app): State<App>,
    ConnectInfo(addr): ConnectInfo<SocketAddr>,
) -> Response {
    match compute(&app, addr).await {
        Ok(f) => axum::Json(f).into_response(),
        Err(r) => r,
    }
}

#[cfg(test)]
mod tests {
    use super::address;

    #[test]
    fn addresses_are_truncated_by_default() {
        assert_eq!(
            address("192.0.2.77".parse().unwrap(), false),
            "192.0.2.0/24"
        );
        assert_eq!(
            address("2001:db8:1:2::5".parse().unwrap(), false),
            "2001:db8:1::/48"
        );
        assert_eq!(
            address("::ffff:192.0.2.7".parse().unwrap(), false),
            "192.0.2.0/24"
        );
        assert_eq!(address("192.0.2.77".parse().unwrap(), true), "192.0.2.77");
    }
}
