//! Per-request middleware: who is calling (session cookie → `SessionUser` in the request
//! extensions), where from (`ClientInfo`), the visitor redirect for protected pages, no-store
//! caching of private responses, and the refusal of cross-origin mutating requests.

use std::net::SocketAddr;

use axum::{
    extract::{ConnectInfo, FromRequestParts, Request, State},
    http::{header, request::Parts, HeaderMap, HeaderValue, Method, StatusCode},
    middleware::Next,
    response::{IntoResponse, Redirect, Response},
};
use backend::{identity::auth::ClientInfo, identity::sessions, identity::sessions::SessionUser};

use crate::HostState;

pub const SESSION_COOKIE: &str = "maverick_session";

/// Pages only signed-in users may load; visitors are sent to /login?next=….
const PROTECTED_PREFIXES: &[&str] = &["/admin", "/client-portal", "/account", "/personalization"];

/// The signed-in caller of a host route. Without a session the request is answered 401 "Please
/// sign in." — never the 500 axum gives for a missing request extension.
pub struct Caller(pub SessionUser);

impl<S: Send + Sync> FromRequestParts<S> for Caller {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        parts.extensions.get::<SessionUser>().cloned().map(Caller).ok_or_else(|| {
            let mut res = (StatusCode::UNAUTHORIZED, "Please sign in.").into_response();
            no_store(&mut res);
            res
        })
    }
}

pub fn is_protected_page(path: &str) -> bool {
    PROTECTED_PREFIXES.iter().any(|p| path == *p || path.starts_with(&format!("{p}/")) || path.starts_with(&format!("{p}.")))
}

/// The value of one cookie from the request headers.
pub fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
        .filter(|v| !v.is_empty())
}

/// `Set-Cookie` for the session token (or, with `None`, its removal).
pub fn session_cookie(token: Option<&str>, secure: bool, max_age_secs: i64) -> HeaderValue {
    let secure = if secure { "; Secure" } else { "" };
    let value = match token {
        Some(t) => format!("{SESSION_COOKIE}={t}; Path=/; HttpOnly; SameSite=Lax; Max-Age={max_age_secs}{secure}"),
        None => format!("{SESSION_COOKIE}=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0{secure}"),
    };
    HeaderValue::from_str(&value).expect("cookie header is ASCII")
}

/// The client address our own proxy saw: the right-most `X-Forwarded-For` entry is the one the
/// proxy appended; everything left of it was written by the client and can be forged.
fn forwarded_client(headers: &HeaderMap) -> Option<String> {
    let last = headers.get_all("x-forwarded-for").iter().filter_map(|v| v.to_str().ok()).last()?;
    let ip = last.rsplit(',').next()?.trim();
    ip.parse::<std::net::IpAddr>().ok().map(|ip| ip.to_string())
}

fn client_info(req: &Request, trust_proxy: bool) -> ClientInfo {
    let forwarded = if trust_proxy { forwarded_client(req.headers()) } else { None };
    let peer = req.extensions().get::<ConnectInfo<SocketAddr>>().map(|c| c.0.ip().to_string());
    ClientInfo {
        ip: forwarded.or(peer),
        user_agent: req.headers().get(header::USER_AGENT).and_then(|v| v.to_str().ok()).map(str::to_owned),
    }
}

/// Paths that receive machine deliveries and authenticate by their own secret (not cookies).
const ORIGIN_EXEMPT_PREFIXES: &[&str] = &["/webhooks/"];

/// Refuses POST/PUT/PATCH/DELETE sent by a page of another origin (CSRF), on top of SameSite=Lax.
pub async fn origin_guard(State(state): State<HostState>, req: Request, next: Next) -> Response {
    let safe = matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS);
    let exempt = ORIGIN_EXEMPT_PREFIXES.iter().any(|p| req.uri().path().starts_with(p));
    if !safe && !exempt && !same_origin(req.headers(), state.app.config.public_url.as_deref()) {
        tracing::warn!(path = %req.uri().path(), origin = ?req.headers().get(header::ORIGIN), "refused cross-origin request");
        return (StatusCode::FORBIDDEN, "Cross-origin request refused: submit the form from Maverick itself.").into_response();
    }
    next.run(req).await
}

fn same_origin(headers: &HeaderMap, public_url: Option<&str>) -> bool {
    let origin = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok());
    let Some(origin) = origin else {
        // No Origin: not a browser form or fetch from another site (those always send one),
        // unless the browser says so explicitly.
        return headers.get("sec-fetch-site").and_then(|v| v.to_str().ok()) != Some("cross-site");
    };
    if origin == "null" {
        return false;
    }
    if public_url.is_some_and(|p| p.eq_ignore_ascii_case(origin)) {
        return true;
    }
    let host = headers.get(header::HOST).and_then(|v| v.to_str().ok()).unwrap_or_default();
    let origin_host = origin.split_once("://").map(|(_, h)| h).unwrap_or_default();
    !host.is_empty() && origin_host.eq_ignore_ascii_case(host)
}

