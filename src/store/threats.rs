//! `threat_log`: security threats. While a threat is open, a repeat of the same type
//! from the same IP and user is folded into it (`occurrences`, `last_seen_at`, the
//! higher severity) instead of adding a row.

use sightline_tracker::wire::{Severity, ThreatType};
use sqlx::{AnyConnection, FromRow, Row};

use sightline_app::paging::Cursor;
use sightline_app::report::ThreatRow;
use sightline_app::threats::{
    ThreatFilter, ThreatListRow, ThreatPage, ThreatSelection, ThreatState,
};
use sightline_app::units::EpochMillis;

use super::{Bind, DbKind, Store, StoreError, bind_all, text_search};

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
        let threats = super::anonymize::all(self.ip_anonymize, threats);
        let mut tx = self.begin_write().await?;
        let out = record_threats_in(&mut tx, &threats).await?;
        tx.commit().await?;
        Ok(out)
    }

    /// Stores threats found by detection, each seen `n` times: one short transaction.
    pub async fn record_detected_threats(
        &self,
        threats: &[(NewThreat, i64)],
    ) -> Result<Vec<i64>, StoreError> {
        let stored: Vec<std::borrow::Cow<'_, NewThreat>> = threats
            .iter()
            .map(|(t, _)| super::anonymize::one(self.ip_anonymize, t))
            .collect();
        let counted: Vec<(&NewThreat, i64)> = stored
            .iter()
            .zip(threats)
            .map(|(t, (_, n))| (t.as_ref(), *n))
            .collect();
        let mut tx = self.begin_write().await?;
        let out = record_threat_counts_in(&mut tx, &counted).await?;
        tx.commit().await?;
        Ok(out)
    }

    /// Marks threats resolved (by `who`, at `at`) or open again; returns how many changed.
    pub async fn set_threats_resolved(
        &self,
        ids: &[i64],
        resolved: bool,
        who: &str,
        at: i64,
    ) -> Result<u64, StoreError> {
        self.set_threat_state(&ThreatSelection::Ids(ids.to_vec()), resolved, who, at)
            .await
    }

    /// Resolves (recording `who` and `at`) or reopens the selected threats in one
    /// transaction; returns how many changed. Reopening never leaves two open threats
    /// with the same key: of several resolved ones only the newest is reopened, and none
    /// whose key already has an open threat.
    pub async fn set_threat_state(
        &self,
        selection: &ThreatSelection,
        resolved: bool,
        who: &str,
        at: i64,
    ) -> Result<u64, StoreError> {
        let mut tx = self.begin_write().await?;
        let changed = if resolved {
            match selection {
                ThreatSelection::Ids(ids) => {
                    let mut changed = 0;
                    for chunk in ids.chunks(1000) {
                        let sql = format!(
                            "UPDATE threat_log SET resolved = TRUE, resolved_at = $1, resolved_by = $2 \
                             WHERE resolved = FALSE AND id IN {}",
                            super::placeholder_list(2, chunk.len())
                        );
                        let mut query = sqlx::query(&sql).bind(at).bind(who);
                        for id in chunk {
                            query = query.bind(*id);
                        }
                        changed += query.execute(&mut *tx).await?.rows_affected();
                    }
                    changed
                }
                ThreatSelection::Matching(filter) => {
                    let (condition, binds) = filter_sql(filter, 2, self.kind);
                    let sql = format!(
                        "UPDATE threat_log SET resolved = TRUE, resolved_at = $1, resolved_by = $2 \
                         WHERE resolved = FALSE AND {condition}"
                    );
                    let query = bind_all(sqlx::query(&sql).bind(at).bind(who), &binds);
                    query.execute(&mut *tx).await?.rows_affected()
                }
            }
        } else {
            reopen_in(&mut tx, selection).await?
        };
        tx.commit().await?;
        Ok(changed)
    }

    /// A page of the threats view, newest last seen first, and how many match in all.
    pub async fn threat_page(
        &self,
        filter: &ThreatFilter,
        after: Option<Cursor>,
        limit: i64,
    ) -> Result<ThreatPage, StoreError> {
        let (condition, binds) = filter_sql(filter, 0, self.kind);
        let total: i64 = {
            let sql = format!("SELECT COUNT(*) AS threats FROM threat_log WHERE {condition}");
            let row = bind_all(sqlx::query(&sql), &binds)
                .fetch_one(&self.pool)
                .await?;
            row.try_get("threats")?
        };
        let n = binds.len();
        let page_condition = match after {
            Some(_) => format!(
                "{condition} AND (last_seen_at < ${} OR (last_seen_at = ${} AND id < ${}))",
                n + 1,
                n + 1,
                n + 2
            ),
            None => condition,
        };
        let sql = format!(
            "SELECT {THREAT_ROW_COLUMNS}, country, endpoint, resolved_at, resolved_by \
             FROM threat_log WHERE {page_condition} \
             ORDER BY last_seen_at DESC, id DESC LIMIT {}",
            super::paging::fetch_limit(limit)
        );
        let mut query = bind_all(sqlx::query(&sql), &binds);
        if let Some(c) = after {
            query = query.bind(c.at).bind(c.id);
        }
        let rows = query.fetch_all(&self.pool).await?;
        let mut rows = super::map_rows(&rows, |r| {
            ThreatListRecord::from_row(r).map(ThreatListRow::from)
        })?;
        let next = super::paging::next_cursor(&mut rows, limit, |r| Cursor {
            at: r.threat.last_seen_at,
            id: r.threat.id,
        });
        Ok(ThreatPage { rows, total, next })
    }
}

