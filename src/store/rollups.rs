//! Writing the rollups, sessions, users and model stats that new requests add, and
//! rebuilding them all from the raw rows. Every write here runs inside the caller's
//! transaction, together with the raw rows it derives from.

use std::collections::{HashMap, HashSet};

use sightline_tracker::wire::RequestKind;
use sqlx::{AnyConnection, Row};

use super::dimensions::Dimension;
use super::{Store, StoreError, values_placeholders};
use crate::rollup::sessions::{self, KnownSession, KnownUser, SessionPlan};
use crate::rollup::{Bucket, RollupDelta, SUM_CAP, Sums};
use crate::store::NewRequest;

/// Most values bound in one statement: below SQLite's (32 766) and PostgreSQL's (65 535) limits.
pub(super) const MAX_BINDS: usize = 16_000;

/// A key column's value.
pub(super) enum Key {
    Int(i64),
    Text(String),
}

/// `a + b` in SQL, saturated at [`SUM_CAP`]. Both are at most the cap (the migration
/// 0006 clamped what was stored before, binds are clamped), so the addition itself
/// never leaves 64 bits on either database.
fn capped_sum(a: &str, b: &str) -> String {
    format!("CASE WHEN {a} + {b} > {SUM_CAP} THEN {SUM_CAP} ELSE {a} + {b} END")
}

/// A value bound into a sum: within `-SUM_CAP ..= SUM_CAP`.
fn capped(v: i64) -> i64 {
    v.clamp(-SUM_CAP, SUM_CAP)
}

