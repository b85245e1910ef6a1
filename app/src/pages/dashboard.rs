use leptos::prelude::*;

use crate::components::table_card::GridLoaded;
use leptos_router::hooks::use_query_map;

use crate::api::dashboard::load_dashboard;
use crate::components::error_cards::TopErrorsCard;
use crate::components::range_picker::RangePicker;
use crate::components::report_cards::ReportCards;
use crate::components::security_cards::SignInsCard;
use crate::format::{ago, clock_time};
use crate::range::RangeKind;
use crate::units::EpochMillis;

/// How often the dashboard refreshes itself; `?refresh=N` (seconds) overrides it.
const REFRESH_SECONDS: u64 = 30;

/// The dashboard: every card for the range in the URL, refreshed every 30 seconds
/// while the tab is visible.
#[component]
pub fn DashboardPage() -> impl IntoView {
    let query = use_query_map();
    let range = Memo::new(move |_| query.with(|q| (q.get("range"), q.get("start"), q.get("end"))));
    let refresh_every = query
        .with_untracked(|q| q.get("refresh").and_then(|s| s.parse::<u64>().ok()))
        .unwrap_or(REFRESH_SECONDS)
        .max(1);

    // Bumped by the timer and the refresh button: only the data is fetched again.
    let ticks = RwSignal::new(0u32);
    let report = Resource::new(
        move || (range.get(), ticks.get()),
        |((range, start, end), _)| load_dashboard(range, start, end),
    );
    auto_refresh(ticks, refresh_every);

    // When the shown data was computed; set in the browser only, so the server-rendered
    // text and the hydrated one agree.
    let generated_at = RwSignal::new(None::<i64>);
    Effect::new(move |_| {
        if let Some(Ok(r)) = report.get() {
            generated_at.set(Some(r.generated_at.ms()));
        }
    });
    let now = clock();
    let updated = move || {
        generated_at
            .get()
            .map(|at| format!("Updated {}", ago((now.get() - at).max(0) / 1000)))
    };
    // Screen readers hear each refresh once, politely ("Updated 12:04:30 UTC"); the
    // ticking "N s ago" above is not announced.
    let announced = move || {
        generated_at
            .get()
            .map(|at| format!("Updated {}", clock_time(EpochMillis(at))))
    };
    let current = Signal::derive(move || {
        range.with(|(r, _, _)| r.as_deref().and_then(RangeKind::parse).unwrap_or_default())
    });

    view! {
        <div class="page-head">
            <h1>"Dashboard"</h1>
            <RangePicker path="/" current />
            <div class="refresh">
                <span class="updated" data-testid="updated">{updated}</span>
                <span class="sr-only" role="status" aria-live="polite" data-testid="refresh-announcement">{announced}</span>
                <button class="button" data-testid="refresh" on:click=move |_| ticks.update(|n| *n += 1)>
                    "Refresh"
                </button>
            </div>
        </div>
        <div class="grid" data-testid="dashboard">
            <GridLoaded loading="Loading the dashboard…" resource=report
                render=move |r| view! { <ReportCards report=r /> } />
            <SignInsCard range ticks />
            <TopErrorsCard range ticks />
        </div>
    }
}

/// Bumps `ticks` every `seconds` while the tab is visible, and at once when it becomes
/// visible again after a pause.
fn auto_refresh(ticks: RwSignal<u32>, seconds: u64) {
    Effect::new(move |_| {
        #[cfg(feature = "hydrate")]
        {
            use wasm_bindgen::{JsCast, closure::Closure};
            let hidden = || {
                web_sys::window()
                    .and_then(|w| w.document())
                    .is_some_and(|d| d.hidden())
            };
            let _ = set_interval_with_handle(
                move || {
                    if !hidden() {
                        ticks.update(|n| *n += 1);
                    }
                },
                std::time::Duration::from_secs(seconds),
            );
            let on_visible = Closure::<dyn Fn()>::new(move || {
                if !hidden() {
                    ticks.update(|n| *n += 1);
                }
            });
            if let Some(d) = web_sys::window().and_then(|w| w.document()) {
                let _ = d.add_event_listener_with_callback(
                    "visibilitychange",
                    on_visible.as_ref().unchecked_ref(),
                );
            }
            on_visible.forget();
        }
        #[cfg(not(feature = "hydrate"))]
        let _ = (ticks, seconds);
    });
}

/// The current time in epoch ms, ticking every second in the browser (fixed on the server).
fn clock() -> ReadSignal<i64> {
    let (now, set_now) = signal(chrono::Utc::now().timestamp_millis());
    Effect::new(move |_| {
        // Runs in the browser only: effects do not run during server rendering.
        let tick = move || set_now.set(chrono::Utc::now().timestamp_millis());
        tick();
        let _ = set_interval_with_handle(tick, std::time::Duration::from_secs(1));
    });
    now
}
