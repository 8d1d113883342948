//! Slack notifications on a real database (both backends) against a local Slack fake that is as
//! strict as Slack's incoming webhooks: about one message per second per webhook (a second one
//! within 1 s is answered 429 with `Retry-After: 1`), plain-text bodies (`ok`, `invalid_payload`,
//! `no_text`, `no_service`). Issue 18: a burst is paced per hook by two senders sharing the
//! database, a 429 pauses only its hook and costs no attempt, a refusal fails at once, is listed
//! for the admin (by channel name, never its URL) and counted on the admin home, and a retry
//! delivers it once Slack takes it.

use std::{
    collections::{HashMap, HashSet},
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use axum::{
    extract::{Path, State},
    http::{HeaderMap, StatusCode},
    response::IntoResponse,
    routing::post,
    Router,
};
use backend::{
    identity::{
        auth::ClientInfo,
        sessions::SessionUser,
        users::{self, NewUser, Role},
    },
    notifications, on_db,
    platform::{db::Db, error::Error, testing::test_state},
    tenancy::workspaces::{self, WorkspaceInput},
};

/// One request the fake got: hook, when, its answer's status, the message text.
#[derive(Clone, Debug)]
struct Seen {
    hook: String,
    at: Instant,
    status: u16,
    text: String,
}

#[derive(Default)]
struct Fake {
    seen: Vec<Seen>,
    /// When each hook last accepted a message.
    last_ok: HashMap<String, Instant>,
    /// Hooks that answer 404 `no_service` (the app was removed from the workspace).
    gone: HashSet<String>,
}

type Shared = Arc<Mutex<Fake>>;

async fn hook(State(fake): State<Shared>, Path(hook): Path<String>, headers: HeaderMap, body: String) -> impl IntoResponse {
    let now = Instant::now();
    let mut f = fake.lock().unwrap();
    let json = headers.get("content-type").and_then(|v| v.to_str().ok()).is_some_and(|v| v.starts_with("application/json"));
    let value: Option<serde_json::Value> = if json { serde_json::from_str(&body).ok() } else { None };
    let text = value.as_ref().and_then(|v| v["text"].as_str()).unwrap_or("").to_owned();
    let (status, answer, retry_after) = if f.gone.contains(&hook) {
        (404, "no_service", None)
    } else if value.is_none() {
        (400, "invalid_payload", None)
    } else if text.is_empty() {
        (400, "no_text", None)
    } else if f.last_ok.get(&hook).is_some_and(|t| now.duration_since(*t) < Duration::from_secs(1)) {
        (429, "rate_limited", Some("1"))
    } else {
        f.last_ok.insert(hook.clone(), now);
        (200, "ok", None)
    };
    f.seen.push(Seen { hook, at: now, status, text });
    let mut h = HeaderMap::new();
    h.insert("content-type", "text/plain".parse().unwrap());
    if let Some(r) = retry_after {
        h.insert("retry-after", r.parse().unwrap());
    }
    (StatusCode::from_u16(status).unwrap(), h, answer)
}

async fn fake_slack() -> (String, Shared) {
    let fake: Shared = Default::default();
    let app = Router::new().route("/services/T1/{hook}", post(hook)).with_state(fake.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (format!("http://{addr}/services/T1"), fake)
}

async fn admin(db: &Db) -> SessionUser {
    let u = users::create(db, NewUser { email: "admin@agency.test".into(), display_name: "Ada".into(), role: Role::Admin, password: "password-123".into() })
        .await
        .unwrap();
    SessionUser { session_id: 0, user_id: u.id, email: u.email, display_name: u.display_name, role: Role::Admin }
}

/// (text, status, attempts) of every message, oldest first.
async fn messages(db: &Db) -> Vec<(String, String, i64)> {
    on_db!(db, |p| sqlx::query_as("SELECT text, status, attempts FROM slack_messages ORDER BY id").fetch_all(p).await).unwrap()
}

async fn pending(db: &Db) -> i64 {
    on_db!(db, |p| sqlx::query_scalar("SELECT COUNT(*) FROM slack_messages WHERE status = 'pending'").fetch_one(p).await).unwrap()
}

/// Runs two senders (two "processes" sharing the database) until nothing is pending.
async fn drain(state: &backend::AppState, limit: Duration) {
    let senders: Vec<_> = (0..2)
        .map(|_| tokio::spawn(notifications::run_sender(state.db.clone(), state.secrets.clone(), Duration::from_millis(100))))
        .collect();
    let start = Instant::now();
    while pending(&state.db).await > 0 && start.elapsed() < limit {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    for s in senders {
        s.abort();
    }
}

#[tokio::test]
async fn a_burst_is_paced_per_hook_429_pauses_only_its_hook_and_refusals_are_listed_and_retried() {
    let state = test_state().await;
    let db = &state.db;
    let secrets = &state.secrets;
    let admin = admin(db).await;
    let client = ClientInfo { ip: Some("127.0.0.1".into()), ..Default::default() };
    let acme = workspaces::create(db, WorkspaceInput::named("Acme")).await.unwrap().id;
    let beta = workspaces::create(db, WorkspaceInput::named("Beta")).await.unwrap().id;
    let (base, fake) = fake_slack().await;
    notifications::set_workspace_url(db, secrets, acme, Some(&format!("{base}/acme"))).await.unwrap();
    notifications::set_workspace_url(db, secrets, beta, Some(&format!("{base}/beta"))).await.unwrap();
    notifications::set_agency_url(db, secrets, Some(&format!("{base}/agency"))).await.unwrap();
    fake.lock().unwrap().gone.insert("beta".into());

    for i in 1..=5 {
        notifications::enqueue(db, Some(acme), &format!("acme {i}")).await.unwrap();
    }
    notifications::enqueue(db, None, "agency 1").await.unwrap();
    notifications::enqueue(db, None, "agency 2").await.unwrap();
    notifications::enqueue(db, Some(beta), "beta 1").await.unwrap();
    // Someone else just posted to Acme's webhook: Maverick's first post there gets a 429.
    fake.lock().unwrap().last_ok.insert("acme".into(), Instant::now());

    let started = Instant::now();
    drain(&state, Duration::from_secs(15)).await;
    let took = started.elapsed();

    let all = messages(db).await;
    let delivered: Vec<_> = all.iter().filter(|(t, _, _)| !t.starts_with("beta")).cloned().collect();
    assert_eq!(delivered.len(), 7);
    for (text, status, attempts) in &delivered {
        assert_eq!((status.as_str(), *attempts), ("sent", 1), "{text}: delivered at the first attempt (a 429 is not one)");
    }
    let seen = fake.lock().unwrap().seen.clone();
    let of = |h: &str, status: u16| seen.iter().filter(|s| s.hook == h && s.status == status).cloned().collect::<Vec<_>>();
    assert_eq!(of("acme", 429).len(), 1, "only the provoked 429: Maverick never posts faster than 1/s per hook: {seen:?}");
    assert!(of("agency", 429).is_empty(), "{seen:?}");
    for h in ["acme", "agency"] {
        let ok = of(h, 200);
        let texts: Vec<_> = ok.iter().map(|s| s.text.clone()).collect();
        let want: Vec<_> = (1..=if h == "acme" { 5 } else { 2 }).map(|i| format!("{h} {i}")).collect();
        assert_eq!(texts, want, "each once, oldest first");
        for pair in ok.windows(2) {
            assert!(pair[1].at.duration_since(pair[0].at) >= Duration::from_secs(1), "{h}: two posts within a second: {seen:?}");
        }
    }
    // The 429 paused Acme for a second from its answer, then 4 more seconds of pacing.
    let acme_ok = of("acme", 200);
    let the_429 = of("acme", 429)[0].at;
    assert!(acme_ok[0].at.duration_since(the_429) >= Duration::from_secs(1), "Retry-After honoured");
    assert!(took >= Duration::from_secs(5) && took < Duration::from_secs(9), "5 paced posts after a 1 s pause took {took:?}");
    // Acme's pause held up nobody else: the agency's first message went out while Acme waited.
    assert!(of("agency", 200)[0].at < the_429 + Duration::from_millis(500), "{seen:?}");

    // The refusal failed at once (one request), is listed by channel name, never by URL.
    assert_eq!(of("beta", 404).len(), 1);
    assert!(all.contains(&("beta 1".into(), "failed".into(), 1)), "{all:?}");
    let failed = notifications::failed_messages(db, &admin, 50).await.unwrap();
    assert_eq!(failed.len(), 1);
    let f = &failed[0];
    assert_eq!((f.workspace_id, f.workspace_name.as_deref(), f.text.as_str(), f.attempts), (Some(beta), Some("Beta"), "beta 1", 1));
    let error = f.error.clone().unwrap();
    assert!(error.contains("404") && error.contains("no_service"), "{error}");
    assert!(!error.contains(&base) && !error.contains("/beta"), "no webhook URL in the error: {error}");
    assert!(f.failed_at.is_some());
    assert_eq!(notifications::failed_count(db).await.unwrap(), 1);
    assert_eq!(backend::reporting::dashboards::alerts(db, &admin, &[]).await.unwrap().failed_slack_messages, 1, "the admin home counts it");

    // Only an admin retries; a retry of what is not failed is not found.
    let viewer = SessionUser { role: Role::Client, ..admin.clone() };
    assert!(matches!(notifications::retry_message(db, &viewer, f.id, &client).await, Err(Error::Forbidden)));
    assert!(matches!(notifications::failed_messages(db, &viewer, 50).await, Err(Error::Forbidden)));
    let sent_id: i64 = on_db!(db, |p| sqlx::query_scalar("SELECT MIN(id) FROM slack_messages WHERE status = 'sent'").fetch_one(p).await).unwrap();
    assert!(matches!(notifications::retry_message(db, &admin, sent_id, &client).await, Err(Error::NotFound)));

    // The channel is fixed; the retry re-queues it (audited) and it is delivered.
    fake.lock().unwrap().gone.clear();
    notifications::retry_message(db, &admin, f.id, &client).await.unwrap();
    let audited: i64 = on_db!(db, |p| sqlx::query_scalar("SELECT COUNT(*) FROM audit_log WHERE action = 'slack.message_retried' AND target = $1")
        .bind(format!("slack_message:{}", f.id))
        .fetch_one(p)
        .await)
    .unwrap();
    assert_eq!(audited, 1);
    assert_eq!(pending(db).await, 1);
    drain(&state, Duration::from_secs(5)).await;
    assert!(messages(db).await.contains(&("beta 1".into(), "sent".into(), 1)));
    assert_eq!(of_hook(&fake, "beta", 200), 1);
    assert!(notifications::failed_messages(db, &admin, 50).await.unwrap().is_empty());
    assert_eq!(notifications::failed_count(db).await.unwrap(), 0);
}

fn of_hook(fake: &Shared, h: &str, status: u16) -> usize {
    fake.lock().unwrap().seen.iter().filter(|s| s.hook == h && s.status == status).count()
}

/// 5xx and unreachable are retried with backoff and given up after `MAX_ATTEMPTS` with the last
/// reason, while the hook's later messages wait their turn (order is kept); then they go.
#[tokio::test]
async fn server_errors_use_attempts_keep_the_order_and_are_given_up_with_the_reason() {
    let state = test_state().await;
    let db = &state.db;
    let secrets = &state.secrets;
    let acme = workspaces::create(db, WorkspaceInput::named("Acme")).await.unwrap().id;
    // Nothing listens on this port: every post is "could not reach Slack".
    let closed = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let dead = format!("http://{}/services/T1/acme", closed.local_addr().unwrap());
    drop(closed);
    notifications::set_workspace_url(db, secrets, acme, Some(&dead)).await.unwrap();
    notifications::enqueue(db, Some(acme), "first").await.unwrap();
    notifications::enqueue(db, Some(acme), "second").await.unwrap();
    let http = reqwest::Client::new();
    let mut passes = 0;
    while messages(db).await[0].1 == "pending" && passes < 40 {
        notifications::send_due(db, secrets, &http, Duration::ZERO).await.unwrap();
        // The hook waits a second after each answer; move its turn to now instead of sleeping.
        on_db!(db, |p| sqlx::query("UPDATE slack_hooks SET next_post_at = $1").bind(chrono::Utc::now()).execute(p).await.map(|_| ())).unwrap();
        passes += 1;
        let all = messages(db).await;
        assert_eq!((all[1].1.as_str(), all[1].2), ("pending", 0), "the second waits behind the first");
    }
    let all = messages(db).await;
    assert_eq!((all[0].1.as_str(), all[0].2), ("failed", notifications::MAX_ATTEMPTS));
    assert_eq!(passes, notifications::MAX_ATTEMPTS);
    let error: String = on_db!(db, |p| sqlx::query_scalar("SELECT last_error FROM slack_messages WHERE text = 'first'").fetch_one(p).await).unwrap();
    assert!(error.starts_with("gave up after 6 attempts: could not reach Slack"), "{error}");
    assert!(!error.contains("127.0.0.1"), "no webhook URL in the error: {error}");
    notifications::send_due(db, secrets, &http, Duration::ZERO).await.unwrap();
    assert_eq!(messages(db).await[1].2, 1, "then the second gets its turn");
}
