//! What a batch of new requests adds to the dashboard's rollups, computed in memory
//! before the store writes it: raw rows in, per-bucket sums out. The same code runs at
//! ingest and in `sightline rollup --rebuild`, so both produce the same tables.
//!
//! Only requests the platform served (`kind = api`) feed the dashboard's cards, the
//! platform's users and sessions and the per-day model stats; calls the platform made
//! to providers (`kind = external`) are summed per provider in their own rollup.
//!
//! Every card of the dashboard reads rollups only, at the grain of its range (hourly up
//! to 7 days, daily beyond), so its cost grows with the buckets shown, not with rows:
//!
//! | card | rollup |
//! | --- | --- |
//! | summary: requests, error rate, tokens, cost, avg latency | `rollup_traffic` |
//! | summary: p95 latency; latency p50/p95/p99 over time | `rollup_latency` (merged histograms) |
//! | summary: sessions; users: new | `rollup_traffic.sessions_started`, `.new_users` |
//! | summary: active users; users: top by cost | `rollup_user` (distinct users of the buckets) |
//! | requests over time (ok vs error) | `rollup_traffic` |
//! | error breakdown by status | `rollup_status` |
//! | top models; cost over time by model | `rollup_model` |
//! | top countries | `rollup_country` |
//! | feedback: count, average, distribution | `rollup_feedback` |
//! | endpoints: requests, errors, tokens, cost | `rollup_endpoint` |
//! | endpoints: p50/p95/p99 | `rollup_endpoint_latency` (merged histograms per endpoint) |
//! | provider calls | `rollup_service`, `rollup_service_latency` |
//! | users: provider cost (calls carrying a user id) | `user_provider_cost` (totals, no bucket) |
//! | security: auth events per type, failures, signups per day | `rollup_auth` (from `auth_event`, [`auth`]) |
//! | errors: groups, counts, first/last seen, statuses, endpoints | `rollup_error`, `error_group` ([`errors`], keys from [`error_message`]) |
//!
//! Threats and alerts are few and de-duplicated; their cards read their own tables.

pub mod auth;
pub mod error_message;
pub mod errors;
pub mod histogram;
pub mod sessions;

use std::collections::BTreeMap;

use sightline_app::time::{DAY_MS, HOUR_MS, floor_ms};
use sightline_app::units::Micros;
use sightline_tracker::wire::RequestKind;

use crate::store::NewRequest;

/// The two grains every rollup is kept at: hourly buckets serve ranges up to 7 days,
/// daily buckets the longer ones.
pub const GRAINS: [i64; 2] = [HOUR_MS, DAY_MS];

/// The most a rollup cell (and a session's or user's total) holds: sums saturate here,
/// 2^54 (18 quadrillion: 18 billion dollars in micro-dollars, 570 years of latency in
/// microseconds). A range adds up at most its 402 daily cells, which stays within 64
/// bits, so no card can overflow either, whatever was ingested.
pub const SUM_CAP: i64 = 1 << 54;
const _: () = assert!(
    (sightline_app::range::MAX_CUSTOM_DAYS + 2) as i128 * SUM_CAP as i128 <= i64::MAX as i128
);

/// `a + b`, saturated at [`SUM_CAP`] (and at `-SUM_CAP`).
pub fn capped_add(a: i64, b: i64) -> i64 {
    a.saturating_add(b).clamp(-SUM_CAP, SUM_CAP)
}

/// A status of 400 or more is an error in every card.
pub fn is_error(status_code: i32) -> bool {
    status_code >= 400
}

/// Latency in whole microseconds: integer sums are exact and independent of order.
pub fn latency_us(latency_ms: f64) -> i64 {
    (latency_ms * 1000.0).round() as i64
}

/// The additive figures of a group of requests; each rollup table keeps those it needs.
/// Decoded from rows by the rollups' column names, which are its fields'.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, sqlx::FromRow)]
pub struct Sums {
    pub requests: i64,
    pub errors: i64,
    pub latency_sum_us: i64,
    pub prompt_tokens: i64,
    pub completion_tokens: i64,
    /// Parts of `prompt_tokens` (cache) and `completion_tokens` (reasoning).
    pub cache_read_tokens: i64,
    pub cache_write_tokens: i64,
    pub reasoning_tokens: i64,
    pub cost_micros: Micros,
}

