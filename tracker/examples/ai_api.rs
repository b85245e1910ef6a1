//! A small "AI API" tracked by Sightline.
//!
//! ```sh
//! SIGHTLINE_URL=http://127.0.0.1:3000 SIGHTLINE_API_KEY=sl_... \
//!     cargo run -p sightline-tracker --example ai_api
//! curl -X POST localhost:8080/v1/chat/completions -H 'x-user-id: alice' \
//!     -d '{"model":"gpt-4o-mini","messages":[{"role":"user","content":"Hi"}]}'
//! ```
//!
//! `PORT` sets the port (default 8080). Stop it with Ctrl-C: the tracker sends what is
//! still queued before the process exits.
//!
//! [`app`] is the tracked router on its own; Sightline's end-to-end test
//! (`tests/tracker_e2e.rs`) serves it against a real Sightline.

use std::net::SocketAddr;

use axum::extract::{Path, Request};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::middleware::{self, Next};
use axum::response::Response;
use axum::routing::{get, post};
use axum::{Extension, Json, Router};
use serde_json::{Value, json};
use sightline_tracker::wire::AuthEventType;
use sightline_tracker::{TrackedRequestId, TrackedUsage, TrackedUser, Tracker};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let url = std::env::var("SIGHTLINE_URL").unwrap_or_else(|_| "http://127.0.0.1:3000".into());
    let key =
        std::env::var("SIGHTLINE_API_KEY").map_err(|_| "set SIGHTLINE_API_KEY to an ingest key")?;
    let port: u16 = std::env::var("PORT")
        .ok()
        .and_then(|p| p.parse().ok())
        .unwrap_or(8080);

    // 1. Start the tracker.
    let tracker = Tracker::builder(url, key).build()?;

    // 2. Record every request.
    let app = app(&tracker);

    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await?;
    println!("AI API on http://{}", listener.local_addr()?);
    axum::serve(
        listener,
        app.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(async {
        let _ = tokio::signal::ctrl_c().await;
    })
    .await?;

    // 3. Send what is still queued.
    tracker.shutdown().await;
    Ok(())
}

/// The API, recording its requests with `tracker`.
pub fn app(tracker: &Tracker) -> Router {
    Router::new()
        .route("/v1/chat/completions", post(chat_completions))
        .route("/v1/models/{model}", get(model))
        .route("/v1/login", post(login))
        .route("/health", get(|| async { "ok" }))
        .layer(middleware::from_fn(request_id_header))
        // Router::layer, so the tracker sees the route template (`/v1/models/{model}`).
        .layer(tracker.layer())
        .layer(Extension(tracker.clone()))
}

/// Tells the client the id Sightline records its request under, as OpenAI's
/// `x-request-id` does, so feedback on an answer can quote it.
async fn request_id_header(request: Request, next: Next) -> Response {
    let id = request.extensions().get::<TrackedRequestId>().cloned();
    let mut response = next.run(request).await;
    if let Some(value) = id.and_then(|id| HeaderValue::from_str(id.as_str()).ok()) {
        response.headers_mut().insert("x-request-id", value);
    }
    response
}

/// One model's card, for a route with a parameter.
async fn model(Path(model): Path<String>) -> Json<Value> {
    Json(json!({"id": model, "object": "model", "owned_by": "sightline-example"}))
}

/// The caller, from the `x-user-id` header a real platform would get from its auth.
fn caller(headers: &HeaderMap) -> Option<TrackedUser> {
    let id = headers.get("x-user-id")?.to_str().ok()?;
    Some(TrackedUser::user(id))
}

/// A fake completion: echoes the last message and reports made-up token counts.
async fn chat_completions(
    headers: HeaderMap,
    Json(body): Json<Value>,
) -> Result<
    (
        Option<Extension<TrackedUser>>,
        Extension<TrackedUsage>,
        Json<Value>,
    ),
    StatusCode,
> {
    let model = body["model"].as_str().unwrap_or("gpt-4o-mini").to_owned();
    let prompt = body["messages"]
        .as_array()
        .and_then(|m| m.last())
        .and_then(|m| m["content"].as_str())
        .ok_or(StatusCode::UNPROCESSABLE_ENTITY)?
        .to_owned();
    let answer = format!("You said: {prompt}");
    let prompt_tokens = prompt.split_whitespace().count() as i64 + 8;
    let completion_tokens = answer.split_whitespace().count() as i64;
    let mut usage = TrackedUsage::new(model.clone(), prompt_tokens, completion_tokens);
    usage.finish_reason = Some("stop".into());
    let reply = json!({
        "model": model,
        "choices": [{"index": 0, "message": {"role": "assistant", "content": answer}, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": prompt_tokens, "completion_tokens": completion_tokens},
    });
    Ok((
        caller(&headers).map(Extension),
        Extension(usage),
        Json(reply),
    ))
}

/// A fake login that records an auth event: any user id logs in, none fails.
async fn login(Extension(tracker): Extension<Tracker>, headers: HeaderMap) -> StatusCode {
    match caller(&headers).and_then(|u| u.user_id) {
        Some(user) => {
            tracker.record_auth_event(AuthEventType::Login, Some(&user));
            StatusCode::NO_CONTENT
        }
        None => {
            tracker.record_auth_event(AuthEventType::LoginFailed, None);
            StatusCode::UNAUTHORIZED
        }
    }
}
