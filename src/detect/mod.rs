//! Detection: threat rules and anomaly alerts over the ingested traffic, and webhook
//! news of alerts. The ingest writer hands each committed batch to [`Detector`] (a
//! `try_send`, so ingest never waits for detection); one task applies the rules,
//! records threats (folded into open ones) and fires and resolves alerts.
//!
//! Windows are kept in memory by each server process: with several replicas, each
//! judges the traffic it ingested (see the README on scaling out).

pub mod anomalies;
pub mod corpus;
mod decode;
pub mod inspect;
pub mod patterns;
pub mod threats;
pub mod webhooks;
mod windows;

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use clap::Args;
use tokio::sync::mpsc;

use crate::ingest::writer::CommitObserver;
use crate::metrics::Metrics;
use crate::store::{IngestWrite, IngestWritten, NewThreat, Store};
use anomalies::{AlertChange, Anomalies};
use threats::ThreatRules;
use webhooks::{Notice, Webhooks};

/// The thresholds of the rules; each a flag and a `SIGHTLINE_*` variable.
#[derive(Debug, Clone, Args)]
pub struct Thresholds {
    /// Requests a minute from one IP address before a `rate_limit` threat.
    #[arg(
        long = "detect-rate-per-ip",
        global = true,
        env = "SIGHTLINE_DETECT_RATE_PER_IP",
        default_value_t = Thresholds::DEFAULT.rate_per_ip
    )]
    pub rate_per_ip: u32,
    /// Requests a minute from one user before a `rate_limit` threat.
    #[arg(
        long = "detect-rate-per-user",
        global = true,
        env = "SIGHTLINE_DETECT_RATE_PER_USER",
        default_value_t = Thresholds::DEFAULT.rate_per_user
    )]
    pub rate_per_user: u32,
    /// 404 responses a minute to one IP address before a `scanner` threat.
    #[arg(
        long = "detect-scanner-404s",
        global = true,
        env = "SIGHTLINE_DETECT_SCANNER_404S",
        default_value_t = Thresholds::DEFAULT.scanner_404s
    )]
    pub scanner_404s: u32,
    /// Failed logins in 10 minutes from one IP address, or for one user, before an
    /// `invalid_auth` threat.
    #[arg(
        long = "detect-failed-logins",
        global = true,
        env = "SIGHTLINE_DETECT_FAILED_LOGINS",
        default_value_t = Thresholds::DEFAULT.failed_logins
    )]
    pub failed_logins: u32,
    /// Server errors (5xx) in 5 minutes before the `error_burst` alert.
    #[arg(
        long = "alert-errors-5m",
        global = true,
        env = "SIGHTLINE_ALERT_ERRORS_5M",
        default_value_t = Thresholds::DEFAULT.errors_5m
    )]
    pub errors_5m: u32,
    /// `error_rate_spike`: an endpoint's error rate over 5 minutes alerts at this multiple
    /// of its rate in the hour before...
    #[arg(
        long = "alert-spike-factor",
        global = true,
        env = "SIGHTLINE_ALERT_SPIKE_FACTOR",
        default_value_t = Thresholds::DEFAULT.spike_factor
    )]
    pub spike_factor: f64,
    /// ...and at least this much above it (0.1 = 10 percentage points).
    #[arg(
        long = "alert-spike-min-rate",
        global = true,
        env = "SIGHTLINE_ALERT_SPIKE_MIN_RATE",
        default_value_t = Thresholds::DEFAULT.spike_min_rate
    )]
    pub spike_min_rate: f64,
    /// Requests an endpoint needs in the window (and in its baseline) before its error
    /// rate or p95 latency is judged.
    #[arg(
        long = "alert-min-requests",
        global = true,
        env = "SIGHTLINE_ALERT_MIN_REQUESTS",
        default_value_t = Thresholds::DEFAULT.min_requests
    )]
    pub min_requests: u32,
    /// p95 latency (ms) over 5 minutes above which an endpoint gets a `latency_p95` alert.
    #[arg(
        long = "alert-latency-p95-ms",
        global = true,
        env = "SIGHTLINE_ALERT_LATENCY_P95_MS",
        default_value_t = Thresholds::DEFAULT.latency_p95_ms
    )]
    pub latency_p95_ms: f64,
    /// Per-endpoint p95 thresholds: `ENDPOINT=MS`, comma-separated
    /// (`/v1/embeddings=2000,/v1/models=500`).
    #[arg(long = "alert-latency-p95-by-endpoint", global = true, env = "SIGHTLINE_ALERT_LATENCY_P95_BY_ENDPOINT", value_delimiter = ',', value_parser = parse_endpoint_ms, num_args = 0..)]
    pub latency_p95_by_endpoint: Vec<(String, f64)>,
    /// `cost_spike`: the last hour's cost of the served requests alerts at this multiple
    /// of the mean hour of the 24 hours before...
    #[arg(
        long = "alert-cost-spike-factor",
        global = true,
        env = "SIGHTLINE_ALERT_COST_SPIKE_FACTOR",
        default_value_t = Thresholds::DEFAULT.cost_spike_factor
    )]
    pub cost_spike_factor: f64,
    /// ...and at least this many US dollars above it.
    #[arg(
        long = "alert-cost-spike-min-usd",
        global = true,
        env = "SIGHTLINE_ALERT_COST_SPIKE_MIN_USD",
        default_value_t = Thresholds::DEFAULT.cost_spike_min_usd
    )]
    pub cost_spike_min_usd: f64,
}

