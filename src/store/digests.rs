//! `digest`: the digests sent to the webhooks, one row per kind and period. Adding the
//! row is how a replica claims a digest: the database lets one INSERT in, whichever
//! replica's comes first.

use super::{Store, StoreError};

impl Store {
    /// Claims the `kind` digest of `[start, end)` at `now`: `true` when this call added
    /// its row (the caller sends it), `false` when it was claimed before.
    pub async fn claim_digest(
        &self,
        kind: &str,
        start: i64,
        end: i64,
        now: i64,
    ) -> Result<bool, StoreError> {
        let added = sqlx::query(
            "INSERT INTO digest (kind, period_start, period_end, claimed_at) \
             VALUES ($1, $2, $3, $4) ON CONFLICT (kind, period_start) DO NOTHING",
        )
        .bind(kind)
        .bind(start)
        .bind(end)
        .bind(now)
        .execute(&self.pool)
        .await?
        .rows_affected();
        Ok(added == 1)
    }
}
