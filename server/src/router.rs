//! The HTTP surface: the Leptos app (pages + server functions), the form endpoints, health,
//! exports, uploads and static files, wrapped in the middleware stack (outermost first): request
//! id → W3C trace context → trace → panic → 500 → security and cache headers → compression → origin check → session →
//! body limit (uploads have their own). Static files skip the session lookup (`assets`); REST v1
//! (`api`) and /metrics authenticate by bearer token instead of the session and origin check.

use axum::{
    body::Body,
    http::{header, HeaderName, HeaderValue, Response, StatusCode},
    middleware,
    Router,
};
use leptos::prelude::provide_context;
use leptos_axum::{generate_route_list, LeptosRoutes};
use tower::ServiceBuilder;
use tower_http::{
    catch_panic::CatchPanicLayer,
    set_header::SetResponseHeaderLayer,
    limit::RequestBodyLimitLayer,
    request_id::{PropagateRequestIdLayer, SetRequestIdLayer},
    trace::TraceLayer,
};

use crate::{
    session_layer::{origin_guard, session_layer},
    telemetry::{MakeUuid, RequestSpan},
    HostState,
};

/// Every asset comes from this host (no CDN), so the policy can be strict: nothing from other
/// origins, no framing (clickjacking), no plugins, no `<base>` or form posts elsewhere. Leptos'
/// hydration bootstrap is an inline module script and the WASM needs `wasm-unsafe-eval`.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self' 'unsafe-inline' 'wasm-unsafe-eval'; \
     style-src 'self' 'unsafe-inline'; img-src 'self' data:; font-src 'self'; connect-src 'self'; object-src 'none'; \
     base-uri 'self'; form-action 'self'; frame-ancestors 'none'";

/// The app's route list, generated once per process. Generating it runs the app with resource
/// loading suppressed *process-wide* (leptos_server's `SuppressResourceLoad` is a global flag, and
/// a resource first polled meanwhile waits for ever: leptos issue #4773). The host builds one
/// router before it serves, but the tests build one per test, in parallel — which is where a
/// page render on one test's host hung while another test generated its list.
fn route_list() -> Vec<leptos_axum::AxumRouteListing> {
    static LIST: std::sync::OnceLock<Vec<leptos_axum::AxumRouteListing>> = std::sync::OnceLock::new();
    LIST.get_or_init(|| generate_route_list(app::App)).clone()
}

pub fn build(state: HostState) -> Router {
    let routes = route_list();
    let context = {
        let app_state = state.app.clone();
        move || provide_context(app_state.clone())
    };
    let shell = {
        let options = state.leptos.clone();
        move || app::shell(options.clone())
    };
    let request_id = HeaderName::from_static("x-request-id");

    // Each group of host routes is declared in its own file (`routes::all`); the ones that read
    // their bodies within limits of their own are merged after the global limit.
    let (bounded, own_limit) = crate::routes::all(&state.app.config).into_routers();
    let static_files = crate::assets::routes(
        std::path::Path::new(&*state.leptos.site_root),
        &state.leptos.site_pkg_dir,
        state.leptos.hash_files,
    );
    // Demo mode serves stand-ins of Cole X Dates and Clay, so an automation's dry run works
    // against this host; they have their own sign-in and sit outside our session and origin checks.
    let demo_sites = if state.app.config.demo {
        Router::new().nest("/demo-sites", crate::fixture_sites::FixtureSites::default().router())
    } else {
        Router::new()
    };
    Router::new()
        .merge(bounded)
        .leptos_routes_with_context(&state, routes, context.clone(), shell)
        .fallback(leptos_axum::file_and_error_handler_with_context::<HostState, _>(context, app::shell))
        .layer(RequestBodyLimitLayer::new(state.app.config.max_body_bytes))
        .merge(own_limit)
        .layer(middleware::from_fn_with_state(state.clone(), session_layer))
        .layer(middleware::from_fn_with_state(state.clone(), origin_guard))
        .merge(static_files)
        .merge(demo_sites)
        .merge(crate::api::router(&state))
        .layer(middleware::from_fn(crate::telemetry::count_request))
        .layer(crate::assets::compression())
        .layer(
            ServiceBuilder::new()
                .layer(SetRequestIdLayer::new(request_id.clone(), MakeUuid))
                .layer(PropagateRequestIdLayer::new(request_id))
                .layer(middleware::from_fn(crate::telemetry::trace_context))
                .layer(TraceLayer::new_for_http().make_span_with(RequestSpan))
                .layer(SetResponseHeaderLayer::if_not_present(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(CONTENT_SECURITY_POLICY)))
                .layer(SetResponseHeaderLayer::if_not_present(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff")))
                .layer(SetResponseHeaderLayer::if_not_present(header::REFERRER_POLICY, HeaderValue::from_static("same-origin")))
                .layer(SetResponseHeaderLayer::if_not_present(header::CACHE_CONTROL, page_cache_control))
                .layer(CatchPanicLayer::custom(panic_response)),
        )
        .with_state(state)
}

/// Pages are per user and change with the data: the browser may keep one but must ask first.
fn page_cache_control<B>(response: &Response<B>) -> Option<HeaderValue> {
    let html = response.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).is_some_and(|t| t.starts_with("text/html"));
    html.then(|| HeaderValue::from_static(crate::assets::PAGE))
}

fn panic_response(err: Box<dyn std::any::Any + Send + 'static>) -> Response<Body> {
    let detail = err
        .downcast_ref::<String>()
        .map(String::as_str)
        .or_else(|| err.downcast_ref::<&str>().copied())
        .unwrap_or("unknown panic");
    tracing::error!(panic = %detail, "request handler panicked");
    Response::builder()
        .status(StatusCode::INTERNAL_SERVER_ERROR)
        .header("content-type", "text/plain; charset=utf-8")
        .body(Body::from("Something went wrong on our side. Please try again; the error was logged with this request's id."))
        .expect("static response")
}
