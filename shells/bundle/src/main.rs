//! `support-metrics-bundle`: the support-metrics topic in a zip for a support ticket.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, SystemTime};

use clap::{Parser, Subcommand};
use support_metrics_bundle::{
    absolute, default_file_name, inspect, read_topic, regular_file, verify, write_bundle, zk,
    BundleError, Source,
};
use support_metrics_core::config::DEFAULT_TOPIC;
use support_metrics_linux::client::{connect, key_value, Setting};
use support_metrics_linux::properties_file::{FileError, PropertiesFile};

const AFTER_HELP: &str = "\
Reads every partition of the topic from its start to the end offsets seen at start, by
assignment: no consumer group, nothing committed, nothing left on the cluster. Stops as soon
as every partition is complete; --runtime is only an upper bound. The zip holds one entry per
record (records/<partition>-<offset>, the value byte for byte) and manifest.json with the
SHA-256 of every entry. It is written to a temporary file and renamed at the end.

Exit codes:
  0   bundle created (or the topic is empty: no file)
  2   bad command line
  65  verify: the bundle does not match its manifest
  66  an input file is missing or unreadable
  69  the cluster is unreachable or the topic does not exist
  73  the output file exists (use --force) or cannot be written
  75  --runtime ran out before every record was read (no file written)
  78  --config holds an invalid setting, or librdkafka refuses a client setting (named,
      never its value)";

/// Dump the Proactive Support metrics topic into a zip to attach to a support ticket.
#[derive(Debug, Parser)]
#[command(name = "support-metrics-bundle", version, after_help = AFTER_HELP, args_conflicts_with_subcommands = true)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    #[command(flatten)]
    create: Create,
}

#[derive(Debug, clap::Args)]
struct Create {
    /// Kafka bootstrap servers, HOST:PORT[,HOST:PORT...].
    #[arg(
        short = 'b',
        long,
        value_name = "HOST:PORT",
        conflicts_with = "zookeeper"
    )]
    bootstrap_server: Option<String>,
    /// Find the brokers in ZooKeeper instead: HOST:PORT[,HOST:PORT...][/chroot] (the broker
    /// registrations under /brokers/ids).
    #[arg(long, value_name = "HOST:PORT[/chroot]")]
    zookeeper: Option<String>,
    /// A broker's server.properties: its bootstrap servers and topic are used unless given
    /// here, and its confluent.support.metrics.client.* settings (SSL, SASL), or else, when
    /// there are none, the broker's own listener security, as the agent does.
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// A client properties file, as Kafka's tools take it (security.protocol,
    /// sasl.jaas.config, ssl.truststore.location, ...; librdkafka names work too).
    #[arg(long, value_name = "FILE")]
    command_config: Option<PathBuf>,
    /// The topic [default: __confluent.support.metrics].
    #[arg(long)]
    topic: Option<String>,
    /// Output file [default: support-metrics-<topic>.<UTC yyyyMMdd-HHmmss>.zip].
    #[arg(long, value_name = "FILE")]
    file: Option<PathBuf>,
    /// Upper bound for the whole run (ZooKeeper included), in seconds: 1 to 604800.
    #[arg(long, value_name = "SECONDS", default_value_t = 10,
          value_parser = clap::value_parser!(u64).range(1..=604_800))]
    runtime: u64,
    /// A client setting, KEY=VALUE (repeatable; Java or librdkafka names); applied after
    /// --config and --command-config.
    #[arg(long = "consumer-property", alias = "client-property", value_name = "KEY=VALUE", value_parser = key_value)]
    consumer_property: Vec<(String, String)>,
    /// Replace the output file if it exists.
    #[arg(long)]
    force: bool,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Check a bundle against its manifest (counts and SHA-256) and print a summary.
    Verify {
        /// The bundle.
        file: PathBuf,
    },
    /// Write the man pages and shell completions (bash, zsh, fish) into DIR: for packaging.
    #[command(hide = true)]
    GenerateDocs {
        /// Where: DIR/man/man1/ and DIR/completions/.
        dir: PathBuf,
    },
    /// List the records of a bundle, decoded when they are support-metrics records.
    Inspect {
        /// The bundle.
        file: PathBuf,
        /// Print one JSON object instead of text.
        #[arg(long)]
        json: bool,
    },
}

