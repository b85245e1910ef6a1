//! The errors view's report: every error group of a range with its count, first and
//! last seen, top statuses and endpoints, from the error rollups (never the raw rows),
//! as the dashboard's cards are made.

use std::collections::HashMap;

use sightline_app::errors::{
    ErrorGroupRow, ErrorSort, ErrorsReport, MAX_LISTED, Share, TOP_PER_GROUP, sort_rows,
};
use sightline_app::range::TimeRange;
use sightline_app::units::EpochMillis;

use crate::store::{Buckets, ErrorGroupPart, ErrorPart, Store, StoreError};

/// Each group's parts, the most requests first (ties by key), and how many there are.
fn by_group<K: Ord + Clone>(
    parts: Vec<ErrorGroupPart>,
    key: impl Fn(&str) -> Option<K>,
) -> HashMap<String, Vec<Share<K>>> {
    let mut groups: HashMap<String, Vec<Share<K>>> = HashMap::new();
    for p in parts {
        if let Some(k) = key(&p.key) {
            groups.entry(p.fingerprint).or_default().push(Share {
                key: k,
                requests: p.requests,
            });
        }
    }
    for shares in groups.values_mut() {
        shares.sort_by(|a, b| b.requests.cmp(&a.requests).then_with(|| a.key.cmp(&b.key)));
    }
    groups
}

/// The top [`TOP_PER_GROUP`] of `shares` and how many are left out.
fn top<K>(shares: Option<Vec<Share<K>>>) -> (Vec<Share<K>>, usize) {
    let mut shares = shares.unwrap_or_default();
    let more = shares.len().saturating_sub(TOP_PER_GROUP);
    shares.truncate(TOP_PER_GROUP);
    (shares, more)
}

/// Every group with requests in the range, unsorted.
async fn all_rows(store: &Store, r: &TimeRange) -> Result<Vec<ErrorGroupRow>, StoreError> {
    let (totals, statuses, endpoints) = tokio::try_join!(
        store.error_group_totals(Buckets::from(r)),
        store.error_group_parts(ErrorPart::Status, Buckets::from(r)),
        store.error_group_parts(ErrorPart::Endpoint, Buckets::from(r)),
    )?;
    let mut statuses = by_group(statuses, |s| s.parse::<i32>().ok());
    let mut endpoints = by_group(endpoints, |e| Some(e.to_string()));
    let total = totals
        .iter()
        .fold(0i64, |sum, t| sum.saturating_add(t.requests));
    Ok(totals
        .into_iter()
        .filter(|t| t.requests > 0)
        .map(|t| {
            let (statuses, more_statuses) = top(statuses.remove(&t.fingerprint));
            let (endpoints, more_endpoints) = top(endpoints.remove(&t.fingerprint));
            ErrorGroupRow {
                share: (total > 0).then(|| t.requests as f64 / total as f64),
                is_new: t.group_first_seen_at >= r.start,
                fingerprint: t.fingerprint,
                pattern: t.pattern,
                example: t.example,
                requests: t.requests,
                first_seen_at: t.first_seen_at,
                last_seen_at: t.last_seen_at,
                group_first_seen_at: t.group_first_seen_at,
                statuses,
                more_statuses,
                endpoints,
                more_endpoints,
            }
        })
        .collect())
}

/// The header of `errors.csv`, one name per cell of [`export`]'s rows.
pub const ERROR_EXPORT_COLUMNS: &[&str] = &[
    "fingerprint",
    "pattern",
    "example",
    "requests",
    "first_seen_at",
    "last_seen_at",
    "group_first_seen_at",
    "is_new",
    "statuses",
    "endpoints",
];

/// `504:2 500:1`, and `+N` when more are left out.
fn shares_cell<K: std::fmt::Display>(shares: &[Share<K>], more: usize) -> String {
    let mut cell = shares
        .iter()
        .map(|s| format!("{}:{}", s.key, s.requests))
        .collect::<Vec<_>>()
        .join(" ");
    if more > 0 {
        cell.push_str(&format!(" +{more}"));
    }
    cell
}

/// Every group of `range` by `sort` (not only the listed ones), as the cells of
/// [`ERROR_EXPORT_COLUMNS`], handed to `each` until it says stop; returns the rows.
pub async fn export<F, Fut>(
    store: &Store,
    range: &TimeRange,
    sort: ErrorSort,
    mut each: F,
) -> Result<u64, StoreError>
where
    F: FnMut(Vec<String>) -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let mut rows = all_rows(store, range).await?;
    sort_rows(&mut rows, sort);
    let instant = sightline_app::format::rfc3339;
    let mut sent = 0;
    for g in rows {
        let cells = vec![
            g.fingerprint,
            g.pattern,
            g.example,
            g.requests.to_string(),
            instant(g.first_seen_at),
            instant(g.last_seen_at),
            instant(g.group_first_seen_at),
            g.is_new.to_string(),
            shares_cell(&g.statuses, g.more_statuses),
            shares_cell(&g.endpoints, g.more_endpoints),
        ];
        if !each(cells).await {
            break;
        }
        sent += 1;
    }
    Ok(sent)
}

/// The groups of `range` by `sort`; at most `limit` listed (and [`MAX_LISTED`]).
pub async fn report(
    store: &Store,
    range: &TimeRange,
    sort: ErrorSort,
    limit: usize,
    now: EpochMillis,
) -> Result<ErrorsReport, StoreError> {
    let mut rows = all_rows(store, range).await?;
    sort_rows(&mut rows, sort);
    let total_errors = rows
        .iter()
        .fold(0i64, |sum, g| sum.saturating_add(g.requests));
    let total_groups = rows.len();
    let new_groups = rows.iter().filter(|g| g.is_new).count();
    rows.truncate(limit.min(MAX_LISTED));
    Ok(ErrorsReport {
        range: range.kind.as_str().to_string(),
        start: range.start,
        end: range.end,
        generated_at: now,
        sort,
        total_errors,
        total_groups,
        new_groups,
        more: total_groups - rows.len(),
        groups: rows,
    })
}
