//! Contacts pushed in by tools: up to 1,000 per call, through the contact import (its validation
//! and dedupe), with a result per row.

use axum::{extract::State, Json};
use backend::contacts::{self, ContactRow};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::{scope_of, ApiJson, ApiPath, ApiResult, Caller, Problem};
use crate::HostState;

#[derive(Clone, Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ContactsIn {
    /// 1 to 1,000 contacts.
    #[schema(min_items = 1, max_items = 1000)]
    pub contacts: Vec<ContactRow>,
}

#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct RowOut {
    /// The row's position in `contacts` (from 0).
    pub index: usize,
    pub email: Option<String>,
    /// created, duplicate or rejected
    pub status: String,
    pub reason: Option<String>,
}

#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct ContactsOut {
    /// The import's record (the Contacts page lists it).
    pub upload_id: i64,
    pub created: usize,
    pub duplicates: usize,
    pub rejected: usize,
    pub rows: Vec<RowOut>,
}

/// Adds contacts to the workspace's contact pipeline (admins' tokens; a
/// `contacts.import_completed` event).
#[utoipa::path(post, path = "/api/v1/workspaces/{slug}/contacts", tag = "contacts",
    params(("slug" = String, Path, description = "The workspace's slug")),
    request_body = ContactsIn,
    responses((status = 200, body = ContactsOut), (status = 400, body = Problem, content_type = "application/problem+json"), (status = 401, body = Problem, content_type = "application/problem+json"), (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"), (status = 409, body = Problem, content_type = "application/problem+json"), (status = 413, body = Problem, content_type = "application/problem+json"), (status = 422, body = Problem, content_type = "application/problem+json"), (status = 429, body = Problem, content_type = "application/problem+json")))]
pub async fn create_contacts(State(state): State<HostState>, caller: Caller, ApiPath(slug): ApiPath<String>, ApiJson(input): ApiJson<ContactsIn>) -> ApiResult<Json<ContactsOut>> {
    let (w, scope) = scope_of(&state, &caller, &slug).await?;
    scope.writable()?;
    let (upload_id, results) = contacts::import_rows(&state.app.db, &caller.user, w.id, &input.contacts, &state.app.config.data_dir).await?;
    let count = |s: &str| results.iter().filter(|r| r.status == s).count();
    Ok(Json(ContactsOut {
        upload_id,
        created: count("created"),
        duplicates: count("duplicate"),
        rejected: count("rejected"),
        rows: results.into_iter().map(|r| RowOut { index: r.index, email: r.email, status: r.status.to_owned(), reason: r.reason }).collect(),
    }))
}

