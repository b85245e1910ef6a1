//! Anomalies of the tracked platform and the alerts they raise:
//! - `error_burst`: more than N server errors (5xx) in the last 5 minutes;
//! - `error_rate_spike`: an endpoint's error rate (4xx and 5xx, as on the dashboard) in
//!   the last 5 minutes against its own baseline, the hour before;
//! - `latency_p95`: an endpoint's p95 latency over the last 5 minutes above its
//!   threshold;
//! - `cost_spike`: the cost of the platform's served requests (`kind` api, as the
//!   dashboard's cost) over the last hour against its own baseline, the mean hour of
//!   the 24 hours before (seeded from the hourly rollup at start-up).
//!
//! Counted by event time in minute buckets kept in memory; evaluated against the wall
//! clock, so an alert resolves by itself once its window has moved past the trouble.

use std::collections::{HashMap, HashSet, VecDeque};

use sightline_app::units::Micros;
use sightline_tracker::wire::Severity;

use super::Thresholds;
use super::windows::KeyedWindow;
use crate::rollup::histogram;
use crate::store::{NewAlert, NewRequest};

const MINUTE_MS: i64 = 60_000;
/// The window an alert looks at.
pub const WINDOW_MS: i64 = 5 * MINUTE_MS;
/// The baseline of an endpoint: the hour before the window.
const BASELINE_MS: i64 = 60 * MINUTE_MS;
/// Endpoints followed at most; more are ignored until some go quiet (scanners make up
/// paths by the thousand).
const MAX_ENDPOINTS: usize = 500;
const HOUR_MS: i64 = 60 * MINUTE_MS;
/// The window of `cost_spike`: the last hour.
pub const COST_WINDOW_MS: i64 = HOUR_MS;
/// The baseline of `cost_spike`: the 24 hours before its window.
pub const COST_BASELINE_MS: i64 = 24 * HOUR_MS;
/// Hours of the baseline that must have had any cost before the rule judges (a new
/// platform's first hours are not a baseline).
const COST_MIN_BASELINE_HOURS: usize = 6;

/// What changed at an evaluation.
#[derive(Clone, Debug, PartialEq)]
pub enum AlertChange {
    /// The alert's condition holds (new, or still firing with a fresh value).
    Firing(NewAlert),
    /// The condition of a firing alert no longer holds.
    Resolved { key: String, value: f64 },
}

#[derive(Debug, Default, Clone)]
struct Minute {
    start: i64,
    requests: u32,
    errors: u32,
    bins: HashMap<i32, i64>,
}

#[derive(Debug, Default)]
struct EndpointStats {
    /// Oldest first.
    minutes: VecDeque<Minute>,
}

impl EndpointStats {
    fn add(&mut self, r: &NewRequest) {
        let start = r.created_at - r.created_at.rem_euclid(MINUTE_MS);
        let pos = self.minutes.partition_point(|m| m.start < start);
        if self.minutes.get(pos).is_none_or(|m| m.start != start) {
            self.minutes.insert(
                pos,
                Minute {
                    start,
                    ..Minute::default()
                },
            );
        }
        let m = &mut self.minutes[pos];
        m.requests += 1;
        m.errors += u32::from(crate::rollup::is_error(r.status_code));
        *m.bins.entry(histogram::bin_of(r.latency_ms)).or_default() += 1;
    }

    fn forget_before(&mut self, from: i64) {
        while self.minutes.front().is_some_and(|m| m.start < from) {
            self.minutes.pop_front();
        }
    }

    /// `(requests, errors)` of the minutes starting in `[from, to)`.
    fn counts(&self, from: i64, to: i64) -> (u32, u32) {
        self.minutes
            .iter()
            .filter(|m| m.start >= from && m.start < to)
            .fold((0, 0), |(r, e), m| (r + m.requests, e + m.errors))
    }

    /// p95 of the minutes starting at or after `from`, with the number of requests.
    fn p95_since(&self, from: i64) -> (Option<f64>, u32) {
        let mut bins: Vec<(i32, i64)> = Vec::new();
        let mut n = 0;
        for m in self.minutes.iter().filter(|m| m.start >= from) {
            bins.extend(m.bins.iter().map(|(b, c)| (*b, *c)));
            n += m.requests;
        }
        (histogram::quantiles(&bins, &[0.95]).map(|q| q[0]), n)
    }
}

