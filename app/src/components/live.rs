//! A workspace's live event stream in the browser: the SSE endpoint of `server/src/portal.rs`,
//! through leptos-use's `use_event_source`, reconnecting for ever (the browser resends the last
//! event id, so nothing is missed across a restart).

#[cfg(feature = "hydrate")]
pub use leptos_use_event_source::ConnectionReadyState;

/// Each event as JSON (`kind`, `lead_id`, `actor_user_id`, `payload`…) and the connection's
/// state. `after`: the newest event the page was rendered with — events since are replayed.
#[cfg(feature = "hydrate")]
pub fn workspace_events(slug: &str, after: Option<i64>) -> (leptos::prelude::Signal<Option<serde_json::Value>>, leptos::prelude::Signal<ConnectionReadyState>) {
    use codee::string::FromToStringCodec;
    use leptos::prelude::*;
    use leptos_use_event_source::{use_event_source_with_options, ReconnectLimit, UseEventSourceOptions, UseEventSourceReturn};
    let mut url = format!("/client-portal/{}/events", super::guard::encode_component(slug));
    if let Some(after) = after {
        url.push_str(&format!("?after={after}"));
    }
    let UseEventSourceReturn { message, ready_state, .. } = use_event_source_with_options::<String, FromToStringCodec>(
        url.as_str(),
        UseEventSourceOptions::default().reconnect_limit(ReconnectLimit::Infinite).reconnect_interval(1000),
    );
    let event = Signal::derive(move || message.get().and_then(|m| serde_json::from_str(&m.data).ok()));
    (event, ready_state.into())
}
