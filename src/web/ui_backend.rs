//! The pages' [`Backend`], answered from the store.

use std::sync::Arc;

use axum::http::request::Parts;
use sightline_app::api::{Backend, BackendError};
use sightline_app::auth::CurrentUser;
use sightline_app::paging::Cursor;
use sightline_app::range::TimeRange;
use sightline_app::report::DashboardReport;
use sightline_app::requests::{RequestCursor, RequestDetail, RequestFilter, RequestPage, rater_id};
use sightline_app::threats::{PAGE_SIZE, ThreatFilter, ThreatPage, ThreatSelection};
use sightline_app::units::EpochMillis;

use crate::auth::throttle::{Attempt, Gate, Refused};
use crate::ingest::RetentionHorizon;
use crate::pricing::Prices;
use crate::store::{NewFeedback, Store, StoreError};

mod settings;

pub struct StoreBackend {
    store: Store,
    /// `SIGHTLINE_RETENTION_DAYS`: the retention until an admin sets one.
    default_retention_days: u32,
    /// The ingest's price cache, forgotten when an admin changes a price.
    prices: Arc<Prices>,
    /// The ingest's retention cache, forgotten when an admin changes the retention.
    horizon: Arc<RetentionHorizon>,
    /// The sign-in throttle and the password-hashing slots of this process.
    sign_in: Arc<Gate>,
    /// How long a sign-in lasts at most, however active (`SIGHTLINE_SESSION_MAX_DAYS`).
    session_lifetime_ms: i64,
    /// The spending budgets (the dashboard's card, the settings).
    budgets: crate::budgets::Budgets,
}

impl StoreBackend {
    pub fn new(
        store: Store,
        default_retention_days: u32,
        prices: Arc<Prices>,
        horizon: Arc<RetentionHorizon>,
        sign_in: Arc<Gate>,
        session_lifetime_ms: i64,
        budgets: crate::budgets::Budgets,
    ) -> Self {
        StoreBackend {
            budgets,
            sign_in,
            store,
            default_retention_days,
            prices,
            horizon,
            session_lifetime_ms,
        }
    }
}

/// What a client is told when the database failed it.
const RETRY_SHORTLY: &str = "try again shortly";

impl From<StoreError> for BackendError {
    fn from(e: StoreError) -> Self {
        // The database's own text (SQL, driver, host names) stays in the log: sign-in
        // answers anonymous clients.
        tracing::error!(error = %e, "dashboard query failed");
        BackendError::Unavailable(RETRY_SHORTLY.into())
    }
}

#[async_trait::async_trait]
impl Backend for StoreBackend {
    async fn dashboard(
        &self,
        range: &TimeRange,
        now: EpochMillis,
    ) -> Result<DashboardReport, BackendError> {
        Ok(crate::dashboard::report(&self.store, &self.budgets, range, now).await?)
    }

    async fn endpoints(
        &self,
        range: &TimeRange,
        sort: sightline_app::endpoints::EndpointSort,
        endpoint: Option<String>,
        now: EpochMillis,
    ) -> Result<sightline_app::endpoints::EndpointsReport, BackendError> {
        Ok(crate::endpoints::report(&self.store, range, sort, endpoint, now).await?)
    }

    async fn errors(
        &self,
        range: &TimeRange,
        sort: sightline_app::errors::ErrorSort,
        limit: usize,
        now: EpochMillis,
    ) -> Result<sightline_app::errors::ErrorsReport, BackendError> {
        Ok(crate::errors::report(&self.store, range, sort, limit, now).await?)
    }

    async fn providers(
        &self,
        range: &TimeRange,
        sort: sightline_app::providers::ProviderSort,
        provider: Option<String>,
        now: EpochMillis,
    ) -> Result<sightline_app::providers::ProvidersReport, BackendError> {
        Ok(crate::providers::report(&self.store, range, sort, provider, now).await?)
    }

    async fn login(
        &self,
        request: &Parts,
        username: &str,
        password: &str,
    ) -> Result<CurrentUser, BackendError> {
        let session = request
            .extensions
            .get::<tower_sessions::Session>()
            .ok_or_else(|| BackendError::Unavailable("no web session layer".into()))?;
        let attempt = Attempt {
            username,
            password,
            ip: crate::auth::request_ip(request),
            user_agent: crate::auth::user_agent(&request.headers),
        };
        let now = chrono::Utc::now().timestamp_millis();
        let (account, stamp) = self.sign_in.sign_in(&attempt, now).await.map_err(|e| {
            if let Some(secs) = e.retry_after_secs()
                && let Some(response) =
                    leptos::prelude::use_context::<leptos_axum::ResponseOptions>()
            {
                response.insert_header(
                    axum::http::header::RETRY_AFTER,
                    axum::http::HeaderValue::from(secs),
                );
            }
            match e {
                Refused::WrongCredentials => BackendError::Unauthorized(e.to_string()),
                Refused::Throttled { .. } | Refused::Busy => {
                    BackendError::TooManyAttempts(e.to_string())
                }
                Refused::Store(e) => e.into(),
            }
        })?;
        let user = CurrentUser {
            id: account.id,
            username: account.username,
            role: account.role,
            ip: Some(attempt.ip.clone()),
        };
        let expires_at = now.saturating_add(self.session_lifetime_ms);
        crate::auth::open_session(session, &user, &stamp, expires_at)
            .await
            .map_err(|e| {
                tracing::error!(error = %e, "could not open a web session");
                BackendError::Unavailable(RETRY_SHORTLY.into())
            })?;
        tracing::info!(username = %user.username, role = %user.role, "signed in");
        crate::audit::record(&self.store, &user, "signed_in", None, None).await;
        Ok(user)
    }

