//! The per-event rules of the ingest API: what makes an event invalid (it is rejected
//! with a reason), what is only remarkable (it is stored, with a warning), and how
//! wire events become rows.

use serde::de::DeserializeOwned;
use serde_json::Value;
use sightline_tracker::wire::{
    AuthEvent, AuthEventType, FeedbackEvent, RequestEvent, RequestKind, ThreatEvent, Timestamp,
};

use sightline_app::requests::claims_account;
use sightline_app::units::Micros;

use super::horizon::Horizon;
use crate::pricing::{PriceTable, TokenCounts};
use crate::store::{Inspected, NewAuthEvent, NewFeedback, NewRequest, NewThreat};

/// The longest a request may take, or wait for its first token: a day, in ms.
pub const MAX_DURATION_MS: f64 = 86_400_000.0;
/// The most tokens of each kind (prompt, completion) one request may count.
pub const MAX_TOKENS: i64 = 1_000_000_000;
/// The most one request may cost, in USD (given, or priced from its tokens).
pub const MAX_COST_USD: f64 = 10_000.0;
/// The largest request or response body: 1 TiB.
pub const MAX_BYTES: i64 = 1 << 40;
/// Metadata larger than this (as JSON text) is dropped, with a warning.
const MAX_METADATA_BYTES: usize = 8 * 1024;
const MAX_REQUEST_ID: usize = 128;

/// Remarks on a stored event.
pub type Warnings = Vec<String>;

/// Why an event was rejected; its text is what the client reads beside the event's index.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum Rejection {
    /// Not an event of its kind; serde's message names the field at fault.
    #[error("{0}")]
    Undecodable(String),
    #[error("timestamp `{text}` is not RFC 3339 or epoch milliseconds: {reason}")]
    Timestamp { text: String, reason: String },
    #[error("timestamp is more than 1 day in the future")]
    InTheFuture,
    #[error("timestamp is before 1970")]
    Before1970,
    #[error(
        "timestamp is before {pruned}: raw rows up to then were pruned, so a replay of it \
         could not be recognised"
    )]
    Pruned { pruned: String },
    #[error("timestamp is older than the retention in force ({days} days)")]
    PastRetention { days: u32 },
    /// The start of a user id that claims a dashboard account's (`sightline:…`).
    #[error(
        "user_id `{0}` is reserved: the `sightline:` prefix names Sightline's dashboard accounts"
    )]
    ReservedUserId(String),
    #[error("{0} must not be empty")]
    Empty(&'static str),
    #[error("request_id is longer than {} characters", MAX_REQUEST_ID)]
    LongRequestId,
    #[error("status_code must be between 100 and 599 (got {0})")]
    Status(i64),
    #[error("rating must be between 1 and 5 (got {0})")]
    Rating(i64),
    #[error("{field} must not be negative (got {value})")]
    Negative { field: &'static str, value: i64 },
    #[error("{field} must be at most {} (got {value})", MAX_TOKENS)]
    TooManyTokens { field: &'static str, value: i64 },
    #[error(
        "cache_read_tokens + cache_write_tokens ({cached}) exceed prompt_tokens ({prompt}): \
         prompt_tokens counts every input token, cached ones included"
    )]
    CachedOverPrompt { cached: i64, prompt: i64 },
    #[error(
        "reasoning_tokens ({reasoning}) exceed completion_tokens ({completion}): \
         completion_tokens counts every output token, reasoning included"
    )]
    ReasoningOverCompletion { reasoning: i64, completion: i64 },
    #[error("{field} must be at most 1 TiB, {} bytes (got {value})", MAX_BYTES)]
    TooLarge { field: &'static str, value: i64 },
    #[error("{field} must be a non-negative number of milliseconds (got {value})")]
    Duration { field: &'static str, value: f64 },
    #[error("{field} must be at most a day, {} ms (got {value})", MAX_DURATION_MS)]
    TooLong { field: &'static str, value: f64 },
    #[error("cost_usd must be a non-negative amount (got {0})")]
    Cost(f64),
    #[error("cost_usd must be at most {} USD for one request (got {})", MAX_COST_USD, .0)]
    CostTooHigh(f64),
    #[error(
        "the tokens cost {usd} USD at the price of `{model}`: one request may cost at most {} USD",
        MAX_COST_USD
    )]
    PricedTooHigh { usd: f64, model: String },
}

