//! The pages' [`Backend`], answered from the store.

use sightline_app::api::{Backend, BackendError};
use sightline_app::dto::{RequestBucket, RequestOverview};
use sightline_app::time::{HOUR_MS, floor_to};

use crate::store::{Store, StoreError};

pub struct StoreBackend {
    store: Store,
}

impl StoreBackend {
    pub fn new(store: Store) -> Self {
        StoreBackend { store }
    }
}

impl From<StoreError> for BackendError {
    fn from(e: StoreError) -> Self {
        tracing::error!(error = %e, "dashboard query failed");
        BackendError::Unavailable(e.to_string())
    }
}

#[async_trait::async_trait]
impl Backend for StoreBackend {
    async fn request_overview(&self, now: i64) -> Result<RequestOverview, BackendError> {
        let start = floor_to(now, HOUR_MS) - 23 * HOUR_MS;
        let end = now + 1;
        let counts = self.store.request_counts(start, end, HOUR_MS).await?;
        let mut counts = counts.into_iter().peekable();
        let buckets = (0..24)
            .map(|i| {
                let bucket_start = start + i * HOUR_MS;
                match counts.next_if(|c| c.bucket_start == bucket_start) {
                    Some(c) => RequestBucket {
                        start: bucket_start,
                        ok: c.ok,
                        errors: c.errors,
                    },
                    None => RequestBucket {
                        start: bucket_start,
                        ok: 0,
                        errors: 0,
                    },
                }
            })
            .collect();
        Ok(RequestOverview {
            start,
            end,
            bucket_ms: HOUR_MS,
            buckets,
            generated_at: now,
        })
    }
}
