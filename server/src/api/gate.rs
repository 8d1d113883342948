//! What every REST v1 request passes before its handler, in this order: the bearer token (checked
//! before a byte of the body is read), the token's rate limit (429 with `Retry-After` and the
//! `RateLimit-*` headers on every answer), then — for a mutating call with an `Idempotency-Key` —
//! the key's claim, and the storing of the handler's response for replays.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex, OnceLock},
};

use axum::{
    body::{to_bytes, Body},
    extract::{Request, State},
    http::{header, HeaderValue, Method, StatusCode},
    middleware::Next,
    response::{IntoResponse, Response},
};
use backend::{
    platform::idempotency::{self, Claim, Stored},
    tenancy::api_tokens::{self, TokenCaller},
};
use chrono::Utc;

use super::problem::{ApiError, Problem, REQUEST};
use crate::HostState;

/// Largest response kept for idempotent replays.
const MAX_STORED: usize = 4 * 1024 * 1024;

pub async fn gate(State(state): State<HostState>, req: Request, next: Next) -> Response {
    let request_id = req.headers().get("x-request-id").and_then(|v| v.to_str().ok()).unwrap_or("-").to_owned();
    let path = req.uri().path().to_owned();
    REQUEST.scope((request_id, path), guarded(state, req, next)).await
}

async fn guarded(state: HostState, mut req: Request, next: Next) -> Response {
    let app = &state.app;
    let now = Utc::now();
    let bearer = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer ").or_else(|| v.strip_prefix("bearer ")))
        .map(str::to_owned);
    let Some(bearer) = bearer else {
        return ApiError(backend::Error::Unauthenticated).into_response();
    };
    let caller = match api_tokens::authenticate(&app.db, &bearer, now).await {
        Ok(c) => Arc::new(c),
        Err(e) => return ApiError(e).into_response(),
    };
    let limit = app.config.integrations.api_rate_per_minute;
    let window = rate_window(&caller, limit, now.timestamp());
    if window.remaining < 0 {
        let mut r = Problem::new(
            StatusCode::TOO_MANY_REQUESTS,
            "rate-limited",
            format!("This token may make {limit} requests a minute; wait {} s.", window.reset_secs),
        )
        .into_response();
        r.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(window.reset_secs));
        window.stamp(&mut r);
        return r;
    }
    let mutating = matches!(*req.method(), Method::POST | Method::PATCH | Method::PUT | Method::DELETE);
    // Who may touch what is settled before a byte of the body is read; the handlers check again.
    if let Err(e) = authorize(&state, &caller, req.uri().path(), mutating).await {
        let mut r = e.into_response();
        window.stamp(&mut r);
        return r;
    }
    req.extensions_mut().insert(caller.clone());
    let key = req.headers().get("idempotency-key").map(|v| v.to_str().ok().and_then(idempotency::parse_key));
    let mut response = match (mutating, key) {
        (true, Some(None)) => Problem::new(
            StatusCode::BAD_REQUEST,
            "idempotency-key",
            "The Idempotency-Key is malformed: send 1 to 255 printable ASCII characters, e.g. Idempotency-Key: \"8e03978e-40d5-43e8-bc93-6894a57f9324\".",
        )
        .into_response(),
        (true, Some(Some(key))) => idempotent(&state, &caller, &key, req, next).await,
        _ => next.run(req).await,
    };
    window.stamp(&mut response);
    response
}

/// The token's right to the path: the workspace of `/api/v1/workspaces/{slug}/…` must be its
/// (404 otherwise) and writable for a mutating call (403); the agency's endpoints need an
/// admin's agency write token (403).
async fn authorize(state: &HostState, caller: &TokenCaller, path: &str, mutating: bool) -> Result<(), ApiError> {
    if let Some(rest) = path.strip_prefix("/api/v1/workspaces/") {
        let slug = rest.split('/').next().unwrap_or_default();
        let (_, scope) = super::scope_of(state, caller, slug).await?;
        if mutating {
            scope.writable()?;
        }
    } else if path.starts_with("/api/v1/webhook-endpoints") {
        caller.agency_admin()?;
    }
    Ok(())
}

