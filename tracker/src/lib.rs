//! `sightline-tracker`: what a Rust service needs to feed Sightline.
//!
//! This crate is the single source of truth for Sightline's ingest format: the server
//! deserialises exactly the types in [`wire`], and the tower layer serialises them.
//!
//! The [`SightlineLayer`] records every request of an axum/tower service (method,
//! route, status, latency, sizes, client IP, user agent, user, model and tokens) into
//! a bounded queue; a background task sends the events to Sightline's ingest API in
//! batches. Recording never waits and never fails the wrapped request.
//!
//! ```no_run
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! use sightline_tracker::Tracker;
//! let tracker = Tracker::builder("http://127.0.0.1:3000", "sl_ingest_key").build()?;
//! let app: axum::Router = axum::Router::new()
//!     .route("/v1/ping", axum::routing::get(|| async { "pong" }))
//!     .layer(tracker.layer());
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:8080").await?;
//! let service = app.into_make_service_with_connect_info::<std::net::SocketAddr>();
//! axum::serve(listener, service).await?;
//! tracker.shutdown().await;
//! # Ok(()) }
//! ```

//!
//! Without its default `layer` feature the crate is only [`wire`], which builds for
//! every target: Sightline's user interface reads threat types and severities with it.

#[cfg(feature = "layer")]
mod capture;
#[cfg(feature = "layer")]
mod config;
#[cfg(feature = "layer")]
mod flush;
#[cfg(feature = "layer")]
mod layer;
#[cfg(feature = "layer")]
mod queue;
#[cfg(feature = "layer")]
mod sink;
#[cfg(feature = "layer")]
mod tracker;
pub mod wire;

#[cfg(feature = "layer")]
pub use capture::{TrackedRequestId, TrackedUsage, TrackedUser};
#[cfg(feature = "layer")]
pub use config::{
    DEFAULT_SKIP_PATHS, Destination, FlushStrategy, RetryPolicy, SinkFn, TrackerConfig,
    TrackerError,
};
#[cfg(feature = "layer")]
pub use layer::{ResponseFuture, SightlineLayer, SightlineService, TrackedBody};
#[cfg(feature = "layer")]
pub use queue::TrackerStats;
#[cfg(feature = "layer")]
pub use tracker::{CallOutcome, Tracker};
