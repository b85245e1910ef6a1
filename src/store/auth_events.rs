//! `auth_event`: sign-ups, logins and their failures, token refreshes… of the tracked
//! platform, and of Sightline's own dashboard.

use sightline_tracker::wire::AuthEventType;

use sqlx::AnyConnection;

use super::{Store, StoreError, values_placeholders};

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
        let mut tx = self.begin_write().await?;
        record_auth_events_in(&mut tx, source, events).await?;
        tx.commit().await?;
        Ok(())
    }
}

/// The same on the caller's write transaction.
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
    Ok(())
}
