//! What `run`, `once` and `preview` share: reading the config and deciding the spool, trust
//! store, sinks and facts.

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::Context as _;
use support_metrics_core::config::SupportConfig;
use support_metrics_core::reporter::{ReporterConfig, Sink};
use support_metrics_linux::bootstrap::{bootstrap, Bootstrap};
use support_metrics_linux::customer::CustomerSource;
use support_metrics_linux::driver::{HttpEndpoints, StaticFacts, TopicSink};
use support_metrics_linux::facts::{broker_id, kafka_home_for, kafka_version, UNKNOWN};
use support_metrics_linux::http::HttpClient;
use support_metrics_linux::kafka::{ClusterInfo, KafkaTopic};
use support_metrics_linux::log::Log;
use support_metrics_linux::properties_file::{FileError, PropertiesFile};
use support_metrics_linux::spool::Spool;
use support_metrics_linux::trust::install_extra_roots;

/// Everything decided before the first report.
pub(crate) struct Setup {
    file: PropertiesFile,
    pub(crate) config: SupportConfig,
    pub(crate) reporter: ReporterConfig,
    pub(crate) spool_dir: PathBuf,
    pub(crate) facts: StaticFacts,
    pub(crate) do_not_track: bool,
    pub(crate) log: Log,
}

impl Setup {
    /// Reads `path` (errors carry their exit codes) and decides the rest.
    pub(crate) fn new(path: &Path, kafka_home: Option<&Path>) -> anyhow::Result<Setup> {
        let log = Log::from_env();
        let file = PropertiesFile::read(path)?;
        let (config, warnings) = file.config()?;
        for w in &warnings {
            log.warn(&format!("{}: {w}", path.display()));
        }
        let do_not_track = do_not_track();
        let mut reporter = ReporterConfig::new(&config);
        reporter.do_not_track = do_not_track;
        let home = kafka_home
            .map(Path::to_path_buf)
            .or_else(|| kafka_home_for(path));
        let kafka_version = home
            .as_deref()
            .and_then(kafka_version)
            .unwrap_or_else(|| UNKNOWN.to_owned());
        let facts = StaticFacts {
            kafka_version,
            platform_version: env!("CARGO_PKG_VERSION").to_owned(),
        };
        let spool_dir = spool_dir(&config, path);
        Ok(Setup {
            file,
            config,
            reporter,
            spool_dir,
            facts,
            do_not_track,
            log,
        })
    }

    /// Opens the spool and, when a CA file is configured, installs the trust bundle. Call
    /// before any thread starts.
    pub(crate) fn open_spool(&self) -> anyhow::Result<Spool> {
        let spool = Spool::open(&self.spool_dir)
            .with_context(|| format!("cannot open spool directory {}", self.spool_dir.display()))?;
        for stranger in spool.ignored() {
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
        self.reporter
            .sinks()
            .contains(support_metrics_core::reporter::Sink::Http)
    }

    /// Where the topic's client connects, or why that cannot be decided (a config error).
    pub(crate) fn bootstrap(&self) -> Result<Bootstrap, FileError> {
        let settings = self.file.client_settings();
        let wanted = settings
            .iter()
            .find(|(k, _)| k == "security.protocol")
            .map(|(_, v)| v.as_str());
        let get = |key: &str| self.file.get(key).map(str::to_owned);
        bootstrap(self.config.bootstrap_servers(), get, wanted)
            .map_err(|e| FileError::Invalid(self.file.path().to_owned(), e))
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
        let b = self.bootstrap()?;
        let sink = KafkaTopic::new(
            &b.servers,
            b.protocol.as_deref(),
            &self.file.client_settings(),
            topic,
            self.log,
        )
        .map_err(|e| {
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
        let cluster = self.bootstrap().ok().and_then(|b| {
            ClusterInfo::new(
                &b.servers,
                b.protocol.as_deref(),
                &self.file.client_settings(),
            )
            .ok()
        });
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
            cluster,
        })
    }

    /// The HTTP side, if on.
    pub(crate) fn http(&self, timeout: Duration) -> Option<HttpEndpoints> {
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
        Some(HttpEndpoints {
            client: HttpClient::new(proxy.as_deref(), no_proxy.as_deref(), timeout),
            secure: self.config.secure_endpoint().map(str::to_owned),
            insecure: self.config.insecure_endpoint().map(str::to_owned),
        })
    }

    /// The startup line: exactly what leaves this machine.
    pub(crate) fn egress(&self) -> String {
        let c = &self.config;
        if !self.reporter.enabled {
            return "reporting is disabled (confluent.support.metrics.enable=false)".to_owned();
        }
        if self.reporter.sinks().is_empty() {
            return if self.do_not_track {
                "reporting is disabled: no topic, and DO_NOT_TRACK forbids HTTP".to_owned()
            } else {
                "reporting is disabled: no topic and no endpoint".to_owned()
            };
        }
        let topic = match (c.topic(), self.bootstrap()) {
            (Some(t), Ok(b)) => format!("topic {t} via {}", b.servers),
            (Some(t), Err(_)) => format!("topic {t} (no usable bootstrap servers)"),
            (None, _) => "topic off".to_owned(),
        };
        let http = if self.do_not_track {
            "HTTP off (DO_NOT_TRACK)".to_owned()
        } else {
            match (c.secure_endpoint(), c.insecure_endpoint()) {
                (Some(s), Some(i)) => format!("HTTPS {s} with fallback to HTTP {i}"),
                (Some(s), None) => format!("HTTPS {s}, no fallback"),
                (None, Some(i)) => format!("HTTP {i} only (unencrypted)"),
                (None, None) => "HTTP off".to_owned(),
            }
        };
        let proxy = match c.proxy() {
            Some(p) if !self.do_not_track => format!("proxy {}", p.redacted()),
            _ => "no proxy".to_owned(),
        };
        format!(
            "reporting every {} h: {topic}; {http}; {proxy}; DO_NOT_TRACK {}; spool {}",
            c.report_interval_hours(),
            if self.do_not_track { "on" } else { "off" },
            self.spool_dir.display()
        )
    }
}

/// `DO_NOT_TRACK` set to anything but empty, `0` or `false`.
pub(crate) fn do_not_track() -> bool {
    std::env::var("DO_NOT_TRACK")
        .is_ok_and(|v| !matches!(v.trim().to_ascii_lowercase().as_str(), "" | "0" | "false"))
}

/// `confluent.support.metrics.spool.dir`, else systemd's `$STATE_DIRECTORY`, else
/// `support-metrics-spool` next to the config file.
fn spool_dir(config: &SupportConfig, config_path: &Path) -> PathBuf {
    if let Some(dir) = config.spool_dir() {
        return PathBuf::from(dir);
    }
    if let Some(state) = std::env::var_os("STATE_DIRECTORY").filter(|s| !s.is_empty()) {
        let first = std::env::split_paths(&state).next().unwrap_or_default();
        return first.join("spool");
    }
    let dir = std::path::absolute(config_path)
        .ok()
        .and_then(|p| p.parent().map(Path::to_path_buf))
        .unwrap_or_else(|| PathBuf::from("."));
    dir.join("support-metrics-spool")
}
