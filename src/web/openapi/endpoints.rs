//! `GET /api/v1/endpoints` in the OpenAPI document: the endpoints view as JSON, and
//! the row schema the dashboard's `topEndpoints` shares.

use serde_json::{Map, Value, json};
use sightline_app::endpoints::{EndpointSort, MAX_LISTED};

use super::read::{dashboard_path, object, query, read_security};

/// What differs between the ranked views' operations (endpoints, providers).
pub(super) struct RankedDoc<'a> {
    pub summary: &'a str,
    pub description: String,
    pub sorts: Vec<&'static str>,
    pub sort_doc: &'a str,
    /// The parameter naming the row whose buckets `series` holds, and what it names.
    pub selected: (&'a str, &'a str),
    /// The reply's schema and what the 200 is.
    pub schema: &'a str,
    pub reply: &'a str,
}

/// A ranked view's `GET`: the dashboard's range parameters, the sort and the charted row.
pub(super) fn ranked_path(error_reply: &Value, doc: RankedDoc) -> Value {
    let mut path = dashboard_path(error_reply);
    let get = &mut path["get"];
    get["summary"] = json!(doc.summary);
    get["description"] = json!(doc.description);
    let default = doc.sorts.first().copied().unwrap_or_default();
    if let Some(parameters) = get["parameters"].as_array_mut() {
        parameters.push(query(
            "sort",
            doc.sort_doc,
            json!({ "type": "string", "enum": doc.sorts, "default": default }),
        ));
        let (name, what) = doc.selected;
        parameters.push(query(
            name,
            &format!("The {what} whose buckets `series` holds; the first listed when absent."),
            json!({ "type": "string" }),
        ));
    }
    get["responses"]["200"] = json!({ "description": doc.reply, "content": { "application/json": { "schema": { "$ref": format!("#/components/schemas/{}", doc.schema) } } } });
    get["responses"]["400"]["description"] =
        json!("Unknown range or sort, or a custom range without a valid start and end");
    get["security"] = read_security();
    path
}

/// `GET /api/v1/endpoints`.
pub fn endpoints_path(error_reply: &Value) -> Value {
    ranked_path(
        error_reply,
        RankedDoc {
            summary: "Per-endpoint volume, errors, latency percentiles, tokens and cost",
            description: format!(
                "A key with the `read` scope, or a signed-in session. The platform's served requests (kind `api`) per endpoint over the range, from the rollups: counts, tokens and money exact, percentiles within 2% of exact. At most {MAX_LISTED} endpoints by `sort` (`more` counts the rest), and the buckets of one endpoint."
            ),
            sorts: EndpointSort::ALL.iter().map(|s| s.as_str()).collect(),
            sort_doc: "Most first: requests (`volume`), failed requests (`errors`), 95th percentile latency (`p95`) or total cost (`cost`); ties by endpoint.",
            selected: ("endpoint", "endpoint"),
            schema: "EndpointsReport",
            reply: "The endpoints",
        },
    )
}

/// `EndpointsReport` and `EndpointRow`.
pub fn endpoints_schemas() -> Map<String, Value> {
    let int = || json!({ "type": "integer" });
    let ms = || json!({ "type": ["number", "null"], "description": "Milliseconds; null without requests." });
    let avg = |what: &str| json!({ "type": ["number", "null"], "description": format!("{what} per request; null without requests.") });
    let sorts: Vec<&str> = EndpointSort::ALL.iter().map(|s| s.as_str()).collect();
    let schemas = json!({
        "EndpointRow": object(json!({
            "endpoint": { "type": "string", "description": "The route template (or path) as ingested, at most 255 characters." },
            "requests": int(), "errors": int(),
            "errorRate": { "type": ["number", "null"], "description": "errors / requests." },
            "p50Ms": ms(), "p95Ms": ms(), "p99Ms": ms(), "avgLatencyMs": ms(),
            "tokens": { "type": "integer", "description": "Prompt and completion tokens." },
            "avgTokens": avg("Tokens"),
            "costMicros": { "type": "integer", "description": "Micro-dollars (1e-6 USD)." },
            "avgCostMicros": avg("Micro-dollars"),
            "share": { "type": ["number", "null"], "description": "Of all the platform's requests in the range (0..1)." }
        })),
        "EndpointsReport": object(json!({
            "range": { "type": "string", "enum": ["24h", "7d", "1m", "3m", "custom"] },
            "start": int(),
            "end": { "type": "integer", "description": "Epoch milliseconds, exclusive." },
            "bucket": { "type": "string", "enum": ["hour", "day"] },
            "generatedAt": int(),
            "sort": { "type": "string", "enum": sorts },
            "totalRequests": int(),
            "endpoints": { "type": "array", "maxItems": MAX_LISTED, "items": { "$ref": "#/components/schemas/EndpointRow" } },
            "more": { "type": "integer", "description": "Endpoints with requests in the range that are not listed." },
            "selected": { "type": ["string", "null"], "description": "The endpoint of `series`." },
            "series": { "type": "array", "description": "One point a bucket.", "items": object(json!({
                "t": int(), "requests": int(), "errors": int(), "p95Ms": ms()
            })) }
        }))
    });
    match schemas {
        Value::Object(map) => map,
        _ => Map::new(),
    }
}