/// The command line as `--help`, the man pages and the completions show it.
fn cli_command() -> clap::Command {
    use clap::CommandFactory;
    Cli::command().version(support_metrics_linux::version::long_version(env!(
        "CARGO_PKG_VERSION"
    )))
}

fn main() -> ExitCode {
    use clap::FromArgMatches;
    let matches = cli_command().get_matches();
    let cli = Cli::from_arg_matches(&matches).unwrap_or_else(|e| e.exit());
    let result = match cli.command {
        Some(Command::Verify { file }) => run_verify(&file),
        Some(Command::Inspect { file, json }) => run_inspect(&file, json),
        Some(Command::GenerateDocs { dir }) => {
            support_metrics_linux::docs::generate(cli_command(), &dir)
                .map(|written| {
                    for path in written {
                        println!("{}", path.display());
                    }
                    ExitCode::SUCCESS
                })
                .map_err(Into::into)
        }
        None => run_create(cli.create),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            let _ = writeln!(std::io::stderr(), "support-metrics-bundle: {e}");
            ExitCode::from(exit_code(&e))
        }
    }
}

fn exit_code(e: &anyhow::Error) -> u8 {
    if let Some(b) = e.downcast_ref::<BundleError>() {
        return match b {
            BundleError::Unreachable(_) | BundleError::NoSuchTopic(..) => 69,
            BundleError::Incomplete { .. } => 75,
            BundleError::Exists(_) | BundleError::Other(_) => 73,
            BundleError::Corrupt(_) => 65,
            BundleError::Config(_) => 78,
        };
    }
    match e.downcast_ref::<FileError>() {
        Some(FileError::Unreadable(..)) => 66,
        Some(_) => 78,
        None => 1,
    }
}

/// `KEY=VALUE`, for `--client-property`.
/// `1 record`, `2 records`.
fn plural(n: usize, word: &str) -> String {
    format!("{n} {word}{}", if n == 1 { "" } else { "s" })
}

/// A bundle to read: a regular file, else exit 66 naming it and why.
fn bundle_file(file: &Path) -> Result<(), FileError> {
    regular_file(file).map_err(|why| FileError::Unreadable(file.to_owned(), why))
}

fn run_verify(file: &Path) -> anyhow::Result<ExitCode> {
    bundle_file(file)?;
    let s = verify(file)?;
    println!(
        "OK: {} records in {} partition(s), every SHA-256 matches ({})",
        s.records,
        s.partitions,
        absolute(file).display()
    );
    Ok(ExitCode::SUCCESS)
}

fn run_inspect(file: &Path, as_json: bool) -> anyhow::Result<ExitCode> {
    bundle_file(file)?;
    let mut out = std::io::stdout().lock();
    let (_, mismatched) = inspect(file, &mut out, as_json)?;
    if mismatched > 0 {
        return Err(BundleError::Corrupt(format!(
            "{} does not match its manifest: {mismatched} entr{} flagged HASH MISMATCH",
            absolute(file).display(),
            if mismatched == 1 { "y" } else { "ies" }
        ))
        .into());
    }
    Ok(ExitCode::SUCCESS)
}

