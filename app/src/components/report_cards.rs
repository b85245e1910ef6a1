//! The cards of the dashboard, each drawn from its part of the report. Numbers are
//! server-rendered (readable before hydration); charts are drawn after.

use leptos::prelude::*;

use crate::components::card::{Card, EmptyState};
use crate::components::chart::EChart;
use crate::components::charts;
use crate::format::{change, compact_count, millis, money, percent};
use crate::report::{DashboardReport, SummaryFigures};
use crate::threats::threat_label;
use crate::units::{EpochMillis, Micros};

/// One summary figure with its change against the previous period.
#[component]
pub fn Tile(
    label: &'static str,
    test_id: &'static str,
    /// Exact value, for the tooltip and tests.
    exact: String,
    shown: String,
    change_text: String,
    /// Whether a rise is bad news (errors, latency, cost), for the colour of the change.
    #[prop(optional)]
    rise_is_bad: bool,
) -> impl IntoView {
    let trend = match change_text.chars().next() {
        Some('+') if rise_is_bad => "change bad",
        Some('+') => "change good",
        Some('-') if rise_is_bad => "change good",
        Some('-') => "change bad",
        _ => "change",
    };
    view! {
        <div class="tile" data-testid=test_id>
            <div class="tile-label">{label}</div>
            <div class="tile-value" title=exact data-testid=format!("{test_id}-value")>{shown}</div>
            <div class=trend title="against the previous period">{change_text}</div>
        </div>
    }
}

/// A ratio for [`change`], 0 when there is none.
pub fn f(v: Option<f64>) -> f64 {
    v.unwrap_or(0.0)
}

#[component]
fn SummaryCard(current: SummaryFigures, previous: SummaryFigures) -> impl IntoView {
    let c = &current;
    let p = &previous;
    view! {
        <section class="card full summary" data-testid="card-summary" aria-label="Summary">
            <Tile label="Requests" test_id="summary-requests" exact=c.requests.to_string()
                shown=compact_count(c.requests) change_text=change(c.requests as f64, p.requests as f64) />
            <Tile label="Error rate" test_id="summary-error-rate" exact=format!("{:?}", c.error_rate)
                shown=c.error_rate.map(percent).unwrap_or_else(|| "–".into())
                change_text=change(f(c.error_rate), f(p.error_rate)) rise_is_bad=true />
            <Tile label="Avg latency" test_id="summary-avg-latency" exact=format!("{:?}", c.avg_latency_ms)
                shown=millis(c.avg_latency_ms) change_text=change(f(c.avg_latency_ms), f(p.avg_latency_ms)) rise_is_bad=true />
            <Tile label="p95 latency" test_id="summary-p95-latency" exact=format!("{:?}", c.p95_latency_ms)
                shown=millis(c.p95_latency_ms) change_text=change(f(c.p95_latency_ms), f(p.p95_latency_ms)) rise_is_bad=true />
            <Tile label="Cost" test_id="summary-cost" exact=c.cost_micros.to_string()
                shown=money(c.cost_micros) change_text=change(c.cost_micros.micros() as f64, p.cost_micros.micros() as f64) rise_is_bad=true />
            <Tile label="Tokens" test_id="summary-tokens" exact=c.tokens.to_string()
                shown=compact_count(c.tokens) change_text=change(c.tokens as f64, p.tokens as f64) />
            <Tile label="Active users" test_id="summary-active-users" exact=c.active_users.to_string()
                shown=compact_count(c.active_users) change_text=change(c.active_users as f64, p.active_users as f64) />
            <Tile label="Sessions" test_id="summary-sessions" exact=c.sessions.to_string()
                shown=compact_count(c.sessions) change_text=change(c.sessions as f64, p.sessions as f64) />
            <Tile label="Open threats" test_id="summary-open-threats" exact=c.open_threats.to_string()
                shown=compact_count(c.open_threats) change_text=change(c.open_threats as f64, p.open_threats as f64) rise_is_bad=true />
        </section>
    }
}

