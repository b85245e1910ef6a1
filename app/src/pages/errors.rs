use leptos::prelude::*;

use crate::components::table_card::GridLoaded;
use leptos_router::components::A;
use leptos_router::hooks::use_query_map;

use crate::api::errors::load_errors;
use crate::components::card::EmptyState;
use crate::components::range_picker::{RangePicker, range_kind, sort_suffix};
use crate::components::report_cards::Tile;
use crate::errors::{ErrorGroupRow, ErrorSort, ErrorsReport, Share};
use crate::format::{compact_count, instant, percent};
use crate::query::href;
use crate::units::EpochMillis;

/// What the URL says: the dashboard's range parameters and the sort.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
struct ErrorsQuery {
    range: Option<String>,
    start: Option<String>,
    end: Option<String>,
    sort: Option<String>,
}

impl ErrorsQuery {
    /// The view's URL with this range and `sort`.
    fn href(&self, sort: &str) -> String {
        self.at("/errors", Some(sort))
    }

    /// The CSV export of every group of the range, in the view's order.
    fn export_href(&self) -> String {
        self.at("/api/v1/export/errors.csv", self.sort.as_deref())
    }

    fn at(&self, path: &str, sort: Option<&str>) -> String {
        href(
            path,
            &[
                ("range", self.range.as_deref()),
                ("start", self.start.as_deref()),
                ("end", self.end.as_deref()),
                ("sort", sort),
            ],
        )
    }
}

/// `/errors`: the platform's failed requests grouped by message over the range, by
/// count or by last seen, the groups first seen in the range flagged; each group leads
/// to its requests in the explorer.
#[component]
pub fn ErrorsPage() -> impl IntoView {
    let query_map = use_query_map();
    let query = Memo::new(move |_| {
        query_map.with(|q| ErrorsQuery {
            range: q.get("range"),
            start: q.get("start"),
            end: q.get("end"),
            sort: q.get("sort"),
        })
    });
    let report = Resource::new(
        move || query.get(),
        |q| load_errors(q.range, q.start, q.end, q.sort, false),
    );
    let current = Signal::derive(move || query.with(|q| range_kind(q.range.as_deref())));
    let keep = Signal::derive(move || query.with(|q| sort_suffix(q.sort.as_deref())));

    view! {
        <div class="page-head">
            <h1>"Errors"</h1>
            <RangePicker current path="/errors" keep />
        </div>
        <div class="grid" data-testid="errors">
            <GridLoaded loading="Loading the errors…" resource=report
                render=move |r| view! { <ErrorsView report=r query=query.get_untracked() /> } />
        </div>
    }
}

#[component]
fn ErrorsView(report: ErrorsReport, query: ErrorsQuery) -> impl IntoView {
    let r = report;
    let summary = view! {
        <section class="card full summary" data-testid="card-errors-summary" aria-label="Summary">
            <Tile label="Failed requests" test_id="errors-total" exact=r.total_errors.to_string()
                shown=compact_count(r.total_errors) change_text=String::new() />
            <Tile label="Error groups" test_id="errors-groups" exact=r.total_groups.to_string()
                shown=r.total_groups.to_string() change_text=String::new() />
            <Tile label="New in this range" test_id="errors-new" exact=r.new_groups.to_string()
                shown=r.new_groups.to_string() change_text=String::new() />
        </section>
    }
    .into_any();
    if r.groups.is_empty() {
        return view! {
            {summary}
            <section class="card full" data-testid="errors-empty">
                <EmptyState message="No failed requests in this range." />
            </section>
        }
        .into_any();
    }
    let sort = r.sort;
    let (start, end) = (r.start, r.end);
    let export = query.export_href();
    let shown = format!("{} groups shown", r.groups.len());
    let caption = format!(
        "{} error groups, {} failed requests in all, by {} (most first){}",
        r.groups.len(),
        r.total_errors,
        sort.label().to_lowercase(),
        if r.more > 0 {
            format!("; {} more not listed", r.more)
        } else {
            String::new()
        }
    );
    let body = r
        .groups
        .into_iter()
        .map(|row| view! { <Row row start end /> }.into_any())
        .collect_view();
    let more = (r.more > 0).then(|| {
        view! {
            <p class="muted small" data-testid="errors-more">{format!("{} more groups with fewer by this sort are not listed.", r.more)}</p>
        }
    });
    view! {
        {summary}
        <section class="card full table-card" data-testid="errors-card" aria-label="Error groups">
            <div class="table-toolbar">
                <span class="muted" data-testid="errors-shown">{shown}</span>
                // `rel="external"`: a download, not a page of the app's router.
                <a class="button export-csv" href=export download data-testid="export-csv" rel="external">
                    "Export CSV"
                </a>
            </div>
            <div class="table-scroll">
                <table class="table errors-table" data-testid="errors-table">
                    <caption class="sr-only">{caption}</caption>
                    <thead>
                        <tr>
                            <th scope="col">"Error"</th>
                            <SortHeader column=ErrorSort::Count sort query=query.clone() />
                            <th scope="col" class="num">"Share"</th>
                            <th scope="col">"Statuses"</th>
                            <th scope="col">"Endpoints"</th>
                            <th scope="col">"First seen"</th>
                            <SortHeader column=ErrorSort::LastSeen sort query=query.clone() />
                        </tr>
                    </thead>
                    <tbody>{body}</tbody>
                </table>
            </div>
            {more}
        </section>
    }
    .into_any()
}

