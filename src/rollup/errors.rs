//! What new requests add to the error groups: which group each failed request of the
//! platform belongs to (its message's fingerprint, or `other` once its UTC day holds
//! [`MAX_GROUPS_PER_DAY`] groups), and the per-bucket counts that go into
//! `rollup_error` and `error_group`. The same code runs at ingest, in the backfill of
//! migration 0013 and in `sightline rollup --rebuild`, so all three give the same rows.

use std::collections::{BTreeMap, HashMap, HashSet};

use sightline_app::errors::{MAX_GROUPS_PER_DAY, OTHER_GROUP, OTHER_PATTERN};
use sightline_app::time::{DAY_MS, floor_ms};
use sightline_tracker::wire::RequestKind;

use super::error_message::{MAX_EXAMPLE_CHARS, fingerprint, normalise, status_key, truncate};
use super::{Bucket, GRAINS, capped_add, is_error};
use crate::store::NewRequest;

/// The group key of a request, if it is in one: a served request (`kind = api`) with
/// an error message, or with a status of 400 or more.
pub fn group_key(r: &NewRequest) -> Option<String> {
    if r.kind != RequestKind::Api {
        return None;
    }
    match r.error.as_deref().map(str::trim).filter(|e| !e.is_empty()) {
        Some(message) => Some(normalise(message)),
        None => is_error(r.status_code).then(|| status_key(r.status_code)),
    }
}

/// The pattern a stored group shows: `other` has its own, every other one is its
/// key, recomputed from a member's message.
pub fn pattern_of(group: &str, r: &NewRequest) -> String {
    if group == OTHER_GROUP {
        OTHER_PATTERN.to_string()
    } else {
        group_key(r).unwrap_or_default()
    }
}

/// The groups each UTC day already holds, and the cap on new ones.
#[derive(Debug, Default)]
pub struct GroupPlan {
    days: HashMap<i64, HashSet<String>>,
}

impl GroupPlan {
    /// A plan over the groups already counted: `(day start, fingerprint)`.
    pub fn new(known: impl IntoIterator<Item = (i64, String)>) -> GroupPlan {
        let mut days: HashMap<i64, HashSet<String>> = HashMap::new();
        for (day, group) in known {
            days.entry(day).or_default().insert(group);
        }
        GroupPlan { days }
    }

    /// The group of a request at `t` whose key has `fingerprint`: itself if its day
    /// knows it or has room, else `other`. (`other` takes no room.)
    pub fn assign(&mut self, t: i64, fingerprint: String) -> String {
        let groups = self.days.entry(floor_ms(t, DAY_MS)).or_default();
        if groups.contains(&fingerprint) {
            return fingerprint;
        }
        let named = groups.len() - usize::from(groups.contains(OTHER_GROUP));
        if named < MAX_GROUPS_PER_DAY {
            groups.insert(fingerprint.clone());
            fingerprint
        } else {
            groups.insert(OTHER_GROUP.to_string());
            OTHER_GROUP.to_string()
        }
    }

    /// The group of `r`, if it is in one ([`group_key`]).
    pub fn group_of(&mut self, r: &NewRequest) -> Option<String> {
        group_key(r).map(|key| self.assign(r.created_at, fingerprint(&key)))
    }
}

/// The requests of a group at one bucket, endpoint and status, and their span.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ErrorCell {
    pub requests: i64,
    pub first_seen_at: i64,
    pub last_seen_at: i64,
}

/// A group as `error_group` keeps it: the first message seen is its example.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GroupSeen {
    pub pattern: String,
    pub example: String,
    pub first_seen_at: i64,
    pub last_seen_at: i64,
}

/// `(bucket, fingerprint, endpoint, status_code)`, as `rollup_error` is keyed.
pub type CellKey = (Bucket, String, String, i32);

/// Everything a batch adds to the error tables.
#[derive(Debug, Default, PartialEq)]
pub struct ErrorDelta {
    pub cells: BTreeMap<CellKey, ErrorCell>,
    pub groups: BTreeMap<String, GroupSeen>,
}

impl ErrorDelta {
    /// Counts `r`, a new request of `group`, at both grains.
    pub fn add(&mut self, r: &NewRequest, group: &str) {
        let t = r.created_at;
        for g in GRAINS {
            let key = (
                (g, floor_ms(t, g)),
                group.to_string(),
                r.endpoint.clone(),
                r.status_code,
            );
            self.cells
                .entry(key)
                .and_modify(|c| {
                    c.requests = capped_add(c.requests, 1);
                    c.first_seen_at = c.first_seen_at.min(t);
                    c.last_seen_at = c.last_seen_at.max(t);
                })
                .or_insert(ErrorCell {
                    requests: 1,
                    first_seen_at: t,
                    last_seen_at: t,
                });
        }
        self.groups
            .entry(group.to_string())
            .and_modify(|s| {
                s.first_seen_at = s.first_seen_at.min(t);
                s.last_seen_at = s.last_seen_at.max(t);
            })
            .or_insert_with(|| GroupSeen {
                pattern: pattern_of(group, r),
                example: example_of(r),
                first_seen_at: t,
                last_seen_at: t,
            });
    }

