//! `/settings`: API keys (everyone sees them, admins create and revoke), dashboard
//! accounts (admins only), the model price table, the retention of raw requests, the
//! spending budgets and the audit log (admins only).
//! Each section loads its own data and loads it again after one of its actions.

mod accounts;
mod audit;
mod budgets;
mod keys;
mod prices;
mod retention;

use leptos::prelude::*;

use crate::auth::CurrentUser;
use crate::components::layout::use_current_user;

/// The page: the sections the signed-in account may see.
#[component]
pub fn SettingsPage() -> impl IntoView {
    let user = use_current_user();
    view! {
        <div class="page-head">
            <h1>"Settings"</h1>
        </div>
        <div class="settings" data-testid="settings">
            <Suspense fallback=|| view! { <p class="loading">"Loading settings…"</p> }>
                {move || Suspend::new(async move {
                    let me: Option<CurrentUser> = match user {
                        Some(u) => u.await.ok().flatten(),
                        None => None,
                    };
                    let admin = me.as_ref().is_some_and(CurrentUser::is_admin);
                    let my_id = me.map_or(0, |u| u.id);
                    view! {
                        <keys::ApiKeysSection admin />
                        {admin.then(|| view! { <accounts::AccountsSection my_id /> })}
                        <prices::PricesSection admin />
                        <retention::RetentionSection admin />
                        <budgets::BudgetsSection admin />
                        {admin.then(|| view! { <audit::AuditSection /> })}
                    }
                })}
            </Suspense>
        </div>
    }
}

/// What an action answered, as a line under its form: a success message or the error.
fn outcome<T: 'static>(
    value: impl Get<Value = Option<Result<T, ServerFnError>>> + Send + Sync + 'static,
    ok: impl Fn(&T) -> Option<String> + Send + Sync + 'static,
    test_id: &'static str,
) -> impl IntoView {
    move || {
        value.get().and_then(|r| match r {
            Ok(v) => ok(&v).map(|text| {
                view! { <p class="ok-state" role="status" data-testid=test_id>{text}</p> }
                    .into_any()
            }),
            Err(e) => Some(
                view! {
                    <p class="error" role="alert" data-testid=test_id>
                        {crate::pages::login::clean_error(&e.to_string())}
                    </p>
                }
                .into_any(),
            ),
        })
    }
}

/// Asks before something that cannot be undone. (Buttons only act once the wasm runs,
/// so without it there is nothing to confirm.)
fn confirmed(question: &str) -> bool {
    #[cfg(feature = "hydrate")]
    {
        web_sys::window()
            .and_then(|w| w.confirm_with_message(question).ok())
            .unwrap_or(false)
    }
    #[cfg(not(feature = "hydrate"))]
    {
        let _ = question;
        true
    }
}
