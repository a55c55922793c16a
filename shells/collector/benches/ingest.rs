//! Ingest throughput: 64 concurrent clients on loopback post distinct records for a few
//! seconds to the collector with SQLite, then the same load to a do-nothing server on the
//! same stack (hyper + axum, the same connection handling): the limit. Prints records/s and
//! p99 latency of each, and their ratio.
//!
//! A third server on the same stack shows what durability alone costs on this disk: it
//! decodes nothing and stores nothing, but answers a body only after a thread has written it
//! to disk, in groups as the collector's writer does, the cheapest way measured here: one
//! `O_DSYNC` write per group into a file written full of zeros beforehand (so no write
//! changes the file's size or extents; appending and `fdatasync` reached only 0.44 to 0.48 of
//! the do-nothing server). That is the floor for any server that answers 2xx only for what is
//! on disk.
//!
//! Last, SQLite alone through the collector's store, fed by no server, in commits of 18 rows
//! (the size the load makes) and of 64: what the one writer takes here.
//!
//! `cargo bench -p support-metrics-collector --bench ingest` (`ci/bench collector`).
//! `SUPPORT_METRICS_BENCH_SECS` sets the seconds per phase (default 3; three rounds of each).

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use axum::routing::post;
use axum::Router;
use support_metrics_collector::advisories::Advisories;
use support_metrics_collector::server::{router, serve, Limits, Settings};
use support_metrics_collector::store::Store;
use support_metrics_collector::writer::Writer;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};

const CLIENTS: u64 = 64;

