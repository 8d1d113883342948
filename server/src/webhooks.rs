//! Machine endpoints that authenticate by a secret in their path (exempt from the origin check):
//! `POST /webhooks/bison/{token}`. See `backend::bison::webhook` for what happens to a delivery.

use axum::{
    body::Body,
    extract::{Path, State},
    http::{header, StatusCode},
    response::{IntoResponse, Response},
    Json,
};
use backend::bison::webhook::{self, Receipt};

use crate::HostState;

/// Webhooks read their bodies themselves (an oversized delivery is still recorded), so the
/// global body limit does not apply to them.
pub fn routes() -> crate::routes::HostRoutes {
    crate::routes::HostRoutes::new().post_with_limit("/webhooks/bison/{token}", bison, None)
}

/// Webhook bodies read at once in this process. Each is at most `webhook_max_bytes + 1` bytes,
/// so a flood holds at most this many of them in memory; past it the sender is asked to retry.
static READING: tokio::sync::Semaphore = tokio::sync::Semaphore::const_new(16);
/// The longest a webhook body may take to arrive.
const READ_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(15);

/// Reads at most `limit` bytes of a body; the rest is never read. `None` when the body broke off.
async fn read_at_most(body: Body, limit: usize) -> Option<Vec<u8>> {
    use futures_util::StreamExt;
    let mut stream = body.into_data_stream();
    let mut bytes = Vec::new();
    while bytes.len() < limit {
        match stream.next().await {
            Some(Ok(chunk)) => bytes.extend_from_slice(&chunk[..chunk.len().min(limit - bytes.len())]),
            Some(Err(_)) => return None,
            None => break,
        }
    }
    Some(bytes)
}

/// `POST /webhooks/bison/{token}`. The token is checked before a byte of the body is read (an
/// unknown one is 404 at once), then at most the configured limit + 1 byte is read: a larger
/// delivery is stored truncated, as failed, with the reason.
pub async fn bison(State(state): State<HostState>, Path(token): Path<String>, body: Body) -> Response {
    let app = state.app;
    let max = app.config.webhook_max_bytes;
    let ws = match webhook::workspace_for_token(&app.db, &token).await {
        Ok(Some(ws)) => ws,
        Ok(None) => return (StatusCode::NOT_FOUND, "Not found.").into_response(),
        Err(e) => {
            tracing::error!(error = %e, "webhook token lookup failed");
            return (StatusCode::SERVICE_UNAVAILABLE, [(header::RETRY_AFTER, "30")], "Try again later.").into_response();
        }
    };
    let Ok(_reading) = READING.try_acquire() else {
        return (StatusCode::SERVICE_UNAVAILABLE, [(header::RETRY_AFTER, "5")], "Busy; try again shortly.").into_response();
    };
    // A sender that trickles its body can't hold a reading slot for long.
    let bytes = match tokio::time::timeout(READ_TIMEOUT, read_at_most(body, max + 1)).await {
        Ok(Some(bytes)) => bytes,
        Ok(None) => return (StatusCode::BAD_REQUEST, "The body could not be read.").into_response(),
        Err(_) => return (StatusCode::REQUEST_TIMEOUT, "The body took too long to arrive.").into_response(),
    };
    match webhook::receive_for(&app.db, ws, &bytes, max).await {
        Ok(Receipt::Accepted(id)) => {
            // Stored: answer now, process right after (a sweep picks it up if this process dies).
            let db = app.db.clone();
            tokio::spawn(async move {
                if let Err(e) = webhook::process(&db, id).await {
                    tracing::warn!(delivery = id, error = %e, "webhook delivery not processed yet; the sweep will retry");
                }
            });
            Json(serde_json::json!({ "status": "accepted", "id": id })).into_response()
        }
        Ok(Receipt::Duplicate) => Json(serde_json::json!({ "status": "duplicate" })).into_response(),
        Ok(Receipt::Rejected(reason)) => {
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
