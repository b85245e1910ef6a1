//! Two replicas on one PostgreSQL database, as behind a load balancer: they migrate the
//! fresh database together, a dashboard session signed in on one is honoured by the
//! other, and the same events sent to both are stored and counted exactly once.

use crate::common;

use common::{Backend, Browser, PASSWORD, TestDb, TestServer, account, api};
use serde_json::{Value, json};
use sightline::store::Scope;
use sightline_app::auth::Role;

const EVENTS: i64 = 50;

async fn summary(server: &TestServer, key: &str) -> Value {
    let report = api::get_json(server, key, "/api/v1/dashboard?range=24h").await;
    report["summary"]["current"].clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_replicas_share_sessions_and_store_each_event_once() {
    let db = TestDb::unmigrated(Backend::Postgres).await;
    // Both start at once on the empty database: migrations run once, under their lock.
    let (a, b) = {
        let (url_a, url_b) = (db.url.clone(), db.url.clone());
        let a = std::thread::spawn(move || TestServer::start(&url_a));
        let b = std::thread::spawn(move || TestServer::start(&url_b));
        (a.join().unwrap(), b.join().unwrap())
    };
    account(&db, "ada", Role::Admin).await;

    // A session signed in on replica A is honoured by replica B, and signing out on B
    // ends it on A too.
    let mut on_a = Browser::new(&a.base_url);
    let r = on_a.login("ada", PASSWORD).await;
    assert_eq!(r.status.as_u16(), 200, "{}", r.body);
    let mut on_b = Browser::new(&b.base_url);
    assert_eq!(
        on_b.get("/").await.status.as_u16(),
        303,
        "B: signed out first"
    );
    on_b.set_session_cookie(on_a.session_cookie());
    let page = on_b.get("/").await;
    assert_eq!(page.status.as_u16(), 200, "B accepts A's session");
    let keys = on_b.post_form("/api/ui/api_keys", &[]).await;
    assert_eq!(keys.status.as_u16(), 200, "{}", keys.body);
    on_b.post_form("/logout", &[]).await;
    let after = on_a.get("/").await;
    assert_ne!(after.status.as_u16(), 200, "signed out on B, so on A too");

    // The same events, with the same request ids, sent to both replicas at once, twice.
    let (_, ingest) = db
        .store
        .create_api_key("i", &[Scope::Ingest], None, 0)
        .await
        .unwrap();
    let (_, read) = db
        .store
        .create_api_key("r", &[Scope::Read], None, 0)
        .await
        .unwrap();
    let now = chrono::Utc::now().timestamp_millis();
    let requests: Vec<Value> = (0..EVENTS)
        .map(|i| {
            json!({"request_id": format!("dup-{i}"), "timestamp": now - i * 1_000,
                "endpoint": "/v1/chat/completions", "method": "POST",
                "status_code": if i % 5 == 0 { 500 } else { 200 }, "latency_ms": 100,
                "model": "gpt-4o-mini", "prompt_tokens": 10, "completion_tokens": i,
                "cost_usd": 0.000_002, "user_id": format!("u{}", i % 4)})
        })
        .collect();
    let body = json!({ "requests": requests });
    let (mut accepted, mut duplicates) = (0, 0);
    for _ in 0..2 {
        let (ra, rb) = tokio::join!(
            api::ingest(&a, &ingest, &body),
            api::ingest(&b, &ingest, &body)
        );
        for r in [ra, rb] {
            accepted += r["accepted"].as_i64().unwrap();
            duplicates += r["duplicates"].as_i64().unwrap();
        }
    }
    assert_eq!((accepted, duplicates), (EVENTS, 3 * EVENTS));

    let mut conn = db.connection().await;
    let stored: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM request_log")
        .fetch_one(&mut conn)
        .await
        .unwrap();
    let rolled: i64 = sqlx::query_scalar(
        "SELECT CAST(SUM(requests) AS BIGINT) FROM rollup_traffic WHERE bucket_ms = 3600000",
    )
    .fetch_one(&mut conn)
    .await
    .unwrap();
    assert_eq!((stored, rolled), (EVENTS, EVENTS));
    let tokens = EVENTS * 10 + EVENTS * (EVENTS - 1) / 2;
    for server in [&a, &b] {
        let s = summary(server, &read).await;
        assert_eq!(
            (
                &s["requests"],
                &s["errors"],
                &s["tokens"],
                &s["costMicros"],
                &s["activeUsers"]
            ),
            (
                &json!(EVENTS),
                &json!(EVENTS / 5),
                &json!(tokens),
                &json!(EVENTS * 2),
                &json!(4)
            ),
            "{s}"
        );
    }
    drop((a, b));
    db.drop_database().await;
}
