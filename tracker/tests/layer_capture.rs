//! What the layer records for an axum app: route template, status, sizes, user,
//! usage, client IP, and which requests it skips.

use std::net::SocketAddr;

use axum::extract::ConnectInfo;
use axum::http::{HeaderMap, Request, StatusCode};
use axum::routing::{get, post};
use axum::{Extension, Router, body::Body};
use http_body_util::BodyExt;
use sightline_tracker::wire::{RequestEvent, RequestKind};
use sightline_tracker::{
    FlushStrategy, TrackedRequestId, TrackedUsage, TrackedUser, Tracker, TrackerConfig,
};
use tokio::sync::mpsc::UnboundedReceiver;
use tower::ServiceExt;

fn app(tracker: &Tracker) -> Router {
    Router::new()
        .route("/v1/items/{id}", get(|| async { "item" }))
        .route(
            "/v1/chat/completions",
            post(|headers: HeaderMap| async move {
                let user = headers
                    .get("x-user-id")
                    .and_then(|v| v.to_str().ok())
                    .map(|id| TrackedUser::user(id).with_session("s1"));
                let mut usage = TrackedUsage::new("gpt-4o-mini", 120, 30);
                usage.finish_reason = Some("stop".into());
                (Extension(usage), user.map(Extension), "{\"choices\":[]}")
            }),
        )
        .route("/fail", get(|| async { StatusCode::INTERNAL_SERVER_ERROR }))
        .route("/health", get(|| async { "ok" }))
        .route("/healthz", get(|| async { "ok" }))
        .route("/healthcare", get(|| async { "ok" }))
        .route("/static/{*file}", get(|| async { "css" }))
        .layer(tracker.layer())
}

fn tracker(
    configure: impl FnOnce(TrackerConfig) -> TrackerConfig,
) -> (
    Tracker,
    UnboundedReceiver<sightline_tracker::wire::IngestBatch>,
) {
    let (config, rx) = TrackerConfig::channel();
    let tracker = configure(config.flush_strategy(FlushStrategy::time()))
        .build()
        .unwrap();
    (tracker, rx)
}

/// Sends a request through the app and reads the whole body, as a server would.
async fn call(app: &Router, request: Request<Body>) -> StatusCode {
    let response = app.clone().oneshot(request).await.unwrap();
    let status = response.status();
    response.into_body().collect().await.unwrap();
    status
}

fn get_req(path: &str) -> Request<Body> {
    Request::get(path).body(Body::empty()).unwrap()
}

async fn recorded(
    tracker: &Tracker,
    rx: &mut UnboundedReceiver<sightline_tracker::wire::IngestBatch>,
) -> Vec<RequestEvent> {
    tracker.flush().await;
    let mut events = Vec::new();
    while let Ok(batch) = rx.try_recv() {
        events.extend(batch.requests);
    }
    events
}

