use leptos::prelude::*;
use leptos::server_fn::codec::Json;

use crate::threats::{ThreatPage, ThreatQuery, ThreatSelection};

/// A page of the threats view for the filter of the page's URL.
#[server(prefix = "/api/ui", endpoint = "threats")]
pub async fn load_threats(
    // Flattened: the form carries the query's own fields (`threat_type=xss…`).
    #[server(flatten)] query: ThreatQuery,
) -> Result<ThreatPage, ServerFnError> {
    let (filter, after) = super::backend::list_query(|now| query.resolve(now))?;
    super::backend::backend()?
        .threats(&filter, after)
        .await
        .map_err(super::backend::fail)
}

/// Resolves (`resolve = true`) or reopens the selected threats, or every threat
/// matching a filter; records who and when. Admins only.
#[server(prefix = "/api/ui", endpoint = "admin/threat_state", input = Json)]
pub async fn set_threat_state(
    selection: ThreatSelection,
    resolve: bool,
) -> Result<u64, ServerFnError> {
    use super::backend::{BackendError, fail};
    let user = super::backend::require_admin()?;
    if let ThreatSelection::Ids(ids) = &selection {
        if ids.is_empty() {
            return Err(fail(BackendError::Invalid(
                "select at least one threat".into(),
            )));
        }
        if ids.len() > crate::threats::MAX_SELECTED {
            return Err(fail(BackendError::Invalid(format!(
                "select at most {} threats, or use \"all matching\"",
                crate::threats::MAX_SELECTED
            ))));
        }
    }
    super::backend::backend()?
        .set_threat_state(&user, &selection, resolve)
        .await
        .map_err(fail)
}
