//! Small shared bits of UI.

use leptos::prelude::*;

use crate::error::AppError;

/// `2026-11-21T21:22:26Z` → `2026-11-21 21:22 UTC`.
pub fn short_time(rfc3339: &str) -> String {
    match (rfc3339.get(..10), rfc3339.get(11..16)) {
        (Some(d), Some(t)) => format!("{d} {t} UTC"),
        _ => rfc3339.to_owned(),
    }
}

/// The outcome of the last submission of a form: an error in red, or a success note.
#[component]
pub fn ActionResult<T: Clone + Send + Sync + 'static>(
    #[prop(into)] value: Signal<Option<Result<T, AppError>>>,
    success: &'static str,
) -> impl IntoView {
    move || match value.get() {
        Some(Err(e)) => Some(view! { <p class="alert alert-error" role="alert">{e.to_string()}</p> }.into_any()),
        Some(Ok(_)) => Some(view! { <p class="alert alert-ok" role="status">{success}</p> }.into_any()),
        None => None,
    }
}

/// An empty-state panel that says what to do next.
#[component]
pub fn Empty(title: &'static str, children: Children) -> impl IntoView {
    view! {
        <div class="empty-state">
            <h3>{title}</h3>
            <p>{children()}</p>
        </div>
    }
}

/// The "Workspace" filter of the dashboards: every active workspace, `selected` preselected.
#[component]
pub fn WorkspaceFilter(workspaces: Vec<(String, String)>, selected: String) -> impl IntoView {
    view! {
        <label>"Workspace"
            <select name="workspace">
                <option value="">"all"</option>
                {workspaces.into_iter().map(|(slug, name)| {
                    let is = slug == selected;
                    view! { <option value=slug selected=is>{name}</option> }
                }).collect_view()}
            </select>
        </label>
    }
}

/// `/admin/x.csv` plus the page's current query (filters and sort), for "Export CSV".
pub fn export_href(path: &'static str) -> impl Fn() -> String + Send + Sync + Copy + 'static {
    let query = leptos_router::hooks::use_query_map();
    move || format!("{path}{}", query.with(|q| q.to_query_string()))
}

/// Closes a `<details>` disclosure and gives the focus back to its `<summary>`.
#[cfg(feature = "hydrate")]
pub fn close_disclosure(details: &web_sys::Element) {
    use wasm_bindgen::JsCast;
    let _ = details.remove_attribute("open");
    if let Some(summary) = details.query_selector("summary").ok().flatten().and_then(|s| s.dyn_into::<web_sys::HtmlElement>().ok()) {
        let _ = summary.focus();
    }
}

/// The keydown handler of a `<details>` menu or question: Escape closes it when it is open.
pub fn close_on_escape(ev: leptos::ev::KeyboardEvent) {
    #[cfg(feature = "hydrate")]
    {
        use wasm_bindgen::JsCast;
        if ev.key() != "Escape" {
            return;
        }
        let Some(details) = ev.current_target().and_then(|t| t.dyn_into::<web_sys::Element>().ok()) else { return };
        if details.has_attribute("open") {
            ev.prevent_default();
            close_disclosure(&details);
        }
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = ev;
}

/// A destructive action behind a second step: the first click only opens an inline "Are you
/// sure?" panel that says what will happen; the form given as `children` (its submit button
/// names the action) does it. A `<details>` element, so it works with the keyboard and never
/// fires on the first click, even before (or without) the WASM. "Cancel" and Escape close the
/// panel and put focus back on the button; without the WASM the button itself closes it.
#[component]
pub fn ConfirmButton(
    /// The button's text, e.g. "Archive".
    #[prop(into)]
    label: String,
    /// What will happen, in the reader's words.
    #[prop(into)]
    message: String,
    /// For tests: `data-testid` of the `<details>`.
    #[prop(optional)]
    testid: &'static str,
    children: Children,
) -> impl IntoView {
    let details = NodeRef::<leptos::html::Details>::new();
    // "Cancel" needs the WASM: shown only once the page is live.
    let live = RwSignal::new(false);
    Effect::new(move |_| live.set(true));
    let close = move || {
        #[cfg(feature = "hydrate")]
        if let Some(d) = details.get_untracked() {
            close_disclosure(&d);
        }
    };
    let aria = format!("Confirm: {label}");
    view! {
        <details class="confirm" node_ref=details data-testid=(!testid.is_empty()).then_some(testid)
            on:keydown=close_on_escape>
            <summary class="button small">{label}</summary>
            <div class="confirm-panel" role="group" aria-label=aria>
                <p>{message}</p>
                <div class="confirm-actions">
                    {children()}
                    <button type="button" class="button small" hidden=move || !live.get() on:click=move |_| close()>"Cancel"</button>
                </div>
            </div>
        </details>
    }
}