    async fn has_accounts(&self) -> Result<bool, BackendError> {
        Ok(self.store.has_accounts().await?)
    }

    async fn threats(
        &self,
        filter: &ThreatFilter,
        after: Option<Cursor>,
    ) -> Result<ThreatPage, BackendError> {
        Ok(self.store.threat_page(filter, after, PAGE_SIZE).await?)
    }

    async fn set_threat_state(
        &self,
        user: &CurrentUser,
        selection: &ThreatSelection,
        resolve: bool,
    ) -> Result<u64, BackendError> {
        if !user.is_admin() {
            return Err(BackendError::Forbidden(
                "resolving threats needs the admin role".into(),
            ));
        }
        let now = chrono::Utc::now().timestamp_millis();
        let changed = self
            .store
            .set_threat_state(selection, resolve, &user.username, now)
            .await?;
        tracing::info!(username = %user.username, resolve, changed, "threat state changed");
        crate::audit::record(
            &self.store,
            user,
            if resolve {
                "threats.resolved"
            } else {
                "threats.reopened"
            },
            None,
            Some(serde_json::json!({ "changed": changed, "selection": selection })),
        )
        .await;
        Ok(changed)
    }

    async fn requests(
        &self,
        filter: &RequestFilter,
        after: Option<RequestCursor>,
    ) -> Result<RequestPage, BackendError> {
        Ok(self
            .store
            .request_page(filter, after, sightline_app::requests::PAGE_SIZE)
            .await?)
    }

    async fn request_detail(
        &self,
        user: &CurrentUser,
        request_id: &str,
    ) -> Result<RequestDetail, BackendError> {
        let mut detail = self
            .store
            .request_detail(request_id)
            .await?
            .ok_or_else(|| no_such_request(request_id))?;
        let me = rater_id(&user.username);
        detail.my_rating = detail.feedback.iter().find(|f| f.user_id == me).cloned();
        Ok(detail)
    }

    async fn rate_request(
        &self,
        user: &CurrentUser,
        request_id: &str,
        rating: i32,
        comment: Option<String>,
    ) -> Result<(), BackendError> {
        if !self.store.request_exists(request_id).await? {
            return Err(no_such_request(request_id));
        }
        let feedback = NewFeedback {
            request_id: request_id.to_owned(),
            user_id: rater_id(&user.username),
            rating,
            comment,
            created_at: chrono::Utc::now().timestamp_millis(),
        };
        self.store.record_feedback(&[feedback]).await?;
        tracing::info!(username = %user.username, request_id, rating, "request rated");
        Ok(())
    }

    async fn sessions(
        &self,
        filter: &sightline_app::export::SessionFilter,
        after: Option<Cursor>,
    ) -> Result<sightline_app::sessions::SessionPage, BackendError> {
        Ok(self
            .store
            .session_page(filter, after, sightline_app::sessions::PAGE_SIZE)
            .await?)
    }

    async fn users(
        &self,
        filter: &sightline_app::users::UserFilter,
        after: Option<sightline_app::users::UserCursor>,
    ) -> Result<sightline_app::users::UserPage, BackendError> {
        Ok(self
            .store
            .user_page(filter, after, sightline_app::users::PAGE_SIZE)
            .await?)
    }

    async fn user_detail(
        &self,
        user_id: &str,
    ) -> Result<sightline_app::users::UserDetail, BackendError> {
        self.store
            .user_detail(user_id, sightline_app::users::USER_SESSIONS)
            .await?
            .ok_or_else(|| {
                BackendError::NotFound(format!(
                    "no user with id `{}`",
                    user_id.chars().take(100).collect::<String>()
                ))
            })
    }

    async fn security(
        &self,
        range: &TimeRange,
        filter: &sightline_app::security::AuthFilter,
        now: EpochMillis,
    ) -> Result<sightline_app::security::SecurityReport, BackendError> {
        Ok(crate::security::report(&self.store, range, filter, now).await?)
    }

    async fn security_summary(
        &self,
        range: &TimeRange,
        filter: &sightline_app::security::AuthFilter,
    ) -> Result<sightline_app::security::SecuritySummary, BackendError> {
        Ok(crate::security::summary(&self.store, range, filter).await?)
    }
}

fn no_such_request(request_id: &str) -> BackendError {
    BackendError::NotFound(format!(
        "no request with id `{}`",
        request_id.chars().take(100).collect::<String>()
    ))
}
