//! `GET /metrics` and `GET /api/v1/health` over HTTP against the real server, on both
//! databases: a fixture ingested through the API gives exact figures, parsed with a
//! Prometheus text parser.

use crate::common;

use common::{Browser, PASSWORD, TestDb, TestServer, account};
use prometheus_parse::{Scrape, Value as Metric};
use serde_json::{Value, json};
use sightline::metrics::MAX_ENDPOINT_LABELS;
use sightline::store::Scope;
use sightline_app::auth::Role;

const MIN: i64 = 60_000;
const HOUR: i64 = 3_600_000;
const DAY: i64 = 24 * HOUR;

async fn key(db: &TestDb, scopes: &[Scope]) -> String {
    db.store
        .create_api_key("test", scopes, None, 0)
        .await
        .unwrap()
        .1
}

async fn ingest(server: &TestServer, key: &str, content_type: &str, body: String) -> Value {
    let reply = reqwest::Client::new()
        .post(server.url("/api/v1/ingest"))
        .bearer_auth(key)
        .header("content-type", content_type)
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(reply.status().as_u16(), 200);
    reply.json().await.unwrap()
}

/// Scrapes `/metrics` with `key`: the status, and the parsed scrape when it is 200.
async fn scrape(server: &TestServer, key: Option<&str>) -> (u16, Option<Scrape>) {
    let mut request = reqwest::Client::new().get(server.url("/metrics"));
    if let Some(key) = key {
        request = request.bearer_auth(key);
    }
    let reply = request.send().await.unwrap();
    let status = reply.status().as_u16();
    if status != 200 {
        return (status, None);
    }
    assert_eq!(
        reply.headers()["content-type"],
        "text/plain; version=0.0.4; charset=utf-8"
    );
    let text = reply.text().await.unwrap();
    let lines = text.lines().map(|l| Ok(l.to_owned()));
    (status, Some(Scrape::parse(lines).unwrap()))
}

/// The value of the sample `metric` with exactly `labels`, if there is one.
fn sample(scrape: &Scrape, metric: &str, labels: &[(&str, &str)]) -> Option<f64> {
    let found = scrape.samples.iter().find(|s| {
        s.metric == metric
            && s.labels.len() == labels.len()
            && labels.iter().all(|(k, v)| s.labels.get(k) == Some(*v))
    })?;
    match &found.value {
        Metric::Counter(v) | Metric::Gauge(v) | Metric::Untyped(v) => Some(*v),
        Metric::Histogram(buckets) => buckets
            .iter()
            .find(|b| b.less_than.is_infinite())
            .map(|b| b.count),
        Metric::Summary(_) => None,
    }
}

fn value(scrape: &Scrape, metric: &str, labels: &[(&str, &str)]) -> f64 {
    sample(scrape, metric, labels).unwrap_or_else(|| panic!("no sample {metric} {labels:?}"))
}

/// The count of the histogram bucket `le` of `metric` with `labels`.
fn bucket(scrape: &Scrape, metric: &str, labels: &[(&str, &str)], le: f64) -> f64 {
    let found = scrape
        .samples
        .iter()
        .find(|s| {
            s.metric == metric
                && s.labels.len() == labels.len()
                && labels.iter().all(|(k, v)| s.labels.get(k) == Some(*v))
        })
        .unwrap_or_else(|| panic!("no histogram {metric} {labels:?}"));
    let Metric::Histogram(buckets) = &found.value else {
        panic!("{metric} is not a histogram");
    };
    buckets
        .iter()
        .find(|b| (b.less_than - le).abs() < 1e-9)
        .map(|b| b.count)
        .unwrap_or_else(|| panic!("no bucket le={le}"))
}

#[allow(clippy::too_many_arguments)]
fn req(
    id: &str,
    t: i64,
    kind: &str,
    method: &str,
    endpoint: &str,
    status: i64,
    ms: f64,
    user: &str,
) -> Value {
    json!({"request_id": id, "timestamp": t, "kind": kind, "service": "openai", "endpoint": endpoint,
        "method": method, "status_code": status, "latency_ms": ms, "user_id": user})
}

