//! What a batch of the platform's auth events adds to `rollup_auth`: per bucket (both
//! grains) and event type, the events and the failed ones. The same code runs at ingest
//! and in `sightline rollup --rebuild`, so both produce the same table.

use std::collections::BTreeMap;

use sightline_app::time::floor_ms;

use super::{Bucket, GRAINS};
use crate::store::NewAuthEvent;

/// Events and failures (`success` false) of one bucket and event type.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct AuthCounts {
    pub events: i64,
    pub failures: i64,
}

/// Everything a batch adds, keyed as the table is: `((bucket_ms, bucket_start), type)`.
pub type AuthDelta = BTreeMap<(Bucket, &'static str), AuthCounts>;

/// Counts `events` at both grains.
pub fn auth_delta<'a>(events: impl IntoIterator<Item = &'a NewAuthEvent>) -> AuthDelta {
    let mut delta = AuthDelta::new();
    for e in events {
        for g in GRAINS {
            let counts = delta
                .entry(((g, floor_ms(e.created_at, g)), e.event_type.as_str()))
                .or_default();
            counts.events += 1;
            counts.failures += i64::from(!e.success);
        }
    }
    delta
}

#[cfg(test)]
mod tests {
    use sightline_app::time::{DAY_MS, HOUR_MS};
    use sightline_tracker::wire::AuthEventType;

    use super::*;

    fn event(t: i64, event_type: AuthEventType, success: bool) -> NewAuthEvent {
        NewAuthEvent {
            created_at: t,
            event_type,
            user_id: None,
            ip: None,
            user_agent: None,
            success,
            error: None,
            metadata: None,
        }
    }

    #[test]
    fn events_count_once_per_grain_and_type() {
        let day = 1_767_225_600_000; // a UTC midnight
        let events = [
            event(day + 10, AuthEventType::Login, true),
            event(day + 20, AuthEventType::LoginFailed, false),
            event(day + 30, AuthEventType::LoginFailed, false),
            event(day + HOUR_MS + 5, AuthEventType::Login, true),
            event(day + HOUR_MS + 6, AuthEventType::PasswordReset, false),
        ];
        let d = auth_delta(&events);
        let c = |g: i64, start: i64, t: &str| d[&((g, start), t)];
        let counts = |events, failures| AuthCounts { events, failures };
        assert_eq!(c(HOUR_MS, day, "login"), counts(1, 0));
        assert_eq!(c(HOUR_MS, day, "login_failed"), counts(2, 2));
        assert_eq!(c(HOUR_MS, day + HOUR_MS, "login"), counts(1, 0));
        assert_eq!(c(HOUR_MS, day + HOUR_MS, "password_reset"), counts(1, 1));
        assert_eq!(c(DAY_MS, day, "login"), counts(2, 0));
        assert_eq!(c(DAY_MS, day, "login_failed"), counts(2, 2));
        assert_eq!(c(DAY_MS, day, "password_reset"), counts(1, 1));
        assert_eq!(d.len(), 7);
    }
}
