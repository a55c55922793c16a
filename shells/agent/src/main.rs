//! `support-metrics-agent`: the Proactive Support agent beside a Kafka broker.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use support_metrics_linux::broker::Watch;
use support_metrics_linux::properties_file::FileError;
use support_metrics_linux::spool::SpoolError;

mod commands;
mod egress;
mod help;

/// Exit codes (sysexits.h), documented in `--help` and the README.
pub(crate) mod exit {
    /// Input data Java would refuse (malformed `\uXXXX`, over-long line).
    pub(crate) const DATA_ERR: u8 = 65;
    /// The config file is missing or unreadable.
    pub(crate) const NO_INPUT: u8 = 66;
    /// `once`, `preview`: the watched broker is not running.
    pub(crate) const UNAVAILABLE: u8 = 69;
    /// The spool directory cannot be created or used.
    pub(crate) const CANT_CREATE: u8 = 73;
    /// An output error other than a closed pipe; `once`: a record reached neither every
    /// sink nor the spool.
    pub(crate) const IO_ERR: u8 = 74;
    /// Try again later: `once` kept a record in the spool, or another agent holds the spool.
    pub(crate) const TEMP_FAIL: u8 = 75;
    /// A Proactive Support setting is invalid.
    pub(crate) const CONFIG: u8 = 78;
}

/// What every command's `--help` ends with: environment, exit codes in numeric order,
/// signals; wrapped to the terminal by [`help::after_help`].
const ENVIRONMENT: &[(&str, &str)] = &[
    ("SUPPORT_METRICS_LOG", "log level: debug, info (default), warn or error"),
    ("DO_NOT_TRACK", "set (not empty, 0 or false): nothing is sent over HTTP; the topic still works"),
    ("NO_PROXY, no_proxy", "hosts reached without confluent.support.proxy (names, .domains, *)"),
    ("STATE_DIRECTORY", "systemd's state directory: the default spool is its spool/"),
    ("JOURNAL_STREAM", "set by systemd: log lines carry syslog priorities (<4> for a warning) instead of timestamps"),
    ("SSL_CERT_FILE, SSL_CERT_DIR", "the system CA roots trusted for HTTPS"),
];

const EXIT_CODES: &[(&str, &str)] = &[
    ("0", "success"),
    ("1", "demo: the record did not reach every sink; any command: an internal error"),
    ("2", "bad command line"),
    ("65", "the file is not a properties file Java would load (the line is named)"),
    ("66", "the file is missing, unreadable, not a regular file, or larger than 16 MiB"),
    ("69", "once, preview: the watched broker is not running (nothing sent)"),
    ("73", "the spool directory cannot be created or used, or demo cannot write its bundle (the path is named)"),
    ("74", "output could not be written; once: a record reached neither every sink nor the spool"),
    ("75", "try later: once kept a record in the spool for the next run, or another agent holds the spool (its pid is named)"),
    ("78", "a setting is invalid: a Proactive Support key, the CA file, or a Kafka client setting (a store, a JAAS text, one librdkafka refuses); the file, line and key are named, never a secret"),
];

const CLOSING: &str = "Signals (run): SIGTERM, SIGINT and SIGHUP send the final report (within 5 s), then exit 0. \
SIGHUP does not reload: the settings are read again at every broker restart; restart the agent to apply a change at once. \
The agent reads the broker's own server.properties exactly as the broker does (java.util.Properties semantics); \
`support-metrics-agent config` shows every confluent.support.* setting in effect and where it came from.";

/// Proactive Support metrics agent for Kafka brokers.
///
/// Reports a small, documented record (platform version, Kafka version, a per-run broker
/// token, a timestamp) to an internal Kafka topic and to the vendor's HTTPS endpoint, as
/// configured in the broker's server.properties.
#[derive(Debug, Parser)]
#[command(name = "support-metrics-agent", version)]
pub(crate) struct Cli {
    #[command(subcommand)]
    command: Command,
}

