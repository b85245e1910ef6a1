//! Writing the error groups: each new failed request's group (`request_log.error_group`)
//! is chosen before its row is inserted, and its counts go into `rollup_error` and
//! `error_group` in the same transaction; a rebuild replays the stored groups, and the
//! one-time backfill of migration 0013 groups the requests stored before it.

use std::collections::HashSet;

use sightline_app::time::{DAY_MS, floor_ms};
use sqlx::{AnyConnection, FromRow, Row};

use super::requests::RequestPages;
use super::rollups::MAX_BINDS;
use super::{NewRequest, Store, StoreError, values_placeholders};
use crate::rollup::SUM_CAP;
use crate::rollup::error_message::fingerprint;
use crate::rollup::errors::{ErrorDelta, GroupPlan, group_key};

/// The `settings` key migration 0013 leaves while the stored requests wait for their groups.
const PENDING_KEY: &str = "backfill_error_groups";

/// Raw requests read at a time by the backfill and the rebuild.
const PAGE: i64 = 5_000;

/// A group a day of `rollup_error` holds.
#[derive(sqlx::FromRow)]
struct KnownGroup {
    bucket_start: i64,
    fingerprint: String,
}

/// The groups the days of `rows` already hold, as a plan for the rows' groups.
async fn plan_for(
    conn: &mut AnyConnection,
    rows: impl Iterator<Item = i64>,
) -> Result<GroupPlan, StoreError> {
    let days: Vec<i64> = rows
        .map(|t| floor_ms(t, DAY_MS))
        .collect::<HashSet<_>>()
        .into_iter()
        .collect();
    let mut known = Vec::new();
    for chunk in days.chunks(MAX_BINDS) {
        let sql = format!(
            "SELECT DISTINCT bucket_start, fingerprint FROM rollup_error \
             WHERE bucket_ms = {DAY_MS} AND bucket_start IN {}",
            values_placeholders(conn, 1, chunk.len())
        );
        let mut query = sqlx::query(&sql);
        for day in chunk {
            query = query.bind(*day);
        }
        for row in query.fetch_all(&mut *conn).await? {
            let day = KnownGroup::from_row(&row)?;
            known.push((day.bucket_start, day.fingerprint));
        }
    }
    Ok(GroupPlan::new(known))
}

/// The group of each of `rows` (in order; `None` for a request in no group), on the
/// caller's write transaction, so the day's cap sees every earlier batch.
pub(super) async fn assign_groups_in(
    conn: &mut AnyConnection,
    rows: &[&NewRequest],
) -> Result<Vec<Option<String>>, StoreError> {
    let keys: Vec<Option<String>> = rows.iter().map(|r| group_key(r)).collect();
    if keys.iter().all(Option::is_none) {
        return Ok(keys);
    }
    let days = rows
        .iter()
        .zip(&keys)
        .filter(|(_, k)| k.is_some())
        .map(|(r, _)| r.created_at);
    let mut plan = plan_for(conn, days).await?;
    Ok(rows
        .iter()
        .zip(keys)
        .map(|(r, key)| key.map(|k| plan.assign(r.created_at, fingerprint(&k))))
        .collect())
}

/// Counts new requests of their groups (`(request, group)`), on the caller's transaction.
pub(super) async fn apply_error_groups_in(
    conn: &mut AnyConnection,
    rows: &[(&NewRequest, &str)],
) -> Result<(), StoreError> {
    let mut delta = ErrorDelta::default();
    for (r, group) in rows {
        delta.add(r, group);
    }
    write_error_delta(conn, &delta).await
}

/// The later of two instants in SQL, and the earlier.
const LATER: &str = "CASE WHEN excluded.last_seen_at > {t}.last_seen_at \
     THEN excluded.last_seen_at ELSE {t}.last_seen_at END";
const EARLIER: &str = "CASE WHEN excluded.first_seen_at < {t}.first_seen_at \
     THEN excluded.first_seen_at ELSE {t}.first_seen_at END";

