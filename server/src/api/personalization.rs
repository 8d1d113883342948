//! AI personalization runs: start one from a CSV body, and follow it.

use axum::{body::Body, extract::State, http::StatusCode, Json};
use backend::personalization::{self, Run, Writer};
use chrono::{DateTime, Utc};
use futures_util::StreamExt;
use serde::{Deserialize, Serialize};
use tokio::io::AsyncWriteExt;
use utoipa::{IntoParams, ToSchema};

use super::{scope_of, ApiPath, ApiQuery, ApiResult, Caller, Problem};
use crate::HostState;

#[derive(Clone, Copy, Debug, Deserialize, Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum WriterName {
    /// Perplexity research, then Claude through OpenRouter (needs both keys on the server).
    Ai,
    /// The built-in template writer (not AI).
    Template,
}

#[derive(Clone, Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct StartQuery {
    /// The personalization campaign (of this workspace) the leads go to.
    #[param(minimum = 1)]
    pub campaign_id: i64,
    /// Default: `ai` when the server has the AI keys, else `template`.
    pub writer: Option<WriterName>,
}

#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct RunOut {
    pub run_id: i64,
    pub campaign_id: i64,
    /// extracting, personalizing, completed, failed, cancelled
    pub status: String,
    pub writer: String,
    pub rows_total: i64,
    pub rejected: i64,
    pub skipped: i64,
    pub total: i64,
    pub done: i64,
    pub failed: i64,
    pub error: Option<String>,
    pub created_at: DateTime<Utc>,
    pub finished_at: Option<DateTime<Utc>>,
}

fn out(r: Run) -> RunOut {
    RunOut {
        run_id: r.id,
        campaign_id: r.campaign_id,
        status: r.status.as_str().to_owned(),
        writer: r.writer.as_str().to_owned(),
        rows_total: r.rows_total,
        rejected: r.rejected,
        skipped: r.skipped,
        total: r.total,
        done: r.done,
        failed: r.failed,
        error: r.error,
        created_at: r.created_at,
        finished_at: r.finished_at,
    }
}

/// Starts a run from a CSV of leads (a header; email and company required, any other columns
/// kept). Answers at once; follow it with the run's status (or the `personalization.run_completed`
/// event).
#[utoipa::path(post, path = "/api/v1/workspaces/{slug}/personalization-runs", tag = "personalization",
    params(("slug" = String, Path, description = "The workspace's slug"), StartQuery),
    request_body(content = String, content_type = "text/csv", description = "The leads, as CSV"),
    responses((status = 202, body = RunOut), (status = 400, body = Problem, content_type = "application/problem+json"), (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json"), (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, body = Problem, content_type = "application/problem+json"), (status = 413, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json"), (status = 429, body = Problem, content_type = "application/problem+json")))]
pub async fn start_run(State(state): State<HostState>, caller: Caller, ApiPath(slug): ApiPath<String>, ApiQuery(q): ApiQuery<StartQuery>, body: Body) -> ApiResult<(StatusCode, Json<RunOut>)> {
    let app = &state.app;
    let (w, scope) = scope_of(&state, &caller, &slug).await?;
    scope.writable()?;
    // The campaign must be this workspace's (another's is not found), and writable.
    let campaign = personalization::writable_campaign(&app.db, &caller.user, q.campaign_id).await?;
    if campaign.workspace_id != w.id {
        return Err(backend::Error::NotFound.into());
    }
    let writer = match q.writer {
        Some(WriterName::Ai) => Writer::Ai,
        Some(WriterName::Template) => Writer::Template,
        None if app.config.personalization.ai_ready() => Writer::Ai,
        None => Writer::Template,
    };
    let dir = app.config.data_dir.join("uploads");
    tokio::fs::create_dir_all(&dir).await.map_err(|e| backend::Error::Internal(format!("cannot create {}: {e}", dir.display())))?;
    let path = dir.join(format!("personalization-api-{}.csv", uuid::Uuid::new_v4().simple()));
    let limit = app.config.personalization.upload_max_bytes;
    if let Err(e) = save(body, &path, limit).await {
        let _ = tokio::fs::remove_file(&path).await;
        return Err(e.into());
    }
    match personalization::start_run(app, &caller.user, q.campaign_id, "api.csv", &path, writer).await {
        Ok(id) => Ok((StatusCode::ACCEPTED, Json(out(personalization::get_run(&app.db, &caller.user, id).await?)))),
        Err(e) => {
            let _ = tokio::fs::remove_file(&path).await;
            Err(e.into())
        }
    }
}

/// Streams the body to `path`, refusing past `limit` bytes.
async fn save(body: Body, path: &std::path::Path, limit: usize) -> Result<(), backend::Error> {
    let mut file = tokio::fs::File::create(path).await.map_err(|e| backend::Error::Internal(format!("cannot write the upload: {e}")))?;
    let mut stream = body.into_data_stream();
    let mut written = 0usize;
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|_| backend::Error::invalid("The body could not be read; send it again."))?;
        written += chunk.len();
        if written > limit {
            return Err(backend::Error::invalid(format!("The CSV is larger than {} MB; split it into smaller files.", limit / (1024 * 1024))));
        }
        file.write_all(&chunk).await.map_err(|e| backend::Error::Internal(format!("cannot write the upload: {e}")))?;
    }
    file.flush().await.map_err(|e| backend::Error::Internal(format!("cannot write the upload: {e}")))?;
    if written == 0 {
        return Err(backend::Error::invalid("Send the leads as a CSV body (a header row, then one lead per row)."));
    }
    Ok(())
}

/// Where a run stands.
#[utoipa::path(get, path = "/api/v1/workspaces/{slug}/personalization-runs/{id}", tag = "personalization",
    params(("slug" = String, Path, description = "The workspace's slug"), ("id" = i64, Path, description = "The run's id")),
    responses((status = 200, body = RunOut), (status = 400, body = Problem, content_type = "application/problem+json"), (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"), (status = 429, body = Problem, content_type = "application/problem+json")))]
pub async fn get_run(State(state): State<HostState>, caller: Caller, ApiPath((slug, id)): ApiPath<(String, i64)>) -> ApiResult<Json<RunOut>> {
    let (w, _) = scope_of(&state, &caller, &slug).await?;
    let run = personalization::get_run(&state.app.db, &caller.user, id).await?;
    if run.workspace_id != w.id {
        return Err(backend::Error::NotFound.into());
    }
    Ok(Json(out(run)))
}