fn parse_endpoint_ms(s: &str) -> Result<(String, f64), String> {
    let (endpoint, ms) = s
        .rsplit_once('=')
        .ok_or_else(|| format!("`{s}`: expected ENDPOINT=MILLISECONDS"))?;
    let ms: f64 = ms
        .trim()
        .parse()
        .map_err(|_| format!("`{s}`: `{ms}` is not a number of milliseconds"))?;
    if !(ms.is_finite() && ms > 0.0) || endpoint.trim().is_empty() {
        return Err(format!(
            "`{s}`: expected ENDPOINT=MILLISECONDS with MILLISECONDS > 0"
        ));
    }
    Ok((endpoint.trim().to_string(), ms))
}

impl Default for Thresholds {
    fn default() -> Thresholds {
        Thresholds::DEFAULT
    }
}

impl Thresholds {
    /// The defaults, written once: the command line's and `Default`'s.
    pub const DEFAULT: Thresholds = Thresholds {
        rate_per_ip: 600,
        rate_per_user: 600,
        scanner_404s: 30,
        failed_logins: 5,
        errors_5m: 10,
        spike_factor: 3.0,
        spike_min_rate: 0.1,
        min_requests: 20,
        latency_p95_ms: 30_000.0,
        latency_p95_by_endpoint: Vec::new(),
        cost_spike_factor: 3.0,
        cost_spike_min_usd: 1.0,
    };

    /// The p95 threshold of `endpoint` in milliseconds.
    pub fn latency_threshold(&self, endpoint: &str) -> f64 {
        self.latency_p95_by_endpoint
            .iter()
            .find(|(e, _)| e == endpoint)
            .map_or(self.latency_p95_ms, |(_, ms)| *ms)
    }
}

/// Batches waiting for detection; beyond, batches skip detection (and are counted).
const QUEUE: usize = 4_096;
/// How often found threats are written and alerts evaluated.
const TICK: Duration = Duration::from_secs(1);
const EVALUATE_EVERY_MS: i64 = 2_000;

struct Committed {
    write: Arc<IngestWrite>,
    fresh: Vec<bool>,
}

/// The ingest writer's side of detection.
pub struct Detector {
    tx: mpsc::Sender<Committed>,
    skipped: AtomicU64,
}

impl CommitObserver for Detector {
    fn committed(&self, write: &Arc<IngestWrite>, written: &IngestWritten) {
        if write.requests.is_empty() && write.auth_events.is_empty() {
            return;
        }
        let batch = Committed {
            write: write.clone(),
            fresh: written.fresh_requests.clone(),
        };
        if self.tx.try_send(batch).is_err() {
            let n = self.skipped.fetch_add(1, Ordering::Relaxed) + 1;
            if n.is_power_of_two() {
                tracing::warn!(
                    skipped = n,
                    "detection is behind: batches skipped detection (they are stored)"
                );
            }
        }
    }
}

impl Detector {
    /// Starts the detection task; it ends when the returned detector is dropped (after
    /// the ingest writer, which holds it) and its queue is drained.
    pub async fn start(
        store: Store,
        thresholds: Thresholds,
        metrics: Arc<Metrics>,
        webhooks: Webhooks,
    ) -> (Arc<Detector>, tokio::task::JoinHandle<()>) {
        let now = chrono::Utc::now().timestamp_millis();
        let mut anomalies = Anomalies::new(thresholds.clone(), now);
        match store.firing_alert_keys().await {
            Ok(keys) => anomalies.inherit(keys),
            Err(e) => tracing::warn!(error = %e, "could not read the firing alerts"),
        }
        let since = now - self::anomalies::COST_WINDOW_MS - self::anomalies::COST_BASELINE_MS;
        match store.hourly_costs_since(since).await {
            Ok(hours) => {
                anomalies.seed_costs(hours.into_iter().map(|h| (h.bucket_start, h.cost_micros)))
            }
            Err(e) => tracing::warn!(error = %e, "could not read the hourly costs"),
        }
        let (tx, rx) = mpsc::channel(QUEUE);
        let task = Task {
            store,
            rules: ThreatRules::new(thresholds),
            anomalies,
            metrics,
            webhooks,
            found: Vec::new(),
            last_evaluation: 0,
            last_sweep: now,
        };
        let handle = tokio::spawn(task.run(rx));
        (
            Arc::new(Detector {
                tx,
                skipped: AtomicU64::new(0),
            }),
            handle,
        )
    }
}

