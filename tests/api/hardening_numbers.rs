//! Hardening: numeric bounds at ingest and rollups that can never overflow (issue 15,
//! item 5). Out-of-bound numbers are rejected with their index and a message naming the
//! field; values that reach the store some other way (a direct store call, data written
//! before the bounds) saturate the rollup cells at [`SUM_CAP`] instead of making a
//! bucket unreadable (PostgreSQL: "bigint out of range" on every later batch of the day;
//! SQLite: sums turned REAL that the cards could not decode). Normal traffic keeps being
//! stored and every card, the explorer and the exports answer with exact values. Cells
//! that overflowed before the upgrade are brought within the bounds by migration 0006.

use crate::common;

use common::api::{self, key, pick};
use common::fixture::{now_ms, request};
use common::{Backend, Browser, PASSWORD, TestDb, TestServer, account};
use serde_json::{Value, json};
use sightline::store::{NewRequest, Scope};
use sightline_app::auth::Role;
use sightline_app::time::{DAY_MS, HOUR_MS, floor_ms};
use sightline_app::units::Micros;

/// What a rollup cell saturates at (2^54): the dashboard adds up to 402 cells of a range.
const SUM_CAP: i64 = 1 << 54;

/// A request over every bound, as a direct store call could write it.
fn huge(id: &str, t: i64) -> NewRequest {
    let mut r = request(id, t, 200);
    r.model_name = Some("gpt-4o".into());
    r.user_id = Some("whale".into());
    r.prompt_tokens = 5_000_000_000_000_000_000;
    r.completion_tokens = 5_000_000_000_000_000_000;
    r.cost_micros = Micros(5_000_000_000_000_000_000);
    r.latency_ms = 1e16;
    r.ttft_ms = Some(1e16);
    r.request_bytes = Some(i64::MAX);
    r.response_bytes = Some(i64::MAX);
    r
}

fn event(id: &str, t: i64, model: &str, user: &str, tokens: (i64, i64), usd: f64) -> Value {
    json!({"request_id": id, "timestamp": t, "endpoint": "/v1/chat/completions",
           "method": "POST", "status_code": 200, "latency_ms": 120, "model": model,
           "prompt_tokens": tokens.0, "completion_tokens": tokens.1, "cost_usd": usd,
           "user_id": user, "country": "DE"})
}

storage_test!(
    numbers_out_of_bounds_are_rejected_with_their_field,
    |db| async move {
        let server = TestServer::start(&db.url);
        let key = key(db, &[Scope::Ingest]).await;
        let t = now_ms() - 1_000;
        let base = event("ok", t, "gpt-4o", "u", (1, 1), 0.01);
        let with = |id: &str, field: &str, value: Value| {
            let mut e = base.clone();
            e["request_id"] = json!(id);
            e[field] = value;
            e
        };
        let requests = vec![
            with("latency", "latency_ms", json!(1e16)),
            with("ttft", "ttft_ms", json!(86_400_001)),
            with(
                "prompt",
                "prompt_tokens",
                json!(4_611_686_018_427_387_904i64),
            ),
            with("completion", "completion_tokens", json!(1_000_000_001)),
            with("cost", "cost_usd", json!(10_000.01)),
            with(
                "request-bytes",
                "request_bytes",
                json!(1_099_511_627_777i64),
            ),
            with("response-bytes", "response_bytes", json!(i64::MAX)),
            // Every bound itself is accepted.
            {
                let mut e = with("at-bounds", "latency_ms", json!(86_400_000));
                e["ttft_ms"] = json!(86_400_000);
                e["prompt_tokens"] = json!(1_000_000_000);
                e["completion_tokens"] = json!(1_000_000_000);
                e["cost_usd"] = json!(10_000);
                e["request_bytes"] = json!(1_099_511_627_776i64);
                e["response_bytes"] = json!(1_099_511_627_776i64);
                e
            },
        ];
        let reply = api::ingest(&server, &key, &json!({ "requests": requests })).await;
        let expected: Vec<Value> = [
            "latency_ms must be at most a day, 86400000 ms (got 10000000000000000)",
            "ttft_ms must be at most a day, 86400000 ms (got 86400001)",
            "prompt_tokens must be at most 1000000000 (got 4611686018427387904)",
            "completion_tokens must be at most 1000000000 (got 1000000001)",
            "cost_usd must be at most 10000 USD for one request (got 10000.01)",
            "request_bytes must be at most 1 TiB, 1099511627776 bytes (got 1099511627777)",
            "response_bytes must be at most 1 TiB, 1099511627776 bytes (got 9223372036854775807)",
        ]
        .iter()
        .enumerate()
        .map(|(i, m)| json!(["request", i, m]))
        .collect();
        assert_eq!(
            pick(&reply["errors"], &["type", "index", "error"]),
            json!(expected)
        );
        assert_eq!(
            (&reply["accepted"], &reply["rejected"]),
            (&1.into(), &7.into())
        );
        assert!(db.store.request_exists("at-bounds").await.unwrap());
        assert!(!db.store.request_exists("latency").await.unwrap());

        // The OpenAPI document states the same bounds.
        let doc = api::get_json(&server, &key, "/api/v1/openapi.json").await;
        let fields = &doc["components"]["schemas"]["RequestEvent"]["properties"];
        for (field, max) in [
            ("latency_ms", json!(86_400_000.0)),
            ("ttft_ms", json!(86_400_000.0)),
            ("prompt_tokens", json!(1_000_000_000)),
            ("completion_tokens", json!(1_000_000_000)),
            ("cost_usd", json!(10_000.0)),
            ("request_bytes", json!(1_099_511_627_776i64)),
            ("response_bytes", json!(1_099_511_627_776i64)),
        ] {
            assert_eq!(
                (&fields[field]["minimum"], &fields[field]["maximum"]),
                (&json!(0), &max),
                "{field}"
            );
        }
    }
);