impl Sums {
    /// Adds one request; every sum saturates at [`SUM_CAP`], so values beyond the
    /// ingest's bounds (a direct store call, data from before the bounds) cannot wrap.
    pub fn add(&mut self, r: &NewRequest) {
        self.add_times(r, 1);
    }

    /// Adds `r` `sign` times: 1 to count it, -1 to take it out again. Every sum
    /// saturates at [`SUM_CAP`], so values beyond the ingest's bounds (a direct store
    /// call, data from before the bounds) cannot wrap.
    fn add_times(&mut self, r: &NewRequest, sign: i64) {
        let times = |v: i64| v.saturating_mul(sign);
        self.requests = capped_add(self.requests, sign);
        self.errors = capped_add(self.errors, times(i64::from(is_error(r.status_code))));
        self.latency_sum_us = capped_add(self.latency_sum_us, times(latency_us(r.latency_ms)));
        self.prompt_tokens = capped_add(self.prompt_tokens, times(r.prompt_tokens));
        self.completion_tokens = capped_add(self.completion_tokens, times(r.completion_tokens));
        self.cache_read_tokens = capped_add(self.cache_read_tokens, times(r.cache_read_tokens));
        self.cache_write_tokens = capped_add(self.cache_write_tokens, times(r.cache_write_tokens));
        self.reasoning_tokens = capped_add(self.reasoning_tokens, times(r.reasoning_tokens));
        self.cost_micros = Micros(capped_add(
            self.cost_micros.micros(),
            times(r.cost_micros.micros()),
        ));
    }

    pub fn is_zero(&self) -> bool {
        *self == Sums::default()
    }

    /// Prompt and completion tokens; at most twice [`SUM_CAP`].
    pub fn tokens(&self) -> i64 {
        self.prompt_tokens.saturating_add(self.completion_tokens)
    }
}

/// `(bucket_ms, bucket_start)`.
pub type Bucket = (i64, i64);

/// Everything a batch adds to the rollups, keyed as the tables are.
#[derive(Debug, Default, PartialEq)]
pub struct RollupDelta {
    pub traffic: BTreeMap<Bucket, Sums>,
    pub sessions_started: BTreeMap<Bucket, i64>,
    pub new_users: BTreeMap<Bucket, i64>,
    pub latency: BTreeMap<(Bucket, i32), i64>,
    pub status: BTreeMap<(Bucket, i32), i64>,
    pub model: BTreeMap<(Bucket, String), Sums>,
    pub country: BTreeMap<(Bucket, String), Sums>,
    pub user: BTreeMap<(Bucket, String), Sums>,
    pub endpoint: BTreeMap<(Bucket, String), Sums>,
    pub service: BTreeMap<(Bucket, String), Sums>,
    /// Latency histograms per endpoint (served requests) and per provider (calls made).
    pub endpoint_latency: BTreeMap<(Bucket, String, i32), i64>,
    pub service_latency: BTreeMap<(Bucket, String, i32), i64>,
    /// `user_provider_cost`: per platform user and provider, the calls carrying the
    /// user's id (no bucket: the users view shows totals, as `tracked_user` does).
    pub user_service: BTreeMap<(String, String), Sums>,
    /// `model_usage_stats`: per UTC day and model (requests with a model only).
    pub model_day: BTreeMap<(i64, String), Sums>,
}

fn buckets(t: i64) -> impl Iterator<Item = Bucket> {
    GRAINS.into_iter().map(move |g| (g, floor_ms(t, g)))
}

impl RollupDelta {
    /// Adds one newly stored request.
    pub fn add_request(&mut self, r: &NewRequest) {
        self.add_times(r, 1);
    }

    /// What changing a stored request from `old` to `new` does to the rollups: `new`
    /// counted, `old` taken out, and every entry that cancels out left out. Exact, since
    /// every figure is an integer sum.
    pub fn change_request(&mut self, old: &NewRequest, new: &NewRequest) {
        self.add_times(new, 1);
        self.add_times(old, -1);
        self.traffic.retain(|_, s| !s.is_zero());
        self.latency.retain(|_, n| *n != 0);
        self.status.retain(|_, n| *n != 0);
        self.endpoint_latency.retain(|_, n| *n != 0);
        self.service_latency.retain(|_, n| *n != 0);
        for map in [
            &mut self.model,
            &mut self.country,
            &mut self.user,
            &mut self.endpoint,
            &mut self.service,
        ] {
            map.retain(|_, s| !s.is_zero());
        }
        self.model_day.retain(|_, s| !s.is_zero());
        self.user_service.retain(|_, s| !s.is_zero());
    }

