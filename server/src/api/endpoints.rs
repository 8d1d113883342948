//! Webhook endpoints and their deliveries, for a workspace (`/api/v1/workspaces/{slug}/webhook-endpoints`,
//! a write token of the workspace) and for the agency (`/api/v1/webhook-endpoints`, an admin's
//! agency write token). Each pair of routes shares one body: the owner is what differs.

use axum::{extract::State, http::StatusCode, Json};
use backend::eventbus::{
    endpoints::{self, Endpoint, EndpointInput, Owner},
    log::{self, Attempt, Delivery, DeliveryFilter},
};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::{scope_of, ApiJson, ApiPath, ApiQuery, ApiResult, Caller, Problem};
use crate::HostState;

#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct EndpointOut {
    pub id: i64,
    /// The workspace's slug; absent for agency-wide endpoints.
    pub workspace: Option<String>,
    pub url: String,
    pub description: String,
    /// Empty: every type.
    pub event_types: Vec<String>,
    pub enabled: bool,
    pub disabled_reason: Option<String>,
    /// The static header's name (its value is never shown again).
    pub header_name: Option<String>,
    pub failing_since: Option<DateTime<Utc>>,
    /// Until when the previous secret still signs (after a rotation).
    pub previous_secret_until: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
}

fn out(e: Endpoint, slug: Option<&str>) -> EndpointOut {
    EndpointOut {
        id: e.id,
        workspace: slug.map(str::to_owned),
        event_types: e.types(),
        url: e.url,
        description: e.description,
        enabled: e.enabled,
        disabled_reason: e.disabled_reason,
        header_name: e.header_name,
        failing_since: e.failing_since,
        previous_secret_until: e.previous_until,
        created_at: e.created_at,
    }
}

#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct CreatedEndpoint {
    pub endpoint: EndpointOut,
    /// `whsec_…`: verify signatures with it. Shown only now.
    pub secret: String,
}

#[derive(Clone, Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EndpointIn {
    /// https://… (private and loopback addresses are refused).
    #[schema(max_length = 2000, pattern = r"^https?://\S+$")]
    pub url: String,
    #[serde(default)]
    #[schema(max_length = 500)]
    pub description: String,
    /// The event types it receives; empty or absent: every type.
    #[serde(default)]
    pub event_types: Vec<EventTypeName>,
    #[serde(default = "yes")]
    pub enabled: bool,
    /// A header sent with every delivery, e.g. for n8n's Header Auth.
    pub header_name: Option<String>,
    pub header_value: Option<String>,
}

/// A public event type's name (the catalog: `GET /api/v1/event-types`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, Serialize, ToSchema)]
pub enum EventTypeName {
    #[serde(rename = "lead.created")]
    LeadCreated,
    #[serde(rename = "lead.interested")]
    LeadInterested,
    #[serde(rename = "lead.stage_changed")]
    LeadStageChanged,
    #[serde(rename = "lead.note_added")]
    LeadNoteAdded,
    #[serde(rename = "contacts.import_completed")]
    ContactsImportCompleted,
    #[serde(rename = "contacts.verified")]
    ContactsVerified,
    #[serde(rename = "batch.uploaded")]
    BatchUploaded,
    #[serde(rename = "personalization.run_completed")]
    PersonalizationRunCompleted,
    #[serde(rename = "sync.failed")]
    SyncFailed,
    #[serde(rename = "sender.health_changed")]
    SenderHealthChanged,
    #[serde(rename = "automation.run_completed")]
    AutomationRunCompleted,
    #[serde(rename = "automation.run_failed")]
    AutomationRunFailed,
}

impl EventTypeName {
    pub const ALL: [EventTypeName; 12] = [
        EventTypeName::LeadCreated,
        EventTypeName::LeadInterested,
        EventTypeName::LeadStageChanged,
        EventTypeName::LeadNoteAdded,
        EventTypeName::ContactsImportCompleted,
        EventTypeName::ContactsVerified,
        EventTypeName::BatchUploaded,
        EventTypeName::PersonalizationRunCompleted,
        EventTypeName::SyncFailed,
        EventTypeName::SenderHealthChanged,
        EventTypeName::AutomationRunCompleted,
        EventTypeName::AutomationRunFailed,
    ];

