//! `demo`: the whole job on an embedded default, with nothing installed. An in-process Kafka
//! mock cluster (librdkafka's), a plain-HTTP collector on 127.0.0.1, one report cycle through
//! the real agent code, then a bundle of the topic through the real bundle code.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use rdkafka::mocking::MockCluster;
use support_metrics_bundle::{absolute, default_file_name, read_topic, write_bundle, Source};
use support_metrics_core::config::DEFAULT_TOPIC;
use support_metrics_core::reporter::RunMode;
use support_metrics_linux::client::Connection;
use support_metrics_linux::driver::Mode;
use support_metrics_linux::log::count;

use super::run::driver;
use super::setup::Setup;
use crate::CantCreate;

/// Where the demo writes: a directory it can create files in. Checked before anything runs.
fn writable(dir: &Path) -> Result<(), CantCreate> {
    let probe = dir.join(format!(".support-metrics-demo-{}.tmp", std::process::id()));
    let made = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&probe);
    match made {
        Ok(_) => {
            let _ = std::fs::remove_file(&probe);
            Ok(())
        }
        Err(e) => Err(CantCreate(format!(
            "cannot write the bundle into {}: {e}",
            absolute(dir).display()
        ))),
    }
}

/// The demo's working directory, removed however the demo ends.
struct WorkDir(PathBuf);

impl Drop for WorkDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

pub(crate) fn run(dir: Option<PathBuf>) -> anyhow::Result<ExitCode> {
    let out_dir = dir.unwrap_or_else(|| PathBuf::from("."));
    writable(&out_dir)?;
    let cluster = MockCluster::new(1)?;
    cluster.create_topic(DEFAULT_TOPIC, 1, 1)?;
    let servers = cluster.bootstrap_servers();
    let collector = Collector::start()?;
    let work = std::env::temp_dir().join(format!("support-metrics-demo-{}", std::process::id()));
    std::fs::create_dir_all(&work)?;
    let work = WorkDir(work);
    let work = &work.0;
    let config = work.join("server.properties");
    std::fs::write(
        &config,
        format!(
            "# Written by `support-metrics-agent demo`.\nbroker.id=0\n\
             confluent.support.metrics.bootstrap.servers={servers}\n\
             confluent.support.metrics.endpoint.secure=\n\
             confluent.support.metrics.endpoint.insecure={}\n\
             confluent.support.metrics.spool.dir={}\n",
            collector.url,
            work.join("spool").display()
        ),
    )?;
    // The in-process mock cluster is the broker: nothing to watch.
    let broker = crate::Broker {
        config: Some(config.clone()),
        kafka_home: None,
        broker_watch: "none".to_owned(),
    };
    let setup = Setup::new(&broker, RunMode::OneCycle)?;
    let spool = setup.open_spool(super::run::SPOOL_WAIT)?;
    println!("support-metrics demo: one report cycle, then a bundle of the topic.\n");
    println!("Config: {}", config.display());
    println!("{}", setup.egress());
    // No Kafka installation here, so the version is unknown by design: said as a fact of the
    // demo rather than as the warning a broker's host would deserve.
    println!("Kafka version: unknown (the mock cluster is no Kafka installation; on a broker the agent reads it from the kafka-clients jar)\n");
    setup.log_config_warnings();
    let summary = driver(&setup, spool)?.run(Mode::Once {
        deadline: Duration::from_secs(30),
    });
    let bodies = collector.received();
    let Some(record) = bodies.first() else {
        anyhow::bail!(
            "the demo collector received nothing ({} left in the spool)",
            count(summary.spooled, "record")
        );
    };
    println!("Record sent:\n{}\n", String::from_utf8_lossy(record));
    println!("  -> topic {DEFAULT_TOPIC} on the in-process mock cluster at {servers}");
    println!(
        "  -> POST {} (the demo collector; a real agent tries HTTPS first)\n",
        collector.url
    );
    let source = Source {
        connection: Connection::plaintext(&servers),
        topic: DEFAULT_TOPIC.to_owned(),
        runtime: Duration::from_secs(10),
    };
    let records = read_topic(&source, &mut |_| {})?;
    let file = out_dir.join(default_file_name(DEFAULT_TOPIC, SystemTime::now()));
    let written = write_bundle(&records, DEFAULT_TOPIC, &file, false)
        .map_err(|e| CantCreate(e.to_string()))?;
    let noun = if written.records == 1 {
        "record"
    } else {
        "records"
    };
    println!(
        "Bundle: created {} with {} {noun}",
        absolute(&file).display(),
        written.records
    );
    println!(
        "Check it with: support-metrics-bundle verify {}",
        absolute(&file).display()
    );
    Ok(if summary.spooled == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

/// A tiny HTTP collector on 127.0.0.1 that answers 200 and keeps every body.
struct Collector {
    url: String,
    bodies: Arc<Mutex<Vec<Vec<u8>>>>,
    stop: Arc<AtomicBool>,
}

impl Collector {
    fn start() -> std::io::Result<Collector> {
        let listener = TcpListener::bind("127.0.0.1:0")?;
        listener.set_nonblocking(true)?;
        let url = format!("http://{}/anon", listener.local_addr()?);
        let bodies = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let (b, s) = (bodies.clone(), stop.clone());
        std::thread::spawn(move || {
            while !s.load(Ordering::Relaxed) {
                match listener.accept() {
                    Ok((stream, _)) => {
                        let _ = stream.set_nonblocking(false);
                        let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
                        if let Some(body) = serve(stream) {
                            if let Ok(mut v) = b.lock() {
                                v.push(body);
                            }
                        }
                    }
                    Err(_) => std::thread::sleep(Duration::from_millis(5)),
                }
            }
        });
        Ok(Collector { url, bodies, stop })
    }

    fn received(&self) -> Vec<Vec<u8>> {
        self.bodies.lock().map(|v| v.clone()).unwrap_or_default()
    }
}

impl Drop for Collector {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

fn serve(stream: std::net::TcpStream) -> Option<Vec<u8>> {
    let mut reader = BufReader::new(stream);
    let mut length = 0usize;
    for _ in 0..100 {
        let mut line = String::new();
        if reader.read_line(&mut line).ok()? == 0 || line.trim().is_empty() {
            break;
        }
        if let Some((k, v)) = line.split_once(':') {
            if k.eq_ignore_ascii_case("content-length") {
                length = v.trim().parse().ok()?;
            }
        }
    }
    let mut body = vec![0; length.min(1 << 20)];
    reader.read_exact(&mut body).ok()?;
    let reply = r#"{"informationForUser":"Thank you from the demo collector"}"#;
    let mut stream = reader.into_inner();
    let _ = write!(stream, "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{reply}", reply.len());
    Some(body)
}
