//! Prometheus metrics at `GET /metrics`: the tracked platform's traffic
//! (`requests_total`, `request_latency_seconds`, `anomaly_detection_triggered_total`,
//! `active_users`, `user_sessions_total`) and Sightline's own ingest figures
//! (`sightline_*`).
//!
//! Label cardinality is bounded: `status` is a class (`2xx`…`5xx`), `method` one of
//! the usual HTTP verbs or `OTHER`, and `endpoint` takes the first
//! [`MAX_ENDPOINT_LABELS`] distinct endpoints seen by this process; any later endpoint
//! is counted under `endpoint="other"`.

use std::collections::HashSet;
use std::sync::Mutex;
use std::sync::atomic::AtomicU64;
use std::time::{Duration, Instant};

use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, EncodeMetric};
use prometheus_client::metrics::counter::{ConstCounter, Counter};
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;

use crate::ingest::writer::CommitObserver;
use crate::store::{ActivityCounts, IngestWrite, IngestWritten, Store, StoreError};

/// Distinct endpoints that get a label of their own; later ones are `other`.
pub const MAX_ENDPOINT_LABELS: usize = 100;

/// The `Content-Type` of [`Metrics::encode`]'s output (Prometheus text format 0.0.4).
pub const CONTENT_TYPE: &str = prometheus_client::encoding::prometheus_text::CONTENT_TYPE;

/// How long the database figures (active users, sessions) of a scrape are reused.
const ACTIVITY_TTL: Duration = Duration::from_secs(15);

/// Latency buckets for LLM APIs, in seconds: from a cached answer to a long generation.
const LATENCY_BUCKETS: [f64; 14] = [
    0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 3.0, 5.0, 10.0, 15.0, 30.0, 60.0, 90.0, 120.0,
];

/// Commit durations of the ingest writer, in seconds.
const COMMIT_BUCKETS: [f64; 12] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0,
];

/// The trailing windows of `active_users{timeframe}`.
const TIMEFRAMES: [(&str, i64); 4] = [
    ("5m", 5 * 60_000),
    ("1h", 3_600_000),
    ("1d", 86_400_000),
    ("7d", 7 * 86_400_000),
];