fn main() {
    let secs: u64 = std::env::var("SUPPORT_METRICS_BENCH_SECS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(3);
    // The collector's own runtime for both servers; the clients on a runtime of their own.
    let runtime = support_metrics_collector::server::runtime().unwrap();
    let clients = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let dir = std::env::temp_dir().join(format!("sm-collector-bench-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let url = format!("sqlite:{}", dir.join("bench.db").display());

    let (real_addr, null_addr, floor_addr) = runtime.block_on(async {
        let settings = Settings {
            advisories: Advisories::default(),
            full_addresses: false,
            interval_secs: 86_400,
            request_timeout: Duration::from_secs(10),
            fleet_from: Vec::new(),
        };
        let writer = Writer::start(Store::open(&url).unwrap()).unwrap();
        let app = router(writer, Store::open(&url).unwrap(), settings);
        let real = start(app).await;
        let nothing = Router::new().route(
            "/anon",
            post(|body: axum::body::Bytes| async move {
                std::hint::black_box(body);
                "{}"
            }),
        );
        let null = start(nothing).await;
        let floor = start(floor_server(&dir.join("floor.log"))).await;
        (real, null, floor)
    });
    // A shared machine wanders: the two are measured in alternation, and each figure is the
    // median of three rounds.
    let secs = Duration::from_secs(secs);
    let (mut real, mut null, mut floor) = (Vec::new(), Vec::new(), Vec::new());
    for round in 0..3u64 {
        real.push(clients.block_on(load(real_addr, secs, round << 36)));
        null.push(clients.block_on(load(null_addr, secs, (round + 8) << 36)));
        floor.push(clients.block_on(load(floor_addr, secs, (round + 16) << 36)));
    }
    let median = |v: &mut Vec<(f64, Duration)>| {
        v.sort_by(|a, b| a.0.total_cmp(&b.0));
        let rate = v[1].0;
        let mut p99: Vec<Duration> = v.iter().map(|x| x.1).collect();
        p99.sort();
        (rate, p99[1])
    };
    let (real_rate, real_p99) = median(&mut real);
    let (null_rate, null_p99) = median(&mut null);
    let (floor_rate, _) = median(&mut floor);
    let stored = Store::open(&url).unwrap().count().unwrap();
    let ratio = real_rate / null_rate;
    let met = if ratio >= 0.5 && real_rate >= 10_000.0 {
        "met"
    } else {
        "MISSED"
    };
    println!(
        "6. collector ingest, {CLIENTS} clients, SQLite (WAL, synchronous=FULL, {stored} records): \
         {real_rate:.0} records/s, p99 {:.1} ms (durability alone, an O_DSYNC write per group: \
         {floor_rate:.0}/s, {:.2}x) | peer: do-nothing server on the same stack \
         {null_rate:.0} requests/s, p99 {:.1} ms | {ratio:.2}x | goal >= 0.50x and >= 10000/s | {met}",
        real_p99.as_secs_f64() * 1e3,
        floor_rate / null_rate,
        null_p99.as_secs_f64() * 1e3,
    );
    // What bounds the collector here: its one writer's commits. SQLite alone, fed by no
    // server, in commits of the size the load makes (about 18 rows) and of all 64 clients.
    let alone: Vec<String> = [18, 64]
        .iter()
        .map(|&g| format!("{:.0}/s in commits of {g}", storage_alone(&dir, g)))
        .collect();
    println!(
        "   SQLite alone (one writer, synchronous=FULL, random tokens): {}",
        alone.join(", ")
    );
    let wal = std::fs::metadata(dir.join("bench.db-wal")).map_or(0, |m| m.len());
    eprintln!("write-ahead log at the end: {} MiB", wal >> 20);
    let _ = std::fs::remove_dir_all(&dir);
}

/// Rows per second into a fresh SQLite database through the collector's store, committed
/// `group` rows at a time, every row with a random token and the same second (as under load).
fn storage_alone(dir: &std::path::Path, group: usize) -> f64 {
    use support_metrics_collector::record::{decode, Origin};
    const ROWS: usize = 20_000;
    let url = format!("sqlite:{}", dir.join(format!("alone-{group}.db")).display());
    let mut store = Store::open(&url).unwrap();
    let mut rng = support_metrics_core::rand::Rng::new(group as u64);
    let now = support_metrics_collector::now();
    let rows: Vec<_> = (0..ROWS)
        .map(|_| {
            let (a, b) = (rng.next_u64(), rng.next_u64());
            let body = format!(
                r#"{{"timestamp":{now},"kafkaVersion":"3.7.0","confluentPlatformVersion":null,"brokerProcessUUID":"{:08x}-{:04x}-4{:03x}-8{:03x}-{:012x}","collectorState":2}}"#,
                a >> 32,
                (a >> 16) & 0xffff,
                a & 0xfff,
                b >> 52,
                b & 0xffff_ffff_ffff
            );
            let origin = Origin {
                via: "http",
                component: None,
                remote: Some("127.0.0.0/24".to_owned()),
            };
            (decode(body.as_bytes(), Some("anon")).unwrap(), origin)
        })
        .collect();
    let started = Instant::now();
    for chunk in rows.chunks(group) {
        store.insert(chunk, now).unwrap();
    }
    ROWS as f64 / started.elapsed().as_secs_f64()
}

/// The durability floor: each group of bodies is written to `path` with `O_DSYNC` before the
/// answers; the file is written full beforehand and reused from its start when full.
fn floor_server(path: &std::path::Path) -> Router {
    use std::os::unix::fs::{FileExt, OpenOptionsExt};
    type Job = (axum::body::Bytes, tokio::sync::oneshot::Sender<()>);
    const SIZE: u64 = 256 << 20;
    std::fs::write(path, vec![0u8; SIZE as usize]).unwrap();
    let file = std::fs::OpenOptions::new()
        .write(true)
        .custom_flags(libc::O_DSYNC)
        .open(path)
        .unwrap();
    file.sync_all().unwrap();
    let (tx, mut rx) = tokio::sync::mpsc::channel::<Job>(4096);
    std::thread::spawn(move || {
        let mut at = 0u64;
        let mut buf = Vec::new();
        while let Some(first) = rx.blocking_recv() {
            let mut group = vec![first];
            while let Ok(job) = rx.try_recv() {
                group.push(job);
            }
            buf.clear();
            for (body, _) in &group {
                buf.extend_from_slice(body);
            }
            if at + buf.len() as u64 > SIZE {
                at = 0;
            }
            file.write_all_at(&buf, at).unwrap();
            at += buf.len() as u64;
            for (_, reply) in group {
                let _ = reply.send(());
            }
        }
    });
    Router::new().route(
        "/anon",
        post(move |body: axum::body::Bytes| {
            let tx = tx.clone();
            async move {
                let (reply, done) = tokio::sync::oneshot::channel();
                tx.send((body, reply)).await.unwrap();
                done.await.unwrap();
                "{}"
            }
        }),
    )
}

async fn start(app: Router) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(serve(
        listener,
        app,
        Limits {
            idle_timeout: Duration::from_secs(30),
            max_connections: 1024,
        },
        None,
        std::future::pending(),
    ));
    addr
}

/// Every client posts on one kept-alive connection until `secs` pass; requests per second
/// (2xx only) and the p99 latency.
async fn load(addr: SocketAddr, secs: Duration, base: u64) -> (f64, Duration) {
    let started = Instant::now();
    let deadline = started + secs;
    let tasks: Vec<_> = (0..CLIENTS)
        .map(|c| tokio::spawn(client(addr, deadline, base + (c << 24))))
        .collect();
    let mut latencies = Vec::new();
    let mut ok = 0u64;
    for t in tasks {
        let (n, l) = t.await.unwrap();
        ok += n;
        latencies.extend(l);
    }
    let elapsed = started.elapsed().as_secs_f64();
    latencies.sort_unstable();
    let p99 = latencies
        .get(latencies.len() * 99 / 100)
        .copied()
        .unwrap_or_default();
    (ok as f64 / elapsed, p99)
}

async fn client(addr: SocketAddr, deadline: Instant, base: u64) -> (u64, Vec<Duration>) {
    let stream = TcpStream::connect(addr).await.unwrap();
    stream.set_nodelay(true).unwrap();
    let (read, mut write) = stream.into_split();
    let mut read = BufReader::new(read);
    let mut ok = 0;
    let mut latencies = Vec::new();
    let mut line = String::new();
    for i in 0u64.. {
        if Instant::now() >= deadline {
            break;
        }
        // As an agent stamps its record: the time it is sent.
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs();
        let n = base + i;
        let body = format!(
            r#"{{"timestamp":{now},"kafkaVersion":"3.7.0","confluentPlatformVersion":null,"brokerProcessUUID":"{:08x}-0000-4000-8000-{:012x}","collectorState":2}}"#,
            n >> 48,
            n & 0xffff_ffff_ffff
        );
        let request = format!(
            "POST /anon HTTP/1.1\r\nHost: bench\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        );
        let sent = Instant::now();
        write.write_all(request.as_bytes()).await.unwrap();
        let mut status = 0;
        let mut length = 0usize;
        loop {
            line.clear();
            read.read_line(&mut line).await.unwrap();
            if status == 0 {
                status = line
                    .split_whitespace()
                    .nth(1)
                    .and_then(|s| s.parse().ok())
                    .unwrap_or(0);
            } else if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                length = v.trim().parse().unwrap_or(0);
            } else if line == "\r\n" {
                break;
            }
        }
        let mut body = vec![0u8; length];
        read.read_exact(&mut body).await.unwrap();
        latencies.push(sent.elapsed());
        if status == 200 {
            ok += 1;
        }
    }
    (ok, latencies)
}