#[tokio::test]
async fn records_route_status_sizes_user_and_usage() {
    let (tracker, mut rx) = tracker(|c| c);
    let app = app(&tracker);
    let chat = Request::post("/v1/chat/completions")
        .header("x-user-id", "u42")
        .header("user-agent", "curl/8.5")
        .header("content-length", "11")
        .body(Body::from("{\"model\":1}"))
        .unwrap();
    assert_eq!(call(&app, chat).await, StatusCode::OK);
    assert_eq!(
        call(&app, get_req("/v1/items/7?expand=owner&q=1%27")).await,
        StatusCode::OK
    );
    let events = recorded(&tracker, &mut rx).await;
    assert_eq!(events.len(), 2);
    let chat = &events[0];
    assert_eq!(chat.endpoint, "/v1/chat/completions");
    assert_eq!(chat.method, "POST");
    assert_eq!(chat.status_code, 200);
    assert_eq!(chat.kind, Some(RequestKind::Api));
    assert!(chat.latency_ms >= 0.0);
    assert_eq!(chat.model.as_deref(), Some("gpt-4o-mini"));
    assert_eq!(
        (chat.prompt_tokens, chat.completion_tokens),
        (Some(120), Some(30))
    );
    assert_eq!(chat.finish_reason.as_deref(), Some("stop"));
    assert_eq!(chat.user_id.as_deref(), Some("u42"));
    assert_eq!(chat.session_id.as_deref(), Some("s1"));
    assert_eq!(chat.is_authenticated, Some(true));
    assert_eq!(chat.user_agent.as_deref(), Some("curl/8.5"));
    assert_eq!(chat.request_bytes, Some(11));
    assert_eq!(chat.response_bytes, Some("{\"choices\":[]}".len() as i64));
    assert!(uuid::Uuid::parse_str(chat.request_id.as_deref().unwrap()).is_ok());
    let item = &events[1];
    assert_eq!(
        item.endpoint, "/v1/items/{id}",
        "the route template, not the path"
    );
    // The raw path and query go along for attack detection (the server never stores them).
    assert_eq!(item.path.as_deref(), Some("/v1/items/7"));
    assert_eq!(item.query.as_deref(), Some("expand=owner&q=1%27"));
    assert_eq!((chat.path.as_deref(), chat.query.as_deref()), (None, None));
    assert_eq!(item.user_id, None);
    assert_eq!(item.is_authenticated, Some(false));
    assert_eq!(item.response_bytes, Some(4));
}

/// The request id the layer gave the handler, or "" when it gave none.
async fn echo_request_id(id: Option<Extension<TrackedRequestId>>) -> String {
    id.map(|Extension(id)| id.to_string()).unwrap_or_default()
}

#[tokio::test]
async fn the_app_sees_the_request_id_that_is_recorded() {
    let (tracker, mut rx) = tracker(|c| c);
    let app = Router::new()
        .route("/v1/id", get(echo_request_id))
        .route("/health/id", get(echo_request_id))
        .layer(tracker.layer());
    let body = |path: &'static str| {
        let app = app.clone();
        async move {
            let response = app.oneshot(get_req(path)).await.unwrap();
            let bytes = response.into_body().collect().await.unwrap().to_bytes();
            String::from_utf8(bytes.to_vec()).unwrap()
        }
    };
    let seen = [body("/v1/id").await, body("/v1/id").await];
    assert_eq!(body("/health/id").await, "", "skipped paths get no id");
    let recorded: Vec<String> = recorded(&tracker, &mut rx)
        .await
        .into_iter()
        .filter_map(|e| e.request_id)
        .collect();
    assert_eq!(recorded, seen);
    assert_ne!(seen[0], seen[1]);
}

#[tokio::test]
async fn sampling_zero_keeps_every_error_and_no_success() {
    let (tracker, mut rx) = tracker(|c| c.sample_rate(0.0));
    let app = app(&tracker);
    for _ in 0..20 {
        call(&app, get_req("/v1/items/1")).await;
        call(&app, get_req("/fail")).await;
        call(&app, get_req("/no/such/route")).await;
    }
    let events = recorded(&tracker, &mut rx).await;
    assert_eq!(events.len(), 40);
    assert_eq!(events.iter().filter(|e| e.status_code == 500).count(), 20);
    assert_eq!(events.iter().filter(|e| e.status_code == 404).count(), 20);
}

#[tokio::test]
async fn skip_list_prefixes_are_not_recorded() {
    let (tracker, mut rx) = tracker(|c| c);
    let app = app(&tracker);
    for path in [
        "/health",
        "/healthz",
        "/static/app.css",
        "/healthcare",
        "/v1/items/3",
    ] {
        assert_eq!(call(&app, get_req(path)).await, StatusCode::OK);
    }
    let endpoints: Vec<String> = recorded(&tracker, &mut rx)
        .await
        .into_iter()
        .map(|e| e.endpoint)
        .collect();
    assert_eq!(endpoints, ["/healthcare", "/v1/items/{id}"]);

    let (tracker, mut rx) = self::tracker(|c| c.skip_paths(["/v1/items"]));
    let app = self::app(&tracker);
    call(&app, get_req("/health")).await;
    call(&app, get_req("/v1/items/3")).await;
    let endpoints: Vec<String> = recorded(&tracker, &mut rx)
        .await
        .into_iter()
        .map(|e| e.endpoint)
        .collect();
    assert_eq!(endpoints, ["/health"]);
}

