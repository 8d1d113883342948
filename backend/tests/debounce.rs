//! DeBounce verification against a local fake of its API (string values, `success:"0"` on 200,
//! 402, 429 past 5 concurrent calls, a credit balance spent one per answer and reported as a
//! string in each, `GET /v1/balance/`), on a real database.

use std::{
    collections::HashMap,
    sync::{
        atomic::{AtomicI64, AtomicUsize, Ordering},
        Arc, Mutex,
    },
    time::Duration,
};

use axum::{extract::{Query, State}, http::StatusCode, response::IntoResponse, routing::get, Json, Router};
use backend::{
    connectors::debounce::{DebounceClient, DebounceError, Verdict},
    contacts::verification,
    identity::{
        sessions::SessionUser,
        users::{self, NewUser, Role},
    },
    on_db,
    platform::testing::test_state,
    tenancy::{
        access,
        workspaces::{self, WorkspaceInput},
    },
    AppState,
};
use serde_json::json;

struct Fake {
    in_flight: AtomicUsize,
    max_in_flight: AtomicUsize,
    calls: Mutex<HashMap<String, usize>>,
    /// Credits left on key-1: each answered address costs one; at 0 DeBounce answers 402.
    balance: AtomicI64,
    balance_reads: AtomicUsize,
}

/// `GET /v1/balance/?api=K` → `{"balance":"42"}` (a string, like every DeBounce value).
async fn balance(State(f): State<Arc<Fake>>, Query(q): Query<HashMap<String, String>>) -> axum::response::Response {
    if q.get("api").map(String::as_str) != Some("key-1") {
        return (StatusCode::UNAUTHORIZED, Json(json!({"debounce": {"error": "Wrong API", "code": "0"}, "success": "0"}))).into_response();
    }
    f.balance_reads.fetch_add(1, Ordering::SeqCst);
    Json(json!({"balance": f.balance.load(Ordering::SeqCst).to_string()})).into_response()
}

async fn verify(State(f): State<Arc<Fake>>, Query(q): Query<HashMap<String, String>>) -> axum::response::Response {
    let now = f.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
    f.max_in_flight.fetch_max(now, Ordering::SeqCst);
    tokio::time::sleep(Duration::from_millis(30)).await;
    f.in_flight.fetch_sub(1, Ordering::SeqCst);
    if now > 5 {
        return (StatusCode::TOO_MANY_REQUESTS, Json(json!({"debounce": {"error": "Maximum concurrent calls reached", "code": "0"}, "success": "0"}))).into_response();
    }
    if q.get("api").map(String::as_str) != Some("key-1") {
        return (StatusCode::UNAUTHORIZED, Json(json!({"debounce": {"error": "Wrong API", "code": "0"}, "success": "0"}))).into_response();
    }
    let email = q.get("email").cloned().unwrap_or_default();
    let n = {
        let mut calls = f.calls.lock().unwrap();
        let c = calls.entry(email.clone()).or_default();
        *c += 1;
        *c
    };
    let user = email.split('@').next().unwrap_or("");
    let code = match user {
        u if u.starts_with("safe") => "5",
        "risky" => "4",
        "role" => "8",
        "bounce" => "6",
        "unknown" => "7",
        "busy" if n == 1 => return Json(json!({"debounce": {"error": "Queue busy, try again", "code": "0"}, "success": "0"})).into_response(),
        "busy" => "5",
        "slow" if n == 1 => return (StatusCode::TOO_MANY_REQUESTS, "").into_response(),
        "slow" => "5",
        "hang" => std::future::pending().await,
        "broke" => return (StatusCode::PAYMENT_REQUIRED, Json(json!({"debounce": {"error": "Credits Low", "code": "0"}, "success": "0"}))).into_response(),
        _ => "7",
    };
    // One credit per answered address; none left: 402 "Credits Low".
    let Ok(left) = f.balance.fetch_update(Ordering::SeqCst, Ordering::SeqCst, |b| (b > 0).then(|| b - 1)) else {
        return (StatusCode::PAYMENT_REQUIRED, Json(json!({"debounce": {"error": "Credits Low", "code": "0"}, "success": "0"}))).into_response();
    };
    let balance = (left - 1).to_string();
    Json(json!({"debounce": {"email": email, "code": code, "role": "false", "free_email": "true", "result": "x", "reason": "x"}, "success": "1", "balance": balance})).into_response()
}

