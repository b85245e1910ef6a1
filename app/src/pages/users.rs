use leptos::prelude::*;
use leptos_router::components::A;

use crate::api::user_sessions::load_users;
use crate::components::list_view::{FilterForm, FilterSelect, pager_hrefs, use_list_query};
use crate::components::table_card::{Pager, TableCard};
use crate::format::{compact_count, instant, money_exact, percent};
use crate::query::{encode, href};
use crate::users::{UserPage, UserQuery, UserRow, UserSort, error_rate};

/// `/users`: the platform's users with their totals, sorted and filtered as the URL
/// says, a page at a time; each leads to the user's detail.
#[component]
pub fn UsersPage() -> impl IntoView {
    let query = use_list_query(|q| UserQuery {
        search: q.get("q"),
        sort: q.get("sort"),
        after: q.get("after"),
    });
    let page = Resource::new(move || query.get(), load_users);

    view! {
        <div class="page-head">
            <h1>"Users"</h1>
        </div>
        <Filters query />
        <p class="muted small" data-testid="users-cost-note">
            "Own API cost is what the user's requests to the platform cost. Provider cost is what the calls the platform made to providers on the user's behalf cost: only calls that carry the user's id are attributed (the tracker's "
            <code>"user_id"</code>", the gateway's "<code>"Sightline-User-Id"</code>" or the request's "<code>"user"</code>", an OTLP GenAI span's "<code>"user.id"</code>"); the others count in "
            <A href="/providers">"Providers"</A>" only."
        </p>
        <TableCard test_id="users" loading="Loading users…" page
            render=move |p| view! { <UserTable page=p query /> } />
    }
}

#[component]
fn Filters(query: Memo<UserQuery>) -> impl IntoView {
    let q = query.get_untracked();
    let sort = q.sort.clone().unwrap_or_else(|| "cost".to_owned());
    let sorts = [
        (UserSort::Cost, "Most expensive"),
        (UserSort::Requests, "Most requests"),
        (UserSort::LastSeen, "Last seen"),
    ]
    .map(|(s, l)| (s.as_str(), l))
    .to_vec();
    view! {
        <FilterForm action="/users" test_id="user-filters">
            <label class="grow">"User id contains"
                <input type="search" name="q" value=q.search.clone().unwrap_or_default()
                    placeholder="user id" data-testid="filter-search" />
            </label>
            <FilterSelect label="Sort by" name="sort" test_id="filter-sort" options=sorts selected=sort />
        </FilterForm>
    }
}

#[component]
fn UserTable(page: UserPage, query: Memo<UserQuery>) -> impl IntoView {
    let q = query.get_untracked();
    let (first_href, next_href) = pager_hrefs(
        q.after.as_deref(),
        page.next.map(|c| c.to_param()),
        |after| page_href(&q, after),
    );
    let shown = page.rows.len();
    view! {
        <div class="table-toolbar">
            <span class="muted" data-testid="user-count">{format!("{shown} shown")}</span>
        </div>
        {if page.rows.is_empty() {
            view! { <p class="empty" data-testid="users-empty">"No users match this filter."</p> }.into_any()
        } else {
            view! {
                <div class="table-scroll">
                    <table class="table users-table" data-testid="users-table">
                        <thead>
                            <tr>
                                <th>"User"</th>
                                <th>"First seen"</th>
                                <th>"Last seen"</th>
                                <th class="num">"Requests"</th>
                                <th class="num">"Errors"</th>
                                <th class="num">"Tokens"</th>
                                <th class="num" title="The cost of the user's own requests to the platform">"Own API cost"</th>
                                <th class="num" title="Calls to providers that carry the user's id, and their cost">"Provider cost"</th>
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
fn Row(row: UserRow) -> impl IntoView {
    let detail = format!("/users/{}", encode(&row.user_id));
    let id = row.user_id.clone();
    view! {
        <tr data-testid="user-row" data-user-id=id>
            <td class="ellipsis">
                <A href=detail attr:data-testid="user-link">{row.user_id}</A>
            </td>
            <td class="nowrap">{instant(row.first_seen_at)}</td>
            <td class="nowrap">{instant(row.last_seen_at)}</td>
            <td class="num">{compact_count(row.requests)}</td>
            <td class="num">
                {compact_count(row.errors)}
                <span class="muted small">{format!(" ({})", percent(error_rate(row.errors, row.requests)))}</span>
            </td>
            <td class="num">{compact_count(row.tokens)}</td>
            <td class="num" data-testid="user-own-cost">{money_exact(row.cost_micros)}</td>
            <td class="num" data-testid="user-provider-cost" title=format!("{} provider calls", row.provider_calls)>
                {money_exact(row.provider_cost_micros)}
            </td>
        </tr>
    }
}

/// The URL of the view with the same filter and sort, at page `after`.
fn page_href(q: &UserQuery, after: Option<&str>) -> String {
    href(
        "/users",
        &[
            ("q", q.search.as_deref()),
            ("sort", q.sort.as_deref()),
            ("after", after),
        ],
    )
}
