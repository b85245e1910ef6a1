//! Alert news and digests to `SIGHTLINE_WEBHOOK_URLS`: a JSON POST with a Slack-style
//! `text` and the alert or the digest itself, retried with backoff. Each URL has its own
//! queue and task, so a slow or hanging receiver delays nobody else — least of all
//! ingest, which never waits.

use std::sync::Arc;
use std::time::Duration;

use serde::Serialize;
use tokio::sync::mpsc;
use url::Url;

use crate::digests::Digest;
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
    /// `alert.firing`, `alert.resolved`, `digest.daily` or `digest.weekly`.
    pub event: &'static str,
    /// For chat tools (Slack, Mattermost, Discord's Slack-compatible hooks): one line of
    /// an alert, a few of a digest.
    pub text: String,
    /// The alert or the digest, under its own key.
    #[serde(flatten)]
    pub about: About,
}

/// What a notice is about: `"alert": {…}` or `"digest": {…}` beside `event` and `text`.
#[derive(Clone, Debug, Serialize)]
#[serde(untagged)]
pub enum About {
    Alert { alert: Alert },
    Digest { digest: Digest },
}

impl Notice {
    pub fn firing(alert: Alert) -> Notice {
        Notice {
            event: "alert.firing",
            text: format!(
                "[FIRING] [{}] {}: {}",
                alert.severity, alert.title, alert.description
            ),
            about: About::Alert { alert },
        }
    }

    pub fn resolved(alert: Alert) -> Notice {
        Notice {
            event: "alert.resolved",
            text: format!("[RESOLVED] {}", alert.title),
            about: About::Alert { alert },
        }
    }

    /// A digest, with its summary as the `text`.
    pub fn digest(digest: Digest) -> Notice {
        Notice {
            event: digest.kind.event(),
            text: digest.text(),
            about: About::Digest { digest },
        }
    }

    /// The id of the alert it is about, if it is about one (for the logs).
    fn alert_id(&self) -> Option<i64> {
        match &self.about {
            About::Alert { alert } => Some(alert.id),
            About::Digest { .. } => None,
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

    /// Whether there is no URL to send to.
    pub fn is_empty(&self) -> bool {
        self.queues.is_empty()
    }

    /// Queues `notice` for every URL; never waits.
    pub fn send(&self, notice: Notice) {
        let notice = Arc::new(notice);
        for (url, tx) in &self.queues {
            if tx.try_send(notice.clone()).is_err() {
                tracing::warn!(%url, event = notice.event, alert = notice.alert_id(), "webhook queue full, notice dropped");
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
                    tracing::info!(url = %shown(&url), event = notice.event, alert = notice.alert_id(), attempt, %error, "webhook delivery failed, retrying");
                    metrics.webhook_delivery("retried");
                    tokio::time::sleep(backoff).await;
                    backoff *= 2;
                }
                Some(error) => {
                    tracing::warn!(url = %shown(&url), event = notice.event, alert = notice.alert_id(), %error, "webhook delivery failed, giving up");
                }
            }
        }
        metrics.webhook_delivery(outcome);
        if outcome == "delivered"
            && notice.event == "alert.firing"
            && let Some(id) = notice.alert_id()
        {
            let now = chrono::Utc::now().timestamp_millis();
            if let Err(e) = store.mark_alert_notified(id, now).await {
                tracing::warn!(error = %e, "could not record the webhook delivery");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::AlertState;
    use sightline_tracker::wire::Severity;

    #[test]
    fn an_alert_notice_is_event_text_and_alert() {
        let alert = Alert {
            id: 3,
            key: "error_burst".into(),
            rule: "error_burst".into(),
            severity: Severity::High,
            state: AlertState::Firing,
            title: "Error burst".into(),
            description: "12 errors in 5 min".into(),
            endpoint: None,
            value: Some(12.0),
            threshold: Some(10.0),
            fired_at: 1_000,
            updated_at: 1_000,
            resolved_at: None,
            notified_at: None,
        };
        assert_eq!(
            serde_json::to_string(&Notice::firing(alert)).unwrap(),
            r#"{"event":"alert.firing","text":"[FIRING] [high] Error burst: 12 errors in 5 min","alert":{"id":3,"key":"error_burst","rule":"error_burst","severity":"high","state":"firing","title":"Error burst","description":"12 errors in 5 min","endpoint":null,"value":12.0,"threshold":10.0,"firedAt":1000,"updatedAt":1000,"resolvedAt":null,"notifiedAt":null}}"#
        );
    }
}
