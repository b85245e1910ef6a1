//! The settings page's part of the backend: API keys, accounts, prices, retention.

use sightline_app::api::{BackendError, SettingsBackend};
use sightline_app::audit::{AuditFilter, AuditPage};
use sightline_app::auth::{CurrentUser, Role};
use sightline_app::settings::{
    AccountRow, ApiKeyRow, NewAccount, NewApiKey, PasswordReset, PriceRow, Retention, UsdPrices,
};
use sightline_app::units::Micros;

use serde_json::json;
use sightline_app::budgets::{BudgetSettings, Limits, MAX_USER_BUDGETS};

use super::StoreBackend;
use crate::audit;
use crate::auth::{password, throttle};
use crate::pricing::{ModelPrice, merged_prices};
use crate::store::{Account, AccountRefusal, ApiKey, Scope};

fn now() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

fn key_row(k: ApiKey) -> ApiKeyRow {
    ApiKeyRow {
        id: k.id,
        name: k.name,
        prefix: k.prefix,
        scopes: k.scopes.iter().map(|s| s.as_str().to_owned()).collect(),
        created_at: k.created_at,
        created_by: k.created_by,
        last_used_at: k.last_used_at,
        revoked_at: k.revoked_at,
    }
}

fn account_row(a: Account) -> AccountRow {
    AccountRow {
        id: a.id,
        username: a.username,
        role: a.role,
        created_at: a.created_at,
        last_login_at: a.last_login_at,
    }
}

fn refused(refusal: AccountRefusal, id: i64, what: &str) -> BackendError {
    match refusal {
        AccountRefusal::NotFound => BackendError::NotFound(format!("no account with id {id}")),
        AccountRefusal::LastAdmin => BackendError::Invalid(format!(
            "this is the last admin account: it cannot be {what}; make another account admin first"
        )),
    }
}

#[async_trait::async_trait]
impl SettingsBackend for StoreBackend {
    async fn api_keys(&self) -> Result<Vec<ApiKeyRow>, BackendError> {
        let keys = self.store.list_api_keys().await?;
        Ok(keys.into_iter().map(key_row).collect())
    }

    async fn create_api_key(
        &self,
        admin: &CurrentUser,
        name: &str,
        scopes: &[&str],
    ) -> Result<NewApiKey, BackendError> {
        let scopes = Scope::parse_list(&scopes.join(","))
            .map_err(|e| BackendError::Invalid(e.to_string()))?;
        let (key, secret) = self
            .store
            .create_api_key(name, &scopes, Some(&admin.username), now())
            .await?;
        tracing::info!(username = %admin.username, prefix = %key.prefix, "API key created");
        let scope_names: Vec<&str> = key.scopes.iter().map(|s| s.as_str()).collect();
        audit::record(
            &self.store,
            admin,
            "api_key.created",
            Some(&key.prefix),
            Some(json!({ "name": key.name, "scopes": scope_names })),
        )
        .await;
        Ok(NewApiKey {
            key: key_row(key),
            secret,
        })
    }

    async fn revoke_api_key(
        &self,
        admin: &CurrentUser,
        id: i64,
    ) -> Result<ApiKeyRow, BackendError> {
        let key = self
            .store
            .revoke_api_key(&id.to_string(), now())
            .await?
            .ok_or_else(|| BackendError::NotFound(format!("no API key with id {id}")))?;
        tracing::info!(username = %admin.username, prefix = %key.prefix, "API key revoked");
        audit::record(
            &self.store,
            admin,
            "api_key.revoked",
            Some(&key.prefix),
            Some(json!({ "name": key.name })),
        )
        .await;
        Ok(key_row(key))
    }

    async fn audit(&self, filter: &AuditFilter) -> Result<AuditPage, BackendError> {
        Ok(self.store.audit_page(filter).await?)
    }

    async fn accounts(&self) -> Result<Vec<AccountRow>, BackendError> {
        let accounts = self.store.list_accounts().await?;
        Ok(accounts.into_iter().map(account_row).collect())
    }