/// A sortable column's header: a link to the view sorted by it, and `aria-sort` on the
/// column the list is sorted by.
#[component]
fn SortHeader(column: ErrorSort, sort: ErrorSort, query: ErrorsQuery) -> impl IntoView {
    let active = column == sort;
    let link = query.href(column.as_str());
    let class = if column == ErrorSort::Count {
        "num"
    } else {
        ""
    };
    view! {
        <th scope="col" class=class aria-sort=active.then_some("descending")>
            <A href=link attr:data-testid=format!("sort-{}", column.as_str())
                attr:aria-current=active.then_some("true")>{column.label()}</A>
        </th>
    }
}

/// `404 ×3, 500 ×1 (+2 more)`.
fn shares<K: std::fmt::Display>(shares: &[Share<K>], more: usize) -> String {
    let mut text = shares
        .iter()
        .map(|s| format!("{} ×{}", s.key, compact_count(s.requests)))
        .collect::<Vec<_>>()
        .join(", ");
    if more > 0 {
        text.push_str(&format!(" (+{more} more)"));
    }
    text
}

#[component]
fn Row(row: ErrorGroupRow, start: EpochMillis, end: EpochMillis) -> impl IntoView {
    let requests_href = explorer_href(&row.fingerprint, start, end);
    let title = format!(
        "The requests of this group in the range ({})",
        row.fingerprint
    );
    let statuses = shares(&row.statuses, row.more_statuses);
    let endpoints = shares(&row.endpoints, row.more_endpoints);
    view! {
        <tr data-testid="error-row" data-fingerprint=row.fingerprint.clone()>
            <th scope="row" class="error-group">
                {row.is_new.then(|| view! { <span class="sev small sev-high" data-testid="error-new">"New"</span>" " })}
                <A href=requests_href attr:data-testid="error-requests" attr:title=title>
                    <code>{row.pattern}</code>
                </A>
                <div class="muted small ellipsis" title=row.example.clone() data-testid="error-example">{row.example.clone()}</div>
            </th>
            <td class="num" title=row.requests.to_string() data-testid="error-count">{compact_count(row.requests)}</td>
            <td class="num">{row.share.map(percent).unwrap_or_else(|| "–".into())}</td>
            <td class="nowrap" data-testid="error-statuses">{statuses}</td>
            <td class="ellipsis" title=endpoints.clone() data-testid="error-endpoints">{endpoints.clone()}</td>
            <td class="nowrap" data-testid="error-first-seen">{instant(row.first_seen_at)}</td>
            <td class="nowrap" data-testid="error-last-seen">{instant(row.last_seen_at)}</td>
        </tr>
    }
}

/// The requests explorer filtered to the group `fingerprint` and the range's instants.
pub fn explorer_href(fingerprint: &str, start: EpochMillis, end: EpochMillis) -> String {
    let (since, until) = (start.to_string(), end.to_string());
    href(
        "/requests",
        &[
            ("range", Some("all")),
            ("error_group", Some(fingerprint)),
            ("since", Some(&since)),
            ("until", Some(&until)),
        ],
    )
}
