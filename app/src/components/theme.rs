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

/// Whether the page shows dark now (`data-theme`, or the system's choice for `auto`).
#[cfg(feature = "hydrate")]
pub fn dark_now() -> bool {
    let root = web_sys::window().and_then(|w| w.document()).and_then(|d| d.document_element());
    match root.and_then(|r| r.get_attribute("data-theme")).as_deref() {
        Some("dark") => true,
        Some("light") => false,
        _ => web_sys::window()
            .and_then(|w| w.match_media("(prefers-color-scheme: dark)").ok().flatten())
            .is_some_and(|m| m.matches()),
    }
}

#[cfg(feature = "hydrate")]
thread_local! {
    static DARK: ArcRwSignal<bool> = {
        let dark = ArcRwSignal::new(dark_now());
        follow_system(dark.clone());
        dark
    };
}

/// On `auto` the page follows the system's light/dark switch (the CSS does so by itself): the
/// signal follows it too, so charts redraw in the new colours.
#[cfg(feature = "hydrate")]
fn follow_system(dark: ArcRwSignal<bool>) {
    use wasm_bindgen::{closure::Closure, JsCast};
    let Some(query) = web_sys::window().and_then(|w| w.match_media("(prefers-color-scheme: dark)").ok().flatten()) else { return };
    let on_change = Closure::<dyn Fn()>::new(move || dark.set(dark_now()));
    let _ = query.add_event_listener_with_callback("change", on_change.as_ref().unchecked_ref());
    // Listens for as long as the page lives.
    on_change.forget();
}

/// The theme as a signal, so what draws with colours of its own (charts) redraws on a toggle.
#[cfg(feature = "hydrate")]
pub fn dark_signal() -> ArcRwSignal<bool> {
    DARK.with(Clone::clone)
}

#[cfg(feature = "hydrate")]
fn toggle_in_browser() {
    use wasm_bindgen::JsCast;
    let Some(doc) = web_sys::window().and_then(|w| w.document()) else { return };
    let Some(root) = doc.document_element() else { return };
    let next = if dark_now() { "light" } else { "dark" };
    let _ = root.set_attribute("data-theme", next);
    dark_signal().set(next == "dark");
    if let Ok(html) = doc.dyn_into::<web_sys::HtmlDocument>() {
        let _ = html.set_cookie(&format!("{COOKIE}={next}; Path=/; Max-Age=31536000; SameSite=Lax"));
    }
}
