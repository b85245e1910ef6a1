//! The cards of the security view, each drawn from its part of the report, and the
//! dashboard's sign-ins card. Numbers are server-rendered; charts are drawn after.

use leptos::prelude::*;
use leptos_router::components::A;

use crate::api::security::load_security_summary;
use crate::components::card::{Card, EmptyState};
use crate::components::chart::EChart;
use crate::components::report_cards::{Tile, f};
use crate::components::security_charts as charts;
use crate::components::table_card::Loaded;
use crate::format::{change, compact_count, instant, percent};
use crate::query::{encode, href};
use crate::security::{FailingRow, SecurityFigures, SecurityQuery, SecurityReport};

/// The summary tiles of the view.
#[component]
fn SecuritySummaryCard(current: SecurityFigures, previous: SecurityFigures) -> impl IntoView {
    let (c, p) = (&current, &previous);
    let count = |n: i64| compact_count(n);
    view! {
        <section class="card full summary" data-testid="card-security-summary" aria-label="Summary">
            <Tile label="Auth events" test_id="security-events" exact=c.events.to_string()
                shown=count(c.events) change_text=change(c.events as f64, p.events as f64) />
            <Tile label="Failures" test_id="security-failures" exact=c.failures.to_string()
                shown=count(c.failures) change_text=change(c.failures as f64, p.failures as f64) rise_is_bad=true />
            <Tile label="Failure rate" test_id="security-failure-rate" exact=format!("{:?}", c.failure_rate)
                shown=c.failure_rate.map(percent).unwrap_or_else(|| "–".into())
                change_text=change(f(c.failure_rate), f(p.failure_rate)) rise_is_bad=true />
            <Tile label="Signups" test_id="security-signups" exact=c.signups.to_string()
                shown=count(c.signups) change_text=change(c.signups as f64, p.signups as f64) />
            <Tile label="Logins" test_id="security-logins" exact=c.logins.to_string()
                shown=count(c.logins) change_text=change(c.logins as f64, p.logins as f64) />
        </section>
    }
}

/// A top list of failing IPs or users: each leads to the view narrowed to it.
#[component]
fn FailingTable(
    caption: &'static str,
    key_heading: &'static str,
    test_id: &'static str,
    rows: Vec<FailingRow>,
    /// The link of a row's key.
    link: Callback<String, String>,
) -> impl IntoView {
    view! {
        <div class="table-scroll">
            <table class="table" data-testid=test_id>
                <caption class="sr-only">{caption}</caption>
                <thead><tr>
                    <th scope="col">{key_heading}</th>
                    <th scope="col" class="num">"Failures"</th>
                    <th scope="col">"Last failure"</th>
                </tr></thead>
                <tbody>
                    {rows.into_iter().map(|r| {
                        let to = link.run(r.key.clone());
                        let key = r.key.clone();
                        view! {
                            <tr data-testid=format!("{test_id}-row") data-key=key>
                                <th scope="row" class="ellipsis"><a href=to>{r.key}</a></th>
                                <td class="num" title=r.failures.to_string()>{compact_count(r.failures)}</td>
                                <td class="nowrap">{instant(r.last_failed_at)}</td>
                            </tr>
                        }
                    }).collect_view()}
                </tbody>
            </table>
        </div>
    }
}

