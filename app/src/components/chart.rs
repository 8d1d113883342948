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
        let dark = super::theme::dark_signal();
        // Tracks the theme: a toggle redraws with the other theme's text colours.
        Effect::new(move |_| {
            dark.track();
            draw_when_ready(id.clone(), chart.clone(), height, 50)
        });
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
        component::{Axis, Grid, Legend},
        element::{AxisType, Tooltip, Trigger},
        series::{Bar, Line},
        Chart,
    };
    let mut chart = Chart::new()
        // The axis labels inside the chart's box: on a phone "12,000" was cut to ",000".
        .grid(Grid::new().contain_label(true))
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
    let mut option = serde_json::to_value(&chart).unwrap_or_default();
    strip_nulls(&mut option);
    themed(&mut option);
    if let Err(e) = draw(&id, &option, Some(height)) {
        leptos::logging::warn!("chart {id} could not be drawn: {e:?}");
    }
}

/// The page's own colours (CSS variables of the current theme), so chart text reads in both.
#[cfg(feature = "hydrate")]
fn css_var(name: &str, fallback: &str) -> String {
    use wasm_bindgen::JsValue;
    let value = (|| -> Option<String> {
        let window = web_sys::window()?;
        let root: JsValue = window.document()?.document_element()?.into();
        let style = js_call(&window, "getComputedStyle", &[root]).ok()?;
        js_call(&style, "getPropertyValue", &[JsValue::from_str(name)]).ok()?.as_string()
    })();
    value.map(|v| v.trim().to_owned()).filter(|v| !v.is_empty()).unwrap_or_else(|| fallback.to_owned())
}

/// Calls `obj[k](...args)`.
#[cfg(feature = "hydrate")]
fn js_call(obj: &wasm_bindgen::JsValue, k: &str, args: &[wasm_bindgen::JsValue]) -> Result<wasm_bindgen::JsValue, wasm_bindgen::JsValue> {
    use wasm_bindgen::JsCast;
    let f: js_sys::Function = js_sys::Reflect::get(obj, &wasm_bindgen::JsValue::from_str(k))?.dyn_into()?;
    f.apply(obj, &args.iter().collect::<js_sys::Array>())
}

/// Sets text and line colours from the theme (ECharts' defaults are dark grey, unreadable on
/// navy) and a transparent background, so the card behind shows.
#[cfg(feature = "hydrate")]
fn themed(option: &mut serde_json::Value) {
    use serde_json::json;
    let (text, muted, border, line, surface) = (
        css_var("--text", "#0f172a"),
        css_var("--muted", "#475569"),
        css_var("--border", "#e2e8f0"),
        css_var("--border-strong", "#cbd5e1"),
        css_var("--surface", "#ffffff"),
    );
    option["backgroundColor"] = json!("transparent");
    option["textStyle"] = json!({ "color": muted });
    if option.get("legend").is_some() {
        option["legend"]["textStyle"] = json!({ "color": text });
        option["legend"]["inactiveColor"] = json!(line);
    }
    if option.get("tooltip").is_some() {
        option["tooltip"]["backgroundColor"] = json!(surface);
        option["tooltip"]["borderColor"] = json!(line);
        option["tooltip"]["textStyle"] = json!({ "color": text });
    }
    for key in ["xAxis", "yAxis"] {
        let style = |axis: &mut serde_json::Value| {
            axis["axisLabel"]["color"] = json!(muted);
            axis["nameTextStyle"] = json!({ "color": muted });
            axis["axisLine"]["lineStyle"] = json!({ "color": line });
            axis["axisTick"]["lineStyle"] = json!({ "color": line });
            axis["splitLine"]["lineStyle"] = json!({ "color": border });
        };
        match option.get_mut(key) {
            Some(serde_json::Value::Array(axes)) => axes.iter_mut().for_each(style),
            Some(axis @ serde_json::Value::Object(_)) => style(axis),
            _ => {}
        }
    }
}

/// Draws `option` into the element `id`, replacing what was drawn there before (a redraw after
/// a theme toggle starts from a clean instance rather than merging into the old one).
#[cfg(feature = "hydrate")]
fn draw(id: &str, option: &serde_json::Value, height: Option<u32>) -> Result<(), wasm_bindgen::JsValue> {
    use js_sys::Reflect;
    use wasm_bindgen::JsValue;
    let window = web_sys::window().ok_or("no window")?;
    let el = window.document().and_then(|d| d.get_element_by_id(id)).ok_or("no chart element")?;
    let echarts = Reflect::get(&window, &JsValue::from_str("echarts"))?;
    let call = js_call;
    let existing = call(&echarts, "getInstanceByDom", &[el.clone().into()])?;
    if !(existing.is_undefined() || existing.is_null()) {
        call(&existing, "dispose", &[])?;
    }
    let opts = js_sys::Object::new();
    if let Some(h) = height {
        Reflect::set(&opts, &JsValue::from_str("height"), &JsValue::from(h))?;
    }
    let chart = call(&echarts, "init", &[el.into(), JsValue::NULL, opts.into()])?;
    call(&chart, "setOption", &[js_sys::JSON::parse(&option.to_string())?])?;
    Ok(())
}

