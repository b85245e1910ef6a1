use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

use crate::api::session::{Login, has_accounts};

/// `/login`: username and password. The form posts to the `login` server function, so
/// it works before (and without) the wasm; once hydrated, errors show in place.
#[component]
pub fn LoginPage() -> impl IntoView {
    let query = use_query_map();
    let next = query.with_untracked(|q| q.get("next")).unwrap_or_default();
    let login = ServerAction::<Login>::new();
    let error = move || {
        login
            .value()
            .get()
            .and_then(|r| r.err())
            .map(|e| clean_error(&e.to_string()))
    };
    let accounts = OnceResource::new(has_accounts());
    // Signed in: load the next page afresh (a new session, a new frame with the account).
    Effect::new(move |_| {
        if let Some(Ok(next)) = login.value().get() {
            #[cfg(feature = "hydrate")]
            if let Some(w) = web_sys::window() {
                let _ = w.location().assign(&next);
            }
            #[cfg(not(feature = "hydrate"))]
            let _ = next;
        }
    });

    view! {
        <div class="login">
            <div class="login-card card">
                <h1 class="login-title">
                    <span class="brand-mark" aria-hidden="true"></span>
                    "Sign in to Sightline"
                </h1>
                <ActionForm action=login attr:class="login-form" attr:data-testid="login-form">
                    <input type="hidden" name="next" value=next />
                    <label>
                        "Username"
                        <input type="text" name="username" autocomplete="username" required autofocus
                            data-testid="login-username" />
                    </label>
                    <label>
                        "Password"
                        <input type="password" name="password" autocomplete="current-password" required
                            data-testid="login-password" />
                    </label>
                    {move || error().map(|message| view! {
                        <p class="error" role="alert" data-testid="login-error">{message}</p>
                    })}
                    <button class="button primary" type="submit" data-testid="login-submit"
                        disabled=move || login.pending().get()>
                        {move || if login.pending().get() { "Signing in…" } else { "Sign in" }}
                    </button>
                </ActionForm>
                <Suspense>
                    {move || Suspend::new(async move {
                        (accounts.await == Ok(false)).then(|| view! {
                            <p class="muted hint" data-testid="no-accounts">
                                "No account exists yet. Create the first one on the server: "
                                <code>"sightline create-admin --username admin"</code>
                            </p>
                        })
                    })}
                </Suspense>
            </div>
        </div>
    }
}

/// A server-function error as the person should read it (without the framework's
/// "error running server function:" prefix).
pub(crate) fn clean_error(message: &str) -> String {
    message
        .rsplit_once(": ")
        .filter(|(head, _)| head.to_ascii_lowercase().contains("server"))
        .map_or(message, |(_, tail)| tail)
        .to_owned()
}
