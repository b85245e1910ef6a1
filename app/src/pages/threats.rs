use std::collections::BTreeSet;

use leptos::prelude::*;

use crate::api::threats::{SetThreatState, load_threats};
use crate::components::layout::use_current_user;
use crate::components::list_view::{
    FilterForm, FilterSelect, RangeSelect, pager_hrefs, use_list_query,
};
use crate::components::table_card::{Pager, TableCard};
use crate::format::{compact_count, instant};
use crate::threats::{
    SEVERITIES, ThreatListRow, ThreatPage, ThreatQuery, ThreatSelection, ThreatType, threat_label,
};
use crate::units::EpochMillis;

/// `/threats`: the filterable list of threats, with bulk Resolve and Reopen of the
/// ticked rows or of everything matching the filter (admins only).
#[component]
pub fn ThreatsPage() -> impl IntoView {
    let query = use_list_query(|q| ThreatQuery {
        threat_type: q.get("type"),
        severity: q.get("severity"),
        state: q.get("state"),
        range: q.get("range"),
        search: q.get("q"),
        after: q.get("after"),
    });
    // Bumped after an action so the list is fetched again.
    let version = RwSignal::new(0u32);
    let page = Resource::new(
        move || (query.get(), version.get()),
        |(q, _)| load_threats(q),
    );

    let selection = Selection::new();
    let message = Message::new();
    // A new filter or page starts with nothing selected.
    Effect::new(move |_| {
        query.track();
        selection.clear();
        message.focus.set(false);
    });

    let action = ServerAction::<SetThreatState>::new();
    let last_resolve = RwSignal::new(true);
    Effect::new(move |_| {
        if let Some(result) = action.value().get() {
            // The action's input is cleared once it has answered: remember it here.
            let resolve = last_resolve.get_untracked();
            message.text.set(Some(match result {
                Ok(n) => Ok(format!(
                    "{} {} threat{}.",
                    if resolve { "Resolved" } else { "Reopened" },
                    n,
                    if n == 1 { "" } else { "s" }
                )),
                Err(e) => Err(e.to_string()),
            }));
            message.focus.set(true);
            selection.clear();
            version.update(|v| *v += 1);
        }
    });

    let is_admin = Signal::derive(move || {
        use_current_user()
            .and_then(|u| u.get())
            .and_then(|r| r.ok())
            .flatten()
            .is_some_and(|u| u.is_admin())
    });

    let act = move |resolve: bool| {
        let chosen = if selection.all_matching.get_untracked() {
            let now = chrono::Utc::now().timestamp_millis();
            match query.get_untracked().resolve(EpochMillis(now)) {
                Ok((filter, _)) => ThreatSelection::Matching(filter),
                Err(e) => {
                    message.text.set(Some(Err(e.to_string())));
                    return;
                }
            }
        } else {
            ThreatSelection::Ids(selection.ids.get_untracked().into_iter().collect())
        };
        last_resolve.set(resolve);
        action.dispatch(SetThreatState {
            selection: chosen,
            resolve,
        });
    };

    let pending = action.pending();
    view! {
        <div class="page-head">
            <h1>"Threats"</h1>
        </div>
        <Filters query />
        <TableCard test_id="threats" loading="Loading threats…" page
            render=move |p| view! {
                <ThreatTable page=p selection is_admin act message pending query />
            } />
    }
}

#[component]
fn Filters(query: Memo<ThreatQuery>) -> impl IntoView {
    let q = query.get_untracked();
    let chosen = |v: &Option<String>| v.clone().unwrap_or_default();
    let types = ThreatType::ALL
        .iter()
        .map(|t| (t.as_str(), threat_label(*t)))
        .collect();
    let severities = SEVERITIES.map(|s| (s.as_str(), s.as_str())).to_vec();
    let states = vec![("open", "Open"), ("resolved", "Resolved"), ("all", "All")];
    view! {
        <FilterForm action="/threats" test_id="threat-filters">
            <FilterSelect label="Type" name="type" test_id="filter-type" any=true options=types
                selected=chosen(&q.threat_type) />
            <FilterSelect label="Severity" name="severity" test_id="filter-severity" any=true
                options=severities selected=chosen(&q.severity) />
            // Open unless the URL says otherwise.
            <FilterSelect label="State" name="state" test_id="filter-state" options=states
                selected=q.state.clone().unwrap_or_else(|| "open".to_owned()) />
            <RangeSelect label="Last seen" default="all" selected=chosen(&q.range) />
            <label class="grow">"IP or user"
                <input type="search" name="q" value=chosen(&q.search)
                    placeholder="198.51.100.7 or user id" data-testid="filter-search" />
            </label>
        </FilterForm>
    }
}

/// What the bulk actions apply to: the ticked rows, or every threat matching the filter.
#[derive(Clone, Copy)]
struct Selection {
    ids: RwSignal<BTreeSet<i64>>,
    all_matching: RwSignal<bool>,
}

impl Selection {
    fn new() -> Selection {
        Selection {
            ids: RwSignal::new(BTreeSet::new()),
            all_matching: RwSignal::new(false),
        }
    }

