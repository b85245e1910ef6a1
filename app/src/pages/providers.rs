use leptos::prelude::*;

use crate::components::table_card::GridLoaded;
use leptos_router::components::A;

use crate::api::providers::load_providers;
use crate::components::card::EmptyState;
use crate::components::chart::EChart;
use crate::components::charts;
use crate::components::range_picker::RangePicker;
use crate::components::ranked_view::{RankedQuery, RankedView, SortHeader};
use crate::format::{compact_count, millis, money_exact, percent};
use crate::providers::{ProviderRow, ProviderSort, ProvidersReport, display_name};
use crate::query::href;
use crate::units::EpochMillis;

/// The view's URL: the range, the sort and `?provider=`, whose calls the chart shows.
const VIEW: RankedView = RankedView {
    path: "/providers",
    selected_param: "provider",
};

/// `/providers`: the calls the platform made to providers, per provider over the range
/// (calls, errors, latency percentiles, tokens, cost), every provider's cost per bucket
/// and one provider's calls per bucket; each row leads to its calls in the explorer.
#[component]
pub fn ProvidersPage() -> impl IntoView {
    let (query, current, keep) = VIEW.query();
    let report = Resource::new(
        move || query.get(),
        |q| load_providers(q.range, q.start, q.end, q.sort, q.selected),
    );

    view! {
        <div class="page-head">
            <h1>"Providers"</h1>
            <RangePicker current path="/providers" keep />
        </div>
        <div class="grid" data-testid="providers">
            <GridLoaded loading="Loading the providers…" resource=report
                render=move |r| view! { <ProvidersView report=r query=query.get_untracked() /> } />
        </div>
    }
}

