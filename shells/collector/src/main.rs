//! `support-metrics-collector`: receives support-metrics records and shows the fleet.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use std::time::Duration;

use clap::{Parser, Subcommand};
use support_metrics_collector::advisories::Advisories;
use support_metrics_collector::consume::{follow, ConsumeError, Follow};
use support_metrics_collector::import::{import, ImportError};
use support_metrics_collector::network::{self, Network};
use support_metrics_collector::server::{router, serve, Limits, Settings};
use support_metrics_collector::store::{describe, Store};
use support_metrics_collector::writer::Writer;
use support_metrics_collector::{fleet, log, now};
use support_metrics_core::config::DEFAULT_TOPIC;
use support_metrics_linux::client::{connect, key_value, Setting};
use support_metrics_linux::log::printable;
use support_metrics_linux::properties_file::PropertiesFile;

const AFTER_HELP: &str = "\
Databases:
  sqlite:PATH                    one file, nothing to install (WAL, one writer); the default
                                 choice for one collector
  postgres://USER[:PASSWORD]@HOST[:PORT]/DB
                                 PostgreSQL, for several collectors behind a load balancer
                                 (the password is never printed)

A record is stored once however it arrives: its key is the record itself (token, timestamp,
state), so an HTTP post, a bundle and the topic holding the same record count once.

Exit codes:
  0   done (serve and consume: stopped by SIGTERM or SIGINT)
  2   bad command line
  65  import: a bundle does not match its manifest (nothing of it stored)
  66  import: a bundle is missing or unreadable
  69  the database, the Kafka cluster or the topic cannot be reached, or (serve, import,
      consume) the database cannot be written: a read-only disk, file or server
  73  serve: the listen address cannot be bound
  75  consume: --runtime ran out before the end of the topic (what was read is stored)
  78  a bad setting: --advisories file, --database URL (a path that is not a database, or
      a database a newer collector migrated), a client setting (named, never its value)";

/// Receive Proactive Support records (HTTP, bundles, a topic), keep each once, and show the
/// fleet: brokers by Kafka and Confluent Platform version, clusters, customers, advisories.
#[derive(Debug, Parser)]
#[command(name = "support-metrics-collector", version, after_help = AFTER_HELP)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, clap::Args)]
struct Database {
    /// Where records are kept: sqlite:PATH or postgres://USER[:PASSWORD]@HOST[:PORT]/DB.
    #[arg(long, value_name = "URL")]
    database: String,
}

