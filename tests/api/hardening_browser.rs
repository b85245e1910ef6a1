//! Hardening: what the browser is told to enforce, and how long a sign-in lasts (issue
//! 15, item 8). Pages had no Content-Security-Policy and could be framed; the session
//! cookie was never `Secure`; `GET /logout` signed anyone out from any page's link or
//! image; a session used once a week lasted forever; expired sessions stayed in the
//! database.

use crate::common;

use std::str::FromStr;

use common::{Backend, Browser, PASSWORD, TestDb, TestServer, account};
use reqwest::header::HeaderMap;
use sightline::store::WebSessionStore;
use sightline_app::auth::Role;
use tower_sessions::SessionStore;
use tower_sessions::session::{Id, Record};

fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

fn header<'a>(headers: &'a HeaderMap, name: &str) -> &'a str {
    headers
        .get(name)
        .map(|v| v.to_str().unwrap())
        .unwrap_or_else(|| panic!("no {name} header"))
}

/// Signs in as `ana` through the login server function with `extra` headers; the
/// answer's headers.
async fn sign_in(server: &TestServer, extra: &[(&str, &str)]) -> HeaderMap {
    let mut request = client()
        .post(server.url("/api/ui/login"))
        .header("origin", &server.base_url)
        .form(&[("username", "ana"), ("password", PASSWORD), ("next", "/")]);
    for (name, value) in extra {
        request = request.header(*name, *value);
    }
    let reply = request.send().await.unwrap();
    assert!(
        reply.status().is_success() || reply.status().is_redirection(),
        "{reply:?}"
    );
    reply.headers().clone()
}

fn session_cookie(headers: &HeaderMap) -> String {
    headers
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .find(|c| c.starts_with("sightline_session="))
        .expect("a session cookie")
}

