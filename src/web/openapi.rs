//! `GET /api/v1/openapi.json`: the API as OpenAPI 3.1, every route under `/api/v1/`
//! (a test below checks it against the router). The ingest schemas follow the wire
//! types of `sightline-tracker` and the rules of `ingest::validate`; a test checks that
//! the server accepts the document's examples and refuses what it marks invalid. The
//! read endpoints (dashboard, CSV export) are described in [`read`].

mod endpoints;
mod errors;
mod providers;
mod read;
mod security;

use axum::routing::get;
use axum::{Json, Router};
use serde_json::{Value, json};

use super::AppState;
use super::body_limit::size;

use crate::ingest::validate::{MAX_BYTES, MAX_COST_USD, MAX_DURATION_MS, MAX_TOKENS};
use crate::ingest::{MAX_BODY_BYTES, MAX_EVENTS};

fn string(max: u32) -> Value {
    json!({ "type": "string", "maxLength": max, "description": format!("Longer values are truncated to {max} characters.") })
}

/// A token count of one request (0 to 10^9), with what it counts.
fn timestamp() -> Value {
    json!({
        "description": "RFC 3339 date-time or epoch milliseconds; now when absent. At most 1 day in the future, and not older than the retention in force (the settings' days, else SIGHTLINE_RETENTION_DAYS) nor than the instant raw rows were ever pruned up to: such an event is rejected with its index.",
        "oneOf": [{ "type": "string", "format": "date-time" }, { "type": "integer", "minimum": 0 }]
    })
}

/// A user id of the platform: `sightline:` (any case) is reserved for the dashboard's
/// own accounts.
fn user_id() -> Value {
    json!({
        "type": "string",
        "maxLength": 255,
        "not": { "pattern": "^\\s*[Ss][Ii][Gg][Hh][Tt][Ll][Ii][Nn][Ee]:" },
        "description": "Longer values are truncated to 255 characters. An id starting with `sightline:` (any case) is rejected: that prefix names Sightline's dashboard accounts."
    })
}

/// A number from 0 to `max`.
fn bounded(kind: &str, max: Value, description: &str) -> Value {
    json!({ "type": kind, "minimum": 0, "maximum": max, "description": description })
}

fn enumeration(values: &[&str]) -> Value {
    json!({ "type": "string", "enum": values })
}

