use std::sync::Arc;

use crate::range::TimeRange;
use crate::report::DashboardReport;

/// What the pages need from the server. The server crate implements it over its store
/// and provides it to every render and server-function call as a Leptos context.
#[async_trait::async_trait]
pub trait Backend: Send + Sync + 'static {
    /// Every card of the dashboard for `range`, as of `now`.
    async fn dashboard(&self, range: &TimeRange, now: i64)
    -> Result<DashboardReport, BackendError>;
}

/// The backend as the pages receive it.
pub type SharedBackend = Arc<dyn Backend>;

/// A failure the UI can show: the message is written for an admin, not a developer.
#[derive(Debug, thiserror::Error)]
pub enum BackendError {
    #[error("the database is unavailable: {0}")]
    Unavailable(String),
}

/// The backend of the current request; missing only if the server was wired wrongly.
pub(crate) fn backend() -> Result<SharedBackend, leptos::prelude::ServerFnError> {
    leptos::prelude::use_context::<SharedBackend>()
        .ok_or_else(|| leptos::prelude::ServerFnError::ServerError("no backend in context".into()))
}