#[derive(Debug, clap::Args)]
struct View {
    /// The advisories file (TOML): version ranges with a message, and the latest release.
    /// Answers the agents and marks affected brokers.
    #[arg(long, value_name = "FILE")]
    advisories: Option<PathBuf>,
    /// The agents' report interval in hours; brokers seen in the last two intervals are the
    /// fleet.
    #[arg(long, value_name = "HOURS", default_value_t = 24,
          value_parser = clap::value_parser!(u64).range(1..=8760))]
    interval_hours: u64,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Receive records over HTTP (POST /anon, /test, /submit, /<component>/<endpoint>) and
    /// serve the fleet view (/, /api/fleet). HTTPS with --tls-cert and --tls-key, else plain
    /// HTTP (or a TLS terminator in front).
    Serve {
        /// Address to listen on, HOST:PORT: an IP address or a name such as localhost;
        /// 0.0.0.0:PORT for every interface (port 0: any free port, printed at start).
        #[arg(long, value_name = "HOST:PORT", default_value = "127.0.0.1:8080",
              value_parser = listen_address)]
        listen: SocketAddr,
        #[command(flatten)]
        database: Database,
        #[command(flatten)]
        view: View,
        /// Store senders' full addresses; by default only their /24 (IPv4) or /48 (IPv6).
        #[arg(long)]
        full_addresses: bool,
        /// Who may read the fleet view (/ and /api/fleet): address ranges, comma-separated
        /// (10.0.0.0/8,2001:db8::/32; 0.0.0.0/0,::/0 for anyone). By default this host only:
        /// the view lists brokers by version and those an advisory matches. Behind a proxy the
        /// reader's address is the proxy's: restrict there.
        #[arg(long, value_name = "CIDR,...", default_value = network::LOOPBACK,
              value_delimiter = ',', value_parser = clap::value_parser!(Network))]
        fleet_from: Vec<Network>,
        /// Serve HTTPS: the server's certificate chain (PEM, the server's certificate first).
        /// Without it the collector speaks plain HTTP (or put a TLS terminator in front).
        #[arg(long, value_name = "FILE", requires = "tls_key")]
        tls_cert: Option<PathBuf>,
        /// The private key (PEM) of --tls-cert.
        #[arg(long, value_name = "FILE", requires = "tls_cert")]
        tls_key: Option<PathBuf>,
        /// Longest wait for a request's body, and then for its record to be stored (past it the
        /// sender gets a 503 and sends again), in seconds.
        #[arg(long, value_name = "SECONDS", default_value_t = 10,
              value_parser = clap::value_parser!(u64).range(1..=300))]
        request_timeout: u64,
        /// Longest wait for a request's headers and between requests on a connection, in
        /// seconds.
        #[arg(long, value_name = "SECONDS", default_value_t = 30,
              value_parser = clap::value_parser!(u64).range(1..=3600))]
        idle_timeout: u64,
        /// Most connections at once.
        #[arg(long, value_name = "N", default_value_t = 1024,
              value_parser = clap::value_parser!(u64).range(1..=65536))]
        max_connections: u64,
    },
    /// Store the records of bundles made by support-metrics-bundle. Each bundle is checked
    /// against its manifest first; importing again stores nothing new.
    Import {
        #[command(flatten)]
        database: Database,
        /// Bundles (zip files).
        #[arg(required = true, value_name = "BUNDLE.zip")]
        bundles: Vec<PathBuf>,
    },
    /// Follow a cluster's metrics topic with a consumer group and store its records
    /// (offsets committed after the records are stored).
    Consume {
        #[command(flatten)]
        database: Database,
        /// Kafka bootstrap servers, HOST:PORT[,HOST:PORT...].
        #[arg(short = 'b', long, value_name = "HOST:PORT")]
        bootstrap_server: Option<String>,
        /// The topic [default: __confluent.support.metrics, or the broker's setting with
        /// --config].
        #[arg(long)]
        topic: Option<String>,
        /// The consumer group.
        #[arg(long, default_value = "support-metrics-collector")]
        group: String,
        /// A broker's server.properties: its bootstrap servers, topic and client security,
        /// as the agent uses them.
        #[arg(long, value_name = "FILE")]
        config: Option<PathBuf>,
        /// A client properties file, as Kafka's tools take it (security.protocol,
        /// sasl.jaas.config, ssl.truststore.location, ...).
        #[arg(long, value_name = "FILE")]
        command_config: Option<PathBuf>,
        /// A client setting, KEY=VALUE (repeatable); applied last.
        #[arg(long = "consumer-property", value_name = "KEY=VALUE", value_parser = key_value)]
        consumer_property: Vec<(String, String)>,
        /// Stop once every partition is read to its end (for cron); otherwise follow until
        /// SIGTERM or SIGINT.
        #[arg(long)]
        exit_at_end: bool,
        /// Upper bound for the run, in seconds [default with --exit-at-end: 60; else none].
        #[arg(long, value_name = "SECONDS", value_parser = clap::value_parser!(u64).range(1..=604_800))]
        runtime: Option<u64>,
    },
    /// Print the fleet: brokers by version, clusters, customers, advisories.
    Report {
        #[command(flatten)]
        database: Database,
        #[command(flatten)]
        view: View,
        /// The same JSON as /api/fleet.
        #[arg(long)]
        json: bool,
    },
    /// Write the man pages and shell completions (bash, zsh, fish) into DIR: for packaging.
    #[command(hide = true)]
    GenerateDocs {
        /// Where: DIR/man/man1/ and DIR/completions/.
        dir: PathBuf,
    },
}

/// A failure: one line and its exit code.
struct Fail(u8, String);

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
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(Fail(code, msg)) => {
            // The one error line; it may quote a file or a server: control characters escaped.
            eprintln!("support-metrics-collector: {}", printable(&msg));
            ExitCode::from(code)
        }
    }
}