/// Decodes a wire event from its JSON text, naming the field at fault.
pub fn decode<T: DeserializeOwned>(json: &str) -> Result<T, Rejection> {
    serde_json::from_str(json).map_err(|e| Rejection::Undecodable(super::parse::strip_position(&e)))
}

/// The instant of an event: given, or now. Errors for bad dates and instants outside
/// the horizon (before 1970 or the raw data kept, more than a day ahead).
fn instant(ts: Option<Timestamp>, horizon: &Horizon) -> Result<i64, Rejection> {
    let t = match ts {
        None => return Ok(horizon.now),
        Some(Timestamp::Millis(ms)) => ms,
        Some(Timestamp::Rfc3339(s)) => match chrono::DateTime::parse_from_rfc3339(&s) {
            Ok(t) => t.timestamp_millis(),
            Err(e) => {
                let reason = e.to_string();
                return Err(Rejection::Timestamp { text: s, reason });
            }
        },
    };
    match horizon.refusal(t) {
        Some(why) => Err(why),
        None => Ok(t),
    }
}

/// A user id, refused if it would read as a dashboard account's (`sightline:…`).
fn user_id(value: &Option<String>) -> Result<(), Rejection> {
    match value {
        Some(id) if claims_account(id) => {
            Err(Rejection::ReservedUserId(id.chars().take(64).collect()))
        }
        _ => Ok(()),
    }
}

/// `value` cut to `max` characters (on a character boundary), with a warning if cut.
fn fit(field: &str, value: String, max: usize, warnings: &mut Warnings) -> String {
    match value.char_indices().nth(max) {
        None => value,
        Some((cut, _)) => {
            warnings.push(format!("{field} truncated to {max} characters"));
            value[..cut].to_string()
        }
    }
}

fn fit_opt(field: &str, value: Option<String>, max: usize, w: &mut Warnings) -> Option<String> {
    value
        .filter(|v| !v.is_empty())
        .map(|v| fit(field, v, max, w))
}

/// A count of tokens: 0 when absent, at most [`MAX_TOKENS`].
fn token_count(field: &'static str, value: Option<i64>) -> Result<i64, Rejection> {
    match value {
        Some(value) if value < 0 => Err(Rejection::Negative { field, value }),
        Some(value) if value > MAX_TOKENS => Err(Rejection::TooManyTokens { field, value }),
        v => Ok(v.unwrap_or(0)),
    }
}

/// The token counts of a request, checked: each within bounds, the cache tokens part
/// of the prompt tokens and the reasoning tokens part of the completion tokens.
fn tokens(e: &RequestEvent) -> Result<TokenCounts, Rejection> {
    let t = TokenCounts {
        prompt: token_count("prompt_tokens", e.prompt_tokens)?,
        completion: token_count("completion_tokens", e.completion_tokens)?,
        cache_read: token_count("cache_read_tokens", e.cache_read_tokens)?,
        cache_write: token_count("cache_write_tokens", e.cache_write_tokens)?,
        reasoning: token_count("reasoning_tokens", e.reasoning_tokens)?,
    };
    if t.cache_read + t.cache_write > t.prompt {
        return Err(Rejection::CachedOverPrompt {
            cached: t.cache_read + t.cache_write,
            prompt: t.prompt,
        });
    }
    if t.reasoning > t.completion {
        return Err(Rejection::ReasoningOverCompletion {
            reasoning: t.reasoning,
            completion: t.completion,
        });
    }
    Ok(t)
}

/// A size in bytes, at most [`MAX_BYTES`].
fn bytes(field: &'static str, value: Option<i64>) -> Result<Option<i64>, Rejection> {
    match value {
        Some(value) if value < 0 => Err(Rejection::Negative { field, value }),
        Some(value) if value > MAX_BYTES => Err(Rejection::TooLarge { field, value }),
        v => Ok(v),
    }
}

/// A duration in milliseconds, at most [`MAX_DURATION_MS`].
fn duration(field: &'static str, value: f64) -> Result<f64, Rejection> {
    if !value.is_finite() || value < 0.0 {
        return Err(Rejection::Duration { field, value });
    }
    if value > MAX_DURATION_MS {
        return Err(Rejection::TooLong { field, value });
    }
    Ok(value)
}

/// A cost in USD as micro-dollars, at most [`MAX_COST_USD`].
fn cost_micros(usd: f64) -> Result<Micros, Rejection> {
    if !usd.is_finite() || usd < 0.0 {
        return Err(Rejection::Cost(usd));
    }
    if usd > MAX_COST_USD {
        return Err(Rejection::CostTooHigh(usd));
    }
    Ok(Micros((usd * 1_000_000.0).round() as i64))
}

