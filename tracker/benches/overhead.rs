//! What the tracker layer adds to each request, measured in process.
//!
//! ```sh
//! cargo bench -p sightline-tracker --bench overhead
//! ```
//!
//! One axum router with a chat-completions handler (it sets `TrackedUsage` and
//! `TrackedUser`, as a real handler would), called through `ServiceExt::oneshot` with
//! the body read to its end: bare; wrapped by a tracker whose events go to an
//! in-process sink (default hybrid flush: every 100th request wakes the flush task);
//! the same flushed by time only (no wake-ups from requests; the queue fills and drops
//! its oldest events between flushes); and wrapped by a tracker whose Sightline is down
//! (a closed port: the queue fills, drops its oldest events and the sender retries). No
//! network is involved, so the difference is the layer's own cost: capturing the
//! request, the queue push, and whatever the flush task takes from the shared cores.
//! The measured loop runs on the main thread and the flush tasks on a worker thread,
//! so the request that wakes a flush task pays a wake-up across threads (the worst
//! case: in a server's worker the task is queued on the same worker without one).
//!
//! The variants are called in alternating blocks of [`BLOCK`] calls, so that machine
//! noise (other builds on the two shared cores) falls on all of them alike. Set
//! `SIGHTLINE_BENCH_CALLS` to change the number of measured calls of each (default
//! 200 000, after 20 000 warm-up calls each).

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{HeaderMap, Request};
use axum::routing::post;
use axum::{Extension, Router};
use http_body_util::BodyExt;
use sightline_tracker::{
    FlushStrategy, TrackedUsage, TrackedUser, Tracker, TrackerConfig, TrackerStats,
};
use tower::ServiceExt;

/// Calls of one variant before switching to the next.
const BLOCK: usize = 1_000;
const WARM_UP: usize = 20_000;
const REPLY: &str = r#"{"choices":[{"index":0,"message":{"role":"assistant","content":"You said: Hi"},"finish_reason":"stop"}]}"#;
const PROMPT: &str = r#"{"model":"gpt-4o-mini","messages":[{"role":"user","content":"Hi"}]}"#;

async fn chat(
    headers: HeaderMap,
) -> (
    Extension<TrackedUsage>,
    Option<Extension<TrackedUser>>,
    &'static str,
) {
    let user = headers
        .get("x-user-id")
        .and_then(|v| v.to_str().ok())
        .map(|id| Extension(TrackedUser::user(id)));
    let mut usage = TrackedUsage::new("gpt-4o-mini", 12, 3);
    usage.finish_reason = Some("stop".into());
    (Extension(usage), user, REPLY)
}

fn router() -> Router {
    Router::new().route("/v1/chat/completions", post(chat))
}

fn request() -> Request<Body> {
    let mut request = Request::post("/v1/chat/completions")
        .header("content-type", "application/json")
        .header("content-length", PROMPT.len())
        .header("user-agent", "bench-client/1.0")
        .header("x-user-id", "user-42")
        .body(Body::from(PROMPT))
        .expect("a valid request");
    let peer: SocketAddr = ([198, 51, 100, 7], 40_000).into();
    request.extensions_mut().insert(ConnectInfo(peer));
    request
}

/// One call, from the request to the last byte of the response body, in nanoseconds.
async fn timed_call(app: &Router) -> u64 {
    let request = request();
    let started = Instant::now();
    let response = app.clone().oneshot(request).await.expect("infallible");
    let body = response.into_body().collect().await.expect("a full body");
    let took = started.elapsed();
    assert_eq!(body.to_bytes().len(), REPLY.len());
    took.as_nanos() as u64
}

struct Variant {
    name: &'static str,
    app: Router,
    tracker: Option<Tracker>,
    nanos: Vec<u64>,
}

/// A port on which nothing listens.
fn closed_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("a free port");
    listener.local_addr().expect("bound").port()
}

fn percentile(sorted: &[u64], p: f64) -> f64 {
    let i = ((sorted.len() - 1) as f64 * p).round() as usize;
    sorted[i] as f64 / 1_000.0
}

