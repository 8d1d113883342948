//! `/healthz`: the process answers. `/readyz`: the database answers and a worker is alive.

use axum::{extract::State, http::StatusCode, response::IntoResponse, Json};
use serde_json::json;

use crate::HostState;

pub fn routes() -> crate::routes::HostRoutes {
    crate::routes::HostRoutes::new().get("/healthz", healthz).get("/readyz", readyz)
}

pub async fn healthz() -> impl IntoResponse {
    (StatusCode::OK, "ok")
}

pub async fn readyz(State(state): State<HostState>) -> impl IntoResponse {
    let db = &state.app.db;
    let database = db.ping().await;
    let workers = match &database {
        Ok(()) => backend::platform::heartbeat::alive(db, chrono::Utc::now()).await.unwrap_or(0),
        Err(_) => 0,
    };
    let ready = database.is_ok() && workers > 0;
    let body = json!({
        "ready": ready,
        "database": if database.is_ok() { "ok" } else { "unreachable" },
        "backend": format!("{:?}", db.backend()).to_lowercase(),
        "workers_alive": workers,
    });
    (if ready { StatusCode::OK } else { StatusCode::SERVICE_UNAVAILABLE }, Json(body))
}
