//! `threat_log`: security threats. While a threat is open, a repeat of the same type
//! from the same IP and user is folded into it (`occurrences`, `last_seen_at`, the
//! higher severity) instead of adding a row.

use sightline_tracker::wire::{Severity, ThreatType};
use sqlx::{AnyConnection, Row};

use super::{Store, StoreError};

/// A threat about to be stored.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewThreat {
    pub created_at: i64,
    pub threat_type: ThreatType,
    pub severity: Severity,
    pub ip: Option<String>,
    pub user_id: Option<String>,
    pub country: Option<String>,
    pub endpoint: Option<String>,
    pub request_id: Option<String>,
    pub description: String,
}

impl NewThreat {
    /// What makes two threats "the same" while one is open.
    fn dedup_key(&self) -> String {
        format!(
            "{}|{}|{}",
            self.threat_type.as_str(),
            self.ip.as_deref().unwrap_or(""),
            self.user_id.as_deref().unwrap_or("")
        )
    }
}

/// Severity as a number in SQL, so the higher one wins when threats are folded.
const NEW_SEVERITY_RANK: &str = "CASE excluded.severity WHEN 'critical' THEN 4 WHEN 'high' THEN 3 WHEN 'medium' THEN 2 ELSE 1 END";
const OLD_SEVERITY_RANK: &str = "CASE threat_log.severity WHEN 'critical' THEN 4 WHEN 'high' THEN 3 WHEN 'medium' THEN 2 ELSE 1 END";

impl Store {
    /// Stores threats in one transaction; returns the id each was stored or folded into.
    pub async fn record_threats(&self, threats: &[NewThreat]) -> Result<Vec<i64>, StoreError> {
        let mut tx = self.begin_write().await?;
        let out = record_threats_in(&mut tx, threats).await?;
        tx.commit().await?;
        Ok(out)
    }

    /// Marks threats resolved (by `who`, at `at`) or open again; returns how many changed.
    /// Reopening a threat whose key has a newer open threat folds nothing: it stays apart.
    pub async fn set_threats_resolved(
        &self,
        ids: &[i64],
        resolved: bool,
        who: &str,
        at: i64,
    ) -> Result<u64, StoreError> {
        let mut tx = self.begin_write().await?;
        let mut changed = 0;
        for chunk in ids.chunks(1000) {
            let list = super::placeholder_list(if resolved { 2 } else { 0 }, chunk.len());
            let sql = if resolved {
                format!(
                    "UPDATE threat_log SET resolved = TRUE, resolved_at = $1, resolved_by = $2 \
                     WHERE resolved = FALSE AND id IN {list}"
                )
            } else {
                format!(
                    "UPDATE threat_log SET resolved = FALSE, resolved_at = NULL, resolved_by = NULL \
                     WHERE resolved = TRUE AND id IN {list} \
                     AND NOT EXISTS (SELECT 1 FROM threat_log o WHERE o.dedup_key = threat_log.dedup_key \
                        AND o.resolved = FALSE)"
                )
            };
            let mut query = sqlx::query(&sql);
            if resolved {
                query = query.bind(at).bind(who);
            }
            for id in chunk {
                query = query.bind(*id);
            }
            changed += query.execute(&mut *tx).await?.rows_affected();
        }
        tx.commit().await?;
        Ok(changed)
    }
}

/// The same on the caller's write transaction.
pub(super) async fn record_threats_in(
    conn: &mut AnyConnection,
    threats: &[NewThreat],
) -> Result<Vec<i64>, StoreError> {
    let sql = format!(
        "INSERT INTO threat_log (created_at, last_seen_at, occurrences, threat_type, severity, ip, \
            user_id, country, endpoint, request_id, description, dedup_key) \
         VALUES ($1, $1, 1, $2, $3, $4, $5, $6, $7, $8, $9, $10) \
         ON CONFLICT (dedup_key) WHERE resolved = FALSE DO UPDATE SET \
            occurrences = threat_log.occurrences + 1, \
            last_seen_at = CASE WHEN excluded.last_seen_at > threat_log.last_seen_at \
                THEN excluded.last_seen_at ELSE threat_log.last_seen_at END, \
            severity = CASE WHEN {NEW_SEVERITY_RANK} > {OLD_SEVERITY_RANK} \
                THEN excluded.severity ELSE threat_log.severity END \
         RETURNING id"
    );
    let mut ids = Vec::with_capacity(threats.len());
    for t in threats {
        let row = sqlx::query(&sql)
            .bind(t.created_at)
            .bind(t.threat_type.as_str())
            .bind(t.severity.as_str())
            .bind(&t.ip)
            .bind(&t.user_id)
            .bind(&t.country)
            .bind(&t.endpoint)
            .bind(&t.request_id)
            .bind(&t.description)
            .bind(t.dedup_key())
            .fetch_one(&mut *conn)
            .await?;
        ids.push(row.try_get(0)?);
    }
    Ok(ids)
}
