//! Retention under load: `sightline prune` deleting millions of old raw requests while
//! HTTP ingest goes on, next to the same ingest with no prune running, in the same run,
//! on SQLite and PostgreSQL. Run with `cargo bench --bench prune`
//! (`SIGHTLINE_BENCH_PRUNE_ROWS`, default 2 000 000 old rows).

mod support;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use sightline::store::{Scope, Store};
use support::BenchDb;

const BATCH: usize = 1_000;
const CLIENTS: usize = 4;
const DAY: i64 = 86_400_000;
/// Baseline ingest: this many events with no prune running.
const BASELINE_EVENTS: usize = 200_000;

/// One batch of events as a template: ids start with `{P}` and timestamps with `{T}`,
/// so each call posts new events, 10 ms apart, the next 10 s after the previous
/// call's (traffic moves forward in time, as a platform's does), at little cost.
struct Template {
    body: String,
    /// The first call's `{T}`: 6 hours ago, in units of 10 s.
    start: i64,
}

const CALL_SPAN_MS: i64 = 10_000;

impl Template {
    fn new() -> Arc<Template> {
        let rows = support::chat_requests("{P}", BATCH, 0);
        let stamps = regex::Regex::new(r#""timestamp":(\d+)"#).unwrap();
        let body = stamps
            .replace_all(&support::ingest_body(&rows), |c: &regex::Captures<'_>| {
                let offset: i64 = c[1].parse().unwrap();
                format!(r#""timestamp":{{T}}{:04}"#, offset / 10)
            })
            .into_owned();
        let start = (chrono::Utc::now().timestamp_millis() - 6 * 3_600_000) / CALL_SPAN_MS;
        Arc::new(Template { body, start })
    }

    /// The body of call `n` (counted across both phases).
    fn call(&self, n: usize) -> String {
        self.body
            .replace("{P}", &format!("c{n}"))
            .replace("{T}", &(self.start + n as i64).to_string())
    }
}

struct Figures {
    old: usize,
    prune_s: f64,
    baseline: f64,
    during: f64,
    baseline_p99_ms: f64,
    during_p99_ms: f64,
    during_max_ms: f64,
}

async fn run(backend: &str, dir: &std::path::Path) -> Figures {
    let db = BenchDb::create(backend, dir, "prune.db").await;
    let store = Store::connect(&db.url).await.unwrap();
    store.migrate().await.unwrap();
    // Old traffic, 120 days back (only the raw rows matter to the prune).
    let old = support::env_count("SIGHTLINE_BENCH_PRUNE_ROWS", 2_000_000);
    let t_old = chrono::Utc::now().timestamp_millis() - 120 * DAY;
    for (n, chunk) in (0..old).collect::<Vec<_>>().chunks(50_000).enumerate() {
        let rows = support::chat_requests(&format!("old{n}"), chunk.len(), t_old);
        for part in rows.chunks(BATCH) {
            store.insert_raw_requests(part).await.unwrap();
        }
    }
    let key = store
        .create_api_key("bench", &[Scope::Ingest], None, 0)
        .await
        .unwrap()
        .1;
    // The server's own retention job must not start a prune of its own.
    let (mut server, base) =
        support::start_server(&db.url, &[("SIGHTLINE_RETENTION_DAYS", "3650")]);

    let batch = Template::new();
    let started = Instant::now();
    let base_batch = batch.clone();
    let mut calls = support::post_bodies(
        &base,
        &key,
        CLIENTS,
        Arc::new(move |i| (i < BASELINE_EVENTS / BATCH).then(|| base_batch.call(i))),
    )
    .await;
    let baseline = BASELINE_EVENTS as f64 / started.elapsed().as_secs_f64();
    let baseline_p99_ms = support::quantile(&mut calls, 0.99);

    // The prune, as an operator runs it, while the clients keep posting until it ends.
    let pruning = Arc::new(AtomicBool::new(true));
    let prune = {
        let (url, pruning) = (db.url.clone(), pruning.clone());
        tokio::task::spawn_blocking(move || {
            let started = Instant::now();
            let out = std::process::Command::new(env!("CARGO_BIN_EXE_sightline"))
                .args(["prune", "--days", "90"])
                .env("SIGHTLINE_DATABASE_URL", &url)
                .env("SIGHTLINE_LOG", "warn")
                .output()
                .unwrap();
            pruning.store(false, Ordering::SeqCst);
            assert!(
                out.status.success(),
                "{}",
                String::from_utf8_lossy(&out.stderr)
            );
            (
                started.elapsed(),
                String::from_utf8_lossy(&out.stdout).into_owned(),
            )
        })
    };
    let started = Instant::now();
    let flag = pruning.clone();
    let mut calls = support::post_bodies(
        &base,
        &key,
        CLIENTS,
        Arc::new(move |i| {
            flag.load(Ordering::SeqCst)
                .then(|| batch.call(BASELINE_EVENTS / BATCH + i))
        }),
    )
    .await;
    let during = (calls.len() * BATCH) as f64 / started.elapsed().as_secs_f64();
    let (prune_took, printed) = prune.await.unwrap();
    assert!(
        printed.starts_with(&format!("deleted {old} requests")),
        "{printed}"
    );
    let during_p99_ms = support::quantile(&mut calls, 0.99);
    let during_max_ms = calls.last().map_or(0.0, |d| d.as_secs_f64() * 1000.0);

    let _ = server.kill();
    let _ = server.wait();
    let left = store
        .count_before(sightline::store::Prunable::Requests, i64::MAX)
        .await
        .unwrap();
    let posted = BASELINE_EVENTS + calls.len() * BATCH;
    assert_eq!(
        left as usize, posted,
        "every ingested event stored, every old one gone"
    );
    store.close().await;
    db.drop_database().await;
    Figures {
        old,
        prune_s: prune_took.as_secs_f64(),
        baseline,
        during,
        baseline_p99_ms,
        during_p99_ms,
        during_max_ms,
    }
}

#[tokio::main]
async fn main() {
    let dir = tempfile::tempdir().unwrap();
    println!(
        "Prune under load: old raw requests deleted by `sightline prune` while {CLIENTS} HTTP clients ingest batches of {BATCH}\n"
    );
    println!(
        "| database   | old rows  | prune time | pruned rows/s | ingest alone | ingest during prune | during / alone | call p99 alone | call p99 during | slowest call during |"
    );
    println!(
        "|------------|----------:|-----------:|--------------:|-------------:|--------------------:|---------------:|---------------:|----------------:|--------------------:|"
    );
    for backend in support::backends() {
        let f = run(backend, dir.path()).await;
        println!(
            "| {backend:<10} | {:>9} | {:>8.1} s | {:>13.0} | {:>7.0} ev/s | {:>14.0} ev/s | {:>13.0}% | {:>11.0} ms | {:>12.0} ms | {:>16.0} ms |",
            f.old,
            f.prune_s,
            f.old as f64 / f.prune_s,
            f.baseline,
            f.during,
            100.0 * f.during / f.baseline,
            f.baseline_p99_ms,
            f.during_p99_ms,
            f.during_max_ms
        );
    }
}
