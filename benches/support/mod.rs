//! What the benchmarks share: a throw-away database of either kind, and the
//! `SIGHTLINE_BENCH_DATABASES` choice.
#![allow(dead_code)] // each benchmark uses a different part of it

use sightline_app::units::Micros;
use sqlx::{Connection, Executor, PgConnection};

/// The PostgreSQL server that holds the benchmark databases (its maintenance database).
pub fn admin_url() -> String {
    std::env::var("SIGHTLINE_TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into())
}

/// A count from the environment variable `name` (e.g. `SIGHTLINE_BENCH_REQUESTS`), else
/// `default`.
pub fn env_count(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// The `q` quantile of `calls` (0 < q <= 1), in milliseconds; NaN for none.
pub fn quantile(calls: &mut [std::time::Duration], q: f64) -> f64 {
    if calls.is_empty() {
        return f64::NAN;
    }
    calls.sort_unstable();
    let i = ((calls.len() as f64 * q).ceil() as usize).clamp(1, calls.len()) - 1;
    calls[i].as_secs_f64() * 1000.0
}

/// The backends to run, `SQLite` and `PostgreSQL`, or the one
/// `SIGHTLINE_BENCH_DATABASES=sqlite|postgres` names.
pub fn backends() -> Vec<&'static str> {
    let only = std::env::var("SIGHTLINE_BENCH_DATABASES")
        .unwrap_or_default()
        .to_lowercase();
    ["SQLite", "PostgreSQL"]
        .into_iter()
        .filter(|b| only.is_empty() || b.to_lowercase().starts_with(&only))
        .collect()
}

/// An empty database for one benchmark run: a file `file` in `dir` for SQLite, a new
/// database on [`admin_url`] for PostgreSQL (dropped by [`BenchDb::drop_database`]).
pub struct BenchDb {
    pub url: String,
    pg_name: Option<String>,
}

impl BenchDb {
    pub async fn create(backend: &str, dir: &std::path::Path, file: &str) -> BenchDb {
        if backend == "SQLite" {
            return BenchDb {
                url: format!("sqlite://{}/{file}", dir.display()),
                pg_name: None,
            };
        }
        let name = format!("sightline_bench_{}", rand::random::<u32>());
        let mut c = PgConnection::connect(&admin_url()).await.unwrap();
        c.execute(format!("CREATE DATABASE {name}").as_str())
            .await
            .unwrap();
        let mut u = url::Url::parse(&admin_url()).unwrap();
        u.set_path(&name);
        BenchDb {
            url: u.to_string(),
            pg_name: Some(name),
        }
    }

    pub fn is_postgres(&self) -> bool {
        self.pg_name.is_some()
    }

    pub async fn drop_database(self) {
        if let Some(name) = self.pg_name {
            let mut c = PgConnection::connect(&admin_url()).await.unwrap();
            let _ = c
                .execute(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)").as_str())
                .await;
        }
    }
}

/// `n` chat requests of a busy platform (500 users, 4 models, 1 in 40 failing), one
/// every 100 ms from `t0`, with ids `prefix-i`.
pub fn chat_requests(prefix: &str, n: usize, t0: i64) -> Vec<sightline::store::NewRequest> {
    use sightline::store::NewRequest;
    let models = [
        "gpt-4o-mini",
        "gpt-4o",
        "claude-sonnet-4",
        "gemini-2.5-flash",
    ];
    let countries = ["US", "DE", "GB", "IN", "FR", "BR"];
    (0..n)
        .map(|i| NewRequest {
            endpoint: "/v1/chat/completions".into(),
            method: "POST".into(),
            status_code: if i % 40 == 0 { 500 } else { 200 },
            latency_ms: 100.0 + (i % 1000) as f64,
            model_name: Some(models[i % 4].into()),
            prompt_tokens: 500 + (i % 300) as i64,
            completion_tokens: 100 + (i % 200) as i64,
            cost_micros: Micros(1_000 + (i % 50) as i64),
            finish_reason: Some("stop".into()),
            user_id: Some(format!("user-{}", i % 500)),
            is_authenticated: true,
            ip: Some(format!("203.0.113.{}", i % 250)),
            country: Some(countries[i % 6].into()),
            user_agent: Some("OpenAI/Python 1.54.4".into()),
            request_bytes: Some(2048),
            response_bytes: Some(1024),
            ..NewRequest::new(format!("{prefix}-{i}"), t0 + (i as i64) * 100)
        })
        .collect()
}

/// The ingest API's JSON body for `rows`.
pub fn ingest_body(rows: &[sightline::store::NewRequest]) -> String {
    let requests: Vec<serde_json::Value> = rows
        .iter()
        .map(|r| {
            serde_json::json!({
                "request_id": r.request_id, "timestamp": r.created_at, "endpoint": r.endpoint,
                "method": r.method, "status_code": r.status_code, "latency_ms": r.latency_ms,
                "model": r.model_name, "prompt_tokens": r.prompt_tokens,
                "completion_tokens": r.completion_tokens, "cost_usd": r.cost_micros.usd(),
                "finish_reason": r.finish_reason, "user_id": r.user_id, "ip": r.ip,
                "country": r.country, "user_agent": r.user_agent, "request_bytes": r.request_bytes,
                "response_bytes": r.response_bytes,
            })
        })
        .collect();
    serde_json::json!({ "requests": requests }).to_string()
}

/// A migrated store on `url`, an ingest key for it, and the release server on it: the
/// store, the key, the server process (kill it when done) and its base URL.
pub async fn ingest_server(
    url: &str,
) -> (sightline::store::Store, String, std::process::Child, String) {
    ingest_server_with(url, &[]).await
}

/// [`ingest_server`], the server started with `env`.
pub async fn ingest_server_with(
    url: &str,
    env: &[(&str, &str)],
) -> (sightline::store::Store, String, std::process::Child, String) {
    use sightline::store::{Scope, Store};
    let store = Store::connect(url).await.unwrap();
    store.migrate().await.unwrap();
    let key = store
        .create_api_key("bench", &[Scope::Ingest], None, 0)
        .await
        .unwrap()
        .1;
    let (server, base) = start_server(url, env);
    (store, key, server, base)
}

/// The release `sightline serve` on `url` (a free loopback port), with `env`; its base
/// URL. Killed when the returned child is.
pub fn start_server(url: &str, env: &[(&str, &str)]) -> (std::process::Child, String) {
    use std::io::{BufRead, BufReader};
    let mut server = std::process::Command::new(env!("CARGO_BIN_EXE_sightline"))
        .args(["serve"])
        .env("SIGHTLINE_DATABASE_URL", url)
        .env("SIGHTLINE_ADDR", "127.0.0.1:0")
        .env("SIGHTLINE_LOG", "warn")
        .envs(env.iter().copied())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(server.stdout.take().unwrap()).lines();
    let base = loop {
        let line = lines.next().unwrap().unwrap();
        if let Some(u) = line.strip_prefix("Sightline listening on ") {
            break u.trim().to_string();
        }
    };
    // Keep reading: the server must not find its stdout closed when it prints.
    std::thread::spawn(move || lines.for_each(drop));
    (server, base)
}

/// Posts bodies to `base`'s ingest API from `clients` concurrent clients: each call
/// takes the next index `i` and posts `body(i)`, until it gives `None` (a 503 is retried
/// after 5 ms). Returns each call's duration.
pub async fn post_bodies(
    base: &str,
    key: &str,
    clients: usize,
    body: std::sync::Arc<dyn Fn(usize) -> Option<String> + Send + Sync>,
) -> Vec<std::time::Duration> {
    let url = format!("{base}/api/v1/ingest");
    let bytes = std::sync::Arc::new(move |i| body(i).map(String::into_bytes));
    post_to(&url, "application/json", Some(key), clients, bytes).await
}

/// Posts bodies of `content_type` to `url` (with `key` as Bearer, if given) from
/// `clients` concurrent clients, as [`post_bodies`] does; each call's duration.
pub async fn post_to(
    url: &str,
    content_type: &'static str,
    key: Option<&str>,
    clients: usize,
    body: std::sync::Arc<dyn Fn(usize) -> Option<Vec<u8>> + Send + Sync>,
) -> Vec<std::time::Duration> {
    post_counting(url, content_type, key, clients, body).await.0
}

/// [`post_to`], also counting the 503 and 429 answers that were retried.
pub async fn post_counting(
    url: &str,
    content_type: &'static str,
    key: Option<&str>,
    clients: usize,
    body: std::sync::Arc<dyn Fn(usize) -> Option<Vec<u8>> + Send + Sync>,
) -> (Vec<std::time::Duration>, usize) {
    use std::sync::atomic::{AtomicUsize, Ordering};
    let refused = std::sync::Arc::new(AtomicUsize::new(0));
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(clients)
        .build()
        .unwrap();
    let next = std::sync::Arc::new(AtomicUsize::new(0));
    let mut tasks = Vec::new();
    for _ in 0..clients {
        let (client, url, key, next, body, refused) = (
            client.clone(),
            url.to_string(),
            key.map(str::to_string),
            next.clone(),
            body.clone(),
            refused.clone(),
        );
        tasks.push(tokio::spawn(async move {
            let mut calls = Vec::new();
            while let Some(body) = body(next.fetch_add(1, Ordering::Relaxed)) {
                let started = std::time::Instant::now();
                loop {
                    let mut request = client
                        .post(&url)
                        .header("content-type", content_type)
                        .body(body.clone());
                    if let Some(key) = &key {
                        request = request.bearer_auth(key);
                    }
                    let reply = request.send().await.unwrap();
                    if reply.status() == 503 || reply.status() == 429 {
                        refused.fetch_add(1, Ordering::Relaxed);
                        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
                        continue;
                    }
                    assert_eq!(reply.status(), 200, "{url}");
                    break;
                }
                calls.push(started.elapsed());
            }
            calls
        }));
    }
    let mut calls = Vec::new();
    for t in tasks {
        calls.extend(t.await.unwrap());
    }
    (calls, refused.load(Ordering::Relaxed))
}
