//! Signing in and finding out who is signed in.

use leptos::prelude::*;

use crate::auth::CurrentUser;

/// Signs in with a username and password; returns where to go next (`next` if it is a
/// path on this site, else `/`). The login page then loads that page afresh. Wrong
/// credentials and throttled attempts are errors with a message for the person at the
/// keyboard. (Without the wasm the form post comes back to the login page, which sends
/// a signed-in visitor on to `next`.)
#[server(prefix = "/api/ui", endpoint = "login")]
pub async fn login(
    username: String,
    password: String,
    next: Option<String>,
) -> Result<String, ServerFnError> {
    let request = super::backend::request_parts()?;
    super::backend::backend()?
        .login(&request, username.trim(), &password)
        .await
        .map_err(super::backend::fail)?;
    Ok(crate::auth::safe_next(next.as_deref()))
}

/// The signed-in account, if any.
#[server(prefix = "/api/ui", endpoint = "whoami")]
pub async fn whoami() -> Result<Option<CurrentUser>, ServerFnError> {
    Ok(super::backend::signed_in())
}

/// Whether any dashboard account exists yet (the login page then explains how to make
/// the first one).
#[server(prefix = "/api/ui", endpoint = "has_accounts")]
pub async fn has_accounts() -> Result<bool, ServerFnError> {
    super::backend::backend()?
        .has_accounts()
        .await
        .map_err(super::backend::fail)
}
