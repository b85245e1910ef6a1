//! `GET /api/v1/providers` in the OpenAPI document: the providers view as JSON, and
//! the row and card schemas the dashboard's `providers` shares.

use serde_json::{Map, Value, json};
use sightline_app::providers::{CARD_ROWS, MAX_LISTED, ProviderSort};

use super::endpoints::{RankedDoc, ranked_path};
use super::read::object;

/// `GET /api/v1/providers`.
pub fn providers_path(error_reply: &Value) -> Value {
    ranked_path(
        error_reply,
        RankedDoc {
            summary: "Per-provider calls, errors, latency percentiles, tokens and cost",
            description: format!(
                "A key with the `read` scope, or a signed-in session. The calls the platform made to providers (kind `external`: the tracker's `track_external`, the gateway, OTLP GenAI spans) per provider (`service`) over the range, from the rollups: counts, tokens and money exact, percentiles within 2% of exact. At most {MAX_LISTED} providers by `sort` (`more` counts the rest), every provider's cost per bucket, and the buckets of one provider."
            ),
            sorts: ProviderSort::ALL.iter().map(|s| s.as_str()).collect(),
            sort_doc: "Most first: calls (`calls`), failed calls (`errors`), 95th percentile latency (`p95`) or total cost (`cost`); ties by provider.",
            selected: ("provider", "provider"),
            schema: "ProvidersReport",
            reply: "The providers",
        },
    )
}

/// `ProvidersReport`, `ProviderRow` and `ProvidersCard`.
pub fn providers_schemas() -> Map<String, Value> {
    let int = || json!({ "type": "integer" });
    let money = || json!({ "type": "integer", "description": "Micro-dollars (1e-6 USD)." });
    let ms = || json!({ "type": ["number", "null"], "description": "Milliseconds; null without calls." });
    let sorts: Vec<&str> = ProviderSort::ALL.iter().map(|s| s.as_str()).collect();
    let rows = |max: usize| json!({ "type": "array", "maxItems": max, "items": { "$ref": "#/components/schemas/ProviderRow" } });
    let schemas = json!({
        "ProviderRow": object(json!({
            "service": { "type": "string", "description": "The provider as ingested (`service`); empty for calls that named none." },
            "calls": int(), "errors": int(),
            "errorRate": { "type": ["number", "null"], "description": "errors / calls." },
            "p50Ms": ms(), "p95Ms": ms(), "p99Ms": ms(), "avgLatencyMs": ms(),
            "promptTokens": int(), "completionTokens": int(),
            "tokens": { "type": "integer", "description": "Prompt and completion tokens." },
            "costMicros": money(),
            "costShare": { "type": ["number", "null"], "description": "Of the cost of every provider in the range (0..1); null when nothing cost anything." }
        })),
        "ProvidersCard": object(json!({
            "totalCalls": int(), "totalErrors": int(), "totalCostMicros": money(),
            "top": rows(CARD_ROWS)
        })),
        "ProvidersReport": object(json!({
            "range": { "type": "string", "enum": ["24h", "7d", "1m", "3m", "custom"] },
            "start": int(),
            "end": { "type": "integer", "description": "Epoch milliseconds, exclusive." },
            "bucket": { "type": "string", "enum": ["hour", "day"] },
            "generatedAt": int(),
            "sort": { "type": "string", "enum": sorts },
            "totalCalls": int(), "totalErrors": int(), "totalCostMicros": money(),
            "providers": rows(MAX_LISTED),
            "more": { "type": "integer", "description": "Providers with calls in the range that are not listed." },
            "costs": object(json!({
                "providers": { "type": "array", "items": { "type": "string" }, "description": "The dearest providers, then `other` for the rest." },
                "points": { "type": "array", "description": "One point a bucket; costMicros[i] belongs to providers[i].", "items": object(json!({ "t": int(), "costMicros": { "type": "array", "items": int() } })) }
            })),
            "selected": { "type": ["string", "null"], "description": "The provider of `series`." },
            "series": { "type": "array", "description": "One point a bucket.", "items": object(json!({
                "t": int(), "calls": int(), "errors": int(), "p95Ms": ms()
            })) }
        }))
    });
    match schemas {
        Value::Object(map) => map,
        _ => Map::new(),
    }
}
