//! The gateway's HTTP edge: `/proxy/{provider}/…` forwards the rest of the path, the
//! query, the headers (less hop-by-hop and `Sightline-*` ones) and the body to the
//! provider's upstream, and streams the answer back as it arrives. Each call is
//! recorded once, after its answer has ended, through the ingest queue without
//! waiting: recording never delays or fails the answer.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{ConnectInfo, Path, Request, State};
use axum::http::{HeaderMap, HeaderName, HeaderValue, header};
use axum::response::{IntoResponse, Response};
use axum::routing::any;
use futures_util::{StreamExt, TryStreamExt};
use sightline_tracker::wire::RequestKind;

use super::AppState;
use super::api_auth::SightlineKey;
use super::api_error::ApiError;
use crate::gateway::sse::SseParser;
use crate::gateway::{CallRecord, Flavor, Recorder, RequestFacts, Upstreams, Usage, UsageReader};
use crate::ingest::MAX_BODY_BYTES;

/// The header that tells the client the id its call is recorded under (for feedback).
const REQUEST_ID_HEADER: &str = "sightline-request-id";

/// How the gateway reaches upstreams.
pub struct Proxy {
    client: reqwest::Client,
    recorder: Recorder,
    upstreams: Upstreams,
    /// Most an upstream may take to start answering, and to send the next chunk.
    timeout: Duration,
}

impl Proxy {
    pub fn new(
        upstreams: Upstreams,
        timeout: Duration,
        recorder: Recorder,
    ) -> Result<Proxy, reqwest::Error> {
        let client = reqwest::Client::builder()
            .connect_timeout(timeout.min(Duration::from_secs(10)))
            .pool_idle_timeout(Duration::from_secs(90))
            .redirect(reqwest::redirect::Policy::none())
            .build()?;
        Ok(Proxy {
            client,
            recorder,
            upstreams,
            timeout,
        })
    }
}

pub fn router() -> Router<AppState> {
    Router::new().route("/proxy/{provider}/{*rest}", any(forward))
}

/// What is known of a call before its answer: enough to record it however it ends.
struct Pending {
    sink: Recorder,
    call: CallRecord,
    flavor: Flavor,
    started: Instant,
    /// The request body, read whole before it went up (empty until then).
    request: Bytes,
}

impl Pending {
    /// Records the call as ended now with `status`, `usage` and `error`.
    fn record(mut self, status: u16, usage: Usage, error: Option<String>, ttft: Option<Duration>) {
        self.call.facts = RequestFacts::read(&self.request);
        self.call.request_bytes = i64::try_from(self.request.len()).unwrap_or(i64::MAX);
        self.call.status = status;
        self.call.usage = usage;
        self.call.error = error;
        self.call.latency_ms = millis(self.started.elapsed());
        self.call.ttft_ms = ttft.map(millis);
        self.sink.record(self.call);
    }
}