/// The columns of a [`ThreatRecord`].
pub(super) const THREAT_ROW_COLUMNS: &str = "id, created_at, last_seen_at, threat_type, severity, \
     ip, user_id, description, occurrences, \
     CAST(CASE WHEN resolved THEN 1 ELSE 0 END AS BIGINT) AS resolved";

/// A threat as the dashboard and the threats view show it, from [`THREAT_ROW_COLUMNS`].
#[derive(sqlx::FromRow)]
pub(super) struct ThreatRecord {
    id: i64,
    created_at: EpochMillis,
    last_seen_at: EpochMillis,
    #[sqlx(try_from = "String")]
    threat_type: ThreatType,
    #[sqlx(try_from = "String")]
    severity: Severity,
    ip: Option<String>,
    user_id: Option<String>,
    description: String,
    occurrences: i64,
    /// 0 or 1: SQLite has no booleans.
    resolved: i64,
}

impl From<ThreatRecord> for ThreatRow {
    fn from(r: ThreatRecord) -> ThreatRow {
        ThreatRow {
            id: r.id,
            created_at: r.created_at,
            last_seen_at: r.last_seen_at,
            threat_type: r.threat_type,
            severity: r.severity,
            ip: r.ip,
            user_id: r.user_id,
            description: r.description,
            occurrences: r.occurrences,
            resolved: r.resolved != 0,
        }
    }
}

/// A row of the threats view: [`THREAT_ROW_COLUMNS`] and what the list adds.
#[derive(sqlx::FromRow)]
struct ThreatListRecord {
    #[sqlx(flatten)]
    threat: ThreatRecord,
    country: Option<String>,
    endpoint: Option<String>,
    resolved_at: Option<EpochMillis>,
    resolved_by: Option<String>,
}

impl From<ThreatListRecord> for ThreatListRow {
    fn from(r: ThreatListRecord) -> ThreatListRow {
        ThreatListRow {
            threat: r.threat.into(),
            country: r.country,
            endpoint: r.endpoint,
            resolved_at: r.resolved_at,
            resolved_by: r.resolved_by,
        }
    }
}

/// The WHERE condition of `filter` on `kind`, its placeholders numbered after the
/// first `k`.
pub(super) fn filter_sql(filter: &ThreatFilter, k: usize, kind: DbKind) -> (String, Vec<Bind>) {
    let mut parts: Vec<String> = Vec::new();
    let mut binds = Vec::new();
    let next = |b: Bind, binds: &mut Vec<Bind>| {
        binds.push(b);
        format!("${}", k + binds.len())
    };
    match filter.state {
        ThreatState::Open => parts.push("resolved = FALSE".into()),
        ThreatState::Resolved => parts.push("resolved = TRUE".into()),
        ThreatState::All => {}
    }
    if let Some(t) = filter.threat_type {
        let p = next(Bind::Text(t.as_str().to_string()), &mut binds);
        parts.push(format!("threat_type = {p}"));
    }
    if let Some(s) = filter.severity {
        let p = next(Bind::Text(s.as_str().to_string()), &mut binds);
        parts.push(format!("severity = {p}"));
    }
    if let Some(since) = filter.since {
        let p = next(Bind::Int(since.ms()), &mut binds);
        parts.push(format!("last_seen_at >= {p}"));
    }
    if let Some(until) = filter.until {
        let p = next(Bind::Int(until.ms()), &mut binds);
        parts.push(format!("last_seen_at < {p}"));
    }
    if let Some(search) = &filter.search {
        let p = next(Bind::Text(text_search::pattern(kind, search)), &mut binds);
        parts.push(format!(
            "({} OR {})",
            text_search::contains(kind, "COALESCE(ip, '')", &p),
            text_search::contains(kind, "COALESCE(user_id, '')", &p)
        ));
    }
    if parts.is_empty() {
        parts.push("1 = 1".into());
    }
    (parts.join(" AND "), binds)
}