    pub fn name(self) -> String {
        serde_json::to_value(self).ok().and_then(|v| v.as_str().map(str::to_owned)).unwrap_or_default()
    }
}

fn yes() -> bool {
    true
}

impl EndpointIn {
    fn input(self) -> EndpointInput {
        let header = match (self.header_name, self.header_value) {
            (None, None) => None,
            (name, value) => Some((name.unwrap_or_default(), value.unwrap_or_default())),
        };
        let event_types = self.event_types.into_iter().map(EventTypeName::name).collect();
        EndpointInput {
            url: self.url,
            description: self.description,
            event_types,
            enabled: self.enabled,
            header,
        }
    }
}

#[derive(Clone, Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RotateIn {
    /// Hours the old secret keeps signing beside the new one (0–168, default 24).
    #[serde(default, deserialize_with = "super::whole_number")]
    #[schema(minimum = 0, maximum = 168)]
    pub overlap_hours: Option<i64>,
}

#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct RotatedSecret {
    /// The new `whsec_…` secret. Shown only now.
    pub secret: String,
    pub previous_secret_until: DateTime<Utc>,
}

#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct TestSent {
    /// The test message's delivery (see the deliveries list).
    pub delivery_id: i64,
}

#[derive(Clone, Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DeliveriesQuery {
    /// pending, delivered or failed (failed ones are the dead-letter list).
    #[param(pattern = "^(pending|delivered|failed)$")]
    pub status: Option<String>,
    pub event_type: Option<String>,
    /// Created at or after this time (RFC 3339).
    pub since: Option<DateTime<Utc>>,
    /// The `next_before` of the previous page.
    #[param(minimum = 1)]
    pub before: Option<i64>,
    /// 1–500, default 50.
    #[param(minimum = 1, maximum = 500)]
    pub limit: Option<i64>,
}

#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct DeliveryOut {
    pub id: i64,
    pub event_id: Option<i64>,
    pub event_type: String,
    /// The `webhook-id` header: the same on every attempt.
    pub message_id: String,
    pub status: String,
    pub attempts: i64,
    pub next_attempt_at: DateTime<Utc>,
    pub last_status_code: Option<i64>,
    pub last_error: Option<String>,
    pub trace_id: Option<String>,
    pub created_at: DateTime<Utc>,
    pub finished_at: Option<DateTime<Utc>>,
    /// Every attempt, oldest first.
    pub attempt_log: Vec<AttemptOut>,
}

#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct AttemptOut {
    pub at: DateTime<Utc>,
    pub status_code: Option<i64>,
    pub latency_ms: i64,
    pub response_excerpt: String,
    pub error: Option<String>,
}

fn delivery_out(d: Delivery, attempts: Vec<Attempt>) -> DeliveryOut {
    DeliveryOut {
        id: d.id,
        event_id: d.event_id,
        event_type: d.event_type,
        message_id: d.message_id,
        status: d.status,
        attempts: d.attempts,
        next_attempt_at: d.next_attempt_at,
        last_status_code: d.last_status_code,
        last_error: d.last_error,
        trace_id: d.trace_id,
        created_at: d.created_at,
        finished_at: d.finished_at,
        attempt_log: attempts
            .into_iter()
            .map(|a| AttemptOut {
                at: a.at,
                status_code: a.status_code,
                latency_ms: a.latency_ms,
                response_excerpt: a.response_excerpt,
                error: a.error,
            })
            .collect(),
    }
}

#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct DeliveryPage {
    pub deliveries: Vec<DeliveryOut>,
    /// Pass as `before` for older ones; absent on the last page.
    pub next_before: Option<i64>,
}

#[derive(Clone, Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RecoverIn {
    /// Send again every failed delivery created at or after this time.
    pub since: DateTime<Utc>,
}

#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct Recovered {
    pub requeued: u64,
}

async fn workspace_owner(state: &HostState, caller: &Caller, slug: &str) -> ApiResult<(Owner, Option<String>)> {
    let (w, scope) = scope_of(state, caller, slug).await?;
    Ok((Owner::Workspace(scope.writable()?), Some(w.slug)))
}

fn agency_owner(caller: &Caller) -> ApiResult<(Owner, Option<String>)> {
    Ok((Owner::Agency(caller.agency_admin()?), None))
}

// The bodies, shared by the workspace and the agency routes.

