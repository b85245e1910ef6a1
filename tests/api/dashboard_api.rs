//! `GET /api/v1/dashboard` over HTTP: a fixture ingested through the API gives known
//! numbers in every card, for each range, on both databases.

use crate::common;

use common::{Backend, TestDb, TestServer};
use serde_json::{Value, json};
use sightline::rollup::histogram;
use sightline::store::Scope;

const MIN: i64 = 60_000;
const HOUR: i64 = 3_600_000;

#[allow(clippy::too_many_arguments)]
fn req(
    id: &str,
    t: i64,
    status: i64,
    model: Option<&str>,
    tokens: (i64, i64),
    latency: f64,
    user: Option<&str>,
    country: Option<&str>,
) -> Value {
    let mut r = json!({"request_id": id, "timestamp": t, "endpoint": "/v1/chat/completions", "method": "POST",
        "status_code": status, "latency_ms": latency, "prompt_tokens": tokens.0, "completion_tokens": tokens.1});
    if let Some(m) = model {
        r["model"] = json!(m);
    }
    if let Some(u) = user {
        r["user_id"] = json!(u);
    }
    if let Some(c) = country {
        r["country"] = json!(c);
    }
    r
}

async fn dashboard(server: &TestServer, key: &str, query: &str) -> (u16, Value) {
    let reply = reqwest::Client::new()
        .get(server.url(&format!("/api/v1/dashboard?{query}")))
        .bearer_auth(key)
        .send()
        .await
        .unwrap();
    (reply.status().as_u16(), reply.json().await.unwrap())
}

