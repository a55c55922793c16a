//! What `run`, `once` and `preview` share: reading the config and deciding the spool, trust
//! store, sinks and facts.

use std::path::{Path, PathBuf};
use std::time::Duration;

use support_metrics_core::config::{Key, Source, SupportConfig};
use support_metrics_core::reporter::{ReporterConfig, Run, RunMode, Sink};
use support_metrics_http::trust::{ca_certificates, install_extra_roots};
use support_metrics_http::{HttpClient, HttpEndpoints};
use support_metrics_linux::broker::{find_process, listener_up, token_key, BrokerProcess, Watch};
use support_metrics_linux::client::{connect, Connection};
use support_metrics_linux::customer::{CustomerSource, ReadCluster};
use support_metrics_linux::driver::StaticFacts;
use support_metrics_linux::facts::broker_id;
use support_metrics_linux::kafka::{ClusterInfo, KafkaTopic};
use support_metrics_linux::log::Log;
use support_metrics_linux::properties_file::{FileError, PropertiesFile};
use support_metrics_linux::sinks::{HttpSink, TopicSink};
use support_metrics_linux::spool::{Spool, QUARANTINE_DIR};
use support_metrics_linux::versions::{candidates, find, Versions};

use crate::egress;
use crate::Broker;

/// Everything decided before the first report, each fact computed once.
pub(crate) struct Setup {
    /// The config file as given.
    pub(crate) path: PathBuf,
    /// How the broker is watched.
    pub(crate) watch: Watch,
    file: PropertiesFile,
    pub(crate) config: SupportConfig,
    pub(crate) reporter: ReporterConfig,
    pub(crate) spool_dir: PathBuf,
    pub(crate) facts: StaticFacts,
    /// The broker's versions and where they were found.
    pub(crate) versions: Versions,
    /// The broker's process when the settings were read, if it ran.
    process: Option<BrokerProcess>,
    pub(crate) do_not_track: bool,
    /// Where and how the Kafka clients connect, or why that cannot be decided.
    pub(crate) connection: Result<Connection, String>,
    /// What the config builder warned about, for the caller to show.
    pub(crate) warnings: Vec<String>,
    pub(crate) log: Log,
}

impl Setup {
    /// Reads the broker's config (errors carry their exit codes) and decides the rest for a
    /// run in `mode`.
    pub(crate) fn new(broker: &Broker, mode: RunMode) -> anyhow::Result<Setup> {
        let (path, kafka_home) = (broker.config(), broker.kafka_home.as_deref());
        let watch = broker.watch();
        let log = Log::from_env();
        let file = PropertiesFile::read(path)?;
        let (config, warnings) = file.config()?;
        let do_not_track = do_not_track();
        let mut reporter = ReporterConfig::new(&config, Run { mode, do_not_track });
        reporter.watch_broker = watch != Watch::None;
        if let Some(home) = kafka_home.filter(|h| !h.exists()) {
            let missing = std::io::Error::new(std::io::ErrorKind::NotFound, "no such directory");
            return Err(FileError::Unreadable(home.to_owned(), missing).into());
        }
        // On a short-lived thread, like the config parse: scanning /proc and a jar's central
        // directory allocates for a moment, and what the main heap allocates meanwhile would
        // pin that memory for the daemon's whole life.
        // The connection too: reading key stores allocates as much.
        let (versions, process, connection) = std::thread::scope(|s| {
            s.spawn(|| {
                let process = find_process(path);
                let classpath = process.as_ref().map(|p| p.classpath.as_slice());
                let versions = find(&candidates(path, kafka_home, classpath.unwrap_or_default()));
                let connection = connect(Some(&file), config.bootstrap_servers(), Vec::new());
                (versions, process, connection)
            })
            .join()
        })
        .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
        let facts = StaticFacts {
            kafka_version: versions.kafka.clone(),
            platform_version: versions.platform.clone(),
        };
        let spool_dir = spool_dir(&config, path);
        // Every command refuses what `once` would: a topic that cannot be reached as
        // configured is a config error before anything runs.
        if let Err(e) = &connection {
            let sinks = reporter.sinks();
            if sinks.contains(Sink::Topic) || (watch == Watch::Listener && !sinks.is_empty()) {
                return Err(FileError::Client(e.clone()).into());
            }
        }
        if let Some(ca) = config.endpoint_ca_file() {
            // Before anything is created or sent, and for `config` too.
            ca_certificates(Path::new(ca)).map_err(|e| {
                let line = match config.source(Key::EndpointCaFile) {
                    Source::Line(n) => format!("line {n}: "),
                    Source::Default => String::new(),
                };
                FileError::Invalid(
                    path.to_owned(),
                    format!("{line}{}: {e}", Key::EndpointCaFile),
                )
            })?;
        }
        Ok(Setup {
            path: path.to_owned(),
            watch,
            file,
            config,
            reporter,
            spool_dir,
            facts,
            versions,
            process,
            do_not_track,
            connection,
            warnings,
            log,
        })
    }

