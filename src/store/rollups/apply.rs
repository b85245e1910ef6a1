//! Applying requests to the rollups, users, sessions and model stats: new requests as
//! they are stored, changes to stored ones as they are made, and ratings. Every write
//! runs inside the caller's transaction, with the raw rows it derives from.

use std::collections::BTreeMap;

use sightline_tracker::wire::RequestKind;
use sqlx::AnyConnection;

use super::sessions::{change_session_and_user, plan_sessions, write_sessions};
use super::upsert::{
    BUCKET, Key, bucket_keys, dimension_rows, upsert_adding, with_bucket, write_dimension_latency,
};
use crate::rollup::{Bucket, RollupDelta, Sums};
use crate::store::dimensions::Dimension;
use crate::store::{NewRequest, StoreError};

/// Applies newly stored requests (each stored once, never a duplicate) to the rollups,
/// sessions, users and model stats, on the caller's transaction.
pub(in crate::store) async fn apply_requests(
    conn: &mut AnyConnection,
    rows: &[&NewRequest],
) -> Result<(), StoreError> {
    let mut delta = RollupDelta::default();
    let mut served: Vec<&NewRequest> = Vec::with_capacity(rows.len());
    for r in rows {
        delta.add_request(r);
        if r.kind == RequestKind::Api {
            served.push(r);
        }
    }
    // Sessions are inferred in time order; the sort is stable, so ties keep arrival order.
    served.sort_by_key(|r| r.created_at);
    let plan = plan_sessions(conn, &served).await?;
    for &t in &plan.session_starts {
        delta.add_session_start(t);
    }
    for &t in &plan.new_users {
        delta.add_new_user(t);
    }
    write_sessions(conn, &plan).await?;
    write_delta(conn, &delta).await
}

