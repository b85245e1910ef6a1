//! Hardening: CSV exports never starve ingest, sign-in or the dashboard (issue 15,
//! item 2). Twenty downloads whose clients read slowly used to hold every pooled
//! connection (one streaming query each), and ingest answered 503. Now at most
//! `SIGHTLINE_EXPORT_CONCURRENCY` exports stream at once (beyond, 429 with
//! `Retry-After`), each reads keyset pages and gives its connection back between them,
//! and a client that reads nothing loses its connection after the send timeout.

use crate::common;

use std::time::Duration;

use common::fixture::{now_ms, request};
use common::{Backend, Browser, PASSWORD, TestDb, TestServer, account};
use serde_json::json;
use sightline::store::Scope;
use sightline_app::auth::Role;
use sightline_app::units::EpochMillis;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};

/// Rows of some 2 KiB of CSV each: far more than the socket buffers of a client that
/// stops reading can take, so its export stays open on the server.
const ROWS: usize = 12_000;

/// A database holding [`ROWS`] fat requests, and keys to read and ingest.
pub async fn fat_database() -> (TestDb, String, String) {
    let db = TestDb::new(Backend::Sqlite).await;
    let now = now_ms();
    let rows: Vec<_> = (0..ROWS)
        .map(|n| {
            let mut r = request(&format!("fat-{n:06}"), now - 60_000 - n as i64, 500);
            r.user_id = None;
            r.error = Some("x".repeat(2_000));
            r
        })
        .collect();
    for chunk in rows.chunks(4_000) {
        db.store.record_requests(chunk).await.unwrap();
    }
    let read = common::api::key(&db, &[Scope::Read]).await;
    let ingest = common::api::key(&db, &[Scope::Ingest]).await;
    (db, read, ingest)
}

/// Starts an export of every request and stops reading once the headers are in: the
/// connection and its status code.
pub async fn stalled_export(server: &TestServer, key: &str) -> (TcpStream, u16) {
    let addr = server
        .base_url
        .trim_start_matches("http://")
        .parse()
        .unwrap();
    let socket = TcpSocket::new_v4().unwrap();
    socket.set_recv_buffer_size(4 * 1024).unwrap();
    let mut tcp = socket.connect(addr).await.unwrap();
    let request = format!(
        "GET /api/v1/export/requests.csv?range=all HTTP/1.1\r\nHost: {addr}\r\n\
         Authorization: Bearer {key}\r\n\r\n"
    );
    tcp.write_all(request.as_bytes()).await.unwrap();
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        assert_eq!(tcp.read(&mut byte).await.unwrap(), 1, "the server hung up");
        head.push(byte[0]);
    }
    let status = String::from_utf8_lossy(&head[9..12]).parse().unwrap();
    (tcp, status)
}

