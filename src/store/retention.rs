//! Retention: which rows are old enough to delete, and deleting them a small batch at a
//! time. Raw requests, auth events and the span links of OTLP exports go by age; the records that would otherwise grow
//! forever (resolved threats, sessions, platform users, per-user rollups, resolved
//! alerts, ratings) by their own rules; the rollups the dashboard's figures come from,
//! model stats and open threats stay. Which instant applies to which kind is the
//! retention job's decision (`jobs::retention`); here is the SQL.

use super::{Bind, Store, StoreError, bind_all, placeholder_list};

/// How long raw requests are kept, and where that comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RetentionPolicy {
    /// What applies: `setting` if an admin chose one, else `default_days`.
    pub days: u32,
    /// The admin's choice in the settings page, if any.
    pub setting: Option<u32>,
    /// `SIGHTLINE_RETENTION_DAYS` (90 unless set).
    pub default_days: u32,
    /// Raw requests before this instant (epoch ms) were pruned at some time, whatever
    /// the retention is now: ingest refuses events older than that.
    pub pruned_before: Option<i64>,
}

impl RetentionPolicy {
    /// `SIGHTLINE_RETENTION_DAYS` alone: no setting, nothing pruned yet.
    pub fn from_default(default_days: u32) -> RetentionPolicy {
        RetentionPolicy {
            days: default_days,
            setting: None,
            default_days,
            pruned_before: None,
        }
    }

    /// The first instant (epoch ms) that is kept at `now`: older raw rows are pruned.
    pub fn cutoff(&self, now: i64) -> i64 {
        now - i64::from(self.days) * 86_400_000
    }
}

/// The kinds of rows retention deletes, each older than an instant by its own rule.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Prunable {
    /// Raw requests created before the instant.
    Requests,
    /// Auth events created before the instant.
    AuthEvents,
    /// Audit trail entries created before the instant.
    AuditLog,
    /// Resolved threats, raised, last seen and resolved before the instant.
    ResolvedThreats,
    /// Sessions of the platform's users started and last seen before the instant.
    Sessions,
    /// Platform users first and last seen before the instant.
    Users,
    /// The provider costs of platform users with no request at all (served, or made
    /// on their behalf) at or after the instant.
    UserProviderCosts,
    /// Hourly per-user rollup rows of buckets before the instant.
    HourlyUserRollups,
    /// Daily per-user rollup rows of buckets before the instant.
    DailyUserRollups,
    /// Resolved alerts, fired and resolved before the instant.
    ResolvedAlerts,
    /// Ratings created and last changed before the instant.
    Ratings,
    /// Span links of OTLP exports (the parent/child rule), created before the instant.
    TraceSpans,
    /// Hourly error-group rollup rows of buckets before the instant.
    HourlyErrorRollups,
    /// Daily error-group rollup rows of buckets before the instant.
    DailyErrorRollups,
    /// Error groups last seen before the instant that no rollup row counts any more
    /// (with them goes their example message).
    ErrorGroups,
}

