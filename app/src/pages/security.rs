use leptos::prelude::*;
use leptos_router::components::Form;
use leptos_router::hooks::use_query_map;

use crate::api::security::load_security;
use crate::components::range_picker::RangePicker;
use crate::components::security_cards::{SecurityCards, filter_suffix};
use crate::components::table_card::Loaded;
use crate::query::href;
use crate::range::RangeKind;
use crate::security::{AUTH_EVENT_TYPES, SecurityQuery};

/// `/security`: the platform's sign-ins over the range of the URL, narrowed by event
/// type, user and IP as the URL says; the top lists lead to the view narrowed to an IP
/// or a user, and the export downloads the matching events.
#[component]
pub fn SecurityPage() -> impl IntoView {
    let query_map = use_query_map();
    let query = Memo::new(move |_| {
        query_map.with(|q| SecurityQuery {
            range: q.get("range"),
            start: q.get("start"),
            end: q.get("end"),
            event_type: q.get("type"),
            user: q.get("user"),
            ip: q.get("ip"),
        })
    });
    let report = Resource::new(move || query.get(), load_security);
    let current = Signal::derive(move || {
        query.with(|q| {
            q.range
                .as_deref()
                .and_then(RangeKind::parse)
                .unwrap_or_default()
        })
    });
    let keep = Signal::derive(move || query.with(filter_suffix));

    view! {
        <div class="page-head">
            <h1>"Security"</h1>
            <RangePicker path="/security" current keep />
        </div>
        // Drawn again for each URL: a drill-down link changes the filter without a reload.
        {move || view! { <Filters q=query.get() /> }}
        <div class="grid" data-testid="security">
            <Loaded loading="Loading sign-ins…" resource=report
                render=move |r| view! { <SecurityCards report=r query=query.get_untracked() /> } />
        </div>
    }
}

/// The filter form: a GET form, so the filter lives in the URL; the range goes along
/// as hidden fields. Also the export of the matching events.
#[component]
fn Filters(q: SecurityQuery) -> impl IntoView {
    let selected = q.event_type.clone().unwrap_or_default();
    let hidden = |name: &'static str, v: &Option<String>| {
        v.clone()
            .filter(|v| !v.is_empty())
            .map(|v| view! { <input type="hidden" name=name value=v /> })
    };
    let export = href(
        "/api/v1/export/auth_events.csv",
        &[
            ("range", Some(q.range.as_deref().unwrap_or("24h"))),
            ("start", q.start.as_deref()),
            ("end", q.end.as_deref()),
            ("type", q.event_type.as_deref()),
            ("user", q.user.as_deref()),
            ("ip", q.ip.as_deref()),
        ],
    );
    let clear = href(
        "/security",
        &[
            ("range", q.range.as_deref()),
            ("start", q.start.as_deref()),
            ("end", q.end.as_deref()),
        ],
    );
    view! {
        <Form method="GET" action="/security" attr:class="filters" attr:data-testid="security-filters">
            {hidden("range", &q.range)}
            {hidden("start", &q.start)}
            {hidden("end", &q.end)}
            <label>"Event type"
                <select name="type" data-testid="filter-type">
                    <option value="" selected=selected.is_empty()>"Any"</option>
                    {AUTH_EVENT_TYPES.into_iter().map(|(name, label)| view! {
                        <option value=name selected=selected == name>{label}</option>
                    }).collect_view()}
                </select>
            </label>
            <label>"User"
                <input type="search" name="user" value=q.user.clone().unwrap_or_default()
                    placeholder="user id" data-testid="filter-user" />
            </label>
            <label>"IP"
                <input type="search" name="ip" value=q.ip.clone().unwrap_or_default()
                    placeholder="203.0.113.7" data-testid="filter-ip" />
            </label>
            <button class="button" type="submit" data-testid="filter-apply">"Filter"</button>
            <a href=clear class="button" data-testid="filter-clear">"Clear"</a>
            // `rel="external"`: a download, not a page of the app's router.
            <a class="button export-csv" href=export download data-testid="export-csv" rel="external">
                "Export CSV"
            </a>
        </Form>
    }
}
