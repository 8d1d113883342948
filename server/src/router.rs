//! The HTTP surface: the Leptos app (pages + server functions), the form endpoints, health,
//! exports, uploads and static files, wrapped in the middleware stack (outermost first): request
//! id → trace → panic → 500 → origin check → session → body limit (uploads have their own).

use axum::{
    body::Body,
    http::{HeaderName, Response, StatusCode},
    middleware,
    Router,
};
use leptos::prelude::provide_context;
use leptos_axum::{generate_route_list, LeptosRoutes};
use tower::ServiceBuilder;
use tower_http::{
    catch_panic::CatchPanicLayer,
    limit::RequestBodyLimitLayer,
    request_id::{PropagateRequestIdLayer, SetRequestIdLayer},
    trace::TraceLayer,
};

use crate::{
    exports, health, personalization, portal, uploads, webhooks,
    session_layer::{origin_guard, session_layer},
    telemetry::{MakeUuid, RequestSpan},
    web_auth, HostState,
};

pub fn build(state: HostState) -> Router {
    let routes = generate_route_list(app::App);
    let context = {
        let app_state = state.app.clone();
        move || provide_context(app_state.clone())
    };
    let shell = {
        let options = state.leptos.clone();
        move || app::shell(options.clone())
    };
    let request_id = HeaderName::from_static("x-request-id");

    // Each group of host routes is declared in its own file; the body-limited ones are merged
    // after the global limit so it does not apply to them.
    Router::new()
        .merge(web_auth::routes())
        .merge(health::routes())
        .merge(exports::routes())
        .merge(portal::routes())
        .merge(personalization::routes())
        .leptos_routes_with_context(&state, routes, context.clone(), shell)
        .fallback(leptos_axum::file_and_error_handler_with_context::<HostState, _>(context, app::shell))
        .layer(RequestBodyLimitLayer::new(state.app.config.max_body_bytes))
        .merge(uploads::routes(&state.app.config))
        .merge(webhooks::routes())
        .layer(middleware::from_fn_with_state(state.clone(), session_layer))
        .layer(middleware::from_fn_with_state(state.clone(), origin_guard))
        .layer(
            ServiceBuilder::new()
                .layer(SetRequestIdLayer::new(request_id.clone(), MakeUuid))
                .layer(PropagateRequestIdLayer::new(request_id))
                .layer(TraceLayer::new_for_http().make_span_with(RequestSpan))
                .layer(CatchPanicLayer::custom(panic_response)),
        )
        .with_state(state)
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
