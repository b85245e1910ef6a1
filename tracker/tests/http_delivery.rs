//! Delivery to an ingest endpoint simulated by a small axum server: retries with
//! backoff, `Retry-After`, idempotent request ids, and a dead endpoint that must not
//! hurt the app.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router, body::Body};
use http_body_util::BodyExt;
use sightline_tracker::wire::{IngestBatch, IngestReply, RequestEvent};
use sightline_tracker::{FlushStrategy, RetryPolicy, Tracker};
use tower::ServiceExt;

/// A fake ingest API that answers `failure_status` (503 by default), with
/// `Retry-After: retry_after` if set, to its first `failures` calls.
#[derive(Default)]
struct FakeIngest {
    failures: usize,
    failure_status: Option<StatusCode>,
    retry_after: Option<&'static str>,
    calls: usize,
    /// When each call arrived.
    arrivals: Vec<Instant>,
    /// How many times each request id arrived in an accepted call.
    stored: HashMap<String, usize>,
    authorization: Vec<String>,
}

type Shared = Arc<Mutex<FakeIngest>>;

async fn ingest(
    State(state): State<Shared>,
    headers: HeaderMap,
    Json(batch): Json<IngestBatch>,
) -> Response {
    let mut s = state.lock().unwrap();
    s.calls += 1;
    s.arrivals.push(Instant::now());
    let auth = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned();
    s.authorization.push(auth);
    if s.calls <= s.failures {
        let status = s.failure_status.unwrap_or(StatusCode::SERVICE_UNAVAILABLE);
        return match s.retry_after {
            Some(seconds) => (status, [(header::RETRY_AFTER, seconds)]).into_response(),
            None => status.into_response(),
        };
    }
    let mut reply = IngestReply::default();
    for r in batch.requests {
        let id = r.request_id.unwrap();
        let arrivals = s.stored.entry(id).or_default();
        *arrivals += 1;
        if *arrivals > 1 {
            reply.duplicates += 1;
        } else {
            reply.accepted += 1;
        }
    }
    Json(reply).into_response()
}

async fn spawn_ingest(failures: usize) -> (String, Shared) {
    spawn_fake(FakeIngest {
        failures,
        ..FakeIngest::default()
    })
    .await
}

