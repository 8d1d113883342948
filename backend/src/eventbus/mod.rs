//! The event bus for outside tools: the public event catalog (`platform::event_catalog`) read
//! from the event log, delivered to webhook endpoints as signed Standard Webhooks messages, and
//! polled through REST v1. `endpoints` holds who receives what, `dispatch` the way from the log
//! to receivers (exactly once per endpoint and event), `log` the delivery log with replay,
//! `guard` the SSRF guard and `signing` the signatures.

pub mod dispatch;
pub mod endpoints;
pub mod guard;
pub mod log;
pub mod signing;

/// A Standard Webhooks message id: `msg_` and 128 random bits, the same on every attempt.
pub fn new_message_id() -> String {
    format!("msg_{}", uuid::Uuid::new_v4().simple())
}
