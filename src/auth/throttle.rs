//! Signing in to the dashboard: the password check behind a throttle and a bound on
//! concurrent password hashing.
//!
//! Failed attempts are counted three ways over ten minutes: for one username from one
//! address (5 lock that pair out), for one address over all usernames (50), and for one
//! username from everywhere (50, the slower global back-off). So five wrong guesses
//! for `admin` from anywhere lock out only the guesser; the owner signs in from their
//! own address until a distributed attack passes the global bound. A lock lasts until
//! the oldest failure that caused it is ten minutes old.
//!
//! Each attempt reserves its place before the password is checked, so parallel
//! attempts cannot all read "no failures yet": the counts are what the database
//! recorded (shared by replicas), or what this process knows if that is more, plus the
//! attempts in flight. Failures are `auth_event`s (source `sightline`); reaching a
//! limit raises an `invalid_auth` threat. Throttled attempts are not written one by
//! one: they are counted in memory and written as one summary event per username and
//! address per minute, each with the count in its metadata.
//!
//! Argon2 needs 19 MiB and a core for every check, so at most as many checks as the
//! gate has slots (by default the number of CPUs) run at once; an attempt beyond that is refused with 429 at
//! once, before any work.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use sightline_app::auth::CurrentUser;
use sightline_tracker::wire::{AuthEventType, Severity, ThreatType};
use tokio::sync::Semaphore;

use super::password;
use crate::store::{
    Account, AuthSource, FailedLogins, NewAuthEvent, NewThreat, Store, StoreError, credential_stamp,
};

/// Failed attempts allowed in [`WINDOW_MS`] for one username from one address.
pub const MAX_FAILURES: i64 = 5;
/// Failed attempts allowed in [`WINDOW_MS`] from one address (over all usernames) and
/// for one username (from all addresses).
pub const MAX_WIDE_FAILURES: i64 = 50;
/// The throttling window: ten minutes.
pub const WINDOW_MS: i64 = 10 * 60_000;
/// Throttled attempts of one username and address are written at most this often.
pub const SUMMARY_EVERY_MS: i64 = 60_000;
/// How many usernames, addresses and pairs the process remembers (beyond it the
/// database's counts alone apply, and summaries of throttled attempts are dropped).
const MAX_KEYS: usize = 100_000;

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
    /// Every password-hashing slot is taken: try again in a second.
    #[error("Too many sign-ins at once. Try again in a moment.")]
    Busy,
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl Refused {
    /// The seconds a client should wait before trying again (for `Retry-After`).
    pub fn retry_after_secs(&self) -> Option<i64> {
        match self {
            Refused::Throttled { minutes } => Some(minutes * 60),
            Refused::Busy => Some(1),
            _ => None,
        }
    }
}

/// What one counter is about.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
enum Key {
    Pair(String, String),
    Ip(String),
    User(String),
}

impl Key {
    fn limit(&self) -> i64 {
        match self {
            Key::Pair(..) => MAX_FAILURES,
            Key::Ip(_) | Key::User(_) => MAX_WIDE_FAILURES,
        }
    }
}

fn keys(attempt: &Attempt<'_>) -> [Key; 3] {
    let user = stored_username(attempt.username);
    [
        Key::Pair(user.clone(), attempt.ip.clone()),
        Key::Ip(attempt.ip.clone()),
        Key::User(user),
    ]
}

/// What the process knows of one key.
#[derive(Default)]
struct Counter {
    /// The most recent failures (at most the key's limit), oldest first.
    failures: VecDeque<i64>,
    /// Attempts reserved and not yet decided.
    in_flight: i64,
}

/// Throttled attempts of one (username, address) not yet written.
struct Pending {
    count: u64,
    written_at: i64,
    flush_scheduled: bool,
}

#[derive(Default)]
struct State {
    counters: HashMap<Key, Counter>,
    throttled: HashMap<(String, String), Pending>,
}

impl State {
    /// Drops what no longer matters at `now`, when the maps are full.
    fn make_room(&mut self, now: i64) {
        if self.counters.len() >= MAX_KEYS {
            self.counters.retain(|_, c| {
                c.in_flight > 0 || c.failures.back().is_some_and(|t| *t > now - WINDOW_MS)
            });
        }
    }
}

/// The sign-in gate of one process: the counters of recent attempts and the hashing
/// slots. Shared by every sign-in of the process.
pub struct Gate {
    store: Store,
    state: Mutex<State>,
    /// The password-hashing slots.
    hashing: Semaphore,
}

/// A reserved attempt: counted in flight until it is decided (or dropped).
struct Reservation<'g> {
    gate: &'g Gate,
    keys: [Key; 3],
    /// The failures the database had recorded for each key.
    recorded: [i64; 3],
    failed_at: Option<i64>,
}