async fn list_body(state: &HostState, (owner, slug): (Owner, Option<String>)) -> ApiResult<Json<Vec<EndpointOut>>> {
    let list = endpoints::list(&state.app.db, &owner).await?;
    Ok(Json(list.into_iter().map(|e| out(e, slug.as_deref())).collect()))
}

async fn create_body(state: &HostState, (owner, slug): (Owner, Option<String>), input: EndpointIn) -> ApiResult<(StatusCode, Json<CreatedEndpoint>)> {
    let app = &state.app;
    let created = endpoints::create(&app.db, &app.secrets, &app.config.integrations, &owner, &input.input(), Utc::now()).await?;
    Ok((
        StatusCode::CREATED,
        Json(CreatedEndpoint {
            endpoint: out(created.endpoint, slug.as_deref()),
            secret: created.secret,
        }),
    ))
}

async fn get_body(state: &HostState, (owner, slug): (Owner, Option<String>), id: i64) -> ApiResult<Json<EndpointOut>> {
    Ok(Json(out(endpoints::get(&state.app.db, &owner, id).await?, slug.as_deref())))
}

async fn update_body(state: &HostState, (owner, slug): (Owner, Option<String>), id: i64, input: EndpointIn) -> ApiResult<Json<EndpointOut>> {
    let app = &state.app;
    let e = endpoints::update(&app.db, &app.secrets, &app.config.integrations, &owner, id, &input.input(), Utc::now()).await?;
    Ok(Json(out(e, slug.as_deref())))
}

async fn delete_body(state: &HostState, (owner, _): (Owner, Option<String>), id: i64) -> ApiResult<StatusCode> {
    endpoints::delete(&state.app.db, &owner, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn test_body(state: &HostState, (owner, _): (Owner, Option<String>), id: i64) -> ApiResult<(StatusCode, Json<TestSent>)> {
    let delivery_id = endpoints::send_test(&state.app.db, &owner, id, Utc::now()).await?;
    Ok((StatusCode::ACCEPTED, Json(TestSent { delivery_id })))
}

async fn rotate_body(state: &HostState, (owner, _): (Owner, Option<String>), id: i64, input: RotateIn) -> ApiResult<Json<RotatedSecret>> {
    let hours = input.overlap_hours.unwrap_or(24);
    if !(0..=168).contains(&hours) {
        return Err(backend::Error::invalid("overlap_hours is 0 to 168.").into());
    }
    let now = Utc::now();
    let overlap = chrono::Duration::hours(hours);
    let secret = endpoints::rotate_secret(&state.app.db, &state.app.secrets, &owner, id, overlap, now).await?;
    Ok(Json(RotatedSecret {
        secret,
        previous_secret_until: now + overlap,
    }))
}

async fn deliveries_body(state: &HostState, (owner, _): (Owner, Option<String>), id: i64, q: DeliveriesQuery) -> ApiResult<Json<DeliveryPage>> {
    let limit = super::page_limit(q.limit, 50)?;
    if q.before.is_some_and(|b| b < 1) {
        return Err(backend::Error::invalid("before is a delivery id: 1 or more.").into());
    }
    let filter = DeliveryFilter {
        status: q.status,
        event_type: q.event_type,
        since: q.since,
        before_id: q.before,
        limit,
    };
    let db = &state.app.db;
    let list = log::deliveries(db, &owner, id, &filter).await?;
    let next_before = (list.len() as i64 == limit).then(|| list.last().map(|d| d.id)).flatten();
    let mut attempts = log::attempts_of(db, &list).await?;
    let deliveries = list
        .into_iter()
        .map(|d| {
            let a = attempts.remove(&d.id).unwrap_or_default();
            delivery_out(d, a)
        })
        .collect();
    Ok(Json(DeliveryPage { deliveries, next_before }))
}

async fn replay_body(state: &HostState, (owner, _): (Owner, Option<String>), id: i64, delivery: i64) -> ApiResult<(StatusCode, Json<DeliveryOut>)> {
    let db = &state.app.db;
    let (d, _) = log::delivery(db, &owner, delivery).await?;
    if d.endpoint_id != id {
        return Err(backend::Error::NotFound.into());
    }
    let d = log::replay(db, &owner, delivery, Utc::now()).await?;
    let (d, attempts) = log::delivery(db, &owner, d.id).await?;
    Ok((StatusCode::ACCEPTED, Json(delivery_out(d, attempts))))
}

async fn recover_body(state: &HostState, (owner, _): (Owner, Option<String>), id: i64, input: RecoverIn) -> ApiResult<(StatusCode, Json<Recovered>)> {
    let requeued = log::recover(&state.app.db, &owner, id, input.since, Utc::now()).await?;
    Ok((StatusCode::ACCEPTED, Json(Recovered { requeued })))
}

// Workspace routes.

/// The workspace's webhook endpoints.
#[utoipa::path(get, path = "/api/v1/workspaces/{slug}/webhook-endpoints", tag = "webhooks",
    params(("slug" = String, Path, description = "The workspace's slug")),
    responses((status = 200, body = Vec<EndpointOut>), (status = 400, body = Problem, content_type = "application/problem+json"), (status = 401, body = Problem, content_type = "application/problem+json"), (status = 403, body = Problem, content_type = "application/problem+json"), (status = 404, body = Problem, content_type = "application/problem+json"), (status = 409, body = Problem, content_type = "application/problem+json"), (status = 429, body = Problem, content_type = "application/problem+json")))]
