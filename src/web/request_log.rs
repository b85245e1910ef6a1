//! One log line per HTTP request: method, route, status, latency and request id. The
//! route is the matched template (`/api/v1/export/{file}`), never the query string,
//! and no header is logged, so keys, cookies and passwords stay out of the logs.
//!
//! The request id is the client's `x-request-id` when it sends a sensible one, else a
//! new UUIDv7; it is set on the request (for handlers), on the response, and on a span
//! around the handler, so every line logged while serving carries it.

use std::time::Instant;

use axum::extract::{MatchedPath, Request};
use axum::http::{HeaderName, HeaderValue};
use axum::middleware::Next;
use axum::response::Response;
use tracing::Instrument;

pub const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// Longest request id taken from a client; longer or odd ones are replaced.
const MAX_ID_LEN: usize = 128;
/// Longest unmatched path logged (scanners send long ones).
const MAX_PATH_LEN: usize = 200;

/// The client's request id if it is short printable ASCII, else a new one.
fn request_id(request: &Request) -> HeaderValue {
    request
        .headers()
        .get(&REQUEST_ID)
        .filter(|v| {
            let bytes = v.as_bytes();
            !bytes.is_empty() && bytes.len() <= MAX_ID_LEN && bytes.iter().all(u8::is_ascii_graphic)
        })
        .cloned()
        .unwrap_or_else(|| {
            HeaderValue::from_str(&uuid::Uuid::now_v7().to_string())
                .unwrap_or_else(|_| HeaderValue::from_static("-"))
        })
}

/// The route template the request matched, else its path (without the query).
fn route(request: &Request) -> String {
    match request.extensions().get::<MatchedPath>() {
        Some(path) => path.as_str().to_owned(),
        None => {
            let path = request.uri().path();
            match path.char_indices().nth(MAX_PATH_LEN) {
                Some((end, _)) => format!("{}…", &path[..end]),
                None => path.to_owned(),
            }
        }
    }
}

/// The middleware: add with `Router::layer`, outermost, so it sees the matched route
/// and times everything.
pub async fn log_request(mut request: Request, next: Next) -> Response {
    let started = Instant::now();
    let id = request_id(&request);
    let id_text = id.to_str().unwrap_or("-").to_owned();
    let method = request.method().clone();
    let path = route(&request);
    request.headers_mut().insert(REQUEST_ID, id.clone());

    let span = tracing::info_span!("request", request_id = %id_text);
    let mut response = next.run(request).instrument(span).await;
    response.headers_mut().insert(REQUEST_ID, id);

    let status = response.status().as_u16();
    let latency_ms = (started.elapsed().as_secs_f64() * 1e6).round() / 1e3;
    if status >= 500 {
        tracing::error!(method = %method, path, status, latency_ms, request_id = %id_text, "request");
    } else {
        tracing::info!(method = %method, path, status, latency_ms, request_id = %id_text, "request");
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::body::Body;

    fn with_id(id: &str) -> Request {
        Request::builder()
            .uri("/x?token=secret")
            .header("x-request-id", id)
            .body(Body::empty())
            .unwrap()
    }

    #[test]
    fn a_sensible_client_id_is_kept_and_an_odd_one_replaced() {
        assert_eq!(request_id(&with_id("abc-123")), "abc-123");
        let long = "a".repeat(MAX_ID_LEN + 1);
        for odd in ["", "two words", long.as_str()] {
            let id = request_id(&with_id(odd));
            assert_ne!(id, odd);
            assert_eq!(id.len(), 36, "a UUID replaces {odd:?}");
        }
    }

    #[test]
    fn an_unmatched_route_is_its_path_without_the_query() {
        assert_eq!(route(&with_id("a")), "/x");
    }
}
