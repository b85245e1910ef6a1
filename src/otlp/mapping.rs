//! One OTLP span as a Sightline request event: a SERVER span is a request the platform
//! served (`kind` api), a GenAI span a call it made to a provider (`kind` external),
//! any other span only a link of its trace. Each field is read from the first attribute
//! of its list that is set: the current semantic conventions first, then legacy names
//! (the README's table lists them). Validation and pricing are the native ingest's.

use opentelemetry_proto::tonic::common::v1::KeyValue;
use opentelemetry_proto::tonic::trace::v1::{Span, span, status};
use serde_json::json;
use sightline_tracker::wire::{RequestEvent, RequestKind, Timestamp};

use super::attributes::Attributes;

pub const ROUTE: &[&str] = &["http.route"];
pub const PATH: &[&str] = &["url.path", "http.target"];
pub const QUERY: &[&str] = &["url.query"];
pub const METHOD: &[&str] = &["http.request.method", "http.method"];
pub const STATUS: &[&str] = &["http.response.status_code", "http.status_code"];
pub const CLIENT_IP: &[&str] = &["client.address", "http.client_ip", "net.peer.ip"];
pub const USER_AGENT: &[&str] = &["user_agent.original", "http.user_agent"];
pub const REQUEST_BYTES: &[&str] = &["http.request.body.size", "http.request_content_length"];
pub const RESPONSE_BYTES: &[&str] = &["http.response.body.size", "http.response_content_length"];
pub const USER: &[&str] = &["user.id", "enduser.id"];
pub const SESSION: &[&str] = &["session.id", "gen_ai.conversation.id"];
pub const COUNTRY: &[&str] = &["geo.country.iso_code", "client.geo.country.iso_code"];
/// Any of these makes a span a GenAI span.
pub const GENAI_MARKERS: &[&str] = &[
    "gen_ai.operation.name",
    "gen_ai.provider.name",
    "gen_ai.system",
    "llm.model_name",
    "llm.provider",
    "llm.system",
];
pub const PROVIDER: &[&str] = &[
    "gen_ai.provider.name",
    "gen_ai.system",
    "llm.provider",
    "llm.system",
];
pub const OPERATION: &[&str] = &["gen_ai.operation.name"];
pub const MODEL: &[&str] = &[
    "gen_ai.response.model",
    "gen_ai.request.model",
    "llm.model_name",
];
pub const INPUT_TOKENS: &[&str] = &[
    "gen_ai.usage.input_tokens",
    "gen_ai.usage.prompt_tokens",
    "llm.token_count.prompt",
];
pub const OUTPUT_TOKENS: &[&str] = &[
    "gen_ai.usage.output_tokens",
    "gen_ai.usage.completion_tokens",
    "llm.token_count.completion",
];
/// Input tokens read from the provider's prompt cache.
pub const CACHE_READ_TOKENS: &[&str] = &[
    "gen_ai.usage.cache_read.input_tokens",
    "gen_ai.usage.cache_read_input_tokens",
    "llm.token_count.prompt_details.cache_read",
];
/// Input tokens written to the provider's prompt cache.
pub const CACHE_WRITE_TOKENS: &[&str] = &[
    "gen_ai.usage.cache_creation.input_tokens",
    "gen_ai.usage.cache_creation_input_tokens",
    "llm.token_count.prompt_details.cache_write",
];
/// Output tokens spent on reasoning.
pub const REASONING_TOKENS: &[&str] = &[
    "gen_ai.usage.reasoning.output_tokens",
    "gen_ai.usage.reasoning_tokens",
    "llm.token_count.completion_details.reasoning",
];
pub const FINISH_REASONS: &[&str] = &["gen_ai.response.finish_reasons"];
/// Prompt text: inspected for prompt injection, never stored.
pub const PROMPT: &[&str] = &[
    "gen_ai.input.messages",
    "gen_ai.system_instructions",
    "gen_ai.prompt",
    "input.value",
];
/// Event attributes that hold prompt text (legacy `gen_ai.content.prompt`, per-message
/// events such as `gen_ai.user.message`).
const EVENT_PROMPT: &[&str] = &["gen_ai.prompt", "gen_ai.input.messages", "content"];

/// Most characters of a span name or service name kept in a request's metadata (two of
/// them, escaped, and a span id stay under its 8 KiB limit).
const NAME_CHARS: usize = 512;