pub struct Anomalies {
    limits: Thresholds,
    server_errors: KeyedWindow,
    endpoints: HashMap<String, EndpointStats>,
    /// Alerts firing, by key.
    firing: HashSet<String>,
    /// Those found firing in the database at start-up: they wait for a whole window of
    /// fresh observations (until `inherited_until`) before they can resolve.
    inherited: HashSet<String>,
    inherited_until: i64,
    /// Cost (micro-dollars) of the served requests per minute start, for `cost_spike`.
    costs: std::collections::BTreeMap<i64, i64>,
}

/// Why one request counts as an anomaly (for `anomaly_detection_triggered_total`).
pub const SERVER_ERROR: &str = "server_error";
pub const HIGH_LATENCY: &str = "high_latency";

/// The first minute of the window ending at `now`: the current minute and the four
/// before it.
fn window_start(now: i64) -> i64 {
    now - now.rem_euclid(MINUTE_MS) - WINDOW_MS + MINUTE_MS
}

impl Anomalies {
    pub fn new(limits: Thresholds, now: i64) -> Anomalies {
        Anomalies {
            limits,
            server_errors: KeyedWindow::with_buckets(WINDOW_MS, 60),
            endpoints: HashMap::new(),
            firing: HashSet::new(),
            inherited: HashSet::new(),
            inherited_until: now + WINDOW_MS,
            costs: std::collections::BTreeMap::new(),
        }
    }

    /// Adds the cost of hours stored before start-up (`(hour start, micro-dollars)`
    /// from the hourly rollup), so `cost_spike` has its baseline at once.
    pub fn seed_costs(&mut self, hours: impl IntoIterator<Item = (i64, i64)>) {
        for (at, micros) in hours {
            let slot = self.costs.entry(at - at.rem_euclid(MINUTE_MS)).or_default();
            *slot = slot.saturating_add(micros.max(0));
        }
    }

    /// The first minute of the cost window ending at `now`.
    fn cost_window_start(now: i64) -> i64 {
        now - now.rem_euclid(MINUTE_MS) - COST_WINDOW_MS + MINUTE_MS
    }

    /// Alerts found firing in the database at start-up.
    pub fn inherit(&mut self, keys: impl IntoIterator<Item = String>) {
        for k in keys {
            self.firing.insert(k.clone());
            self.inherited.insert(k);
        }
    }

    /// How many alerts are firing.
    pub fn firing_count(&self) -> usize {
        self.firing.len()
    }

