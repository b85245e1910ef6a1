//! `model_price` and `settings`: what admins change in the settings page.

use sqlx::Row;

use super::{Store, StoreError, map_rows};
use crate::pricing::ModelPrice;

impl Store {
    /// The prices set in the settings, overriding the built-in table.
    pub async fn model_prices(&self) -> Result<Vec<(String, ModelPrice)>, StoreError> {
        let rows = sqlx::query(
            "SELECT model_name, prompt_micros_per_mtok, completion_micros_per_mtok FROM model_price \
             ORDER BY model_name",
        )
        .fetch_all(&self.pool)
        .await?;
        map_rows(&rows, |r| {
            Ok((
                r.try_get(0)?,
                ModelPrice {
                    prompt_micros_per_mtok: r.try_get(1)?,
                    completion_micros_per_mtok: r.try_get(2)?,
                },
            ))
        })
    }

    /// Sets the price of a model.
    pub async fn set_model_price(
        &self,
        model: &str,
        price: ModelPrice,
        now: i64,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO model_price (model_name, prompt_micros_per_mtok, completion_micros_per_mtok, updated_at) \
             VALUES ($1, $2, $3, $4) ON CONFLICT (model_name) DO UPDATE SET \
                prompt_micros_per_mtok = excluded.prompt_micros_per_mtok, \
                completion_micros_per_mtok = excluded.completion_micros_per_mtok, \
                updated_at = excluded.updated_at",
        )
        .bind(model)
        .bind(price.prompt_micros_per_mtok)
        .bind(price.completion_micros_per_mtok)
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
}
