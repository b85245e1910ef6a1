//! The read side of the API in the OpenAPI document: `GET /api/v1/dashboard` (the
//! dashboard as JSON) and `GET /api/v1/export/{file}` (the list views as CSV; the
//! security view's own parameters are in `security`). Both take
//! a `read` key or a signed-in browser session. The parameters follow the query types
//! of `sightline_app` (`TimeRange::from_query`, `RequestQuery`, `ThreatQuery`,
//! `FeedbackQuery`, `SessionQuery`) and the columns those of the store's exports.

use serde_json::{Map, Value, json};
use sightline_app::audit::AUDIT_ACTIONS;
use sightline_app::requests::{RequestSort, StatusClass};
use sightline_app::threats::{SEVERITIES, ThreatType};

use crate::store::{
    AUDIT_EXPORT_COLUMNS, AUTH_EVENT_EXPORT_COLUMNS, FEEDBACK_EXPORT_COLUMNS,
    REQUEST_EXPORT_COLUMNS, SESSION_EXPORT_COLUMNS, THREAT_EXPORT_COLUMNS,
};

/// Who may call a read endpoint: a key with the `read` scope, or a browser session.
pub fn read_security() -> Value {
    json!([{ "apiKey": ["read"] }, { "session": [] }])
}

pub(super) fn query(name: &str, description: &str, schema: Value) -> Value {
    json!({ "name": name, "in": "query", "required": false, "description": description, "schema": schema })
}

pub(super) fn text() -> Value {
    json!({ "type": "string" })
}

pub(super) fn enumeration(values: &[&str]) -> Value {
    json!({ "type": "string", "enum": values })
}

/// The enumeration of a closed set's names, as [`Display`](std::fmt::Display) gives them.
fn names<T: std::fmt::Display>(values: &[T]) -> Value {
    json!({ "type": "string", "enum": values.iter().map(T::to_string).collect::<Vec<_>>() })
}

pub(super) fn epoch_ms() -> Value {
    json!({ "type": "integer", "description": "Epoch milliseconds (UTC)." })
}

/// An object schema whose every property is required.
pub(super) fn object(properties: Value) -> Value {
    let required: Vec<String> = properties
        .as_object()
        .map(|p| p.keys().cloned().collect())
        .unwrap_or_default();
    json!({ "type": "object", "required": required, "properties": properties })
}

/// What every instant parameter takes, and its bounds.
pub(super) const INSTANT: &str = "A date `YYYY-MM-DD` (UTC), an RFC 3339 time or epoch milliseconds, from 1970-01-01 to a day from now (else 400 naming the parameter).";

/// `?range=` of the list views and exports: a preset back from now, or every row.
fn list_range(default: &str, what: &str) -> Value {
    query(
        "range",
        &format!(
            "Only {what} since the start of this range (back from now, from a bucket boundary); `all` for every row."
        ),
        json!({ "type": "string", "enum": ["24h", "7d", "1m", "3m", "all"], "default": default }),
    )
}

/// The responses of a read endpoint, `ok` for 200.
pub(super) fn responses(ok: Value, error_reply: &Value, bad_request: &str) -> Value {
    json!({
        "200": ok,
        "400": { "description": bad_request, "content": error_reply },
        "401": { "description": "No signed-in session and no valid API key (missing, invalid or revoked)", "content": error_reply },
        "403": { "description": "The key lacks the read scope", "content": error_reply },
        "503": { "description": "The database is unavailable; see Retry-After", "content": error_reply }
    })
}

/// `?range=…&start=…&end=…` of the dashboard and the views like it (`TimeRange::from_query`).
pub(super) fn range_params() -> Vec<Value> {
    let instant = INSTANT;
    let max_days = sightline_app::range::MAX_CUSTOM_DAYS;
    vec![
        query(
            "range",
            "The period: the last 24 hours, 7 days, 30 days, 90 days, or `custom` between `start` and `end`.",
            json!({ "type": "string", "enum": ["24h", "7d", "1m", "3m", "custom"], "default": "24h" }),
        ),
        query(
            "start",
            &format!("With `range=custom`: the first instant. {instant}"),
            text(),
        ),
        query(
            "end",
            &format!(
                "With `range=custom`: the end (a date counts as the whole day), after `start` and at most {max_days} days after it; a later end than now is now. {instant}"
            ),
            text(),
        ),
    ]
}

