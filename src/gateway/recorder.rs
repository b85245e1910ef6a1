//! Where the gateway's finished calls go: a bounded channel
//! (`SIGHTLINE_PROXY_RECORD_QUEUE`), drained by one task that turns whatever has queued
//! up into one ingest batch (priced once) and waits for its commit before it takes the
//! next: while the database is busy, calls gather into a larger batch instead of
//! filling the ingest queue one by one. The proxied answer never waits for any of it:
//! a full channel (or an ingest queue full of other traffic) drops the record, counted
//! in `sightline_gateway_calls_total{outcome="dropped"}`.

use std::sync::Arc;

use tokio::sync::mpsc;

use super::CallRecord;
use crate::ingest::{self, IngestQueue, RetentionHorizon};
use crate::metrics::Metrics;
use crate::pricing::Prices;
use crate::store::IngestWrite;

/// Most calls in one ingest batch.
const MAX_BATCH: usize = 1_000;

/// The sending side; cheap to clone.
#[derive(Clone)]
pub struct Recorder {
    tx: mpsc::Sender<CallRecord>,
    metrics: Arc<Metrics>,
}

impl Recorder {
    /// Starts the recording task; it ends once every `Recorder` is dropped and what was
    /// sent is handed to the ingest queue.
    /// At most `capacity` calls wait to be recorded.
    pub fn start(
        ingest: IngestQueue,
        prices: Arc<Prices>,
        horizon: Arc<RetentionHorizon>,
        metrics: Arc<Metrics>,
        capacity: usize,
    ) -> Recorder {
        let (tx, rx) = mpsc::channel(capacity.max(1));
        tokio::spawn(run(rx, ingest, prices, horizon, metrics.clone()));
        Recorder { tx, metrics }
    }

    /// Hands `call` over without waiting; when the channel is full it is dropped.
    pub fn record(&self, call: CallRecord) {
        if let Err(e) = self.tx.try_send(call) {
            let call = match e {
                mpsc::error::TrySendError::Full(c) | mpsc::error::TrySendError::Closed(c) => c,
            };
            tracing::warn!(provider = %call.provider, "gateway recording behind: call not recorded");
            self.metrics.gateway_call(&call.provider, "dropped");
        }
    }
}

async fn run(
    mut rx: mpsc::Receiver<CallRecord>,
    ingest: IngestQueue,
    prices: Arc<Prices>,
    horizon: Arc<RetentionHorizon>,
    metrics: Arc<Metrics>,
) {
    let mut calls = Vec::with_capacity(MAX_BATCH);
    while rx.recv_many(&mut calls, MAX_BATCH).await > 0 {
        let prices = prices.current().await;
        let horizon = horizon.at(chrono::Utc::now().timestamp_millis()).await;
        let mut write = IngestWrite::default();
        let mut providers = Vec::with_capacity(calls.len());
        for call in calls.drain(..) {
            let provider = call.provider.clone();
            match ingest::add_request(&mut write, call.into_event(), &horizon, &prices) {
                Ok(_) => providers.push(provider),
                Err(reason) => {
                    tracing::warn!(%provider, %reason, "proxied call could not be recorded");
                    metrics.gateway_call(&provider, "rejected");
                }
            }
        }
        if providers.is_empty() {
            continue;
        }
        let outcome = match ingest.submit(write).await {
            Ok(_) => "recorded",
            Err(e) => {
                tracing::warn!(calls = providers.len(), error = ?e, "proxied calls not recorded");
                "dropped"
            }
        };
        for provider in providers {
            metrics.gateway_call(&provider, outcome);
        }
    }
}
