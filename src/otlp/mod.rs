//! OpenTelemetry in: an OTLP trace export (protobuf or OTLP JSON, possibly gzipped)
//! decoded with the `opentelemetry-proto` types, and its spans turned into request
//! events that go through the native ingest's validation, pricing and inspection
//! (`ingest::add_request`) into one `IngestWrite`, with the spans the parent/child rule
//! needs (`lineage`). The HTTP edge is `web::otlp`.

mod attributes;
pub mod lineage;
pub mod mapping;

use std::collections::{HashMap, HashSet};
use std::io::Read;

use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use prost::Message;

use crate::ingest::{self, Horizon};
use crate::pricing::PriceTable;
use crate::store::{IngestWrite, NewSpan, SpanRole, SpanUsage};
use mapping::SpanEvent;

/// Largest export accepted, after decompression.
pub const MAX_BODY_BYTES: usize = 20 * 1024 * 1024;
/// Most spans in one export (the SDKs send 512 at most by default).
pub const MAX_SPANS: usize = 20_000;
/// How many rejected spans the reply describes one by one.
const REASONS_SHOWN: usize = 5;

/// How an export is encoded.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Encoding {
    Protobuf,
    Json,
}

impl Encoding {
    /// From the `Content-Type` (parameters ignored); `None` for anything else.
    pub fn from_content_type(content_type: &str) -> Option<Encoding> {
        let mime = content_type.split(';').next().unwrap_or("").trim();
        match mime.to_ascii_lowercase().as_str() {
            "application/x-protobuf" | "application/protobuf" => Some(Encoding::Protobuf),
            "application/json" => Some(Encoding::Json),
            _ => None,
        }
    }

    pub fn content_type(self) -> &'static str {
        match self {
            Encoding::Protobuf => "application/x-protobuf",
            Encoding::Json => "application/json",
        }
    }
}

/// Why an export could not be read at all.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ExportError {
    #[error("the export is larger than {} MiB once decompressed", MAX_BODY_BYTES / (1024 * 1024))]
    TooLarge,
    #[error("{0} spans in one export; the limit is {MAX_SPANS}")]
    TooManySpans(usize),
    #[error("the gzip body cannot be decompressed: {0}")]
    Gzip(String),
    #[error("the body is not an OTLP ExportTraceServiceRequest in protobuf: {0}")]
    Protobuf(String),
    #[error("the body is not an OTLP ExportTraceServiceRequest in JSON: {0}")]
    Json(String),
}

/// Decompresses a gzip body, refusing to grow it past [`MAX_BODY_BYTES`].
pub fn gunzip(body: &[u8]) -> Result<Vec<u8>, ExportError> {
    let mut out = Vec::with_capacity(body.len().saturating_mul(4).min(MAX_BODY_BYTES));
    let limit = MAX_BODY_BYTES as u64 + 1;
    flate2::read::MultiGzDecoder::new(body)
        .take(limit)
        .read_to_end(&mut out)
        .map_err(|e| ExportError::Gzip(e.to_string()))?;
    if out.len() > MAX_BODY_BYTES {
        return Err(ExportError::TooLarge);
    }
    Ok(out)
}

/// Decodes an export in `encoding`.
pub fn decode(body: &[u8], encoding: Encoding) -> Result<ExportTraceServiceRequest, ExportError> {
    let export = match encoding {
        Encoding::Protobuf => ExportTraceServiceRequest::decode(body)
            .map_err(|e| ExportError::Protobuf(e.to_string()))?,
        Encoding::Json => {
            serde_json::from_slice(body).map_err(|e| ExportError::Json(e.to_string()))?
        }
    };
    let spans = span_count(&export);
    if spans > MAX_SPANS {
        return Err(ExportError::TooManySpans(spans));
    }
    Ok(export)
}

fn span_count(export: &ExportTraceServiceRequest) -> usize {
    export
        .resource_spans
        .iter()
        .flat_map(|r| &r.scope_spans)
        .map(|s| s.spans.len())
        .sum()
}

/// An export, validated: what to write, and what was rejected.
#[derive(Default)]
pub struct PreparedExport {
    pub write: IngestWrite,
    /// Spans that were unusable: their position in the export and why.
    pub rejected: Vec<(usize, String)>,
    /// Requests stored with a remark (a long string cut, a model without a price).
    pub warnings: Vec<(usize, String)>,
}

