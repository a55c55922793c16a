//! Secured Kafka for the tests, made for real at test time: a PKI (`openssl`, and the JDK's
//! `keytool` for JKS), a tansu broker (with SCRAM users and `--authentication` for SASL), and
//! Debian's `stunnel` in front of it for TLS and mutual TLS. Every process is killed when its
//! guard drops; every wait is bounded.

use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The store password of every generated PKCS12 and JKS file.
pub const STORE_PASSWORD: &str = "St0re-Pa55-test";
/// The password of the encrypted PEM client key.
pub const KEY_PASSWORD: &str = "K3y-Pa55-test";

/// The JAAS login module for SCRAM.
pub const SCRAM_LOGIN: &str = "org.apache.kafka.common.security.scram.ScramLoginModule";

/// Java client properties for a [`SecuredBroker`] behind [`Front::Tls`] whose SCRAM-SHA-512
/// user is `ops`: SASL_SSL, and the PKI's PKCS12 truststore.
pub fn scram_client_properties(pki: &Pki, password: &str) -> String {
    format!(
        "security.protocol=SASL_SSL\nsasl.mechanism=SCRAM-SHA-512\n\
         sasl.jaas.config={SCRAM_LOGIN} required username=\"ops\" password=\"{password}\";\n\
         ssl.truststore.type=PKCS12\nssl.truststore.location={}\nssl.truststore.password={STORE_PASSWORD}\n",
        pki.path("truststore.p12")
    )
}

/// The broker's own `server.properties` for that listener on `port`: what `--config` derives
/// a client's security from.
pub fn scram_server_properties(port: u16, pki: &Pki, password: &str) -> String {
    format!(
        "listeners=SASL_SSL://127.0.0.1:{port}\nsasl.enabled.mechanisms=SCRAM-SHA-512\n\
         sasl.mechanism.inter.broker.protocol=SCRAM-SHA-512\n\
         listener.name.sasl_ssl.scram-sha-512.sasl.jaas.config={SCRAM_LOGIN} required username=\"ops\" password=\"{password}\";\n\
         ssl.truststore.location={}\nssl.truststore.password={STORE_PASSWORD}\n",
        pki.path("truststore.p12")
    )
}

/// Generated certificates and stores, all in one directory.
#[derive(Clone, Debug)]
pub struct Pki {
    /// The directory.
    pub dir: PathBuf,
}

fn run(cmd: &mut Command) {
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}"));
    assert!(
        out.status.success(),
        "{cmd:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn openssl(dir: &Path, args: &[&str]) {
    run(Command::new("openssl").current_dir(dir).args(args));
}

impl Pki {
    /// A CA, a server certificate for `localhost` and `127.0.0.1`, a client certificate, and
    /// the stores Java clients use: `ca.pem`, `truststore.p12`, `truststore.jks`,
    /// `server.pem` + `server.key`, `client.p12`, `client-keystore.pem` (certificate and
    /// encrypted key), `client.jks`.
    pub fn new(dir: &Path) -> Pki {
        std::fs::create_dir_all(dir).unwrap();
        let o = |args: &[&str]| openssl(dir, args);
        o(&[
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            "ca.key",
            "-out",
            "ca.pem",
            "-days",
            "2",
            "-subj",
            "/CN=support-metrics test CA",
        ]);
        std::fs::write(
            dir.join("server.ext"),
            "subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n",
        )
        .unwrap();
        std::fs::write(dir.join("client.ext"), "extendedKeyUsage=clientAuth\n").unwrap();
        for who in ["server", "client"] {
            o(&[
                "req",
                "-newkey",
                "rsa:2048",
                "-nodes",
                "-keyout",
                &format!("{who}.key"),
                "-out",
                &format!("{who}.csr"),
                "-subj",
                &format!("/CN={who}"),
            ]);
            o(&[
                "x509",
                "-req",
                "-in",
                &format!("{who}.csr"),
                "-CA",
                "ca.pem",
                "-CAkey",
                "ca.key",
                "-CAcreateserial",
                "-out",
                &format!("{who}.pem"),
                "-days",
                "2",
                "-extfile",
                &format!("{who}.ext"),
            ]);
        }
        let pass = format!("pass:{STORE_PASSWORD}");
        o(&[
            "pkcs12",
            "-export",
            "-in",
            "client.pem",
            "-inkey",
            "client.key",
            "-certfile",
            "ca.pem",
            "-out",
            "client.p12",
            "-passout",
            &pass,
            "-name",
            "client",
        ]);
        o(&[
            "pkcs8",
            "-topk8",
            "-in",
            "client.key",
            "-out",
            "client-enc.key",
            "-passout",
            &format!("pass:{KEY_PASSWORD}"),
            "-v2",
            "aes-256-cbc",
        ]);
        let mut pem = std::fs::read(dir.join("client.pem")).unwrap();
        pem.extend(std::fs::read(dir.join("client-enc.key")).unwrap());
        std::fs::write(dir.join("client-keystore.pem"), pem).unwrap();
        for (kind, file) in [("PKCS12", "truststore.p12"), ("JKS", "truststore.jks")] {
            run(Command::new("keytool").current_dir(dir).args([
                "-importcert",
                "-noprompt",
                "-alias",
                "ca",
                "-file",
                "ca.pem",
                "-keystore",
                file,
                "-storetype",
                kind,
                "-storepass",
                STORE_PASSWORD,
            ]));
        }
        run(Command::new("keytool").current_dir(dir).args([
            "-importkeystore",
            "-noprompt",
            "-srckeystore",
            "client.p12",
            "-srcstoretype",
            "PKCS12",
            "-srcstorepass",
            STORE_PASSWORD,
            "-destkeystore",
            "client.jks",
            "-deststoretype",
            "JKS",
            "-deststorepass",
            STORE_PASSWORD,
        ]));
        Pki {
            dir: dir.to_owned(),
        }
    }

