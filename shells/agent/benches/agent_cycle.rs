//! The agent's footprint and its report cycle, measured (never asserted in a test):
//!
//! - **Idle footprint**: the real `support-metrics-agent run` after its first report, idle:
//!   peak RSS (`VmHWM`), what it is made of, threads, and idle CPU, from `/proc`.
//! - **Report cycle**: the Linux shell's driver in this process, one full cycle after another
//!   (collect, spool write with fsync, topic acknowledged, HTTPS 200) with the broker
//!   connection kept warm between them: wall time per cycle and process CPU per cycle.
//!
//! The HTTPS collector runs in a child process (this binary with `--serve-https`), so its TLS
//! work is not counted as ours. The broker is `SUPPORT_METRICS_KAFKA` (tansu, as `ci/bench`
//! starts it) or else librdkafka's mock cluster in this process.
//!
//!     cargo bench -p support-metrics-agent --bench agent_cycle [-- --cycles N]

use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rdkafka::mocking::MockCluster;
use support_metrics_core::config::{SupportConfig, DEFAULT_TOPIC};
use support_metrics_core::reporter::{ReporterConfig, Run, RunMode, TopicResult};
use support_metrics_http::{HttpClient, HttpEndpoints};
use support_metrics_linux::client::Connection;
use support_metrics_linux::driver::{Driver, Mode, StaticFacts};
use support_metrics_linux::kafka::KafkaTopic;
use support_metrics_linux::log::Log;
use support_metrics_linux::sinks::{Destinations, TopicSink};
use support_metrics_linux::spool::Spool;
use support_metrics_tests::servers::{TestCa, TestServer};

const AGENT: &str = env!("CARGO_BIN_EXE_support-metrics-agent");

fn main() {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| a != "--bench")
        .collect();
    if let [flag, dir] = args.as_slice() {
        if flag == "--serve-https" {
            serve_https(Path::new(dir));
            return;
        }
    }
    let cycles = match args.as_slice() {
        [flag, n] if flag == "--cycles" => n.parse().expect("--cycles takes a number"),
        [] => 40,
        _ => panic!("usage: agent_cycle [--cycles N]"),
    };
    if std::env::var_os("SUPPORT_METRICS_LOG").is_none() {
        // The driver logs every delivery at info; the figures are what this prints.
        std::env::set_var("SUPPORT_METRICS_LOG", "warn");
    }
    let dir = std::env::temp_dir().join(format!("sm-agent-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let collector = Collector::start(&dir);
    // Kept alive until the end: the mock cluster lives in this process.
    let (servers, _mock) = match std::env::var("SUPPORT_METRICS_KAFKA") {
        Ok(s) if !s.is_empty() => (s, None),
        _ => {
            let cluster = MockCluster::new(1).expect("mock cluster");
            cluster.create_topic(DEFAULT_TOPIC, 1, 1).expect("topic");
            (cluster.bootstrap_servers(), Some(cluster))
        }
    };
    idle_footprint(&dir, &servers, &collector);
    report_cycles(&dir, &servers, &collector, cycles);
    let _ = std::fs::remove_dir_all(&dir);
}

/// The real agent, `run`, idle after its first report.
fn idle_footprint(dir: &Path, servers: &str, collector: &Collector) {
    let config = dir.join("server.properties");
    std::fs::write(
        &config,
        format!(
            "broker.id=0\nconfluent.support.metrics.bootstrap.servers={servers}\n\
             confluent.support.metrics.endpoint.secure={}\n\
             confluent.support.metrics.endpoint.insecure.enable=false\n\
             confluent.support.metrics.endpoint.ca.file={}\n\
             confluent.support.metrics.spool.dir={}\n",
            collector.url,
            collector.ca.display(),
            dir.join("agent-spool").display()
        ),
    )
    .unwrap();
    let before = collector.posts();
    // `ci/bench` measures the binary an operator installs (the `dist` profile).
    let binary = std::env::var("SUPPORT_METRICS_AGENT_BIN").unwrap_or_else(|_| AGENT.to_owned());
    let mut agent = Command::new(&binary)
        .args([
            "run",
            "--broker-watch",
            "none",
            "--config",
            config.to_str().unwrap(),
        ])
        .env("SUPPORT_METRICS_LOG", "warn")
        .env_remove("DO_NOT_TRACK")
        .env_remove("SSL_CERT_FILE")
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("start the agent");
    let pid = agent.id();
    // The first report comes after the 10 s settling delay.
    let first = wait_for(Duration::from_secs(60), || collector.posts() > before);
    assert!(first, "the agent's first report did not arrive within 60 s");
    let cpu_start = cpu_ticks(&format!("/proc/{pid}/stat"));
    std::thread::sleep(Duration::from_secs(5));
    let cpu_idle = cpu_ticks(&format!("/proc/{pid}/stat")) - cpu_start;
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let field = |name: &str| -> u64 {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|v| v.split_whitespace().next())
            .and_then(|v| v.parse().ok())
            .unwrap_or(0)
    };
    let (hwm, rss) = (field("VmHWM:"), field("VmRSS:"));
    let (anon, file) = (field("RssAnon:"), field("RssFile:"));
    let threads = field("Threads:");
    let top = largest_mappings(pid, 4);
    let _ = Command::new("kill")
        .args(["-TERM", &pid.to_string()])
        .status();
    let exit = agent.wait().expect("agent exit");
    let finals = wait_for(Duration::from_secs(10), || collector.posts() > before + 1);
    let mib = |kib: u64| kib as f64 / 1024.0;
    let verdict = if hwm <= 8 * 1024 { "met" } else { "MISSED" };
    println!(
        "2. agent idle peak RSS (run, after its first report): {:.2} MiB ({hwm} KiB) | peer: - | - | goal <= 8 MiB (8192 KiB) | {verdict}",
        mib(hwm)
    );
    println!("   binary: {binary}");
    println!(
        "   now {:.1} MiB = {:.1} anon + {:.1} file-backed; largest: {top}; {threads} threads; \
         idle CPU {:.1} ms over 5 s; SIGTERM: exit {}, final report {}",
        mib(rss),
        mib(anon),
        mib(file),
        cpu_idle as f64 * 1000.0 / clock_ticks() as f64,
        exit.code().unwrap_or(-1),
        if finals { "sent" } else { "missing" },
    );
}