/// The schema of a request event of the ingest API.
fn request_event_schema() -> Value {
    json!({
        "type": "object",
        "required": ["endpoint", "method", "status_code", "latency_ms"],
        "properties": {
            "request_id": { "type": "string", "maxLength": 128, "description": "Idempotency key; a UUIDv7 is generated when absent. A retry with the same id is stored once." },
            "timestamp": timestamp(),
            "kind": enumeration(&["api", "external"]),
            "service": string(128),
            "endpoint": string(255),
            "method": string(16),
            "status_code": { "type": "integer", "minimum": 100, "maximum": 599 },
            "latency_ms": bounded("number", json!(MAX_DURATION_MS), "Milliseconds, at most a day."),
            "ttft_ms": bounded("number", json!(MAX_DURATION_MS), "Time to first token in milliseconds, at most a day."),
            "model": string(128),
            "prompt_tokens": bounded("integer", json!(MAX_TOKENS), "Every input token, cached ones included (OpenAI's prompt_tokens; Anthropic's input_tokens + cache_read_input_tokens + cache_creation_input_tokens). At most a billion."),
            "completion_tokens": bounded("integer", json!(MAX_TOKENS), "Every output token, reasoning included. At most a billion."),
            "cache_read_tokens": bounded("integer", json!(MAX_TOKENS), "Part of prompt_tokens read from the provider's prompt cache; priced at the model's cache-read rate. At most a billion."),
            "cache_write_tokens": bounded("integer", json!(MAX_TOKENS), "Part of prompt_tokens written to the prompt cache; priced at the model's cache-write rate. cache_read_tokens + cache_write_tokens <= prompt_tokens."),
            "reasoning_tokens": bounded("integer", json!(MAX_TOKENS), "Part of completion_tokens spent on reasoning; priced as output unless the model has a reasoning price. At most completion_tokens."),
            "cost_usd": bounded("number", json!(MAX_COST_USD), &format!("At most {MAX_COST_USD} USD. When absent, priced from the model price table (unknown models cost 0 and get a warning); a priced cost over {MAX_COST_USD} USD is rejected too.")),
            "finish_reason": string(64),
            "user_id": user_id(),
            "session_id": string(255),
            "is_authenticated": { "type": "boolean" },
            "ip": { "type": "string", "description": "IPv4 or IPv6; anything else is dropped with a warning." },
            "country": { "type": "string", "pattern": "^[A-Za-z]{2}$", "description": "ISO 3166-1 alpha-2; anything else is dropped with a warning." },
            "user_agent": string(512),
            "request_bytes": bounded("integer", json!(MAX_BYTES), "At most 1 TiB."),
            "response_bytes": bounded("integer", json!(MAX_BYTES), "At most 1 TiB."),
            "error": string(2000),
            "metadata": { "description": "Any JSON up to 8 KiB." },
            "prompt": { "type": "string", "description": "Checked for prompt injection; not stored." },
            "path": { "type": "string", "description": "The raw request path when `endpoint` is a route template: checked for attack patterns, not stored." },
            "query": { "type": "string", "description": "The query string without `?`: checked for attack patterns, not stored." },
            "referer": { "type": "string", "description": "The request's `Referer` header: checked for attack patterns, not stored." },
            "forwarded_for": { "type": "string", "description": "`X-Forwarded-For` hops the client wrote (not those of trusted proxies), comma-separated: hops that are not IP addresses are checked for attack patterns; not stored." }
        }
    })
}

