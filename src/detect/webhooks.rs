//! Alert news to `SIGHTLINE_WEBHOOK_URLS`: a JSON POST with a Slack-style `text` and the
//! alert itself, retried with backoff. Each URL has its own queue and task, so a slow
//! or hanging receiver delays nobody else — least of all ingest, which never waits.

use std::sync::Arc;
use std::time::Duration;

use serde::Serialize;
use tokio::sync::mpsc;
use url::Url;

use crate::metrics::Metrics;
use crate::store::{Alert, Store};

/// Notices waiting per URL; beyond, new ones are dropped (and counted).
const QUEUE: usize = 1_000;
/// Tries of one notice, and the pause before the first retry (doubled each time).
const ATTEMPTS: u32 = 5;
const FIRST_BACKOFF: Duration = Duration::from_secs(1);
/// How long one try may take.
const TIMEOUT: Duration = Duration::from_secs(10);

/// What a webhook receives.
#[derive(Clone, Debug, Serialize)]
pub struct Notice {
    /// `alert.firing` or `alert.resolved`.
    pub event: &'static str,
    /// One line for chat tools (Slack, Mattermost, Discord's Slack-compatible hooks).
    pub text: String,
    pub alert: Alert,
}

impl Notice {
    pub fn firing(alert: Alert) -> Notice {
        Notice {
            event: "alert.firing",
            text: format!(
                "[FIRING] [{}] {}: {}",
                alert.severity, alert.title, alert.description
            ),
            alert,
        }
    }

    pub fn resolved(alert: Alert) -> Notice {
        Notice {
            event: "alert.resolved",
            text: format!("[RESOLVED] {}", alert.title),
            alert,
        }
    }
}

/// The sending side: one queue per URL.
#[derive(Clone, Default)]
pub struct Webhooks {
    queues: Vec<(String, mpsc::Sender<Arc<Notice>>)>,
    metrics: Option<Arc<Metrics>>,
}

/// `scheme://host[:port]` of a URL: enough to tell receivers apart in logs without
/// printing the secret path of a Slack-style hook.
fn shown(url: &Url) -> String {
    match url.port() {
        Some(p) => format!("{}://{}:{p}", url.scheme(), url.host_str().unwrap_or("")),
        None => format!("{}://{}", url.scheme(), url.host_str().unwrap_or("")),
    }
}

impl Webhooks {
    /// Starts one delivery task per URL.
    pub fn start(urls: &[Url], store: Store, metrics: Arc<Metrics>) -> Webhooks {
        let client = reqwest::Client::builder()
            .timeout(TIMEOUT)
            .user_agent(concat!("Sightline/", env!("CARGO_PKG_VERSION")))
            .build()
            .unwrap_or_default();
        let queues = urls
            .iter()
            .map(|url| {
                let (tx, rx) = mpsc::channel(QUEUE);
                tokio::spawn(deliver_all(
                    client.clone(),
                    url.clone(),
                    rx,
                    store.clone(),
                    metrics.clone(),
                ));
                (shown(url), tx)
            })
            .collect();
        Webhooks {
            queues,
            metrics: Some(metrics),
        }
    }

    /// Queues `notice` for every URL; never waits.
    pub fn send(&self, notice: Notice) {
        let notice = Arc::new(notice);
        for (url, tx) in &self.queues {
            if tx.try_send(notice.clone()).is_err() {
                tracing::warn!(%url, alert = notice.alert.id, "webhook queue full, notice dropped");
                if let Some(m) = &self.metrics {
                    m.webhook_delivery("dropped");
                }
            }
        }
    }
}

async fn deliver_all(
    client: reqwest::Client,
    url: Url,
    mut rx: mpsc::Receiver<Arc<Notice>>,
    store: Store,
    metrics: Arc<Metrics>,
) {
    while let Some(notice) = rx.recv().await {
        let mut backoff = FIRST_BACKOFF;
        let mut outcome = "failed";
        for attempt in 1..=ATTEMPTS {
            let error = match client.post(url.clone()).json(&*notice).send().await {
                Ok(r) if r.status().is_success() => None,
                Ok(r) => Some(format!("status {}", r.status())),
                Err(e) if e.is_timeout() => Some("timed out".to_string()),
                Err(e) => Some(e.without_url().to_string()),
            };
            match error {
                None => {
                    outcome = "delivered";
                    break;
                }
                Some(error) if attempt < ATTEMPTS => {
                    tracing::info!(url = %shown(&url), alert = notice.alert.id, attempt, %error, "webhook delivery failed, retrying");
                    metrics.webhook_delivery("retried");
                    tokio::time::sleep(backoff).await;
                    backoff *= 2;
                }
                Some(error) => {
                    tracing::warn!(url = %shown(&url), alert = notice.alert.id, %error, "webhook delivery failed, giving up");
                }
            }
        }
        metrics.webhook_delivery(outcome);
        if outcome == "delivered" && notice.event == "alert.firing" {
            let now = chrono::Utc::now().timestamp_millis();
            if let Err(e) = store.mark_alert_notified(notice.alert.id, now).await {
                tracing::warn!(error = %e, "could not record the webhook delivery");
            }
        }
    }
}
