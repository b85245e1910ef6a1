//! Users and sessions: which sessions and users a batch of served requests continues or
//! starts (read from `user_session` and `tracked_user`), writing them, and moving a
//! changed request's tokens and cost between them.

use std::collections::{HashMap, HashSet};

use sqlx::{AnyConnection, FromRow};

use super::MAX_BINDS;
use super::upsert::{capped, capped_sum};
use crate::rollup::sessions::{self, KnownSession, KnownUser, SessionPlan};
use crate::store::{NewRequest, StoreError, values_placeholders};

/// Moves the tokens and cost of the session and the user `old` counted in.
pub(super) async fn change_session_and_user(
    conn: &mut AnyConnection,
    old: &NewRequest,
    new: &NewRequest,
) -> Result<(), StoreError> {
    let tokens =
        (new.prompt_tokens + new.completion_tokens) - (old.prompt_tokens + old.completion_tokens);
    let cost = new.cost_micros.saturating_sub(old.cost_micros);
    if tokens == 0 && cost.is_zero() {
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

/// A known user and the session it has open, if any (`tracked_user` left-joined to
/// `user_session`).
#[derive(FromRow)]
struct KnownUserRecord {
    user_id: String,
    first_seen_at: i64,
    session_key: Option<String>,
    started_at: Option<i64>,
    last_seen_at: Option<i64>,
}

pub(super) async fn plan_sessions(
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
        let mut query = sqlx::query_scalar::<_, String>(&sql);
        for key in chunk {
            query = query.bind(key.as_str());
        }
        known_sessions.extend(query.fetch_all(&mut *conn).await?);
    }

    let mut known_users = HashMap::new();
    for chunk in users.chunks(MAX_BINDS) {
        let sql = format!(
            "SELECT t.user_id, t.first_seen_at, s.session_key, s.started_at, s.last_seen_at \
             FROM tracked_user t LEFT JOIN user_session s ON s.session_key = t.open_session_key \
             WHERE t.user_id IN {}",
            values_placeholders(conn, 1, chunk.len())
        );
        let mut query = sqlx::query_as::<_, KnownUserRecord>(&sql);
        for user in chunk {
            query = query.bind(user.as_str());
        }
        for row in query.fetch_all(&mut *conn).await? {
            // The join finds the open session whenever the user names one.
            let open_session = match (row.session_key, row.started_at, row.last_seen_at) {
                (Some(key), Some(started_at), Some(last_seen_at)) => Some(KnownSession {
                    key,
                    started_at,
                    last_seen_at,
                }),
                _ => None,
            };
            known_users.insert(
                row.user_id,
                KnownUser {
                    first_seen_at: row.first_seen_at,
                    open_session,
                },
            );
        }
    }
    Ok(sessions::plan(served, &known_sessions, &known_users))
}

pub(super) async fn write_sessions(
    conn: &mut AnyConnection,
    plan: &SessionPlan,
) -> Result<(), StoreError> {
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
                .bind(capped(s.sums.cost_micros.micros()))
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
                .bind(capped(u.sums.cost_micros.micros()))
                .bind(u.open_session_key.as_deref())
                .bind(capped(u.sums.cache_read_tokens))
                .bind(capped(u.sums.cache_write_tokens))
                .bind(capped(u.sums.reasoning_tokens));
        }
        query.execute(&mut *conn).await?;
    }
    Ok(())
}
