//! Signing in to the dashboard: the password check behind a throttle. Five failed
//! attempts in ten minutes from one IP, or for one username, lock further attempts
//! out until the oldest of them is ten minutes old. Every attempt is an `auth_event`
//! (source `sightline`); reaching the limit raises an `invalid_auth` threat.

use sightline_app::auth::CurrentUser;
use sightline_tracker::wire::{AuthEventType, Severity, ThreatType};

use super::password;
use crate::store::{
    Account, AuthSource, NewAuthEvent, NewThreat, Store, StoreError, credential_stamp,
};

/// Failed attempts allowed in [`WINDOW_MS`].
pub const MAX_FAILURES: i64 = 5;
/// The throttling window: ten minutes.
pub const WINDOW_MS: i64 = 10 * 60_000;

/// A sign-in attempt and where it came from.
#[derive(Clone, Debug)]
pub struct Attempt<'a> {
    pub username: &'a str,
    pub password: &'a str,
    pub ip: String,
    pub user_agent: Option<String>,
}

/// Why a sign-in was refused.
#[derive(Debug, thiserror::Error)]
pub enum Refused {
    #[error("Wrong username or password.")]
    WrongCredentials,
    #[error("Too many failed sign-ins. Try again in {} minute{}.", .minutes, if *.minutes == 1 { "" } else { "s" })]
    Throttled { minutes: i64 },
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Checks the attempt; on success returns the account and the credential stamp of its
/// password (the caller opens the session with both).
pub async fn sign_in(
    store: &Store,
    attempt: &Attempt<'_>,
    now: i64,
) -> Result<(Account, String), Refused> {
    let failures = store
        .failed_logins_since(&attempt.ip, attempt.username, now - WINDOW_MS)
        .await?;
    let locked_since = [
        (failures.by_ip >= MAX_FAILURES)
            .then_some(failures.oldest_by_ip)
            .flatten(),
        (failures.by_username >= MAX_FAILURES)
            .then_some(failures.oldest_by_username)
            .flatten(),
    ]
    .into_iter()
    .flatten()
    .max();
    if let Some(oldest) = locked_since {
        record(
            store,
            attempt,
            now,
            AuthEventType::LoginFailed,
            Some("throttled"),
        )
        .await?;
        raise_threat(store, attempt, now).await?;
        let minutes = ((oldest + WINDOW_MS - now).max(1) + 59_999) / 60_000;
        return Err(Refused::Throttled { minutes });
    }

    let found = store.account_for_login(attempt.username).await?;
    let (account, hash) = match found {
        Some((account, hash)) => (Some(account), Some(hash)),
        None => (None, None),
    };
    let stamp = hash.as_deref().map(credential_stamp);
    if password::verify(attempt.password, hash).await
        && let (Some(account), Some(stamp)) = (account, stamp)
    {
        record(store, attempt, now, AuthEventType::Login, None).await?;
        store.touch_account_login(account.id, now).await?;
        return Ok((account, stamp));
    }
    record(
        store,
        attempt,
        now,
        AuthEventType::LoginFailed,
        Some("wrong username or password"),
    )
    .await?;
    if failures.by_ip + 1 >= MAX_FAILURES || failures.by_username + 1 >= MAX_FAILURES {
        raise_threat(store, attempt, now).await?;
    }
    Err(Refused::WrongCredentials)
}

/// Records that `user` signed out.
pub async fn signed_out(
    store: &Store,
    user: &CurrentUser,
    ip: String,
    user_agent: Option<String>,
    now: i64,
) -> Result<(), StoreError> {
    write_event(
        store,
        now,
        AuthEventType::Logout,
        &user.username,
        ip,
        user_agent,
        None,
    )
    .await
}

/// Records that `admin` gave `username` a new password (from `ip`).
pub async fn password_reset(
    store: &Store,
    username: &str,
    admin: &CurrentUser,
    ip: String,
    user_agent: Option<String>,
    now: i64,
) -> Result<(), StoreError> {
    let event = NewAuthEvent {
        metadata: Some(serde_json::json!({ "by": admin.username }).to_string()),
        ..own_event(
            now,
            AuthEventType::PasswordReset,
            username,
            ip,
            user_agent,
            None,
        )
    };
    store
        .record_auth_events_from(AuthSource::Sightline, &[event])
        .await
}

async fn record(
    store: &Store,
    attempt: &Attempt<'_>,
    now: i64,
    event_type: AuthEventType,
    error: Option<&str>,
) -> Result<(), StoreError> {
    let ip = attempt.ip.clone();
    let ua = attempt.user_agent.clone();
    write_event(store, now, event_type, attempt.username, ip, ua, error).await
}

/// One `auth_event` of Sightline's own; a failure when `error` is given.
async fn write_event(
    store: &Store,
    now: i64,
    event_type: AuthEventType,
    username: &str,
    ip: String,
    user_agent: Option<String>,
    error: Option<&str>,
) -> Result<(), StoreError> {
    let event = own_event(now, event_type, username, ip, user_agent, error);
    store
        .record_auth_events_from(AuthSource::Sightline, &[event])
        .await
}

fn own_event(
    now: i64,
    event_type: AuthEventType,
    username: &str,
    ip: String,
    user_agent: Option<String>,
    error: Option<&str>,
) -> NewAuthEvent {
    NewAuthEvent {
        created_at: now,
        event_type,
        user_id: Some(username.chars().take(128).collect()),
        ip: Some(ip),
        user_agent,
        success: error.is_none(),
        error: error.map(str::to_owned),
        metadata: None,
    }
}

/// An `invalid_auth` threat for the attempt's IP and username; while it is open,
/// repeats fold into it.
async fn raise_threat(store: &Store, attempt: &Attempt<'_>, now: i64) -> Result<(), StoreError> {
    store
        .record_threats(&[NewThreat {
            created_at: now,
            threat_type: ThreatType::InvalidAuth,
            severity: Severity::High,
            ip: Some(attempt.ip.clone()),
            user_id: Some(attempt.username.chars().take(128).collect()),
            country: None,
            endpoint: Some("/login".into()),
            request_id: None,
            description: format!(
                "{MAX_FAILURES} or more failed sign-ins to the Sightline dashboard within 10 minutes"
            ),
        }])
        .await?;
    Ok(())
}
