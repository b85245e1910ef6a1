//! The sessions and users views over real HTTP against the real server, on both
//! databases: their server functions, the pages, a user's detail, and what anonymous
//! visitors get.

use crate::common;

use common::fixture::{now_ms, request};
use common::{Browser, PASSWORD, TestDb, TestServer, account};
use sightline_app::auth::Role;
use sightline_app::sessions::SessionPage;
use sightline_app::units::Micros;
use sightline_app::users::{UserDetail, UserPage};

/// `user-1`: three requests of the last minutes in one inferred session, one a 502;
/// `user 2`: one request two days ago in the client-given session `s/2`.
async fn seed(db: &TestDb) -> i64 {
    let now = now_ms();
    let mut old = request("req-old", now - 2 * 86_400_000, 200);
    old.user_id = Some("user 2".into());
    old.session_id = Some("s/2".into());
    old.cost_micros = Micros(1_500_000);
    db.store
        .record_requests(&[
            old,
            request("req-a", now - 180_000, 200),
            request("req-b", now - 120_000, 200),
            request("req-c", now - 60_000, 502),
        ])
        .await
        .unwrap();
    now
}

fn session_keys(body: &str) -> Vec<String> {
    let page: SessionPage = serde_json::from_str(body).unwrap();
    page.rows
        .into_iter()
        .map(|r| r.session.session_key)
        .collect()
}

fn user_ids(body: &str) -> Vec<String> {
    let page: UserPage = serde_json::from_str(body).unwrap();
    page.rows.into_iter().map(|r| r.user_id).collect()
}

storage_test!(anonymous_visitors_get_nothing, |db| async move {
    seed(db).await;
    let server = TestServer::start(&db.url);
    let mut browser = Browser::new(&server.base_url);
    for (path, next) in [
        ("/sessions", "%2Fsessions"),
        ("/users", "%2Fusers"),
        ("/users/user-1", "%2Fusers%2Fuser-1"),
    ] {
        let r = browser.get(path).await;
        assert_eq!(
            (r.status.as_u16(), r.location.as_deref()),
            (303, Some(format!("/login?next={next}").as_str())),
            "{path}"
        );
    }
    for (path, form) in [
        ("/api/ui/sessions", vec![]),
        ("/api/ui/users", vec![]),
        ("/api/ui/user", vec![("user_id", "user-1")]),
    ] {
        let r = browser.post_form(path, &form).await;
        assert_eq!(
            (r.status.as_u16(), r.body.as_str()),
            (401, "sign in first"),
            "{path}"
        );
    }
});

