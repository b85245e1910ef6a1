//! `users`: Sightline's dashboard accounts (argon2id password hashes, a role), and the
//! sign-in attempts kept in `auth_event` with `source = 'sightline'` for throttling.

use sha2::{Digest, Sha256};
use sightline_app::auth::Role;
use sightline_app::units::EpochMillis;
use sqlx::FromRow;

use super::{Store, StoreError, map_rows};

/// A dashboard account as lists show it (never its hash).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Account {
    pub id: i64,
    pub username: String,
    pub role: Role,
    pub created_at: EpochMillis,
    pub last_login_at: Option<EpochMillis>,
}

/// Failed sign-ins in a window, by the client's IP and by the username tried, and when
/// the oldest of each happened (the window reopens 10 minutes after it).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, sqlx::FromRow)]
pub struct FailedLogins {
    /// For this username from this address.
    pub by_pair: i64,
    pub oldest_by_pair: Option<i64>,
    pub by_ip: i64,
    pub oldest_by_ip: Option<i64>,
    pub by_username: i64,
    pub oldest_by_username: Option<i64>,
}

/// Why an account could not be changed or deleted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AccountRefusal {
    /// No account has this id.
    NotFound,
    /// It is the last admin: removing or demoting it would lock everyone out of the
    /// admin area.
    LastAdmin,
}

/// What a web session remembers of the password it was opened with: the first 16 hex
/// digits of the SHA-256 of the account's password hash. Every new hash has a new salt,
/// so any password change (in the settings or with `create-admin`) changes the stamp
/// and ends the sessions opened before it.
pub fn credential_stamp(password_hash: &str) -> String {
    Sha256::digest(password_hash.as_bytes())
        .iter()
        .take(8)
        .map(|b| format!("{b:02x}"))
        .collect()
}

const COLUMNS: &str = "id, username, role, created_at, last_login_at";

/// A row of [`COLUMNS`].
#[derive(sqlx::FromRow)]
struct AccountRecord {
    id: i64,
    username: String,
    role: String,
    created_at: EpochMillis,
    last_login_at: Option<EpochMillis>,
}

impl TryFrom<AccountRecord> for Account {
    type Error = sqlx::Error;

    fn try_from(r: AccountRecord) -> Result<Account, sqlx::Error> {
        Ok(Account {
            id: r.id,
            username: r.username,
            role: Role::parse(&r.role).ok_or_else(|| sqlx::Error::ColumnDecode {
                index: "role".into(),
                source: format!("unknown role `{}`", r.role).into(),
            })?,
            created_at: r.created_at,
            last_login_at: r.last_login_at,
        })
    }
}

/// A row of `SELECT {COLUMNS}, password_hash`.
#[derive(sqlx::FromRow)]
struct LoginRecord {
    #[sqlx(flatten)]
    account: AccountRecord,
    password_hash: String,
}

fn account_from_row(r: &sqlx::any::AnyRow) -> Result<Account, sqlx::Error> {
    AccountRecord::from_row(r)?.try_into()
}

async fn account_in(tx: &mut sqlx::AnyConnection, id: i64) -> Result<Option<Account>, StoreError> {
    let row = sqlx::query(&format!("SELECT {COLUMNS} FROM users WHERE id = $1"))
        .bind(id)
        .fetch_optional(&mut *tx)
        .await?;
    Ok(row.as_ref().map(account_from_row).transpose()?)
}

async fn admins_in(tx: &mut sqlx::AnyConnection) -> Result<i64, StoreError> {
    Ok(
        sqlx::query_scalar("SELECT COUNT(*) FROM users WHERE role = 'admin'")
            .fetch_one(&mut *tx)
            .await?,
    )
}

