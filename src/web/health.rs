//! The probes of load balancers and orchestrators: `/healthz` (alive) and `/readyz`
//! (ready to serve). Open to all.

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::get;

use super::AppState;
use crate::store::Store;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
}

/// Liveness: the process answers HTTP.
async fn healthz() -> &'static str {
    "ok"
}

/// Readiness: the database answers. A full write queue is not unreadiness (a burst
/// would make a load balancer drop every replica at once); saturation is reported by
/// `/api/v1/health` and `/metrics`. The database's own error text is logged, never
/// shown: this probe is open to anyone.
async fn readyz(State(store): State<Store>) -> (StatusCode, &'static str) {
    match store.ping().await {
        Ok(()) => (StatusCode::OK, "ready"),
        Err(e) => {
            tracing::warn!(error = %e, "readiness check failed");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                "not ready: the database does not answer",
            )
        }
    }
}
