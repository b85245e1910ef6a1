//! Fresh databases for tests: a SQLite file in a temporary folder, or a PostgreSQL
//! database created for the test on the server named by `SIGHTLINE_TEST_POSTGRES_URL`
//! (default: the local server, trust auth) and dropped afterwards.

use std::sync::atomic::{AtomicU32, Ordering};

use sightline::store::Store;
use sqlx::{Connection, Executor, PgConnection};

const DEFAULT_POSTGRES_URL: &str = "postgres://postgres@127.0.0.1:5432/postgres";

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// A migrated database that exists for one test.
pub struct TestDb {
    pub url: String,
    pub store: Store,
    backend: Backend,
    pg_name: Option<String>,
    _dir: Option<tempfile::TempDir>,
}

/// The server that holds the test databases (its maintenance database).
pub fn postgres_admin_url() -> String {
    std::env::var("SIGHTLINE_TEST_POSTGRES_URL").unwrap_or_else(|_| DEFAULT_POSTGRES_URL.into())
}

fn unique_pg_name() -> String {
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    format!(
        "sightline_test_{}_{}_{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed),
        nanos
    )
}

/// The URL of database `name` on the same server as `admin_url`.
fn with_database(admin_url: &str, name: &str) -> String {
    let mut url = url::Url::parse(admin_url).expect("SIGHTLINE_TEST_POSTGRES_URL is a URL");
    url.set_path(name);
    url.to_string()
}

impl TestDb {
    /// A fresh, empty, migrated database.
    pub async fn new(backend: Backend) -> TestDb {
        let db = TestDb::unmigrated(backend).await;
        db.store.migrate().await.expect("migrations apply");
        db
    }

    /// A fresh database without Sightline's tables (for the server to migrate itself).
    pub async fn unmigrated(backend: Backend) -> TestDb {
        match backend {
            Backend::Sqlite => {
                let dir = tempfile::tempdir().expect("temporary folder");
                let url = format!("sqlite://{}", dir.path().join("sightline.db").display());
                let store = Store::connect(&url).await.expect("SQLite opens");
                TestDb {
                    url,
                    store,
                    backend,
                    pg_name: None,
                    _dir: Some(dir),
                }
            }
            Backend::Postgres => {
                let admin = postgres_admin_url();
                let name = unique_pg_name();
                let mut conn = PgConnection::connect(&admin).await.unwrap_or_else(|e| {
                    panic!(
                        "PostgreSQL for tests is not reachable at {admin} ({e}); start it or set \
                         SIGHTLINE_TEST_POSTGRES_URL"
                    )
                });
                conn.execute(format!("CREATE DATABASE {name}").as_str())
                    .await
                    .expect("test database is created");
                conn.close().await.ok();
                let url = with_database(&admin, &name);
                let store = Store::connect(&url).await.expect("PostgreSQL opens");
                TestDb {
                    url,
                    store,
                    backend,
                    pg_name: Some(name),
                    _dir: None,
                }
            }
        }
    }

    /// A fresh database at the migrations before `version` (to test what a later
    /// migration does with the rows an older Sightline stored).
    pub async fn migrated_before(backend: Backend, version: i64) -> TestDb {
        let db = TestDb::unmigrated(backend).await;
        let mut migrator = match backend {
            Backend::Sqlite => sqlx::migrate!("migrations/sqlite"),
            Backend::Postgres => sqlx::migrate!("migrations/postgres"),
        };
        migrator.migrations = migrator
            .migrations
            .iter()
            .filter(|m| m.version < version)
            .cloned()
            .collect::<Vec<_>>()
            .into();
        let mut conn = db.connection().await;
        migrator
            .run(&mut conn)
            .await
            .expect("the older migrations run");
        conn.close().await.ok();
        db
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// A connection of its own, for reading tables directly in assertions.
    pub async fn connection(&self) -> sqlx::AnyConnection {
        sqlx::AnyConnection::connect(&self.url)
            .await
            .expect("the test database opens")
    }

    /// Closes the pool and removes the database (the SQLite folder goes with `self`).
    pub async fn drop_database(self) {
        self.store.close().await;
        if let Some(name) = &self.pg_name
            && let Ok(mut conn) = PgConnection::connect(&postgres_admin_url()).await
        {
            let _ = conn
                .execute(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)").as_str())
                .await;
            conn.close().await.ok();
        }
    }
}

/// The database's write lock, held from another connection until released.
pub struct WriteLock {
    sqlite: Option<sqlx::SqliteConnection>,
    postgres: Option<PgConnection>,
}

impl TestDb {
    /// Takes the write lock Sightline's writer needs (SQLite: an immediate transaction;
    /// PostgreSQL: the writer's advisory lock), so its writes wait.
    pub async fn hold_write_lock(&self) -> WriteLock {
        match self.backend {
            Backend::Sqlite => {
                let mut conn = sqlx::SqliteConnection::connect(&self.url)
                    .await
                    .expect("SQLite opens");
                conn.execute("BEGIN IMMEDIATE").await.expect("write lock");
                WriteLock {
                    sqlite: Some(conn),
                    postgres: None,
                }
            }
            Backend::Postgres => {
                let mut conn = PgConnection::connect(&self.url)
                    .await
                    .expect("PostgreSQL opens");
                conn.execute(
                    format!("SELECT pg_advisory_lock({})", sightline::store::WRITER_LOCK).as_str(),
                )
                .await
                .expect("advisory lock");
                WriteLock {
                    sqlite: None,
                    postgres: Some(conn),
                }
            }
        }
    }
}

impl WriteLock {
    pub async fn release(self) {
        if let Some(mut c) = self.sqlite {
            c.execute("ROLLBACK").await.expect("unlock");
            c.close().await.ok();
        }
        if let Some(c) = self.postgres {
            c.close().await.ok();
        }
    }
}