    /// Counts a stored request; returns why it is an anomaly on its own, if it is.
    pub fn request(&mut self, r: &NewRequest, now: i64) -> Vec<&'static str> {
        let mut reasons = Vec::new();
        if r.status_code >= 500 {
            reasons.push(SERVER_ERROR);
        }
        if r.latency_ms > self.limits.latency_threshold(&r.endpoint) {
            reasons.push(HIGH_LATENCY);
        }
        if r.kind == sightline_tracker::wire::RequestKind::Api
            && r.cost_micros > Micros::ZERO
            && r.created_at >= Self::cost_window_start(now) - COST_BASELINE_MS
        {
            let slot = self
                .costs
                .entry(r.created_at - r.created_at.rem_euclid(MINUTE_MS))
                .or_default();
            *slot = slot.saturating_add(r.cost_micros.micros());
        }
        if r.created_at < window_start(now) - BASELINE_MS {
            return reasons;
        }
        if r.status_code >= 500 {
            self.server_errors.hit("", r.created_at, now, u32::MAX);
        }
        if !self.endpoints.contains_key(&r.endpoint) && self.endpoints.len() >= MAX_ENDPOINTS {
            return reasons;
        }
        self.endpoints.entry(r.endpoint.clone()).or_default().add(r);
        reasons
    }

    /// Which alerts hold at `now`: every firing condition (new or still firing), and
    /// the firing alerts whose condition cleared.
    pub fn evaluate(&mut self, now: i64) -> Vec<AlertChange> {
        let from = window_start(now);
        let baseline_from = from - BASELINE_MS;
        let mut holding: Vec<NewAlert> = Vec::new();
        let mut values: HashMap<String, f64> = HashMap::new();

        let errors = self.server_errors.count("", now);
        values.insert("error_burst".into(), f64::from(errors));
        if errors > self.limits.errors_5m {
            holding.push(NewAlert {
                key: "error_burst".into(),
                rule: "error_burst".into(),
                severity: Severity::High,
                title: format!("{errors} server errors in the last 5 minutes"),
                description: format!(
                    "{errors} responses with a 5xx status in 5 minutes, over the limit of {}.",
                    self.limits.errors_5m
                ),
                endpoint: None,
                value: f64::from(errors),
                threshold: f64::from(self.limits.errors_5m),
                at: now,
            });
        }

        self.endpoints.retain(|_, s| {
            s.forget_before(baseline_from);
            !s.minutes.is_empty()
        });
        let min = self.limits.min_requests;
        for (endpoint, stats) in &self.endpoints {
            let (n, e) = stats.counts(from, i64::MAX);
            let (bn, be) = stats.counts(baseline_from, from);
            let spike_key = format!("error_rate_spike:{endpoint}");
            if n >= min && bn >= min {
                let rate = f64::from(e) / f64::from(n);
                let base = f64::from(be) / f64::from(bn);
                let limit =
                    (base * self.limits.spike_factor).max(base + self.limits.spike_min_rate);
                // Once firing, it takes a clear fall below the limit to resolve.
                let bar = if self.firing.contains(&spike_key) {
                    limit * 0.8
                } else {
                    limit
                };
                values.insert(spike_key.clone(), rate);
                if rate >= bar {
                    holding.push(NewAlert {
                        key: spike_key,
                        rule: "error_rate_spike".into(),
                        severity: Severity::High,
                        title: format!("Error rate spike on {endpoint}"),
                        description: format!(
                            "{:.1}% of {n} requests failed in the last 5 minutes, against {:.1}% of {bn} in the hour before.",
                            rate * 100.0,
                            base * 100.0
                        ),
                        endpoint: Some(endpoint.clone()),
                        value: rate,
                        threshold: limit,
                        at: now,
                    });
                }
            }
            let (p95, samples) = stats.p95_since(from);
            let threshold = self.limits.latency_threshold(endpoint);
            if let Some(p95) = p95.filter(|_| samples >= min) {
                let key = format!("latency_p95:{endpoint}");
                values.insert(key.clone(), p95);
                if p95 > threshold {
                    holding.push(NewAlert {
                        key,
                        rule: "latency_p95".into(),
                        severity: Severity::Medium,
                        title: format!("Slow responses on {endpoint}"),
                        description: format!(
                            "p95 latency {p95:.0} ms over the last 5 minutes ({samples} requests), above the threshold of {threshold:.0} ms."
                        ),
                        endpoint: Some(endpoint.clone()),
                        value: p95,
                        threshold,
                        at: now,
                    });
                }
            }
        }

        self.cost_spike(now, &mut holding, &mut values);

        let held: HashSet<&str> = holding.iter().map(|a| a.key.as_str()).collect();
        let mut cleared: Vec<String> = self
            .firing
            .iter()
            .filter(|k| !held.contains(k.as_str()))
            .filter(|k| now >= self.inherited_until || !self.inherited.contains(*k))
            .cloned()
            .collect();
        cleared.sort();
        let mut changes: Vec<AlertChange> = Vec::new();
        for key in cleared {
            self.firing.remove(&key);
            self.inherited.remove(&key);
            let value = values.get(&key).copied().unwrap_or(0.0);
            changes.push(AlertChange::Resolved { key, value });
        }
        holding.sort_by(|a, b| a.key.cmp(&b.key));
        for a in holding {
            self.inherited.remove(&a.key);
            self.firing.insert(a.key.clone());
            changes.push(AlertChange::Firing(a));
        }
        changes
    }
}

