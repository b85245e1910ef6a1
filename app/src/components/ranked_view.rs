//! What the ranked views (endpoints, providers) share: their URL (the dashboard's range,
//! a sort, the name the per-bucket chart shows), the range picker's state, and the
//! sortable column headers.

use leptos::prelude::*;
use leptos_router::components::A;
use leptos_router::hooks::use_query_map;

use crate::query::href;
use crate::range::RangeKind;

/// What a ranked view's URL says.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RankedQuery {
    pub range: Option<String>,
    pub start: Option<String>,
    pub end: Option<String>,
    pub sort: Option<String>,
    /// The name whose buckets the chart shows (`?endpoint=`, `?provider=`).
    pub selected: Option<String>,
}

/// A ranked view: its path and the parameter that names the charted row.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RankedView {
    pub path: &'static str,
    pub selected_param: &'static str,
}

impl RankedView {
    /// The view's URL with `q`'s range, `sort` and `selected`.
    pub fn href(self, q: &RankedQuery, sort: Option<&str>, selected: Option<&str>) -> String {
        href(
            self.path,
            &[
                ("range", q.range.as_deref()),
                ("start", q.start.as_deref()),
                ("end", q.end.as_deref()),
                ("sort", sort),
                (self.selected_param, selected),
            ],
        )
    }

    /// The page's query (reactive), the range it shows, and the rest of the URL a new
    /// range keeps: the sort (the charted name may have nothing in another range).
    pub fn query(self) -> (Memo<RankedQuery>, Signal<RangeKind>, Signal<String>) {
        let query_map = use_query_map();
        let param = self.selected_param;
        let query = Memo::new(move |_| {
            query_map.with(|q| RankedQuery {
                range: q.get("range"),
                start: q.get("start"),
                end: q.get("end"),
                sort: q.get("sort"),
                selected: q.get(param),
            })
        });
        let current = Signal::derive(move || {
            query.with(|q| {
                q.range
                    .as_deref()
                    .and_then(RangeKind::parse)
                    .unwrap_or_default()
            })
        });
        let keep = Signal::derive(move || {
            query.with(|q| {
                q.sort
                    .as_deref()
                    .map(|s| format!("&sort={}", crate::query::encode(s)))
                    .unwrap_or_default()
            })
        });
        (query, current, keep)
    }
}

/// A sortable column's header: a link to the view sorted by `key`, and `aria-sort` on
/// the column the list is sorted by.
#[component]
pub fn SortHeader(
    key: &'static str,
    label: &'static str,
    active: bool,
    link: String,
) -> impl IntoView {
    view! {
        <th scope="col" class="num" aria-sort=active.then_some("descending")>
            <A href=link attr:data-testid=format!("sort-{key}")
                attr:aria-current=active.then_some("true")>{label}</A>
        </th>
    }
}