/// Full report cycles through the driver, one broker connection kept warm throughout.
fn report_cycles(dir: &Path, servers: &str, collector: &Collector, cycles: usize) {
    // The collector's CA is the only one the HTTP client needs here (minreq reads the file
    // once, at its first HTTPS request).
    std::env::set_var("SSL_CERT_FILE", &collector.ca);
    let log = Log::from_env();
    let topic =
        KafkaTopic::new(&Connection::plaintext(servers), DEFAULT_TOPIC, log).expect("topic sink");
    let topic = Shared(Arc::new(Mutex::new(topic)));
    let run = Run {
        mode: RunMode::OneCycle,
        do_not_track: false,
    };
    let config = ReporterConfig::new(&SupportConfig::default(), run);
    let facts = StaticFacts {
        kafka_version: "3.9.0".to_owned(),
        platform_version: Some("7.9.0".to_owned()),
    };
    let warm_up = 3;
    let mut walls = Vec::new();
    let mut cpu = 0;
    for round in 0..warm_up + cycles {
        let spool = Spool::open(&dir.join("bench-spool"), Duration::ZERO).expect("spool");
        let http = HttpEndpoints {
            client: HttpClient::new(None, None, Duration::from_secs(10)),
            secure: Some(collector.url.clone()),
            insecure: None,
        };
        let before = collector.posts();
        let sinks = Destinations {
            topic: Some(Box::new(topic.clone())),
            http: Some(Box::new(http)),
        };
        let mut driver = Driver::new(&config, spool, facts.clone(), sinks, log).expect("entropy");
        let ticks = cpu_ticks("/proc/self/stat");
        let started = Instant::now();
        let summary = driver.run(Mode::Once {
            deadline: Duration::from_secs(30),
        });
        let wall = started.elapsed();
        let used = cpu_ticks("/proc/self/stat") - ticks;
        drop(driver);
        assert_eq!(
            summary.spooled, 0,
            "cycle {round}: the record was not delivered everywhere"
        );
        assert_eq!(collector.posts(), before + 1, "cycle {round}: no HTTPS 200");
        if round >= warm_up {
            walls.push(wall);
            cpu += used;
        }
    }
    walls.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    let cpu_ms = cpu as f64 * 1000.0 / clock_ticks() as f64 / cycles as f64;
    let median = ms(walls[walls.len() / 2]);
    let verdict = |ok: bool| if ok { "met" } else { "MISSED" };
    println!(
        "2. agent CPU per report cycle ({cycles} cycles, all threads): {cpu_ms:.2} ms | peer: - | - | goal <= 10 ms | {}",
        verdict(cpu_ms <= 10.0)
    );
    println!(
        "5. report cycle on loopback (collect, spool fsync, topic ack, HTTPS 200; warm broker connection): \
         median {median:.1} ms, p90 {:.1} ms | peer: - | - | goal <= 50 ms | {}",
        ms(walls[walls.len() * 9 / 10]),
        verdict(median <= 50.0)
    );
}

/// One producer (and its broker connection) shared by every driver.
#[derive(Clone)]
struct Shared(Arc<Mutex<KafkaTopic>>);