fn main() {
    let calls: usize = std::env::var("SIGHTLINE_BENCH_CALLS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(200_000);
    // The measured loop runs on the main thread; the flush tasks get one worker, as
    // they would next to a server's own workers.
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .expect("a Tokio runtime");
    runtime.block_on(run(calls));
}

async fn run(calls: usize) {
    let in_process = TrackerConfig::sink(drop)
        .build()
        .expect("an in-process tracker");
    let by_time = TrackerConfig::sink(drop)
        .flush_strategy(FlushStrategy::Time(Duration::from_millis(100)))
        .build()
        .expect("an in-process tracker");
    let down = Tracker::builder(format!("http://127.0.0.1:{}", closed_port()), "sl_bench")
        .flush_strategy(FlushStrategy::hybrid())
        .build()
        .expect("an HTTP tracker");
    let mut variants = [
        Variant {
            name: "bare router (baseline)",
            app: router(),
            tracker: None,
            nanos: Vec::with_capacity(calls),
        },
        Variant {
            name: "+ layer, in-process, hybrid",
            app: router().layer(in_process.layer()),
            tracker: Some(in_process),
            nanos: Vec::with_capacity(calls),
        },
        Variant {
            name: "+ layer, in-process, by time",
            app: router().layer(by_time.layer()),
            tracker: Some(by_time),
            nanos: Vec::with_capacity(calls),
        },
        Variant {
            name: "+ layer, HTTP, Sightline down",
            app: router().layer(down.layer()),
            tracker: Some(down),
            nanos: Vec::with_capacity(calls),
        },
    ];

    for variant in &variants {
        for _ in 0..WARM_UP {
            timed_call(&variant.app).await;
        }
    }
    let started = Instant::now();
    let mut done = 0;
    while done < calls {
        let n = BLOCK.min(calls - done);
        for variant in &mut variants {
            for _ in 0..n {
                let took = timed_call(&variant.app).await;
                variant.nanos.push(took);
            }
        }
        done += n;
    }
    let elapsed = started.elapsed();

    let mut stats: Vec<Option<TrackerStats>> = Vec::new();
    for variant in &mut variants {
        variant.nanos.sort_unstable();
        stats.push(variant.tracker.as_ref().map(Tracker::stats));
    }
    print_table(&variants, calls, elapsed);
    let base = &variants[0].nanos;
    let worst = |p: f64| {
        variants[1..]
            .iter()
            .map(|v| percentile(&v.nanos, p) - percentile(base, p))
            .fold(f64::MIN, f64::max)
    };
    println!();
    println!(
        "most added: median {:+.2} µs (target < 10), p99 {:+.2} µs (target < 50)",
        worst(0.5),
        worst(0.99)
    );
    println!();
    for (variant, stats) in variants.iter().zip(&stats) {
        if let Some(s) = stats {
            println!(
                "{}: recorded {}, sent {}, dropped {}, failed batches {}, retries {}, queued {}",
                variant.name, s.recorded, s.sent, s.dropped, s.failed_batches, s.retries, s.queued
            );
        }
    }
    for variant in variants {
        if let Some(tracker) = variant.tracker {
            // Sightline being down, this gives up after the retries; bounded anyway.
            let _ = tokio::time::timeout(Duration::from_secs(10), tracker.shutdown()).await;
        }
    }
}

fn print_table(variants: &[Variant], calls: usize, elapsed: Duration) {
    println!(
        "Tracker overhead: {calls} calls of each variant in alternating blocks of {BLOCK} \
         (after {WARM_UP} warm-up calls each), {:.1} s, {} CPUs",
        elapsed.as_secs_f64(),
        std::thread::available_parallelism().map_or(0, |n| n.get())
    );
    println!();
    println!(
        "| service                       | median µs | p90 µs | p99 µs | added median µs | added p90 µs | added p99 µs | median ratio |"
    );
    println!(
        "|-------------------------------|----------:|-------:|-------:|----------------:|-------------:|-------------:|-------------:|"
    );
    let base = &variants[0].nanos;
    let (b50, b90, b99) = (
        percentile(base, 0.5),
        percentile(base, 0.9),
        percentile(base, 0.99),
    );
    for variant in variants {
        let (m, p90, p99) = (
            percentile(&variant.nanos, 0.5),
            percentile(&variant.nanos, 0.9),
            percentile(&variant.nanos, 0.99),
        );
        let added = |v: f64, b: f64| {
            if std::ptr::eq(variant.nanos.as_slice(), base.as_slice()) {
                "–".to_owned()
            } else {
                format!("{:+.2}", v - b)
            }
        };
        println!(
            "| {:<29} | {:>9.2} | {:>6.2} | {:>6.2} | {:>15} | {:>12} | {:>12} | {:>11.2}× |",
            variant.name,
            m,
            p90,
            p99,
            added(m, b50),
            added(p90, b90),
            added(p99, b99),
            m / b50
        );
    }
}