impl Store {
    /// Creates the account, or sets the password and role of an existing one with
    /// that username; returns it and whether it is new.
    pub async fn upsert_account(
        &self,
        username: &str,
        password_hash: &str,
        role: Role,
        now: i64,
    ) -> Result<(Account, bool), StoreError> {
        let mut tx = self.begin_write().await?;
        let existing = sqlx::query("SELECT id FROM users WHERE username = $1")
            .bind(username)
            .fetch_optional(&mut *tx)
            .await?;
        let row = match existing {
            Some(_) => {
                sqlx::query(&format!(
                    "UPDATE users SET password_hash = $1, role = $2 WHERE username = $3 \
                     RETURNING {COLUMNS}"
                ))
                .bind(password_hash)
                .bind(role.as_str())
                .bind(username)
                .fetch_one(&mut *tx)
                .await?
            }
            None => {
                sqlx::query(&format!(
                    "INSERT INTO users (username, password_hash, role, created_at) \
                     VALUES ($1, $2, $3, $4) RETURNING {COLUMNS}"
                ))
                .bind(username)
                .bind(password_hash)
                .bind(role.as_str())
                .bind(now)
                .fetch_one(&mut *tx)
                .await?
            }
        };
        tx.commit().await?;
        Ok((account_from_row(&row)?, existing.is_none()))
    }

