use std::str::FromStr;
use std::time::Duration;

use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::migrate::Migrator;
use sqlx::{ConnectOptions, Executor};

use super::Store;

static SQLITE_MIGRATIONS: Migrator = sqlx::migrate!("migrations/sqlite");
static POSTGRES_MIGRATIONS: Migrator = sqlx::migrate!("migrations/postgres");

/// The two databases Sightline runs on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DbKind {
    Sqlite,
    Postgres,
}

impl DbKind {
    /// The database behind an open connection.
    pub(super) fn of(conn: &sqlx::AnyConnection) -> DbKind {
        if conn.backend_name() == "SQLite" {
            DbKind::Sqlite
        } else {
            DbKind::Postgres
        }
    }

    /// Tells the database from the scheme of its URL.
    pub fn from_url(url: &str) -> Option<Self> {
        let scheme = url.split_once(':')?.0;
        match scheme {
            "sqlite" => Some(DbKind::Sqlite),
            "postgres" | "postgresql" => Some(DbKind::Postgres),
            _ => None,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("unsupported database URL `{0}`: use sqlite://PATH or postgres://USER@HOST:PORT/DB")]
    UnsupportedUrl(String),
    #[error("cannot open database {url}: {source}")]
    Connect { url: String, source: sqlx::Error },
    #[error("cannot migrate the database: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("database error: {0}")]
    Sql(#[from] sqlx::Error),
}

/// The URL with any password replaced, fit for logs and error messages.
pub fn redact_url(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut parsed) if parsed.password().is_some() => {
            let _ = parsed.set_password(Some("****"));
            parsed.to_string()
        }
        _ => url.to_string(),
    }
}

impl Store {
    /// Opens a pool on `url` and checks that the database answers. A SQLite file is
    /// created if missing and runs in WAL mode, so readers never wait for the writer
    /// and a committed transaction survives a killed process.
    pub async fn connect(url: &str) -> Result<Store, StoreError> {
        sqlx::any::install_default_drivers();
        let kind =
            DbKind::from_url(url).ok_or_else(|| StoreError::UnsupportedUrl(redact_url(url)))?;
        let connect_error = |source| StoreError::Connect {
            url: redact_url(url),
            source,
        };

        let url = match kind {
            DbKind::Sqlite => sqlite_url(url),
            DbKind::Postgres => url.to_string(),
        };
        let options = AnyConnectOptions::from_str(&url)
            .map_err(connect_error)?
            .log_statements(tracing::log::LevelFilter::Trace)
            .log_slow_statements(tracing::log::LevelFilter::Warn, Duration::from_secs(2));

        let pool = AnyPoolOptions::new()
            .max_connections(match kind {
                DbKind::Sqlite => 8,
                DbKind::Postgres => 16,
            })
            .acquire_timeout(Duration::from_secs(10))
            .after_connect(move |conn, _meta| {
                Box::pin(async move {
                    if kind == DbKind::Sqlite {
                        conn.execute(
                            "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA cache_size = -65536; \
                             PRAGMA busy_timeout = 10000; PRAGMA foreign_keys = ON;",
                        )
                        .await?;
                    }
                    Ok(())
                })
            })
            .connect_with(options)
            .await
            .map_err(connect_error)?;
        Ok(Store {
            pool,
            kind,
            ip_anonymize: Default::default(),
        })
    }

    /// Applies the migrations of this database that have not run yet.
    pub async fn migrate(&self) -> Result<(), StoreError> {
        let migrator = match self.kind {
            DbKind::Sqlite => &SQLITE_MIGRATIONS,
            DbKind::Postgres => &POSTGRES_MIGRATIONS,
        };
        migrator.run(&self.pool).await?;
        self.backfill_dimension_latency().await?;
        self.backfill_error_groups().await?;
        Ok(())
    }
}

/// SQLite URLs open read-write and create the file when it does not exist yet.
fn sqlite_url(url: &str) -> String {
    if url.contains("mode=") {
        url.to_string()
    } else if url.contains('?') {
        format!("{url}&mode=rwc")
    } else {
        format!("{url}?mode=rwc")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn database_kind_follows_the_url_scheme() {
        assert_eq!(
            DbKind::from_url("sqlite://sightline.db"),
            Some(DbKind::Sqlite)
        );
        assert_eq!(DbKind::from_url("sqlite::memory:"), Some(DbKind::Sqlite));
        assert_eq!(
            DbKind::from_url("postgres://u@h/db"),
            Some(DbKind::Postgres)
        );
        assert_eq!(
            DbKind::from_url("postgresql://u@h/db"),
            Some(DbKind::Postgres)
        );
        assert_eq!(DbKind::from_url("mysql://u@h/db"), None);
        assert_eq!(DbKind::from_url("sightline.db"), None);
    }

    #[test]
    fn passwords_never_reach_messages() {
        assert_eq!(
            redact_url("postgres://app:s3cret@db:5432/sl"),
            "postgres://app:****@db:5432/sl"
        );
        assert_eq!(redact_url("sqlite://sightline.db"), "sqlite://sightline.db");
    }

    #[test]
    fn sqlite_files_are_created_when_missing() {
        assert_eq!(sqlite_url("sqlite://a.db"), "sqlite://a.db?mode=rwc");
        assert_eq!(
            sqlite_url("sqlite://a.db?cache=shared"),
            "sqlite://a.db?cache=shared&mode=rwc"
        );
        assert_eq!(sqlite_url("sqlite://a.db?mode=ro"), "sqlite://a.db?mode=ro");
    }
}
