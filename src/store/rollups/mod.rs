//! Writing the rollups, sessions, users and model stats that new requests add, and
//! rebuilding them all from the raw rows. Every write here runs inside the caller's
//! transaction, together with the raw rows it derives from. [`upsert`] owns the
//! additive upsert every rollup table is written with; [`apply`] turns requests,
//! changes and ratings into rollup rows; [`sessions`] infers and writes sessions and
//! users; [`rebuild`] owns the list of derived tables and recomputing them.

mod apply;
mod rebuild;
mod sessions;
mod upsert;

pub(super) use apply::{add_feedback_rating, apply_changes, apply_requests};
pub(super) use upsert::{Key, bucket_keys, upsert_adding, with_bucket, write_dimension_latency};

/// Most values bound in one statement: below SQLite's (32 766) and PostgreSQL's (65 535) limits.
pub(super) const MAX_BINDS: usize = 16_000;
