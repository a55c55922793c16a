//! Real HTTP and HTTPS servers on 127.0.0.1 for tests, with a CA generated at test time.
//! They record every request and answer as told: a status (with an optional body), a stall,
//! or a dropped connection. Every loop is bounded: accept polls a stop flag, reads time out.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, IsCa, KeyPair, SanType};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};

/// A certificate authority and a server certificate for `127.0.0.1` and `localhost`.
pub struct TestCa {
    /// The CA certificate, PEM.
    pub ca_pem: String,
    server_chain: Vec<CertificateDer<'static>>,
    server_key: Vec<u8>,
}

impl TestCa {
    /// Generates a fresh CA and server certificate.
    pub fn new() -> Self {
        let mut params = CertificateParams::new(Vec::<String>::new()).expect("params");
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params
            .distinguished_name
            .push(rcgen::DnType::CommonName, "support-metrics test CA");
        let ca =
            CertifiedIssuer::self_signed(params, KeyPair::generate().expect("CA key")).expect("CA");
        let mut server = CertificateParams::new(Vec::<String>::new()).expect("params");
        server.subject_alt_names = vec![
            SanType::IpAddress([127, 0, 0, 1].into()),
            SanType::DnsName("localhost".try_into().expect("dns name")),
        ];
        let key = KeyPair::generate().expect("server key");
        let cert = server.signed_by(&key, &ca).expect("server cert");
        TestCa {
            ca_pem: ca.pem(),
            server_chain: vec![cert.der().clone()],
            server_key: key.serialize_der(),
        }
    }

    /// Writes the CA certificate to `dir/name` and returns the path.
    pub fn write_ca(&self, dir: &Path, name: &str) -> PathBuf {
        let path = dir.join(name);
        std::fs::write(&path, &self.ca_pem).expect("write CA");
        path
    }

    fn server_config(&self) -> Arc<rustls::ServerConfig> {
        let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(self.server_key.clone()));
        // An explicit provider: the agent's crates add rustls' `ring` feature, and with two
        // providers compiled in, `builder()` would need a process default.
        let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
        let config = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .expect("protocol versions")
            .with_no_client_auth()
            .with_single_cert(self.server_chain.clone(), key)
            .expect("server config");
        Arc::new(config)
    }
}

impl Default for TestCa {
    fn default() -> Self {
        Self::new()
    }
}

/// One request as received.
#[derive(Clone, Debug)]
pub struct Received {
    /// `POST`, `GET`, ...
    pub method: String,
    /// The request target.
    pub path: String,
    /// Header names lower-cased.
    pub headers: Vec<(String, String)>,
    /// The body.
    pub body: Vec<u8>,
}

impl Received {
    /// The value of header `name` (lower case).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

/// How the server answers.
#[derive(Clone, Debug)]
pub enum Answer {
    /// This status, with this body.
    Status(u16, String),
    /// Read the request, then say nothing for this long and close.
    Stall(Duration),
    /// Read the request, then close without answering.
    Close,
    /// `status` (with an empty body) for a request whose body contains `marker`, 200 for
    /// every other.
    Refuse {
        /// Bytes that single out the refused request.
        marker: String,
        /// The refusal.
        status: u16,
    },
}

/// A server on 127.0.0.1, stopped when dropped.
pub struct TestServer {
    addr: SocketAddr,
    tls: bool,
    received: Arc<Mutex<Vec<Received>>>,
    answer: Arc<Mutex<Answer>>,
    stop: Arc<AtomicBool>,
    handle: Option<JoinHandle<()>>,
}

impl TestServer {
    /// Plain HTTP, answering 200.
    pub fn http() -> Self {
        Self::start(None)
    }

    /// HTTPS with `ca`'s server certificate, answering 200.
    pub fn https(ca: &TestCa) -> Self {
        Self::start(Some(ca.server_config()))
    }

    fn start(tls: Option<Arc<rustls::ServerConfig>>) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1");
        listener.set_nonblocking(true).expect("nonblocking");
        let addr = listener.local_addr().expect("addr");
        let received = Arc::new(Mutex::new(Vec::new()));
        let answer = Arc::new(Mutex::new(Answer::Status(200, String::new())));
        let stop = Arc::new(AtomicBool::new(false));
        let is_tls = tls.is_some();
        let handle = {
            let (received, answer, stop) = (received.clone(), answer.clone(), stop.clone());
            std::thread::spawn(move || serve(listener, tls, received, answer, stop))
        };
        TestServer {
            addr,
            tls: is_tls,
            received,
            answer,
            stop,
            handle: Some(handle),
        }
    }