/// What one span is to Sightline.
#[derive(Debug, PartialEq)]
pub enum SpanEvent {
    /// A SERVER span: a request the platform served.
    Server(Box<RequestEvent>),
    /// A GenAI span: a provider call.
    Provider(Box<RequestEvent>),
    /// Any other span: it only links its children to its parent.
    Other,
}

/// A span's identity, as lowercase hex.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SpanIds {
    pub trace_id: String,
    pub span_id: String,
    pub parent_span_id: Option<String>,
}

impl SpanIds {
    /// The request id of the span: trace id and span id, so a re-export is a duplicate.
    pub fn request_id(&self) -> String {
        format!("{}-{}", self.trace_id, self.span_id)
    }
}

/// Why a span cannot become a request.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UnusableSpan {
    #[error("{field} must be {len} bytes, not all zero (got {got})")]
    Id {
        field: &'static str,
        len: usize,
        got: usize,
    },
    #[error("start_time_unix_nano is missing")]
    NoStart,
    #[error("end_time_unix_nano is before start_time_unix_nano")]
    EndsBeforeStart,
    #[error("SERVER span `{name}` has no {} attribute", METHOD.join(" or "))]
    NoMethod { name: String },
}

/// A span's ids, or why they are unusable.
pub fn span_ids(s: &Span) -> Result<SpanIds, UnusableSpan> {
    let id = |bytes: &[u8], len: usize, field: &'static str| {
        if bytes.len() != len || bytes.iter().all(|b| *b == 0) {
            Err(UnusableSpan::Id {
                field,
                len,
                got: bytes.len(),
            })
        } else {
            Ok(hex(bytes))
        }
    };
    Ok(SpanIds {
        trace_id: id(&s.trace_id, 16, "trace_id")?,
        span_id: id(&s.span_id, 8, "span_id")?,
        parent_span_id: match s.parent_span_id.as_slice() {
            [] => None,
            p => Some(id(p, 8, "parent_span_id")?),
        },
    })
}

fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        out.push(DIGITS[usize::from(b >> 4)] as char);
        out.push(DIGITS[usize::from(b & 0xf)] as char);
    }
    out
}

/// What `span` (of a resource whose `service.name` is `service_name`) becomes, or why
/// it is unusable.
pub fn map_span(
    s: &Span,
    ids: &SpanIds,
    service_name: Option<&str>,
) -> Result<SpanEvent, UnusableSpan> {
    let a = Attributes(&s.attributes);
    let server = s.kind == span::SpanKind::Server as i32;
    let genai =
        a.has_any(GENAI_MARKERS) || a.text(&["openinference.span.kind"]).as_deref() == Some("LLM");
    if !server && !genai {
        return Ok(SpanEvent::Other);
    }
    if s.start_time_unix_nano == 0 {
        return Err(UnusableSpan::NoStart);
    }
    if s.end_time_unix_nano < s.start_time_unix_nano {
        return Err(UnusableSpan::EndsBeforeStart);
    }
    let failed = s
        .status
        .as_ref()
        .is_some_and(|st| st.code == status::StatusCode::Error as i32);
    let path_and_query = a.text(PATH);
    let (path, target_query) = match path_and_query.as_deref().map(|p| p.split_once('?')) {
        Some(Some((p, q))) => (Some(p.to_string()), Some(q.to_string())),
        _ => (path_and_query, None),
    };
    let status_code = match a.int(STATUS) {
        Some(code) => code,
        None if failed => 500,
        None => 200,
    };
    let mut event = RequestEvent {
        request_id: Some(ids.request_id()),
        timestamp: Some(Timestamp::Millis(
            i64::try_from(s.start_time_unix_nano / 1_000_000).unwrap_or(i64::MAX),
        )),
        method: a.text(METHOD).unwrap_or_default(),
        status_code,
        latency_ms: (s.end_time_unix_nano - s.start_time_unix_nano) as f64 / 1e6,
        user_id: a.text(USER),
        session_id: a.text(SESSION),
        ip: a.text(CLIENT_IP),
        country: a.text(COUNTRY),
        user_agent: a.text(USER_AGENT),
        request_bytes: a.int(REQUEST_BYTES),
        response_bytes: a.int(RESPONSE_BYTES),
        error: failed.then(|| error_text(s)).flatten(),
        metadata: Some(metadata(ids, s, service_name)),
        query: a.text(QUERY).or(target_query),
        ..RequestEvent::default()
    };
    if server {
        event.endpoint = a.text(ROUTE).or(path.clone()).unwrap_or(s.name.clone());
        event.path = path;
        if event.method.is_empty() {
            return Err(UnusableSpan::NoMethod {
                name: s.name.clone(),
            });
        }
    } else {
        event.kind = Some(RequestKind::External);
        event.service = a.text(PROVIDER);
        event.endpoint = a.text(OPERATION).or(path).unwrap_or(s.name.clone());
        if event.method.is_empty() {
            // Provider APIs are called with POST; the span says so when it knows better.
            event.method = "POST".into();
        }
    }
    // A SERVER span may carry GenAI attributes of its own; its children add to them.
    event.model = a.text(MODEL);
    event.completion_tokens = a.int(OUTPUT_TOKENS);
    event.cache_read_tokens = a.int(CACHE_READ_TOKENS);
    event.cache_write_tokens = a.int(CACHE_WRITE_TOKENS);
    event.reasoning_tokens = a.int(REASONING_TOKENS);
    event.prompt_tokens = input_tokens(&a, &event);
    event.finish_reason = a.first_of_list(FINISH_REASONS);
    event.prompt = prompt_text(a, &s.events);
    Ok(if server {
        SpanEvent::Server(Box::new(event))
    } else {
        SpanEvent::Provider(Box::new(event))
    })
}