    pub fn is_empty(&self) -> bool {
        self.cells.is_empty()
    }
}

/// What a group shows as its example: the message (cut), else the status.
fn example_of(r: &NewRequest) -> String {
    match r.error.as_deref().map(str::trim).filter(|e| !e.is_empty()) {
        Some(message) => truncate(message, MAX_EXAMPLE_CHARS),
        None => status_key(r.status_code),
    }
}

#[cfg(test)]
mod tests {
    use sightline_app::time::HOUR_MS;

    use super::*;
    use crate::rollup::tests_support::request;

    const DAY: i64 = 1_767_225_600_000; // a UTC midnight

    fn failed(id: &str, t: i64, status: i32, error: Option<&str>) -> NewRequest {
        let mut r = request(id, t);
        r.status_code = status;
        r.error = error.map(Into::into);
        r
    }

    #[test]
    fn which_requests_are_in_a_group() {
        assert_eq!(group_key(&request("ok", DAY)), None);
        let r = failed("a", DAY, 504, Some("timeout after 30 s"));
        assert_eq!(group_key(&r).as_deref(), Some("timeout after <n> s"));
        let r = failed("b", DAY, 500, Some("  "));
        assert_eq!(
            group_key(&r).as_deref(),
            Some("HTTP 500 (no error message)")
        );
        // A message is an error whatever the status; a provider call is not the platform's.
        let r = failed("c", DAY, 200, Some("stream cut after 12 chunks"));
        assert_eq!(
            group_key(&r).as_deref(),
            Some("stream cut after <n> chunks")
        );
        let mut call = failed("d", DAY, 500, Some("boom"));
        call.kind = RequestKind::External;
        assert_eq!(group_key(&call), None);
    }

    #[test]
    fn a_day_holds_at_most_the_cap_and_the_rest_is_other() {
        let mut plan = GroupPlan::new([(DAY, "known".to_string())]);
        assert_eq!(plan.assign(DAY + 5, "known".into()), "known");
        for i in 1..MAX_GROUPS_PER_DAY {
            assert_eq!(plan.assign(DAY + 10, format!("g{i}")), format!("g{i}"));
        }
        assert_eq!(plan.assign(DAY + 20, "late".into()), OTHER_GROUP);
        assert_eq!(plan.assign(DAY + 21, "later".into()), OTHER_GROUP);
        // Groups the day already counted keep counting; the next day starts afresh.
        assert_eq!(plan.assign(DAY + 30, "g7".into()), "g7");
        assert_eq!(plan.assign(DAY + DAY_MS, "late".into()), "late");
    }

    #[test]
    fn cells_count_per_grain_endpoint_and_status_with_their_span() {
        let mut d = ErrorDelta::default();
        let a = failed("a", DAY + 10, 504, Some("timeout after 30 s"));
        let b = failed("b", DAY + HOUR_MS + 20, 504, Some("timeout after 9 s"));
        let mut c = failed("c", DAY + 30, 502, Some("timeout after 1 s"));
        c.endpoint = "/v1/embed".into();
        for r in [&a, &b, &c] {
            d.add(r, "fp");
        }
        let cell = |g, start, endpoint: &str, status| {
            d.cells[&((g, start), "fp".to_string(), endpoint.to_string(), status)]
        };
        let span = |requests, first_seen_at, last_seen_at| ErrorCell {
            requests,
            first_seen_at,
            last_seen_at,
        };
        assert_eq!(
            cell(DAY_MS, DAY, "/v1/chat", 504),
            span(2, DAY + 10, DAY + HOUR_MS + 20)
        );
        assert_eq!(
            cell(HOUR_MS, DAY, "/v1/chat", 504),
            span(1, DAY + 10, DAY + 10)
        );
        assert_eq!(
            cell(HOUR_MS, DAY, "/v1/embed", 502),
            span(1, DAY + 30, DAY + 30)
        );
        assert_eq!(d.cells.len(), 5);
        let g = &d.groups["fp"];
        assert_eq!(g.pattern, "timeout after <n> s");
        assert_eq!(g.example, "timeout after 30 s");
        assert_eq!(
            (g.first_seen_at, g.last_seen_at),
            (DAY + 10, DAY + HOUR_MS + 20)
        );
        let mut other = ErrorDelta::default();
        other.add(&a, OTHER_GROUP);
        assert_eq!(other.groups[OTHER_GROUP].pattern, OTHER_PATTERN);
    }
}