impl Anomalies {
    /// `cost_spike`: the last hour's cost at least `cost_spike_factor` times the mean
    /// hour of the 24 before it, and at least `cost_spike_min_usd` above it.
    fn cost_spike(
        &mut self,
        now: i64,
        holding: &mut Vec<NewAlert>,
        values: &mut HashMap<String, f64>,
    ) {
        const KEY: &str = "cost_spike";
        let from = Self::cost_window_start(now);
        let baseline_from = from - COST_BASELINE_MS;
        self.costs = self.costs.split_off(&baseline_from);
        let window: i64 = self
            .costs
            .range(from..)
            .fold(0i64, |sum, (_, c)| sum.saturating_add(*c));
        let mut hours_with_cost: HashSet<i64> = HashSet::new();
        let baseline_total = self
            .costs
            .range(baseline_from..from)
            .fold(0i64, |sum, (at, c)| {
                hours_with_cost.insert((at - baseline_from) / HOUR_MS);
                sum.saturating_add(*c)
            });
        let usd = |micros: f64| micros / 1e6;
        let spent = usd(window as f64);
        values.insert(KEY.into(), spent);
        if hours_with_cost.len() < COST_MIN_BASELINE_HOURS {
            return;
        }
        let base = usd(baseline_total as f64) / 24.0;
        let limit =
            (base * self.limits.cost_spike_factor).max(base + self.limits.cost_spike_min_usd);
        let bar = if self.firing.contains(KEY) {
            limit * 0.8
        } else {
            limit
        };
        if spent >= bar {
            holding.push(NewAlert {
                key: KEY.into(),
                rule: KEY.into(),
                severity: Severity::High,
                title: format!("Cost spike: ${spent:.2} in the last hour"),
                description: format!(
                    "The served requests cost ${spent:.2} in the last hour, against ${base:.2} an hour on average over the 24 hours before (limit ${limit:.2})."
                ),
                endpoint: None,
                value: spent,
                threshold: limit,
                at: now,
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::detect::threats::tests::request;

    const NOW: i64 = 1_800_000_030_000; // 30 s into a minute

    fn on(endpoint: &str, at: i64, status: i32, latency_ms: f64) -> NewRequest {
        NewRequest {
            endpoint: endpoint.into(),
            latency_ms,
            ..request(at, "10.0.0.1", None, status)
        }
    }

    fn summary(changes: &[AlertChange]) -> Vec<String> {
        changes
            .iter()
            .map(|c| match c {
                AlertChange::Firing(a) => format!("firing {} {}", a.key, a.value),
                AlertChange::Resolved { key, value } => format!("resolved {key} {value}"),
            })
            .collect()
    }

    #[test]
    fn more_than_ten_server_errors_in_five_minutes_fire_until_they_age_out() {
        let mut a = Anomalies::new(Thresholds::default(), NOW);
        for i in 0..10 {
            let reasons = a.request(&on("/v1/chat", NOW - 290_000 + i, 502, 50.0), NOW);
            assert_eq!(reasons, vec![SERVER_ERROR]);
        }
        // 4xx are not server errors.
        a.request(&on("/v1/chat", NOW, 404, 50.0), NOW);
        assert_eq!(summary(&a.evaluate(NOW)), Vec::<String>::new());
        a.request(&on("/v1/chat", NOW, 500, 50.0), NOW);
        assert_eq!(summary(&a.evaluate(NOW)), vec!["firing error_burst 11"]);
        // Ten of them leave the window 10 s later: one error left.
        assert_eq!(
            summary(&a.evaluate(NOW + 15_000)),
            vec!["resolved error_burst 1"]
        );
        assert_eq!(a.firing_count(), 0);
        assert_eq!(summary(&a.evaluate(NOW + 16_000)), Vec::<String>::new());
    }

    #[test]
    fn an_error_rate_spike_is_judged_against_the_endpoints_own_hour() {
        let mut a = Anomalies::new(Thresholds::default(), NOW);
        // The hour before: 200 requests, 10 % errors (a login endpoint, say).
        for i in 0..200 {
            let status = if i % 10 == 0 { 401 } else { 200 };
            a.request(
                &on("/login", NOW - 3_000_000 + i * 10_000, status, 80.0),
                NOW,
            );
        }
        // Now: 20 requests at the same 10 %: no alert.
        for i in 0..20 {
            let status = if i % 10 == 0 { 401 } else { 200 };
            a.request(&on("/login", NOW - 60_000 + i, status, 80.0), NOW);
        }
        assert_eq!(summary(&a.evaluate(NOW)), Vec::<String>::new());
        // 20 more, 11 of them failing: 13 errors of 40 = 32.5 %, over 3 × 10 %.
        for i in 0..20 {
            let status = if i < 11 { 401 } else { 200 };
            a.request(&on("/login", NOW - 30_000 + i, status, 80.0), NOW);
        }
        assert_eq!(
            summary(&a.evaluate(NOW)),
            vec!["firing error_rate_spike:/login 0.325"]
        );
        // Below 80 % of the limit (24 %) it resolves: 100 good ones make 13 of 140.
        for i in 0..100 {
            a.request(&on("/login", NOW - 20_000 + i, 200, 80.0), NOW);
        }
        assert_eq!(
            summary(&a.evaluate(NOW)),
            vec![format!("resolved error_rate_spike:/login {}", 13.0 / 140.0)]
        );
    }

    fn costing(at: i64, micros: i64) -> NewRequest {
        NewRequest {
            cost_micros: Micros(micros),
            ..on("/v1/chat", at, 200, 900.0)
        }
    }

    #[test]
    fn a_cost_spike_is_judged_against_the_mean_hour_of_the_day_before() {
        let mut a = Anomalies::new(Thresholds::default(), NOW);
        // The 24 hours before the last hour: $0.50 an hour.
        let window = Anomalies::cost_window_start(NOW);
        for h in 1..=24 {
            a.request(&costing(window - h * HOUR_MS + 5_000, 500_000), NOW);
        }
        // The last hour: $1.40, under the limit of max(3 × $0.50, $0.50 + $1) = $1.50.
        for i in 0..14 {
            a.request(&costing(NOW - 50 * MINUTE_MS + i * 1_000, 100_000), NOW);
        }
        // Provider calls are not the platform's served requests: not counted.
        let call = NewRequest {
            kind: sightline_tracker::wire::RequestKind::External,
            ..costing(NOW - 1_000, 50_000_000)
        };
        a.request(&call, NOW);
        assert_eq!(summary(&a.evaluate(NOW)), Vec::<String>::new());
        a.request(&costing(NOW - 1_000, 200_000), NOW);
        let changes = a.evaluate(NOW);
        assert_eq!(summary(&changes), vec!["firing cost_spike 1.6"]);
        let AlertChange::Firing(alert) = &changes[0] else {
            unreachable!()
        };
        assert_eq!(alert.threshold, 1.5);
        assert_eq!(
            alert.description,
            "The served requests cost $1.60 in the last hour, against $0.50 an hour on average over the 24 hours before (limit $1.50)."
        );
        // An hour later the spike has left the window.
        assert_eq!(
            summary(&a.evaluate(NOW + HOUR_MS)),
            vec!["resolved cost_spike 0"]
        );
    }

    #[test]
    fn a_cost_spike_needs_a_baseline_and_seeded_hours_are_one() {
        let window = Anomalies::cost_window_start(NOW);
        let mut a = Anomalies::new(Thresholds::default(), NOW);
        // Five hours of history are not a baseline: $50 now is not judged.
        for h in 1..=5 {
            a.request(&costing(window - h * HOUR_MS, 100_000), NOW);
        }
        a.request(&costing(NOW - 1_000, 50_000_000), NOW);
        assert_eq!(summary(&a.evaluate(NOW)), Vec::<String>::new());
        // The same with the hourly rollup's six hours seeded at start-up.
        let mut b = Anomalies::new(Thresholds::default(), NOW);
        b.seed_costs((1..=6).map(|h| (window - h * HOUR_MS, 100_000)));
        b.request(&costing(NOW - 1_000, 50_000_000), NOW);
        assert_eq!(summary(&b.evaluate(NOW)), vec!["firing cost_spike 50"]);
    }

    #[test]
    fn p95_latency_over_the_endpoints_threshold() {
        let limits = Thresholds {
            latency_p95_by_endpoint: vec![("/v1/embeddings".into(), 1_000.0)],
            ..Thresholds::default()
        };
        let mut a = Anomalies::new(limits, NOW);
        for i in 0..19 {
            a.request(&on("/v1/embeddings", NOW - 100_000 + i, 200, 3_000.0), NOW);
        }
        // Too few requests to judge.
        assert_eq!(summary(&a.evaluate(NOW)), Vec::<String>::new());
        let reasons = a.request(&on("/v1/embeddings", NOW, 200, 3_000.0), NOW);
        assert_eq!(reasons, vec![HIGH_LATENCY]);
        // The same latency on an endpoint with the default 30 s threshold: fine.
        for i in 0..20 {
            a.request(&on("/v1/chat", NOW - i, 200, 3_000.0), NOW);
        }
        let changes = a.evaluate(NOW);
        assert_eq!(changes.len(), 1);
        let AlertChange::Firing(alert) = &changes[0] else {
            panic!("{changes:?}")
        };
        assert_eq!(alert.key, "latency_p95:/v1/embeddings");
        assert_eq!(alert.threshold, 1_000.0);
        // Within the histogram's 2 %.
        assert!((alert.value - 3_000.0).abs() <= 60.0, "{}", alert.value);
        // Five minutes later the slow minute has left the window.
        assert_eq!(
            summary(&a.evaluate(NOW + 300_000)),
            vec!["resolved latency_p95:/v1/embeddings 0"]
        );
    }

    #[test]
    fn alerts_inherited_from_a_restart_wait_a_window_before_resolving() {
        let mut a = Anomalies::new(Thresholds::default(), NOW);
        a.inherit(["error_burst".to_string()]);
        assert_eq!(summary(&a.evaluate(NOW + 10_000)), Vec::<String>::new());
        assert_eq!(
            summary(&a.evaluate(NOW + WINDOW_MS)),
            vec!["resolved error_burst 0"]
        );
    }
}
