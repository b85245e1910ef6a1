//! Hardening: `sightline:` user ids belong to the dashboard accounts (issue 15, item 9).
//! The UI records an account's ratings as `sightline:<username>`; an ingest or read key
//! cannot write a rating, a request, an auth event or a threat under such an id, so
//! nobody can pass for an account. Ratings from the UI keep working.

use crate::common;

use common::api::{self, key, pick};
use common::{Browser, PASSWORD, TestServer, account, fixture};
use serde_json::{Value, json};
use sightline::store::Scope;
use sightline_app::auth::Role;
use sqlx::Row;

fn reserved(id: &str) -> String {
    format!(
        "user_id `{id}` is reserved: the `sightline:` prefix names Sightline's dashboard accounts"
    )
}

storage_test!(keys_cannot_write_as_a_dashboard_account, |db| async move {
    let server = TestServer::start(&db.url);
    let ingest_key = key(db, &[Scope::Ingest]).await;
    let read_key = key(db, &[Scope::Read]).await;
    let t = fixture::now_ms() - 1_000;
    db.store
        .record_requests(&[fixture::request("req-1", t, 200)])
        .await
        .unwrap();

    let body = json!({
        "feedback": [
            {"request_id": "req-1", "user_id": "sightline:admin", "rating": 1},
            {"request_id": "req-1", "user_id": " Sightline:Admin", "rating": 1},
            {"request_id": "req-1", "user_id": "sightline-fan", "rating": 5},
        ],
        "requests": [{"request_id": "req-2", "timestamp": t, "endpoint": "/v1/chat",
                      "method": "POST", "status_code": 200, "latency_ms": 5,
                      "user_id": "sightline:vera"}],
        "auth_events": [{"event_type": "login", "user_id": "SIGHTLINE:vera"}],
        "threats": [{"threat_type": "xss", "severity": "low", "user_id": "sightline:vera"}],
    });
    let reply = api::ingest(&server, &ingest_key, &body).await;
    assert_eq!(
        pick(&reply["errors"], &["type", "index", "error"]),
        json!([
            ["request", 0, reserved("sightline:vera")],
            ["auth_event", 0, reserved("SIGHTLINE:vera")],
            ["feedback", 0, reserved("sightline:admin")],
            ["feedback", 1, reserved(" Sightline:Admin")],
            ["threat", 0, reserved("sightline:vera")],
        ])
    );
    assert_eq!(reply["accepted"], 1);

    // The feedback endpoint takes read keys: they cannot rate as an account either.
    let r = reqwest::Client::new()
        .post(server.url("/api/v1/feedback"))
        .bearer_auth(&read_key)
        .json(&json!({"request_id": "req-1", "user_id": "sightline:admin", "rating": 1}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 400);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["error"], reserved("sightline:admin"));

    // An account rates as itself through the UI.
    account(db, "vera", Role::Viewer).await;
    let mut vera = Browser::new(&server.base_url);
    vera.login("vera", PASSWORD).await;
    let r = vera
        .post_form(
            "/api/ui/rate_request",
            &[("request_id", "req-1"), ("rating", "4")],
        )
        .await;
    assert_eq!(r.status.as_u16(), 200, "{}", r.body);

    let mut conn = db.connection().await;
    let raters: Vec<String> = sqlx::query("SELECT user_id FROM feedback_log ORDER BY user_id")
        .fetch_all(&mut conn)
        .await
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert_eq!(raters, ["sightline-fan", "sightline:vera"]);
    // (Vera's sign-in is an auth event of Sightline's own.)
    for table in ["auth_event WHERE source = 'platform'", "threat_log"] {
        let n: i64 = sqlx::query_scalar(&format!("SELECT COUNT(*) FROM {table}"))
            .fetch_one(&mut conn)
            .await
            .unwrap();
        assert_eq!(n, 0, "{table}");
    }
    assert!(!db.store.request_exists("req-2").await.unwrap());
});
