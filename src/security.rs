//! The security view's report: the platform's auth events of a range and filter, per
//! bucket from `rollup_auth` (or, narrowed to a user or an IP, from the raw rows those
//! indexes bound), with the previous period for the changes, the top failing IPs and
//! users and the IPs with the most threats (raw rows of the range, with a LIMIT), and
//! the platform's active users and signups per day (rollups).

use std::collections::HashMap;

use sightline_app::range::TimeRange;
use sightline_app::security::*;
use sightline_app::time::{DAY_MS, floor_to};
use sightline_app::units::EpochMillis;

use crate::store::{AuthBucketCount, Buckets, FailingBy, FailingCount, Store, StoreError};

/// The summary of `counts`.
fn figures(counts: &[AuthBucketCount]) -> SecurityFigures {
    let mut f = SecurityFigures::default();
    for c in counts {
        f.events += c.events;
        f.failures += c.failures;
        let succeeded = c.events - c.failures;
        match c.event_type.as_str() {
            "signup" => f.signups += succeeded,
            "login" => f.logins += succeeded,
            _ => {}
        }
    }
    f.failure_rate = failure_rate(f.failures, f.events);
    f
}

/// The summary of `range` and of the period before it, for `filter`.
pub async fn summary(
    store: &Store,
    range: &TimeRange,
    filter: &AuthFilter,
) -> Result<SecuritySummary, StoreError> {
    let before = range.previous();
    let (current, previous) = tokio::try_join!(
        store.auth_bucket_counts(filter, Buckets::from(range)),
        store.auth_bucket_counts(filter, Buckets::from(&before)),
    )?;
    Ok(SecuritySummary {
        current: figures(&current),
        previous: figures(&previous),
    })
}

/// Everything the view shows for `range` and `filter`, as of `now`.
pub async fn report(
    store: &Store,
    range: &TimeRange,
    filter: &AuthFilter,
    now: EpochMillis,
) -> Result<SecurityReport, StoreError> {
    let r = range;
    let before = r.previous();
    let scoped = AuthFilter {
        since: Some(r.start),
        until: Some(r.end),
        ..filter.clone()
    };
    let first_day = floor_to(r.start, DAY_MS);
    let (current, previous, failing_ips, failing_users, threat_ips, active, signups) = tokio::try_join!(
        store.auth_bucket_counts(filter, Buckets::from(r)),
        store.auth_bucket_counts(filter, Buckets::from(&before)),
        store.top_failing(&scoped, FailingBy::Ip, TOP),
        store.top_failing(&scoped, FailingBy::User, TOP),
        store.top_threat_ips(
            r.start,
            r.end,
            filter.user.as_deref(),
            filter.ip.as_deref(),
            TOP
        ),
        store.daily_active_users(first_day, r.end),
        store.daily_signups(first_day, r.end),
    )?;

    let buckets = r.bucket_starts();
    let index: HashMap<EpochMillis, usize> =
        buckets.iter().enumerate().map(|(i, t)| (*t, i)).collect();
    let mut points: Vec<AuthPoint> = buckets
        .iter()
        .map(|&t| AuthPoint {
            t,
            ..AuthPoint::default()
        })
        .collect();
    for c in &current {
        let Some(point) = index.get(&c.bucket_start).map(|&i| &mut points[i]) else {
            continue;
        };
        if let Some(n) = point.count_mut(&c.event_type) {
            *n += c.events;
        }
        point.failures += c.failures;
    }

    let active: HashMap<EpochMillis, i64> = active.into_iter().map(|d| (d.day, d.n)).collect();
    let signups: HashMap<EpochMillis, i64> = signups.into_iter().map(|d| (d.day, d.n)).collect();
    let daily = std::iter::successors(Some(first_day), |d| d.checked_add_ms(DAY_MS))
        .take_while(|d| *d < r.end)
        .map(|day| DailyPoint {
            day,
            active_users: active.get(&day).copied().unwrap_or(0),
            signups: signups.get(&day).copied().unwrap_or(0),
        })
        .collect();

    let failing = |rows: Vec<FailingCount>| {
        rows.into_iter()
            .map(|f| FailingRow {
                key: f.key,
                failures: f.failures,
                last_failed_at: f.last_failed_at,
            })
            .collect()
    };

    Ok(SecurityReport {
        range: r.kind.as_str().to_owned(),
        start: r.start,
        end: r.end,
        bucket: r.bucket_name().to_owned(),
        generated_at: now,
        filter: scoped,
        summary: SecuritySummary {
            current: figures(&current),
            previous: figures(&previous),
        },
        buckets: points,
        failing_ips: failing(failing_ips),
        failing_users: failing(failing_users),
        threat_ips: threat_ips
            .into_iter()
            .map(|t| ThreatIpRow {
                ip: t.ip,
                threats: t.threats,
                occurrences: t.occurrences,
                last_seen_at: t.last_seen_at,
            })
            .collect(),
        daily,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn figures_count_successes_of_signups_and_logins() {
        let c = |t: &str, events, failures| AuthBucketCount {
            bucket_start: EpochMillis(0),
            event_type: t.into(),
            events,
            failures,
        };
        let f = figures(&[
            c("signup", 3, 1),
            c("login", 5, 0),
            c("login_failed", 4, 4),
            c("logout", 2, 0),
        ]);
        assert_eq!(
            f,
            SecurityFigures {
                events: 14,
                failures: 5,
                failure_rate: Some(5.0 / 14.0),
                signups: 2,
                logins: 5,
            }
        );
        assert_eq!(figures(&[]).failure_rate, None);
    }

    #[test]
    fn the_view_knows_every_type_the_wire_has() {
        use sightline_tracker::wire::AuthEventType;
        for (name, _) in AUTH_EVENT_TYPES {
            assert!(AuthEventType::parse(name).is_some(), "{name}");
        }
    }
}
