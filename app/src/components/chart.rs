use charming::Chart as ChartOption;
use leptos::prelude::*;

/// A chart drawn by ECharts in the browser once the page has hydrated.
///
/// The server renders an empty, sized box (numbers elsewhere on the card carry the
/// meaning before hydration); in the browser an effect draws `option` into it and
/// redraws it in place whenever the option changes.
#[component]
pub fn EChart(
    /// DOM id of the chart's box; unique on the page.
    id: &'static str,
    /// What to draw; `None` while there is nothing to draw.
    #[prop(into)]
    option: Signal<Option<ChartOption>>,
    /// Accessible description of the chart.
    label: &'static str,
) -> impl IntoView {
    #[cfg(feature = "hydrate")]
    draw_in_browser(id, option);
    #[cfg(not(feature = "hydrate"))]
    let _ = option;

    view! { <div id=id class="chart" role="img" aria-label=label></div> }
}

#[cfg(feature = "hydrate")]
fn draw_in_browser(id: &'static str, option: Signal<Option<ChartOption>>) {
    use charming::WasmRenderer;
    use wasm_bindgen::{JsCast, closure::Closure};

    // The ECharts instance lives in the browser only, so it is kept in local storage.
    let instance = StoredValue::new_local(None::<charming::Echarts>);

    Effect::new(move |_| {
        let Some(chart) = option.get() else { return };
        let drawn = instance.with_value(|i| i.as_ref().map(|e| WasmRenderer::update(e, &chart)));
        if drawn.is_none() {
            // Width and height come from the box's CSS, so the chart follows the layout.
            match WasmRenderer::new_opt(None, None).render(id, &chart) {
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
