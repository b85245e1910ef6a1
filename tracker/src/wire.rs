//! The ingest wire format: the JSON that `POST /api/v1/ingest` accepts.

use serde::{Deserialize, Serialize};

/// Whether a request was served by the tracked platform or made by it to a provider.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RequestKind {
    /// A request the platform served to one of its clients.
    #[default]
    Api,
    /// A call the platform made to an external provider (OpenAI, Gemini, BrightData…).
    External,
}

impl RequestKind {
    /// The name stored in the database and used on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            RequestKind::Api => "api",
            RequestKind::External => "external",
        }
    }

    /// Parses the stored name; `None` for anything else.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "api" => Some(RequestKind::Api),
            "external" => Some(RequestKind::External),
            _ => None,
        }
    }
}

/// A name that is none of a closed set's ([`ThreatType`], [`Severity`], …), as a
/// stored row or a query parameter may hold one.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("unknown {kind} `{name}`")]
pub struct UnknownName {
    /// The set's type, such as `Severity`.
    pub kind: &'static str,
    pub name: String,
}

/// Defines a closed set of names used on the wire and in the database, with
/// `as_str`, `parse`, `ALL` and `TryFrom<String>`, serialised as the name itself.
macro_rules! wire_enum {
    ($(#[$meta:meta])* $name:ident { $($(#[$vmeta:meta])* $variant:ident = $text:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        pub enum $name {
            $($(#[$vmeta])* #[serde(rename = $text)] $variant),+
        }

        impl $name {
            /// Every value, in declaration order.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The name used on the wire and in the database.
            pub fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $text),+
                }
            }

            /// Parses a name; `None` for anything else.
            pub fn parse(s: &str) -> Option<Self> {
                match s {
                    $($text => Some($name::$variant),)+
                    _ => None,
                }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl TryFrom<String> for $name {
            type Error = UnknownName;

            fn try_from(name: String) -> Result<Self, UnknownName> {
                Self::parse(&name).ok_or(UnknownName { kind: stringify!($name), name })
            }
        }
    };
}

wire_enum! {
    /// What kind of security threat was seen.
    ThreatType {
        RateLimit = "rate_limit",
        InvalidAuth = "invalid_auth",
        SqlInjection = "sql_injection",
        Xss = "xss",
        PathTraversal = "path_traversal",
        PromptInjection = "prompt_injection",
        Scanner = "scanner",
        MalformedRequest = "malformed_request",
        SuspiciousContent = "suspicious_content",
        Custom = "custom",
    }
}

wire_enum! {
    /// How serious a threat or an alert is; ordered from `Low` to `Critical`.
    Severity {
        Low = "low",
        Medium = "medium",
        High = "high",
        Critical = "critical",
    }
}

wire_enum! {
    /// What happened in an authentication event of the tracked platform.
    AuthEventType {
        Signup = "signup",
        Login = "login",
        Logout = "logout",
        LoginFailed = "login_failed",
        TokenRefresh = "token_refresh",
        PasswordReset = "password_reset",
    }
}

/// An instant on the wire: epoch milliseconds, or an RFC 3339 string.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Timestamp {
    /// Milliseconds since the Unix epoch (UTC).
    Millis(i64),
    /// An RFC 3339 date-time such as `2026-11-22T18:33:16.120Z`.
    Rfc3339(String),
}

