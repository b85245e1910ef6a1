//! The store: the one place that talks SQL. Every statement of Sightline lives in a
//! module of this folder (one per table family) and runs unchanged on SQLite and on
//! PostgreSQL through sqlx's `Any` driver: instants are BIGINT epoch milliseconds and
//! money BIGINT micro-dollars, and placeholders are `$N`, which both databases accept.

mod alerts;
mod anonymize;
mod api_keys;
mod audit;
mod auth_events;
mod budgets;
mod connect;
mod dashboard;
mod digests;
mod dimensions;
mod error_groups;
mod error_report;
mod explorer;
mod export;
mod feedback;
mod ingest;
mod latency_backfill;
mod operations;
mod otlp_spans;
mod paging;
mod raw_cards;
mod request_copy;
mod requests;
mod retention;
mod rollups;
mod security;
mod sessions;
mod settings;
mod text_search;
mod threats;
mod users;
mod web_sessions;

use sqlx::{AnyConnection, AnyPool};

pub use alerts::{Alert, AlertState, HourlyCost, NewAlert};
pub use api_keys::{ApiKey, Scope, ScopeError, hash_key};
pub use audit::{AUDIT_EXPORT_COLUMNS, NewAudit};
pub use auth_events::{AuthSource, NewAuthEvent};
pub use budgets::{StoredBudget, UserSpend, UsersAtThreshold};
pub use connect::{DbKind, StoreError, redact_url};
pub use dashboard::{
    Buckets, CountryTotals, LatencyBin, ModelTotals, ModelUsage, QuantileBins, SeverityCount,
    StatusCount, TrafficBucket, UserCost,
};
pub use dimensions::{BinCount, BucketCost, Dimension, DimensionTotals};
pub use error_report::{ErrorGroupPart, ErrorGroupTotals, ErrorPart};
pub use export::{
    AUTH_EVENT_EXPORT_COLUMNS, EXPORT_PAGE_ROWS, FEEDBACK_EXPORT_COLUMNS, REQUEST_EXPORT_COLUMNS,
    SESSION_EXPORT_COLUMNS, THREAT_EXPORT_COLUMNS,
};
pub use feedback::{FeedbackOutcome, NewFeedback};
pub use ingest::{IngestWrite, IngestWritten, Inspected};
pub use operations::{ActivityCounts, RowCounts};
pub use otlp_spans::{NewSpan, SpanRole, SpanUsage, add_usage_to};
pub use raw_cards::{RawBucket, RawCards, RawCountry, RawModel, RawUserCost};
pub use request_copy::{request_copy_binary, request_copy_statement};
pub use requests::{BucketCounts, NewRequest, REQUEST_INSERT_COLUMNS, bind_request};
pub use retention::{Prunable, PruneBatch, PruneCursor, RetentionPolicy};
pub use security::{AuthBucketCount, DayCount, FailingBy, FailingCount, ThreatIpCount};
pub use threats::NewThreat;
pub use users::{Account, AccountRefusal, FailedLogins, credential_stamp};
pub use web_sessions::WebSessionStore;

/// The advisory lock key of the write path ("SIGHTLIN" in ASCII).
pub const WRITER_LOCK: i64 = 0x5349_4748_544c_494e;

/// A handle on Sightline's database; cheap to clone (it wraps a connection pool).
#[derive(Clone, Debug)]
pub struct Store {
    pool: AnyPool,
    kind: DbKind,
    /// How client IPs are stored.
    ip_anonymize: crate::privacy::IpAnonymize,
}

impl Store {
    /// Which database this store runs on.
    pub fn kind(&self) -> DbKind {
        self.kind
    }

