use leptos::prelude::*;

use crate::components::table_card::GridLoaded;
use leptos_router::components::A;

use crate::api::endpoints::load_endpoints;
use crate::components::card::EmptyState;
use crate::components::chart::EChart;
use crate::components::charts;
use crate::components::range_picker::RangePicker;
use crate::components::ranked_view::{RankedQuery, RankedView, SortHeader};
use crate::endpoints::{EndpointRow, EndpointSort, EndpointsReport};
use crate::format::{compact_count, millis, money, money_exact, percent};
use crate::query::href;
use crate::units::{EpochMillis, Micros};

/// The view's URL: the range, the sort and `?endpoint=`, whose requests the chart shows.
const VIEW: RankedView = RankedView {
    path: "/endpoints",
    selected_param: "endpoint",
};

/// `/endpoints`: every endpoint's volume, errors, latency percentiles, tokens and cost
/// over the range, sorted as the URL says, and one endpoint per bucket; each row leads
/// to its requests in the explorer.
#[component]
pub fn EndpointsPage() -> impl IntoView {
    let (query, current, keep) = VIEW.query();
    let report = Resource::new(
        move || query.get(),
        |q| load_endpoints(q.range, q.start, q.end, q.sort, q.selected),
    );

    view! {
        <div class="page-head">
            <h1>"Endpoints"</h1>
            <RangePicker current path="/endpoints" keep />
        </div>
        <div class="grid" data-testid="endpoints">
            <GridLoaded loading="Loading the endpoints…" resource=report
                render=move |r| view! { <EndpointsView report=r query=query.get_untracked() /> } />
        </div>
    }
}

#[component]
fn EndpointsView(report: EndpointsReport, query: RankedQuery) -> impl IntoView {
    let r = report;
    if r.endpoints.is_empty() {
        return view! {
            <section class="card full" data-testid="endpoints-empty">
                <EmptyState message="No requests in this range yet. Send some through the ingest API or the tracker." />
            </section>
        }
        .into_any();
    }
    let bucket_ms = if r.bucket == "day" {
        crate::time::DAY_MS
    } else {
        crate::time::HOUR_MS
    };
    let selected = r.selected.clone().unwrap_or_default();
    let chart = charts::endpoint_chart(&r.series, bucket_ms);
    let table = charts::endpoint_table(&r.series);
    let no_series = r.series.iter().all(|p| p.requests == 0);
    let sort = r.sort;
    let (start, end) = (r.start, r.end);
    let caption = format!(
        "{} endpoints, {} requests in all, by {} (most first){}",
        r.endpoints.len(),
        r.total_requests,
        sort.label().to_lowercase(),
        if r.more > 0 {
            format!("; {} more not listed", r.more)
        } else {
            String::new()
        }
    );
    let chart_card = view! {
        <section class="card full" data-testid="endpoint-chart-card" aria-label="Selected endpoint">
            <h2 class="card-title">"Per bucket: "<code data-testid="selected-endpoint">{selected.clone()}</code></h2>
            {if no_series {
                view! { <EmptyState message="This endpoint has no requests in this range." /> }.into_any()
            } else {
                view! { <EChart id="chart-endpoint" option=Signal::stored(Some(chart))
                    label="Requests, errors and p95 latency of the selected endpoint per bucket" table /> }.into_any()
            }}
        </section>
    }
    .into_any();
    let head = view! {
        <thead>
            <tr>
                <th scope="col">"Endpoint"</th>
                {sort_header(EndpointSort::Volume, sort, &query)}
                <th scope="col" class="num">"Share"</th>
                {sort_header(EndpointSort::Errors, sort, &query)}
                <th scope="col" class="num">"p50"</th>
                {sort_header(EndpointSort::P95, sort, &query)}
                <th scope="col" class="num">"p99"</th>
                <th scope="col" class="num">"Avg tokens"</th>
                <th scope="col" class="num">"Avg cost"</th>
                {sort_header(EndpointSort::Cost, sort, &query)}
                <th scope="col">"Chart"</th>
            </tr>
        </thead>
    }
    .into_any();
    let body = r
        .endpoints
        .into_iter()
        .map(|row| {
            let chosen = row.endpoint == selected;
            view! { <Row row chosen query=query.clone() start end /> }.into_any()
        })
        .collect_view();
    let more = (r.more > 0).then(|| {
        view! {
            <p class="muted small" data-testid="endpoints-more">{format!("{} more endpoints with fewer by this sort are not listed.", r.more)}</p>
        }
    });
    view! {
        {chart_card}
        <section class="card full table-card" data-testid="endpoints-card" aria-label="Endpoints">
            <div class="table-scroll">
                <table class="table endpoints-table" data-testid="endpoints-table">
                    <caption class="sr-only">{caption}</caption>
                    {head}
                    <tbody>{body}</tbody>
                </table>
            </div>
            {more}
        </section>
    }
    .into_any()
}

