//! Floods (issue 15, items 2 and 4): ingest throughput and p99 of the release server
//! while it is attacked, next to ingest alone in the same run, on SQLite and PostgreSQL.
//!
//! - *20 stalled exports*: twenty clients ask for `requests.csv?range=all` of a store of
//!   `SIGHTLINE_BENCH_EXPORT_ROWS` rows (default 200 000), read the status line and then
//!   nothing more, for the whole measurement.
//! - *2 000 throttled sign-ins/s*: one address guesses one username's password 2 000
//!   times a second (after five failures every attempt is throttled).
//!
//! Each phase posts `SIGHTLINE_BENCH_REQUESTS` events (default 40 000) in batches of
//! 100 from 4 clients; a 503 or 429 is counted and retried after 5 ms. Target: within
//! 10% of ingest alone, and no 503. `cargo bench --bench floods`.

mod support;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use sightline::store::{Scope, Store};
use support::BenchDb;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const BATCH: usize = 100;
const CLIENTS: usize = 4;
const STALLED_EXPORTS: usize = 20;
const SIGN_INS_PER_SEC: usize = 2_000;

/// One measured phase of ingest.
struct Phase {
    events_per_s: f64,
    p99_ms: f64,
    refused: usize,
}

/// Posts `events` new events (ids `prefix-i`) to the server: throughput, p99, refusals.
async fn ingest(base: &str, key: &str, prefix: &str, events: usize) -> Phase {
    let t0 = chrono::Utc::now().timestamp_millis() - 3_600_000;
    let rows = support::chat_requests(prefix, events, t0);
    let bodies: Arc<Vec<Vec<u8>>> = Arc::new(
        rows.chunks(BATCH)
            .map(|c| support::ingest_body(c).into_bytes())
            .collect(),
    );
    let url = format!("{base}/api/v1/ingest");
    let started = Instant::now();
    let (mut calls, refused) = support::post_counting(
        &url,
        "application/json",
        Some(key),
        CLIENTS,
        Arc::new(move |i| bodies.get(i).cloned()),
    )
    .await;
    let secs = started.elapsed().as_secs_f64();
    Phase {
        events_per_s: events as f64 / secs,
        p99_ms: support::quantile(&mut calls, 0.99),
        refused,
    }
}

/// Opens `n` exports whose clients read the answer's head and then nothing; the
/// connections (kept open while they live) and the status codes.
async fn stall_exports(base: &str, key: &str, n: usize) -> (Vec<tokio::net::TcpStream>, Vec<u16>) {
    let addr = base.trim_start_matches("http://").to_string();
    let mut streams = Vec::new();
    let mut statuses = Vec::new();
    for _ in 0..n {
        let socket = tokio::net::TcpSocket::new_v4().unwrap();
        socket.set_recv_buffer_size(4096).unwrap();
        let mut stream = socket.connect(addr.parse().unwrap()).await.unwrap();
        let request = format!(
            "GET /api/v1/export/requests.csv?range=all HTTP/1.1\r\nHost: {addr}\r\n\
             Authorization: Bearer {key}\r\n\r\n"
        );
        stream.write_all(request.as_bytes()).await.unwrap();
        let mut head = [0u8; 12];
        stream.read_exact(&mut head).await.unwrap();
        let status = std::str::from_utf8(&head[9..12]).unwrap().parse().unwrap();
        statuses.push(status);
        streams.push(stream);
    }
    (streams, statuses)
}

