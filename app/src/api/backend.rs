use std::sync::Arc;

use http::StatusCode;
use http::request::Parts;
use leptos::prelude::{ServerFnError, use_context};

use crate::auth::CurrentUser;
use crate::paging::Cursor;
use crate::query::QueryError;
use crate::range::TimeRange;
use crate::report::DashboardReport;
use crate::requests::{RequestCursor, RequestDetail, RequestFilter, RequestPage};
use crate::threats::{ThreatFilter, ThreatPage, ThreatSelection};
use crate::units::EpochMillis;

/// What the pages need from the server. The server crate implements it over its store
/// and provides it to every render and server-function call as a Leptos context. The
/// settings page's part is [`super::SettingsBackend`].
#[async_trait::async_trait]
pub trait Backend: super::SettingsBackend + Send + Sync + 'static {
    /// Every card of the dashboard for `range`, as of `now`.
    async fn dashboard(
        &self,
        range: &TimeRange,
        now: EpochMillis,
    ) -> Result<DashboardReport, BackendError>;

    /// The endpoints of `range` by `sort`, with `endpoint` (else the first) per bucket.
    async fn endpoints(
        &self,
        range: &TimeRange,
        sort: crate::endpoints::EndpointSort,
        endpoint: Option<String>,
        now: EpochMillis,
    ) -> Result<crate::endpoints::EndpointsReport, BackendError>;

    /// The error groups of `range` by `sort`, at most `limit` listed.
    async fn errors(
        &self,
        range: &TimeRange,
        sort: crate::errors::ErrorSort,
        limit: usize,
        now: EpochMillis,
    ) -> Result<crate::errors::ErrorsReport, BackendError>;

    /// The providers of `range` by `sort`, with `provider` (else the first) per bucket.
    async fn providers(
        &self,
        range: &TimeRange,
        sort: crate::providers::ProviderSort,
        provider: Option<String>,
        now: EpochMillis,
    ) -> Result<crate::providers::ProvidersReport, BackendError>;

    /// Checks the password (with throttling), records the attempt, and on success puts
    /// the account into the web session of `request`.
    async fn login(
        &self,
        request: &Parts,
        username: &str,
        password: &str,
    ) -> Result<CurrentUser, BackendError>;

    /// Whether any dashboard account exists.
    async fn has_accounts(&self) -> Result<bool, BackendError>;

    /// A page of the threats view.
    async fn threats(
        &self,
        filter: &ThreatFilter,
        after: Option<Cursor>,
    ) -> Result<ThreatPage, BackendError>;

    /// Resolves (`resolve`) or reopens the selection as `user`; returns how many changed.
    async fn set_threat_state(
        &self,
        user: &CurrentUser,
        selection: &ThreatSelection,
        resolve: bool,
    ) -> Result<u64, BackendError>;

    /// A page of the requests explorer.
    async fn requests(
        &self,
        filter: &RequestFilter,
        after: Option<RequestCursor>,
    ) -> Result<RequestPage, BackendError>;

    /// One request in detail, with `user`'s own rating; `NotFound` if it is unknown.
    async fn request_detail(
        &self,
        user: &CurrentUser,
        request_id: &str,
    ) -> Result<RequestDetail, BackendError>;

    /// Stores (or changes) `user`'s rating of a request, already checked; `NotFound`
    /// if the request is unknown.
    async fn rate_request(
        &self,
        user: &CurrentUser,
        request_id: &str,
        rating: i32,
        comment: Option<String>,
    ) -> Result<(), BackendError>;

    /// A page of the sessions view.
    async fn sessions(
        &self,
        filter: &crate::export::SessionFilter,
        after: Option<Cursor>,
    ) -> Result<crate::sessions::SessionPage, BackendError>;

    /// A page of the users view.
    async fn users(
        &self,
        filter: &crate::users::UserFilter,
        after: Option<crate::users::UserCursor>,
    ) -> Result<crate::users::UserPage, BackendError>;

    /// A platform user's totals and latest sessions; `NotFound` if the user is unknown.
    async fn user_detail(&self, user_id: &str) -> Result<crate::users::UserDetail, BackendError>;

    /// The security view for `range` and `filter`, as of `now`.
    async fn security(
        &self,
        range: &TimeRange,
        filter: &crate::security::AuthFilter,
        now: EpochMillis,
    ) -> Result<crate::security::SecurityReport, BackendError>;

    /// The security figures of `range` and of the period before it.
    async fn security_summary(
        &self,
        range: &TimeRange,
        filter: &crate::security::AuthFilter,
    ) -> Result<crate::security::SecuritySummary, BackendError>;
}