impl Reservation<'_> {
    /// Whether one more failure reaches the limit of one of the keys.
    fn failure_reaches_a_limit(&self, now: i64) -> bool {
        let state = self.gate.state.lock().unwrap_or_else(|e| e.into_inner());
        self.keys.iter().zip(self.recorded).any(|(key, recorded)| {
            let known = state
                .counters
                .get(key)
                .map_or(0, |c| recent(&c.failures, now));
            known.max(recorded) + 1 >= key.limit()
        })
    }
}

impl Drop for Reservation<'_> {
    fn drop(&mut self) {
        let mut state = self.gate.state.lock().unwrap_or_else(|e| e.into_inner());
        for key in &self.keys {
            // Absent when the maps were full at reservation: the database counts alone.
            let Some(counter) = state.counters.get_mut(key) else {
                continue;
            };
            counter.in_flight = (counter.in_flight - 1).max(0);
            if let Some(at) = self.failed_at {
                counter.failures.push_back(at);
                while counter.failures.len() as i64 > key.limit() {
                    counter.failures.pop_front();
                }
            }
        }
    }
}

impl Gate {
    /// A gate with as many hashing slots as the machine has CPUs.
    pub fn new(store: Store) -> Arc<Gate> {
        let cpus = std::thread::available_parallelism().map_or(2, |n| n.get());
        Gate::with_slots(store, cpus)
    }

    pub fn with_slots(store: Store, slots: usize) -> Arc<Gate> {
        Arc::new(Gate {
            store,
            state: Mutex::new(State::default()),
            hashing: Semaphore::new(slots.max(1)),
        })
    }

    /// Checks the attempt; on success returns the account and the credential stamp of
    /// its password (the caller opens the session with both).
    pub async fn sign_in(
        self: &Arc<Self>,
        attempt: &Attempt<'_>,
        now: i64,
    ) -> Result<(Account, String), Refused> {
        if let Some(minutes) = self.known_throttled(attempt, now) {
            self.throttled(attempt, now).await?;
            return Err(Refused::Throttled { minutes });
        }
        let recorded = self
            .store
            .failed_logins_since(
                &attempt.ip,
                &stored_username(attempt.username),
                now - WINDOW_MS,
            )
            .await?;
        let mut reservation = match self.reserve(attempt, &recorded, now) {
            Ok(r) => r,
            Err(minutes) => {
                self.throttled(attempt, now).await?;
                return Err(Refused::Throttled { minutes });
            }
        };
        let Ok(_slot) = self.hashing.try_acquire() else {
            return Err(Refused::Busy);
        };
        let (account, stamp) = self.check(attempt, now, &mut reservation).await?;
        Ok((account, stamp))
    }

    async fn check(
        &self,
        attempt: &Attempt<'_>,
        now: i64,
        reservation: &mut Reservation<'_>,
    ) -> Result<(Account, String), Refused> {
        let found = self.store.account_for_login(attempt.username).await?;
        let (account, hash) = match found {
            Some((account, hash)) => (Some(account), Some(hash)),
            None => (None, None),
        };
        let stamp = hash.as_deref().map(credential_stamp);
        if password::verify(attempt.password, hash).await
            && let (Some(account), Some(stamp)) = (account, stamp)
        {
            record(&self.store, attempt, now, AuthEventType::Login, None).await?;
            self.store.touch_account_login(account.id, now).await?;
            return Ok((account, stamp));
        }
        // In flight until the row is written, in memory after: no attempt sees neither.
        let reached = reservation.failure_reaches_a_limit(now);
        reservation.failed_at = Some(now);
        record(
            &self.store,
            attempt,
            now,
            AuthEventType::LoginFailed,
            Some("wrong username or password"),
        )
        .await?;
        if reached {
            raise_threat(&self.store, attempt, now).await?;
        }
        Err(Refused::WrongCredentials)
    }

    /// Whether this process already knows the attempt is locked out (no query then).
    fn known_throttled(&self, attempt: &Attempt<'_>, now: i64) -> Option<i64> {
        let state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        keys(attempt)
            .iter()
            .filter_map(|key| {
                let c = state.counters.get(key)?;
                let full = recent(&c.failures, now) >= key.limit();
                full.then(|| minutes_left(c.failures.front().copied(), now))
            })
            .max()
    }

