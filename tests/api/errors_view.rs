//! The errors view: `GET /api/v1/errors` over HTTP from a fixture ingested through the
//! API (groups, counts, first and last seen, statuses, endpoints, new groups, ranges),
//! the explorer's `error_group` drill-down, the cap of groups a day with its overflow
//! group, a rebuild, migration 0013's backfill and retention. Both databases.

use crate::common;

use common::api::{assert_read_rules, error_of, get, get_json, get_text, ingest, key, pick};
use common::fixture::request;
use common::{Backend, TestDb, TestServer};
use serde_json::{Value, json};
use sightline::jobs::retention::{self, PruneOptions};
use sightline::rollup::error_message::{fingerprint, normalise, status_key};
use sightline::store::{Prunable, Scope};
use sightline_app::errors::{MAX_GROUPS_PER_DAY, OTHER_GROUP};
use sightline_app::units::EpochMillis;
use sqlx::Row;

const MIN: i64 = 60_000;
const HOUR: i64 = 3_600_000;
const DAY: i64 = 24 * HOUR;

fn req(id: &str, t: i64, endpoint: &str, status: i64, error: Option<&str>) -> Value {
    let mut r = json!({"request_id": id, "timestamp": t, "endpoint": endpoint, "method": "POST",
        "status_code": status, "latency_ms": 50.0});
    if let Some(e) = error {
        r["error"] = json!(e);
    }
    r
}

const TIMEOUT: &str = "timeout after <n> ms for user <str>";
const RATE: &str = "rate limited: retry in <n>s";

/// Seven failed requests of the platform in three groups, a success and a failed
/// provider call (neither in a group):
///
/// | group | requests (in the last 24 h) | statuses | endpoints | first, last seen |
/// | --- | --- | --- | --- | --- |
/// | `timeout after <n> ms for user <str>` | 3 | 504 ×2, 500 | /v1/chat ×2, /v1/embeddings | a, b + 1 min |
/// | `HTTP 503 (no error message)` | 1 | 503 | /v1/models | b + 2 min |
/// | `rate limited: retry in <n>s` | 1 (and one 3 days ago) | 429 | /v1/chat | b |
fn fixture(h0: i64) -> Value {
    let (a, b) = (h0 - 2 * HOUR + 5 * MIN, h0 - HOUR + 5 * MIN);
    let mut call = req("x1", b, "/v1/responses", 502, Some("upstream 500"));
    call["kind"] = json!("external");
    call["service"] = json!("openai");
    json!({"requests": [
        req("t1", a, "/v1/chat", 504, Some("timeout after 3012 ms for user 'bob'")),
        req("t2", b, "/v1/chat", 504, Some("timeout after 15 ms for user 'al'")),
        req("t3", b + MIN, "/v1/embeddings", 500, Some("timeout after 99 ms for user 'cy'")),
        req("n1", b + 2 * MIN, "/v1/models", 503, None),
        req("r0", h0 - 3 * DAY, "/v1/chat", 429, Some("rate limited: retry in 20s")),
        req("r1", b, "/v1/chat", 429, Some("rate limited: retry in 3s")),
        req("ok", b, "/v1/chat", 200, None),
        call,
    ]})
}