pub fn spec() -> Value {
    let threat_types: Vec<&str> = sightline_tracker::wire::ThreatType::ALL
        .iter()
        .map(|t| t.as_str())
        .collect();
    let severities: Vec<&str> = sightline_tracker::wire::Severity::ALL
        .iter()
        .map(|t| t.as_str())
        .collect();
    let auth_types: Vec<&str> = sightline_tracker::wire::AuthEventType::ALL
        .iter()
        .map(|t| t.as_str())
        .collect();
    let error_reply =
        json!({ "application/json": { "schema": { "$ref": "#/components/schemas/Error" } } });
    let mut doc = json!({
        "openapi": "3.1.0",
        "info": {
            "title": "Sightline API",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "Feed Sightline with the requests, auth events, feedback and threats of an AI/LLM API platform, and read the dashboard and CSV exports back. Clients authenticate with an API key (`Authorization: Bearer sl_…`) whose scopes (`ingest`, `read`) are listed in each operation's security; the read endpoints also take the session cookie of a signed-in dashboard account."
        },
        "components": {
            "securitySchemes": {
                "apiKey": { "type": "http", "scheme": "bearer", "description": "An API key (`sightline api-key create`, or /settings). The names in a security requirement are the scopes the key needs (any one of the requirements)." },
                "session": { "type": "apiKey", "in": "cookie", "name": "sightline_session", "description": "The session of an account signed in to the dashboard (any role)." }
            },
            "schemas": {
                "Error": { "type": "object", "required": ["error"], "properties": { "error": { "type": "string" } } },
                "RequestEvent": request_event_schema(),
                "AuthEvent": {
                    "type": "object",
                    "required": ["event_type"],
                    "properties": {
                        "event_type": enumeration(&auth_types),
                        "user_id": user_id(),
                        "ip": { "type": "string" },
                        "user_agent": string(512),
                        "success": { "type": "boolean", "description": "Defaults to true, false for login_failed." },
                        "error": string(2000),
                        "metadata": {},
                        "timestamp": timestamp()
                    }
                },
                "FeedbackEvent": {
                    "type": "object",
                    "required": ["request_id", "rating"],
                    "properties": {
                        "request_id": { "type": "string", "maxLength": 128 },
                        "user_id": user_id(),
                        "rating": { "type": "integer", "minimum": 1, "maximum": 5 },
                        "comment": string(4000),
                        "timestamp": timestamp()
                    }
                },
                "ThreatEvent": {
                    "type": "object",
                    "required": ["threat_type", "severity"],
                    "properties": {
                        "threat_type": enumeration(&threat_types),
                        "severity": enumeration(&severities),
                        "ip": { "type": "string" },
                        "user_id": user_id(),
                        "country": { "type": "string", "pattern": "^[A-Za-z]{2}$" },
                        "endpoint": string(255),
                        "request_id": string(128),
                        "description": string(2000),
                        "timestamp": timestamp()
                    }
                },
                "IngestBatch": {
                    "type": "object",
                    "properties": {
                        "requests": { "type": "array", "items": { "$ref": "#/components/schemas/RequestEvent" } },
                        "auth_events": { "type": "array", "items": { "$ref": "#/components/schemas/AuthEvent" } },
                        "feedback": { "type": "array", "items": { "$ref": "#/components/schemas/FeedbackEvent" } },
                        "threats": { "type": "array", "items": { "$ref": "#/components/schemas/ThreatEvent" } }
                    },
                    "example": { "requests": [{ "request_id": "req_01", "endpoint": "/v1/chat/completions", "method": "POST", "status_code": 200, "latency_ms": 843.2, "model": "gpt-4o-mini", "prompt_tokens": 512, "completion_tokens": 128, "user_id": "user_42", "country": "DE" }] }
                },
                "EventIssue": {
                    "type": "object",
                    "required": ["index", "type", "error"],
                    "properties": {
                        "index": { "type": "integer", "description": "Position in its list (JSON) or line number from 0 (NDJSON)." },
                        "type": enumeration(&["request", "auth_event", "feedback", "threat", "unknown"]),
                        "error": { "type": "string" }
                    }
                },
                "IngestReply": {
                    "type": "object",
                    "required": ["accepted", "duplicates", "rejected", "errors"],
                    "properties": {
                        "accepted": { "type": "integer", "description": "Events stored by this call." },
                        "duplicates": { "type": "integer", "description": "Requests whose request_id was already stored." },
                        "rejected": { "type": "integer" },
                        "errors": { "type": "array", "items": { "$ref": "#/components/schemas/EventIssue" } },
                        "warnings": { "type": "array", "items": { "$ref": "#/components/schemas/EventIssue" } }
                    }
                }
            }
        },
        "security": [{ "apiKey": [] }],
        "paths": {
            "/api/v1/ingest": {
                "post": {
                    "summary": "Store a batch of events",
                    "security": [{ "apiKey": ["ingest"] }],
                    "description": format!("A key with the `ingest` scope. At most {MAX_EVENTS} events and {} per body. Valid events are stored even when others are rejected; the reply comes after they are committed.", size(MAX_BODY_BYTES)),
                    "requestBody": {
                        "required": true,
                        "content": {
                            "application/json": { "schema": { "$ref": "#/components/schemas/IngestBatch" } },
                            "application/x-ndjson": { "schema": { "type": "string", "description": "One event a line, each with \"type\": request, auth_event, feedback or threat." } }
                        }
                    },
                    "responses": {
                        "200": { "description": "Stored (see the counts and errors)", "content": { "application/json": { "schema": { "$ref": "#/components/schemas/IngestReply" } } } },
                        "400": { "description": "Malformed body, with its position", "content": error_reply },
                        "401": { "description": "Missing, invalid or revoked API key", "content": error_reply },
                        "403": { "description": "The key lacks the ingest scope", "content": error_reply },
                        "413": { "description": format!("Body over {}, or more than {MAX_EVENTS} events (reading stops at the first one over the limit)", size(MAX_BODY_BYTES)), "content": error_reply },
                        "415": { "description": "Unsupported Content-Type", "content": error_reply },
                        "503": { "description": "Write queue full or database unavailable: nothing stored; see Retry-After", "content": error_reply }
                    }
                }
            },
            "/api/v1/feedback": {
                "post": {
                    "summary": "Rate a response (1–5); rating again changes the rating",
                    "description": "A key with the `ingest` or `read` scope (a browser session is not enough).",
                    "security": [{ "apiKey": ["ingest"] }, { "apiKey": ["read"] }],
                    "requestBody": { "required": true, "content": { "application/json": { "schema": { "$ref": "#/components/schemas/FeedbackEvent" } } } },
                    "responses": {
                        "200": { "description": "Stored", "content": { "application/json": { "schema": { "type": "object", "properties": { "request_id": { "type": "string" }, "rating": { "type": "integer" }, "status": enumeration(&["created", "updated"]) } } } } },
                        "400": { "description": "Invalid feedback (not JSON, rating outside 1..5, a reserved `sightline:` user id, a timestamp outside the retention, …)", "content": error_reply },
                        "401": { "description": "Missing, invalid or revoked API key", "content": error_reply },
                        "403": { "description": "The key lacks the ingest and read scopes", "content": error_reply },
                        "413": { "description": "Body over the limit", "content": error_reply },
                        "503": { "description": "Write queue full or database unavailable; see Retry-After", "content": error_reply }
                    }
                }
            },
            "/api/v1/dashboard": read::dashboard_path(&error_reply),
            "/api/v1/alerts": read::alerts_path(&error_reply),
            "/api/v1/security": security::security_path(&error_reply),
            "/api/v1/endpoints": endpoints::endpoints_path(&error_reply),
            "/api/v1/errors": errors::errors_path(&error_reply),
            "/api/v1/providers": providers::providers_path(&error_reply),
            "/api/v1/health": {
                "get": {
                    "summary": "The server's health: database, rows, ingest queue, active users",
                    "description": "A key with the `read` scope, or the session of an admin (a viewer gets 403).",
                    "security": read::read_security(),
                    "responses": {
                        "200": { "description": "The health report", "content": { "application/json": { "schema": {
                            "type": "object",
                            "required": ["status", "version", "uptimeSeconds", "database", "rows", "ingest", "activeUsers"],
                            "properties": {
                                "status": { "type": "string", "enum": ["ok", "degraded"] },
                                "version": { "type": "string" },
                                "uptimeSeconds": { "type": "integer" },
                                "database": { "type": "object", "properties": { "kind": { "type": "string", "enum": ["sqlite", "postgres"] }, "sizeBytes": { "type": ["integer", "null"] }, "reachable": { "type": "boolean" } } },
                                "rows": { "type": ["object", "null"], "properties": { "requests": { "type": "integer" }, "sessions": { "type": "integer" }, "threats": { "type": "integer" }, "feedback": { "type": "integer" }, "authEvents": { "type": "integer" }, "alerts": { "type": "integer" } } },
                                "ingest": { "type": "object", "properties": { "queueDepth": { "type": "integer" }, "queueCapacity": { "type": "integer" }, "lastCommitAt": { "type": ["integer", "null"], "description": "Epoch ms of this process's latest commit" }, "lagMs": { "type": ["integer", "null"], "description": "Submission to commit of the latest batch" } } },
                                "activeUsers": { "type": ["object", "null"], "properties": { "today": { "type": "integer" }, "week": { "type": "integer" } } }
                            }
                        } } } },
                        "401": { "description": "No signed-in session and no valid API key (missing, invalid or revoked)", "content": error_reply },
                        "403": { "description": "A viewer's session, or a key without the read scope", "content": error_reply },
                        "503": { "description": "The database is unavailable; see Retry-After", "content": error_reply }
                    }
                }
            },
            "/v1/traces": {
                "post": {
                    "summary": "OTLP/HTTP trace export: spans become requests",
                    "description": format!("The standard OpenTelemetry path, so an exporter pointed at Sightline by `OTEL_EXPORTER_OTLP_ENDPOINT` needs nothing else. A key with the `ingest` scope as Bearer (`OTEL_EXPORTER_OTLP_HEADERS=Authorization=Bearer <key>`). An `ExportTraceServiceRequest` as protobuf or OTLP JSON, optionally gzip (`Content-Encoding: gzip`), at most {}. SERVER spans become the platform's requests, GenAI spans provider calls (see the README's mapping table); the reply comes after they are committed, in the request's encoding. Errors are a `google.rpc.Status` in the request's encoding.", size(crate::otlp::MAX_BODY_BYTES)),
                    "security": [{ "apiKey": ["ingest"] }],
                    "requestBody": {
                        "required": true,
                        "content": {
                            "application/x-protobuf": { "schema": { "type": "string", "format": "binary", "description": "opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest" } },
                            "application/json": { "schema": { "type": "object", "description": "The same message in the OTLP JSON encoding (hex ids, 64-bit integers as strings, camelCase keys)" } }
                        }
                    },
                    "responses": {
                        "200": { "description": "Committed: an ExportTraceServiceResponse, with `partialSuccess` (rejected spans and why) when some spans could not be used", "content": {
                            "application/x-protobuf": { "schema": { "type": "string", "format": "binary" } },
                            "application/json": { "schema": { "type": "object", "properties": { "partialSuccess": { "type": "object", "properties": { "rejectedSpans": { "type": "string" }, "errorMessage": { "type": "string" } } } } } }
                        } },
                        "400": { "description": "An undecodable body (not protobuf or JSON of the message, or bad gzip)", "content": otlp_status() },
                        "401": { "description": "Missing, invalid or revoked API key", "content": otlp_status() },
                        "403": { "description": "The key lacks the ingest scope", "content": otlp_status() },
                        "413": { "description": "Body over the limit", "content": otlp_status() },
                        "415": { "description": "Content-Type neither application/x-protobuf nor application/json", "content": otlp_status() },
                        "503": { "description": "Write queue full or database unavailable: nothing stored; exporters retry after Retry-After", "content": otlp_status() }
                    }
                }
            },
            "/v1/metrics": otlp_not_taken("metrics"),
            "/v1/logs": otlp_not_taken("logs"),
            "/api/v1/openapi.json": {
                "get": {
                    "summary": "This document",
                    "security": [],
                    "responses": { "200": { "description": "OpenAPI 3.1", "content": { "application/json": { "schema": { "type": "object" } } } } }
                }
            }
        }
    });
    if let Some(paths) = doc["paths"].as_object_mut() {
        paths.extend(read::export_paths(&error_reply));
    }
    if let Some(schemas) = doc["components"]["schemas"].as_object_mut() {
        schemas.extend(read::dashboard_schemas());
        schemas.extend(security::security_schemas());
        schemas.extend(endpoints::endpoints_schemas());
        schemas.extend(errors::errors_schemas());
        schemas.extend(providers::providers_schemas());
    }
    doc
}