/// Every card of the report.
#[component]
pub fn ReportCards(report: DashboardReport) -> impl IntoView {
    let r = report;
    let bucket_ms = if r.bucket == "day" {
        crate::time::DAY_MS
    } else {
        crate::time::HOUR_MS
    };
    let empty = r.summary.current.requests == 0;
    let requests_chart = charts::requests_chart(&r.requests, bucket_ms);
    let latency_chart = charts::latency_chart(&r.latency, bucket_ms);
    let costs_chart = charts::costs_chart(&r.costs, bucket_ms);
    let errors_chart = charts::errors_donut(&r.errors_breakdown);
    let no_errors = r.errors_breakdown.is_empty();
    let no_costs = r.costs.models.is_empty();
    let max_rating = r
        .feedback
        .distribution
        .iter()
        .copied()
        .max()
        .unwrap_or(0)
        .max(1);
    let providers_card = view! {
        <ProvidersCard card=r.providers.clone() range=r.range.clone() start=r.start.ms() end=r.end.ms() />
    };

    view! {
        <SummaryCard current=r.summary.current.clone() previous=r.summary.previous.clone() />

        <Card title="Requests over time" class="wide" test_id="card-requests">
            {if empty {
                view! { <EmptyState message="No requests in this range yet. Send some through the ingest API or the tracker." /> }.into_any()
            } else {
                view! { <EChart id="chart-requests" option=Signal::stored(Some(requests_chart)) label="Requests per bucket, successful and failed" table=charts::requests_table(&r.requests) /> }.into_any()
            }}
        </Card>

        <Card title="Errors by status" test_id="card-errors">
            {if no_errors {
                view! { <EmptyState message="No failed requests in this range." /> }.into_any()
            } else {
                view! {
                    <EChart id="chart-errors" option=Signal::stored(Some(errors_chart)) label="Failed requests by status code" table=charts::errors_table(&r.errors_breakdown) />
                    <ul class="legend-list" data-testid="errors-list">
                        {r.errors_breakdown.iter().map(|s| view! {
                            <li><span class="swatch" style=format!("background:{}", charts::status_color(s.status))></span>
                                <span>{s.status}</span><span class="num">{compact_count(s.count)}</span></li>
                        }).collect_view()}
                    </ul>
                }.into_any()
            }}
        </Card>

        <Card title="Latency percentiles" class="wide" test_id="card-latency">
            {if empty {
                view! { <EmptyState message="No latencies to show yet." /> }.into_any()
            } else {
                view! { <EChart id="chart-latency" option=Signal::stored(Some(latency_chart)) label="Latency p50, p95 and p99 per bucket" table=charts::latency_table(&r.latency) /> }.into_any()
            }}
        </Card>

        <Card title="Top countries" test_id="card-countries">
            {if r.top_countries.is_empty() {
                view! { <EmptyState message="No requests in this range yet." /> }.into_any()
            } else {
                view! {
                    <div class="table-scroll"><table class="table" data-testid="countries-table">
                        <thead><tr><th>"Country"</th><th class="num">"Requests"</th><th class="num">"Errors"</th></tr></thead>
                        <tbody>
                            {r.top_countries.iter().map(|c| view! {
                                <tr>
                                    <td>{if c.country.is_empty() { "Unknown".to_string() } else { c.country.clone() }}</td>
                                    <td class="num" title=c.requests.to_string()>{compact_count(c.requests)}</td>
                                    <td class="num">{compact_count(c.errors)}</td>
                                </tr>
                            }).collect_view()}
                        </tbody>
                    </table></div>
                }.into_any()
            }}
        </Card>

        <Card title="Cost over time by model" class="wide" test_id="card-costs">
            {if no_costs {
                view! { <EmptyState message="No cost recorded in this range." /> }.into_any()
            } else {
                view! { <EChart id="chart-costs" option=Signal::stored(Some(costs_chart)) label="Cost per bucket by model, in USD" table=charts::costs_table(&r.costs) /> }.into_any()
            }}
        </Card>

        <Card title="Users" test_id="card-users">
            <div class="pair">
                <div><div class="tile-label">"Active"</div><div class="stat" data-testid="users-active">{r.users.active}</div></div>
                <div><div class="tile-label">"New"</div><div class="stat" data-testid="users-new">{r.users.new}</div></div>
            </div>
            {(!r.users.top.is_empty()).then(|| view! {
                <div class="table-scroll"><table class="table" data-testid="users-table">
                    <thead><tr><th>"Top by cost"</th><th class="num">"Requests"</th><th class="num">"Cost"</th></tr></thead>
                    <tbody>
                        {r.users.top.iter().map(|u| view! {
                            <tr><td class="ellipsis">{u.user_id.clone()}</td><td class="num">{compact_count(u.requests)}</td>
                                <td class="num" title=u.cost_micros.to_string()>{money(u.cost_micros)}</td></tr>
                        }).collect_view()}
                    </tbody>
                </table></div>
            })}
        </Card>

        <Card title="Top models" class="wide" test_id="card-models">
            {if r.top_models.is_empty() {
                view! { <EmptyState message="No model calls in this range." /> }.into_any()
            } else {
                view! {
                    <div class="table-scroll"><table class="table" data-testid="models-table">
                        <thead><tr><th>"Model"</th><th class="num">"Requests"</th><th class="num">"Tokens"</th>
                            <th class="num" title="Prompt tokens read from the provider's cache (written to it)">"Cached"</th>
                            <th class="num" title="Completion tokens spent on reasoning">"Reasoning"</th>
                            <th class="num">"Cost"</th><th class="num">"Avg"</th></tr></thead>
                        <tbody>
                            {r.top_models.iter().map(|m| view! {
                                <tr data-testid="model-row" data-model=m.model.clone()>
                                    <td>{if m.model.is_empty() { "(no model)".to_string() } else { m.model.clone() }}</td>
                                    <td class="num" title=m.requests.to_string()>{compact_count(m.requests)}</td>
                                    <td class="num">{compact_count(m.prompt_tokens + m.completion_tokens)}</td>
                                    <td class="num" data-testid="model-cached"
                                        title=format!("{} read from the cache, {} written to it", m.cache_read_tokens, m.cache_write_tokens)>
                                        {compact_count(m.cache_read_tokens)}
                                        {(m.cache_write_tokens > 0).then(|| view! {
                                            <span class="muted small">{format!(" (+{} written)", compact_count(m.cache_write_tokens))}</span>
                                        })}
                                    </td>
                                    <td class="num" data-testid="model-reasoning">{compact_count(m.reasoning_tokens)}</td>
                                    <td class="num" title=m.cost_micros.to_string()>{money(m.cost_micros)}</td>
                                    <td class="num">{millis(Some(m.avg_latency_ms))}</td>
                                </tr>
                            }).collect_view()}
                        </tbody>
                    </table></div>
                }.into_any()
            }}
        </Card>

        <Card title="Feedback" test_id="card-feedback">
            <div class="pair">
                <div><div class="tile-label">"Ratings"</div><div class="stat" data-testid="feedback-count">{r.feedback.count}</div></div>
                <div><div class="tile-label">"Average"</div><div class="stat" data-testid="feedback-average">
                    {r.feedback.average.map(|a| format!("{a:.2} ★")).unwrap_or_else(|| "–".into())}</div></div>
            </div>
            <div class="bars">
                {(1..=5).rev().map(|stars| {
                    let n = r.feedback.distribution[stars - 1];
                    view! {
                        <div class="bar-row" data-testid=format!("feedback-{stars}")>
                            <span class="bar-label">{format!("{stars} ★")}</span>
                            <span class="bar"><span class=format!("bar-fill stars-{stars}") style=format!("width:{}%", n * 100 / max_rating)></span></span>
                            <span class="num">{n}</span>
                        </div>
                    }
                }).collect_view()}
            </div>
        </Card>

        <Card title="Threats" test_id="card-threats">
            <div class="severities">
                <span class="sev sev-critical" data-testid="threats-critical">{r.threats.open_by_severity.critical}" critical"</span>
                <span class="sev sev-high" data-testid="threats-high">{r.threats.open_by_severity.high}" high"</span>
                <span class="sev sev-medium" data-testid="threats-medium">{r.threats.open_by_severity.medium}" medium"</span>
                <span class="sev sev-low" data-testid="threats-low">{r.threats.open_by_severity.low}" low"</span>
            </div>
            {if r.threats.latest.is_empty() {
                view! { <EmptyState message="No threats seen. Detection runs on every ingested request." /> }.into_any()
            } else {
                view! {
                    <ul class="threat-list" data-testid="threats-list">
                        {r.threats.latest.iter().map(|t| view! {
                            <li>
                                <span class=format!("sev small sev-{}", t.severity)>{t.severity.as_str()}</span>
                                <span class="threat-type">{threat_label(t.threat_type)}</span>
                                <span class="muted ellipsis">{t.ip.clone().unwrap_or_default()}" · "{t.description.clone()}</span>
                                {(t.occurrences > 1).then(|| view! { <span class="count">"×"{t.occurrences}</span> })}
                            </li>
                        }).collect_view()}
                    </ul>
                }.into_any()
            }}
        </Card>

        <Card title="Top endpoints" class="wide" test_id="card-endpoints">
            {if r.top_endpoints.is_empty() {
                view! { <EmptyState message="No requests in this range yet." /> }.into_any()
            } else {
                let all = if r.range == "custom" {
                    format!("/endpoints?range=custom&start={}&end={}", r.start, r.end)
                } else {
                    format!("/endpoints?range={}", r.range)
                };
                view! {
                    <div class="table-scroll">
                        <table class="table" data-testid="top-endpoints-table">
                            <caption class="sr-only">"The endpoints with the most requests in this range"</caption>
                            <thead><tr><th scope="col">"Endpoint"</th><th scope="col" class="num">"Requests"</th>
                                <th scope="col" class="num">"Error rate"</th><th scope="col" class="num">"p95"</th>
                                <th scope="col" class="num">"Avg cost"</th></tr></thead>
                            <tbody>
                                {r.top_endpoints.iter().map(|e| view! {
                                    <tr data-testid="top-endpoint-row">
                                        <th scope="row" class="ellipsis">
                                            <a href=crate::pages::endpoints::explorer_href(&e.endpoint, r.start, r.end)>{e.endpoint.clone()}</a>
                                        </th>
                                        <td class="num" title=e.requests.to_string()>{compact_count(e.requests)}</td>
                                        <td class="num">{e.error_rate.map(percent).unwrap_or_else(|| "–".into())}</td>
                                        <td class="num">{millis(e.p95_ms)}</td>
                                        <td class="num">{e.avg_cost_micros.map(|c| money(Micros(c.round() as i64))).unwrap_or_else(|| "–".into())}</td>
                                    </tr>
                                }).collect_view()}
                            </tbody>
                        </table>
                    </div>
                    <a class="card-link" href=all data-testid="all-endpoints">"All endpoints →"</a>
                }.into_any()
            }}
        </Card>

        {providers_card}

        <Card title="Active alerts" class="wide" test_id="card-alerts">
            {if r.alerts.is_empty() {
                view! { <p class="ok-state">"All clear: no alert is firing."</p> }.into_any()
            } else {
                view! {
                    <ul class="threat-list">
                        {r.alerts.iter().map(|a| view! {
                            <li><span class=format!("sev small sev-{}", a.severity)>{a.severity.as_str()}</span><span class="threat-type">{a.title.clone()}</span>
                                <span class="muted ellipsis">{a.description.clone()}</span></li>
                        }).collect_view()}
                    </ul>
                }.into_any()
            }}
        </Card>

        <crate::components::budget_card::BudgetsCardView card=r.budgets.clone() />
    }
}

