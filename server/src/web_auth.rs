//! Sign-in, sign-out and the theme preference as plain HTML form posts, so they work before the
//! WASM has loaded (and without it). Each answers with a 303 redirect.

use axum::{
    extract::{Extension, State},
    http::{header, HeaderMap, HeaderValue},
    response::{IntoResponse, Redirect, Response},
    Form,
};
use backend::{identity::auth, identity::auth::ClientInfo, identity::sessions::SessionUser};
use serde::Deserialize;

use crate::{
    session_layer::{cookie, no_store, session_cookie, SESSION_COOKIE},
    HostState,
};

/// The plain-form endpoints: home redirect, sign-in, sign-out, theme.
pub fn routes() -> crate::routes::HostRoutes {
    crate::routes::HostRoutes::new().get("/", home).post("/auth/login", login).post("/auth/logout", logout).post("/prefs/theme", toggle_theme)
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

fn home_of(user: &SessionUser) -> &'static str {
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

/// `/`: the caller's home, or the sign-in page.
pub async fn home(user: Option<Extension<SessionUser>>) -> Response {
    let mut res = match user {
        Some(Extension(u)) => Redirect::to(home_of(&u)).into_response(),
        None => Redirect::to("/login").into_response(),
    };
    no_store(&mut res);
    res
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
