//! A minimal ZooKeeper client: just enough of the jute protocol to find Kafka brokers
//! (`getChildren /brokers/ids`, `getData /brokers/ids/<id>`), plus `create` for tests. One
//! connection, synchronous, every read bounded by a timeout.

use std::io::{Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::time::{Duration, Instant};

const GET_DATA: i32 = 4;
const CREATE: i32 = 1;
const GET_CHILDREN: i32 = 8;
const CLOSE: i32 = -11;

/// A ZooKeeper session.
pub struct ZooKeeper {
    stream: TcpStream,
    chroot: String,
    xid: i32,
    /// Every call of the session ends by then.
    deadline: Instant,
}

/// A ZooKeeper error code, or a transport problem.
#[derive(Debug)]
pub enum ZkError {
    /// Connection or framing trouble.
    Io(std::io::Error),
    /// The server's error code (e.g. -101: no node, -110: node exists).
    Code(i32),
}

impl std::fmt::Display for ZkError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ZkError::Io(e) => write!(f, "{e}"),
            ZkError::Code(-101) => f.write_str("no such node"),
            ZkError::Code(c) => write!(f, "ZooKeeper error {c}"),
        }
    }
}

impl From<std::io::Error> for ZkError {
    fn from(e: std::io::Error) -> Self {
        ZkError::Io(e)
    }
}

fn put_str(buf: &mut Vec<u8>, s: &str) {
    buf.extend_from_slice(&(s.len() as i32).to_be_bytes());
    buf.extend_from_slice(s.as_bytes());
}

fn put_bytes(buf: &mut Vec<u8>, b: &[u8]) {
    buf.extend_from_slice(&(b.len() as i32).to_be_bytes());
    buf.extend_from_slice(b);
}

struct Reader<'a>(&'a [u8]);

impl Reader<'_> {
    fn take(&mut self, n: usize) -> std::io::Result<&[u8]> {
        if self.0.len() < n {
            return Err(std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                "short ZooKeeper reply",
            ));
        }
        let (head, rest) = self.0.split_at(n);
        self.0 = rest;
        Ok(head)
    }
    fn i32(&mut self) -> std::io::Result<i32> {
        Ok(i32::from_be_bytes(
            self.take(4)?.try_into().unwrap_or_default(),
        ))
    }
    fn bytes(&mut self) -> std::io::Result<Vec<u8>> {
        let n = self.i32()?;
        Ok(if n < 0 {
            Vec::new()
        } else {
            self.take(n as usize)?.to_vec()
        })
    }
}

impl ZooKeeper {
    /// Connects to `HOST:PORT[,HOST:PORT...][/chroot]` (the first server that answers). Every
    /// call of the session, the connection included, ends within `timeout` from now.
    pub fn connect(connect: &str, timeout: Duration) -> Result<ZooKeeper, ZkError> {
        let deadline = Instant::now() + timeout;
        let (servers, chroot) = match connect.find('/') {
            Some(i) => (&connect[..i], connect[i..].trim_end_matches('/').to_owned()),
            None => (connect, String::new()),
        };
        let mut last = std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            "no ZooKeeper server given",
        );
        for server in servers.split(',').map(str::trim).filter(|s| !s.is_empty()) {
            let addrs = match server.to_socket_addrs() {
                Ok(a) => a,
                Err(e) => {
                    last = e;
                    continue;
                }
            };
            for addr in addrs {
                let stream = left(deadline).and_then(|t| TcpStream::connect_timeout(&addr, t));
                match Self::handshake(stream, timeout, deadline) {
                    Ok(stream) => {
                        return Ok(ZooKeeper {
                            stream,
                            chroot,
                            xid: 0,
                            deadline,
                        })
                    }
                    Err(e) => last = e,
                }
            }
        }
        Err(ZkError::Io(last))
    }

    fn handshake(
        stream: std::io::Result<TcpStream>,
        timeout: Duration,
        deadline: Instant,
    ) -> std::io::Result<TcpStream> {
        let mut stream = stream?;
        let mut body = Vec::new();
        body.extend_from_slice(&0i32.to_be_bytes()); // protocol version
        body.extend_from_slice(&0i64.to_be_bytes()); // last zxid seen
        body.extend_from_slice(&(timeout.as_millis().clamp(6000, 30_000) as i32).to_be_bytes());
        body.extend_from_slice(&0i64.to_be_bytes()); // session id
        put_bytes(&mut body, &[0; 16]); // password
        body.push(0); // read-only: no
        send_frame(&mut stream, &body, deadline)?;
        let reply = recv_frame(&mut stream, deadline)?;
        if reply.len() < 16 {
            return Err(std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                "not a ZooKeeper server",
            ));
        }
        Ok(stream)
    }

    fn path(&self, path: &str) -> String {
        format!("{}{}", self.chroot, path)
    }

    fn call(&mut self, op: i32, body: &[u8]) -> Result<Vec<u8>, ZkError> {
        self.xid += 1;
        let mut frame = Vec::with_capacity(8 + body.len());
        frame.extend_from_slice(&self.xid.to_be_bytes());
        frame.extend_from_slice(&op.to_be_bytes());
        frame.extend_from_slice(body);
        send_frame(&mut self.stream, &frame, self.deadline)?;
        // Skip anything that is not our reply (watch events use xid -1).
        for _ in 0..16 {
            let reply = recv_frame(&mut self.stream, self.deadline)?;
            let mut r = Reader(&reply);
            let xid = r.i32()?;
            let _zxid = r.take(8)?;
            let err = r.i32()?;
            if xid != self.xid {
                continue;
            }
            if err != 0 {
                return Err(ZkError::Code(err));
            }
            return Ok(r.0.to_vec());
        }
        Err(ZkError::Io(std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            "no reply to our request",
        )))
    }

    /// The children of `path`.
    pub fn children(&mut self, path: &str) -> Result<Vec<String>, ZkError> {
        let mut body = Vec::new();
        put_str(&mut body, &self.path(path));
        body.push(0); // no watch
        let reply = self.call(GET_CHILDREN, &body)?;
        let mut r = Reader(&reply);
        let n = r.i32()?.max(0);
        (0..n)
            .map(|_| Ok(String::from_utf8_lossy(&r.bytes()?).into_owned()))
            .collect()
    }

    /// The data of `path`.
    pub fn data(&mut self, path: &str) -> Result<Vec<u8>, ZkError> {
        let mut body = Vec::new();
        put_str(&mut body, &self.path(path));
        body.push(0);
        let reply = self.call(GET_DATA, &body)?;
        Ok(Reader(&reply).bytes()?)
    }

    /// Creates a persistent node open to everyone (for tests); an existing node is fine.
    pub fn create(&mut self, path: &str, data: &[u8]) -> Result<(), ZkError> {
        let mut body = Vec::new();
        put_str(&mut body, &self.path(path));
        put_bytes(&mut body, data);
        body.extend_from_slice(&1i32.to_be_bytes()); // one ACL
        body.extend_from_slice(&31i32.to_be_bytes()); // all permissions
        put_str(&mut body, "world");
        put_str(&mut body, "anyone");
        body.extend_from_slice(&0i32.to_be_bytes()); // persistent
        match self.call(CREATE, &body) {
            Ok(_) | Err(ZkError::Code(-110)) => Ok(()),
            Err(e) => Err(e),
        }
    }
}