/// `--listen`: an address, or a host name and port (the name's first address).
fn listen_address(text: &str) -> Result<SocketAddr, String> {
    use std::net::ToSocketAddrs;
    if let Ok(addr) = text.parse() {
        return Ok(addr);
    }
    let port_only = text.trim_start_matches(':');
    if !port_only.is_empty() && port_only.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!(
            "a port alone; use 0.0.0.0:{port_only} (every interface) or 127.0.0.1:{port_only}"
        ));
    }
    match text.to_socket_addrs() {
        Ok(mut addrs) => addrs.next().ok_or_else(|| format!("{text} has no address")),
        Err(e) => Err(format!("not HOST:PORT, or the host is unknown ({e})")),
    }
}

fn open(database: &Database) -> Result<Store, Fail> {
    Store::open(&database.database).map_err(|e| {
        let code = if e.starts_with("--database") { 78 } else { 69 };
        Fail(code, e)
    })
}

fn load_advisories(view: &View) -> Result<Advisories, Fail> {
    match &view.advisories {
        Some(path) => Advisories::load(path).map_err(|e| Fail(78, e)),
        None => Ok(Advisories::default()),
    }
}

fn writer(mut store: Store) -> Result<Writer, Fail> {
    store.check_writable().map_err(|e| Fail(69, e))?;
    Writer::start(store).map_err(|e| Fail(70, format!("cannot start the writer thread: {e}")))
}

