//! The one-time fill of the per-endpoint and per-provider latency histograms that
//! migration 0011 added, from the raw requests stored before it. Their bins come from
//! the ingest's own code (`RollupDelta`), so they are exactly what a rebuild makes.

use super::dimensions::Dimension;
use super::rollups::write_dimension_latency;
use super::{NewRequest, Store, StoreError};
use crate::rollup::RollupDelta;

/// The `settings` key migration 0011 leaves while the histograms wait for their fill.
const PENDING_KEY: &str = "backfill_dimension_latency";

/// Raw requests read at a time.
const PAGE: i64 = 5_000;

impl Store {
    /// Fills the histograms if migration 0011 asked for it, in one write transaction
    /// that also clears the request, so it happens once (a crash half-way leaves it to
    /// the next start). Returns how many raw requests were read.
    pub(super) async fn backfill_dimension_latency(&self) -> Result<u64, StoreError> {
        let mut tx = self.begin_write().await?;
        if !super::settings::fill_pending(&mut tx, PENDING_KEY).await? {
            return Ok(0);
        }
        let mut done = 0u64;
        let mut pages = super::requests::RequestPages::new("", "TRUE");
        loop {
            let rows = pages.next(&mut tx, PAGE).await?;
            if rows.is_empty() {
                break;
            }
            let mut delta = RollupDelta::default();
            for row in &rows {
                let request: NewRequest = super::requests::request_from_row(row)?;
                delta.add_request(&request);
            }
            write_dimension_latency(&mut tx, Dimension::Endpoint, &delta.endpoint_latency).await?;
            write_dimension_latency(&mut tx, Dimension::Service, &delta.service_latency).await?;
            done += rows.len() as u64;
        }
        super::settings::fill_done(&mut tx, PENDING_KEY).await?;
        tx.commit().await?;
        if done > 0 {
            tracing::info!(
                requests = done,
                "filled the per-endpoint and per-provider latency histograms"
            );
        }
        Ok(done)
    }
}