pub async fn list_endpoints(State(state): State<HostState>, caller: Caller, ApiPath(slug): ApiPath<String>) -> ApiResult<Json<Vec<EndpointOut>>> {
    list_body(&state, workspace_owner(&state, &caller, &slug).await?).await
}

/// Makes an endpoint; its secret is in this answer only.
#[utoipa::path(post, path = "/api/v1/workspaces/{slug}/webhook-endpoints", tag = "webhooks",
    params(("slug" = String, Path, description = "The workspace's slug")),
    request_body = EndpointIn,
    responses((status = 201, body = CreatedEndpoint), (status = 400, body = Problem, content_type = "application/problem+json"), (status = 401, body = Problem, content_type = "application/problem+json"), (status = 403, body = Problem, content_type = "application/problem+json"), (status = 404, body = Problem, content_type = "application/problem+json"), (status = 409, body = Problem, content_type = "application/problem+json"), (status = 422, body = Problem, content_type = "application/problem+json"), (status = 429, body = Problem, content_type = "application/problem+json")))]
pub async fn create_endpoint(
    State(state): State<HostState>,
    caller: Caller,
    ApiPath(slug): ApiPath<String>,
    ApiJson(input): ApiJson<EndpointIn>,
) -> ApiResult<(StatusCode, Json<CreatedEndpoint>)> {
    create_body(&state, workspace_owner(&state, &caller, &slug).await?, input).await
}

/// One endpoint.
#[utoipa::path(get, path = "/api/v1/workspaces/{slug}/webhook-endpoints/{id}", tag = "webhooks",
    params(("slug" = String, Path, description = "The workspace's slug"), ("id" = i64, Path, description = "The endpoint's id")),
    responses((status = 200, body = EndpointOut), (status = 400, body = Problem, content_type = "application/problem+json"), (status = 401, body = Problem, content_type = "application/problem+json"), (status = 403, body = Problem, content_type = "application/problem+json"), (status = 404, body = Problem, content_type = "application/problem+json"), (status = 409, body = Problem, content_type = "application/problem+json"), (status = 429, body = Problem, content_type = "application/problem+json")))]
pub async fn get_endpoint(State(state): State<HostState>, caller: Caller, ApiPath((slug, id)): ApiPath<(String, i64)>) -> ApiResult<Json<EndpointOut>> {
    get_body(&state, workspace_owner(&state, &caller, &slug).await?, id).await
}

/// Replaces an endpoint's settings (the header is kept when neither header field is sent).
#[utoipa::path(put, path = "/api/v1/workspaces/{slug}/webhook-endpoints/{id}", tag = "webhooks",
    params(("slug" = String, Path, description = "The workspace's slug"), ("id" = i64, Path, description = "The endpoint's id")),
    request_body = EndpointIn,
    responses((status = 200, body = EndpointOut), (status = 400, body = Problem, content_type = "application/problem+json"), (status = 401, body = Problem, content_type = "application/problem+json"), (status = 403, body = Problem, content_type = "application/problem+json"), (status = 404, body = Problem, content_type = "application/problem+json"), (status = 409, body = Problem, content_type = "application/problem+json"), (status = 422, body = Problem, content_type = "application/problem+json"), (status = 429, body = Problem, content_type = "application/problem+json")))]
