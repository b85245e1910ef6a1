//! The door of every request: finds the signed-in account from the web session, sends
//! anonymous page views to `/login`, refuses server functions without a session (401)
//! or without the admin role under `/api/ui/admin/` (403), and refuses state-changing
//! requests from other sites (Origin check).

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use sightline_app::auth::{CurrentUser, safe_next};
use tower_sessions::Session;

use crate::store::Store;

/// The web-session key holding the signed-in account's id.
pub const SESSION_ACCOUNT: &str = "account_id";
/// The web-session key holding the credential stamp of the password it was opened with.
pub const SESSION_STAMP: &str = "credential_stamp";
/// The web-session key holding the instant (epoch ms) after which the session signs
/// nobody in, however active: the absolute lifetime, besides tower-sessions' idle one.
pub const SESSION_EXPIRES: &str = "expires_at";

/// What a path of the browser area needs. (The other areas' routes declare theirs
/// with the extractors of `web::api_auth` and never pass this guard.)
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Access {
    /// Static files of the front end: no session is looked at.
    Public,
    /// The login page and its server functions: open to all.
    Login,
    /// An unknown path under `/api/v1/`: answered "not found", never a redirect.
    Api,
    /// Server functions: a session.
    ServerFn,
    /// Server functions that change shared state: a session with the admin role.
    AdminServerFn,
    /// Pages: a session, else a redirect to `/login`.
    Page,
}

pub fn access(path: &str) -> Access {
    if path == "/favicon.svg" || path.starts_with("/pkg/") || path.starts_with("/vendor/") {
        Access::Public
    } else if matches!(
        path,
        "/login" | "/logout" | "/api/ui/login" | "/api/ui/has_accounts" | "/api/ui/whoami"
    ) {
        Access::Login
    } else if path.starts_with("/api/v1/") {
        Access::Api
    } else if path.starts_with("/api/ui/admin/") {
        Access::AdminServerFn
    } else if path.starts_with("/api/ui/") {
        Access::ServerFn
    } else {
        Access::Page
    }
}

/// The account of the request's web session, if it still exists and its password has
/// not changed since the session was opened (a session without a stamp, opened before
/// stamps existed, counts as changed), and the session's absolute lifetime has not run
/// out (one without a deadline, opened before deadlines existed, has). A session that
/// signs nobody in is flushed.
pub async fn session_user(store: &Store, session: &Session) -> Option<CurrentUser> {
    let id = session.get::<i64>(SESSION_ACCOUNT).await.ok().flatten()?;
    let expires_at = session.get::<i64>(SESSION_EXPIRES).await.ok().flatten();
    if expires_at.is_none_or(|at| at <= chrono::Utc::now().timestamp_millis()) {
        let _ = session.flush().await;
        return None;
    }
    let stamp = session.get::<String>(SESSION_STAMP).await.ok().flatten();
    match store.account_for_session(id).await {
        Ok(Some((a, current))) if stamp.as_deref() == Some(current.as_str()) => Some(CurrentUser {
            id: a.id,
            username: a.username,
            role: a.role,
            ip: None,
        }),
        Ok(_) => {
            // The account was deleted or its password changed: the session is worth
            // nothing now.
            let _ = session.flush().await;
            None
        }
        Err(e) => {
            tracing::error!(error = %e, "could not load the session's account");
            None
        }
    }
}

/// Axum middleware (inside the session layer): authenticates and authorises.
pub async fn guard(State(store): State<Store>, mut request: Request, next: Next) -> Response {
    let path = request.uri().path().to_owned();
    let access = access(&path);
    if access == Access::Public {
        return next.run(request).await;
    }
    let user = match request.extensions().get::<Session>().cloned() {
        Some(session) => session_user(&store, &session).await,
        None => None,
    };
    match (access, &user) {
        (Access::Page, None) => {
            return if matches!(*request.method(), Method::GET | Method::HEAD) {
                let target = request
                    .uri()
                    .path_and_query()
                    .map_or("/", |p| p.as_str())
                    .to_owned();
                let next = safe_next(Some(&target));
                let location = if next == "/" {
                    "/login".to_owned()
                } else {
                    format!(
                        "/login?next={}",
                        url::form_urlencoded::byte_serialize(next.as_bytes()).collect::<String>()
                    )
                };
                Redirect::to(&location).into_response()
            } else {
                refuse(StatusCode::UNAUTHORIZED, "sign in first")
            };
        }
        (Access::ServerFn | Access::AdminServerFn, None) => {
            return refuse(StatusCode::UNAUTHORIZED, "sign in first");
        }
        (Access::AdminServerFn, Some(u)) if !u.is_admin() => {
            return refuse(
                StatusCode::FORBIDDEN,
                &format!("{} is a viewer: this needs the admin role", u.username),
            );
        }
        (Access::Login, Some(_)) if path == "/login" && request.method() == Method::GET => {
            let next = request.uri().query().and_then(|q| {
                url::form_urlencoded::parse(q.as_bytes())
                    .find(|(k, _)| k == "next")
                    .map(|(_, v)| v.into_owned())
            });
            return Redirect::to(&safe_next(next.as_deref())).into_response();
        }
        _ => {}
    }
    if let Some(mut user) = user {
        user.ip = Some(super::address_of(request.headers(), request.extensions()));
        request.extensions_mut().insert(user);
    }
    next.run(request).await
}

