//! The endpoints view: `GET /api/v1/endpoints` and the dashboard's `topEndpoints` over
//! HTTP from a fixture ingested through the API (exact counts, rates, averages; the
//! percentiles within 2%), its per-endpoint rollups against a recomputation from the
//! raw rows and a rebuild, and migration 0011 filling them for rows stored before it.
//! Both databases.

use crate::common;

use common::api::{assert_read_rules, get_json, ingest, key, pick};
use common::{Backend, TestDb, TestServer};
use serde_json::{Value, json};
use sightline::store::Scope;
use sqlx::Row;

const MIN: i64 = 60_000;
const HOUR: i64 = 3_600_000;

#[allow(clippy::too_many_arguments)]
fn req(
    id: &str,
    t: i64,
    endpoint: &str,
    status: i64,
    latency: f64,
    tokens: (i64, i64),
    cost_usd: f64,
) -> Value {
    json!({"request_id": id, "timestamp": t, "endpoint": endpoint, "method": "POST", "status_code": status,
        "latency_ms": latency, "prompt_tokens": tokens.0, "completion_tokens": tokens.1, "cost_usd": cost_usd})
}

/// Seven served requests on three endpoints over two hours, and a provider call that
/// is not an endpoint of the platform. Per endpoint:
///
/// | endpoint | requests | errors | latencies (ms) | tokens | cost (µ$) |
/// | --- | --- | --- | --- | --- | --- |
/// | `/v1/chat` | 4 | 1 | 100, 200, 300, 1000 | 210 | 6 000 |
/// | `/v1/embeddings` | 2 | 2 | 20, 40 | 12 | 8 000 |
/// | `/v1/models` | 1 | 1 | 5 000 | 0 | 10 000 |
fn fixture(h0: i64) -> Value {
    let (a, b) = (h0 - 2 * HOUR + 5 * MIN, h0 - HOUR + 5 * MIN);
    let mut call = req("x1", b, "/v1/chat", 200, 900.0, (1000, 1000), 0.5);
    call["kind"] = json!("external");
    call["service"] = json!("openai");
    json!({"requests": [
        req("c1", a, "/v1/chat", 200, 100.0, (10, 20), 0.001),
        req("c2", a + MIN, "/v1/chat", 200, 200.0, (30, 40), 0.002),
        req("c3", b, "/v1/chat", 500, 300.0, (0, 0), 0.0),
        req("c4", b + MIN, "/v1/chat", 200, 1000.0, (50, 60), 0.003),
        req("e1", a, "/v1/embeddings", 429, 20.0, (5, 0), 0.004),
        req("e2", b, "/v1/embeddings", 503, 40.0, (7, 0), 0.004),
        req("m1", b, "/v1/models", 500, 5000.0, (0, 0), 0.01),
        call,
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
    report["endpoints"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["endpoint"].as_str().unwrap().to_owned())
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
    assert_eq!(reply["accepted"], 8, "{reply}");

    let r = get_json(&server, &read, "/api/v1/endpoints?range=24h").await;
    assert_eq!(
        (
            r["range"].as_str(),
            r["bucket"].as_str(),
            r["sort"].as_str()
        ),
        (Some("24h"), Some("hour"), Some("volume"))
    );
    assert_eq!(
        r["totalRequests"], 7,
        "the provider call is not a served request"
    );
    assert_eq!(r["more"], 0);
    assert_eq!(names(&r), ["/v1/chat", "/v1/embeddings", "/v1/models"]);
    assert_eq!(
        pick(
            &r["endpoints"],
            &[
                "requests",
                "errors",
                "errorRate",
                "tokens",
                "avgTokens",
                "costMicros",
                "avgCostMicros"
            ]
        ),
        json!([
            [4, 1, 0.25, 210, 52.5, 6000, 1500.0],
            [2, 2, 1.0, 12, 6.0, 8000, 4000.0],
            [1, 1, 1.0, 0, 0.0, 10000, 10000.0],
        ])
    );
    let chat = &r["endpoints"][0];
    assert_eq!(chat["share"], 4.0 / 7.0);
    assert_eq!(chat["avgLatencyMs"], 400.0);
    assert_within_2pct(&chat["p50Ms"], 200.0, "chat p50");
    assert_within_2pct(&chat["p95Ms"], 1000.0, "chat p95");
    assert_within_2pct(&chat["p99Ms"], 1000.0, "chat p99");
    assert_within_2pct(&r["endpoints"][1]["p50Ms"], 20.0, "embeddings p50");
    assert_within_2pct(&r["endpoints"][1]["p95Ms"], 40.0, "embeddings p95");
    assert_within_2pct(&r["endpoints"][2]["p99Ms"], 5000.0, "models p99");

    // The chart: the first listed endpoint, one point a bucket of the range.
    assert_eq!(r["selected"], "/v1/chat");
    let series = r["series"].as_array().unwrap();
    assert_eq!(series.len(), 24);
    assert_eq!(series[0]["t"], r["start"]);
    let at = |t: i64| {
        series
            .iter()
            .find(|p| p["t"] == t)
            .unwrap_or_else(|| panic!("no bucket {t}"))
    };
    assert_eq!(
        (&at(h0 - 2 * HOUR)["requests"], &at(h0 - 2 * HOUR)["errors"]),
        (&json!(2), &json!(0))
    );
    assert_eq!(
        (&at(h0 - HOUR)["requests"], &at(h0 - HOUR)["errors"]),
        (&json!(2), &json!(1))
    );
    assert_within_2pct(&at(h0 - 2 * HOUR)["p95Ms"], 200.0, "chat p95 two hours ago");
    assert_within_2pct(&at(h0 - HOUR)["p95Ms"], 1000.0, "chat p95 an hour ago");
    assert_eq!(at(h0 - 3 * HOUR)["p95Ms"], Value::Null);
    let busy: i64 = series.iter().map(|p| p["requests"].as_i64().unwrap()).sum();
    assert_eq!(busy, 4);

    // Each sort, most first.
    for (sort, expected) in [
        ("volume", ["/v1/chat", "/v1/embeddings", "/v1/models"]),
        ("errors", ["/v1/embeddings", "/v1/chat", "/v1/models"]),
        ("p95", ["/v1/models", "/v1/chat", "/v1/embeddings"]),
        ("cost", ["/v1/models", "/v1/embeddings", "/v1/chat"]),
    ] {
        let sorted = get_json(
            &server,
            &read,
            &format!("/api/v1/endpoints?range=7d&sort={sort}"),
        )
        .await;
        assert_eq!(names(&sorted), expected, "sort={sort}");
        assert_eq!(sorted["sort"], sort);
        assert_eq!(sorted["selected"].as_str(), Some(expected[0]));
    }

    // Another endpoint's chart, and a range of one bucket.
    let picked = get_json(
        &server,
        &read,
        "/api/v1/endpoints?range=24h&endpoint=%2Fv1%2Fembeddings",
    )
    .await;
    assert_eq!(picked["selected"], "/v1/embeddings");
    let errors: i64 = picked["series"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["errors"].as_i64().unwrap())
        .sum();
    assert_eq!(errors, 2);
    let custom = get_json(
        &server,
        &read,
        &format!(
            "/api/v1/endpoints?range=custom&start={}&end={}",
            h0 - HOUR,
            h0
        ),
    )
    .await;
    assert_eq!(
        pick(
            &custom["endpoints"],
            &["endpoint", "requests", "errors", "costMicros"]
        ),
        json!([
            ["/v1/chat", 2, 1, 3000],
            ["/v1/embeddings", 1, 1, 4000],
            ["/v1/models", 1, 1, 10000]
        ])
    );
    assert_eq!(custom["series"].as_array().unwrap().len(), 1);

    // The dashboard's card: the same rows, by volume.
    let dashboard = get_json(&server, &read, "/api/v1/dashboard?range=24h").await;
    assert_eq!(dashboard["topEndpoints"], r["endpoints"]);

    // Bad input and keys.
    assert_read_rules(
        &server,
        &read,
        &ingest_key,
        "/api/v1/endpoints",
        "slowest",
        "sort `slowest` is unknown: use volume, errors, p95 or cost",
    )
    .await;

    // The rollups equal a recomputation from the raw rows, and a rebuild.
    let mut conn = db.connection().await;
    for (raw, rolled) in [
        (
            "SELECT endpoint AS name, COUNT(*) AS n, CAST(SUM(prompt_tokens) AS BIGINT) AS p, \
             CAST(SUM(completion_tokens) AS BIGINT) AS c, CAST(SUM(cost_micros) AS BIGINT) AS m \
             FROM request_log WHERE kind = 'api' GROUP BY endpoint ORDER BY endpoint",
            "SELECT endpoint AS name, CAST(SUM(requests) AS BIGINT) AS n, CAST(SUM(prompt_tokens) AS BIGINT) AS p, \
             CAST(SUM(completion_tokens) AS BIGINT) AS c, CAST(SUM(cost_micros) AS BIGINT) AS m \
             FROM rollup_endpoint WHERE bucket_ms = 3600000 GROUP BY endpoint ORDER BY endpoint",
        ),
        (
            "SELECT COALESCE(service, '') AS name, COUNT(*) AS n, CAST(SUM(prompt_tokens) AS BIGINT) AS p, \
             CAST(SUM(completion_tokens) AS BIGINT) AS c, CAST(SUM(cost_micros) AS BIGINT) AS m \
             FROM request_log WHERE kind = 'external' GROUP BY service ORDER BY name",
            "SELECT service AS name, CAST(SUM(requests) AS BIGINT) AS n, CAST(SUM(prompt_tokens) AS BIGINT) AS p, \
             CAST(SUM(completion_tokens) AS BIGINT) AS c, CAST(SUM(cost_micros) AS BIGINT) AS m \
             FROM rollup_service WHERE bucket_ms = 86400000 GROUP BY service ORDER BY service",
        ),
    ] {
        assert_eq!(
            sums(&mut conn, raw).await,
            sums(&mut conn, rolled).await,
            "{rolled}"
        );
    }
    let histogram: Vec<(String, i64)> = sqlx::query(
        "SELECT endpoint, CAST(SUM(requests) AS BIGINT) FROM rollup_endpoint_latency \
         WHERE bucket_ms = 86400000 GROUP BY endpoint ORDER BY endpoint",
    )
    .fetch_all(&mut conn)
    .await
    .unwrap()
    .iter()
    .map(|r| (r.get(0), r.get(1)))
    .collect();
    assert_eq!(
        histogram,
        [
            ("/v1/chat".into(), 4),
            ("/v1/embeddings".into(), 2),
            ("/v1/models".into(), 1)
        ]
    );
    let before = db.store.derived_snapshot().await.unwrap();
    db.store.rebuild_rollups(|_, _| {}).await.unwrap();
    let after = db.store.derived_snapshot().await.unwrap();
    for table in [
        "rollup_endpoint",
        "rollup_endpoint_latency",
        "rollup_service",
        "rollup_service_latency",
    ] {
        assert!(!before[table].is_empty(), "{table} is empty");
        assert_eq!(
            before[table], after[table],
            "{table} differs after the rebuild"
        );
    }
    drop(conn);
    drop(server);
    db.drop_database().await;
}

async fn sums(conn: &mut sqlx::AnyConnection, sql: &str) -> Vec<(String, i64, i64, i64, i64)> {
    sqlx::query(sql)
        .fetch_all(conn)
        .await
        .unwrap()
        .iter()
        .map(|r| {
            (
                r.get("name"),
                r.get("n"),
                r.get("p"),
                r.get("c"),
                r.get("m"),
            )
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_endpoints_view_on_sqlite() {
    the_view_shows_the_fixture(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_endpoints_view_on_postgres() {
    the_view_shows_the_fixture(Backend::Postgres).await;
}

/// A database at migration 0010 with requests and their rollups as 0010 kept them
/// (no tokens or cost per endpoint, no histograms): migrating fills both, equal to a
/// rebuild.
async fn migration_0011_fills_what_came_before(backend: Backend) {
    let db = TestDb::migrated_before(backend, 11).await;
    let mut conn = db.connection().await;

    let t = 1_767_225_600_000 + 90 * MIN; // 01:30 on a UTC day
    let rows = [
        ("r1", "api", None, "/v1/chat", 200, 120.5, 10, 20, 700),
        ("r2", "api", None, "/v1/chat", 502, 2400.0, 3, 0, 50),
        ("r3", "api", None, "/v1/embeddings", 200, 15.0, 8, 0, 1),
        (
            "x1",
            "external",
            Some("openai"),
            "/v1/responses",
            200,
            800.0,
            100,
            50,
            9000,
        ),
    ];
    for (id, kind, service, endpoint, status, latency, prompt, completion, cost) in rows {
        sqlx::query(
            "INSERT INTO request_log (request_id, created_at, kind, service, endpoint, method, status_code, \
             latency_ms, prompt_tokens, completion_tokens, cost_micros) \
             VALUES ($1, $2, $3, $4, $5, 'POST', $6, $7, $8, $9, $10)",
        )
        .bind(id)
        .bind(t)
        .bind(kind)
        .bind(service)
        .bind(endpoint)
        .bind(status)
        .bind(latency)
        .bind(prompt)
        .bind(completion)
        .bind(cost)
        .execute(&mut conn)
        .await
        .unwrap();
    }
    // What 0010's ingest kept of them, at both grains.
    for (grain, start) in [(HOUR, t - t % HOUR), (24 * HOUR, t - t % (24 * HOUR))] {
        for (endpoint, requests, errors, latency_us) in [
            ("/v1/chat", 2, 1, 2_520_500),
            ("/v1/embeddings", 1, 0, 15_000),
        ] {
            sqlx::query(
                "INSERT INTO rollup_endpoint (bucket_ms, bucket_start, endpoint, requests, errors, latency_sum_us) \
                 VALUES ($1, $2, $3, $4, $5, $6)",
            )
            .bind(grain)
            .bind(start)
            .bind(endpoint)
            .bind(requests)
            .bind(errors)
            .bind(latency_us)
            .execute(&mut conn)
            .await
            .unwrap();
        }
        sqlx::query(
            "INSERT INTO rollup_service (bucket_ms, bucket_start, service, requests, errors, latency_sum_us, cost_micros) \
             VALUES ($1, $2, 'openai', 1, 0, 800000, 9000)",
        )
        .bind(grain)
        .bind(start)
        .execute(&mut conn)
        .await
        .unwrap();
    }
    drop(conn);

    db.store.migrate().await.unwrap();
    let migrated = db.store.derived_snapshot().await.unwrap();
    assert_eq!(
        migrated["rollup_endpoint"]
            .iter()
            .filter(|r| r.starts_with("3600000|"))
            .cloned()
            .collect::<Vec<_>>(),
        [
            format!("3600000|{}|/v1/chat|2|1|2520500|13|20|750", t - t % HOUR),
            format!("3600000|{}|/v1/embeddings|1|0|15000|8|0|1", t - t % HOUR),
        ]
    );
    assert_eq!(
        migrated["rollup_endpoint_latency"].len(),
        6,
        "{:?}",
        migrated["rollup_endpoint_latency"]
    );
    assert_eq!(migrated["rollup_service_latency"].len(), 2);
    // Migrating again does nothing more: the fill ran once.
    db.store.migrate().await.unwrap();
    assert_eq!(db.store.derived_snapshot().await.unwrap(), migrated);
    db.store.rebuild_rollups(|_, _| {}).await.unwrap();
    let rebuilt = db.store.derived_snapshot().await.unwrap();
    for table in [
        "rollup_endpoint",
        "rollup_endpoint_latency",
        "rollup_service",
        "rollup_service_latency",
    ] {
        assert_eq!(
            migrated[table], rebuilt[table],
            "{table} differs from a rebuild"
        );
    }
    db.drop_database().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn migration_0011_on_sqlite() {
    migration_0011_fills_what_came_before(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn migration_0011_on_postgres() {
    migration_0011_fills_what_came_before(Backend::Postgres).await;
}
