//! The security view and its dashboard card.

use leptos::prelude::*;

use crate::security::{SecurityQuery, SecurityReport, SecuritySummary};

/// The security view's report for the query of the page's URL.
#[server(prefix = "/api/ui", endpoint = "security")]
pub async fn load_security(query: SecurityQuery) -> Result<SecurityReport, ServerFnError> {
    use super::backend::fail;
    super::backend::require_user()?;
    let now = crate::units::EpochMillis::now();
    let (range, filter) = query.resolve(now).map_err(|e| fail(e.into()))?;
    super::backend::backend()?
        .security(&range, &filter, now)
        .await
        .map_err(fail)
}

/// The dashboard's sign-ins card: failures and failure rate of the range (every event
/// of the platform) and of the period before it.
#[server(prefix = "/api/ui", endpoint = "security_summary")]
pub async fn load_security_summary(
    range: Option<String>,
    start: Option<String>,
    end: Option<String>,
) -> Result<SecuritySummary, ServerFnError> {
    use super::backend::fail;
    super::backend::require_user()?;
    let now = crate::units::EpochMillis::now();
    let query = SecurityQuery {
        range,
        start,
        end,
        ..SecurityQuery::default()
    };
    let (range, filter) = query.resolve(now).map_err(|e| fail(e.into()))?;
    super::backend::backend()?
        .security_summary(&range, &filter)
        .await
        .map_err(fail)
}
