//! Calls of Sightline's JSON API with an API key, for tests that expect them to work.

use serde_json::Value;

use super::TestServer;

/// Posts `body` (JSON) to `/api/v1/ingest` with `key`; expects 200 and returns the reply.
pub async fn ingest(server: &TestServer, key: &str, body: &Value) -> Value {
    let reply = reqwest::Client::new()
        .post(server.url("/api/v1/ingest"))
        .bearer_auth(key)
        .json(body)
        .send()
        .await
        .unwrap();
    assert_eq!(reply.status().as_u16(), 200, "ingest refused the batch");
    reply.json().await.unwrap()
}

/// `GET path` with `key`; expects 200 and returns the JSON reply.
pub async fn get_json(server: &TestServer, key: &str, path: &str) -> Value {
    let reply = reqwest::Client::new()
        .get(server.url(path))
        .bearer_auth(key)
        .send()
        .await
        .unwrap();
    assert_eq!(reply.status().as_u16(), 200, "GET {path}");
    reply.json().await.unwrap()
}
