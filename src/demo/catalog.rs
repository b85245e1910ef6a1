//! What the demo's platform looks like: its endpoints, models, clients, countries and
//! the texts of its errors, feedback and threats, with how often each occurs.

/// Picks an item by weight; `u` is uniform in `[0, 1)`.
pub fn pick<T: Copy>(items: &[(T, f64)], u: f64) -> T {
    let total: f64 = items.iter().map(|(_, w)| w).sum();
    let mut x = u * total;
    for &(item, w) in items {
        if x < w {
            return item;
        }
        x -= w;
    }
    items[items.len() - 1].0
}

/// Share of the day's traffic in each UTC hour: quiet nights, a ramp in the European
/// morning, a long plateau while Europe and the Americas overlap.
pub const HOURLY_SHAPE: [f64; 24] = [
    0.35, 0.30, 0.28, 0.27, 0.30, 0.40, 0.60, 0.90, 1.30, 1.60, 1.75, 1.80, 1.75, 1.80, 1.85, 1.80,
    1.70, 1.50, 1.25, 1.00, 0.80, 0.65, 0.50, 0.42,
];

/// Traffic by weekday, Monday first: weekends are quieter.
pub const WEEKLY_SHAPE: [f64; 7] = [1.05, 1.10, 1.10, 1.08, 1.00, 0.55, 0.45];

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Api {
    Chat,
    Completions,
    Embeddings,
    Images,
    Moderations,
    Models,
    Files,
}

/// (API, method, route template, share of requests).
pub const ENDPOINTS: &[((Api, &str, &str), f64)] = &[
    ((Api::Chat, "POST", "/v1/chat/completions"), 68.0),
    ((Api::Embeddings, "POST", "/v1/embeddings"), 12.0),
    ((Api::Models, "GET", "/v1/models"), 8.0),
    ((Api::Completions, "POST", "/v1/completions"), 4.0),
    ((Api::Images, "POST", "/v1/images/generations"), 3.0),
    ((Api::Moderations, "POST", "/v1/moderations"), 3.0),
    ((Api::Files, "POST", "/v1/files"), 2.0),
];

/// A chat model: its share, typical time to first token and per output token, and its provider.
#[derive(Clone, Copy, Debug)]
pub struct ChatModel {
    pub name: &'static str,
    pub ttft_ms: f64,
    pub ms_per_token: f64,
    pub provider: &'static str,
}

const fn chat(
    name: &'static str,
    ttft_ms: f64,
    ms_per_token: f64,
    provider: &'static str,
) -> ChatModel {
    ChatModel {
        name,
        ttft_ms,
        ms_per_token,
        provider,
    }
}

pub const CHAT_MODELS: &[(ChatModel, f64)] = &[
    (chat("gpt-4o-mini", 280.0, 9.0, "openai"), 30.0),
    (chat("gpt-4o", 420.0, 16.0, "openai"), 17.0),
    (chat("gpt-4.1-mini", 300.0, 10.0, "openai"), 10.0),
    (chat("claude-sonnet-4", 650.0, 18.0, "anthropic"), 14.0),
    (chat("claude-3-5-haiku", 380.0, 11.0, "anthropic"), 7.0),
    (chat("gemini-2.5-flash", 330.0, 7.0, "google"), 9.0),
    (chat("gemini-2.5-pro", 900.0, 20.0, "google"), 5.0),
    (chat("llama-3.1-70b", 250.0, 6.0, "groq"), 5.0),
    (chat("mistral-large", 500.0, 15.0, "mistral"), 3.0),
];

pub const EMBEDDING_MODELS: &[(&str, f64)] = &[
    ("text-embedding-3-small", 80.0),
    ("text-embedding-3-large", 20.0),
];

/// The provider's own route for a chat call, for the platform's outbound (external) calls.
pub fn provider_endpoint(provider: &str) -> &'static str {
    match provider {
        "anthropic" => "/v1/messages",
        "google" => "/v1beta/models/{model}:generateContent",
        _ => "/v1/chat/completions",
    }
}