/// `GET /api/v1/dashboard`.
pub fn dashboard_path(error_reply: &Value) -> Value {
    let max_days = sightline_app::range::MAX_CUSTOM_DAYS;
    json!({
        "get": {
            "summary": "The dashboard's cards as JSON",
            "description": "A key with the `read` scope, or a signed-in session. Every card covers exactly the buckets from `start` (a bucket boundary) to `end` (exclusive): hourly buckets up to 7 days, daily beyond. Counts, tokens and money are exact (money in micro-dollars); latency percentiles are within 2% of exact.",
            "security": read_security(),
            "parameters": range_params(),
            "responses": responses(
                json!({ "description": "The dashboard", "content": { "application/json": { "schema": { "$ref": "#/components/schemas/DashboardReport" } } } }),
                error_reply,
                &format!("Unknown range, or a custom range without a valid start and end: an instant out of bounds, an end not after the start, a span over {max_days} days"),
            )
        }
    })
}

/// `GET /api/v1/alerts`.
pub fn alerts_path(error_reply: &Value) -> Value {
    let alert = json!({
        "type": "object",
        "required": ["id", "key", "rule", "severity", "state", "title", "description", "firedAt", "updatedAt"],
        "properties": {
            "id": { "type": "integer" },
            "key": { "type": "string", "description": "What makes two alerts the same: the rule, and the endpoint for per-endpoint rules (`latency_p95:/v1/chat/completions`). One alert of a key fires at a time. A budget's key names its period, whose budget, the day or month and the threshold (`budget:daily:global:2026-12-03:80`, `budget:monthly:user:alice:2026-12:100`): it fires once." },
            "rule": enumeration(&["error_burst", "error_rate_spike", "latency_p95", "cost_spike", "budget"]),
            "severity": enumeration(&["low", "medium", "high", "critical"]),
            "state": enumeration(&["firing", "resolved"]),
            "title": text(),
            "description": text(),
            "endpoint": { "type": ["string", "null"] },
            "value": { "type": ["number", "null"], "description": "The measure when last evaluated: errors, error rate (0..1), p95 in ms, or USD (cost_spike: the last hour's cost; budget: spent in the period when it fired)." },
            "threshold": { "type": ["number", "null"], "description": "The limit it is compared with." },
            "firedAt": epoch_ms(),
            "updatedAt": epoch_ms(),
            "resolvedAt": { "type": ["integer", "null"] },
            "notifiedAt": { "type": ["integer", "null"], "description": "When a webhook first took the news of its firing." }
        }
    });
    json!({
        "get": {
            "summary": "Anomaly alerts, newest first",
            "description": "A key with the `read` scope, or a signed-in session.",
            "security": read_security(),
            "parameters": [
                query("state", "Only firing or only resolved alerts; all when absent.", json!({ "type": "string", "enum": ["firing", "resolved", "all"], "default": "all" })),
                query("limit", "At most this many alerts.", json!({ "type": "integer", "minimum": 1, "maximum": 1000, "default": 100 }))
            ],
            "responses": responses(
                json!({ "description": "The alerts", "content": { "application/json": { "schema": {
                    "type": "object", "required": ["alerts"], "properties": { "alerts": { "type": "array", "items": alert } }
                } } } }),
                error_reply,
                "Unknown state, or a limit outside 1..1000",
            )
        }
    })
}

