//! `/healthz`: the process answers. `/readyz`: the database answers and a worker is alive.
//! `/metrics`: Prometheus text, only with `Authorization: Bearer $MAVERICK_METRICS_TOKEN` (and
//! not there at all when that is unset).

use axum::{extract::State, http::StatusCode, response::IntoResponse, Json};
use serde_json::json;

use crate::HostState;

pub fn routes() -> crate::routes::HostRoutes {
    crate::routes::HostRoutes::new().get("/healthz", healthz).get("/readyz", readyz).get("/metrics", metrics)
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

pub async fn metrics(State(state): State<HostState>, headers: axum::http::HeaderMap) -> axum::response::Response {
    let Some(expected) = state.app.config.integrations.metrics_token.as_deref() else {
        return (StatusCode::NOT_FOUND, "Not found.").into_response();
    };
    let given = headers.get(axum::http::header::AUTHORIZATION).and_then(|v| v.to_str().ok()).and_then(|v| v.strip_prefix("Bearer ")).unwrap_or("");
    // Compared as hashes, so the time taken says nothing about how much of the token matched.
    if backend::platform::crypto::token_hash(given) != backend::platform::crypto::token_hash(expected) {
        return (StatusCode::UNAUTHORIZED, [(axum::http::header::WWW_AUTHENTICATE, "Bearer")], "Send the metrics token as a bearer token.").into_response();
    }
    match backend::platform::prometheus::render(&state.app.db).await {
        Ok(text) => ([(axum::http::header::CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")], text).into_response(),
        Err(e) => {
            tracing::error!(error = %e, "metrics failed");
            (StatusCode::SERVICE_UNAVAILABLE, "Metrics are unavailable right now.").into_response()
        }
    }
}
