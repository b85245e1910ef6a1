//! The real server binary on a random port, against each database.

mod common;

use std::process::Command;

use common::fixture::{now_ms, request};
use common::{Backend, TestDb, TestServer};

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

    // Server-rendered HTML already carries the numbers (readable before hydration).
    let page = client.get(server.url("/")).send().await.unwrap();
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    assert!(
        html.contains(r#"title="7" data-testid="summary-requests-value""#),
        "{html}"
    );
    assert!(html.contains(r#"id="chart-requests""#), "{html}");
    assert!(html.contains("/vendor/echarts.min.js"));

    // The server function the page calls to refresh.
    let reply = client
        .post(server.url("/api/ui/dashboard"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body("range=24h")
        .send()
        .await
        .unwrap();
    assert_eq!(reply.status(), 200);
    let report: serde_json::Value = reply.json().await.unwrap();
    assert_eq!(report["requests"].as_array().unwrap().len(), 24);
    let summary = &report["summary"]["current"];
    assert_eq!(
        (summary["requests"].as_i64(), summary["errors"].as_i64()),
        (Some(7), Some(2))
    );

    // Unknown pages are a real 404.
    let missing = client
        .get(server.url("/no-such-page"))
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), 404);

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

/// `serve --demo` seeds an empty database, then keeps live traffic flowing.
async fn demo_mode_seeds_and_keeps_traffic_going(backend: Backend) {
    let db = TestDb::unmigrated(backend).await;
    let server = TestServer::start_args(&db.url, &["serve", "--demo", "--demo-days", "1"]);
    let client = reqwest::Client::new();
    let overview = || async {
        let reply = client
            .post(server.url("/api/ui/dashboard"))
            .header("content-type", "application/x-www-form-urlencoded")
            .body("range=7d")
            .send()
            .await
            .unwrap();
        let o: serde_json::Value = reply.json().await.unwrap();
        o["summary"]["current"]["requests"].as_i64().unwrap()
    };
    let seeded = overview().await;
    assert!(
        seeded > 1_000,
        "a day of demo traffic holds thousands of requests, got {seeded}"
    );
    // Live traffic arrives every few seconds.
    let mut grown = seeded;
    for _ in 0..40 {
        tokio::time::sleep(std::time::Duration::from_millis(500)).await;
        grown = overview().await;
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
