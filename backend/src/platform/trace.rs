//! W3C trace context (`traceparent`): the trace id of the request or job being worked, carried in
//! a task-local so that whatever it writes (events, jobs, deliveries) is stamped with it without
//! threading a parameter through every call. The host sets it per request; a job sets it from the
//! trace id it was queued with.

use std::future::Future;

use rand::RngCore;

tokio::task_local! {
    static TRACE_ID: String;
}

/// The current task's trace id, if it runs inside [`scope`].
pub fn current() -> Option<String> {
    TRACE_ID.try_with(Clone::clone).ok()
}

/// Runs `work` with `trace_id` as the current trace id.
pub async fn scope<F: Future>(trace_id: String, work: F) -> F::Output {
    TRACE_ID.scope(trace_id, work).await
}

/// `work` with the current trace id (if any), for a task spawned on behalf of this one
/// (task-locals do not cross `tokio::spawn`).
pub async fn carry<F: Future>(work: F) -> F::Output {
    match current() {
        Some(trace_id) => scope(trace_id, work).await,
        None => work.await,
    }
}

/// A new random trace id (32 lowercase hex digits, never all zeros).
pub fn new_trace_id() -> String {
    let mut bytes = [0u8; 16];
    rand::thread_rng().fill_bytes(&mut bytes);
    bytes[0] |= 1;
    hex::encode(bytes)
}

/// A new random span (parent) id: 16 hex digits.
pub fn new_span_id() -> String {
    let mut bytes = [0u8; 8];
    rand::thread_rng().fill_bytes(&mut bytes);
    bytes[0] |= 1;
    hex::encode(bytes)
}

/// The trace id of a `traceparent` header, when it is well-formed (version 00, or a later version
/// read as 00 as the spec asks); `None` means "start a new trace".
pub fn parse_traceparent(header: &str) -> Option<String> {
    let parts: Vec<&str> = header.trim().split('-').collect();
    if parts.len() < 4 {
        return None;
    }
    let (version, trace, parent, flags) = (parts[0], parts[1], parts[2], parts[3]);
    let hex_of = |s: &str, n: usize| s.len() == n && s.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
    if !hex_of(version, 2) || version == "ff" || (version == "00" && parts.len() != 4) {
        return None;
    }
    if !hex_of(trace, 32) || !hex_of(parent, 16) || !hex_of(flags, 2) {
        return None;
    }
    if trace.bytes().all(|b| b == b'0') || parent.bytes().all(|b| b == b'0') {
        return None;
    }
    Some(trace.to_owned())
}

/// A `traceparent` value for an outbound call in `trace_id` (sampled).
pub fn traceparent(trace_id: &str) -> String {
    format!("00-{trace_id}-{}-01", new_span_id())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn traceparent_is_read_as_the_spec_says() {
        let ok = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
        assert_eq!(parse_traceparent(ok).as_deref(), Some("4bf92f3577b34da6a3ce929d0e0e4736"));
        // Upper case, zeros, wrong lengths, version ff, extra fields on 00: refused.
        for bad in [
            "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",
            "00-00000000000000000000000000000000-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",
            "00-4bf92f3577b34da6a3ce929d0e0e473-00f067aa0ba902b7-01",
            "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra",
            "garbage",
        ] {
            assert_eq!(parse_traceparent(bad), None, "{bad}");
        }
        // A later version may carry more fields.
        assert!(parse_traceparent("01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-xyz").is_some());
        let made = traceparent(&new_trace_id());
        assert!(parse_traceparent(&made).is_some(), "{made}");
    }
}