/// Every input token, cached ones included (Sightline's `prompt_tokens`). The
/// conventions count the cached tokens in `gen_ai.usage.input_tokens`; Anthropic's API
/// (and instrumentations that copy its usage block) do not, so for an Anthropic span,
/// or one whose cached tokens outnumber its input tokens, they are added.
fn input_tokens(a: &Attributes<'_>, event: &RequestEvent) -> Option<i64> {
    let cached = event
        .cache_read_tokens
        .unwrap_or(0)
        .saturating_add(event.cache_write_tokens.unwrap_or(0));
    let Some(input) = a.int(INPUT_TOKENS) else {
        return (cached > 0).then_some(cached);
    };
    let anthropic = a
        .text(PROVIDER)
        .is_some_and(|p| p.eq_ignore_ascii_case("anthropic"));
    Some(if anthropic || cached > input {
        input.saturating_add(cached)
    } else {
        input
    })
}

/// The error of a failed span: its status message, else its exception event.
fn error_text(s: &Span) -> Option<String> {
    if let Some(message) = s
        .status
        .as_ref()
        .map(|st| &st.message)
        .filter(|m| !m.is_empty())
    {
        return Some(message.clone());
    }
    s.events
        .iter()
        .filter(|e| e.name == "exception")
        .find_map(|e| {
            let a = Attributes(&e.attributes);
            match (a.text(&["exception.type"]), a.text(&["exception.message"])) {
                (Some(t), Some(m)) => Some(format!("{t}: {m}")),
                (t, m) => m.or(t),
            }
        })
}

/// What the request keeps of the span beyond its fields: the span name, the parent span
/// (whose request, `<trace id>-<parent span id>`, is the one that made a provider call)
/// and the resource's `service.name`. The trace and span ids are in the request id.
fn metadata(ids: &SpanIds, s: &Span, service_name: Option<&str>) -> serde_json::Value {
    // Cut so that the metadata always fits its limit: the parent span id in it is how a
    // later export walks up through this span's request.
    let mut m = json!({ "otel.span_name": cut(&s.name) });
    if let Some(parent) = &ids.parent_span_id {
        m["otel.parent_span_id"] = json!(parent);
    }
    if let Some(service) = service_name {
        m["service.name"] = json!(cut(service));
    }
    m
}

/// `text` cut to [`NAME_CHARS`] characters.
fn cut(text: &str) -> &str {
    match text.char_indices().nth(NAME_CHARS) {
        Some((end, _)) => &text[..end],
        None => text,
    }
}

fn prompt_text(a: Attributes<'_>, events: &[span::Event]) -> Option<String> {
    let mut parts = Vec::new();
    a.content(PROMPT, &mut parts);
    for e in events.iter().filter(|e| e.name.starts_with("gen_ai.")) {
        // Completions are the model's words, not the caller's: only prompts are checked.
        if e.name.contains("choice") || e.name.contains("completion") {
            continue;
        }
        Attributes(&e.attributes).content(EVENT_PROMPT, &mut parts);
    }
    (!parts.is_empty()).then(|| parts.join("\n"))
}

/// The `service.name` of a resource's attributes.
pub fn service_name(resource: &[KeyValue]) -> Option<String> {
    Attributes(resource).text(&["service.name"])
}
