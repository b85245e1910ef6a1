//! The HTTP surface: the Leptos pages and their server functions, health endpoints,
//! static files of the built front end.

mod alerts_api;
pub mod api_auth;
pub mod api_error;
pub mod csv;
mod dashboard_api;
mod export;
mod health;
mod monitoring;
mod openapi;
pub mod request_log;
mod ui_backend;

use std::sync::Arc;

use axum::extract::FromRef;
use axum::routing::{get, post};
use axum::{Extension, Router, middleware};
use leptos::prelude::{LeptosOptions, provide_context};
use leptos_axum::{LeptosRoutes, generate_route_list};
use sightline_app::{App, api::SharedBackend, shell};
use tower_http::compression::CompressionLayer;

use crate::auth::{self, TrustedProxies};
use crate::ingest::{self, IngestQueue, Prices};
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
    /// Prometheus metrics, served at `/metrics`.
    pub metrics: Arc<crate::metrics::Metrics>,
    pub trusted_proxies: TrustedProxies,
    /// `SIGHTLINE_RETENTION_DAYS`, shown in the settings until an admin chooses.
    pub retention_days: u32,
}

/// Web sessions of the dashboard: in the database (shared by replicas), an HttpOnly,
/// SameSite=Lax cookie, valid for 7 days of inactivity. Untouched sessions cost nothing.
fn session_layer(store: Store) -> SessionManagerLayer<WebSessionStore> {
    SessionManagerLayer::new(WebSessionStore::new(store))
        .with_name("sightline_session")
        .with_http_only(true)
        .with_same_site(SameSite::Lax)
        .with_secure(false)
        .with_expiry(Expiry::OnInactivity(time::Duration::days(7)))
}

/// The whole web application.
pub fn router(state: AppState) -> Router {
    let backend: SharedBackend = Arc::new(ui_backend::StoreBackend::new(
        state.store.clone(),
        state.retention_days,
        state.prices.clone(),
    ));
    let provide_backend = move || provide_context(backend.clone());
    let routes = generate_route_list(App);

    Router::new()
        .route("/healthz", get(health::healthz))
        .route("/readyz", get(health::readyz))
        .route("/api/v1/ingest", post(ingest::ingest))
        .route("/api/v1/feedback", post(ingest::feedback))
        .route("/api/v1/openapi.json", get(openapi::document))
        .route("/api/v1/dashboard", get(dashboard_api::dashboard))
        .route("/api/v1/alerts", get(alerts_api::alerts))
        .route("/api/v1/health", get(monitoring::health))
        .route("/metrics", get(monitoring::metrics))
        .route("/api/v1/export/{file}", get(export::export))
        .route("/logout", get(auth::logout).post(auth::logout))
        .leptos_routes_with_context(&state, routes, provide_backend.clone(), {
            let options = state.leptos_options.clone();
            move || shell(options.clone())
        })
        .fallback(leptos_axum::file_and_error_handler_with_context::<
            AppState,
            _,
        >(provide_backend, shell))
        // Inside out: the session is loaded, the account checked, the origin checked.
        .layer(middleware::from_fn_with_state(
            state.store.clone(),
            auth::guard::guard,
        ))
        .layer(session_layer(state.store.clone()))
        .layer(middleware::from_fn(auth::guard::same_origin))
        .layer(Extension(state.trusted_proxies.clone()))
        .layer(CompressionLayer::new())
        .layer(middleware::from_fn(request_log::log_request))
        .with_state(state)
}
