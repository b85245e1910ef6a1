//! The browser area: the Leptos pages and their server functions (`/api/ui/…`), the
//! built front end's static files, and sign-out (POST). Pages carry a
//! Content-Security-Policy with the nonce of their scripts. Everything here is behind the
//! [`guard`](crate::auth::guard): pages need a session, server functions a session
//! (and the admin role under `/api/ui/admin/`).

use std::sync::Arc;

use axum::routing::post;
use axum::{Router, middleware};
use leptos::prelude::provide_context;
use leptos_axum::{LeptosRoutes, generate_route_list};
use sightline_app::{App, api::SharedBackend, shell};

use super::AppState;
use super::ui_backend::StoreBackend;
use crate::auth;

pub fn router(state: &AppState) -> Router<AppState> {
    let backend: SharedBackend = Arc::new(StoreBackend::new(
        state.store.clone(),
        state.retention_days,
        state.prices.clone(),
        state.horizon.clone(),
        state.sign_in.clone(),
        i64::try_from(state.session_max_age.as_millis()).unwrap_or(i64::MAX),
        state.budgets.clone(),
    ));
    let provide_backend = move || {
        provide_context(backend.clone());
        super::browser_policy::provide_page_csp();
    };
    let routes = generate_route_list(App);
    Router::new()
        // Sign-out changes state: POST only (a GET is 405), so no link or image on
        // another page can sign anyone out.
        .route("/logout", post(auth::logout))
        .leptos_routes_with_context(state, routes, provide_backend.clone(), {
            let options = state.leptos_options.clone();
            move || shell(options.clone())
        })
        .fallback(leptos_axum::file_and_error_handler_with_context::<
            AppState,
            _,
        >(provide_backend, shell))
        .layer(middleware::from_fn_with_state(
            state.store.clone(),
            auth::guard::guard,
        ))
}