/// Every card of the security view for `report`; `query` is the page's, for the links.
#[component]
pub fn SecurityCards(report: SecurityReport, query: SecurityQuery) -> impl IntoView {
    let r = report;
    let bucket_ms = if r.bucket == "day" {
        crate::time::DAY_MS
    } else {
        crate::time::HOUR_MS
    };
    let empty = r.summary.current.events == 0;
    let events_chart = charts::auth_events_chart(&r.buckets, bucket_ms);
    let daily_chart = charts::daily_chart(&r.daily);
    let no_daily = r
        .daily
        .iter()
        .all(|d| d.active_users == 0 && d.signups == 0);
    let (by_ip, by_user) = (query.clone(), query);
    let ip_link = Callback::new(move |ip: String| by_ip.href_with(&[("ip", Some(&ip))]));
    let user_link = Callback::new(move |user: String| by_user.href_with(&[("user", Some(&user))]));

    view! {
        <SecuritySummaryCard current=r.summary.current.clone() previous=r.summary.previous.clone() />

        <Card title="Auth events over time" class="full" test_id="card-auth-events">
            {if empty {
                view! { <EmptyState message="No auth events in this range. The platform sends them to the ingest API (auth_events)." /> }.into_any()
            } else {
                view! { <EChart id="chart-auth-events" option=Signal::stored(Some(events_chart))
                    label="Auth events per bucket by type, and the failed ones" table=charts::auth_events_table(&r.buckets) /> }.into_any()
            }}
        </Card>

        <Card title="Top failing IPs" test_id="card-failing-ips">
            {if r.failing_ips.is_empty() {
                view! { <EmptyState message="No failed sign-ins from a known IP in this range." /> }.into_any()
            } else {
                view! { <FailingTable caption="IPs with the most failed auth events" key_heading="IP"
                    test_id="failing-ips" rows=r.failing_ips.clone() link=ip_link /> }.into_any()
            }}
        </Card>

        <Card title="Top failing users" test_id="card-failing-users">
            {if r.failing_users.is_empty() {
                view! { <EmptyState message="No failed sign-ins of a known user in this range." /> }.into_any()
            } else {
                view! { <FailingTable caption="Users with the most failed auth events" key_heading="User"
                    test_id="failing-users" rows=r.failing_users.clone() link=user_link /> }.into_any()
            }}
        </Card>

        <Card title="IPs with the most threats" test_id="card-threat-ips">
            {if r.threat_ips.is_empty() {
                view! { <EmptyState message="No threats from a known IP raised in this range." /> }.into_any()
            } else {
                view! {
                    <div class="table-scroll">
                        <table class="table" data-testid="threat-ips">
                            <caption class="sr-only">"IPs with the most threat occurrences raised in the range"</caption>
                            <thead><tr>
                                <th scope="col">"IP"</th>
                                <th scope="col" class="num">"Threats"</th>
                                <th scope="col" class="num">"Occurrences"</th>
                                <th scope="col">"Last seen"</th>
                            </tr></thead>
                            <tbody>
                                {r.threat_ips.into_iter().map(|t| {
                                    let threats = href("/threats", &[("state", Some("all")), ("q", Some(&t.ip))]);
                                    let key = t.ip.clone();
                                    view! {
                                    <tr data-testid="threat-ips-row" data-key=key>
                                        <th scope="row" class="ellipsis">
                                            <a href=threats>{t.ip}</a>
                                        </th>
                                        <td class="num">{compact_count(t.threats)}</td>
                                        <td class="num" title=t.occurrences.to_string()>{compact_count(t.occurrences)}</td>
                                        <td class="nowrap">{instant(t.last_seen_at)}</td>
                                    </tr>
                                    }
                                }).collect_view()}
                            </tbody>
                        </table>
                    </div>
                }.into_any()
            }}
        </Card>

        <Card title="Active users and signups per day" class="wide" test_id="card-daily">
            {if no_daily {
                view! { <EmptyState message="No active users or signups on these days." /> }.into_any()
            } else {
                view! { <EChart id="chart-daily" option=Signal::stored(Some(daily_chart))
                    label="Active users (with requests) and signups per UTC day, whole platform" table=charts::daily_table(&r.daily) /> }.into_any()
            }}
            <p class="muted small">"Whole platform: not narrowed by the filter."</p>
        </Card>
    }
}

/// The dashboard's card: failed auth events and the failure rate of the range, with
/// their change against the previous period; it leads to the security view.
#[component]
pub fn SignInsCard(
    range: Memo<(Option<String>, Option<String>, Option<String>)>,
    ticks: RwSignal<u32>,
) -> impl IntoView {
    let summary = Resource::new(
        move || (range.get(), ticks.get()),
        |((range, start, end), _)| load_security_summary(range, start, end),
    );
    let link = move || {
        range.with(|(r, s, e)| {
            href(
                "/security",
                &[
                    ("range", r.as_deref()),
                    ("start", s.as_deref()),
                    ("end", e.as_deref()),
                ],
            )
        })
    };
    view! {
        <Card title="Sign-ins" test_id="card-sign-ins">
            <Loaded loading="Loading sign-ins…" resource=summary render=move |s: crate::security::SecuritySummary| {
                let (c, p) = (s.current, s.previous);
                view! {
                    <div class="pair">
                        <Tile label="Failures" test_id="sign-ins-failures" exact=c.failures.to_string()
                            shown=compact_count(c.failures) change_text=change(c.failures as f64, p.failures as f64) rise_is_bad=true />
                        <Tile label="Failure rate" test_id="sign-ins-failure-rate" exact=format!("{:?}", c.failure_rate)
                            shown=c.failure_rate.map(percent).unwrap_or_else(|| "–".into())
                            change_text=change(f(c.failure_rate), f(p.failure_rate)) rise_is_bad=true />
                    </div>
                    <p class="muted small" data-testid="sign-ins-events">
                        {format!("of {} auth events", compact_count(c.events))}
                    </p>
                }
            } />
            <A href=link attr:data-testid="sign-ins-link">"Open the security view »"</A>
        </Card>
    }
}

/// The query string of `q` but its range, for the range picker to carry over.
pub fn filter_suffix(q: &SecurityQuery) -> String {
    [("type", &q.event_type), ("user", &q.user), ("ip", &q.ip)]
        .iter()
        .filter_map(|(k, v)| {
            v.as_deref()
                .filter(|v| !v.is_empty())
                .map(|v| format!("&{k}={}", encode(v)))
        })
        .collect()
}