pub async fn update_endpoint(
    State(state): State<HostState>,
    caller: Caller,
    ApiPath((slug, id)): ApiPath<(String, i64)>,
    ApiJson(input): ApiJson<EndpointIn>,
) -> ApiResult<Json<EndpointOut>> {
    update_body(&state, workspace_owner(&state, &caller, &slug).await?, id, input).await
}

/// Deletes an endpoint and its delivery log.
#[utoipa::path(delete, path = "/api/v1/workspaces/{slug}/webhook-endpoints/{id}", tag = "webhooks",
    params(("slug" = String, Path, description = "The workspace's slug"), ("id" = i64, Path, description = "The endpoint's id")),
    responses((status = 204), (status = 400, body = Problem, content_type = "application/problem+json"), (status = 401, body = Problem, content_type = "application/problem+json"), (status = 403, body = Problem, content_type = "application/problem+json"), (status = 404, body = Problem, content_type = "application/problem+json"), (status = 409, body = Problem, content_type = "application/problem+json"), (status = 422, body = Problem, content_type = "application/problem+json"), (status = 429, body = Problem, content_type = "application/problem+json")))]
pub async fn delete_endpoint(State(state): State<HostState>, caller: Caller, ApiPath((slug, id)): ApiPath<(String, i64)>) -> ApiResult<StatusCode> {
    delete_body(&state, workspace_owner(&state, &caller, &slug).await?, id).await
}

/// Sends a `webhook.test` message to the endpoint.
#[utoipa::path(post, path = "/api/v1/workspaces/{slug}/webhook-endpoints/{id}/test", tag = "webhooks",
    params(("slug" = String, Path, description = "The workspace's slug"), ("id" = i64, Path, description = "The endpoint's id")),
    responses((status = 202, body = TestSent), (status = 400, body = Problem, content_type = "application/problem+json"), (status = 401, body = Problem, content_type = "application/problem+json"), (status = 403, body = Problem, content_type = "application/problem+json"), (status = 404, body = Problem, content_type = "application/problem+json"), (status = 409, body = Problem, content_type = "application/problem+json"), (status = 422, body = Problem, content_type = "application/problem+json"), (status = 429, body = Problem, content_type = "application/problem+json")))]
pub async fn test_endpoint(
    State(state): State<HostState>,
    caller: Caller,
    ApiPath((slug, id)): ApiPath<(String, i64)>,
) -> ApiResult<(StatusCode, Json<TestSent>)> {
    test_body(&state, workspace_owner(&state, &caller, &slug).await?, id).await
}

/// A new secret; the old one keeps signing beside it for the overlap.
#[utoipa::path(post, path = "/api/v1/workspaces/{slug}/webhook-endpoints/{id}/rotate-secret", tag = "webhooks",
    params(("slug" = String, Path, description = "The workspace's slug"), ("id" = i64, Path, description = "The endpoint's id")),
    request_body = RotateIn,
    responses((status = 200, body = RotatedSecret), (status = 400, body = Problem, content_type = "application/problem+json"), (status = 401, body = Problem, content_type = "application/problem+json"), (status = 403, body = Problem, content_type = "application/problem+json"), (status = 404, body = Problem, content_type = "application/problem+json"), (status = 409, body = Problem, content_type = "application/problem+json"), (status = 422, body = Problem, content_type = "application/problem+json"), (status = 429, body = Problem, content_type = "application/problem+json")))]
pub async fn rotate_secret(
    State(state): State<HostState>,
    caller: Caller,
    ApiPath((slug, id)): ApiPath<(String, i64)>,
    ApiJson(input): ApiJson<RotateIn>,
) -> ApiResult<Json<RotatedSecret>> {
    rotate_body(&state, workspace_owner(&state, &caller, &slug).await?, id, input).await
}

/// The endpoint's deliveries, newest first, with their attempts.
#[utoipa::path(get, path = "/api/v1/workspaces/{slug}/webhook-endpoints/{id}/deliveries", tag = "webhooks",
    params(("slug" = String, Path, description = "The workspace's slug"), ("id" = i64, Path, description = "The endpoint's id"), DeliveriesQuery),
    responses((status = 200, body = DeliveryPage), (status = 400, body = Problem, content_type = "application/problem+json"), (status = 401, body = Problem, content_type = "application/problem+json"), (status = 403, body = Problem, content_type = "application/problem+json"), (status = 404, body = Problem, content_type = "application/problem+json"), (status = 409, body = Problem, content_type = "application/problem+json"), (status = 429, body = Problem, content_type = "application/problem+json")))]
