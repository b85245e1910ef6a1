//! The audit trail: what admins did (API keys, accounts, prices, retention, threats)
//! and Sightline's own sign-ins and sign-outs, each with who, when, from where and
//! what. Shared by the settings page's section, its server function and
//! `GET /api/v1/export/audit.csv`.

use serde::{Deserialize, Serialize};

use crate::query::QueryError;
use crate::units::EpochMillis;

/// Every action the trail records, in the order the filter lists them, with its label.
pub const AUDIT_ACTIONS: [(&str, &str); 17] = [
    ("signed_in", "Signed in"),
    ("signed_out", "Signed out"),
    ("api_key.created", "API key created"),
    ("api_key.revoked", "API key revoked"),
    ("account.created", "Account created"),
    ("account.role_changed", "Role changed"),
    ("account.password_reset", "Password reset"),
    ("account.deleted", "Account deleted"),
    ("price.set", "Price set"),
    ("price.reset", "Price reset"),
    ("retention.set", "Retention set"),
    ("budgets.set", "Budgets set"),
    ("budgets.reset", "Budgets reset"),
    ("budget.user_set", "User budget set"),
    ("budget.user_removed", "User budget removed"),
    ("threats.resolved", "Threats resolved"),
    ("threats.reopened", "Threats reopened"),
];

/// Rows in one page of the settings section.
pub const AUDIT_PAGE_ROWS: usize = 50;

/// The longest actor a filter takes (usernames are at most 64 characters).
const MAX_ACTOR_CHARS: usize = 255;

/// The label of an action, or the action itself if it is not one of [`AUDIT_ACTIONS`].
pub fn action_label(action: &str) -> &str {
    AUDIT_ACTIONS
        .iter()
        .find(|(a, _)| *a == action)
        .map_or(action, |(_, label)| label)
}

/// Which entries: every field is optional and they combine with AND.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AuditFilter {
    /// One of [`AUDIT_ACTIONS`].
    pub action: Option<String>,
    /// This account's entries only (exact; `cli` for the command line's).
    pub actor: Option<String>,
    /// Created at or after (epoch ms).
    pub since: Option<EpochMillis>,
    /// Created before (epoch ms).
    pub until: Option<EpochMillis>,
    /// Entries older than this id only: the next page's cursor.
    pub before_id: Option<i64>,
}

impl AuditFilter {
    /// The filter with blank fields dropped, or what is wrong with it.
    pub fn validated(self) -> Result<AuditFilter, QueryError> {
        let blank = |v: Option<String>| v.map(|s| s.trim().to_owned()).filter(|s| !s.is_empty());
        let action = blank(self.action);
        if let Some(a) = &action
            && !AUDIT_ACTIONS.iter().any(|(known, _)| known == a)
        {
            let choices = AUDIT_ACTIONS.map(|(a, _)| a).join(", ");
            return Err(QueryError::unknown(
                "action",
                &a.escape_debug().to_string(),
                format!("one of {choices}"),
            ));
        }
        let actor = blank(self.actor);
        if actor
            .as_ref()
            .is_some_and(|a| a.chars().count() > MAX_ACTOR_CHARS)
        {
            return Err(QueryError::TooLong {
                name: "actor",
                max: MAX_ACTOR_CHARS,
            });
        }
        if let (Some(s), Some(u)) = (self.since, self.until)
            && s >= u
        {
            return Err(QueryError::Order("since must be before until"));
        }
        Ok(AuditFilter {
            action,
            actor,
            since: self.since,
            until: self.until,
            before_id: self.before_id,
        })
    }

    /// The CSV export of this filter (without the page cursor).
    pub fn export_href(&self) -> String {
        let since = self.since.map(|s| s.to_string());
        let until = self.until.map(|u| u.to_string());
        crate::query::href(
            "/api/v1/export/audit.csv",
            &[
                ("action", self.action.as_deref()),
                ("actor", self.actor.as_deref()),
                ("since", since.as_deref()),
                ("until", until.as_deref()),
            ],
        )
    }
}

/// One entry of the trail.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AuditRow {
    pub id: i64,
    pub created_at: EpochMillis,
    /// The account's username, or `cli` for the command line.
    pub actor: String,
    /// Where the request came from (as `SIGHTLINE_IP_ANONYMIZE` stores it).
    pub actor_ip: Option<String>,
    pub action: String,
    /// What the action was about: a key's prefix, an account, a model.
    pub target: Option<String>,
    /// The rest, as JSON: scopes, roles, prices, days, counts and filters.
    pub detail: Option<String>,
}

/// A page of entries, newest first, and the cursor of the next (older) one.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AuditPage {
    pub rows: Vec<AuditRow>,
    pub next_before_id: Option<i64>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_filter_is_checked_and_blank_fields_dropped() {
        let f = AuditFilter {
            action: Some(" price.set ".into()),
            actor: Some("  ".into()),
            ..AuditFilter::default()
        }
        .validated()
        .unwrap();
        assert_eq!(f.action.as_deref(), Some("price.set"));
        assert_eq!(f.actor, None);
        let bad = AuditFilter {
            action: Some("drop table".into()),
            ..AuditFilter::default()
        };
        assert!(
            bad.validated()
                .unwrap_err()
                .to_string()
                .starts_with("unknown action `drop table`")
        );
        assert_eq!(f.export_href(), "/api/v1/export/audit.csv?action=price.set");
        assert_eq!(action_label("threats.resolved"), "Threats resolved");
    }
}
