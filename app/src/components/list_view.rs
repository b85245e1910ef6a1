//! The list views' kit: their query read from the URL, their filter form and its
//! selects, and the hrefs of their pages. The tables are the views' own.

use leptos::prelude::*;
use leptos_router::components::Form;
use leptos_router::hooks::use_query_map;
use leptos_router::params::ParamsMap;

/// The range presets of the list views' `range` parameter, with their labels.
const RANGES: [(&str, &str); 5] = [
    ("24h", "Last 24 h"),
    ("7d", "Last 7 days"),
    ("1m", "Last 30 days"),
    ("3m", "Last 90 days"),
    ("all", "Any time"),
];

/// The page URL's query string as a list view's query (`read` names its keys): a memo,
/// so the view fetches its page again only when the query changes.
pub fn use_list_query<Q>(read: fn(&ParamsMap) -> Q) -> Memo<Q>
where
    Q: Clone + PartialEq + Send + Sync + 'static,
{
    let query_map = use_query_map();
    Memo::new(move |_| query_map.with(read))
}

/// The hrefs of the pager under a list: back to the first page when on a later one
/// (`after` set), on to the `next` one when there is one. `href` writes the view's URL
/// at a page.
pub fn pager_hrefs(
    after: Option<&str>,
    next: Option<String>,
    href: impl Fn(Option<&str>) -> String,
) -> (Option<String>, Option<String>) {
    let first = after.is_some().then(|| href(None));
    (first, next.map(|n| href(Some(&n))))
}

/// A list view's filter form: a GET form to the view, so the filter lives in the URL
/// (back and forward work, and a filtered view can be bookmarked or shared). The
/// fields come first, then the Filter button, then any `note`.
#[component]
pub fn FilterForm(
    action: &'static str,
    test_id: &'static str,
    #[prop(optional_no_strip)] note: Option<AnyView>,
    children: Children,
) -> impl IntoView {
    view! {
        <Form method="GET" action=action attr:class="filters" attr:data-testid=test_id>
            {children()}
            <button class="button" type="submit" data-testid="filter-apply">"Filter"</button>
            {note}
        </Form>
    }
}

/// A labelled select of a filter form: `options` as (value, label), the one whose value
/// is `selected` chosen; `any` puts an "Any" option (value `""`) first.
#[component]
pub fn FilterSelect<L>(
    label: &'static str,
    name: &'static str,
    test_id: &'static str,
    options: Vec<(&'static str, L)>,
    #[prop(into)] selected: String,
    #[prop(optional)] any: bool,
) -> impl IntoView
where
    L: IntoView + 'static,
{
    view! {
        <label>{label}
            <select name=name data-testid=test_id>
                {any.then(|| view! { <option value="">"Any"</option> })}
                {options.into_iter().map(|(value, text)| view! {
                    <option value=value selected=selected == value>{text}</option>
                }).collect_view()}
            </select>
        </label>
    }
}

/// The `range` select of a filter form: the presets with the view's `default` first,
/// so a URL without `range` shows it chosen, and `selected` chosen.
#[component]
pub fn RangeSelect(
    label: &'static str,
    default: &'static str,
    #[prop(into)] selected: String,
) -> impl IntoView {
    let mut options = RANGES.to_vec();
    if let Some(i) = options.iter().position(|(value, _)| *value == default) {
        options[..=i].rotate_right(1);
    }
    view! { <FilterSelect label name="range" test_id="filter-range" options selected /> }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_pager_links_the_first_page_from_a_later_one_and_the_next_when_there_is_one() {
        let href = |after: Option<&str>| format!("/v?after={}", after.unwrap_or("-"));
        assert_eq!(pager_hrefs(None, None, href), (None, None));
        assert_eq!(
            pager_hrefs(Some("5_1"), Some("3_1".into()), href),
            (Some("/v?after=-".into()), Some("/v?after=3_1".into()))
        );
    }
}