    /// Logs the config's warnings, and a Kafka version that could not be found (the `config`
    /// command prints them itself).
    pub(crate) fn log_warnings(&self) {
        self.log_config_warnings();
        if let Some(w) = self.version_warning() {
            self.log.warn(&w);
        }
    }

    /// Logs the config's warnings and the client settings left out (not the Kafka version).
    pub(crate) fn log_config_warnings(&self) {
        for w in &self.warnings {
            self.log
                .warn(&format!("{}: {w}", self.file.path().display()));
        }
        for note in self.connection_notes() {
            self.log.warn(note);
        }
    }

    /// Client settings left out, each with why.
    pub(crate) fn connection_notes(&self) -> &[String] {
        self.connection.as_ref().map_or(&[], |c| c.notes.as_slice())
    }

    /// Why the Kafka version is unknown, and where it was looked for.
    pub(crate) fn version_warning(&self) -> Option<String> {
        // Nothing is reported: the version does not matter.
        (!self.versions.found() && self.reporter.enabled).then(|| {
            let searched: Vec<String> = self
                .versions
                .searched
                .iter()
                .map(|p| p.display().to_string())
                .collect();
            format!(
                "the broker's Kafka version is unknown: no kafka-clients jar in {} (give --kafka-home)",
                searched.join(", ")
            )
        })
    }

    /// The file the settings came from.
    pub(crate) fn file(&self) -> &PropertiesFile {
        &self.file
    }

    /// Opens and locks the spool (waiting at most `wait` for another agent to let go) and,
    /// when a CA file is configured, installs the trust bundle. Call before any thread starts.
    pub(crate) fn open_spool(&self, wait: Duration) -> anyhow::Result<Spool> {
        let spool = Spool::open(&self.spool_dir, wait)?;
        for refused in spool.quarantined() {
            self.log.warn(&format!(
                "spool {}: {} is not a record of this agent ({}); moved to {}/ and never sent",
                self.spool_dir.display(),
                refused.name,
                refused.why,
                QUARANTINE_DIR
            ));
        }
        for stranger in spool.strangers() {
            self.log
                .warn(&format!("spool: ignoring {}", stranger.display()));
        }
        if let Some(ca) = self.config.endpoint_ca_file() {
            if self.http_on() {
                let installed = install_extra_roots(Path::new(ca), &self.spool_dir)?;
                self.log.debug(&format!(
                    "trusting {} system roots plus {} from {ca}",
                    installed.system_roots, installed.extra_roots
                ));
            }
        }
        Ok(spool)
    }

    fn http_on(&self) -> bool {
        self.reporter.sinks().contains(Sink::Http)
    }

    /// The connection, or the config error that says why there is none.
    fn connection_or_error(&self) -> Result<&Connection, FileError> {
        self.connection
            .as_ref()
            .map_err(|e| FileError::Client(e.clone()))
    }

    /// The topic side, if on. A setting librdkafka refuses is a config error.
    pub(crate) fn topic(&self) -> Result<Option<Box<dyn TopicSink>>, FileError> {
        let Some(topic) = self
            .config
            .topic()
            .filter(|_| self.reporter.sinks().contains(Sink::Topic))
        else {
            return Ok(None);
        };
        let connection = self.connection_or_error()?;
        let sink = KafkaTopic::new(connection, topic, self.log).map_err(|e| {
            FileError::Invalid(
                self.file.path().to_owned(),
                format!("{e} (check the confluent.support.metrics.client.* settings)"),
            )
        })?;
        Ok(Some(Box::new(sink)))
    }

    /// Facts for customer records, when a valid customer ID is configured.
    pub(crate) fn customer_source(&self) -> Option<CustomerSource> {
        if !self.reporter.customer {
            return None;
        }
        let cluster = self
            .connection
            .as_ref()
            .map_err(Clone::clone)
            .and_then(ClusterInfo::new);
        let get = |key: &str| self.file.get(key).map(str::to_owned);
        Some(CustomerSource {
            customer_id: self.config.customer_id().to_owned(),
            broker_id: broker_id(get),
            broker_configuration: self
                .file
                .entries()
                .iter()
                .map(|e| (e.key.clone(), e.value.clone()))
                .collect(),
            cluster: cluster.map(|c| Box::new(c) as Box<dyn ReadCluster>),
        })
    }

    /// The HTTP side, if on.
    pub(crate) fn http(&self, timeout: Duration) -> Option<Box<dyn HttpSink>> {
        if !self.http_on() {
            return None;
        }
        // The client needs the password that `redacted()` hides: rebuild the URL from its parts.
        let proxy = self.config.proxy().map(|p| {
            let auth = p.userinfo.map(|u| format!("{u}@")).unwrap_or_default();
            let port = p.port.map(|p| format!(":{p}")).unwrap_or_default();
            format!("http://{auth}{}{port}", p.host)
        });
        let no_proxy = std::env::var("NO_PROXY")
            .or_else(|_| std::env::var("no_proxy"))
            .ok();
        Some(Box::new(HttpEndpoints {
            client: HttpClient::new(proxy.as_deref(), no_proxy.as_deref(), timeout),
            secure: self.config.secure_endpoint().map(str::to_owned),
            insecure: self.config.insecure_endpoint().map(str::to_owned),
        }))
    }