async fn write_error_delta(conn: &mut AnyConnection, d: &ErrorDelta) -> Result<(), StoreError> {
    if d.is_empty() {
        return Ok(());
    }
    let cells: Vec<_> = d.cells.iter().collect();
    let span = |t: &str| {
        format!(
            "first_seen_at = {}, last_seen_at = {}",
            EARLIER.replace("{t}", t),
            LATER.replace("{t}", t)
        )
    };
    const CELL_COLS: usize = 8;
    for chunk in cells.chunks(MAX_BINDS / CELL_COLS) {
        let sql = format!(
            "INSERT INTO rollup_error (bucket_ms, bucket_start, fingerprint, endpoint, status_code, \
                requests, first_seen_at, last_seen_at) VALUES {} \
             ON CONFLICT (bucket_ms, bucket_start, fingerprint, endpoint, status_code) DO UPDATE SET \
                requests = CASE WHEN rollup_error.requests + excluded.requests > {SUM_CAP} \
                    THEN {SUM_CAP} ELSE rollup_error.requests + excluded.requests END, {}",
            values_placeholders(conn, chunk.len(), CELL_COLS),
            span("rollup_error"),
        );
        let mut query = sqlx::query(&sql);
        for (((bucket_ms, bucket_start), group, endpoint, status), cell) in chunk {
            query = query
                .bind(*bucket_ms)
                .bind(*bucket_start)
                .bind(group.as_str())
                .bind(endpoint.as_str())
                .bind(*status)
                .bind(cell.requests.min(SUM_CAP))
                .bind(cell.first_seen_at)
                .bind(cell.last_seen_at);
        }
        query.execute(&mut *conn).await?;
    }
    let groups: Vec<_> = d.groups.iter().collect();
    const GROUP_COLS: usize = 5;
    for chunk in groups.chunks(MAX_BINDS / GROUP_COLS) {
        // The first example stays: the one of the group's first stored request.
        let sql = format!(
            "INSERT INTO error_group (fingerprint, pattern, example, first_seen_at, last_seen_at) \
             VALUES {} ON CONFLICT (fingerprint) DO UPDATE SET {}",
            values_placeholders(conn, chunk.len(), GROUP_COLS),
            span("error_group"),
        );
        let mut query = sqlx::query(&sql);
        for (group, seen) in chunk {
            query = query
                .bind(group.as_str())
                .bind(seen.pattern.as_str())
                .bind(seen.example.as_str())
                .bind(seen.first_seen_at)
                .bind(seen.last_seen_at);
        }
        query.execute(&mut *conn).await?;
    }
    Ok(())
}

/// Counts every stored request of a group again, in arrival order (the error tables
/// were emptied): the groups stored with the requests are kept, so the cap's choices
/// stay as they were made.
pub(super) async fn rebuild_error_groups_in(conn: &mut AnyConnection) -> Result<(), StoreError> {
    let mut pages = RequestPages::new("error_group, ", "error_group IS NOT NULL");
    loop {
        let rows = pages.next(conn, PAGE).await?;
        if rows.is_empty() {
            break;
        }
        let mut delta = ErrorDelta::default();
        for row in &rows {
            let group: String = row.try_get("error_group")?;
            delta.add(&super::requests::request_from_row(row)?, &group);
        }
        write_error_delta(conn, &delta).await?;
    }
    Ok(())
}

impl Store {
    /// Groups the requests stored before migration 0013 if it asked for it, in arrival
    /// order through the ingest's own code, in one write transaction that also clears
    /// the request, so it happens once. Returns how many requests got a group.
    pub(super) async fn backfill_error_groups(&self) -> Result<u64, StoreError> {
        let mut tx = self.begin_write().await?;
        if !super::settings::fill_pending(&mut tx, PENDING_KEY).await? {
            return Ok(0);
        }
        let mut plan = GroupPlan::default();
        let mut grouped = 0u64;
        let mut pages = RequestPages::new(
            "",
            "kind = 'api' AND (error IS NOT NULL OR status_code >= 400)",
        );
        loop {
            let rows = pages.next(&mut tx, PAGE).await?;
            if rows.is_empty() {
                break;
            }
            let mut delta = ErrorDelta::default();
            for row in &rows {
                let request = super::requests::request_from_row(row)?;
                let Some(group) = plan.group_of(&request) else {
                    continue;
                };
                sqlx::query("UPDATE request_log SET error_group = $1 WHERE id = $2")
                    .bind(group.as_str())
                    .bind(row.try_get::<i64, _>("id")?)
                    .execute(&mut *tx)
                    .await?;
                delta.add(&request, &group);
                grouped += 1;
            }
            write_error_delta(&mut tx, &delta).await?;
        }
        super::settings::fill_done(&mut tx, PENDING_KEY).await?;
        tx.commit().await?;
        if grouped > 0 {
            tracing::info!(requests = grouped, "grouped the stored failed requests");
        }
        Ok(grouped)
    }
}
