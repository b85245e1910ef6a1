//! The audit trail's writer: every admin action (in the settings page, on threats, or
//! with the command line) and every sign-in and sign-out of Sightline's own accounts
//! becomes an `audit_log` entry with who, when, from where and what. The entry is
//! written once the action has succeeded; a failure to write it is logged as an error
//! and does not undo the action.

use serde_json::{Value, json};
use sightline_app::auth::CurrentUser;
use sightline_app::settings::UsdPrices;
use sightline_app::units::Micros;

use crate::store::{NewAudit, Store};

/// The actor of the command line's actions.
pub const CLI: &str = "cli";

fn now() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

/// Writes the entry; a failure is logged, never returned (the action is done).
async fn write(
    store: &Store,
    actor: &str,
    actor_ip: Option<&str>,
    action: &'static str,
    target: Option<&str>,
    detail: Option<Value>,
) {
    let entry = NewAudit {
        created_at: now(),
        actor: actor.to_owned(),
        actor_ip: actor_ip.map(str::to_owned),
        action,
        target: target.map(str::to_owned),
        detail: detail.map(|d| d.to_string()),
    };
    if let Err(e) = store.record_audit(&entry).await {
        tracing::error!(error = %e, action, actor, "could not write an audit entry");
    }
}

/// Records that `who` did `action` (one of `sightline_app::audit::AUDIT_ACTIONS`) to
/// `target`, with `detail`.
pub async fn record(
    store: &Store,
    who: &CurrentUser,
    action: &'static str,
    target: Option<&str>,
    detail: Option<Value>,
) {
    write(
        store,
        &who.username,
        who.ip.as_deref(),
        action,
        target,
        detail,
    )
    .await;
}

/// Records an action of the command line (`sightline api-key …`, `price …`, `create-admin`).
pub async fn record_cli(
    store: &Store,
    action: &'static str,
    target: Option<&str>,
    detail: Option<Value>,
) {
    write(store, CLI, None, action, target, detail).await;
}

/// A budget as the audit trail keeps it: USD, `null` for none.
pub fn usd(amount: Option<Micros>) -> Value {
    amount.map_or(Value::Null, |m| json!(m.usd()))
}

/// A price as the audit trail keeps it: USD per million tokens, unset rates left out.
pub fn price_detail(p: &UsdPrices) -> Value {
    let mut detail = json!({ "prompt": p.prompt, "completion": p.completion });
    for (name, rate) in [
        ("cache_read", p.cache_read),
        ("cache_write", p.cache_write),
        ("reasoning", p.reasoning),
    ] {
        if let Some(rate) = rate {
            detail[name] = json!(rate);
        }
    }
    detail
}