/// An IP address, or `None` with a warning when it is not one.
fn ip(value: Option<String>, w: &mut Warnings) -> Option<String> {
    let v = value.filter(|v| !v.is_empty())?;
    match v.trim().parse::<std::net::IpAddr>() {
        Ok(addr) => Some(addr.to_string()),
        Err(_) => {
            w.push("ip is not an IP address: dropped".into());
            None
        }
    }
}

/// An ISO 3166-1 alpha-2 code in capitals, or `None` with a warning.
fn country(value: Option<String>, w: &mut Warnings) -> Option<String> {
    let v = value.filter(|v| !v.is_empty())?;
    if v.len() == 2 && v.bytes().all(|b| b.is_ascii_alphabetic()) {
        Some(v.to_ascii_uppercase())
    } else {
        w.push(format!(
            "country `{}` is not an ISO 3166-1 alpha-2 code: dropped",
            v.chars().take(16).collect::<String>()
        ));
        None
    }
}

fn metadata(value: Option<Value>, w: &mut Warnings) -> Option<String> {
    let text = value.filter(|v| !v.is_null())?.to_string();
    if text.len() > MAX_METADATA_BYTES {
        w.push(format!(
            "metadata larger than {} KiB: dropped",
            MAX_METADATA_BYTES / 1024
        ));
        return None;
    }
    Some(text)
}

/// A request event as a row. `new_id` makes an id when the client sent none.
/// Most characters of a path, query or prompt that detection reads.
const INSPECTED_CHARS: usize = 8 * 1024;

/// Takes the parts of `e` that are inspected for attacks and never stored.
pub fn inspected(e: &mut RequestEvent) -> Inspected {
    let take = |v: Option<String>| fit_opt("", v, INSPECTED_CHARS, &mut Warnings::new());
    Inspected {
        path: take(e.path.take()),
        query: take(e.query.take()),
        referer: take(e.referer.take()),
        forwarded_for: take(e.forwarded_for.take()),
        prompt: take(e.prompt.take()),
    }
}

pub fn request(
    e: RequestEvent,
    horizon: &Horizon,
    prices: &PriceTable,
    new_id: impl FnOnce(i64) -> String,
) -> Result<(NewRequest, Warnings), Rejection> {
    let mut w = Warnings::new();
    if !(100..=599).contains(&e.status_code) {
        return Err(Rejection::Status(e.status_code));
    }
    if e.endpoint.trim().is_empty() {
        return Err(Rejection::Empty("endpoint"));
    }
    if e.method.trim().is_empty() {
        return Err(Rejection::Empty("method"));
    }
    user_id(&e.user_id)?;
    let latency_ms = duration("latency_ms", e.latency_ms)?;
    let ttft_ms = e.ttft_ms.map(|v| duration("ttft_ms", v)).transpose()?;
    let tokens = tokens(&e)?;
    let request_bytes = bytes("request_bytes", e.request_bytes)?;
    let response_bytes = bytes("response_bytes", e.response_bytes)?;
    let created_at = instant(e.timestamp, horizon)?;
    let request_id = match e.request_id.filter(|id| !id.is_empty()) {
        Some(id) if id.chars().count() > MAX_REQUEST_ID => return Err(Rejection::LongRequestId),
        Some(id) => id,
        None => new_id(created_at),
    };
    let model_name = fit_opt("model", e.model, 128, &mut w);
    let cost_micros = match e.cost_usd {
        Some(usd) => cost_micros(usd)?,
        None => match &model_name {
            Some(m) => match prices.cost_micros(m, &tokens) {
                Some(cost) if cost.usd() > MAX_COST_USD => {
                    return Err(Rejection::PricedTooHigh {
                        usd: cost.usd(),
                        model: m.clone(),
                    });
                }
                Some(cost) => cost,
                None => {
                    w.push(format!("no price for model `{m}`: cost recorded as 0"));
                    Micros::ZERO
                }
            },
            None => Micros::ZERO,
        },
    };
    let user_id = fit_opt("user_id", e.user_id, 255, &mut w);
    let row = NewRequest {
        request_id,
        created_at,
        kind: e.kind.unwrap_or(RequestKind::Api),
        service: fit_opt("service", e.service, 128, &mut w),
        endpoint: fit("endpoint", e.endpoint, 255, &mut w),
        method: fit("method", e.method.trim().to_ascii_uppercase(), 16, &mut w),
        status_code: e.status_code as i32,
        latency_ms,
        ttft_ms,
        model_name,
        prompt_tokens: tokens.prompt,
        completion_tokens: tokens.completion,
        cache_read_tokens: tokens.cache_read,
        cache_write_tokens: tokens.cache_write,
        reasoning_tokens: tokens.reasoning,
        cost_micros,
        finish_reason: fit_opt("finish_reason", e.finish_reason, 64, &mut w),
        is_authenticated: e.is_authenticated.unwrap_or(user_id.is_some()),
        user_id,
        session_id: fit_opt("session_id", e.session_id, 255, &mut w),
        ip: ip(e.ip, &mut w),
        country: country(e.country, &mut w),
        user_agent: fit_opt("user_agent", e.user_agent, 512, &mut w),
        request_bytes,
        response_bytes,
        error: fit_opt("error", e.error, 2000, &mut w),
        metadata: metadata(e.metadata, &mut w),
    };
    Ok((row, w))
}