/// The CSV a 200 of an export carries, with its columns.
pub(super) fn csv_reply(columns: &[&str]) -> Value {
    json!({
        "description": format!("Every matching row, in the view's order, streamed: RFC 4180 with CRLF line ends, UTF-8, a header row ({}). Instants are RFC 3339 UTC, `cost_usd` dollars with six decimals; a text cell starting with `=`, `+`, `-`, `@`, tab or CR gets a leading `'`.", columns.join(", ")),
        "headers": { "Content-Disposition": { "description": "attachment; filename=\"sightline-<export>-<YYYYMMDD-HHMM>.csv\"", "schema": text() } },
        "content": { "text/csv": { "schema": { "type": "string" } } }
    })
}

/// `GET /api/v1/export/{file}`: one path a file, each with its view's filter.
pub fn export_paths(error_reply: &Value) -> Map<String, Value> {
    let statuses: Vec<&str> = StatusClass::ALL.iter().map(|c| c.as_str()).collect();
    let sorts: Vec<&str> = RequestSort::ALL.iter().map(|s| s.as_str()).collect();
    let files = [
        (
            "requests",
            "The requests explorer's rows (newest first, or by the sort).",
            REQUEST_EXPORT_COLUMNS,
            vec![
                list_range("24h", "requests created"),
                query("status", "Status class.", enumeration(&statuses)),
                query(
                    "kind",
                    "Requests the platform served (`api`) or calls it made to providers (`external`).",
                    enumeration(&["api", "external"]),
                ),
                query(
                    "service",
                    "Provider of a call (exact), as the providers view names it.",
                    text(),
                ),
                query("model", "Model name (exact).", text()),
                query("endpoint", "Endpoint (exact).", text()),
                query("user", "Platform user id (exact).", text()),
                query(
                    "country",
                    "ISO 3166-1 alpha-2 code.",
                    json!({ "type": "string", "pattern": "^[A-Za-z]{2}$" }),
                ),
                query(
                    "q",
                    "Text in the endpoint or the error, in any case (Unicode simple case folding, the same on SQLite and PostgreSQL); wildcards are literal.",
                    text(),
                ),
                query("session", "Client-given session id (exact).", text()),
                query(
                    "error_group",
                    "An error group's fingerprint, as `GET /api/v1/errors` gives it (16 hex digits, or `other`).",
                    json!({ "type": "string", "pattern": "^([0-9a-f]{16}|other)$" }),
                ),
                query(
                    "since",
                    &format!(
                        "Created at or after (the later of this and the range's start). {INSTANT}"
                    ),
                    text(),
                ),
                query(
                    "until",
                    &format!(
                        "Created before (exclusive; a date counts as the whole day), after `since`. {INSTANT}"
                    ),
                    text(),
                ),
                query(
                    "sort",
                    "Descending order of.",
                    json!({ "type": "string", "enum": sorts, "default": "time" }),
                ),
            ],
        ),
        (
            "threats",
            "The threats view's rows (by last seen, newest first).",
            THREAT_EXPORT_COLUMNS,
            vec![
                query("type", "Threat type.", names(ThreatType::ALL)),
                query("severity", "Severity.", names(&SEVERITIES)),
                query(
                    "state",
                    "Open, resolved or both.",
                    json!({ "type": "string", "enum": ["open", "resolved", "all"], "default": "open" }),
                ),
                list_range("all", "threats last seen"),
                query(
                    "q",
                    "Text in the IP or the user id, in any case (as for requests).",
                    text(),
                ),
            ],
        ),
        (
            "feedback",
            "Ratings (most recently changed first).",
            FEEDBACK_EXPORT_COLUMNS,
            vec![
                list_range("all", "ratings given"),
                query("request_id", "The ratings of this request only.", text()),
            ],
        ),
        (
            "sessions",
            "The sessions view's rows (newest first).",
            SESSION_EXPORT_COLUMNS,
            vec![
                list_range("all", "sessions started"),
                query("user", "Platform user id (exact).", text()),
            ],
        ),
        (
            "auth_events",
            "The tracked platform's auth events (newest first), as the security view counts them; not Sightline's own sign-ins.",
            AUTH_EVENT_EXPORT_COLUMNS,
            super::security::export_params(),
        ),
        (
            "errors",
            "The errors view's groups of the range, every one of them (not only the 100 listed), by the sort; `statuses` and `endpoints` are the top three as `key:requests` separated by spaces, `+N` for the rest.",
            crate::errors::ERROR_EXPORT_COLUMNS,
            super::errors::export_params(error_reply),
        ),
        (
            "audit",
            "The audit trail (newest first): admin actions and Sightline's own sign-ins and sign-outs, with who (`cli` for the command line), when, from where, what and on what; `detail` is JSON. A signed-in session must be an admin's.",
            AUDIT_EXPORT_COLUMNS,
            vec![
                query(
                    "action",
                    "Action.",
                    enumeration(&AUDIT_ACTIONS.map(|(a, _)| a)),
                ),
                query(
                    "actor",
                    "Username (exact, at most 255 characters), or `cli`.",
                    text(),
                ),
                query("since", &format!("Created at or after. {INSTANT}"), text()),
                query(
                    "until",
                    &format!(
                        "Created before (exclusive; a date counts as the whole day), after `since`. {INSTANT}"
                    ),
                    text(),
                ),
            ],
        ),
    ];
    files
        .into_iter()
        .map(|(name, summary, columns, parameters)| {
            let path = json!({
                "get": {
                    "summary": format!("Export {name} as CSV"),
                    "description": format!("{summary} A key with the `read` scope, or a signed-in session. Memory stays flat however many rows match. (Any other file name under /api/v1/export/ answers 404.)"),
                    "security": read_security(),
                    "parameters": parameters,
                    "responses": responses(csv_reply(columns), error_reply, "A filter parameter with a value it does not take")
                }
            });
            (format!("/api/v1/export/{name}.csv"), path)
        })
        .collect()
}

