//! What the operators watch: active users and sessions for `/metrics`, and the row
//! counts and database size of `GET /api/v1/health`.

use sqlx::Row;

use super::{DbKind, Store, StoreError};

/// Distinct users of `request_log` since each given instant, and the sessions in
/// `user_session`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ActivityCounts<const N: usize> {
    pub active_users: [i64; N],
    pub sessions: i64,
}

/// Rows per table family (as `GET /api/v1/health` shows them).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize, sqlx::FromRow)]
#[serde(rename_all = "camelCase")]
pub struct RowCounts {
    pub requests: i64,
    pub sessions: i64,
    pub threats: i64,
    pub feedback: i64,
    pub auth_events: i64,
    pub alerts: i64,
}

impl Store {
    /// Distinct users with a request at or after each of `since` (epoch ms), and the
    /// sessions recorded, in one query.
    pub async fn activity_counts<const N: usize>(
        &self,
        since: &[i64; N],
    ) -> Result<ActivityCounts<N>, StoreError> {
        // `tracked_user.last_seen_at` is each user's latest request: a user was active
        // since T exactly when it is at or after T. One row per user, not per request.
        let mut columns = String::new();
        for i in 0..N {
            columns.push_str(&format!(
                "COUNT(CASE WHEN last_seen_at >= ${} THEN 1 END) AS active_{i}, ",
                i + 1
            ));
        }
        let sql = format!(
            "SELECT {columns}(SELECT COUNT(*) FROM user_session) AS sessions FROM tracked_user"
        );
        let mut query = sqlx::query(&sql);
        for at in since {
            query = query.bind(*at);
        }
        let row = query.fetch_one(&self.pool).await?;
        let mut active_users = [0; N];
        // N columns, named by their index: no struct to decode them into.
        for (i, users) in active_users.iter_mut().enumerate() {
            *users = row.try_get(format!("active_{i}").as_str())?;
        }
        Ok(ActivityCounts {
            active_users,
            sessions: row.try_get("sessions")?,
        })
    }

    /// The rows of each table family.
    pub async fn row_counts(&self) -> Result<RowCounts, StoreError> {
        Ok(sqlx::query_as(
            "SELECT (SELECT COUNT(*) FROM request_log) AS requests, \
             (SELECT COUNT(*) FROM user_session) AS sessions, \
             (SELECT COUNT(*) FROM threat_log) AS threats, \
             (SELECT COUNT(*) FROM feedback_log) AS feedback, \
             (SELECT COUNT(*) FROM auth_event) AS auth_events, \
             (SELECT COUNT(*) FROM alerts) AS alerts",
        )
        .fetch_one(&self.pool)
        .await?)
    }

    /// The size of the database on disk, in bytes.
    pub async fn database_size_bytes(&self) -> Result<i64, StoreError> {
        let sql = match self.kind {
            DbKind::Sqlite => {
                "SELECT page_count * page_size FROM pragma_page_count(), pragma_page_size()"
            }
            DbKind::Postgres => "SELECT pg_database_size(current_database())",
        };
        Ok(sqlx::query_scalar(sql).fetch_one(&self.pool).await?)
    }
}