/// The backend as the pages receive it.
pub type SharedBackend = Arc<dyn Backend>;

/// A failure the UI can show: the message is written for an admin, not a developer.
#[derive(Debug, thiserror::Error)]
pub enum BackendError {
    #[error("the database is unavailable: {0}")]
    Unavailable(String),
    /// The input cannot be used as it is (400).
    #[error("{0}")]
    Invalid(String),
    /// Wrong username or password (401).
    #[error("{0}")]
    Unauthorized(String),
    /// The signed-in account's role does not allow it (403).
    #[error("{0}")]
    Forbidden(String),
    /// Too many attempts; try again later (429).
    #[error("{0}")]
    TooManyAttempts(String),
    /// The thing asked for does not exist (404).
    #[error("{0}")]
    NotFound(String),
}

impl From<QueryError> for BackendError {
    fn from(e: QueryError) -> BackendError {
        BackendError::Invalid(e.to_string())
    }
}

impl BackendError {
    pub fn status(&self) -> StatusCode {
        match self {
            BackendError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            BackendError::Invalid(_) => StatusCode::BAD_REQUEST,
            BackendError::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            BackendError::Forbidden(_) => StatusCode::FORBIDDEN,
            BackendError::TooManyAttempts(_) => StatusCode::TOO_MANY_REQUESTS,
            BackendError::NotFound(_) => StatusCode::NOT_FOUND,
        }
    }
}

/// The backend of the current request; missing only if the server was wired wrongly.
pub(crate) fn backend() -> Result<SharedBackend, ServerFnError> {
    use_context::<SharedBackend>()
        .ok_or_else(|| ServerFnError::ServerError("no backend in context".into()))
}

/// The HTTP request being answered (leptos_axum provides it to renders and server
/// functions).
pub(crate) fn request_parts() -> Result<Parts, ServerFnError> {
    use_context::<Parts>().ok_or_else(|| ServerFnError::ServerError("no request in context".into()))
}

/// The account the server authenticated for this request, if any.
pub(crate) fn signed_in() -> Option<CurrentUser> {
    use_context::<Parts>()?
        .extensions
        .get::<CurrentUser>()
        .cloned()
}

/// The signed-in account, or a 401. The server's middleware already refuses server
/// functions without a session; this is the second lock on the same door.
pub(crate) fn require_user() -> Result<CurrentUser, ServerFnError> {
    signed_in().ok_or_else(|| fail(BackendError::Unauthorized("sign in first".into())))
}

/// The signed-in account if it is an admin, else a 403.
pub(crate) fn require_admin() -> Result<CurrentUser, ServerFnError> {
    let user = require_user()?;
    if user.is_admin() {
        Ok(user)
    } else {
        Err(fail(BackendError::Forbidden(format!(
            "{} is a viewer: this needs the admin role",
            user.username
        ))))
    }
}

/// A list view's query, for a signed-in account: the filter and cursor `resolve`
/// makes of it now, or a 400 naming the bad parameter.
pub(crate) fn list_query<F, C>(
    resolve: impl FnOnce(EpochMillis) -> Result<(F, Option<C>), QueryError>,
) -> Result<(F, Option<C>), ServerFnError> {
    require_user()?;
    resolve(EpochMillis::now()).map_err(|e| fail(e.into()))
}

/// The range of a view's URL parameters at `now`, or a 400 naming the bad one.
pub(crate) fn range_of(
    range: Option<String>,
    start: Option<String>,
    end: Option<String>,
    now: EpochMillis,
) -> Result<TimeRange, ServerFnError> {
    TimeRange::from_query(range.as_deref(), start.as_deref(), end.as_deref(), now)
        .map_err(|e| fail(e.into()))
}

/// Turns a backend failure into a server-function error with the matching HTTP status.
pub(crate) fn fail(e: BackendError) -> ServerFnError {
    if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
        response.set_status(e.status());
    }
    ServerFnError::ServerError(e.to_string())
}