/// How the rows of a kind are found.
enum Finder {
    /// An index gives exactly the expired rows, oldest first: the batch is found and
    /// deleted in one statement under the write lock (`order` is the indexed column).
    Oldest { order: &'static str },
    /// The rule needs a scan: candidate keys are read outside the write lock, walking
    /// the key column, and deleted by key (the rule checked again) under it.
    Keyset { key: &'static str, text_key: bool },
}

impl Prunable {
    pub const ALL: [Prunable; 15] = [
        Prunable::Requests,
        Prunable::AuthEvents,
        Prunable::AuditLog,
        Prunable::TraceSpans,
        Prunable::ResolvedThreats,
        Prunable::Sessions,
        Prunable::Users,
        Prunable::UserProviderCosts,
        Prunable::HourlyUserRollups,
        Prunable::DailyUserRollups,
        Prunable::ResolvedAlerts,
        Prunable::Ratings,
        // After the rollups: a group goes once none of its rows is left.
        Prunable::HourlyErrorRollups,
        Prunable::DailyErrorRollups,
        Prunable::ErrorGroups,
    ];

    fn table(self) -> &'static str {
        match self {
            Prunable::Requests => "request_log",
            Prunable::AuthEvents => "auth_event",
            Prunable::AuditLog => "audit_log",
            Prunable::ResolvedThreats => "threat_log",
            Prunable::Sessions => "user_session",
            Prunable::Users => "tracked_user",
            Prunable::UserProviderCosts => "user_provider_cost",
            Prunable::HourlyUserRollups | Prunable::DailyUserRollups => "rollup_user",
            Prunable::ResolvedAlerts => "alerts",
            Prunable::Ratings => "feedback_log",
            Prunable::TraceSpans => "otlp_span",
            Prunable::HourlyErrorRollups | Prunable::DailyErrorRollups => "rollup_error",
            Prunable::ErrorGroups => "error_group",
        }
    }

    /// The rows of this kind older than `$1`. Each rule also bounds a column with an
    /// index (a row is raised, started or first seen before it is last seen).
    fn expired(self) -> &'static str {
        match self {
            Prunable::Requests
            | Prunable::AuthEvents
            | Prunable::AuditLog
            | Prunable::TraceSpans => "created_at < $1",
            Prunable::ResolvedThreats => {
                "resolved = TRUE AND created_at < $1 AND last_seen_at < $1 AND resolved_at < $1"
            }
            Prunable::Sessions => "started_at < $1 AND last_seen_at < $1",
            Prunable::Users => "first_seen_at < $1 AND last_seen_at < $1",
            // Through the primary key of tracked_user and request_log's
            // (user_id, created_at) index.
            Prunable::UserProviderCosts => {
                "NOT EXISTS (SELECT 1 FROM tracked_user t WHERE t.user_id = user_provider_cost.user_id \
                 AND t.last_seen_at >= $1) AND NOT EXISTS (SELECT 1 FROM request_log r \
                 WHERE r.user_id = user_provider_cost.user_id AND r.created_at >= $1)"
            }
            Prunable::HourlyUserRollups | Prunable::HourlyErrorRollups => {
                "bucket_ms = 3600000 AND bucket_start < $1"
            }
            Prunable::DailyUserRollups | Prunable::DailyErrorRollups => {
                "bucket_ms = 86400000 AND bucket_start < $1"
            }
            Prunable::ErrorGroups => {
                "last_seen_at < $1 AND NOT EXISTS \
                 (SELECT 1 FROM rollup_error r WHERE r.fingerprint = error_group.fingerprint)"
            }
            Prunable::ResolvedAlerts => "state = 'resolved' AND fired_at < $1 AND resolved_at < $1",
            Prunable::Ratings => "created_at < $1 AND updated_at < $1",
        }
    }

    fn finder(self) -> Finder {
        match self {
            Prunable::Requests
            | Prunable::AuthEvents
            | Prunable::AuditLog
            | Prunable::TraceSpans => Finder::Oldest {
                order: "created_at",
            },
            Prunable::HourlyUserRollups
            | Prunable::DailyUserRollups
            | Prunable::HourlyErrorRollups
            | Prunable::DailyErrorRollups => Finder::Oldest {
                order: "bucket_start",
            },
            Prunable::Users | Prunable::UserProviderCosts => Finder::Keyset {
                key: "user_id",
                text_key: true,
            },
            Prunable::ErrorGroups => Finder::Keyset {
                key: "fingerprint",
                text_key: true,
            },
            _ => Finder::Keyset {
                key: "id",
                text_key: false,
            },
        }
    }

