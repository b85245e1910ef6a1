//! Dashboard accounts: passwords, signing in and out, and the middleware that guards
//! every page, server function and API.

pub mod guard;
pub mod password;
pub mod throttle;

use std::net::{IpAddr, SocketAddr};

use axum::extract::{ConnectInfo, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Redirect, Response};
use sightline_app::auth::CurrentUser;
use tower_sessions::Session;

use crate::store::Store;

pub use guard::{SESSION_ACCOUNT, SESSION_EXPIRES, SESSION_STAMP};

/// The client's address: the TCP peer, or, when the peer is one of the trusted
/// proxies, the last address in `X-Forwarded-For` that is not itself a trusted proxy.
pub fn client_ip(headers: &HeaderMap, peer: Option<IpAddr>, trusted: &[IpAddr]) -> String {
    let Some(peer) = peer else {
        return "unknown".into();
    };
    if !trusted.contains(&peer) {
        return peer.to_string();
    }
    headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .filter_map(|s| s.trim().parse::<IpAddr>().ok())
        .rev()
        .find(|ip| !trusted.contains(ip))
        .unwrap_or(peer)
        .to_string()
}

/// The proxies whose `X-Forwarded-For` is believed, as the server was configured.
#[derive(Clone, Debug, Default)]
pub struct TrustedProxies(pub Vec<IpAddr>);

/// The client address of a request whose parts are at hand.
pub fn request_ip(parts: &Parts) -> String {
    address_of(&parts.headers, &parts.extensions)
}

/// The client address of a request from its headers and extensions (the peer and the
/// trusted proxies the server put there).
pub fn address_of(headers: &HeaderMap, extensions: &axum::http::Extensions) -> String {
    let peer = extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip());
    let trusted = extensions
        .get::<TrustedProxies>()
        .map(|t| t.0.as_slice())
        .unwrap_or(&[]);
    client_ip(headers, peer, trusted)
}

pub fn user_agent(headers: &HeaderMap) -> Option<String> {
    headers
        .get(header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .map(|s| s.chars().take(512).collect())
}

/// Puts `user` into the web session of the request, under a new session id (so an id
/// planted before signing in is worthless after), with the [`credential_stamp`] of the
/// password just checked: once the password changes, the session signs nobody in. It
/// signs nobody in after `expires_at` (epoch ms) either, however active it was.
///
/// [`credential_stamp`]: crate::store::credential_stamp
pub async fn open_session(
    session: &Session,
    user: &CurrentUser,
    stamp: &str,
    expires_at: i64,
) -> Result<(), tower_sessions::session::Error> {
    session.cycle_id().await?;
    session.insert(SESSION_ACCOUNT, user.id).await?;
    session.insert(SESSION_EXPIRES, expires_at).await?;
    session.insert(SESSION_STAMP, stamp).await
}

/// `POST /logout`: ends the web session and goes to the login page.
pub async fn logout(State(store): State<Store>, parts: Parts) -> Response {
    if let Some(session) = parts.extensions.get::<Session>() {
        if let Some(mut user) = guard::session_user(&store, session).await {
            let ip = request_ip(&parts);
            user.ip = Some(ip.clone());
            crate::audit::record(&store, &user, "signed_out", None, None).await;
            let now = chrono::Utc::now().timestamp_millis();
            if let Err(e) =
                throttle::signed_out(&store, &user, ip, user_agent(&parts.headers), now).await
            {
                tracing::warn!(error = %e, "could not record a sign-out");
            }
        }
        if let Err(e) = session.flush().await {
            tracing::warn!(error = %e, "could not end a web session");
        }
    }
    Redirect::to("/login").into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forwarded_addresses_count_only_behind_a_trusted_proxy() {
        let mut h = HeaderMap::new();
        h.insert("x-forwarded-for", "203.0.113.9, 10.0.0.2".parse().unwrap());
        let proxy: IpAddr = "10.0.0.2".parse().unwrap();
        let peer: IpAddr = "10.0.0.1".parse().unwrap();
        assert_eq!(client_ip(&h, Some(peer), &[]), "10.0.0.1");
        assert_eq!(client_ip(&h, Some(peer), &[peer, proxy]), "203.0.113.9");
        assert_eq!(
            client_ip(&HeaderMap::new(), Some(peer), &[peer]),
            "10.0.0.1"
        );
        assert_eq!(client_ip(&h, None, &[]), "unknown");
    }
}