    /// `http(s)://127.0.0.1:<port><path>`.
    pub fn url(&self, path: &str) -> String {
        let scheme = if self.tls { "https" } else { "http" };
        format!("{scheme}://127.0.0.1:{}{path}", self.addr.port())
    }

    /// Changes how later requests are answered.
    pub fn answer(&self, answer: Answer) {
        *self.answer.lock().expect("lock") = answer;
    }

    /// Every request so far.
    pub fn received(&self) -> Vec<Received> {
        self.received.lock().expect("lock").clone()
    }

    /// Number of TLS handshakes or plain connections that delivered a full request.
    pub fn count(&self) -> usize {
        self.received.lock().expect("lock").len()
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(h) = self.handle.take() {
            let _ = h.join();
        }
    }
}

fn serve(
    listener: TcpListener,
    tls: Option<Arc<rustls::ServerConfig>>,
    received: Arc<Mutex<Vec<Received>>>,
    answer: Arc<Mutex<Answer>>,
    stop: Arc<AtomicBool>,
) {
    while !stop.load(Ordering::Relaxed) {
        let stream = match listener.accept() {
            Ok((s, _)) => s,
            Err(_) => {
                std::thread::sleep(Duration::from_millis(5));
                continue;
            }
        };
        let (received, answer, tls) = (received.clone(), answer.clone(), tls.clone());
        // One thread per connection, so a stalled answer never blocks the next client.
        std::thread::spawn(move || {
            let _ = stream.set_nonblocking(false);
            let _ = stream.set_read_timeout(Some(Duration::from_secs(10)));
            let _ = stream.set_write_timeout(Some(Duration::from_secs(10)));
            match tls {
                Some(config) => {
                    let Ok(conn) = rustls::ServerConnection::new(config) else {
                        return;
                    };
                    let tls_stream = rustls::StreamOwned::new(conn, stream);
                    handle(tls_stream, &received, &answer);
                }
                None => handle(stream, &received, &answer),
            }
        });
    }
}

fn read_request<S: Read>(reader: &mut BufReader<S>) -> Option<Received> {
    let mut line = String::new();
    if reader.read_line(&mut line).unwrap_or(0) == 0 {
        return None; // e.g. a TLS handshake the client refused
    }
    let mut parts = line.split_whitespace();
    let (method, path) = (
        parts.next().unwrap_or("").to_owned(),
        parts.next().unwrap_or("").to_owned(),
    );
    let mut headers = Vec::new();
    for _ in 0..100 {
        let mut h = String::new();
        if reader.read_line(&mut h).unwrap_or(0) == 0 || h.trim().is_empty() {
            break;
        }
        if let Some((k, v)) = h.split_once(':') {
            headers.push((k.trim().to_ascii_lowercase(), v.trim().to_owned()));
        }
    }
    let len: usize = headers
        .iter()
        .find(|(k, _)| k == "content-length")
        .and_then(|(_, v)| v.parse().ok())
        .unwrap_or(0)
        .min(1 << 20);
    let mut body = vec![0; len];
    reader.read_exact(&mut body).ok()?;
    Some(Received {
        method,
        path,
        headers,
        body,
    })
}

fn handle<S: Read + Write>(stream: S, received: &Mutex<Vec<Received>>, answer: &Mutex<Answer>) {
    let mut reader = BufReader::new(stream);
    let Some(mut request) = read_request(&mut reader) else {
        return;
    };
    if request.method == "CONNECT" {
        // Act as a proxy that tunnels to itself: accept, then serve the tunnelled request.
        received.lock().expect("lock").push(request);
        if reader
            .get_mut()
            .write_all(b"HTTP/1.1 200 Connection established\r\n\r\n")
            .is_err()
        {
            return;
        }
        let _ = reader.get_mut().flush();
        let Some(tunnelled) = read_request(&mut reader) else {
            return;
        };
        request = tunnelled;
    }
    let mut answer = answer.lock().expect("lock").clone();
    if let Answer::Refuse { marker, status } = &answer {
        let hit = request
            .body
            .windows(marker.len().max(1))
            .any(|w| w == marker.as_bytes());
        answer = Answer::Status(if hit { *status } else { 200 }, String::new());
    }
    received.lock().expect("lock").push(request);
    let mut stream = reader.into_inner();
    match answer {
        Answer::Status(code, body) => {
            let response = format!(
                "HTTP/1.1 {code} X\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            );
            let _ = stream.write_all(response.as_bytes());
            let _ = stream.flush();
        }
        Answer::Stall(d) => std::thread::sleep(d),
        Answer::Close | Answer::Refuse { .. } => {}
    }
}
