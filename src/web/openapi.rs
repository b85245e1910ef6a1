//! `GET /api/v1/openapi.json`: the API as OpenAPI 3.1. The schemas follow the wire
//! types of `sightline-tracker` and the rules of `ingest::validate`; a test checks that
//! the server accepts the document's examples and refuses what it marks invalid.

use axum::Json;
use serde_json::{Value, json};

use crate::ingest::{MAX_BODY_BYTES, MAX_EVENTS};

fn string(max: u32) -> Value {
    json!({ "type": "string", "maxLength": max, "description": format!("Longer values are truncated to {max} characters.") })
}

fn timestamp() -> Value {
    json!({
        "description": "RFC 3339 date-time or epoch milliseconds; now when absent. At most 1 day in the future.",
        "oneOf": [{ "type": "string", "format": "date-time" }, { "type": "integer", "minimum": 0 }]
    })
}

fn enumeration(values: &[&str]) -> Value {
    json!({ "type": "string", "enum": values })
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
    json!({
        "openapi": "3.1.0",
        "info": {
            "title": "Sightline API",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "Feed Sightline with the requests, auth events, feedback and threats of an AI/LLM API platform."
        },
        "components": {
            "securitySchemes": { "apiKey": { "type": "http", "scheme": "bearer", "description": "An API key (`sightline api-key create`)." } },
            "schemas": {
                "Error": { "type": "object", "required": ["error"], "properties": { "error": { "type": "string" } } },
                "RequestEvent": {
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
                        "latency_ms": { "type": "number", "minimum": 0 },
                        "ttft_ms": { "type": "number", "minimum": 0 },
                        "model": string(128),
                        "prompt_tokens": { "type": "integer", "minimum": 0 },
                        "completion_tokens": { "type": "integer", "minimum": 0 },
                        "cost_usd": { "type": "number", "minimum": 0, "maximum": 1_000_000, "description": "When absent, priced from the model price table (unknown models cost 0 and get a warning)." },
                        "finish_reason": string(64),
                        "user_id": string(255),
                        "session_id": string(255),
                        "is_authenticated": { "type": "boolean" },
                        "ip": { "type": "string", "description": "IPv4 or IPv6; anything else is dropped with a warning." },
                        "country": { "type": "string", "pattern": "^[A-Za-z]{2}$", "description": "ISO 3166-1 alpha-2; anything else is dropped with a warning." },
                        "user_agent": string(512),
                        "request_bytes": { "type": "integer", "minimum": 0 },
                        "response_bytes": { "type": "integer", "minimum": 0 },
                        "error": string(2000),
                        "metadata": { "description": "Any JSON up to 8 KiB." },
                        "prompt": { "type": "string", "description": "Checked for prompt injection; not stored." }
                    }
                },
                "AuthEvent": {
                    "type": "object",
                    "required": ["event_type"],
                    "properties": {
                        "event_type": enumeration(&auth_types),
                        "user_id": string(255),
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
                        "user_id": string(255),
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
                        "user_id": string(255),
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
                    "description": format!("A key with the `ingest` scope. At most {MAX_EVENTS} events and {} MiB per body. Valid events are stored even when others are rejected; the reply comes after they are committed.", MAX_BODY_BYTES / (1024 * 1024)),
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
                        "413": { "description": "Body or event count over the limit", "content": error_reply },
                        "415": { "description": "Unsupported Content-Type", "content": error_reply },
                        "503": { "description": "Write queue full or database unavailable: nothing stored; see Retry-After", "content": error_reply }
                    }
                }
            },
            "/api/v1/feedback": {
                "post": {
                    "summary": "Rate a response (1–5); rating again changes the rating",
                    "description": "A key with the `ingest` or `read` scope.",
                    "requestBody": { "required": true, "content": { "application/json": { "schema": { "$ref": "#/components/schemas/FeedbackEvent" } } } },
                    "responses": {
                        "200": { "description": "Stored", "content": { "application/json": { "schema": { "type": "object", "properties": { "request_id": { "type": "string" }, "rating": { "type": "integer" }, "status": enumeration(&["created", "updated"]) } } } } },
                        "400": { "description": "Invalid feedback", "content": error_reply },
                        "401": { "description": "Missing, invalid or revoked API key", "content": error_reply },
                        "403": { "description": "The key lacks the ingest and read scopes", "content": error_reply },
                        "503": { "description": "Write queue full or database unavailable", "content": error_reply }
                    }
                }
            }
        }
    })
}

pub async fn document() -> Json<Value> {
    Json(spec())
}
