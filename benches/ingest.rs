//! Ingest throughput: events/s through the HTTP API (batches of 1 000 from several
//! concurrent clients, real server binary on loopback) next to the raw bulk insert of
//! the same rows into `request_log` alone, measured in the same run, on SQLite and on
//! PostgreSQL. Run with `cargo bench --bench ingest` (PostgreSQL at
//! `SIGHTLINE_TEST_POSTGRES_URL`, default the local server).

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use sightline::store::{NewRequest, Scope, Store};
use sightline_tracker::wire::RequestKind;
use sqlx::{Connection, Executor, PgConnection};

const EVENTS: usize = 200_000;
const BATCH: usize = 1_000;
const CLIENTS: usize = 4;

fn events(prefix: &str) -> Vec<NewRequest> {
    let t0 = chrono::Utc::now().timestamp_millis() - 6 * 3_600_000;
    let models = [
        "gpt-4o-mini",
        "gpt-4o",
        "claude-sonnet-4",
        "gemini-2.5-flash",
    ];
    let countries = ["US", "DE", "GB", "IN", "FR", "BR"];
    (0..EVENTS)
        .map(|i| NewRequest {
            request_id: format!("{prefix}-{i}"),
            created_at: t0 + (i as i64) * 100,
            kind: RequestKind::Api,
            service: None,
            endpoint: "/v1/chat/completions".into(),
            method: "POST".into(),
            status_code: if i % 40 == 0 { 500 } else { 200 },
            latency_ms: 100.0 + (i % 1000) as f64,
            ttft_ms: None,
            model_name: Some(models[i % 4].into()),
            prompt_tokens: 500 + (i % 300) as i64,
            completion_tokens: 100 + (i % 200) as i64,
            cost_micros: 1_000 + (i % 50) as i64,
            finish_reason: Some("stop".into()),
            user_id: Some(format!("user-{}", i % 500)),
            session_id: None,
            is_authenticated: true,
            ip: Some(format!("203.0.113.{}", i % 250)),
            country: Some(countries[i % 6].into()),
            user_agent: Some("OpenAI/Python 1.54.4".into()),
            request_bytes: Some(2048),
            response_bytes: Some(1024),
            error: None,
            metadata: None,
        })
        .collect()
}

fn body(rows: &[NewRequest]) -> String {
    let requests: Vec<serde_json::Value> = rows
        .iter()
        .map(|r| {
            serde_json::json!({
                "request_id": r.request_id, "timestamp": r.created_at, "endpoint": r.endpoint,
                "method": r.method, "status_code": r.status_code, "latency_ms": r.latency_ms,
                "model": r.model_name, "prompt_tokens": r.prompt_tokens,
                "completion_tokens": r.completion_tokens, "cost_usd": r.cost_micros as f64 / 1e6,
                "finish_reason": r.finish_reason, "user_id": r.user_id, "ip": r.ip,
                "country": r.country, "user_agent": r.user_agent, "request_bytes": r.request_bytes,
                "response_bytes": r.response_bytes,
            })
        })
        .collect();
    serde_json::json!({ "requests": requests }).to_string()
}

/// A fresh database: its URL and how to remove it.
async fn fresh_database(backend: &str, dir: &tempfile::TempDir) -> (String, Option<String>) {
    match backend {
        "SQLite" => (
            format!(
                "sqlite://{}/bench-{}.db",
                dir.path().display(),
                rand::random::<u32>()
            ),
            None,
        ),
        _ => {
            let admin = std::env::var("SIGHTLINE_TEST_POSTGRES_URL")
                .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into());
            let name = format!("sightline_bench_{}", rand::random::<u32>());
            let mut conn = PgConnection::connect(&admin)
                .await
                .expect("PostgreSQL for the benchmark");
            conn.execute(format!("CREATE DATABASE {name}").as_str())
                .await
                .unwrap();
            let mut url = url::Url::parse(&admin).unwrap();
            url.set_path(&name);
            (url.to_string(), Some(name))
        }
    }
}

async fn drop_database(name: Option<String>) {
    if let Some(name) = name {
        let admin = std::env::var("SIGHTLINE_TEST_POSTGRES_URL")
            .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into());
        let mut conn = PgConnection::connect(&admin).await.unwrap();
        let _ = conn
            .execute(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)").as_str())
            .await;
    }
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
    let store = Store::connect(url).await.unwrap();
    store.migrate().await.unwrap();
    let key = store
        .create_api_key("bench", &[Scope::Ingest], None, 0)
        .await
        .unwrap()
        .1;
    let mut server = Command::new(env!("CARGO_BIN_EXE_sightline"))
        .args(["serve"])
        .env("SIGHTLINE_DATABASE_URL", url)
        .env("SIGHTLINE_ADDR", "127.0.0.1:0")
        .env("SIGHTLINE_LOG", "warn")
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(server.stdout.take().unwrap()).lines();
    let base = loop {
        let line = lines.next().unwrap().unwrap();
        if let Some(u) = line.strip_prefix("Sightline listening on ") {
            break u.trim().to_string();
        }
    };
    let bodies: Vec<String> = rows.chunks(BATCH).map(body).collect();
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(CLIENTS)
        .build()
        .unwrap();
    let started = Instant::now();
    let next = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let bodies = std::sync::Arc::new(bodies);
    let mut tasks = Vec::new();
    for _ in 0..CLIENTS {
        let (client, base, key, next, bodies) = (
            client.clone(),
            base.clone(),
            key.clone(),
            next.clone(),
            bodies.clone(),
        );
        tasks.push(tokio::spawn(async move {
            loop {
                let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                let Some(body) = bodies.get(i) else { break };
                loop {
                    let reply = client
                        .post(format!("{base}/api/v1/ingest"))
                        .bearer_auth(&key)
                        .header("content-type", "application/json")
                        .body(body.clone())
                        .send()
                        .await
                        .unwrap();
                    if reply.status() == 503 {
                        tokio::time::sleep(Duration::from_millis(5)).await;
                        continue;
                    }
                    assert_eq!(reply.status(), 200);
                    break;
                }
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
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
    for backend in ["SQLite", "PostgreSQL"] {
        let rows = events("raw");
        let (url, name) = fresh_database(backend, &dir).await;
        let raw = raw_insert_rate(&url, &rows).await;
        drop_database(name).await;
        let rows = events("http");
        let (url, name) = fresh_database(backend, &dir).await;
        let http = http_rate(&url, &rows).await;
        drop_database(name).await;
        println!(
            "| {backend:<10} | {:>23.0} ev/s | {:>34.0} ev/s | {:>9.0}% |",
            raw,
            http,
            100.0 * http / raw
        );
    }
}
