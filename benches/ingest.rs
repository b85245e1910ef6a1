//! Ingest throughput: events/s through the HTTP API (batches of 1 000 from several
//! concurrent clients, real server binary on loopback) next to the raw bulk insert of
//! the same rows into `request_log` alone, measured in the same run, on SQLite and on
//! PostgreSQL. Run with `cargo bench --bench ingest` (PostgreSQL at
//! `SIGHTLINE_TEST_POSTGRES_URL`, default the local server).

mod support;

use std::sync::Arc;
use std::time::Instant;

use sightline::store::{NewRequest, Store};
use support::BenchDb;

const EVENTS: usize = 200_000;
const BATCH: usize = 1_000;
const CLIENTS: usize = 4;

fn events(prefix: &str) -> Vec<NewRequest> {
    let t0 = chrono::Utc::now().timestamp_millis() - 6 * 3_600_000;
    support::chat_requests(prefix, EVENTS, t0)
}

async fn raw_insert_rate(url: &str, rows: &[NewRequest]) -> f64 {
    let store = Store::connect(url).await.unwrap();
    store.migrate().await.unwrap();
    let started = Instant::now();
    for chunk in rows.chunks(BATCH) {
        store.insert_raw_requests(chunk).await.unwrap();
    }
    let rate = rows.len() as f64 / started.elapsed().as_secs_f64();
    store.close().await;
    rate
}

async fn http_rate(url: &str, rows: &[NewRequest]) -> f64 {
    let (store, key, mut server, base) = support::ingest_server(url).await;
    let bodies: Vec<String> = rows.chunks(BATCH).map(support::ingest_body).collect();
    let started = Instant::now();
    support::post_bodies(
        &base,
        &key,
        CLIENTS,
        Arc::new(move |i| bodies.get(i).cloned()),
    )
    .await;
    let rate = rows.len() as f64 / started.elapsed().as_secs_f64();
    let _ = server.kill();
    let _ = server.wait();
    let stored: i64 = store
        .traffic(86_400_000, 0, i64::MAX / 2)
        .await
        .unwrap()
        .iter()
        .map(|b| b.sums.requests)
        .sum();
    assert_eq!(stored as usize, rows.len(), "every event counted once");
    store.close().await;
    rate
}

#[tokio::main]
async fn main() {
    let dir = tempfile::tempdir().unwrap();
    println!(
        "Ingest: {EVENTS} request events, batches of {BATCH}, {CLIENTS} concurrent HTTP clients\n"
    );
    println!(
        "| database   | raw insert (request_log only) | HTTP ingest (+ rollups, sessions, stats) | HTTP / raw |"
    );
    println!(
        "|------------|------------------------------:|-----------------------------------------:|-----------:|"
    );
    for backend in support::backends() {
        let rows = events("raw");
        let db = BenchDb::create(backend, dir.path(), "raw.db").await;
        let raw = raw_insert_rate(&db.url, &rows).await;
        db.drop_database().await;
        let rows = events("http");
        let db = BenchDb::create(backend, dir.path(), "http.db").await;
        let http = http_rate(&db.url, &rows).await;
        db.drop_database().await;
        println!(
            "| {backend:<10} | {:>23.0} ev/s | {:>34.0} ev/s | {:>9.0}% |",
            raw,
            http,
            100.0 * http / raw
        );
    }
}