    /// The columns that name one row.
    fn key(self) -> &'static str {
        match self.finder() {
            Finder::Keyset { key, .. } => key,
            Finder::Oldest { .. } if self.table() == "rollup_user" => {
                "bucket_ms, bucket_start, user_id"
            }
            Finder::Oldest { .. } if self.table() == "rollup_error" => {
                "bucket_ms, bucket_start, fingerprint, endpoint, status_code"
            }
            Finder::Oldest { .. } => "id",
        }
    }
}

/// Where a prune of one kind has got to: the last key its candidates reached.
#[derive(Debug, Default)]
pub struct PruneCursor {
    after: Option<Bind>,
}

/// What one batch did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PruneBatch {
    pub deleted: u64,
    /// Whether nothing of the kind is left to look at.
    pub done: bool,
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
            pruned_before: self.pruned_before().await?,
        })
    }

    /// Rows of `what` older than `before` (epoch ms): what a prune would delete.
    pub async fn count_before(&self, what: Prunable, before: i64) -> Result<u64, StoreError> {
        let sql = format!(
            "SELECT COUNT(*) FROM {} WHERE {}",
            what.table(),
            what.expired()
        );
        let n: i64 = sqlx::query_scalar(&sql)
            .bind(before)
            .fetch_one(&self.pool)
            .await?;
        Ok(n.max(0) as u64)
    }

    /// Deletes at most `limit` rows of `what` older than `before` in one short write
    /// transaction (on PostgreSQL under the writer's advisory lock). Callers loop with
    /// the same `cursor` until the batch says it is done, pausing in between so the
    /// ingest writer gets the lock.
    pub async fn delete_batch_before(
        &self,
        what: Prunable,
        before: i64,
        cursor: &mut PruneCursor,
        limit: i64,
    ) -> Result<PruneBatch, StoreError> {
        let (table, expired, key) = (what.table(), what.expired(), what.key());
        match what.finder() {
            Finder::Oldest { order } => {
                let sql = format!(
                    "DELETE FROM {table} WHERE ({key}) IN \
                     (SELECT {key} FROM {table} WHERE {expired} ORDER BY {order} LIMIT $2)"
                );
                let mut tx = self.begin_write().await?;
                let done = sqlx::query(&sql)
                    .bind(before)
                    .bind(limit)
                    .execute(&mut *tx)
                    .await?;
                tx.commit().await?;
                let deleted = done.rows_affected();
                Ok(PruneBatch {
                    deleted,
                    done: deleted < limit.max(1) as u64,
                })
            }
            Finder::Keyset { key, text_key } => {
                let after = match &cursor.after {
                    Some(_) => format!(" AND {key} > $3"),
                    None => String::new(),
                };
                let sql = format!(
                    "SELECT {key} FROM {table} WHERE {expired}{after} ORDER BY {key} LIMIT $2"
                );
                let mut query = sqlx::query(&sql).bind(before).bind(limit);
                if let Some(b) = &cursor.after {
                    query = bind_all(query, std::slice::from_ref(b));
                }
                let rows = query.fetch_all(&self.pool).await?;
                let keys = rows
                    .iter()
                    .map(|r| {
                        use sqlx::Row;
                        if text_key {
                            r.try_get::<String, _>(key).map(Bind::Text)
                        } else {
                            r.try_get::<i64, _>(key).map(Bind::Int)
                        }
                    })
                    .collect::<Result<Vec<Bind>, _>>()?;
                let mut deleted = 0;
                if !keys.is_empty() {
                    let sql = format!(
                        "DELETE FROM {table} WHERE {expired} AND {key} IN {}",
                        placeholder_list(1, keys.len())
                    );
                    let mut tx = self.begin_write().await?;
                    deleted = bind_all(sqlx::query(&sql).bind(before), &keys)
                        .execute(&mut *tx)
                        .await?
                        .rows_affected();
                    tx.commit().await?;
                }
                let done = (keys.len() as i64) < limit.max(1);
                cursor.after = keys.into_iter().last();
                Ok(PruneBatch { deleted, done })
            }
        }
    }
}
