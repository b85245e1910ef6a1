use leptos::prelude::*;

use super::outcome;
use crate::api::settings::{SetRetention, load_retention};
use crate::components::table_card::Loaded;
use crate::settings::{RETENTION_DAYS, Retention};

/// How many days raw requests are kept: the effective value, where it comes from, and
/// (for admins) a form to change it.
#[component]
pub fn RetentionSection(admin: bool) -> impl IntoView {
    let set = ServerAction::<SetRetention>::new();
    let retention = Resource::new(move || set.version().get(), |_| load_retention());
    view! {
        <section class="card full settings-section" data-testid="settings-retention" aria-label="Retention">
            <h2 class="card-title">"Retention"</h2>
            <Loaded loading="Loading retention…" resource=retention
                render={move |r| view! { <RetentionState r admin set /> }} />
            {outcome(set.value(), |r: &Retention| Some(format!("Retention set to {} days.", r.days)), "retention-message")}
        </section>
    }
}

#[component]
fn RetentionState(r: Retention, admin: bool, set: ServerAction<SetRetention>) -> impl IntoView {
    let source = match r.setting {
        Some(_) => "set here".to_owned(),
        None => format!(
            "SIGHTLINE_RETENTION_DAYS or the default, {} days",
            r.default_days
        ),
    };
    view! {
        <p>
            "Raw requests are kept for "
            <strong data-testid="retention-days">{r.days}</strong>
            {format!(" days ({source}).")}
        </p>
        <p class="muted" data-testid="retention-pruning">
            {if r.pruning_enabled {
                "Older raw requests and auth events are deleted every hour, a small batch at a time, and so are resolved threats and alerts, sessions, users and ratings last active before then; ingest refuses events stamped older. The dashboard's rollups and model stats are kept, so its figures do not change."
            } else {
                "Pruning is not enabled: the setting is stored, but no raw request is deleted."
            }}
        </p>
        {admin.then(|| view! {
            <ActionForm action=set attr:class="settings-form" attr:data-testid="set-retention-form">
                <label>
                    "Days to keep"
                    <input type="number" name="days" required min=*RETENTION_DAYS.start()
                        max=*RETENTION_DAYS.end() step="1" value=r.days data-testid="retention-input" />
                </label>
                <button class="button primary" type="submit" data-testid="set-retention"
                    disabled=move || set.pending().get()>"Save"</button>
            </ActionForm>
        })}
    }
}
