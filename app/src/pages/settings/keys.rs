use leptos::prelude::*;

use super::{confirmed, outcome};
use crate::api::settings::{CreateApiKey, RevokeApiKey, load_api_keys};
use crate::components::table_card::Loaded;
use crate::format::instant;
use crate::settings::{ApiKeyRow, KEY_SCOPES};

/// API keys for the ingest and read APIs: the list for everyone; creating (the key is
/// shown once) and revoking for admins.
#[component]
pub fn ApiKeysSection(admin: bool) -> impl IntoView {
    let create = ServerAction::<CreateApiKey>::new();
    let revoke = ServerAction::<RevokeApiKey>::new();
    let keys = Resource::new(
        move || (create.version().get(), revoke.version().get()),
        |_| load_api_keys(),
    );
    view! {
        <section class="card full settings-section" data-testid="settings-keys" aria-label="API keys">
            <h2 class="card-title">"API keys"</h2>
            <p class="muted">
                "Clients send a key as " <code>"Authorization: Bearer sl_…"</code>
                ": " <code>"ingest"</code> " for " <code>"POST /api/v1/ingest"</code>
                ", " <code>"read"</code> " for the read and export APIs. Only a hash of each key is kept."
            </p>
            {admin.then(|| view! { <CreateKeyForm create /> })}
            {outcome(revoke.value(), |k: &ApiKeyRow| Some(format!("Revoked {} ({}).", k.prefix, k.name)), "revoke-message")}
            <Loaded loading="Loading keys…" resource=keys render={move |rows: Vec<ApiKeyRow>| {
                if rows.is_empty() {
                    view! { <p class="empty" data-testid="keys-empty">"No API key yet."</p> }.into_any()
                } else {
                    view! { <KeyTable rows admin revoke /> }.into_any()
                }
            }} />
        </section>
    }
}

#[component]
fn CreateKeyForm(create: ServerAction<CreateApiKey>) -> impl IntoView {
    view! {
        <ActionForm action=create attr:class="settings-form" attr:data-testid="create-key-form">
            <label>
                "Name"
                <input type="text" name="name" required maxlength="100" placeholder="production gateway"
                    data-testid="key-name" />
            </label>
            <fieldset class="scopes">
                <legend>"Scopes"</legend>
                {KEY_SCOPES.iter().map(|scope| view! {
                    <label class="inline">
                        <input type="checkbox" name=*scope checked=*scope == "ingest"
                            data-testid=format!("key-scope-{scope}") />
                        {*scope}
                    </label>
                }).collect_view()}
            </fieldset>
            <button class="button primary" type="submit" data-testid="create-key"
                disabled=move || create.pending().get()>"Create key"</button>
        </ActionForm>
        {move || create.value().get().map(|r| match r {
            Ok(new) => view! {
                <div class="secret-box" role="status" data-testid="new-key-box">
                    <p>
                        {format!("Key {} ({}) created. Copy it now: ", new.key.prefix, new.key.name)}
                        <strong>"it will not be shown again."</strong>
                    </p>
                    <code class="secret" data-testid="new-key">{new.secret}</code>
                </div>
            }.into_any(),
            Err(e) => view! {
                <p class="error" role="alert" data-testid="create-key-error">
                    {crate::pages::login::clean_error(&e.to_string())}
                </p>
            }.into_any(),
        })}
    }
}

#[component]
fn KeyTable(
    rows: Vec<ApiKeyRow>,
    admin: bool,
    revoke: ServerAction<RevokeApiKey>,
) -> impl IntoView {
    view! {
        <div class="table-scroll">
            <table class="table" data-testid="keys-table">
                <thead>
                    <tr>
                        <th>"Prefix"</th>
                        <th>"Name"</th>
                        <th>"Scopes"</th>
                        <th>"Created"</th>
                        <th>"Created by"</th>
                        <th>"Last used"</th>
                        <th>"State"</th>
                        {admin.then(|| view! { <th><span class="sr-only">"Actions"</span></th> })}
                    </tr>
                </thead>
                <tbody>
                    {rows.into_iter().map(|k| {
                        let active = k.revoked_at.is_none();
                        let (id, prefix) = (k.id, k.prefix.clone());
                        let revoke_now = move |_| {
                            if confirmed(&format!("Revoke key {prefix}? Clients using it are refused from now on.")) {
                                revoke.dispatch(RevokeApiKey { id });
                            }
                        };
                        view! {
                            <tr data-testid="key-row" data-id=k.id class:resolved=!active>
                                <td class="mono">{k.prefix}</td>
                                <td>{k.name}</td>
                                <td>{k.scopes.join(", ")}</td>
                                <td class="nowrap">{instant(k.created_at)}</td>
                                <td>{k.created_by.unwrap_or_default()}</td>
                                <td class="nowrap">{k.last_used_at.map_or("never".to_owned(), instant)}</td>
                                <td data-testid="key-state">
                                    {k.revoked_at.map_or("active".to_owned(), |t| format!("revoked {}", instant(t)))}
                                </td>
                                {admin.then(|| view! {
                                    <td>
                                        {active.then(|| view! {
                                            <button class="button small" data-testid="revoke-key"
                                                disabled=move || revoke.pending().get()
                                                on:click=revoke_now>"Revoke"</button>
                                        })}
                                    </td>
                                })}
                            </tr>
                        }
                    }).collect_view()}
                </tbody>
            </table>
        </div>
    }
}