    async fn create_account(
        &self,
        admin: &CurrentUser,
        username: &str,
        role: Role,
        password: Option<&str>,
    ) -> Result<NewAccount, BackendError> {
        password::check_username(username).map_err(|e| BackendError::Invalid(e.0))?;
        let (secret, generated) = match password {
            Some(p) => (p.to_owned(), false),
            None => (password::generate(), true),
        };
        password::check_new_password(&secret).map_err(|e| BackendError::Invalid(e.0))?;
        let hash = password::hash(&secret).await;
        let account = self
            .store
            .create_account(username, &hash, role, now())
            .await?
            .ok_or_else(|| {
                BackendError::Invalid(format!("an account named `{username}` already exists"))
            })?;
        tracing::info!(username = %admin.username, account = %account.username, role = %role, "account created");
        audit::record(
            &self.store,
            admin,
            "account.created",
            Some(&account.username),
            Some(json!({ "role": role.as_str(), "generated_password": generated })),
        )
        .await;
        Ok(NewAccount {
            account: account_row(account),
            generated_password: generated.then_some(secret),
        })
    }

    async fn set_account_role(
        &self,
        admin: &CurrentUser,
        id: i64,
        role: Role,
    ) -> Result<AccountRow, BackendError> {
        if id == admin.id && role != Role::Admin {
            return Err(BackendError::Invalid(
                "you cannot demote yourself: ask another admin".into(),
            ));
        }
        let account = self
            .store
            .set_account_role(id, role)
            .await?
            .map_err(|r| refused(r, id, "demoted"))?;
        tracing::info!(username = %admin.username, account = %account.username, role = %role, "account role changed");
        audit::record(
            &self.store,
            admin,
            "account.role_changed",
            Some(&account.username),
            Some(json!({ "role": role.as_str() })),
        )
        .await;
        Ok(account_row(account))
    }

    async fn delete_account(&self, admin: &CurrentUser, id: i64) -> Result<(), BackendError> {
        if id == admin.id {
            return Err(BackendError::Invalid(
                "you cannot delete your own account: ask another admin".into(),
            ));
        }
        let account = self
            .store
            .delete_account(id)
            .await?
            .map_err(|r| refused(r, id, "deleted"))?;
        tracing::info!(username = %admin.username, account = %account.username, "account deleted");
        audit::record(
            &self.store,
            admin,
            "account.deleted",
            Some(&account.username),
            None,
        )
        .await;
        Ok(())
    }

    async fn reset_password(
        &self,
        admin: &CurrentUser,
        request: &axum::http::request::Parts,
        id: i64,
    ) -> Result<PasswordReset, BackendError> {
        if id == admin.id {
            return Err(BackendError::Invalid(format!(
                "you cannot reset your own password here: change it on the server with \
                 `sightline create-admin --username {} --password-stdin`",
                admin.username
            )));
        }
        let secret = password::generate();
        let hash = password::hash(&secret).await;
        let account = self
            .store
            .set_account_password(id, &hash)
            .await?
            .ok_or_else(|| BackendError::NotFound(format!("no account with id {id}")))?;
        throttle::password_reset(
            &self.store,
            &account.username,
            admin,
            crate::auth::request_ip(request),
            crate::auth::user_agent(&request.headers),
            now(),
        )
        .await?;
        tracing::info!(username = %admin.username, account = %account.username, "password reset");
        audit::record(
            &self.store,
            admin,
            "account.password_reset",
            Some(&account.username),
            None,
        )
        .await;
        Ok(PasswordReset {
            account: account_row(account),
            password: secret,
        })
    }

    async fn prices(&self) -> Result<Vec<PriceRow>, BackendError> {
        let set = self.store.model_prices().await?;
        Ok(merged_prices(set)
            .into_iter()
            .map(|(model, p, source)| PriceRow {
                model,
                prompt_micros_per_mtok: Micros(p.prompt_micros_per_mtok),
                completion_micros_per_mtok: Micros(p.completion_micros_per_mtok),
                cache_read_micros_per_mtok: p.cache_read_micros_per_mtok.map(Micros),
                cache_write_micros_per_mtok: p.cache_write_micros_per_mtok.map(Micros),
                reasoning_micros_per_mtok: p.reasoning_micros_per_mtok.map(Micros),
                source,
            })
            .collect())
    }

