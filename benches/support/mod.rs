//! What the benchmarks share: a throw-away database of either kind, and the
//! `SIGHTLINE_BENCH_DATABASES` choice.
#![allow(dead_code)] // each benchmark uses a different part of it

use sqlx::{Connection, Executor, PgConnection};

/// The PostgreSQL server that holds the benchmark databases (its maintenance database).
pub fn admin_url() -> String {
    std::env::var("SIGHTLINE_TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into())
}

/// The backends to run, `SQLite` and `PostgreSQL`, or the one
/// `SIGHTLINE_BENCH_DATABASES=sqlite|postgres` names.
pub fn backends() -> Vec<&'static str> {
    let only = std::env::var("SIGHTLINE_BENCH_DATABASES")
        .unwrap_or_default()
        .to_lowercase();
    ["SQLite", "PostgreSQL"]
        .into_iter()
        .filter(|b| only.is_empty() || b.to_lowercase().starts_with(&only))
        .collect()
}

/// An empty database for one benchmark run: a file `file` in `dir` for SQLite, a new
/// database on [`admin_url`] for PostgreSQL (dropped by [`BenchDb::drop_database`]).
pub struct BenchDb {
    pub url: String,
    pg_name: Option<String>,
}

impl BenchDb {
    pub async fn create(backend: &str, dir: &std::path::Path, file: &str) -> BenchDb {
        if backend == "SQLite" {
            return BenchDb {
                url: format!("sqlite://{}/{file}", dir.display()),
                pg_name: None,
            };
        }
        let name = format!("sightline_bench_{}", rand::random::<u32>());
        let mut c = PgConnection::connect(&admin_url()).await.unwrap();
        c.execute(format!("CREATE DATABASE {name}").as_str())
            .await
            .unwrap();
        let mut u = url::Url::parse(&admin_url()).unwrap();
        u.set_path(&name);
        BenchDb {
            url: u.to_string(),
            pg_name: Some(name),
        }
    }

    pub fn is_postgres(&self) -> bool {
        self.pg_name.is_some()
    }

    pub async fn drop_database(self) {
        if let Some(name) = self.pg_name {
            let mut c = PgConnection::connect(&admin_url()).await.unwrap();
            let _ = c
                .execute(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)").as_str())
                .await;
        }
    }
}