/// The dashboard report and its cards.
pub fn dashboard_schemas() -> Map<String, Value> {
    let int = || json!({ "type": "integer" });
    let num = || json!({ "type": "number" });
    let nullable_num = || json!({ "type": ["number", "null"] });
    let nullable_text = || json!({ "type": ["string", "null"] });
    let list = |schema: &str| json!({ "type": "array", "items": { "$ref": format!("#/components/schemas/{schema}") } });
    let figures = object(json!({
        "requests": int(), "errors": int(),
        "errorRate": { "type": ["number", "null"], "description": "errors / requests; null without requests." },
        "avgLatencyMs": nullable_num(), "p95LatencyMs": nullable_num(),
        "costMicros": { "type": "integer", "description": "Micro-dollars (1e-6 USD)." },
        "tokens": int(), "activeUsers": int(), "sessions": int(),
        "openThreats": { "type": "integer", "description": "Threats raised in the period and not resolved." }
    }));
    let schemas = json!({
        "DashboardReport": object(json!({
            "range": enumeration(&["24h", "7d", "1m", "3m", "custom"]),
            "start": epoch_ms(),
            "end": { "type": "integer", "description": "Epoch milliseconds, exclusive." },
            "bucket": enumeration(&["hour", "day"]),
            "generatedAt": epoch_ms(),
            "summary": object(json!({ "current": { "$ref": "#/components/schemas/SummaryFigures" }, "previous": { "$ref": "#/components/schemas/SummaryFigures" } })),
            "requests": { "type": "array", "description": "One point a bucket.", "items": object(json!({ "t": epoch_ms(), "ok": int(), "errors": int() })) },
            "errorsBreakdown": { "type": "array", "items": object(json!({ "status": int(), "count": int() })) },
            "topModels": list("ModelRow"),
            "costs": object(json!({
                "models": { "type": "array", "items": text(), "description": "The top models by cost, the rest as `other`." },
                "points": { "type": "array", "description": "One point a bucket; costMicros[i] belongs to models[i].", "items": object(json!({ "t": epoch_ms(), "costMicros": { "type": "array", "items": int() } })) }
            })),
            "latency": { "type": "array", "description": "Milliseconds; null in a bucket without requests.", "items": object(json!({ "t": epoch_ms(), "p50": nullable_num(), "p95": nullable_num(), "p99": nullable_num() })) },
            "topCountries": { "type": "array", "items": object(json!({ "country": { "type": "string", "description": "ISO 3166-1 alpha-2; empty when unknown." }, "requests": int(), "errors": int() })) },
            "users": object(json!({ "active": int(), "new": int(), "top": { "type": "array", "items": object(json!({ "userId": text(), "requests": int(), "tokens": int(), "costMicros": int() })) } })),
            "feedback": object(json!({ "count": int(), "average": nullable_num(), "distribution": { "type": "array", "items": int(), "minItems": 5, "maxItems": 5, "description": "Ratings 1 to 5." } })),
            "threats": object(json!({
                "openBySeverity": object(json!({ "low": int(), "medium": int(), "high": int(), "critical": int() })),
                "latest": list("ThreatRow")
            })),
            "alerts": list("AlertRow"),
            "topEndpoints": { "type": "array", "description": "The endpoints with the most requests; GET /api/v1/endpoints has them all.", "items": { "$ref": "#/components/schemas/EndpointRow" } },
            "providers": { "$ref": "#/components/schemas/ProvidersCard", "description": "The calls made to providers: totals and the busiest; GET /api/v1/providers has them all." },
            "budgets": object(json!({
                "global": { "type": "array", "description": "The global budgets set, daily first, in their current period (whatever the range).", "items": { "$ref": "#/components/schemas/BudgetUse" } },
                "perUser": { "type": "array", "description": "The periods with a per-user budget: how many users are at 80% and at 100% of theirs.", "items": object(json!({
                    "period": enumeration(&["daily", "monthly"]),
                    "eachUserMicros": { "type": ["integer", "null"], "description": "Each user's budget of the period; users may have their own." },
                    "warned": { "type": "integer", "description": "Users at 80% or more." },
                    "over": { "type": "integer", "description": "Users at 100% or more." }
                })) },
                "topUsers": { "type": "array", "description": "The users with the largest share of a budget spent (at 80% or more), highest first; at most 10.", "items": { "$ref": "#/components/schemas/BudgetUse" } }
            }))
        })),
        "BudgetUse": object(json!({
            "userId": nullable_text(),
            "period": enumeration(&["daily", "monthly"]),
            "limitMicros": { "type": "integer", "description": "Micro-dollars." },
            "spentMicros": { "type": "integer", "description": "The served requests' cost in the period so far, micro-dollars." },
            "periodStart": epoch_ms(),
            "periodEnd": { "type": "integer", "description": "Epoch milliseconds, exclusive: the UTC day's or month's end." }
        })),
        "SummaryFigures": figures,
        "ModelRow": object(json!({
            "model": { "type": "string", "description": "Empty for requests without a model." },
            "requests": int(), "errors": int(), "promptTokens": int(), "completionTokens": int(),
            "cacheReadTokens": { "type": "integer", "description": "Of promptTokens: read from the provider's prompt cache." },
            "cacheWriteTokens": { "type": "integer", "description": "Of promptTokens: written to the prompt cache." },
            "reasoningTokens": { "type": "integer", "description": "Of completionTokens: spent on reasoning." },
            "costMicros": int(), "avgLatencyMs": num()
        })),
        "ThreatRow": object(json!({
            "id": int(), "createdAt": epoch_ms(), "lastSeenAt": epoch_ms(),
            "threatType": names(ThreatType::ALL), "severity": names(&SEVERITIES),
            "ip": nullable_text(), "userId": nullable_text(), "description": text(),
            "occurrences": int(), "resolved": { "type": "boolean" }
        })),
        "AlertRow": object(json!({
            "id": int(), "rule": text(), "severity": text(), "title": text(), "description": text(),
            "endpoint": nullable_text(), "firedAt": epoch_ms()
        }))
    });
    match schemas {
        Value::Object(map) => map,
        _ => Map::new(),
    }
}
