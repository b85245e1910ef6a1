//! The [`Tracker`] handle: records events, and owns the flush task.

use std::fmt;
use std::future::Future;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::time::{SystemTime, UNIX_EPOCH};

use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;

use crate::SightlineLayer;
use crate::capture::{ProxyNet, TrackedUsage};
use crate::config::{TrackerConfig, TrackerError};
use crate::flush::{Control, Flusher};
use crate::queue::{Counters, Event, EventQueue, TrackerStats};
use crate::sink::Sink;
use crate::wire::{AuthEvent, AuthEventType, RequestEvent, RequestKind, Timestamp};

/// Records events and sends them to Sightline from a background task.
///
/// Cheap to clone; every clone feeds the same queue. Build it with [`TrackerConfig`],
/// wrap the app with [`Tracker::layer`], and call [`Tracker::shutdown`] when the
/// server stops so that nothing queued is lost.
#[derive(Clone)]
pub struct Tracker {
    inner: Arc<Inner>,
}

struct Inner {
    queue: Arc<EventQueue>,
    counters: Arc<Counters>,
    control: mpsc::UnboundedSender<Control>,
    task: Mutex<Option<JoinHandle<()>>>,
    pub(crate) capture: CaptureRules,
}

/// Which requests the layer records.
pub(crate) struct CaptureRules {
    pub sample_rate: f64,
    pub skip_paths: Vec<String>,
    pub authenticated_only: bool,
    pub trusted_proxies: Vec<ProxyNet>,
}

impl CaptureRules {
    pub(crate) fn skips(&self, path: &str) -> bool {
        self.skip_paths.iter().any(|prefix| {
            path.strip_prefix(prefix.as_str()).is_some_and(|rest| {
                rest.is_empty() || rest.starts_with('/') || prefix.ends_with('/')
            })
        })
    }

    /// Errors are always kept; successes with probability `sample_rate`.
    pub(crate) fn samples(&self, status: u16) -> bool {
        status >= 400 || self.sample_rate >= 1.0 || rand::random::<f64>() < self.sample_rate
    }
}

impl fmt::Debug for Tracker {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Tracker")
            .field("stats", &self.stats())
            .finish()
    }
}

impl Tracker {
    /// Starts from a config that sends to Sightline at `endpoint` with `api_key`; see
    /// [`TrackerConfig`] for every option.
    pub fn builder(endpoint: impl Into<String>, api_key: impl Into<String>) -> TrackerConfig {
        TrackerConfig::http(endpoint, api_key)
    }

    pub(crate) fn start(config: TrackerConfig) -> Result<Self, TrackerError> {
        let trusted_proxies = config.validate()?;
        let runtime = tokio::runtime::Handle::try_current().map_err(|_| TrackerError::NoRuntime)?;
        let sink = Sink::new(&config.destination, config.request_timeout)?;
        let count = config.flush.count_trigger();
        let queue = Arc::new(EventQueue::new(config.queue_capacity, count));
        let counters = Arc::new(Counters::default());
        let (control, control_rx) = mpsc::unbounded_channel();
        let flusher = Flusher {
            queue: queue.clone(),
            counters: counters.clone(),
            sink,
            strategy: config.flush,
            batch_size: count
                .unwrap_or(config.max_batch_size)
                .min(config.max_batch_size),
            retry: config.retry,
            retry_capacity: config.retry_buffer,
            pending: Default::default(),
        };
        let task = runtime.spawn(flusher.run(control_rx));
        Ok(Tracker {
            inner: Arc::new(Inner {
                queue,
                counters,
                control,
                task: Mutex::new(Some(task)),
                capture: CaptureRules {
                    sample_rate: config.sample_rate,
                    skip_paths: config.skip_paths,
                    authenticated_only: config.authenticated_only,
                    trusted_proxies,
                },
            }),
        })
    }

    /// The tower layer that records every request of the service it wraps.
    pub fn layer(&self) -> SightlineLayer {
        SightlineLayer::new(self.clone())
    }

    pub(crate) fn capture(&self) -> &CaptureRules {
        &self.inner.capture
    }

    /// Queues a request event as it is; a missing `request_id` (UUIDv7), `timestamp`
    /// (now) or `kind` (`api`) is filled in. Never waits.
    pub fn record_request(&self, mut event: RequestEvent) {
        event.request_id.get_or_insert_with(new_request_id);
        event.timestamp.get_or_insert_with(now);
        event.kind.get_or_insert(RequestKind::Api);
        self.inner
            .queue
            .push(Event::Request(event), &self.inner.counters);
    }