async fn every_card_shows_the_fixture(backend: Backend) {
    let db = TestDb::unmigrated(backend).await;
    let server = TestServer::start(&db.url);
    let ingest = db
        .store
        .create_api_key("i", &[Scope::Ingest], None, 0)
        .await
        .unwrap()
        .1;
    let read = db
        .store
        .create_api_key("r", &[Scope::Read], None, 0)
        .await
        .unwrap()
        .1;
    let now = chrono::Utc::now().timestamp_millis();
    let h0 = now - now % HOUR;

    let mut r3 = req(
        "r3",
        h0 - HOUR + 5 * MIN,
        200,
        Some("claude-sonnet-4"),
        (10, 20),
        50.0,
        Some("b"),
        Some("DE"),
    );
    r3["session_id"] = json!("s-1");
    r3["cost_usd"] = json!(0.00003);
    let batch = json!({
        "requests": [
            req("r1", h0 - 2 * HOUR + 10 * MIN, 200, Some("gpt-4o"), (1000, 500), 100.0, Some("a"), Some("US")),
            req("r2", h0 - 2 * HOUR + 20 * MIN, 500, Some("gpt-4o"), (200, 0), 300.0, Some("a"), Some("US")),
            r3,
            req("r4", h0 - HOUR + 6 * MIN, 404, None, (0, 0), 2.0, None, None),
            req("r5", h0 - 30 * HOUR, 200, Some("gpt-4o-mini"), (100, 100), 80.0, Some("c"), Some("FR")),
            {"request_id": "r6", "timestamp": h0 - HOUR, "kind": "external", "service": "openai", "endpoint": "/v1/chat/completions",
             "method": "POST", "status_code": 200, "latency_ms": 40, "cost_usd": 0.009999}
        ],
        "feedback": [{"request_id": "r1", "user_id": "a", "rating": 5}, {"request_id": "r3", "user_id": "b", "rating": 2}],
        "threats": [{"threat_type": "xss", "severity": "high", "ip": "198.51.100.7", "description": "<script>alert(1)</script>"},
                    {"threat_type": "sql_injection", "severity": "critical", "ip": "198.51.100.8", "description": "' OR 1=1"}]
    });
    let reply = reqwest::Client::new()
        .post(server.url("/api/v1/ingest"))
        .bearer_auth(&ingest)
        .json(&batch)
        .send()
        .await
        .unwrap();
    assert_eq!(reply.status(), 200);
    assert_eq!(reply.json::<Value>().await.unwrap()["accepted"], 10);

    let (status, d) = dashboard(&server, &read, "range=24h").await;
    assert_eq!(status, 200, "{d}");
    assert_eq!(d["range"], "24h");
    assert_eq!(d["bucket"], "hour");
    assert_eq!(d["requests"].as_array().unwrap().len(), 24);
    let cur = &d["summary"]["current"];
    assert_eq!(cur["requests"], 4);
    assert_eq!(cur["errors"], 2);
    assert_eq!(cur["errorRate"], 0.5);
    assert_eq!(cur["avgLatencyMs"], 113.0);
    let p95 = cur["p95LatencyMs"].as_f64().unwrap();
    assert!(
        (p95 - 300.0).abs() / 300.0 <= histogram::RELATIVE_ACCURACY,
        "{p95}"
    );
    assert_eq!(cur["costMicros"], 8_030);
    assert_eq!(cur["tokens"], 1_730);
    assert_eq!(cur["activeUsers"], 2);
    assert_eq!(cur["sessions"], 2);
    assert_eq!(cur["openThreats"], 2);
    let prev = &d["summary"]["previous"];
    assert_eq!(
        (
            prev["requests"].as_i64(),
            prev["costMicros"].as_i64(),
            prev["activeUsers"].as_i64()
        ),
        (Some(1), Some(75), Some(1))
    );

    let at = |t: i64| {
        d["requests"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["t"] == t)
            .cloned()
            .unwrap()
    };
    assert_eq!(
        at(h0 - 2 * HOUR),
        json!({"t": h0 - 2 * HOUR, "ok": 1, "errors": 1})
    );
    assert_eq!(at(h0 - HOUR), json!({"t": h0 - HOUR, "ok": 1, "errors": 1}));
    assert_eq!(
        d["errorsBreakdown"],
        json!([{"status": 404, "count": 1}, {"status": 500, "count": 1}])
    );
    assert_eq!(
        d["topModels"],
        json!([
            {"model": "gpt-4o", "requests": 2, "errors": 1, "promptTokens": 1200, "completionTokens": 500, "cacheReadTokens": 0, "cacheWriteTokens": 0, "reasoningTokens": 0, "costMicros": 8000, "avgLatencyMs": 200.0},
            {"model": "", "requests": 1, "errors": 1, "promptTokens": 0, "completionTokens": 0, "cacheReadTokens": 0, "cacheWriteTokens": 0, "reasoningTokens": 0, "costMicros": 0, "avgLatencyMs": 2.0},
            {"model": "claude-sonnet-4", "requests": 1, "errors": 0, "promptTokens": 10, "completionTokens": 20, "cacheReadTokens": 0, "cacheWriteTokens": 0, "reasoningTokens": 0, "costMicros": 30, "avgLatencyMs": 50.0}
        ])
    );
    assert_eq!(d["costs"]["models"], json!(["gpt-4o", "claude-sonnet-4"]));
    let cost_at = |t: i64| {
        d["costs"]["points"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["t"] == t)
            .unwrap()["costMicros"]
            .clone()
    };
    assert_eq!(cost_at(h0 - 2 * HOUR), json!([8000, 0]));
    assert_eq!(cost_at(h0 - HOUR), json!([0, 30]));
    assert_eq!(
        d["topCountries"],
        json!([{"country": "US", "requests": 2, "errors": 1}, {"country": "", "requests": 1, "errors": 1}, {"country": "DE", "requests": 1, "errors": 0}])
    );
    assert_eq!(
        d["users"],
        json!({"active": 2, "new": 2, "top": [
            {"userId": "a", "requests": 2, "tokens": 1700, "costMicros": 8000},
            {"userId": "b", "requests": 1, "tokens": 30, "costMicros": 30}]})
    );
    assert_eq!(
        d["feedback"],
        json!({"count": 2, "average": 3.5, "distribution": [0, 1, 0, 0, 1]})
    );
    assert_eq!(
        d["threats"]["openBySeverity"],
        json!({"low": 0, "medium": 0, "high": 1, "critical": 1})
    );
    assert_eq!(d["threats"]["latest"].as_array().unwrap().len(), 2);
    assert_eq!(d["alerts"], json!([]));
    let lat = d["latency"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["t"] == h0 - HOUR)
        .unwrap();
    assert_eq!(
        lat["p50"].as_f64().map(|v| (v - 2.0).abs() / 2.0 <= 0.01),
        Some(true),
        "{lat}"
    );

    // Longer ranges take in the older request; 1m and 3m use daily buckets.
    let (_, week) = dashboard(&server, &read, "range=7d").await;
    assert_eq!(
        (
            week["summary"]["current"]["requests"].as_i64(),
            week["requests"].as_array().unwrap().len()
        ),
        (Some(5), 168)
    );
    let (_, month) = dashboard(&server, &read, "range=1m").await;
    assert_eq!(
        (
            month["bucket"].as_str(),
            month["requests"].as_array().unwrap().len()
        ),
        (Some("day"), 30)
    );
    assert_eq!(month["summary"]["current"]["costMicros"], 8_105);
    let (_, quarter) = dashboard(&server, &read, "range=3m").await;
    assert_eq!(quarter["summary"]["current"]["tokens"], 1_930);

    // A custom range from epoch ms to an RFC 3339 end: whole hourly buckets.
    let end = chrono::DateTime::from_timestamp_millis(h0)
        .unwrap()
        .to_rfc3339();
    let (status, custom) = dashboard(
        &server,
        &read,
        &format!(
            "range=custom&start={}&end={}",
            h0 - 3 * HOUR + 1,
            end.replace('+', "%2B")
        ),
    )
    .await;
    assert_eq!(status, 200, "{custom}");
    assert_eq!(
        (custom["range"].as_str(), custom["bucket"].as_str()),
        (Some("custom"), Some("hour"))
    );
    assert_eq!(custom["start"], h0 - 3 * HOUR);
    assert_eq!(custom["requests"].as_array().unwrap().len(), 3);
    assert_eq!(custom["summary"]["current"]["requests"], 4);

    // Bad ranges and keys.
    let (status, e) = dashboard(&server, &read, "range=2w").await;
    assert_eq!(
        (status, e["error"].as_str()),
        (
            400,
            Some("unknown range `2w`: use 24h, 7d, 1m, 3m or custom")
        )
    );
    let (status, _) = dashboard(&server, &read, "range=custom&start=2026-01-01").await;
    assert_eq!(status, 400);
    let (status, _) = dashboard(&server, &ingest, "range=24h").await;
    assert_eq!(status, 403);
    drop(server);
    db.drop_database().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_card_on_sqlite() {
    every_card_shows_the_fixture(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_card_on_postgres() {
    every_card_shows_the_fixture(Backend::Postgres).await;
}