const CHAT: &str = "/v1/chat/completions";

/// The fixture: 5 stored requests of 4 users, 2 duplicates, and 4 rejected events.
/// Returns the instants of the users' latest requests.
async fn ingest_fixture(server: &TestServer, key: &str, now: i64) -> [i64; 4] {
    let seen = [now - 2 * MIN, now - 2 * MIN, now - 2 * HOUR, now - 3 * DAY];
    let first = json!({
        "requests": [
            req("a", now - 3 * MIN, "api", "POST", CHAT, 200, 250.0, "u1"),
            req("b", seen[1], "api", "POST", CHAT, 503, 1500.0, "u2"),
            req("c", seen[2], "api", "get", "/v1/models", 404, 40.0, "u3"),
            req("d", seen[3], "api", "POST", "/v1/embeddings", 201, 100.0, "u4"),
            req("e", seen[0], "external", "POST", "/v1/responses", 200, 2000.0, "u1"),
            {"endpoint": "/x", "method": "GET", "status_code": 700, "latency_ms": 1}
        ],
        "feedback": [{"request_id": "a", "user_id": "u1", "rating": 5}, {"request_id": "a", "rating": 9}],
        "threats": [{"threat_type": "xss", "severity": "high", "ip": "198.51.100.7", "description": "<script>"}],
        "auth_events": [{"event_type": "login", "user_id": "u1"}, {"event_type": "hack"}]
    });
    let reply = ingest(server, key, "application/json", first.to_string()).await;
    assert_eq!(
        (&reply["accepted"], &reply["duplicates"], &reply["rejected"]),
        (&json!(8), &json!(0), &json!(3)),
        "{reply}"
    );
    // A retry of two requests, and a line of an unknown type.
    let retry = format!(
        "{}\n{}\n{}\n",
        json!({"type": "request", "request_id": "a", "timestamp": now - 3 * MIN, "endpoint": CHAT, "method": "POST", "status_code": 200, "latency_ms": 250.0, "user_id": "u1"}),
        json!({"type": "request", "request_id": "b", "timestamp": seen[1], "endpoint": CHAT, "method": "POST", "status_code": 503, "latency_ms": 1500.0, "user_id": "u2"}),
        json!({"type": "alert"}),
    );
    let reply = ingest(server, key, "application/x-ndjson", retry).await;
    assert_eq!(
        (&reply["accepted"], &reply["duplicates"], &reply["rejected"]),
        (&json!(0), &json!(2), &json!(1)),
        "{reply}"
    );
    seen
}

