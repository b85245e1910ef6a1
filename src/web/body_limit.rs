//! Request body limits: every area of the router has one (server functions and the
//! read APIs small, ingest and the gateway 10 MiB, OTLP 20 MiB, all configurable). A
//! body announced larger (`Content-Length`) is refused with 413 before any of it is
//! read; one sent without a length (chunked) fails at the first byte over the limit.
//!
//! Axum's `DefaultBodyLimit` only governs its extractors and tower-http's
//! `RequestBodyLimitLayer` answers a bare text 413; here the refusal is the area's own
//! error (JSON, or an OTLP `Status`), and a small body is read whole within the limit
//! before the handler runs (Leptos' server functions would report a cut body as
//! unreadable, not as too large).

use axum::Router;
use axum::body::Body;
use axum::extract::{DefaultBodyLimit, Request, State};
use axum::http::{HeaderMap, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};

use super::api_error::ApiError;

/// The configured limits, in bytes, per area.
#[derive(Clone, Copy, Debug)]
pub struct BodyLimits {
    /// Server functions (`/api/ui/…`, sign-in included), pages and the read APIs.
    pub small: usize,
    /// `/api/v1/ingest` and `/api/v1/feedback`.
    pub ingest: usize,
    /// OTLP `/v1/traces`.
    pub otlp: usize,
    /// The gateway's `/proxy/…`.
    pub proxy: usize,
}

/// How an area takes its body.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reading {
    /// Read whole (within the limit) before the handler runs.
    Whole,
    /// Handed to the handler as it comes, cut at the limit: the handler tells a cut
    /// body ([`is_over_limit`]) as too large.
    Streamed,
}

/// An area's limit and how it answers a body over it.
#[derive(Clone, Copy)]
pub struct BodyLimit {
    bytes: usize,
    reading: Reading,
    refuse: fn(&HeaderMap, ApiError) -> Response,
}

impl BodyLimit {
    /// `bytes` at most; a larger body is refused with the API's JSON error.
    pub fn new(bytes: usize, reading: Reading) -> BodyLimit {
        BodyLimit {
            bytes,
            reading,
            refuse: |_, e| e.into_response(),
        }
    }

    /// A refusal of the area's own shape (from the request's headers and the error).
    pub fn refused_as(self, refuse: fn(&HeaderMap, ApiError) -> Response) -> BodyLimit {
        BodyLimit { refuse, ..self }
    }

    /// `router` with this limit on every route (axum's own extractor limit is lifted:
    /// this one governs).
    pub fn apply<S>(self, router: Router<S>) -> Router<S>
    where
        S: Clone + Send + Sync + 'static,
    {
        router
            .layer(middleware::from_fn_with_state(self, limit_body))
            .layer(DefaultBodyLimit::disable())
    }
}

/// "body larger than 10 MiB": what a client is told.
pub fn too_large(bytes: usize) -> ApiError {
    ApiError::TooLarge(format!("body larger than {}", size(bytes)))
}

/// `bytes` as people write it: `10 MiB`, `64 KiB`, `1000 bytes`.
pub fn size(bytes: usize) -> String {
    const MIB: usize = 1024 * 1024;
    if bytes >= MIB && bytes.is_multiple_of(MIB) {
        format!("{} MiB", bytes / MIB)
    } else if bytes >= 1024 && bytes.is_multiple_of(1024) {
        format!("{} KiB", bytes / 1024)
    } else {
        format!("{bytes} bytes")
    }
}

/// Whether reading a body failed because it passed its limit.
pub fn is_over_limit(error: &(dyn std::error::Error + 'static)) -> bool {
    let mut next = Some(error);
    while let Some(e) = next {
        if e.is::<http_body_util::LengthLimitError>() {
            return true;
        }
        next = e.source();
    }
    false
}

async fn limit_body(State(limit): State<BodyLimit>, request: Request, next: Next) -> Response {
    let announced = request
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    if announced.is_some_and(|n| n > limit.bytes as u64) {
        let answer = (limit.refuse)(request.headers(), too_large(limit.bytes));
        // Answered at once; what the client still sends is read and dropped for a
        // moment, so it reads the answer instead of a reset connection.
        tokio::spawn(discard(request.into_body()));
        return answer;
    }
    let (parts, body) = request.into_parts();
    let body = match limit.reading {
        Reading::Streamed => Body::new(http_body_util::Limited::new(body, limit.bytes)),
        Reading::Whole => match axum::body::to_bytes(body, limit.bytes).await {
            Ok(bytes) => Body::from(bytes),
            Err(e) => {
                let error = if is_over_limit(&e) {
                    too_large(limit.bytes)
                } else {
                    ApiError::BadRequest("the request body could not be read".into())
                };
                return (limit.refuse)(&parts.headers, error);
            }
        },
    };
    next.run(Request::from_parts(parts, body)).await
}

/// How long a refused body is read (and dropped) after the answer.
const LINGER: std::time::Duration = std::time::Duration::from_secs(5);

async fn discard(body: Body) {
    use futures_util::StreamExt;
    let mut stream = body.into_data_stream();
    let _ = tokio::time::timeout(LINGER, async {
        while let Some(Ok(_)) = stream.next().await {}
    })
    .await;
}

#[cfg(test)]
mod tests {
    #[test]
    fn sizes_read_as_people_write_them() {
        assert_eq!(super::size(10 * 1024 * 1024), "10 MiB");
        assert_eq!(super::size(64 * 1024), "64 KiB");
        assert_eq!(super::size(1000), "1000 bytes");
    }
}
