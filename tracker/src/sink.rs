//! Delivering a batch: to Sightline's ingest API with retries, or to an in-process sink.

use std::time::Duration;

use crate::config::{Destination, RetryPolicy, SinkFn, TrackerError};
use crate::wire::{IngestBatch, IngestReply};

/// How the delivery of a batch ended.
#[derive(Debug)]
pub(crate) enum Delivery {
    /// Stored (or already stored: retries are idempotent by `request_id`).
    Delivered,
    /// Never going to work as it is (401, 400, 413): dropped.
    Refused(String),
    /// Still failing after every try; the batch is handed back to be kept.
    Failed(String, IngestBatch),
}

/// The result of one HTTP attempt.
#[derive(Debug)]
enum Attempt {
    Delivered,
    /// Worth trying again: connection error, timeout, 408, 429 or 5xx; with the wait
    /// Sightline asked for in `Retry-After` (on 429 and 503), if any.
    Transient(String, Option<Duration>),
    Refused(String),
}

pub(crate) enum Sink {
    Http(HttpSink),
    Callback(SinkFn),
}

pub(crate) struct HttpSink {
    client: reqwest::Client,
    url: String,
    authorization: String,
}

impl Sink {
    pub(crate) fn new(destination: &Destination, timeout: Duration) -> Result<Self, TrackerError> {
        Ok(match destination {
            Destination::Http { endpoint, api_key } => Sink::Http(HttpSink {
                client: reqwest::Client::builder()
                    .timeout(timeout)
                    .connect_timeout(timeout.min(Duration::from_secs(3)))
                    .build()
                    .map_err(|e| TrackerError::Client(e.to_string()))?,
                url: format!("{}/api/v1/ingest", endpoint.trim_end_matches('/')),
                authorization: format!("Bearer {}", api_key.trim()),
            }),
            Destination::Sink(f) => Sink::Callback(f.clone()),
        })
    }

    /// Delivers `batch`: to the in-process sink at once, or to Sightline with up to
    /// `policy.max_attempts` tries; returns how it ended and how many retries were made.
    pub(crate) async fn deliver(
        &self,
        batch: IngestBatch,
        policy: &RetryPolicy,
    ) -> (Delivery, u32) {
        match self {
            Sink::Callback(f) => {
                f(batch);
                (Delivery::Delivered, 0)
            }
            Sink::Http(http) => http.deliver(batch, policy).await,
        }
    }
}

impl HttpSink {
    async fn attempt(&self, batch: &IngestBatch) -> Attempt {
        let sent = self
            .client
            .post(&self.url)
            .header(http::header::AUTHORIZATION, &self.authorization)
            .json(batch)
            .send()
            .await;
        let response = match sent {
            Ok(r) => r,
            Err(e) => return Attempt::Transient(e.to_string(), None),
        };
        let status = response.status();
        if status.is_success() {
            // The reply is informative only; per-event rejections are final.
            let _ = response.json::<IngestReply>().await;
            Attempt::Delivered
        } else if status.is_server_error() || status.as_u16() == 429 || status.as_u16() == 408 {
            let retry_after = match status.as_u16() {
                429 | 503 => retry_after(response.headers()),
                _ => None,
            };
            Attempt::Transient(format!("Sightline answered {status}"), retry_after)
        } else {
            Attempt::Refused(format!("Sightline answered {status}"))
        }
    }

    /// Tries with exponential backoff, waiting at least what a 429 or 503 asked for in
    /// `Retry-After`.
    async fn deliver(&self, batch: IngestBatch, policy: &RetryPolicy) -> (Delivery, u32) {
        let mut backoff = policy.initial_backoff;
        let mut retries = 0;
        loop {
            let (reason, asked) = match self.attempt(&batch).await {
                Attempt::Delivered => return (Delivery::Delivered, retries),
                Attempt::Refused(reason) => return (Delivery::Refused(reason), retries),
                Attempt::Transient(reason, asked) => (reason, asked),
            };
            if retries + 1 >= policy.max_attempts.max(1) {
                return (Delivery::Failed(reason, batch), retries);
            }
            tokio::time::sleep(retry_wait(jittered(backoff), asked)).await;
            backoff = (backoff * 2).min(policy.max_backoff);
            retries += 1;
        }
    }
}

/// The longest wait a `Retry-After` can impose before the next try, so that a
/// misconfigured proxy cannot stall the flush task (and shutdown) for hours.
const MAX_RETRY_AFTER: Duration = Duration::from_secs(60);

/// The wait before the next try: the backoff, or longer when Sightline asked for it
/// (a `Retry-After` beyond [`MAX_RETRY_AFTER`] counts as that).
fn retry_wait(backoff: Duration, retry_after: Option<Duration>) -> Duration {
    match retry_after {
        Some(asked) => backoff.max(asked.min(MAX_RETRY_AFTER)),
        None => backoff,
    }
}

/// `Retry-After` in delay-seconds (what Sightline sends). The HTTP-date form is not
/// read: it needs synchronised clocks, and the backoff applies instead.
fn retry_after(headers: &http::HeaderMap) -> Option<Duration> {
    let seconds: u64 = headers
        .get(http::header::RETRY_AFTER)?
        .to_str()
        .ok()?
        .trim()
        .parse()
        .ok()?;
    Some(Duration::from_secs(seconds))
}

/// Up to 10 % less than `backoff`, so many instances do not retry in lockstep.
fn jittered(backoff: Duration) -> Duration {
    backoff.mul_f64(1.0 - rand::random::<f64>() * 0.1)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(value: &str) -> http::HeaderMap {
        let mut h = http::HeaderMap::new();
        h.insert(http::header::RETRY_AFTER, value.parse().unwrap());
        h
    }

    #[test]
    fn retry_after_is_read_in_seconds() {
        assert_eq!(retry_after(&headers("1")), Some(Duration::from_secs(1)));
        assert_eq!(retry_after(&headers(" 30 ")), Some(Duration::from_secs(30)));
        assert_eq!(retry_after(&headers("Wed, 21 Oct 2026 07:28:00 GMT")), None);
        assert_eq!(retry_after(&headers("-1")), None);
        assert_eq!(retry_after(&http::HeaderMap::new()), None);
    }

    #[test]
    fn the_wait_is_the_longer_of_backoff_and_retry_after_capped_at_a_minute() {
        let ms = Duration::from_millis;
        assert_eq!(retry_wait(ms(100), None), ms(100));
        assert_eq!(retry_wait(ms(100), Some(ms(2_000))), ms(2_000));
        assert_eq!(retry_wait(ms(5_000), Some(ms(1_000))), ms(5_000));
        assert_eq!(
            retry_wait(ms(100), Some(Duration::from_secs(3_600))),
            MAX_RETRY_AFTER
        );
    }
}
