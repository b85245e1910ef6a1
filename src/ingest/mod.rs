//! Ingest: parsing a body of events, validating each, and the group-commit writer.
//! The HTTP edges that take events in (`web::ingest_api`, and any other way in) turn
//! what they receive into events, [`prepare`] them into one [`IngestWrite`], submit it
//! to the [`IngestQueue`] and answer once it is committed.

pub mod horizon;
pub mod parse;
pub mod validate;
pub mod writer;

use sightline_tracker::wire::{EventIssue, IngestReply, RequestEvent};

use crate::pricing::PriceTable;
use crate::store::IngestWrite;
pub use horizon::{Horizon, RetentionHorizon};
use parse::{EventKind, RawEvent};
pub use writer::{IngestQueue, SubmitError};

/// Largest body accepted.
pub const MAX_BODY_BYTES: usize = 10 * 1024 * 1024;
/// Most events in one body.
pub const MAX_EVENTS: usize = 10_000;

/// A body's events, validated: what to write, and the reply so far (errors and
/// warnings by index; `accepted` and `duplicates` are known after the commit).
#[derive(Default)]
pub struct Prepared {
    pub write: IngestWrite,
    pub reply: IngestReply,
}

impl Prepared {
    /// Events of each type that are to be written.
    pub fn valid_by_type(&self) -> [(&'static str, u64); 4] {
        let w = &self.write;
        [
            ("request", w.requests.len() as u64),
            ("feedback", w.feedback.len() as u64),
            ("threat", w.threats.len() as u64),
            ("auth_event", w.auth_events.len() as u64),
        ]
    }
}

fn issue(index: usize, kind: Option<EventKind>, error: String) -> EventIssue {
    EventIssue {
        index,
        event_type: kind.map_or("unknown", EventKind::as_str).to_string(),
        error,
    }
}

/// Validates each parsed event of a body against `horizon` (the instants its events
/// may carry: get it from [`RetentionHorizon::at`]), pricing requests with `prices`.
pub fn prepare(events: Vec<RawEvent<'_>>, horizon: &Horizon, prices: &PriceTable) -> Prepared {
    let mut prepared = Prepared::default();
    for raw in events {
        let (kind, value) = match raw.event {
            Ok(ok) => ok,
            Err((kind, error)) => {
                prepared.reply.errors.push(issue(raw.index, kind, error));
                continue;
            }
        };
        let write = &mut prepared.write;
        let outcome = match kind {
            EventKind::Request => validate::decode(value)
                .and_then(|e: RequestEvent| add_request(write, e, horizon, prices)),
            EventKind::Feedback => validate::decode(value)
                .and_then(|e| validate::feedback(e, horizon))
                .map(|(row, w)| {
                    write.feedback.push(row);
                    w
                }),
            EventKind::Threat => validate::decode(value)
                .and_then(|e| validate::threat(e, horizon))
                .map(|(row, w)| {
                    write.threats.push(row);
                    w
                }),
            EventKind::AuthEvent => validate::decode(value)
                .and_then(|e| validate::auth_event(e, horizon))
                .map(|(row, w)| {
                    write.auth_events.push(row);
                    w
                }),
        };
        let reply = &mut prepared.reply;
        match outcome {
            Ok(w) => reply
                .warnings
                .extend(w.into_iter().map(|w| issue(raw.index, Some(kind), w))),
            Err(error) => reply
                .errors
                .push(issue(raw.index, Some(kind), error.to_string())),
        }
    }
    prepared.reply.rejected = prepared.reply.errors.len() as u64;
    prepared
}

/// Validates one request event and adds it to `write` (with what detection should
/// inspect of it); the warnings, or why it was rejected.
pub fn add_request(
    write: &mut IngestWrite,
    mut event: RequestEvent,
    horizon: &Horizon,
    prices: &PriceTable,
) -> Result<validate::Warnings, validate::Rejection> {
    let inspected = validate::inspected(&mut event);
    let (row, warnings) = validate::request(event, horizon, prices, new_request_id)?;
    if !inspected.is_empty() {
        write.inspected.push((write.requests.len(), inspected));
    }
    write.requests.push(row);
    Ok(warnings)
}

/// A fresh request id: a UUIDv7 for the request's instant.
fn new_request_id(t: i64) -> String {
    let random: [u8; 10] = rand::random();
    uuid::Builder::from_unix_timestamp_millis(t.max(0) as u64, &random)
        .into_uuid()
        .to_string()
}
