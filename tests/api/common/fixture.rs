//! Request rows with known values, for tests that assert exact aggregates.

use sightline::store::NewRequest;
use sightline_app::units::Micros;

/// A successful chat request at `created_at`; tests change the fields they care about.
pub fn request(request_id: &str, created_at: i64, status_code: i32) -> NewRequest {
    NewRequest {
        endpoint: "/v1/chat/completions".into(),
        method: "POST".into(),
        status_code,
        latency_ms: 120.0,
        model_name: Some("gpt-4o-mini".into()),
        prompt_tokens: 100,
        completion_tokens: 50,
        cost_micros: Micros(45),
        finish_reason: Some("stop".into()),
        user_id: Some("user-1".into()),
        is_authenticated: true,
        ip: Some("203.0.113.7".into()),
        country: Some("DE".into()),
        user_agent: Some("test-client/1.0".into()),
        request_bytes: Some(512),
        response_bytes: Some(2048),
        ..NewRequest::new(request_id, created_at)
    }
}

/// The current time in epoch milliseconds.
pub fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}