    /// Queues an authentication event (sign-up, login, failed login, …); a missing
    /// timestamp is now. Sent in the same batches as the requests.
    pub fn record_auth(&self, mut event: AuthEvent) {
        event.timestamp.get_or_insert_with(now);
        self.inner
            .queue
            .push(Event::Auth(event), &self.inner.counters);
    }

    /// Queues a bare authentication event of `event_type` for `user_id`.
    pub fn record_auth_event(&self, event_type: AuthEventType, user_id: Option<&str>) {
        self.record_auth(AuthEvent {
            event_type,
            user_id: user_id.map(str::to_owned),
            ip: None,
            user_agent: None,
            success: None,
            error: None,
            metadata: None,
            timestamp: None,
        });
    }

    /// Runs `call` (an outbound request to a provider) and records it as a
    /// `kind=external` request of `service`: latency, status (502 with the error when
    /// the call fails), and usage when the outcome carries one. Returns the outcome
    /// unchanged.
    ///
    /// ```no_run
    /// # async fn demo(tracker: sightline_tracker::Tracker, client: reqwest::Client) -> Result<(), reqwest::Error> {
    /// let response = tracker
    ///     .track_external("openai", "/v1/chat/completions", "POST", async {
    ///         client.post("https://api.openai.com/v1/chat/completions").send().await
    ///     })
    ///     .await?;
    /// # Ok(()) }
    /// ```
    pub async fn track_external<F, T, E>(
        &self,
        service: &str,
        endpoint: &str,
        method: &str,
        call: F,
    ) -> Result<T, E>
    where
        F: Future<Output = Result<T, E>>,
        T: CallOutcome,
        E: fmt::Display,
    {
        self.track_call(None, service, endpoint, method, call).await
    }

    /// [`Tracker::track_external`] for a call made on behalf of the platform's user
    /// `user_id`: the call carries the id, so Sightline counts its cost as that user's
    /// provider cost (apart from the cost of the user's own requests).
    pub async fn track_external_for<F, T, E>(
        &self,
        user_id: &str,
        service: &str,
        endpoint: &str,
        method: &str,
        call: F,
    ) -> Result<T, E>
    where
        F: Future<Output = Result<T, E>>,
        T: CallOutcome,
        E: fmt::Display,
    {
        self.track_call(Some(user_id.to_owned()), service, endpoint, method, call)
            .await
    }

    async fn track_call<F, T, E>(
        &self,
        user_id: Option<String>,
        service: &str,
        endpoint: &str,
        method: &str,
        call: F,
    ) -> Result<T, E>
    where
        F: Future<Output = Result<T, E>>,
        T: CallOutcome,
        E: fmt::Display,
    {
        let timestamp = now();
        let started = tokio::time::Instant::now();
        let outcome = call.await;
        let mut event = RequestEvent {
            timestamp: Some(timestamp),
            kind: Some(RequestKind::External),
            service: Some(service.to_owned()),
            endpoint: endpoint.to_owned(),
            method: method.to_ascii_uppercase(),
            latency_ms: started.elapsed().as_secs_f64() * 1000.0,
            user_id,
            ..RequestEvent::default()
        };
        match &outcome {
            Ok(value) => {
                event.status_code = i64::from(value.status_code());
                if let Some(usage) = value.usage() {
                    usage.apply(&mut event);
                }
            }
            Err(e) => {
                event.status_code = 502;
                event.error = Some(e.to_string());
            }
        }
        self.record_request(event);
        outcome
    }

    /// Counters since the tracker started.
    pub fn stats(&self) -> TrackerStats {
        let c = &self.inner.counters;
        TrackerStats {
            recorded: c.recorded.load(Ordering::Relaxed),
            sent: c.sent.load(Ordering::Relaxed),
            dropped: c.dropped.load(Ordering::Relaxed),
            failed_batches: c.failed_batches.load(Ordering::Relaxed),
            retries: c.retries.load(Ordering::Relaxed),
            queued: self.inner.queue.len(),
        }
    }

    /// Sends everything queued now and waits until it is delivered (or kept for a
    /// retry after every attempt failed).
    pub async fn flush(&self) {
        let (done, wait) = oneshot::channel();
        if self.inner.control.send(Control::Flush(done)).is_ok() {
            let _ = wait.await;
        }
    }

