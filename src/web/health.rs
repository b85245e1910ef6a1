use axum::extract::State;
use axum::http::StatusCode;

use crate::store::Store;

/// Liveness: the process answers HTTP.
pub async fn healthz() -> &'static str {
    "ok"
}

/// Readiness: the database answers, so requests can be served.
pub async fn readyz(State(store): State<Store>) -> (StatusCode, String) {
    match store.ping().await {
        Ok(()) => (StatusCode::OK, "ready".into()),
        Err(e) => {
            tracing::warn!(error = %e, "readiness check failed");
            (StatusCode::SERVICE_UNAVAILABLE, format!("not ready: {e}"))
        }
    }
}
