//! Hardening: readiness means "the database answers", nothing more (issue 15, item
//! 11). A full ingest queue used to fail `/readyz`, so a burst made a load balancer
//! drop every replica at once; saturation belongs in `/api/v1/health` and `/metrics`.

use crate::common;

use common::api::key;
use common::{Backend, TestDb, TestServer};
use serde_json::json;
use sightline::store::Scope;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_ingest_queue_leaves_the_server_ready() {
    let db = TestDb::unmigrated(Backend::Sqlite).await;
    let server = TestServer::start_with(&db.url, &[("SIGHTLINE_INGEST_QUEUE", "1")]);
    let key = key(&db, &[Scope::Ingest]).await;
    let read_key = common::api::key(&db, &[Scope::Read]).await;
    let client = reqwest::Client::new();

    // The writer waits on its first batch behind this lock; the second fills the queue.
    let blocker = db.hold_write_lock().await;
    let send = |id: &'static str| {
        let (url, key, client) = (server.url("/api/v1/ingest"), key.clone(), client.clone());
        tokio::spawn(async move {
            let now = chrono::Utc::now().timestamp_millis();
            let body = json!({"requests": [{
                "request_id": id, "timestamp": now, "method": "GET", "endpoint": "/x",
                "status_code": 200, "latency_ms": 5.0
            }]});
            client
                .post(url)
                .bearer_auth(key)
                .json(&body)
                .send()
                .await
                .unwrap()
                .status()
        })
    };
    let first = send("r1");
    tokio::time::sleep(std::time::Duration::from_millis(700)).await;
    let second = send("r2");
    tokio::time::sleep(std::time::Duration::from_millis(700)).await;
    assert_eq!(send("r3").await.unwrap(), 503, "the queue is full");

    let ready = client.get(server.url("/readyz")).send().await.unwrap();
    assert_eq!(ready.status(), 200);
    assert_eq!(ready.text().await.unwrap(), "ready");
    // Saturation is still visible where it belongs.
    let metrics = common::api::get_text(&server, &read_key, "/metrics").await;
    let depth: f64 = metrics
        .lines()
        .find_map(|l| l.strip_prefix("sightline_ingest_queue_depth "))
        .and_then(|v| v.trim().parse().ok())
        .expect("the queue depth is in /metrics");
    assert!(depth >= 1.0, "the queue depth reads {depth}");

    blocker.release().await;
    assert_eq!(first.await.unwrap(), 200);
    assert_eq!(second.await.unwrap(), 200);
    drop(server);
    db.drop_database().await;
}
