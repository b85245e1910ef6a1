//! `audit_log`: the audit trail. Entries are only ever added (the database refuses an
//! UPDATE) and deleted by retention, by age, as auth events are.

use sightline_app::audit::{AUDIT_PAGE_ROWS, AuditFilter, AuditPage, AuditRow};
use sightline_app::units::EpochMillis;
use sqlx::FromRow;

use super::{Bind, Store, StoreError, bind_all, map_rows};

/// An entry about to be stored.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewAudit {
    pub created_at: i64,
    /// The account's username, or `cli`.
    pub actor: String,
    pub actor_ip: Option<String>,
    /// One of `sightline_app::audit::AUDIT_ACTIONS`.
    pub action: &'static str,
    pub target: Option<String>,
    /// JSON.
    pub detail: Option<String>,
}

#[derive(FromRow)]
struct Row {
    id: i64,
    created_at: EpochMillis,
    actor: String,
    actor_ip: Option<String>,
    action: String,
    target: Option<String>,
    detail: Option<String>,
}

impl From<Row> for AuditRow {
    fn from(r: Row) -> AuditRow {
        AuditRow {
            id: r.id,
            created_at: r.created_at,
            actor: r.actor,
            actor_ip: r.actor_ip,
            action: r.action,
            target: r.target,
            detail: r.detail,
        }
    }
}

/// The header of the audit export.
pub const AUDIT_EXPORT_COLUMNS: &[&str] = &[
    "id",
    "created_at",
    "actor",
    "actor_ip",
    "action",
    "target",
    "detail",
];

/// The columns of a row.
pub(super) const AUDIT_SELECT: &str = "id, created_at, actor, actor_ip, action, target, detail";

/// `filter` as a condition on `audit_log` whose placeholders start after `first`.
pub(super) fn audit_filter_sql(filter: &AuditFilter, first: usize) -> (String, Vec<Bind>) {
    let mut parts = vec!["1 = 1".to_owned()];
    let mut binds = Vec::new();
    let mut add = |sql: &str, bind: Bind| {
        binds.push(bind);
        parts.push(sql.replace('?', &format!("${}", first + binds.len())));
    };
    if let Some(a) = &filter.action {
        add("action = ?", Bind::Text(a.clone()));
    }
    if let Some(a) = &filter.actor {
        add("actor = ?", Bind::Text(a.clone()));
    }
    if let Some(s) = filter.since {
        add("created_at >= ?", Bind::Int(s.ms()));
    }
    if let Some(u) = filter.until {
        add("created_at < ?", Bind::Int(u.ms()));
    }
    (parts.join(" AND "), binds)
}

impl Store {
    /// Adds an entry to the trail (its IP stored as the IP policy says).
    pub async fn record_audit(&self, entry: &NewAudit) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO audit_log (created_at, actor, actor_ip, action, target, detail) \
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(entry.created_at)
        .bind(&entry.actor)
        .bind(self.ip_anonymize.stored(entry.actor_ip.as_deref()))
        .bind(entry.action)
        .bind(&entry.target)
        .bind(&entry.detail)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// A page of the entries `filter` matches, newest first (by id, which grows with
    /// time), older than its `before_id`.
    pub async fn audit_page(&self, filter: &AuditFilter) -> Result<AuditPage, StoreError> {
        let (mut condition, mut binds) = audit_filter_sql(filter, 0);
        if let Some(before) = filter.before_id {
            binds.push(Bind::Int(before));
            condition.push_str(&format!(" AND id < ${}", binds.len()));
        }
        let sql = format!(
            "SELECT {AUDIT_SELECT} FROM audit_log WHERE {condition} ORDER BY id DESC LIMIT {}",
            super::paging::fetch_limit(AUDIT_PAGE_ROWS as i64)
        );
        let found = bind_all(sqlx::query(&sql), &binds)
            .fetch_all(&self.pool)
            .await?;
        let mut rows: Vec<AuditRow> = map_rows(&found, |r| Row::from_row(r))?
            .into_iter()
            .map(AuditRow::from)
            .collect();
        let next_before_id =
            super::paging::next_cursor(&mut rows, AUDIT_PAGE_ROWS as i64, |r| r.id);
        Ok(AuditPage {
            rows,
            next_before_id,
        })
    }
}
