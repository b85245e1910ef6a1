//! Hardening: SIGTERM stops the server within a bound, committing what is queued
//! first (issue 15, item 12). It used to wait for every response in flight, so a
//! stalled download kept the process alive forever. Now requests in flight get most of
//! `SIGHTLINE_SHUTDOWN_TIMEOUT_SECS`; then the ingest queue is closed, what it holds
//! is committed, and the process exits.

use crate::common;

use std::time::{Duration, Instant};

use crate::hardening_exports::{fat_database, stalled_export};
use common::TestServer;
use common::fixture::now_ms;
use serde_json::json;

/// The shutdown bound the server is given: 4 s for requests in flight, 2 s to drain.
const BOUND_SECS: u64 = 6;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_exits_within_the_bound_and_commits_what_is_queued() {
    let (db, read, ingest) = fat_database().await;
    let mut server = TestServer::start_with(
        &db.url,
        &[
            ("SIGHTLINE_SHUTDOWN_TIMEOUT_SECS", "6"),
            // The stalled download is not cut off by the send timeout meanwhile.
            ("SIGHTLINE_SEND_TIMEOUT_SECS", "600"),
        ],
    );
    let (_stalled, status) = stalled_export(&server, &read).await;
    assert_eq!(status, 200);

    // A batch waits in the writer behind the database's write lock.
    let lock = db.hold_write_lock().await;
    let batch = {
        let url = server.url("/api/v1/ingest");
        let body = json!({"requests": [{
            "request_id": "queued-at-sigterm", "timestamp": now_ms(), "method": "GET",
            "endpoint": "/x", "status_code": 200, "latency_ms": 5.0
        }]});
        tokio::spawn(async move {
            reqwest::Client::new()
                .post(url)
                .bearer_auth(ingest)
                .json(&body)
                .send()
                .await
                .map(|r| r.status().as_u16())
        })
    };
    tokio::time::sleep(Duration::from_millis(500)).await;

    // The lock goes after the requests' share of the bound: the batch is committed
    // by the drain, after the server stopped waiting for the stalled download.
    let release = tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(4_500)).await;
        lock.release().await;
    });
    let signalled = Instant::now();
    let exited = tokio::task::block_in_place(|| {
        server.terminate_within(Duration::from_secs(BOUND_SECS + 4))
    });
    let took = signalled.elapsed();
    assert!(
        exited.is_some(),
        "still running {took:?} after SIGTERM with a bound of {BOUND_SECS} s"
    );
    assert!(exited.unwrap().success(), "exit status {exited:?}");
    release.await.unwrap();
    let _ = batch.await;

    let mut conn = db.connection().await;
    let stored: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM request_log WHERE request_id = 'queued-at-sigterm'",
    )
    .fetch_one(&mut conn)
    .await
    .unwrap();
    assert_eq!(stored, 1, "the queued batch was committed before the exit");
    drop(conn);
    drop(server);
    db.drop_database().await;
}
