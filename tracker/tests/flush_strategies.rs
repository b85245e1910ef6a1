//! Flush strategies, drop-oldest, shutdown and the helpers, with the in-process sink
//! and a paused clock.

use std::time::Duration;

use sightline_tracker::wire::{AuthEventType, IngestBatch, RequestEvent, RequestKind};
use sightline_tracker::{FlushStrategy, TrackedUsage, Tracker, TrackerConfig};
use tokio::sync::mpsc::UnboundedReceiver;
use tokio::time::advance;

fn event(n: i64) -> RequestEvent {
    RequestEvent {
        endpoint: format!("/v1/items/{n}"),
        method: "GET".into(),
        status_code: 200,
        latency_ms: 1.0,
        ..RequestEvent::default()
    }
}

/// Lets the flush task run whatever is ready.
async fn settle() {
    for _ in 0..20 {
        tokio::task::yield_now().await;
    }
}

fn start(strategy: FlushStrategy) -> (Tracker, UnboundedReceiver<IngestBatch>) {
    let (config, rx) = TrackerConfig::channel();
    (config.flush_strategy(strategy).build().unwrap(), rx)
}

fn record(tracker: &Tracker, range: std::ops::Range<i64>) {
    for n in range {
        tracker.record_request(event(n));
    }
}

#[tokio::test(start_paused = true)]
async fn time_sends_nothing_before_the_interval_then_everything() {
    let (tracker, mut rx) = start(FlushStrategy::time());
    settle().await;
    record(&tracker, 0..150);
    advance(Duration::from_millis(4_999)).await;
    settle().await;
    assert!(rx.try_recv().is_err(), "nothing is sent before 5 s");
    advance(Duration::from_millis(1)).await;
    settle().await;
    let batch = rx.try_recv().expect("a batch at 5 s");
    assert_eq!(batch.requests.len(), 150);
    assert!(rx.try_recv().is_err());
    // Nothing queued: the next tick sends nothing.
    advance(Duration::from_secs(5)).await;
    settle().await;
    assert!(rx.try_recv().is_err());
    assert_eq!(tracker.stats().sent, 150);
}

#[tokio::test(start_paused = true)]
async fn count_sends_a_batch_at_exactly_100_events() {
    let (tracker, mut rx) = start(FlushStrategy::count());
    settle().await;
    record(&tracker, 0..99);
    advance(Duration::from_secs(3_600)).await;
    settle().await;
    assert!(rx.try_recv().is_err(), "99 events wait, however long");
    record(&tracker, 99..100);
    settle().await;
    let batch = rx.try_recv().expect("a batch at the 100th event");
    assert_eq!(batch.requests.len(), 100);
    assert_eq!(batch.requests[0].endpoint, "/v1/items/0");
    assert_eq!(batch.requests[99].endpoint, "/v1/items/99");
    record(&tracker, 100..150);
    settle().await;
    assert!(rx.try_recv().is_err());
    tracker.flush().await;
    assert_eq!(rx.try_recv().unwrap().requests.len(), 50);
}

#[tokio::test(start_paused = true)]
async fn hybrid_sends_at_whichever_comes_first() {
    let (tracker, mut rx) = start(FlushStrategy::hybrid());
    settle().await;
    // Count first: 100 events before 5 s.
    record(&tracker, 0..3);
    advance(Duration::from_millis(4_900)).await;
    settle().await;
    assert!(rx.try_recv().is_err());
    record(&tracker, 3..100);
    settle().await;
    assert_eq!(rx.try_recv().unwrap().requests.len(), 100);
    // Time next: the timer restarted at the flush (t = 4.9 s).
    record(&tracker, 100..101);
    advance(Duration::from_millis(4_999)).await;
    settle().await;
    assert!(rx.try_recv().is_err());
    advance(Duration::from_millis(1)).await;
    settle().await;
    assert_eq!(rx.try_recv().unwrap().requests.len(), 1);
}

