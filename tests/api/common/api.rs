//! Calls of Sightline's JSON API with an API key, and reading their replies.

use serde_json::Value;
use sightline::store::Scope;

use super::{TestDb, TestServer};

/// A new API key with `scopes`, straight into the store.
pub async fn key(db: &TestDb, scopes: &[Scope]) -> String {
    db.store
        .create_api_key("test", scopes, None, 0)
        .await
        .unwrap()
        .1
}

/// Posts `body` (JSON) to `/api/v1/ingest` with `key`; expects 200 and returns the reply.
pub async fn ingest(server: &TestServer, key: &str, body: &Value) -> Value {
    let (status, reply) = post_ingest(server, key, "application/json", body.to_string()).await;
    assert_eq!(status, 200, "ingest refused the batch: {reply}");
    serde_json::from_str(&reply).unwrap()
}

/// Posts `body` as `content_type` to `/api/v1/ingest` with `key`: status and body.
pub async fn post_ingest(
    server: &TestServer,
    key: &str,
    content_type: &str,
    body: String,
) -> (u16, String) {
    let reply = reqwest::Client::new()
        .post(server.url("/api/v1/ingest"))
        .bearer_auth(key)
        .header("content-type", content_type)
        .body(body)
        .send()
        .await
        .unwrap();
    (reply.status().as_u16(), reply.text().await.unwrap())
}

/// `GET path` with `key`: status and body.
pub async fn get(server: &TestServer, key: &str, path: &str) -> (u16, String) {
    let reply = reqwest::Client::new()
        .get(server.url(path))
        .bearer_auth(key)
        .send()
        .await
        .unwrap();
    (reply.status().as_u16(), reply.text().await.unwrap())
}

/// What a view's read API at `path` answers to a bad sort (`sort`, refused with
/// `sort_error`), an unknown range, an ingest-only key (`ingest`) and a made-up key.
pub async fn assert_read_rules(
    server: &TestServer,
    read: &str,
    ingest: &str,
    path: &str,
    sort: &str,
    sort_error: &str,
) {
    let (status, body) = get(server, read, &format!("{path}?range=24h&sort={sort}")).await;
    assert_eq!((status, error_of(&body)), (400, sort_error.to_owned()));
    let (status, body) = get(server, read, &format!("{path}?range=2w")).await;
    assert_eq!(status, 400, "{body}");
    assert!(error_of(&body).contains("range"), "{body}");
    let (status, _) = get(server, ingest, path).await;
    assert_eq!(status, 403);
    let (status, _) = get(server, "sl_not_a_key", path).await;
    assert_eq!(status, 401);
}

/// `GET path` with `key`; expects 200 and returns the JSON reply.
pub async fn get_json(server: &TestServer, key: &str, path: &str) -> Value {
    let (status, body) = get(server, key, path).await;
    assert_eq!(status, 200, "GET {path}: {body}");
    serde_json::from_str(&body).unwrap()
}

/// The `error` of a JSON error reply.
pub fn error_of(body: &str) -> String {
    serde_json::from_str::<Value>(body)
        .ok()
        .and_then(|v| v["error"].as_str().map(str::to_owned))
        .unwrap_or_else(|| panic!("not a JSON error: {body}"))
}

/// The fields `keys` of each object of the JSON list `list`, one list per object:
/// what a test compares with the exact values it expects.
pub fn pick(list: &Value, keys: &[&str]) -> Value {
    list.as_array()
        .unwrap_or_else(|| panic!("not a list: {list}"))
        .iter()
        .map(|item| keys.iter().map(|k| item[*k].clone()).collect::<Vec<_>>())
        .collect::<Vec<_>>()
        .into()
}

/// `GET path` with `key`; expects 200 and returns the reply as text.
pub async fn get_text(server: &TestServer, key: &str, path: &str) -> String {
    let (status, body) = get(server, key, path).await;
    assert_eq!(status, 200, "GET {path}: {body}");
    body
}
