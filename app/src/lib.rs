//! Sightline's user interface: the Leptos application rendered on the server and
//! hydrated in the browser. Pages live in `pages/`, reusable pieces in `components/`,
//! and the server functions the pages call in `api/` (thin: they find the backend
//! and delegate to it; the SQL lives in the server's store layer).

pub mod api;
pub mod audit;
pub mod auth;
pub mod budgets;
pub mod components;
pub mod endpoints;
pub mod errors;
pub mod export;
pub mod format;
pub mod input;
pub mod pages;
pub mod paging;
pub mod providers;
pub mod query;
pub mod range;
pub mod report;
pub mod requests;
pub mod security;
pub mod sessions;
pub mod settings;
pub mod threats;
pub mod time;
pub mod units;
pub mod users;

use leptos::prelude::*;
use leptos_meta::{MetaTags, Stylesheet, Title, provide_meta_context};
use leptos_router::{
    SsrMode, StaticSegment,
    components::{Route, Router, Routes},
    path,
};

/// The HTML document around the app; the server renders it for every page.
pub fn shell(options: LeptosOptions) -> impl IntoView {
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8" />
                <meta name="viewport" content="width=device-width, initial-scale=1" />
                <meta name="color-scheme" content="light dark" />
                <link rel="icon" type="image/svg+xml" href="/favicon.svg" />
                // ECharts is served by Sightline itself (copied from the npm package at build
                // time): the dashboard works with no internet access.
                <script src="/vendor/echarts.min.js"></script>
                <HydrationScripts options />
                <MetaTags />
            </head>
            <body>
                <App />
            </body>
        </html>
    }
}

#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    mark_hydrated();

    view! {
        <Stylesheet id="leptos" href="/pkg/sightline.css" />
        <Title text="Sightline" />
        <Router>
            <components::layout::Shell>
                <Routes fallback=|| view! { <pages::not_found::NotFound /> }>
                    <Route path=StaticSegment("") view=pages::dashboard::DashboardPage />
                    <Route path=StaticSegment("login") view=pages::login::LoginPage />
                    <Route path=StaticSegment("threats") view=pages::threats::ThreatsPage />
                    <Route path=StaticSegment("endpoints") view=pages::endpoints::EndpointsPage />
                    <Route path=StaticSegment("errors") view=pages::errors::ErrorsPage />
                    <Route path=StaticSegment("providers") view=pages::providers::ProvidersPage />
                    <Route path=StaticSegment("settings") view=pages::settings::SettingsPage />
                    <Route path=StaticSegment("requests") view=pages::requests::RequestsPage />
                    // Rendered whole, so an unknown request answers 404.
                    <Route path=path!("/requests/:id") view=pages::request_detail::RequestDetailPage ssr=SsrMode::Async />
                    <Route path=StaticSegment("sessions") view=pages::sessions::SessionsPage />
                    <Route path=StaticSegment("users") view=pages::users::UsersPage />
                    <Route path=StaticSegment("security") view=pages::security::SecurityPage />
                    // Rendered whole, so an unknown user answers 404.
                    <Route path=path!("/users/:id") view=pages::user_detail::UserDetailPage ssr=SsrMode::Async />
                </Routes>
            </components::layout::Shell>
        </Router>
    }
}

/// Marks `<body data-hydrated>` once the wasm has taken over the server-rendered page,
/// so end-to-end tests (and curious admins) can tell a live page from a static one.
fn mark_hydrated() {
    Effect::new(|_| {
        #[cfg(feature = "hydrate")]
        if let Some(body) = web_sys::window()
            .and_then(|w| w.document())
            .and_then(|d| d.body())
        {
            let _ = body.set_attribute("data-hydrated", "true");
        }
    });
}
