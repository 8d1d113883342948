//! The HTTP surface: the Leptos app (pages + server functions), the form endpoints, health,
//! exports, uploads and static files, wrapped in the middleware stack (outermost first): request
//! id → trace → panic → 500 → origin check → session → body limit (uploads have their own).

use axum::{
    body::Body,
    extract::DefaultBodyLimit,
    http::{HeaderName, Response, StatusCode},
    middleware,
    routing::{get, post},
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
    exports, health, portal, uploads, webhooks,
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

    // Uploads read their multipart bodies within their own, larger limits.
    let uploads = Router::new()
        .route("/admin/zips/import", post(uploads::zip_import))
        .layer(DefaultBodyLimit::max(state.app.config.zip_upload_max_bytes));
    let contacts_uploads = Router::new()
        .route("/admin/contacts/upload", post(uploads::contacts_upload))
        .layer(DefaultBodyLimit::max(state.app.config.contacts_upload_max_bytes + 64 * 1024));
    let personalization_uploads = Router::new()
        .route("/personalization/{campaign}/runs", post(uploads::personalization_upload))
        .layer(DefaultBodyLimit::max(state.app.config.personalization.upload_max_bytes + 64 * 1024));
    // Webhooks read their bodies themselves (an oversized delivery is still recorded).
    let webhooks = Router::new().route("/webhooks/bison/{token}", post(webhooks::bison)).layer(DefaultBodyLimit::disable());

    Router::new()
        .route("/", get(web_auth::home))
        .route("/auth/login", post(web_auth::login))
        .route("/auth/logout", post(web_auth::logout))
        .route("/prefs/theme", post(web_auth::toggle_theme))
        .route("/healthz", get(health::healthz))
        .route("/readyz", get(health::readyz))
        .route("/admin/users.csv", get(exports::users_csv))
        .route("/admin/workspaces.csv", get(exports::workspaces_csv))
        .route("/admin/kpi.csv", get(exports::kpi_csv))
        .route("/admin/rollout.csv", get(exports::rollout_csv))
        .route("/admin/volume.csv", get(exports::volume_csv))
        .route("/admin/revenue.csv", get(exports::revenue_csv))
        .route("/admin/roi.csv", get(exports::roi_csv))
        .route("/admin/zips.csv", get(exports::zips_csv))
        .route("/admin/senders.csv", get(exports::senders_csv))
        .route("/admin/contacts/uploads/{id}/rejected.csv", get(exports::contacts_rejected_csv))
        .route("/client-portal/{workspace}/events", get(portal::events))
        .route("/client-portal/{workspace}/leads.csv", get(portal::leads_csv))
        .route("/admin/zips/imports/{id}/rejected.csv", get(exports::zip_import_rejected_csv))
        .route("/personalization/campaigns.csv", get(exports::personalization_campaigns_csv))
        .route("/personalization/savings.csv", get(exports::personalization_savings_csv))
        .route("/personalization/{campaign}/export.csv", get(exports::personalization_csv))
        .route("/personalization/runs/{id}", get(exports::personalization_run_status))
        .route("/personalization/leads/{id}/calls.csv", get(exports::personalization_calls_csv))
        .route("/personalization/runs/{id}/cancel", post(exports::personalization_run_cancel))
        .route("/personalization/runs/{id}/rejected.csv", get(exports::personalization_rejected_csv))
        .leptos_routes_with_context(&state, routes, context.clone(), shell)
        .fallback(leptos_axum::file_and_error_handler_with_context::<HostState, _>(context, app::shell))
        .layer(RequestBodyLimitLayer::new(state.app.config.max_body_bytes))
        .merge(uploads)
        .merge(webhooks)
        .merge(contacts_uploads)
        .merge(personalization_uploads)
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
