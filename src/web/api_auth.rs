//! API keys on the JSON APIs: `Authorization: Bearer <key>`, checked for its scope.

use axum::http::{HeaderMap, header};

use super::api_error::ApiError;
use crate::store::{ApiKey, Scope, Store};

/// How often a key's `last_used_at` is written at most.
const TOUCH_EVERY_MS: i64 = 60_000;

/// The presented key if it exists, is not revoked and has one of `scopes`.
pub async fn require_key(
    store: &Store,
    headers: &HeaderMap,
    scopes: &[Scope],
) -> Result<ApiKey, ApiError> {
    let secret = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            v.strip_prefix("Bearer ")
                .or_else(|| v.strip_prefix("bearer "))
        })
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .ok_or_else(|| {
            ApiError::Unauthorized("missing API key: send `Authorization: Bearer <key>`".into())
        })?;
    let key = store
        .find_api_key(secret)
        .await?
        .ok_or_else(|| ApiError::Unauthorized("invalid API key".into()))?;
    if key.revoked_at.is_some() {
        return Err(ApiError::Unauthorized(format!(
            "API key {} has been revoked",
            key.prefix
        )));
    }
    if !scopes.iter().any(|s| key.allows(*s)) {
        let wanted = scopes
            .iter()
            .map(|s| s.as_str())
            .collect::<Vec<_>>()
            .join(" or ");
        return Err(ApiError::Forbidden(format!(
            "API key {} lacks the {wanted} scope",
            key.prefix
        )));
    }
    let now = chrono::Utc::now().timestamp_millis();
    if key.last_used_at.is_none_or(|t| now - t >= TOUCH_EVERY_MS) {
        let (store, id) = (store.clone(), key.id);
        tokio::spawn(async move {
            if let Err(e) = store.touch_api_key(id, now).await {
                tracing::debug!(error = %e, "could not record API key use");
            }
        });
    }
    Ok(key)
}
