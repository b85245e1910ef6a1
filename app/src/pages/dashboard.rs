use leptos::prelude::*;

use crate::api::dashboard::load_request_overview;
use crate::components::card::{Card, EmptyState, ErrorState};
use crate::components::chart::EChart;
use crate::components::charts;
use crate::format::{ago, compact_count, percent};

/// The dashboard: request volume of the last 24 hours, as numbers (readable before the
/// page hydrates) and as a chart (drawn after).
#[component]
pub fn DashboardPage() -> impl IntoView {
    // Bumped by the refresh button; the overview is fetched again each time.
    let refreshes = RwSignal::new(0u32);
    let overview = Resource::new(move || refreshes.get(), |_| load_request_overview());
    let chart = Signal::derive(move || {
        overview
            .get()
            .and_then(Result::ok)
            .map(|o| charts::requests_over_time(&o))
    });
    // When the shown data was computed; set in the browser only (effects do not run on
    // the server), so the server-rendered text and the hydrated one agree.
    let generated_at = RwSignal::new(None::<i64>);
    Effect::new(move |_| {
        if let Some(Ok(o)) = overview.get() {
            generated_at.set(Some(o.generated_at));
        }
    });
    let now = clock();
    let updated = move || {
        generated_at.get().map(|at| {
            let seconds = (now.get() - at).max(0) / 1000;
            format!("Updated {}", ago(seconds))
        })
    };

    view! {
        <div class="page-head">
            <h1>"Dashboard"</h1>
            <div class="refresh">
                <span class="updated" data-testid="updated">{updated}</span>
                <button
                    class="button"
                    data-testid="refresh"
                    on:click=move |_| refreshes.update(|n| *n += 1)
                >
                    "Refresh"
                </button>
            </div>
        </div>
        <div class="grid">
            <Card title="Requests · last 24 h" test_id="card-requests">
                <Transition fallback=|| view! { <p class="loading">"Loading…"</p> }>
                    {move || Suspend::new(async move {
                        match overview.await {
                            Ok(o) => {
                                let total = o.total_requests();
                                let errors = o.total_errors();
                                let rate = o.error_rate().map(percent).unwrap_or_else(|| "–".into());
                                view! {
                                    <p class="stat" data-testid="total-requests" title=total.to_string()>
                                        {compact_count(total)}
                                    </p>
                                    <p class="stat-sub">
                                        <span data-testid="total-errors">{compact_count(errors)}</span>
                                        " errors · "
                                        <span data-testid="error-rate">{rate}</span>
                                        " error rate"
                                    </p>
                                }
                                    .into_any()
                            }
                            Err(e) => view! { <ErrorState message=e.to_string() /> }.into_any(),
                        }
                    })}
                </Transition>
            </Card>
            <Card title="Requests over time" class="wide" test_id="card-requests-chart">
                <EChart id="chart-requests" option=chart label="Requests per hour, successful and failed" />
                <Transition fallback=|| ()>
                    {move || Suspend::new(async move {
                        overview
                            .await
                            .ok()
                            .filter(|o| o.total_requests() == 0)
                            .map(|_| view! {
                                <EmptyState message="No requests in the last 24 hours yet. Send some through the ingest API or the tracker." />
                            })
                    })}
                </Transition>
            </Card>
        </div>
    }
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
