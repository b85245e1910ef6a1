//! What the gateway adds to a provider call: the same chat calls (a JSON answer, and a
//! stream of server-sent events with its usage chunk) sent to the mock upstream of the
//! tests directly, through Sightline's `/proxy/openai` (release binary, SQLite, every
//! call recorded), and through LiteLLM's proxy (from `target/benchenv`, made by
//! `scripts/bench-env.sh`; a config file, no database) pointed at the same mock, at 1,
//! 50 and 200 concurrent clients, in the same run. Prints latency p50/p99, for streams
//! the time to first chunk, what each proxy adds to the direct figure, and throughput.
//!
//! `cargo bench --bench gateway`; `SIGHTLINE_BENCH_GATEWAY_CALLS` sets the calls per
//! run (default 1 000, at least 10 per client); `SIGHTLINE_BENCH_LITELLM=0` leaves
//! LiteLLM out.

mod support;

#[path = "../tests/api/common/mock_provider.rs"]
#[allow(dead_code)]
mod mock_provider;

use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use futures::StreamExt;
use serde_json::json;

const CONCURRENCY: [usize; 3] = [1, 50, 200];

/// LiteLLM's master key: it refuses to start without one, and then checks it on every
/// call (as Sightline checks its key).
const LITELLM_KEY: &str = "sk-litellm-bench-4f1c9a7e2b6d8053e1a4c7f9b2d6e8a1";

#[derive(Clone)]
struct Target {
    name: &'static str,
    url: String,
    headers: Vec<(String, String)>,
}

#[derive(Clone, Copy, PartialEq)]
enum Workload {
    Json,
    Stream,
}

/// Per call: the whole call, and the time to the first chunk of the answer.
struct Timings {
    total: Vec<Duration>,
    first: Vec<Duration>,
    /// Calls refused or broken off.
    errors: usize,
    elapsed: Duration,
}

async fn run(target: &Target, workload: Workload, clients: usize, calls: usize) -> Timings {
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(clients)
        .build()
        .unwrap();
    let body = match workload {
        Workload::Json => json!({"model": "gpt-4o", "messages": [{"role": "user", "content": "Say hello"}]}),
        Workload::Stream => json!({"model": "gpt-4o-mini", "stream": true, "stream_options": {"include_usage": true},
            "messages": [{"role": "user", "content": "Say hello"}]}),
    }
    .to_string();
    let next = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..clients {
        let (client, target, body, next) =
            (client.clone(), target.clone(), body.clone(), next.clone());
        tasks.push(tokio::spawn(async move {
            let (mut total, mut first, mut errors) = (Vec::new(), Vec::new(), 0usize);
            while next.fetch_add(1, Ordering::Relaxed) < calls {
                let t = Instant::now();
                let mut request = client
                    .post(&target.url)
                    .header("content-type", "application/json")
                    .body(body.clone());
                for (k, v) in &target.headers {
                    request = request.header(k, v);
                }
                // Counted, not fatal: a proxy that refuses connections under load says
                // so in the table.
                let reply = match request.send().await {
                    Ok(r) if r.status() == 200 => r,
                    _ => {
                        errors += 1;
                        continue;
                    }
                };
                let mut chunks = reply.bytes_stream();
                let (mut bytes, mut broken) = (0, false);
                while let Some(c) = chunks.next().await {
                    if bytes == 0 {
                        first.push(t.elapsed());
                    }
                    match c {
                        Ok(c) => bytes += c.len(),
                        Err(_) => broken = true,
                    }
                }
                if broken || bytes == 0 {
                    errors += 1;
                    continue;
                }
                total.push(t.elapsed());
            }
            (total, first, errors)
        }));
    }
    let (mut total, mut first, mut errors) = (Vec::new(), Vec::new(), 0);
    for t in tasks {
        let (a, b, e) = t.await.unwrap();
        total.extend(a);
        first.extend(b);
        errors += e;
    }
    Timings {
        total,
        first,
        errors,
        elapsed: started.elapsed(),
    }
}

/// LiteLLM's proxy on `port`, routing `gpt-4o` and `gpt-4o-mini` to the mock.
fn start_litellm(mock: &str, dir: &std::path::Path) -> Option<(Child, String)> {
    let repo = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let setup = Command::new(repo.join("scripts/bench-env.sh"))
        .status()
        .ok()?;
    if !setup.success() {
        eprintln!("scripts/bench-env.sh failed: LiteLLM is left out");
        return None;
    }
    let config = dir.join("litellm.yaml");
    let models: String = ["gpt-4o", "gpt-4o-mini"]
        .iter()
        .map(|m| {
            format!(
                "  - model_name: {m}\n    litellm_params:\n      model: openai/{m}\n      api_base: {mock}/v1\n      api_key: sk-bench\n"
            )
        })
        .collect();
    std::fs::write(
        &config,
        format!("model_list:\n{models}general_settings:\n  master_key: {LITELLM_KEY}\n"),
    )
    .unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .ok()?;
    let child = Command::new(repo.join("target/benchenv/bin/litellm"))
        .args([
            "--config",
            config.to_str()?,
            "--host",
            "127.0.0.1",
            "--port",
            &port.to_string(),
        ])
        .env("LITELLM_LOCAL_MODEL_COST_MAP", "True")
        .env("LITELLM_TELEMETRY", "False")
        .env("LITELLM_LOG", "ERROR")
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(dir.join("litellm.log")).ok()?)
        .spawn()
        .ok()?;
    Some((child, format!("http://127.0.0.1:{port}")))
}

