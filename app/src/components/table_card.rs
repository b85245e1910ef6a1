use leptos::prelude::*;
use leptos_router::components::A;
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::components::card::ErrorState;

/// "Loading …" until `resource` first resolves (then its previous value while it
/// reloads), then what `render` makes of its value, or the error.
#[component]
pub fn Loaded<T, F, V>(
    loading: &'static str,
    resource: Resource<Result<T, ServerFnError>>,
    render: F,
) -> impl IntoView
where
    T: Clone + Send + Sync + Serialize + DeserializeOwned + 'static,
    F: Fn(T) -> V + Copy + Send + Sync + 'static,
    V: IntoView + 'static,
{
    view! {
        <Transition fallback=move || view! { <p class="loading">{loading}</p> }>
            {move || Suspend::new(async move {
                match resource.await {
                    Ok(value) => render(value).into_any(),
                    Err(e) => view! { <ErrorState message=e.to_string() /> }.into_any(),
                }
            })}
        </Transition>
    }
}

/// [`Loaded`] for a page's card grid: "Loading …" and the error as full-width cards.
#[component]
pub fn GridLoaded<T, F, V>(
    loading: &'static str,
    resource: Resource<Result<T, ServerFnError>>,
    render: F,
) -> impl IntoView
where
    T: Clone + Send + Sync + Serialize + DeserializeOwned + 'static,
    F: Fn(T) -> V + Copy + Send + Sync + 'static,
    V: IntoView + 'static,
{
    view! {
        <Transition fallback=move || view! { <p class="loading card full">{loading}</p> }>
            {move || Suspend::new(async move {
                match resource.await {
                    Ok(value) => render(value).into_any(),
                    Err(e) => view! {
                        <section class="card full"><ErrorState message=e.to_string() /></section>
                    }
                    .into_any(),
                }
            })}
        </Transition>
    }
}

/// The card of a list view: "Loading …" until the first page arrives, the previous page
/// while the next one loads, then the table `render` makes of it, or the error.
#[component]
pub fn TableCard<T, F, V>(
    test_id: &'static str,
    loading: &'static str,
    page: Resource<Result<T, ServerFnError>>,
    render: F,
) -> impl IntoView
where
    T: Clone + Send + Sync + Serialize + DeserializeOwned + 'static,
    F: Fn(T) -> V + Copy + Send + Sync + 'static,
    V: IntoView + 'static,
{
    view! {
        <section class="card full table-card" data-testid=test_id>
            <Loaded loading resource=page render />
        </section>
    }
}

/// The links of keyset pagination under a list: back to the first page (when not on
/// it) and on to the next (when there is one).
#[component]
pub fn Pager(first_href: Option<String>, next_href: Option<String>) -> impl IntoView {
    view! {
        <nav class="pager" aria-label="Pages">
            {first_href.map(|href| view! { <A href=href attr:data-testid="first-page">"« First page"</A> })}
            {next_href.map(|href| view! { <A href=href attr:data-testid="next-page">"Next page »"</A> })}
        </nav>
    }
}
