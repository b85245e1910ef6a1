use leptos::prelude::*;

use crate::api::settings::load_audit;
use crate::audit::{AUDIT_ACTIONS, AuditFilter, AuditPage, AuditRow, action_label};
use crate::components::table_card::Loaded;
use crate::format::instant;

/// The audit trail, for admins: the newest entries first, filtered by action and
/// account, a page at a time, and its CSV export.
#[component]
pub fn AuditSection() -> impl IntoView {
    let action = RwSignal::new(String::new());
    let actor = RwSignal::new(String::new());
    // The cursors of the pages shown before this one, so "Newer" can go back.
    let cursors = RwSignal::new(Vec::<i64>::new());
    let refreshed = RwSignal::new(0u32);
    let filter = move || AuditFilter {
        action: Some(action.get()).filter(|a| !a.is_empty()),
        actor: Some(actor.get().trim().to_owned()).filter(|a| !a.is_empty()),
        before_id: cursors.with(|c| c.last().copied()),
        ..AuditFilter::default()
    };
    let page = Resource::new(move || (filter(), refreshed.get()), |(f, _)| load_audit(f));
    let export = move || {
        AuditFilter {
            before_id: None,
            ..filter()
        }
        .export_href()
    };
    view! {
        <section class="card full settings-section" data-testid="settings-audit" aria-label="Audit log">
            <h2 class="card-title">"Audit log"</h2>
            <p class="muted">
                "Every change an admin made (API keys, accounts, prices, retention, threats) and every sign-in and sign-out, with who, when and from where. Entries cannot be edited; retention deletes them with the auth events."
            </p>
            <form class="settings-form" data-testid="audit-filters" on:submit=|ev| ev.prevent_default()>
                <label>
                    "Action"
                    <select data-testid="audit-action" on:change=move |ev| {
                        action.set(event_target_value(&ev));
                        cursors.set(Vec::new());
                    }>
                        <option value="">"All actions"</option>
                        {AUDIT_ACTIONS.iter().map(|(a, label)| view! {
                            <option value=*a>{*label}</option>
                        }).collect_view()}
                    </select>
                </label>
                <label>
                    "Account"
                    <input type="text" maxlength="255" placeholder="username or cli" data-testid="audit-actor"
                        on:change=move |ev| {
                            actor.set(event_target_value(&ev));
                            cursors.set(Vec::new());
                        } />
                </label>
                <button class="button" type="button" data-testid="audit-refresh"
                    on:click=move |_| refreshed.update(|n| *n += 1)>"Refresh"</button>
                <a class="button" data-testid="audit-export" href=export download>"Export CSV"</a>
            </form>
            <Loaded loading="Loading the audit log…" resource=page render=move |p: AuditPage| {
                view! { <AuditTable page=p cursors /> }
            } />
        </section>
    }
}

#[component]
fn AuditTable(page: AuditPage, cursors: RwSignal<Vec<i64>>) -> impl IntoView {
    if page.rows.is_empty() {
        return view! { <p class="empty" data-testid="audit-empty">"No entry matches."</p> }
            .into_any();
    }
    let next = page.next_before_id;
    view! {
        <div class="table-scroll">
            <table class="table" data-testid="audit-table">
                <thead>
                    <tr>
                        <th>"When"</th>
                        <th>"Account"</th>
                        <th>"From"</th>
                        <th>"Action"</th>
                        <th>"Target"</th>
                        <th>"Details"</th>
                    </tr>
                </thead>
                <tbody>
                    {page.rows.into_iter().map(|r: AuditRow| view! {
                        <tr data-testid="audit-row" data-action=r.action.clone()>
                            <td class="nowrap">{instant(r.created_at)}</td>
                            <td data-testid="audit-actor-cell">{r.actor}</td>
                            <td class="mono">{r.actor_ip.unwrap_or_default()}</td>
                            <td data-testid="audit-action-cell">{action_label(&r.action).to_owned()}</td>
                            <td class="mono" data-testid="audit-target">{r.target.unwrap_or_default()}</td>
                            <td class="mono detail">{r.detail.unwrap_or_default()}</td>
                        </tr>
                    }).collect_view()}
                </tbody>
            </table>
        </div>
        <div class="pager">
            {move || (!cursors.with(Vec::is_empty)).then(|| view! {
                <button class="button" type="button" data-testid="audit-newer"
                    on:click=move |_| cursors.update(|c| { c.pop(); })>"Newer"</button>
            })}
            {next.map(|id| view! {
                <button class="button" type="button" data-testid="audit-older"
                    on:click=move |_| cursors.update(|c| c.push(id))>"Older"</button>
            })}
        </div>
    }
    .into_any()
}
