//! The dashboard's "Top errors" card: the error groups with the most failed requests
//! in the range, each leading to its requests; the card leads to the errors view.

use leptos::prelude::*;
use leptos_router::components::A;

use crate::api::errors::load_errors;
use crate::components::card::{Card, EmptyState};
use crate::components::table_card::Loaded;
use crate::errors::ErrorsReport;
use crate::format::{compact_count, instant};
use crate::pages::errors::explorer_href;
use crate::query::href;

#[component]
pub fn TopErrorsCard(
    range: Memo<(Option<String>, Option<String>, Option<String>)>,
    ticks: RwSignal<u32>,
) -> impl IntoView {
    let report = Resource::new(
        move || (range.get(), ticks.get()),
        |((range, start, end), _)| load_errors(range, start, end, None, true),
    );
    let link = move || {
        range.with(|(r, s, e)| {
            href(
                "/errors",
                &[
                    ("range", r.as_deref()),
                    ("start", s.as_deref()),
                    ("end", e.as_deref()),
                ],
            )
        })
    };
    view! {
        <Card title="Top errors" class="full" test_id="card-top-errors">
            <Loaded loading="Loading errors…" resource=report render=move |r: ErrorsReport| {
                if r.groups.is_empty() {
                    return view! { <EmptyState message="No failed requests in this range." /> }.into_any();
                }
                let (start, end) = (r.start, r.end);
                view! {
                    <div class="table-scroll">
                        <table class="table" data-testid="top-errors-table">
                            <caption class="sr-only">"The error groups with the most failed requests in this range"</caption>
                            <thead><tr><th scope="col">"Error"</th><th scope="col" class="num">"Requests"</th>
                                <th scope="col">"Top endpoint"</th><th scope="col">"Last seen"</th></tr></thead>
                            <tbody>
                                {r.groups.into_iter().map(|g| view! {
                                    <tr data-testid="top-error-row">
                                        <th scope="row" class="error-group">
                                            {g.is_new.then(|| view! { <span class="sev small sev-high">"New"</span>" " })}
                                            <a href=explorer_href(&g.fingerprint, start, end)><code>{g.pattern.clone()}</code></a>
                                        </th>
                                        <td class="num" title=g.requests.to_string()>{compact_count(g.requests)}</td>
                                        <td class="ellipsis">{g.endpoints.first().map(|e| e.key.clone()).unwrap_or_default()}</td>
                                        <td class="nowrap">{instant(g.last_seen_at)}</td>
                                    </tr>
                                }).collect_view()}
                            </tbody>
                        </table>
                    </div>
                    <p class="muted small" data-testid="top-errors-summary">
                        {format!("{} failed requests in {} groups, {} new", compact_count(r.total_errors), r.total_groups, r.new_groups)}
                    </p>
                }.into_any()
            } />
            <A href=link attr:class="card-link" attr:data-testid="all-errors">"All errors →"</A>
        </Card>
    }
}