fn millis(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// An answer being streamed to the client: reads what passes and records the call
/// once, when the answer ends, breaks off, or the client goes away (on drop).
struct Answer {
    pending: Option<Pending>,
    status: u16,
    reader: UsageReader,
    sse: Option<SseParser>,
    /// A JSON answer, kept (within the body limit) to read its usage at the end.
    json: Option<Vec<u8>>,
    first_token: Option<Duration>,
    /// The length the upstream announced, and what has passed so far.
    expected: Option<u64>,
    passed: u64,
}

impl Answer {
    fn observe(&mut self, chunk: &[u8]) {
        self.passed += chunk.len() as u64;
        let started = self.pending.as_ref().map(|p| p.started);
        if let Some(parser) = &mut self.sse {
            let (reader, first_token) = (&mut self.reader, &mut self.first_token);
            parser.feed(chunk, |event| {
                if reader.event(&event) && first_token.is_none() {
                    *first_token = started.map(|s| s.elapsed());
                }
            });
        } else if let Some(json) = &mut self.json {
            if json.len() + chunk.len() <= MAX_BODY_BYTES {
                json.extend_from_slice(chunk);
            } else {
                self.json = None;
            }
        }
    }

    fn end(&mut self, error: Option<String>) {
        let Some(mut pending) = self.pending.take() else {
            return;
        };
        if let Some(json) = &self.json {
            self.reader.json_body(json);
        }
        pending.call.response_bytes = i64::try_from(self.passed).unwrap_or(i64::MAX);
        pending.record(self.status, self.reader.usage(), error, self.first_token);
    }
}

impl Drop for Answer {
    fn drop(&mut self) {
        // Dropped before the upstream's end was read: the whole announced length went
        // out (the server stops reading there), a stream's last event went out (an SDK
        // may close the connection as soon as it has read it), or the client hung up.
        let complete = self.expected.is_some_and(|n| n == self.passed) || self.reader.ended();
        let error = (!complete).then(|| "the client hung up before the end of the answer".into());
        self.end(error);
    }
}

/// Headers that concern one connection only (RFC 9110 §7.6.1), never forwarded.
const HOP_BY_HOP: [&str; 8] = [
    "connection",
    "keep-alive",
    "proxy-authenticate",
    "proxy-authorization",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
];

/// `headers` less hop-by-hop ones (and those `Connection` names), `Host`, and for the
/// way up `Sightline-*` and `Accept-Encoding` (the answer must be readable for usage).
fn forwarded(headers: &HeaderMap, upstream: bool) -> HeaderMap {
    let named: Vec<String> = headers
        .get_all(header::CONNECTION)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(|s| s.trim().to_ascii_lowercase())
        .collect();
    let mut out = HeaderMap::with_capacity(headers.len());
    for (name, value) in headers {
        let n = name.as_str();
        let dropped = HOP_BY_HOP.contains(&n)
            || named.iter().any(|c| c == n)
            || (upstream && (n == "host" || n.starts_with("sightline-") || n == "accept-encoding"));
        if !dropped {
            out.append(name.clone(), value.clone());
        }
    }
    out
}

fn header_text(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .map(str::to_owned)
}

/// `ANY /proxy/{provider}/{*rest}`.
async fn forward(
    State(state): State<AppState>,
    _key: SightlineKey,
    Path((provider, _rest)): Path<(String, String)>,
    request: Request,
) -> Response {
    let started = Instant::now();
    let started_at = chrono::Utc::now().timestamp_millis();
    let proxy = state.proxy.clone();
    let Some(upstream) = proxy.upstreams.get(&provider) else {
        return ApiError::NotFound(format!(
            "unknown provider `{provider}`: the configured ones are {} (SIGHTLINE_PROXY_UPSTREAMS adds others)",
            proxy.upstreams
        ))
        .into_response();
    };
    let (parts, body) = request.into_parts();
    let headers = &parts.headers;
    let kind = match header_text(headers, "sightline-kind").as_deref() {
        None | Some("api") => RequestKind::Api,
        Some("external") => RequestKind::External,
        Some(other) => {
            return ApiError::BadRequest(format!(
                "Sightline-Kind `{}` is neither `api` nor `external`",
                other.escape_debug()
            ))
            .into_response();
        }
    };
    // The path after `/proxy/{provider}`, as the client sent it (still percent-encoded).
    let endpoint = parts
        .uri
        .path()
        .get("/proxy/".len() + provider.len()..)
        .unwrap_or("/")
        .to_owned();
    let url = match parts.uri.query() {
        Some(q) => format!("{}{endpoint}?{q}", upstream.base),
        None => format!("{}{endpoint}", upstream.base),
    };
    let peer = parts
        .extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip());
    let request_id = uuid::Uuid::now_v7().to_string();
    let pending = Pending {
        sink: proxy.recorder.clone(),
        call: CallRecord {
            request_id: request_id.clone(),
            provider: provider.clone(),
            kind,
            started_at,
            method: parts.method.as_str().to_owned(),
            endpoint,
            status: 0,
            latency_ms: 0.0,
            ttft_ms: None,
            user_id: header_text(headers, "sightline-user-id"),
            session_id: header_text(headers, "sightline-session-id"),
            ip: Some(crate::auth::client_ip(
                headers,
                peer,
                &state.trusted_proxies.0,
            )),
            user_agent: crate::auth::user_agent(headers),
            request_bytes: 0,
            response_bytes: 0,
            error: None,
            streamed: false,
            usage: Usage::default(),
            facts: RequestFacts::default(),
        },
        flavor: upstream.flavor,
        started,
        request: Bytes::new(),
    };

    // The body is read whole, within the router's limit (SIGHTLINE_PROXY_MAX_BODY_BYTES),
    // before any of it goes up: the upstream gets it with its length, as the client sent
    // it, and the client's request has been read to its end before the answer starts, so
    // its keep-alive connection stays usable whatever the upstream answers, and when.
    let mut pending = pending;
    pending.request = match axum::body::to_bytes(body, usize::MAX).await {
        Ok(bytes) => bytes,
        Err(e) if super::body_limit::is_over_limit(&e) => {
            return fail(pending, too_large(state.body_limits.proxy));
        }
        Err(_) => {
            let error = ApiError::BadRequest("the request body could not be read".into());
            return fail(pending, error);
        }
    };
    let mut upstream_headers = forwarded(headers, true);
    upstream_headers.remove(header::CONTENT_LENGTH);
    let mut upstream_request = proxy
        .client
        .request(parts.method.clone(), &url)
        .headers(upstream_headers);
    // A request without a body (no length, not chunked) goes up without one: a GET
    // must not turn into an upload.
    if !pending.request.is_empty() {
        upstream_request = upstream_request.body(pending.request.clone());
    }
    let sent = upstream_request.send();
    let answer = match tokio::time::timeout(proxy.timeout, sent).await {
        Ok(Ok(answer)) => answer,
        Ok(Err(e)) => {
            let error = if e.is_connect() {
                ApiError::BadGateway(format!(
                    "the {provider} upstream could not be reached: {}",
                    e.without_url()
                ))
            } else {
                ApiError::BadGateway(format!(
                    "the call to the {provider} upstream failed: {}",
                    e.without_url()
                ))
            };
            return fail(pending, error);
        }
        Err(_) => {
            let error = ApiError::GatewayTimeout(format!(
                "the {provider} upstream did not answer within {} s",
                proxy.timeout.as_secs()
            ));
            return fail(pending, error);
        }
    };

    let status = answer.status();
    let content_type = header_text(answer.headers(), "content-type").unwrap_or_default();
    let streamed = content_type.starts_with("text/event-stream");
    pending.call.streamed = streamed;
    let mut reply_headers = forwarded(answer.headers(), false);
    if let Ok(v) = HeaderValue::from_str(&request_id) {
        reply_headers.insert(HeaderName::from_static(REQUEST_ID_HEADER), v);
    }
    let flavor = pending.flavor;
    let watch = Answer {
        pending: Some(pending),
        status: status.as_u16(),
        reader: UsageReader::new(flavor),
        sse: streamed.then(SseParser::default),
        json: (!streamed && content_type.contains("json")).then(Vec::new),
        first_token: None,
        // HEAD answers and 204/304 have no body to wait for.
        expected: if parts.method == axum::http::Method::HEAD
            || matches!(status.as_u16(), 204 | 304)
        {
            Some(0)
        } else {
            answer.content_length()
        },
        passed: 0,
    };
    let idle = proxy.timeout;
    let chunks = answer.bytes_stream().map_err(std::io::Error::other).boxed();
    let stream =
        futures_util::stream::unfold((chunks, watch), move |(mut chunks, mut watch)| async move {
            watch.pending.as_ref()?;
            match tokio::time::timeout(idle, chunks.next()).await {
                Ok(Some(Ok(chunk))) => {
                    watch.observe(&chunk);
                    Some((Ok(chunk), (chunks, watch)))
                }
                Ok(None) => {
                    watch.end(None);
                    None
                }
                Ok(Some(Err(e))) => {
                    watch.end(Some(format!("the upstream broke off the answer: {e}")));
                    Some((Err(e), (chunks, watch)))
                }
                Err(_) => {
                    let message = format!("the upstream sent nothing for {} s", idle.as_secs());
                    watch.end(Some(message.clone()));
                    Some((
                        Err(std::io::Error::new(std::io::ErrorKind::TimedOut, message)),
                        (chunks, watch),
                    ))
                }
            }
        });
    let mut response = Response::new(Body::from_stream(stream));
    *response.status_mut() = status;
    *response.headers_mut() = reply_headers;
    response
}

fn too_large(limit: usize) -> ApiError {
    ApiError::TooLarge(format!(
        "request body larger than {}; nothing more was forwarded",
        super::body_limit::size(limit)
    ))
}

/// Answers `error` for a call that got no answer from its upstream, and records it so.
fn fail(pending: Pending, error: ApiError) -> Response {
    let status = error.status().as_u16();
    pending.record(status, Usage::default(), Some(error.to_string()), None);
    error.into_response()
}