impl TopicSink for Shared {
    fn produce(
        &mut self,
        key: &[u8],
        value: &[u8],
        timeout: Duration,
    ) -> (TopicResult, Option<String>) {
        match self.0.lock() {
            Ok(mut topic) => topic.produce(key, value, timeout),
            Err(_) => (
                TopicResult::Fatal,
                Some("producer lock poisoned".to_owned()),
            ),
        }
    }
}

/// The HTTPS collector in a child process, and how many bodies it has received.
struct Collector {
    child: Child,
    url: String,
    ca: PathBuf,
    posts: Arc<AtomicUsize>,
}

impl Collector {
    fn start(dir: &Path) -> Collector {
        let mut child = Command::new(std::env::current_exe().unwrap())
            .args(["--serve-https", dir.to_str().unwrap()])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .expect("start the collector");
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let ready = lines
            .next()
            .expect("collector output")
            .expect("collector line");
        let mut words = ready.split_whitespace().skip(1);
        let (url, ca) = (
            words.next().unwrap().to_owned(),
            PathBuf::from(words.next().unwrap()),
        );
        let posts = Arc::new(AtomicUsize::new(0));
        let counter = posts.clone();
        std::thread::spawn(move || {
            for line in lines.map_while(Result::ok) {
                if let Some(n) = line.strip_prefix("POSTS ").and_then(|n| n.parse().ok()) {
                    counter.store(n, Ordering::SeqCst);
                }
            }
        });
        Collector {
            child,
            url,
            ca,
            posts,
        }
    }

    fn posts(&self) -> usize {
        // The child reports within 2 ms of a request.
        std::thread::sleep(Duration::from_millis(5));
        self.posts.load(Ordering::SeqCst)
    }
}

impl Drop for Collector {
    fn drop(&mut self) {
        drop(self.child.stdin.take());
        let _ = self.child.wait();
    }
}

/// Child side: an HTTPS server answering 200, its count of bodies on stdout, until stdin closes.
fn serve_https(dir: &Path) {
    let ca = TestCa::new();
    let ca_file = ca.write_ca(dir, "collector-ca.pem");
    let server = TestServer::https(&ca);
    println!("READY {} {}", server.url("/anon"), ca_file.display());
    std::io::stdout().flush().unwrap();
    std::thread::spawn(|| {
        let _ = std::io::stdin().read_to_end(&mut Vec::new());
        std::process::exit(0);
    });
    let mut seen = 0;
    for _ in 0..3_600_000 {
        let n = server.count();
        if n != seen {
            seen = n;
            println!("POSTS {n}");
            std::io::stdout().flush().unwrap();
        }
        std::thread::sleep(Duration::from_millis(1));
    }
}

/// The mappings holding the most resident memory, by file (or `[anon]`), largest first.
fn largest_mappings(pid: u32, n: usize) -> String {
    let smaps = std::fs::read_to_string(format!("/proc/{pid}/smaps")).unwrap_or_default();
    let mut by_name: Vec<(String, u64)> = Vec::new();
    let mut current = String::new();
    for line in smaps.lines() {
        let mut words = line.split_whitespace();
        let first = words.next().unwrap_or_default();
        if first.contains('-') && !first.ends_with(':') {
            // A mapping header: range, perms, offset, device, inode, [path].
            let path = words.nth(4).unwrap_or("[anon]");
            current = path.rsplit('/').next().unwrap_or(path).to_owned();
        } else if first == "Rss:" {
            let kib: u64 = words.next().and_then(|v| v.parse().ok()).unwrap_or(0);
            match by_name.iter_mut().find(|(name, _)| *name == current) {
                Some((_, total)) => *total += kib,
                None => by_name.push((current.clone(), kib)),
            }
        }
    }
    by_name.sort_by_key(|(_, kib)| std::cmp::Reverse(*kib));
    by_name
        .iter()
        .take(n)
        .map(|(name, kib)| format!("{name} {:.1} MiB", *kib as f64 / 1024.0))
        .collect::<Vec<_>>()
        .join(", ")
}

fn wait_for(limit: Duration, mut done: impl FnMut() -> bool) -> bool {
    let end = Instant::now() + limit;
    while Instant::now() < end {
        if done() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    done()
}

/// utime + stime of a process (all its threads, dead ones included), in clock ticks.
fn cpu_ticks(stat: &str) -> u64 {
    let text = std::fs::read_to_string(stat).unwrap_or_default();
    // Fields after the command name, which is in parentheses and may hold spaces.
    let rest = text.rsplit_once(')').map_or("", |(_, r)| r);
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let get = |i: usize| {
        fields
            .get(i)
            .and_then(|v| v.parse::<u64>().ok())
            .unwrap_or(0)
    };
    // utime and stime are fields 14 and 15 of the whole line, 12 and 13 after the name.
    get(11) + get(12)
}

fn clock_ticks() -> u64 {
    Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(100)
}