/// The broker a command serves.
#[derive(Debug, clap::Args)]
pub(crate) struct Broker {
    /// The broker's server.properties [default: /etc/kafka/server.properties, when it
    /// exists].
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// A Kafka installation (its root or its jar directory) to read the broker's version from
    /// first (default: the broker's own classpath, then the installation around FILE).
    #[arg(long, value_name = "DIR")]
    pub(crate) kafka_home: Option<PathBuf>,
    /// How the agent knows the broker runs: `process` (a kafka.Kafka JVM running FILE on this
    /// host), `listener` (the broker's listener from FILE answers and its broker.id is in the
    /// cluster metadata; for an agent that cannot see the broker's processes), or `none` (the
    /// agent's run stands for the broker's run).
    #[arg(long, value_name = "MODE", default_value = "process",
          value_parser = ["process", "listener", "none"])]
    pub(crate) broker_watch: String,
}

/// `--config` when not given, if this host has it.
const DEFAULT_CONFIG: &str = "/etc/kafka/server.properties";

impl Broker {
    /// The config file: `--config`, else [`DEFAULT_CONFIG`] (checked to exist by [`main`]).
    pub(crate) fn config(&self) -> &std::path::Path {
        self.config
            .as_deref()
            .unwrap_or(std::path::Path::new(DEFAULT_CONFIG))
    }

