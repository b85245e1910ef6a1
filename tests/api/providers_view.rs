//! The providers view: `GET /api/v1/providers` and the dashboard's `providers` card over
//! HTTP from a fixture ingested through the API (exact counts, rates, tokens, money; the
//! percentiles within 2%), the explorer's and export's `kind` and `service` filters it
//! drills down into, each user's provider cost in the users view, `user_provider_cost`
//! against a recomputation from the raw rows and a rebuild, and migration 0014 filling
//! it for rows stored before it. Both databases.

use crate::common;

use common::api::{error_of, get, get_json, get_text, ingest, key, pick};
use common::{Backend, Browser, PASSWORD, TestDb, TestServer, account};
use serde_json::{Value, json};
use sightline::store::Scope;
use sightline_app::auth::Role;
use sightline_app::requests::RequestPage;
use sightline_app::units::Micros;
use sightline_app::users::{UserDetail, UserPage, UserProviderCost};
use sqlx::Row;

const MIN: i64 = 60_000;
const HOUR: i64 = 3_600_000;

#[allow(clippy::too_many_arguments)]
fn call(
    id: &str,
    t: i64,
    service: Option<&str>,
    status: i64,
    latency: f64,
    tokens: (i64, i64),
    cost_usd: f64,
    user: Option<&str>,
) -> Value {
    json!({"request_id": id, "timestamp": t, "kind": "external", "service": service,
        "endpoint": "/v1/chat/completions", "method": "POST", "status_code": status,
        "latency_ms": latency, "prompt_tokens": tokens.0, "completion_tokens": tokens.1,
        "cost_usd": cost_usd, "user_id": user})
}

fn served(id: &str, t: i64, user: &str, cost_usd: f64) -> Value {
    json!({"request_id": id, "timestamp": t, "endpoint": "/v1/chat", "method": "POST",
        "status_code": 200, "latency_ms": 80.0, "cost_usd": cost_usd, "user_id": user})
}

/// Seven provider calls over two hours and two served requests. Per provider:
///
/// | provider | calls | errors | latencies (ms) | tokens (prompt + completion) | cost (µ$) |
/// | --- | --- | --- | --- | --- | --- |
/// | `openai` | 4 | 1 | 100, 200, 300, 400 | 600 + 300 | 60 000 |
/// | `gemini` | 2 | 1 | 50, 2 000 | 1 000 + 500 | 150 000 |
/// | (unnamed) | 1 | 0 | 10 | 0 | 1 000 |
///
/// Per user: `u-1` made two openai calls (30 000 µ$) and a request of their own (5 000);
/// `u-2` one failed openai call (0) and both gemini calls (150 000), and a request of
/// their own (2 000); two calls carry no user.
fn fixture(h0: i64) -> Value {
    let (a, b) = (h0 - 2 * HOUR + 5 * MIN, h0 - HOUR + 5 * MIN);
    json!({"requests": [
        call("o1", a, Some("openai"), 200, 100.0, (100, 50), 0.01, Some("u-1")),
        call("o2", a + MIN, Some("openai"), 200, 200.0, (200, 100), 0.02, Some("u-1")),
        call("o3", b, Some("openai"), 500, 300.0, (0, 0), 0.0, Some("u-2")),
        call("o4", b + MIN, Some("openai"), 200, 400.0, (300, 150), 0.03, None),
        call("g1", a, Some("gemini"), 429, 50.0, (0, 0), 0.0, Some("u-2")),
        call("g2", b, Some("gemini"), 200, 2000.0, (1000, 500), 0.15, Some("u-2")),
        call("n1", b, None, 200, 10.0, (0, 0), 0.001, None),
        served("s1", a, "u-1", 0.005),
        served("s2", b, "u-2", 0.002),
    ]})
}

fn assert_within_2pct(got: &Value, exact: f64, what: &str) {
    let got = got
        .as_f64()
        .unwrap_or_else(|| panic!("{what}: not a number: {got}"));
    assert!(
        (got - exact).abs() / exact <= 0.02,
        "{what}: {got} is not within 2% of {exact}"
    );
}