pub const FINISH_REASONS: &[(&str, f64)] = &[
    ("stop", 90.0),
    ("length", 6.0),
    ("tool_calls", 3.0),
    ("content_filter", 1.0),
];

/// Status codes of ordinary traffic (outside incident bursts).
pub const STATUSES: &[(i32, f64)] = &[
    (200, 955.0),
    (400, 10.0),
    (401, 8.0),
    (403, 2.0),
    (404, 3.0),
    (413, 1.0),
    (422, 5.0),
    (429, 12.0),
    (500, 2.5),
    (502, 1.0),
    (503, 0.8),
    (504, 0.7),
];

/// Statuses during an upstream incident: mostly 5xx.
pub const INCIDENT_STATUSES: &[(i32, f64)] = &[(500, 30.0), (502, 35.0), (503, 20.0), (504, 15.0)];

pub fn error_text(status: i32) -> &'static str {
    match status {
        400 => "invalid_request_error: 'messages' must contain at least one message",
        401 => "invalid_api_key: Incorrect API key provided",
        403 => "permission_denied: this key cannot use the requested model",
        404 => "not_found: the requested resource does not exist",
        413 => "request_too_large: the request exceeds the maximum context length",
        422 => "unprocessable_entity: 'temperature' must be between 0 and 2",
        429 => "rate_limit_exceeded: too many requests, retry after 20s",
        500 => "internal_error: the server had an error while processing the request",
        502 => "bad_gateway: upstream provider returned an invalid response",
        503 => "service_unavailable: the upstream provider is overloaded",
        504 => "gateway_timeout: upstream provider did not answer within 30s",
        _ => "error",
    }
}

/// Client libraries and browsers the platform's users call it with.
pub const USER_AGENTS: &[(&str, f64)] = &[
    ("OpenAI/Python 1.54.4", 30.0),
    ("OpenAI/NodeJS 4.73.0", 18.0),
    ("python-requests/2.32.3", 12.0),
    (
        "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_6) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36",
        12.0,
    ),
    (
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36",
        9.0,
    ),
    ("langchain-openai/0.2.9", 8.0),
    ("curl/8.5.0", 4.0),
    ("Go-http-client/2.0", 4.0),
    ("axios/1.7.7", 3.0),
];

/// Where the platform's users are (ISO 3166-1 alpha-2) and how many of them.
pub const COUNTRIES: &[(&str, f64)] = &[
    ("US", 34.0),
    ("IN", 9.0),
    ("DE", 8.0),
    ("GB", 7.5),
    ("FR", 5.0),
    ("BR", 4.5),
    ("CA", 4.0),
    ("JP", 3.5),
    ("NL", 3.0),
    ("ES", 2.5),
    ("AU", 2.5),
    ("KR", 2.0),
    ("SG", 2.0),
    ("PL", 1.8),
    ("SE", 1.5),
    ("MX", 1.5),
    ("IT", 1.5),
    ("CH", 1.2),
    ("NG", 1.0),
    ("ZA", 1.0),
];

/// Ratings are mostly good.
pub const RATINGS: &[(i32, f64)] = &[(5, 46.0), (4, 29.0), (3, 11.0), (2, 7.0), (1, 7.0)];

pub fn feedback_comment(rating: i32, u: f64) -> &'static str {
    let options: &[&str] = match rating {
        5 => &[
            "Exactly what I needed.",
            "Great answer, thanks!",
            "Perfect code, worked first time.",
            "Clear and concise.",
        ],
        4 => &[
            "Good, minor formatting issues.",
            "Helpful, a bit long.",
            "Mostly right.",
        ],
        3 => &[
            "OK but missed part of the question.",
            "Generic answer.",
            "Had to ask twice.",
        ],
        2 => &[
            "Wrong library version.",
            "Too verbose and partly wrong.",
            "Ignored my constraints.",
        ],
        _ => &[
            "Hallucinated an API that does not exist.",
            "Completely off topic.",
            "Refused a harmless request.",
        ],
    };
    options[((u * options.len() as f64) as usize).min(options.len() - 1)]
}
