//! Logs: `tracing` to stderr (stdout is for what commands print), human-readable by default, JSON with `MAVERICK_LOG_FORMAT=json`
//! (or `--log-json`). Every request gets an `x-request-id` (kept if the caller sent one) that is
//! on each of its log lines and in its response.

use axum::{
    body::Body,
    extract::MatchedPath,
    http::{HeaderValue, Request},
    middleware::Next,
    response::Response,
};
use tower_http::{
    request_id::{MakeRequestId, RequestId},
    trace::MakeSpan,
};
use tracing_subscriber::{fmt, prelude::*, EnvFilter};

pub fn init(json: bool) {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn,tower_http=info"))
        // chromiumoxide traces every DevTools message it sends, and the browser automations type
        // site passwords through one (Input.insertText): never, whatever RUST_LOG says.
        .add_directive("chromiumoxide::conn=off".parse().expect("static directive"));
    let registry = tracing_subscriber::registry().with(filter);
    let result = if json {
        registry.with(fmt::layer().json().with_current_span(true).with_span_list(false).with_writer(std::io::stderr)).try_init()
    } else {
        registry.with(fmt::layer().compact().with_writer(std::io::stderr)).try_init()
    };
    // A second init (tests) is harmless.
    let _ = result;
}

/// Request ids: a UUID v4 for requests that came without one.
#[derive(Clone, Default)]
pub struct MakeUuid;

impl MakeRequestId for MakeUuid {
    fn make_request_id<B>(&mut self, _: &Request<B>) -> Option<RequestId> {
        uuid::Uuid::new_v4().to_string().parse().ok().map(RequestId::new)
    }
}

/// The span every request's log lines sit in.
#[derive(Clone, Default)]
pub struct RequestSpan;

impl<B> MakeSpan<B> for RequestSpan {
    fn make_span(&mut self, req: &Request<B>) -> tracing::Span {
        let id = req.headers().get("x-request-id").and_then(|v| v.to_str().ok()).unwrap_or("-");
        let trace = req.headers().get("traceparent").and_then(|v| v.to_str().ok()).and_then(backend::platform::trace::parse_traceparent);
        let trace = trace.as_deref().unwrap_or("-");
        tracing::info_span!("request", request_id = %id, trace_id = %trace, method = %req.method(), path = %loggable_path(req.uri().path()))
    }
}

/// W3C trace context: the caller's `traceparent` is kept (a malformed one is replaced), or one is
/// made; the request then runs with its trace id current, so the events and jobs it causes carry
/// it (`backend::platform::trace`), and the answer says it in `traceresponse`.
pub async fn trace_context(mut req: Request<Body>, next: Next) -> Response {
    use backend::platform::trace;
    let given = req.headers().get("traceparent").and_then(|v| v.to_str().ok()).and_then(trace::parse_traceparent);
    let trace_id = match given {
        Some(t) => t,
        None => {
            let t = trace::new_trace_id();
            if let Ok(v) = HeaderValue::from_str(&trace::traceparent(&t)) {
                req.headers_mut().insert("traceparent", v);
            }
            t
        }
    };
    let mut response = trace::scope(trace_id.clone(), next.run(req)).await;
    if let Ok(v) = HeaderValue::from_str(&trace::traceparent(&trace_id)) {
        response.headers_mut().insert("traceresponse", v);
    }
    response
}

/// Counts each answered request by method, route template and status (`/metrics`).
pub async fn count_request(req: Request<Body>, next: Next) -> Response {
    let started = std::time::Instant::now();
    let method = req.method().as_str().to_owned();
    let route = req.extensions().get::<MatchedPath>().map_or_else(|| "other".to_owned(), |p| p.as_str().to_owned());
    let response = next.run(req).await;
    backend::platform::prometheus::http_request(&method, &route, response.status().as_u16(), started.elapsed().as_secs_f64());
    response
}

/// The path as logged: a machine endpoint's secret (the token of `/webhooks/bison/{token}`) is
/// replaced, so the log never holds a credential.
pub fn loggable_path(path: &str) -> std::borrow::Cow<'_, str> {
    match path.strip_prefix("/webhooks/").and_then(|rest| rest.split_once('/')) {
        Some((source, _secret)) => format!("/webhooks/{source}/[redacted]").into(),
        None => path.into(),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn webhook_tokens_never_reach_the_log() {
        assert_eq!(super::loggable_path("/webhooks/bison/s3cr3t-token"), "/webhooks/bison/[redacted]");
        assert_eq!(super::loggable_path("/webhooks/bison/a/b"), "/webhooks/bison/[redacted]");
        assert_eq!(super::loggable_path("/admin/users"), "/admin/users");
    }
}
