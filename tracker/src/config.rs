//! How a [`Tracker`](crate::Tracker) is set up: where events go, when they are flushed,
//! and which requests are recorded.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::mpsc;

use crate::capture::ProxyNet;
use crate::wire::IngestBatch;

/// Path prefixes that are not recorded unless [`TrackerConfig::skip_paths`] says otherwise.
pub const DEFAULT_SKIP_PATHS: &[&str] = &[
    "/health", "/healthz", "/readyz", "/metrics", "/static", "/pkg",
];

/// When the background task sends the queued events.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FlushStrategy {
    /// Every interval (the timer restarts after each flush).
    Time(Duration),
    /// As soon as this many events are queued; the rest waits for shutdown or `flush()`.
    Count(usize),
    /// Whichever comes first: the interval elapsed or `count` events queued.
    Hybrid {
        /// Longest time an event waits in the queue.
        interval: Duration,
        /// Queue length that triggers a flush at once.
        count: usize,
    },
}

impl FlushStrategy {
    /// The default interval of [`FlushStrategy::Time`] and [`FlushStrategy::Hybrid`].
    pub const DEFAULT_INTERVAL: Duration = Duration::from_secs(5);
    /// The default count of [`FlushStrategy::Count`] and [`FlushStrategy::Hybrid`].
    pub const DEFAULT_COUNT: usize = 100;

    /// Every 5 seconds.
    pub fn time() -> Self {
        FlushStrategy::Time(Self::DEFAULT_INTERVAL)
    }

    /// Every 100 events.
    pub fn count() -> Self {
        FlushStrategy::Count(Self::DEFAULT_COUNT)
    }

    /// Every 5 seconds or 100 events, whichever comes first (the default).
    pub fn hybrid() -> Self {
        FlushStrategy::Hybrid {
            interval: Self::DEFAULT_INTERVAL,
            count: Self::DEFAULT_COUNT,
        }
    }

    pub(crate) fn interval(self) -> Option<Duration> {
        match self {
            FlushStrategy::Time(i) | FlushStrategy::Hybrid { interval: i, .. } => Some(i),
            FlushStrategy::Count(_) => None,
        }
    }

    pub(crate) fn count_trigger(self) -> Option<usize> {
        match self {
            FlushStrategy::Count(n) | FlushStrategy::Hybrid { count: n, .. } => Some(n.max(1)),
            FlushStrategy::Time(_) => None,
        }
    }
}

impl Default for FlushStrategy {
    fn default() -> Self {
        FlushStrategy::hybrid()
    }
}

/// How failed HTTP sends are retried: exponential backoff from `initial_backoff`,
/// doubling up to `max_backoff`, at most `max_attempts` tries per flush. When Sightline
/// answers 429 or 503 with `Retry-After: N`, the next try waits at least `N` seconds
/// (`N` capped at 60).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Tries per batch and flush, the first included (at least 1).
    pub max_attempts: u32,
    /// Wait before the second try.
    pub initial_backoff: Duration,
    /// Longest backoff between two tries (a `Retry-After` may ask for longer).
    pub max_backoff: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_attempts: 5,
            initial_backoff: Duration::from_millis(100),
            max_backoff: Duration::from_secs(5),
        }
    }
}

/// A function that receives every flushed batch, for the in-process sink.
pub type SinkFn = Arc<dyn Fn(IngestBatch) + Send + Sync>;

/// Where flushed events go.
#[derive(Clone)]
pub enum Destination {
    /// Sightline's ingest API: `POST {endpoint}/api/v1/ingest` with a Bearer key.
    Http {
        /// Base URL of Sightline, such as `http://127.0.0.1:3000`.
        endpoint: String,
        /// An API key with the ingest scope.
        api_key: String,
    },
    /// A function in this process (tests, or a service that is Sightline itself).
    Sink(SinkFn),
}

impl fmt::Debug for Destination {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Destination::Http { endpoint, .. } => f
                .debug_struct("Http")
                .field("endpoint", endpoint)
                .field("api_key", &"<redacted>")
                .finish(),
            Destination::Sink(_) => f.write_str("Sink"),
        }
    }
}

/// Why a [`Tracker`](crate::Tracker) could not be built.
#[derive(Debug, thiserror::Error)]
pub enum TrackerError {
    /// The endpoint is not an `http://` or `https://` URL.
    #[error("Sightline endpoint `{0}` is not an http:// or https:// URL")]
    InvalidEndpoint(String),
    /// The API key is empty.
    #[error("the Sightline API key is empty; create one with the ingest scope")]
    MissingApiKey,
    /// The sampling rate is outside 0..=1.
    #[error("sampling rate {0} is outside 0..=1")]
    InvalidSampleRate(f64),
    /// A trusted proxy is neither an IP address nor a CIDR block.
    #[error("trusted proxy `{0}` is neither an IP address nor a CIDR block")]
    InvalidTrustedProxy(String),
    /// A size or count is zero.
    #[error("{0} must be at least 1")]
    Zero(&'static str),
    /// `build()` was called outside a Tokio runtime, so the flush task cannot start.
    #[error("the tracker must be built inside a Tokio runtime")]
    NoRuntime,
    /// The HTTP client could not be created.
    #[error("cannot create the HTTP client: {0}")]
    Client(String),
}

/// Settings of a [`Tracker`](crate::Tracker), built with chained methods and finished
/// with [`TrackerConfig::build`].
///
/// ```no_run
/// # async fn demo() -> Result<(), sightline_tracker::TrackerError> {
/// use sightline_tracker::{FlushStrategy, TrackerConfig};
/// let tracker = TrackerConfig::http("http://127.0.0.1:3000", "sl_ingest_key")
///     .flush_strategy(FlushStrategy::hybrid())
///     .sample_rate(0.5)
///     .trusted_proxies(["10.0.0.0/8"])
///     .build()?;
/// # Ok(()) }
/// ```
#[derive(Clone, Debug)]
pub struct TrackerConfig {
    pub(crate) destination: Destination,
    pub(crate) flush: FlushStrategy,
    pub(crate) queue_capacity: usize,
    pub(crate) max_batch_size: usize,
    pub(crate) retry: RetryPolicy,
    pub(crate) retry_buffer: usize,
    pub(crate) request_timeout: Duration,
    pub(crate) sample_rate: f64,
    pub(crate) skip_paths: Vec<String>,
    pub(crate) authenticated_only: bool,
    pub(crate) trusted_proxies: Vec<String>,
}

impl TrackerConfig {
    /// Events go to the Sightline at `endpoint` (its base URL), authenticated with
    /// `api_key` (ingest scope).
    pub fn http(endpoint: impl Into<String>, api_key: impl Into<String>) -> Self {
        Self::new(Destination::Http {
            endpoint: endpoint.into(),
            api_key: api_key.into(),
        })
    }