async fn fake() -> (String, Arc<Fake>) {
    fake_with(1000).await
}

async fn fake_with(credits: i64) -> (String, Arc<Fake>) {
    let f = Arc::new(Fake {
        in_flight: AtomicUsize::new(0),
        max_in_flight: AtomicUsize::new(0),
        calls: Mutex::default(),
        balance: AtomicI64::new(credits),
        balance_reads: AtomicUsize::new(0),
    });
    let app = Router::new().route("/v1/", get(verify)).route("/v1/balance/", get(balance)).with_state(f.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (format!("http://{addr}/v1/"), f)
}

async fn add_contacts(db: &backend::platform::db::Db, ws: i64, emails: &[&str]) {
    for e in emails {
        on_db!(db, |p| sqlx::query("INSERT INTO contacts (workspace_id, email, created_at) VALUES ($1, $2, $3)")
            .bind(ws)
            .bind(*e)
            .bind(chrono::Utc::now())
            .execute(p)
            .await
            .map(|_| ()))
        .unwrap();
    }
}

async fn verification(db: &backend::platform::db::Db, email: &str) -> String {
    on_db!(db, |p| sqlx::query_scalar::<_, String>("SELECT verification FROM contacts WHERE email = $1").bind(email).fetch_one(p).await).unwrap()
}

#[tokio::test]
async fn contacts_are_verified_five_at_a_time_through_busy_answers_and_credits_are_counted() {
    let (base, f) = fake().await;
    let state = test_state().await;
    let db = &state.db;
    let ws = workspaces::create(db, WorkspaceInput::named("Acme")).await.unwrap().id;
    let mut emails = vec!["risky@x.test", "role@x.test", "bounce@x.test", "unknown@x.test", "busy@x.test", "slow@x.test"];
    let safes: Vec<String> = (0..10).map(|i| format!("safe{i}@x.test")).collect();
    emails.extend(safes.iter().map(String::as_str));
    add_contacts(db, ws, &emails).await;
    let client = DebounceClient::new(&base, "key-1", Duration::from_millis(5));
    let s = verification::verify_workspace(db, &client, ws, 1000).await.unwrap();
    assert_eq!((s.checked, s.safe, s.risky, s.invalid, s.unknown, s.stopped.as_deref()), (16, 12, 2, 1, 1, None));
    assert!(f.max_in_flight.load(Ordering::SeqCst) <= 5, "never more than 5 calls at once");
    assert_eq!(verification(db, "busy@x.test").await, "safe", "success \"0\" on a 200 was retried");
    assert_eq!(verification(db, "slow@x.test").await, "safe", "429 was retried");
    assert_eq!(verification(db, "role@x.test").await, "risky");
    let month = chrono::Utc::now().format("%Y-%m").to_string();
    assert_eq!(verification::credits_used(db, ws, &month).await.unwrap(), 16);
    // Nothing left to check: no call, no credit.
    let again = verification::verify_workspace(db, &client, ws, 1000).await.unwrap();
    assert_eq!(again.checked, 0);
    assert_eq!(verification::credits_used(db, ws, &month).await.unwrap(), 16);
}

#[tokio::test]
async fn running_out_of_credits_or_a_wrong_key_stops_the_run_and_says_why() {
    let (base, _f) = fake().await;
    let state = test_state().await;
    let db = &state.db;
    let ws = workspaces::create(db, WorkspaceInput::named("Acme")).await.unwrap().id;
    add_contacts(db, ws, &["broke@x.test"]).await;
    let client = DebounceClient::new(&base, "key-1", Duration::from_millis(5));
    let s = verification::verify_workspace(db, &client, ws, 10).await.unwrap();
    assert_eq!(s.checked, 0);
    assert!(s.stopped.as_deref().unwrap().contains("credits are used up: Credits Low"), "{s:?}");
    assert_eq!(verification(db, "broke@x.test").await, "unverified", "left for the next run");
    let wrong = DebounceClient::new(&base, "nope", Duration::from_millis(5));
    assert_eq!(wrong.verify("safe@x.test").await, Err(DebounceError::Auth("Wrong API".into())));
    assert_eq!(client.verify("safe1@x.test").await, Ok(Verdict::Safe));
}

#[tokio::test]
async fn verify_now_runs_through_the_job_queue_and_records_its_outcome() {
    let (base, _f) = fake().await;
    let mut state = test_state().await;
    let mut config = (*state.config).clone();
    config.debounce_url = base;
    config.debounce_key = Some("key-1".into());
    config.bison_retry_delay = Duration::from_millis(5);
    state.config = Arc::new(config);
    let db = state.db.clone();
    let ws = workspaces::create(&db, WorkspaceInput::named("Acme")).await.unwrap().id;
    add_contacts(&db, ws, &["safe1@x.test", "bounce@x.test"]).await;
    verification::queue_run(&db, ws).await.unwrap();
    // Queued inside a request's trace: the run's event carries it.
    let trace = "4bf92f3577b34da6a3ce929d0e0e4736".to_owned();
    backend::platform::trace::scope(trace.clone(), async {
        let job = backend::contacts::jobs::VerifyContactsJob { workspace_id: ws, trace_id: backend::platform::trace::current() };
        backend::contacts::jobs::VerifyQueue::new(&db).push(job, None).await.unwrap();
    })
    .await;
    let (stop_tx, mut stop_rx) = tokio::sync::watch::channel(false);
    let workers = tokio::spawn(backend::runtime::workers::run_with_poll(state.clone(), async move { let _ = stop_rx.wait_for(|s| *s).await; }, Duration::from_millis(50)));
    let mut run = None;
    for _ in 0..200 {
        run = verification::latest_run(&db, ws).await.unwrap();
        if run.as_ref().is_some_and(|r| r.0 == "done" || r.0 == "failed") {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    stop_tx.send(true).unwrap();
    workers.await.unwrap().unwrap();
    let (status, summary, error, _) = run.unwrap();
    assert_eq!((status.as_str(), error), ("done", None));
    let s = summary.unwrap();
    assert_eq!((s.checked, s.safe, s.invalid), (2, 1, 1));
    assert_eq!(verification(&db, "bounce@x.test").await, "invalid");
    let events = backend::platform::events::since(&db, ws, 0, 10).await.unwrap();
    let verified = events.iter().find(|e| e.kind == "contacts.verified").expect("contacts.verified");
    assert_eq!(verified.trace_id.as_deref(), Some(trace.as_str()), "the job ran in the trace of the request that queued it");
    let data: backend::platform::event_catalog::VerifiedData = serde_json::from_str(&verified.payload).unwrap();
    assert_eq!((data.checked, data.safe, data.invalid), (2, 1, 1));
}

/// Issue 11 (8): DeBounce takes its key in the query string; an unreachable endpoint must not
/// put it into the error that the contacts page shows and the database keeps.
#[tokio::test]
async fn the_key_never_appears_in_a_connection_error() {
    let client = DebounceClient::new("http://127.0.0.1:9/v1/", "KEY-SECRET-0042", Duration::from_millis(1));
    let err = client.verify("ann@acme.test").await.unwrap_err().to_string();
    assert!(err.contains("could not reach DeBounce"), "{err}");
    assert!(!err.contains("KEY-SECRET-0042") && !err.contains("api="), "the key leaked: {err}");
}

/// Issue 11 (13): verdicts are paid per address, so each is stored the moment it arrives — a run
/// that dies half-way keeps what it paid for.
#[tokio::test]
async fn verdicts_already_paid_for_survive_a_run_that_dies_half_way() {
    let (base, _f) = fake().await;
    let state = test_state().await;
    let db = &state.db;
    let ws = workspaces::create(db, WorkspaceInput::named("Acme")).await.unwrap().id;
    add_contacts(db, ws, &["safe0@x.test", "safe1@x.test", "safe2@x.test", "hang@x.test"]).await;
    let client = DebounceClient::new(&base, "key-1", Duration::from_millis(5));
    // The fake never answers for hang@: the run is cut off (as by a crash) while it waits.
    let cut = tokio::time::timeout(Duration::from_secs(2), verification::verify_workspace(db, &client, ws, 100)).await;
    assert!(cut.is_err(), "the run was still waiting");
    for e in ["safe0@x.test", "safe1@x.test", "safe2@x.test"] {
        assert_eq!(verification(db, e).await, "safe", "{e} was paid for and kept");
    }
    assert_eq!(verification(db, "hang@x.test").await, "unverified");
    let month = chrono::Utc::now().format("%Y-%m").to_string();
    assert_eq!(verification::credits_used(db, ws, &month).await.unwrap(), 3);
}

/// Issue 11 (13): one verification per workspace at a time — a second "Verify now" while one is
/// queued is refused, so DeBounce is never paid twice for the same contacts.
#[tokio::test]
async fn verify_now_twice_queues_one_run() {
    let state = test_state().await;
    let db = &state.db;
    let ws = workspaces::create(db, WorkspaceInput::named("Acme")).await.unwrap().id;
    let (a, b) = tokio::join!(verification::queue_run(db, ws), verification::queue_run(db, ws));
    assert!(a.is_ok() != b.is_ok(), "one of two simultaneous clicks queues a run: {a:?} {b:?}");
    let refused = if a.is_err() { a } else { b };
    assert!(matches!(refused, Err(backend::Error::Conflict(ref m)) if m.contains("already queued or running")), "{refused:?}");
    let other = workspaces::create(db, WorkspaceInput::named("Beta")).await.unwrap().id;
    verification::queue_run(db, other).await.expect("another workspace is not held up");
}

/// The state pointed at the fake with key-1, an admin and a workspace they may write to.
async fn world(base: &str) -> (AppState, SessionUser, i64) {
    let mut state = test_state().await;
    let mut config = (*state.config).clone();
    config.debounce_url = base.to_owned();
    config.debounce_key = Some("key-1".into());
    config.bison_retry_delay = Duration::from_millis(5);
    state.config = Arc::new(config);
    let u = users::create(&state.db, NewUser { email: "admin@agency.test".into(), display_name: "Admin".into(), role: Role::Admin, password: "password-123".into() })
        .await
        .unwrap();
    let admin = SessionUser { session_id: 0, user_id: u.id, email: u.email, display_name: u.display_name, role: Role::Admin };
    let ws = workspaces::create(&state.db, WorkspaceInput::named("Acme")).await.unwrap().id;
    (state, admin, ws)
}

fn key_id() -> String {
    DebounceClient::new("http://unused/", "key-1", Duration::ZERO).key_id()
}

fn this_month() -> String {
    chrono::Utc::now().format("%Y-%m").to_string()
}

async fn unverified(db: &backend::platform::db::Db, ws: i64) -> i64 {
    on_db!(db, |p| sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM contacts WHERE workspace_id = $1 AND verification = 'unverified'").bind(ws).fetch_one(p).await)
        .unwrap()
}

/// Issue 18 (6): the balance in every answer is kept, and the month's credits add up with the
/// verdicts stored on the contacts.
#[tokio::test]
async fn the_balance_of_each_answer_is_kept_and_credits_reconcile_with_the_verdicts() {
    let (base, f) = fake_with(10).await;
    let (state, _admin, ws) = world(&base).await;
    let db = &state.db;
    add_contacts(db, ws, &["safe0@x.test", "safe1@x.test", "bounce@x.test", "risky@x.test"]).await;
    let client = DebounceClient::new(&base, "key-1", Duration::from_millis(5));
    let s = verification::verify_workspace(db, &client, ws, 100).await.unwrap();
    assert_eq!((s.checked, s.stopped), (4, None));
    assert_eq!(f.balance.load(Ordering::SeqCst), 6);
    // 10 - 4 = 6, the lowest balance of the run's answers, however they arrived.
    let (balance, read_at) = verification::known_balance(db, &key_id()).await.unwrap().expect("a balance");
    assert_eq!(balance, 6);
    assert!(chrono::Utc::now() - read_at < chrono::Duration::minutes(1));
    assert_eq!(verification::credits_used(db, ws, &this_month()).await.unwrap(), 4);
    // The page's table: (month, credits used, contacts verified that month) — 4 and 4.
    assert_eq!(verification::credits_by_month(db, ws, 12).await.unwrap(), vec![(this_month(), 4, 4)]);
    let c = verification::credits(&state, ws).await.unwrap();
    assert_eq!((c.needed, c.balance.map(|b| b.0), c.shortfall()), (0, Some(6), None));
    assert_eq!(f.balance_reads.load(Ordering::SeqCst), 0, "the page reads what is stored, without calling DeBounce");
    // Another workspace's page shows its own credits (none), and the same key's balance.
    let other = workspaces::create(db, WorkspaceInput::named("Beta")).await.unwrap().id;
    assert!(verification::credits_by_month(db, other, 12).await.unwrap().is_empty());
    assert_eq!(verification::credits(&state, other).await.unwrap().balance.map(|b| b.0), Some(6));
}

/// Issue 18 (6): a run needing 8 credits with 6 left is refused with what is short, unless
/// confirmed; confirmed, it verifies 6, DeBounce's 402 stops it, and the 6 are kept.
#[tokio::test]
async fn a_run_the_balance_cannot_cover_is_refused_unless_confirmed_and_a_402_keeps_what_was_verified() {
    let (base, f) = fake_with(10).await;
    let (state, admin, ws) = world(&base).await;
    let db = &state.db;
    add_contacts(db, ws, &["safe0@x.test", "safe1@x.test", "safe2@x.test", "safe3@x.test"]).await;
    let client = DebounceClient::new(&base, "key-1", Duration::from_millis(5));
    verification::verify_workspace(db, &client, ws, 100).await.unwrap();
    let more: Vec<String> = (10..18).map(|i| format!("safe{i}@x.test")).collect();
    add_contacts(db, ws, &more.iter().map(String::as_str).collect::<Vec<_>>()).await;
    let warning = "This run needs 8 credits; DeBounce reports 6 left — 2 contacts would stay unverified. Buy credits or verify fewer.";
    // The page warns from the stored balance.
    assert_eq!(verification::credits(&state, ws).await.unwrap().shortfall().as_deref(), Some(warning));
    let scope = access::require_write(db, &admin, ws).await.unwrap();
    let refused = backend::contacts::request_verification(&state, &scope, false).await;
    match refused {
        Err(backend::Error::Conflict(m)) => assert!(m.starts_with(warning) && m.contains("confirm"), "{m}"),
        other => panic!("expected a refusal, got {other:?}"),
    }
    assert_eq!(f.balance_reads.load(Ordering::SeqCst), 1, "a balance that looks too small is read again before refusing");
    assert!(verification::latest_run(db, ws).await.unwrap().is_none(), "nothing queued");
    assert_eq!(f.balance.load(Ordering::SeqCst), 6, "no credit spent");

    backend::contacts::request_verification(&state, &scope, true).await.expect("confirmed");
    let s = verification::execute(&state, ws).await.unwrap();
    assert_eq!(s.checked, 6);
    let stopped = s.stopped.unwrap();
    assert!(stopped.starts_with("DeBounce credits are used up: Credits Low") && stopped.contains("the 6 contacts verified before that are kept"), "{stopped}");
    assert_eq!(unverified(db, ws).await, 2, "2 stay unverified for the next run");
    let (status, _, error, _) = verification::latest_run(db, ws).await.unwrap().unwrap();
    assert_eq!((status.as_str(), error.as_deref()), ("done", Some(stopped.as_str())), "the page shows why the run stopped");
    assert_eq!(verification::known_balance(db, &key_id()).await.unwrap().unwrap().0, 0);
    assert_eq!(verification::credits_by_month(db, ws, 12).await.unwrap(), vec![(this_month(), 10, 10)]);

    // Credits bought since: the stored 0 looks short, so it is read again, and the run goes ahead.
    f.balance.store(100, Ordering::SeqCst);
    backend::contacts::request_verification(&state, &scope, false).await.expect("covered after the top-up");
    assert_eq!(verification::credits(&state, ws).await.unwrap().balance.map(|b| b.0), Some(100));
}

/// Issue 18 (6): with no balance known yet, the run's check reads `GET /v1/balance/` first.
#[tokio::test]
async fn an_unknown_balance_is_read_from_the_balance_endpoint_before_a_run() {
    let (base, f) = fake_with(42).await;
    let (state, admin, ws) = world(&base).await;
    let db = &state.db;
    add_contacts(db, ws, &["safe0@x.test", "safe1@x.test", "safe2@x.test"]).await;
    assert_eq!(verification::credits(&state, ws).await.unwrap().balance, None, "nothing known yet");
    let scope = access::require_write(db, &admin, ws).await.unwrap();
    backend::contacts::request_verification(&state, &scope, false).await.unwrap();
    assert_eq!(f.balance_reads.load(Ordering::SeqCst), 1);
    let c = verification::credits(&state, ws).await.unwrap();
    assert_eq!((c.needed, c.balance.map(|b| b.0)), (3, Some(42)));
    // A balance that covers the run is not read again.
    verification::credits_before_run(&state, ws).await.unwrap();
    assert_eq!(f.balance_reads.load(Ordering::SeqCst), 1);
    // A wrong key can't read it: the admin is told what failed, and nothing is queued.
    let (_, admin2, ws2) = {
        let (base2, _) = fake_with(42).await;
        let (mut st, a, w) = world(&base2).await;
        let mut config = (*st.config).clone();
        config.debounce_key = Some("nope".into());
        st.config = Arc::new(config);
        add_contacts(&st.db, w, &["safe0@x.test"]).await;
        let scope = access::require_write(&st.db, &a, w).await.unwrap();
        let err = backend::contacts::request_verification(&st, &scope, false).await.unwrap_err().to_string();
        assert!(err.contains("Could not read the DeBounce credit balance") && err.contains("Wrong API") && !err.contains("nope"), "{err}");
        (st, a, w)
    };
    let _ = (admin2, ws2);
}

/// Issue 18 (6): DeBounce runs out in the middle of a run (5 calls in flight): every verdict
/// answered before the 402 is kept, the rest stay unverified, and the stored balance is 0.
#[tokio::test]
async fn a_402_in_the_middle_of_a_run_keeps_every_verdict_paid_for() {
    let (base, f) = fake_with(3).await;
    let (state, _admin, ws) = world(&base).await;
    let db = &state.db;
    let emails: Vec<String> = (0..7).map(|i| format!("safe{i}@x.test")).collect();
    add_contacts(db, ws, &emails.iter().map(String::as_str).collect::<Vec<_>>()).await;
    let client = DebounceClient::new(&base, "key-1", Duration::from_millis(5));
    let s = verification::verify_workspace(db, &client, ws, 100).await.unwrap();
    assert_eq!(s.checked, 3);
    assert!(s.stopped.as_deref().unwrap().contains("Credits Low"), "{s:?}");
    assert_eq!(unverified(db, ws).await, 4);
    assert_eq!(f.balance.load(Ordering::SeqCst), 0);
    assert_eq!(verification::known_balance(db, &key_id()).await.unwrap().unwrap().0, 0);
    assert_eq!(verification::credits_used(db, ws, &this_month()).await.unwrap(), 3);
}