/// One request the platform served (`kind` `api`, the default) or made to a provider
/// (`external`). `endpoint`, `method`, `status_code` and `latency_ms` are required.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct RequestEvent {
    /// Idempotency key: a retried event with the same id is stored once. Generated
    /// (UUIDv7) when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
    /// When the request started; now when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timestamp: Option<Timestamp>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<RequestKind>,
    /// Provider of an external call (`openai`, `gemini`, …).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service: Option<String>,
    /// Route template preferred (`/v1/items/{id}`), else the path.
    pub endpoint: String,
    pub method: String,
    pub status_code: i64,
    pub latency_ms: f64,
    /// Time to first token of a streamed response.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ttft_ms: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    /// Every input token of the call, cached ones included (OpenAI's `prompt_tokens`;
    /// for Anthropic, `input_tokens + cache_read_input_tokens +
    /// cache_creation_input_tokens`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prompt_tokens: Option<i64>,
    /// Every output token, reasoning ones included (OpenAI's `completion_tokens`,
    /// Anthropic's `output_tokens`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub completion_tokens: Option<i64>,
    /// The part of `prompt_tokens` read from the provider's prompt cache (OpenAI's
    /// `prompt_tokens_details.cached_tokens`, Anthropic's `cache_read_input_tokens`),
    /// priced at the model's cache-read rate. At most `prompt_tokens` together with
    /// `cache_write_tokens`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cache_read_tokens: Option<i64>,
    /// The part of `prompt_tokens` written to the prompt cache (Anthropic's
    /// `cache_creation_input_tokens`), priced at the model's cache-write rate.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cache_write_tokens: Option<i64>,
    /// The part of `completion_tokens` spent on reasoning (OpenAI's
    /// `completion_tokens_details.reasoning_tokens`), priced as output unless the model
    /// has a reasoning price. At most `completion_tokens`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reasoning_tokens: Option<i64>,
    /// Cost in USD; when absent the server prices the tokens from its price table.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cost_usd: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub finish_reason: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub is_authenticated: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ip: Option<String>,
    /// ISO 3166-1 alpha-2.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub country: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_agent: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_bytes: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub response_bytes: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// Any JSON; stored as text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metadata: Option<serde_json::Value>,
    /// The prompt, checked for prompt injection and not stored.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prompt: Option<String>,
    /// The raw request path, when `endpoint` is a route template: checked for attack
    /// patterns (SQL injection, XSS, path traversal, command injection), not stored.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    /// The query string, without `?`: checked for attack patterns, not stored.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub query: Option<String>,
    /// The request's `Referer` header: checked for attack patterns, not stored.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub referer: Option<String>,
    /// Forwarded-for header values the platform does not trust (`X-Forwarded-For` from
    /// a client that is not a configured proxy), comma-separated: every hop that is not
    /// an IP address is checked for attack patterns; not stored.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub forwarded_for: Option<String>,
}

/// A 1–5 rating of a response; rating the same request again (same user) changes it.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct FeedbackEvent {
    pub request_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_id: Option<String>,
    pub rating: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timestamp: Option<Timestamp>,
}

/// An authentication event of the platform (sign-up, login, failed login, …).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AuthEvent {
    pub event_type: AuthEventType,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ip: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_agent: Option<String>,
    /// Defaults to true, except for `login_failed`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub success: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metadata: Option<serde_json::Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timestamp: Option<Timestamp>,
}

/// A security threat the platform detected itself.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ThreatEvent {
    pub threat_type: ThreatType,
    pub severity: Severity,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ip: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub country: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub endpoint: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timestamp: Option<Timestamp>,
}

/// The JSON body of `POST /api/v1/ingest`; every list is optional.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct IngestBatch {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub requests: Vec<RequestEvent>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub auth_events: Vec<AuthEvent>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub feedback: Vec<FeedbackEvent>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub threats: Vec<ThreatEvent>,
}

/// The reply of `POST /api/v1/ingest`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct IngestReply {
    /// Events stored by this call.
    pub accepted: u64,
    /// Requests whose `request_id` was already stored: not stored or counted again.
    pub duplicates: u64,
    /// Events refused; each has an entry in `errors`.
    pub rejected: u64,
    pub errors: Vec<EventIssue>,
    /// Events stored with a remark (a long string truncated, a model without a price).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<EventIssue>,
}

/// What was wrong (or remarkable) with one event of a batch.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventIssue {
    /// Position of the event in its list (JSON) or line (NDJSON, from 0).
    pub index: usize,
    /// `request`, `auth_event`, `feedback` or `threat`.
    #[serde(rename = "type")]
    pub event_type: String,
    #[serde(alias = "warning")]
    pub error: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kind_round_trips_through_its_wire_name() {
        for kind in [RequestKind::Api, RequestKind::External] {
            assert_eq!(RequestKind::parse(kind.as_str()), Some(kind));
            let json = serde_json::to_string(&kind).unwrap();
            assert_eq!(json, format!("\"{}\"", kind.as_str()));
        }
        assert_eq!(RequestKind::parse("API"), None);
    }

    #[test]
    fn enums_round_trip_and_reject_unknown_names() {
        for t in ThreatType::ALL {
            assert_eq!(ThreatType::parse(t.as_str()), Some(*t));
            assert_eq!(serde_json::to_string(t).unwrap(), format!("\"{t}\""));
        }
        assert_eq!(ThreatType::ALL.len(), 10);
        assert_eq!(
            serde_json::from_str::<Severity>("\"critical\"").unwrap(),
            Severity::Critical
        );
        assert!(serde_json::from_str::<Severity>("\"urgent\"").is_err());
        assert!(Severity::Low < Severity::Critical);
        assert_eq!(
            AuthEventType::parse("login_failed"),
            Some(AuthEventType::LoginFailed)
        );
    }

    #[test]
    fn a_stored_name_converts_or_names_what_it_is_not() {
        assert_eq!(Severity::try_from("high".to_string()), Ok(Severity::High));
        let err = ThreatType::try_from("ddos".to_string()).unwrap_err();
        assert_eq!(err.to_string(), "unknown ThreatType `ddos`");
    }
}