pub async fn list_deliveries(
    State(state): State<HostState>,
    caller: Caller,
    ApiPath((slug, id)): ApiPath<(String, i64)>,
    ApiQuery(q): ApiQuery<DeliveriesQuery>,
) -> ApiResult<Json<DeliveryPage>> {
    deliveries_body(&state, workspace_owner(&state, &caller, &slug).await?, id, q).await
}

/// Sends a delivered or failed delivery again (same `webhook-id`).
#[utoipa::path(post, path = "/api/v1/workspaces/{slug}/webhook-endpoints/{id}/deliveries/{delivery}/replay", tag = "webhooks",
    params(("slug" = String, Path, description = "The workspace's slug"), ("id" = i64, Path, description = "The endpoint's id"), ("delivery" = i64, Path, description = "The delivery's id")),
    responses((status = 202, body = DeliveryOut), (status = 400, body = Problem, content_type = "application/problem+json"), (status = 401, body = Problem, content_type = "application/problem+json"), (status = 403, body = Problem, content_type = "application/problem+json"), (status = 404, body = Problem, content_type = "application/problem+json"), (status = 409, body = Problem, content_type = "application/problem+json"), (status = 422, body = Problem, content_type = "application/problem+json"), (status = 429, body = Problem, content_type = "application/problem+json")))]
pub async fn replay_delivery(
    State(state): State<HostState>,
    caller: Caller,
    ApiPath((slug, id, delivery)): ApiPath<(String, i64, i64)>,
) -> ApiResult<(StatusCode, Json<DeliveryOut>)> {
    replay_body(&state, workspace_owner(&state, &caller, &slug).await?, id, delivery).await
}

/// Sends again every failed delivery since a time.
#[utoipa::path(post, path = "/api/v1/workspaces/{slug}/webhook-endpoints/{id}/recover", tag = "webhooks",
    params(("slug" = String, Path, description = "The workspace's slug"), ("id" = i64, Path, description = "The endpoint's id")),
    request_body = RecoverIn,
    responses((status = 202, body = Recovered), (status = 400, body = Problem, content_type = "application/problem+json"), (status = 401, body = Problem, content_type = "application/problem+json"), (status = 403, body = Problem, content_type = "application/problem+json"), (status = 404, body = Problem, content_type = "application/problem+json"), (status = 409, body = Problem, content_type = "application/problem+json"), (status = 422, body = Problem, content_type = "application/problem+json"), (status = 429, body = Problem, content_type = "application/problem+json")))]
pub async fn recover_deliveries(
    State(state): State<HostState>,
    caller: Caller,
    ApiPath((slug, id)): ApiPath<(String, i64)>,
    ApiJson(input): ApiJson<RecoverIn>,
) -> ApiResult<(StatusCode, Json<Recovered>)> {
    recover_body(&state, workspace_owner(&state, &caller, &slug).await?, id, input).await
}

// Agency routes (an admin's agency write token).

/// The agency's webhook endpoints (they receive every workspace's events).
#[utoipa::path(get, path = "/api/v1/webhook-endpoints", tag = "webhooks",
    responses((status = 200, body = Vec<EndpointOut>), (status = 401, body = Problem, content_type = "application/problem+json"), (status = 403, body = Problem, content_type = "application/problem+json"), (status = 429, body = Problem, content_type = "application/problem+json")))]
pub async fn list_agency_endpoints(State(state): State<HostState>, caller: Caller) -> ApiResult<Json<Vec<EndpointOut>>> {
    list_body(&state, agency_owner(&caller)?).await
}

/// Makes an agency endpoint; its secret is in this answer only.
#[utoipa::path(post, path = "/api/v1/webhook-endpoints", tag = "webhooks",
    request_body = EndpointIn,
    responses((status = 201, body = CreatedEndpoint), (status = 400, body = Problem, content_type = "application/problem+json"), (status = 401, body = Problem, content_type = "application/problem+json"), (status = 403, body = Problem, content_type = "application/problem+json"), (status = 409, body = Problem, content_type = "application/problem+json"), (status = 422, body = Problem, content_type = "application/problem+json"), (status = 429, body = Problem, content_type = "application/problem+json")))]
