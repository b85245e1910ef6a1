use leptos::prelude::*;
use leptos_router::components::A;

use crate::api::requests::load_requests;
use crate::components::list_view::{
    FilterForm, FilterSelect, RangeSelect, pager_hrefs, use_list_query,
};
use crate::components::table_card::{Pager, TableCard};
use crate::format::{compact_count, instant, millis, money_exact};
use crate::query::{encode, href};
use crate::requests::{
    DEFAULT_RANGE, RequestPage, RequestQuery, RequestRow, RequestSort, StatusClass,
};

/// `/requests`: every request, filtered and sorted as the URL says, a page at a time;
/// each row leads to the request's detail.
#[component]
pub fn RequestsPage() -> impl IntoView {
    let query = use_list_query(|q| RequestQuery {
        range: q.get("range"),
        status: q.get("status"),
        kind: q.get("kind"),
        service: q.get("service"),
        model: q.get("model"),
        endpoint: q.get("endpoint"),
        user: q.get("user"),
        country: q.get("country"),
        text: q.get("q"),
        session: q.get("session"),
        error_group: q.get("error_group"),
        since: q.get("since"),
        until: q.get("until"),
        sort: q.get("sort"),
        after: q.get("after"),
    });
    let page = Resource::new(move || query.get(), load_requests);

    view! {
        <div class="page-head">
            <h1>"Requests"</h1>
        </div>
        <Filters query />
        <TableCard test_id="requests" loading="Loading requests…" page
            render=move |p| view! { <RequestTable page=p query /> } />
    }
}

/// The filter form; a session's or an error group's drill-down keeps its scope.
#[component]
fn Filters(query: Memo<RequestQuery>) -> impl IntoView {
    let q = query.get_untracked();
    let range = q.range.clone().unwrap_or_else(|| DEFAULT_RANGE.to_owned());
    let sort = q.sort.clone().unwrap_or_else(|| "time".to_owned());
    let status = q.status.clone().unwrap_or_default();
    let kind = q.kind.clone().unwrap_or_default();
    let text = |v: &Option<String>| v.clone().unwrap_or_default();
    // A session's drill-down narrows the list to it; the form keeps that as it is.
    let narrowed = [
        ("session", q.session.clone()),
        ("error_group", q.error_group.clone()),
        ("since", q.since.clone()),
        ("until", q.until.clone()),
    ];
    let scoped = narrowed.iter().any(|(_, v)| v.is_some());
    let scope = if q.error_group.is_some() {
        "Limited to one error group. "
    } else {
        "Limited to one session. "
    };
    let note = scoped.then(|| {
        view! {
            <p class="muted small" data-testid="session-scope">
                {scope}
                <A href=href("/requests", &[("range", Some(range.as_str())), ("user", q.user.as_deref())])>
                    "Show all"
                </A>
            </p>
        }
        .into_any()
    });
    let statuses = StatusClass::ALL.map(|c| (c.as_str(), c.as_str())).to_vec();
    let kinds = vec![
        ("", "Any"),
        ("api", "Served (api)"),
        ("external", "Provider calls (external)"),
    ];
    let sorts = [
        (RequestSort::Time, "Newest"),
        (RequestSort::Latency, "Slowest"),
        (RequestSort::Cost, "Most expensive"),
    ]
    .map(|(s, l)| (s.as_str(), l))
    .to_vec();
    view! {
        <FilterForm action="/requests" test_id="request-filters" note>
            <RangeSelect label="Range" default=DEFAULT_RANGE selected=range />
            <FilterSelect label="Status" name="status" test_id="filter-status" any=true options=statuses selected=status />
            <FilterSelect label="Kind" name="kind" test_id="filter-kind" options=kinds selected=kind />
            <label>"Provider"
                <input type="text" name="service" value=text(&q.service) placeholder="openai"
                    data-testid="filter-service" />
            </label>
            <label>"Model"
                <input type="text" name="model" value=text(&q.model) placeholder="exact name"
                    data-testid="filter-model" />
            </label>
            <label>"Endpoint"
                <input type="text" name="endpoint" value=text(&q.endpoint) placeholder="/v1/chat/completions"
                    data-testid="filter-endpoint" />
            </label>
            <label>"User"
                <input type="text" name="user" value=text(&q.user) placeholder="user id"
                    data-testid="filter-user" />
            </label>
            <label class="narrow">"Country"
                <input type="text" name="country" value=text(&q.country) placeholder="DE" maxlength="2"
                    data-testid="filter-country" />
            </label>
            <label class="grow">"Endpoint or error contains"
                <input type="search" name="q" value=text(&q.text) placeholder="timeout"
                    data-testid="filter-text" />
            </label>
            <FilterSelect label="Sort by" name="sort" test_id="filter-sort" options=sorts selected=sort />
            {narrowed.into_iter().filter_map(|(name, v)| v.map(|v| view! {
                <input type="hidden" name=name value=v />
            })).collect_view()}
        </FilterForm>
    }
}