/// The header of the column `column` sorts by.
fn sort_header(column: EndpointSort, sort: EndpointSort, query: &RankedQuery) -> impl IntoView {
    let link = VIEW.href(query, Some(column.as_str()), query.selected.as_deref());
    view! { <SortHeader key=column.as_str() label=column.label() active=column == sort link /> }
}

#[component]
fn Row(
    row: EndpointRow,
    chosen: bool,
    query: RankedQuery,
    start: EpochMillis,
    end: EpochMillis,
) -> impl IntoView {
    let requests_href = explorer_href(&row.endpoint, start, end);
    let chart_href = VIEW.href(&query, query.sort.as_deref(), Some(&row.endpoint));
    let name = row.endpoint.clone();
    let requests_title = format!("The requests of {name} in this range");
    let chart_label = format!("Chart {name}");
    let row_key = name.clone();
    view! {
        <tr data-testid="endpoint-row" data-endpoint=row_key>
            <th scope="row" class="ellipsis">
                <A href=requests_href attr:data-testid="endpoint-requests"
                    attr:title=requests_title>{name}</A>
            </th>
            <td class="num" title=row.requests.to_string() data-testid="endpoint-requests-count">{compact_count(row.requests)}</td>
            <td class="num">{row.share.map(percent).unwrap_or_else(|| "–".into())}</td>
            <td class="num" data-testid="endpoint-errors">
                {compact_count(row.errors)}
                <span class="muted small">{format!(" ({})", row.error_rate.map(percent).unwrap_or_else(|| "–".into()))}</span>
            </td>
            <td class="num">{millis(row.p50_ms)}</td>
            <td class="num" data-testid="endpoint-p95">{millis(row.p95_ms)}</td>
            <td class="num">{millis(row.p99_ms)}</td>
            <td class="num">{row.avg_tokens.map(|t| format!("{t:.1}")).unwrap_or_else(|| "–".into())}</td>
            <td class="num">{row.avg_cost_micros.map(|c| money(Micros(c.round() as i64))).unwrap_or_else(|| "–".into())}</td>
            <td class="num" title=row.cost_micros.to_string() data-testid="endpoint-cost">{money_exact(row.cost_micros)}</td>
            <td>
                <A href=chart_href attr:data-testid="endpoint-chart" attr:class="button small"
                    attr:aria-current=chosen.then_some("true")
                    attr:aria-label=chart_label>{if chosen { "Shown" } else { "Show" }}</A>
            </td>
        </tr>
    }
}

/// The requests explorer filtered to `endpoint` and the range's instants.
pub fn explorer_href(endpoint: &str, start: EpochMillis, end: EpochMillis) -> String {
    let (since, until) = (start.to_string(), end.to_string());
    href(
        "/requests",
        &[
            ("range", Some("all")),
            ("endpoint", Some(endpoint)),
            ("since", Some(&since)),
            ("until", Some(&until)),
        ],
    )
}
