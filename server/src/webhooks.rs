//! Machine endpoints that authenticate by a secret in their path (exempt from the origin check):
//! `POST /webhooks/bison/{token}`. See `backend::bison::webhook` for what happens to a delivery.

use axum::{
    body::{to_bytes, Body},
    extract::{Path, State},
    http::StatusCode,
    response::{IntoResponse, Response},
    Json,
};
use backend::bison::webhook::{self, Receipt};

use crate::HostState;

/// Webhooks read their bodies themselves (an oversized delivery is still recorded), so the
/// global body limit does not apply to them.
pub fn routes() -> axum::Router<HostState> {
    use axum::{extract::DefaultBodyLimit, routing::post};
    axum::Router::new().route("/webhooks/bison/{token}", post(bison)).layer(DefaultBodyLimit::disable())
}

/// Bodies past this are not read at all (the delivery is answered 413 and not stored).
const HARD_CAP: usize = 16 * 1024 * 1024;

pub async fn bison(State(state): State<HostState>, Path(token): Path<String>, body: Body) -> Response {
    let app = state.app;
    let max = app.config.webhook_max_bytes;
    let bytes = match to_bytes(body, HARD_CAP).await {
        Ok(b) => b,
        Err(_) => return (StatusCode::PAYLOAD_TOO_LARGE, "The body is too large.").into_response(),
    };
    match webhook::receive(&app.db, &token, &bytes, max).await {
        Ok(None) => (StatusCode::NOT_FOUND, "Not found.").into_response(),
        Ok(Some(Receipt::Accepted(id))) => {
            // Stored: answer now, process right after (a sweep picks it up if this process dies).
            let db = app.db.clone();
            tokio::spawn(async move {
                if let Err(e) = webhook::process(&db, id).await {
                    tracing::warn!(delivery = id, error = %e, "webhook delivery not processed yet; the sweep will retry");
                }
            });
            Json(serde_json::json!({ "status": "accepted", "id": id })).into_response()
        }
        Ok(Some(Receipt::Duplicate)) => Json(serde_json::json!({ "status": "duplicate" })).into_response(),
        Ok(Some(Receipt::Rejected(reason))) => {
            let status = if bytes.len() > max { StatusCode::PAYLOAD_TOO_LARGE } else { StatusCode::OK };
            (status, Json(serde_json::json!({ "status": "failed", "reason": reason }))).into_response()
        }
        Err(e) => {
            // Not stored (database unavailable): ask Bison to deliver it again.
            tracing::error!(error = %e, "webhook delivery could not be stored");
            (StatusCode::SERVICE_UNAVAILABLE, "Try again later.").into_response()
        }
    }
}
