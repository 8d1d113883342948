//! Small inline charts drawn as SVG on the server, so they show before (and without) the WASM.

use leptos::prelude::*;

/// A sparkline of daily values (oldest first).
#[component]
pub fn Sparkline(values: Vec<i64>, #[prop(into)] label: String) -> impl IntoView {
    let (w, h) = (120.0_f64, 28.0_f64);
    let max = values.iter().copied().max().unwrap_or(0).max(1) as f64;
    let step = if values.len() > 1 { w / (values.len() - 1) as f64 } else { 0.0 };
    let points = values
        .iter()
        .enumerate()
        .map(|(i, v)| format!("{:.1},{:.1}", i as f64 * step, h - 2.0 - (*v as f64 / max) * (h - 4.0)))
        .collect::<Vec<_>>()
        .join(" ");
    view! {
        <svg class="sparkline" viewBox=format!("0 0 {w} {h}") width=w height=h role="img" aria-label=label>
            <polyline points=points fill="none" stroke="currentColor" stroke-width="1.5" stroke-linejoin="round"/>
        </svg>
    }
}

/// What a time-series chart shows; serialisable so the server can hand it to the browser.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct SeriesChart {
    /// Said to screen readers; the table next to the chart holds the same numbers.
    pub title: String,
    pub categories: Vec<String>,
    /// (name, values, drawn as bars)
    pub series: Vec<(String, Vec<f64>, bool)>,
    pub y_name: String,
}

/// Loads ECharts (served by our host) on pages that draw charts.
#[component]
pub fn EchartsScript() -> impl IntoView {
    view! { <leptos_meta::Script src="/vendor/echarts.min.js"/> }
}

/// An ECharts chart drawn by charming in the browser. The server renders the empty frame; the
/// numbers are also in the page's table, so nothing is lost before or without the WASM.
#[component]
pub fn EChart(#[prop(into)] id: String, chart: SeriesChart, #[prop(default = 320)] height: u32) -> impl IntoView {
    let label = chart.title.clone();
    #[cfg(feature = "hydrate")]
    {
        let id = id.clone();
        Effect::new(move |_| draw_when_ready(id.clone(), chart.clone(), height, 50));
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = chart;
    view! { <div id=id class="chart" style=format!("height:{height}px") role="img" aria-label=label></div> }
}

#[cfg(feature = "hydrate")]
fn draw_when_ready(id: String, spec: SeriesChart, height: u32, tries_left: u32) {
    let loaded = web_sys::window()
        .map(|w| js_sys::Reflect::has(&w, &wasm_bindgen::JsValue::from_str("echarts")).unwrap_or(false))
        .unwrap_or(false);
    if !loaded {
        // The script tag may still be loading (client-side navigation): look again shortly.
        if tries_left > 0 {
            set_timeout(move || draw_when_ready(id, spec, height, tries_left - 1), std::time::Duration::from_millis(100));
        }
        return;
    }
    use charming::{
        component::{Axis, Legend},
        element::{AxisType, Tooltip, Trigger},
        series::{Bar, Line},
        Chart, WasmRenderer,
    };
    let mut chart = Chart::new()
        .tooltip(Tooltip::new().trigger(Trigger::Axis))
        .legend(Legend::new())
        .x_axis(Axis::new().type_(AxisType::Category).data(spec.categories.clone()))
        .y_axis(Axis::new().type_(AxisType::Value).name(spec.y_name.clone()));
    for (name, values, bars) in spec.series {
        chart = if bars {
            chart.series(Bar::new().name(name).data(values))
        } else {
            chart.series(Line::new().name(name).data(values).show_symbol(false))
        };
    }
    if let Err(e) = WasmRenderer::new_opt(None, Some(height)).render(&id, &chart) {
        leptos::logging::warn!("chart {id} could not be drawn: {e:?}");
    }
}
