use crate::auth::{CurrentUser, Role};
use crate::settings::{
    AccountRow, ApiKeyRow, NewAccount, NewApiKey, PasswordReset, PriceRow, Retention, UsdPrices,
};

use super::BackendError;
use crate::budgets::{BudgetSettings, Limits};

/// What the settings page needs from the server (part of every [`super::Backend`]).
/// The changes take the signed-in admin, who is recorded and may not lock themself
/// out; the server functions have already checked the role.
#[async_trait::async_trait]
pub trait SettingsBackend: Send + Sync + 'static {
    /// Every API key, newest first.
    async fn api_keys(&self) -> Result<Vec<ApiKeyRow>, BackendError>;

    /// A page of the audit trail `filter` matches, newest first.
    async fn audit(
        &self,
        filter: &crate::audit::AuditFilter,
    ) -> Result<crate::audit::AuditPage, BackendError>;

    /// Creates a key with `scopes` (`ingest`, `read`), recording `admin` as its creator.
    async fn create_api_key(
        &self,
        admin: &CurrentUser,
        name: &str,
        scopes: &[&str],
    ) -> Result<NewApiKey, BackendError>;

    /// Revokes the key with this id; `NotFound` if there is none.
    async fn revoke_api_key(&self, admin: &CurrentUser, id: i64)
    -> Result<ApiKeyRow, BackendError>;

    /// Every dashboard account, by username.
    async fn accounts(&self) -> Result<Vec<AccountRow>, BackendError>;

    /// Creates an account; with no password a strong one is generated and returned.
    async fn create_account(
        &self,
        admin: &CurrentUser,
        username: &str,
        role: Role,
        password: Option<&str>,
    ) -> Result<NewAccount, BackendError>;

    /// Gives an account another role (not the admin's own, not the last admin's).
    async fn set_account_role(
        &self,
        admin: &CurrentUser,
        id: i64,
        role: Role,
    ) -> Result<AccountRow, BackendError>;

    /// Deletes an account (not the admin's own, not the last admin).
    async fn delete_account(&self, admin: &CurrentUser, id: i64) -> Result<(), BackendError>;

    /// Gives another account a new generated password (returned once) and ends its
    /// sessions; records it as an auth event from `request`'s client. Not the admin's own.
    async fn reset_password(
        &self,
        admin: &CurrentUser,
        request: &http::request::Parts,
        id: i64,
    ) -> Result<PasswordReset, BackendError>;

    /// The merged price table: built-in prices and those set.
    async fn prices(&self) -> Result<Vec<PriceRow>, BackendError>;

    /// Sets a model's price in USD per million tokens (prompt and completion, and the
    /// optional cache and reasoning rates).
    async fn set_price(
        &self,
        admin: &CurrentUser,
        model: &str,
        prices: UsdPrices,
    ) -> Result<(), BackendError>;

    /// Removes a price set for `model`; `NotFound` if none was set.
    async fn reset_price(&self, admin: &CurrentUser, model: &str) -> Result<(), BackendError>;

    /// How long raw requests are kept.
    async fn retention(&self) -> Result<Retention, BackendError>;

    /// Records the days of raw requests to keep (already checked).
    async fn set_retention(
        &self,
        admin: &CurrentUser,
        days: u32,
    ) -> Result<Retention, BackendError>;

    /// Every spending budget: the shared ones in force and where they come from, and
    /// every user's own.
    async fn budgets(&self) -> Result<BudgetSettings, BackendError>;

    /// Sets the shared budgets (global and each user's) over the environment's.
    async fn set_budgets(
        &self,
        admin: &CurrentUser,
        global: Limits,
        each_user: Limits,
    ) -> Result<BudgetSettings, BackendError>;

    /// Forgets the shared budgets set here: `SIGHTLINE_BUDGET_*` apply again.
    async fn reset_budgets(&self, admin: &CurrentUser) -> Result<BudgetSettings, BackendError>;

    /// Gives a platform user budgets of their own (at least one of the two).
    async fn set_user_budget(
        &self,
        admin: &CurrentUser,
        user_id: &str,
        limits: Limits,
    ) -> Result<BudgetSettings, BackendError>;

    /// Removes a user's own budgets; `NotFound` if they had none.
    async fn remove_user_budget(
        &self,
        admin: &CurrentUser,
        user_id: &str,
    ) -> Result<BudgetSettings, BackendError>;
}
