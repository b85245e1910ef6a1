//! OTLP ingest throughput: spans/s through `POST /v1/traces` (protobuf, batches of 512
//! spans as the SDKs' batch processor sends them, 4 concurrent exporters) next to
//! events/s of the same requests through the native `POST /api/v1/ingest` (JSON, the
//! same batch size and clients), measured in the same run on SQLite and PostgreSQL, and
//! next to Arize Phoenix (`phoenix serve`, its default SQLite) timed from the first
//! export until its GraphQL API reports every span. Each trace is a SERVER span with a
//! GenAI span beneath it (both become requests; the call's usage also counts on the
//! server's request). Run with `cargo bench --bench otlp` after `scripts/phoenix-env.sh`
//! (Phoenix's venv). `SIGHTLINE_BENCH_SPANS` (default 40 960),
//! `SIGHTLINE_BENCH_ROUNDS` (default 3: native and OTLP alternate, a line each round) and
//! `SIGHTLINE_BENCH_PHOENIX_SPANS` (default 4 096; Phoenix is slow) set the sizes.

mod support;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::{AnyValue, KeyValue, any_value::Value};
use opentelemetry_proto::tonic::resource::v1::Resource;
use opentelemetry_proto::tonic::trace::v1::{ResourceSpans, ScopeSpans, Span, span::SpanKind};
use prost::Message;

use support::BenchDb;

const BATCH: usize = 512;
const CLIENTS: usize = 4;
const MODELS: [&str; 3] = ["gpt-4o-mini", "gpt-4o", "gpt-4.1-mini"];

fn attr(key: &str, value: Value) -> KeyValue {
    KeyValue {
        key: key.into(),
        value: Some(AnyValue { value: Some(value) }),
        ..KeyValue::default()
    }
}

fn text(key: &str, value: &str) -> KeyValue {
    attr(key, Value::StringValue(value.into()))
}

/// Trace `i` of a run: a SERVER span and the GenAI span beneath it, 100 ms apart from
/// trace to trace, starting at `t0` (epoch ms).
fn trace(run: u8, i: usize, t0: i64) -> [Span; 2] {
    let mut trace_id = [0u8; 16];
    trace_id[0] = run;
    trace_id[8..].copy_from_slice(&(i as u64 + 1).to_be_bytes());
    let span_id = |n: u64| ((i as u64) * 2 + n).to_be_bytes().to_vec();
    let start = (t0 as u64 + i as u64 * 100) * 1_000_000;
    let status = if i.is_multiple_of(40) { 500 } else { 200 };
    let server = Span {
        trace_id: trace_id.to_vec(),
        span_id: span_id(1),
        name: "POST /v1/chat/completions".into(),
        kind: SpanKind::Server as i32,
        start_time_unix_nano: start,
        end_time_unix_nano: start + (100 + (i % 1000) as u64) * 1_000_000,
        attributes: vec![
            text("http.request.method", "POST"),
            text("http.route", "/v1/chat/completions"),
            attr("http.response.status_code", Value::IntValue(status)),
            text("client.address", &format!("203.0.113.{}", i % 250)),
            text("user_agent.original", "OpenAI/Python 1.54.4"),
            text("user.id", &format!("user-{}", i % 500)),
        ],
        ..Span::default()
    };
    let call = Span {
        trace_id: trace_id.to_vec(),
        span_id: span_id(2),
        parent_span_id: span_id(1),
        name: "chat".into(),
        kind: SpanKind::Client as i32,
        start_time_unix_nano: start + 2_000_000,
        end_time_unix_nano: start + (90 + (i % 900) as u64) * 1_000_000,
        attributes: vec![
            text("gen_ai.operation.name", "chat"),
            text("gen_ai.provider.name", "openai"),
            text("gen_ai.request.model", MODELS[i % 3]),
            attr(
                "gen_ai.usage.input_tokens",
                Value::IntValue(500 + (i % 300) as i64),
            ),
            attr(
                "gen_ai.usage.output_tokens",
                Value::IntValue(100 + (i % 200) as i64),
            ),
        ],
        ..Span::default()
    };
    [server, call]
}

