//! The broker's versions as the broker itself reports them. Kafka's `AppInfoParser` reads
//! `kafka/kafka-version.properties` from the kafka-clients jar; so does this module, from the
//! jar the broker runs: found on the classpath of the broker's process when it is visible,
//! else in the installation layouts (Apache Kafka's `libs/`, Confluent Platform's
//! `share/java/kafka/`, CP packages' `/usr/share/java/kafka/`), and from jar names as the
//! last resort. A version such as `7.6.1-ccs` or `7.6.1-ce` is Confluent Platform's: its
//! release (`7.6.1`) is the platform version; any other broker has none. The broker's
//! process is found by [`broker::find_process`](crate::broker::find_process).

use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

use support_metrics_core::properties::PropertiesParser;
use support_metrics_core::wire::MAX_VERSION_LEN;

/// What the record says when the Kafka version cannot be found.
pub const UNKNOWN: &str = "unknown";

/// The entry of the kafka-clients jar that holds the version.
const VERSION_ENTRY: &str = "kafka/kafka-version.properties";

/// The broker's versions and where they came from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Versions {
    /// `kafkaVersion`: as the broker reports it, or [`UNKNOWN`].
    pub kafka: String,
    /// `confluentPlatformVersion`: the Confluent Platform release, `None` for other brokers.
    pub platform: Option<String>,
    /// Where the Kafka version was read, for `config` and the startup line.
    pub source: String,
    /// The directories searched, for the warning when nothing was found.
    pub searched: Vec<PathBuf>,
}

impl Versions {
    /// Whether the Kafka version was found.
    pub fn found(&self) -> bool {
        self.kafka != UNKNOWN
    }
}

/// The jar directories for a broker using `config`: the `classpath` of its process first
/// (entries `dir/*` and jars), then `kafka_home` (an installation root or its jar directory),
/// then the layouts around the config file.
pub fn candidates(config: &Path, kafka_home: Option<&Path>, classpath: &[PathBuf]) -> Vec<PathBuf> {
    let mut dirs: Vec<PathBuf> = Vec::new();
    let mut add = |d: PathBuf| {
        if !dirs.contains(&d) {
            dirs.push(d);
        }
    };
    for entry in classpath {
        if entry.file_name().is_some_and(|n| n == "*") {
            if let Some(p) = entry.parent() {
                add(p.to_owned());
            }
        } else if entry.extension().is_some_and(|e| e == "jar") {
            add(entry.clone());
        }
    }
    if let Some(home) = kafka_home {
        for d in [
            home.to_owned(),
            home.join("libs"),
            home.join("share/java/kafka"),
        ] {
            add(d);
        }
    }
    let absolute = std::path::absolute(config).unwrap_or_else(|_| config.to_owned());
    // config/server.properties, config/kraft/server.properties, etc/kafka/server.properties:
    // the installation is one to three levels up.
    for ancestor in absolute.ancestors().skip(1).take(3) {
        add(ancestor.join("libs"));
        add(ancestor.join("share/java/kafka"));
    }
    if absolute.starts_with("/etc/kafka") {
        add(PathBuf::from("/usr/share/java/kafka"));
    }
    dirs
}

/// The versions found in `dirs` (directories of jars, or jars), in order.
pub fn find(dirs: &[PathBuf]) -> Versions {
    let searched = dirs.to_vec();
    for dir in dirs {
        let jars: Vec<PathBuf> = if dir.is_file() {
            vec![dir.clone()]
        } else {
            let Ok(entries) = std::fs::read_dir(dir) else {
                continue;
            };
            let mut jars: Vec<PathBuf> = entries
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| is_clients_jar(p))
                .collect();
            jars.sort();
            jars
        };
        for jar in jars.iter().filter(|j| is_clients_jar(j)) {
            if let Some(v) = version_in_jar(jar) {
                return versions(v, format!("{} ({VERSION_ENTRY})", jar.display()), searched);
            }
        }
    }
    // The last resort: a version in a jar's name.
    for dir in dirs.iter().filter(|d| d.is_dir()) {
        if let Some((v, jar)) = version_from_names(dir) {
            return versions(v, format!("the name of {}", jar.display()), searched);
        }
    }
    Versions {
        kafka: UNKNOWN.to_owned(),
        platform: None,
        source: "not found".to_owned(),
        searched,
    }
}

fn versions(kafka: String, source: String, searched: Vec<PathBuf>) -> Versions {
    Versions {
        platform: platform_release(&kafka),
        kafka,
        source,
        searched,
    }
}

/// The Confluent Platform release in a CP Kafka version: `7.6.1-ccs` and `7.6.1-ce` give
/// `7.6.1`; Apache Kafka versions give `None`.
pub fn platform_release(kafka: &str) -> Option<String> {
    ["-ccs", "-ce"]
        .iter()
        .find_map(|suffix| kafka.strip_suffix(suffix))
        .filter(|release| valid(release))
        .map(str::to_owned)
}

fn is_clients_jar(path: &Path) -> bool {
    path.file_name()
        .and_then(|n| n.to_str())
        .and_then(|n| n.strip_prefix("kafka-clients-"))
        .and_then(|n| n.strip_suffix(".jar"))
        .is_some_and(valid)
}

/// A version string: ASCII letters, digits, `.` and `-`, starting with a digit, at most 64
/// bytes; not a sources, test or javadoc jar's suffix.
fn valid(v: &str) -> bool {
    !v.is_empty()
        && v.len() <= MAX_VERSION_LEN
        && v.starts_with(|c: char| c.is_ascii_digit())
        && v.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'-')
        && !["-sources", "-test", "-javadoc", "-test-sources"]
            .iter()
            .any(|s| v.ends_with(s))
}

