//! The sessions and users views: the platform's users and their sessions (not the
//! dashboard's own web session, which is `session`).

use leptos::prelude::*;

use crate::sessions::{SessionListQuery, SessionPage};
use crate::users::{UserDetail, UserPage, UserQuery};

/// A page of the sessions view for the filter of the page's URL.
#[server(prefix = "/api/ui", endpoint = "sessions")]
pub async fn load_sessions(
    // Flattened: the form carries the query's own fields (`range=24h&user=…`).
    #[server(flatten)] query: SessionListQuery,
) -> Result<SessionPage, ServerFnError> {
    let (filter, after) = super::backend::list_query(|now| query.resolve(now))?;
    super::backend::backend()?
        .sessions(&filter, after)
        .await
        .map_err(super::backend::fail)
}

/// A page of the users view for the filter of the page's URL.
#[server(prefix = "/api/ui", endpoint = "users")]
pub async fn load_users(#[server(flatten)] query: UserQuery) -> Result<UserPage, ServerFnError> {
    let (filter, after) = super::backend::list_query(|now| query.resolve(now))?;
    super::backend::backend()?
        .users(&filter, after)
        .await
        .map_err(super::backend::fail)
}

/// A platform user's totals and latest sessions; a 404 for an unknown user.
#[server(prefix = "/api/ui", endpoint = "user")]
pub async fn load_user(user_id: String) -> Result<UserDetail, ServerFnError> {
    super::backend::require_user()?;
    super::backend::backend()?
        .user_detail(&user_id)
        .await
        .map_err(super::backend::fail)
}