fn is_secure(cookie: &str) -> bool {
    cookie
        .split(';')
        .any(|a| a.trim().eq_ignore_ascii_case("secure"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pages_carry_a_nonce_policy_and_nothing_can_frame_them() {
    let db = TestDb::new(Backend::Sqlite).await;
    let server = TestServer::start(&db.url);
    let reply = client().get(server.url("/login")).send().await.unwrap();
    assert_eq!(reply.status(), 200);
    let headers = reply.headers().clone();
    let page = reply.text().await.unwrap();
    let csp = header(&headers, "content-security-policy");
    let nonce = csp
        .split_once("'nonce-")
        .and_then(|(_, rest)| rest.split_once('\''))
        .map(|(n, _)| n.to_owned())
        .unwrap_or_else(|| panic!("no nonce in {csp}"));
    assert!(nonce.len() >= 16, "{nonce}");
    for directive in [
        "default-src 'self'",
        "'wasm-unsafe-eval'",
        "object-src 'none'",
        "base-uri 'self'",
        "frame-ancestors 'none'",
    ] {
        assert!(csp.contains(directive), "{directive} not in {csp}");
    }
    assert!(!csp.contains("'unsafe-eval'") && !csp.contains("script-src 'unsafe-inline'"));
    // Every script of the page is a file of this site or carries the nonce.
    let scripts: Vec<&str> = page.split("<script").skip(1).collect();
    assert!(!scripts.is_empty());
    for script in scripts {
        let tag = script.split('>').next().unwrap();
        assert!(
            tag.contains(" src=\"/") || tag.contains(&format!("nonce=\"{nonce}\"")),
            "a script without the nonce: <script{tag}>"
        );
    }
    // Each page gets a nonce of its own.
    let again = client().get(server.url("/login")).send().await.unwrap();
    assert!(!header(again.headers(), "content-security-policy").contains(&nonce));

    for path in ["/login", "/healthz", "/api/v1/openapi.json"] {
        let reply = client().get(server.url(path)).send().await.unwrap();
        let h = reply.headers();
        assert_eq!(header(h, "x-frame-options"), "DENY", "{path}");
        assert_eq!(header(h, "x-content-type-options"), "nosniff", "{path}");
        assert_eq!(header(h, "referrer-policy"), "same-origin", "{path}");
        assert!(header(h, "content-security-policy").contains("frame-ancestors 'none'"));
        assert!(
            h.get("strict-transport-security").is_none(),
            "plain HTTP: no HSTS"
        );
    }
    let api = client().get(server.url("/healthz")).send().await.unwrap();
    assert_eq!(
        header(api.headers(), "content-security-policy"),
        "default-src 'none'; frame-ancestors 'none'"
    );
    drop(server);
    db.drop_database().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_session_cookie_is_secure_over_https() {
    let db = TestDb::new(Backend::Sqlite).await;
    account(&db, "ana", Role::Admin).await;

    // Plain HTTP: not Secure (the browser would not send it back), no HSTS; a forwarded
    // scheme from a peer that is no trusted proxy counts for nothing.
    let plain = TestServer::start(&db.url);
    for extra in [&[][..], &[("x-forwarded-proto", "https")][..]] {
        let headers = sign_in(&plain, extra).await;
        assert!(!is_secure(&session_cookie(&headers)), "{headers:?}");
        assert!(headers.get("strict-transport-security").is_none());
    }
    drop(plain);

    // Behind a trusted proxy that says the client used HTTPS.
    let proxied = TestServer::start_with(&db.url, &[("SIGHTLINE_TRUSTED_PROXIES", "127.0.0.1")]);
    let headers = sign_in(&proxied, &[("x-forwarded-proto", "https")]).await;
    let cookie = session_cookie(&headers);
    assert!(is_secure(&cookie), "{cookie}");
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax"),
        "{cookie}"
    );
    assert_eq!(
        header(&headers, "strict-transport-security"),
        "max-age=31536000"
    );
    let headers = sign_in(&proxied, &[]).await;
    assert!(!is_secure(&session_cookie(&headers)));
    drop(proxied);

    // A configured https public URL: always.
    let public = TestServer::start_with(
        &db.url,
        &[("SIGHTLINE_PUBLIC_URL", "https://sightline.example.com")],
    );
    let headers = sign_in(&public, &[]).await;
    assert!(is_secure(&session_cookie(&headers)));
    assert_eq!(
        header(&headers, "strict-transport-security"),
        "max-age=31536000"
    );
    drop(public);
    db.drop_database().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sign_out_is_post_only() {
    let db = TestDb::new(Backend::Sqlite).await;
    account(&db, "ana", Role::Admin).await;
    let server = TestServer::start(&db.url);
    let mut browser = Browser::new(&server.base_url);
    browser.login("ana", PASSWORD).await;
    assert!(browser.signed_in());

    let reply = browser.get("/logout").await;
    assert_eq!(reply.status, 405);
    assert_eq!(browser.get("/").await.status, 200, "still signed in");

    let reply = browser.post_form("/logout", &[]).await;
    assert_eq!(
        (reply.status.as_u16(), reply.location.as_deref()),
        (303, Some("/login"))
    );
    assert_eq!(browser.get("/").await.location.as_deref(), Some("/login"));
    drop(server);
    db.drop_database().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sign_in_ends_at_its_absolute_lifetime_however_active() {
    let db = TestDb::new(Backend::Sqlite).await;
    account(&db, "ana", Role::Admin).await;
    let server = TestServer::start_with(&db.url, &[("SIGHTLINE_SESSION_MAX_DAYS", "30")]);
    let mut browser = Browser::new(&server.base_url);
    browser.login("ana", PASSWORD).await;
    assert_eq!(browser.get("/").await.status, 200);

    // The session's deadline is 30 days after the sign-in.
    let cookie = browser.session_cookie().unwrap();
    let id = Id::from_str(cookie.trim_start_matches("sightline_session=")).unwrap();
    let sessions = WebSessionStore::new(db.store.clone());
    let mut record = sessions
        .load(&id)
        .await
        .unwrap()
        .expect("the session is stored");
    let deadline = record.data["expires_at"].as_i64().unwrap();
    let days = (deadline - common::fixture::now_ms()) as f64 / 86_400_000.0;
    assert!((29.99..=30.0).contains(&days), "{days} days");

    // Once it has passed, the session (used a moment ago) signs nobody in.
    record.data.insert(
        "expires_at".into(),
        serde_json::json!(common::fixture::now_ms() - 1),
    );
    sessions.save(&record).await.unwrap();
    assert_eq!(browser.get("/").await.location.as_deref(), Some("/login"));
    assert_eq!(
        browser
            .post_json("/api/ui/whoami", serde_json::json!({}))
            .await
            .body,
        "null"
    );
    drop(server);
    db.drop_database().await;
}

fn record(expires_in: time::Duration) -> Record {
    Record {
        id: Id::default(),
        data: Default::default(),
        expiry_date: time::OffsetDateTime::now_utc() + expires_in,
    }
}

storage_test!(the_hourly_job_deletes_expired_sign_ins, |db| async move {
    let sessions = WebSessionStore::new(db.store.clone());
    let mut old = record(-time::Duration::minutes(1));
    let mut live = record(time::Duration::days(1));
    sessions.create(&mut old).await.unwrap();
    sessions.create(&mut live).await.unwrap();

    sightline::jobs::retention::run_once(&db.store, 3650)
        .await
        .unwrap();

    let mut conn = db.connection().await;
    let left: Vec<String> = sqlx::query_scalar("SELECT id FROM tower_sessions")
        .fetch_all(&mut conn)
        .await
        .unwrap();
    assert_eq!(left, [live.id.to_string()]);
});
