//! A provider upstream for the gateway's tests and benchmark, written to the providers'
//! documented APIs: OpenAI Chat Completions (JSON and server-sent events, with the
//! final usage chunk when `stream_options.include_usage` is set) and Embeddings, and
//! Anthropic Messages (JSON and events), and the model list. Answers are fixed, so two calls give the same
//! bytes. Special models: `mock-429`, `mock-500` (errors), `mock-slow` (answers after
//! 5 s), `mock-gated` (sends its first chunk, then the rest once the test opens the
//! gate), `mock-endless` (a chunk every 20 ms, 500 at most).

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use futures::StreamExt;
use serde_json::{Value, json};
use tokio::sync::Notify;

/// What the mock saw of one request.
#[derive(Clone, Debug)]
pub struct Seen {
    pub path: String,
    pub authorization: Option<String>,
    pub api_key: Option<String>,
    /// Names of the request's headers.
    pub header_names: Vec<String>,
}

#[derive(Clone, Default)]
struct Shared {
    seen: Arc<Mutex<Vec<Seen>>>,
    gate: Arc<Notify>,
}

/// The mock, listening on a loopback port of its own.
pub struct MockProvider {
    pub base_url: String,
    shared: Shared,
}

impl MockProvider {
    pub async fn start() -> MockProvider {
        let shared = Shared::default();
        let app = Router::new()
            .route("/v1/chat/completions", post(chat))
            .route("/v1/embeddings", post(embeddings))
            .route("/v1/models", axum::routing::get(models))
            .route("/v1/messages", post(messages))
            .with_state(shared.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            axum::serve(listener, app).await.unwrap();
        });
        MockProvider {
            base_url: format!("http://{addr}"),
            shared,
        }
    }

    /// Every request seen so far.
    pub fn seen(&self) -> Vec<Seen> {
        self.shared.seen.lock().unwrap().clone()
    }

    /// Lets a `mock-gated` stream send the rest of its answer.
    pub fn open_gate(&self) {
        self.shared.gate.notify_one();
    }
}

fn note(shared: &Shared, path: &str, headers: &HeaderMap) {
    let text = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    shared.seen.lock().unwrap().push(Seen {
        path: path.into(),
        authorization: text("authorization"),
        api_key: text("x-api-key"),
        header_names: headers.keys().map(|k| k.as_str().to_owned()).collect(),
    });
}

fn json_answer(status: StatusCode, body: Value) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "application/json")],
        body.to_string(),
    )
        .into_response()
}

fn sse(stream: impl futures::Stream<Item = Bytes> + Send + 'static) -> Response {
    Response::builder()
        .header(header::CONTENT_TYPE, "text/event-stream")
        .header(header::CACHE_CONTROL, "no-cache")
        .body(Body::from_stream(stream.map(Ok::<_, std::io::Error>)))
        .unwrap()
}

fn data(v: &Value) -> Bytes {
    Bytes::from(format!("data: {v}\n\n"))
}

fn chunk(model: &str, delta: Value, finish: Option<&str>, with_usage_field: bool) -> Value {
    let mut c = json!({
        "id": "chatcmpl-mock", "object": "chat.completion.chunk", "created": 1_700_000_000,
        "model": model, "system_fingerprint": "fp_mock",
        "choices": [{"index": 0, "delta": delta, "logprobs": null, "finish_reason": finish}]
    });
    if with_usage_field {
        c["usage"] = Value::Null;
    }
    c
}

/// The chunks of a streamed chat answer, the usage chunk last when asked for.
fn chat_chunks(model: &str, include_usage: bool) -> Vec<Bytes> {
    let mut out = vec![
        data(&chunk(
            model,
            json!({"role": "assistant", "content": ""}),
            None,
            include_usage,
        )),
        data(&chunk(
            model,
            json!({"content": "Hello"}),
            None,
            include_usage,
        )),
        data(&chunk(
            model,
            json!({"content": " world"}),
            None,
            include_usage,
        )),
        data(&chunk(model, json!({}), Some("stop"), include_usage)),
    ];
    if include_usage {
        out.push(data(&json!({
            "id": "chatcmpl-mock", "object": "chat.completion.chunk", "created": 1_700_000_000,
            "model": model, "system_fingerprint": "fp_mock", "choices": [],
            "usage": {"prompt_tokens": 1200, "completion_tokens": 80, "total_tokens": 1280,
                      "prompt_tokens_details": {"cached_tokens": 1024, "audio_tokens": 0},
                      "completion_tokens_details": {"reasoning_tokens": 0, "audio_tokens": 0}}
        })));
    }
    out.push(Bytes::from_static(b"data: [DONE]\n\n"));
    out
}