/// Applies changes to stored requests (`old` → `new`, same request, same instant, user
/// and session) to the rollups, sessions, users and model stats they counted in, on
/// the caller's transaction: each figure moves by exactly the difference. A rollup row
/// a change empties (a request moving from "no model" to its model) goes, as a rebuild
/// would not have it.
pub(in crate::store) async fn apply_changes(
    conn: &mut AnyConnection,
    changes: &[(NewRequest, NewRequest)],
) -> Result<(), StoreError> {
    if changes.is_empty() {
        return Ok(());
    }
    let mut delta = RollupDelta::default();
    for (old, new) in changes {
        delta.change_request(old, new);
        if new.kind == RequestKind::Api {
            change_session_and_user(conn, old, new).await?;
        }
    }
    write_delta(conn, &delta).await?;
    for ((bucket_ms, bucket_start), model) in delta
        .model
        .iter()
        .filter(|(_, s)| s.requests < 0)
        .map(|(k, _)| k)
    {
        sqlx::query(
            "DELETE FROM rollup_model WHERE bucket_ms = $1 AND bucket_start = $2 \
             AND model_name = $3 AND requests = 0",
        )
        .bind(*bucket_ms)
        .bind(*bucket_start)
        .bind(model.as_str())
        .execute(&mut *conn)
        .await?;
    }
    for (day, model) in delta
        .model_day
        .iter()
        .filter(|(_, s)| s.requests < 0)
        .map(|(k, _)| k)
    {
        sqlx::query(
            "DELETE FROM model_usage_stats WHERE day = $1 AND model_name = $2 AND requests = 0",
        )
        .bind(*day)
        .bind(model.as_str())
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}

async fn write_delta(conn: &mut AnyConnection, d: &RollupDelta) -> Result<(), StoreError> {
    let all = |s: &Sums| {
        vec![
            s.requests,
            s.errors,
            s.latency_sum_us,
            s.prompt_tokens,
            s.completion_tokens,
            s.cost_micros.micros(),
            s.cache_read_tokens,
            s.cache_write_tokens,
            s.reasoning_tokens,
        ]
    };

    let mut buckets: Vec<Bucket> = d.traffic.keys().copied().collect();
    buckets.extend(d.sessions_started.keys().chain(d.new_users.keys()));
    buckets.sort_unstable();
    buckets.dedup();
    let traffic = buckets
        .into_iter()
        .map(|b| {
            let mut values = all(&d.traffic.get(&b).copied().unwrap_or_default());
            values.push(d.sessions_started.get(&b).copied().unwrap_or(0));
            values.push(d.new_users.get(&b).copied().unwrap_or(0));
            (bucket_keys(b), values)
        })
        .collect();
    let traffic_cols: Vec<&str> = SUMS
        .iter()
        .copied()
        .chain(["sessions_started", "new_users"])
        .collect();
    upsert_adding(conn, "rollup_traffic", &BUCKET, &traffic_cols, traffic).await?;

    let binned = |map: &BTreeMap<(Bucket, i32), i64>| {
        map.iter()
            .map(|((b, k), n)| {
                let mut keys = bucket_keys(*b);
                keys.push(Key::Int(i64::from(*k)));
                (keys, vec![*n])
            })
            .collect::<Vec<_>>()
    };
    upsert_adding(
        conn,
        "rollup_latency",
        &with_bucket(["bin"]),
        &["requests"],
        binned(&d.latency),
    )
    .await?;
    let mut touched: Vec<Bucket> = d.latency.keys().map(|(b, _)| *b).collect();
    touched.dedup();
    refresh_latency_quantiles(conn, &touched).await?;
    upsert_adding(
        conn,
        "rollup_status",
        &with_bucket(["status_code"]),
        &["requests"],
        binned(&d.status),
    )
    .await?;
    upsert_adding(
        conn,
        "rollup_model",
        &with_bucket(["model_name"]),
        SUMS,
        dimension_rows(&d.model, all),
    )
    .await?;
    upsert_adding(
        conn,
        "rollup_country",
        &with_bucket(["country"]),
        &["requests", "errors"],
        dimension_rows(&d.country, |s| vec![s.requests, s.errors]),
    )
    .await?;
    upsert_adding(
        conn,
        "rollup_user",
        &with_bucket(["user_id"]),
        &[
            "requests",
            "errors",
            "tokens",
            "cost_micros",
            TOKEN_PARTS[0],
            TOKEN_PARTS[1],
            TOKEN_PARTS[2],
        ],
        dimension_rows(&d.user, |s| {
            vec![
                s.requests,
                s.errors,
                s.tokens(),
                s.cost_micros.micros(),
                s.cache_read_tokens,
                s.cache_write_tokens,
                s.reasoning_tokens,
            ]
        }),
    )
    .await?;
    upsert_adding(
        conn,
        "rollup_endpoint",
        &with_bucket(["endpoint"]),
        &[
            "requests",
            "errors",
            "latency_sum_us",
            "prompt_tokens",
            "completion_tokens",
            "cost_micros",
        ],
        dimension_rows(&d.endpoint, |s| {
            vec![
                s.requests,
                s.errors,
                s.latency_sum_us,
                s.prompt_tokens,
                s.completion_tokens,
                s.cost_micros.micros(),
            ]
        }),
    )
    .await?;
    upsert_adding(
        conn,
        "rollup_service",
        &with_bucket(["service"]),
        &[
            "requests",
            "errors",
            "latency_sum_us",
            "cost_micros",
            "prompt_tokens",
            "completion_tokens",
        ],
        dimension_rows(&d.service, |s| {
            vec![
                s.requests,
                s.errors,
                s.latency_sum_us,
                s.cost_micros.micros(),
                s.prompt_tokens,
                s.completion_tokens,
            ]
        }),
    )
    .await?;
    write_dimension_latency(conn, Dimension::Endpoint, &d.endpoint_latency).await?;
    write_dimension_latency(conn, Dimension::Service, &d.service_latency).await?;
    let user_services = d
        .user_service
        .iter()
        .map(|((user, service), s)| {
            (
                vec![Key::Text(user.clone()), Key::Text(service.clone())],
                vec![s.requests, s.errors, s.tokens(), s.cost_micros.micros()],
            )
        })
        .collect();
    upsert_adding(
        conn,
        "user_provider_cost",
        &["user_id", "service"],
        &["calls", "errors", "tokens", "cost_micros"],
        user_services,
    )
    .await?;
    let model_days = d
        .model_day
        .iter()
        .map(|((day, model), s)| {
            (
                vec![Key::Int(*day), Key::Text(model.clone())],
                vec![
                    s.requests,
                    s.requests - s.errors,
                    s.errors,
                    s.latency_sum_us,
                    s.prompt_tokens,
                    s.completion_tokens,
                    s.cost_micros.micros(),
                    s.cache_read_tokens,
                    s.cache_write_tokens,
                    s.reasoning_tokens,
                ],
            )
        })
        .collect();
    upsert_adding(
        conn,
        "model_usage_stats",
        &["day", "model_name"],
        &[
            "requests",
            "successes",
            "failures",
            "latency_sum_us",
            "prompt_tokens",
            "completion_tokens",
            "cost_micros",
            TOKEN_PARTS[0],
            TOKEN_PARTS[1],
            TOKEN_PARTS[2],
        ],
        model_days,
    )
    .await
}

/// Changes one rating's count in the feedback rollup, at both grains.
pub(in crate::store) async fn add_feedback_rating(
    conn: &mut AnyConnection,
    created_at: i64,
    rating: i32,
    delta: i64,
) -> Result<(), StoreError> {
    let rows = crate::rollup::GRAINS
        .iter()
        .map(|&g| {
            let mut keys = bucket_keys((g, sightline_app::time::floor_ms(created_at, g)));
            keys.push(Key::Int(i64::from(rating)));
            (keys, vec![delta])
        })
        .collect();
    upsert_adding(
        conn,
        "rollup_feedback",
        &with_bucket(["rating"]),
        &["ratings"],
        rows,
    )
    .await
}

/// The columns of [`Sums`] in the traffic and model rollups, in the order `all` gives them.
const SUMS: &[&str] = &[
    "requests",
    "errors",
    "latency_sum_us",
    "prompt_tokens",
    "completion_tokens",
    "cost_micros",
    "cache_read_tokens",
    "cache_write_tokens",
    "reasoning_tokens",
];

/// The token parts every per-user, per-session and per-model-day row keeps beside its total.
const TOKEN_PARTS: [&str; 3] = [
    "cache_read_tokens",
    "cache_write_tokens",
    "reasoning_tokens",
];

/// Recomputes the quantile bins of `buckets` from their (already updated) histograms.
/// The SQL is the migration's, for a list of buckets: nearest rank `ceil(total·q)`,
/// the same integer arithmetic as [`crate::rollup::histogram::rank`].
async fn refresh_latency_quantiles(
    conn: &mut AnyConnection,
    buckets: &[Bucket],
) -> Result<(), StoreError> {
    for chunk in buckets.chunks(400) {
        let pairs = (0..chunk.len())
            .map(|i| format!("(${}, ${})", 2 * i + 1, 2 * i + 2))
            .collect::<Vec<_>>()
            .join(", ");
        let sql = format!(
            "INSERT INTO rollup_latency_quantiles (bucket_ms, bucket_start, p50_bin, p95_bin, p99_bin) \
             SELECT bucket_ms, bucket_start, \
                    MIN(CASE WHEN cum >= (total + 1) / 2 THEN bin END), \
                    MIN(CASE WHEN cum >= (total * 19 + 19) / 20 THEN bin END), \
                    MIN(CASE WHEN cum >= (total * 99 + 99) / 100 THEN bin END) \
             FROM (SELECT bucket_ms, bucket_start, bin, \
                          CAST(SUM(requests) OVER (PARTITION BY bucket_ms, bucket_start ORDER BY bin \
                               ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS BIGINT) AS cum, \
                          CAST(SUM(requests) OVER (PARTITION BY bucket_ms, bucket_start) AS BIGINT) AS total \
                   FROM rollup_latency WHERE (bucket_ms, bucket_start) IN (VALUES {pairs})) c \
             WHERE total > 0 \
             GROUP BY bucket_ms, bucket_start \
             ON CONFLICT (bucket_ms, bucket_start) DO UPDATE SET \
                p50_bin = excluded.p50_bin, p95_bin = excluded.p95_bin, p99_bin = excluded.p99_bin"
        );
        let mut query = sqlx::query(&sql);
        for (bucket_ms, bucket_start) in chunk {
            query = query.bind(*bucket_ms).bind(*bucket_start);
        }
        query.execute(&mut *conn).await?;
    }
    Ok(())
}