pub async fn create_agency_endpoint(
    State(state): State<HostState>,
    caller: Caller,
    ApiJson(input): ApiJson<EndpointIn>,
) -> ApiResult<(StatusCode, Json<CreatedEndpoint>)> {
    create_body(&state, agency_owner(&caller)?, input).await
}

/// One agency endpoint.
#[utoipa::path(get, path = "/api/v1/webhook-endpoints/{id}", tag = "webhooks",
    params(("id" = i64, Path, description = "The endpoint's id")),
    responses((status = 200, body = EndpointOut), (status = 400, body = Problem, content_type = "application/problem+json"), (status = 401, body = Problem, content_type = "application/problem+json"), (status = 403, body = Problem, content_type = "application/problem+json"), (status = 404, body = Problem, content_type = "application/problem+json"), (status = 429, body = Problem, content_type = "application/problem+json")))]
pub async fn get_agency_endpoint(State(state): State<HostState>, caller: Caller, ApiPath(id): ApiPath<i64>) -> ApiResult<Json<EndpointOut>> {
    get_body(&state, agency_owner(&caller)?, id).await
}

/// Replaces an agency endpoint's settings.
#[utoipa::path(put, path = "/api/v1/webhook-endpoints/{id}", tag = "webhooks",
    params(("id" = i64, Path, description = "The endpoint's id")),
    request_body = EndpointIn,
    responses((status = 200, body = EndpointOut), (status = 400, body = Problem, content_type = "application/problem+json"), (status = 401, body = Problem, content_type = "application/problem+json"), (status = 403, body = Problem, content_type = "application/problem+json"), (status = 404, body = Problem, content_type = "application/problem+json"), (status = 409, body = Problem, content_type = "application/problem+json"), (status = 422, body = Problem, content_type = "application/problem+json"), (status = 429, body = Problem, content_type = "application/problem+json")))]
pub async fn update_agency_endpoint(
    State(state): State<HostState>,
    caller: Caller,
    ApiPath(id): ApiPath<i64>,
    ApiJson(input): ApiJson<EndpointIn>,
) -> ApiResult<Json<EndpointOut>> {
    update_body(&state, agency_owner(&caller)?, id, input).await
}

/// Deletes an agency endpoint.
#[utoipa::path(delete, path = "/api/v1/webhook-endpoints/{id}", tag = "webhooks",
    params(("id" = i64, Path, description = "The endpoint's id")),
    responses((status = 204), (status = 400, body = Problem, content_type = "application/problem+json"), (status = 401, body = Problem, content_type = "application/problem+json"), (status = 403, body = Problem, content_type = "application/problem+json"), (status = 404, body = Problem, content_type = "application/problem+json"), (status = 409, body = Problem, content_type = "application/problem+json"), (status = 422, body = Problem, content_type = "application/problem+json"), (status = 429, body = Problem, content_type = "application/problem+json")))]
pub async fn delete_agency_endpoint(State(state): State<HostState>, caller: Caller, ApiPath(id): ApiPath<i64>) -> ApiResult<StatusCode> {
    delete_body(&state, agency_owner(&caller)?, id).await
}

/// Sends a `webhook.test` message to an agency endpoint.
#[utoipa::path(post, path = "/api/v1/webhook-endpoints/{id}/test", tag = "webhooks",
    params(("id" = i64, Path, description = "The endpoint's id")),
    responses((status = 202, body = TestSent), (status = 400, body = Problem, content_type = "application/problem+json"), (status = 401, body = Problem, content_type = "application/problem+json"), (status = 403, body = Problem, content_type = "application/problem+json"), (status = 404, body = Problem, content_type = "application/problem+json"), (status = 409, body = Problem, content_type = "application/problem+json"), (status = 422, body = Problem, content_type = "application/problem+json"), (status = 429, body = Problem, content_type = "application/problem+json")))]
pub async fn test_agency_endpoint(State(state): State<HostState>, caller: Caller, ApiPath(id): ApiPath<i64>) -> ApiResult<(StatusCode, Json<TestSent>)> {
    test_body(&state, agency_owner(&caller)?, id).await
}

