//! Delivering a batch: to Sightline's ingest API with retries, or to an in-process sink.

use std::time::Duration;

use crate::config::{Destination, RetryPolicy, SinkFn, TrackerError};
use crate::wire::{IngestBatch, IngestReply};

/// The result of one delivery attempt.
#[derive(Debug)]
pub(crate) enum Attempt {
    /// Stored (or already stored: retries are idempotent by `request_id`).
    Delivered,
    /// Worth trying again: connection error, timeout, 429 or 5xx.
    Transient(String),
    /// Never going to work as it is (401, 400, 413): dropped.
    Refused(String),
}

pub(crate) enum Sink {
    Http {
        client: reqwest::Client,
        url: String,
        authorization: String,
    },
    Callback(SinkFn),
}

impl Sink {
    pub(crate) fn new(destination: &Destination, timeout: Duration) -> Result<Self, TrackerError> {
        Ok(match destination {
            Destination::Http { endpoint, api_key } => Sink::Http {
                client: reqwest::Client::builder()
                    .timeout(timeout)
                    .connect_timeout(timeout.min(Duration::from_secs(3)))
                    .build()
                    .map_err(|e| TrackerError::Client(e.to_string()))?,
                url: format!("{}/api/v1/ingest", endpoint.trim_end_matches('/')),
                authorization: format!("Bearer {}", api_key.trim()),
            },
            Destination::Sink(f) => Sink::Callback(f.clone()),
        })
    }

    async fn attempt(&self, batch: &IngestBatch) -> Attempt {
        match self {
            Sink::Callback(f) => {
                f(batch.clone());
                Attempt::Delivered
            }
            Sink::Http {
                client,
                url,
                authorization,
            } => {
                let sent = client
                    .post(url)
                    .header(http::header::AUTHORIZATION, authorization)
                    .json(batch)
                    .send()
                    .await;
                let response = match sent {
                    Ok(r) => r,
                    Err(e) => return Attempt::Transient(e.to_string()),
                };
                let status = response.status();
                if status.is_success() {
                    // The reply is informative only; per-event rejections are final.
                    let _ = response.json::<IngestReply>().await;
                    Attempt::Delivered
                } else if status.is_server_error()
                    || status.as_u16() == 429
                    || status.as_u16() == 408
                {
                    Attempt::Transient(format!("Sightline answered {status}"))
                } else {
                    Attempt::Refused(format!("Sightline answered {status}"))
                }
            }
        }
    }

    /// Tries up to `policy.max_attempts` times with exponential backoff; returns the
    /// last attempt and how many retries were made.
    pub(crate) async fn deliver(
        &self,
        batch: &IngestBatch,
        policy: &RetryPolicy,
    ) -> (Attempt, u32) {
        let mut backoff = policy.initial_backoff;
        let mut retries = 0;
        loop {
            let attempt = self.attempt(batch).await;
            let Attempt::Transient(_) = attempt else {
                return (attempt, retries);
            };
            if retries + 1 >= policy.max_attempts.max(1) {
                return (attempt, retries);
            }
            tokio::time::sleep(jittered(backoff)).await;
            backoff = (backoff * 2).min(policy.max_backoff);
            retries += 1;
        }
    }
}

/// Up to 10 % less than `backoff`, so many instances do not retry in lockstep.
fn jittered(backoff: Duration) -> Duration {
    backoff.mul_f64(1.0 - rand::random::<f64>() * 0.1)
}
