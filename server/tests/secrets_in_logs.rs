//! Secrets stay out of error text and logs (issue 11, item 8). Alone in its own test binary:
//! tracing caches per call site, process-wide, whether anybody listens, so a log captured on one
//! test's thread can miss lines while other tests run in parallel without a subscriber.

mod common;

use std::{
    sync::{Arc, Mutex},
    time::Duration,
};

use backend::on_db;

/// Issue 11 (8): a Slack URL that can't be reached leaves an error that names no part of the
/// URL (its path is the secret), in the database as in the message text.
#[tokio::test]
async fn an_unreachable_slack_url_is_never_written_in_clear_into_the_error() {
    // Everything logged on this (single-threaded) test runtime, the test host included.
    let log = Arc::new(Mutex::new(Vec::<u8>::new()));
    let sink = log.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::DEBUG)
        .with_ansi(false)
        .with_writer(move || Capture(sink.clone()))
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);
    let srv = common::start().await;
    let db = &srv.state.db;
    let secrets = &srv.state.secrets;
    // Port 9 (discard) refuses the connection: reqwest's error would carry the whole URL.
    let url = "http://127.0.0.1:9/services/T0PLUGH/B0PLUGH/xoxPLUGHx";
    backend::notifications::set_workspace_url(db, secrets, srv.fx.ws_a, Some(url)).await.unwrap();
    backend::notifications::enqueue(db, Some(srv.fx.ws_a), "hello").await.unwrap();
    backend::notifications::send_due(db, secrets, &reqwest::Client::new(), Duration::ZERO).await.unwrap();
    let error: Option<String> = on_db!(db, |p| sqlx::query_scalar("SELECT last_error FROM slack_messages WHERE workspace_id = $1")
        .bind(srv.fx.ws_a)
        .fetch_one(p)
        .await)
    .unwrap();
    let error = error.expect("the failure is recorded");
    assert!(error.contains("could not reach Slack"), "{error}");
    assert!(!error.contains("PLUGH") && !error.contains("127.0.0.1:9"), "the URL leaked: {error}");

    // The failure was logged, without the URL. (The webhook token's redaction from request
    // spans is `telemetry::loggable_path`, unit-tested there.)
    let log = String::from_utf8_lossy(&log.lock().unwrap()).into_owned();
    assert!(log.contains("Slack message not posted"), "the failure was logged: {log}");
    assert!(!log.contains("PLUGH"), "a secret reached the log: {log}");
}

/// A `MakeWriter` target that appends to a shared buffer.
struct Capture(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Capture {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}