async fn spawn_fake(fake: FakeIngest) -> (String, Shared) {
    let state: Shared = Arc::new(Mutex::new(fake));
    let app = Router::new()
        .route("/api/v1/ingest", post(ingest))
        .with_state(state.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (format!("http://{addr}"), state)
}

fn event(n: usize) -> RequestEvent {
    RequestEvent {
        endpoint: format!("/v1/items/{n}"),
        method: "GET".into(),
        status_code: 200,
        latency_ms: 2.5,
        ..RequestEvent::default()
    }
}

fn fast_retry(max_attempts: u32) -> RetryPolicy {
    RetryPolicy {
        max_attempts,
        initial_backoff: Duration::from_millis(20),
        max_backoff: Duration::from_millis(100),
    }
}

#[tokio::test]
async fn two_503s_then_success_stores_each_request_once() {
    let (url, state) = spawn_ingest(2).await;
    let tracker = Tracker::builder(format!("{url}/"), "sl_test_key")
        .flush_strategy(FlushStrategy::time())
        .retry(fast_retry(5))
        .build()
        .unwrap();
    for n in 0..10 {
        tracker.record_request(event(n));
    }
    tracker.flush().await;
    let stats = tracker.stats();
    assert_eq!(
        (
            stats.sent,
            stats.retries,
            stats.failed_batches,
            stats.dropped
        ),
        (10, 2, 0, 0)
    );
    let s = state.lock().unwrap();
    assert_eq!(s.calls, 3);
    assert_eq!(s.stored.len(), 10);
    assert!(s.stored.values().all(|&n| n == 1));
    assert!(s.authorization.iter().all(|a| a == "Bearer sl_test_key"));
}

/// The gap between the first failed call and the retry, for one failure answered with
/// `status` and `retry_after`.
async fn wait_before_retry(status: StatusCode, retry_after: Option<&'static str>) -> Duration {
    let (url, state) = spawn_fake(FakeIngest {
        failures: 1,
        failure_status: Some(status),
        retry_after,
        ..FakeIngest::default()
    })
    .await;
    let tracker = Tracker::builder(url, "k")
        .flush_strategy(FlushStrategy::time())
        .retry(fast_retry(3))
        .build()
        .unwrap();
    for n in 0..3 {
        tracker.record_request(event(n));
    }
    tracker.flush().await;
    let stats = tracker.stats();
    assert_eq!(
        (stats.sent, stats.retries, stats.failed_batches),
        (3, 1, 0),
        "{status}: one retry, then delivered"
    );
    let s = state.lock().unwrap();
    assert_eq!(s.calls, 2);
    s.arrivals[1] - s.arrivals[0]
}

#[tokio::test]
async fn retry_after_on_503_and_429_is_waited_for() {
    // The backoff alone would be 20 ms; Sightline asks for a second.
    for status in [
        StatusCode::SERVICE_UNAVAILABLE,
        StatusCode::TOO_MANY_REQUESTS,
    ] {
        let waited = wait_before_retry(status, Some("1")).await;
        assert!(
            waited >= Duration::from_secs(1),
            "{status} with Retry-After: 1 was retried after {waited:?}"
        );
        assert!(waited < Duration::from_secs(5), "{status}: {waited:?}");
    }
    let backoff_only = wait_before_retry(StatusCode::SERVICE_UNAVAILABLE, None).await;
    assert!(
        backoff_only < Duration::from_millis(900),
        "without Retry-After the backoff applies: {backoff_only:?}"
    );
}

#[tokio::test]
async fn a_batch_that_fails_every_attempt_is_kept_and_resent_later() {
    let (url, state) = spawn_ingest(3).await;
    let tracker = Tracker::builder(url, "k")
        .flush_strategy(FlushStrategy::time())
        .retry(fast_retry(2))
        .build()
        .unwrap();
    for n in 0..5 {
        tracker.record_request(event(n));
    }
    tracker.flush().await;
    let stats = tracker.stats();
    assert_eq!((stats.sent, stats.failed_batches, stats.dropped), (0, 1, 0));
    tracker.record_request(event(5));
    tracker.clone().shutdown().await;
    let stats = tracker.stats();
    assert_eq!((stats.sent, stats.failed_batches, stats.dropped), (6, 1, 0));
    let s = state.lock().unwrap();
    assert_eq!(s.calls, 4);
    assert_eq!(s.stored.len(), 6);
}

#[tokio::test]
async fn a_dead_endpoint_neither_fails_nor_slows_the_app() {
    let tracker = Tracker::builder("http://127.0.0.1:1", "k")
        .flush_strategy(FlushStrategy::Hybrid {
            interval: Duration::from_millis(10),
            count: 5,
        })
        .retry(fast_retry(3))
        .build()
        .unwrap();
    let app = Router::new()
        .route("/v1/ping", get(|| async { "pong" }))
        .layer(tracker.layer());
    let started = Instant::now();
    for _ in 0..200 {
        let response = app
            .clone()
            .oneshot(
                axum::http::Request::get("/v1/ping")
                    .body(Body::empty())
                    .unwrap(),
            )
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        assert_eq!(
            response.into_body().collect().await.unwrap().to_bytes(),
            "pong"
        );
    }
    let elapsed = started.elapsed();
    assert!(
        elapsed < Duration::from_secs(1),
        "200 requests took {elapsed:?}"
    );
    let shutdown_started = Instant::now();
    tracker.clone().shutdown().await;
    assert!(shutdown_started.elapsed() < Duration::from_secs(5));
    let stats = tracker.stats();
    assert_eq!(stats.recorded, 200);
    assert_eq!(stats.sent, 0);
    assert!(stats.failed_batches >= 1);
    assert_eq!(
        stats.dropped, 200,
        "what could not be delivered by shutdown is counted as lost"
    );
}

#[tokio::test]
async fn an_endpoint_that_never_answers_does_not_slow_the_app() {
    // Connections are accepted by the kernel but never answered.
    let silent = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", silent.local_addr().unwrap());
    let tracker = Tracker::builder(url, "k")
        .flush_strategy(FlushStrategy::Count(1))
        .request_timeout(Duration::from_millis(300))
        .retry(fast_retry(2))
        .build()
        .unwrap();
    let app = Router::new()
        .route("/v1/ping", get(|| async { "pong" }))
        .layer(tracker.layer());
    let started = Instant::now();
    for _ in 0..100 {
        let request = axum::http::Request::get("/v1/ping")
            .body(Body::empty())
            .unwrap();
        let response = app.clone().oneshot(request).await.unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        response.into_body().collect().await.unwrap();
    }
    let elapsed = started.elapsed();
    assert!(
        elapsed < Duration::from_secs(1),
        "100 requests took {elapsed:?}"
    );
    let shutdown_started = Instant::now();
    tracker.clone().shutdown().await;
    let took = shutdown_started.elapsed();
    assert!(took < Duration::from_secs(5), "shutdown took {took:?}");
    assert_eq!(tracker.stats().sent, 0);
    drop(silent);
}