fn run_create(args: Create) -> anyhow::Result<ExitCode> {
    let mut topic = args.topic.clone();
    let mut file = None;
    let mut servers = args.bootstrap_server.clone();
    if let Some(path) = &args.config {
        let f = PropertiesFile::read(path)?;
        let (config, _) = f.config()?;
        servers = servers.or_else(|| config.bootstrap_servers().map(str::to_owned));
        topic = topic.or_else(|| config.topic().map(str::to_owned));
        file = Some(f);
    }
    let extra = Setting::command_line(args.command_config.as_deref(), &args.consumer_property)?;
    // --runtime bounds the whole run: ZooKeeper first, then reading gets what is left.
    let started = std::time::Instant::now();
    let runtime = Duration::from_secs(args.runtime);
    if let Some(connect) = &args.zookeeper {
        let wanted = file
            .as_ref()
            .map(Setting::client_settings_of)
            .unwrap_or_default()
            .into_iter()
            .chain(extra.iter().cloned())
            .rfind(|s| s.name == "security.protocol")
            .map(|s| s.value);
        servers = Some(
            zk::brokers(connect, wanted.as_deref(), runtime).map_err(BundleError::Unreachable)?,
        );
    }
    if servers.is_none() && file.is_none() {
        use clap::CommandFactory;
        Cli::command()
            .error(
                clap::error::ErrorKind::MissingRequiredArgument,
                "give --bootstrap-server HOST:PORT, --zookeeper HOST:PORT or --config with the broker's server.properties",
            )
            .exit();
    }
    let connection =
        connect(file.as_ref(), servers.as_deref(), extra).map_err(BundleError::Config)?;
    for note in &connection.notes {
        eprintln!("Note: {note}");
    }
    let runtime = runtime
        .checked_sub(started.elapsed())
        .filter(|left| !left.is_zero())
        .ok_or_else(|| {
            BundleError::Unreachable("--runtime ran out while finding the brokers".into())
        })?;
    let topic = topic.unwrap_or_else(|| DEFAULT_TOPIC.to_owned());
    let file = args
        .file
        .unwrap_or_else(|| PathBuf::from(default_file_name(&topic, SystemTime::now())));
    if file.exists() && !args.force {
        return Err(BundleError::Exists(absolute(&file)).into());
    }
    eprintln!(
        "Reading topic {topic} from {} ({}; at most {} s)...",
        connection.servers, connection.security, args.runtime
    );
    let source = Source {
        connection,
        topic: topic.clone(),
        runtime,
    };
    let mut show = ProgressDisplay::new();
    let records = read_topic(&source, &mut |p| show.update(p));
    show.finish();
    let records = records?;
    if records.records.is_empty() {
        println!("No records found.");
        eprintln!("Topic {topic} is empty; no file written.");
        return Ok(ExitCode::SUCCESS);
    }
    let summary = write_bundle(&records, &topic, &file, args.force)?;
    if summary.skipped > 0 {
        eprintln!(
            "Left out {} value(s) larger than any support-metrics record.",
            summary.skipped
        );
    }
    println!(
        "Created {} with {}",
        absolute(&file).display(),
        plural(summary.records, "record")
    );
    Ok(ExitCode::SUCCESS)
}

/// A bar on a terminal, a plain line every few seconds otherwise.
struct ProgressDisplay {
    terminal: bool,
    last: Option<std::time::Instant>,
    latest: support_metrics_bundle::Progress,
    drawn: bool,
}

impl ProgressDisplay {
    fn new() -> Self {
        use std::io::IsTerminal;
        let terminal = std::io::stderr().is_terminal();
        ProgressDisplay {
            terminal,
            // Without a terminal the first line comes after the interval, not at 0 records.
            last: (!terminal).then(std::time::Instant::now),
            latest: Default::default(),
            drawn: false,
        }
    }

    fn update(&mut self, p: support_metrics_bundle::Progress) {
        self.latest = p;
        let every = if self.terminal {
            Duration::from_millis(100)
        } else {
            Duration::from_secs(3)
        };
        let now = std::time::Instant::now();
        if self.last.is_some_and(|t| now.duration_since(t) < every) {
            return;
        }
        self.last = Some(now);
        self.draw();
    }

    fn draw(&mut self) {
        let p = self.latest;
        let mut err = std::io::stderr().lock();
        if self.terminal {
            let width = 30;
            let filled = (p.records * width as u64)
                .checked_div(p.total)
                .map_or(width, |f| f as usize);
            let _ = write!(
                err,
                "\r[{}{}] {}/{} records, {}/{} partitions",
                "#".repeat(filled.min(width)),
                ".".repeat(width - filled.min(width)),
                p.records,
                p.total,
                p.partitions_done,
                p.partitions
            );
            self.drawn = true;
        } else {
            let _ = writeln!(
                err,
                "read {}/{} records, {}/{} partitions complete",
                p.records, p.total, p.partitions_done, p.partitions
            );
        }
    }

    /// The final count, on a line of its own (with a terminal, the bar's last state).
    fn finish(&mut self) {
        if self.terminal && !self.drawn {
            return;
        }
        self.draw();
        if self.terminal {
            let _ = writeln!(std::io::stderr());
        }
    }
}
