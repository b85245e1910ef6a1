//! `alerts`: one firing row per alert key at a time (a partial unique index keeps it so,
//! also across replicas), resolved when its condition clears.

use serde::Serialize;
use sightline_tracker::wire::{Severity, UnknownName};
use sqlx::FromRow;

use super::{Store, StoreError, map_rows};

/// An alert whose condition holds at `at`.
#[derive(Clone, Debug, PartialEq)]
pub struct NewAlert {
    /// What makes two alerts the same (`error_burst`, `latency_p95:/v1/chat`).
    pub key: String,
    /// `error_burst`, `error_rate_spike`, `latency_p95`, `cost_spike` or `budget`.
    pub rule: String,
    pub severity: Severity,
    pub title: String,
    pub description: String,
    pub endpoint: Option<String>,
    pub value: f64,
    pub threshold: f64,
    pub at: i64,
}

/// The cost of the served requests of one hour.
#[derive(Clone, Copy, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct HourlyCost {
    pub bucket_start: i64,
    pub cost_micros: i64,
}

/// Firing or resolved.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum AlertState {
    Firing,
    Resolved,
}

impl AlertState {
    pub fn as_str(self) -> &'static str {
        match self {
            AlertState::Firing => "firing",
            AlertState::Resolved => "resolved",
        }
    }

    pub fn parse(s: &str) -> Option<AlertState> {
        match s {
            "firing" => Some(AlertState::Firing),
            "resolved" => Some(AlertState::Resolved),
            _ => None,
        }
    }
}

impl TryFrom<String> for AlertState {
    type Error = UnknownName;

    fn try_from(name: String) -> Result<AlertState, UnknownName> {
        AlertState::parse(&name).ok_or(UnknownName {
            kind: "AlertState",
            name,
        })
    }
}

/// A stored alert, as `GET /api/v1/alerts` and the webhooks show it.
#[derive(Clone, Debug, PartialEq, Serialize, sqlx::FromRow)]
#[serde(rename_all = "camelCase")]
pub struct Alert {
    pub id: i64,
    #[sqlx(rename = "alert_key")]
    pub key: String,
    pub rule: String,
    #[sqlx(try_from = "String")]
    pub severity: Severity,
    #[sqlx(try_from = "String")]
    pub state: AlertState,
    pub title: String,
    pub description: String,
    pub endpoint: Option<String>,
    pub value: Option<f64>,
    pub threshold: Option<f64>,
    pub fired_at: i64,
    pub updated_at: i64,
    pub resolved_at: Option<i64>,
    pub notified_at: Option<i64>,
}

const ALERT_COLUMNS: &str = "id, alert_key, rule, severity, state, title, description, endpoint, \
    value, threshold, fired_at, updated_at, resolved_at, notified_at";

/// An alert from a row of [`ALERT_COLUMNS`].
fn alert(r: &sqlx::any::AnyRow) -> Result<Alert, sqlx::Error> {
    Alert::from_row(r)
}

/// Inserts `a` as a firing alert.
async fn insert_alert(
    tx: &mut sqlx::Transaction<'static, sqlx::Any>,
    a: &NewAlert,
) -> Result<Alert, StoreError> {
    let row = sqlx::query(&format!(
        "INSERT INTO alerts (alert_key, rule, severity, state, title, description, \
            endpoint, value, threshold, fired_at, updated_at) \
         VALUES ($1, $2, $3, 'firing', $4, $5, $6, $7, $8, $9, $9) \
         RETURNING {ALERT_COLUMNS}"
    ))
    .bind(&a.key)
    .bind(&a.rule)
    .bind(a.severity.as_str())
    .bind(&a.title)
    .bind(&a.description)
    .bind(&a.endpoint)
    .bind(a.value)
    .bind(a.threshold)
    .bind(a.at)
    .fetch_one(&mut **tx)
    .await?;
    Ok(alert(&row)?)
}

impl Store {
    /// Records that `a` holds: a new firing alert (returned), or the value of the one
    /// already firing under its key brought up to date (`None`).
    pub async fn fire_alert(&self, a: &NewAlert) -> Result<Option<Alert>, StoreError> {
        let mut tx = self.begin_write().await?;
        let updated = sqlx::query(
            "UPDATE alerts SET value = $1, threshold = $2, title = $3, description = $4, \
                updated_at = $5 WHERE alert_key = $6 AND state = 'firing'",
        )
        .bind(a.value)
        .bind(a.threshold)
        .bind(&a.title)
        .bind(&a.description)
        .bind(a.at)
        .bind(&a.key)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        let fired = if updated == 0 {
            Some(insert_alert(&mut tx, a).await?)
        } else {
            None
        };
        tx.commit().await?;
        Ok(fired)
    }

