use leptos::prelude::*;

use super::{confirmed, outcome};
use crate::api::settings::{
    CreateAccount, DeleteAccount, ResetPassword, SetAccountRole, load_accounts,
};
use crate::auth::Role;
use crate::components::table_card::Loaded;
use crate::format::instant;
use crate::settings::{AccountRow, PasswordReset};

/// Dashboard accounts (admins only): list, create, change role, reset another account's
/// password, delete. The server refuses to delete or demote the signed-in admin or the
/// last admin, and to reset the signed-in admin's own password.
#[component]
pub fn AccountsSection(my_id: i64) -> impl IntoView {
    let create = ServerAction::<CreateAccount>::new();
    let set_role = ServerAction::<SetAccountRole>::new();
    let delete = ServerAction::<DeleteAccount>::new();
    let reset = ServerAction::<ResetPassword>::new();
    let accounts = Resource::new(
        move || {
            (
                create.version().get(),
                set_role.version().get(),
                delete.version().get(),
            )
        },
        |_| load_accounts(),
    );
    view! {
        <section class="card full settings-section" data-testid="settings-accounts" aria-label="Dashboard accounts">
            <h2 class="card-title">"Dashboard accounts"</h2>
            <p class="muted">
                "Viewers read everything; admins also change what is shared (threat states, keys, accounts, prices, retention)."
            </p>
            <CreateAccountForm create />
            {outcome(set_role.value(), |a: &AccountRow| Some(format!("{} is now {}.", a.username, a.role)), "role-message")}
            {outcome(delete.value(), |_| Some("Account deleted.".to_owned()), "delete-message")}
            <ResetOutcome reset />
            <Loaded loading="Loading accounts…" resource=accounts
                render={move |rows| view! { <AccountTable rows my_id set_role delete reset /> }} />
        </section>
    }
}

#[component]
fn CreateAccountForm(create: ServerAction<CreateAccount>) -> impl IntoView {
    view! {
        <ActionForm action=create attr:class="settings-form" attr:data-testid="create-account-form">
            <label>
                "Username"
                <input type="text" name="username" required maxlength="64" autocomplete="off"
                    data-testid="account-username" />
            </label>
            <label>
                "Role"
                <select name="role" data-testid="account-role-new">
                    <option value="viewer" selected>"viewer"</option>
                    <option value="admin">"admin"</option>
                </select>
            </label>
            <label>
                "Password"
                <input type="password" name="password" autocomplete="new-password"
                    placeholder="empty: generate one" data-testid="account-password" />
            </label>
            <button class="button primary" type="submit" data-testid="create-account"
                disabled=move || create.pending().get()>"Create account"</button>
        </ActionForm>
        {move || create.value().get().map(|r| match r {
            Ok(new) => view! {
                <div class="secret-box" role="status" data-testid="new-account-box">
                    <p>{format!("Created {} account {}.", new.account.role, new.account.username)}</p>
                    {new.generated_password.map(|p| view! {
                        <p>"Its password, " <strong>"shown only now:"</strong></p>
                        <code class="secret" data-testid="new-password">{p}</code>
                    })}
                </div>
            }.into_any(),
            Err(e) => view! {
                <p class="error" role="alert" data-testid="create-account-error">
                    {crate::pages::login::clean_error(&e.to_string())}
                </p>
            }.into_any(),
        })}
    }
}

/// The password a reset generated, shown this once, or why the reset failed.
#[component]
fn ResetOutcome(reset: ServerAction<ResetPassword>) -> impl IntoView {
    move || {
        reset.value().get().map(|r| match r {
            Ok(PasswordReset { account, password }) => view! {
                <div class="secret-box" role="status" data-testid="reset-password-box">
                    <p>{format!(
                        "New password for {}; its sessions have ended. Shown only now:",
                        account.username
                    )}</p>
                    <code class="secret" data-testid="reset-password">{password}</code>
                </div>
            }
            .into_any(),
            Err(e) => view! {
                <p class="error" role="alert" data-testid="reset-password-error">
                    {crate::pages::login::clean_error(&e.to_string())}
                </p>
            }
            .into_any(),
        })
    }
}

#[component]
fn AccountTable(
    rows: Vec<AccountRow>,
    my_id: i64,
    set_role: ServerAction<SetAccountRole>,
    delete: ServerAction<DeleteAccount>,
    reset: ServerAction<ResetPassword>,
) -> impl IntoView {
    let busy = move || set_role.pending().get() || delete.pending().get() || reset.pending().get();
    view! {
        <div class="table-scroll">
            <table class="table" data-testid="accounts-table">
                <thead>
                    <tr>
                        <th>"Username"</th>
                        <th>"Role"</th>
                        <th>"Created"</th>
                        <th>"Last sign-in"</th>
                        <th><span class="sr-only">"Actions"</span></th>
                    </tr>
                </thead>
                <tbody>
                    {rows.into_iter().map(|a| {
                        let (id, me) = (a.id, a.id == my_id);
                        let other = if a.role == Role::Admin { Role::Viewer } else { Role::Admin };
                        let name = a.username.clone();
                        let data_username = a.username.clone();
                        let reset_name = a.username.clone();
                        let self_command = format!(
                            "Change your own password on the server: sightline create-admin --username {} --password-stdin",
                            a.username
                        );
                        let reset_now = move |_| {
                            if confirmed(&format!(
                                "Reset the password of {reset_name}? A new one is generated and shown once; {reset_name} is signed out everywhere."
                            )) {
                                reset.dispatch(ResetPassword { id });
                            }
                        };
                        let delete_now = move |_| {
                            if confirmed(&format!("Delete the account {name}? This cannot be undone.")) {
                                delete.dispatch(DeleteAccount { id });
                            }
                        };
                        view! {
                            <tr data-testid="account-row" data-id=id data-username=data_username>
                                <td>
                                    <span data-testid="account-row-name">{a.username}</span>
                                    {me.then(|| view! { <span class="muted">" (you)"</span> })}
                                </td>
                                <td><span class="role-badge" data-testid="account-row-role">{a.role.as_str()}</span></td>
                                <td class="nowrap">{instant(a.created_at)}</td>
                                <td class="nowrap">{a.last_login_at.map_or("never".to_owned(), instant)}</td>
                                <td class="actions">
                                    <button class="button small" data-testid="change-role"
                                        disabled=move || me || busy()
                                        title=me.then_some("You cannot change your own role")
                                        on:click=move |_| {
                                            set_role.dispatch(SetAccountRole { id, role: other.as_str().to_owned() });
                                        }>
                                        {format!("Make {other}")}
                                    </button>
                                    <button class="button small danger" data-testid="delete-account"
                                        disabled=move || me || busy()
                                        title=me.then_some("You cannot delete your own account")
                                        on:click=delete_now>"Delete"</button>
                                    {(!me).then(|| view! {
                                        <button class="button small" data-testid="reset-password-button"
                                            disabled=busy on:click=reset_now>"Reset password"</button>
                                    })}
                                    {me.then(|| view! {
                                        <p class="muted" data-testid="self-note">
                                            "You cannot change your own role or delete your own account: ask another admin."
                                        </p>
                                        <p class="muted" data-testid="self-password-note">{self_command}</p>
                                    })}
                                </td>
                            </tr>
                        }
                    }).collect_view()}
                </tbody>
            </table>
        </div>
    }
}