#[tokio::test(start_paused = true)]
async fn a_full_queue_drops_the_oldest_and_counts_the_drops() {
    let (config, mut rx) = TrackerConfig::channel();
    let tracker = config
        .flush_strategy(FlushStrategy::time())
        .queue_capacity(5)
        .build()
        .unwrap();
    record(&tracker, 0..8);
    let stats = tracker.stats();
    assert_eq!((stats.recorded, stats.dropped, stats.queued), (8, 3, 5));
    tracker.flush().await;
    let endpoints: Vec<String> = rx
        .try_recv()
        .unwrap()
        .requests
        .into_iter()
        .map(|r| r.endpoint)
        .collect();
    assert_eq!(
        endpoints,
        (3..8).map(|n| format!("/v1/items/{n}")).collect::<Vec<_>>()
    );
}

#[tokio::test(start_paused = true)]
async fn shutdown_sends_everything_queued() {
    let (tracker, mut rx) = start(FlushStrategy::hybrid());
    record(&tracker, 0..42);
    tracker.record_auth_event(AuthEventType::Login, Some("u1"));
    tracker.clone().shutdown().await;
    let batch = rx.try_recv().unwrap();
    assert_eq!(batch.requests.len(), 42);
    assert_eq!(batch.auth_events.len(), 1);
    assert_eq!(batch.auth_events[0].event_type, AuthEventType::Login);
    assert!(batch.auth_events[0].timestamp.is_some());
    let ids: std::collections::HashSet<_> = batch
        .requests
        .iter()
        .map(|r| r.request_id.clone().unwrap())
        .collect();
    assert_eq!(ids.len(), 42, "every event has its own request id");
    assert_eq!(tracker.stats().sent, 43);
}

#[tokio::test(start_paused = true)]
async fn external_calls_are_timed_and_recorded() {
    let (tracker, mut rx) = start(FlushStrategy::time());
    let ok: Result<_, String> = tracker
        .track_external("openai", "/v1/chat/completions", "post", async {
            tokio::time::sleep(Duration::from_millis(250)).await;
            Ok((
                http::StatusCode::OK,
                TrackedUsage::new("gpt-4o-mini", 12, 34),
            ))
        })
        .await;
    assert!(ok.is_ok());
    let failed: Result<http::StatusCode, String> = tracker
        .track_external_for("user-7", "gemini", "/v1beta/models", "GET", async {
            Err("connection refused".to_owned())
        })
        .await;
    assert!(failed.is_err());
    tracker.flush().await;
    let batch = rx.try_recv().unwrap();
    let (openai, gemini) = (&batch.requests[0], &batch.requests[1]);
    assert_eq!(openai.kind, Some(RequestKind::External));
    assert_eq!(openai.service.as_deref(), Some("openai"));
    assert_eq!(openai.method, "POST");
    assert_eq!(openai.status_code, 200);
    assert_eq!(openai.latency_ms, 250.0);
    assert_eq!(openai.model.as_deref(), Some("gpt-4o-mini"));
    assert_eq!(
        (openai.prompt_tokens, openai.completion_tokens),
        (Some(12), Some(34))
    );
    // Attributed to a user only when the platform says on whose behalf it called.
    assert_eq!(openai.user_id, None);
    assert_eq!(gemini.user_id.as_deref(), Some("user-7"));
    assert_eq!(gemini.status_code, 502);
    assert_eq!(gemini.error.as_deref(), Some("connection refused"));
}

#[tokio::test]
async fn invalid_settings_are_refused() {
    assert!(Tracker::builder("localhost:3000", "k").build().is_err());
    assert!(
        Tracker::builder("http://localhost:3000", " ")
            .build()
            .is_err()
    );
    assert!(
        Tracker::builder("http://x", "k")
            .sample_rate(1.5)
            .build()
            .is_err()
    );
    assert!(
        Tracker::builder("http://x", "k")
            .trusted_proxies(["10.0.0.0/99"])
            .build()
            .is_err()
    );
}

#[test]
fn building_outside_a_runtime_is_an_error() {
    let (config, _rx) = TrackerConfig::channel();
    assert!(matches!(
        config.build(),
        Err(sightline_tracker::TrackerError::NoRuntime)
    ));
}
