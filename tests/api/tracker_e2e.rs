//! `sightline-tracker` end to end: the example AI API (`tracker/examples/ai_api.rs`),
//! served on a random loopback port with a tracker pointed at the real `sightline`
//! binary, then what reached the database, on SQLite and PostgreSQL. And the same API
//! with Sightline down: every request still served, fast.

use crate::common;

#[path = "../../tracker/examples/ai_api.rs"]
#[allow(dead_code)] // its `main` is not run here, only its router
mod ai_api;

use std::collections::HashSet;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use common::{TestDb, TestServer};
use serde_json::json;
use sightline::store::Scope;
use sightline_tracker::{FlushStrategy, RetryPolicy, Tracker, TrackerConfig};
use sqlx::{AnyConnection, Connection, Row};

const USER_AGENT: &str = "tracker-e2e/1.0";

/// The real server on `db`, and an ingest key for it.
struct Sightline {
    server: TestServer,
    key: String,
}

async fn sightline(db: &TestDb) -> Sightline {
    let server = TestServer::start(&db.url);
    let (_, key) = db
        .store
        .create_api_key("tracker-e2e", &[Scope::Ingest], None, 0)
        .await
        .unwrap();
    Sightline { server, key }
}

/// A tracker sending to `sightline` that flushes only when asked (or at shutdown).
fn tracker(
    sightline: &Sightline,
    configure: impl FnOnce(TrackerConfig) -> TrackerConfig,
) -> Tracker {
    let config = Tracker::builder(&sightline.server.base_url, &sightline.key)
        .flush_strategy(FlushStrategy::Time(Duration::from_secs(3_600)));
    configure(config).build().unwrap()
}

/// The example API with `tracker`, served on a random port; its base URL.
async fn serve_example(tracker: &Tracker) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let service = ai_api::app(tracker).into_make_service_with_connect_info::<SocketAddr>();
    tokio::spawn(async move { axum::serve(listener, service).await.unwrap() });
    format!("http://{addr}")
}

fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .user_agent(USER_AGENT)
        .build()
        .unwrap()
}

/// A chat completion, as `user` if given: (status, `x-request-id` if any).
async fn chat(api: &str, user: Option<&str>, body: &str) -> (u16, Option<String>) {
    let mut request = client()
        .post(format!("{api}/v1/chat/completions"))
        .header("content-type", "application/json")
        .body(body.to_owned());
    if let Some(user) = user {
        request = request.header("x-user-id", user);
    }
    reply(request).await
}

async fn get(api: &str, path: &str) -> (u16, Option<String>) {
    reply(client().get(format!("{api}{path}"))).await
}

async fn login(api: &str, user: Option<&str>) -> (u16, Option<String>) {
    let mut request = client().post(format!("{api}/v1/login"));
    if let Some(user) = user {
        request = request.header("x-user-id", user);
    }
    reply(request).await
}

async fn reply(request: reqwest::RequestBuilder) -> (u16, Option<String>) {
    let response = request.send().await.unwrap();
    let id = response
        .headers()
        .get("x-request-id")
        .map(|v| v.to_str().unwrap().to_owned());
    let status = response.status().as_u16();
    response.bytes().await.unwrap();
    (status, id)
}

fn prompt(text: &str) -> String {
    json!({"model": "gpt-4o", "messages": [{"role": "user", "content": text}]}).to_string()
}

/// A row of `request_log`, as stored.
#[derive(Debug)]
struct Stored {
    request_id: String,
    endpoint: String,
    method: String,
    status_code: i64,
    latency_ms: f64,
    model: Option<String>,
    prompt_tokens: i64,
    completion_tokens: i64,
    finish_reason: Option<String>,
    user_id: Option<String>,
    is_authenticated: bool,
    ip: Option<String>,
    user_agent: Option<String>,
}

async fn connect(db: &TestDb) -> AnyConnection {
    AnyConnection::connect(&db.url).await.unwrap()
}

/// Every stored request, in arrival order.
async fn stored_requests(db: &TestDb) -> Vec<Stored> {
    let mut conn = connect(db).await;
    let rows = sqlx::query(
        "SELECT request_id, endpoint, method, CAST(status_code AS BIGINT) AS status_code, \
                latency_ms, model_name, prompt_tokens, completion_tokens, finish_reason, \
                user_id, CAST(CASE WHEN is_authenticated THEN 1 ELSE 0 END AS BIGINT) AS authed, \
                ip, user_agent \
         FROM request_log ORDER BY created_at, id",
    )
    .fetch_all(&mut conn)
    .await
    .unwrap();
    conn.close().await.ok();
    rows.iter()
        .map(|r| Stored {
            request_id: r.get("request_id"),
            endpoint: r.get("endpoint"),
            method: r.get("method"),
            status_code: r.get("status_code"),
            latency_ms: r.get("latency_ms"),
            model: r.get("model_name"),
            prompt_tokens: r.get("prompt_tokens"),
            completion_tokens: r.get("completion_tokens"),
            finish_reason: r.get("finish_reason"),
            user_id: r.get("user_id"),
            is_authenticated: r.get::<i64, _>("authed") == 1,
            ip: r.get("ip"),
            user_agent: r.get("user_agent"),
        })
        .collect()
}

