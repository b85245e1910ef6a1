//! The HTTP edge: every route, grouped by area (one module each, with its `router()`
//! and its access rule), and the layers around them. The areas call into `ingest`,
//! `store`, `dashboard` and the rest; nothing below this module knows about HTTP.

mod alerts_api;
pub mod api_auth;
pub mod api_error;
pub mod body_limit;
mod browser_policy;
pub mod csv;
mod dashboard_api;
mod errors_api;
mod export;
mod health;
pub mod ingest_api;
mod listener;
mod monitoring;
mod openapi;
mod otlp;
pub mod proxy;
pub mod request_log;
mod security_api;
mod ui;
mod ui_backend;

use std::sync::Arc;

pub use body_limit::BodyLimits;
pub use export::ExportGate;
pub use listener::SendTimeoutListener;

use axum::extract::FromRef;
use axum::{Extension, Router, middleware};
use leptos::prelude::LeptosOptions;
use tower_http::compression::CompressionLayer;

use crate::auth::{self, TrustedProxies};
use crate::ingest::{IngestQueue, RetentionHorizon};
use crate::pricing::Prices;
use crate::store::{Store, WebSessionStore};
use tower_sessions::cookie::SameSite;
use tower_sessions::{Expiry, SessionManagerLayer};

/// What every handler can reach.
#[derive(Clone, FromRef)]
pub struct AppState {
    pub leptos_options: LeptosOptions,
    pub store: Store,
    pub ingest: IngestQueue,
    pub prices: Arc<Prices>,
    /// The instants ingested events may carry (the retention in force), cached.
    pub horizon: Arc<RetentionHorizon>,
    /// Prometheus metrics, served at `/metrics`.
    pub metrics: Arc<crate::metrics::Metrics>,
    pub trusted_proxies: TrustedProxies,
    /// `SIGHTLINE_RETENTION_DAYS`, shown in the settings until an admin chooses.
    pub retention_days: u32,
    /// The gateway's upstreams and HTTP client (`/proxy/…`).
    pub proxy: Arc<proxy::Proxy>,
    /// The sign-in throttle and password-hashing slots of this process.
    pub sign_in: Arc<auth::throttle::Gate>,
    /// How many CSV exports may stream at once.
    pub exports: ExportGate,
    /// The request body limit of each area.
    pub body_limits: BodyLimits,
    /// The configured public URL is `https://…`.
    pub public_https: bool,
    /// `SIGHTLINE_SESSION_MAX_DAYS`: a sign-in lasts at most this long, however active.
    pub session_max_age: std::time::Duration,
    /// The spending budgets and the bell of their check.
    pub budgets: crate::budgets::Budgets,
}

/// Web sessions of the dashboard: in the database (shared by replicas), an HttpOnly,
/// SameSite=Lax cookie (`Secure` over HTTPS, see `browser_policy`), valid for 7 days of
/// inactivity and `SIGHTLINE_SESSION_MAX_DAYS` in all (checked by the guard). Untouched
/// sessions cost nothing.
fn session_layer(store: Store) -> SessionManagerLayer<WebSessionStore> {
    SessionManagerLayer::new(WebSessionStore::new(store))
        .with_name("sightline_session")
        .with_http_only(true)
        .with_same_site(SameSite::Lax)
        .with_secure(false)
        .with_expiry(Expiry::OnInactivity(time::Duration::days(7)))
}

/// The whole web application: each area's routes (with its own access rule, declared
/// by the extractors of its handlers or, for the browser area, by its guard), under
/// the layers every request passes: the request log, compression, the origin check
/// and the web session (the gateway's `/proxy/…` only the request log).
pub fn router(state: AppState) -> Router {
    use body_limit::{BodyLimit, Reading};
    let limits = state.body_limits;
    let small = |router| BodyLimit::new(limits.small, Reading::Whole).apply(router);
    Router::new()
        .merge(small(health::router()))
        .merge(BodyLimit::new(limits.ingest, Reading::Streamed).apply(ingest_api::router()))
        .merge(
            BodyLimit::new(limits.otlp, Reading::Streamed)
                .refused_as(otlp::refusal)
                .apply(otlp::router()),
        )
        .merge(small(dashboard_api::router()))
        .merge(small(alerts_api::router()))
        .merge(small(security_api::router()))
        .merge(small(errors_api::router()))
        .merge(small(monitoring::router()))
        .merge(small(export::router()))
        .merge(small(openapi::router()))
        .merge(small(ui::router(&state)))
        .layer(session_layer(state.store.clone()))
        .layer(middleware::from_fn(auth::guard::same_origin))
        .layer(Extension(state.trusted_proxies.clone()))
        .layer(CompressionLayer::new())
        .layer(middleware::from_fn_with_state(
            browser_policy::HttpsPolicy {
                always: state.public_https,
                trusted: state.trusted_proxies.clone(),
            },
            browser_policy::browser_policy,
        ))
        // The gateway passes answers through as the provider sent them (no compression
        // of its own) and has no use for web sessions; its calls are logged like others.
        .merge(BodyLimit::new(limits.proxy, Reading::Streamed).apply(proxy::router()))
        .layer(middleware::from_fn(request_log::log_request))
        .with_state(state)
}
