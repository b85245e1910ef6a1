//! `api_keys`: keys for the ingest and read APIs. A key is shown once, when created;
//! only its SHA-256 hash is stored, with a short prefix to tell keys apart in lists.

use std::fmt::Write as _;

use rand::Rng;
use sha2::{Digest, Sha256};
use sightline_app::units::EpochMillis;
use sqlx::FromRow;

use super::{Store, StoreError, map_rows};

/// What a key may be used for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Scope {
    /// `POST /api/v1/ingest` and `POST /api/v1/feedback`.
    Ingest,
    /// The read APIs (`/api/v1/dashboard`, exports, alerts) and `POST /api/v1/feedback`.
    Read,
}

impl Scope {
    pub fn as_str(self) -> &'static str {
        match self {
            Scope::Ingest => "ingest",
            Scope::Read => "read",
        }
    }

    pub fn parse(s: &str) -> Option<Scope> {
        match s {
            "ingest" => Some(Scope::Ingest),
            "read" => Some(Scope::Read),
            _ => None,
        }
    }

    /// Parses `ingest,read`; an error names what is not a scope.
    pub fn parse_list(list: &str) -> Result<Vec<Scope>, ScopeError> {
        let mut scopes = Vec::new();
        for s in list.split(',').map(str::trim).filter(|s| !s.is_empty()) {
            let scope = Scope::parse(s).ok_or_else(|| ScopeError::Unknown(s.to_owned()))?;
            if !scopes.contains(&scope) {
                scopes.push(scope);
            }
        }
        if scopes.is_empty() {
            return Err(ScopeError::None);
        }
        scopes.sort();
        Ok(scopes)
    }
}

/// Why a list of scopes is not one.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ScopeError {
    #[error("unknown scope `{0}`: use ingest, read or both")]
    Unknown(String),
    #[error("a key needs at least one scope: ingest, read or both")]
    None,
}

/// A stored key, as lists show it (never the key itself).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ApiKey {
    pub id: i64,
    pub name: String,
    pub prefix: String,
    pub scopes: Vec<Scope>,
    pub created_at: EpochMillis,
    pub created_by: Option<String>,
    pub last_used_at: Option<EpochMillis>,
    pub revoked_at: Option<EpochMillis>,
}

impl ApiKey {
    pub fn allows(&self, scope: Scope) -> bool {
        self.revoked_at.is_none() && self.scopes.contains(&scope)
    }
}

/// Keys look like `sl_` + 40 characters of base 62; the prefix is its first 11 characters.
const PREFIX_LEN: usize = 11;

fn new_secret() -> String {
    const ALPHABET: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    let mut rng = rand::rng();
    let body: String = (0..40)
        .map(|_| char::from(ALPHABET[rng.random_range(0..ALPHABET.len())]))
        .collect();
    format!("sl_{body}")
}

/// The SHA-256 of a key, in hex: what the database keeps.
pub fn hash_key(key: &str) -> String {
    let digest = Sha256::digest(key.as_bytes());
    let mut hex = String::with_capacity(64);
    for b in digest {
        let _ = write!(hex, "{b:02x}");
    }
    hex
}

const KEY_COLUMNS: &str =
    "id, name, prefix, scopes, created_at, created_by, last_used_at, revoked_at";

/// A row of [`KEY_COLUMNS`].
#[derive(sqlx::FromRow)]
struct KeyRecord {
    id: i64,
    name: String,
    prefix: String,
    /// Comma-separated.
    scopes: String,
    created_at: EpochMillis,
    created_by: Option<String>,
    last_used_at: Option<EpochMillis>,
    revoked_at: Option<EpochMillis>,
}

impl From<KeyRecord> for ApiKey {
    fn from(r: KeyRecord) -> ApiKey {
        ApiKey {
            id: r.id,
            name: r.name,
            prefix: r.prefix,
            scopes: r.scopes.split(',').filter_map(Scope::parse).collect(),
            created_at: r.created_at,
            created_by: r.created_by,
            last_used_at: r.last_used_at,
            revoked_at: r.revoked_at,
        }
    }
}

