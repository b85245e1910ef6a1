//! The requests explorer and a request's detail over real HTTP against the real server,
//! on both databases: pages of requests, the detail page, and rating a request.

use crate::common;

use common::fixture::{now_ms, request};
use common::{Browser, PASSWORD, TestDb, TestServer, account};
use sightline_app::auth::Role;
use sightline_app::requests::{RequestDetail, RequestPage};
use sqlx::Row;

/// The changed rating's comment, trimmed: markup that must stay text.
const CHANGED: &str = "too slow</textarea><b>x</b>";

/// Three requests of the last minutes (`req-a` oldest, `req-c` a 502) and one from
/// two days ago (outside the default 24 hours).
async fn seed(db: &TestDb) {
    let now = now_ms();
    let mut old = request("req-old", now - 2 * 86_400_000, 200);
    old.user_id = None;
    let mut c = request("req-c", now - 60_000, 502);
    c.error = Some("<script>alert(1)</script> upstream".into());
    db.store
        .record_requests(&[
            old,
            request("req-a", now - 180_000, 200),
            request("req-b", now - 120_000, 200),
            c,
        ])
        .await
        .unwrap();
}

/// The stored ratings of `req-a`: (user_id, rating, comment).
async fn ratings(db: &TestDb) -> Vec<(String, i32, Option<String>)> {
    let rows = sqlx::query(
        "SELECT user_id, rating, comment FROM feedback_log WHERE request_id = 'req-a' ORDER BY id",
    )
    .fetch_all(&mut db.connection().await)
    .await
    .unwrap();
    rows.iter()
        .map(|r| (r.get(0), r.get(1), r.get(2)))
        .collect()
}

/// The feedback rollup's count of `rating`, over every hourly bucket.
async fn rolled_up(db: &TestDb, rating: i32) -> i64 {
    sqlx::query_scalar(
        "SELECT CAST(COALESCE(SUM(ratings), 0) AS BIGINT) FROM rollup_feedback \
         WHERE rating = $1 AND bucket_ms = $2",
    )
    .bind(rating)
    .bind(sightline_app::time::HOUR_MS)
    .fetch_one(&mut db.connection().await)
    .await
    .unwrap()
}

/// The HTML tag that holds `marker`.
fn tag<'a>(html: &'a str, marker: &str) -> &'a str {
    let at = html
        .find(marker)
        .unwrap_or_else(|| panic!("no {marker} in {html}"));
    let start = html[..at].rfind('<').unwrap();
    let end = at + html[at..].find('>').unwrap();
    &html[start..=end]
}

fn page_ids(body: &str) -> Vec<String> {
    let page: RequestPage = serde_json::from_str(body).unwrap();
    page.rows.into_iter().map(|r| r.request_id).collect()
}

storage_test!(anonymous_visitors_get_nothing, |db| async move {
    seed(db).await;
    let server = TestServer::start(&db.url);
    let mut browser = Browser::new(&server.base_url);
    let r = browser.get("/requests").await;
    assert_eq!(
        (r.status.as_u16(), r.location.as_deref()),
        (303, Some("/login?next=%2Frequests"))
    );
    let r = browser.get("/requests/req-a").await;
    assert_eq!(r.status.as_u16(), 303);
    for (path, form) in [
        ("/api/ui/requests", vec![]),
        ("/api/ui/request", vec![("request_id", "req-a")]),
        (
            "/api/ui/rate_request",
            vec![("request_id", "req-a"), ("rating", "5")],
        ),
    ] {
        let r = browser.post_form(path, &form).await;
        assert_eq!(
            (r.status.as_u16(), r.body.as_str()),
            (401, "sign in first"),
            "{path}"
        );
    }
    assert!(ratings(db).await.is_empty());
});

