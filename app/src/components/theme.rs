//! Light/dark theme, remembered in a cookie. Without WASM the toggle is a form the host answers
//! (POST /prefs/theme); with WASM it flips at once and writes the same cookie.

use leptos::prelude::*;

pub const COOKIE: &str = "maverick_theme";

/// `light`, `dark`, or `auto` (follow the system) from the request's cookie.
pub fn theme_from_request() -> &'static str {
    #[cfg(feature = "ssr")]
    {
        let cookie = use_context::<http::request::Parts>()
            .and_then(|p| p.headers.get(http::header::COOKIE).and_then(|v| v.to_str().ok()).map(str::to_owned))
            .unwrap_or_default();
        for pair in cookie.split(';') {
            match pair.trim().split_once('=') {
                Some((COOKIE, "dark")) => return "dark",
                Some((COOKIE, "light")) => return "light",
                _ => {}
            }
        }
    }
    "auto"
}

#[component]
pub fn ThemeToggle() -> impl IntoView {
    let location = leptos_router::hooks::use_location();
    let next = move || location.pathname.get();
    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        #[cfg(feature = "hydrate")]
        {
            ev.prevent_default();
            toggle_in_browser();
        }
        #[cfg(not(feature = "hydrate"))]
        let _ = ev;
    };
    view! {
        <form method="post" action="/prefs/theme" class="theme-toggle" on:submit=on_submit>
            <input type="hidden" name="next" value=next/>
            <button type="submit" class="icon-button" title="Switch light/dark theme" aria-label="Switch light/dark theme">
                <span aria-hidden="true" class="theme-icon"></span>
            </button>
        </form>
    }
}

#[cfg(feature = "hydrate")]
fn toggle_in_browser() {
    use wasm_bindgen::JsCast;
    let Some(doc) = web_sys::window().and_then(|w| w.document()) else { return };
    let Some(root) = doc.document_element() else { return };
    let current = root.get_attribute("data-theme").unwrap_or_default();
    let dark_now = match current.as_str() {
        "dark" => true,
        "light" => false,
        _ => web_sys::window()
            .and_then(|w| w.match_media("(prefers-color-scheme: dark)").ok().flatten())
            .is_some_and(|m| m.matches()),
    };
    let next = if dark_now { "light" } else { "dark" };
    let _ = root.set_attribute("data-theme", next);
    if let Ok(html) = doc.dyn_into::<web_sys::HtmlDocument>() {
        let _ = html.set_cookie(&format!("{COOKIE}={next}; Path=/; Max-Age=31536000; SameSite=Lax"));
    }
}