#[component]
fn ProvidersView(report: ProvidersReport, query: RankedQuery) -> impl IntoView {
    let r = report;
    if r.providers.is_empty() {
        return view! {
            <section class="card full" data-testid="providers-empty">
                <EmptyState message="No provider calls in this range. Record them with the tracker's track_external, the gateway (/proxy/{provider}/…) or OTLP GenAI spans." />
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
    let (start, end) = (r.start, r.end);
    let cost_names: Vec<String> = r.costs.providers.iter().map(|s| display_name(s)).collect();
    let cost_chart = charts::stacked_costs_chart(&cost_names, &r.costs.points, bucket_ms);
    let cost_table = charts::stacked_costs_table(&cost_names, &r.costs.points);
    let calls_chart = charts::provider_chart(&r.series, bucket_ms);
    let calls_table = charts::provider_table(&r.series);
    let no_cost = r.costs.providers.is_empty();
    let no_series = r.series.iter().all(|p| p.calls == 0);
    let sort = r.sort;
    let caption = format!(
        "{} providers, {} calls in all, by {} (most first){}",
        r.providers.len(),
        r.total_calls,
        sort.label().to_lowercase(),
        if r.more > 0 {
            format!("; {} more not listed", r.more)
        } else {
            String::new()
        }
    );
    let export = export_href(None, start, end);
    let summary = view! {
        <section class="card full summary" data-testid="card-provider-summary" aria-label="Provider calls in this range">
            <div class="tile"><div class="tile-label">"Provider calls"</div>
                <div class="tile-value" data-testid="providers-total-calls" title=r.total_calls.to_string()>{compact_count(r.total_calls)}</div></div>
            <div class="tile"><div class="tile-label">"Failed"</div>
                <div class="tile-value" data-testid="providers-total-errors" title=r.total_errors.to_string()>{compact_count(r.total_errors)}</div></div>
            <div class="tile"><div class="tile-label">"Provider cost"</div>
                <div class="tile-value" data-testid="providers-total-cost" title=r.total_cost_micros.to_string()>{money_exact(r.total_cost_micros)}</div></div>
        </section>
    };
    let charts_view = view! {
        <section class="card full" data-testid="provider-cost-card" aria-label="Cost over time by provider">
            <h2 class="card-title">"Cost over time by provider"</h2>
            {if no_cost {
                view! { <EmptyState message="No provider call in this range has a cost." /> }.into_any()
            } else {
                view! { <EChart id="chart-provider-costs" option=Signal::stored(Some(cost_chart))
                    label="Cost of the calls to each provider per bucket" table=cost_table /> }.into_any()
            }}
        </section>
        <section class="card full" data-testid="provider-chart-card" aria-label="Selected provider">
            <h2 class="card-title">"Calls per bucket: "<code data-testid="selected-provider">{display_name(&selected)}</code></h2>
            {if no_series {
                view! { <EmptyState message="This provider has no calls in this range." /> }.into_any()
            } else {
                view! { <EChart id="chart-provider" option=Signal::stored(Some(calls_chart))
                    label="Calls, errors and p95 latency of the selected provider per bucket" table=calls_table /> }.into_any()
            }}
        </section>
    };
    let head = view! {
        <thead>
            <tr>
                <th scope="col">"Provider"</th>
                {sort_header(ProviderSort::Calls, sort, &query)}
                {sort_header(ProviderSort::Errors, sort, &query)}
                <th scope="col" class="num">"p50"</th>
                {sort_header(ProviderSort::P95, sort, &query)}
                <th scope="col" class="num">"p99"</th>
                <th scope="col" class="num">"Tokens"</th>
                {sort_header(ProviderSort::Cost, sort, &query)}
                <th scope="col" class="num">"Share of cost"</th>
                <th scope="col">"Chart"</th>
            </tr>
        </thead>
    }
    .into_any();
    let body = r
        .providers
        .into_iter()
        .map(|row| {
            let chosen = row.service == selected;
            view! { <Row row chosen query=query.clone() start end /> }.into_any()
        })
        .collect_view();
    let more = (r.more > 0).then(|| {
        view! {
            <p class="muted small" data-testid="providers-more">{format!("{} more providers with fewer by this sort are not listed.", r.more)}</p>
        }
    });
    view! {
        {summary}
        {charts_view}
        <section class="card full table-card" data-testid="providers-card" aria-label="Providers">
            <div class="table-toolbar">
                <span class="muted small">"Calls the platform made to providers (kind external), from the tracker, the gateway and OTLP GenAI spans."</span>
                <a class="button export-csv" href=export download data-testid="export-csv" rel="external">"Export calls (CSV)"</a>
            </div>
            <div class="table-scroll">
                <table class="table providers-table" data-testid="providers-table">
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
fn sort_header(column: ProviderSort, sort: ProviderSort, query: &RankedQuery) -> impl IntoView {
    let link = VIEW.href(query, Some(column.as_str()), query.selected.as_deref());
    view! { <SortHeader key=column.as_str() label=column.label() active=column == sort link /> }
}

#[component]
fn Row(
    row: ProviderRow,
    chosen: bool,
    query: RankedQuery,
    start: EpochMillis,
    end: EpochMillis,
) -> impl IntoView {
    let name = display_name(&row.service);
    // Calls without a provider cannot be picked out in the explorer's URL.
    let calls_href = (!row.service.is_empty()).then(|| explorer_href(&row.service, start, end));
    // The unnamed provider cannot be named in the URL; it is charted when listed first.
    let chart_href = (!row.service.is_empty())
        .then(|| VIEW.href(&query, query.sort.as_deref(), Some(&row.service)));
    let calls_title = format!("The calls to {name} in this range");
    let chart_label = format!("Chart {name}");
    view! {
        <tr data-testid="provider-row" data-service=row.service.clone()>
            <th scope="row" class="ellipsis">
                {match calls_href {
                    Some(calls_href) => view! {
                        <A href=calls_href attr:data-testid="provider-calls-link" attr:title=calls_title>{name}</A>
                    }.into_any(),
                    None => view! { <span>{name}</span> }.into_any(),
                }}
            </th>
            <td class="num" title=row.calls.to_string() data-testid="provider-calls">{compact_count(row.calls)}</td>
            <td class="num" data-testid="provider-errors">
                {compact_count(row.errors)}
                <span class="muted small">{format!(" ({})", row.error_rate.map(percent).unwrap_or_else(|| "–".into()))}</span>
            </td>
            <td class="num">{millis(row.p50_ms)}</td>
            <td class="num" data-testid="provider-p95">{millis(row.p95_ms)}</td>
            <td class="num">{millis(row.p99_ms)}</td>
            <td class="num" title=format!("{} prompt, {} completion", row.prompt_tokens, row.completion_tokens)>{compact_count(row.tokens)}</td>
            <td class="num" title=row.cost_micros.to_string() data-testid="provider-cost">{money_exact(row.cost_micros)}</td>
            <td class="num">{row.cost_share.map(percent).unwrap_or_else(|| "–".into())}</td>
            <td>
                {chart_href.map(|chart_href| view! {
                    <A href=chart_href attr:data-testid="provider-chart" attr:class="button small"
                        attr:aria-current=chosen.then_some("true")
                        attr:aria-label=chart_label>{if chosen { "Shown" } else { "Show" }}</A>
                })}
            </td>
        </tr>
    }
}

/// `path` with the explorer's query for the calls to `service` (every provider when
/// `None`) within the range's instants.
fn with_calls_query(
    path: &str,
    service: Option<&str>,
    start: EpochMillis,
    end: EpochMillis,
) -> String {
    let (since, until) = (start.to_string(), end.to_string());
    href(
        path,
        &[
            ("range", Some("all")),
            ("kind", Some("external")),
            ("service", service),
            ("since", Some(&since)),
            ("until", Some(&until)),
        ],
    )
}

/// The requests explorer filtered to the calls to `service` in the range.
pub fn explorer_href(service: &str, start: EpochMillis, end: EpochMillis) -> String {
    with_calls_query("/requests", Some(service), start, end)
}

/// The CSV export of the calls to `service` (every provider when `None`) in the range.
fn export_href(service: Option<&str>, start: EpochMillis, end: EpochMillis) -> String {
    with_calls_query("/api/v1/export/requests.csv", service, start, end)
}