/// `INSERT … ON CONFLICT (keys) DO UPDATE SET v = v + excluded.v` for every row, each
/// sum saturated at [`SUM_CAP`].
pub(super) async fn upsert_adding(
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

pub(super) fn bucket_keys((bucket_ms, bucket_start): Bucket) -> Vec<Key> {
    vec![Key::Int(bucket_ms), Key::Int(bucket_start)]
}

const BUCKET: [&str; 2] = ["bucket_ms", "bucket_start"];

pub(super) fn with_bucket<const N: usize>(extra: [&'static str; N]) -> Vec<&'static str> {
    BUCKET.iter().copied().chain(extra).collect()
}

/// Adds `(bucket, name, bin) → requests` to the latency histogram of `which`.
pub(super) async fn write_dimension_latency(
    conn: &mut AnyConnection,
    which: Dimension,
    bins: &std::collections::BTreeMap<(Bucket, String, i32), i64>,
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
fn dimension_rows(
    map: &std::collections::BTreeMap<(Bucket, String), Sums>,
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

/// Applies newly stored requests (each stored once, never a duplicate) to the rollups,
/// sessions, users and model stats, on the caller's transaction.
pub(super) async fn apply_requests(
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
pub(super) async fn apply_changes(
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

/// Moves the tokens and cost of the session and the user `old` counted in.
async fn change_session_and_user(
    conn: &mut AnyConnection,
    old: &NewRequest,
    new: &NewRequest,
) -> Result<(), StoreError> {
    let tokens =
        (new.prompt_tokens + new.completion_tokens) - (old.prompt_tokens + old.completion_tokens);
    let cost = new.cost_micros - old.cost_micros;
    if tokens == 0 && cost == 0 {
        return Ok(());
    }
    let session_key = match (&old.session_id, &old.user_id) {
        (Some(key), _) => Some(key.clone()),
        // The inferred session of the user that spans the request's instant.
        (None, Some(user)) => {
            sqlx::query_scalar(
                "SELECT session_key FROM user_session WHERE user_id = $1 AND inferred \
             AND started_at <= $2 AND last_seen_at >= $2 ORDER BY started_at DESC LIMIT 1",
            )
            .bind(user.as_str())
            .bind(old.created_at)
            .fetch_optional(&mut *conn)
            .await?
        }
        (None, None) => None,
    };
    if let Some(key) = session_key {
        sqlx::query(
            "UPDATE user_session SET tokens = tokens + $1, cost_micros = cost_micros + $2 \
             WHERE session_key = $3",
        )
        .bind(tokens)
        .bind(cost)
        .bind(key)
        .execute(&mut *conn)
        .await?;
    }
    if let Some(user) = &old.user_id {
        sqlx::query(
            "UPDATE tracked_user SET tokens = tokens + $1, cost_micros = cost_micros + $2 \
             WHERE user_id = $3",
        )
        .bind(tokens)
        .bind(cost)
        .bind(user.as_str())
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}

async fn plan_sessions(
    conn: &mut AnyConnection,
    served: &[&NewRequest],
) -> Result<SessionPlan, StoreError> {
    let explicit: Vec<String> = served
        .iter()
        .filter_map(|r| r.session_id.clone())
        .collect::<HashSet<_>>()
        .into_iter()
        .collect();
    let users: Vec<String> = served
        .iter()
        .filter_map(|r| r.user_id.clone())
        .collect::<HashSet<_>>()
        .into_iter()
        .collect();

    let mut known_sessions = HashSet::new();
    for chunk in explicit.chunks(MAX_BINDS) {
        let sql = format!(
            "SELECT session_key FROM user_session WHERE session_key IN {}",
            values_placeholders(conn, 1, chunk.len())
        );
        let mut query = sqlx::query(&sql);
        for key in chunk {
            query = query.bind(key.as_str());
        }
        for row in query.fetch_all(&mut *conn).await? {
            known_sessions.insert(row.try_get::<String, _>(0)?);
        }
    }

    let mut known_users = HashMap::new();
    for chunk in users.chunks(MAX_BINDS) {
        let sql = format!(
            "SELECT t.user_id, t.first_seen_at, s.session_key, s.started_at, s.last_seen_at \
             FROM tracked_user t LEFT JOIN user_session s ON s.session_key = t.open_session_key \
             WHERE t.user_id IN {}",
            values_placeholders(conn, 1, chunk.len())
        );
        let mut query = sqlx::query(&sql);
        for user in chunk {
            query = query.bind(user.as_str());
        }
        for row in query.fetch_all(&mut *conn).await? {
            let open_session = match row.try_get::<Option<String>, _>(2)? {
                Some(key) => Some(KnownSession {
                    key,
                    started_at: row.try_get(3)?,
                    last_seen_at: row.try_get(4)?,
                }),
                None => None,
            };
            known_users.insert(
                row.try_get(0)?,
                KnownUser {
                    first_seen_at: row.try_get(1)?,
                    open_session,
                },
            );
        }
    }
    Ok(sessions::plan(served, &known_sessions, &known_users))
}

async fn write_sessions(conn: &mut AnyConnection, plan: &SessionPlan) -> Result<(), StoreError> {
    const SESSION_COLS: usize = 14;
    let sum = |table: &str, c: &str| {
        let total = capped_sum(&format!("{table}.{c}"), &format!("excluded.{c}"));
        format!("{c} = {total}")
    };
    let session_sums = [
        "request_count",
        "error_count",
        "tokens",
        "cost_micros",
        "cache_read_tokens",
        "cache_write_tokens",
        "reasoning_tokens",
    ]
    .map(|c| sum("user_session", c))
    .join(", ");
    let user_sums = [
        "requests",
        "errors",
        "tokens",
        "cost_micros",
        "cache_read_tokens",
        "cache_write_tokens",
        "reasoning_tokens",
    ]
    .map(|c| sum("tracked_user", c))
    .join(", ");
    for chunk in plan.sessions.chunks(MAX_BINDS / SESSION_COLS) {
        let sql = format!(
            "INSERT INTO user_session (session_key, user_id, inferred, started_at, last_seen_at, \
                request_count, error_count, tokens, cost_micros, ip, user_agent, cache_read_tokens, \
                cache_write_tokens, reasoning_tokens) VALUES {} \
             ON CONFLICT (session_key) DO UPDATE SET \
                user_id = COALESCE(user_session.user_id, excluded.user_id), \
                started_at = CASE WHEN excluded.started_at < user_session.started_at \
                    THEN excluded.started_at ELSE user_session.started_at END, \
                last_seen_at = CASE WHEN excluded.last_seen_at > user_session.last_seen_at \
                    THEN excluded.last_seen_at ELSE user_session.last_seen_at END, \
                {session_sums}, \
                ip = COALESCE(user_session.ip, excluded.ip), \
                user_agent = COALESCE(user_session.user_agent, excluded.user_agent)",
            values_placeholders(conn, chunk.len(), SESSION_COLS)
        );
        let mut query = sqlx::query(&sql);
        for s in chunk {
            query = query
                .bind(s.key.as_str())
                .bind(s.user_id.as_deref())
                .bind(s.inferred)
                .bind(s.started_at)
                .bind(s.last_seen_at)
                .bind(capped(s.sums.requests))
                .bind(capped(s.sums.errors))
                .bind(capped(s.sums.tokens()))
                .bind(capped(s.sums.cost_micros))
                .bind(s.ip.as_deref())
                .bind(s.user_agent.as_deref())
                .bind(capped(s.sums.cache_read_tokens))
                .bind(capped(s.sums.cache_write_tokens))
                .bind(capped(s.sums.reasoning_tokens));
        }
        query.execute(&mut *conn).await?;
    }

    const USER_COLS: usize = 11;
    for chunk in plan.users.chunks(MAX_BINDS / USER_COLS) {
        let sql = format!(
            "INSERT INTO tracked_user (user_id, first_seen_at, last_seen_at, requests, errors, tokens, \
                cost_micros, open_session_key, cache_read_tokens, cache_write_tokens, \
                reasoning_tokens) VALUES {} \
             ON CONFLICT (user_id) DO UPDATE SET \
                first_seen_at = CASE WHEN excluded.first_seen_at < tracked_user.first_seen_at \
                    THEN excluded.first_seen_at ELSE tracked_user.first_seen_at END, \
                last_seen_at = CASE WHEN excluded.last_seen_at > tracked_user.last_seen_at \
                    THEN excluded.last_seen_at ELSE tracked_user.last_seen_at END, \
                {user_sums}, \
                open_session_key = COALESCE(excluded.open_session_key, tracked_user.open_session_key)",
            values_placeholders(conn, chunk.len(), USER_COLS)
        );
        let mut query = sqlx::query(&sql);
        for u in chunk {
            query = query
                .bind(u.user_id.as_str())
                .bind(u.first_seen_at)
                .bind(u.last_seen_at)
                .bind(capped(u.sums.requests))
                .bind(capped(u.sums.errors))
                .bind(capped(u.sums.tokens()))
                .bind(capped(u.sums.cost_micros))
                .bind(u.open_session_key.as_deref())
                .bind(capped(u.sums.cache_read_tokens))
                .bind(capped(u.sums.cache_write_tokens))
                .bind(capped(u.sums.reasoning_tokens));
        }
        query.execute(&mut *conn).await?;
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
            s.cost_micros,
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

    let binned = |map: &std::collections::BTreeMap<(Bucket, i32), i64>| {
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
                s.cost_micros,
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
                s.cost_micros,
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
                s.cost_micros,
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
                vec![s.requests, s.errors, s.tokens(), s.cost_micros],
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
                    s.cost_micros,
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
pub(super) async fn add_feedback_rating(
    conn: &mut AnyConnection,
    created_at: i64,
    rating: i32,
    delta: i64,
) -> Result<(), StoreError> {
    let rows = crate::rollup::GRAINS
        .iter()
        .map(|&g| {
            let mut keys = bucket_keys((g, sightline_app::time::floor_to(created_at, g)));
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

/// Tables derived from `request_log` (and `feedback_log`, `auth_event`), each with its columns but
/// the surrogate id: emptied and recomputed by a rebuild, compared by tests.
pub const DERIVED_TABLES: [(&str, &[&str]); 19] = [
    (
        "rollup_latency_quantiles",
        &["bucket_ms", "bucket_start", "p50_bin", "p95_bin", "p99_bin"],
    ),
    (
        "rollup_traffic",
        &[
            "bucket_ms",
            "bucket_start",
            "requests",
            "errors",
            "latency_sum_us",
            "prompt_tokens",
            "completion_tokens",
            "cost_micros",
            "sessions_started",
            "new_users",
            "cache_read_tokens",
            "cache_write_tokens",
            "reasoning_tokens",
        ],
    ),
    (
        "rollup_latency",
        &["bucket_ms", "bucket_start", "bin", "requests"],
    ),
    (
        "rollup_status",
        &["bucket_ms", "bucket_start", "status_code", "requests"],
    ),
    (
        "rollup_model",
        &[
            "bucket_ms",
            "bucket_start",
            "model_name",
            "requests",
            "errors",
            "latency_sum_us",
            "prompt_tokens",
            "completion_tokens",
            "cost_micros",
            "cache_read_tokens",
            "cache_write_tokens",
            "reasoning_tokens",
        ],
    ),
    (
        "rollup_country",
        &["bucket_ms", "bucket_start", "country", "requests", "errors"],
    ),
    (
        "rollup_user",
        &[
            "bucket_ms",
            "bucket_start",
            "user_id",
            "requests",
            "errors",
            "tokens",
            "cost_micros",
            "cache_read_tokens",
            "cache_write_tokens",
            "reasoning_tokens",
        ],
    ),
    (
        "rollup_endpoint",
        &[
            "bucket_ms",
            "bucket_start",
            "endpoint",
            "requests",
            "errors",
            "latency_sum_us",
            "prompt_tokens",
            "completion_tokens",
            "cost_micros",
        ],
    ),
    (
        "rollup_endpoint_latency",
        &["bucket_ms", "bucket_start", "endpoint", "bin", "requests"],
    ),
    (
        "rollup_service",
        &[
            "bucket_ms",
            "bucket_start",
            "service",
            "requests",
            "errors",
            "latency_sum_us",
            "cost_micros",
            "prompt_tokens",
            "completion_tokens",
        ],
    ),
    (
        "rollup_service_latency",
        &["bucket_ms", "bucket_start", "service", "bin", "requests"],
    ),
    (
        "rollup_feedback",
        &["bucket_ms", "bucket_start", "rating", "ratings"],
    ),
    (
        "user_provider_cost",
        &[
            "user_id",
            "service",
            "calls",
            "errors",
            "tokens",
            "cost_micros",
        ],
    ),
    (
        "rollup_auth",
        &[
            "bucket_ms",
            "bucket_start",
            "event_type",
            "events",
            "failures",
        ],
    ),
    (
        "rollup_error",
        &[
            "bucket_ms",
            "bucket_start",
            "fingerprint",
            "endpoint",
            "status_code",
            "requests",
            "first_seen_at",
            "last_seen_at",
        ],
    ),
    (
        "error_group",
        &[
            "fingerprint",
            "pattern",
            "example",
            "first_seen_at",
            "last_seen_at",
        ],
    ),
    (
        "model_usage_stats",
        &[
            "day",
            "model_name",
            "requests",
            "successes",
            "failures",
            "latency_sum_us",
            "prompt_tokens",
            "completion_tokens",
            "cost_micros",
            "cache_read_tokens",
            "cache_write_tokens",
            "reasoning_tokens",
        ],
    ),
    (
        "user_session",
        &[
            "session_key",
            "user_id",
            "inferred",
            "started_at",
            "last_seen_at",
            "request_count",
            "error_count",
            "tokens",
            "cost_micros",
            "ip",
            "user_agent",
            "cache_read_tokens",
            "cache_write_tokens",
            "reasoning_tokens",
        ],
    ),
    (
        "tracked_user",
        &[
            "user_id",
            "first_seen_at",
            "last_seen_at",
            "requests",
            "errors",
            "tokens",
            "cost_micros",
            "open_session_key",
            "cache_read_tokens",
            "cache_write_tokens",
            "reasoning_tokens",
        ],
    ),
];

impl Store {
    /// Deletes all traffic data: requests, feedback, threats, auth events, alerts and
    /// everything derived from them. Accounts, API keys, prices and settings stay.
    pub async fn clear_traffic_data(&self) -> Result<(), StoreError> {
        let mut tx = self.begin_write().await?;
        for table in [
            "request_log",
            "feedback_log",
            "threat_log",
            "auth_event",
            "alerts",
            "otlp_span",
        ]
        .into_iter()
        .chain(DERIVED_TABLES.iter().map(|(t, _)| *t))
        {
            sqlx::query(&format!("DELETE FROM {table}"))
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Whether no request has been stored yet.
    pub async fn has_no_requests(&self) -> Result<bool, StoreError> {
        let any = sqlx::query("SELECT 1 FROM request_log LIMIT 1")
            .fetch_optional(&self.pool)
            .await?;
        Ok(any.is_none())
    }

    /// The start of the oldest hourly rollup when it is older than the oldest raw
    /// request (raw rows were pruned, their rollups kept): a rebuild would lose it.
    pub async fn rollups_older_than_raw(&self) -> Result<Option<i64>, StoreError> {
        let oldest_rollup: Option<i64> =
            sqlx::query_scalar("SELECT MIN(bucket_start) FROM rollup_traffic WHERE bucket_ms = $1")
                .bind(sightline_app::time::HOUR_MS)
                .fetch_one(&self.pool)
                .await?;
        let oldest_raw: Option<i64> = sqlx::query_scalar("SELECT MIN(created_at) FROM request_log")
            .fetch_one(&self.pool)
            .await?;
        Ok(match (oldest_rollup, oldest_raw) {
            (Some(r), Some(raw))
                if r < sightline_app::time::floor_to(raw, sightline_app::time::HOUR_MS) =>
            {
                Some(r)
            }
            (Some(r), None) => Some(r),
            _ => None,
        })
    }

    /// Recomputes every rollup, session, user and model stat from the raw rows, in
    /// arrival order, through the same code the ingest uses. `progress` is told how
    /// many requests are done out of how many. Returns the number of requests replayed.
    pub async fn rebuild_rollups(
        &self,
        mut progress: impl FnMut(u64, u64),
    ) -> Result<u64, StoreError> {
        const PAGE: i64 = 5_000;
        let mut tx = self.begin_write().await?;
        for (table, _) in DERIVED_TABLES {
            sqlx::query(&format!("DELETE FROM {table}"))
                .execute(&mut *tx)
                .await?;
        }
        let total: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM request_log")
            .fetch_one(&mut *tx)
            .await?;
        let mut done = 0u64;
        let mut pages = super::requests::RequestPages::new("", "TRUE");
        loop {
            let rows = pages.next(&mut tx, PAGE).await?;
            if rows.is_empty() {
                break;
            }
            let requests = rows
                .iter()
                .map(super::requests::request_from_row)
                .collect::<Result<Vec<_>, _>>()?;
            let refs: Vec<&NewRequest> = requests.iter().collect();
            apply_requests(&mut tx, &refs).await?;
            done += requests.len() as u64;
            progress(done, total as u64);
        }
        let ratings = sqlx::query("SELECT created_at, rating FROM feedback_log")
            .fetch_all(&mut *tx)
            .await?;
        for row in ratings {
            add_feedback_rating(&mut tx, row.try_get(0)?, row.try_get(1)?, 1).await?;
        }
        super::auth_events::rebuild_auth_rollup_in(&mut tx).await?;
        super::error_groups::rebuild_error_groups_in(&mut tx).await?;
        tx.commit().await?;
        Ok(done)
    }
}
