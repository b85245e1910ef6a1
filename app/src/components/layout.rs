use leptos::prelude::*;
use leptos_router::components::A;

/// The frame of every page: the top bar with the product name and navigation.
#[component]
pub fn Shell(children: Children) -> impl IntoView {
    view! {
        <header class="topbar">
            <A href="/" attr:class="brand">
                <span class="brand-mark" aria-hidden="true"></span>
                "Sightline"
            </A>
            <nav class="nav" aria-label="Main">
                <A href="/">"Dashboard"</A>
            </nav>
        </header>
        <main class="page">{children()}</main>
    }
}