#[component]
fn RequestTable(page: RequestPage, query: Memo<RequestQuery>) -> impl IntoView {
    let q = query.get_untracked();
    let (first_href, next_href) = pager_hrefs(
        q.after.as_deref(),
        page.next.map(|c| c.to_param()),
        |after| filter_href("/requests", &q, after),
    );
    let shown = page.rows.len();
    let export = export_href(&q);
    view! {
        <div class="table-toolbar">
            <span class="muted" data-testid="request-count">
                {format!("{shown} shown")}
            </span>
            // `rel="external"`: a download, not a page of the app's router.
            <a class="button export-csv" href=export download data-testid="export-csv" rel="external">
                "Export CSV"
            </a>
        </div>
        {if page.rows.is_empty() {
            view! { <p class="empty" data-testid="requests-empty">"No requests match this filter."</p> }.into_any()
        } else {
            view! {
                <div class="table-scroll">
                    <table class="table requests-table" data-testid="requests-table">
                        <thead>
                            <tr>
                                <th>"Time"</th>
                                <th>"Request"</th>
                                <th>"Status"</th>
                                <th>"Model"</th>
                                <th class="num">"Tokens"</th>
                                <th class="num">"Cost"</th>
                                <th class="num">"Latency"</th>
                                <th>"User"</th>
                                <th>"Country"</th>
                            </tr>
                        </thead>
                        <tbody>
                            {page.rows.into_iter().map(|row| view! { <Row row /> }).collect_view()}
                        </tbody>
                    </table>
                </div>
            }.into_any()
        }}
        <Pager first_href next_href />
    }
}

#[component]
fn Row(row: RequestRow) -> impl IntoView {
    let detail = format!("/requests/{}", encode(&row.request_id));
    let title = row.request_id.clone();
    view! {
        <tr data-testid="request-row" data-request-id=row.request_id>
            <td class="nowrap">{instant(row.created_at)}</td>
            <td class="endpoint">
                <A href=detail attr:data-testid="request-link" attr:title=title>
                    <span class="method">{row.method}</span>" "{row.endpoint}
                </A>
            </td>
            <td><span class=StatusClass::css(row.status) data-testid="request-status">{row.status}</span></td>
            <td class="ellipsis">{row.model.unwrap_or_default()}</td>
            <td class="num">{compact_count(row.tokens)}</td>
            <td class="num">{money_exact(row.cost_micros)}</td>
            <td class="num">{millis(Some(row.latency_ms))}</td>
            <td class="ellipsis">{row.user_id.unwrap_or_default()}</td>
            <td>{row.country.unwrap_or_default()}</td>
        </tr>
    }
}

/// The CSV export of every request matching the same filter, in the same order.
fn export_href(q: &RequestQuery) -> String {
    filter_href("/api/v1/export/requests.csv", q, None)
}

/// `path` with the explorer's filter and sort (and the page `after`) as its query string.
fn filter_href(path: &str, q: &RequestQuery, after: Option<&str>) -> String {
    href(
        path,
        &[
            ("range", q.range.as_deref()),
            ("status", q.status.as_deref()),
            ("kind", q.kind.as_deref()),
            ("service", q.service.as_deref()),
            ("model", q.model.as_deref()),
            ("endpoint", q.endpoint.as_deref()),
            ("user", q.user.as_deref()),
            ("country", q.country.as_deref()),
            ("q", q.text.as_deref()),
            ("session", q.session.as_deref()),
            ("error_group", q.error_group.as_deref()),
            ("since", q.since.as_deref()),
            ("until", q.until.as_deref()),
            ("sort", q.sort.as_deref()),
            ("after", after),
        ],
    )
}
