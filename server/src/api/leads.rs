//! A workspace's leads: list (cursor pages, the board's filters), get, push one in, change its
//! stage, add a note. Each lead is looked up inside the path's workspace first, so an id of
//! another workspace is `404` whatever the token's user could see.

use axum::{
    extract::State,
    http::StatusCode,
    Json,
};
use backend::leads::{
    pipeline::{self, Card, LeadFilter, Move, PushedLead},
    Stage,
};
use chrono::{NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::{scope_of, ApiJson, ApiPath, ApiQuery, ApiResult, Caller, Problem};
use crate::HostState;

#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct LeadOut {
    pub id: i64,
    pub email: String,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub company: Option<String>,
    pub title: Option<String>,
    pub phone: Option<String>,
    pub campaign: Option<String>,
    pub reply_text: Option<String>,
    pub received_at: Option<chrono::DateTime<Utc>>,
    pub interested_day: Option<NaiveDate>,
    /// new, contacted, follow_up, meeting_booked, quote_sent, won, lost
    pub stage: String,
    pub deal_value_cents: Option<i64>,
    pub lost_reason: Option<String>,
}

impl From<Card> for LeadOut {
    fn from(c: Card) -> Self {
        LeadOut {
            id: c.id,
            email: c.email,
            first_name: c.first_name,
            last_name: c.last_name,
            company: c.company,
            title: c.title,
            phone: c.phone,
            campaign: c.campaign,
            reply_text: c.reply_text,
            received_at: c.received_at,
            interested_day: c.interested_day,
            stage: c.stage.as_str().to_owned(),
            deal_value_cents: c.deal_value_cents,
            lost_reason: c.lost_reason,
        }
    }
}

#[derive(Clone, Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct LeadsQuery {
    /// Name, email or company contains this.
    pub q: Option<String>,
    /// Marked interested on or after this day (YYYY-MM-DD).
    pub from: Option<NaiveDate>,
    /// … and on or before this day.
    pub to: Option<NaiveDate>,
    /// Only this campaign (its id).
    pub campaign_id: Option<i64>,
    /// Only this stage.
    pub stage: Option<StageName>,
    /// The `next_cursor` of the previous page.
    #[param(pattern = r"^[0-9]*$")]
    pub cursor: Option<String>,
    /// 1–500, default 100.
    #[param(minimum = 1, maximum = 500)]
    pub limit: Option<i64>,
}

#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct LeadPage {
    pub leads: Vec<LeadOut>,
    /// Absent on the last page.
    pub next_cursor: Option<String>,
}

/// Leads, oldest first, in pages: new leads land on later pages, so a walk never repeats or
/// skips one.
#[utoipa::path(get, path = "/api/v1/workspaces/{slug}/leads", tag = "leads",
    params(("slug" = String, Path, description = "The workspace's slug"), LeadsQuery),
    responses((status = 200, body = LeadPage), (status = 400, body = Problem, content_type = "application/problem+json"), (status = 401, body = Problem, content_type = "application/problem+json"), (status = 404, body = Problem, content_type = "application/problem+json"), (status = 429, body = Problem, content_type = "application/problem+json")))]
pub async fn list_leads(State(state): State<HostState>, caller: Caller, ApiPath(slug): ApiPath<String>, ApiQuery(q): ApiQuery<LeadsQuery>) -> ApiResult<Json<LeadPage>> {
    let (_, scope) = scope_of(&state, &caller, &slug).await?;
    let after = match q.cursor.as_deref().filter(|c| !c.is_empty()) {
        None => 0,
        Some(c) => c.parse::<i64>().ok().filter(|v| *v >= 0).ok_or_else(|| backend::Error::invalid("The cursor is not one this API gave out; start again without it."))?,
    };
    let stage = q.stage.map(StageName::stage);
    let limit = super::page_limit(q.limit, 100)?;
    let filter = LeadFilter { text: q.q.unwrap_or_default(), from: q.from, to: q.to, campaign_id: q.campaign_id };
    let cards = pipeline::page(&state.app.db, &scope, &filter, stage, after, limit).await?;
    let next_cursor = (cards.len() as i64 == limit).then(|| cards.last().map(|c| c.id.to_string())).flatten();
    Ok(Json(LeadPage { leads: cards.into_iter().map(LeadOut::from).collect(), next_cursor }))
}

/// Pushes a lead in: it lands on the board at `new` (a `lead.created` event).
#[utoipa::path(post, path = "/api/v1/workspaces/{slug}/leads", tag = "leads",
    params(("slug" = String, Path, description = "The workspace's slug")),
    request_body = PushedLead,
    responses((status = 201, body = LeadOut), (status = 400, body = Problem, content_type = "application/problem+json"), (status = 401, body = Problem, content_type = "application/problem+json"), (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"), (status = 409, body = Problem, content_type = "application/problem+json"), (status = 422, body = Problem, content_type = "application/problem+json"), (status = 429, body = Problem, content_type = "application/problem+json")))]
pub async fn create_lead(State(state): State<HostState>, caller: Caller, ApiPath(slug): ApiPath<String>, ApiJson(lead): ApiJson<PushedLead>) -> ApiResult<(StatusCode, Json<LeadOut>)> {
    let (_, scope) = scope_of(&state, &caller, &slug).await?;
    let write = scope.writable()?;
    let id = pipeline::push(&state.app.db, &write, &lead, Utc::now().date_naive()).await?;
    Ok((StatusCode::CREATED, Json(pipeline::card(&state.app.db, &scope, id).await?.into())))
}

/// One lead.
#[utoipa::path(get, path = "/api/v1/workspaces/{slug}/leads/{id}", tag = "leads",
    params(("slug" = String, Path, description = "The workspace's slug"), ("id" = i64, Path, description = "The lead's id")),
    responses((status = 200, body = LeadOut), (status = 400, body = Problem, content_type = "application/problem+json"), (status = 401, body = Problem, content_type = "application/problem+json"), (status = 404, body = Problem, content_type = "application/problem+json"), (status = 429, body = Problem, content_type = "application/problem+json")))]
