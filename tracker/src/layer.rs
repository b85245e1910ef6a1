//! The tower [`Layer`] and [`Service`] that record each request, and the response
//! body wrapper that counts bytes and records the event when the body ends.

use std::future::Future;
use std::net::{IpAddr, SocketAddr};
use std::pin::Pin;
use std::task::{Context, Poll, ready};
// Not Tokio's: with its `test-util` feature that one reads a shared, locked clock.
use std::time::Instant;

use http::{HeaderMap, Request, Response, header};
use http_body::{Body, Frame, SizeHint};
use pin_project_lite::pin_project;
use tower::{Layer, Service};

use crate::capture::{
    TrackedRequestId, TrackedUsage, TrackedUser, client_ip, untrusted_forwarded_for,
};
use crate::tracker::{Tracker, now_ms, request_id_at};
use crate::wire::{RequestEvent, RequestKind, Timestamp};

/// Wraps a service so that its requests are recorded by a [`Tracker`].
///
/// With axum, add it with `Router::layer` so the route template (`MatchedPath`) is
/// known, and serve with `into_make_service_with_connect_info::<SocketAddr>()` so the
/// peer address is known.
#[derive(Clone, Debug)]
pub struct SightlineLayer {
    tracker: Tracker,
}

impl SightlineLayer {
    /// A layer feeding `tracker`; the same as [`Tracker::layer`].
    pub fn new(tracker: Tracker) -> Self {
        SightlineLayer { tracker }
    }
}

impl<S> Layer<S> for SightlineLayer {
    type Service = SightlineService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        SightlineService {
            inner,
            tracker: self.tracker.clone(),
        }
    }
}

/// The service made by [`SightlineLayer`].
#[derive(Clone, Debug)]
pub struct SightlineService<S> {
    inner: S,
    tracker: Tracker,
}

impl<S, ReqBody, ResBody> Service<Request<ReqBody>> for SightlineService<S>
where
    S: Service<Request<ReqBody>, Response = Response<ResBody>>,
    ResBody: Body,
{
    type Response = Response<TrackedBody<ResBody>>;
    type Error = S::Error;
    type Future = ResponseFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut request: Request<ReqBody>) -> Self::Future {
        let started = (!self.tracker.capture().skips(request.uri().path())).then(|| {
            let started = Started::from_request(&request, &self.tracker);
            let id = started.event.request_id.clone().unwrap_or_default();
            request.extensions_mut().insert(TrackedRequestId(id));
            started
        });
        ResponseFuture {
            inner: self.inner.call(request),
            started,
        }
    }
}

/// What is known when the request arrives.
struct Started {
    tracker: Tracker,
    at: Instant,
    event: RequestEvent,
    user: Option<TrackedUser>,
}

/// Path, query, referer and forwarded-for hops are sent for inspection only; the server
/// reads no more than this.
const INSPECTED_BYTES: usize = 2048;

fn bounded(text: &str) -> String {
    let mut end = text.len().min(INSPECTED_BYTES);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    text[..end].to_owned()
}

impl Started {
    fn from_request<B>(request: &Request<B>, tracker: &Tracker) -> Self {
        let extensions = request.extensions();
        let headers = request.headers();
        let ms = now_ms();
        let uri = request.uri();
        let (endpoint, path) = match route_template(request) {
            Some(t) if t != uri.path() => (t, Some(bounded(uri.path()))),
            Some(t) => (t, None),
            None => (uri.path().to_owned(), None),
        };
        let event = RequestEvent {
            request_id: Some(request_id_at(ms)),
            timestamp: Some(Timestamp::Millis(ms)),
            kind: Some(RequestKind::Api),
            endpoint,
            path,
            query: uri.query().filter(|q| !q.is_empty()).map(bounded),
            method: request.method().as_str().to_owned(),
            ip: client_ip(
                headers,
                peer_ip(request),
                &tracker.capture().trusted_proxies,
            ),
            user_agent: header_text(headers, header::USER_AGENT),
            referer: header_text(headers, header::REFERER).map(|r| bounded(&r)),
            forwarded_for: untrusted_forwarded_for(
                headers,
                peer_ip(request),
                &tracker.capture().trusted_proxies,
            )
            .map(|f| bounded(&f)),
            request_bytes: content_length(headers),
            ..RequestEvent::default()
        };
        Started {
            tracker: tracker.clone(),
            at: Instant::now(),
            event,
            user: extensions.get::<TrackedUser>().cloned(),
        }
    }

