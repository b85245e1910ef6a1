//! Acknowledged means durable: batches posted concurrently while the server is killed
//! with SIGKILL (or stopped with SIGTERM) are all there, exactly once, after a restart.

use crate::common;

use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::{Backend, TestDb, TestServer};
use serde_json::json;
use sightline::store::{Buckets, Scope};

const CLIENTS: usize = 4;
const BATCH: usize = 200;

/// Posts batches from several clients until the server stops answering; returns the
/// request ids of every acknowledged (200) batch.
async fn post_until_stopped(
    url: String,
    key: String,
    stop_after: Duration,
    stop: impl FnOnce() + Send + 'static,
) -> HashSet<String> {
    let acked = Arc::new(Mutex::new(HashSet::new()));
    let mut clients = Vec::new();
    for c in 0..CLIENTS {
        let (url, key, acked) = (url.clone(), key.clone(), acked.clone());
        clients.push(tokio::spawn(async move {
            let client = reqwest::Client::new();
            for b in 0.. {
                let ids: Vec<String> = (0..BATCH).map(|i| format!("c{c}-b{b}-r{i}")).collect();
                let requests: Vec<_> = ids
                    .iter()
                    .map(|id| json!({"request_id": id, "endpoint": "/v1/chat", "method": "POST", "status_code": 200, "latency_ms": 5, "user_id": format!("u{c}")}))
                    .collect();
                let sent = client
                    .post(format!("{url}/api/v1/ingest"))
                    .bearer_auth(&key)
                    .json(&json!({ "requests": requests }))
                    .timeout(Duration::from_secs(10))
                    .send()
                    .await;
                match sent {
                    Ok(reply) if reply.status() == 200 => {
                        let body: serde_json::Value = match reply.json().await {
                            Ok(b) => b,
                            Err(_) => break, // the answer was cut: not acknowledged
                        };
                        assert_eq!(body["accepted"], BATCH as i64, "{body}");
                        acked.lock().unwrap().extend(ids);
                    }
                    Ok(reply) if reply.status() == 503 => tokio::time::sleep(Duration::from_millis(20)).await,
                    Ok(reply) => panic!("unexpected status {}", reply.status()),
                    Err(_) => break, // the server is gone
                }
            }
        }));
    }
    tokio::time::sleep(stop_after).await;
    stop();
    for c in clients {
        c.await.unwrap();
    }
    Arc::try_unwrap(acked).unwrap().into_inner().unwrap()
}

async fn stored_ids(db: &TestDb) -> (i64, i64) {
    let raw: i64 = db
        .store
        .request_counts(0, i64::MAX / 2, i64::MAX / 4)
        .await
        .unwrap()
        .iter()
        .map(|c| c.ok + c.errors)
        .sum();
    let rolled: i64 = db
        .store
        .traffic(Buckets {
            grain: 86_400_000,
            start: 0,
            end: i64::MAX / 2,
        })
        .await
        .unwrap()
        .iter()
        .map(|b| b.sums.requests)
        .sum();
    (raw, rolled)
}

async fn killed_server_keeps_every_acknowledged_event(backend: Backend) {
    let db = TestDb::new(backend).await;
    let key = db
        .store
        .create_api_key("t", &[Scope::Ingest], None, 0)
        .await
        .unwrap()
        .1;
    let server = TestServer::start(&db.url);
    let url = server.base_url.clone();
    let pid = server.pid();
    let acked = post_until_stopped(url, key.clone(), Duration::from_millis(2500), move || {
        let _ = std::process::Command::new("kill")
            .args(["-KILL", &pid.to_string()])
            .status();
    })
    .await;
    drop(server);
    assert!(
        acked.len() >= BATCH,
        "some batches were acknowledged before the kill"
    );

    // Restarted, the server finds every acknowledged event, each once, and rollups that agree.
    let restarted = TestServer::start(&db.url);
    let missing: Vec<&String> = {
        let mut missing = Vec::new();
        for id in &acked {
            if !db.store.request_exists(id).await.unwrap() {
                missing.push(id);
            }
        }
        missing
    };
    assert!(
        missing.is_empty(),
        "{} acknowledged events lost, e.g. {:?}",
        missing.len(),
        missing.first()
    );
    let (raw, rolled) = stored_ids(&db).await;
    assert!(raw as usize >= acked.len());
    assert_eq!(
        raw % BATCH as i64,
        0,
        "batches are stored whole or not at all"
    );
    assert_eq!(raw, rolled, "rollups agree with the raw rows");
    drop(restarted);
    db.drop_database().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sigkill_loses_nothing_acknowledged_on_sqlite() {
    killed_server_keeps_every_acknowledged_event(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sigkill_loses_nothing_acknowledged_on_postgres() {
    killed_server_keeps_every_acknowledged_event(Backend::Postgres).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sigterm_drains_and_exits_cleanly() {
    let db = TestDb::new(Backend::Sqlite).await;
    let key = db
        .store
        .create_api_key("t", &[Scope::Ingest], None, 0)
        .await
        .unwrap()
        .1;
    let server = TestServer::start(&db.url);
    let url = server.base_url.clone();
    let pid = server.pid();
    let acked = post_until_stopped(url, key, Duration::from_millis(1500), move || {
        let _ = std::process::Command::new("kill")
            .args(["-TERM", &pid.to_string()])
            .status();
    })
    .await;
    let status = server.wait();
    assert!(
        status.success(),
        "SIGTERM ends with status 0, got {status:?}"
    );
    let (raw, rolled) = stored_ids(&db).await;
    assert!(raw as usize >= acked.len() && !acked.is_empty());
    for id in acked.iter().take(50) {
        assert!(db.store.request_exists(id).await.unwrap());
    }
    assert_eq!(raw, rolled);
    db.drop_database().await;
}