fn key_from_row(r: &sqlx::any::AnyRow) -> Result<ApiKey, sqlx::Error> {
    KeyRecord::from_row(r).map(ApiKey::from)
}

impl Store {
    /// Creates a key and returns it with the secret, which is not stored and cannot be
    /// shown again.
    pub async fn create_api_key(
        &self,
        name: &str,
        scopes: &[Scope],
        created_by: Option<&str>,
        now: i64,
    ) -> Result<(ApiKey, String), StoreError> {
        let secret = new_secret();
        let prefix = secret[..PREFIX_LEN].to_string();
        let scope_list = scopes
            .iter()
            .map(|s| s.as_str())
            .collect::<Vec<_>>()
            .join(",");
        let row = sqlx::query(&format!(
            "INSERT INTO api_keys (name, prefix, key_hash, scopes, created_at, created_by) \
             VALUES ($1, $2, $3, $4, $5, $6) RETURNING {KEY_COLUMNS}"
        ))
        .bind(name)
        .bind(&prefix)
        .bind(hash_key(&secret))
        .bind(&scope_list)
        .bind(now)
        .bind(created_by)
        .fetch_one(&self.pool)
        .await?;
        Ok((key_from_row(&row)?, secret))
    }

    /// Every key, newest first.
    pub async fn list_api_keys(&self) -> Result<Vec<ApiKey>, StoreError> {
        let rows = sqlx::query(&format!(
            "SELECT {KEY_COLUMNS} FROM api_keys ORDER BY created_at DESC, id DESC"
        ))
        .fetch_all(&self.pool)
        .await?;
        map_rows(&rows, key_from_row)
    }

    /// The key a client presented, if it exists (revoked or not).
    pub async fn find_api_key(&self, secret: &str) -> Result<Option<ApiKey>, StoreError> {
        let row = sqlx::query(&format!(
            "SELECT {KEY_COLUMNS} FROM api_keys WHERE key_hash = $1"
        ))
        .bind(hash_key(secret))
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.as_ref().map(key_from_row).transpose()?)
    }

    /// Revokes the key with this id or prefix; returns it, or `None` if there is none.
    pub async fn revoke_api_key(
        &self,
        id_or_prefix: &str,
        now: i64,
    ) -> Result<Option<ApiKey>, StoreError> {
        let id = id_or_prefix.parse::<i64>().unwrap_or(-1);
        let row = sqlx::query(&format!(
            "UPDATE api_keys SET revoked_at = COALESCE(revoked_at, $1) \
             WHERE id = $2 OR prefix = $3 RETURNING {KEY_COLUMNS}"
        ))
        .bind(now)
        .bind(id)
        .bind(id_or_prefix)
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.as_ref().map(key_from_row).transpose()?)
    }

    /// Records when a key was last used.
    pub async fn touch_api_key(&self, id: i64, now: i64) -> Result<(), StoreError> {
        sqlx::query("UPDATE api_keys SET last_used_at = $1 WHERE id = $2")
            .bind(now)
            .bind(id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scopes_parse_from_a_list() {
        assert_eq!(
            Scope::parse_list("read, ingest,read"),
            Ok(vec![Scope::Ingest, Scope::Read])
        );
        assert_eq!(
            Scope::parse_list("ingest,admin").map_err(|e| e.to_string()),
            Err("unknown scope `admin`: use ingest, read or both".into())
        );
        assert_eq!(Scope::parse_list(" , "), Err(ScopeError::None));
    }

    #[test]
    fn keys_are_random_and_only_their_hash_is_kept() {
        let (a, b) = (new_secret(), new_secret());
        assert_ne!(a, b);
        assert_eq!(a.len(), 43);
        assert!(a.starts_with("sl_"));
        // SHA-256 of "abc".
        assert_eq!(
            hash_key("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }
}
