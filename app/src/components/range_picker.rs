use leptos::prelude::*;
use leptos_router::hooks::use_navigate;

use crate::range::RangeKind;

/// The preset of a view's `range` parameter, the default when it is absent or custom.
pub fn range_kind(range: Option<&str>) -> RangeKind {
    range.and_then(RangeKind::parse).unwrap_or_default()
}

/// `&sort=…`, a view's sort for the range picker to carry over to every range.
pub fn sort_suffix(sort: Option<&str>) -> String {
    sort.map(|s| format!("&sort={}", crate::query::encode(s)))
        .unwrap_or_default()
}

/// The range links of a view at `path` (kept in the URL, so back and forward work) and
/// a custom range form. `keep` is the rest of the view's query string (`&type=login…`,
/// already encoded), carried over to every range.
#[component]
pub fn RangePicker(
    path: &'static str,
    current: Signal<RangeKind>,
    #[prop(optional, into)] keep: Signal<String>,
) -> impl IntoView {
    let presets = [
        (RangeKind::Day, "24 h"),
        (RangeKind::Week, "7 d"),
        (RangeKind::Month, "1 m"),
        (RangeKind::Quarter, "3 m"),
    ];
    let start = RwSignal::new(String::new());
    let end = RwSignal::new(String::new());
    let navigate = use_navigate();
    let apply = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let (s, e) = (start.get_untracked(), end.get_untracked());
        if !s.is_empty() && !e.is_empty() {
            navigate(
                &format!(
                    "{path}?range=custom&start={s}&end={e}{}",
                    keep.get_untracked()
                ),
                Default::default(),
            );
        }
    };
    view! {
        <nav class="ranges" aria-label="Time range" data-testid="range-picker">
            {presets.into_iter().map(|(kind, label)| view! {
                <a
                    href=move || format!("{path}?range={}{}", kind.as_str(), keep.get())
                    class="range"
                    data-testid=format!("range-{}", kind.as_str())
                    aria-current=move || (current.get() == kind).then_some("true")
                >
                    {label}
                </a>
            }).collect_view()}
            <form class="custom-range" on:submit=apply>
                <input type="date" aria-label="From" data-testid="range-start" bind:value=start required />
                <input type="date" aria-label="To" data-testid="range-end" bind:value=end required />
                <button class="button" type="submit" data-testid="range-apply"
                    aria-current=move || (current.get() == RangeKind::Custom).then_some("true")>"Apply"</button>
            </form>
        </nav>
    }
}
