//! `auth_event`: sign-ups, logins and their failures, token refreshes… of the tracked
//! platform, and of Sightline's own dashboard.

use sightline_tracker::wire::AuthEventType;

use sqlx::AnyConnection;

use super::rollups::{Key, bucket_keys, upsert_adding, with_bucket};
use super::{Store, StoreError, values_placeholders};
use crate::rollup::auth::{AuthDelta, auth_delta};

/// An authentication event about to be stored.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewAuthEvent {
    pub created_at: i64,
    pub event_type: AuthEventType,
    pub user_id: Option<String>,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
    pub success: bool,
    pub error: Option<String>,
    pub metadata: Option<String>,
}

const COLUMNS: usize = 9;

/// Whose sign-in it was: the tracked platform's (ingested) or Sightline's own dashboard.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AuthSource {
    Platform,
    Sightline,
}

impl AuthSource {
    fn as_str(self) -> &'static str {
        match self {
            AuthSource::Platform => "platform",
            AuthSource::Sightline => "sightline",
        }
    }
}

impl Store {
    /// Stores auth events of the tracked platform in one transaction.
    pub async fn record_auth_events(&self, events: &[NewAuthEvent]) -> Result<(), StoreError> {
        self.record_auth_events_from(AuthSource::Platform, events)
            .await
    }

    /// Stores auth events from `source` in one transaction.
    pub async fn record_auth_events_from(
        &self,
        source: AuthSource,
        events: &[NewAuthEvent],
    ) -> Result<(), StoreError> {
        let events = super::anonymize::all(self.ip_anonymize, events);
        let mut tx = self.begin_write().await?;
        record_auth_events_in(&mut tx, source, &events).await?;
        tx.commit().await?;
        Ok(())
    }
}

/// The same on the caller's write transaction; the platform's events are counted in
/// `rollup_auth` on it too.
pub(super) async fn record_auth_events_in(
    conn: &mut AnyConnection,
    source: AuthSource,
    events: &[NewAuthEvent],
) -> Result<(), StoreError> {
    for chunk in events.chunks(1000) {
        let sql = format!(
            "INSERT INTO auth_event (created_at, event_type, user_id, ip, user_agent, success, error, metadata, source) \
                 VALUES {}",
            values_placeholders(conn, chunk.len(), COLUMNS)
        );
        let mut query = sqlx::query(&sql);
        for e in chunk {
            query = query
                .bind(e.created_at)
                .bind(e.event_type.as_str())
                .bind(&e.user_id)
                .bind(&e.ip)
                .bind(&e.user_agent)
                .bind(e.success)
                .bind(&e.error)
                .bind(&e.metadata)
                .bind(source.as_str());
        }
        query.execute(&mut *conn).await?;
    }
    if source == AuthSource::Platform {
        write_auth_delta(conn, &auth_delta(events)).await?;
    }
    Ok(())
}

async fn write_auth_delta(conn: &mut AnyConnection, delta: &AuthDelta) -> Result<(), StoreError> {
    let rows = delta
        .iter()
        .map(|((bucket, event_type), c)| {
            let mut keys = bucket_keys(*bucket);
            keys.push(Key::Text((*event_type).to_owned()));
            (keys, vec![c.events, c.failures])
        })
        .collect();
    upsert_adding(
        conn,
        "rollup_auth",
        &with_bucket(["event_type"]),
        &["events", "failures"],
        rows,
    )
    .await
}

/// Recomputes `rollup_auth` (already emptied) from the platform's stored events, a page
/// at a time, through the code the ingest uses.
pub(super) async fn rebuild_auth_rollup_in(conn: &mut AnyConnection) -> Result<(), StoreError> {
    const PAGE: i64 = 5_000;
    let mut after = i64::MIN;
    loop {
        let rows: Vec<StoredOutcome> = sqlx::query_as(
            "SELECT id, created_at, event_type, \
                    CAST(CASE WHEN success THEN 0 ELSE 1 END AS BIGINT) AS failed FROM auth_event \
             WHERE source = 'platform' AND id > $1 ORDER BY id LIMIT $2",
        )
        .bind(after)
        .bind(PAGE)
        .fetch_all(&mut *conn)
        .await?;
        let Some(last) = rows.last() else {
            return Ok(());
        };
        after = last.id;
        let events = rows
            .iter()
            .map(|r| {
                // The table's CHECK allows the known types only.
                let event_type = AuthEventType::parse(&r.event_type).ok_or_else(|| {
                    sqlx::Error::ColumnDecode {
                        index: "event_type".into(),
                        source: format!("unknown auth event type `{}`", r.event_type).into(),
                    }
                })?;
                Ok(NewAuthEvent {
                    created_at: r.created_at,
                    event_type,
                    user_id: None,
                    ip: None,
                    user_agent: None,
                    success: r.failed == 0,
                    error: None,
                    metadata: None,
                })
            })
            .collect::<Result<Vec<_>, sqlx::Error>>()?;
        write_auth_delta(conn, &auth_delta(&events)).await?;
    }
}

/// What the rollup reads of a stored event.
#[derive(sqlx::FromRow)]
struct StoredOutcome {
    id: i64,
    created_at: i64,
    event_type: String,
    failed: i64,
}
