//! Retention: which raw rows are old enough to delete, and deleting them a small batch
//! at a time. Rollups, model stats, sessions, users, threats and feedback are kept;
//! raw `request_log` and `auth_event` rows older than the cutoff go, and so do the
//! `otlp_span` links of trace exports.

use super::{Store, StoreError};

/// How long raw requests are kept, and where that comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RetentionPolicy {
    /// What applies: `setting` if an admin chose one, else `default_days`.
    pub days: u32,
    /// The admin's choice in the settings page, if any.
    pub setting: Option<u32>,
    /// `SIGHTLINE_RETENTION_DAYS` (90 unless set).
    pub default_days: u32,
}

impl RetentionPolicy {
    /// The first instant (epoch ms) that is kept at `now`: older raw rows are pruned.
    pub fn cutoff(&self, now: i64) -> i64 {
        now - i64::from(self.days) * 86_400_000
    }
}

/// The raw tables retention prunes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RawTable {
    Requests,
    AuthEvents,
    /// The span links OTLP exports leave for the parent/child rule.
    TraceSpans,
}

impl RawTable {
    fn name(self) -> &'static str {
        match self {
            RawTable::Requests => "request_log",
            RawTable::AuthEvents => "auth_event",
            RawTable::TraceSpans => "otlp_span",
        }
    }
}

impl Store {
    /// The retention in force: the admin's setting takes precedence over
    /// `default_days` (`SIGHTLINE_RETENTION_DAYS`). The one place that decides it.
    pub async fn retention_policy(&self, default_days: u32) -> Result<RetentionPolicy, StoreError> {
        let setting = self.retention_days().await?;
        Ok(RetentionPolicy {
            days: setting.unwrap_or(default_days),
            setting,
            default_days,
        })
    }

    /// Rows of `table` created before `cutoff` (epoch ms): what a prune would delete.
    pub async fn count_before(&self, table: RawTable, cutoff: i64) -> Result<u64, StoreError> {
        let sql = format!(
            "SELECT COUNT(*) FROM {} WHERE created_at < $1",
            table.name()
        );
        let n: i64 = sqlx::query_scalar(&sql)
            .bind(cutoff)
            .fetch_one(&self.pool)
            .await?;
        Ok(n.max(0) as u64)
    }

    /// Deletes at most `limit` rows of `table` created before `cutoff`, oldest first, in
    /// one short write transaction (on PostgreSQL under the writer's advisory lock), and
    /// returns how many went. Callers loop until it returns fewer than `limit`, so the
    /// ingest writer gets the lock between batches.
    pub async fn delete_batch_before(
        &self,
        table: RawTable,
        cutoff: i64,
        limit: i64,
    ) -> Result<u64, StoreError> {
        let table = table.name();
        // The oldest rows by the `created_at` index: no sort, and only `limit` of them.
        let sql = format!(
            "DELETE FROM {table} WHERE id IN \
             (SELECT id FROM {table} WHERE created_at < $1 ORDER BY created_at LIMIT $2)"
        );
        let mut tx = self.begin_write().await?;
        let done = sqlx::query(&sql)
            .bind(cutoff)
            .bind(limit)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(done.rows_affected())
    }
}
