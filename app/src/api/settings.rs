//! The settings page's server functions. Reading API keys, prices and retention needs a
//! session; everything that changes something, and the account list, lives under
//! `/api/ui/admin/` (the middleware refuses viewers) and checks the admin role again.

use leptos::prelude::*;

use crate::budgets::BudgetSettings;
#[cfg(feature = "ssr")]
use crate::budgets::Limits;
use crate::settings::{
    AccountRow, ApiKeyRow, NewAccount, NewApiKey, PasswordReset, PriceRow, Retention,
};

#[cfg(feature = "ssr")]
fn invalid(message: impl std::fmt::Display) -> ServerFnError {
    super::backend::fail(super::BackendError::Invalid(message.to_string()))
}

/// Every API key (never the keys themselves).
#[server(prefix = "/api/ui", endpoint = "api_keys")]
pub async fn load_api_keys() -> Result<Vec<ApiKeyRow>, ServerFnError> {
    super::backend::require_user()?;
    super::backend::backend()?
        .api_keys()
        .await
        .map_err(super::backend::fail)
}

/// Creates an API key; the reply holds the key itself, which is never shown again.
/// `ingest` and `read` are checkboxes (present when ticked).
#[server(prefix = "/api/ui", endpoint = "admin/create_api_key")]
pub async fn create_api_key(
    name: String,
    ingest: Option<String>,
    read: Option<String>,
) -> Result<NewApiKey, ServerFnError> {
    let admin = super::backend::require_admin()?;
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 100 {
        return Err(invalid("give the key a name of 1 to 100 characters"));
    }
    let scopes: Vec<&str> = [("ingest", &ingest), ("read", &read)]
        .into_iter()
        .filter(|(_, on)| on.is_some())
        .map(|(scope, _)| scope)
        .collect();
    if scopes.is_empty() {
        return Err(invalid(
            "a key needs at least one scope: ingest, read or both",
        ));
    }
    super::backend::backend()?
        .create_api_key(&admin, name, &scopes)
        .await
        .map_err(super::backend::fail)
}

/// Revokes an API key: requests presenting it are refused from now on.
#[server(prefix = "/api/ui", endpoint = "admin/revoke_api_key")]
pub async fn revoke_api_key(id: i64) -> Result<ApiKeyRow, ServerFnError> {
    let admin = super::backend::require_admin()?;
    super::backend::backend()?
        .revoke_api_key(&admin, id)
        .await
        .map_err(super::backend::fail)
}

/// Every dashboard account. Admins only.
#[server(prefix = "/api/ui", endpoint = "admin/accounts")]
pub async fn load_accounts() -> Result<Vec<AccountRow>, ServerFnError> {
    super::backend::require_admin()?;
    super::backend::backend()?
        .accounts()
        .await
        .map_err(super::backend::fail)
}

#[cfg(feature = "ssr")]
fn parse_role(role: &str) -> Result<crate::auth::Role, ServerFnError> {
    crate::auth::Role::parse(role.trim()).ok_or_else(|| {
        invalid(format!(
            "unknown role `{}`: use admin or viewer",
            role.escape_debug()
        ))
    })
}

/// Creates a dashboard account; an empty password has one generated, returned once.
#[server(prefix = "/api/ui", endpoint = "admin/create_account")]
pub async fn create_account(
    username: String,
    role: String,
    password: Option<String>,
) -> Result<NewAccount, ServerFnError> {
    let admin = super::backend::require_admin()?;
    let role = parse_role(&role)?;
    let password = password.filter(|p| !p.is_empty());
    super::backend::backend()?
        .create_account(&admin, username.trim(), role, password.as_deref())
        .await
        .map_err(super::backend::fail)
}

/// Gives an account another role.
#[server(prefix = "/api/ui", endpoint = "admin/set_account_role")]
pub async fn set_account_role(id: i64, role: String) -> Result<AccountRow, ServerFnError> {
    let admin = super::backend::require_admin()?;
    let role = parse_role(&role)?;
    super::backend::backend()?
        .set_account_role(&admin, id, role)
        .await
        .map_err(super::backend::fail)
}

/// Deletes an account; its sessions sign nobody in any more.
#[server(prefix = "/api/ui", endpoint = "admin/delete_account")]
pub async fn delete_account(id: i64) -> Result<(), ServerFnError> {
    let admin = super::backend::require_admin()?;
    super::backend::backend()?
        .delete_account(&admin, id)
        .await
        .map_err(super::backend::fail)
}

/// Gives another account a new generated password, returned once; its sessions end.
/// Admins change their own password on the server with `sightline create-admin`.
#[server(prefix = "/api/ui", endpoint = "admin/reset_password")]
pub async fn reset_password(id: i64) -> Result<PasswordReset, ServerFnError> {
    let admin = super::backend::require_admin()?;
    let request = super::backend::request_parts()?;
    super::backend::backend()?
        .reset_password(&admin, &request, id)
        .await
        .map_err(super::backend::fail)
}

/// The price table: built-in prices and those set, with their source.
#[server(prefix = "/api/ui", endpoint = "prices")]
pub async fn load_prices() -> Result<Vec<PriceRow>, ServerFnError> {
    super::backend::require_user()?;
    super::backend::backend()?
        .prices()
        .await
        .map_err(super::backend::fail)
}