    /// The broker if it runs now, as the watch mode sees it; `Up::Always` unwatched. In
    /// listener mode the metadata client is made once and kept in `client` between looks.
    pub(crate) fn find_broker(&self, client: &mut Option<ClusterInfo>) -> Option<Up> {
        match self.watch {
            Watch::None => Some(Up::Always),
            // The process seen when the settings were read, while it runs; else a new look.
            Watch::Process => match &self.process {
                Some(p) if p.alive() => Some(Up::Process(p.clone())),
                _ => find_process(&self.path).map(Up::Process),
            },
            Watch::Listener => {
                let id = self.broker_id()?;
                let cluster = match client.take() {
                    Some(c) => c,
                    None => self.listener_client()?,
                };
                if listener_up(&cluster, id) {
                    return Some(Up::Listener(cluster, id));
                }
                *client = Some(cluster);
                None
            }
        }
    }

    /// `broker.id` (or `node.id`) from the config.
    pub(crate) fn broker_id(&self) -> Option<i32> {
        let get = |key: &str| self.file.get(key).map(str::to_owned);
        i32::try_from(broker_id(get)?).ok()
    }

    /// A metadata client for the broker's own listener.
    fn listener_client(&self) -> Option<ClusterInfo> {
        ClusterInfo::new(self.connection.as_ref().ok()?).ok()
    }

    /// The entropy of the token of the broker run `up`: derived from its process (with the
    /// key in the spool, made when `create_key`), random otherwise.
    pub(crate) fn run_entropy(&self, up: &Up, create_key: bool) -> std::io::Result<[u8; 16]> {
        let mut random = [0u8; 16];
        match up {
            Up::Process(p) => match token_key(&self.spool_dir, create_key) {
                Ok(key) => return Ok(p.token_entropy(&key)),
                // `preview` makes no key: its token is a stand-in.
                Err(_) if !create_key => {}
                Err(e) => return Err(e),
            },
            Up::Listener(..) | Up::Always => {}
        }
        support_metrics_linux::driver::os_random(&mut random)?;
        Ok(random)
    }

    /// The startup line: exactly what leaves this machine.
    pub(crate) fn egress(&self) -> String {
        format!("reporting {}", egress::describe(self))
    }
}

/// A broker found running.
pub(crate) enum Up {
    /// Its process.
    Process(BrokerProcess),
    /// Its listener answers and it is registered: the client that saw it, and its id.
    Listener(ClusterInfo, i32),
    /// Not watched.
    Always,
}

/// `DO_NOT_TRACK` set to anything but empty, `0` or `false`.
pub(crate) fn do_not_track() -> bool {
    std::env::var("DO_NOT_TRACK")
        .is_ok_and(|v| !matches!(v.trim().to_ascii_lowercase().as_str(), "" | "0" | "false"))
}

/// The spool directory of `broker`'s config, without deciding anything else (for `history`
/// and `status`, which read what the daemon left).
pub(crate) fn spool_dir_of(broker: &Broker) -> anyhow::Result<PathBuf> {
    let file = PropertiesFile::read(broker.config())?;
    let (config, _) = file.config()?;
    Ok(spool_dir(&config, broker.config()))
}

/// Where the service keeps its state, and so the one spool every command shares.
const STATE_HOME: &str = "/var/lib/support-metrics";

/// The spool directory, always absolute, the same for the service and by hand:
/// `confluent.support.metrics.spool.dir` (a relative one against the config file's
/// directory), else systemd's `$STATE_DIRECTORY/spool`, else `/var/lib/support-metrics/spool`
/// when that directory exists or can be made, else `support-metrics-spool` next to the config.
fn spool_dir(config: &SupportConfig, config_path: &Path) -> PathBuf {
    let config_dir = std::path::absolute(config_path)
        .ok()
        .and_then(|p| p.parent().map(Path::to_path_buf))
        .unwrap_or_else(|| PathBuf::from("/"));
    if let Some(dir) = config.spool_dir() {
        return config_dir.join(dir);
    }
    if let Some(state) = std::env::var_os("STATE_DIRECTORY").filter(|s| !s.is_empty()) {
        let first = std::env::split_paths(&state).next().unwrap_or_default();
        return config_dir.join(first).join("spool");
    }
    let home = Path::new(STATE_HOME);
    if home.is_dir() || can_create_in(Path::new("/var/lib")) {
        return home.join("spool");
    }
    config_dir.join("support-metrics-spool")
}

/// Whether this process may make a directory in `parent` (by its owner and mode: root, its
/// owner with write permission, or anyone when world-writable), without trying.
fn can_create_in(parent: &Path) -> bool {
    use std::os::unix::fs::MetadataExt;
    let (Ok(dir), Ok(me)) = (std::fs::metadata(parent), std::fs::metadata("/proc/self")) else {
        return false;
    };
    dir.is_dir()
        && (me.uid() == 0
            || (dir.uid() == me.uid() && dir.mode() & 0o200 != 0)
            || dir.mode() & 0o002 != 0)
}
