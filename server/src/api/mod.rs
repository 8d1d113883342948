//! REST API v1 for n8n, Zapier and scripts: bearer tokens, workspace data under
//! `/api/v1/workspaces/{slug}/…`, agency webhook endpoints under `/api/v1/webhook-endpoints`,
//! errors as problem+json, idempotency keys, a rate limit per token, and the OpenAPI 3.1
//! document at `/api/v1/openapi.json` (with a readable page at `/api/docs`).
//!
//! Every route is registered through utoipa-axum's `routes!`, which takes its method and path from
//! the handler's `#[utoipa::path]`: a route cannot exist without its OpenAPI entry (and
//! `server/tests/api.rs` checks the document against what the router answers).

pub mod contacts;
pub mod docs;
pub mod endpoints;
pub mod gate;
pub mod leads;
pub mod personalization;
pub mod problem;
pub mod workspaces;

use std::sync::{Arc, OnceLock};

use axum::{middleware, routing::get, Extension, Json, Router};
use backend::tenancy::{access::WorkspaceScope, api_tokens::TokenCaller, workspaces as ws};
use utoipa::{
    openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme},
    Modify, OpenApi,
};
use utoipa_axum::{router::OpenApiRouter, routes};

use crate::HostState;
pub use problem::{ApiError, ApiJson, ApiPath, ApiQuery, ApiResult, Problem};

/// The verified token of the request (set by [`gate::gate`]).
pub type Caller = Extension<Arc<TokenCaller>>;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Maverick API",
        version = "1",
        description = "Read and change a workspace's leads, contacts and webhook endpoints, and poll its events. \
Authenticate with `Authorization: Bearer mvk_…` (Integrations page, or `server api-token create`). \
Mutating calls accept `Idempotency-Key` (kept 24 h by default): a repeat returns the first answer with `Idempotent-Replayed: true`, \
409 while the first is in flight, 422 when the key was used for another request. Errors are `application/problem+json`. \
Webhooks follow Standard Webhooks (`webhook-id`, `webhook-timestamp`, `webhook-signature`); the event types and their `data` are the `*Data` schemas."
    ),
    modifiers(&BearerAuth),
    security(("bearer" = [])),
    components(schemas(
        backend::platform::event_catalog::EventEnvelope,
        backend::platform::event_catalog::EventType,
        backend::platform::event_catalog::LeadData,
        backend::platform::event_catalog::StageChangedData,
        backend::platform::event_catalog::NoteAddedData,
        backend::platform::event_catalog::ImportCompletedData,
        backend::platform::event_catalog::VerifiedData,
        backend::platform::event_catalog::BatchUploadedData,
        backend::platform::event_catalog::RunCompletedData,
        backend::platform::event_catalog::SyncFailedData,
        backend::platform::event_catalog::SenderHealthData,
        backend::platform::event_catalog::AutomationRunData,
        backend::platform::event_catalog::TestData,
        // Used only by query parameters, which utoipa does not collect on its own.
        personalization::WriterName,
        leads::StageName,
    ))
)]
pub struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme("bearer", SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).bearer_format("mvk_…").build()));
    }
}

fn parts() -> (Router<HostState>, utoipa::openapi::OpenApi) {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(workspaces::list_workspaces))
        .routes(routes!(workspaces::get_workspace))
        .routes(routes!(workspaces::list_events))
        .routes(routes!(workspaces::event_catalog))
        .routes(routes!(leads::list_leads, leads::create_lead))
        .routes(routes!(leads::get_lead))
        .routes(routes!(leads::change_stage))
        .routes(routes!(leads::add_note))
        .routes(routes!(contacts::create_contacts))
        .routes(routes!(personalization::start_run))
        .routes(routes!(personalization::get_run))
        .routes(routes!(endpoints::list_endpoints, endpoints::create_endpoint))
        .routes(routes!(endpoints::get_endpoint, endpoints::update_endpoint, endpoints::delete_endpoint))
        .routes(routes!(endpoints::test_endpoint))
        .routes(routes!(endpoints::rotate_secret))
        .routes(routes!(endpoints::list_deliveries))
        .routes(routes!(endpoints::replay_delivery))
        .routes(routes!(endpoints::recover_deliveries))
        .routes(routes!(endpoints::list_agency_endpoints, endpoints::create_agency_endpoint))
        .routes(routes!(endpoints::get_agency_endpoint, endpoints::update_agency_endpoint, endpoints::delete_agency_endpoint))
        .routes(routes!(endpoints::test_agency_endpoint))
        .routes(routes!(endpoints::rotate_agency_secret))
        .routes(routes!(endpoints::list_agency_deliveries))
        .routes(routes!(endpoints::replay_agency_delivery))
        .routes(routes!(endpoints::recover_agency_deliveries))
        .split_for_parts()
}

/// The OpenAPI document, built once from the routes.
pub fn openapi() -> &'static utoipa::openapi::OpenApi {
    static DOC: OnceLock<utoipa::openapi::OpenApi> = OnceLock::new();
    DOC.get_or_init(|| parts().1)
}

/// The v1 router: the gated resources, then the document and its page (public).
pub fn router(state: &HostState) -> Router<HostState> {
    let (resources, _) = parts();
    resources
        .layer(middleware::from_fn_with_state(state.clone(), gate::gate))
        .route("/api/v1/openapi.json", get(|| async { Json(openapi().clone()) }))
        .route("/api/docs", get(docs::page))
        .route("/api/docs/start.js", get(docs::start_script))
}

/// A page size from the query: absent → `default`; outside 1–500 → 400 (the document's bounds).
pub fn page_limit(limit: Option<i64>, default: i64) -> ApiResult<i64> {
    match limit {
        None => Ok(default),
        Some(l) if (1..=500).contains(&l) => Ok(l),
        Some(l) => Err(backend::Error::invalid(format!("limit={l}: ask for 1 to 500 at a time.")).into()),
    }
}

/// A whole number that may arrive as `156` or `156.0` (JSON Schema calls both integers).
pub fn whole_number<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
    let v: Option<f64> = serde::Deserialize::deserialize(d)?;
    match v {
        None => Ok(None),
        Some(f) if f.fract() == 0.0 && f.abs() < 9.0e15 => Ok(Some(f as i64)),
        Some(f) => Err(serde::de::Error::custom(format!("{f} is not a whole number"))),
    }
}

/// The token's scope in the workspace named by `slug` (`NotFound` when it may not see it).
pub async fn scope_of(state: &HostState, caller: &TokenCaller, slug: &str) -> ApiResult<(ws::Workspace, WorkspaceScope)> {
    let db = &state.app.db;
    let (workspace, _) = ws::visible_by_slug(db, &caller.user, slug).await?;
    let scope = caller.scope(db, workspace.id).await?;
    Ok((workspace, scope))
}
