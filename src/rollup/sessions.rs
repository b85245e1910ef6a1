//! Sessions and the platform's users, from a batch of new requests.
//!
//! A request with a `session_id` belongs to that session. A request of a known user
//! without one belongs to the user's open inferred session if it comes within 30
//! minutes of it, else it starts a new inferred session. Anonymous requests without a
//! session id belong to none. The store reads what it already knows of the batch's
//! sessions and users, this module plans the changes, and the store writes them.

use std::collections::{BTreeMap, HashMap, HashSet};

use super::Sums;
use crate::store::NewRequest;

/// Inactivity that ends an inferred session.
pub const SESSION_GAP_MS: i64 = 30 * 60_000;

/// A stored session, as far as inference needs it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KnownSession {
    pub key: String,
    pub started_at: i64,
    pub last_seen_at: i64,
}

/// A stored user of the platform.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KnownUser {
    pub first_seen_at: i64,
    pub open_session: Option<KnownSession>,
}

/// What to add to one session row (counts add up, the span widens).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SessionChange {
    pub key: String,
    pub user_id: Option<String>,
    pub inferred: bool,
    pub started_at: i64,
    pub last_seen_at: i64,
    pub sums: Sums,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
}

/// What to add to one user row; `open_session_key` replaces the stored one when set.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UserChange {
    pub user_id: String,
    pub first_seen_at: i64,
    pub last_seen_at: i64,
    pub sums: Sums,
    pub open_session_key: Option<String>,
}

#[derive(Debug, Default, PartialEq, Eq)]
pub struct SessionPlan {
    pub sessions: Vec<SessionChange>,
    pub users: Vec<UserChange>,
    /// Start instants of the sessions this batch creates.
    pub session_starts: Vec<i64>,
    /// First-seen instants of the users this batch introduces.
    pub new_users: Vec<i64>,
}