    pub(crate) fn watch(&self) -> Watch {
        Watch::parse(&self.broker_watch).unwrap_or_default()
    }
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run beside the broker: report every interval while it runs (a new broker token for
    /// every broker run, a final report when it stops) until SIGTERM, SIGINT or SIGHUP, then
    /// send the final report (within 5 s) and exit 0.
    Run(Broker),
    /// One report cycle now (records waiting in the spool included), then exit: 0 when every
    /// enabled sink took every record, 75 when something stays in the spool for later, 69
    /// when the watched broker is not running (nothing sent). Gives up on dead sinks within
    /// 30 s.
    Once(Broker),
    /// Run the whole job on an embedded default, with nothing installed: an in-process Kafka
    /// mock cluster, a collector on 127.0.0.1, one report cycle, then a bundle of the topic
    /// (written to the current directory, or --dir).
    Demo {
        /// Where to write the bundle.
        #[arg(long, value_name = "DIR")]
        dir: Option<PathBuf>,
    },
    /// Print the exact bytes the next cycle would send, and where; send nothing.
    Preview {
        #[command(flatten)]
        broker: Broker,
        /// Print one JSON object instead of text.
        #[arg(long)]
        json: bool,
    },
    /// What left this machine: every record a sink took, where and when, byte for byte (the
    /// ledger beside the spool keeps the last 400 days, at most 10000 entries).
    History {
        #[command(flatten)]
        broker: Broker,
        /// Print a JSON array instead of text.
        #[arg(long)]
        json: bool,
        /// Only what was sent since DATE (UTC): YYYY-MM-DD or YYYY-MM-DDTHH:MM:SSZ.
        #[arg(long, value_name = "DATE")]
        since: Option<String>,
    },
    /// Write the man pages and shell completions (bash, zsh, fish) into DIR: for packaging.
    #[command(hide = true)]
    GenerateDocs {
        /// Where: DIR/man/man1/ and DIR/completions/.
        dir: PathBuf,
    },
    /// Whether an agent runs on this spool, each sink's last success and last error (in
    /// words), the next report due, and the records waiting in the spool.
    Status {
        #[command(flatten)]
        broker: Broker,
        /// Print one JSON object instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Show the effective Proactive Support settings, where each came from, and warnings.
    Config {
        #[command(flatten)]
        broker: Broker,
        /// Print one JSON object instead of a table.
        #[arg(long)]
        json: bool,
        /// Show every property of the file exactly as a Kafka broker reads it, not the
        /// Proactive Support settings. Values of keys that look secret (password, secret,
        /// jaas, key, token, credential) and a proxy's credentials are shown as ***.
        #[arg(long)]
        raw: bool,
        /// Show secret values too, with --raw.
        #[arg(long, requires = "raw")]
        show_secrets: bool,
    },
}

/// The command line as `--help`, the man pages and the completions show it.
pub(crate) fn cli_command() -> clap::Command {
    use clap::CommandFactory;
    let text = help::after_help(ENVIRONMENT, EXIT_CODES, CLOSING);
    let version = support_metrics_linux::version::long_version(env!("CARGO_PKG_VERSION"));
    Cli::command()
        .version(version)
        .after_help(text.clone())
        .mut_subcommands(|c| c.after_help(text.clone()))
}

fn main() -> ExitCode {
    use clap::FromArgMatches;
    let mut command = cli_command();
    let matches = command.get_matches_mut();
    let cli = Cli::from_arg_matches(&matches).unwrap_or_else(|e| e.exit());
    let broker = match &cli.command {
        Command::Run(b) | Command::Once(b) => Some(b),
        Command::Preview { broker, .. }
        | Command::History { broker, .. }
        | Command::Status { broker, .. } => Some(broker),
        Command::Config { broker, .. } => Some(broker),
        Command::Demo { .. } | Command::GenerateDocs { .. } => None,
    };
    if broker.is_some_and(|b| b.config.is_none()) && !std::path::Path::new(DEFAULT_CONFIG).exists()
    {
        command
            .error(
                clap::error::ErrorKind::MissingRequiredArgument,
                format!("give --config FILE, the broker's server.properties ({DEFAULT_CONFIG} does not exist here)"),
            )
            .exit();
    }
    match run(cli) {
        Ok(code) => code,
        Err(err) => {
            // A closed pipe (`| head`) is not an error worth a message.
            if let Some(io) = err.downcast_ref::<std::io::Error>() {
                if io.kind() == std::io::ErrorKind::BrokenPipe {
                    return ExitCode::SUCCESS;
                }
            }
            // Under systemd the journal learns that this is an error (priority 3).
            let priority = if std::env::var_os("JOURNAL_STREAM").is_some_and(|v| !v.is_empty()) {
                "<3>"
            } else {
                ""
            };
            let text = err.to_string();
            let text = support_metrics_linux::log::printable(&text);
            let _ = writeln!(std::io::stderr(), "{priority}support-metrics-agent: {text}");
            ExitCode::from(exit_code(&err))
        }
    }
}

fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        Command::Config {
            broker,
            json,
            raw,
            show_secrets,
        } => commands::config::run(&broker, json, raw.then_some(show_secrets)),
        Command::Run(broker) => commands::run::run(&broker),
        Command::Once(broker) => commands::run::once(&broker),
        Command::Demo { dir } => commands::demo::run(dir),
        Command::Preview { broker, json } => commands::preview::run(&broker, json),
        Command::History {
            broker,
            json,
            since,
        } => commands::history::run(&broker, json, since.as_deref()),
        Command::Status { broker, json } => commands::status::run(&broker, json),
        Command::GenerateDocs { dir } => {
            for path in support_metrics_linux::docs::generate(cli_command(), &dir)? {
                println!("{}", path.display());
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// A file or directory the command must write cannot be created (exit 73).
#[derive(Debug)]
pub(crate) struct CantCreate(pub(crate) String);

impl std::fmt::Display for CantCreate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for CantCreate {}

fn exit_code(err: &anyhow::Error) -> u8 {
    if err.downcast_ref::<CantCreate>().is_some() {
        return exit::CANT_CREATE;
    }
    match err.downcast_ref::<SpoolError>() {
        Some(SpoolError::Busy { .. }) => return exit::TEMP_FAIL,
        Some(SpoolError::Io { .. }) => return exit::CANT_CREATE,
        None => {}
    }
    match err.downcast_ref::<FileError>() {
        Some(FileError::Unreadable(..)) => exit::NO_INPUT,
        Some(FileError::Malformed(..)) => exit::DATA_ERR,
        Some(FileError::Invalid(..) | FileError::Client(..)) => exit::CONFIG,
        None if err.downcast_ref::<std::io::Error>().is_some() => exit::IO_ERR,
        None => 1,
    }
}