/// `GET /api/v1/dashboard?{query}`, which must answer 200.
async fn dashboard(server: &TestServer, key: &str, query: &str) -> Value {
    api::get_json(server, key, &format!("/api/v1/dashboard?{query}")).await
}

storage_test!(
    huge_values_saturate_the_rollups_and_every_card_still_answers,
    |db| async move {
        let server = TestServer::start(&db.url);
        let ingest_key = key(db, &[Scope::Ingest]).await;
        let read_key = key(db, &[Scope::Read]).await;
        let t = now_ms() - 1_000;
        let t_old = t - 2 * DAY_MS;
        // Two store calls, so that the second adds to cells the first already filled:
        // a plain `v = v + excluded.v` overflows there.
        db.store
            .record_requests(&[huge("huge-1", t)])
            .await
            .unwrap();
        db.store
            .record_requests(&[huge("huge-2", t)])
            .await
            .unwrap();
        // Then normal traffic, in the saturated bucket and two days before.
        let reply = api::ingest(
            &server,
            &ingest_key,
            &json!({"requests": [
                event("hot", t, "gpt-4o", "whale", (100, 50), 0.000045),
                event("old", t_old, "gpt-4o-mini", "minnow", (10, 5), 0.000007),
            ]}),
        )
        .await;
        assert_eq!(reply["accepted"], 2, "{reply}");

        let day = dashboard(&server, &read_key, "range=24h").await;
        let s = &day["summary"]["current"];
        assert_eq!(s["requests"], 3);
        assert_eq!(s["tokens"], 2 * SUM_CAP);
        assert_eq!(s["costMicros"], SUM_CAP);
        assert_eq!(s["avgLatencyMs"], json!(SUM_CAP as f64 / 3.0 / 1000.0));
        assert_eq!(
            day["topModels"],
            json!([{"model": "gpt-4o", "requests": 3, "errors": 0, "promptTokens": SUM_CAP,
                    "completionTokens": SUM_CAP, "cacheReadTokens": 0, "cacheWriteTokens": 0,
                    "reasoningTokens": 0, "costMicros": SUM_CAP,
                    "avgLatencyMs": SUM_CAP as f64 / 3.0 / 1000.0}])
        );
        assert_eq!(
            day["users"]["top"],
            json!([{"userId": "whale", "requests": 3, "tokens": SUM_CAP, "costMicros": SUM_CAP}])
        );
        let hour = floor_ms(t, HOUR_MS);
        let custom = format!(
            "range=custom&start={}&end={}",
            floor_ms(t_old, DAY_MS),
            hour + HOUR_MS
        );
        for query in ["range=7d", "range=1m", "range=3m", custom.as_str()] {
            let r = dashboard(&server, &read_key, query).await;
            let s = &r["summary"]["current"];
            assert_eq!(s["requests"], 4, "{query}");
            assert_eq!(s["tokens"], 2 * SUM_CAP + 15, "{query}");
            assert_eq!(s["costMicros"], SUM_CAP + 7, "{query}");
            assert_eq!(s["activeUsers"], 2, "{query}");
            assert_eq!(
                pick(&r["topModels"], &["model", "promptTokens", "costMicros"]),
                json!([["gpt-4o", SUM_CAP, SUM_CAP], ["gpt-4o-mini", 10, 7]]),
                "{query}"
            );
            let ok: i64 = r["requests"]
                .as_array()
                .unwrap()
                .iter()
                .map(|p| p["ok"].as_i64().unwrap())
                .sum();
            assert_eq!(ok, 4, "{query}");
        }

        // The explorer shows the stored values; the tokens of a row add up saturating.
        account(db, "vera", Role::Viewer).await;
        let mut viewer = Browser::new(&server.base_url);
        viewer.login("vera", PASSWORD).await;
        let r = viewer
            .post_form("/api/ui/requests", &[("range", "all")])
            .await;
        assert_eq!(r.status.as_u16(), 200, "{}", r.body);
        let page: Value = serde_json::from_str(&r.body).unwrap();
        let huge_cost = 5_000_000_000_000_000_000i64;
        assert_eq!(
            pick(&page["rows"], &["requestId", "tokens", "costMicros"]),
            json!([
                ["hot", 150, 45],
                ["huge-2", i64::MAX, huge_cost],
                ["huge-1", i64::MAX, huge_cost],
                ["old", 15, 7]
            ])
        );

        // The exports too: raw values as stored, the session's sums saturated.
        let (status, requests) =
            api::get(&server, &read_key, "/api/v1/export/requests.csv?range=all").await;
        assert_eq!(status, 200);
        let huge_line = requests.lines().find(|l| l.starts_with("huge-1,")).unwrap();
        assert!(
            huge_line.contains(
                ",10000000000000000,10000000000000000,gpt-4o,5000000000000000000,\
                 5000000000000000000,0,0,0,5000000000000.000000,"
            ),
            "{huge_line}"
        );
        assert_eq!(requests.lines().count(), 5);
        let (_, sessions) = api::get(&server, &read_key, "/api/v1/export/sessions.csv").await;
        let whale = sessions.lines().find(|l| l.contains(",whale,")).unwrap();
        assert!(
            whale.contains(&format!(",3,0,{SUM_CAP},18014398509.481984,")),
            "{whale}"
        );
    }
);

