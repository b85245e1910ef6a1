//! What the settings page shows and changes: API keys, dashboard accounts, the model
//! price table and the retention of raw requests. Shared by the server (which fills
//! these from the store) and the page (which renders them).

use serde::{Deserialize, Serialize};

use crate::auth::Role;
use crate::input::InputError;
use crate::units::{EpochMillis, Micros};

/// The scopes an API key may have, as the API and the store name them.
pub const KEY_SCOPES: &[&str] = &["ingest", "read"];

/// An API key as lists show it: never the key itself, which is shown once.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiKeyRow {
    pub id: i64,
    pub name: String,
    /// The first characters of the key (`sl_…`), to tell keys apart.
    pub prefix: String,
    pub scopes: Vec<String>,
    pub created_at: EpochMillis,
    pub created_by: Option<String>,
    pub last_used_at: Option<EpochMillis>,
    pub revoked_at: Option<EpochMillis>,
}

/// A key just created, with its secret: the only time the secret leaves the server.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewApiKey {
    pub key: ApiKeyRow,
    pub secret: String,
}

/// A dashboard account as lists show it (never its password hash).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccountRow {
    pub id: i64,
    pub username: String,
    pub role: Role,
    pub created_at: EpochMillis,
    pub last_login_at: Option<EpochMillis>,
}

/// An account just created; `generated_password` is set (and shown once) when the
/// admin left the password empty.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewAccount {
    pub account: AccountRow,
    pub generated_password: Option<String>,
}

/// A password an admin just reset: generated, stored only as its hash, and shown this
/// once. The account's sessions end with the change.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PasswordReset {
    pub account: AccountRow,
    pub password: String,
}

/// Where a model's price comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PriceSource {
    /// Sightline's built-in list price.
    BuiltIn,
    /// Set by an admin (in the settings or with `sightline price set`).
    Set,
}

impl PriceSource {
    pub fn as_str(self) -> &'static str {
        match self {
            PriceSource::BuiltIn => "built-in",
            PriceSource::Set => "set",
        }
    }
}

/// How often the ingest reads the price table again: a price set now applies to
/// requests ingested at most this many seconds later.
pub const PRICES_REFRESH_SECONDS: u64 = 30;

/// One row of the merged price table, in micro-dollars per million tokens. Without a
/// cache or reasoning rate, cache reads and writes cost as prompt tokens and reasoning
/// as completion tokens.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PriceRow {
    pub model: String,
    pub prompt_micros_per_mtok: Micros,
    pub completion_micros_per_mtok: Micros,
    pub cache_read_micros_per_mtok: Option<Micros>,
    pub cache_write_micros_per_mtok: Option<Micros>,
    pub reasoning_micros_per_mtok: Option<Micros>,
    pub source: PriceSource,
}

/// A model's prices as an admin types them, in USD per million tokens; the cache and
/// reasoning rates are optional.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct UsdPrices {
    pub prompt: f64,
    pub completion: f64,
    pub cache_read: Option<f64>,
    pub cache_write: Option<f64>,
    pub reasoning: Option<f64>,
}

/// Parses the price form's fields: prompt and completion are required, the other rates
/// may be left empty. An error names the field.
pub fn parse_usd_prices(
    prompt: &str,
    completion: &str,
    cache_read: &str,
    cache_write: &str,
    reasoning: &str,
) -> Result<UsdPrices, InputError> {
    let usd = |name: &'static str, text: &str| {
        text.trim().parse::<f64>().map_err(|_| InputError::Price {
            name,
            text: text.trim().escape_debug().to_string(),
        })
    };
    let optional = |name: &'static str, text: &str| {
        if text.trim().is_empty() {
            Ok(None)
        } else {
            usd(name, text).map(Some)
        }
    };
    Ok(UsdPrices {
        prompt: usd("prompt", prompt)?,
        completion: usd("completion", completion)?,
        cache_read: optional("cache read", cache_read)?,
        cache_write: optional("cache write", cache_write)?,
        reasoning: optional("reasoning", reasoning)?,
    })
}

/// Fewest and most days of raw requests an admin may choose to keep.
pub const RETENTION_DAYS: std::ops::RangeInclusive<u32> = 1..=3650;

/// How long raw requests are kept.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Retention {
    /// What applies: the setting if an admin chose one, else `default_days`.
    pub days: u32,
    /// The admin's choice, if any.
    pub setting: Option<u32>,
    /// `SIGHTLINE_RETENTION_DAYS`, or 90.
    pub default_days: u32,
    /// Whether raw requests older than `days` are deleted (hourly, by `serve`).
    pub pruning_enabled: bool,
}

/// Parses a number of days typed by an admin.
pub fn parse_retention_days(text: &str) -> Result<u32, InputError> {
    let days: u32 = text.trim().parse().map_err(|_| InputError::RetentionDays)?;
    if RETENTION_DAYS.contains(&days) {
        Ok(days)
    } else {
        Err(InputError::RetentionDays)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn price_fields_parse_with_optional_rates() {
        assert_eq!(
            parse_usd_prices("3", " 15 ", "0.3", "", "  "),
            Ok(UsdPrices {
                prompt: 3.0,
                completion: 15.0,
                cache_read: Some(0.3),
                cache_write: None,
                reasoning: None,
            })
        );
        assert_eq!(
            parse_usd_prices("3", "15", "", "x", "").map_err(|e| e.to_string()),
            Err(
                "the cache write price `x` is not a number: give USD per million tokens, e.g. 2.5"
                    .into()
            )
        );
        assert!(parse_usd_prices("", "15", "", "", "").is_err());
    }

    #[test]
    fn retention_days_are_bounded() {
        assert_eq!(parse_retention_days(" 30 "), Ok(30));
        assert_eq!(parse_retention_days("1"), Ok(1));
        assert_eq!(parse_retention_days("3650"), Ok(3650));
        for bad in ["0", "3651", "5000", "-1", "1.5", "", "ninety"] {
            assert!(parse_retention_days(bad).is_err(), "{bad}");
        }
    }
}