type Labels2 = [(&'static str, String); 2];
type Labels4 = [(&'static str, String); 4];
type HistogramFamily<L> = Family<L, Histogram, fn() -> Histogram>;

fn latency_histogram() -> Histogram {
    Histogram::new(LATENCY_BUCKETS)
}

/// Sightline's metrics; shared as `Arc<Metrics>`.
#[derive(Debug)]
pub struct Metrics {
    registry: Registry,
    started: Instant,
    endpoints: Mutex<HashSet<String>>,
    requests: Family<Labels4, Counter>,
    request_latency: HistogramFamily<Labels2>,
    anomalies: Family<Labels2, Counter>,
    active_users: Family<[(&'static str, &'static str); 1], Gauge>,
    sessions: std::sync::Arc<SessionTotal>,
    activity_at: Mutex<Option<Instant>>,
    ingest_events: Family<Labels2, Counter>,
    ingest_batches: Counter,
    commit_seconds: Histogram,
    queue_depth: Gauge,
    threats: Family<[(&'static str, String); 1], Counter>,
    alerts_firing: Gauge,
    webhook_deliveries: Family<[(&'static str, String); 1], Counter>,
    gateway_calls: Family<Labels2, Counter>,
}

/// `user_sessions_total`: the sessions in `user_session`, as read at the last refresh.
#[derive(Debug, Default)]
struct SessionTotal(AtomicU64);

impl Collector for SessionTotal {
    fn encode(&self, mut encoder: DescriptorEncoder) -> Result<(), std::fmt::Error> {
        let counter = ConstCounter::new(self.0.load(std::sync::atomic::Ordering::Relaxed));
        let metric = encoder.encode_descriptor(
            "user_sessions",
            "Sessions of the tracked platform's users recorded by Sightline.",
            None,
            counter.metric_type(),
        )?;
        counter.encode(metric)
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    pub fn new() -> Self {
        let mut registry = Registry::default();
        let requests = Family::<Labels4, Counter>::default();
        registry.register(
            "requests",
            "Requests of the tracked platform stored by Sightline (duplicates not counted)",
            requests.clone(),
        );
        let request_latency: HistogramFamily<Labels2> =
            Family::new_with_constructor(latency_histogram as fn() -> Histogram);
        registry.register(
            "request_latency_seconds",
            "Latency of the tracked platform's requests",
            request_latency.clone(),
        );
        let anomalies = Family::<Labels2, Counter>::default();
        registry.register(
            "anomaly_detection_triggered",
            "Times anomaly detection was triggered, by endpoint and reason",
            anomalies.clone(),
        );
        let active_users = Family::default();
        registry.register(
            "active_users",
            "Distinct users with a request in the trailing timeframe",
            active_users.clone(),
        );
        let sessions = std::sync::Arc::new(SessionTotal::default());
        registry.register_collector(Box::new(sessions.clone()));
        let ingest_events = Family::<Labels2, Counter>::default();
        registry.register(
            "sightline_ingest_events",
            "Ingested events by type and outcome (accepted, duplicate, rejected)",
            ingest_events.clone(),
        );
        let ingest_batches = Counter::default();
        registry.register(
            "sightline_ingest_batches",
            "Ingest batches committed",
            ingest_batches.clone(),
        );
        let commit_seconds = Histogram::new(COMMIT_BUCKETS);
        registry.register(
            "sightline_ingest_commit_seconds",
            "Duration of one group commit of the ingest writer",
            commit_seconds.clone(),
        );
        let queue_depth = Gauge::default();
        registry.register(
            "sightline_ingest_queue_depth",
            "Ingest batches waiting for the writer",
            queue_depth.clone(),
        );
        let threats = Family::default();
        registry.register(
            "sightline_threats_detected",
            "Threats detected, by type",
            threats.clone(),
        );
        let alerts_firing = Gauge::default();
        registry.register(
            "sightline_alerts_firing",
            "Alerts currently firing",
            alerts_firing.clone(),
        );
        let webhook_deliveries = Family::default();
        registry.register(
            "sightline_webhook_deliveries",
            "Alert webhook deliveries, by outcome",
            webhook_deliveries.clone(),
        );
        let gateway_calls = Family::default();
        registry.register(
            "sightline_gateway_calls",
            "Calls proxied by the gateway, by provider and recording outcome (recorded; dropped when the write queue was full or closed; rejected when the call made no valid event)",
            gateway_calls.clone(),
        );
        Metrics {
            registry,
            started: Instant::now(),
            endpoints: Mutex::new(HashSet::new()),
            requests,
            request_latency,
            anomalies,
            active_users,
            sessions,
            activity_at: Mutex::new(None),
            ingest_events,
            ingest_batches,
            commit_seconds,
            queue_depth,
            threats,
            alerts_firing,
            webhook_deliveries,
            gateway_calls,
        }
    }

    /// Time since these metrics were created, at server start.
    pub fn uptime(&self) -> Duration {
        self.started.elapsed()
    }

    /// The label for `endpoint`: itself while fewer than [`MAX_ENDPOINT_LABELS`]
    /// endpoints have been seen (or if it already has one), else `other`.
    fn endpoint_label(&self, endpoint: &str) -> String {
        let mut seen = self
            .endpoints
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if seen.contains(endpoint) {
            return endpoint.to_owned();
        }
        if seen.len() < MAX_ENDPOINT_LABELS {
            seen.insert(endpoint.to_owned());
            return endpoint.to_owned();
        }
        "other".to_owned()
    }

    /// Counts one new request of the tracked platform.
    pub fn request_stored(
        &self,
        kind: &str,
        method: &str,
        status_code: i32,
        endpoint: &str,
        latency_ms: f64,
    ) {
        let endpoint = self.endpoint_label(endpoint);
        self.requests
            .get_or_create(&[
                ("kind", kind.to_owned()),
                ("method", method_label(method).to_owned()),
                ("status", status_class(status_code).to_owned()),
                ("endpoint", endpoint.clone()),
            ])
            .inc();
        self.request_latency
            .get_or_create(&[("kind", kind.to_owned()), ("endpoint", endpoint)])
            .observe(latency_ms.max(0.0) / 1000.0);
    }

    /// Counts one triggering of anomaly detection on `endpoint` for `reason`.
    pub fn anomaly_triggered(&self, endpoint: &str, reason: &str) {
        let endpoint = self.endpoint_label(endpoint);
        self.anomalies
            .get_or_create(&[("endpoint", endpoint), ("reason", reason.to_owned())])
            .inc();
    }

    /// Counts one detected threat of `threat_type` (e.g. `sql_injection`).
    pub fn threat_detected(&self, threat_type: &str) {
        self.threats
            .get_or_create(&[("threat_type", threat_type.to_owned())])
            .inc();
    }

    /// Sets the number of alerts currently firing.
    pub fn set_alerts_firing(&self, n: i64) {
        self.alerts_firing.set(n);
    }

    /// Counts one webhook delivery with `outcome` (e.g. `delivered`, `failed`).
    pub fn webhook_delivery(&self, outcome: &str) {
        self.webhook_deliveries
            .get_or_create(&[("outcome", outcome.to_owned())])
            .inc();
    }

    /// Adds `n` ingested events of `event_type` (`request`, `feedback`, `threat`,
    /// `auth_event`, `unknown`) with `outcome` (`accepted`, `duplicate`, `rejected`).
    pub fn ingest_events(&self, event_type: &str, outcome: &str, n: u64) {
        if n == 0 {
            return;
        }
        self.ingest_events
            .get_or_create(&[
                ("type", event_type.to_owned()),
                ("outcome", outcome.to_owned()),
            ])
            .inc_by(n);
    }

    /// Counts a call proxied to `provider` (a configured upstream name, so the label is
    /// bounded) whose recording had `outcome`: `recorded`, `dropped` or `rejected`.
    pub fn gateway_call(&self, provider: &str, outcome: &str) {
        self.gateway_calls
            .get_or_create(&[
                ("provider", provider.to_owned()),
                ("outcome", outcome.to_owned()),
            ])
            .inc();
    }

    /// Records the duration of one group commit of the ingest writer.
    pub fn commit_duration(&self, elapsed: Duration) {
        self.commit_seconds.observe(elapsed.as_secs_f64());
    }

    /// Sets the number of ingest batches waiting for the writer.
    pub fn set_queue_depth(&self, depth: usize) {
        self.queue_depth
            .set(i64::try_from(depth).unwrap_or(i64::MAX));
    }

    /// Reads active users and sessions from `store` unless the last read is younger
    /// than 15 s, so frequent scrapes cost no query.
    pub async fn refresh_activity(&self, store: &Store, now_ms: i64) -> Result<(), StoreError> {
        let stale = {
            let at = self
                .activity_at
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner());
            at.is_none_or(|t| t.elapsed() >= ACTIVITY_TTL)
        };
        if !stale {
            return Ok(());
        }
        let windows = TIMEFRAMES.map(|(_, ms)| now_ms - ms);
        let ActivityCounts {
            active_users,
            sessions,
        } = store.activity_counts(&windows).await?;
        for ((name, _), users) in TIMEFRAMES.iter().zip(active_users) {
            self.active_users
                .get_or_create(&[("timeframe", *name)])
                .set(users);
        }
        self.sessions.0.store(
            u64::try_from(sessions).unwrap_or(0),
            std::sync::atomic::Ordering::Relaxed,
        );
        *self
            .activity_at
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner()) = Some(Instant::now());
        Ok(())
    }

    /// The Prometheus text exposition of every metric ([`CONTENT_TYPE`]).
    pub fn encode(&self) -> String {
        let mut out = String::new();
        // Writing into a String cannot fail.
        let _ = prometheus_client::encoding::prometheus_text::encode(&mut out, &self.registry);
        out
    }
}

impl CommitObserver for Metrics {
    fn committed(&self, write: &std::sync::Arc<IngestWrite>, written: &IngestWritten) {
        self.ingest_batches.inc();
        for (request, fresh) in write.requests.iter().zip(&written.fresh_requests) {
            if *fresh {
                self.request_stored(
                    request.kind.as_str(),
                    &request.method,
                    request.status_code,
                    &request.endpoint,
                    request.latency_ms,
                );
            }
        }
    }

    fn group_committed(&self, elapsed: Duration) {
        self.commit_duration(elapsed);
    }
}

/// The status class of `code`: `1xx`…`5xx`, or `other`.
fn status_class(code: i32) -> &'static str {
    match code {
        100..=199 => "1xx",
        200..=299 => "2xx",
        300..=399 => "3xx",
        400..=499 => "4xx",
        500..=599 => "5xx",
        _ => "other",
    }
}

/// The usual HTTP verbs keep their name; anything else is `OTHER`.
fn method_label(method: &str) -> &'static str {
    const KNOWN: [&str; 9] = [
        "GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS", "CONNECT", "TRACE",
    ];
    KNOWN
        .iter()
        .find(|m| m.eq_ignore_ascii_case(method))
        .copied()
        .unwrap_or("OTHER")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoints_beyond_the_limit_are_other() {
        let m = Metrics::new();
        for i in 0..MAX_ENDPOINT_LABELS + 3 {
            m.request_stored("api", "get", 200, &format!("/e{i}"), 10.0);
        }
        m.request_stored("api", "GET", 503, "/e0", 10.0);
        let text = m.encode();
        assert!(text.contains(r#"endpoint="other""#));
        assert!(
            text.contains(
                r#"requests_total{kind="api",method="GET",status="5xx",endpoint="/e0"} 1"#
            )
        );
        assert_eq!(status_class(404), "4xx");
        assert_eq!(method_label("brew"), "OTHER");
    }
}