/// `kafka_<scala>-<version>.jar` (the broker) first, else `kafka-clients-<version>.jar`.
fn version_from_names(dir: &Path) -> Option<(String, PathBuf)> {
    let mut broker = None;
    let mut clients = None;
    for entry in std::fs::read_dir(dir).ok()?.filter_map(Result::ok) {
        let path = entry.path();
        let Some(name) = path
            .file_name()
            .and_then(|n| n.to_str())
            .and_then(|n| n.strip_suffix(".jar"))
        else {
            continue;
        };
        if let Some((_, v)) = name.strip_prefix("kafka_").and_then(|r| r.split_once('-')) {
            if broker.is_none() && valid(v) {
                broker = Some((v.to_owned(), path.clone()));
            }
        } else if let Some(v) = name.strip_prefix("kafka-clients-") {
            if clients.is_none() && valid(v) {
                clients = Some((v.to_owned(), path.clone()));
            }
        }
    }
    broker.or(clients)
}

/// The `version` of `kafka/kafka-version.properties` inside `jar`. Reads the zip's central
/// directory a record at a time (a kafka-clients jar has thousands of entries; none is
/// kept) and inflates only that entry.
pub fn version_in_jar(jar: &Path) -> Option<String> {
    let mut file = File::open(jar).ok()?;
    let bytes = read_entry(&mut file, VERSION_ENTRY, 64 * 1024)?;
    let mut parser = PropertiesParser::<1024>::new();
    let mut input = bytes.as_slice();
    let mut version = None;
    while let Ok(Some(p)) = parser.next(&mut input) {
        if p.key == "version" {
            version = Some(p.value.trim().to_owned());
        }
    }
    if let Ok(Some(p)) = parser.finish() {
        if p.key == "version" {
            version = Some(p.value.trim().to_owned());
        }
    }
    version.filter(|v| valid(v))
}

/// The bytes of entry `name` of the zip in `file`, if it is there, stored or deflated, and
/// at most `max` bytes.
fn read_entry(file: &mut File, name: &str, max: u64) -> Option<Vec<u8>> {
    let len = file.seek(SeekFrom::End(0)).ok()?;
    // The end of central directory record: 22 bytes, plus a comment of up to 64 KiB. Jars
    // have none or a short one: 1 KiB is read first, the whole range only if needed (this
    // runs in a daemon whose peak memory counts).
    let (tail, eocd) = [1024, 22 + 65_535].into_iter().find_map(|want: u64| {
        let tail_len = len.min(want);
        file.seek(SeekFrom::Start(len - tail_len)).ok()?;
        let mut tail = vec![0; tail_len as usize];
        file.read_exact(&mut tail).ok()?;
        let eocd = tail.windows(4).rposition(|w| w == b"PK\x05\x06")?;
        Some((tail, eocd))
    })?;
    let u16_at = |b: &[u8], i: usize| Some(u16::from_le_bytes(b.get(i..i + 2)?.try_into().ok()?));
    let u32_at = |b: &[u8], i: usize| Some(u32::from_le_bytes(b.get(i..i + 4)?.try_into().ok()?));
    let entries = u16_at(&tail, eocd + 10)?;
    let directory = u64::from(u32_at(&tail, eocd + 16)?);
    file.seek(SeekFrom::Start(directory)).ok()?;
    let mut reader = std::io::BufReader::with_capacity(8192, &mut *file);
    let mut header = [0u8; 46];
    let mut found = None;
    for _ in 0..entries {
        reader.read_exact(&mut header).ok()?;
        if u32_at(&header, 0)? != 0x0201_4b50 {
            return None;
        }
        let method = u16_at(&header, 10)?;
        let compressed = u32_at(&header, 20)?;
        let size = u32_at(&header, 24)?;
        let (n, m, k) = (
            usize::from(u16_at(&header, 28)?),
            u64::from(u16_at(&header, 30)?),
            u64::from(u16_at(&header, 32)?),
        );
        let local = u32_at(&header, 42)?;
        let mut entry_name = vec![0; n];
        reader.read_exact(&mut entry_name).ok()?;
        reader.seek_relative((m + k) as i64).ok()?;
        if entry_name == name.as_bytes() {
            found = Some((
                method,
                u64::from(compressed),
                u64::from(size),
                u64::from(local),
            ));
            break;
        }
    }
    drop(reader);
    let (method, compressed, size, local) = found?;
    if size > max || compressed > max {
        return None;
    }
    let mut local_header = [0u8; 30];
    file.seek(SeekFrom::Start(local)).ok()?;
    file.read_exact(&mut local_header).ok()?;
    if u32_at(&local_header, 0)? != 0x0403_4b50 {
        return None;
    }
    let skip = u64::from(u16_at(&local_header, 26)?) + u64::from(u16_at(&local_header, 28)?);
    file.seek(SeekFrom::Current(skip as i64)).ok()?;
    let mut data = vec![0; compressed as usize];
    file.read_exact(&mut data).ok()?;
    match method {
        0 => Some(data),
        8 => {
            let mut out = Vec::with_capacity(size as usize);
            flate2::read::DeflateDecoder::new(data.as_slice())
                .take(max)
                .read_to_end(&mut out)
                .ok()?;
            Some(out)
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests;
