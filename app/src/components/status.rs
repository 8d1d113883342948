//! Pages for when things go wrong: 404, 403, errors (with the request id), and loading states.

use leptos::prelude::*;
use leptos_meta::Title;

use crate::error::AppError;

/// Sets the HTTP status of the page being rendered on the server (no-op in the browser).
pub fn set_http_status(code: u16) {
    #[cfg(feature = "ssr")]
    {
        if let (Some(res), Ok(status)) =
            (use_context::<leptos_axum::ResponseOptions>(), http::StatusCode::from_u16(code))
        {
            res.set_status(status);
        }
    }
    #[cfg(not(feature = "ssr"))]
    let _ = code;
}

fn request_id() -> Option<String> {
    #[cfg(feature = "ssr")]
    {
        crate::api::ctx::request_id()
    }
    #[cfg(not(feature = "ssr"))]
    {
        None
    }
}

#[component]
pub fn NotFound() -> impl IntoView {
    set_http_status(404);
    view! {
        <Title text="Not found"/>
        <section class="status-page" data-testid="not-found">
            <h1>"Page not found"</h1>
            <p>"There is nothing at this address, or you don't have access to it."</p>
            <p><a href="/" class="button">"Go to my home page"</a></p>
        </section>
    }
}

#[component]
pub fn Forbidden() -> impl IntoView {
    set_http_status(403);
    view! {
        <Title text="No access"/>
        <section class="status-page" data-testid="forbidden">
            <h1>"You don't have access to this page"</h1>
            <p>"It is for agency admins. If you need it, ask your agency admin."</p>
            <p><a href="/" class="button">"Go to my home page"</a></p>
        </section>
    }
}

/// Renders an error from a server function as the user should see it.
#[component]
pub fn ErrorNotice(error: AppError) -> impl IntoView {
    match error {
        AppError::NotFound => view! { <NotFound/> }.into_any(),
        AppError::Forbidden => view! { <Forbidden/> }.into_any(),
        AppError::Unauthenticated => view! {
            <section class="status-page">
                <h1>"Your session has ended"</h1>
                <p><a href="/login" class="button">"Sign in again"</a></p>
            </section>
        }
        .into_any(),
        other => view! { <p class="alert alert-error" role="alert">{other.to_string()}</p> }.into_any(),
    }
}

/// The friendly face of an unexpected failure while rendering.
#[component]
pub fn ErrorPanel(errors: ArcRwSignal<Errors>) -> impl IntoView {
    let id = request_id();
    view! {
        <section class="status-page" role="alert">
            <h1>"Something went wrong"</h1>
            <ul>
                {move || errors.get().into_iter().map(|(_, e)| view! { <li>{e.to_string()}</li> }).collect_view()}
            </ul>
            {id.map(|id| view! { <p class="muted">"Request id: " <code>{id}</code></p> })}
            <p><a href="" class="button">"Try again"</a></p>
        </section>
    }
}

#[component]
pub fn Loading() -> impl IntoView {
    view! { <div class="loading" role="status" aria-live="polite"><span class="spinner" aria-hidden="true"></span>"Loading…"</div> }
}