    async fn set_price(
        &self,
        admin: &CurrentUser,
        model: &str,
        prices: UsdPrices,
    ) -> Result<(), BackendError> {
        let price =
            ModelPrice::from_usd(prices).map_err(|e| BackendError::Invalid(e.to_string()))?;
        self.store.set_model_price(model, price, now()).await?;
        self.prices.invalidate();
        tracing::info!(username = %admin.username, model, ?prices, "model price set");
        audit::record(
            &self.store,
            admin,
            "price.set",
            Some(model),
            Some(audit::price_detail(&prices)),
        )
        .await;
        Ok(())
    }

    async fn reset_price(&self, admin: &CurrentUser, model: &str) -> Result<(), BackendError> {
        if !self.store.delete_model_price(model).await? {
            return Err(BackendError::NotFound(format!(
                "no price is set for `{model}`"
            )));
        }
        self.prices.invalidate();
        tracing::info!(username = %admin.username, model, "model price reset");
        audit::record(&self.store, admin, "price.reset", Some(model), None).await;
        Ok(())
    }

    async fn retention(&self) -> Result<Retention, BackendError> {
        let policy = self
            .store
            .retention_policy(self.default_retention_days)
            .await?;
        Ok(Retention {
            days: policy.days,
            setting: policy.setting,
            default_days: policy.default_days,
            // `serve` prunes raw requests older than `days` every hour.
            pruning_enabled: true,
        })
    }

    async fn set_retention(
        &self,
        admin: &CurrentUser,
        days: u32,
    ) -> Result<Retention, BackendError> {
        self.store.set_retention_days(days, now()).await?;
        // The next ingest batch is judged by the new retention.
        self.horizon.invalidate();
        tracing::info!(username = %admin.username, days, "retention set");
        audit::record(
            &self.store,
            admin,
            "retention.set",
            None,
            Some(json!({ "days": days })),
        )
        .await;
        self.retention().await
    }

    async fn budgets(&self) -> Result<BudgetSettings, BackendError> {
        Ok(self.budgets.settings().await?)
    }

    async fn set_budgets(
        &self,
        admin: &CurrentUser,
        global: Limits,
        each_user: Limits,
    ) -> Result<BudgetSettings, BackendError> {
        self.budgets.set_shared(global, each_user, now()).await?;
        tracing::info!(username = %admin.username, "budgets set");
        audit::record(
            &self.store,
            admin,
            "budgets.set",
            None,
            Some(json!({
                "daily_usd": audit::usd(global.daily_micros),
                "monthly_usd": audit::usd(global.monthly_micros),
                "user_daily_usd": audit::usd(each_user.daily_micros),
                "user_monthly_usd": audit::usd(each_user.monthly_micros),
            })),
        )
        .await;
        self.budgets().await
    }

    async fn reset_budgets(&self, admin: &CurrentUser) -> Result<BudgetSettings, BackendError> {
        self.budgets.reset_shared().await?;
        tracing::info!(username = %admin.username, "budgets reset to the environment's");
        audit::record(&self.store, admin, "budgets.reset", None, None).await;
        self.budgets().await
    }

    async fn set_user_budget(
        &self,
        admin: &CurrentUser,
        user_id: &str,
        limits: Limits,
    ) -> Result<BudgetSettings, BackendError> {
        if !self.budgets.set_user(user_id, limits, now()).await? {
            return Err(BackendError::Invalid(format!(
                "{MAX_USER_BUDGETS} users already have budgets of their own: remove one first"
            )));
        }
        tracing::info!(username = %admin.username, "user budget set");
        audit::record(
            &self.store,
            admin,
            "budget.user_set",
            Some(user_id),
            Some(json!({
                "daily_usd": audit::usd(limits.daily_micros),
                "monthly_usd": audit::usd(limits.monthly_micros),
            })),
        )
        .await;
        self.budgets().await
    }

    async fn remove_user_budget(
        &self,
        admin: &CurrentUser,
        user_id: &str,
    ) -> Result<BudgetSettings, BackendError> {
        if !self.budgets.remove_user(user_id).await? {
            return Err(BackendError::NotFound(format!(
                "user {user_id} has no budget of their own"
            )));
        }
        tracing::info!(username = %admin.username, "user budget removed");
        audit::record(
            &self.store,
            admin,
            "budget.user_removed",
            Some(user_id),
            None,
        )
        .await;
        self.budgets().await
    }
}