/// Plans the session and user changes of `rows` (served requests, oldest first), given
/// which of their explicit session keys are stored and what is stored of their users.
pub fn plan(
    rows: &[&NewRequest],
    known_sessions: &HashSet<String>,
    known_users: &HashMap<String, KnownUser>,
) -> SessionPlan {
    let mut plan = SessionPlan::default();
    let mut sessions: BTreeMap<String, SessionChange> = BTreeMap::new();
    let mut users: BTreeMap<String, UserChange> = BTreeMap::new();
    // The open inferred session of each user, as the batch moves it along.
    let mut open: HashMap<String, KnownSession> = HashMap::new();

    for r in rows {
        let t = r.created_at;
        if let Some(user) = &r.user_id {
            let change = users.entry(user.clone()).or_insert_with(|| {
                let known = known_users.get(user);
                if known.is_none() {
                    plan.new_users.push(t);
                }
                if let Some(s) = known.and_then(|k| k.open_session.clone()) {
                    open.insert(user.clone(), s);
                }
                UserChange {
                    user_id: user.clone(),
                    first_seen_at: known.map_or(t, |k| k.first_seen_at.min(t)),
                    last_seen_at: t,
                    sums: Sums::default(),
                    open_session_key: None,
                }
            });
            change.first_seen_at = change.first_seen_at.min(t);
            change.last_seen_at = change.last_seen_at.max(t);
            change.sums.add(r);
        }

        let (key, inferred) = if let Some(sid) = &r.session_id {
            if !sessions.contains_key(sid) && !known_sessions.contains(sid) {
                plan.session_starts.push(t);
            }
            (sid.clone(), false)
        } else if let Some(user) = &r.user_id {
            match open.get_mut(user) {
                Some(s)
                    if t <= s.last_seen_at + SESSION_GAP_MS
                        && t + SESSION_GAP_MS >= s.started_at =>
                {
                    s.started_at = s.started_at.min(t);
                    s.last_seen_at = s.last_seen_at.max(t);
                    (s.key.clone(), true)
                }
                current => {
                    let key = format!("{user}@{t}");
                    plan.session_starts.push(t);
                    // An older, out-of-order request opens a past session, not the current one.
                    if current.as_ref().is_none_or(|s| t > s.started_at) {
                        open.insert(
                            user.clone(),
                            KnownSession {
                                key: key.clone(),
                                started_at: t,
                                last_seen_at: t,
                            },
                        );
                        if let Some(u) = users.get_mut(user) {
                            u.open_session_key = Some(key.clone());
                        }
                    }
                    (key, true)
                }
            }
        } else {
            continue;
        };

        let s = sessions
            .entry(key.clone())
            .or_insert_with(|| SessionChange {
                key,
                user_id: r.user_id.clone(),
                inferred,
                started_at: t,
                last_seen_at: t,
                sums: Sums::default(),
                ip: r.ip.clone(),
                user_agent: r.user_agent.clone(),
            });
        s.started_at = s.started_at.min(t);
        s.last_seen_at = s.last_seen_at.max(t);
        s.sums.add(r);
        if s.user_id.is_none() {
            s.user_id = r.user_id.clone();
        }
    }

    plan.sessions = sessions.into_values().collect();
    plan.users = users.into_values().collect();
    plan
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIN: i64 = 60_000;

    fn req(t: i64, user: Option<&str>, session: Option<&str>) -> NewRequest {
        let mut r = crate::rollup::tests_support::request("x", t);
        r.user_id = user.map(Into::into);
        r.session_id = session.map(Into::into);
        r
    }

    #[test]
    fn a_gap_of_more_than_thirty_minutes_starts_a_new_inferred_session() {
        let rows = [
            req(0, Some("u"), None),
            req(29 * MIN, Some("u"), None),
            req(60 * MIN, Some("u"), None),
        ];
        let refs: Vec<_> = rows.iter().collect();
        let p = plan(&refs, &HashSet::new(), &HashMap::new());
        assert_eq!(p.session_starts, vec![0, 60 * MIN]);
        assert_eq!(p.new_users, vec![0]);
        let spans: Vec<_> = p
            .sessions
            .iter()
            .map(|s| {
                (
                    s.key.as_str(),
                    s.started_at,
                    s.last_seen_at,
                    s.sums.requests,
                )
            })
            .collect();
        assert_eq!(
            spans,
            vec![
                ("u@0", 0, 29 * MIN, 2),
                ("u@3600000", 60 * MIN, 60 * MIN, 1)
            ]
        );
        assert_eq!(p.users[0].open_session_key.as_deref(), Some("u@3600000"));
        assert_eq!(p.users[0].sums.requests, 3);
    }

    #[test]
    fn a_stored_open_session_is_extended_and_explicit_sessions_are_kept() {
        let known_user = KnownUser {
            first_seen_at: -100 * MIN,
            open_session: Some(KnownSession {
                key: "u@old".into(),
                started_at: -40 * MIN,
                last_seen_at: -10 * MIN,
            }),
        };
        let users = HashMap::from([("u".to_string(), known_user)]);
        let known_sessions = HashSet::from(["s1".to_string()]);
        let rows = [
            req(0, Some("u"), None),
            req(1, Some("u"), Some("s1")),
            req(2, None, Some("s2")),
            req(3, None, None),
        ];
        let refs: Vec<_> = rows.iter().collect();
        let p = plan(&refs, &known_sessions, &users);
        // u@old extended; s1 stored already; s2 new; the anonymous request has no session.
        assert_eq!(p.session_starts, vec![2]);
        assert!(p.new_users.is_empty());
        let keys: Vec<_> = p
            .sessions
            .iter()
            .map(|s| (s.key.as_str(), s.inferred))
            .collect();
        assert_eq!(keys, vec![("s1", false), ("s2", false), ("u@old", true)]);
        assert_eq!(p.users[0].first_seen_at, -100 * MIN);
        assert_eq!(p.users[0].open_session_key, None);
    }
}