/// Every stored auth event: (type, user, success), in arrival order.
async fn stored_auth_events(db: &TestDb) -> Vec<(String, Option<String>, bool)> {
    let mut conn = connect(db).await;
    let rows = sqlx::query(
        "SELECT event_type, user_id, CAST(CASE WHEN success THEN 1 ELSE 0 END AS BIGINT) AS ok \
         FROM auth_event ORDER BY created_at, id",
    )
    .fetch_all(&mut conn)
    .await
    .unwrap();
    conn.close().await.ok();
    rows.iter()
        .map(|r| {
            (
                r.get("event_type"),
                r.get("user_id"),
                r.get::<i64, _>("ok") == 1,
            )
        })
        .collect()
}

fn ids(stored: &[Stored]) -> HashSet<String> {
    stored.iter().map(|r| r.request_id.clone()).collect()
}

storage_test!(
    requests_and_auth_events_arrive_with_their_fields,
    |db| async move {
        let sightline = sightline(db).await;
        let tracker = tracker(&sightline, |c| c);
        let api = serve_example(&tracker).await;

        let (status, chat_id) = chat(&api, Some("alice"), &prompt("Hello there")).await;
        assert_eq!(status, 200);
        assert_eq!(get(&api, "/v1/models/gpt-4o-mini").await.0, 200);
        assert_eq!(login(&api, Some("alice")).await.0, 204);
        assert_eq!(login(&api, None).await.0, 401);
        tracker.flush().await;
        let stats = tracker.stats();
        assert_eq!((stats.recorded, stats.sent, stats.dropped), (6, 6, 0));

        let stored = stored_requests(db).await;
        let summary: Vec<(&str, &str, i64)> = stored
            .iter()
            .map(|r| (r.endpoint.as_str(), r.method.as_str(), r.status_code))
            .collect();
        assert_eq!(
            summary,
            [
                ("/v1/chat/completions", "POST", 200),
                ("/v1/models/{model}", "GET", 200),
                ("/v1/login", "POST", 204),
                ("/v1/login", "POST", 401),
            ],
            "route templates, not paths"
        );
        let c = &stored[0];
        assert_eq!(
            Some(&c.request_id),
            chat_id.as_ref(),
            "the id the client was told"
        );
        assert_eq!(c.model.as_deref(), Some("gpt-4o"));
        // "Hello there" is 2 words + 8; "You said: Hello there" is 4.
        assert_eq!((c.prompt_tokens, c.completion_tokens), (10, 4));
        assert_eq!(c.finish_reason.as_deref(), Some("stop"));
        assert_eq!(c.user_id.as_deref(), Some("alice"));
        assert!(c.is_authenticated);
        assert!(c.latency_ms > 0.0, "latency {}", c.latency_ms);
        for r in &stored {
            assert_eq!(r.ip.as_deref(), Some("127.0.0.1"), "{r:?}");
            assert_eq!(r.user_agent.as_deref(), Some(USER_AGENT), "{r:?}");
        }
        let model = &stored[1];
        assert_eq!(
            (model.user_id.as_deref(), model.is_authenticated),
            (None, false)
        );
        assert_eq!(model.model, None);

        assert_eq!(
            stored_auth_events(db).await,
            [
                ("login".to_owned(), Some("alice".to_owned()), true),
                ("login_failed".to_owned(), None, false),
            ]
        );
        tracker.shutdown().await;
    }
);

