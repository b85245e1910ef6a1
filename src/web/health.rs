//! The probes of load balancers and orchestrators: `/healthz` (alive) and `/readyz`
//! (ready to serve). Open to all.

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::get;

use super::AppState;
use crate::ingest::IngestQueue;
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

/// Readiness: the database answers and the write queue has room, so requests can be served.
async fn readyz(
    State(store): State<Store>,
    State(queue): State<IngestQueue>,
) -> (StatusCode, String) {
    if queue.is_saturated() {
        return (
            StatusCode::SERVICE_UNAVAILABLE,
            "not ready: the ingest write queue is full".into(),
        );
    }
    match store.ping().await {
        Ok(()) => (StatusCode::OK, "ready".into()),
        Err(e) => {
            tracing::warn!(error = %e, "readiness check failed");
            (StatusCode::SERVICE_UNAVAILABLE, format!("not ready: {e}"))
        }
    }
}
