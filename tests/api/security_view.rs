//! The security view over real HTTP on both databases: `GET /api/v1/security` gives the
//! fixture's exact counts per bucket and type, failure rate, top lists and daily figures,
//! for each filter; `auth_events.csv` has the exact header and rows; the page renders;
//! and `rollup_auth` kept at ingest equals a recomputation from the raw rows.

use crate::common;

use common::api::{error_of, get, get_json, get_text, key, pick};
use common::fixture::now_ms;
use common::{Backend, Browser, PASSWORD, TestDb, TestServer, account};
use serde_json::{Value, json};
use sightline::store::{AuthSource, Buckets, NewAuthEvent, Scope};
use sightline_app::auth::Role;
use sightline_app::time::{DAY_MS, HOUR_MS, floor_ms};
use sightline_app::units::EpochMillis;
use sightline_tracker::wire::AuthEventType;

const MIN: i64 = 60_000;

fn auth(t: i64, event_type: &str, user: Option<&str>, ip: &str, success: Option<bool>) -> Value {
    let mut e = json!({"event_type": event_type, "ip": ip, "timestamp": t});
    if let Some(u) = user {
        e["user_id"] = json!(u);
    }
    if let Some(s) = success {
        e["success"] = json!(s);
    }
    e
}

/// The hours of the fixture: `a` and `b` inside the 24-hour range, `p` in the period
/// before it.
struct Hours {
    a: i64,
    b: i64,
    p: i64,
}

/// Nine events in two hours of the range, two in the previous period, three threats,
/// and requests of two users (the active users).
async fn seed(server: &TestServer, ingest: &str) -> Hours {
    let h = floor_ms(now_ms(), HOUR_MS);
    let hours = Hours {
        a: h - 2 * HOUR_MS,
        b: h - HOUR_MS,
        p: h - 30 * HOUR_MS,
    };
    let (a, b, p) = (hours.a, hours.b, hours.p);
    let events = vec![
        auth(a + MIN, "signup", Some("u-new"), "10.0.0.1", None),
        auth(a + 2 * MIN, "login", Some("alice"), "10.0.0.1", None),
        auth(a + 3 * MIN, "login_failed", Some("alice"), "10.0.0.9", None),
        auth(a + 4 * MIN, "login_failed", Some("bob"), "10.0.0.9", None),
        auth(a + 5 * MIN, "login_failed", None, "10.0.0.9", None),
        auth(b + MIN, "login_failed", Some("bob"), "10.0.0.2", None),
        auth(
            b + 2 * MIN,
            "password_reset",
            Some("bob"),
            "10.0.0.2",
            Some(false),
        ),
        auth(
            b + 3 * MIN,
            "token_refresh",
            Some("alice"),
            "10.0.0.1",
            None,
        ),
        auth(b + 4 * MIN, "logout", Some("alice"), "10.0.0.1", None),
        auth(p + MIN, "login_failed", Some("carol"), "10.0.0.9", None),
        auth(p + 2 * MIN, "login", Some("carol"), "10.0.0.9", None),
    ];
    let threat = |t: i64, kind: &str, ip: &str| json!({"threat_type": kind, "severity": "high", "ip": ip, "timestamp": t, "description": "test"});
    let request = |id: &str, t: i64, user: &str| {
        json!({"request_id": id, "timestamp": t, "endpoint": "/v1/chat", "method": "POST",
            "status_code": 200, "latency_ms": 10.0, "user_id": user})
    };
    let reply = common::api::ingest(
        server,
        ingest,
        &json!({
            "auth_events": events,
            "threats": [
                threat(a + 6 * MIN, "rate_limit", "10.0.0.9"),
                threat(b + 6 * MIN, "xss", "10.0.0.2"),
                threat(p + 3 * MIN, "scanner", "10.0.0.5"),
            ],
            "requests": [
                request("r-1", a + MIN, "alice"),
                request("r-2", b + MIN, "bob"),
                request("r-3", b + 2 * MIN, "alice"),
            ],
        }),
    )
    .await;
    assert_eq!(reply["accepted"], 17, "{reply}");
    // A repeat of the open rate-limit threat of 10.0.0.9 bumps its occurrences.
    common::api::ingest(
        server,
        ingest,
        &json!({"threats": [threat(b + 7 * MIN, "rate_limit", "10.0.0.9")]}),
    )
    .await;
    hours
}

fn bucket(v: &Value, t: i64) -> Value {
    v["buckets"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["t"] == t)
        .cloned()
        .unwrap_or_else(|| panic!("no bucket {t} in {v}"))
}

