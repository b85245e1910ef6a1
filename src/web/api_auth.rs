//! Who may call the JSON APIs, as extractors a handler names in its signature:
//! an API key (`Authorization: Bearer <key>`) with the scope the route needs, or a
//! signed-in browser session where the route takes one too.

use std::marker::PhantomData;

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderMap, header};
use sightline_app::auth::CurrentUser;
use sightline_app::units::EpochMillis;
use tower_sessions::Session;

use super::AppState;
use super::api_error::ApiError;
use crate::auth::guard::session_user;
use crate::store::{ApiKey, Scope, Store};

/// How often a key's `last_used_at` is written at most.
const TOUCH_EVERY_MS: i64 = 60_000;

/// The scopes a route accepts (any one of them will do).
pub trait Scopes: Send + Sync + 'static {
    const ALLOWED: &'static [Scope];
}

/// Routes that take events in.
pub struct Ingest;
impl Scopes for Ingest {
    const ALLOWED: &'static [Scope] = &[Scope::Ingest];
}

/// Routes that read data.
pub struct Read;
impl Scopes for Read {
    const ALLOWED: &'static [Scope] = &[Scope::Read];
}

/// Routes either kind of key may call (ratings forwarded by a platform).
pub struct IngestOrRead;
impl Scopes for IngestOrRead {
    const ALLOWED: &'static [Scope] = &[Scope::Ingest, Scope::Read];
}

/// A valid, unrevoked API key with one of the scopes of `S`.
pub struct Key<S>(pub ApiKey, PhantomData<S>);

pub type IngestKey = Key<Ingest>;
pub type ReadKey = Key<Read>;
pub type IngestOrReadKey = Key<IngestOrRead>;

impl<S: Scopes> FromRequestParts<AppState> for Key<S> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let secret = bearer(&parts.headers).ok_or_else(|| {
            ApiError::Unauthorized("missing API key: send `Authorization: Bearer <key>`".into())
        })?;
        let key = check_key(&state.store, secret, S::ALLOWED).await?;
        Ok(Key(key, PhantomData))
    }
}

/// The header the gateway takes its key from: `Authorization` belongs to the provider.
pub const SIGHTLINE_KEY_HEADER: &str = "sightline-key";

/// A valid, unrevoked key with the `ingest` scope in `Sightline-Key: <key>`: the
/// gateway's caller (`/proxy/…`), whose own `Authorization` goes to the provider.
pub struct SightlineKey(pub ApiKey);

impl FromRequestParts<AppState> for SightlineKey {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let secret = parts
            .headers
            .get(SIGHTLINE_KEY_HEADER)
            .and_then(|v| v.to_str().ok())
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .ok_or_else(|| {
                ApiError::Unauthorized(
                    "missing Sightline key: send `Sightline-Key: <key with the ingest scope>`; \
                     nothing was forwarded"
                        .into(),
                )
            })?;
        let key = check_key(&state.store, secret, Ingest::ALLOWED).await?;
        Ok(SightlineKey(key))
    }
}

/// Someone who may read: a signed-in account of any role, or a `read` key.
pub enum Reader {
    Account(CurrentUser),
    Key(ApiKey),
}

impl FromRequestParts<AppState> for Reader {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        if let Some(user) = signed_in(parts, &state.store).await {
            return Ok(Reader::Account(user));
        }
        let Key(key, _) = ReadKey::from_request_parts(parts, state).await?;
        Ok(Reader::Key(key))
    }
}

/// Someone who may read operational detail: a signed-in admin, or a `read` key.
pub struct Operator;

impl FromRequestParts<AppState> for Operator {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        match Reader::from_request_parts(parts, state).await? {
            Reader::Account(user) if !user.is_admin() => Err(ApiError::Forbidden(format!(
                "{} is a viewer: this is for administrators",
                user.username
            ))),
            _ => Ok(Operator),
        }
    }
}

/// The account of the request's web session, if one is signed in.
async fn signed_in(parts: &Parts, store: &Store) -> Option<CurrentUser> {
    if let Some(user) = parts.extensions.get::<CurrentUser>() {
        return Some(user.clone());
    }
    let session = parts.extensions.get::<Session>()?;
    session_user(store, session).await
}

/// The secret of `Authorization: Bearer <secret>`, when one is given.
pub fn bearer(headers: &HeaderMap) -> Option<&str> {
    headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            v.strip_prefix("Bearer ")
                .or_else(|| v.strip_prefix("bearer "))
        })
        .map(str::trim)
        .filter(|s| !s.is_empty())
}

/// The key whose secret is `secret` if it exists, is not revoked and has one of
/// `scopes`; its use is recorded (at most once a minute).
pub async fn check_key(store: &Store, secret: &str, scopes: &[Scope]) -> Result<ApiKey, ApiError> {
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
    if key
        .last_used_at
        .is_none_or(|t| EpochMillis(now) - t >= TOUCH_EVERY_MS)
    {
        let (store, id) = (store.clone(), key.id);
        tokio::spawn(async move {
            if let Err(e) = store.touch_api_key(id, now).await {
                tracing::debug!(error = %e, "could not record API key use");
            }
        });
    }
    Ok(key)
}