/// The calls made to providers in the range: totals and the busiest providers, each
/// leading to its calls in the explorer, and a link to the providers view.
#[component]
fn ProvidersCard(
    card: crate::providers::ProvidersCard,
    range: String,
    start: i64,
    end: i64,
) -> impl IntoView {
    let c = card;
    let all = if range == "custom" {
        format!("/providers?range=custom&start={start}&end={end}")
    } else {
        format!("/providers?range={range}")
    };
    view! {
        <Card title="Provider calls" class="full" test_id="card-providers">
            {if c.top.is_empty() {
                view! { <EmptyState message="No calls to providers in this range. The tracker, the gateway and OTLP GenAI spans record them." /> }.into_any()
            } else {
                view! {
                    <p class="muted small" data-testid="providers-card-totals">
                        <span title=c.total_calls.to_string()>{compact_count(c.total_calls)}" calls"</span>" · "
                        <span>{compact_count(c.total_errors)}" failed"</span>" · "
                        <span title=c.total_cost_micros.to_string()>{money(c.total_cost_micros)}</span>
                    </p>
                    <div class="table-scroll">
                        <table class="table" data-testid="top-providers-table">
                            <caption class="sr-only">"The providers called most in this range"</caption>
                            <thead><tr><th scope="col">"Provider"</th><th scope="col" class="num">"Calls"</th>
                                <th scope="col" class="num">"Error rate"</th><th scope="col" class="num">"p95"</th>
                                <th scope="col" class="num">"Tokens"</th><th scope="col" class="num">"Cost"</th></tr></thead>
                            <tbody>
                                {c.top.iter().map(|p| view! {
                                    <tr data-testid="top-provider-row" data-service=p.service.clone()>
                                        <th scope="row" class="ellipsis">
                                            {if p.service.is_empty() {
                                                view! { <span>{crate::providers::display_name(&p.service)}</span> }.into_any()
                                            } else {
                                                view! { <a href=crate::pages::providers::explorer_href(&p.service, EpochMillis(start), EpochMillis(end))>{p.service.clone()}</a> }.into_any()
                                            }}
                                        </th>
                                        <td class="num" title=p.calls.to_string()>{compact_count(p.calls)}</td>
                                        <td class="num">{p.error_rate.map(percent).unwrap_or_else(|| "–".into())}</td>
                                        <td class="num">{millis(p.p95_ms)}</td>
                                        <td class="num">{compact_count(p.tokens)}</td>
                                        <td class="num" title=p.cost_micros.to_string()>{money(p.cost_micros)}</td>
                                    </tr>
                                }).collect_view()}
                            </tbody>
                        </table>
                    </div>
                }.into_any()
            }}
            <a class="card-link" href=all data-testid="all-providers">"All providers →"</a>
        </Card>
    }
}