    /// Checks that the database answers.
    pub async fn ping(&self) -> Result<(), StoreError> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    /// Opens a write transaction. On PostgreSQL it first takes a transaction-scoped
    /// advisory lock, so writers of several replicas apply their batches one after the
    /// other (session inference reads what the previous batch wrote); SQLite has a
    /// single writer anyway.
    pub(crate) async fn begin_write(
        &self,
    ) -> Result<sqlx::Transaction<'static, sqlx::Any>, StoreError> {
        // SQLite: take the write lock at BEGIN. A deferred transaction that reads first
        // gets SQLITE_BUSY at once (no busy wait) if another connection wrote meanwhile.
        let mut tx = match self.kind {
            DbKind::Sqlite => self.pool.begin_with("BEGIN IMMEDIATE").await?,
            DbKind::Postgres => self.pool.begin().await?,
        };
        if self.kind == DbKind::Postgres {
            sqlx::query("SELECT pg_advisory_xact_lock($1)")
                .bind(WRITER_LOCK)
                .execute(&mut *tx)
                .await?;
        }
        Ok(tx)
    }

    /// Waits for open connections to finish and closes the pool.
    pub async fn close(&self) {
        self.pool.close().await;
    }
}

/// `($1, $2, …), ($k, …)` for a multi-row insert of `rows` rows of `columns` values,
/// bound in that order. On SQLite the placeholders are plain `?`: SQLite looks numbered
/// parameters up by a linear scan, which makes a 10 000-parameter statement 30 times
/// slower to bind; positional `?` are bound in order at no cost.
fn values_placeholders(conn: &AnyConnection, rows: usize, columns: usize) -> String {
    placeholders_for(DbKind::of(conn), rows, columns)
}

fn placeholders_for(kind: DbKind, rows: usize, columns: usize) -> String {
    let mut sql = String::with_capacity(rows * columns * 5);
    for row in 0..rows {
        sql.push_str(if row == 0 { "(" } else { ", (" });
        for col in 0..columns {
            if col > 0 {
                sql.push_str(", ");
            }
            match kind {
                DbKind::Sqlite => sql.push('?'),
                DbKind::Postgres => {
                    sql.push('$');
                    sql.push_str(&(row * columns + col + 1).to_string());
                }
            }
        }
        sql.push(')');
    }
    sql
}

/// Decodes every row with `decode`; the first failure is the error.
fn map_rows<T>(
    rows: &[sqlx::any::AnyRow],
    decode: impl Fn(&sqlx::any::AnyRow) -> Result<T, sqlx::Error>,
) -> Result<Vec<T>, StoreError> {
    rows.iter()
        .map(decode)
        .collect::<Result<_, _>>()
        .map_err(StoreError::from)
}

/// `($k+1, $k+2, …)`: a list of `n` placeholders after the first `k` parameters.
fn placeholder_list(k: usize, n: usize) -> String {
    let items: Vec<String> = (k + 1..=k + n).map(|i| format!("${i}")).collect();
    format!("({})", items.join(", "))
}

/// A value bound into a filter's SQL.
#[derive(Clone, Debug)]
enum Bind {
    Text(String),
    Int(i64),
    Real(f64),
}

/// Binds `binds` in order, after whatever `query` has bound already.
fn bind_all<'q>(
    mut query: sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>>,
    binds: &'q [Bind],
) -> sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>> {
    for b in binds {
        query = match b {
            Bind::Text(s) => query.bind(s.as_str()),
            Bind::Int(i) => query.bind(*i),
            Bind::Real(r) => query.bind(*r),
        };
    }
    query
}

#[cfg(test)]
mod tests {
    use super::DbKind;

    #[test]
    fn placeholders_number_rows_then_columns() {
        assert_eq!(
            super::placeholders_for(DbKind::Postgres, 2, 3),
            "($1, $2, $3), ($4, $5, $6)"
        );
        assert_eq!(super::placeholders_for(DbKind::Postgres, 1, 1), "($1)");
        assert_eq!(
            super::placeholders_for(DbKind::Sqlite, 2, 2),
            "(?, ?), (?, ?)"
        );
        assert_eq!(super::placeholder_list(2, 3), "($3, $4, $5)");
    }
}