pub async fn get_lead(State(state): State<HostState>, caller: Caller, ApiPath((slug, id)): ApiPath<(String, i64)>) -> ApiResult<Json<LeadOut>> {
    let (_, scope) = scope_of(&state, &caller, &slug).await?;
    Ok(Json(pipeline::card(&state.app.db, &scope, id).await?.into()))
}

/// A pipeline stage.
#[derive(Clone, Copy, Debug, Deserialize, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum StageName {
    New,
    Contacted,
    FollowUp,
    MeetingBooked,
    QuoteSent,
    Won,
    Lost,
}

impl StageName {
    fn stage(self) -> Stage {
        match self {
            StageName::New => Stage::New,
            StageName::Contacted => Stage::Contacted,
            StageName::FollowUp => Stage::FollowUp,
            StageName::MeetingBooked => Stage::MeetingBooked,
            StageName::QuoteSent => Stage::QuoteSent,
            StageName::Won => Stage::Won,
            StageName::Lost => Stage::Lost,
        }
    }
}

#[derive(Clone, Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StageIn {
    pub stage: StageName,
    /// Required for `won`: the deal's value in cents.
    #[serde(default, deserialize_with = "super::whole_number")]
    #[schema(minimum = 0, maximum = 1_000_000_000_000i64)]
    pub deal_value_cents: Option<i64>,
    /// Optional for `lost`.
    pub lost_reason: Option<String>,
}

/// Moves a lead to another stage (a `lead.stage_changed` event).
#[utoipa::path(post, path = "/api/v1/workspaces/{slug}/leads/{id}/stage", tag = "leads",
    params(("slug" = String, Path, description = "The workspace's slug"), ("id" = i64, Path, description = "The lead's id")),
    request_body = StageIn,
    responses((status = 200, body = LeadOut), (status = 400, body = Problem, content_type = "application/problem+json"), (status = 401, body = Problem, content_type = "application/problem+json"), (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"), (status = 409, body = Problem, content_type = "application/problem+json"), (status = 422, body = Problem, content_type = "application/problem+json"), (status = 429, body = Problem, content_type = "application/problem+json")))]
pub async fn change_stage(State(state): State<HostState>, caller: Caller, ApiPath((slug, id)): ApiPath<(String, i64)>, ApiJson(input): ApiJson<StageIn>) -> ApiResult<Json<LeadOut>> {
    let (_, scope) = scope_of(&state, &caller, &slug).await?;
    pipeline::card(&state.app.db, &scope, id).await?;
    scope.writable()?;
    if input.deal_value_cents.is_some_and(|v| v > 1_000_000_000_000) {
        return Err(backend::Error::invalid("deal_value_cents is at most 1,000,000,000,000 (ten billion dollars).").into());
    }
    let m = Move { to_stage: input.stage.stage().as_str().to_owned(), deal_value_cents: input.deal_value_cents, lost_reason: input.lost_reason };
    pipeline::move_lead(&state.app.db, &caller.user, id, m, Utc::now().date_naive()).await?;
    Ok(Json(pipeline::card(&state.app.db, &scope, id).await?.into()))
}

#[derive(Clone, Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NoteIn {
    /// Up to 5,000 characters, not only spaces.
    #[schema(min_length = 1, max_length = 5000, pattern = r"\S")]
    pub body: String,
}

#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct NoteOut {
    pub id: i64,
    pub lead_id: i64,
}

/// Adds a note to a lead (a `lead.note_added` event).
#[utoipa::path(post, path = "/api/v1/workspaces/{slug}/leads/{id}/notes", tag = "leads",
    params(("slug" = String, Path, description = "The workspace's slug"), ("id" = i64, Path, description = "The lead's id")),
    request_body = NoteIn,
    responses((status = 201, body = NoteOut), (status = 400, body = Problem, content_type = "application/problem+json"), (status = 401, body = Problem, content_type = "application/problem+json"), (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"), (status = 409, body = Problem, content_type = "application/problem+json"), (status = 422, body = Problem, content_type = "application/problem+json"), (status = 429, body = Problem, content_type = "application/problem+json")))]
pub async fn add_note(State(state): State<HostState>, caller: Caller, ApiPath((slug, id)): ApiPath<(String, i64)>, ApiJson(input): ApiJson<NoteIn>) -> ApiResult<(StatusCode, Json<NoteOut>)> {
    let (_, scope) = scope_of(&state, &caller, &slug).await?;
    pipeline::card(&state.app.db, &scope, id).await?;
    scope.writable()?;
    let note = pipeline::add_note(&state.app.db, &caller.user, id, &input.body).await?;
    Ok((StatusCode::CREATED, Json(NoteOut { id: note, lead_id: id })))
}
