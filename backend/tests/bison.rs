//! The Email Bison client and sync against a local fake of its API (same paths, envelope,
//! pagination, string numbers, 429/5xx/401/422, slow answers), on a real database.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
    time::Duration,
};

use axum::{
    extract::{Query, State},
    http::{HeaderMap, StatusCode},
    response::{IntoResponse, Response},
    routing::get,
    Json, Router,
};
use backend::{
    connectors::bison::{BisonClient, BisonError},
    platform::http_retry::RetryPolicy,
    bison::sync::{self, SyncKind},
    on_db,
    platform::testing::test_state,
    tenancy::workspaces::{self, WorkspaceInput},
    AppState,
};
use serde_json::{json, Value};

#[derive(Default)]
struct Fake {
    /// Calls per path.
    calls: HashMap<String, usize>,
    /// Scripted failures per path: (status, retry-after), consumed first.
    fail: HashMap<String, Vec<(u16, Option<&'static str>)>>,
    /// Paths that answer slowly.
    slow: Vec<String>,
}

type Shared = Arc<Mutex<Fake>>;

fn page(items: Vec<Value>, page: usize, per: usize) -> Value {
    let last = items.len().div_ceil(per).max(1);
    let data: Vec<Value> = items.into_iter().skip((page - 1) * per).take(per).collect();
    json!({"data": data, "links": {}, "meta": {"current_page": page, "last_page": last.to_string(), "per_page": per, "total": 0}})
}

async fn route(path: &'static str, State(fake): State<Shared>, headers: HeaderMap, Query(q): Query<HashMap<String, String>>) -> Response {
    let (fail, slow) = {
        let mut f = fake.lock().unwrap();
        *f.calls.entry(path.to_owned()).or_default() += 1;
        let fail = f.fail.get_mut(path).and_then(|v| if v.is_empty() { None } else { Some(v.remove(0)) });
        (fail, f.slow.contains(&path.to_owned()))
    };
    if slow {
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    if headers.get("authorization").and_then(|v| v.to_str().ok()) != Some("Bearer good-token") {
        return (StatusCode::UNAUTHORIZED, Json(json!({"message": "Unauthenticated."}))).into_response();
    }
    if let Some((code, retry_after)) = fail {
        let mut res = (StatusCode::from_u16(code).unwrap(), Json(json!({"message": "scripted failure"}))).into_response();
        if let Some(v) = retry_after {
            res.headers_mut().insert("retry-after", v.parse().unwrap());
        }
        return res;
    }
    let p: usize = q.get("page").and_then(|v| v.parse().ok()).unwrap_or(1);
    let body = match path {
        "/api/users" => json!({"data": [{"id": 1}]}),
        "/api/campaigns" => page(
            vec![
                json!({"id": 42, "name": "Homeowners Q4", "status": "active", "total_leads": "1200", "total_leads_contacted": 800}),
                json!({"id": "43", "name": "Referral", "status": "Queued", "total_leads": 50, "total_leads_contacted": "0"}),
            ],
            p,
            1,
        ),
        "/api/sender-emails" => page(
            vec![
                json!({"id": 1, "email": "ok@acme-send.test", "status": "Connected", "daily_limit": "30", "warmup_enabled": true, "emails_sent_count": "1000", "bounced_count": "10", "total_replied_count": 20}),
                json!({"id": 2, "email": "Down@Acme-Send.test", "status": "Disconnected", "daily_limit": 30, "warmup_enabled": false, "emails_sent_count": 500, "bounced_count": 0}),
                json!({"id": 3, "email": "bouncy@acme-send.test", "status": "Connected", "daily_limit": 25, "emails_sent_count": 1000, "bounced_count": 60}),
            ],
            p,
            2,
        ),
        "/api/replies" => {
            assert_eq!(q.get("status").map(String::as_str), Some("interested"));
            page(
                vec![
                    json!({"id": 9, "from_name": "Pat Lee", "from_email_address": "pat@leehomes.test", "text_body": "Yes, quote please", "date_received": "2026-11-20T15:00:00Z", "campaign_id": 42, "lead_id": 7}),
                    json!({"id": 10, "from_name": "Pat Lee", "from_email_address": "PAT@leehomes.test", "text_body": "Following up", "date_received": "2026-11-21T09:00:00Z", "campaign_id": 42, "lead_id": 7}),
                    json!({"id": 11, "from_name": "Sam", "from_email_address": "sam@oak.test", "text_body": "Interested", "date_received": "2026-11-19T12:00:00Z", "campaign_id": "43"}),
                ],
                p,
                15,
            )
        }
        "/api/campaign-events/stats" => {
            assert!(q.contains_key("start_date") && q.contains_key("end_date"), "dates are required");
            json!({"data": [
                {"label": "Sent", "color": "#3B82F6", "dates": [["2026-11-19", 300], ["2026-11-20", "320"]]},
                {"label": "Replied", "dates": [["2026-11-19", 6], ["2026-11-20", 4]]},
                {"label": "Interested", "dates": [["2026-11-19", 1], ["2026-11-20", 1]]},
                {"label": "Unique Opens", "dates": [["2026-11-19", 90]]},
                {"label": "Bounced", "dates": [["2026-11-20", 3]]}
            ]})
        }
        _ => return StatusCode::NOT_FOUND.into_response(),
    };
    Json(body).into_response()
}

/// `POST /api/leads/multiple` and `…/attach-leads`: creates ids from a counter, records what came.
async fn post_route(path: &'static str, State(fake): State<Shared>, Json(body): Json<Value>) -> Response {
    let fail = {
        let mut f = fake.lock().unwrap();
        *f.calls.entry(path.to_owned()).or_default() += 1;
        f.fail.get_mut(path).and_then(|v| if v.is_empty() { None } else { Some(v.remove(0)) })
    };
    if let Some((code, _)) = fail {
        return (StatusCode::from_u16(code).unwrap(), Json(json!({"message": "No leads were added"}))).into_response();
    }
    match path {
        "/api/leads/multiple" => {
            let leads = body["leads"].as_array().cloned().unwrap_or_default();
            assert!(leads.len() <= 500, "at most 500 per call");
            let created: Vec<Value> =
                leads.iter().enumerate().map(|(i, l)| json!({"id": 9000 + i, "email": l["email"], "first_name": l["first_name"]})).collect();
            Json(json!({"data": created})).into_response()
        }
        _ => Json(json!({"data": {"success": true, "message": "attached"}})).into_response(),
    }
}

async fn fake_bison() -> (String, Shared) {
    let fake: Shared = Arc::default();
    let mut app = Router::new()
        .route("/api/leads/multiple", axum::routing::post(|s, b| post_route("/api/leads/multiple", s, b)))
        .route("/api/campaigns/42/leads/attach-leads", axum::routing::post(|s, b| post_route("/api/campaigns/42/leads/attach-leads", s, b)))
        .route("/api/campaigns/44/leads/attach-leads", axum::routing::post(|s, b| post_route("/api/campaigns/44/leads/attach-leads", s, b)));
    for path in ["/api/users", "/api/campaigns", "/api/sender-emails", "/api/replies", "/api/campaign-events/stats"] {
        app = app.route(path, get(move |s, h, q| route(path, s, h, q)));
    }
    let app = app.with_state(fake.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (format!("http://{addr}"), fake)
}

async fn state_with(base: &str, key: &str) -> (AppState, i64) {
    let mut state = test_state().await;
    let mut config = (*state.config).clone();
    config.bison_url = base.to_owned();
    config.bison_retry_delay = Duration::from_millis(5);
    state.config = Arc::new(config);
    let ws = workspaces::create(&state.db, WorkspaceInput::named("Acme Roofing")).await.unwrap().id;
    workspaces::set_bison_credentials(&state.db, &state.secrets, ws, Some("1"), Some(key)).await.unwrap();
    (state, ws)
}

/// The synced rows, without timestamps: what "changes nothing" compares.
async fn snapshot(state: &AppState, ws: i64) -> Vec<String> {
    let db = &state.db;
    let mut out = Vec::new();
    let campaigns: Vec<(String, String, String, i64, i64)> = on_db!(db, |p| sqlx::query_as(
        "SELECT bison_campaign_id, name, status, leads_total, leads_contacted FROM campaigns WHERE workspace_id = $1 ORDER BY bison_campaign_id"
    )
    .bind(ws)
    .fetch_all(p)
    .await)
    .unwrap();
    out.extend(campaigns.iter().map(|c| format!("{c:?}")));
    let senders: Vec<(String, String, i64, bool, i64, i64, i64)> = on_db!(db, |p| sqlx::query_as(
        "SELECT email, status, daily_limit, warmup_enabled, sent_total, bounced_total, replies_total FROM sender_accounts WHERE workspace_id = $1 ORDER BY email"
    )
    .bind(ws)
    .fetch_all(p)
    .await)
    .unwrap();
    out.extend(senders.iter().map(|s| format!("{s:?}")));
    let leads: Vec<(String, Option<String>, Option<String>, String, bool)> = on_db!(db, |p| sqlx::query_as(
        "SELECT email, first_name, reply_text, stage, interested FROM leads WHERE workspace_id = $1 ORDER BY email"
    )
    .bind(ws)
    .fetch_all(p)
    .await)
    .unwrap();
    out.extend(leads.iter().map(|l| format!("{l:?}")));
    let daily: Vec<(chrono::NaiveDate, i64, i64, i64, i64, i64)> = on_db!(db, |p| sqlx::query_as(
        "SELECT day, sent, contacted, replies, interested, bounced FROM daily_metrics WHERE workspace_id = $1 ORDER BY day"
    )
    .bind(ws)
    .fetch_all(p)
    .await)
    .unwrap();
    out.extend(daily.iter().map(|d| format!("{d:?}")));
    out
}

#[tokio::test]
async fn a_full_sync_fills_every_table_through_rate_limits_and_errors_and_a_second_run_changes_nothing() {
    let (base, fake) = fake_bison().await;
    {
        let mut f = fake.lock().unwrap();
        f.fail.insert("/api/campaigns".into(), vec![(429, Some("0"))]);
        f.fail.insert("/api/sender-emails".into(), vec![(503, None), (500, None)]);
    }
    let (state, ws) = state_with(&base, "good-token").await;
    let run = sync::execute(&state, ws, SyncKind::All, None).await.unwrap();
    assert_eq!(run.status, "succeeded", "{:?}", run.error);
    assert_eq!((run.step, run.steps), (4, 4));
    let s: sync::SyncSummary = serde_json::from_str(run.summary.as_deref().unwrap()).unwrap();
    assert_eq!((s.campaigns, s.senders, s.replies_seen, s.leads_created, s.leads_marked_interested, s.days), (2, 3, 3, 2, 0, 2));
    assert_eq!(s.newly_critical, vec!["bouncy@acme-send.test".to_string(), "down@acme-send.test".to_string()]);
    {
        let f = fake.lock().unwrap();
        assert_eq!(f.calls["/api/campaigns"], 3, "a 429, then pages 1 and 2");
        assert_eq!(f.calls["/api/sender-emails"], 4, "503, 500, then pages 1 and 2");
    }
    let first = snapshot(&state, ws).await;
    assert_eq!(
        first,
        vec![
            r#"("42", "Homeowners Q4", "active", 1200, 800)"#,
            r#"("43", "Referral", "active", 50, 0)"#,
            r#"("bouncy@acme-send.test", "connected", 25, false, 1000, 60, 0)"#,
            r#"("down@acme-send.test", "disconnected", 30, false, 500, 0, 0)"#,
            r#"("ok@acme-send.test", "connected", 30, true, 1000, 10, 20)"#,
            r#"("pat@leehomes.test", Some("Pat"), Some("Yes, quote please"), "new", true)"#,
            r#"("sam@oak.test", Some("Sam"), Some("Interested"), "new", true)"#,
            "(2026-11-19, 300, 0, 6, 1, 0)",
            "(2026-11-20, 320, 0, 4, 1, 3)",
        ]
    );
    let run = sync::execute(&state, ws, SyncKind::All, None).await.unwrap();
    let s: sync::SyncSummary = serde_json::from_str(run.summary.as_deref().unwrap()).unwrap();
    assert_eq!((s.leads_created, s.leads_marked_interested), (0, 0));
    assert!(s.newly_critical.is_empty(), "already known as critical");
    assert_eq!(snapshot(&state, ws).await, first, "a second sync changes nothing");
    assert_eq!(sync::recent_runs(&state.db, ws, 10).await.unwrap().len(), 2);
}

#[tokio::test]
async fn a_refused_key_or_a_rejected_request_fails_the_run_with_a_message_and_no_retries() {
    let (base, fake) = fake_bison().await;
    let (state, ws) = state_with(&base, "wrong-token").await;
    let run = sync::execute(&state, ws, SyncKind::Senders, None).await.unwrap();
    assert_eq!(run.status, "failed");
    let error = run.error.unwrap();
    assert!(error.contains("refused the API key (401 Unauthorized: Unauthenticated.)"), "{error}");
    assert_eq!(fake.lock().unwrap().calls["/api/sender-emails"], 1, "auth failures are not retried");

    let client = BisonClient::new(&base, "good-token", RetryPolicy { base_delay: Duration::from_millis(5), ..Default::default() });
    fake.lock().unwrap().fail.insert("/api/campaigns".into(), vec![(422, None)]);
    assert_eq!(client.campaigns().await.unwrap_err(), BisonError::Invalid("422 Unprocessable Entity: scripted failure".into()));
    // No key stored at all: the run says where to add it.
    let bare = workspaces::create(&state.db, WorkspaceInput::named("No Key")).await.unwrap().id;
    let run = sync::execute(&state, bare, SyncKind::All, None).await.unwrap();
    assert!(run.error.unwrap().contains("No Email Bison API key"));
}

#[tokio::test]
async fn slow_answers_time_out_and_are_retried_then_reported() {
    let (base, fake) = fake_bison().await;
    fake.lock().unwrap().slow.push("/api/users".into());
    let policy = RetryPolicy { attempts: 2, base_delay: Duration::from_millis(5), timeout: Duration::from_millis(100), ..Default::default() };
    let client = BisonClient::new(&base, "good-token", policy);
    let err = client.check().await.unwrap_err();
    assert!(matches!(&err, BisonError::Unavailable(m) if m.contains("timed out") && m.contains("after 2 attempts")), "{err}");
    assert_eq!(fake.lock().unwrap().calls["/api/users"], 2);
}

#[tokio::test]
async fn sync_now_runs_through_the_job_queue_to_a_recorded_result() {
    let (base, _fake) = fake_bison().await;
    let (state, ws) = state_with(&base, "good-token").await;
    let run = sync::queue_run(&state.db, ws, SyncKind::All, None).await.unwrap();
    backend::bison::jobs::SyncQueue::new(&state.db)
        .push(backend::bison::jobs::BisonSyncJob { workspace_id: ws, kind: SyncKind::All, run_id: Some(run), trace_id: None }, Some(format!("sync-now:{run}")))
        .await
        .unwrap();
    let (stop_tx, mut stop_rx) = tokio::sync::watch::channel(false);
    let workers = tokio::spawn(backend::runtime::workers::run_with_poll(state.clone(), async move { let _ = stop_rx.wait_for(|s| *s).await; }, Duration::from_millis(50)));
    // (A schedule may fire during the test and add a run of its own: look at ours.)
    let mut status = String::new();
    for _ in 0..200 {
        status = sync::recent_runs(&state.db, ws, 10).await.unwrap().into_iter().find(|r| r.id == run).unwrap().status.to_string();
        if status == "succeeded" || status == "failed" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    stop_tx.send(true).unwrap();
    workers.await.unwrap().unwrap();
    assert_eq!(status, "succeeded", "{:?}", sync::recent_runs(&state.db, ws, 10).await.unwrap());
}

#[tokio::test]
async fn a_sync_stands_aside_while_another_of_the_same_workspace_runs() {
    let (base, fake) = fake_bison().await;
    let (state, ws) = state_with(&base, "good-token").await;
    let busy = sync::queue_run(&state.db, ws, SyncKind::All, None).await.unwrap();
    on_db!(&state.db, |p| sqlx::query("UPDATE sync_runs SET status = 'running', started_at = $1 WHERE id = $2")
        .bind(chrono::Utc::now())
        .bind(busy)
        .execute(p)
        .await
        .map(|_| ()))
    .unwrap();
    let run = sync::execute(&state, ws, SyncKind::Senders, None).await.unwrap();
    assert_eq!((run.status.as_str(), run.error.as_deref()), ("failed", Some("Skipped: another sync of this workspace was running.")));
    assert!(fake.lock().unwrap().calls.is_empty(), "Email Bison was not called");
}

#[tokio::test]
async fn a_weekly_batch_takes_verified_contacts_up_to_the_target_and_a_failed_upload_resumes_without_duplicates() {
    let (base, fake) = fake_bison().await;
    let (state, ws) = state_with(&base, "good-token").await;
    let db = &state.db;
    on_db!(db, |p| sqlx::query("UPDATE workspaces SET weekly_contact_target = 3 WHERE id = $1").bind(ws).execute(p).await.map(|_| ())).unwrap();
    for (email, verdict) in [("a@c.test", "safe"), ("b@c.test", "risky"), ("c@c.test", "safe"), ("d@c.test", "invalid"), ("e@c.test", "safe"), ("f@c.test", "unverified"), ("g@c.test", "safe")] {
        on_db!(db, |p| sqlx::query("INSERT INTO contacts (workspace_id, email, first_name, verification, created_at) VALUES ($1, $2, 'X', $3, $4)")
            .bind(ws)
            .bind(email)
            .bind(verdict)
            .bind(chrono::Utc::now())
            .execute(p)
            .await
            .map(|_| ()))
        .unwrap();
    }
    let week = chrono::NaiveDate::from_ymd_opt(2026, 11, 16).unwrap();
    let batch = backend::contacts::batches::create_weekly(db, ws, week).await.unwrap().unwrap();
    assert_eq!(backend::contacts::batches::create_weekly(db, ws, week).await.unwrap(), Some(batch), "one batch per week");
    let members: Vec<String> = on_db!(db, |p| sqlx::query_scalar("SELECT email FROM contacts WHERE batch_id = $1 ORDER BY email").bind(batch).fetch_all(p).await).unwrap();
    assert_eq!(members, ["a@c.test", "c@c.test", "e@c.test"], "safe contacts, oldest first, up to the weekly target");

    // The campaign comes from a sync; the first attach is refused.
    sync::execute(&state, ws, SyncKind::All, None).await.unwrap();
    fake.lock().unwrap().fail.insert("/api/campaigns/42/leads/attach-leads".into(), vec![(422, None)]);
    let err = backend::contacts::batches::upload(&state, batch).await.unwrap_err();
    assert!(err.to_string().contains("No leads were added"), "{err}");
    let status: (String, i64) = on_db!(db, |p| sqlx::query_as("SELECT status, uploaded FROM contact_batches WHERE id = $1").bind(batch).fetch_one(p).await).unwrap();
    assert_eq!(status, ("failed".to_string(), 3));
    // Again: nobody is created twice, the attach goes through.
    assert_eq!(backend::contacts::batches::upload(&state, batch).await.unwrap(), 3);
    let f = fake.lock().unwrap();
    assert_eq!(f.calls["/api/leads/multiple"], 1, "leads created once");
    assert_eq!(f.calls["/api/campaigns/42/leads/attach-leads"], 2);
    drop(f);
    let log: Vec<(String, i64, bool)> = on_db!(db, |p| sqlx::query_as("SELECT call, leads, ok FROM upload_audit_log WHERE batch_id = $1 ORDER BY id").bind(batch).fetch_all(p).await).unwrap();
    assert_eq!(
        log,
        vec![
            ("POST /api/leads/multiple".to_string(), 3, true),
            ("POST /api/campaigns/42/leads/attach-leads".to_string(), 3, false),
            ("POST /api/campaigns/42/leads/attach-leads".to_string(), 3, true),
        ]
    );
    let status: (String, i64) = on_db!(db, |p| sqlx::query_as("SELECT status, uploaded FROM contact_batches WHERE id = $1").bind(batch).fetch_one(p).await).unwrap();
    assert_eq!(status, ("uploaded".to_string(), 3));

    // A campaign chosen for the workspace takes next week's batch, even a paused one.
    let chosen: i64 = on_db!(db, |p| sqlx::query_scalar(
        "INSERT INTO campaigns (workspace_id, bison_campaign_id, name, status, created_at, updated_at) VALUES ($1, '44', 'Spring', 'paused', $2, $2) RETURNING id"
    )
    .bind(ws)
    .bind(chrono::Utc::now())
    .fetch_one(p)
    .await)
    .unwrap();
    let choices = backend::contacts::batches::campaign_choices(db, ws).await.unwrap();
    assert_eq!(choices.last().map(|c| (c.0, c.2.as_str())), Some((chosen, "paused")), "active campaigns first: {choices:?}");
    backend::contacts::batches::save_settings(db, ws, &backend::contacts::batches::BatchSettings { accept_risky: false, campaign_id: Some(chosen) }).await.unwrap();
    let next = backend::contacts::batches::create_weekly(db, ws, week + chrono::Duration::days(7)).await.unwrap().unwrap();
    assert_eq!(backend::contacts::batches::upload(&state, next).await.unwrap(), 1, "the one safe contact left");
    let f = fake.lock().unwrap();
    assert_eq!(f.calls.get("/api/campaigns/44/leads/attach-leads"), Some(&1));
    assert_eq!(f.calls["/api/campaigns/42/leads/attach-leads"], 2, "the default campaign untouched");
}

/// Issue 11 (14): "Upload again" clicked twice (or a schedule firing meanwhile) uploads a batch
/// once: the second upload is refused by the claim and posts nothing to Email Bison.
#[tokio::test]
async fn a_batch_uploaded_twice_at_once_is_posted_once() {
    let (base, fake) = fake_bison().await;
    let (state, ws) = state_with(&base, "good-token").await;
    let db = &state.db;
    on_db!(db, |p| sqlx::query("UPDATE workspaces SET weekly_contact_target = 3 WHERE id = $1").bind(ws).execute(p).await.map(|_| ())).unwrap();
    for email in ["a@c.test", "b@c.test", "c@c.test"] {
        on_db!(db, |p| sqlx::query("INSERT INTO contacts (workspace_id, email, first_name, last_name, verification, created_at) VALUES ($1, $2, 'X', 'Y', 'safe', $3)")
            .bind(ws)
            .bind(email)
            .bind(chrono::Utc::now())
            .execute(p)
            .await
            .map(|_| ()))
        .unwrap();
    }
    sync::execute(&state, ws, SyncKind::All, None).await.unwrap();
    let batch = backend::contacts::batches::create_weekly(db, ws, chrono::NaiveDate::from_ymd_opt(2026, 11, 16).unwrap()).await.unwrap().unwrap();
    let (a, b) = tokio::join!(backend::contacts::batches::upload(&state, batch), backend::contacts::batches::upload(&state, batch));
    let outcomes = [a, b];
    assert_eq!(outcomes.iter().filter(|r| matches!(r, Ok(3))).count(), 1, "{outcomes:?}");
    assert!(outcomes.iter().any(|r| matches!(r, Err(backend::Error::Conflict(_)))), "{outcomes:?}");
    assert_eq!(fake.lock().unwrap().calls["/api/leads/multiple"], 1, "the leads were posted once");
    let status: (String, i64) = on_db!(db, |p| sqlx::query_as("SELECT status, uploaded FROM contact_batches WHERE id = $1").bind(batch).fetch_one(p).await).unwrap();
    assert_eq!(status, ("uploaded".to_string(), 3), "the refused second upload did not overwrite the outcome");
    // Uploaded: another click posts nothing.
    assert!(matches!(backend::contacts::batches::upload(&state, batch).await, Err(backend::Error::Conflict(_))));
    assert_eq!(fake.lock().unwrap().calls["/api/leads/multiple"], 1);
}
