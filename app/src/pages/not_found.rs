use leptos::prelude::*;

/// Shown for any path Sightline does not know; answers with status 404.
#[component]
pub fn NotFound() -> impl IntoView {
    #[cfg(feature = "ssr")]
    if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
        response.set_status(http::StatusCode::NOT_FOUND);
    }
    view! {
        <div class="not-found">
            <h1>"Page not found"</h1>
            <p>"There is nothing at this address. " <a href="/">"Back to the dashboard"</a></p>
        </div>
    }
}
