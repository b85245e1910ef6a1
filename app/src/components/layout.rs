use leptos::prelude::*;
use leptos_router::components::A;
use leptos_router::hooks::use_location;

use crate::api::session::whoami;
use crate::auth::CurrentUser;

/// The frame of every page: the top bar with the product name, navigation and the
/// signed-in account (none on the login page).
#[component]
pub fn Shell(children: Children) -> impl IntoView {
    let location = use_location();
    let on_login = move || location.pathname.get().starts_with("/login");
    let user = OnceResource::new(whoami());
    // Pages that need the account (e.g. to show admin-only buttons) read it from here.
    provide_context(user);

    view! {
        <header class="topbar">
            <A href="/" attr:class="brand">
                <span class="brand-mark" aria-hidden="true"></span>
                "Sightline"
            </A>
            <Show when=move || !on_login()>
                <nav class="nav" aria-label="Main">
                    <A href="/">"Dashboard"</A>
                    <A href="/endpoints">"Endpoints"</A>
                    <A href="/errors">"Errors"</A>
                    <A href="/providers">"Providers"</A>
                    <A href="/requests">"Requests"</A>
                    <A href="/sessions">"Sessions"</A>
                    <A href="/users">"Users"</A>
                    <A href="/threats">"Threats"</A>
                    <A href="/security">"Security"</A>
                    <A href="/settings">"Settings"</A>
                </nav>
                <Suspense>
                    {move || Suspend::new(async move {
                        user.await.ok().flatten().map(|u| view! { <AccountMenu user=u /> })
                    })}
                </Suspense>
            </Show>
        </header>
        <main class="page">{children()}</main>
    }
}

/// Who is signed in, their role, and the sign-out button (a POST form, so it works
/// without the wasm and cannot be triggered by a link from another site).
#[component]
fn AccountMenu(user: CurrentUser) -> impl IntoView {
    view! {
        <div class="account" data-testid="account">
            <span class="account-name" data-testid="account-name">{user.username}</span>
            <span class="role-badge" data-testid="account-role">{user.role.as_str()}</span>
            <form method="post" action="/logout" rel="external">
                <button class="button small" type="submit" data-testid="logout">"Sign out"</button>
            </form>
        </div>
    }
}

/// The signed-in account as the shell loaded it (for pages that adapt to the role).
pub fn use_current_user() -> Option<OnceResource<Result<Option<CurrentUser>, ServerFnError>>> {
    use_context()
}
