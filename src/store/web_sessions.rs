//! `tower_sessions`: the dashboard's web sessions, in the database, so every replica
//! behind a load balancer knows every session. Implements tower-sessions' store.

use tower_sessions::session::{Id, Record};
use tower_sessions::session_store::{self, SessionStore};

use super::Store;

/// The session store of the web layer: a thin adapter over [`Store`].
#[derive(Clone, Debug)]
pub struct WebSessionStore {
    store: Store,
}

impl WebSessionStore {
    pub fn new(store: Store) -> WebSessionStore {
        WebSessionStore { store }
    }

    /// Deletes sessions that expired before `now` (epoch ms); returns how many.
    pub async fn delete_expired(&self, now: i64) -> Result<u64, super::StoreError> {
        let done = sqlx::query("DELETE FROM tower_sessions WHERE expiry_date < $1")
            .bind(now)
            .execute(&self.store.pool)
            .await?;
        Ok(done.rows_affected())
    }
}

fn backend(e: impl std::fmt::Display) -> session_store::Error {
    session_store::Error::Backend(e.to_string())
}

fn expiry_ms(record: &Record) -> i64 {
    (record.expiry_date.unix_timestamp_nanos() / 1_000_000) as i64
}

fn encode(record: &Record) -> session_store::Result<Vec<u8>> {
    serde_json::to_vec(&record.data).map_err(|e| session_store::Error::Encode(e.to_string()))
}

/// A row of `tower_sessions`.
#[derive(sqlx::FromRow)]
struct StoredSession {
    data: Vec<u8>,
    expiry_date: i64,
}

#[async_trait::async_trait]
impl SessionStore for WebSessionStore {
    async fn create(&self, record: &mut Record) -> session_store::Result<()> {
        // A fresh id is drawn again in the (astronomically unlikely) case it is taken.
        loop {
            let inserted = sqlx::query(
                "INSERT INTO tower_sessions (id, data, expiry_date) VALUES ($1, $2, $3) \
                 ON CONFLICT (id) DO NOTHING",
            )
            .bind(record.id.to_string())
            .bind(encode(record)?)
            .bind(expiry_ms(record))
            .execute(&self.store.pool)
            .await
            .map_err(backend)?;
            if inserted.rows_affected() == 1 {
                return Ok(());
            }
            record.id = Id::default();
        }
    }

    async fn save(&self, record: &Record) -> session_store::Result<()> {
        sqlx::query(
            "INSERT INTO tower_sessions (id, data, expiry_date) VALUES ($1, $2, $3) \
             ON CONFLICT (id) DO UPDATE SET data = excluded.data, expiry_date = excluded.expiry_date",
        )
        .bind(record.id.to_string())
        .bind(encode(record)?)
        .bind(expiry_ms(record))
        .execute(&self.store.pool)
        .await
        .map_err(backend)?;
        Ok(())
    }

    async fn load(&self, id: &Id) -> session_store::Result<Option<Record>> {
        let now = chrono::Utc::now().timestamp_millis();
        let row: Option<StoredSession> = sqlx::query_as(
            "SELECT data, expiry_date FROM tower_sessions WHERE id = $1 AND expiry_date > $2",
        )
        .bind(id.to_string())
        .bind(now)
        .fetch_optional(&self.store.pool)
        .await
        .map_err(backend)?;
        let Some(row) = row else { return Ok(None) };
        let expiry_date = time::OffsetDateTime::from_unix_timestamp_nanos(
            i128::from(row.expiry_date) * 1_000_000,
        )
        .map_err(|e| session_store::Error::Decode(e.to_string()))?;
        let data = serde_json::from_slice(&row.data)
            .map_err(|e| session_store::Error::Decode(e.to_string()))?;
        Ok(Some(Record {
            id: *id,
            data,
            expiry_date,
        }))
    }

    async fn delete(&self, id: &Id) -> session_store::Result<()> {
        sqlx::query("DELETE FROM tower_sessions WHERE id = $1")
            .bind(id.to_string())
            .execute(&self.store.pool)
            .await
            .map_err(backend)?;
        Ok(())
    }
}