storage_test!(viewers_explore_requests, |db| async move {
    seed(db).await;
    account(db, "vera", Role::Viewer).await;
    let server = TestServer::start(&db.url);
    let mut viewer = Browser::new(&server.base_url);
    viewer.login("vera", PASSWORD).await;
    assert!(viewer.signed_in());

    // The last 24 hours by default, newest first.
    let r = viewer.post_form("/api/ui/requests", &[]).await;
    assert_eq!(r.status.as_u16(), 200, "{}", r.body);
    assert_eq!(page_ids(&r.body), ["req-c", "req-b", "req-a"]);
    let r = viewer
        .post_form("/api/ui/requests", &[("range", "all")])
        .await;
    assert_eq!(page_ids(&r.body), ["req-c", "req-b", "req-a", "req-old"]);
    let r = viewer
        .post_form(
            "/api/ui/requests",
            &[("status", "errors"), ("text", "UPSTREAM")],
        )
        .await;
    assert_eq!(page_ids(&r.body), ["req-c"]);
    let r = viewer
        .post_form("/api/ui/requests", &[("status", "6xx")])
        .await;
    assert_eq!(r.status.as_u16(), 400);
    assert!(r.body.contains("unknown status class `6xx`"), "{}", r.body);

    // The pages render on the server: the list links to each request's detail.
    let r = viewer.get("/requests?range=all").await;
    assert_eq!(r.status.as_u16(), 200);
    assert!(r.body.contains(r#"href="/requests/req-old""#), "{}", r.body);
    assert!(r.body.contains("4 shown"));
    let r = viewer.get("/requests/req-c").await;
    assert_eq!(r.status.as_u16(), 200);
    assert!(r.body.contains("status-5xx"));
    // User-supplied text is text, never markup.
    assert!(
        r.body
            .contains("&lt;script&gt;alert(1)&lt;/script&gt; upstream")
    );
    assert!(!r.body.contains("<script>alert(1)"));
    let r = viewer.get("/requests/nope").await;
    assert_eq!(r.status.as_u16(), 404);
    assert!(r.body.contains("no request with id `nope`"));

    let r = viewer
        .post_form("/api/ui/request", &[("request_id", "req-a")])
        .await;
    assert_eq!(r.status.as_u16(), 200, "{}", r.body);
    let detail: RequestDetail = serde_json::from_str(&r.body).unwrap();
    assert_eq!(detail.request.request_id, "req-a");
    assert_eq!(detail.request.user_id.as_deref(), Some("user-1"));
    let session = detail
        .session
        .expect("req-a is in user-1's inferred session");
    assert_eq!((session.request_count, session.inferred), (3, true));
    assert_eq!((detail.feedback.len(), detail.my_rating), (0, None));
});

storage_test!(a_viewer_rates_a_request_and_changes_it, |db| async move {
    seed(db).await;
    account(db, "vera", Role::Viewer).await;
    let server = TestServer::start(&db.url);
    let mut viewer = Browser::new(&server.base_url);
    viewer.login("vera", PASSWORD).await;

    let r = viewer
        .post_form(
            "/api/ui/rate_request",
            &[
                ("request_id", "req-a"),
                ("rating", "4"),
                ("comment", "<b>good</b> answer"),
            ],
        )
        .await;
    assert_eq!(r.status.as_u16(), 200, "{}", r.body);
    assert_eq!(
        ratings(db).await,
        [(
            "sightline:vera".to_owned(),
            4,
            Some("<b>good</b> answer".to_owned())
        )]
    );
    assert_eq!((rolled_up(db, 4).await, rolled_up(db, 2).await), (1, 0));

    // Rating again changes the rating: still one row, and its count moves.
    let r = viewer
        .post_form(
            "/api/ui/rate_request",
            &[
                ("request_id", "req-a"),
                ("rating", "2"),
                ("comment", "  too slow</textarea><b>x</b>  "),
            ],
        )
        .await;
    assert_eq!(r.status.as_u16(), 200, "{}", r.body);
    assert_eq!(
        ratings(db).await,
        [("sightline:vera".to_owned(), 2, Some(CHANGED.to_owned()))]
    );
    assert_eq!((rolled_up(db, 4).await, rolled_up(db, 2).await), (0, 1));

    // The detail knows it as the account's own rating.
    let r = viewer
        .post_form("/api/ui/request", &[("request_id", "req-a")])
        .await;
    let detail: RequestDetail = serde_json::from_str(&r.body).unwrap();
    let mine = detail.my_rating.expect("vera's rating");
    assert_eq!((mine.rating, mine.comment.as_deref()), (2, Some(CHANGED)));
    assert_eq!(detail.feedback, [mine]);
    // The page preselects it and lists it, escaped.
    let r = viewer.get("/requests/req-a").await;
    // The stars are a radio group: the account's rating is the checked one.
    for n in 1..=5 {
        let label = if n == 1 {
            "1 star".to_owned()
        } else {
            format!("{n} stars")
        };
        let star = tag(&r.body, &format!(r#"aria-label="{label}""#));
        assert_eq!(star.contains(" checked"), n == 2, "{star}");
    }
    assert!(r.body.contains("vera (dashboard)"));
    assert!(
        r.body
            .contains("too slow&lt;/textarea&gt;&lt;b&gt;x&lt;/b&gt;")
    );
    assert!(!r.body.contains("</textarea><b>"), "{}", r.body);

    // Bad ratings are refused with a reason, and change nothing.
    for (form, status, message) in [
        (
            vec![("request_id", "req-a"), ("rating", "6")],
            400,
            "a rating is 1 to 5 stars, not 6",
        ),
        (
            vec![("request_id", "req-a"), ("rating", "0")],
            400,
            "a rating is 1 to 5 stars, not 0",
        ),
        (
            vec![("request_id", "nope"), ("rating", "3")],
            404,
            "no request with id `nope`",
        ),
    ] {
        let r = viewer.post_form("/api/ui/rate_request", &form).await;
        assert_eq!(r.status.as_u16(), status, "{form:?}: {}", r.body);
        assert!(r.body.contains(message), "{form:?}: {}", r.body);
    }
    let long = "x".repeat(2001);
    let r = viewer
        .post_form(
            "/api/ui/rate_request",
            &[("request_id", "req-a"), ("rating", "5"), ("comment", &long)],
        )
        .await;
    assert_eq!(r.status.as_u16(), 400);
    assert!(r.body.contains("at most 2000"), "{}", r.body);
    assert_eq!(
        ratings(db).await,
        [("sightline:vera".to_owned(), 2, Some(CHANGED.to_owned()))]
    );
    let unknown: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM feedback_log")
        .fetch_one(&mut db.connection().await)
        .await
        .unwrap();
    assert_eq!(unknown, 1);
});