    /// Fires `a` unless an alert of its key was ever recorded, firing or resolved (a
    /// budget's key names its threshold and period, so it fires once for them, also
    /// across replicas: the writer lock orders the check and the insert). The new
    /// alert, if it is one.
    pub async fn fire_alert_once(&self, a: &NewAlert) -> Result<Option<Alert>, StoreError> {
        let mut tx = self.begin_write().await?;
        let seen: Option<i64> =
            sqlx::query_scalar("SELECT id FROM alerts WHERE alert_key = $1 LIMIT 1")
                .bind(&a.key)
                .fetch_optional(&mut *tx)
                .await?;
        let fired = match seen {
            Some(_) => None,
            None => Some(insert_alert(&mut tx, a).await?),
        };
        tx.commit().await?;
        Ok(fired)
    }

    /// The keys of the alerts of `rule` fired at or after `since`, in any state.
    pub async fn alert_keys_since(
        &self,
        rule: &str,
        since: i64,
    ) -> Result<Vec<String>, StoreError> {
        Ok(
            sqlx::query_scalar("SELECT alert_key FROM alerts WHERE rule = $1 AND fired_at >= $2")
                .bind(rule)
                .bind(since)
                .fetch_all(&self.pool)
                .await?,
        )
    }

    /// The keys of the alerts of `rule` firing now.
    pub async fn firing_keys_of(&self, rule: &str) -> Result<Vec<String>, StoreError> {
        Ok(
            sqlx::query_scalar("SELECT alert_key FROM alerts WHERE rule = $1 AND state = 'firing'")
                .bind(rule)
                .fetch_all(&self.pool)
                .await?,
        )
    }

    /// Resolves the alert firing under `key` (returned), if one is.
    pub async fn resolve_alert(
        &self,
        key: &str,
        value: f64,
        at: i64,
    ) -> Result<Option<Alert>, StoreError> {
        let mut tx = self.begin_write().await?;
        let row = sqlx::query(&format!(
            "UPDATE alerts SET state = 'resolved', resolved_at = $1, updated_at = $1, value = $2 \
             WHERE alert_key = $3 AND state = 'firing' RETURNING {ALERT_COLUMNS}"
        ))
        .bind(at)
        .bind(value)
        .bind(key)
        .fetch_optional(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(row.as_ref().map(alert).transpose()?)
    }

    /// `(hour start, micro-dollars)` of the served requests' cost in every hour from
    /// `since` on, from the hourly traffic rollup: the baseline `cost_spike` starts with.
    pub async fn hourly_costs_since(&self, since: i64) -> Result<Vec<HourlyCost>, StoreError> {
        Ok(sqlx::query_as(
            "SELECT bucket_start, cost_micros FROM rollup_traffic \
             WHERE bucket_ms = 3600000 AND bucket_start >= $1 AND cost_micros > 0 \
             ORDER BY bucket_start",
        )
        .bind(since - since.rem_euclid(3_600_000))
        .fetch_all(&self.pool)
        .await?)
    }

    /// Keys of the alerts firing now.
    pub async fn firing_alert_keys(&self) -> Result<Vec<String>, StoreError> {
        Ok(
            sqlx::query_scalar("SELECT alert_key FROM alerts WHERE state = 'firing'")
                .fetch_all(&self.pool)
                .await?,
        )
    }

    /// Alerts, newest first: all, or those in `state`; at most `limit`.
    pub async fn alerts(
        &self,
        state: Option<AlertState>,
        limit: i64,
    ) -> Result<Vec<Alert>, StoreError> {
        let filter = if state.is_some() {
            "WHERE state = $2"
        } else {
            ""
        };
        let sql = format!(
            "SELECT {ALERT_COLUMNS} FROM alerts {filter} ORDER BY fired_at DESC, id DESC LIMIT $1"
        );
        let mut query = sqlx::query(&sql).bind(limit);
        if let Some(s) = state {
            query = query.bind(s.as_str());
        }
        let rows = query.fetch_all(&self.pool).await?;
        map_rows(&rows, alert)
    }

    /// Notes that a webhook took the alert's news at `at` (the first delivery counts).
    pub async fn mark_alert_notified(&self, id: i64, at: i64) -> Result<(), StoreError> {
        sqlx::query("UPDATE alerts SET notified_at = $1 WHERE id = $2 AND notified_at IS NULL")
            .bind(at)
            .bind(id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }
}
