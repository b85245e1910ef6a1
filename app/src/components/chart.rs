use charming::Chart as ChartOption;
use leptos::prelude::*;

use crate::components::charts::ChartTable;

/// A chart drawn by ECharts in the browser once the page has hydrated, with its
/// figures as a visually hidden table for screen readers.
///
/// The server renders an empty, sized box (numbers elsewhere on the card carry the
/// meaning before hydration) and the table; in the browser an effect draws `option`
/// into the box and redraws it in place whenever the option changes. Without
/// animation when the system asks for reduced motion, and in ECharts' dark theme when
/// the page is dark.
#[component]
pub fn EChart(
    /// DOM id of the chart's box; unique on the page.
    id: &'static str,
    /// What to draw; `None` while there is nothing to draw.
    #[prop(into)]
    option: Signal<Option<ChartOption>>,
    /// Accessible name of the chart, and the caption of its table.
    label: &'static str,
    /// The chart's figures, read by screen readers in its place.
    table: ChartTable,
) -> impl IntoView {
    #[cfg(feature = "hydrate")]
    draw_in_browser(id, option);
    #[cfg(not(feature = "hydrate"))]
    let _ = option;

    let ChartTable { columns, rows } = table;
    let mut columns = columns.into_iter();
    let corner = columns.next().unwrap_or_default();
    view! {
        <div id=id class="chart" role="img" aria-label=format!("{label} (chart; its figures are in the table after it)")></div>
        // Hidden by its wrapper: a table does not shrink to the 1 px `.sr-only` asks for, so
        // hidden itself it would widen the page on a phone.
        <div class="sr-only"><table data-testid=format!("{id}-table")>
            <caption>{label}</caption>
            <thead><tr>
                <th scope="col">{corner}</th>
                {columns.map(|c| view! { <th scope="col">{c}</th> }).collect_view()}
            </tr></thead>
            <tbody>
                {rows.into_iter().map(|row| {
                    let mut cells = row.into_iter();
                    let head = cells.next().unwrap_or_default();
                    view! {
                        <tr><th scope="row">{head}</th>{cells.map(|c| view! { <td>{c}</td> }).collect_view()}</tr>
                    }
                }).collect_view()}
            </tbody>
        </table></div>
    }
}

#[cfg(feature = "hydrate")]
fn draw_in_browser(id: &'static str, option: Signal<Option<ChartOption>>) {
    use charming::WasmRenderer;
    use wasm_bindgen::{JsCast, closure::Closure};

    // The ECharts instance lives in the browser only, so it is kept in local storage.
    let instance = StoredValue::new_local(None::<charming::Echarts>);

    let prefers = |query: &str| {
        web_sys::window()
            .and_then(|w| w.match_media(query).ok().flatten())
            .is_some_and(|m| m.matches())
    };
    Effect::new(move |_| {
        let Some(chart) = option.get() else { return };
        let chart = if prefers("(prefers-reduced-motion: reduce)") {
            chart.animation(false)
        } else {
            chart
        };
        let drawn = instance.with_value(|i| i.as_ref().map(|e| WasmRenderer::update(e, &chart)));
        if drawn.is_none() {
            let theme = if prefers("(prefers-color-scheme: dark)") {
                charming::theme::Theme::Dark
            } else {
                charming::theme::Theme::Default
            };
            // Width and height come from the box's CSS, so the chart follows the layout.
            match WasmRenderer::new_opt(None, None)
                .theme(theme)
                .render(id, &chart)
            {
                Ok(echarts) => instance.set_value(Some(echarts)),
                Err(e) => leptos::logging::error!("chart {id}: {e:?}"),
            }
        }
    });

    // Follow the window's size: ECharts does not watch its container by itself.
    let on_resize = Closure::<dyn Fn()>::new(move || {
        instance.with_value(|i| {
            if let Some(e) = i {
                e.resize(wasm_bindgen::JsValue::UNDEFINED);
            }
        });
    });
    if let Some(window) = web_sys::window() {
        let _ =
            window.add_event_listener_with_callback("resize", on_resize.as_ref().unchecked_ref());
    }
    on_resize.forget();
}