async fn the_view_shows_the_fixture(backend: Backend) {
    let db = TestDb::unmigrated(backend).await;
    let server = TestServer::start(&db.url);
    let ingest = key(&db, &[Scope::Ingest]).await;
    let read = key(&db, &[Scope::Read]).await;
    let Hours { a, b, p } = seed(&server, &ingest).await;

    let v = get_json(&server, &read, "/api/v1/security?range=24h").await;
    assert_eq!(v["bucket"], "hour");
    assert_eq!(v["buckets"].as_array().unwrap().len(), 24);
    assert_eq!(
        v["summary"],
        json!({
            "current": {"events": 9, "failures": 5, "failureRate": 5.0 / 9.0, "signups": 1, "logins": 1},
            "previous": {"events": 2, "failures": 1, "failureRate": 0.5, "signups": 0, "logins": 1},
        })
    );
    assert_eq!(
        bucket(&v, a),
        json!({"t": a, "signup": 1, "login": 1, "logout": 0, "loginFailed": 3, "tokenRefresh": 0,
            "passwordReset": 0, "failures": 3})
    );
    assert_eq!(
        bucket(&v, b),
        json!({"t": b, "signup": 0, "login": 0, "logout": 1, "loginFailed": 1, "tokenRefresh": 1,
            "passwordReset": 1, "failures": 2})
    );
    let busy: i64 = v["buckets"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["t"] != a && p["t"] != b)
        .map(|p| p["failures"].as_i64().unwrap() + p["login"].as_i64().unwrap())
        .sum();
    assert_eq!(busy, 0, "no other bucket has events");
    assert_eq!(
        v["failingIps"],
        json!([
            {"key": "10.0.0.9", "failures": 3, "lastFailedAt": a + 5 * MIN},
            {"key": "10.0.0.2", "failures": 2, "lastFailedAt": b + 2 * MIN},
        ])
    );
    assert_eq!(
        v["failingUsers"],
        json!([
            {"key": "bob", "failures": 3, "lastFailedAt": b + 2 * MIN},
            {"key": "alice", "failures": 1, "lastFailedAt": a + 3 * MIN},
        ])
    );
    assert_eq!(
        v["threatIps"],
        json!([
            {"ip": "10.0.0.9", "threats": 1, "occurrences": 2, "lastSeenAt": b + 7 * MIN},
            {"ip": "10.0.0.2", "threats": 1, "occurrences": 1, "lastSeenAt": b + 6 * MIN},
        ])
    );
    // The days the range touches: the requests' users and the signup on a's day.
    let today = floor_ms(now_ms(), DAY_MS);
    let days = pick(&v["daily"], &["day", "activeUsers", "signups"]);
    let expected_day = |day: i64| {
        let users = [(a, "alice"), (b, "bob"), (b, "alice")]
            .iter()
            .filter(|(t, _)| floor_ms(*t, DAY_MS) == day)
            .map(|(_, u)| *u)
            .collect::<std::collections::BTreeSet<_>>()
            .len();
        json!([day, users, i64::from(floor_ms(a, DAY_MS) == day)])
    };
    let first = floor_ms(v["start"].as_i64().unwrap(), DAY_MS);
    let expected: Vec<Value> = std::iter::successors(Some(first), |d| Some(d + DAY_MS))
        .take_while(|d| *d <= today)
        .map(expected_day)
        .collect();
    assert_eq!(days, json!(expected));

    // Narrowed to an IP: raw rows, same shape.
    let v = get_json(&server, &read, "/api/v1/security?range=24h&ip=10.0.0.9").await;
    assert_eq!(v["summary"]["current"]["events"], 3);
    assert_eq!(v["summary"]["current"]["failures"], 3);
    assert_eq!(v["summary"]["previous"]["events"], 2);
    assert_eq!(bucket(&v, a)["loginFailed"], 3);
    assert_eq!(
        pick(&v["failingUsers"], &["key", "failures"]),
        json!([["alice", 1], ["bob", 1]])
    );
    assert_eq!(pick(&v["threatIps"], &["ip"]), json!([["10.0.0.9"]]));
    assert_eq!(v["filter"]["ip"], "10.0.0.9");

    // Narrowed to a type (the rollup), and to a user and a type (raw rows).
    let v = get_json(
        &server,
        &read,
        "/api/v1/security?range=24h&type=login_failed",
    )
    .await;
    assert_eq!(v["summary"]["current"]["events"], 4);
    assert_eq!(v["summary"]["current"]["failureRate"], 1.0);
    assert_eq!(bucket(&v, b)["passwordReset"], 0);
    let v = get_json(
        &server,
        &read,
        "/api/v1/security?range=24h&type=login_failed&user=bob",
    )
    .await;
    assert_eq!(v["summary"]["current"]["events"], 2);
    assert_eq!(
        pick(&v["failingIps"], &["key", "failures"]),
        json!([["10.0.0.2", 1], ["10.0.0.9", 1]])
    );
    // 7 days: the previous period's events fall inside.
    let v = get_json(&server, &read, "/api/v1/security?range=7d").await;
    assert_eq!(v["summary"]["current"]["events"], 11);
    assert_eq!(bucket(&v, p)["loginFailed"], 1);

    // Bad input names the field.
    for (query, message) in [
        ("type=sudo", "unknown type `sudo`"),
        ("range=1y", "unknown range `1y`"),
        ("range=custom", "a custom range needs start and end"),
    ] {
        let (status, body) = get(&server, &read, &format!("/api/v1/security?{query}")).await;
        assert_eq!(status, 400, "{query}: {body}");
        assert!(error_of(&body).starts_with(message), "{query}: {body}");
    }
    let (status, _) = get(&server, &ingest, "/api/v1/security").await;
    assert_eq!(status, 403, "an ingest key does not read");

    // The export: exact header and rows, newest first, with the view's filters.
    let csv = get_text(
        &server,
        &read,
        "/api/v1/export/auth_events.csv?range=24h&user=bob",
    )
    .await;
    let rows: Vec<&str> = csv.split("\r\n").collect();
    assert_eq!(
        rows[0],
        "id,created_at,event_type,success,user_id,ip,user_agent,error,metadata"
    );
    let at = sightline_app::format::rfc3339;
    let cells: Vec<String> = rows[1..rows.len() - 1]
        .iter()
        .map(|r| r.split_once(',').unwrap().1.to_owned())
        .collect();
    assert_eq!(
        cells,
        [
            format!(
                "{},password_reset,false,bob,10.0.0.2,,,",
                at(EpochMillis(b + 2 * MIN))
            ),
            format!(
                "{},login_failed,false,bob,10.0.0.2,,,",
                at(EpochMillis(b + MIN))
            ),
            format!(
                "{},login_failed,false,bob,10.0.0.9,,,",
                at(EpochMillis(a + 4 * MIN))
            ),
        ]
    );
    assert_eq!(rows.last(), Some(&""), "the file ends with a line break");
    let all = get_text(&server, &read, "/api/v1/export/auth_events.csv").await;
    assert_eq!(
        all.matches("\r\n").count(),
        1 + 11,
        "every event without a range"
    );
    let typed = get_text(
        &server,
        &read,
        "/api/v1/export/auth_events.csv?range=7d&type=login",
    )
    .await;
    assert_eq!(typed.matches(",login,true,").count(), 2);
    assert_eq!(typed.matches("\r\n").count(), 1 + 2);
    let (status, body) = get(&server, &read, "/api/v1/export/auth_events.csv?type=x").await;
    assert_eq!(
        (status, error_of(&body).starts_with("unknown type `x`")),
        (400, true)
    );

    // The page, for a signed-in admin: figures before hydration, links that drill down.
    account(&db, "vera", Role::Admin).await;
    let mut browser = Browser::new(&server.url(""));
    browser.login("vera", PASSWORD).await;
    let page = browser.get("/security?range=24h&type=login_failed").await;
    assert_eq!(page.status, 200);
    for expected in [
        r#"data-testid="security-failures-value" class="tile-value">4<"#,
        r#"href="/security?range=24h&amp;type=login_failed&amp;ip=10.0.0.9""#,
        r#"href="/security?range=24h&amp;type=login_failed&amp;user=bob""#,
        r#"href="/api/v1/export/auth_events.csv?range=24h&amp;type=login_failed""#,
        r#"href="/security?range=7d&amp;type=login_failed""#,
        "<caption>Auth events per bucket by type, and the failed ones</caption>",
    ] {
        // Without the hydration markers (`<!>`) around dynamic text.
        let body = page.body.replace("<!>", "");
        assert!(body.contains(expected), "{expected} in {body}");
    }
    // The dashboard's card: failures and failure rate of the range.
    let home = browser.get("/?range=24h").await;
    for expected in [
        r#"data-testid="sign-ins-failures-value" class="tile-value">5<"#,
        r#"data-testid="sign-ins-failure-rate-value" class="tile-value">55.6%<"#,
        r#"href="/security?range=24h""#,
    ] {
        assert!(home.body.contains(expected), "{expected} in {}", home.body);
    }
    let empty = browser.get("/security?ip=192.0.2.1").await;
    assert!(empty.body.contains("No auth events in this range."));
    let bad = browser.get("/security?type=sudo").await;
    assert!(bad.body.contains("unknown type `sudo`"), "{}", bad.body);
    // Sightline's own sign-in (recorded in auth_event) is not the platform's.
    let v = get_json(&server, &read, "/api/v1/security?range=24h").await;
    assert_eq!(v["summary"]["current"]["events"], 9);

    // The rollup kept at ingest is the one a rebuild makes from the raw rows.
    let kept = db.store.derived_snapshot().await.unwrap();
    // A row per hour and type (9), and per day and type.
    let typed_days: std::collections::BTreeSet<(i64, &str)> = [
        (a, "signup"),
        (a, "login"),
        (a, "login_failed"),
        (b, "login_failed"),
        (b, "password_reset"),
        (b, "token_refresh"),
        (b, "logout"),
        (p, "login_failed"),
        (p, "login"),
    ]
    .iter()
    .map(|(t, kind)| (floor_ms(*t, DAY_MS), *kind))
    .collect();
    assert_eq!(
        kept["rollup_auth"].len(),
        9 + typed_days.len(),
        "{:?}",
        kept["rollup_auth"]
    );
    db.store.rebuild_rollups(|_, _| {}).await.unwrap();
    assert_eq!(db.store.derived_snapshot().await.unwrap(), kept);
    drop(server);
    db.drop_database().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_view_on_sqlite() {
    the_view_shows_the_fixture(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_view_on_postgres() {
    the_view_shows_the_fixture(Backend::Postgres).await;
}

fn event(t: i64, event_type: AuthEventType, success: bool) -> NewAuthEvent {
    NewAuthEvent {
        created_at: t,
        event_type,
        user_id: Some("u".into()),
        ip: Some("10.0.0.1".into()),
        user_agent: None,
        success,
        error: None,
        metadata: None,
    }
}

storage_test!(the_auth_rollup_equals_a_recount, |db| async move {
    let day = 1_795_305_600_000; // 2026-11-22T00:00Z
    let platform = [
        event(day + 5, AuthEventType::Login, true),
        event(day + 6, AuthEventType::LoginFailed, false),
        event(day + HOUR_MS + 1, AuthEventType::LoginFailed, false),
        event(day + DAY_MS + 1, AuthEventType::Signup, true),
        event(day + DAY_MS + 2, AuthEventType::PasswordReset, false),
    ];
    db.store.record_auth_events(&platform[..2]).await.unwrap();
    db.store.record_auth_events(&platform[2..]).await.unwrap();
    // Sightline's own sign-ins are stored, not counted.
    db.store
        .record_auth_events_from(
            AuthSource::Sightline,
            &[event(day + 7, AuthEventType::Login, true)],
        )
        .await
        .unwrap();
    let kept = db.store.derived_snapshot().await.unwrap()["rollup_auth"].clone();
    let row = |g: i64, t: i64, kind: &str, events: i64, failures: i64| {
        format!("{g}|{t}|{kind}|{events}|{failures}")
    };
    let mut expected = vec![
        row(HOUR_MS, day, "login", 1, 0),
        row(HOUR_MS, day, "login_failed", 1, 1),
        row(HOUR_MS, day + HOUR_MS, "login_failed", 1, 1),
        row(HOUR_MS, day + DAY_MS, "password_reset", 1, 1),
        row(HOUR_MS, day + DAY_MS, "signup", 1, 0),
        row(DAY_MS, day, "login", 1, 0),
        row(DAY_MS, day, "login_failed", 2, 2),
        row(DAY_MS, day + DAY_MS, "password_reset", 1, 1),
        row(DAY_MS, day + DAY_MS, "signup", 1, 0),
    ];
    expected.sort();
    assert_eq!(kept, expected);
    db.store.rebuild_rollups(|_, _| {}).await.unwrap();
    assert_eq!(
        db.store.derived_snapshot().await.unwrap()["rollup_auth"],
        expected
    );
    // The per-bucket reads give the same from the rollup and from the raw rows.
    let rolled = db
        .store
        .auth_bucket_counts(
            &Default::default(),
            Buckets {
                grain: HOUR_MS,
                start: day,
                end: day + 2 * DAY_MS,
            },
        )
        .await
        .unwrap();
    let filter = sightline_app::security::AuthFilter {
        user: Some("u".into()),
        ..Default::default()
    };
    let raw = db
        .store
        .auth_bucket_counts(
            &filter,
            Buckets {
                grain: HOUR_MS,
                start: day,
                end: day + 2 * DAY_MS,
            },
        )
        .await
        .unwrap();
    assert_eq!(rolled, raw);
    assert_eq!(rolled.len(), 5);
    db.store.clear_traffic_data().await.unwrap();
    assert!(db.store.derived_snapshot().await.unwrap()["rollup_auth"].is_empty());
});
