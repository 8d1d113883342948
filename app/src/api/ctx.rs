//! Request context for server functions and SSR: the shared state, the caller (resolved from the
//! session cookie by the host's middleware), and the response status.

use backend::{identity::auth::ClientInfo, identity::sessions::SessionUser, AppState, Error};
use http::{request::Parts, StatusCode};
use leptos::prelude::*;

pub fn state() -> Result<AppState, Error> {
    use_context::<AppState>().ok_or_else(|| Error::Internal("AppState is missing from the context".into()))
}

/// The signed-in caller, or `Unauthenticated`.
pub fn caller() -> Result<SessionUser, Error> {
    use_context::<Parts>().and_then(|p| p.extensions.get::<SessionUser>().cloned()).ok_or(Error::Unauthenticated)
}

/// The state and the caller, for admin-only server functions; `Forbidden` for everybody else.
pub fn admin() -> Result<(AppState, SessionUser), Error> {
    let (state, caller) = (state()?, caller()?);
    backend::tenancy::access::require_admin(&caller)?;
    Ok((state, caller))
}

pub fn client_info() -> ClientInfo {
    use_context::<Parts>().and_then(|p| p.extensions.get::<ClientInfo>().cloned()).unwrap_or_default()
}

pub fn request_id() -> Option<String> {
    use_context::<Parts>()
        .and_then(|p| p.headers.get("x-request-id").and_then(|v| v.to_str().ok()).map(str::to_owned))
}

pub fn set_status(status: StatusCode) {
    if let Some(res) = use_context::<leptos_axum::ResponseOptions>() {
        res.set_status(status);
    }
}

/// Formats a UTC time for the wire (RFC 3339).
pub fn ts(t: chrono::DateTime<chrono::Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}
