//! Writing what the ingest API accepted: several batches (from concurrent API calls)
//! share one transaction, so one commit acknowledges them all.

use super::{
    FeedbackOutcome, NewAuthEvent, NewFeedback, NewRequest, NewSpan, NewThreat, Store, StoreError,
    anonymize, auth_events, feedback, otlp_spans, requests, threats,
};

/// The valid events of one API call, ready to store.
#[derive(Clone, Debug, Default)]
pub struct IngestWrite {
    pub requests: Vec<NewRequest>,
    pub feedback: Vec<NewFeedback>,
    pub threats: Vec<NewThreat>,
    pub auth_events: Vec<NewAuthEvent>,
    /// What detection reads of some requests (by index in `requests`) and the store
    /// never keeps.
    pub inspected: Vec<(usize, Inspected)>,
    /// The spans of an OTLP trace export (their requests are in `requests`): kept for
    /// the rule that counts GenAI usage on the server span's request above it.
    pub spans: Vec<NewSpan>,
}

/// The parts of a request event that are inspected for attacks, never stored: the raw
/// path and query string, the `Referer` and forwarded-for header values, and the prompt.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Inspected {
    pub path: Option<String>,
    pub query: Option<String>,
    pub referer: Option<String>,
    pub forwarded_for: Option<String>,
    pub prompt: Option<String>,
}

impl Inspected {
    pub fn is_empty(&self) -> bool {
        self.path.is_none()
            && self.query.is_none()
            && self.referer.is_none()
            && self.forwarded_for.is_none()
            && self.prompt.is_none()
    }
}

impl IngestWrite {
    pub fn len(&self) -> usize {
        self.requests.len() + self.feedback.len() + self.threats.len() + self.auth_events.len()
    }

    /// Nothing to write: no event and no span.
    pub fn is_empty(&self) -> bool {
        self.len() == 0 && self.spans.is_empty()
    }
}

/// What storing one [`IngestWrite`] did: for each request, whether it was new (else a
/// duplicate of a stored `request_id`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct IngestWritten {
    pub fresh_requests: Vec<bool>,
    pub feedback: Vec<FeedbackOutcome>,
}

impl Store {
    /// Stores every write of `group` in one transaction, requests first (as one batch,
    /// in order) with the spans of OTLP exports (and the usage GenAI spans carry up to
    /// their server requests), then each write's feedback, threats and auth events. All
    /// or nothing.
    pub async fn write_ingest_group(
        &self,
        group: &[&IngestWrite],
    ) -> Result<Vec<IngestWritten>, StoreError> {
        let mut tx = self.begin_write().await?;
        // As stored: with the IP policy's form of each address.
        let stored: Vec<std::borrow::Cow<'_, NewRequest>> = group
            .iter()
            .flat_map(|w| w.requests.iter())
            .map(|r| anonymize::one(self.ip_anonymize, r))
            .collect();
        let all: Vec<&NewRequest> = stored.iter().map(|r| r.as_ref()).collect();
        let fresh = requests::record_requests_in(&mut tx, &all, self.kind).await?;
        otlp_spans::settle_in(&mut tx, group, &all, &fresh, self.kind).await?;
        let mut written = Vec::with_capacity(group.len());
        let mut offset = 0;
        for w in group {
            let n = w.requests.len();
            let feedback = feedback::record_feedback_in(&mut tx, &w.feedback).await?;
            written.push(IngestWritten {
                fresh_requests: fresh[offset..offset + n].to_vec(),
                feedback,
            });
            offset += n;
            threats::record_threats_in(&mut tx, &anonymize::all(self.ip_anonymize, &w.threats))
                .await?;
            auth_events::record_auth_events_in(
                &mut tx,
                auth_events::AuthSource::Platform,
                &anonymize::all(self.ip_anonymize, &w.auth_events),
            )
            .await?;
        }
        tx.commit().await?;
        Ok(written)
    }
}