/// `n` colours that tell apart: hues a golden angle apart (never two alike however many
/// workspaces), and three lightness steps by `i % 3`, so the nearest hues (i and i + 8, 20°
/// apart; i and i + 5, 32°) never share a step. Lighter on the dark theme, to read on navy.
pub fn palette(n: usize, dark: bool) -> Vec<String> {
    let steps = if dark { [58, 70, 82] } else { [36, 48, 60] };
    (0..n)
        .map(|i| {
            let hue = (i as f64 * 137.508) % 360.0;
            format!("hsl({hue:.0}, 70%, {}%)", steps[i % 3])
        })
        .collect()
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
        let dark = super::theme::dark_signal();
        Effect::new(move |_| {
            dark.track();
            draw_map_when_ready(id.clone(), points.clone(), 50)
        });
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
    use js_sys::Reflect;
    use wasm_bindgen::JsValue;

    let Some(window) = web_sys::window() else { return };
    let has = |k: &str| Reflect::has(&window, &JsValue::from_str(k)).unwrap_or(false);
    if !(has("echarts") && has("MAVERICK_US_STATES")) {
        if tries_left > 0 {
            set_timeout(move || draw_map_when_ready(id, spec, tries_left - 1), std::time::Duration::from_millis(100));
        }
        return;
    }
    let get = |obj: &JsValue, k: &str| Reflect::get(obj, &JsValue::from_str(k)).unwrap_or(JsValue::UNDEFINED);
    let call = js_call;
    let echarts = get(&window, "echarts");

    let point = |(zip, x, y): (String, f32, f32)| DataPointItem::new(vec![x as f64, y as f64]).name(zip);
    // ECharts' palette has 9 colours, so 12 workspaces shared them: one colour each.
    let colours = palette(spec.series.len(), super::theme::dark_now());
    let mut series: Vec<serde_json::Value> = spec
        .series
        .into_iter()
        .zip(colours)
        .map(|((name, pts), colour)| {
            let s = Scatter::new()
                .name(name)
                .coordinate_system(CoordinateSystem::Geo)
                .symbol_size(7)
                .item_style(ItemStyle::new().color(colour))
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
    themed(&mut option);
    let drawn = (|| -> Result<(), JsValue> {
        call(&echarts, "registerMap", &[JsValue::from_str("USA"), get(&window, "MAVERICK_US_STATES")])?;
        draw(&id, &option, None)
    })();
    if let Err(e) = drawn {
        leptos::logging::warn!("ZIP map {id} could not be drawn: {e:?}");
    }
}

#[cfg(test)]
mod tests {
    use super::palette;

    #[test]
    fn twelve_workspaces_get_twelve_colours_at_least_20_degrees_of_hue_apart() {
        for dark in [false, true] {
            let colours = palette(12, dark);
            let mut hues: Vec<f64> = colours.iter().map(|c| c[4..c.find(',').unwrap()].parse().unwrap()).collect();
            hues.sort_by(f64::total_cmp);
            // i × 137.508° mod 360 for i = 0..12, sorted: the closest two are 20° apart (0 and 20.06).
            assert_eq!(hues, vec![0.0, 20.0, 53.0, 73.0, 105.0, 138.0, 158.0, 190.0, 243.0, 275.0, 295.0, 328.0]);
            let mut sorted = colours.clone();
            sorted.sort();
            sorted.dedup();
            assert_eq!(sorted.len(), 12);
            // Hues closer than 40° differ in lightness.
            let parts = |c: &str| -> (f64, String) { (c[4..c.find(',').unwrap()].parse().unwrap(), c[c.rfind(',').unwrap()..].to_owned()) };
            for (i, a) in colours.iter().enumerate() {
                for b in &colours[i + 1..] {
                    let ((ha, la), (hb, lb)) = (parts(a), parts(b));
                    let gap = (ha - hb).abs().min(360.0 - (ha - hb).abs());
                    assert!(gap >= 40.0 || la != lb, "{a} and {b} look alike");
                }
            }
        }
        assert_eq!(palette(2, false), vec!["hsl(0, 70%, 36%)", "hsl(138, 70%, 48%)"]);
        assert_eq!(palette(1, true), vec!["hsl(0, 70%, 58%)"]);
    }
}