    /// Reserves the attempt, or says for how many minutes it is locked out.
    fn reserve(
        &self,
        attempt: &Attempt<'_>,
        recorded: &FailedLogins,
        now: i64,
    ) -> Result<Reservation<'_>, i64> {
        let keys = keys(attempt);
        let from_db = [
            (recorded.by_pair, recorded.oldest_by_pair),
            (recorded.by_ip, recorded.oldest_by_ip),
            (recorded.by_username, recorded.oldest_by_username),
        ];
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        let mut locked: Option<i64> = None;
        for (key, (db_count, db_oldest)) in keys.iter().zip(from_db) {
            let (known, in_flight, oldest) = state.counters.get(key).map_or((0, 0, None), |c| {
                (
                    recent(&c.failures, now),
                    c.in_flight,
                    c.failures.front().copied(),
                )
            });
            if known.max(db_count) + in_flight >= key.limit() {
                let oldest = if known >= db_count { oldest } else { db_oldest };
                locked = locked.max(Some(minutes_left(oldest, now)));
            }
        }
        if let Some(minutes) = locked {
            return Err(minutes);
        }
        state.make_room(now);
        for key in &keys {
            if state.counters.len() < MAX_KEYS || state.counters.contains_key(key) {
                state.counters.entry(key.clone()).or_default().in_flight += 1;
            }
        }
        drop(state);
        Ok(Reservation {
            gate: self,
            keys,
            recorded: from_db.map(|(count, _)| count),
            failed_at: None,
        })
    }

    /// Counts a throttled attempt; writes the summary of its (username, address) when
    /// none was written in the last minute, and otherwise makes sure one will be.
    async fn throttled(
        self: &Arc<Self>,
        attempt: &Attempt<'_>,
        now: i64,
    ) -> Result<(), StoreError> {
        let pair = (stored_username(attempt.username), attempt.ip.clone());
        let due = {
            let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
            if state.throttled.len() >= MAX_KEYS {
                state
                    .throttled
                    .retain(|_, p| p.count > 0 || p.written_at > now - WINDOW_MS);
            }
            if state.throttled.len() >= MAX_KEYS && !state.throttled.contains_key(&pair) {
                return Ok(());
            }
            let pending = state.throttled.entry(pair.clone()).or_insert(Pending {
                count: 0,
                written_at: i64::MIN,
                flush_scheduled: false,
            });
            pending.count += 1;
            if now.saturating_sub(pending.written_at) >= SUMMARY_EVERY_MS {
                pending.written_at = now;
                Some(std::mem::take(&mut pending.count))
            } else {
                if !pending.flush_scheduled {
                    pending.flush_scheduled = true;
                    let wait = pending.written_at + SUMMARY_EVERY_MS - now;
                    self.schedule_flush(pair.clone(), attempt.user_agent.clone(), wait);
                }
                None
            }
        };
        match due {
            Some(count) => {
                write_summary(&self.store, &pair, attempt.user_agent.clone(), count, now).await
            }
            None => Ok(()),
        }
    }

    /// Writes what is pending for `pair` after `wait_ms`.
    fn schedule_flush(
        self: &Arc<Self>,
        pair: (String, String),
        user_agent: Option<String>,
        wait_ms: i64,
    ) {
        let gate = Arc::clone(self);
        tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(wait_ms.max(0) as u64)).await;
            let now = chrono::Utc::now().timestamp_millis();
            let count = {
                let mut state = gate.state.lock().unwrap_or_else(|e| e.into_inner());
                let Some(pending) = state.throttled.get_mut(&pair) else {
                    return;
                };
                pending.flush_scheduled = false;
                pending.written_at = now;
                std::mem::take(&mut pending.count)
            };
            if count > 0
                && let Err(e) = write_summary(&gate.store, &pair, user_agent, count, now).await
            {
                tracing::warn!(error = %e, "the summary of throttled sign-ins was not written");
            }
        });
    }
}

/// Failures in `failures` younger than the window.
fn recent(failures: &VecDeque<i64>, now: i64) -> i64 {
    failures.iter().filter(|t| **t > now - WINDOW_MS).count() as i64
}

/// Whole minutes (at least one) until the failure at `oldest` leaves the window.
fn minutes_left(oldest: Option<i64>, now: i64) -> i64 {
    let oldest = oldest.unwrap_or(now);
    ((oldest + WINDOW_MS - now).max(1) + 59_999) / 60_000
}

/// The username as stored in an `auth_event`.
fn stored_username(username: &str) -> String {
    username.chars().take(128).collect()
}

/// One `login_failed` event standing for `count` throttled attempts, and the threat it
/// folds into.
async fn write_summary(
    store: &Store,
    (username, ip): &(String, String),
    user_agent: Option<String>,
    count: u64,
    now: i64,
) -> Result<(), StoreError> {
    let event = NewAuthEvent {
        metadata: Some(serde_json::json!({ "attempts": count }).to_string()),
        ..own_event(
            now,
            AuthEventType::LoginFailed,
            username,
            ip.clone(),
            user_agent,
            Some("throttled"),
        )
    };
    store
        .record_auth_events_from(AuthSource::Sightline, &[event])
        .await?;
    store.record_threats(&[threat(username, ip, now)]).await?;
    Ok(())
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
    let username = stored_username(attempt.username);
    store
        .record_threats(&[threat(&username, &attempt.ip, now)])
        .await?;
    Ok(())
}

fn threat(username: &str, ip: &str, now: i64) -> NewThreat {
    NewThreat {
        created_at: now,
        threat_type: ThreatType::InvalidAuth,
        severity: Severity::High,
        ip: Some(ip.to_owned()),
        user_id: Some(username.to_owned()),
        country: None,
        endpoint: Some("/login".into()),
        request_id: None,
        description: format!(
            "{MAX_FAILURES} or more failed sign-ins to the Sightline dashboard within 10 minutes"
        ),
    }
}