storage_test!(viewers_see_sessions_and_users, |db| async move {
    let now = seed(db).await;
    account(db, "vera", Role::Viewer).await;
    let server = TestServer::start(&db.url);
    let mut viewer = Browser::new(&server.base_url);
    viewer.login("vera", PASSWORD).await;
    assert!(viewer.signed_in());

    // Sessions: the last 24 hours by default, newest first.
    let inferred = format!("user-1@{}", now - 180_000);
    let r = viewer.post_form("/api/ui/sessions", &[]).await;
    assert_eq!(r.status.as_u16(), 200, "{}", r.body);
    assert_eq!(session_keys(&r.body), vec![inferred.clone()]);
    let r = viewer
        .post_form("/api/ui/sessions", &[("range", "all")])
        .await;
    assert_eq!(session_keys(&r.body), [inferred.as_str(), "s/2"]);
    let r = viewer
        .post_form("/api/ui/sessions", &[("range", "all"), ("user", "user 2")])
        .await;
    assert_eq!(session_keys(&r.body), ["s/2"]);
    let r = viewer
        .post_form("/api/ui/sessions", &[("range", "1y")])
        .await;
    assert_eq!(r.status.as_u16(), 400);
    assert!(r.body.contains("unknown range `1y`"), "{}", r.body);

    // Users: by cost by default, or by last seen.
    let r = viewer.post_form("/api/ui/users", &[]).await;
    assert_eq!(r.status.as_u16(), 200, "{}", r.body);
    assert_eq!(user_ids(&r.body), ["user 2", "user-1"]);
    let r = viewer
        .post_form("/api/ui/users", &[("sort", "last_seen")])
        .await;
    assert_eq!(user_ids(&r.body), ["user-1", "user 2"]);
    let r = viewer
        .post_form("/api/ui/users", &[("search", "ER-")])
        .await;
    assert_eq!(user_ids(&r.body), ["user-1"]);
    let r = viewer.post_form("/api/ui/users", &[("sort", "name")]).await;
    assert_eq!(r.status.as_u16(), 400);
    assert!(r.body.contains("unknown sort `name`"), "{}", r.body);

    let r = viewer
        .post_form("/api/ui/user", &[("user_id", "user-1")])
        .await;
    assert_eq!(r.status.as_u16(), 200, "{}", r.body);
    let detail: UserDetail = serde_json::from_str(&r.body).unwrap();
    assert_eq!(
        (
            detail.user.requests,
            detail.user.errors,
            detail.user.tokens,
            detail.user.cost_micros.micros()
        ),
        (3, 1, 450, 135)
    );
    assert_eq!(detail.sessions.len(), 1);
    assert_eq!(detail.sessions[0].session.session_key, inferred);
    let r = viewer
        .post_form("/api/ui/user", &[("user_id", "nobody")])
        .await;
    assert_eq!(r.status.as_u16(), 404);

    // The pages render on the server, with their links.
    let r = viewer.get("/sessions?range=all").await;
    assert_eq!(r.status.as_u16(), 200);
    assert!(r.body.contains("2 shown"), "{}", r.body);
    assert!(r.body.contains(r#"href="/users/user%202""#), "{}", r.body);
    // A client-given session's requests are its session id's; an inferred one's are
    // its user's within its span.
    assert!(
        r.body
            .contains("/requests?range=all&amp;session=s%2F2&amp;since="),
        "{}",
        r.body
    );
    assert!(
        r.body.contains(&format!(
            "/requests?range=all&amp;user=user-1&amp;since={}&amp;until={}",
            now - 180_000,
            now - 60_000 + 1
        )),
        "{}",
        r.body
    );
    assert!(
        r.body
            .contains(r#"href="/api/v1/export/sessions.csv?range=all""#),
        "{}",
        r.body
    );
    let r = viewer.get("/sessions").await;
    assert!(
        r.body
            .contains(r#"href="/api/v1/export/sessions.csv?range=24h""#),
        "{}",
        r.body
    );
    let r = viewer.get("/users").await;
    assert_eq!(r.status.as_u16(), 200);
    assert!(r.body.contains(r#"href="/users/user-1""#), "{}", r.body);
    assert!(r.body.contains("$1.50"), "{}", r.body);

    let r = viewer.get("/users/user-1").await;
    assert_eq!(r.status.as_u16(), 200);
    assert!(
        r.body.contains(r#"data-testid="user-requests">3<"#),
        "{}",
        r.body
    );
    assert!(
        r.body.contains(r#"data-testid="user-cost">$0.000135<"#),
        "{}",
        r.body
    );
    assert!(r.body.contains("1 (33.3%)"), "{}", r.body);
    assert!(
        r.body
            .contains(r#"href="/requests?user=user-1&amp;range=all""#),
        "{}",
        r.body
    );
    assert!(
        r.body
            .contains(r#"href="/sessions?user=user-1&amp;range=all""#),
        "{}",
        r.body
    );
    let r = viewer.get("/users/user%202").await;
    assert_eq!(r.status.as_u16(), 200);
    assert!(
        r.body.contains(r#"data-testid="user-cost">$1.50<"#),
        "{}",
        r.body
    );
    let r = viewer.get("/users/nobody").await;
    assert_eq!(r.status.as_u16(), 404);
    assert!(r.body.contains("no user with id `nobody`"), "{}", r.body);

    // The drill-down's filter: the session's requests in the explorer.
    let r = viewer
        .post_form("/api/ui/requests", &[("range", "all"), ("session", "s/2")])
        .await;
    assert_eq!(r.status.as_u16(), 200, "{}", r.body);
    let page: sightline_app::requests::RequestPage = serde_json::from_str(&r.body).unwrap();
    let ids: Vec<_> = page.rows.into_iter().map(|r| r.request_id).collect();
    assert_eq!(ids, ["req-old"]);
});