async fn wait_ready(url: &str) -> bool {
    let client = reqwest::Client::new();
    for _ in 0..600 {
        if let Ok(r) = client.get(url).send().await
            && r.status().is_success()
        {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    false
}

#[tokio::main]
async fn main() {
    let scale = support::env_count("SIGHTLINE_BENCH_GATEWAY_CALLS", 1_000);
    let mock = mock_provider::MockProvider::start().await;
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}/gateway.db", dir.path().display());
    let upstreams = format!("openai={}", mock.base_url);
    let (store, key, mut server, base) =
        support::ingest_server_with(&db, &[("SIGHTLINE_PROXY_UPSTREAMS", upstreams.as_str())])
            .await;

    let mut targets = vec![
        Target {
            name: "direct",
            url: format!("{}/v1/chat/completions", mock.base_url),
            headers: vec![("authorization".into(), "Bearer sk-bench".into())],
        },
        Target {
            name: "sightline",
            url: format!("{base}/proxy/openai/v1/chat/completions"),
            headers: vec![
                ("authorization".into(), "Bearer sk-bench".into()),
                ("sightline-key".into(), key.clone()),
            ],
        },
    ];
    let litellm = match std::env::var("SIGHTLINE_BENCH_LITELLM").as_deref() {
        Ok("0") => None,
        _ => start_litellm(&mock.base_url, dir.path()),
    };
    if let Some((_, url)) = &litellm {
        if wait_ready(&format!("{url}/health/liveliness")).await {
            targets.push(Target {
                name: "litellm",
                url: format!("{url}/v1/chat/completions"),
                headers: vec![("authorization".into(), format!("Bearer {LITELLM_KEY}"))],
            });
        } else {
            eprintln!(
                "LiteLLM did not start within 60 s: left out ({})",
                std::fs::read_to_string(dir.path().join("litellm.log")).unwrap_or_default()
            );
        }
    }

    println!(
        "{:<7} {:>7} {:<10} {:>8} {:>8} {:>9} {:>9} {:>9} {:>10} {:>9} {:>7}",
        "answer",
        "clients",
        "via",
        "p50 ms",
        "p99 ms",
        "+p50 ms",
        "+p99 ms",
        "1st p50",
        "+1st p50",
        "calls/s",
        "errors"
    );
    let mut recorded = 0;
    for workload in [Workload::Json, Workload::Stream] {
        for clients in CONCURRENCY {
            let calls = scale.max(10 * clients);
            let mut direct: Option<(f64, f64, f64)> = None;
            for target in &targets {
                run(target, workload, clients, calls / 10).await; // warm-up
                let mut t = run(target, workload, clients, calls).await;
                if target.name == "sightline" {
                    recorded += calls + calls / 10;
                }
                let (p50, p99, first) = (
                    support::quantile(&mut t.total, 0.5),
                    support::quantile(&mut t.total, 0.99),
                    support::quantile(&mut t.first, 0.5),
                );
                let base = *direct.get_or_insert((p50, p99, first));
                let added = |v: f64, b: f64| {
                    if target.name == "direct" {
                        "–".to_string()
                    } else {
                        format!("{:.3}", v - b)
                    }
                };
                println!(
                    "{:<7} {:>7} {:<10} {:>8.3} {:>8.3} {:>9} {:>9} {:>9.3} {:>10} {:>9.0} {:>7}",
                    if workload == Workload::Json {
                        "json"
                    } else {
                        "sse"
                    },
                    clients,
                    target.name,
                    p50,
                    p99,
                    added(p50, base.0),
                    added(p99, base.1),
                    first,
                    added(first, base.2),
                    (calls - t.errors) as f64 / t.elapsed.as_secs_f64(),
                    t.errors
                );
            }
        }
    }
    // Every call through Sightline was recorded (none dropped at the default queue).
    let mut stored = 0;
    for _ in 0..300 {
        stored = store
            .traffic(sightline::store::Buckets {
                grain: 86_400_000,
                start: 0,
                end: i64::MAX / 2,
            })
            .await
            .unwrap()
            .iter()
            .map(|b| b.sums.requests)
            .sum::<i64>();
        if stored as usize >= recorded {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    println!("recorded by Sightline: {stored} of {recorded} calls");
    if let Some((mut child, _)) = litellm {
        let _ = child.kill();
        let _ = child.wait();
    }
    let _ = server.kill();
    let _ = server.wait();
}
