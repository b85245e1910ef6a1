//! CSV export: every request of a 1M-row store streamed through
//! `GET /api/v1/export/requests.csv?range=all` from the real server binary, on SQLite and
//! PostgreSQL. Reports rows, bytes and time next to a bare in-process scan of the same
//! rows (the baseline of the same run), and the server's peak memory (VmHWM) before and
//! after the export. `cargo bench --bench export`; `SIGHTLINE_BENCH_REQUESTS` sets the
//! rows (default 1 000 000), `SIGHTLINE_BENCH_DATABASES=sqlite|postgres` one database.

mod support;

use std::time::Instant;

use futures_util::TryStreamExt;
use sightline::demo::{self, DemoOptions};
use sightline::store::{Scope, Store};
use support::BenchDb;

/// Peak resident memory of process `pid`, in MiB.
fn peak_mib(pid: u32) -> f64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let kib: f64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap();
    kib / 1024.0
}

#[tokio::main]
async fn main() {
    let requests = support::env_count("SIGHTLINE_BENCH_REQUESTS", 1_000_000) as u32;
    let dir = tempfile::tempdir().unwrap();
    println!(
        "CSV export of every request through the HTTP API, next to a bare scan of the same rows\n"
    );
    println!(
        "| database   | rows      | CSV MiB | bare scan | export   | export / scan | server peak before | server peak after |"
    );
    println!(
        "|------------|----------:|--------:|----------:|---------:|--------------:|-------------------:|------------------:|"
    );
    for backend in support::backends() {
        let db = BenchDb::create(backend, dir.path(), "export.db").await;
        let url = db.url.clone();
        let store = Store::connect(&url).await.unwrap();
        store.migrate().await.unwrap();
        let now = chrono::Utc::now().timestamp_millis();
        demo::seed(
            &store,
            &DemoOptions {
                days: 90,
                users: 2_000,
                per_day: requests / 90,
                seed: 9,
            },
            now,
            false,
        )
        .await
        .unwrap();
        let key = store
            .create_api_key("bench", &[Scope::Read], None, 0)
            .await
            .unwrap()
            .1;

        // The baseline: every row of request_log read in-process, nothing written.
        let pool = sqlx::AnyPool::connect(&url).await.unwrap();
        let started = Instant::now();
        let mut scanned = 0u64;
        let mut rows = sqlx::query(
            "SELECT request_id, created_at, kind, service, method, endpoint, status_code, \
                    latency_ms, ttft_ms, model_name, prompt_tokens, completion_tokens, cost_micros, \
                    finish_reason, user_id, session_id, \
                    CAST(CASE WHEN is_authenticated THEN 1 ELSE 0 END AS BIGINT), ip, country, \
                    user_agent, request_bytes, response_bytes, error, metadata \
             FROM request_log ORDER BY created_at DESC, id DESC",
        )
        .fetch(&pool);
        while rows.try_next().await.unwrap().is_some() {
            scanned += 1;
        }
        drop(rows);
        let scan_s = started.elapsed().as_secs_f64();
        pool.close().await;

        // The oldest seeded rows pass 90 days during the run: keep the server's hourly
        // prune from deleting them under the export.
        let (mut server, base) = support::start_server(
            &url,
            &[
                ("SIGHTLINE_LOG", "error"),
                ("SIGHTLINE_RETENTION_DAYS", "3650"),
            ],
        );
        // A first small request, so the idle peak includes a warmed-up server.
        let client = reqwest::Client::new();
        client
            .get(format!("{base}/api/v1/export/threats.csv"))
            .bearer_auth(&key)
            .send()
            .await
            .unwrap()
            .bytes()
            .await
            .unwrap();
        let before = peak_mib(server.id());
        let started = Instant::now();
        let mut reply = client
            .get(format!("{base}/api/v1/export/requests.csv?range=all"))
            .bearer_auth(&key)
            .send()
            .await
            .unwrap();
        assert_eq!(reply.status(), 200);
        let (mut bytes, mut newlines) = (0u64, 0u64);
        while let Some(chunk) = reply.chunk().await.unwrap() {
            bytes += chunk.len() as u64;
            newlines += chunk.iter().filter(|b| **b == b'\n').count() as u64;
        }
        let export_s = started.elapsed().as_secs_f64();
        let after = peak_mib(server.id());
        let _ = server.kill();
        let _ = server.wait();
        // Newlines inside quoted cells would inflate the count; the demo writes none.
        assert_eq!(newlines, scanned + 1, "one CSV line a row, plus the header");
        println!(
            "| {backend:<10} | {scanned:>9} | {:>7.1} | {:>7.2} s | {:>6.2} s | {:>12.1}× | {:>14.1} MiB | {:>13.1} MiB |",
            bytes as f64 / 1_048_576.0,
            scan_s,
            export_s,
            export_s / scan_s,
            before,
            after
        );
        store.close().await;
        db.drop_database().await;
    }
}