storage_test!(
    sampled_out_successes_are_not_stored_but_errors_are,
    |db| async move {
        let sightline = sightline(db).await;
        let tracker = tracker(&sightline, |c| c.sample_rate(0.0));
        let api = serve_example(&tracker).await;

        for _ in 0..20 {
            assert_eq!(chat(&api, Some("bob"), &prompt("Hi")).await.0, 200);
            assert_eq!(get(&api, "/v1/models/gpt-4o").await.0, 200);
        }
        let (unprocessable, id_422) = chat(&api, Some("bob"), r#"{"messages":[]}"#).await;
        assert_eq!(unprocessable, 422, "no message to answer");
        assert_eq!(chat(&api, None, "{not json").await.0, 400);
        assert_eq!(login(&api, None).await.0, 401);
        tracker.flush().await;

        let stored = stored_requests(db).await;
        let statuses: Vec<i64> = stored.iter().map(|r| r.status_code).collect();
        assert_eq!(statuses, [422, 400, 401], "only the errors");
        assert_eq!(Some(&stored[0].request_id), id_422.as_ref());
        assert_eq!(
            stored[0].user_id, None,
            "the handler failed before naming a user"
        );
        assert_eq!(
            tracker.stats().recorded,
            4,
            "3 errors and the failed login's auth event"
        );
        tracker.shutdown().await;
    }
);

storage_test!(skipped_paths_are_not_stored, |db| async move {
    let sightline = sightline(db).await;

    // The default skip-list.
    let tracker = tracker(&sightline, |c| c);
    let api = serve_example(&tracker).await;
    for _ in 0..5 {
        let (status, id) = get(&api, "/health").await;
        assert_eq!((status, id), (200, None), "a skipped request gets no id");
    }
    let (_, models_id) = get(&api, "/v1/models/gpt-4o").await;
    tracker.shutdown().await;

    // A configured one.
    let tracker = self::tracker(&sightline, |c| c.skip_paths(["/v1/models"]));
    let api = serve_example(&tracker).await;
    get(&api, "/v1/models/gpt-4o").await;
    let (_, health_id) = get(&api, "/health").await;
    tracker.shutdown().await;

    let stored = stored_requests(db).await;
    let endpoints: Vec<&str> = stored.iter().map(|r| r.endpoint.as_str()).collect();
    assert_eq!(endpoints, ["/v1/models/{model}", "/health"]);
    let expected: HashSet<String> = [models_id, health_id].into_iter().flatten().collect();
    assert_eq!(ids(&stored), expected);
});

storage_test!(a_clean_shutdown_loses_nothing, |db| async move {
    const N: usize = 500;
    let sightline = sightline(db).await;
    let tracker = tracker(&sightline, |c| c);
    let api = serve_example(&tracker).await;

    let mut told = HashSet::new();
    for chunk in 0..N / 50 {
        let calls = (0..50).map(|i| {
            let api = api.clone();
            async move {
                let user = format!("user-{}", (chunk * 50 + i) % 7);
                chat(&api, Some(&user), &prompt("Count me")).await
            }
        });
        for (status, id) in futures::future::join_all(calls).await {
            assert_eq!(status, 200);
            told.insert(id.expect("every tracked response names its request id"));
        }
    }
    assert_eq!(told.len(), N);
    let before = tracker.stats();
    assert_eq!(
        (before.recorded, before.sent, before.queued),
        (N as u64, 0, N)
    );

    tracker.clone().shutdown().await;
    let after = tracker.stats();
    assert_eq!(
        (after.sent, after.dropped, after.failed_batches),
        (N as u64, 0, 0)
    );
    let stored = stored_requests(db).await;
    assert_eq!(stored.len(), N);
    assert_eq!(ids(&stored), told, "exactly the ids the tracker gave out");
});

/// A port nothing listens on.
fn closed_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().port()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sightline_down_neither_fails_nor_slows_the_api() {
    // Each flush makes 3 tries 100 ms and 200 ms apart: a layer that waited for it
    // would make some requests take 300 ms or more.
    let tracker = Tracker::builder(format!("http://127.0.0.1:{}", closed_port()), "sl_key")
        .flush_strategy(FlushStrategy::Hybrid {
            interval: Duration::from_millis(50),
            count: 20,
        })
        .retry(RetryPolicy {
            max_attempts: 3,
            initial_backoff: Duration::from_millis(100),
            max_backoff: Duration::from_secs(1),
        })
        .build()
        .unwrap();
    let api = serve_example(&tracker).await;

    let started = Instant::now();
    let mut took = Vec::new();
    for _ in 0..200 {
        let t = Instant::now();
        let (status, id) = chat(&api, Some("carol"), &prompt("Still there?")).await;
        took.push(t.elapsed());
        assert_eq!(status, 200);
        assert!(id.is_some());
    }
    let total = started.elapsed();
    took.sort();
    let (median, slowest) = (took[took.len() / 2], took[took.len() - 1]);
    // The connect timeout is 3 s; the whole loop stays far below it.
    assert!(
        total < Duration::from_secs(3),
        "200 requests took {total:?}"
    );
    assert!(
        slowest < Duration::from_millis(200),
        "slowest request {slowest:?} (median {median:?})"
    );

    tracker.flush().await;
    let stats = tracker.stats();
    assert_eq!((stats.recorded, stats.sent), (200, 0));
    assert!(stats.failed_batches >= 1, "{stats:?}");
    assert!(stats.retries >= 2, "{stats:?}");
    tracker.clone().shutdown().await;
    assert_eq!(
        tracker.stats().dropped,
        200,
        "lost at shutdown, and counted"
    );
}