/// Reopens the selection on the caller's transaction (see [`Store::set_threat_state`]).
async fn reopen_in(tx: &mut AnyConnection, selection: &ThreatSelection) -> Result<u64, StoreError> {
    const CANDIDATES: &str = "SELECT t.id, t.dedup_key, \
        CAST(CASE WHEN EXISTS (SELECT 1 FROM threat_log o WHERE o.dedup_key = t.dedup_key \
            AND o.resolved = FALSE) THEN 1 ELSE 0 END AS BIGINT) AS has_open \
        FROM threat_log t WHERE t.resolved = TRUE";
    /// A resolved threat that may be reopened, unless its key has an open one.
    #[derive(sqlx::FromRow)]
    struct Candidate {
        id: i64,
        dedup_key: String,
        /// 0 or 1: SQLite has no booleans.
        has_open: i64,
    }
    let mut candidates: Vec<Candidate> = Vec::new();
    let decode = |r: &sqlx::any::AnyRow| Candidate::from_row(r);
    match selection {
        ThreatSelection::Ids(ids) => {
            for chunk in ids.chunks(1000) {
                let sql = format!(
                    "{CANDIDATES} AND t.id IN {}",
                    super::placeholder_list(0, chunk.len())
                );
                let mut query = sqlx::query(&sql);
                for id in chunk {
                    query = query.bind(*id);
                }
                let rows = query.fetch_all(&mut *tx).await?;
                candidates.extend(super::map_rows(&rows, decode)?);
            }
        }
        ThreatSelection::Matching(filter) => {
            let (condition, binds) = filter_sql(filter, 0, DbKind::of(tx));
            // The filter names the table's columns; `t.` is the same table.
            let sql =
                format!("{CANDIDATES} AND t.id IN (SELECT id FROM threat_log WHERE {condition})");
            let rows = bind_all(sqlx::query(&sql), &binds)
                .fetch_all(&mut *tx)
                .await?;
            candidates.extend(super::map_rows(&rows, decode)?);
        }
    }
    // Newest first; the first of each key that has no open threat is reopened.
    candidates.sort_by_key(|c| std::cmp::Reverse(c.id));
    let mut seen = std::collections::HashSet::new();
    let ids: Vec<i64> = candidates
        .into_iter()
        .filter(|c| c.has_open == 0 && seen.insert(c.dedup_key.clone()))
        .map(|c| c.id)
        .collect();
    let mut changed = 0;
    for chunk in ids.chunks(1000) {
        let sql = format!(
            "UPDATE threat_log SET resolved = FALSE, resolved_at = NULL, resolved_by = NULL \
             WHERE resolved = TRUE AND id IN {}",
            super::placeholder_list(0, chunk.len())
        );
        let mut query = sqlx::query(&sql);
        for id in chunk {
            query = query.bind(*id);
        }
        changed += query.execute(&mut *tx).await?.rows_affected();
    }
    Ok(changed)
}

/// The same on the caller's write transaction.
pub(super) async fn record_threats_in(
    conn: &mut AnyConnection,
    threats: &[NewThreat],
) -> Result<Vec<i64>, StoreError> {
    let counted: Vec<(&NewThreat, i64)> = threats.iter().map(|t| (t, 1)).collect();
    record_threat_counts_in(conn, &counted).await
}

/// Records each threat as seen `n` times (folded into the open threat of its key).
async fn record_threat_counts_in(
    conn: &mut AnyConnection,
    threats: &[(&NewThreat, i64)],
) -> Result<Vec<i64>, StoreError> {
    let sql = format!(
        "INSERT INTO threat_log (created_at, last_seen_at, occurrences, threat_type, severity, ip, \
            user_id, country, endpoint, request_id, description, dedup_key) \
         VALUES ($1, $1, $11, $2, $3, $4, $5, $6, $7, $8, $9, $10) \
         ON CONFLICT (dedup_key) WHERE resolved = FALSE DO UPDATE SET \
            occurrences = threat_log.occurrences + excluded.occurrences, \
            last_seen_at = CASE WHEN excluded.last_seen_at > threat_log.last_seen_at \
                THEN excluded.last_seen_at ELSE threat_log.last_seen_at END, \
            severity = CASE WHEN {NEW_SEVERITY_RANK} > {OLD_SEVERITY_RANK} \
                THEN excluded.severity ELSE threat_log.severity END \
         RETURNING id"
    );
    let mut ids = Vec::with_capacity(threats.len());
    for &(t, n) in threats {
        let id: i64 = sqlx::query_scalar(&sql)
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
            .bind(n.max(1))
            .fetch_one(&mut *conn)
            .await?;
        ids.push(id);
    }
    Ok(ids)
}
