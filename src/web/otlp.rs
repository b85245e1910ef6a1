//! OpenTelemetry in: `POST /v1/traces`, the standard OTLP/HTTP path, so an exporter
//! pointed at Sightline by `OTEL_EXPORTER_OTLP_ENDPOINT` alone finds it. Protobuf or
//! OTLP JSON, gzip allowed, with the ingest key as Bearer. The spans are mapped by
//! `otlp` and committed through the native ingest's queue before the reply (an
//! `ExportTraceServiceResponse` in the request's encoding, with a partial success
//! when some spans were unusable). Errors are `google.rpc.Status` messages, as OTLP
//! asks. `/v1/metrics` and `/v1/logs` answer that only traces are accepted.

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::extract::rejection::BytesRejection;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use opentelemetry_proto::tonic::collector::trace::v1::{
    ExportTracePartialSuccess, ExportTraceServiceResponse,
};
use prost::Message;
use sightline_tracker::wire::{EventIssue, IngestReply};

use super::AppState;
use super::api_auth::IngestKey;
use super::api_error::ApiError;
use super::ingest_api::commit;
use crate::ingest::Prepared;
use crate::otlp::{self, Encoding, ExportError};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/v1/traces", post(traces))
        .route("/v1/metrics", post(not_traces))
        .route("/v1/logs", post(not_traces))
}

/// A body over the limit, refused as OTLP asks: a `Status` in the request's encoding.
pub fn refusal(headers: &HeaderMap, e: ApiError) -> Response {
    let encoding = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(Encoding::from_content_type)
        .unwrap_or(Encoding::Json);
    otlp_error(e, encoding)
}

/// `google.rpc.Status`, the body of an OTLP/HTTP error reply.
#[derive(Clone, PartialEq, prost::Message, serde::Serialize)]
struct RpcStatus {
    #[prost(int32, tag = "1")]
    code: i32,
    #[prost(string, tag = "2")]
    message: String,
}

/// An error reply: `e`'s status and headers (`Retry-After`, `WWW-Authenticate`), with
/// its message as a `google.rpc.Status` in `encoding`.
fn otlp_error(e: ApiError, encoding: Encoding) -> Response {
    let message = e.to_string();
    let mut response = e.into_response();
    // The gRPC code of the same meaning, as OTLP's Status carries one.
    let code = match response.status() {
        StatusCode::BAD_REQUEST | StatusCode::UNSUPPORTED_MEDIA_TYPE => 3,
        StatusCode::UNAUTHORIZED => 16,
        StatusCode::FORBIDDEN => 7,
        StatusCode::PAYLOAD_TOO_LARGE => 8,
        StatusCode::SERVICE_UNAVAILABLE => 14,
        _ => 13,
    };
    let status = RpcStatus { code, message };
    let body = match encoding {
        Encoding::Protobuf => status.encode_to_vec(),
        Encoding::Json => serde_json::to_vec(&status).unwrap_or_default(),
    };
    *response.body_mut() = body.into();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(encoding.content_type()),
    );
    response
}

/// The OTLP JSON form of an `ExportTraceServiceResponse`: int64 as a decimal string.
fn response_json(partial: Option<&ExportTracePartialSuccess>) -> Vec<u8> {
    let value = match partial {
        Some(p) => serde_json::json!({
            "partialSuccess": {
                "rejectedSpans": p.rejected_spans.to_string(),
                "errorMessage": p.error_message,
            }
        }),
        None => serde_json::json!({}),
    };
    value.to_string().into_bytes()
}

/// `POST /v1/traces`.
async fn traces(
    State(state): State<AppState>,
    key: Result<IngestKey, ApiError>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let Some(encoding) = Encoding::from_content_type(content_type) else {
        let e = ApiError::UnsupportedMediaType(format!(
            "unsupported Content-Type `{content_type}`: send application/x-protobuf or application/json"
        ));
        return otlp_error(e, Encoding::Json);
    };
    match export(&state, key, &headers, body, encoding).await {
        Ok(response) => response,
        Err(e) => otlp_error(e, encoding),
    }
}

async fn export(
    state: &AppState,
    key: Result<IngestKey, ApiError>,
    headers: &HeaderMap,
    body: Result<Bytes, BytesRejection>,
    encoding: Encoding,
) -> Result<Response, ApiError> {
    key?;
    let too_large = |e: ExportError| ApiError::TooLarge(e.to_string());
    let body = body.map_err(|e| {
        if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
            super::body_limit::too_large(state.body_limits.otlp)
        } else {
            ApiError::BadRequest("the request body could not be read".into())
        }
    })?;
    let content_encoding = headers
        .get(header::CONTENT_ENCODING)
        .and_then(|v| v.to_str().ok())
        .map(|v| v.trim().to_ascii_lowercase());
    let raw = match content_encoding.as_deref() {
        None | Some("") | Some("identity") => body,
        Some("gzip") => Bytes::from(otlp::gunzip(&body).map_err(|e| match e {
            ExportError::TooLarge => too_large(e),
            e => ApiError::BadRequest(e.to_string()),
        })?),
        Some(other) => {
            return Err(ApiError::UnsupportedMediaType(format!(
                "unsupported Content-Encoding `{other}`: send gzip or no encoding"
            )));
        }
    };
    let export = otlp::decode(&raw, encoding).map_err(|e| match e {
        ExportError::TooManySpans(_) => too_large(e),
        e => ApiError::BadRequest(e.to_string()),
    })?;
    drop(raw);
    let now = chrono::Utc::now().timestamp_millis();
    let prices = state.prices.current().await;
    let prepared = otlp::prepare(&export, &state.horizon.at(now).await, &prices);
    drop(export);

    let message = prepared.rejection_message();
    let errors: Vec<EventIssue> = prepared
        .rejected
        .iter()
        .map(|(index, error)| EventIssue {
            index: *index,
            event_type: "request".into(),
            error: error.clone(),
        })
        .collect();
    let reply = IngestReply {
        rejected: errors.len() as u64,
        errors,
        ..IngestReply::default()
    };
    commit(
        state,
        Prepared {
            write: prepared.write,
            reply,
        },
    )
    .await?;

    let partial = message.map(|error_message| ExportTracePartialSuccess {
        rejected_spans: prepared.rejected.len() as i64,
        error_message,
    });
    let body = match encoding {
        Encoding::Protobuf => ExportTraceServiceResponse {
            partial_success: partial,
        }
        .encode_to_vec(),
        Encoding::Json => response_json(partial.as_ref()),
    };
    Ok(([(header::CONTENT_TYPE, encoding.content_type())], body).into_response())
}

/// `POST /v1/metrics`, `POST /v1/logs`: not taken, said so in the sender's encoding.
async fn not_traces(headers: HeaderMap) -> Response {
    let encoding = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(Encoding::from_content_type)
        .unwrap_or(Encoding::Json);
    let e = ApiError::NotFound(
        "Sightline accepts OTLP traces only (POST /v1/traces); send metrics and logs elsewhere"
            .into(),
    );
    otlp_error(e, encoding)
}