/// The body of an OTLP/HTTP error: a `google.rpc.Status` in the request's encoding.
fn otlp_status() -> Value {
    json!({
        "application/x-protobuf": { "schema": { "type": "string", "format": "binary", "description": "google.rpc.Status" } },
        "application/json": { "schema": { "type": "object", "properties": { "code": { "type": "integer" }, "message": { "type": "string" } } } }
    })
}

/// `/v1/metrics` and `/v1/logs`: routed only to say that Sightline takes traces.
fn otlp_not_taken(signal: &str) -> Value {
    json!({
        "post": {
            "summary": format!("OTLP {signal}: not accepted"),
            "description": "Sightline accepts OTLP traces only (`POST /v1/traces`); this path answers 404 with a `google.rpc.Status` that says so, so an exporter's error names the reason.",
            "security": [],
            "responses": { "404": { "description": "Only traces are accepted", "content": otlp_status() } }
        }
    })
}

pub fn router() -> Router<AppState> {
    Router::new().route("/api/v1/openapi.json", get(document))
}

async fn document() -> Json<Value> {
    Json(spec())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The sources of the areas that route under `/api/v1/` and `/v1/` (each has its `router()`).
    const API_AREAS: &[&str] = &[
        include_str!("ingest_api.rs"),
        include_str!("dashboard_api.rs"),
        include_str!("alerts_api.rs"),
        include_str!("security_api.rs"),
        include_str!("errors_api.rs"),
        include_str!("monitoring.rs"),
        include_str!("export.rs"),
        include_str!("openapi.rs"),
        include_str!("otlp.rs"),
    ];

    /// The paths registered under `/api/v1/` and `/v1/` by the areas' routers with their methods,
    /// read from their sources so a route added there without a description here fails
    /// this test.
    fn registered_api_routes() -> Vec<(&'static str, Vec<&'static str>)> {
        API_AREAS
            .iter()
            .flat_map(|source| source.split(".route(").skip(1))
            .filter_map(|rest| {
                // The arguments of this `.route(…)` call, up to its closing parenthesis.
                let mut depth = 1;
                let end = rest.find(|c| {
                    depth += match c {
                        '(' => 1,
                        ')' => -1,
                        _ => 0,
                    };
                    depth == 0
                })?;
                let (path, handlers) = rest[..end]
                    .trim_start()
                    .strip_prefix('"')?
                    .split_once('"')?;
                let mut methods: Vec<&str> = ["get", "post", "put", "patch", "delete"]
                    .into_iter()
                    .filter(|m| {
                        [' ', '(', '.']
                            .iter()
                            .any(|c| handlers.contains(&format!("{c}{m}(")))
                    })
                    .collect();
                methods.sort_unstable();
                Some((path, methods))
            })
            .filter(|(path, _)| path.starts_with("/api/v1/") || path.starts_with("/v1/"))
            .collect()
    }

    /// Whether the document's `path` is an instance of the router's `route`, where a
    /// `{param}` segment of the route stands for any one segment.
    fn matches(route: &str, path: &str) -> bool {
        let (route, path): (Vec<&str>, Vec<&str>) =
            (route.split('/').collect(), path.split('/').collect());
        route.len() == path.len()
            && route
                .iter()
                .zip(&path)
                .all(|(r, p)| r == p || (r.starts_with('{') && r.ends_with('}') && !p.is_empty()))
    }

    #[test]
    fn every_api_route_is_described_and_nothing_else() {
        let doc = spec();
        let paths: Vec<&String> = doc["paths"].as_object().unwrap().keys().collect();
        let routed = registered_api_routes();
        let routes: Vec<&str> = routed.iter().map(|(path, _)| *path).collect();
        for expected in [
            "/api/v1/ingest",
            "/api/v1/feedback",
            "/api/v1/dashboard",
            "/api/v1/alerts",
            "/api/v1/security",
            "/api/v1/errors",
            "/api/v1/health",
            "/api/v1/export/{file}",
            "/v1/traces",
        ] {
            assert!(
                routes.contains(&expected),
                "the router should have {expected}: {routes:?}"
            );
        }
        for (route, methods) in &routed {
            let described: Vec<&String> = paths
                .iter()
                .copied()
                .filter(|p| matches(route, p))
                .collect();
            assert!(
                !described.is_empty(),
                "{route} is routed but not in the OpenAPI document"
            );
            assert!(!methods.is_empty(), "no method found for {route}");
            for path in described {
                let mut documented: Vec<&String> =
                    doc["paths"][path].as_object().unwrap().keys().collect();
                documented.sort_unstable();
                assert_eq!(
                    &documented, methods,
                    "the methods of {path} (routed as {route})"
                );
            }
        }
        for path in &paths {
            assert!(
                routes.iter().any(|r| matches(r, path)),
                "{path} is in the OpenAPI document but not routed"
            );
        }
        for file in [
            "requests",
            "threats",
            "feedback",
            "sessions",
            "auth_events",
            "audit",
        ] {
            assert!(
                doc["paths"][format!("/api/v1/export/{file}.csv")]["get"].is_object(),
                "{file}.csv"
            );
        }
    }

    #[test]
    fn every_operation_says_who_may_call_it_and_how_it_fails() {
        let doc = spec();
        let schemes = doc["components"]["securitySchemes"].as_object().unwrap();
        for (path, item) in doc["paths"].as_object().unwrap() {
            for (method, op) in item.as_object().unwrap() {
                let security = op["security"]
                    .as_array()
                    .unwrap_or_else(|| panic!("{method} {path}: no security"));
                for requirement in security {
                    for scheme in requirement.as_object().unwrap().keys() {
                        assert!(
                            schemes.contains_key(scheme),
                            "{method} {path}: unknown scheme {scheme}"
                        );
                    }
                }
                if !security.is_empty() {
                    for status in ["200", "401", "403"] {
                        assert!(
                            op["responses"][status].is_object(),
                            "{method} {path}: no {status}"
                        );
                    }
                }
            }
        }
        let scopes = |path: &str| doc["paths"][path]["get"]["security"].clone();
        assert_eq!(
            scopes("/api/v1/dashboard"),
            json!([{ "apiKey": ["read"] }, { "session": [] }])
        );
        assert_eq!(
            scopes("/api/v1/export/threats.csv"),
            json!([{ "apiKey": ["read"] }, { "session": [] }])
        );
        assert_eq!(
            doc["paths"]["/api/v1/ingest"]["post"]["security"],
            json!([{ "apiKey": ["ingest"] }])
        );
    }

    #[test]
    fn exports_take_their_views_filters_and_the_dashboard_lists_its_keys() {
        let doc = spec();
        let names = |file: &str| -> Vec<String> {
            doc["paths"][format!("/api/v1/export/{file}.csv")]["get"]["parameters"]
                .as_array()
                .unwrap()
                .iter()
                .map(|p| p["name"].as_str().unwrap().to_owned())
                .collect()
        };
        assert_eq!(
            names("requests"),
            [
                "range",
                "status",
                "kind",
                "service",
                "model",
                "endpoint",
                "user",
                "country",
                "q",
                "session",
                "error_group",
                "since",
                "until",
                "sort"
            ]
        );
        assert_eq!(
            names("threats"),
            ["type", "severity", "state", "range", "q"]
        );
        assert_eq!(names("feedback"), ["range", "request_id"]);
        assert_eq!(names("sessions"), ["range", "user"]);
        assert_eq!(
            names("auth_events"),
            ["range", "start", "end", "type", "user", "ip"]
        );
        assert_eq!(names("audit"), ["action", "actor", "since", "until"]);

        // The keys of SPEC §6, as the report serialises them.
        let report = &doc["components"]["schemas"]["DashboardReport"];
        let mut keys: Vec<&str> = report["properties"]
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        keys.sort_unstable();
        let mut spec_keys = [
            "range",
            "start",
            "end",
            "bucket",
            "generatedAt",
            "summary",
            "requests",
            "errorsBreakdown",
            "topModels",
            "costs",
            "latency",
            "topCountries",
            "users",
            "feedback",
            "threats",
            "alerts",
            // Added with the endpoints view (SPEC §13: each view has a dashboard card).
            "topEndpoints",
            // Added with the providers view.
            "providers",
            // Added with spending budgets (SPEC §13).
            "budgets",
        ];
        spec_keys.sort_unstable();
        assert_eq!(keys, spec_keys);
        // Every reference points at a schema of the document.
        let text = doc.to_string();
        for reference in text.split("\"#/components/schemas/").skip(1) {
            let name = reference.split('"').next().unwrap();
            assert!(
                doc["components"]["schemas"][name].is_object(),
                "dangling $ref {name}"
            );
        }
    }
}