    fn add_times(&mut self, r: &NewRequest, sign: i64) {
        let bin = histogram::bin_of(r.latency_ms);
        match r.kind {
            RequestKind::External => {
                let service = r.service.clone().unwrap_or_default();
                for b in buckets(r.created_at) {
                    let sums = self.service.entry((b, service.clone())).or_default();
                    sums.add_times(r, sign);
                    *self
                        .service_latency
                        .entry((b, service.clone(), bin))
                        .or_default() += sign;
                }
                if let Some(user) = &r.user_id {
                    self.user_service
                        .entry((user.clone(), service))
                        .or_default()
                        .add_times(r, sign);
                }
            }
            RequestKind::Api => {
                let model = r.model_name.clone().unwrap_or_default();
                let country = r.country.clone().unwrap_or_default();
                for b in buckets(r.created_at) {
                    self.traffic.entry(b).or_default().add_times(r, sign);
                    *self.latency.entry((b, bin)).or_default() += sign;
                    *self.status.entry((b, r.status_code)).or_default() += sign;
                    let by_model = self.model.entry((b, model.clone())).or_default();
                    by_model.add_times(r, sign);
                    let by_country = self.country.entry((b, country.clone())).or_default();
                    by_country.add_times(r, sign);
                    self.endpoint
                        .entry((b, r.endpoint.clone()))
                        .or_default()
                        .add_times(r, sign);
                    *self
                        .endpoint_latency
                        .entry((b, r.endpoint.clone(), bin))
                        .or_default() += sign;
                    if let Some(user) = &r.user_id {
                        let by_user = self.user.entry((b, user.clone())).or_default();
                        by_user.add_times(r, sign);
                    }
                }
                if let Some(model) = &r.model_name {
                    self.model_day
                        .entry((floor_ms(r.created_at, DAY_MS), model.clone()))
                        .or_default()
                        .add_times(r, sign);
                }
            }
        }
    }

    /// Counts a session that started at `t`.
    pub fn add_session_start(&mut self, t: i64) {
        for b in buckets(t) {
            *self.sessions_started.entry(b).or_default() += 1;
        }
    }

    /// Counts a user first seen at `t`.
    pub fn add_new_user(&mut self, t: i64) {
        for b in buckets(t) {
            *self.new_users.entry(b).or_default() += 1;
        }
    }