    /// A file of the PKI.
    pub fn path(&self, name: &str) -> String {
        self.dir.join(name).display().to_string()
    }
}

/// A child process killed (and reaped) on drop.
#[derive(Debug)]
pub struct Guard(Child);

impl Drop for Guard {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A free port on 127.0.0.1 (free when asked).
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

fn wait_listening(port: u16, child: &mut Child, what: &str) {
    let deadline = Instant::now() + Duration::from_secs(15);
    while Instant::now() < deadline {
        if TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return;
        }
        if let Ok(Some(status)) = child.try_wait() {
            panic!("{what} exited ({status}) before listening on {port}");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    panic!("{what} did not listen on 127.0.0.1:{port} within 15 s");
}

/// Debian's stunnel with the configuration `conf`, once it listens on 127.0.0.1:`port`.
pub fn stunnel(conf: &Path, port: u16) -> Guard {
    let mut child = Command::new("stunnel")
        .arg(conf)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start stunnel (apt-get install stunnel4)");
    wait_listening(port, &mut child, "stunnel");
    Guard(child)
}

/// The tansu binary: `SUPPORT_METRICS_TANSU`, else where `ci/tansu.sh` installs it.
pub fn tansu_bin() -> PathBuf {
    std::env::var_os("SUPPORT_METRICS_TANSU")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/var/cache/support-metrics/tansu-0.6.0/bin/tansu"))
}

/// How clients reach the test broker.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Front {
    /// Straight to tansu.
    Plain,
    /// Through stunnel: TLS with the server certificate.
    Tls,
    /// Through stunnel: TLS, and a client certificate signed by the CA is required.
    MutualTls,
}

/// A tansu broker, perhaps behind stunnel, perhaps requiring SASL (SCRAM).
#[derive(Debug)]
pub struct SecuredBroker {
    /// The port clients connect to (stunnel's when in front).
    pub port: u16,
    _guards: Vec<Guard>,
}

impl SecuredBroker {
    /// Starts tansu (storing in `dir`) with `front` before it; with `scram_user` =
    /// `(mechanism, name, password)` (`scram256` or `scram512`), the user is created first
    /// and the broker then requires SASL.
    pub fn start(
        dir: &Path,
        pki: &Pki,
        front: Front,
        scram_user: Option<(&str, &str, &str)>,
    ) -> SecuredBroker {
        let tansu_port = free_port();
        let port = if front == Front::Plain {
            tansu_port
        } else {
            free_port()
        };
        let db = "tansu.db";
        let spawn = |authenticate: bool| {
            let mut c = Command::new(tansu_bin());
            c.current_dir(dir)
                .args(["broker", "--listener-url"])
                .arg(format!("tcp://127.0.0.1:{tansu_port}"))
                .arg("--advertised-listener-url")
                .arg(format!("tcp://127.0.0.1:{port}"))
                .arg("--storage-engine")
                .arg(format!("sqlite://{db}"))
                .stdout(Stdio::null())
                .stderr(Stdio::null());
            if authenticate {
                c.arg("--authentication");
            }
            let mut child = c.spawn().expect("start tansu (ci/tansu.sh install)");
            wait_listening(tansu_port, &mut child, "tansu");
            Guard(child)
        };
        let mut guards = Vec::new();
        match scram_user {
            Some((mechanism, user, password)) => {
                let first = spawn(false);
                run(Command::new(tansu_bin())
                    .args([
                        "user",
                        "create",
                        "--broker",
                        &format!("tcp://127.0.0.1:{tansu_port}"),
                        "--mechanism",
                        mechanism,
                        user,
                        password,
                    ])
                    .stdout(Stdio::null()));
                drop(first);
                guards.push(spawn(true));
            }
            None => guards.push(spawn(false)),
        }
        if front != Front::Plain {
            let verify = if front == Front::MutualTls {
                format!("verify = 2\nCAfile = {}\n", pki.path("ca.pem"))
            } else {
                String::new()
            };
            let conf = dir.join("stunnel.conf");
            std::fs::write(
                &conf,
                format!(
                    "foreground = yes\npid =\ndebug = 3\n[kafka]\naccept = 127.0.0.1:{port}\nconnect = 127.0.0.1:{tansu_port}\ncert = {}\nkey = {}\n{verify}",
                    pki.path("server.pem"),
                    pki.path("server.key")
                ),
            )
            .unwrap();
            guards.push(stunnel(&conf, port));
        }
        SecuredBroker {
            port,
            _guards: guards,
        }
    }

    /// `127.0.0.1:PORT`.
    pub fn address(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }
}