/// Protobuf exports of `spans` spans (whole traces), `BATCH` spans each.
fn exports(run: u8, spans: usize, t0: i64) -> Vec<Vec<u8>> {
    let all: Vec<Span> = (0..spans / 2).flat_map(|i| trace(run, i, t0)).collect();
    all.chunks(BATCH)
        .map(|chunk| {
            ExportTraceServiceRequest {
                resource_spans: vec![ResourceSpans {
                    resource: Some(Resource {
                        attributes: vec![text("service.name", "chat-api")],
                        ..Resource::default()
                    }),
                    scope_spans: vec![ScopeSpans {
                        spans: chunk.to_vec(),
                        ..ScopeSpans::default()
                    }],
                    ..ResourceSpans::default()
                }],
            }
            .encode_to_vec()
        })
        .collect()
}

/// The native ingest bodies of the same requests: each trace's server request and
/// provider call, `BATCH` events a body.
fn native_bodies(spans: usize, t0: i64) -> Vec<Vec<u8>> {
    let events: Vec<serde_json::Value> = (0..spans / 2)
        .flat_map(|i| {
            let t = t0 + i as i64 * 100;
            let tokens = (500 + (i % 300) as i64, 100 + (i % 200) as i64);
            [
                serde_json::json!({
                    "request_id": format!("native-{i}-s"), "timestamp": t,
                    "endpoint": "/v1/chat/completions", "method": "POST",
                    "status_code": if i.is_multiple_of(40) { 500 } else { 200 },
                    "latency_ms": 100 + i % 1000, "model": MODELS[i % 3],
                    "prompt_tokens": tokens.0, "completion_tokens": tokens.1,
                    "ip": format!("203.0.113.{}", i % 250), "user_agent": "OpenAI/Python 1.54.4",
                    "user_id": format!("user-{}", i % 500),
                }),
                serde_json::json!({
                    "request_id": format!("native-{i}-c"), "timestamp": t + 2,
                    "kind": "external", "service": "openai", "endpoint": "chat",
                    "method": "POST", "status_code": 200, "latency_ms": 88 + i % 900,
                    "model": MODELS[i % 3], "prompt_tokens": tokens.0,
                    "completion_tokens": tokens.1,
                }),
            ]
        })
        .collect();
    events
        .chunks(BATCH)
        .map(|c| {
            serde_json::json!({ "requests": c })
                .to_string()
                .into_bytes()
        })
        .collect()
}