async fn chat(
    axum::extract::State(shared): axum::extract::State<Shared>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    note(&shared, "/v1/chat/completions", &headers);
    let request: Value = serde_json::from_slice(&body).unwrap_or_default();
    let model = request["model"].as_str().unwrap_or_default().to_owned();
    let stream = request["stream"].as_bool().unwrap_or(false);
    match model.as_str() {
        "mock-429" => {
            return json_answer(
                StatusCode::TOO_MANY_REQUESTS,
                json!({"error": {"message": "Rate limit reached for requests", "type": "requests", "param": null, "code": "rate_limit_exceeded"}}),
            );
        }
        "mock-500" => {
            return json_answer(
                StatusCode::INTERNAL_SERVER_ERROR,
                json!({"error": {"message": "The server had an error while processing your request.", "type": "server_error", "param": null, "code": null}}),
            );
        }
        "mock-slow" => tokio::time::sleep(Duration::from_secs(5)).await,
        _ => {}
    }
    if stream {
        let include_usage = request["stream_options"]["include_usage"]
            .as_bool()
            .unwrap_or(false);
        let served = if model == "gpt-4o-mini" {
            "gpt-4o-mini-2024-07-18"
        } else {
            model.as_str()
        };
        let chunks = chat_chunks(served, include_usage);
        return match model.as_str() {
            "mock-gated" => {
                let gate = shared.gate.clone();
                let (first, rest) = (chunks[0].clone(), chunks[1..].concat());
                sse(
                    futures::stream::iter([first]).chain(futures::stream::once(async move {
                        gate.notified().await;
                        Bytes::from(rest)
                    })),
                )
            }
            "mock-endless" => sse(futures::stream::unfold(0u32, move |n| {
                let model = model.clone();
                async move {
                    if n >= 500 {
                        return None;
                    }
                    tokio::time::sleep(Duration::from_millis(20)).await;
                    Some((
                        data(&chunk(&model, json!({"content": "x"}), None, false)),
                        n + 1,
                    ))
                }
            })),
            _ => sse(futures::stream::iter(chunks)),
        };
    }
    json_answer(
        StatusCode::OK,
        json!({
            "id": "chatcmpl-mock", "object": "chat.completion", "created": 1_700_000_000,
            "model": "gpt-4o-2024-08-06", "system_fingerprint": "fp_mock",
            "choices": [{"index": 0, "message": {"role": "assistant", "content": "Hello world", "refusal": null},
                         "logprobs": null, "finish_reason": "stop"}],
            "usage": {"prompt_tokens": 2000, "completion_tokens": 300, "total_tokens": 2300,
                      "prompt_tokens_details": {"cached_tokens": 1536, "audio_tokens": 0},
                      "completion_tokens_details": {"reasoning_tokens": 0, "audio_tokens": 0,
                          "accepted_prediction_tokens": 0, "rejected_prediction_tokens": 0}}
        }),
    )
}

async fn embeddings(
    axum::extract::State(shared): axum::extract::State<Shared>,
    headers: HeaderMap,
) -> Response {
    note(&shared, "/v1/embeddings", &headers);
    json_answer(
        StatusCode::OK,
        json!({
            "object": "list",
            "data": [{"object": "embedding", "index": 0, "embedding": [0.0023, -0.0093, 0.0158]}],
            "model": "text-embedding-3-small",
            "usage": {"prompt_tokens": 5000, "total_tokens": 5000}
        }),
    )
}

/// `GET /v1/models`: echoes its query, so a test sees it went through.
async fn models(
    axum::extract::State(shared): axum::extract::State<Shared>,
    headers: HeaderMap,
    uri: axum::http::Uri,
) -> Response {
    note(&shared, "/v1/models", &headers);
    json_answer(
        StatusCode::OK,
        json!({"object": "list", "query": uri.query(), "data": [
            {"id": "gpt-4o", "object": "model", "created": 1_700_000_000, "owned_by": "system"}]}),
    )
}

fn event(name: &str, v: Value) -> Bytes {
    Bytes::from(format!("event: {name}\ndata: {v}\n\n"))
}

async fn messages(
    axum::extract::State(shared): axum::extract::State<Shared>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    note(&shared, "/v1/messages", &headers);
    let request: Value = serde_json::from_slice(&body).unwrap_or_default();
    if request["stream"].as_bool().unwrap_or(false) {
        let model = "claude-haiku-4-5-20251001";
        return sse(futures::stream::iter(vec![
            event(
                "message_start",
                json!({"type": "message_start", "message": {
                "id": "msg_mock_stream", "type": "message", "role": "assistant", "model": model,
                "content": [], "stop_reason": null, "stop_sequence": null,
                "usage": {"input_tokens": 25, "cache_creation_input_tokens": 0, "cache_read_input_tokens": 1024, "output_tokens": 1}}}),
            ),
            event(
                "content_block_start",
                json!({"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}}),
            ),
            event("ping", json!({"type": "ping"})),
            event(
                "content_block_delta",
                json!({"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": "Hello"}}),
            ),
            event(
                "content_block_delta",
                json!({"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": " world"}}),
            ),
            event(
                "content_block_stop",
                json!({"type": "content_block_stop", "index": 0}),
            ),
            event(
                "message_delta",
                json!({"type": "message_delta", "delta": {"stop_reason": "end_turn", "stop_sequence": null}, "usage": {"output_tokens": 15}}),
            ),
            event("message_stop", json!({"type": "message_stop"})),
        ]));
    }
    json_answer(
        StatusCode::OK,
        json!({
            "id": "msg_mock", "type": "message", "role": "assistant",
            "model": "claude-sonnet-4-5-20250929",
            "content": [{"type": "text", "text": "Hello world"}],
            "stop_reason": "end_turn", "stop_sequence": null,
            "usage": {"input_tokens": 100, "cache_creation_input_tokens": 2000,
                      "cache_read_input_tokens": 10000, "output_tokens": 500}
        }),
    )
}
