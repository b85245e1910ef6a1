//! Which instants an event may carry: not before 1970, not more than a day ahead, and
//! not older than the raw data Sightline keeps. An event older than the retention in
//! force would be pruned within the hour, and one older than what was ever pruned could
//! be the replay of a request whose raw row is gone (its `request_id` no longer
//! recognised), which would count it twice. Both are refused with the reason.

use std::time::Duration;

use sightline_app::format::rfc3339;
use sightline_app::query::MAX_FUTURE_MS;
use sightline_app::time::DAY_MS;
use sightline_app::units::EpochMillis;

use super::validate::Rejection;
use crate::cached::Cached;
use crate::store::{RetentionPolicy, Store};

/// The instants a batch's events may carry, as of its arrival.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Horizon {
    pub now: i64,
    /// Days of raw data kept; `None` sets no lower bound but 1970.
    pub retention_days: Option<u32>,
    /// Raw rows before this instant (epoch ms) were pruned at some time.
    pub pruned_before: Option<i64>,
}

impl Horizon {
    /// Why an event stamped `t` (epoch ms) is refused, if it is.
    pub fn refusal(&self, t: i64) -> Option<Rejection> {
        if t > self.now.saturating_add(MAX_FUTURE_MS) {
            return Some(Rejection::InTheFuture);
        }
        if t < 0 {
            return Some(Rejection::Before1970);
        }
        let kept_from = self
            .retention_days
            .map(|days| self.now.saturating_sub(i64::from(days) * DAY_MS));
        match (self.pruned_before, kept_from) {
            (Some(pruned), kept) if t < pruned && kept.is_none_or(|k| pruned > k) => {
                Some(Rejection::Pruned {
                    pruned: rfc3339(EpochMillis(pruned)),
                })
            }
            (_, Some(kept)) if t < kept => Some(Rejection::PastRetention {
                days: self.retention_days.unwrap_or_default(),
            }),
            _ => None,
        }
    }
}

/// How long the retention in force is kept before it is read again.
const POLICY_TTL: Duration = Duration::from_secs(30);

/// Hands out the [`Horizon`] of each batch from the retention in force (the admin's
/// setting, else `SIGHTLINE_RETENTION_DAYS`) and the instant raw rows were pruned up
/// to, read from the database at most every 30 seconds and at once after
/// [`RetentionHorizon::invalidate`] (the settings page changed the retention).
pub struct RetentionHorizon {
    store: Store,
    default_days: u32,
    policy: Cached<RetentionPolicy>,
}

impl RetentionHorizon {
    pub fn new(store: Store, default_days: u32) -> RetentionHorizon {
        RetentionHorizon {
            store,
            default_days,
            policy: Cached::new(POLICY_TTL, RetentionPolicy::from_default(default_days)),
        }
    }

    pub fn invalidate(&self) {
        self.policy.invalidate();
    }

    /// The horizon of a batch arriving at `now`. If the database cannot say, the
    /// policy read last applies.
    pub async fn at(&self, now: i64) -> Horizon {
        let policy = self
            .policy
            .get(|| async {
                match self.store.retention_policy(self.default_days).await {
                    Ok(policy) => policy,
                    Err(e) => {
                        tracing::warn!(error = %e, "could not read the retention; using the last known");
                        self.policy
                            .last()
                            .map_or(RetentionPolicy::from_default(self.default_days), |p| *p)
                    }
                }
            })
            .await;
        Horizon {
            now,
            retention_days: Some(policy.days),
            pruned_before: policy.pruned_before,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_795_372_396_000; // 2026-11-22T18:33:16Z

    fn text(refusal: Option<Rejection>) -> Option<String> {
        refusal.map(|r| r.to_string())
    }

    #[test]
    fn old_events_are_refused_with_the_reason() {
        let h = Horizon {
            now: NOW,
            retention_days: Some(30),
            pruned_before: None,
        };
        assert_eq!(h.refusal(NOW - 30 * DAY_MS), None);
        assert_eq!(
            text(h.refusal(NOW - 30 * DAY_MS - 1)).as_deref(),
            Some("timestamp is older than the retention in force (30 days)")
        );
        assert_eq!(h.refusal(NOW + DAY_MS), None);
        assert_eq!(
            text(h.refusal(NOW + DAY_MS + 1)).as_deref(),
            Some("timestamp is more than 1 day in the future")
        );
        assert_eq!(
            text(h.refusal(-1)).as_deref(),
            Some("timestamp is before 1970")
        );
        // Pruned further back than the retention now reaches: the pruned instant rules.
        let raised = Horizon {
            retention_days: Some(90),
            pruned_before: Some(NOW - 30 * DAY_MS),
            ..h
        };
        assert_eq!(raised.refusal(NOW - 30 * DAY_MS), None);
        assert_eq!(
            text(raised.refusal(NOW - 40 * DAY_MS)).as_deref(),
            Some(
                "timestamp is before 2026-10-23T18:33:16.000Z: raw rows up to then were \
                 pruned, so a replay of it could not be recognised"
            )
        );
        // An older prune is within the retention's own cutoff.
        let shorter = Horizon {
            retention_days: Some(10),
            ..raised
        };
        assert_eq!(
            text(shorter.refusal(NOW - 15 * DAY_MS)).as_deref(),
            Some("timestamp is older than the retention in force (10 days)")
        );
        let unbounded = Horizon {
            now: NOW,
            retention_days: None,
            pruned_before: None,
        };
        assert_eq!(unbounded.refusal(0), None);
    }
}