fn names(report: &Value) -> Vec<String> {
    report["providers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["service"].as_str().unwrap().to_owned())
        .collect()
}

async fn the_view_shows_the_fixture(backend: Backend) {
    let db = TestDb::new(backend).await;
    let server = TestServer::start(&db.url);
    let ingest_key = key(&db, &[Scope::Ingest]).await;
    let read = key(&db, &[Scope::Read]).await;
    let now = chrono::Utc::now().timestamp_millis();
    let h0 = now - now % HOUR;
    let reply = ingest(&server, &ingest_key, &fixture(h0)).await;
    assert_eq!(reply["accepted"], 9, "{reply}");

    let r = get_json(&server, &read, "/api/v1/providers?range=24h").await;
    assert_eq!(
        (
            r["range"].as_str(),
            r["bucket"].as_str(),
            r["sort"].as_str()
        ),
        (Some("24h"), Some("hour"), Some("calls"))
    );
    assert_eq!(
        (&r["totalCalls"], &r["totalErrors"], &r["totalCostMicros"]),
        (&json!(7), &json!(2), &json!(211_000)),
        "the served requests are not provider calls"
    );
    assert_eq!(r["more"], 0);
    assert_eq!(names(&r), ["openai", "gemini", ""]);
    assert_eq!(
        pick(
            &r["providers"],
            &[
                "calls",
                "errors",
                "errorRate",
                "promptTokens",
                "completionTokens",
                "tokens",
                "costMicros",
                "avgLatencyMs"
            ]
        ),
        json!([
            [4, 1, 0.25, 600, 300, 900, 60_000, 250.0],
            [2, 1, 0.5, 1000, 500, 1500, 150_000, 1025.0],
            [1, 0, 0.0, 0, 0, 0, 1000, 10.0],
        ])
    );
    assert_eq!(r["providers"][0]["costShare"], 60_000.0 / 211_000.0);
    assert_eq!(r["providers"][1]["costShare"], 150_000.0 / 211_000.0);
    let openai = &r["providers"][0];
    assert_within_2pct(&openai["p50Ms"], 200.0, "openai p50");
    assert_within_2pct(&openai["p95Ms"], 400.0, "openai p95");
    assert_within_2pct(&openai["p99Ms"], 400.0, "openai p99");
    assert_within_2pct(&r["providers"][1]["p50Ms"], 50.0, "gemini p50");
    assert_within_2pct(&r["providers"][1]["p95Ms"], 2000.0, "gemini p95");
    assert_within_2pct(&r["providers"][2]["p95Ms"], 10.0, "unnamed p95");

    // Cost over time: the providers by cost, one point a bucket of the range.
    assert_eq!(r["costs"]["providers"], json!(["gemini", "openai", ""]));
    let points = r["costs"]["points"].as_array().unwrap();
    assert_eq!(points.len(), 24);
    let cost_at = |t: i64| {
        points
            .iter()
            .find(|p| p["t"] == t)
            .unwrap_or_else(|| panic!("no cost bucket {t}"))["costMicros"]
            .clone()
    };
    assert_eq!(cost_at(h0 - 2 * HOUR), json!([0, 30_000, 0]));
    assert_eq!(cost_at(h0 - HOUR), json!([150_000, 30_000, 1000]));
    assert_eq!(cost_at(h0), json!([0, 0, 0]));

    // The calls chart: the first listed provider per bucket.
    assert_eq!(r["selected"], "openai");
    let series = r["series"].as_array().unwrap();
    assert_eq!(series.len(), 24);
    let at = |t: i64| {
        series
            .iter()
            .find(|p| p["t"] == t)
            .unwrap_or_else(|| panic!("no bucket {t}"))
    };
    assert_eq!(
        (&at(h0 - 2 * HOUR)["calls"], &at(h0 - 2 * HOUR)["errors"]),
        (&json!(2), &json!(0))
    );
    assert_eq!(
        (&at(h0 - HOUR)["calls"], &at(h0 - HOUR)["errors"]),
        (&json!(2), &json!(1))
    );
    assert_within_2pct(
        &at(h0 - 2 * HOUR)["p95Ms"],
        200.0,
        "openai p95 two hours ago",
    );
    assert_within_2pct(&at(h0 - HOUR)["p95Ms"], 400.0, "openai p95 an hour ago");
    assert_eq!(at(h0 - 3 * HOUR)["p95Ms"], Value::Null);

    // Each sort, most first (errors tie at 1: more calls first).
    for (sort, expected) in [
        ("calls", ["openai", "gemini", ""]),
        ("errors", ["openai", "gemini", ""]),
        ("p95", ["gemini", "openai", ""]),
        ("cost", ["gemini", "openai", ""]),
    ] {
        let sorted = get_json(
            &server,
            &read,
            &format!("/api/v1/providers?range=7d&sort={sort}"),
        )
        .await;
        assert_eq!(names(&sorted), expected, "sort={sort}");
        assert_eq!(sorted["sort"], sort);
        assert_eq!(sorted["selected"].as_str(), Some(expected[0]));
    }

    // Another provider's chart, and a range of one bucket.
    let picked = get_json(
        &server,
        &read,
        "/api/v1/providers?range=24h&provider=gemini",
    )
    .await;
    assert_eq!(picked["selected"], "gemini");
    let calls: i64 = picked["series"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["calls"].as_i64().unwrap())
        .sum();
    assert_eq!(calls, 2);
    let custom = get_json(
        &server,
        &read,
        &format!(
            "/api/v1/providers?range=custom&start={}&end={}",
            h0 - HOUR,
            h0
        ),
    )
    .await;
    assert_eq!(
        pick(
            &custom["providers"],
            &["service", "calls", "errors", "costMicros"]
        ),
        json!([
            ["openai", 2, 1, 30_000],
            ["", 1, 0, 1000],
            ["gemini", 1, 0, 150_000]
        ])
    );
    assert_eq!(custom["series"].as_array().unwrap().len(), 1);

    // The dashboard's card: the totals and the same rows, by calls.
    let dashboard = get_json(&server, &read, "/api/v1/dashboard?range=24h").await;
    let card = &dashboard["providers"];
    assert_eq!(
        (
            &card["totalCalls"],
            &card["totalErrors"],
            &card["totalCostMicros"]
        ),
        (&json!(7), &json!(2), &json!(211_000))
    );
    assert_eq!(card["top"], r["providers"]);
    // The dashboard's own figures stay those of the served requests.
    assert_eq!(dashboard["summary"]["current"]["requests"], 2);

    // Bad input and keys.
    let (status, body) = get(&server, &read, "/api/v1/providers?range=24h&sort=volume").await;
    assert_eq!(
        (status, error_of(&body)),
        (
            400,
            "sort `volume` is unknown: use calls, errors, p95 or cost".to_owned()
        )
    );
    let (status, body) = get(&server, &read, "/api/v1/providers?range=2w").await;
    assert_eq!(status, 400, "{body}");
    assert!(error_of(&body).contains("range"), "{body}");
    let (status, _) = get(&server, &ingest_key, "/api/v1/providers").await;
    assert_eq!(status, 403);
    let (status, _) = get(&server, "sl_not_a_key", "/api/v1/providers").await;
    assert_eq!(status, 401);

    // The drill-down: the explorer and the export filter by kind and provider.
    let csv = get_text(
        &server,
        &read,
        "/api/v1/export/requests.csv?range=all&kind=external&service=openai",
    )
    .await;
    let mut ids: Vec<&str> = csv
        .lines()
        .skip(1)
        .map(|l| l.split(',').next().unwrap())
        .collect();
    ids.sort_unstable();
    assert_eq!(ids, ["o1", "o2", "o3", "o4"], "{csv}");
    let csv = get_text(
        &server,
        &read,
        "/api/v1/export/requests.csv?range=all&kind=api",
    )
    .await;
    assert_eq!(csv.lines().count(), 3, "{csv}");
    let (status, body) = get(&server, &read, "/api/v1/export/requests.csv?kind=internal").await;
    assert_eq!(
        (status, error_of(&body)),
        (
            400,
            "unknown kind `internal`: use api or external".to_owned()
        )
    );

    account(&db, "ada", Role::Admin).await;
    let mut admin = Browser::new(&server.base_url);
    admin.login("ada", PASSWORD).await;
    let r = admin
        .post_form(
            "/api/ui/requests",
            &[
                ("range", "all"),
                ("kind", "external"),
                ("service", "gemini"),
            ],
        )
        .await;
    assert_eq!(r.status.as_u16(), 200, "{}", r.body);
    let page: RequestPage = serde_json::from_str(&r.body).unwrap();
    let ids: Vec<&str> = page.rows.iter().map(|r| r.request_id.as_str()).collect();
    assert_eq!(ids, ["g2", "g1"]);

    // The users view: each user's own cost and, apart, what their calls cost.
    let r = admin.post_form("/api/ui/users", &[]).await;
    assert_eq!(r.status.as_u16(), 200, "{}", r.body);
    let page: UserPage = serde_json::from_str(&r.body).unwrap();
    let rows: Vec<(&str, i64, i64, i64)> = page
        .rows
        .iter()
        .map(|u| {
            (
                u.user_id.as_str(),
                u.cost_micros.micros(),
                u.provider_calls,
                u.provider_cost_micros.micros(),
            )
        })
        .collect();
    assert_eq!(rows, [("u-1", 5000, 2, 30_000), ("u-2", 2000, 3, 150_000)]);
    let r = admin.post_form("/api/ui/user", &[("user_id", "u-2")]).await;
    assert_eq!(r.status.as_u16(), 200, "{}", r.body);
    let detail: UserDetail = serde_json::from_str(&r.body).unwrap();
    assert_eq!(
        (
            detail.user.requests,
            detail.user.cost_micros.micros(),
            detail.user.provider_calls,
            detail.user.provider_cost_micros.micros()
        ),
        (1, 2000, 3, 150_000)
    );
    let cost = |service: &str, calls, errors, tokens, cost_micros| UserProviderCost {
        service: service.into(),
        calls,
        errors,
        tokens,
        cost_micros,
    };
    assert_eq!(
        detail.providers,
        [
            cost("gemini", 2, 1, 1500, Micros(150_000)),
            cost("openai", 1, 1, 0, Micros(0))
        ]
    );

    // `user_provider_cost` equals a recomputation from the raw rows, and a rebuild.
    let mut conn = db.connection().await;
    let recomputed = per_user(
        &mut conn,
        "SELECT user_id, COALESCE(service, '') AS service, COUNT(*) AS calls, \
         CAST(SUM(CASE WHEN status_code >= 400 THEN 1 ELSE 0 END) AS BIGINT) AS errors, \
         CAST(SUM(prompt_tokens + completion_tokens) AS BIGINT) AS tokens, \
         CAST(SUM(cost_micros) AS BIGINT) AS cost_micros FROM request_log \
         WHERE kind = 'external' AND user_id IS NOT NULL \
         GROUP BY user_id, COALESCE(service, '') ORDER BY user_id, service",
    )
    .await;
    let kept = per_user(
        &mut conn,
        "SELECT user_id, service, calls, errors, tokens, cost_micros FROM user_provider_cost \
         ORDER BY user_id, service",
    )
    .await;
    assert_eq!(kept, recomputed);
    assert_eq!(kept.len(), 3);
    drop(conn);
    let before = db.store.derived_snapshot().await.unwrap();
    db.store.rebuild_rollups(|_, _| {}).await.unwrap();
    let after = db.store.derived_snapshot().await.unwrap();
    assert_eq!(before["user_provider_cost"], after["user_provider_cost"]);
    drop(server);
    db.drop_database().await;
}

async fn per_user(
    conn: &mut sqlx::AnyConnection,
    sql: &str,
) -> Vec<(String, String, i64, i64, i64, i64)> {
    sqlx::query(sql)
        .fetch_all(conn)
        .await
        .unwrap()
        .iter()
        .map(|r| {
            (
                r.get("user_id"),
                r.get("service"),
                r.get("calls"),
                r.get("errors"),
                r.get("tokens"),
                r.get("cost_micros"),
            )
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_providers_view_on_sqlite() {
    the_view_shows_the_fixture(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_providers_view_on_postgres() {
    the_view_shows_the_fixture(Backend::Postgres).await;
}

/// A database at migration 0012 with provider calls stored: migrating fills
/// `user_provider_cost` from them, equal to a rebuild.
async fn migration_0014_fills_what_came_before(backend: Backend) {
    let db = TestDb::unmigrated(backend).await;
    let mut migrator = match backend {
        Backend::Sqlite => sqlx::migrate!("migrations/sqlite"),
        Backend::Postgres => sqlx::migrate!("migrations/postgres"),
    };
    migrator.migrations = migrator
        .migrations
        .iter()
        .filter(|m| m.version < 14)
        .cloned()
        .collect::<Vec<_>>()
        .into();
    let mut conn = db.connection().await;
    migrator.run(&mut conn).await.unwrap();
    let t = 1_767_225_600_000 + 90 * MIN;
    for (id, kind, service, user, status, tokens, cost) in [
        (
            "x1",
            "external",
            Some("openai"),
            Some("u-1"),
            200,
            150,
            9000,
        ),
        ("x2", "external", Some("openai"), Some("u-1"), 502, 0, 0),
        ("x3", "external", None, Some("u-1"), 200, 10, 40),
        ("x4", "external", Some("openai"), None, 200, 99, 99),
        ("r1", "api", None, Some("u-1"), 200, 30, 700),
    ] {
        sqlx::query(
            "INSERT INTO request_log (request_id, created_at, kind, service, user_id, endpoint, method, \
             status_code, latency_ms, prompt_tokens, completion_tokens, cost_micros) \
             VALUES ($1, $2, $3, $4, $5, '/v1/chat', 'POST', $6, 100.0, $7, 0, $8)",
        )
        .bind(id)
        .bind(t)
        .bind(kind)
        .bind(service)
        .bind(user)
        .bind(status)
        .bind(tokens)
        .bind(cost)
        .execute(&mut conn)
        .await
        .unwrap();
    }
    drop(conn);
    db.store.migrate().await.unwrap();
    let migrated = db.store.derived_snapshot().await.unwrap();
    assert_eq!(
        migrated["user_provider_cost"],
        ["u-1|openai|2|1|150|9000", "u-1||1|0|10|40"]
    );
    db.store.rebuild_rollups(|_, _| {}).await.unwrap();
    let rebuilt = db.store.derived_snapshot().await.unwrap();
    assert_eq!(
        migrated["user_provider_cost"],
        rebuilt["user_provider_cost"]
    );
    db.drop_database().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn migration_0014_on_sqlite() {
    migration_0014_fills_what_came_before(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn migration_0014_on_postgres() {
    migration_0014_fills_what_came_before(Backend::Postgres).await;
}
