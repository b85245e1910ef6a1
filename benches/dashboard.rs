//! Dashboard speed: server time of the full dashboard report (every card, from the
//! rollups) for each range, next to the main figures computed from the raw rows in the
//! same run, on SQLite and PostgreSQL. `cargo bench --bench dashboard`; the number of
//! stored requests is `SIGHTLINE_BENCH_REQUESTS` (default 1 000 000), written by the demo
//! generator over 90 days through the ingest write path; `SIGHTLINE_BENCH_DATABASES=sqlite`
//! or `=postgres` runs one database only.

mod support;

use std::time::Instant;

use sightline::demo::{self, DemoOptions};
use sightline::store::Store;
use sightline_app::range::{RangeKind, TimeRange};
use sightline_app::units::EpochMillis;
use support::BenchDb;

fn median(mut xs: Vec<f64>) -> f64 {
    xs.sort_by(f64::total_cmp);
    xs[xs.len() / 2]
}

async fn time_ms<F, Fut, T>(runs: usize, mut f: F) -> f64
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = T>,
{
    let mut times = Vec::new();
    for _ in 0..runs {
        let started = Instant::now();
        let _ = f().await;
        times.push(started.elapsed().as_secs_f64() * 1000.0);
    }
    median(times)
}

#[tokio::main]
async fn main() {
    let requests = support::env_count("SIGHTLINE_BENCH_REQUESTS", 1_000_000) as u32;
    let dir = tempfile::tempdir().unwrap();
    println!(
        "Dashboard: {requests} requests over 90 days; median server time of the full report vs a raw scan\n"
    );
    println!(
        "| database   | range | report from rollups | raw scan of request_log | raw / rollups |"
    );
    println!(
        "|------------|-------|--------------------:|------------------------:|--------------:|"
    );
    for backend in support::backends() {
        let db = BenchDb::create(backend, dir.path(), "dash.db").await;
        let url = db.url.clone();
        let store = Store::connect(&url).await.unwrap();
        store.migrate().await.unwrap();
        let now = chrono::Utc::now().timestamp_millis();
        // The demo adds ~12% provider calls and attack requests on top of its served requests.
        let per_day = (f64::from(requests) / 90.0 / 1.0) as u32;
        let seeded = Instant::now();
        let (_, report) = demo::seed(
            &store,
            &DemoOptions {
                days: 90,
                users: 2_000,
                per_day,
                seed: 3,
            },
            now,
            false,
        )
        .await
        .unwrap();
        eprintln!(
            "{backend}: seeded {} requests in {:.0} s",
            report.requests,
            seeded.elapsed().as_secs_f64()
        );
        if db.is_postgres() {
            sqlx::query("ANALYZE")
                .execute(&sqlx::PgPool::connect(&url).await.unwrap())
                .await
                .unwrap();
        }
        let budgets = sightline::budgets::Budgets::new(store.clone(), Default::default());
        for kind in RangeKind::PRESETS {
            let range = TimeRange::preset(kind, EpochMillis(now));
            let rollups = time_ms(7, || {
                sightline::dashboard::report(&store, &budgets, &range, EpochMillis(now))
            })
            .await;
            let raw = time_ms(3, || {
                store.raw_cards(range.start.ms(), range.end.ms(), range.bucket_ms)
            })
            .await;
            println!(
                "| {backend:<10} | {:<5} | {:>16.1} ms | {:>20.1} ms | {:>12.1}× |",
                kind.as_str(),
                rollups,
                raw,
                raw / rollups
            );
        }
        store.close().await;
        db.drop_database().await;
    }
}
