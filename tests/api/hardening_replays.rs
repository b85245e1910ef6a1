//! Hardening: a replayed `request_id` is never counted twice, even once its raw row
//! has been pruned (issue 15, item 13). Ingest refuses events stamped older than the
//! retention in force, and older than the instant up to which raw rows were ever
//! pruned (so raising the retention does not let replays of pruned requests back in);
//! each refusal names its index and the reason.

use crate::common;

use common::api::{self, key, pick};
use common::fixture::now_ms;
use common::{Browser, PASSWORD, TestServer, account};
use serde_json::{Value, json};
use sightline::jobs::retention::{self, PruneOptions};
use sightline::store::Scope;
use sightline_app::auth::Role;
use sightline_app::time::{DAY_MS, floor_ms};

fn request(id: &str, t: i64) -> Value {
    json!({"request_id": id, "timestamp": t, "endpoint": "/v1/chat/completions",
           "method": "POST", "status_code": 200, "latency_ms": 100, "user_id": "u1"})
}

/// The reply's errors as `[type, index, error]`.
fn errors(reply: &Value) -> Value {
    pick(&reply["errors"], &["type", "index", "error"])
}

fn older_than_retention(days: u32) -> String {
    format!("timestamp is older than the retention in force ({days} days)")
}

fn pruned_before(cutoff: i64) -> String {
    let at = chrono::DateTime::from_timestamp_millis(cutoff)
        .unwrap()
        .to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
    format!(
        "timestamp is before {at}: raw rows up to then were pruned, so a replay of it could not \
         be recognised"
    )
}

async fn keys(db: &common::TestDb) -> (String, String) {
    (
        key(db, &[Scope::Ingest]).await,
        key(db, &[Scope::Read]).await,
    )
}

storage_test!(
    events_older_than_the_retention_are_refused,
    |db| async move {
        let server = TestServer::start_with(&db.url, &[("SIGHTLINE_RETENTION_DAYS", "30")]);
        let (ingest, _) = keys(db).await;
        let now = now_ms();
        let old = now - 31 * DAY_MS;
        let reply = api::ingest(
            &server,
            &ingest,
            &json!({
                "requests": [request("old", old), request("recent", now - 3_600_000)],
                "auth_events": [{"event_type": "login", "user_id": "u1", "timestamp": old}],
                "feedback": [{"request_id": "recent", "rating": 5, "timestamp": old}],
                "threats": [{"threat_type": "xss", "severity": "low", "timestamp": old}],
            }),
        )
        .await;
        let why = older_than_retention(30);
        assert_eq!(
            errors(&reply),
            json!([
                ["request", 0, why],
                ["auth_event", 0, why],
                ["feedback", 0, why],
                ["threat", 0, why]
            ])
        );
        assert_eq!(reply["accepted"], 1);
        assert!(!db.store.request_exists("old").await.unwrap());
    }
);

/// Requests of the UTC day of `t`, as the dashboard counts them.
async fn requests_on_day_of(server: &TestServer, key: &str, t: i64) -> Value {
    let day = floor_ms(t, DAY_MS);
    let report = api::get_json(
        server,
        key,
        &format!(
            "/api/v1/dashboard?range=custom&start={day}&end={}",
            day + DAY_MS
        ),
    )
    .await;
    report["summary"]["current"]["requests"].clone()
}

storage_test!(
    a_replay_of_a_pruned_request_is_not_counted_again,
    |db| async move {
        let (ingest, read) = keys(db).await;
        let now = now_ms();
        let t_old = now - 40 * DAY_MS;
        let body = json!({"requests": [request("r-old", t_old), request("r-new", now - 1_000)]});
        let first = TestServer::start(&db.url);
        assert_eq!(api::ingest(&first, &ingest, &body).await["accepted"], 2);
        assert_eq!(requests_on_day_of(&first, &read, t_old).await, 1);
        drop(first);

        let cutoff = now - 30 * DAY_MS;
        let report = retention::prune(&db.store, cutoff, PruneOptions::default())
            .await
            .unwrap();
        assert_eq!(report.requests, 1);

        // The client retries the whole batch: the pruned request is refused, the kept
        // one is a duplicate, and the dashboard counts each once.
        let server = TestServer::start(&db.url);
        let reply = api::ingest(&server, &ingest, &body).await;
        assert_eq!(
            errors(&reply),
            json!([["request", 0, pruned_before(cutoff)]])
        );
        assert_eq!(
            (&reply["accepted"], &reply["duplicates"]),
            (&0.into(), &1.into())
        );
        assert_eq!(requests_on_day_of(&server, &read, t_old).await, 1);
    }
);

storage_test!(
    raising_the_retention_does_not_readmit_pruned_instants,
    |db| async move {
        let (ingest, _) = keys(db).await;
        account(db, "ada", Role::Admin).await;
        let now = now_ms();
        let cutoff = now - 30 * DAY_MS;
        retention::prune(&db.store, cutoff, PruneOptions::default())
            .await
            .unwrap();
        let server = TestServer::start_with(&db.url, &[("SIGHTLINE_RETENTION_DAYS", "30")]);
        let mut ada = Browser::new(&server.base_url);
        ada.login("ada", PASSWORD).await;
        let r = ada
            .post_form("/api/ui/admin/set_retention", &[("days", "90")])
            .await;
        assert_eq!(r.status.as_u16(), 200, "{}", r.body);
        let body = json!({"requests": [request("d40", now - 40 * DAY_MS), request("d20", now - 20 * DAY_MS)]});
        let reply = api::ingest(&server, &ingest, &body).await;
        assert_eq!(
            errors(&reply),
            json!([["request", 0, pruned_before(cutoff)]])
        );
        assert_eq!(reply["accepted"], 1);

        // A shorter retention applies to the next batch at once.
        let r = ada
            .post_form("/api/ui/admin/set_retention", &[("days", "10")])
            .await;
        assert_eq!(r.status.as_u16(), 200, "{}", r.body);
        let body = json!({"requests": [request("d15", now - 15 * DAY_MS)]});
        let reply = api::ingest(&server, &ingest, &body).await;
        assert_eq!(
            errors(&reply),
            json!([["request", 0, older_than_retention(10)]])
        );
    }
);
