//! Sign-in, sign-out, password reset and the theme preference as plain HTML form posts, so they
//! work before the WASM has loaded (and without it). Each answers with a 303 redirect.

use axum::{
    extract::{Extension, Query, State},
    http::{header, HeaderMap, HeaderValue},
    response::{IntoResponse, Redirect, Response},
    Form,
};
use backend::{
    identity::auth,
    identity::auth::ClientInfo,
    identity::reset::{self, LinkState},
    identity::sessions::SessionUser,
};
use serde::Deserialize;

use crate::{
    session_layer::{cookie, no_store, session_cookie, SESSION_COOKIE},
    HostState,
};

/// The plain-form endpoints: sign-in, sign-out, password reset, theme. (`/` is a page: the
/// public home; `session_layer` sends signed-in users on to their own home.)
pub fn routes() -> crate::routes::HostRoutes {
    crate::routes::HostRoutes::new()
        .post("/auth/login", login)
        .post("/auth/logout", logout)
        .post("/auth/forgot", forgot)
        .get("/auth/reset", open_reset_link)
        .post("/auth/reset", reset)
        .post("/prefs/theme", toggle_theme)
}

/// Only same-site paths may be redirect targets (no `//evil.com`, no `/\evil.com`).
pub fn safe_next(next: Option<&str>) -> Option<String> {
    let next = next?.trim();
    let ok = next.starts_with('/')
        && !next.starts_with("//")
        && !next.starts_with("/\\")
        && !next.chars().any(|c| c.is_control())
        && !next.starts_with("/auth/")
        && next.len() <= 2000;
    ok.then(|| next.to_owned())
}

pub fn home_of(user: &SessionUser) -> &'static str {
    if user.is_admin() {
        "/admin"
    } else {
        "/client-portal"
    }
}

#[derive(Deserialize)]
pub struct LoginForm {
    #[serde(default)]
    email: String,
    #[serde(default)]
    password: String,
    next: Option<String>,
}

pub async fn login(
    State(state): State<HostState>,
    Extension(client): Extension<ClientInfo>,
    headers: HeaderMap,
    Form(form): Form<LoginForm>,
) -> Response {
    let config = &state.app.config;
    let next = safe_next(form.next.as_deref());
    match auth::login(&state.app.db, &form.email, &form.password, &client, &config.sessions, &config.throttle).await {
        Ok((token, user)) => {
            // Session rotation: whatever session this browser had ends here.
            if let Some(old) = cookie(&headers, SESSION_COOKIE) {
                if let Err(e) = backend::identity::sessions::revoke(&state.app.db, old).await {
                    tracing::warn!(error = %e, "could not revoke the previous session");
                }
            }
            let to = next.unwrap_or_else(|| if user.role == backend::identity::users::Role::Admin { "/admin" } else { "/client-portal" }.into());
            let mut res = Redirect::to(&to).into_response();
            let max_age = config.sessions.absolute_timeout.num_seconds();
            res.headers_mut().append(header::SET_COOKIE, session_cookie(Some(&token), config.secure_cookies(), max_age));
            no_store(&mut res);
            res
        }
        Err(err) => {
            if let auth::LoginError::Internal(e) = &err {
                tracing::error!(error = %e, "sign-in failed");
            }
            let mut to = format!("/login?error={}", err.code());
            if let auth::LoginError::Throttled { retry_after_minutes } = err {
                to.push_str(&format!("&retry={retry_after_minutes}"));
            }
            if let Some(next) = next {
                to.push_str(&format!("&next={}", app::components::guard::encode_component(&next)));
            }
            // The email goes back so the form keeps it (the page puts it in the field, never in
            // its text); the password never does.
            let email = form.email.trim();
            if !email.is_empty() && email.len() <= 254 && !email.chars().any(char::is_control) {
                to.push_str(&format!("&email={}", app::components::guard::encode_component(email)));
            }
            let mut res = Redirect::to(&to).into_response();
            no_store(&mut res);
            res
        }
    }
}

pub async fn logout(
    State(state): State<HostState>,
    Extension(client): Extension<ClientInfo>,
    user: Option<Extension<SessionUser>>,
    headers: HeaderMap,
) -> Response {
    if let Some(token) = cookie(&headers, SESSION_COOKIE) {
        if let Err(e) = auth::logout(&state.app.db, token, user.as_ref().map(|u| &u.0), &client).await {
            tracing::error!(error = %e, "sign-out failed");
        }
    }
    let mut res = Redirect::to("/login?signed_out=1").into_response();
    res.headers_mut().append(header::SET_COOKIE, session_cookie(None, state.app.config.secure_cookies(), 0));
    // Ask the browser to drop anything it kept of our pages.
    res.headers_mut().insert("clear-site-data", HeaderValue::from_static("\"cache\""));
    no_store(&mut res);
    res
}