struct Task {
    store: Store,
    rules: ThreatRules,
    anomalies: Anomalies,
    metrics: Arc<Metrics>,
    webhooks: Webhooks,
    /// Threats found since the last write.
    found: Vec<NewThreat>,
    last_evaluation: i64,
    last_sweep: i64,
}

impl Task {
    async fn run(mut self, mut rx: mpsc::Receiver<Committed>) {
        let mut tick = tokio::time::interval(TICK);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                batch = rx.recv() => match batch {
                    Some(b) => self.observe(&b),
                    None => break,
                },
                _ = tick.tick() => self.tick().await,
            }
        }
        self.write_threats().await;
    }

    fn observe(&mut self, b: &Committed) {
        let now = chrono::Utc::now().timestamp_millis();
        let mut inspected = b.write.inspected.iter().peekable();
        for (i, r) in b.write.requests.iter().enumerate() {
            let extra = inspected.next_if(|(at, _)| *at == i).map(|(_, x)| x);
            if !b.fresh.get(i).copied().unwrap_or(false) {
                continue;
            }
            self.rules.request(r, extra, now, &mut self.found);
            for reason in self.anomalies.request(r, now) {
                self.metrics.anomaly_triggered(&r.endpoint, reason);
            }
        }
        for e in &b.write.auth_events {
            self.rules.auth_event(e, now, &mut self.found);
        }
    }

    async fn tick(&mut self) {
        self.write_threats().await;
        let now = chrono::Utc::now().timestamp_millis();
        if now - self.last_evaluation >= EVALUATE_EVERY_MS {
            self.last_evaluation = now;
            self.evaluate(now).await;
        }
        if now - self.last_sweep >= 60_000 {
            self.last_sweep = now;
            self.rules.sweep(now);
        }
    }

    /// Writes the threats found, those of one key folded into one row.
    async fn write_threats(&mut self) {
        if self.found.is_empty() {
            return;
        }
        let mut folded: Vec<(NewThreat, i64)> = Vec::new();
        let mut index: HashMap<(String, Option<String>, Option<String>), usize> = HashMap::new();
        for t in self.found.drain(..) {
            self.metrics.threat_detected(t.threat_type.as_str());
            let key = (
                t.threat_type.as_str().to_string(),
                t.ip.clone(),
                t.user_id.clone(),
            );
            match index.get(&key) {
                Some(&i) => folded[i].1 += 1,
                None => {
                    index.insert(key, folded.len());
                    folded.push((t, 1));
                }
            }
        }
        if let Err(e) = self.store.record_detected_threats(&folded).await {
            tracing::error!(error = %e, threats = folded.len(), "could not record detected threats");
        }
    }

    async fn evaluate(&mut self, now: i64) {
        for change in self.anomalies.evaluate(now) {
            match change {
                AlertChange::Firing(a) => match self.store.fire_alert(&a).await {
                    Ok(Some(alert)) => {
                        tracing::warn!(alert = %alert.key, title = %alert.title, "alert firing");
                        self.metrics
                            .anomaly_triggered(a.endpoint.as_deref().unwrap_or("*"), &a.rule);
                        self.webhooks.send(Notice::firing(alert));
                    }
                    Ok(None) => {}
                    Err(e) => {
                        tracing::error!(error = %e, alert = %a.key, "could not record an alert")
                    }
                },
                AlertChange::Resolved { key, value } => {
                    match self.store.resolve_alert(&key, value, now).await {
                        Ok(Some(alert)) => {
                            tracing::info!(alert = %alert.key, "alert resolved");
                            self.webhooks.send(Notice::resolved(alert));
                        }
                        Ok(None) => {}
                        Err(e) => {
                            tracing::error!(error = %e, alert = %key, "could not resolve an alert")
                        }
                    }
                }
            }
        }
        self.metrics
            .set_alerts_firing(self.anomalies.firing_count() as i64);
    }
}
