//! `GET /api/v1/errors` in the OpenAPI document: the errors view as JSON.

use serde_json::{Map, Value, json};
use sightline_app::errors::{
    ErrorSort, MAX_GROUPS_PER_DAY, MAX_LISTED, OTHER_GROUP, TOP_PER_GROUP,
};

use super::read::{dashboard_path, object, query, read_security};

/// `GET /api/v1/errors`: the dashboard's range parameters, and the sort.
pub fn errors_path(error_reply: &Value) -> Value {
    let mut path = dashboard_path(error_reply);
    let get = &mut path["get"];
    get["summary"] = json!(
        "The platform's failed requests grouped by message: counts, first and last seen, statuses, endpoints"
    );
    get["description"] = json!(format!(
        "A key with the `read` scope, or a signed-in session. Served requests (kind `api`) with an error message, or with a status of 400 or more, grouped by their message with the variable parts (numbers, ids, quoted values, addresses, tokens) as placeholders; from the rollups, counts exact. A UTC day holds at most {MAX_GROUPS_PER_DAY} groups, further messages count in the group `{OTHER_GROUP}`. At most {MAX_LISTED} groups by `sort` (`more` counts the rest). A group's requests: `/requests?range=all&error_group=<fingerprint>`."
    ));
    let sorts: Vec<&str> = ErrorSort::ALL.iter().map(|s| s.as_str()).collect();
    if let Some(parameters) = get["parameters"].as_array_mut() {
        parameters.push(query(
            "sort",
            "Most first: requests in the range (`count`) or the latest request (`last_seen`); ties by fingerprint.",
            json!({ "type": "string", "enum": sorts, "default": "count" }),
        ));
    }
    get["responses"]["200"] = json!({ "description": "The error groups", "content": { "application/json": { "schema": { "$ref": "#/components/schemas/ErrorsReport" } } } });
    get["responses"]["400"]["description"] =
        json!("Unknown range or sort, or a custom range without a valid start and end");
    get["security"] = read_security();
    path
}

/// The parameters of `errors.csv`: the view's.
pub fn export_params(error_reply: &Value) -> Vec<Value> {
    errors_path(error_reply)["get"]["parameters"]
        .as_array()
        .cloned()
        .unwrap_or_default()
}

/// `ErrorsReport` and `ErrorGroupRow`.
pub fn errors_schemas() -> Map<String, Value> {
    let int = || json!({ "type": "integer" });
    let ms = |what: &str| json!({ "type": "integer", "description": format!("Epoch milliseconds: {what}.") });
    let sorts: Vec<&str> = ErrorSort::ALL.iter().map(|s| s.as_str()).collect();
    let shares = |key: Value| {
        json!({ "type": "array", "maxItems": TOP_PER_GROUP, "description": "The most requests first.",
            "items": object(json!({ "key": key, "requests": int() })) })
    };
    let schemas = json!({
        "ErrorGroupRow": object(json!({
            "fingerprint": { "type": "string", "pattern": "^([0-9a-f]{16}|other)$", "description": "The group: the explorer's `error_group` filter." },
            "pattern": { "type": "string", "maxLength": 200, "description": "The message with its variable parts as <n>, <str>, <uuid>, <hex>, <ip>, <email>, <url>, <token>." },
            "example": { "type": "string", "maxLength": 500, "description": "The group's first message seen." },
            "requests": int(),
            "share": { "type": ["number", "null"], "description": "Of all grouped requests in the range (0..1)." },
            "firstSeenAt": ms("the group's first request in the range"),
            "lastSeenAt": ms("its latest request in the range"),
            "groupFirstSeenAt": ms("its first request ever, as far as its rollups reach back"),
            "isNew": { "type": "boolean", "description": "First seen inside the range." },
            "statuses": shares(json!({ "type": "integer" })),
            "moreStatuses": int(),
            "endpoints": shares(json!({ "type": "string" })),
            "moreEndpoints": int()
        })),
        "ErrorsReport": object(json!({
            "range": { "type": "string", "enum": ["24h", "7d", "1m", "3m", "custom"] },
            "start": int(),
            "end": { "type": "integer", "description": "Epoch milliseconds, exclusive." },
            "generatedAt": int(),
            "sort": { "type": "string", "enum": sorts },
            "totalErrors": { "type": "integer", "description": "Requests in a group in the range." },
            "totalGroups": int(),
            "newGroups": { "type": "integer", "description": "Groups first seen inside the range." },
            "groups": { "type": "array", "maxItems": MAX_LISTED, "items": { "$ref": "#/components/schemas/ErrorGroupRow" } },
            "more": { "type": "integer", "description": "Groups with requests in the range that are not listed." }
        }))
    });
    match schemas {
        Value::Object(map) => map,
        _ => Map::new(),
    }
}