/// Sends [`SIGN_INS_PER_SEC`] sign-ins a second (one address, one username, wrong
/// password) until `stop` is set: how many were sent and how many answered 429.
async fn flood_sign_ins(base: String, stop: Arc<std::sync::atomic::AtomicBool>) -> (usize, usize) {
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(256)
        .build()
        .unwrap();
    let sent = Arc::new(AtomicUsize::new(0));
    let throttled = Arc::new(AtomicUsize::new(0));
    let in_flight = Arc::new(tokio::sync::Semaphore::new(256));
    let mut tick = tokio::time::interval(Duration::from_millis(10));
    let per_tick = SIGN_INS_PER_SEC / 100;
    while !stop.load(Ordering::Relaxed) {
        tick.tick().await;
        for _ in 0..per_tick {
            let Ok(permit) = in_flight.clone().try_acquire_owned() else {
                continue; // the server is slower than the flood: the attempt is skipped
            };
            let (client, base, sent, throttled) = (
                client.clone(),
                base.clone(),
                sent.clone(),
                throttled.clone(),
            );
            tokio::spawn(async move {
                let reply = client
                    .post(format!("{base}/api/ui/login"))
                    .header("origin", &base)
                    .form(&[("username", "admin"), ("password", "guess"), ("next", "/")])
                    .send()
                    .await;
                sent.fetch_add(1, Ordering::Relaxed);
                if reply.is_ok_and(|r| r.status() == 429) {
                    throttled.fetch_add(1, Ordering::Relaxed);
                }
                drop(permit);
            });
        }
    }
    (
        sent.load(Ordering::Relaxed),
        throttled.load(Ordering::Relaxed),
    )
}

#[tokio::main]
async fn main() {
    let events = support::env_count("SIGHTLINE_BENCH_REQUESTS", 40_000);
    let export_rows = support::env_count("SIGHTLINE_BENCH_EXPORT_ROWS", 200_000);
    let dir = tempfile::tempdir().unwrap();
    println!(
        "Ingest under attack: {events} events a phase, batches of {BATCH}, {CLIENTS} clients, \
         next to ingest alone\n"
    );
    println!(
        "| database   | phase                          | events/s | vs alone | p99 batch ms | 503/429 | the attack |"
    );
    println!(
        "|------------|--------------------------------|---------:|---------:|-------------:|--------:|------------|"
    );
    for backend in support::backends() {
        let db = BenchDb::create(backend, dir.path(), "floods.db").await;
        let store = Store::connect(&db.url).await.unwrap();
        store.migrate().await.unwrap();
        let t0 = chrono::Utc::now().timestamp_millis() - 20 * 86_400_000;
        for chunk in support::chat_requests("seed", export_rows, t0).chunks(5_000) {
            store.record_requests(chunk).await.unwrap();
        }
        let ingest_key = store
            .create_api_key("bench", &[Scope::Ingest], None, 0)
            .await
            .unwrap()
            .1;
        let read_key = store
            .create_api_key("export", &[Scope::Read], None, 0)
            .await
            .unwrap()
            .1;
        let (mut server, base) = support::start_server(&db.url, &[]);
        let row = |phase: &str, p: &Phase, alone: f64, attack: &str| {
            println!(
                "| {backend:<10} | {phase:<30} | {:>8.0} | {:>7.0}% | {:>12.1} | {:>7} | {attack} |",
                p.events_per_s,
                100.0 * p.events_per_s / alone,
                p.p99_ms,
                p.refused
            );
        };

        // Warm-up, then ingest alone.
        ingest(&base, &ingest_key, "warm", events / 10).await;
        let alone = ingest(&base, &ingest_key, "alone", events).await;
        row("ingest alone", &alone, alone.events_per_s, "");

        let (streams, statuses) = stall_exports(&base, &read_key, STALLED_EXPORTS).await;
        let during = ingest(&base, &ingest_key, "exports", events).await;
        let open = statuses.iter().filter(|s| **s == 200).count();
        let refused = statuses.iter().filter(|s| **s == 429).count();
        row(
            "during 20 stalled exports",
            &during,
            alone.events_per_s,
            &format!("{open} exports stalled, {refused} refused 429"),
        );
        drop(streams);

        let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let flood = tokio::spawn(flood_sign_ins(base.clone(), stop.clone()));
        tokio::time::sleep(Duration::from_millis(500)).await;
        let started = Instant::now();
        let during = ingest(&base, &ingest_key, "sign-ins", events).await;
        let secs = started.elapsed().as_secs_f64() + 0.5;
        stop.store(true, Ordering::Relaxed);
        let (sent, throttled) = flood.await.unwrap();
        row(
            "during 2 000 sign-ins/s",
            &during,
            alone.events_per_s,
            &format!(
                "{:.0} sign-ins/s answered, {:.1}% of them 429",
                sent as f64 / secs,
                100.0 * throttled as f64 / sent.max(1) as f64
            ),
        );

        let _ = server.kill();
        let _ = server.wait();
        store.close().await;
        db.drop_database().await;
    }
}