    /// Creates an account; `None` if the username is taken (the existing account is
    /// left as it is).
    pub async fn create_account(
        &self,
        username: &str,
        password_hash: &str,
        role: Role,
        now: i64,
    ) -> Result<Option<Account>, StoreError> {
        let row = sqlx::query(&format!(
            "INSERT INTO users (username, password_hash, role, created_at) \
             VALUES ($1, $2, $3, $4) ON CONFLICT (username) DO NOTHING RETURNING {COLUMNS}"
        ))
        .bind(username)
        .bind(password_hash)
        .bind(role.as_str())
        .bind(now)
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.as_ref().map(account_from_row).transpose()?)
    }

    /// Gives the account `role`; refuses to demote the last admin. Checked and changed
    /// in one write transaction, so two admins demoting each other cannot both succeed.
    pub async fn set_account_role(
        &self,
        id: i64,
        role: Role,
    ) -> Result<Result<Account, AccountRefusal>, StoreError> {
        let mut tx = self.begin_write().await?;
        let Some(current) = account_in(&mut tx, id).await? else {
            return Ok(Err(AccountRefusal::NotFound));
        };
        if current.role == Role::Admin && role != Role::Admin && admins_in(&mut tx).await? <= 1 {
            return Ok(Err(AccountRefusal::LastAdmin));
        }
        let row = sqlx::query(&format!(
            "UPDATE users SET role = $1 WHERE id = $2 RETURNING {COLUMNS}"
        ))
        .bind(role.as_str())
        .bind(id)
        .fetch_one(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(Ok(account_from_row(&row)?))
    }

    /// Deletes the account (its web sessions then sign nobody in); refuses to delete
    /// the last admin. Returns the deleted account.
    pub async fn delete_account(
        &self,
        id: i64,
    ) -> Result<Result<Account, AccountRefusal>, StoreError> {
        let mut tx = self.begin_write().await?;
        let Some(current) = account_in(&mut tx, id).await? else {
            return Ok(Err(AccountRefusal::NotFound));
        };
        if current.role == Role::Admin && admins_in(&mut tx).await? <= 1 {
            return Ok(Err(AccountRefusal::LastAdmin));
        }
        sqlx::query("DELETE FROM users WHERE id = $1")
            .bind(id)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(Ok(current))
    }

    /// The account and its password hash, for checking a sign-in.
    pub async fn account_for_login(
        &self,
        username: &str,
    ) -> Result<Option<(Account, String)>, StoreError> {
        let row = sqlx::query(&format!(
            "SELECT {COLUMNS}, password_hash FROM users WHERE username = $1"
        ))
        .bind(username)
        .fetch_optional(&self.pool)
        .await?;
        row.map(|r| {
            let r = LoginRecord::from_row(&r)?;
            Ok((r.account.try_into()?, r.password_hash))
        })
        .transpose()
        .map_err(|e: sqlx::Error| e.into())
    }

    /// The account with this id and its [`credential_stamp`], for checking a web
    /// session (one query).
    pub async fn account_for_session(
        &self,
        id: i64,
    ) -> Result<Option<(Account, String)>, StoreError> {
        let row = sqlx::query(&format!(
            "SELECT {COLUMNS}, password_hash FROM users WHERE id = $1"
        ))
        .bind(id)
        .fetch_optional(&self.pool)
        .await?;
        row.map(|r| {
            let r = LoginRecord::from_row(&r)?;
            Ok((r.account.try_into()?, credential_stamp(&r.password_hash)))
        })
        .transpose()
        .map_err(|e: sqlx::Error| e.into())
    }

    /// Stores a new password hash for the account with this id; `None` if there is none.
    pub async fn set_account_password(
        &self,
        id: i64,
        password_hash: &str,
    ) -> Result<Option<Account>, StoreError> {
        let row = sqlx::query(&format!(
            "UPDATE users SET password_hash = $1 WHERE id = $2 RETURNING {COLUMNS}"
        ))
        .bind(password_hash)
        .bind(id)
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.as_ref().map(account_from_row).transpose()?)
    }

    /// The account with this id, if it still exists.
    pub async fn account(&self, id: i64) -> Result<Option<Account>, StoreError> {
        let row = sqlx::query(&format!("SELECT {COLUMNS} FROM users WHERE id = $1"))
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.as_ref().map(account_from_row).transpose()?)
    }

    /// Every account, by username.
    pub async fn list_accounts(&self) -> Result<Vec<Account>, StoreError> {
        let rows = sqlx::query(&format!("SELECT {COLUMNS} FROM users ORDER BY username"))
            .fetch_all(&self.pool)
            .await?;
        map_rows(&rows, account_from_row)
    }

    /// Whether any account exists.
    pub async fn has_accounts(&self) -> Result<bool, StoreError> {
        let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM users")
            .fetch_one(&self.pool)
            .await?;
        Ok(n > 0)
    }

    /// Records a successful sign-in.
    pub async fn touch_account_login(&self, id: i64, now: i64) -> Result<(), StoreError> {
        sqlx::query("UPDATE users SET last_login_at = $1 WHERE id = $2")
            .bind(now)
            .bind(id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Failed sign-ins to the dashboard since `since`: for `username` from `ip`, from
    /// `ip` for any username, and for `username` from anywhere. Attempts refused by the
    /// throttle itself do not count, so waiting always helps.
    pub async fn failed_logins_since(
        &self,
        ip: &str,
        username: &str,
        since: i64,
    ) -> Result<FailedLogins, StoreError> {
        Ok(sqlx::query_as(
            "SELECT \
                 COALESCE(SUM(CASE WHEN ip = $1 AND user_id = $2 THEN 1 ELSE 0 END), 0) AS by_pair, \
                 MIN(CASE WHEN ip = $1 AND user_id = $2 THEN created_at END) AS oldest_by_pair, \
                 COALESCE(SUM(CASE WHEN ip = $1 THEN 1 ELSE 0 END), 0) AS by_ip, \
                 MIN(CASE WHEN ip = $1 THEN created_at END) AS oldest_by_ip, \
                 COALESCE(SUM(CASE WHEN user_id = $2 THEN 1 ELSE 0 END), 0) AS by_username, \
                 MIN(CASE WHEN user_id = $2 THEN created_at END) AS oldest_by_username \
             FROM auth_event \
             WHERE source = 'sightline' AND event_type = 'login_failed' AND created_at >= $3 \
               AND (ip = $1 OR user_id = $2) AND (error IS NULL OR error <> 'throttled')",
        )
        // Compared as stored: under `truncate` an address's network shares its count;
        // under `drop` only the username's count (and this replica's memory) remain.
        .bind(self.ip_anonymize.stored(Some(ip)))
        .bind(username)
        .bind(since)
        .fetch_one(&self.pool)
        .await?)
    }
}