    /// Applies the response; `None` when the request is not to be recorded.
    fn finish<B>(self, response: &Response<B>) -> Option<Recording> {
        let Started {
            tracker,
            at,
            mut event,
            user,
        } = self;
        let status = response.status().as_u16();
        let user = user.or_else(|| response.extensions().get::<TrackedUser>().cloned());
        let rules = tracker.capture();
        let authenticated = user.as_ref().is_some_and(|u| u.user_id.is_some());
        if (rules.authenticated_only && !authenticated) || !rules.samples(status) {
            return None;
        }
        event.status_code = i64::from(status);
        if let Some(user) = user {
            event.user_id = user.user_id;
            event.session_id = user.session_id;
        }
        event.is_authenticated = Some(authenticated);
        if let Some(usage) = response.extensions().get::<TrackedUsage>() {
            usage.apply(&mut event);
        }
        Some(Recording {
            tracker,
            at,
            event,
            content_length: content_length(response.headers()),
            counted: 0,
        })
    }
}

#[cfg(feature = "axum")]
fn route_template<B>(request: &Request<B>) -> Option<String> {
    request
        .extensions()
        .get::<axum::extract::MatchedPath>()
        .map(|p| p.as_str().to_owned())
}

#[cfg(not(feature = "axum"))]
fn route_template<B>(_request: &Request<B>) -> Option<String> {
    None
}

/// The peer: axum's `ConnectInfo<SocketAddr>`, else a bare `SocketAddr` extension.
fn peer_ip<B>(request: &Request<B>) -> Option<IpAddr> {
    #[cfg(feature = "axum")]
    if let Some(info) = request
        .extensions()
        .get::<axum::extract::ConnectInfo<SocketAddr>>()
    {
        return Some(info.0.ip());
    }
    request.extensions().get::<SocketAddr>().map(|a| a.ip())
}

fn header_text(headers: &HeaderMap, name: header::HeaderName) -> Option<String> {
    headers.get(name)?.to_str().ok().map(str::to_owned)
}

fn content_length(headers: &HeaderMap) -> Option<i64> {
    headers
        .get(header::CONTENT_LENGTH)?
        .to_str()
        .ok()?
        .parse()
        .ok()
}

/// An event waiting for its response body to end; recorded when dropped.
struct Recording {
    tracker: Tracker,
    at: Instant,
    event: RequestEvent,
    content_length: Option<i64>,
    counted: u64,
}

impl Drop for Recording {
    fn drop(&mut self) {
        let mut event = std::mem::take(&mut self.event);
        event.latency_ms = self.at.elapsed().as_secs_f64() * 1000.0;
        event.response_bytes = self.content_length.or(Some(self.counted as i64));
        self.tracker.record_request(event);
    }
}

pin_project! {
    /// The future of [`SightlineService`].
    pub struct ResponseFuture<F> {
        #[pin]
        inner: F,
        started: Option<Started>,
    }
}

impl<F, B, E> Future for ResponseFuture<F>
where
    F: Future<Output = Result<Response<B>, E>>,
    B: Body,
{
    type Output = Result<Response<TrackedBody<B>>, E>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let result = ready!(this.inner.poll(cx));
        let started = this.started.take();
        Poll::Ready(match result {
            Ok(response) => {
                let recording = started.and_then(|s| s.finish(&response));
                Ok(response.map(|inner| TrackedBody { inner, recording }))
            }
            Err(e) => {
                if let Some(s) = started {
                    let mut event = s.event;
                    event.status_code = 500;
                    event.latency_ms = s.at.elapsed().as_secs_f64() * 1000.0;
                    event.error = Some("the service failed without a response".to_owned());
                    s.tracker.record_request(event);
                }
                Err(e)
            }
        })
    }
}

pin_project! {
    /// A response body that counts its bytes and records the request when it ends
    /// (or is dropped, when the client goes away).
    pub struct TrackedBody<B> {
        #[pin]
        inner: B,
        recording: Option<Recording>,
    }
}

impl<B: Body> Body for TrackedBody<B> {
    type Data = B::Data;
    type Error = B::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Self::Data>, Self::Error>>> {
        let this = self.project();
        let frame = ready!(this.inner.poll_frame(cx));
        match &frame {
            Some(Ok(f)) => {
                if let (Some(data), Some(rec)) = (f.data_ref(), this.recording.as_mut()) {
                    rec.counted += bytes::Buf::remaining(data) as u64;
                }
            }
            Some(Err(_)) => {
                if let Some(rec) = this.recording.as_mut() {
                    rec.event.error = Some("the response body failed".to_owned());
                }
            }
            // The end: record now rather than when hyper drops the body.
            None => drop(this.recording.take()),
        }
        Poll::Ready(frame)
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}