async fn export_status(server: &TestServer, key: &str) -> reqwest::Response {
    reqwest::Client::new()
        .get(server.url("/api/v1/export/requests.csv?range=all"))
        .bearer_auth(key)
        .send()
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
pub async fn stalled_exports_are_bounded_and_starve_nothing() {
    let (db, read, ingest) = fat_database().await;
    account(&db, "ana", Role::Admin).await;
    // As many exports as SQLite's pool has connections: streaming queries held them all.
    let server = TestServer::start_with(&db.url, &[("SIGHTLINE_EXPORT_CONCURRENCY", "8")]);
    let mut stalled = Vec::new();
    for _ in 0..8 {
        let (tcp, status) = stalled_export(&server, &read).await;
        assert_eq!(status, 200);
        stalled.push(tcp);
    }

    let refused = export_status(&server, &read).await;
    assert_eq!(refused.status(), 429);
    assert_eq!(refused.headers()["retry-after"], "5");
    let error = common::api::error_of(&refused.text().await.unwrap());
    assert_eq!(error, "8 CSV exports are already running; retry in 5 s");

    // Ingest, the dashboard and sign-in answer meanwhile.
    let body = json!({"requests": [{
        "request_id": "during-exports", "timestamp": now_ms(), "method": "GET",
        "endpoint": "/x", "status_code": 200, "latency_ms": 5.0
    }]});
    let reply = common::api::ingest(&server, &ingest, &body).await;
    assert_eq!(reply["accepted"], 1);
    let (status, dashboard) = common::api::get(&server, &read, "/api/v1/dashboard?range=24h").await;
    assert_eq!(status, 200, "{dashboard}");
    let mut browser = Browser::new(&server.base_url);
    let signed_in = browser.login("ana", PASSWORD).await;
    assert!(signed_in.status.is_success(), "{signed_in:?}");
    assert!(browser.signed_in());

    // A client that goes away gives its place back.
    drop(stalled.pop());
    let mut freed = false;
    for _ in 0..50 {
        let reply = export_status(&server, &read).await;
        if reply.status() == 200 {
            freed = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(freed, "the place of a closed download was not given back");
    drop(stalled);
    drop(server);
    db.drop_database().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_that_reads_nothing_is_cut_off_after_the_send_timeout() {
    let (db, read, _) = fat_database().await;
    let server = TestServer::start_with(
        &db.url,
        &[
            ("SIGHTLINE_EXPORT_CONCURRENCY", "1"),
            ("SIGHTLINE_SEND_TIMEOUT_SECS", "2"),
        ],
    );
    let (mut tcp, status) = stalled_export(&server, &read).await;
    assert_eq!(status, 200);
    assert_eq!(export_status(&server, &read).await.status(), 429);

    // Past the send timeout the server has closed the stalled connection: its place is
    // free, and what the socket still holds ends early (no whole file).
    tokio::time::sleep(Duration::from_secs(5)).await;
    assert_eq!(export_status(&server, &read).await.status(), 200);
    let mut rest = Vec::new();
    let _ = tcp.read_to_end(&mut rest).await;
    let newlines = rest.iter().filter(|b| **b == b'\n').count();
    assert!(newlines < ROWS, "the stalled download got every row");
    drop(server);
    db.drop_database().await;
}

storage_test!(
    keyset_pages_export_every_row_once_in_order,
    |db| async move {
        // Three rows share each instant and each latency, across several pages.
        let now = now_ms();
        // A multiple of three, the page boundaries inside ties.
        let n = 2 * sightline::store::EXPORT_PAGE_ROWS + 10;
        let rows: Vec<_> = (0..n)
            .map(|i| {
                let mut r = request(&format!("page-{i:05}"), now - 60_000 - (i / 3) as i64, 200);
                r.user_id = None;
                r.latency_ms = (i / 3) as f64 + 0.5;
                r
            })
            .collect();
        db.store.record_requests(&rows).await.unwrap();
        // Newest (or slowest) first, and within a tie the later id first.
        let groups = n / 3;
        let in_order = |group: usize| {
            (0..3)
                .rev()
                .map(move |k| format!("page-{:05}", 3 * group + k))
        };
        let by_time: Vec<String> = (0..groups).flat_map(in_order).collect();
        let by_latency: Vec<String> = (0..groups).rev().flat_map(in_order).collect();
        for (sort, expected) in [("time", by_time), ("latency", by_latency)] {
            let query = sightline_app::requests::RequestQuery {
                range: Some("all".into()),
                sort: Some(sort.into()),
                ..Default::default()
            };
            let (filter, _) = query.resolve(EpochMillis(now)).unwrap();
            let mut ids = Vec::new();
            let taken = db
                .store
                .export_requests(&filter, |cells: Vec<String>| {
                    ids.push(cells[0].clone());
                    std::future::ready(true)
                })
                .await
                .unwrap();
            assert_eq!(taken as usize, n, "sort {sort}");
            assert!(
                ids == expected,
                "sort {sort}: rows missing, repeated or out of order"
            );
        }
    }
);