/// A new secret for an agency endpoint.
#[utoipa::path(post, path = "/api/v1/webhook-endpoints/{id}/rotate-secret", tag = "webhooks",
    params(("id" = i64, Path, description = "The endpoint's id")),
    request_body = RotateIn,
    responses((status = 200, body = RotatedSecret), (status = 400, body = Problem, content_type = "application/problem+json"), (status = 401, body = Problem, content_type = "application/problem+json"), (status = 403, body = Problem, content_type = "application/problem+json"), (status = 404, body = Problem, content_type = "application/problem+json"), (status = 409, body = Problem, content_type = "application/problem+json"), (status = 422, body = Problem, content_type = "application/problem+json"), (status = 429, body = Problem, content_type = "application/problem+json")))]
pub async fn rotate_agency_secret(
    State(state): State<HostState>,
    caller: Caller,
    ApiPath(id): ApiPath<i64>,
    ApiJson(input): ApiJson<RotateIn>,
) -> ApiResult<Json<RotatedSecret>> {
    rotate_body(&state, agency_owner(&caller)?, id, input).await
}

/// An agency endpoint's deliveries.
#[utoipa::path(get, path = "/api/v1/webhook-endpoints/{id}/deliveries", tag = "webhooks",
    params(("id" = i64, Path, description = "The endpoint's id"), DeliveriesQuery),
    responses((status = 200, body = DeliveryPage), (status = 400, body = Problem, content_type = "application/problem+json"), (status = 401, body = Problem, content_type = "application/problem+json"), (status = 403, body = Problem, content_type = "application/problem+json"), (status = 404, body = Problem, content_type = "application/problem+json"), (status = 429, body = Problem, content_type = "application/problem+json")))]
pub async fn list_agency_deliveries(
    State(state): State<HostState>,
    caller: Caller,
    ApiPath(id): ApiPath<i64>,
    ApiQuery(q): ApiQuery<DeliveriesQuery>,
) -> ApiResult<Json<DeliveryPage>> {
    deliveries_body(&state, agency_owner(&caller)?, id, q).await
}

/// Sends an agency delivery again.
#[utoipa::path(post, path = "/api/v1/webhook-endpoints/{id}/deliveries/{delivery}/replay", tag = "webhooks",
    params(("id" = i64, Path, description = "The endpoint's id"), ("delivery" = i64, Path, description = "The delivery's id")),
    responses((status = 202, body = DeliveryOut), (status = 400, body = Problem, content_type = "application/problem+json"), (status = 401, body = Problem, content_type = "application/problem+json"), (status = 403, body = Problem, content_type = "application/problem+json"), (status = 404, body = Problem, content_type = "application/problem+json"), (status = 409, body = Problem, content_type = "application/problem+json"), (status = 422, body = Problem, content_type = "application/problem+json"), (status = 429, body = Problem, content_type = "application/problem+json")))]
pub async fn replay_agency_delivery(
    State(state): State<HostState>,
    caller: Caller,
    ApiPath((id, delivery)): ApiPath<(i64, i64)>,
) -> ApiResult<(StatusCode, Json<DeliveryOut>)> {
    replay_body(&state, agency_owner(&caller)?, id, delivery).await
}

/// Sends again every failed agency delivery since a time.
#[utoipa::path(post, path = "/api/v1/webhook-endpoints/{id}/recover", tag = "webhooks",
    params(("id" = i64, Path, description = "The endpoint's id")),
    request_body = RecoverIn,
    responses((status = 202, body = Recovered), (status = 400, body = Problem, content_type = "application/problem+json"), (status = 401, body = Problem, content_type = "application/problem+json"), (status = 403, body = Problem, content_type = "application/problem+json"), (status = 404, body = Problem, content_type = "application/problem+json"), (status = 409, body = Problem, content_type = "application/problem+json"), (status = 422, body = Problem, content_type = "application/problem+json"), (status = 429, body = Problem, content_type = "application/problem+json")))]
pub async fn recover_agency_deliveries(
    State(state): State<HostState>,
    caller: Caller,
    ApiPath(id): ApiPath<i64>,
    ApiJson(input): ApiJson<RecoverIn>,
) -> ApiResult<(StatusCode, Json<Recovered>)> {
    recover_body(&state, agency_owner(&caller)?, id, input).await
}