pub fn feedback(e: FeedbackEvent, horizon: &Horizon) -> Result<(NewFeedback, Warnings), Rejection> {
    let mut w = Warnings::new();
    if !(1..=5).contains(&e.rating) {
        return Err(Rejection::Rating(e.rating));
    }
    user_id(&e.user_id)?;
    if e.request_id.is_empty() {
        return Err(Rejection::Empty("request_id"));
    }
    if e.request_id.chars().count() > MAX_REQUEST_ID {
        return Err(Rejection::LongRequestId);
    }
    let row = NewFeedback {
        request_id: e.request_id,
        user_id: fit_opt("user_id", e.user_id, 255, &mut w).unwrap_or_default(),
        rating: e.rating as i32,
        comment: fit_opt("comment", e.comment, 4000, &mut w),
        created_at: instant(e.timestamp, horizon)?,
    };
    Ok((row, w))
}

pub fn auth_event(e: AuthEvent, horizon: &Horizon) -> Result<(NewAuthEvent, Warnings), Rejection> {
    let mut w = Warnings::new();
    user_id(&e.user_id)?;
    let row = NewAuthEvent {
        created_at: instant(e.timestamp, horizon)?,
        event_type: e.event_type,
        user_id: fit_opt("user_id", e.user_id, 255, &mut w),
        ip: ip(e.ip, &mut w),
        user_agent: fit_opt("user_agent", e.user_agent, 512, &mut w),
        success: e
            .success
            .unwrap_or(e.event_type != AuthEventType::LoginFailed),
        error: fit_opt("error", e.error, 2000, &mut w),
        metadata: metadata(e.metadata, &mut w),
    };
    Ok((row, w))
}