impl PreparedExport {
    /// The message of a partial success: how many spans were rejected and the first
    /// reasons, or `None` when every span was usable.
    pub fn rejection_message(&self) -> Option<String> {
        if self.rejected.is_empty() {
            return None;
        }
        let shown: Vec<String> = self
            .rejected
            .iter()
            .take(REASONS_SHOWN)
            .map(|(i, why)| format!("span {i}: {why}"))
            .collect();
        let more = self.rejected.len().saturating_sub(REASONS_SHOWN);
        let tail = if more > 0 {
            format!("; and {more} more")
        } else {
            String::new()
        };
        Some(format!(
            "{} span(s) rejected: {}{tail}",
            self.rejected.len(),
            shown.join("; ")
        ))
    }
}

/// Maps and validates every span of `export` within `horizon`, pricing with `prices`.
/// Spans are numbered in export order, across resources and scopes, from 0.
pub fn prepare(
    export: &ExportTraceServiceRequest,
    horizon: &Horizon,
    prices: &PriceTable,
) -> PreparedExport {
    let mut out = PreparedExport::default();
    let mut index = 0;
    for resource in &export.resource_spans {
        let attrs = resource.resource.as_ref().map(|r| r.attributes.as_slice());
        let service = mapping::service_name(attrs.unwrap_or_default());
        for span in resource.scope_spans.iter().flat_map(|s| &s.spans) {
            add_span(&mut out, index, span, service.as_deref(), horizon, prices);
            index += 1;
        }
    }
    lineage::count_within(&mut out.write.spans);
    add_usage_within(&mut out.write);
    out
}

/// Adds the usage of each GenAI span counted within the export to its server request's
/// row (the first of its id), each span once. The store takes back what a repeated span
/// added (`store::otlp_spans`).
fn add_usage_within(write: &mut IngestWrite) {
    let IngestWrite {
        requests, spans, ..
    } = write;
    let mut rows: HashMap<&str, usize> = HashMap::new();
    for (i, r) in requests.iter().enumerate() {
        rows.entry(r.request_id.as_str()).or_insert(i);
    }
    // The row each span's usage goes to: the first span of each call id only.
    let mut counted: HashSet<&str> = HashSet::new();
    let targets: Vec<Option<usize>> = spans
        .iter()
        .map(|s| {
            let (Some(server), Some(call)) = (&s.counted_on, &s.request_id) else {
                return None;
            };
            let row = *rows.get(server.as_str())?;
            counted.insert(call.as_str()).then_some(row)
        })
        .collect();
    for (s, target) in spans.iter_mut().zip(targets) {
        if s.counted_on.is_none() {
            continue;
        }
        let added =
            target.is_some_and(|row| crate::store::add_usage_to(&mut requests[row], &s.usage));
        if !added {
            // A repeat of a span counted above, or usage that would overflow the row's
            // totals: left to the store, which counts it once (or logs the overflow).
            s.counted_on = None;
        }
    }
}

fn add_span(
    out: &mut PreparedExport,
    index: usize,
    span: &opentelemetry_proto::tonic::trace::v1::Span,
    service: Option<&str>,
    horizon: &Horizon,
    prices: &PriceTable,
) {
    let ids = match mapping::span_ids(span) {
        Ok(ids) => ids,
        Err(why) => return out.rejected.push((index, why.to_string())),
    };
    let created_at = i64::try_from(span.start_time_unix_nano / 1_000_000).unwrap_or(i64::MAX);
    let mut link = NewSpan {
        request_id: None,
        role: SpanRole::Other,
        usage: SpanUsage::default(),
        counted_on: None,
        created_at: created_at.clamp(0, horizon.now),
        trace_id: ids.trace_id.clone(),
        span_id: ids.span_id.clone(),
        parent_span_id: ids.parent_span_id.clone(),
    };
    let (role, event) = match mapping::map_span(span, &ids, service) {
        Ok(SpanEvent::Other) => (SpanRole::Other, None),
        Ok(SpanEvent::Server(e)) => (SpanRole::Server, Some(e)),
        Ok(SpanEvent::Provider(e)) => (SpanRole::Provider, Some(e)),
        Err(why) => {
            out.rejected.push((index, why.to_string()));
            (SpanRole::Other, None)
        }
    };
    if let Some(event) = event {
        match ingest::add_request(&mut out.write, *event, horizon, prices) {
            Ok(warnings) => {
                out.warnings
                    .extend(warnings.into_iter().map(|w| (index, w)));
                if let Some(row) = out.write.requests.last() {
                    link.role = role;
                    link.request_id = Some(row.request_id.clone());
                    // A server span's own usage, before its calls' is added to the row.
                    link.usage = SpanUsage::of(row);
                }
            }
            Err(why) => out.rejected.push((index, why.to_string())),
        }
    }
    // Every span with usable ids is part of its trace's tree, even one whose request was
    // rejected: its children still reach the server span above it.
    out.write.spans.push(link);
}
