//! Hardening: every instant and range parameter is bounded (issue 15, item 1). An
//! instant outside 1970 ..= a day from now, a range that ends before it starts or spans
//! more than the longest custom range, or a page cursor out of bounds gets a 400 that
//! names the parameter, from the JSON API, the CSV exports and the server functions
//! alike, and the server stays up. (The dashboard URL of the first case killed the
//! process: `end - start` wrapped and the bucket list grew without bound.)

use crate::common;

use common::api::{error_of, get, key};
use common::fixture::now_ms;
use common::{Backend, Browser, PASSWORD, TestDb, TestServer, account};
use sightline::store::Scope;
use sightline_app::auth::Role;

const DAY: i64 = 86_400_000;

const OUT_OF_BOUNDS: &str = "is out of bounds: give an instant from 1970-01-01 to a day from now";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_json_api_and_the_exports_refuse_instants_out_of_bounds() {
    let db = TestDb::new(Backend::Sqlite).await;
    let server = TestServer::start(&db.url);
    let key = key(&db, &[Scope::Read]).await;
    let now = now_ms();
    let far_future = now + 2 * DAY;
    let cases: Vec<(String, String)> = vec![
        // The reported crash.
        (
            "/api/v1/dashboard?range=custom&start=-9223372036854000000&end=1000000".into(),
            format!("start `-9223372036854000000` {OUT_OF_BOUNDS}"),
        ),
        (
            "/api/v1/dashboard?range=custom&start=0&end=9223372036854775807".into(),
            format!("end `9223372036854775807` {OUT_OF_BOUNDS}"),
        ),
        (
            format!(
                "/api/v1/dashboard?range=custom&start={far_future}&end={}",
                far_future + DAY
            ),
            format!("start `{far_future}` {OUT_OF_BOUNDS}"),
        ),
        (
            format!("/api/v1/dashboard?range=custom&start=0&end={now}"),
            "start and end are more than 400 days apart: a custom range spans at most 400 days"
                .into(),
        ),
        (
            format!(
                "/api/v1/dashboard?range=custom&start={}&end={}",
                now - 2 * DAY,
                now - 3 * DAY
            ),
            "end must be after start".into(),
        ),
        (
            "/api/v1/dashboard?range=custom&start=2026-02-30&end=2026-03-02".into(),
            "start `2026-02-30` is not an instant: use epoch milliseconds, a date (YYYY-MM-DD) \
             or an RFC 3339 time"
                .into(),
        ),
        (
            "/api/v1/export/requests.csv?range=all&since=-1".into(),
            format!("since `-1` {OUT_OF_BOUNDS}"),
        ),
        (
            "/api/v1/export/requests.csv?range=all&until=99999999999999999".into(),
            format!("until `99999999999999999` {OUT_OF_BOUNDS}"),
        ),
        (
            "/api/v1/export/requests.csv?range=all&since=2000&until=1000".into(),
            "until must be after since".into(),
        ),
    ];
    for (path, message) in &cases {
        let (status, body) = get(&server, &key, path).await;
        assert_eq!(status, 400, "{path}: {body}");
        assert_eq!(&error_of(&body), message, "{path}");
    }

    // The server is still up, and ranges within the bounds answer.
    let (status, _) = get(&server, &key, "/healthz").await;
    assert_eq!(status, 200);
    let (status, body) = get(
        &server,
        &key,
        "/api/v1/dashboard?range=custom&start=1000&end=3600000",
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let report: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(
        (&report["start"], &report["end"]),
        (&0.into(), &3_600_000.into())
    );
    assert_eq!(report["requests"].as_array().unwrap().len(), 1);
    // A date is an instant for `since` and `until` too (`until` takes the whole day).
    let (status, body) = get(
        &server,
        &key,
        "/api/v1/export/requests.csv?range=all&since=2026-11-20&until=2026-11-20",
    )
    .await;
    assert_eq!(status, 200, "{body}");
    db.drop_database().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_server_functions_and_pages_refuse_instants_out_of_bounds() {
    let db = TestDb::new(Backend::Sqlite).await;
    account(&db, "vera", Role::Viewer).await;
    let server = TestServer::start(&db.url);
    let mut viewer = Browser::new(&server.base_url);
    viewer.login("vera", PASSWORD).await;
    assert!(viewer.signed_in());
    let huge = "99999999999999999";
    let huge_cursor = format!("{huge}_1");
    type Form<'a> = Vec<(&'a str, &'a str)>;
    let cases: [(&str, Form, String); 6] = [
        (
            "/api/ui/dashboard",
            vec![
                ("range", "custom"),
                ("start", "-9223372036854000000"),
                ("end", "1000000"),
            ],
            format!("start `-9223372036854000000` {OUT_OF_BOUNDS}"),
        ),
        (
            "/api/ui/dashboard",
            vec![("range", "custom"), ("start", "0"), ("end", huge)],
            format!("end `{huge}` {OUT_OF_BOUNDS}"),
        ),
        (
            "/api/ui/requests",
            vec![("range", "all"), ("since", "-5")],
            format!("since `-5` {OUT_OF_BOUNDS}"),
        ),
        // Page cursors carry instants too.
        (
            "/api/ui/requests",
            vec![("after", "-9223372036854775808_3")],
            "bad page cursor".into(),
        ),
        (
            "/api/ui/sessions",
            vec![("after", huge_cursor.as_str())],
            "bad page cursor".into(),
        ),
        (
            "/api/ui/threats",
            vec![("state", "all"), ("after", "-1_1")],
            "bad page cursor".into(),
        ),
    ];
    for (path, form, message) in &cases {
        let r = viewer.post_form(path, form).await;
        assert_eq!(r.status.as_u16(), 400, "{path} {form:?}: {}", r.body);
        // A server function's error, as Leptos encodes it.
        assert_eq!(
            r.body.strip_prefix("ServerError|"),
            Some(message.as_str()),
            "{path} {form:?}"
        );
    }

    // The dashboard page renders (a 400) with the error in place of the cards.
    let r = viewer
        .get("/?range=custom&start=-9223372036854000000&end=1000000")
        .await;
    assert_eq!(r.status.as_u16(), 400);
    assert!(
        r.body
            .contains("start `-9223372036854000000` is out of bounds"),
        "{}",
        r.body
    );
    assert_eq!(viewer.get("/healthz").await.status.as_u16(), 200);
    db.drop_database().await;
}
