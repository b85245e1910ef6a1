//! Hardening: the database's own error text never reaches anonymous clients (issue
//! 15, item 10). `/readyz` used to answer "not ready: <driver error>" and a failed
//! sign-in the store's message, SQL and host names included. The detail is logged; the
//! client gets a plain sentence.

use crate::common;

use common::{Backend, Browser, TestDb, TestServer};
use sightline_app::auth::Role;
use sqlx::{Connection, Executor};

/// Words of the database's own text that must not appear in an anonymous reply.
fn assert_plain(body: &str, db: &str) {
    let lower = body.to_ascii_lowercase();
    for leak in [
        "sqlx",
        "sql",
        "error returned from database",
        "no such table",
        "does not exist",
        "pool",
        "connection",
        "127.0.0.1",
        db,
    ] {
        assert!(!lower.contains(leak), "`{leak}` in the reply: {body}");
    }
}

/// SQLite: the accounts' table is gone under the running server.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sign_in_against_a_broken_sqlite_database_answers_plainly() {
    let db = TestDb::new(Backend::Sqlite).await;
    common::account(&db, "admin", Role::Admin).await;
    let server = TestServer::start(&db.url);
    let mut conn = db.connection().await;
    conn.execute("PRAGMA foreign_keys = OFF; DROP TABLE users")
        .await
        .unwrap();
    conn.close().await.unwrap();

    let mut browser = Browser::new(&server.base_url);
    let reply = browser.login("admin", common::PASSWORD).await;
    assert_eq!(reply.status, 503, "{}", reply.body);
    assert_plain(&reply.body, "no such");
    assert!(!browser.signed_in());
    drop(server);
    db.drop_database().await;
}

/// PostgreSQL: the whole database is dropped (its connections ended) under the server.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_vanished_postgres_database_is_reported_plainly() {
    let db = TestDb::new(Backend::Postgres).await;
    common::account(&db, "admin", Role::Admin).await;
    let server = TestServer::start(&db.url);
    let client = reqwest::Client::new();
    assert_eq!(
        client
            .get(server.url("/readyz"))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    let name = url::Url::parse(&db.url)
        .unwrap()
        .path()
        .trim_start_matches('/')
        .to_owned();
    db.store.close().await;
    let mut admin = sqlx::PgConnection::connect(&common::db::postgres_admin_url())
        .await
        .unwrap();
    admin
        .execute(format!("DROP DATABASE {name} WITH (FORCE)").as_str())
        .await
        .unwrap();

    let ready = client.get(server.url("/readyz")).send().await.unwrap();
    assert_eq!(ready.status(), 503);
    let body = ready.text().await.unwrap();
    assert_eq!(body, "not ready: the database does not answer");
    assert_plain(&body, &name);

    let mut browser = Browser::new(&server.base_url);
    let reply = browser.login("admin", common::PASSWORD).await;
    assert!(reply.status.is_server_error(), "{reply:?}");
    assert_plain(&reply.body, &name);
    drop(server);
    admin.close().await.ok();
}
