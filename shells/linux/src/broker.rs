//! The broker this agent serves, as the shell observes it: its process (`/proc`), or its
//! listener and registration in the cluster; and the token of a broker run.
//!
//! The token of a run is derived, not stored: HMAC-SHA256 of the broker process's identity
//! (the boot ID, its pid and its start time) under a random key kept in the spool
//! (`broker-token.key`, mode 0600). Every command of the agent, and an agent restarted while
//! the broker runs on, so makes the same token for one broker run, and a new one for the next;
//! nothing about the token itself is written anywhere, and without the key the token says
//! nothing about the process.

use std::fs::OpenOptions;
use std::io::{Read, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use std::sync::mpsc::Sender;

use sha2::{Digest, Sha256};

use crate::driver::Msg;
use crate::kafka::ClusterInfo;
use crate::spool::TOKEN_KEY;

/// How the agent knows whether its broker runs.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Watch {
    /// The broker's process on this host (`kafka.Kafka` with this config file): the normal
    /// host install.
    #[default]
    Process,
    /// The broker's listener and its registration in the cluster metadata: for an agent in a
    /// container that cannot see the broker's processes.
    Listener,
    /// Not watched: the agent's run is the broker's run.
    None,
}

impl Watch {
    /// `process`, `listener` or `none`.
    pub fn parse(s: &str) -> Option<Watch> {
        match s {
            "process" => Some(Watch::Process),
            "listener" => Some(Watch::Listener),
            "none" => Some(Watch::None),
            _ => None,
        }
    }

    /// The name `parse` takes.
    pub fn name(self) -> &'static str {
        match self {
            Watch::Process => "process",
            Watch::Listener => "listener",
            Watch::None => "none",
        }
    }
}

/// A running broker process.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BrokerProcess {
    /// Its pid.
    pub pid: u32,
    /// Its start time, in clock ticks since boot: with the pid, the process's identity.
    pub start: u64,
    /// Its classpath (`-cp`), entries as given.
    pub classpath: Vec<PathBuf>,
}

impl BrokerProcess {
    /// Whether this very process still runs (not another one with its pid).
    pub fn alive(&self) -> bool {
        start_time(self.pid) == Some(self.start)
    }

    /// 16 bytes for the token of this broker run: the same for every look at the same
    /// process with the same `key`, another for any other process.
    pub fn token_entropy(&self, key: &[u8; 32]) -> [u8; 16] {
        let boot = std::fs::read_to_string("/proc/sys/kernel/random/boot_id").unwrap_or_default();
        let identity = format!("{}|{}|{}", boot.trim(), self.pid, self.start);
        let mac = hmac_sha256(key, identity.as_bytes());
        let mut out = [0u8; 16];
        out.copy_from_slice(&mac[..16]);
        out
    }
}

/// The process running the broker with `config`: a JVM whose command line runs `kafka.Kafka`
/// (or Confluent's `io.confluent.support.metrics.SupportedKafka`) with this config file,
/// paths compared after resolving them. `None` when no such process is visible.
pub fn find_process(config: &Path) -> Option<BrokerProcess> {
    let config = std::fs::canonicalize(config).ok()?;
    for entry in std::fs::read_dir("/proc").ok()?.filter_map(Result::ok) {
        let Some(pid) = entry
            .file_name()
            .to_str()
            .and_then(|p| p.parse::<u32>().ok())
        else {
            continue;
        };
        let Ok(cmdline) = std::fs::read(format!("/proc/{pid}/cmdline")) else {
            continue;
        };
        let args: Vec<String> = cmdline
            .split(|&b| b == 0)
            .map(|a| String::from_utf8_lossy(a).into_owned())
            .collect();
        if let Some(classpath) = broker_args(&args, &config) {
            let start = start_time(pid)?;
            return Some(BrokerProcess {
                pid,
                start,
                classpath,
            });
        }
    }
    None
}

/// The classpath in `args` if they run a broker with `config`.
pub(crate) fn broker_args(args: &[String], config: &Path) -> Option<Vec<PathBuf>> {
    let main = args
        .iter()
        .position(|a| a == "kafka.Kafka" || a == "io.confluent.support.metrics.SupportedKafka")?;
    let runs_config = args[main + 1..]
        .iter()
        .any(|a| std::fs::canonicalize(a).is_ok_and(|p| p == config));
    if !runs_config {
        return None;
    }
    let cp = args[..main]
        .windows(2)
        .find(|w| w[0] == "-cp" || w[0] == "-classpath")
        .map(|w| w[1].clone())
        .unwrap_or_default();
    Some(
        cp.split(':')
            .filter(|s| !s.is_empty())
            .map(PathBuf::from)
            .collect(),
    )
}

/// Field 22 of `/proc/<pid>/stat` (start time, clock ticks since boot); the command name
/// before it may hold spaces and parentheses, so fields are counted after its last `)`.
fn start_time(pid: u32) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let rest = &stat[stat.rfind(')')? + 1..];
    rest.split_whitespace().nth(19)?.parse().ok()
}

/// The key tokens are derived with: `dir/broker-token.key`, made (32 random bytes, mode
/// 0600, never following a link) when missing.
pub fn token_key(dir: &Path, create: bool) -> std::io::Result<[u8; 32]> {
    let path = dir.join(TOKEN_KEY);
    let mut key = [0u8; 32];
    match OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NOFOLLOW)
        .open(&path)
    {
        Ok(mut f) => {
            f.read_exact(&mut key)
                .map_err(|e| std::io::Error::new(e.kind(), format!("{}: {e}", path.display())))?;
            return Ok(key);
        }
        Err(e) if e.kind() != std::io::ErrorKind::NotFound || !create => {
            return Err(std::io::Error::new(
                e.kind(),
                format!("{}: {e}", path.display()),
            ))
        }
        Err(_) => {}
    }
    crate::driver::os_random(&mut key)?;
    let mut f = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .custom_flags(libc::O_NOFOLLOW)
        .open(&path)?;
    f.write_all(&key)?;
    f.sync_all()?;
    Ok(key)
}