async fn idempotent(state: &HostState, caller: &TokenCaller, key: &str, req: Request, next: Next) -> Response {
    let app = &state.app;
    let (parts, body) = req.into_parts();
    // The largest body any v1 call takes (a personalization CSV), read once for the fingerprint.
    let limit = app.config.max_body_bytes.max(app.config.personalization.upload_max_bytes);
    let bytes = match to_bytes(body, limit).await {
        Ok(b) => b,
        Err(_) => return Problem::new(StatusCode::PAYLOAD_TOO_LARGE, "too-large", format!("The body is over {limit} bytes.")).into_response(),
    };
    let target = parts.uri.path_and_query().map_or_else(|| parts.uri.path().to_owned(), |p| p.as_str().to_owned());
    let fp = idempotency::fingerprint(parts.method.as_str(), &target, &bytes);
    let token_id = caller.token.id;
    let retention = app.config.integrations.idempotency_retention;
    let locked_until = match idempotency::claim(&app.db, token_id, key, &fp, retention, Utc::now()).await {
        Err(e) => return ApiError(e).into_response(),
        Ok(Claim::Mismatch) => {
            return Problem::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "idempotency-mismatch",
                "This Idempotency-Key was used for a different request (method, path or body); use a new key for a new request.",
            )
            .into_response()
        }
        Ok(Claim::InFlight) => {
            return Problem::new(StatusCode::CONFLICT, "idempotency-in-flight", "A request with this Idempotency-Key is still being worked; retry in a moment.")
                .into_response()
        }
        Ok(Claim::Replay(stored)) => return replay(stored),
        Ok(Claim::Mine { locked_until }) => locked_until,
    };
    let response = next.run(Request::from_parts(parts, Body::from(bytes))).await;
    let (mut parts, body) = response.into_parts();
    let Ok(bytes) = to_bytes(body, MAX_STORED).await else {
        let _ = idempotency::release(&app.db, token_id, key, locked_until).await;
        return Problem::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", "The response could not be stored for replays; retry with the same key.").into_response();
    };
    let stored = Stored {
        response_status: parts.status.as_u16() as i64,
        response_type: parts.headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).map(str::to_owned),
        response_body: Some(String::from_utf8_lossy(&bytes).into_owned()),
    };
    if let Err(e) = idempotency::finish(&app.db, token_id, key, locked_until, &stored).await {
        tracing::error!(error = %e, "could not store an idempotent response");
    }
    parts.headers.remove(header::CONTENT_LENGTH);
    Response::from_parts(parts, Body::from(bytes))
}

fn replay(stored: Stored) -> Response {
    let status = StatusCode::from_u16(stored.response_status as u16).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut r = (status, stored.response_body.unwrap_or_default()).into_response();
    if let Some(t) = stored.response_type.and_then(|t| HeaderValue::from_str(&t).ok()) {
        r.headers_mut().insert(header::CONTENT_TYPE, t);
    }
    r.headers_mut().insert("idempotent-replayed", HeaderValue::from_static("true"));
    r
}

/// A token's fixed one-minute window in this process.
struct Window {
    limit: u32,
    remaining: i64,
    reset_secs: u64,
}

impl Window {
    fn stamp(&self, r: &mut Response) {
        let h = r.headers_mut();
        h.insert("ratelimit-limit", HeaderValue::from(self.limit));
        h.insert("ratelimit-remaining", HeaderValue::from(self.remaining.max(0) as u64));
        h.insert("ratelimit-reset", HeaderValue::from(self.reset_secs));
    }
}

/// Counts a request against the token's window. Per process: with several hosts a token gets
/// the limit on each (docs/integrations-api.md says so).
fn rate_window(caller: &TokenCaller, limit: u32, now_secs: i64) -> Window {
    static WINDOWS: OnceLock<Mutex<HashMap<String, (i64, u32)>>> = OnceLock::new();
    let start = now_secs - now_secs.rem_euclid(60);
    // Keyed by the token's random prefix and id: unique across databases (tests run many).
    let key = format!("{}:{}", caller.token.prefix, caller.token.id);
    let mut map = WINDOWS.get_or_init(Default::default).lock().unwrap_or_else(|p| p.into_inner());
    if map.len() > 10_000 {
        map.retain(|_, (s, _)| *s == start);
    }
    let entry = map.entry(key).or_insert((start, 0));
    if entry.0 != start {
        *entry = (start, 0);
    }
    entry.1 = entry.1.saturating_add(1);
    Window { limit, remaining: limit as i64 - entry.1 as i64, reset_secs: (start + 60 - now_secs).max(1) as u64 }
}