storage_test!(metrics_count_the_fixture_exactly, |db| async move {
    let server = TestServer::start(&db.url);
    let ingest_key = key(db, &[Scope::Ingest]).await;
    let read_key = key(db, &[Scope::Read]).await;
    let now = chrono::Utc::now().timestamp_millis();
    ingest_fixture(&server, &ingest_key, now).await;

    assert_eq!(scrape(&server, None).await.0, 401);
    assert_eq!(scrape(&server, Some("sl_nonsense")).await.0, 401);
    assert_eq!(scrape(&server, Some(&ingest_key)).await.0, 403);
    let (status, scrape) = scrape(&server, Some(&read_key)).await;
    assert_eq!(status, 200);
    let s = scrape.unwrap();

    let requests = |kind, method, status, endpoint| {
        value(
            &s,
            "requests_total",
            &[
                ("kind", kind),
                ("method", method),
                ("status", status),
                ("endpoint", endpoint),
            ],
        )
    };
    assert_eq!(requests("api", "POST", "2xx", CHAT), 1.0);
    assert_eq!(requests("api", "POST", "5xx", CHAT), 1.0);
    assert_eq!(requests("api", "GET", "4xx", "/v1/models"), 1.0);
    assert_eq!(requests("api", "POST", "2xx", "/v1/embeddings"), 1.0);
    assert_eq!(requests("external", "POST", "2xx", "/v1/responses"), 1.0);
    let total: f64 = s
        .samples
        .iter()
        .filter(|x| x.metric == "requests_total")
        .map(|x| match x.value {
            Metric::Counter(v) => v,
            _ => panic!("requests_total is a counter"),
        })
        .sum();
    assert_eq!(total, 5.0, "duplicates are not counted");

    let chat = [("kind", "api"), ("endpoint", CHAT)];
    assert_eq!(value(&s, "request_latency_seconds_count", &chat), 2.0);
    assert!((value(&s, "request_latency_seconds_sum", &chat) - 1.75).abs() < 1e-9);
    assert_eq!(value(&s, "request_latency_seconds", &chat), 2.0);
    assert_eq!(bucket(&s, "request_latency_seconds", &chat, 0.5), 1.0);
    assert_eq!(bucket(&s, "request_latency_seconds", &chat, 2.0), 2.0);
    let external = [("kind", "external"), ("endpoint", "/v1/responses")];
    assert!((value(&s, "request_latency_seconds_sum", &external) - 2.0).abs() < 1e-9);

    let events = |t, outcome| {
        sample(
            &s,
            "sightline_ingest_events_total",
            &[("type", t), ("outcome", outcome)],
        )
    };
    assert_eq!(events("request", "accepted"), Some(5.0));
    assert_eq!(events("request", "duplicate"), Some(2.0));
    assert_eq!(events("request", "rejected"), Some(1.0));
    assert_eq!(events("feedback", "accepted"), Some(1.0));
    assert_eq!(events("feedback", "rejected"), Some(1.0));
    assert_eq!(events("threat", "accepted"), Some(1.0));
    assert_eq!(events("auth_event", "accepted"), Some(1.0));
    assert_eq!(events("auth_event", "rejected"), Some(1.0));
    assert_eq!(events("unknown", "rejected"), Some(1.0));
    assert_eq!(events("threat", "duplicate"), None);
    assert_eq!(value(&s, "sightline_ingest_batches_total", &[]), 2.0);
    assert_eq!(value(&s, "sightline_ingest_commit_seconds_count", &[]), 2.0);
    assert_eq!(value(&s, "sightline_ingest_queue_depth", &[]), 0.0);
    assert_eq!(value(&s, "sightline_alerts_firing", &[]), 0.0);

    // u1 and u2 in the last 5 minutes, u3 two hours ago, u4 three days ago.
    let active = |timeframe| value(&s, "active_users", &[("timeframe", timeframe)]);
    assert_eq!(
        [active("5m"), active("1h"), active("1d"), active("7d")],
        [2.0, 2.0, 3.0, 4.0]
    );
    assert_eq!(value(&s, "user_sessions_total", &[]), 4.0);
});

storage_test!(endpoint_labels_are_bounded, |db| async move {
    let server = TestServer::start(&db.url);
    let ingest_key = key(db, &[Scope::Ingest]).await;
    let read_key = key(db, &[Scope::Read]).await;
    let now = chrono::Utc::now().timestamp_millis();
    let requests: Vec<Value> = (0..MAX_ENDPOINT_LABELS + 5)
        .map(|i| {
            req(
                &format!("r{i}"),
                now - MIN,
                "api",
                "GET",
                &format!("/e/{i}"),
                200,
                10.0,
                "u",
            )
        })
        .collect();
    let reply = ingest(
        &server,
        &ingest_key,
        "application/json",
        json!({"requests": requests}).to_string(),
    )
    .await;
    assert_eq!(reply["accepted"], json!(MAX_ENDPOINT_LABELS + 5));
    // A labelled endpoint keeps its label afterwards.
    let again = json!({"requests": [req("again", now, "api", "GET", "/e/0", 200, 10.0, "u")]});
    ingest(&server, &ingest_key, "application/json", again.to_string()).await;

    let s = scrape(&server, Some(&read_key)).await.1.unwrap();
    let endpoints: Vec<(String, f64)> = s
        .samples
        .iter()
        .filter(|x| x.metric == "requests_total")
        .map(|x| {
            let Metric::Counter(v) = x.value else {
                panic!("a counter")
            };
            (x.labels.get("endpoint").unwrap().to_owned(), v)
        })
        .collect();
    assert_eq!(endpoints.len(), MAX_ENDPOINT_LABELS + 1);
    let label = |e: &str| endpoints.iter().find(|(l, _)| l == e).map(|(_, v)| *v);
    assert_eq!(label("other"), Some(5.0));
    assert_eq!(label("/e/0"), Some(2.0));
    assert_eq!(label(&format!("/e/{}", MAX_ENDPOINT_LABELS - 1)), Some(1.0));
    assert_eq!(label(&format!("/e/{}", MAX_ENDPOINT_LABELS)), None);
    let other = [("kind", "api"), ("endpoint", "other")];
    assert_eq!(value(&s, "request_latency_seconds_count", &other), 5.0);
});

