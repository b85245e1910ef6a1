//! The ingest API over real HTTP against the real server, on both databases.

use crate::common;

use std::process::Command;

use common::{Backend, TestDb, TestServer};
use serde_json::{Value, json};
use sightline::store::{Buckets, Scope};
use sightline_app::units::Micros;

const HOUR: i64 = 3_600_000;

/// Runs the `sightline` binary on `database_url`: (success, stdout, stderr).
fn sightline_cli(database_url: &str, args: &[&str]) -> (bool, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_sightline"))
        .args(args)
        .env("SIGHTLINE_DATABASE_URL", database_url)
        .output()
        .unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

async fn key(db: &TestDb, scopes: &[Scope]) -> String {
    db.store
        .create_api_key("test", scopes, None, 0)
        .await
        .unwrap()
        .1
}

fn client() -> reqwest::Client {
    reqwest::Client::new()
}

async fn post(
    server: &TestServer,
    key: &str,
    content_type: &str,
    body: impl Into<reqwest::Body>,
) -> (u16, Value) {
    let reply = client()
        .post(server.url("/api/v1/ingest"))
        .bearer_auth(key)
        .header("content-type", content_type)
        .body(body)
        .send()
        .await
        .unwrap();
    let status = reply.status().as_u16();
    (status, reply.json().await.unwrap_or(Value::Null))
}

fn request(id: &str, t: i64, status: i64) -> Value {
    json!({
        "request_id": id, "timestamp": t, "endpoint": "/v1/chat/completions", "method": "POST",
        "status_code": status, "latency_ms": 250.5, "model": "gpt-4o", "prompt_tokens": 1000,
        "completion_tokens": 500, "user_id": "u1", "country": "de"
    })
}

fn now_hour() -> i64 {
    let now = chrono::Utc::now().timestamp_millis();
    now - now % HOUR
}

async fn batches_are_stored_once_with_exact_aggregates(backend: Backend) {
    let db = TestDb::unmigrated(backend).await;
    let server = TestServer::start(&db.url);
    let key = key(&db, &[Scope::Ingest]).await;
    let t = now_hour() - 2 * HOUR + 60_000;

    let body = json!({
        "requests": [request("a", t, 200), request("b", t + 1, 503), {"endpoint": "/x", "method": "GET", "status_code": 700, "latency_ms": 1}],
        "feedback": [{"request_id": "a", "user_id": "u1", "rating": 5, "comment": "great"}, {"request_id": "a", "rating": 9}],
        "threats": [{"threat_type": "xss", "severity": "high", "ip": "198.51.100.7", "description": "<script>"}],
        "auth_events": [{"event_type": "login_failed", "user_id": "u1", "ip": "198.51.100.7"}, {"event_type": "hack"}]
    });
    let (status, reply) = post(&server, &key, "application/json", body.to_string()).await;
    assert_eq!(status, 200, "{reply}");
    assert_eq!(reply["accepted"], 5);
    assert_eq!(reply["duplicates"], 0);
    assert_eq!(reply["rejected"], 3);
    let errors: Vec<(i64, String, String)> = reply["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["index"].as_i64().unwrap(),
                e["type"].as_str().unwrap().into(),
                e["error"].as_str().unwrap().into(),
            )
        })
        .collect();
    assert_eq!(
        errors,
        vec![
            (2, "request".into(), "status_code must be between 100 and 599 (got 700)".into()),
            (1, "auth_event".into(), "unknown variant `hack`, expected one of `signup`, `login`, `logout`, `login_failed`, `token_refresh`, `password_reset`".into()),
            (1, "feedback".into(), "rating must be between 1 and 5 (got 9)".into()),
        ]
    );

    // A retry of the same requests plus a new one: the old ones are duplicates.
    let retry = json!({"requests": [request("a", t, 200), request("b", t + 1, 503), request("c", t + 2, 200)]});
    let (status, reply) = post(&server, &key, "application/json", retry.to_string()).await;
    assert_eq!(status, 200);
    assert_eq!(
        (
            reply["accepted"].as_i64(),
            reply["duplicates"].as_i64(),
            reply["rejected"].as_i64()
        ),
        (Some(1), Some(2), Some(0))
    );

    // NDJSON, one event a line, with a line that is not an event.
    let ndjson = format!(
        "{}\n{}\n\n{}\n",
        json!({"type": "request", "request_id": "d", "timestamp": t + 3, "endpoint": "/v1/embeddings", "method": "POST", "status_code": 200, "latency_ms": 10, "cost_usd": 0.25}),
        json!({"type": "alert"}),
        json!({"type": "feedback", "request_id": "a", "user_id": "u1", "rating": 3}),
    );
    let (status, reply) = post(&server, &key, "application/x-ndjson", ndjson).await;
    assert_eq!(status, 200, "{reply}");
    assert_eq!(
        (reply["accepted"].as_i64(), reply["rejected"].as_i64()),
        (Some(2), Some(1))
    );
    assert_eq!(reply["errors"][0]["index"], 1);

    // Exactly what was accepted, counted once: 4 requests, 1 failed, priced from the table.
    let hour = t - t % HOUR;
    let traffic = db
        .store
        .traffic(Buckets {
            grain: HOUR,
            start: hour,
            end: hour + HOUR,
        })
        .await
        .unwrap();
    assert_eq!(traffic.len(), 1);
    let s = traffic[0].sums;
    assert_eq!((s.requests, s.errors), (4, 1));
    assert_eq!((s.prompt_tokens, s.completion_tokens), (3000, 1500));
    // 3 × gpt-4o (1000 + 500 tokens) = 3 × $0.0075, plus $0.25 given.
    assert_eq!(s.cost_micros, Micros(3 * 7_500 + 250_000));
    let snapshot = db.store.derived_snapshot().await.unwrap();
    // The rating of `a` by u1 was changed from 5 to 3: one rating, in bucket 3.
    let ratings: Vec<&String> = snapshot["rollup_feedback"]
        .iter()
        .filter(|l| l.starts_with(&format!("{HOUR}|")))
        .collect();
    assert_eq!(ratings.len(), 2, "{ratings:?}");
    assert!(
        ratings.iter().any(|l| l.ends_with("|3|1")) && ratings.iter().any(|l| l.ends_with("|5|0")),
        "{ratings:?}"
    );
    db.drop_database().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn batches_are_stored_once_on_sqlite() {
    batches_are_stored_once_with_exact_aggregates(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn batches_are_stored_once_on_postgres() {
    batches_are_stored_once_with_exact_aggregates(Backend::Postgres).await;
}

async fn bad_input_gets_a_clear_error(backend: Backend) {
    let db = TestDb::unmigrated(backend).await;
    let server = TestServer::start(&db.url);
    let ingest = key(&db, &[Scope::Ingest]).await;
    let read = key(&db, &[Scope::Read]).await;
    let one = json!({"requests": [request("x", now_hour(), 200)]}).to_string();

    // Keys.
    let reply = client()
        .post(server.url("/api/v1/ingest"))
        .body(one.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(reply.status(), 401);
    assert_eq!(
        reply.headers()["www-authenticate"],
        "Bearer realm=\"sightline\""
    );
    assert_eq!(
        reply.json::<Value>().await.unwrap()["error"],
        "missing API key: send `Authorization: Bearer <key>`"
    );
    let (status, body) = post(&server, "sl_not-a-key", "application/json", one.clone()).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (401, Some("invalid API key"))
    );
    let (status, body) = post(&server, &read, "application/json", one.clone()).await;
    assert_eq!(status, 403);
    assert!(
        body["error"]
            .as_str()
            .unwrap()
            .ends_with("lacks the ingest scope"),
        "{body}"
    );
    let revoked = key(&db, &[Scope::Ingest]).await;
    db.store
        .revoke_api_key(&revoked[..11], 1)
        .await
        .unwrap()
        .unwrap();
    let (status, body) = post(&server, &revoked, "application/json", one.clone()).await;
    assert_eq!(status, 401);
    assert!(
        body["error"]
            .as_str()
            .unwrap()
            .ends_with("has been revoked"),
        "{body}"
    );

    // Bodies.
    let (status, body) = post(
        &server,
        &ingest,
        "application/json",
        "{\"requests\": [\n{\"endpoint\": }]}",
    )
    .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (
            400,
            Some("malformed JSON: expected value (line 2, column 14)")
        )
    );
    let (status, body) = post(
        &server,
        &ingest,
        "application/json",
        b"{\"requests\":[\"\xc3\x28\"]}".to_vec(),
    )
    .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("body is not valid UTF-8 (at byte 14)"))
    );
    let (status, _) = post(&server, &ingest, "text/plain", one.clone()).await;
    assert_eq!(status, 415);
    let big = format!(
        "{{\"requests\":[{}]}}",
        vec![format!("\"{}\"", "x".repeat(1024)); 10 * 1024 + 1].join(",")
    );
    let (status, body) = post(&server, &ingest, "application/json", big).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (413, Some("body larger than 10 MiB"))
    );
    let many = format!("{{\"requests\":[{}]}}", vec!["{}"; 10_001].join(","));
    let (status, body) = post(&server, &ingest, "application/json", many).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (
            413,
            Some(
                "more than 10000 events in one body; the limit is 10000: send them in smaller \
                 batches"
            )
        )
    );

    // Nothing of the refused bodies was stored.
    assert!(db.store.has_no_requests().await.unwrap());

    // Over-long strings are truncated with a warning, not rejected.
    let mut long = request("long", now_hour(), 200);
    long["user_agent"] = json!("x".repeat(5000));
    let (status, body) = post(
        &server,
        &ingest,
        "application/json",
        json!({"requests": [long]}).to_string(),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(body["accepted"], 1);
    assert_eq!(
        body["warnings"][0]["error"],
        "user_agent truncated to 512 characters"
    );
    db.drop_database().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_input_on_sqlite() {
    bad_input_gets_a_clear_error(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_input_on_postgres() {
    bad_input_gets_a_clear_error(Backend::Postgres).await;
}

async fn a_full_queue_answers_503_and_stores_nothing(backend: Backend) {
    let db = TestDb::unmigrated(backend).await;
    let server = TestServer::start_with(&db.url, &[("SIGHTLINE_INGEST_QUEUE", "1")]);
    let key = key(&db, &[Scope::Ingest]).await;

    // Hold the database's write lock so the writer waits on its first batch.
    let blocker = db.hold_write_lock().await;
    let send = |id: &'static str| {
        let (url, key) = (server.url("/api/v1/ingest"), key.clone());
        tokio::spawn(async move {
            let body = json!({"requests": [request(id, now_hour(), 200)]}).to_string();
            client()
                .post(url)
                .bearer_auth(key)
                .header("content-type", "application/json")
                .body(body)
                .send()
                .await
                .unwrap()
        })
    };
    let first = send("q1");
    tokio::time::sleep(std::time::Duration::from_millis(700)).await;
    let second = send("q2");
    tokio::time::sleep(std::time::Duration::from_millis(700)).await;
    let third = send("q3").await.unwrap();
    assert_eq!(third.status(), 503);
    assert_eq!(third.headers()["retry-after"], "1");
    // Readiness is the database's, not the queue's (see hardening_readiness).
    let ready = client().get(server.url("/readyz")).send().await.unwrap();
    assert_eq!(ready.status(), 200);

    blocker.release().await;
    assert_eq!(first.await.unwrap().status(), 200);
    assert_eq!(second.await.unwrap().status(), 200);
    let counts = db
        .store
        .request_counts(0, i64::MAX / 2, i64::MAX / 4)
        .await
        .unwrap();
    assert_eq!(
        counts.iter().map(|c| c.ok).sum::<i64>(),
        2,
        "only the acknowledged batches are stored"
    );
    drop(server);
    db.drop_database().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn full_queue_on_sqlite() {
    a_full_queue_answers_503_and_stores_nothing(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn full_queue_on_postgres() {
    a_full_queue_answers_503_and_stores_nothing(Backend::Postgres).await;
}

async fn feedback_endpoint_creates_then_updates(backend: Backend) {
    let db = TestDb::unmigrated(backend).await;
    let server = TestServer::start(&db.url);
    let read = key(&db, &[Scope::Read]).await;
    let rate = |rating: i64| {
        client()
            .post(server.url("/api/v1/feedback"))
            .bearer_auth(&read)
            .json(&json!({"request_id": "r-1", "user_id": "end-user", "rating": rating, "comment": "ok"}))
            .send()
    };
    let first: Value = rate(4).await.unwrap().json().await.unwrap();
    assert_eq!(first["status"], "created");
    let second: Value = rate(2).await.unwrap().json().await.unwrap();
    assert_eq!(second["status"], "updated");
    let bad = rate(0).await.unwrap();
    assert_eq!(bad.status(), 400);
    assert_eq!(
        bad.json::<Value>().await.unwrap()["error"],
        "rating must be between 1 and 5 (got 0)"
    );
    let snapshot = db.store.derived_snapshot().await.unwrap();
    let hourly: Vec<&String> = snapshot["rollup_feedback"]
        .iter()
        .filter(|l| l.starts_with(&format!("{HOUR}|")))
        .collect();
    assert!(
        hourly.iter().any(|l| l.ends_with("|2|1")) && hourly.iter().any(|l| l.ends_with("|4|0")),
        "{hourly:?}"
    );
    db.drop_database().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn feedback_on_sqlite() {
    feedback_endpoint_creates_then_updates(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn feedback_on_postgres() {
    feedback_endpoint_creates_then_updates(Backend::Postgres).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn api_keys_are_managed_from_the_cli() {
    let db = TestDb::new(Backend::Sqlite).await;
    let cli = |args: &[&str]| sightline_cli(&db.url, args);
    let (ok, stdout, _) = cli(&[
        "api-key",
        "create",
        "--name",
        "web app",
        "--scopes",
        "ingest,read",
    ]);
    assert!(ok);
    let secret = stdout.lines().last().unwrap().to_string();
    assert!(secret.starts_with("sl_") && secret.len() == 43, "{stdout}");
    let stored = db.store.find_api_key(&secret).await.unwrap().unwrap();
    assert_eq!(stored.scopes, vec![Scope::Ingest, Scope::Read]);
    let (_, list, _) = cli(&["api-key", "list"]);
    assert!(
        list.contains("web app") && list.contains(&stored.prefix) && !list.contains(&secret),
        "{list}"
    );
    let (ok, _, stderr) = cli(&["api-key", "create", "--name", "x", "--scopes", "admin"]);
    assert!(!ok);
    assert_eq!(
        stderr.trim(),
        "sightline: unknown scope `admin`: use ingest, read or both"
    );
    let (ok, out, _) = cli(&["api-key", "revoke", &stored.prefix]);
    assert!(ok, "{out}");
    assert!(
        db.store
            .find_api_key(&secret)
            .await
            .unwrap()
            .unwrap()
            .revoked_at
            .is_some()
    );
    let (ok, _, stderr) = cli(&["api-key", "revoke", "sl_nope"]);
    assert!(!ok);
    assert_eq!(
        stderr.trim(),
        "sightline: no API key with id or prefix `sl_nope`"
    );
    db.drop_database().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_openapi_document_describes_the_ingest_api() {
    let db = TestDb::unmigrated(Backend::Sqlite).await;
    let server = TestServer::start(&db.url);
    let doc: Value = client()
        .get(server.url("/api/v1/openapi.json"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(doc["openapi"], "3.1.0");
    let ingest = &doc["paths"]["/api/v1/ingest"]["post"];
    for status in ["200", "400", "401", "403", "413", "415", "503"] {
        assert!(ingest["responses"][status].is_object(), "missing {status}");
    }
    let request = &doc["components"]["schemas"]["RequestEvent"];
    assert_eq!(
        request["required"],
        json!(["endpoint", "method", "status_code", "latency_ms"])
    );
    // The document's example is accepted as it is.
    let key = key(&db, &[Scope::Ingest]).await;
    let example = doc["components"]["schemas"]["IngestBatch"]["example"].to_string();
    let (status, reply) = post(&server, &key, "application/json", example).await;
    assert_eq!(
        (
            status,
            reply["accepted"].as_i64(),
            reply["rejected"].as_i64()
        ),
        (200, Some(1), Some(0)),
        "{reply}"
    );
    db.drop_database().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn prices_set_from_the_cli_price_new_requests() {
    let db = TestDb::new(Backend::Sqlite).await;
    let cli = |args: &[&str]| sightline_cli(&db.url, args);
    let (ok, _, _) = cli(&[
        "price",
        "set",
        "my-finetune",
        "--prompt",
        "2",
        "--completion",
        "6",
        "--cache-read",
        "0.5",
        "--reasoning",
        "12",
    ]);
    assert!(ok);
    let (_, list, _) = cli(&["price", "list"]);
    // The cache-write rate is not set: the prompt rate applies, shown in parentheses.
    let row: Vec<&str> = list
        .lines()
        .find(|l| l.starts_with("my-finetune"))
        .unwrap_or_default()
        .split_whitespace()
        .collect();
    assert_eq!(
        row,
        [
            "my-finetune",
            "2.0000",
            "6.0000",
            "0.5000",
            "(2.0000)",
            "12.0000",
            "set"
        ],
        "{list}"
    );
    assert!(
        list.lines()
            .any(|l| l.starts_with("gpt-4o ") && l.ends_with("built-in")),
        "{list}"
    );
    let (ok, _, stderr) = cli(&["price", "set", "x", "--prompt=-1", "--completion", "1"]);
    assert_eq!(
        (ok, stderr.trim()),
        (
            false,
            "sightline: the prompt price must be between 0 and 100000 USD per million tokens (got -1)"
        )
    );

    let server = TestServer::start(&db.url);
    let key = key(&db, &[Scope::Ingest]).await;
    let t = now_hour();
    let body = json!({"requests": [{"request_id": "p1", "timestamp": t, "endpoint": "/v1/chat", "method": "POST", "status_code": 200,
        "latency_ms": 1, "model": "my-finetune", "prompt_tokens": 1000, "completion_tokens": 1000,
        "cache_read_tokens": 400, "reasoning_tokens": 250}]});
    let (status, reply) = post(&server, &key, "application/json", body.to_string()).await;
    assert_eq!(status, 200);
    assert!(reply.get("warnings").is_none(), "{reply}");
    // 600 × $2 + 400 cached × $0.50 + 750 × $6 + 250 reasoning × $12, per million
    // tokens: $0.0012 + $0.0002 + $0.0045 + $0.003 = $0.0089.
    let traffic = db
        .store
        .traffic(Buckets {
            grain: HOUR,
            start: t,
            end: t + HOUR,
        })
        .await
        .unwrap();
    assert_eq!(
        (
            traffic[0].sums.cost_micros.micros(),
            traffic[0].sums.cache_read_tokens,
            traffic[0].sums.reasoning_tokens
        ),
        (8_900, 400, 250)
    );
    let (ok, _, _) = cli(&["price", "reset", "my-finetune"]);
    assert!(ok);
    let (ok, _, stderr) = cli(&["price", "reset", "my-finetune"]);
    assert!(
        !ok && stderr.trim() == "sightline: no price set for `my-finetune`",
        "{stderr}"
    );
    drop(server);
    db.drop_database().await;
}
