use leptos::prelude::*;

/// A dashboard card: a titled box; `test_id` names it for end-to-end tests.
#[component]
pub fn Card(
    title: &'static str,
    #[prop(optional)] class: &'static str,
    test_id: &'static str,
    children: Children,
) -> impl IntoView {
    view! {
        <section class=format!("card {class}") data-testid=test_id aria-label=title>
            <h2 class="card-title">{title}</h2>
            {children()}
        </section>
    }
}

/// The text a card shows when its range holds nothing yet.
#[component]
pub fn EmptyState(message: &'static str) -> impl IntoView {
    view! { <p class="empty">{message}</p> }
}

/// The text a card shows when its data could not be loaded.
#[component]
pub fn ErrorState(message: String) -> impl IntoView {
    view! { <p class="error" role="alert">"Could not load: " {message}</p> }
}
