//! The range picker of the dashboard and the views that follow its ranges.

use leptos::prelude::*;
use leptos_router::hooks::use_navigate;

use crate::range::RangeKind;

/// The range links (kept in the URL, so back and forward work) and a custom range form.
///
/// `path` is the page's; `keep` is the rest of its query string (`&sort=p95`), kept
/// when the range changes.
#[component]
pub fn RangePicker(
    current: Signal<RangeKind>,
    path: &'static str,
    keep: Signal<String>,
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