#[derive(Deserialize)]
pub struct ThemeForm {
    next: Option<String>,
}

/// Flips the theme cookie (the no-JS path of the theme toggle).
pub async fn toggle_theme(headers: HeaderMap, Form(form): Form<ThemeForm>) -> Response {
    let dark_now = cookie(&headers, app::components::theme::COOKIE) == Some("dark");
    let next = if dark_now { "light" } else { "dark" };
    let mut res = Redirect::to(&safe_next(form.next.as_deref()).unwrap_or_else(|| "/".into())).into_response();
    let value = format!("{}={next}; Path=/; Max-Age=31536000; SameSite=Lax", app::components::theme::COOKIE);
    res.headers_mut().append(header::SET_COOKIE, HeaderValue::from_str(&value).expect("ASCII cookie"));
    res
}

fn see_other(to: &str) -> Response {
    let mut res = Redirect::to(to).into_response();
    no_store(&mut res);
    res
}

#[derive(Deserialize)]
pub struct ForgotForm {
    #[serde(default)]
    email: String,
}

/// "Forgot password?": the same answer whether or not the address is an account; the link is
/// made and mailed in the background (`backend::runtime::password_reset`).
pub async fn forgot(State(state): State<HostState>, Extension(client): Extension<ClientInfo>, Form(form): Form<ForgotForm>) -> Response {
    match backend::runtime::password_reset::request_link(&state.app, &form.email, &client).await {
        Ok(()) => see_other("/forgot-password?sent=1"),
        Err(backend::Error::TooManyAttempts { retry_after_secs, .. }) => {
            see_other(&format!("/forgot-password?error=throttled&retry={}", retry_after_secs.div_ceil(60)))
        }
        Err(backend::Error::Invalid(_)) => see_other("/forgot-password?error=missing"),
        Err(e) => {
            tracing::error!(error = %e, "password-reset request failed");
            see_other("/forgot-password?error=internal")
        }
    }
}

#[derive(Deserialize)]
pub struct LinkQuery {
    #[serde(default)]
    token: String,
}

/// Where a mailed link lands: a usable link opens the form, any other the page that says why.
pub async fn open_reset_link(State(state): State<HostState>, Query(q): Query<LinkQuery>) -> Response {
    match reset::check(&state.app.db, &q.token, chrono::Utc::now()).await {
        Ok(LinkState::Valid) => see_other(&format!("/reset-password?token={}", app::components::guard::encode_component(&q.token))),
        Ok(other) => see_other(&format!("/reset-password?error={}", other.code())),
        Err(e) => {
            tracing::error!(error = %e, "password-reset link check failed");
            see_other("/reset-password?error=internal")
        }
    }
}

#[derive(Deserialize)]
pub struct ResetForm {
    #[serde(default)]
    token: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    confirm: String,
}

/// Sets the new password from a link; every session of the user ends (this browser's too, so
/// it signs in afresh).
pub async fn reset(State(state): State<HostState>, Extension(client): Extension<ClientInfo>, Form(form): Form<ResetForm>) -> Response {
    match reset::complete(&state.app.db, &form.token, &form.password, &form.confirm, &client, chrono::Utc::now()).await {
        Ok(_) => {
            let mut res = see_other("/login?reset=1");
            res.headers_mut().append(header::SET_COOKIE, session_cookie(None, state.app.config.secure_cookies(), 0));
            res
        }
        Err(reset::ResetError::Link(link)) => see_other(&format!("/reset-password?error={}", link.code())),
        Err(e) => {
            if let reset::ResetError::Internal(e) = &e {
                tracing::error!(error = %e, "password reset failed");
            }
            see_other(&format!("/reset-password?token={}&error={}", app::components::guard::encode_component(&form.token), e.code()))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::safe_next;

    #[test]
    fn redirect_targets_stay_on_site() {
        assert_eq!(safe_next(Some("/admin/users?q=a")), Some("/admin/users?q=a".into()));
        for bad in ["//evil.com", "/\\evil.com", "https://evil.com", "evil", "/auth/logout", "/a\nb"] {
            assert_eq!(safe_next(Some(bad)), None, "{bad:?}");
        }
        assert_eq!(safe_next(None), None);
    }
}