fn run(cli: Cli) -> Result<(), Fail> {
    match cli.command {
        Command::Serve {
            listen,
            database,
            view,
            full_addresses,
            fleet_from,
            tls_cert,
            tls_key,
            request_timeout,
            idle_timeout,
            max_connections,
        } => {
            let advisories = load_advisories(&view)?;
            let tls = match (&tls_cert, &tls_key) {
                (Some(cert), Some(key)) => Some(
                    support_metrics_collector::tls::server_config(cert, key)
                        .map_err(|e| Fail(78, e))?,
                ),
                _ => None,
            };
            let scheme = if tls.is_some() { "https" } else { "http" };
            let count = advisories.list.len();
            let store = open(&database)?;
            let reader = open(&database)?;
            let writer = writer(store)?;
            let runtime = support_metrics_collector::server::runtime()
                .map_err(|e| Fail(70, format!("cannot start the runtime: {e}")))?;
            runtime.block_on(async move {
                let listener = tokio::net::TcpListener::bind(listen)
                    .await
                    .map_err(|e| Fail(73, format!("cannot listen on {listen}: {e}")))?;
                let bound = listener.local_addr().map_err(|e| Fail(73, e.to_string()))?;
                let app = router(
                    writer,
                    reader,
                    Settings {
                        advisories,
                        full_addresses,
                        interval_secs: view.interval_hours * 3600,
                        request_timeout: Duration::from_secs(request_timeout),
                        fleet_from,
                    },
                );
                log(
                    "INFO",
                    &format!(
                        "listening on {scheme}://{bound} (database {}; {count} advisories; addresses {})",
                        describe(&database.database),
                        if full_addresses { "in full" } else { "truncated to /24 and /48" }
                    ),
                );
                let limits = Limits {
                    idle_timeout: Duration::from_secs(idle_timeout),
                    max_connections: max_connections as usize,
                };
                serve(listener, app, limits, tls, shutdown()).await;
                log("INFO", "stopped");
                Ok(())
            })
        }
        Command::Import { database, bundles } => {
            let writer = writer(open(&database)?)?;
            let mut failed = None;
            for path in &bundles {
                match import(&writer, path) {
                    Ok(done) => println!(
                        "{}: {} records, {} new, {} already stored{}",
                        printable(&path.display().to_string()),
                        done.records,
                        done.new,
                        done.records - done.new,
                        if done.foreign > 0 {
                            format!(
                                ", {} entries not support-metrics records (skipped)",
                                done.foreign
                            )
                        } else {
                            String::new()
                        }
                    ),
                    Err(ImportError::Corrupt(e)) => {
                        eprintln!(
                            "support-metrics-collector: {}; nothing of it stored",
                            printable(&e)
                        );
                        failed.get_or_insert(65);
                    }
                    Err(ImportError::Unreadable(e)) => {
                        eprintln!("support-metrics-collector: {}", printable(&e));
                        failed.get_or_insert(66);
                    }
                    Err(ImportError::Store(e)) => return Err(Fail(69, e)),
                }
            }
            match failed {
                Some(code) => Err(Fail(code, "some bundles were not imported (above)".into())),
                None => Ok(()),
            }
        }
        Command::Consume {
            database,
            bootstrap_server,
            topic,
            group,
            config,
            command_config,
            consumer_property,
            exit_at_end,
            runtime,
        } => {
            let mut file = None;
            let mut servers = bootstrap_server;
            let mut topic = topic;
            if let Some(path) = &config {
                let f = PropertiesFile::read(path).map_err(|e| Fail(78, e.to_string()))?;
                let (c, _) = f.config().map_err(|e| Fail(78, e.to_string()))?;
                servers = servers.or_else(|| c.bootstrap_servers().map(str::to_owned));
                topic = topic.or_else(|| c.topic().map(str::to_owned));
                file = Some(f);
            }
            if servers.is_none() && file.is_none() {
                return Err(Fail(2, "consume: give --bootstrap-server HOST:PORT or --config with the broker's server.properties".into()));
            }
            let extra = Setting::command_line(command_config.as_deref(), &consumer_property)
                .map_err(|e| Fail(78, e.to_string()))?;
            let connection =
                connect(file.as_ref(), servers.as_deref(), extra).map_err(|e| Fail(78, e))?;
            for note in &connection.notes {
                support_metrics_collector::log("WARN", note);
            }
            let topic = topic.unwrap_or_else(|| DEFAULT_TOPIC.to_owned());
            let writer = writer(open(&database)?)?;
            let stop = Arc::new(AtomicBool::new(false));
            for signal in [signal_hook::consts::SIGTERM, signal_hook::consts::SIGINT] {
                signal_hook::flag::register(signal, Arc::clone(&stop))
                    .map_err(|e| Fail(70, format!("cannot handle signals: {e}")))?;
            }
            log(
                "INFO",
                &format!(
                    "following topic {topic} on {} ({}) as group {group}",
                    connection.servers, connection.security
                ),
            );
            let runtime = runtime
                .or(exit_at_end.then_some(60))
                .map(Duration::from_secs);
            let f = Follow {
                connection,
                topic,
                group,
                exit_at_end,
                runtime,
            };
            let say = |c: &support_metrics_collector::consume::Consumed| {
                println!(
                    "{} records, {} new, {} already stored{}",
                    c.records,
                    c.new,
                    c.records - c.new,
                    if c.foreign > 0 {
                        format!(", {} other messages skipped", c.foreign)
                    } else {
                        String::new()
                    }
                )
            };
            match follow(&writer, &f, &stop) {
                Ok(c) => {
                    say(&c);
                    Ok(())
                }
                Err(ConsumeError::OutOfTime(c)) => {
                    say(&c);
                    Err(Fail(
                        75,
                        "--runtime ran out before the end of the topic".into(),
                    ))
                }
                Err(ConsumeError::Config(e)) => Err(Fail(78, e)),
                Err(ConsumeError::Unreachable(e) | ConsumeError::Store(e)) => Err(Fail(69, e)),
            }
        }
        Command::GenerateDocs { dir } => {
            let written = support_metrics_linux::docs::generate(cli_command(), &dir)
                .map_err(|e| Fail(73, format!("{}: {e}", dir.display())))?;
            for path in written {
                println!("{}", path.display());
            }
            Ok(())
        }
        Command::Report {
            database,
            view,
            json,
        } => {
            let advisories = load_advisories(&view)?;
            let mut store = open(&database)?;
            let f = fleet::compute(&mut store, &advisories, now(), view.interval_hours * 3600)
                .map_err(|e| Fail(69, e))?;
            if json {
                println!("{}", serde_json::to_string_pretty(&f).unwrap_or_default());
                return Ok(());
            }
            print!("{}", support_metrics_collector::page::text(&f));
            Ok(())
        }
    }
}

async fn shutdown() {
    use tokio::signal::unix::{signal, SignalKind};
    let (Ok(mut term), Ok(mut int)) = (
        signal(SignalKind::terminate()),
        signal(SignalKind::interrupt()),
    ) else {
        return std::future::pending().await;
    };
    tokio::select! {
        _ = term.recv() => {}
        _ = int.recv() => {}
    }
}
