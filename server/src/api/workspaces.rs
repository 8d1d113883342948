//! Workspaces (read), their events after a cursor (polling), and the event catalog.

use axum::{
    extract::State,
    Json,
};
use backend::{
    eventbus::log,
    platform::event_catalog::{self, EventEnvelope, EventType},
    tenancy::workspaces as ws,
};
use chrono::Utc;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::{scope_of, ApiPath, ApiQuery, ApiResult, Caller, Problem};
use crate::HostState;

#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct WorkspaceOut {
    pub slug: String,
    pub name: String,
    pub active: bool,
    pub monthly_lead_target: i64,
    /// `admin`, `client` or `viewer`: what this token may do there.
    pub access: String,
}

fn out(w: &ws::Workspace, access: &str) -> WorkspaceOut {
    WorkspaceOut { slug: w.slug.clone(), name: w.name.clone(), active: w.active, monthly_lead_target: w.monthly_lead_target, access: access.to_owned() }
}

/// The workspaces this token reaches.
#[utoipa::path(get, path = "/api/v1/workspaces", tag = "workspaces",
    responses((status = 200, body = Vec<WorkspaceOut>), (status = 401, body = Problem, content_type = "application/problem+json"), (status = 429, body = Problem, content_type = "application/problem+json")))]
pub async fn list_workspaces(State(state): State<HostState>, caller: Caller) -> ApiResult<Json<Vec<WorkspaceOut>>> {
    let db = &state.app.db;
    let mut list = Vec::new();
    for (w, _) in ws::list_visible(db, &caller.user).await? {
        if let Ok(scope) = caller.scope(db, w.id).await {
            list.push(out(&w, scope.level().as_str()));
        }
    }
    Ok(Json(list))
}

/// One workspace.
#[utoipa::path(get, path = "/api/v1/workspaces/{slug}", tag = "workspaces",
    params(("slug" = String, Path, description = "The workspace's slug")),
    responses((status = 200, body = WorkspaceOut), (status = 401, body = Problem, content_type = "application/problem+json"), (status = 404, body = Problem, content_type = "application/problem+json"), (status = 429, body = Problem, content_type = "application/problem+json")))]
pub async fn get_workspace(State(state): State<HostState>, caller: Caller, ApiPath(slug): ApiPath<String>) -> ApiResult<Json<WorkspaceOut>> {
    let (w, scope) = scope_of(&state, &caller, &slug).await?;
    Ok(Json(out(&w, scope.level().as_str())))
}

#[derive(Clone, Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct EventsQuery {
    /// Events after this id (the last `id` you saw; 0 or absent: from the oldest kept).
    #[param(minimum = 0)]
    pub after: Option<i64>,
    /// At most this many (1–500, default 100).
    #[param(minimum = 1, maximum = 500)]
    pub limit: Option<i64>,
}

#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct EventPage {
    pub events: Vec<EventEnvelope>,
    /// Pass as `after` for the next page (the same value when there was nothing new).
    pub next_after: i64,
}

/// The workspace's public events after a cursor, oldest first: polling for tools that cannot
/// receive webhooks. Events younger than two seconds wait for the next poll, so a poll never
/// skips one that commits late.
#[utoipa::path(get, path = "/api/v1/workspaces/{slug}/events", tag = "events",
    params(("slug" = String, Path, description = "The workspace's slug"), EventsQuery),
    responses((status = 200, body = EventPage), (status = 400, body = Problem, content_type = "application/problem+json"), (status = 401, body = Problem, content_type = "application/problem+json"), (status = 404, body = Problem, content_type = "application/problem+json"), (status = 429, body = Problem, content_type = "application/problem+json")))]
pub async fn list_events(State(state): State<HostState>, caller: Caller, ApiPath(slug): ApiPath<String>, ApiQuery(q): ApiQuery<EventsQuery>) -> ApiResult<Json<EventPage>> {
    let (w, scope) = scope_of(&state, &caller, &slug).await?;
    let after = q.after.unwrap_or(0);
    if after < 0 {
        return Err(backend::Error::invalid("after is an event id: 0 or more.").into());
    }
    let limit = super::page_limit(q.limit, 100)?;
    let settle = Utc::now() - chrono::Duration::seconds(2);
    let events = log::events_after(&state.app.db, &scope, &w.slug, after, limit, settle).await?;
    let next_after = events.last().and_then(|e| e.id).unwrap_or(after);
    Ok(Json(EventPage { events, next_after }))
}

/// The event catalog: every type, what it means and an example of its `data`.
#[utoipa::path(get, path = "/api/v1/event-types", tag = "events",
    responses((status = 200, body = Vec<EventType>), (status = 401, body = Problem, content_type = "application/problem+json"), (status = 429, body = Problem, content_type = "application/problem+json")))]
pub async fn event_catalog(_caller: Caller) -> Json<Vec<EventType>> {
    Json(event_catalog::catalog())
}