/// Resolves the session and applies the page rules.
pub async fn session_layer(State(state): State<HostState>, mut req: Request, next: Next) -> Response {
    let config = &state.app.config;
    let client = client_info(&req, config.trust_proxy);
    req.extensions_mut().insert(client);

    let token = cookie(req.headers(), SESSION_COOKIE).map(str::to_owned);
    let mut user: Option<SessionUser> = None;
    if let Some(token) = &token {
        match sessions::resolve(&state.app.db, token, &config.sessions, chrono::Utc::now()).await {
            Ok(found) => user = found,
            Err(e) => {
                tracing::error!(error = %e, "session lookup failed");
                return (StatusCode::SERVICE_UNAVAILABLE, "The database is unavailable; try again in a moment.")
                    .into_response();
            }
        }
    }
    let stale_cookie = token.is_some() && user.is_none();
    let path = req.uri().path().to_owned();
    let is_page_get = req.method() == Method::GET;

    if is_page_get && user.is_none() && is_protected_page(&path) {
        let next_url = match req.uri().query() {
            Some(q) => format!("{path}?{q}"),
            None => path.clone(),
        };
        let mut to = format!("/login?next={}", app::components::guard::encode_component(&next_url));
        if stale_cookie {
            to.push_str("&error=expired");
        }
        let mut res = Redirect::to(&to).into_response();
        no_store(&mut res);
        if stale_cookie {
            res.headers_mut().append(header::SET_COOKIE, session_cookie(None, config.secure_cookies(), 0));
        }
        return res;
    }
    // Signed-in users skip the sign-in page and the public home: straight to their own home.
    if is_page_get && (path == "/login" || path == "/") {
        if let Some(u) = &user {
            let mut res = Redirect::to(crate::web_auth::home_of(u)).into_response();
            no_store(&mut res);
            return res;
        }
    }

    let private = user.is_some() || is_protected_page(&path) || path.starts_with("/api/");
    if let Some(u) = user {
        req.extensions_mut().insert(u);
    }
    let mut res = next.run(req).await;
    if private {
        no_store(&mut res);
    }
    if stale_cookie {
        res.headers_mut().append(header::SET_COOKIE, session_cookie(None, config.secure_cookies(), 0));
    }
    res
}

/// Private pages must not be kept by the browser or a proxy: after sign-out, Back shows nothing.
pub fn no_store(res: &mut Response) {
    res.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store, private"));
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(*k, HeaderValue::from_static(v));
        }
        h
    }

    #[test]
    fn origin_rules() {
        assert!(same_origin(&headers(&[("host", "127.0.0.1:3000"), ("origin", "http://127.0.0.1:3000")]), None));
        assert!(!same_origin(&headers(&[("host", "127.0.0.1:3000"), ("origin", "http://evil.example")]), None));
        assert!(!same_origin(&headers(&[("host", "127.0.0.1:3000"), ("origin", "null")]), None));
        assert!(same_origin(&headers(&[("host", "internal:8080"), ("origin", "https://ops.agency.com")]), Some("https://ops.agency.com")));
        assert!(same_origin(&headers(&[("host", "127.0.0.1:3000")]), None), "curl and scripts send no Origin");
        assert!(!same_origin(&headers(&[("host", "127.0.0.1:3000"), ("sec-fetch-site", "cross-site")]), None));
    }

    #[test]
    fn the_client_address_is_the_one_our_proxy_appended() {
        // The client wrote "1.2.3.4"; the proxy appended the address it saw.
        assert_eq!(forwarded_client(&headers(&[("x-forwarded-for", "1.2.3.4, 203.0.113.9")])).as_deref(), Some("203.0.113.9"));
        assert_eq!(forwarded_client(&headers(&[("x-forwarded-for", "203.0.113.9")])).as_deref(), Some("203.0.113.9"));
        assert_eq!(forwarded_client(&headers(&[("x-forwarded-for", "1.2.3.4, not-an-ip")])), None, "garbage is not an address");
        let mut two = HeaderMap::new();
        two.append("x-forwarded-for", HeaderValue::from_static("1.2.3.4"));
        two.append("x-forwarded-for", HeaderValue::from_static("198.51.100.2"));
        assert_eq!(forwarded_client(&two).as_deref(), Some("198.51.100.2"), "the last header line is the proxy's");
        assert_eq!(forwarded_client(&HeaderMap::new()), None);
    }

    #[test]
    fn protected_pages() {
        for p in ["/admin", "/admin/users", "/client-portal", "/client-portal/acme", "/account/password", "/admin/users.csv", "/personalization", "/personalization/3"] {
            assert!(is_protected_page(p), "{p}");
        }
        for p in ["/", "/login", "/administrator", "/pkg/maverick.js", "/api/me"] {
            assert!(!is_protected_page(p), "{p}");
        }
    }

    #[test]
    fn cookies_parse() {
        let h = headers(&[("cookie", "a=1; maverick_session=tok; b=2")]);
        assert_eq!(cookie(&h, SESSION_COOKIE), Some("tok"));
        assert_eq!(cookie(&h, "c"), None);
        let v = session_cookie(Some("t"), true, 60);
        let v = v.to_str().unwrap();
        assert!(v.contains("HttpOnly") && v.contains("SameSite=Lax") && v.contains("Secure") && v.contains("Max-Age=60"));
    }
}