    /// Nothing selected.
    fn clear(self) {
        self.ids.set(BTreeSet::new());
        self.all_matching.set(false);
    }
}

/// The last action's outcome. The list is rendered again after an action, which drops
/// the focus from the Resolve button: the message takes it (`focus`), so a keyboard
/// user carries on from there.
#[derive(Clone, Copy)]
struct Message {
    text: RwSignal<Option<Result<String, String>>>,
    focus: RwSignal<bool>,
}

impl Message {
    fn new() -> Message {
        Message {
            text: RwSignal::new(None),
            focus: RwSignal::new(false),
        }
    }
}

#[component]
fn ThreatTable(
    page: ThreatPage,
    selection: Selection,
    is_admin: Signal<bool>,
    act: impl Fn(bool) + Copy + Send + Sync + 'static,
    message: Message,
    pending: Memo<bool>,
    query: Memo<ThreatQuery>,
) -> impl IntoView {
    let Selection {
        ids: selected,
        all_matching,
    } = selection;
    let focus_message = message.focus;
    let total = page.total;
    let ids: Vec<i64> = page.rows.iter().map(|r| r.threat.id).collect();
    let page_len = ids.len();
    let ids = StoredValue::new(ids);
    let all_on_page = move || {
        ids.with_value(|ids| {
            !ids.is_empty() && selected.with(|s| ids.iter().all(|id| s.contains(id)))
        })
    };
    let toggle_page = move |on: bool| {
        all_matching.set(false);
        selected.update(|s| {
            ids.with_value(|ids| {
                for id in ids {
                    if on {
                        s.insert(*id);
                    } else {
                        s.remove(id);
                    }
                }
            })
        });
    };
    // The row ticked last: Shift with a tick sets every row from there to this one alike.
    let anchor = RwSignal::new(None::<i64>);
    let toggle = Callback::new(move |(id, on, shift): (i64, bool, bool)| {
        all_matching.set(false);
        focus_message.set(false);
        let span = anchor
            .get_untracked()
            .filter(|_| shift)
            .and_then(|from| ids.with_value(|ids| shift_range(ids, from, id)));
        selected.update(|s| {
            let ids = span.unwrap_or_else(|| vec![id]);
            for id in ids {
                if on {
                    s.insert(id);
                } else {
                    s.remove(&id);
                }
            }
        });
        anchor.set(Some(id));
    });
    let count = move || {
        if all_matching.get() {
            total
        } else {
            selected.with(|s| s.len() as i64)
        }
    };
    let q = query.get_untracked();
    let (first_href, next_href) = pager_hrefs(
        q.after.as_deref(),
        page.next.map(|c| c.to_param()),
        |after| filter_href("/threats", &q, after),
    );
    let more_than_page = (total as usize) > page_len;
    let export = export_href(&q);
    let show_banner = move || is_admin.get() && more_than_page && all_on_page();

    view! {
        <div class="table-toolbar">
            <span class="muted" data-testid="threat-total">
                {format!("{} matching", compact_count(total))}
            </span>
            <Show when=move || is_admin.get()>
                <div class="bulk" data-testid="bulk-actions">
                    <span data-testid="selected-count">{move || format!("{} selected", count())}</span>
                    <button class="button" data-testid="resolve"
                        disabled=move || count() == 0 || pending.get()
                        on:click=move |_| act(true)>"Resolve"</button>
                    <button class="button" data-testid="reopen"
                        disabled=move || count() == 0 || pending.get()
                        on:click=move |_| act(false)>"Reopen"</button>
                </div>
            </Show>
            {move || message.text.get().map(|m| match m {
                Ok(text) => view! { <span class="ok-state" role="status" data-testid="action-message" tabindex="-1" node_ref=take_focus(focus_message)>{text}</span> }.into_any(),
                Err(text) => view! { <span class="error" role="alert" data-testid="action-message" tabindex="-1" node_ref=take_focus(focus_message)>{text}</span> }.into_any(),
            })}
            // `rel="external"`: a download, not a page of the app's router.
            <a class="button export-csv" href=export download data-testid="export-csv" rel="external">
                "Export CSV"
            </a>
        </div>
        <Show when=show_banner>
            <p class="select-all-banner" data-testid="select-all-banner">
                // One button whose words change, so the focus stays on it.
                {move || if all_matching.get() {
                    format!("All {total} threats matching the filter are selected. ")
                } else {
                    format!("All {page_len} on this page are selected. ")
                }}
                <button class="link"
                    data-testid=move || if all_matching.get() { "clear-selection" } else { "select-all-matching" }
                    on:click=move |_| {
                        if all_matching.get_untracked() {
                            selection.clear();
                        } else {
                            all_matching.set(true);
                        }
                    }>
                    {move || if all_matching.get() {
                        "Clear selection".to_owned()
                    } else {
                        format!("Select all {total} matching the filter")
                    }}
                </button>
            </p>
        </Show>
        {if page.rows.is_empty() {
            view! { <p class="empty" data-testid="threats-empty">"No threats match this filter."</p> }.into_any()
        } else {
            view! {
                <div class="table-scroll">
                    <table class="table threats-table" data-testid="threats-table">
                        <thead>
                            <tr>
                                <Show when=move || is_admin.get()>
                                    <th class="check">
                                        <input type="checkbox" aria-label="Select every threat on this page"
                                            data-testid="select-page"
                                            prop:checked=all_on_page
                                            on:change=move |ev| toggle_page(event_target_checked(&ev)) />
                                    </th>
                                </Show>
                                <th>"Severity"</th>
                                <th>"Type"</th>
                                <th>"Description"</th>
                                <th>"IP"</th>
                                <th>"User"</th>
                                <th class="num">"Seen"</th>
                                <th>"Last seen"</th>
                                <th>"State"</th>
                            </tr>
                        </thead>
                        <tbody>
                            {page.rows.into_iter().map(|row| view! { <Row row selection is_admin toggle /> }).collect_view()}
                        </tbody>
                    </table>
                </div>
            }.into_any()
        }}
        <Pager first_href next_href />
    }
}

