//! The HTTP surface: the Leptos pages and their server functions, health endpoints,
//! static files of the built front end.

pub mod api_auth;
pub mod api_error;
mod health;
mod openapi;
mod ui_backend;

use std::sync::Arc;

use axum::Router;
use axum::extract::FromRef;
use axum::routing::{get, post};
use leptos::prelude::{LeptosOptions, provide_context};
use leptos_axum::{LeptosRoutes, generate_route_list};
use sightline_app::{App, api::SharedBackend, shell};
use tower_http::compression::CompressionLayer;
use tower_http::trace::TraceLayer;

use crate::ingest::{self, IngestQueue, Prices};
use crate::store::Store;

/// What every handler can reach.
#[derive(Clone, FromRef)]
pub struct AppState {
    pub leptos_options: LeptosOptions,
    pub store: Store,
    pub ingest: IngestQueue,
    pub prices: Arc<Prices>,
}

/// The whole web application.
pub fn router(state: AppState) -> Router {
    let backend: SharedBackend = Arc::new(ui_backend::StoreBackend::new(state.store.clone()));
    let provide_backend = move || provide_context(backend.clone());
    let routes = generate_route_list(App);

    Router::new()
        .route("/healthz", get(health::healthz))
        .route("/readyz", get(health::readyz))
        .route("/api/v1/ingest", post(ingest::ingest))
        .route("/api/v1/feedback", post(ingest::feedback))
        .route("/api/v1/openapi.json", get(openapi::document))
        .leptos_routes_with_context(&state, routes, provide_backend.clone(), {
            let options = state.leptos_options.clone();
            move || shell(options.clone())
        })
        .fallback(leptos_axum::file_and_error_handler_with_context::<
            AppState,
            _,
        >(provide_backend, shell))
        .layer(CompressionLayer::new())
        .layer(TraceLayer::new_for_http())
        .with_state(state)
}