/// Sets a model's price, in USD per million tokens (0 to 100000): prompt and
/// completion, and optionally cache reads, cache writes and reasoning (empty: cache
/// tokens cost as prompt tokens, reasoning as completion tokens).
#[server(prefix = "/api/ui", endpoint = "admin/set_price")]
pub async fn set_price(
    model: String,
    prompt: String,
    completion: String,
    cache_read: Option<String>,
    cache_write: Option<String>,
    reasoning: Option<String>,
) -> Result<(), ServerFnError> {
    let admin = super::backend::require_admin()?;
    let model = model.trim();
    if model.is_empty() || model.chars().count() > 200 {
        return Err(invalid("give a model name of 1 to 200 characters"));
    }
    let prices = crate::settings::parse_usd_prices(
        &prompt,
        &completion,
        cache_read.as_deref().unwrap_or_default(),
        cache_write.as_deref().unwrap_or_default(),
        reasoning.as_deref().unwrap_or_default(),
    )
    .map_err(invalid)?;
    super::backend::backend()?
        .set_price(&admin, model, prices)
        .await
        .map_err(super::backend::fail)
}

/// Removes the price set for a model (its built-in price, if any, applies again).
#[server(prefix = "/api/ui", endpoint = "admin/reset_price")]
pub async fn reset_price(model: String) -> Result<(), ServerFnError> {
    let admin = super::backend::require_admin()?;
    super::backend::backend()?
        .reset_price(&admin, model.trim())
        .await
        .map_err(super::backend::fail)
}

/// How long raw requests are kept.
#[server(prefix = "/api/ui", endpoint = "retention")]
pub async fn load_retention() -> Result<Retention, ServerFnError> {
    super::backend::require_user()?;
    super::backend::backend()?
        .retention()
        .await
        .map_err(super::backend::fail)
}

/// Sets the days of raw requests to keep (1 to 3650).
#[server(prefix = "/api/ui", endpoint = "admin/set_retention")]
pub async fn set_retention(days: String) -> Result<Retention, ServerFnError> {
    let admin = super::backend::require_admin()?;
    let days = crate::settings::parse_retention_days(&days).map_err(invalid)?;
    super::backend::backend()?
        .set_retention(&admin, days)
        .await
        .map_err(super::backend::fail)
}

/// A page of the audit trail, newest first. Admins only.
#[server(prefix = "/api/ui", endpoint = "admin/audit", input = leptos::server_fn::codec::Json)]
pub async fn load_audit(
    filter: crate::audit::AuditFilter,
) -> Result<crate::audit::AuditPage, ServerFnError> {
    super::backend::require_admin()?;
    let filter = filter.validated().map_err(invalid)?;
    super::backend::backend()?
        .audit(&filter)
        .await
        .map_err(super::backend::fail)
}

/// Every spending budget.
#[server(prefix = "/api/ui", endpoint = "budgets")]
pub async fn load_budgets() -> Result<BudgetSettings, ServerFnError> {
    super::backend::require_user()?;
    super::backend::backend()?
        .budgets()
        .await
        .map_err(super::backend::fail)
}

/// Sets the shared budgets in USD (empty: no budget, whatever the environment says).
#[server(prefix = "/api/ui", endpoint = "admin/set_budgets")]
pub async fn set_budgets(
    daily: String,
    monthly: String,
    user_daily: String,
    user_monthly: String,
) -> Result<BudgetSettings, ServerFnError> {
    let admin = super::backend::require_admin()?;
    let usd = crate::budgets::parse_budget_usd;
    let global = Limits {
        daily_micros: usd("daily", &daily).map_err(invalid)?,
        monthly_micros: usd("monthly", &monthly).map_err(invalid)?,
    };
    let each_user = Limits {
        daily_micros: usd("daily per-user", &user_daily).map_err(invalid)?,
        monthly_micros: usd("monthly per-user", &user_monthly).map_err(invalid)?,
    };
    super::backend::backend()?
        .set_budgets(&admin, global, each_user)
        .await
        .map_err(super::backend::fail)
}

/// Forgets the shared budgets set here: `SIGHTLINE_BUDGET_*` apply again.
#[server(prefix = "/api/ui", endpoint = "admin/reset_budgets")]
pub async fn reset_budgets() -> Result<BudgetSettings, ServerFnError> {
    let admin = super::backend::require_admin()?;
    super::backend::backend()?
        .reset_budgets(&admin)
        .await
        .map_err(super::backend::fail)
}

/// Gives a platform user budgets of their own in USD (empty: each user's applies).
#[server(prefix = "/api/ui", endpoint = "admin/set_user_budget")]
pub async fn set_user_budget(
    user_id: String,
    daily: String,
    monthly: String,
) -> Result<BudgetSettings, ServerFnError> {
    let admin = super::backend::require_admin()?;
    let user_id = crate::budgets::parse_budget_user(&user_id).map_err(invalid)?;
    let limits = Limits {
        daily_micros: crate::budgets::parse_budget_usd("daily", &daily).map_err(invalid)?,
        monthly_micros: crate::budgets::parse_budget_usd("monthly", &monthly).map_err(invalid)?,
    };
    if limits.is_empty() {
        return Err(invalid("give a daily or a monthly budget, or both"));
    }
    super::backend::backend()?
        .set_user_budget(&admin, &user_id, limits)
        .await
        .map_err(super::backend::fail)
}

/// Removes a platform user's own budgets.
#[server(prefix = "/api/ui", endpoint = "admin/remove_user_budget")]
pub async fn remove_user_budget(user_id: String) -> Result<BudgetSettings, ServerFnError> {
    let admin = super::backend::require_admin()?;
    super::backend::backend()?
        .remove_user_budget(&admin, user_id.trim())
        .await
        .map_err(super::backend::fail)
}
