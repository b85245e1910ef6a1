//! The one way rollup rows are written: an upsert that adds to what a row holds, every
//! sum saturated at [`SUM_CAP`], with the key helpers the tables share.

use std::collections::BTreeMap;

use sqlx::AnyConnection;

use super::MAX_BINDS;
use crate::rollup::{Bucket, SUM_CAP, Sums};
use crate::store::dimensions::Dimension;
use crate::store::{StoreError, values_placeholders};

/// A key column's value.
pub(in crate::store) enum Key {
    Int(i64),
    Text(String),
}

/// `a + b` in SQL, saturated at [`SUM_CAP`]. Both are at most the cap (the migration
/// 0006 clamped what was stored before, binds are clamped), so the addition itself
/// never leaves 64 bits on either database.
pub(super) fn capped_sum(a: &str, b: &str) -> String {
    format!("CASE WHEN {a} + {b} > {SUM_CAP} THEN {SUM_CAP} ELSE {a} + {b} END")
}

/// A value bound into a sum: within `-SUM_CAP ..= SUM_CAP`.
pub(super) fn capped(v: i64) -> i64 {
    v.clamp(-SUM_CAP, SUM_CAP)
}

/// `INSERT … ON CONFLICT (keys) DO UPDATE SET v = v + excluded.v` for every row, each
/// sum saturated at [`SUM_CAP`].
pub(in crate::store) async fn upsert_adding(
    conn: &mut AnyConnection,
    table: &str,
    key_cols: &[&str],
    add_cols: &[&str],
    rows: Vec<(Vec<Key>, Vec<i64>)>,
) -> Result<(), StoreError> {
    if rows.is_empty() {
        return Ok(());
    }
    let columns = key_cols.len() + add_cols.len();
    let set = add_cols
        .iter()
        .map(|c| {
            let sum = capped_sum(&format!("{table}.{c}"), &format!("excluded.{c}"));
            format!("{c} = {sum}")
        })
        .collect::<Vec<_>>()
        .join(", ");
    for chunk in rows.chunks(MAX_BINDS / columns) {
        let sql = format!(
            "INSERT INTO {table} ({}, {}) VALUES {} ON CONFLICT ({}) DO UPDATE SET {set}",
            key_cols.join(", "),
            add_cols.join(", "),
            values_placeholders(conn, chunk.len(), columns),
            key_cols.join(", "),
        );
        let mut query = sqlx::query(&sql);
        for (keys, values) in chunk {
            for k in keys {
                query = match k {
                    Key::Int(v) => query.bind(*v),
                    Key::Text(v) => query.bind(v.as_str()),
                };
            }
            for v in values {
                query = query.bind(capped(*v));
            }
        }
        query.execute(&mut *conn).await?;
    }
    Ok(())
}

pub(in crate::store) fn bucket_keys((bucket_ms, bucket_start): Bucket) -> Vec<Key> {
    vec![Key::Int(bucket_ms), Key::Int(bucket_start)]
}

pub(super) const BUCKET: [&str; 2] = ["bucket_ms", "bucket_start"];

pub(in crate::store) fn with_bucket<const N: usize>(extra: [&'static str; N]) -> Vec<&'static str> {
    BUCKET.iter().copied().chain(extra).collect()
}

/// Adds `(bucket, name, bin) → requests` to the latency histogram of `which`.
pub(in crate::store) async fn write_dimension_latency(
    conn: &mut AnyConnection,
    which: Dimension,
    bins: &BTreeMap<(Bucket, String, i32), i64>,
) -> Result<(), StoreError> {
    let rows = bins
        .iter()
        .map(|((b, name, bin), n)| {
            let mut keys = bucket_keys(*b);
            keys.push(Key::Text(name.clone()));
            keys.push(Key::Int(i64::from(*bin)));
            (keys, vec![*n])
        })
        .collect();
    let keys: Vec<&str> = BUCKET
        .iter()
        .copied()
        .chain([which.column(), "bin"])
        .collect();
    upsert_adding(conn, which.latency_table(), &keys, &["requests"], rows).await
}

/// Per-dimension sums (`model`, `country`, …) as upsert rows of `cols`.
pub(super) fn dimension_rows(
    map: &BTreeMap<(Bucket, String), Sums>,
    values: impl Fn(&Sums) -> Vec<i64>,
) -> Vec<(Vec<Key>, Vec<i64>)> {
    map.iter()
        .map(|((b, name), s)| {
            let mut keys = bucket_keys(*b);
            keys.push(Key::Text(name.clone()));
            (keys, values(s))
        })
        .collect()
}