async fn health(server: &TestServer, key: Option<&str>) -> (u16, Value) {
    let mut request = reqwest::Client::new().get(server.url("/api/v1/health"));
    if let Some(key) = key {
        request = request.bearer_auth(key);
    }
    let reply = request.send().await.unwrap();
    (
        reply.status().as_u16(),
        reply.json().await.unwrap_or(Value::Null),
    )
}

storage_test!(health_reports_rows_queue_and_users, |db| async move {
    let server = TestServer::start(&db.url);
    let ingest_key = key(db, &[Scope::Ingest]).await;
    let read_key = key(db, &[Scope::Read]).await;

    assert_eq!(health(&server, None).await.0, 401);
    assert_eq!(health(&server, Some(&ingest_key)).await.0, 403);
    let (status, before) = health(&server, Some(&read_key)).await;
    assert_eq!(status, 200, "{before}");
    assert_eq!(before["ingest"]["lastCommitAt"], Value::Null);
    assert_eq!(before["rows"]["requests"], json!(0));

    let now = chrono::Utc::now().timestamp_millis();
    let seen = ingest_fixture(&server, &ingest_key, now).await;
    let (status, h) = health(&server, Some(&read_key)).await;
    assert_eq!(status, 200, "{h}");
    assert_eq!(h["status"], "ok");
    assert_eq!(h["version"], env!("CARGO_PKG_VERSION"));
    assert!(h["uptimeSeconds"].as_u64().is_some());
    let kind = match db.backend() {
        common::Backend::Sqlite => "sqlite",
        common::Backend::Postgres => "postgres",
    };
    assert_eq!(h["database"]["kind"], kind);
    assert_eq!(h["database"]["reachable"], true);
    assert!(h["database"]["sizeBytes"].as_i64().unwrap() > 0, "{h}");
    assert_eq!(
        h["rows"],
        json!({"requests": 5, "sessions": 4, "threats": 1, "feedback": 1, "authEvents": 1, "alerts": 0})
    );
    assert_eq!(h["ingest"]["queueDepth"], 0);
    assert_eq!(h["ingest"]["queueCapacity"], 256, "{h}");
    let committed = h["ingest"]["lastCommitAt"].as_i64().unwrap();
    assert!(
        committed >= now && committed <= chrono::Utc::now().timestamp_millis(),
        "{h}"
    );
    let lag = h["ingest"]["lagMs"].as_i64().unwrap();
    assert!((0..10_000).contains(&lag), "{h}");
    let midnight = now - now.rem_euclid(DAY);
    let today = seen.iter().filter(|t| **t >= midnight).count();
    assert_eq!(h["activeUsers"], json!({"today": today, "week": 4}));

    // Sessions: an admin reads it, a viewer is refused.
    account(db, "root", Role::Admin).await;
    account(db, "view", Role::Viewer).await;
    let mut admin = Browser::new(&server.base_url);
    admin.login("root", PASSWORD).await;
    assert!(admin.signed_in());
    let r = admin.get("/api/v1/health").await;
    assert_eq!(r.status.as_u16(), 200, "{}", r.body);
    let mut viewer = Browser::new(&server.base_url);
    viewer.login("view", PASSWORD).await;
    assert!(viewer.signed_in());
    assert_eq!(viewer.get("/api/v1/health").await.status.as_u16(), 403);
});