    pub fn is_empty(&self) -> bool {
        self.traffic.is_empty() && self.service.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(id: &str, t: i64, status: i32, model: Option<&str>, kind: RequestKind) -> NewRequest {
        let mut r = tests_support::request(id, t);
        r.kind = kind;
        r.service = (kind == RequestKind::External).then(|| "openai".into());
        r.status_code = status;
        r.model_name = model.map(Into::into);
        r.user_id = Some("u".into());
        r
    }

    #[test]
    fn a_request_counts_once_per_grain() {
        let mut d = RollupDelta::default();
        let t = 1_767_225_600_000 + 90 * 60_000; // 01:30 on a UTC day
        d.add_request(&row("a", t, 200, Some("m"), RequestKind::Api));
        d.add_request(&row("b", t + 1, 502, None, RequestKind::Api));
        d.add_request(&row("c", t + 2, 200, Some("m"), RequestKind::External));

        let hour = (HOUR_MS, floor_ms(t, HOUR_MS));
        let day = (DAY_MS, floor_ms(t, DAY_MS));
        let expected = Sums {
            requests: 2,
            errors: 1,
            latency_sum_us: 200_500,
            prompt_tokens: 20,
            completion_tokens: 10,
            cost_micros: Micros(14),
            ..Sums::default()
        };
        assert_eq!(d.traffic[&hour], expected);
        assert_eq!(d.traffic[&day], expected);
        assert_eq!(d.status[&(hour, 502)], 1);
        assert_eq!(d.model[&(hour, String::new())].requests, 1);
        assert_eq!(d.model[&(day, "m".to_string())].requests, 1);
        assert_eq!(d.country[&(hour, String::new())].requests, 2);
        assert_eq!(d.user[&(hour, "u".to_string())].requests, 2);
        // The provider call is summed apart, and not in the model stats.
        assert_eq!(d.service[&(hour, "openai".to_string())].requests, 1);
        let bin = histogram::bin_of(100.25);
        assert_eq!(d.service_latency[&(day, "openai".to_string(), bin)], 1);
        assert_eq!(d.endpoint_latency[&(hour, "/v1/chat".to_string(), bin)], 2);
        assert_eq!(d.endpoint_latency.len(), 2);
        // The call carries user `u`: it counts once (not per grain) in their provider cost.
        let by_user = d.user_service[&("u".to_string(), "openai".to_string())];
        assert_eq!((by_user.requests, by_user.cost_micros), (1, Micros(7)));
        assert_eq!(d.user_service.len(), 1);
        assert_eq!(d.model_day.len(), 1);
        assert_eq!(d.model_day[&(day.1, "m".to_string())].requests, 1);
    }

    #[test]
    fn sums_saturate_instead_of_wrapping() {
        let mut huge = tests_support::request("h", 0);
        huge.prompt_tokens = i64::MAX;
        huge.cost_micros = Micros(i64::MAX - 1);
        huge.latency_ms = 1e300;
        let mut s = Sums::default();
        s.add(&huge);
        s.add(&huge);
        assert_eq!(
            (s.requests, s.prompt_tokens, s.cost_micros, s.latency_sum_us),
            (2, SUM_CAP, Micros(SUM_CAP), SUM_CAP)
        );
        assert_eq!(s.tokens(), SUM_CAP + 10);
        assert_eq!(capped_add(-SUM_CAP, -5), -SUM_CAP);
        assert_eq!(capped_add(3, -5), -2);
    }

    #[test]
    fn a_changed_request_moves_only_what_changed() {
        let t = 1_767_225_600_000 + 90 * 60_000;
        let old = row("a", t, 200, None, RequestKind::Api);
        let mut new = old.clone();
        new.model_name = Some("gpt-4o".into());
        new.prompt_tokens += 100;
        new.completion_tokens += 40;
        new.cost_micros = new.cost_micros.saturating_add(Micros(650));
        let mut d = RollupDelta::default();
        d.change_request(&old, &new);

        let hour = (HOUR_MS, floor_ms(t, HOUR_MS));
        let day = (DAY_MS, floor_ms(t, DAY_MS));
        let usage = Sums {
            prompt_tokens: 100,
            completion_tokens: 40,
            cost_micros: Micros(650),
            ..Sums::default()
        };
        // Same request, same latency and status: only tokens and cost move.
        assert_eq!(d.traffic[&hour], usage);
        assert_eq!(d.traffic[&day], usage);
        assert!(d.latency.is_empty() && d.status.is_empty());
        assert!(d.endpoint_latency.is_empty());
        assert_eq!(d.user[&(hour, "u".to_string())], usage);
        assert_eq!(d.endpoint[&(hour, "/v1/chat".to_string())], usage);
        // The request moves from "no model" to its model, whole.
        let unmodelled = &d.model[&(hour, String::new())];
        assert_eq!((unmodelled.requests, unmodelled.prompt_tokens), (-1, -10));
        let modelled = &d.model[&(hour, "gpt-4o".to_string())];
        assert_eq!((modelled.requests, modelled.prompt_tokens), (1, 110));
        assert_eq!(d.model_day[&(day.1, "gpt-4o".to_string())].requests, 1);
        assert_eq!(d.model_day.len(), 1);
    }
}

/// Request rows for the unit tests of the rollup modules.
#[cfg(test)]
pub(crate) mod tests_support {
    use super::*;

    pub fn request(id: &str, t: i64) -> NewRequest {
        NewRequest {
            endpoint: "/v1/chat".into(),
            method: "POST".into(),
            latency_ms: 100.25,
            prompt_tokens: 10,
            completion_tokens: 5,
            cost_micros: Micros(7),
            is_authenticated: true,
            ..NewRequest::new(id, t)
        }
    }
}