    /// Events go to `sink`, called from the flush task with each batch.
    pub fn sink(sink: impl Fn(IngestBatch) + Send + Sync + 'static) -> Self {
        Self::new(Destination::Sink(Arc::new(sink)))
    }

    /// Events go to a channel; the receiver gets each flushed batch.
    pub fn channel() -> (Self, mpsc::UnboundedReceiver<IngestBatch>) {
        let (tx, rx) = mpsc::unbounded_channel();
        let config = Self::sink(move |batch| {
            // A closed receiver means nobody wants the events any more.
            let _ = tx.send(batch);
        });
        (config, rx)
    }

    /// Events go to `destination`, with every other setting at its default.
    pub fn new(destination: Destination) -> Self {
        TrackerConfig {
            destination,
            flush: FlushStrategy::default(),
            queue_capacity: 10_000,
            max_batch_size: 1_000,
            retry: RetryPolicy::default(),
            retry_buffer: 10_000,
            request_timeout: Duration::from_secs(10),
            sample_rate: 1.0,
            skip_paths: DEFAULT_SKIP_PATHS.iter().map(|s| s.to_string()).collect(),
            authenticated_only: false,
            trusted_proxies: Vec::new(),
        }
    }

    /// When to flush; [`FlushStrategy::hybrid`] by default.
    pub fn flush_strategy(mut self, flush: FlushStrategy) -> Self {
        self.flush = flush;
        self
    }

    /// Events held in memory before the oldest are dropped (default 10 000).
    pub fn queue_capacity(mut self, capacity: usize) -> Self {
        self.queue_capacity = capacity;
        self
    }

    /// Most events in one ingest call when a timer flush sends everything (default 1 000;
    /// Sightline accepts up to 10 000).
    pub fn max_batch_size(mut self, size: usize) -> Self {
        self.max_batch_size = size;
        self
    }

    /// How failed sends are retried.
    pub fn retry(mut self, retry: RetryPolicy) -> Self {
        self.retry = retry;
        self
    }

    /// Events kept for a later flush after every retry failed (default 10 000; the
    /// oldest are dropped beyond it).
    pub fn retry_buffer(mut self, capacity: usize) -> Self {
        self.retry_buffer = capacity;
        self
    }

    /// Timeout of one ingest call (default 10 s).
    pub fn request_timeout(mut self, timeout: Duration) -> Self {
        self.request_timeout = timeout;
        self
    }

    /// Share of successful requests recorded, 0..=1 (default 1). Errors (status >= 400)
    /// are always recorded.
    pub fn sample_rate(mut self, rate: f64) -> Self {
        self.sample_rate = rate;
        self
    }

    /// Path prefixes that are never recorded; replaces [`DEFAULT_SKIP_PATHS`].
    pub fn skip_paths<I, S>(mut self, prefixes: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.skip_paths = prefixes.into_iter().map(Into::into).collect();
        self
    }

    /// Records only requests with a [`TrackedUser`](crate::TrackedUser) that has a user id.
    pub fn authenticated_only(mut self, yes: bool) -> Self {
        self.authenticated_only = yes;
        self
    }

    /// Reverse proxies (addresses or CIDR blocks) whose `X-Forwarded-For` is believed.
    pub fn trusted_proxies<I, S>(mut self, proxies: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.trusted_proxies = proxies.into_iter().map(Into::into).collect();
        self
    }

    /// Checks the settings and starts the flush task; must run inside a Tokio runtime.
    pub fn build(self) -> Result<crate::Tracker, TrackerError> {
        crate::Tracker::start(self)
    }

    pub(crate) fn validate(&self) -> Result<Vec<ProxyNet>, TrackerError> {
        if let Destination::Http { endpoint, api_key } = &self.destination {
            if !(endpoint.starts_with("http://") || endpoint.starts_with("https://")) {
                return Err(TrackerError::InvalidEndpoint(endpoint.clone()));
            }
            if api_key.trim().is_empty() {
                return Err(TrackerError::MissingApiKey);
            }
        }
        if !(0.0..=1.0).contains(&self.sample_rate) {
            return Err(TrackerError::InvalidSampleRate(self.sample_rate));
        }
        for (value, name) in [
            (self.queue_capacity, "queue_capacity"),
            (self.max_batch_size, "max_batch_size"),
            (self.retry_buffer, "retry_buffer"),
        ] {
            if value == 0 {
                return Err(TrackerError::Zero(name));
            }
        }
        self.trusted_proxies
            .iter()
            .map(|p| ProxyNet::parse(p).ok_or_else(|| TrackerError::InvalidTrustedProxy(p.clone())))
            .collect()
    }
}