/// Watches `process` on a thread of its own: once it is gone, `BrokerGone` goes to `tx`.
/// Checked every `every`; the thread ends with the process or the loop.
pub fn watch_process(process: BrokerProcess, every: std::time::Duration, tx: Sender<Msg>) {
    std::thread::spawn(move || loop {
        std::thread::sleep(every);
        if !process.alive() {
            let _ = tx.send(Msg::BrokerGone);
            return;
        }
    });
}

/// Whether the broker with `id` answers on its listener and is registered (listener mode).
pub fn listener_up(cluster: &ClusterInfo, id: i32) -> bool {
    cluster
        .has_broker(id, std::time::Duration::from_secs(2))
        .unwrap_or(false)
}

/// Watches the broker with `id` through `cluster` (listener mode): once it has been missing
/// from the metadata (or the cluster unreadable) `misses` checks in a row, `BrokerGone` goes
/// to `tx`.
pub fn watch_listener(
    cluster: ClusterInfo,
    id: i32,
    every: std::time::Duration,
    misses: u32,
    tx: Sender<Msg>,
) {
    std::thread::spawn(move || {
        let mut missed = 0;
        loop {
            std::thread::sleep(every);
            missed = if listener_up(&cluster, id) {
                0
            } else {
                missed + 1
            };
            if missed >= misses {
                let _ = tx.send(Msg::BrokerGone);
                return;
            }
        }
    });
}

/// HMAC-SHA256 (RFC 2104) of `message` under a 32-byte key.
fn hmac_sha256(key: &[u8; 32], message: &[u8]) -> [u8; 32] {
    let mut inner = Sha256::new();
    let mut outer = Sha256::new();
    let mut ipad = [0x36u8; 64];
    let mut opad = [0x5cu8; 64];
    for (i, k) in key.iter().enumerate() {
        ipad[i] ^= k;
        opad[i] ^= k;
    }
    inner.update(ipad);
    inner.update(message);
    outer.update(opad);
    outer.update(inner.finalize());
    outer.finalize().into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hmac_matches_rfc_4231_shape() {
        // RFC 4231 test case 2 uses a 4-byte key; with our 32-byte keys, check the
        // construction against a key padded with zeros, which HMAC defines as the same key.
        let mut key = [0u8; 32];
        key[..4].copy_from_slice(b"Jefe");
        let mac = hmac_sha256(&key, b"what do ya want for nothing?");
        let hex: String = mac.iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(
            hex,
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }

    #[test]
    fn this_process_has_a_stable_identity_and_token() {
        let me = BrokerProcess {
            pid: std::process::id(),
            start: start_time(std::process::id()).unwrap(),
            classpath: Vec::new(),
        };
        assert!(me.alive());
        let key = [7u8; 32];
        assert_eq!(me.token_entropy(&key), me.token_entropy(&key));
        let other = BrokerProcess {
            start: me.start + 1,
            ..me.clone()
        };
        assert!(!other.alive());
        assert_ne!(me.token_entropy(&key), other.token_entropy(&key));
        assert_ne!(me.token_entropy(&key), me.token_entropy(&[8u8; 32]));
    }

    #[test]
    fn a_broker_process_is_recognised_by_main_class_and_config() {
        let root = std::env::temp_dir().join(format!("sm-broker-args-{}", std::process::id()));
        std::fs::create_dir_all(&root).unwrap();
        let cfg = root.join("server.properties");
        std::fs::write(&cfg, "broker.id=0\n").unwrap();
        let other = root.join("other.properties");
        std::fs::write(&other, "broker.id=1\n").unwrap();
        let cfg = std::fs::canonicalize(&cfg).unwrap();
        let args = |main: &str, conf: &Path| -> Vec<String> {
            [
                "java",
                "-Xmx1G",
                "-cp",
                "/opt/kafka/libs/*:/opt/extra.jar",
                main,
            ]
            .iter()
            .map(|s| s.to_string())
            .chain([conf.display().to_string()])
            .collect()
        };
        let cp = broker_args(&args("kafka.Kafka", &cfg), &cfg).unwrap();
        assert_eq!(
            cp,
            [
                PathBuf::from("/opt/kafka/libs/*"),
                PathBuf::from("/opt/extra.jar")
            ]
        );
        let supported = args("io.confluent.support.metrics.SupportedKafka", &cfg);
        assert!(broker_args(&supported, &cfg).is_some());
        assert!(broker_args(&args("kafka.Kafka", &other), &cfg).is_none());
        assert!(broker_args(&args("org.example.Main", &cfg), &cfg).is_none());
    }

    #[test]
    fn the_key_is_made_once_and_private() {
        use std::os::unix::fs::PermissionsExt;
        let dir = std::env::temp_dir().join(format!("sm-token-key-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        assert!(token_key(&dir, false).is_err(), "not made unless asked");
        let key = token_key(&dir, true).unwrap();
        assert_eq!(token_key(&dir, false).unwrap(), key);
        let mode = std::fs::metadata(dir.join(TOKEN_KEY))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }
}
