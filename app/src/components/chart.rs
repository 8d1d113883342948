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

/// What the ZIP map shows: points per workspace and the ZIPs in conflict, in the map's own frame
/// (see `scripts/build-geo.mjs`).
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ZipMapPoints {
    pub title: String,
    /// (workspace name, [(zip, x, y)])
    pub series: Vec<(String, Vec<(String, f32, f32)>)>,
    pub conflicts: Vec<(String, f32, f32)>,
}

/// Loads the US state outlines (served by our host) for [`ZipMap`].
#[component]
pub fn UsStatesScript() -> impl IntoView {
    view! { <leptos_meta::Script src="/vendor/geo/us-states.js"/> }
}

/// The US map of assigned ZIPs, coloured by workspace, conflicts ringed in red. Drawn in the
/// browser; the page's table lists the same ZIPs.
#[component]
pub fn ZipMap(#[prop(into)] id: String, points: ZipMapPoints, #[prop(default = 460)] height: u32) -> impl IntoView {
    let label = points.title.clone();
    #[cfg(feature = "hydrate")]
    {
        let id = id.clone();
        Effect::new(move |_| draw_map_when_ready(id.clone(), points.clone(), 50));
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = points;
    view! { <div id=id class="chart zip-map" style=format!("height:{height}px") role="img" aria-label=label></div> }
}

/// Removes `null` members: charming's `Geo` serialises unset options as `null`, and ECharts reads
/// `show: null` as "hidden".
#[cfg(feature = "hydrate")]
fn strip_nulls(v: &mut serde_json::Value) {
    match v {
        serde_json::Value::Object(map) => {
            map.retain(|_, v| !v.is_null());
            map.values_mut().for_each(strip_nulls);
        }
        serde_json::Value::Array(items) => items.iter_mut().for_each(strip_nulls),
        _ => {}
    }
}

/// charming 0.6 has the `geo` component but no `Chart::geo`, so the option is assembled from
/// charming parts as JSON and handed to ECharts directly.
#[cfg(feature = "hydrate")]
fn draw_map_when_ready(id: String, spec: ZipMapPoints, tries_left: u32) {
    use charming::{
        component::{Geo, Legend},
        datatype::DataPointItem,
        element::{CoordinateSystem, ItemStyle, Tooltip, Trigger},
        series::Scatter,
    };
    use js_sys::{Function, Reflect};
    use wasm_bindgen::{JsCast, JsValue};

    let Some(window) = web_sys::window() else { return };
    let has = |k: &str| Reflect::has(&window, &JsValue::from_str(k)).unwrap_or(false);
    if !(has("echarts") && has("MAVERICK_US_STATES")) {
        if tries_left > 0 {
            set_timeout(move || draw_map_when_ready(id, spec, tries_left - 1), std::time::Duration::from_millis(100));
        }
        return;
    }
    let get = |obj: &JsValue, k: &str| Reflect::get(obj, &JsValue::from_str(k)).unwrap_or(JsValue::UNDEFINED);
    let call = |obj: &JsValue, k: &str, args: &[JsValue]| -> Result<JsValue, JsValue> {
        let f: Function = get(obj, k).dyn_into()?;
        f.apply(obj, &args.iter().collect::<js_sys::Array>())
    };
    let echarts = get(&window, "echarts");
    let Some(el) = window.document().and_then(|d| d.get_element_by_id(&id)) else { return };

    let point = |(zip, x, y): (String, f32, f32)| DataPointItem::new(vec![x as f64, y as f64]).name(zip);
    let mut series: Vec<serde_json::Value> = spec
        .series
        .into_iter()
        .map(|(name, pts)| {
            let s = Scatter::new()
                .name(name)
                .coordinate_system(CoordinateSystem::Geo)
                .symbol_size(7)
                .data(pts.into_iter().map(point).collect());
            serde_json::to_value(s).unwrap_or_default()
        })
        .collect();
    if !spec.conflicts.is_empty() {
        let s = Scatter::new()
            .name("Conflicts")
            .coordinate_system(CoordinateSystem::Geo)
            .symbol_size(16)
            .item_style(ItemStyle::new().color("rgba(220,38,38,0.15)").border_color("#dc2626").border_width(2))
            .data(spec.conflicts.into_iter().map(point).collect());
        series.push(serde_json::to_value(s).unwrap_or_default());
    }
    let mut geo = serde_json::to_value(Geo::new().map("USA").roam(true).aspect_scale(1.0)).unwrap_or_default();
    // Fill colours of regions (`areaColor`) are not in charming's ItemStyle.
    geo["itemStyle"] = serde_json::json!({ "areaColor": "rgba(148,163,184,0.18)", "borderColor": "#94a3b8", "borderWidth": 0.6 });
    geo["emphasis"] = serde_json::json!({ "itemStyle": { "areaColor": "rgba(99,102,241,0.14)" }, "label": { "show": false } });
    let mut option = serde_json::json!({
        "tooltip": serde_json::to_value(Tooltip::new().trigger(Trigger::Item).formatter("{a}<br/>ZIP {b}")).unwrap_or_default(),
        "legend": serde_json::to_value(Legend::new()).unwrap_or_default(),
        "geo": geo,
        "series": series,
    });
    strip_nulls(&mut option);
    let drawn = (|| -> Result<(), JsValue> {
        call(&echarts, "registerMap", &[JsValue::from_str("USA"), get(&window, "MAVERICK_US_STATES")])?;
        let existing = call(&echarts, "getInstanceByDom", &[el.clone().into()])?;
        let chart = if existing.is_undefined() || existing.is_null() { call(&echarts, "init", &[el.into()])? } else { existing };
        call(&chart, "setOption", &[js_sys::JSON::parse(&option.to_string())?, JsValue::TRUE])?;
        Ok(())
    })();
    if let Err(e) = drawn {
        leptos::logging::warn!("ZIP map {id} could not be drawn: {e:?}");
    }
}
