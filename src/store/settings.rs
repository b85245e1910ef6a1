//! `model_price` and `settings`: what admins change in the settings page.

use sqlx::AnyConnection;

use super::{Store, StoreError};
use crate::pricing::ModelPrice;

/// A row of `model_price`.
#[derive(sqlx::FromRow)]
struct PriceRecord {
    model_name: String,
    #[sqlx(flatten)]
    price: ModelPrice,
}

/// The `settings` key of the retention an admin chose.
const RETENTION_DAYS: &str = "retention_days";
/// The `settings` key of the instant raw requests were ever pruned up to.
const PRUNED_BEFORE: &str = "requests_pruned_before";

/// Whether a migration left the one-time fill `key` for the server to do (after it,
/// in Rust: see `Store::migrate`).
pub(super) async fn fill_pending(conn: &mut AnyConnection, key: &str) -> Result<bool, StoreError> {
    let pending: Option<String> = sqlx::query_scalar("SELECT value FROM settings WHERE key = $1")
        .bind(key)
        .fetch_optional(&mut *conn)
        .await?;
    Ok(pending.is_some())
}

/// Marks the one-time fill `key` done, in the transaction that did it.
pub(super) async fn fill_done(conn: &mut AnyConnection, key: &str) -> Result<(), StoreError> {
    sqlx::query("DELETE FROM settings WHERE key = $1")
        .bind(key)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

impl Store {
    /// The prices set in the settings, overriding the built-in table.
    pub async fn model_prices(&self) -> Result<Vec<(String, ModelPrice)>, StoreError> {
        let rows: Vec<PriceRecord> = sqlx::query_as(
            "SELECT model_name, prompt_micros_per_mtok, completion_micros_per_mtok, \
                    cache_read_micros_per_mtok, cache_write_micros_per_mtok, reasoning_micros_per_mtok \
             FROM model_price ORDER BY model_name",
        )
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.into_iter().map(|r| (r.model_name, r.price)).collect())
    }

    /// Sets the price of a model.
    pub async fn set_model_price(
        &self,
        model: &str,
        price: ModelPrice,
        now: i64,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO model_price (model_name, prompt_micros_per_mtok, completion_micros_per_mtok, \
                cache_read_micros_per_mtok, cache_write_micros_per_mtok, reasoning_micros_per_mtok, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (model_name) DO UPDATE SET \
                prompt_micros_per_mtok = excluded.prompt_micros_per_mtok, \
                completion_micros_per_mtok = excluded.completion_micros_per_mtok, \
                cache_read_micros_per_mtok = excluded.cache_read_micros_per_mtok, \
                cache_write_micros_per_mtok = excluded.cache_write_micros_per_mtok, \
                reasoning_micros_per_mtok = excluded.reasoning_micros_per_mtok, \
                updated_at = excluded.updated_at",
        )
        .bind(model)
        .bind(price.prompt_micros_per_mtok)
        .bind(price.completion_micros_per_mtok)
        .bind(price.cache_read_micros_per_mtok)
        .bind(price.cache_write_micros_per_mtok)
        .bind(price.reasoning_micros_per_mtok)
        .bind(now)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Removes a price set in the settings; says whether there was one.
    pub async fn delete_model_price(&self, model: &str) -> Result<bool, StoreError> {
        let done = sqlx::query("DELETE FROM model_price WHERE model_name = $1")
            .bind(model)
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected() > 0)
    }

    /// The number of days of raw requests an admin chose to keep, if any.
    pub async fn retention_days(&self) -> Result<Option<u32>, StoreError> {
        Ok(self
            .setting(RETENTION_DAYS)
            .await?
            .and_then(|v| v.parse().ok()))
    }

    /// Records the number of days of raw requests to keep.
    pub async fn set_retention_days(&self, days: u32, now: i64) -> Result<(), StoreError> {
        self.set_setting(RETENTION_DAYS, &days.to_string(), now)
            .await
    }

    /// The latest instant raw requests were pruned up to, if they ever were.
    pub async fn pruned_before(&self) -> Result<Option<i64>, StoreError> {
        Ok(self
            .setting(PRUNED_BEFORE)
            .await?
            .and_then(|v| v.parse().ok()))
    }

    /// Records that raw requests before `cutoff` are being pruned; an earlier instant
    /// recorded before stays only if it is later (the mark never moves back).
    pub async fn raise_pruned_before(&self, cutoff: i64, now: i64) -> Result<(), StoreError> {
        let mut tx = self.begin_write().await?;
        sqlx::query(
            "INSERT INTO settings (key, value, updated_at) VALUES ($1, $2, $3) \
             ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at \
             WHERE CAST(settings.value AS BIGINT) < CAST(excluded.value AS BIGINT)",
        )
        .bind(PRUNED_BEFORE)
        .bind(cutoff.to_string())
        .bind(now)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    async fn setting(&self, key: &str) -> Result<Option<String>, StoreError> {
        Ok(
            sqlx::query_scalar("SELECT value FROM settings WHERE key = $1")
                .bind(key)
                .fetch_optional(&self.pool)
                .await?,
        )
    }

    async fn set_setting(&self, key: &str, value: &str, now: i64) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO settings (key, value, updated_at) VALUES ($1, $2, $3) \
             ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at",
        )
        .bind(key)
        .bind(value)
        .bind(now)
        .execute(&self.pool)
        .await?;
        Ok(())
    }
}