impl Drop for ZooKeeper {
    fn drop(&mut self) {
        let _ = self.call(CLOSE, &[]);
    }
}

/// The time left before `deadline`, or an error once it has passed.
fn left(deadline: Instant) -> std::io::Result<Duration> {
    deadline
        .checked_duration_since(Instant::now())
        .filter(|d| !d.is_zero())
        .ok_or_else(|| {
            std::io::Error::new(
                std::io::ErrorKind::TimedOut,
                "no answer within the time given",
            )
        })
}

/// Reads bounded by one deadline for the whole call, however slowly the server drips bytes:
/// every read gets only the time left.
struct Bounded<'a> {
    stream: &'a mut TcpStream,
    deadline: Instant,
}

impl Read for Bounded<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        self.stream.set_read_timeout(Some(left(self.deadline)?))?;
        self.stream.read(buf)
    }
}

fn send_frame(stream: &mut TcpStream, body: &[u8], deadline: Instant) -> std::io::Result<()> {
    let mut frame = (body.len() as i32).to_be_bytes().to_vec();
    frame.extend_from_slice(body);
    stream.set_write_timeout(Some(left(deadline)?))?;
    stream.write_all(&frame)
}

fn recv_frame(stream: &mut TcpStream, deadline: Instant) -> std::io::Result<Vec<u8>> {
    let mut stream = Bounded { stream, deadline };
    let mut len = [0u8; 4];
    stream.read_exact(&mut len)?;
    let len = i32::from_be_bytes(len);
    if !(0..=(16 << 20)).contains(&len) {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            "bad ZooKeeper frame length",
        ));
    }
    let mut body = vec![0; len as usize];
    stream.read_exact(&mut body)?;
    Ok(body)
}

/// Bootstrap servers from the broker registrations under `/brokers/ids`: each broker's
/// endpoint whose security protocol is `protocol` (default PLAINTEXT), or the `host`/`port`
/// of old registrations.
pub fn brokers(connect: &str, protocol: Option<&str>, timeout: Duration) -> Result<String, String> {
    let mut zk = ZooKeeper::connect(connect, timeout)
        .map_err(|e| format!("cannot reach ZooKeeper at {connect}: {e}"))?;
    let ids = zk
        .children("/brokers/ids")
        .map_err(|e| format!("ZooKeeper {connect}: /brokers/ids: {e}"))?;
    let wanted = protocol.unwrap_or("PLAINTEXT").to_ascii_uppercase();
    let mut servers = Vec::new();
    for id in ids {
        let data = zk
            .data(&format!("/brokers/ids/{id}"))
            .map_err(|e| format!("ZooKeeper {connect}: broker {id}: {e}"))?;
        let v: serde_json::Value = serde_json::from_slice(&data)
            .map_err(|e| format!("broker {id}: registration is not JSON: {e}"))?;
        let map = v.get("listener_security_protocol_map");
        let endpoint = v
            .get("endpoints")
            .and_then(|e| e.as_array())
            .into_iter()
            .flatten()
            .filter_map(|e| e.as_str())
            .find_map(|e| {
                let (name, address) = e.split_once("://")?;
                let proto = map
                    .and_then(|m| m.get(name))
                    .and_then(|p| p.as_str())
                    .unwrap_or(name);
                proto
                    .eq_ignore_ascii_case(&wanted)
                    .then(|| address.to_owned())
            });
        let legacy = || {
            Some(format!(
                "{}:{}",
                v.get("host")?.as_str()?,
                v.get("port")?.as_i64()?
            ))
        };
        if let Some(server) = endpoint.or_else(legacy).filter(|s| !s.starts_with(':')) {
            servers.push(server);
        }
    }
    if servers.is_empty() {
        return Err(format!(
            "ZooKeeper {connect}: no broker registered with a {wanted} endpoint"
        ));
    }
    Ok(servers.join(","))
}
