//! What the browser is told to enforce: a Content-Security-Policy (pages get one with
//! the nonce Leptos puts on its own inline scripts; every other answer one that allows
//! nothing), no framing (`frame-ancestors 'none'`, `X-Frame-Options: DENY`),
//! `nosniff` and a same-origin Referrer-Policy. Over HTTPS (a configured `https`
//! public URL, or `X-Forwarded-Proto: https` from a trusted proxy) the session cookie
//! is marked `Secure` and `Strict-Transport-Security` is sent.

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderMap, HeaderValue, header};
use axum::middleware::Next;
use axum::response::Response;

use crate::auth::TrustedProxies;

/// The policy of every page: scripts from this site or with the page's nonce (Leptos'
/// hydration and streaming scripts carry it) and the wasm bundle; ECharts and Leptos
/// set inline styles, so styles may be inline.
pub fn page_csp(nonce: &str) -> String {
    format!(
        "default-src 'self'; script-src 'self' 'nonce-{nonce}' 'wasm-unsafe-eval'; \
         style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; connect-src 'self'; \
         font-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; \
         frame-ancestors 'none'"
    )
}

/// Answers that are not pages (JSON, CSV, static files) run nothing.
const NOTHING_CSP: &str = "default-src 'none'; frame-ancestors 'none'";
/// A year, the usual HSTS lifetime.
const HSTS: &str = "max-age=31536000";

/// In the render context of a page: its Content-Security-Policy with the nonce of this
/// response. (Server functions have no nonce; they keep the policy that allows
/// nothing.)
pub fn provide_page_csp() {
    let Some(nonce) = leptos::nonce::use_nonce() else {
        return;
    };
    if let Some(options) = leptos::prelude::use_context::<leptos_axum::ResponseOptions>()
        && let Ok(value) = HeaderValue::from_str(&page_csp(&nonce))
    {
        options.insert_header(header::CONTENT_SECURITY_POLICY, value);
    }
}

/// Whether Sightline is reached over HTTPS.
#[derive(Clone, Debug)]
pub struct HttpsPolicy {
    /// The configured public URL is `https://…`: every answer is.
    pub always: bool,
    /// Proxies whose `X-Forwarded-Proto` is believed.
    pub trusted: TrustedProxies,
}

impl HttpsPolicy {
    fn is_https(&self, request: &Request) -> bool {
        if self.always {
            return true;
        }
        let peer = request
            .extensions()
            .get::<ConnectInfo<SocketAddr>>()
            .map(|c| c.0.ip());
        peer.is_some_and(|p| self.trusted.0.contains(&p)) && forwarded_https(request.headers())
    }
}

/// `X-Forwarded-Proto: https` (the first value, the client's own scheme).
fn forwarded_https(headers: &HeaderMap) -> bool {
    headers
        .get("x-forwarded-proto")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(',').next())
        .is_some_and(|v| v.trim().eq_ignore_ascii_case("https"))
}

/// Axum middleware (outside the session layer, so it sees the session cookie).
pub async fn browser_policy(
    State(https): State<HttpsPolicy>,
    request: Request,
    next: Next,
) -> Response {
    let secure = https.is_https(&request);
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    headers
        .entry(header::CONTENT_SECURITY_POLICY)
        .or_insert(HeaderValue::from_static(NOTHING_CSP));
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    if secure {
        headers.insert(
            header::STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static(HSTS),
        );
        mark_cookies_secure(headers);
    }
    response
}

/// Adds `Secure` to every cookie set without it.
fn mark_cookies_secure(headers: &mut HeaderMap) {
    let cookies: Vec<HeaderValue> = headers
        .get_all(header::SET_COOKIE)
        .iter()
        .cloned()
        .collect();
    if cookies.is_empty() {
        return;
    }
    headers.remove(header::SET_COOKIE);
    for cookie in cookies {
        let secured = match cookie.to_str() {
            Ok(text)
                if !text
                    .split(';')
                    .any(|a| a.trim().eq_ignore_ascii_case("secure")) =>
            {
                HeaderValue::from_str(&format!("{text}; Secure")).unwrap_or(cookie)
            }
            _ => cookie,
        };
        headers.append(header::SET_COOKIE, secured);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cookies_are_marked_secure_once() {
        let mut headers = HeaderMap::new();
        headers.append(
            header::SET_COOKIE,
            HeaderValue::from_static("a=1; HttpOnly"),
        );
        headers.append(header::SET_COOKIE, HeaderValue::from_static("b=2; Secure"));
        mark_cookies_secure(&mut headers);
        let all: Vec<_> = headers.get_all(header::SET_COOKIE).iter().collect();
        assert_eq!(all, ["a=1; HttpOnly; Secure", "b=2; Secure"]);
    }

    #[test]
    fn only_https_forwarded_counts() {
        let mut h = HeaderMap::new();
        assert!(!forwarded_https(&h));
        h.insert("x-forwarded-proto", HeaderValue::from_static("HTTPS, http"));
        assert!(forwarded_https(&h));
        h.insert("x-forwarded-proto", HeaderValue::from_static("http"));
        assert!(!forwarded_https(&h));
    }
}