/// Posts `bodies` to `path` of a fresh server on `url`; events (or spans) per second,
/// after checking every served request was counted once.
async fn sightline_rate(
    url: &str,
    path: &str,
    content_type: &'static str,
    bodies: Vec<Vec<u8>>,
    spans: usize,
) -> f64 {
    let (store, key, mut server, base) = support::ingest_server(url).await;
    let bodies = Arc::new(bodies);
    let started = Instant::now();
    support::post_to(
        &format!("{base}{path}"),
        content_type,
        Some(&key),
        CLIENTS,
        Arc::new(move |i| bodies.get(i).cloned()),
    )
    .await;
    let rate = spans as f64 / started.elapsed().as_secs_f64();
    let _ = server.kill();
    let _ = server.wait();
    let served = store
        .traffic(sightline::store::Buckets {
            grain: 86_400_000,
            start: 0,
            end: i64::MAX / 2,
        })
        .await
        .unwrap();
    let (requests, tokens) = served.iter().fold((0, 0), |(r, t), b| {
        (r + b.sums.requests, t + b.sums.prompt_tokens)
    });
    let expected_tokens: i64 = (0..spans / 2).map(|i| 500 + (i % 300) as i64).sum();
    assert_eq!(requests as usize, spans / 2, "every served request once");
    assert_eq!(
        tokens, expected_tokens,
        "every call's usage on its server request"
    );
    store.close().await;
    rate
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Spans Phoenix reports stored, through its GraphQL API (0 while it cannot answer).
async fn phoenix_span_count(client: &reqwest::Client, base: &str) -> usize {
    let query = serde_json::json!({
        "query": "{ projects { edges { node { name recordCount } } } }"
    });
    let Ok(reply) = client
        .post(format!("{base}/graphql"))
        .json(&query)
        .send()
        .await
    else {
        return 0;
    };
    let Ok(body) = reply.json::<serde_json::Value>().await else {
        return 0;
    };
    body["data"]["projects"]["edges"]
        .as_array()
        .map(|edges| {
            edges
                .iter()
                .filter_map(|e| e["node"]["recordCount"].as_u64())
                .sum::<u64>() as usize
        })
        .unwrap_or(0)
}

/// Arize Phoenix's rate: spans/s from the first export until GraphQL reports them all.
async fn phoenix_rate(spans: usize, t0: i64, dir: &std::path::Path) -> f64 {
    let phoenix = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/phoenixenv/bin/phoenix");
    assert!(
        phoenix.exists(),
        "{} is missing: run scripts/phoenix-env.sh",
        phoenix.display()
    );
    let port = free_port();
    let mut child = std::process::Command::new(phoenix)
        .arg("serve")
        .env("PHOENIX_WORKING_DIR", dir)
        .env("PHOENIX_HOST", "127.0.0.1")
        .env("PHOENIX_PORT", port.to_string())
        .env("PHOENIX_GRPC_PORT", free_port().to_string())
        .env("PHOENIX_TELEMETRY_ENABLED", "false")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let base = format!("http://127.0.0.1:{port}");
    let client = reqwest::Client::new();
    let ready = Instant::now();
    while client.get(format!("{base}/healthz")).send().await.is_err() {
        assert!(
            ready.elapsed() < Duration::from_secs(180),
            "phoenix did not start"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let bodies = Arc::new(exports(9, spans, t0));
    let started = Instant::now();
    support::post_to(
        &format!("{base}/v1/traces"),
        "application/x-protobuf",
        None,
        CLIENTS,
        Arc::new(move |i| bodies.get(i).cloned()),
    )
    .await;
    while phoenix_span_count(&client, &base).await < spans {
        assert!(
            started.elapsed() < Duration::from_secs(1800),
            "phoenix did not store every span"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let rate = spans as f64 / started.elapsed().as_secs_f64();
    let _ = child.kill();
    let _ = child.wait();
    rate
}

#[tokio::main]
async fn main() {
    let spans = support::env_count("SIGHTLINE_BENCH_SPANS", 40_960);
    let phoenix_spans = support::env_count("SIGHTLINE_BENCH_PHOENIX_SPANS", 4_096);
    let dir = tempfile::tempdir().unwrap();
    let t0 = chrono::Utc::now().timestamp_millis() - 6 * 3_600_000;
    println!(
        "OTLP ingest: {spans} spans ({} traces of a SERVER span and a GenAI span), \
         batches of {BATCH}, {CLIENTS} concurrent clients\n",
        spans / 2
    );
    println!(
        "| database   | round | native /api/v1/ingest | OTLP /v1/traces (protobuf) | OTLP / native |"
    );
    println!(
        "|------------|------:|----------------------:|---------------------------:|--------------:|"
    );
    let mut best_otlp: f64 = 0.0;
    // Rounds alternate native and OTLP, so a noisy neighbour hits both alike.
    let rounds = support::env_count("SIGHTLINE_BENCH_ROUNDS", 3);
    for (round, backend) in support::backends()
        .into_iter()
        .flat_map(|b| (1..=rounds).map(move |r| (r, b)))
    {
        let db = BenchDb::create(backend, dir.path(), "native.db").await;
        let native = sightline_rate(
            &db.url,
            "/api/v1/ingest",
            "application/json",
            native_bodies(spans, t0),
            spans,
        )
        .await;
        db.drop_database().await;
        let db = BenchDb::create(backend, dir.path(), "otlp.db").await;
        let otlp = sightline_rate(
            &db.url,
            "/v1/traces",
            "application/x-protobuf",
            exports(1, spans, t0),
            spans,
        )
        .await;
        db.drop_database().await;
        best_otlp = best_otlp.max(otlp);
        println!(
            "| {backend:<10} | {round:>5} | {native:>15.0} ev/s | {otlp:>18.0} spans/s | {:>12.0}% |",
            100.0 * otlp / native
        );
    }
    let phoenix_dir = dir.path().join("phoenix");
    std::fs::create_dir_all(&phoenix_dir).unwrap();
    let phoenix = phoenix_rate(phoenix_spans, t0, &phoenix_dir).await;
    println!(
        "\nArize Phoenix (`phoenix serve`, SQLite), {phoenix_spans} spans until its GraphQL \
         reports them all: {phoenix:.0} spans/s; Sightline's best OTLP rate above is {:.0}x that.",
        best_otlp / phoenix
    );
}