/// Axum middleware: a request that changes state and could carry the session cookie
/// must come from a page of this site. Browsers send `Origin` with every such request
/// (`Referer` is the fallback); calls of the key-authenticated APIs (`/api/v1/`, and
/// OTLP's `/v1/`) that send no cookie are not at risk and pass (a missing key is then
/// their own 401).
pub async fn same_origin(request: Request, next: Next) -> Response {
    if matches!(
        *request.method(),
        Method::GET | Method::HEAD | Method::OPTIONS
    ) {
        return next.run(request).await;
    }
    let headers = request.headers();
    // The JSON APIs authenticate with keys: only a request that also carries a cookie
    // (and so could be riding a session) needs to come from this site. Everything else
    // (sign-in, sign-out, server functions) always does.
    let path = request.uri().path();
    let api_without_cookie = (path.starts_with("/api/v1/") || path.starts_with("/v1/"))
        && !headers.contains_key(header::COOKIE);
    if api_without_cookie || from_this_site(headers) {
        next.run(request).await
    } else {
        refuse(
            StatusCode::FORBIDDEN,
            "cross-site request refused: its Origin is not this site",
        )
    }
}

/// Whether `Origin` (or else `Referer`) names the host the request was sent to.
fn from_this_site(headers: &HeaderMap) -> bool {
    let Some(host) = headers.get(header::HOST).and_then(|h| h.to_str().ok()) else {
        return false;
    };
    let source = headers
        .get(header::ORIGIN)
        .or_else(|| headers.get(header::REFERER))
        .and_then(|v| v.to_str().ok());
    source
        .and_then(|s| url::Url::parse(s).ok())
        .is_some_and(|u| {
            let authority = match (u.host_str(), u.port()) {
                (Some(h), Some(p)) => format!("{h}:{p}"),
                (Some(h), None) => h.to_owned(),
                _ => return false,
            };
            authority.eq_ignore_ascii_case(host)
        })
}

fn refuse(status: StatusCode, message: &str) -> Response {
    Response::builder()
        .status(status)
        .header(header::CONTENT_TYPE, "text/plain; charset=utf-8")
        .body(Body::from(message.to_owned()))
        .unwrap_or_else(|_| status.into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_need_what_they_should() {
        assert_eq!(access("/pkg/sightline.wasm"), Access::Public);
        assert_eq!(access("/favicon.svg"), Access::Public);
        assert_eq!(access("/login"), Access::Login);
        assert_eq!(access("/api/ui/login"), Access::Login);
        assert_eq!(access("/api/v1/no-such-api"), Access::Api);
        assert_eq!(access("/api/ui/dashboard"), Access::ServerFn);
        assert_eq!(
            access("/api/ui/admin/resolve_threats"),
            Access::AdminServerFn
        );
        assert_eq!(access("/"), Access::Page);
        assert_eq!(access("/threats"), Access::Page);
        assert_eq!(access("/pkgx"), Access::Page);
    }

    fn headers(pairs: &[(header::HeaderName, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(k.clone(), v.parse().unwrap());
        }
        h
    }

    #[test]
    fn only_this_site_passes_the_origin_check() {
        let host = (header::HOST, "127.0.0.1:3000");
        assert!(from_this_site(&headers(&[
            host.clone(),
            (header::ORIGIN, "http://127.0.0.1:3000")
        ])));
        assert!(from_this_site(&headers(&[
            host.clone(),
            (header::REFERER, "http://127.0.0.1:3000/threats?x=1")
        ])));
        assert!(!from_this_site(&headers(&[
            host.clone(),
            (header::ORIGIN, "http://evil.example")
        ])));
        assert!(!from_this_site(&headers(&[
            host.clone(),
            (header::ORIGIN, "http://127.0.0.1:3001")
        ])));
        assert!(!from_this_site(&headers(&[
            host.clone(),
            (header::ORIGIN, "null")
        ])));
        assert!(!from_this_site(&headers(&[host])));
        let https = (header::HOST, "sightline.example.com");
        assert!(from_this_site(&headers(&[
            https,
            (header::ORIGIN, "https://sightline.example.com")
        ])));
    }
}
