//! The real server binary on a random port, against each database.

use crate::common;

use std::process::Command;

use common::fixture::{now_ms, request};
use common::{Backend, Browser, TestDb, TestServer};

async fn serves_the_dashboard_from_the_database(backend: Backend) {
    // The server migrates a fresh database itself.
    let db = TestDb::unmigrated(backend).await;
    let server = TestServer::start(&db.url);
    let client = reqwest::Client::new();

    let health = client.get(server.url("/healthz")).send().await.unwrap();
    assert_eq!(health.status(), 200);
    assert_eq!(health.text().await.unwrap(), "ok");
    let ready = client.get(server.url("/readyz")).send().await.unwrap();
    assert_eq!(ready.status(), 200);

    // 7 requests in the last hour, 2 of them failed.
    let now = now_ms();
    let rows: Vec<_> = (0..7)
        .map(|i| {
            request(
                &format!("req-{i}"),
                now - 60_000 - i,
                if i < 2 { 500 } else { 200 },
            )
        })
        .collect();
    db.store.record_requests(&rows).await.unwrap();
    let hash = sightline::auth::password::hash("a long password").await;
    db.store
        .upsert_account("admin", &hash, sightline_app::auth::Role::Admin, 0)
        .await
        .unwrap();
    let mut browser = Browser::new(&server.base_url);
    browser.login("admin", "a long password").await;
    assert!(browser.signed_in());

    // Server-rendered HTML already carries the numbers (readable before hydration).
    let page = browser.get("/").await;
    assert_eq!(page.status, 200);
    let html = page.body;
    assert!(
        html.contains(r#"title="7" data-testid="summary-requests-value""#),
        "{html}"
    );
    assert!(html.contains(r#"id="chart-requests""#), "{html}");
    assert!(html.contains("/vendor/echarts.min.js"));

    // The server function the page calls to refresh.
    let reply = browser
        .post_form("/api/ui/dashboard", &[("range", "24h")])
        .await;
    assert_eq!(reply.status, 200);
    let report: serde_json::Value = serde_json::from_str(&reply.body).unwrap();
    assert_eq!(report["requests"].as_array().unwrap().len(), 24);
    let summary = &report["summary"]["current"];
    assert_eq!(
        (summary["requests"].as_i64(), summary["errors"].as_i64()),
        (Some(7), Some(2))
    );

    // Unknown pages are a real 404.
    let missing = browser.get("/no-such-page").await;
    assert_eq!(missing.status, 404);

    // SIGTERM ends it cleanly.
    assert!(server.terminate().success());
    db.drop_database().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serves_the_dashboard_on_sqlite() {
    serves_the_dashboard_from_the_database(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serves_the_dashboard_on_postgres() {
    serves_the_dashboard_from_the_database(Backend::Postgres).await;
}

/// Runs `sightline migrate` against `url`, returning (status ok, stderr).
fn migrate(url: &str) -> (bool, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_sightline"))
        .arg("migrate")
        .env("SIGHTLINE_DATABASE_URL", url)
        .output()
        .expect("sightline runs");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn a_bad_database_url_is_one_line_and_non_zero() {
    let (ok, stderr) = migrate("mysql://root@localhost/sightline");
    assert!(!ok);
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(
        stderr
            .starts_with("sightline: unsupported database URL `mysql://root@localhost/sightline`"),
        "{stderr}"
    );
}

#[test]
fn an_unreachable_database_is_one_line_and_non_zero() {
    // Nothing listens on port 1; the password must not be shown.
    let (ok, stderr) = migrate("postgres://app:s3cret@127.0.0.1:1/sightline");
    assert!(!ok);
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(
        stderr.starts_with(
            "sightline: cannot open database postgres://app:****@127.0.0.1:1/sightline"
        ),
        "{stderr}"
    );
    assert!(!stderr.contains("s3cret"));
    assert!(!stderr.contains("panicked"));
}

#[test]
fn an_unwritable_sqlite_path_is_one_line_and_non_zero() {
    let (ok, stderr) = migrate("sqlite:///nonexistent-folder/sub/sightline.db");
    assert!(!ok);
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(
        stderr.starts_with(
            "sightline: cannot open database sqlite:///nonexistent-folder/sub/sightline.db"
        ),
        "{stderr}"
    );
}

/// The dashboard's request count for the last 7 days, as the page's server function
/// answers it.
async fn requests_this_week(browser: &mut Browser) -> i64 {
    let reply = browser
        .post_form("/api/ui/dashboard", &[("range", "7d")])
        .await;
    let o: serde_json::Value = serde_json::from_str(&reply.body).unwrap();
    o["summary"]["current"]["requests"].as_i64().unwrap()
}

/// `serve --demo` seeds an empty database, then keeps live traffic flowing.
async fn demo_mode_seeds_and_keeps_traffic_going(backend: Backend) {
    let db = TestDb::unmigrated(backend).await;
    let server = TestServer::start_args(&db.url, &["serve", "--demo", "--demo-days", "1"]);
    // No fixed default password: a generated one is printed for `admin`.
    let line = server
        .printed_line("Sign in at ")
        .expect("serve --demo prints the admin password");
    let prefix = format!(
        "Sign in at {}/login as admin with the password ",
        server.base_url
    );
    let password = line.strip_prefix(&prefix).expect(&line).to_owned();
    assert_eq!(password.len(), 20);
    let mut browser = Browser::new(&server.base_url);
    assert_eq!(browser.login("admin", "admin").await.status, 401);
    browser.login("admin", &password).await;
    assert!(browser.signed_in());
    let seeded = requests_this_week(&mut browser).await;
    assert!(
        seeded > 1_000,
        "a day of demo traffic holds thousands of requests, got {seeded}"
    );
    // Live traffic arrives every few seconds.
    let mut grown = seeded;
    for _ in 0..40 {
        tokio::time::sleep(std::time::Duration::from_millis(500)).await;
        grown = requests_this_week(&mut browser).await;
        if grown > seeded {
            break;
        }
    }
    assert!(
        grown > seeded,
        "live demo traffic did not arrive: {seeded} -> {grown}"
    );
    drop(server);
    db.drop_database().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn demo_mode_on_sqlite() {
    demo_mode_seeds_and_keeps_traffic_going(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn demo_mode_on_postgres() {
    demo_mode_seeds_and_keeps_traffic_going(Backend::Postgres).await;
}