async fn the_view_shows_the_fixture(backend: Backend) {
    let db = TestDb::new(backend).await;
    let server = TestServer::start(&db.url);
    let ingest_key = key(&db, &[Scope::Ingest]).await;
    let read = key(&db, &[Scope::Read]).await;
    let now = chrono::Utc::now().timestamp_millis();
    let h0 = now - now % HOUR;
    let (a, b) = (h0 - 2 * HOUR + 5 * MIN, h0 - HOUR + 5 * MIN);
    let reply = ingest(&server, &ingest_key, &fixture(h0)).await;
    assert_eq!(reply["accepted"], 8, "{reply}");

    let timeout = fingerprint(TIMEOUT);
    let no_message = fingerprint(&status_key(503));
    let rate = fingerprint(RATE);
    let r = get_json(&server, &read, "/api/v1/errors?range=24h").await;
    assert_eq!(
        (r["range"].as_str(), r["sort"].as_str()),
        (Some("24h"), Some("count"))
    );
    assert_eq!(
        (
            &r["totalErrors"],
            &r["totalGroups"],
            &r["newGroups"],
            &r["more"]
        ),
        (&json!(5), &json!(3), &json!(2), &json!(0))
    );
    assert_eq!(
        pick(
            &r["groups"],
            &[
                "fingerprint",
                "pattern",
                "requests",
                "firstSeenAt",
                "lastSeenAt",
                "isNew"
            ]
        ),
        json!([
            [timeout, TIMEOUT, 3, a, b + MIN, true],
            [
                no_message,
                "HTTP 503 (no error message)",
                1,
                b + 2 * MIN,
                b + 2 * MIN,
                true
            ],
            [rate, RATE, 1, b, b, false],
        ])
    );
    let first = &r["groups"][0];
    assert_eq!(first["example"], "timeout after 3012 ms for user 'bob'");
    assert_eq!(first["share"], 3.0 / 5.0);
    assert_eq!(
        first["statuses"],
        json!([{"key": 504, "requests": 2}, {"key": 500, "requests": 1}])
    );
    assert_eq!(
        first["endpoints"],
        json!([{"key": "/v1/chat", "requests": 2}, {"key": "/v1/embeddings", "requests": 1}])
    );
    assert_eq!(
        (&first["moreStatuses"], &first["moreEndpoints"]),
        (&json!(0), &json!(0))
    );
    assert_eq!(r["groups"][2]["groupFirstSeenAt"], h0 - 3 * DAY);

    // By last seen; and over 7 days the older rate limit counts and its group is new.
    let by_last = get_json(&server, &read, "/api/v1/errors?range=24h&sort=last_seen").await;
    assert_eq!(
        pick(&by_last["groups"], &["fingerprint"]),
        json!([[no_message], [timeout], [rate]])
    );
    let week = get_json(&server, &read, "/api/v1/errors?range=7d").await;
    assert_eq!(
        (&week["totalErrors"], &week["newGroups"]),
        (&json!(6), &json!(3))
    );
    assert_eq!(
        pick(
            &week["groups"],
            &["fingerprint", "requests", "firstSeenAt", "isNew"]
        ),
        json!([
            [timeout, 3, a, true],
            [rate, 2, h0 - 3 * DAY, true],
            [no_message, 1, b + 2 * MIN, true],
        ])
    );
    // A custom range of the day three days ago: the one old rate limit.
    let day = h0 - 3 * DAY - (h0 - 3 * DAY) % DAY;
    let old = get_json(
        &server,
        &read,
        &format!("/api/v1/errors?range=custom&start={day}&end={}", day + DAY),
    )
    .await;
    assert_eq!(
        pick(&old["groups"], &["fingerprint", "requests"]),
        json!([[rate, 1]])
    );

    // The drill-down: the explorer's filter (here its CSV export) finds the group's requests.
    let csv = get_text(
        &server,
        &read,
        &format!("/api/v1/export/requests.csv?range=all&error_group={timeout}"),
    )
    .await;
    let mut ids: Vec<&str> = csv
        .lines()
        .skip(1)
        .map(|l| l.split(',').next().unwrap())
        .collect();
    ids.sort_unstable();
    assert_eq!(ids, ["t1", "t2", "t3"], "{csv}");
    // The view's own export: every group, in its order.
    let csv = get_text(
        &server,
        &read,
        "/api/v1/export/errors.csv?range=24h&sort=last_seen",
    )
    .await;
    let at = sightline_app::format::rfc3339;
    assert_eq!(
        csv.split("\r\n").collect::<Vec<_>>(),
        [
            "fingerprint,pattern,example,requests,first_seen_at,last_seen_at,group_first_seen_at,is_new,statuses,endpoints".to_string(),
            format!("{no_message},HTTP 503 (no error message),HTTP 503 (no error message),1,{},{},{},true,503:1,/v1/models:1", at(EpochMillis(b + 2 * MIN)), at(EpochMillis(b + 2 * MIN)), at(EpochMillis(b + 2 * MIN))),
            format!("{timeout},{TIMEOUT},timeout after 3012 ms for user 'bob',3,{},{},{},true,504:2 500:1,/v1/chat:2 /v1/embeddings:1", at(EpochMillis(a)), at(EpochMillis(b + MIN)), at(EpochMillis(a))),
            format!("{rate},{RATE},rate limited: retry in 20s,1,{},{},{},false,429:1,/v1/chat:1", at(EpochMillis(b)), at(EpochMillis(b)), at(EpochMillis(h0 - 3 * DAY))),
            String::new(),
        ]
    );
    let (status, body) = get(
        &server,
        &read,
        "/api/v1/export/requests.csv?error_group=XYZ",
    )
    .await;
    assert_eq!(
        (status, error_of(&body)),
        (
            400,
            "error_group `XYZ` is not a group: 16 hex digits or `other`".to_owned()
        )
    );

    // Bad input and keys, as the endpoints view.
    assert_read_rules(
        &server,
        &read,
        &ingest_key,
        "/api/v1/errors",
        "newest",
        "sort `newest` is unknown: use count or last_seen",
    )
    .await;

    // The stored groups, and a rebuild makes the same error tables.
    let mut conn = db.connection().await;
    let stored: Vec<(String, Option<String>)> =
        sqlx::query("SELECT request_id, error_group FROM request_log ORDER BY request_id")
            .fetch_all(&mut conn)
            .await
            .unwrap()
            .iter()
            .map(|r| (r.get(0), r.get(1)))
            .collect();
    let row = |id: &str, group: Option<&String>| (id.to_string(), group.cloned());
    let expected: Vec<(String, Option<String>)> = vec![
        row("n1", Some(&no_message)),
        row("ok", None),
        row("r0", Some(&rate)),
        row("r1", Some(&rate)),
        row("t1", Some(&timeout)),
        row("t2", Some(&timeout)),
        row("t3", Some(&timeout)),
        row("x1", None),
    ];
    assert_eq!(stored, expected);
    drop(conn);
    let before = db.store.derived_snapshot().await.unwrap();
    db.store.rebuild_rollups(|_, _| {}).await.unwrap();
    let after = db.store.derived_snapshot().await.unwrap();
    for table in ["rollup_error", "error_group"] {
        assert!(!before[table].is_empty(), "{table} is empty");
        assert_eq!(
            before[table], after[table],
            "{table} differs after the rebuild"
        );
    }
    drop(server);
    db.drop_database().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_errors_view_on_sqlite() {
    the_view_shows_the_fixture(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_errors_view_on_postgres() {
    the_view_shows_the_fixture(Backend::Postgres).await;
}

/// A message of its own group for each `i`: letters only, so nothing in it is variable.
fn distinct(i: usize) -> String {
    let letters: Vec<char> = "ghijklmnopqrstuvwxyz".chars().collect();
    format!("failure {}{}", letters[i / 20], letters[i % 20])
}

storage_test!(
    a_day_holds_at_most_the_cap_and_the_rest_is_other,
    |db| async move {
        let now = chrono::Utc::now().timestamp_millis();
        let day = now - now % DAY - 2 * DAY;
        let failed = |id: String, t: i64, message: String| {
            let mut r = request(&id, t, 500);
            r.error = Some(message);
            r
        };
        // Two batches, so the second one's cap sees the groups the first one stored.
        let first: Vec<_> = (0..MAX_GROUPS_PER_DAY - 1)
            .map(|i| failed(format!("a{i}"), day + i as i64, distinct(i)))
            .collect();
        db.store.record_requests(&first).await.unwrap();
        let second = vec![
            failed("b0".into(), day + HOUR, distinct(99)), // the 100th group
            failed("b1".into(), day + HOUR + 1, distinct(100)), // over the cap: other
            failed("b2".into(), day + HOUR + 2, distinct(101)), // other
            failed("b3".into(), day + HOUR + 3, distinct(5)), // a group the day has
            failed("b4".into(), day + DAY, distinct(100)), // the next day: its own
        ];
        db.store.record_requests(&second).await.unwrap();

        let mut conn = db.connection().await;
        let daily: Vec<(i64, String, i64)> = sqlx::query(
            "SELECT bucket_start, fingerprint, CAST(SUM(requests) AS BIGINT) FROM rollup_error \
             WHERE bucket_ms = 86400000 GROUP BY bucket_start, fingerprint",
        )
        .fetch_all(&mut conn)
        .await
        .unwrap()
        .iter()
        .map(|r| (r.get(0), r.get(1), r.get(2)))
        .collect();
        let on = |d: i64| daily.iter().filter(|(s, _, _)| *s == d).collect::<Vec<_>>();
        assert_eq!(
            on(day).len(),
            MAX_GROUPS_PER_DAY + 1,
            "100 groups and other"
        );
        let count = |d: i64, group: &str| {
            daily
                .iter()
                .find(|(s, g, _)| *s == d && g == group)
                .map(|(_, _, n)| *n)
        };
        assert_eq!(count(day, OTHER_GROUP), Some(2));
        assert_eq!(count(day, &fingerprint(&normalise(&distinct(5)))), Some(2));
        assert_eq!(count(day, &fingerprint(&normalise(&distinct(99)))), Some(1));
        assert_eq!(
            count(day + DAY, &fingerprint(&normalise(&distinct(100)))),
            Some(1)
        );
        assert_eq!(on(day + DAY).len(), 1);
        let total: i64 = daily.iter().map(|(_, _, n)| n).sum();
        assert_eq!(total, 104, "every request counted once");
        drop(conn);

        // The overflow group is a group like the others, drill-down included.
        let range = sightline_app::range::TimeRange::from_query(
            Some("custom"),
            Some(&day.to_string()),
            Some(&(day + DAY).to_string()),
            EpochMillis(now),
        )
        .unwrap();
        let report = sightline::errors::report(
            &db.store,
            &range,
            sightline_app::errors::ErrorSort::Count,
            3,
            EpochMillis(now),
        )
        .await
        .unwrap();
        assert_eq!(
            (report.total_errors, report.total_groups, report.more),
            (103, 101, 98)
        );
        let top: Vec<(&str, i64)> = report
            .groups
            .iter()
            .map(|g| (g.fingerprint.as_str(), g.requests))
            .collect();
        let five = fingerprint(&normalise(&distinct(5)));
        // Ties by the latest request: `other`'s is b2, the fifth group's b3.
        assert_eq!(top[..2], [(five.as_str(), 2), (OTHER_GROUP, 2)]);
        assert_eq!(
            report.groups[1].pattern,
            sightline_app::errors::OTHER_PATTERN
        );
        let query = sightline_app::requests::RequestQuery {
            range: Some("all".into()),
            error_group: Some(OTHER_GROUP.into()),
            ..Default::default()
        };
        let (filter, _) = query.resolve(EpochMillis(now)).unwrap();
        let page = db.store.request_page(&filter, None, 50).await.unwrap();
        let mut ids: Vec<&str> = page.rows.iter().map(|r| r.request_id.as_str()).collect();
        ids.sort_unstable();
        assert_eq!(ids, ["b1", "b2"]);

        // A rebuild keeps the cap's choices.
        let before = db.store.derived_snapshot().await.unwrap();
        db.store.rebuild_rollups(|_, _| {}).await.unwrap();
        let after = db.store.derived_snapshot().await.unwrap();
        assert_eq!(before["rollup_error"], after["rollup_error"]);
        assert_eq!(before["error_group"], after["error_group"]);
    }
);

storage_test!(
    retention_prunes_old_error_rollups_and_groups,
    |db| async move {
        let now = chrono::Utc::now().timestamp_millis();
        let cutoff = now - 30 * DAY;
        let failed = |id: &str, t: i64, message: &str| {
            let mut r = request(id, t, 500);
            r.error = Some(message.into());
            r
        };
        db.store
            .record_requests(&[
                failed("ancient", now - 200 * DAY, "disk full on node 7"),
                failed("old", cutoff - 2 * DAY, "timeout after 3 s"),
                failed("recent", now - HOUR, "timeout after 9 s"),
            ])
            .await
            .unwrap();
        let options = PruneOptions {
            batch_rows: 2,
            pause: std::time::Duration::ZERO,
        };
        let report = retention::prune(&db.store, cutoff, options).await.unwrap();
        // Hourly rows before the cutoff (ancient, old); daily rows before the 3-month
        // range's previous period (ancient); and the group nothing counts any more.
        assert_eq!(
            (report.error_rollups, report.error_groups),
            (3, 1),
            "{report:?}"
        );
        let mut conn = db.connection().await;
        let groups: Vec<String> = sqlx::query("SELECT pattern FROM error_group ORDER BY pattern")
            .fetch_all(&mut conn)
            .await
            .unwrap()
            .iter()
            .map(|r| r.get(0))
            .collect();
        assert_eq!(groups, ["timeout after <n> s"]);
        drop(conn);
        for what in [
            Prunable::HourlyErrorRollups,
            Prunable::DailyErrorRollups,
            Prunable::ErrorGroups,
        ] {
            let before = retention::pruned_before(what, cutoff, now);
            assert_eq!(
                db.store.count_before(what, before).await.unwrap(),
                0,
                "{what:?}"
            );
        }
    }
);

/// A database at migration 0012 with failed requests stored before 0013: migrating
/// groups them (through the ingest's code), once, as a rebuild would.
async fn migration_0013_groups_what_came_before(backend: Backend) {
    let db = TestDb::migrated_before(backend, 13).await;
    let mut conn = db.connection().await;
    let t = 1_767_225_600_000 + 90 * MIN; // 01:30 on a UTC day
    for (id, kind, status, error) in [
        (
            "r1",
            "api",
            504,
            Some("timeout after 3012 ms for user 'bob'"),
        ),
        ("r2", "api", 504, Some("timeout after 15 ms for user 'al'")),
        ("r3", "api", 502, None),
        ("r4", "api", 200, None),
        ("x1", "external", 500, Some("boom")),
    ] {
        sqlx::query(
            "INSERT INTO request_log (request_id, created_at, kind, endpoint, method, status_code, \
             latency_ms, error) VALUES ($1, $2, $3, '/v1/chat', 'POST', $4, 10.0, $5)",
        )
        .bind(id)
        .bind(t)
        .bind(kind)
        .bind(status)
        .bind(error)
        .execute(&mut conn)
        .await
        .unwrap();
    }
    drop(conn);

    db.store.migrate().await.unwrap();
    let migrated = db.store.derived_snapshot().await.unwrap();
    let (timeout, bad_gateway) = (fingerprint(TIMEOUT), fingerprint(&status_key(502)));
    let day = t - t % DAY;
    assert_eq!(
        migrated["rollup_error"]
            .iter()
            .filter(|r| r.starts_with("86400000|"))
            .cloned()
            .collect::<Vec<_>>(),
        {
            let mut rows = [
                format!("86400000|{day}|{timeout}|/v1/chat|504|2|{t}|{t}"),
                format!("86400000|{day}|{bad_gateway}|/v1/chat|502|1|{t}|{t}"),
            ];
            rows.sort();
            rows
        }
    );
    assert_eq!(migrated["error_group"].len(), 2);
    // Migrating again does nothing more, and a rebuild makes the same tables.
    db.store.migrate().await.unwrap();
    assert_eq!(db.store.derived_snapshot().await.unwrap(), migrated);
    db.store.rebuild_rollups(|_, _| {}).await.unwrap();
    let rebuilt = db.store.derived_snapshot().await.unwrap();
    for table in ["rollup_error", "error_group"] {
        assert_eq!(
            migrated[table], rebuilt[table],
            "{table} differs from a rebuild"
        );
    }
    db.drop_database().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn migration_0013_on_sqlite() {
    migration_0013_groups_what_came_before(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn migration_0013_on_postgres() {
    migration_0013_groups_what_came_before(Backend::Postgres).await;
}
