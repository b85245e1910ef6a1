//! The pages' [`Backend`], answered from the store.

use sightline_app::api::{Backend, BackendError};
use sightline_app::range::TimeRange;
use sightline_app::report::DashboardReport;

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
    async fn dashboard(
        &self,
        range: &TimeRange,
        now: i64,
    ) -> Result<DashboardReport, BackendError> {
        Ok(crate::dashboard::report(&self.store, range, now).await?)
    }
}