pub fn threat(e: ThreatEvent, horizon: &Horizon) -> Result<(NewThreat, Warnings), Rejection> {
    let mut w = Warnings::new();
    user_id(&e.user_id)?;
    let row = NewThreat {
        created_at: instant(e.timestamp, horizon)?,
        threat_type: e.threat_type,
        severity: e.severity,
        ip: ip(e.ip, &mut w),
        user_id: fit_opt("user_id", e.user_id, 255, &mut w),
        country: country(e.country, &mut w),
        endpoint: fit_opt("endpoint", e.endpoint, 255, &mut w),
        request_id: fit_opt("request_id", e.request_id, MAX_REQUEST_ID, &mut w),
        description: fit_opt("description", e.description, 2000, &mut w).unwrap_or_default(),
    };
    Ok((row, w))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const NOW: i64 = 1_795_372_396_000;
    const HORIZON: Horizon = Horizon {
        now: NOW,
        retention_days: Some(90),
        pruned_before: None,
    };

    /// The row and warnings of request event `v`, or the text of its rejection.
    fn req(v: Value) -> Result<(NewRequest, Warnings), String> {
        let e: RequestEvent = decode(&v.to_string()).map_err(|e| e.to_string())?;
        request(e, &HORIZON, &PriceTable::defaults(), |_| "generated".into())
            .map_err(|e| e.to_string())
    }

    fn minimal() -> Value {
        json!({"endpoint": "/v1/chat", "method": "post", "status_code": 200, "latency_ms": 12.5})
    }

    #[test]
    fn a_minimal_request_gets_defaults() {
        let (r, w) = req(minimal()).unwrap();
        assert!(w.is_empty());
        assert_eq!(r.request_id, "generated");
        assert_eq!(r.created_at, NOW);
        assert_eq!(r.method, "POST");
        assert_eq!(
            (r.prompt_tokens, r.completion_tokens, r.cost_micros),
            (0, 0, Micros::ZERO)
        );
        assert!(!r.is_authenticated);
        assert_eq!(r.kind, RequestKind::Api);
    }

    #[test]
    fn each_rule_rejects_with_a_reason() {
        let with = |k: &str, v: Value| {
            let mut m = minimal();
            m[k] = v;
            req(m).unwrap_err()
        };
        assert_eq!(
            with("status_code", json!(600)),
            "status_code must be between 100 and 599 (got 600)"
        );
        assert_eq!(
            with("status_code", json!(99)),
            "status_code must be between 100 and 599 (got 99)"
        );
        assert_eq!(
            with("latency_ms", json!(-1.0)),
            "latency_ms must be a non-negative number of milliseconds (got -1)"
        );
        assert_eq!(
            with("prompt_tokens", json!(-5)),
            "prompt_tokens must not be negative (got -5)"
        );
        assert_eq!(
            with("cache_read_tokens", json!(1_000_000_001i64)),
            "cache_read_tokens must be at most 1000000000 (got 1000000001)"
        );
        assert_eq!(
            with("reasoning_tokens", json!(-1)),
            "reasoning_tokens must not be negative (got -1)"
        );
        assert_eq!(
            with("cost_usd", json!(-0.5)),
            "cost_usd must be a non-negative amount (got -0.5)"
        );
        assert_eq!(
            with("kind", json!("internal")),
            "unknown variant `internal`, expected `api` or `external`"
        );
        assert_eq!(
            with("timestamp", json!(NOW + 86_400_001)),
            "timestamp is more than 1 day in the future"
        );
        assert!(
            with("timestamp", json!("yesterday"))
                .starts_with("timestamp `yesterday` is not RFC 3339")
        );
        assert_eq!(
            with("status_code", json!("200")),
            "invalid type: string \"200\", expected i64"
        );
        let mut m = minimal();
        m.as_object_mut().unwrap().remove("latency_ms");
        assert_eq!(req(m).unwrap_err(), "missing field `latency_ms`");
        assert_eq!(
            with("timestamp", json!(NOW - 91 * 86_400_000)),
            "timestamp is older than the retention in force (90 days)"
        );
        assert_eq!(
            with("user_id", json!("sightline:ada")),
            "user_id `sightline:ada` is reserved: the `sightline:` prefix names Sightline's \
             dashboard accounts"
        );
    }

    #[test]
    fn every_number_has_a_bound() {
        let with = |k: &str, v: Value| {
            let mut m = minimal();
            m[k] = v;
            req(m)
        };
        assert_eq!(
            with("latency_ms", json!(86_400_000.5)).unwrap_err(),
            "latency_ms must be at most a day, 86400000 ms (got 86400000.5)"
        );
        assert!(with("latency_ms", json!(86_400_000)).is_ok());
        assert!(with("ttft_ms", json!(86_400_000)).is_ok());
        assert_eq!(
            with("ttft_ms", json!(1e300)).unwrap_err(),
            format!("ttft_ms must be at most a day, 86400000 ms (got {})", 1e300)
        );
        assert!(with("prompt_tokens", json!(MAX_TOKENS)).is_ok());
        assert_eq!(
            with("completion_tokens", json!(MAX_TOKENS + 1)).unwrap_err(),
            "completion_tokens must be at most 1000000000 (got 1000000001)"
        );
        assert!(with("request_bytes", json!(MAX_BYTES)).is_ok());
        assert_eq!(
            with("response_bytes", json!(-1)).unwrap_err(),
            "response_bytes must not be negative (got -1)"
        );
        assert_eq!(
            with("cost_usd", json!(10_000)).unwrap().0.cost_micros,
            Micros(10_000_000_000)
        );
        assert_eq!(
            with("cost_usd", json!(1e9)).unwrap_err(),
            "cost_usd must be at most 10000 USD for one request (got 1000000000)"
        );
        // A priced cost is bounded as well: a billion tokens of gpt-4o cost 12 500 USD.
        let mut m = minimal();
        m["model"] = json!("gpt-4o");
        m["prompt_tokens"] = json!(MAX_TOKENS);
        m["completion_tokens"] = json!(MAX_TOKENS);
        assert_eq!(
            req(m).unwrap_err(),
            "the tokens cost 12500 USD at the price of `gpt-4o`: one request may cost at most \
             10000 USD"
        );
    }

    #[test]
    fn cache_and_reasoning_tokens_are_parts_of_their_whole_and_priced_apart() {
        let mut m = minimal();
        m["model"] = json!("claude-sonnet-4-5");
        m["prompt_tokens"] = json!(12_100);
        m["completion_tokens"] = json!(500);
        m["cache_read_tokens"] = json!(10_000);
        m["cache_write_tokens"] = json!(2_000);
        let (r, w) = req(m.clone()).unwrap();
        assert!(w.is_empty(), "{w:?}");
        assert_eq!(
            (
                r.prompt_tokens,
                r.cache_read_tokens,
                r.cache_write_tokens,
                r.reasoning_tokens,
                r.cost_micros
            ),
            (12_100, 10_000, 2_000, 0, Micros(18_300))
        );
        // Anthropic's `input_tokens` alone (100) as prompt_tokens: the cache tokens
        // cannot be part of it, and the event says so instead of being mispriced.
        m["prompt_tokens"] = json!(100);
        assert_eq!(
            req(m).unwrap_err(),
            "cache_read_tokens + cache_write_tokens (12000) exceed prompt_tokens (100): \
             prompt_tokens counts every input token, cached ones included"
        );
        let mut m = minimal();
        m["completion_tokens"] = json!(10);
        m["reasoning_tokens"] = json!(11);
        assert_eq!(
            req(m).unwrap_err(),
            "reasoning_tokens (11) exceed completion_tokens (10): completion_tokens counts \
             every output token, reasoning included"
        );
        let mut m = minimal();
        m["prompt_tokens"] = json!(1_000_000_001i64);
        assert_eq!(
            req(m).unwrap_err(),
            "prompt_tokens must be at most 1000000000 (got 1000000001)"
        );
    }

    #[test]
    fn rfc3339_and_millis_timestamps_agree() {
        let mut a = minimal();
        a["timestamp"] = json!("2026-11-22T18:33:16.120Z");
        let mut b = minimal();
        b["timestamp"] = json!(1_795_372_396_120i64);
        assert_eq!(req(a).unwrap().0.created_at, req(b).unwrap().0.created_at);
    }

    #[test]
    fn cost_is_given_or_priced_and_unknown_models_are_flagged() {
        let mut m = minimal();
        m["cost_usd"] = json!(0.0123456);
        assert_eq!(req(m).unwrap().0.cost_micros, Micros(12_346));
        let mut m = minimal();
        m["model"] = json!("gpt-4o");
        m["prompt_tokens"] = json!(1000);
        m["completion_tokens"] = json!(500);
        assert_eq!(req(m).unwrap().0.cost_micros, Micros(7_500));
        let mut m = minimal();
        m["model"] = json!("my-finetune");
        m["prompt_tokens"] = json!(1000);
        let (r, w) = req(m).unwrap();
        assert_eq!(r.cost_micros, Micros::ZERO);
        assert_eq!(
            w,
            vec!["no price for model `my-finetune`: cost recorded as 0"]
        );
    }

    #[test]
    fn long_strings_are_truncated_and_odd_fields_dropped() {
        let mut m = minimal();
        m["user_agent"] = json!("é".repeat(600));
        m["endpoint"] = json!(format!("/{}", "a".repeat(300)));
        m["country"] = json!("Germany");
        m["ip"] = json!("not-an-ip");
        let (r, w) = req(m).unwrap();
        assert_eq!(r.user_agent.unwrap().chars().count(), 512);
        assert_eq!(r.endpoint.len(), 255);
        assert_eq!(r.country, None);
        assert_eq!(r.ip, None);
        assert_eq!(w.len(), 4, "{w:?}");
        let mut m = minimal();
        m["country"] = json!("de");
        m["ip"] = json!(" 2001:db8::1 ");
        let (r, _) = req(m).unwrap();
        assert_eq!(
            (r.country.as_deref(), r.ip.as_deref()),
            (Some("DE"), Some("2001:db8::1"))
        );
    }

    #[test]
    fn ratings_must_be_one_to_five() {
        let f = |rating: i64| {
            feedback(
                FeedbackEvent {
                    request_id: "r".into(),
                    rating,
                    ..Default::default()
                },
                &HORIZON,
            )
            .map_err(|e| e.to_string())
        };
        assert_eq!(f(0).unwrap_err(), "rating must be between 1 and 5 (got 0)");
        assert_eq!(f(6).unwrap_err(), "rating must be between 1 and 5 (got 6)");
        assert_eq!(f(5).unwrap().0.user_id, "");
    }
}