#[component]
fn Row(
    row: ThreatListRow,
    selection: Selection,
    is_admin: Signal<bool>,
    toggle: Callback<(i64, bool, bool)>,
) -> impl IntoView {
    let t = row.threat;
    let id = t.id;
    let checked = move || selection.all_matching.get() || selection.ids.with(|s| s.contains(&id));
    let state = if t.resolved {
        format!(
            "Resolved{}{}",
            row.resolved_by
                .map(|by| format!(" by {by}"))
                .unwrap_or_default(),
            row.resolved_at
                .map(|at| format!(", {}", instant(at)))
                .unwrap_or_default()
        )
    } else {
        "Open".to_owned()
    };
    let location = [row.endpoint, row.country]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join(" · ");
    view! {
        <tr data-testid="threat-row" data-id=id class:resolved=t.resolved>
            <Show when=move || is_admin.get()>
                <td class="check">
                    // A click, not a change: Shift+click and Shift+Space tick a range.
                    <input type="checkbox" aria-label=format!("Select threat {id}") data-testid="select-row"
                        aria-keyshortcuts="Shift+Space"
                        prop:checked=checked
                        on:click=move |ev| toggle.run((id, event_target_checked(&ev), ev.shift_key())) />
                </td>
            </Show>
            <td><span class=format!("sev sev-{}", t.severity)>{t.severity.as_str()}</span></td>
            <td class="threat-type">{threat_label(t.threat_type)}</td>
            <td class="description">
                <span data-testid="threat-description">{t.description}</span>
                {(!location.is_empty()).then(|| view! { <span class="muted small">{location}</span> })}
            </td>
            <td class="mono">{t.ip.unwrap_or_default()}</td>
            <td class="ellipsis">{t.user_id.unwrap_or_default()}</td>
            <td class="num">{compact_count(t.occurrences)}</td>
            <td class="nowrap" title=format!("first seen {}", instant(t.created_at))>{instant(t.last_seen_at)}</td>
            <td data-testid="threat-state">{state}</td>
        </tr>
    }
}

/// The ids from `from` to `to` (either way round) in page order; `None` when `from` is
/// no longer on the page.
fn shift_range(ids: &[i64], from: i64, to: i64) -> Option<Vec<i64>> {
    let a = ids.iter().position(|&i| i == from)?;
    let b = ids.iter().position(|&i| i == to)?;
    Some(ids[a.min(b)..=a.max(b)].to_vec())
}

/// A node ref that focuses its element once it is in the page, while `pending` holds.
fn take_focus(pending: RwSignal<bool>) -> NodeRef<leptos::html::Span> {
    let node = NodeRef::new();
    node.on_load(move |el: leptos::web_sys::HtmlSpanElement| {
        if pending.get_untracked() {
            #[cfg(feature = "hydrate")]
            let _ = el.focus();
            #[cfg(not(feature = "hydrate"))]
            let _ = el;
        }
    });
    node
}

/// The CSV export of every threat matching the same filter.
fn export_href(q: &ThreatQuery) -> String {
    filter_href("/api/v1/export/threats.csv", q, None)
}

/// `path` with the view's filter (and the page `after`) as its query string.
fn filter_href(path: &str, q: &ThreatQuery, after: Option<&str>) -> String {
    crate::query::href(
        path,
        &[
            ("type", q.threat_type.as_deref()),
            ("severity", q.severity.as_deref()),
            ("state", q.state.as_deref()),
            ("range", q.range.as_deref()),
            ("q", q.search.as_deref()),
            ("after", after),
        ],
    )
}

#[cfg(test)]
mod tests {
    use super::shift_range;

    #[test]
    fn a_shift_range_runs_either_way_in_page_order() {
        let ids = [9, 7, 5, 3, 1];
        assert_eq!(shift_range(&ids, 7, 3), Some(vec![7, 5, 3]));
        assert_eq!(shift_range(&ids, 1, 5), Some(vec![5, 3, 1]));
        assert_eq!(shift_range(&ids, 5, 5), Some(vec![5]));
        assert_eq!(shift_range(&ids, 4, 5), None);
    }
}
