//! Shared test support: a fresh database of either kind, and the real server binary
//! started on a random port against it.
#![allow(dead_code)] // some helpers serve only tests that are being written

pub mod api;
pub mod browser;
pub mod db;
pub mod fixture;
pub mod mock_provider;
pub mod server;
pub mod webhook;

#[allow(unused_imports)]
pub use browser::Browser;
#[allow(unused_imports)]
pub use db::{Backend, TestDb};
#[allow(unused_imports)]
pub use server::TestServer;

/// Runs a storage test once on SQLite and once on PostgreSQL, each with a fresh,
/// migrated database:
///
/// ```ignore
/// storage_test!(counts_requests, |db| async move { … });
/// ```
macro_rules! storage_test {
    ($name:ident, |$db:ident| $body:expr) => {
        mod $name {
            #[allow(unused_imports)]
            use super::*;

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                let test_db = $crate::common::TestDb::new($crate::common::Backend::Sqlite).await;
                {
                    let $db = &test_db;
                    $body.await;
                }
                test_db.drop_database().await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                let test_db = $crate::common::TestDb::new($crate::common::Backend::Postgres).await;
                {
                    let $db = &test_db;
                    $body.await;
                }
                test_db.drop_database().await;
            }
        }
    };
}

/// The password of every account [`account`] makes.
pub const PASSWORD: &str = "correct horse battery";

/// A dashboard account with [`PASSWORD`], straight into the store.
pub async fn account(db: &TestDb, username: &str, role: sightline_app::auth::Role) {
    let hash = sightline::auth::password::hash(PASSWORD).await;
    db.store
        .upsert_account(username, &hash, role, 0)
        .await
        .unwrap();
}

/// Calls a server function that must succeed (200) and decodes its reply.
pub async fn call<T: serde::de::DeserializeOwned>(
    browser: &mut Browser,
    endpoint: &str,
    form: &[(&str, &str)],
) -> T {
    let r = browser
        .post_form(&format!("/api/ui/{endpoint}"), form)
        .await;
    assert_eq!(r.status.as_u16(), 200, "{endpoint} {form:?}: {}", r.body);
    serde_json::from_str(&r.body).unwrap_or_else(|e| panic!("{endpoint}: {e}: {}", r.body))
}