/// Applies the migrations before 0006 only: the schema as it was when sums could
/// overflow.
async fn migrate_before_0006(db: &TestDb) {
    let dialect = match db.backend() {
        Backend::Sqlite => "sqlite",
        Backend::Postgres => "postgres",
    };
    let old = tempfile::tempdir().unwrap();
    for entry in std::fs::read_dir(format!("migrations/{dialect}")).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        if name.as_str() < "0006" {
            std::fs::copy(&path, old.path().join(&name)).unwrap();
        }
    }
    let migrator = sqlx::migrate::Migrator::new(old.path()).await.unwrap();
    let pool = sqlx::AnyPool::connect(&db.url).await.unwrap();
    migrator.run(&pool).await.unwrap();
    pool.close().await;
}

/// An hour's rollup cells as the old writer left them after an overflow: on SQLite the
/// sum turned REAL, on PostgreSQL it sat at the BIGINT limit (the next batch failed).
async fn overflowed_cells(db: &TestDb, hour: i64) {
    let huge = match db.backend() {
        Backend::Sqlite => "1.8e19",
        Backend::Postgres => "9223372036854775807",
    };
    let mut conn = db.connection().await;
    for sql in [
        format!(
            "INSERT INTO rollup_traffic (bucket_ms, bucket_start, requests, errors, latency_sum_us, \
             prompt_tokens, completion_tokens, cost_micros, sessions_started, new_users) \
             VALUES ({HOUR_MS}, {hour}, 2, 0, {huge}, {huge}, 10, {huge}, 0, 0)"
        ),
        format!(
            "INSERT INTO rollup_user (bucket_ms, bucket_start, user_id, requests, errors, tokens, \
             cost_micros) VALUES ({HOUR_MS}, {hour}, 'whale', 2, 0, {huge}, {huge})"
        ),
    ] {
        sqlx::query(&sql).execute(&mut conn).await.unwrap();
    }
}

async fn cells_overflowed_before_the_upgrade_read_again(backend: Backend) {
    let db = TestDb::unmigrated(backend).await;
    migrate_before_0006(&db).await;
    let t = now_ms() - 1_000;
    let hour = floor_ms(t, HOUR_MS);
    overflowed_cells(&db, hour).await;
    // The server applies 0006 as it starts.
    let server = TestServer::start(&db.url);
    let ingest_key = key(&db, &[Scope::Ingest]).await;
    let read_key = key(&db, &[Scope::Read]).await;
    // The cards read the cells (SQLite could not decode them before).
    let day = dashboard(&server, &read_key, "range=24h").await;
    let s = &day["summary"]["current"];
    assert_eq!(
        (&s["requests"], &s["tokens"], &s["costMicros"]),
        (&json!(2), &json!(SUM_CAP + 10), &json!(SUM_CAP))
    );
    // Traffic into the same hour is stored (it failed on PostgreSQL before).
    let reply = api::ingest(
        &server,
        &ingest_key,
        &json!({"requests": [event("next", t, "gpt-4o", "whale", (100, 50), 0.000045)]}),
    )
    .await;
    assert_eq!(reply["accepted"], 1, "{reply}");
    let day = dashboard(&server, &read_key, "range=24h").await;
    let s = &day["summary"]["current"];
    assert_eq!(s["requests"], 3);
    assert_eq!(s["tokens"], SUM_CAP + 60);
    assert_eq!(s["costMicros"], SUM_CAP);
    assert_eq!(
        day["users"]["top"],
        json!([{"userId": "whale", "requests": 3, "tokens": SUM_CAP, "costMicros": SUM_CAP}])
    );
    drop(server);
    db.drop_database().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cells_overflowed_before_the_upgrade_read_again_on_sqlite() {
    cells_overflowed_before_the_upgrade_read_again(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cells_overflowed_before_the_upgrade_read_again_on_postgres() {
    cells_overflowed_before_the_upgrade_read_again(Backend::Postgres).await;
}
