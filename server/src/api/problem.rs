//! Errors of REST v1 as `application/problem+json` (RFC 9457), each with the request id. The
//! request's id and path are kept in a task-local by the API middleware, so any handler's error
//! carries them without being passed around.

use axum::{
    extract::{
        rejection::{JsonRejection, PathRejection, QueryRejection},
        FromRequest, FromRequestParts,
    },
    http::{header, HeaderValue, StatusCode},
    response::{IntoResponse, Response},
};
use serde::Serialize;
use utoipa::ToSchema;

tokio::task_local! {
    /// (request id, path) of the API request being answered.
    pub static REQUEST: (String, String);
}

/// An RFC 9457 problem.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct Problem {
    /// A URI naming the kind of problem (its documentation).
    #[serde(rename = "type")]
    pub kind: String,
    pub title: String,
    pub status: u16,
    /// What went wrong and what to do about it.
    pub detail: String,
    /// The request's path.
    pub instance: String,
    /// Quote it when asking for help: the server log has the details under it.
    pub request_id: String,
}

impl Problem {
    pub fn new(status: StatusCode, slug: &str, detail: impl Into<String>) -> Problem {
        let (request_id, instance) = REQUEST.try_with(Clone::clone).unwrap_or_default();
        Problem {
            kind: format!("/api/docs#problem-{slug}"),
            title: status.canonical_reason().unwrap_or("Error").to_owned(),
            status: status.as_u16(),
            detail: detail.into(),
            instance,
            request_id,
        }
    }
}

impl IntoResponse for Problem {
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let body = serde_json::to_vec(&self).unwrap_or_default();
        let mut r = (status, body).into_response();
        r.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/problem+json"));
        r
    }
}

/// A handler's error: the core's error, shown as a problem (5xx details only in the log).
#[derive(Debug)]
pub struct ApiError(pub backend::Error);

impl From<backend::Error> for ApiError {
    fn from(e: backend::Error) -> Self {
        ApiError(e)
    }
}

impl From<JsonRejection> for ApiError {
    fn from(e: JsonRejection) -> Self {
        ApiError(backend::Error::invalid(format!("The body is not the JSON this call takes: {}", e.body_text())))
    }
}

impl From<PathRejection> for ApiError {
    fn from(e: PathRejection) -> Self {
        ApiError(backend::Error::invalid(format!("The path is not valid: {}", e.body_text())))
    }
}

impl From<QueryRejection> for ApiError {
    fn from(e: QueryRejection) -> Self {
        ApiError(backend::Error::invalid(format!("The query string is not valid: {}", e.body_text())))
    }
}

/// `Json`, `Path` and `Query` whose refusals are problems (axum's are plain text).
#[derive(FromRequest)]
#[from_request(via(axum::Json), rejection(ApiError))]
pub struct ApiJson<T>(pub T);

#[derive(FromRequestParts)]
#[from_request(via(axum::extract::Path), rejection(ApiError))]
pub struct ApiPath<T>(pub T);

#[derive(FromRequestParts)]
#[from_request(via(axum::extract::Query), rejection(ApiError))]
pub struct ApiQuery<T>(pub T);

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        use backend::Error as E;
        let e = self.0;
        let (status, slug) = match &e {
            E::Invalid(_) => (StatusCode::BAD_REQUEST, "invalid"),
            E::Unauthenticated => (StatusCode::UNAUTHORIZED, "unauthenticated"),
            E::Forbidden => (StatusCode::FORBIDDEN, "forbidden"),
            E::NotFound => (StatusCode::NOT_FOUND, "not-found"),
            E::Conflict(_) => (StatusCode::CONFLICT, "conflict"),
            E::TooManyAttempts { .. } => (StatusCode::TOO_MANY_REQUESTS, "rate-limited"),
            _ => (StatusCode::INTERNAL_SERVER_ERROR, "internal"),
        };
        let detail = if e.is_user_facing() {
            match &e {
                E::Unauthenticated => "Send a valid API token: `Authorization: Bearer mvk_…` (tokens are made on the Integrations page).".to_owned(),
                E::Forbidden => "This token may not do that (a read token, or not an admin's agency token).".to_owned(),
                other => other.to_string(),
            }
        } else {
            tracing::error!(error = %e, "API request failed");
            "Something went wrong on our side. Please try again; quote the request id if it keeps happening.".to_owned()
        };
        let mut r = Problem::new(status, slug, detail).into_response();
        if let E::TooManyAttempts { retry_after_secs, .. } = e {
            r.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(retry_after_secs));
        }
        if status == StatusCode::UNAUTHORIZED {
            r.headers_mut().insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        r
    }
}

pub type ApiResult<T> = Result<T, ApiError>;