    /// Sends everything queued, then stops the flush task. Events recorded afterwards
    /// (by other clones) are not sent.
    pub async fn shutdown(self) {
        let (done, wait) = oneshot::channel();
        if self.inner.control.send(Control::Shutdown(done)).is_ok() {
            let _ = wait.await;
        }
        let task = self
            .inner
            .task
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take();
        if let Some(task) = task {
            let _ = task.await;
        }
    }
}

/// The outcome of an outbound call, for [`Tracker::track_external`].
pub trait CallOutcome {
    /// The HTTP status the provider answered.
    fn status_code(&self) -> u16;

    /// Model and tokens used, when known.
    fn usage(&self) -> Option<TrackedUsage> {
        None
    }
}

impl CallOutcome for http::StatusCode {
    fn status_code(&self) -> u16 {
        self.as_u16()
    }
}

impl CallOutcome for reqwest::Response {
    fn status_code(&self) -> u16 {
        self.status().as_u16()
    }
}

impl<B> CallOutcome for http::Response<B> {
    fn status_code(&self) -> u16 {
        self.status().as_u16()
    }

    fn usage(&self) -> Option<TrackedUsage> {
        self.extensions().get::<TrackedUsage>().cloned()
    }
}

/// A value with the usage of the call that produced it.
impl<T: CallOutcome> CallOutcome for (T, TrackedUsage) {
    fn status_code(&self) -> u16 {
        self.0.status_code()
    }

    fn usage(&self) -> Option<TrackedUsage> {
        Some(self.1.clone())
    }
}

/// A new UUIDv7 request id.
pub(crate) fn new_request_id() -> String {
    request_id_at(now_ms())
}

/// A UUIDv7 request id for an event at `ms` (epoch milliseconds): the time and 74 bits
/// from the thread's random generator, formatted into a stack buffer. On the layer's
/// hot path: `Uuid::now_v7` locks a global counter and asks the kernel for randomness
/// on every call, and `to_string` goes through `fmt`.
pub(crate) fn request_id_at(ms: i64) -> String {
    let random: [u8; 10] = rand::random();
    let id = uuid::Builder::from_unix_timestamp_millis(ms.max(0) as u64, &random).into_uuid();
    let mut text = uuid::Uuid::encode_buffer();
    id.hyphenated().encode_lower(&mut text).to_owned()
}

/// The current wall-clock time as epoch milliseconds.
pub(crate) fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

/// The current wall-clock time, as an event timestamp.
pub(crate) fn now() -> Timestamp {
    Timestamp::Millis(now_ms())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rules(prefixes: &[&str], rate: f64) -> CaptureRules {
        CaptureRules {
            sample_rate: rate,
            skip_paths: prefixes.iter().map(|s| s.to_string()).collect(),
            authenticated_only: false,
            trusted_proxies: Vec::new(),
        }
    }

    #[test]
    fn request_ids_are_distinct_uuid_v7_of_their_time() {
        let ms = 1_767_225_600_123;
        let a = uuid::Uuid::parse_str(&request_id_at(ms)).unwrap();
        let b = uuid::Uuid::parse_str(&request_id_at(ms)).unwrap();
        assert_ne!(a, b);
        assert_eq!(a.get_version_num(), 7);
        let (secs, nanos) = a.get_timestamp().unwrap().to_unix();
        assert_eq!(secs as i64 * 1000 + i64::from(nanos / 1_000_000), ms);
        assert_eq!(request_id_at(ms).len(), 36);
    }

    #[test]
    fn skip_prefixes_match_whole_segments() {
        let r = rules(crate::config::DEFAULT_SKIP_PATHS, 1.0);
        assert!(r.skips("/health"));
        assert!(r.skips("/healthz"));
        assert!(r.skips("/static/app.css"));
        assert!(!r.skips("/healthcare"));
        assert!(!r.skips("/v1/chat/completions"));
    }

    #[test]
    fn sampling_never_drops_errors() {
        let r = rules(&[], 0.0);
        assert!((0..1000).all(|_| r.samples(500) && r.samples(404)));
        assert!((0..1000).all(|_| !r.samples(200)));
        let all = rules(&[], 1.0);
        assert!((0..1000).all(|_| all.samples(200)));
    }
}
