//! The security view's part of the OpenAPI document: `GET /api/v1/security` (its report
//! as JSON), the `auth_events.csv` export's parameters, and the report's schema. The
//! parameters follow `sightline_app::security::SecurityQuery`.

use serde_json::{Map, Value, json};
use sightline_app::security::{AUTH_EVENT_TYPES, TOP};

use super::read::{
    enumeration, epoch_ms, object, query, range_params, read_security, responses, text,
};

/// `type`, `user` and `ip`: what narrows the view and its export.
pub(super) fn filter_params() -> Vec<Value> {
    let types: Vec<&str> = AUTH_EVENT_TYPES.iter().map(|(name, _)| *name).collect();
    vec![
        query("type", "Event type.", enumeration(&types)),
        query(
            "user",
            "Platform user id (exact, at most 255 characters).",
            text(),
        ),
        query("ip", "Client IP (exact, at most 255 characters).", text()),
    ]
}

/// `GET /api/v1/security`.
pub fn security_path(error_reply: &Value) -> Value {
    let mut parameters = range_params();
    parameters.extend(filter_params());
    json!({
        "get": {
            "summary": "The security view: the platform's auth events as JSON",
            "description": format!("A key with the `read` scope, or a signed-in session. The tracked platform's auth events (not Sightline's own sign-ins) of the buckets from `start` to `end`, as the dashboard's ranges: counts per bucket and type, failures and the failure rate (failed events / events) with the previous period, the top {TOP} failing IPs and users, the top {TOP} IPs by threat occurrences (threats raised in the range; narrowed by `user` and `ip` only), and per UTC day the platform's active users (with requests) and successful signups (not narrowed by the filter). Counts are exact."),
            "security": read_security(),
            "parameters": parameters,
            "responses": responses(
                json!({ "description": "The security view", "content": { "application/json": { "schema": { "$ref": "#/components/schemas/SecurityReport" } } } }),
                error_reply,
                "Unknown range or type, a custom range without a valid start and end, a user or IP over 255 characters",
            )
        }
    })
}

/// The parameters of `GET /api/v1/export/auth_events.csv`.
pub(super) fn export_params() -> Vec<Value> {
    let mut parameters = vec![query(
        "range",
        "Only events of this range (as `/api/v1/security`); every event when absent or `all`.",
        json!({ "type": "string", "enum": ["24h", "7d", "1m", "3m", "custom", "all"], "default": "all" }),
    )];
    parameters.extend(range_params().into_iter().skip(1));
    parameters.extend(filter_params());
    parameters
}

/// The security report.
pub fn security_schemas() -> Map<String, Value> {
    let int = || json!({ "type": "integer" });
    let figures = object(json!({
        "events": int(), "failures": { "type": "integer", "description": "Events with success false." },
        "failureRate": { "type": ["number", "null"], "description": "failures / events; null without events." },
        "signups": { "type": "integer", "description": "Successful signups." },
        "logins": { "type": "integer", "description": "Successful logins." }
    }));
    let failing = object(
        json!({ "key": { "type": "string", "description": "The IP or the user id." }, "failures": int(), "lastFailedAt": epoch_ms() }),
    );
    let nullable = |schema: Value| json!({ "oneOf": [schema, { "type": "null" }] });
    let schemas = json!({
        "SecurityReport": object(json!({
            "range": enumeration(&["24h", "7d", "1m", "3m", "custom"]),
            "start": epoch_ms(),
            "end": { "type": "integer", "description": "Epoch milliseconds, exclusive." },
            "bucket": enumeration(&["hour", "day"]),
            "generatedAt": epoch_ms(),
            "filter": object(json!({
                "since": epoch_ms(), "until": epoch_ms(),
                "eventType": nullable(text()), "user": nullable(text()), "ip": nullable(text())
            })),
            "summary": object(json!({ "current": { "$ref": "#/components/schemas/SecurityFigures" }, "previous": { "$ref": "#/components/schemas/SecurityFigures" } })),
            "buckets": { "type": "array", "description": "One point a bucket: events per type (successful or not) and the failed ones.", "items": object(json!({
                "t": epoch_ms(), "signup": int(), "login": int(), "logout": int(), "loginFailed": int(),
                "tokenRefresh": int(), "passwordReset": int(), "failures": int()
            })) },
            "failingIps": { "type": "array", "items": failing.clone() },
            "failingUsers": { "type": "array", "items": failing },
            "threatIps": { "type": "array", "items": object(json!({ "ip": text(), "threats": int(), "occurrences": int(), "lastSeenAt": epoch_ms() })) },
            "daily": { "type": "array", "description": "Every UTC day the range touches.", "items": object(json!({ "day": epoch_ms(), "activeUsers": int(), "signups": int() })) }
        })),
        "SecurityFigures": figures
    });
    match schemas {
        Value::Object(map) => map,
        _ => Map::new(),
    }
}