#[tokio::test]
async fn authenticated_only_records_requests_with_a_user_id() {
    let (tracker, mut rx) = tracker(|c| c.authenticated_only(true));
    let app = app(&tracker);
    let chat = |user: Option<&str>| {
        let mut b = Request::post("/v1/chat/completions");
        if let Some(u) = user {
            b = b.header("x-user-id", u);
        }
        b.body(Body::empty()).unwrap()
    };
    call(&app, chat(Some("from-response"))).await;
    call(&app, chat(None)).await;
    // Set as a request extension by a middleware in front of the layer.
    let mut item = get_req("/v1/items/9");
    item.extensions_mut()
        .insert(TrackedUser::user("from-request"));
    call(&app, item).await;
    let mut anonymous = get_req("/v1/items/9");
    anonymous.extensions_mut().insert(TrackedUser::default());
    call(&app, anonymous).await;
    let users: Vec<Option<String>> = recorded(&tracker, &mut rx)
        .await
        .into_iter()
        .map(|e| e.user_id)
        .collect();
    assert_eq!(
        users,
        [
            Some("from-response".to_owned()),
            Some("from-request".to_owned())
        ]
    );
}

#[tokio::test]
async fn forwarded_for_is_honoured_only_from_trusted_proxies() {
    let (tracker, mut rx) = tracker(|c| c.trusted_proxies(["10.0.0.0/8"]));
    let app = app(&tracker);
    let from = |peer: &str, xff: Option<&str>| {
        let mut b = Request::get("/v1/items/1");
        if let Some(xff) = xff {
            b = b.header("x-forwarded-for", xff);
        }
        let mut r = b.body(Body::empty()).unwrap();
        r.extensions_mut()
            .insert(ConnectInfo(peer.parse::<SocketAddr>().unwrap()));
        r
    };
    call(&app, from("10.1.2.3:5000", Some("203.0.113.9, 10.0.0.7"))).await;
    call(&app, from("198.51.100.4:5000", Some("203.0.113.9"))).await;
    call(&app, from("10.1.2.3:5000", None)).await;
    call(&app, get_req("/v1/items/1")).await;
    call(
        &app,
        from("10.1.2.3:5000", Some("1' or '1'='1, 203.0.113.9")),
    )
    .await;
    let mut with_referer = get_req("/v1/items/1");
    with_referer.headers_mut().insert(
        "referer",
        "https://app.example/?q=%3Cscript%3E".parse().unwrap(),
    );
    call(&app, with_referer).await;
    let events = recorded(&tracker, &mut rx).await;
    let ips: Vec<Option<&str>> = events.iter().map(|e| e.ip.as_deref()).collect();
    assert_eq!(
        ips,
        [
            Some("203.0.113.9"),
            Some("198.51.100.4"),
            Some("10.1.2.3"),
            None,
            Some("203.0.113.9"),
            None
        ]
    );
    // For inspection only (never stored): the hops the client wrote, and the Referer.
    let inspected: Vec<(Option<&str>, Option<&str>)> = events
        .iter()
        .map(|e| (e.forwarded_for.as_deref(), e.referer.as_deref()))
        .collect();
    assert_eq!(
        inspected,
        [
            (None, None),
            (Some("203.0.113.9"), None),
            (None, None),
            (None, None),
            (Some("1' or '1'='1"), None),
            (None, Some("https://app.example/?q=%3Cscript%3E"))
        ]
    );
}
