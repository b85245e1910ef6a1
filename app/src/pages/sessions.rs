use leptos::prelude::*;
use leptos_router::components::A;

use crate::api::user_sessions::load_sessions;
use crate::components::list_view::{FilterForm, RangeSelect, pager_hrefs, use_list_query};
use crate::components::table_card::{Pager, TableCard};
use crate::format::{compact_count, duration, instant, money_exact};
use crate::query::{encode, href};
use crate::sessions::{DEFAULT_RANGE, SessionListQuery, SessionPage, SessionRow, requests_href};

/// `/sessions`: the platform's sessions, newest first, filtered as the URL says, a page
/// at a time; each leads to its requests and its user.
#[component]
pub fn SessionsPage() -> impl IntoView {
    let query = use_list_query(|q| SessionListQuery {
        range: q.get("range"),
        user: q.get("user"),
        after: q.get("after"),
    });
    let page = Resource::new(move || query.get(), load_sessions);

    view! {
        <div class="page-head">
            <h1>"Sessions"</h1>
        </div>
        <Filters query />
        <TableCard test_id="sessions" loading="Loading sessions…" page
            render=move |p| view! { <SessionTable page=p query /> } />
    }
}

#[component]
fn Filters(query: Memo<SessionListQuery>) -> impl IntoView {
    let q = query.get_untracked();
    view! {
        <FilterForm action="/sessions" test_id="session-filters">
            <RangeSelect label="Started" default=DEFAULT_RANGE selected=q.range() />
            <label>"User"
                <input type="text" name="user" value=q.user.clone().unwrap_or_default()
                    placeholder="user id" data-testid="filter-user" />
            </label>
        </FilterForm>
    }
}

#[component]
fn SessionTable(page: SessionPage, query: Memo<SessionListQuery>) -> impl IntoView {
    let q = query.get_untracked();
    let (first_href, next_href) = pager_hrefs(
        q.after.as_deref(),
        page.next.map(|c| c.to_param()),
        |after| page_href(&q, after),
    );
    let shown = page.rows.len();
    let export = export_href(&q);
    view! {
        <div class="table-toolbar">
            <span class="muted" data-testid="session-count">{format!("{shown} shown")}</span>
            // `rel="external"`: a download, not a page of the app's router.
            <a class="button export-csv" href=export download data-testid="export-csv" rel="external">
                "Export CSV"
            </a>
        </div>
        {if page.rows.is_empty() {
            view! { <p class="empty" data-testid="sessions-empty">"No sessions match this filter."</p> }.into_any()
        } else {
            view! { <SessionRows rows=page.rows /> }.into_any()
        }}
        <Pager first_href next_href />
    }
}

/// The sessions as a table; the user's detail page shows its latest sessions with it.
#[component]
pub fn SessionRows(rows: Vec<SessionRow>) -> impl IntoView {
    view! {
        <div class="table-scroll">
            <table class="table sessions-table" data-testid="sessions-table">
                <thead>
                    <tr>
                        <th>"Started"</th>
                        <th>"User"</th>
                        <th class="num">"Duration"</th>
                        <th class="num">"Requests"</th>
                        <th class="num">"Errors"</th>
                        <th class="num">"Tokens"</th>
                        <th class="num">"Cost"</th>
                        <th>"IP"</th>
                        <th>"Session"</th>
                    </tr>
                </thead>
                <tbody>
                    {rows.into_iter().map(|row| view! { <Row row /> }).collect_view()}
                </tbody>
            </table>
        </div>
    }
}

#[component]
fn Row(row: SessionRow) -> impl IntoView {
    let s = row.session;
    let requests = requests_href(&s);
    let user = s.user_id.clone().map(|u| {
        let to = format!("/users/{}", encode(&u));
        view! { <A href=to attr:data-testid="session-user">{u}</A> }
    });
    let kind = if s.inferred {
        "inferred"
    } else {
        "client-given"
    };
    let key = s.session_key.clone();
    view! {
        <tr data-testid="session-row" data-session-key=key>
            <td class="nowrap">
                <A href=requests attr:data-testid="session-requests" attr:title="This session's requests">
                    {instant(s.started_at)}
                </A>
            </td>
            <td class="ellipsis">{user}</td>
            <td class="num">{duration(s.last_seen_at - s.started_at)}</td>
            <td class="num">{compact_count(s.request_count)}</td>
            <td class="num">{compact_count(s.error_count)}</td>
            <td class="num">{compact_count(s.tokens)}</td>
            <td class="num">{money_exact(s.cost_micros)}</td>
            <td class="mono">{row.ip.unwrap_or_default()}</td>
            <td class="ellipsis" title=s.session_key>{kind}</td>
        </tr>
    }
}

/// The URL of the view with the same filter, at page `after`.
fn page_href(q: &SessionListQuery, after: Option<&str>) -> String {
    href(
        "/sessions",
        &[
            ("range", q.range.as_deref()),
            ("user", q.user.as_deref()),
            ("after", after),
        ],
    )
}

/// The CSV export of every session matching the same filter. The range is always
/// written: the export's default is every session, the view's the last 24 hours.
fn export_href(q: &SessionListQuery) -> String {
    let range = q.range();
    href(
        "/api/v1/export/sessions.csv",
        &[("range", Some(&range)), ("user", q.user.as_deref())],
    )
}
