//! Personalization runs for scripts, beside the pages: where a run stands (JSON) and a request to
//! stop it. Starting a run is the upload (`uploads::personalization_upload`, JSON with
//! `Accept: application/json`). Both authorize like the pages (another workspace's run is 404).

use axum::{
    extract::State,
    http::StatusCode,
    response::{IntoResponse, Response},
};

use crate::{exports::error_response, session_layer::Caller, HostState};

pub fn routes() -> crate::routes::HostRoutes {
    crate::routes::HostRoutes::new().get("/personalization/runs/{id}", run_status).post("/personalization/runs/{id}/cancel", cancel_run)
}

/// `GET /personalization/runs/{id}`: where a run stands, as JSON (for scripts).
pub async fn run_status(
    State(state): State<HostState>,
    Caller(caller): Caller,
    axum::extract::Path(id): axum::extract::Path<i64>,
) -> Response {
    match backend::personalization::get_run(&state.app.db, &caller, id).await {
        Ok(run) => axum::Json(serde_json::json!({
            "run_id": run.id, "campaign_id": run.campaign_id, "status": run.status, "writer": run.writer,
            "total": run.total, "done": run.done, "failed": run.failed, "skipped": run.skipped, "rejected": run.rejected,
            "rows_total": run.rows_total, "error": run.error, "created_at": run.created_at, "finished_at": run.finished_at,
        }))
        .into_response(),
        Err(e) => error_response(e),
    }
}

/// `POST /personalization/runs/{id}/cancel`: asks a run to stop (202); leads in flight finish.
pub async fn cancel_run(
    State(state): State<HostState>,
    Caller(caller): Caller,
    axum::extract::Path(id): axum::extract::Path<i64>,
) -> Response {
    match backend::personalization::cancel_run(&state.app.db, &caller, id).await {
        Ok(()) => (StatusCode::ACCEPTED, axum::Json(serde_json::json!({"run_id": id, "cancel_requested": true}))).into_response(),
        Err(e) => error_response(e),
    }
}
