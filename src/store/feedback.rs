//! `feedback_log`: ratings of responses. Rating a request again changes the rating
//! (and moves its count in the feedback rollup) instead of adding one.

use sqlx::AnyConnection;

use super::{Store, StoreError, rollups};

/// A rating about to be stored, already validated (`rating` in 1..=5).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewFeedback {
    pub request_id: String,
    /// '' for an anonymous rater.
    pub user_id: String,
    pub rating: i32,
    pub comment: Option<String>,
    pub created_at: i64,
}

/// What storing one rating did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FeedbackOutcome {
    Created,
    Updated,
}

impl Store {
    /// Stores ratings in one transaction, creating or updating each.
    pub async fn record_feedback(
        &self,
        items: &[NewFeedback],
    ) -> Result<Vec<FeedbackOutcome>, StoreError> {
        let mut tx = self.begin_write().await?;
        let out = record_feedback_in(&mut tx, items).await?;
        tx.commit().await?;
        Ok(out)
    }
}

/// The same on the caller's write transaction.
/// The rating a rater gave a request before.
#[derive(sqlx::FromRow)]
struct StoredRating {
    rating: i32,
    created_at: i64,
}

pub(super) async fn record_feedback_in(
    conn: &mut AnyConnection,
    items: &[NewFeedback],
) -> Result<Vec<FeedbackOutcome>, StoreError> {
    let mut outcomes = Vec::with_capacity(items.len());
    for f in items {
        let existing: Option<StoredRating> = sqlx::query_as(
            "SELECT rating, created_at FROM feedback_log WHERE request_id = $1 AND user_id = $2",
        )
        .bind(&f.request_id)
        .bind(&f.user_id)
        .fetch_optional(&mut *conn)
        .await?;
        match existing {
            Some(StoredRating {
                rating: old_rating,
                created_at,
            }) => {
                sqlx::query(
                    "UPDATE feedback_log SET rating = $1, comment = $2, updated_at = $3 \
                         WHERE request_id = $4 AND user_id = $5",
                )
                .bind(f.rating)
                .bind(&f.comment)
                .bind(f.created_at)
                .bind(&f.request_id)
                .bind(&f.user_id)
                .execute(&mut *conn)
                .await?;
                if old_rating != f.rating {
                    rollups::add_feedback_rating(conn, created_at, old_rating, -1).await?;
                    rollups::add_feedback_rating(conn, created_at, f.rating, 1).await?;
                }
                outcomes.push(FeedbackOutcome::Updated);
            }
            None => {
                sqlx::query(
                        "INSERT INTO feedback_log (request_id, user_id, rating, comment, created_at, updated_at) \
                         VALUES ($1, $2, $3, $4, $5, $5)",
                    )
                    .bind(&f.request_id)
                    .bind(&f.user_id)
                    .bind(f.rating)
                    .bind(&f.comment)
                    .bind(f.created_at)
                    .execute(&mut *conn)
                    .await?;
                rollups::add_feedback_rating(conn, f.created_at, f.rating, 1).await?;
                outcomes.push(FeedbackOutcome::Created);
            }
        }
    }
    Ok(outcomes)
}
