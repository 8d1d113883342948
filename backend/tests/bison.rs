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

/// Email Bison as documented: each key reads one workspace — an api-user key its own, the
/// super-admin key its user's *current* one (`admin_current`) — and sees only that workspace's
/// records; bulk create validates every lead (first name, last name, email) and creates none when
/// one fails, answering Laravel's 422 with the positions.
#[derive(Default)]
struct Fake {
    /// Calls per path.
    calls: HashMap<String, usize>,
    /// Scripted failures per path: (status, retry-after), consumed first.
    fail: HashMap<String, Vec<(u16, Option<&'static str>)>>,
    /// Paths that answer slowly.
    slow: Vec<String>,
    /// The workspace the super-admin key (`admin-token`) reads: its user's current one.
    admin_current: String,
    /// Replies added to workspace 1's interested list.
    extra_replies: Vec<Value>,
    /// Campaigns of workspace 1 that `GET /api/campaigns/{id}` finds but the list leaves out.
    unlisted_campaigns: Vec<Value>,
    /// Campaigns added to workspace 1's list.
    extra_campaigns: Vec<Value>,
    /// Emails bulk create calls invalid, naming their position.
    invalid_emails: Vec<String>,
    /// Emails bulk create refuses without saying which ("No leads were added").
    refused_silently: Vec<String>,
    /// Leads created: (workspace, email, id).
    created: Vec<(String, String, i64)>,
    /// Lead ids attached, per campaign path.
    attached: Vec<(String, Vec<i64>)>,
    /// Keys revoked: Email Bison then answers every call with its plain 401 "Unauthenticated.".
    revoked: Vec<String>,
    /// Revokes the key that reads the interested replies, right after (a key revoked mid-sync).
    revoke_after_replies: bool,
}

type Shared = Arc<Mutex<Fake>>;

/// The workspace a request's key reads, if the key is known.
fn key_workspace(f: &Fake, headers: &HeaderMap) -> Option<String> {
    let auth = headers.get("authorization").and_then(|v| v.to_str().ok())?;
    if f.revoked.iter().any(|k| auth.strip_prefix("Bearer ") == Some(k.as_str())) {
        return None;
    }
    match auth {
        "Bearer good-token" => Some("1".into()),
        "Bearer other-token" => Some("9".into()),
        "Bearer admin-token" => Some(f.admin_current.clone()),
        _ => None,
    }
}

fn workspace_name(ws: &str) -> &'static str {
    if ws == "9" { "Other Client" } else { "Acme Roofing" }
}

fn unauthorized() -> Response {
    (StatusCode::UNAUTHORIZED, Json(json!({"message": "Unauthenticated."}))).into_response()
}

fn page(items: Vec<Value>, page: usize, per: usize) -> Value {
    let last = items.len().div_ceil(per).max(1);
    let data: Vec<Value> = items.into_iter().skip((page - 1) * per).take(per).collect();
    json!({"data": data, "links": {}, "meta": {"current_page": page, "last_page": last.to_string(), "per_page": per, "total": 0}})
}

fn campaigns_of(f: &Fake, ws: &str) -> Vec<Value> {
    if ws == "9" {
        return vec![json!({"id": 77, "name": "Other Client Q4", "status": "active", "total_leads": 10, "total_leads_contacted": 5})];
    }
    let mut list = vec![
        json!({"id": 42, "name": "Homeowners Q4", "status": "active", "total_leads": "1200", "total_leads_contacted": 800}),
        json!({"id": "43", "name": "Referral", "status": "Queued", "total_leads": 50, "total_leads_contacted": "0"}),
    ];
    list.extend(f.extra_campaigns.iter().cloned());
    list
}

async fn route(path: &'static str, State(fake): State<Shared>, headers: HeaderMap, Query(q): Query<HashMap<String, String>>) -> Response {
    let (fail, slow, ws, extra_replies, campaigns) = {
        let mut f = fake.lock().unwrap();
        *f.calls.entry(path.to_owned()).or_default() += 1;
        let fail = f.fail.get_mut(path).and_then(|v| if v.is_empty() { None } else { Some(v.remove(0)) });
        let ws = key_workspace(&f, &headers);
        let campaigns = ws.as_deref().map(|w| campaigns_of(&f, w)).unwrap_or_default();
        if path == "/api/replies" && ws.is_some() && f.revoke_after_replies {
            let key = headers["authorization"].to_str().unwrap().trim_start_matches("Bearer ").to_owned();
            f.revoked.push(key);
        }
        (fail, f.slow.contains(&path.to_owned()), ws, f.extra_replies.clone(), campaigns)
    };
    if slow {
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    let Some(ws) = ws else { return unauthorized() };
    if let Some((code, retry_after)) = fail {
        let mut res = (StatusCode::from_u16(code).unwrap(), Json(json!({"message": "scripted failure"}))).into_response();
        if let Some(v) = retry_after {
            res.headers_mut().insert("retry-after", v.parse().unwrap());
        }
        return res;
    }
    let p: usize = q.get("page").and_then(|v| v.parse().ok()).unwrap_or(1);
    let other = ws == "9";
    let body = match path {
        "/api/users" => json!({"data": {"id": 5, "name": "Agency Ops", "email": "ops@agency.test", "current_team_id": ws.parse::<i64>().unwrap_or(0),
            "team": {"id": ws, "name": workspace_name(&ws)}}}),
        "/api/campaigns" => page(campaigns, p, 1),
        "/api/sender-emails" if other => page(vec![json!({"id": 8, "email": "other@other-send.test", "status": "Connected", "emails_sent_count": 10})], p, 15),
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
            let mut replies = if other {
                vec![json!({"id": 90, "from_name": "Olive Other", "from_email_address": "olive@other-client.test", "campaign_id": 77, "date_received": "2026-11-20T15:00:00Z"})]
            } else {
                vec![
                    json!({"id": 9, "from_name": "Pat Lee", "from_email_address": "pat@leehomes.test", "text_body": "Yes, quote please", "date_received": "2026-11-20T15:00:00Z", "campaign_id": 42, "lead_id": 7}),
                    json!({"id": 10, "from_name": "Pat Lee", "from_email_address": "PAT@leehomes.test", "text_body": "Following up", "date_received": "2026-11-21T09:00:00Z", "campaign_id": 42, "lead_id": 7}),
                    json!({"id": 11, "from_name": "Sam", "from_email_address": "sam@oak.test", "text_body": "Interested", "date_received": "2026-11-19T12:00:00Z", "campaign_id": "43"}),
                ]
            };
            if !other {
                replies.extend(extra_replies);
            }
            page(replies, p, 15)
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

/// `GET /api/campaigns/{id}`: the key's workspace's campaign; for another workspace's record the
/// auth error that says so ("api key does not match the workspace the record is on", as Email
/// Bison answers); 404 for none; and, as everywhere, 401 "Unauthenticated." for a key it refuses.
async fn campaign_route(State(fake): State<Shared>, headers: HeaderMap, axum::extract::Path(id): axum::extract::Path<String>) -> Response {
    let mut f = fake.lock().unwrap();
    *f.calls.entry("/api/campaigns/{id}".into()).or_default() += 1;
    let Some(ws) = key_workspace(&f, &headers) else { return unauthorized() };
    let same = |c: &Value| c["id"].to_string().trim_matches('"') == id;
    let mine = campaigns_of(&f, &ws).into_iter().chain(if ws == "1" { f.unlisted_campaigns.clone() } else { vec![] }).find(same);
    if let Some(c) = mine {
        return Json(json!({"data": c})).into_response();
    }
    let elsewhere = ["1", "9"].iter().any(|w| campaigns_of(&f, w).iter().any(same));
    if elsewhere {
        return (StatusCode::UNAUTHORIZED, Json(json!({"message": "The api key does not match the workspace the record is on."}))).into_response();
    }
    (StatusCode::NOT_FOUND, Json(json!({"message": "Not found."}))).into_response()
}

/// `POST /api/leads/multiple` and `…/attach-leads`: validated like Email Bison, recorded.
async fn post_route(path: &'static str, State(fake): State<Shared>, headers: HeaderMap, Json(body): Json<Value>) -> Response {
    let mut f = fake.lock().unwrap();
    *f.calls.entry(path.to_owned()).or_default() += 1;
    let fail = f.fail.get_mut(path).and_then(|v| if v.is_empty() { None } else { Some(v.remove(0)) });
    let Some(ws) = key_workspace(&f, &headers) else { return unauthorized() };
    if let Some((code, _)) = fail {
        return (StatusCode::from_u16(code).unwrap(), Json(json!({"message": "No leads were added"}))).into_response();
    }
    match path {
        "/api/leads/multiple" => {
            let leads = body["leads"].as_array().cloned().unwrap_or_default();
            assert!(leads.len() <= 500, "at most 500 per call");
            let mut errors = serde_json::Map::new();
            for (i, l) in leads.iter().enumerate() {
                for field in ["first_name", "last_name", "email"] {
                    if l[field].as_str().is_none_or(|v| v.trim().is_empty()) {
                        errors.insert(format!("leads.{i}.{field}"), json!([format!("The leads.{i}.{field} field is required.")]));
                    }
                }
                let email = l["email"].as_str().unwrap_or("");
                if !email.contains('@') || f.invalid_emails.iter().any(|e| e == email) {
                    errors.insert(format!("leads.{i}.email"), json!([format!("The leads.{i}.email field must be a valid email address.")]));
                }
            }
            if let Some(first) = errors.values().next().and_then(|v| v[0].as_str()).map(str::to_owned) {
                let more = if errors.len() > 1 { format!(" (and {} more errors)", errors.len() - 1) } else { String::new() };
                return (StatusCode::UNPROCESSABLE_ENTITY, Json(json!({"message": format!("{first}{more}"), "errors": errors}))).into_response();
            }
            if leads.iter().any(|l| f.refused_silently.iter().any(|e| Some(e.as_str()) == l["email"].as_str())) {
                return (StatusCode::UNPROCESSABLE_ENTITY, Json(json!({"message": "No leads were added."}))).into_response();
            }
            let mut created = Vec::new();
            for l in &leads {
                let id = 9000 + f.created.len() as i64;
                f.created.push((ws.clone(), l["email"].as_str().unwrap().to_owned(), id));
                created.push(json!({"id": id, "email": l["email"], "first_name": l["first_name"]}));
            }
            Json(json!({"data": created})).into_response()
        }
        _ => {
            let ids: Vec<i64> = body["lead_ids"].as_array().unwrap().iter().map(|v| v.as_i64().expect("lead ids are integers")).collect();
            f.attached.push((path.to_owned(), ids));
            Json(json!({"data": {"success": true, "message": "attached"}})).into_response()
        }
    }
}

async fn fake_bison() -> (String, Shared) {
    let fake: Shared = Arc::new(Mutex::new(Fake { admin_current: "1".into(), ..Default::default() }));
    let mut app = Router::new()
        .route("/api/leads/multiple", axum::routing::post(|s, h, b| post_route("/api/leads/multiple", s, h, b)))
        .route("/api/campaigns/42/leads/attach-leads", axum::routing::post(|s, h, b| post_route("/api/campaigns/42/leads/attach-leads", s, h, b)))
        .route("/api/campaigns/44/leads/attach-leads", axum::routing::post(|s, h, b| post_route("/api/campaigns/44/leads/attach-leads", s, h, b)))
        .route("/api/campaigns/{id}", get(campaign_route));
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
    assert_eq!(fake.lock().unwrap().calls["/api/users"], 1, "auth failures are not retried");
    assert_eq!(fake.lock().unwrap().calls.get("/api/sender-emails"), None, "nothing is read with a key that was refused");

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
        on_db!(db, |p| sqlx::query("INSERT INTO contacts (workspace_id, email, first_name, last_name, verification, created_at) VALUES ($1, $2, 'X', 'Y', $3, $4)")
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

/// An admin for the calls that need one.
async fn admin(state: &AppState) -> backend::identity::sessions::SessionUser {
    use backend::identity::users::{self, NewUser, Role};
    let u = users::create(&state.db, NewUser { email: "ada@agency.test".into(), display_name: "Ada".into(), role: Role::Admin, password: "password-123".into() })
        .await
        .unwrap();
    backend::identity::sessions::SessionUser { session_id: 0, user_id: u.id, email: u.email, display_name: u.display_name, role: Role::Admin }
}

async fn count(db: &backend::platform::db::Db, sql: &'static str, ws: i64) -> i64 {
    on_db!(db, |p| sqlx::query_scalar::<_, i64>(sql).bind(ws).fetch_one(p).await).unwrap()
}

/// Issue 18 (1): a super-admin key follows its user's current Email Bison workspace. The key is
/// asked what it reads when saved (a typed id that differs is refused, nothing stored), and every
/// sync and upload asks again: when the user has switched workspace, nothing is imported or sent,
/// the run says why and the agency's Slack is told.
#[tokio::test]
async fn a_key_is_verified_when_saved_and_nothing_is_imported_or_sent_once_it_reads_another_workspace() {
    use backend::bison::credentials;
    let (base, fake) = fake_bison().await;
    let (state, first) = state_with(&base, "good-token").await;
    let db = &state.db;
    // Only the workspaces below are bound to Email Bison.
    workspaces::set_bison_credentials(db, &state.secrets, first, None, None).await.unwrap();
    let ada = admin(&state).await;
    let client = backend::identity::auth::ClientInfo::default();
    backend::notifications::set_agency_url(db, &state.secrets, Some("https://hooks.slack.test/services/T/B/x")).await.unwrap();
    let ws = workspaces::create(db, WorkspaceInput::named("Oak Builders")).await.unwrap().id;

    // Typed workspace 9, but the key reads 1: refused, nothing stored.
    let err = credentials::save(&state, &ada, ws, Some("9"), "admin-token", &client).await.unwrap_err().to_string();
    assert!(err.contains("This key reads Email Bison workspace 1 (Acme Roofing), not workspace 9; nothing was saved"), "{err}");
    assert_eq!(workspaces::bison_api_key(db, &state.secrets, ws).await.unwrap(), None);
    // A key Email Bison refuses is not stored either.
    let err = credentials::save(&state, &ada, ws, None, "wrong-token", &client).await.unwrap_err().to_string();
    assert!(err.contains("The key was not saved") && err.contains("refused the API key"), "{err}");
    // No id typed: the key's own workspace is saved, with what it reads and as whom.
    let seen = credentials::save(&state, &ada, ws, None, "admin-token", &client).await.unwrap();
    assert_eq!(seen.workspace_label(), "1 (Acme Roofing)");
    let w = workspaces::get(db, ws).await.unwrap();
    assert_eq!(
        (w.bison_workspace_id.as_deref(), w.bison_key_workspace_name.as_deref(), w.bison_key_user.as_deref(), w.bison_verified_at.is_some()),
        (Some("1"), Some("Acme Roofing"), Some("ops@agency.test"), true)
    );
    let run = sync::execute(&state, ws, SyncKind::All, None).await.unwrap();
    assert_eq!(run.status, "succeeded", "{:?}", run.error);
    assert_eq!(count(db, "SELECT COUNT(*) FROM campaigns WHERE workspace_id = $1", ws).await, 2);
    // Another client can't be bound to the same Email Bison workspace (its leads would show there).
    let twin = workspaces::create(db, WorkspaceInput::named("Twin Roofing")).await.unwrap().id;
    let err = credentials::save(&state, &ada, twin, None, "good-token", &client).await.unwrap_err().to_string();
    assert!(err.contains("already the Bison workspace of"), "{err}");
    assert_eq!(workspaces::bison_api_key(db, &state.secrets, twin).await.unwrap(), None);

    // The key's user switches to workspace 9 in Email Bison.
    fake.lock().unwrap().admin_current = "9".into();
    let before = fake.lock().unwrap().calls.clone();
    let run = sync::execute(&state, ws, SyncKind::All, None).await.unwrap();
    assert_eq!(run.status, "failed");
    let error = run.error.unwrap();
    assert!(
        error.contains("reads workspace 9 (Other Client), not workspace 1 saved for this client, so nothing was imported or sent"),
        "{error}"
    );
    let after = fake.lock().unwrap().calls.clone();
    for path in ["/api/campaigns", "/api/sender-emails", "/api/replies", "/api/campaign-events/stats"] {
        assert_eq!(after.get(path), before.get(path), "{path} was not read from the other workspace");
    }
    assert_eq!(count(db, "SELECT COUNT(*) FROM leads WHERE workspace_id = $1 AND email = 'olive@other-client.test'", ws).await, 0);
    assert_eq!(count(db, "SELECT COUNT(*) FROM sender_accounts WHERE workspace_id = $1 AND email LIKE '%other-send%'", ws).await, 0);
    let slack: Vec<String> = on_db!(db, |p| sqlx::query_scalar("SELECT text FROM slack_messages WHERE workspace_id IS NULL ORDER BY id").fetch_all(p).await).unwrap();
    assert!(slack.iter().any(|t| t.contains("Email Bison sync failed* for Oak Builders") && t.contains("workspace 9")), "{slack:?}");
    assert_eq!(count(db, "SELECT COUNT(*) FROM workspace_events WHERE workspace_id = $1 AND kind = 'sync.failed'", ws).await, 1);

    // The weekly batch is not sent to the other workspace either.
    on_db!(db, |p| sqlx::query("UPDATE workspaces SET weekly_contact_target = 5 WHERE id = $1").bind(ws).execute(p).await.map(|_| ())).unwrap();
    on_db!(db, |p| sqlx::query("INSERT INTO contacts (workspace_id, email, first_name, last_name, verification, created_at) VALUES ($1, 'kim@oak.test', 'Kim', 'Oak', 'safe', $2)")
        .bind(ws)
        .bind(chrono::Utc::now())
        .execute(p)
        .await
        .map(|_| ()))
    .unwrap();
    let batch = backend::contacts::batches::create_weekly(db, ws, chrono::NaiveDate::from_ymd_opt(2026, 11, 16).unwrap()).await.unwrap().unwrap();
    let err = backend::contacts::batches::upload(&state, batch).await.unwrap_err().to_string();
    assert!(err.contains("reads workspace 9 (Other Client), not workspace 1"), "{err}");
    assert!(fake.lock().unwrap().created.is_empty(), "no lead was created anywhere");
    // Switched back: the upload resumes.
    fake.lock().unwrap().admin_current = "1".into();
    assert_eq!(backend::contacts::batches::upload(&state, batch).await.unwrap(), 1);
    assert_eq!(fake.lock().unwrap().created, vec![("1".to_string(), "kim@oak.test".to_string(), 9000)]);

    // Credentials saved before this check existed, without a workspace id: refused, not guessed.
    workspaces::set_bison_credentials(db, &state.secrets, ws, None, Some("admin-token")).await.unwrap();
    let run = sync::execute(&state, ws, SyncKind::Senders, None).await.unwrap();
    assert!(run.error.as_deref().unwrap_or("").contains("No Email Bison workspace id is saved for this client"), "{:?}", run.error);
}

/// Issue 18 (2): Email Bison requires a first name, a last name and a valid email per lead and
/// refuses the whole call otherwise. A batch never fails for a few such contacts: each is
/// skipped with its reason (by email), the rest are created and attached.
#[tokio::test]
async fn a_batch_skips_the_contacts_email_bison_refuses_each_with_its_reason_and_sends_the_rest() {
    let (base, fake) = fake_bison().await;
    let (state, ws) = state_with(&base, "good-token").await;
    let db = &state.db;
    sync::execute(&state, ws, SyncKind::All, None).await.unwrap();
    on_db!(db, |p| sqlx::query("UPDATE workspaces SET weekly_contact_target = 10 WHERE id = $1").bind(ws).execute(p).await.map(|_| ())).unwrap();
    let rows: [(&str, Option<&str>, Option<&str>); 7] = [
        ("ann@c.test", Some("Ann"), Some("Lee")),
        ("bob@c.test", Some("Bob"), None),
        ("cat@c.test", Some("Cat"), Some("Ng")),
        ("dan@c.test", Some("Dan"), Some("Roe")),
        ("eve@c.test", Some("Eve"), Some("Poe")),
        ("o'neil@c.test", Some("Liam"), Some("O'Neil")),
        ("zed@c.test", Some(" "), Some(" ")),
    ];
    for (email, first, last) in rows {
        on_db!(db, |p| sqlx::query("INSERT INTO contacts (workspace_id, email, first_name, last_name, verification, created_at) VALUES ($1, $2, $3, $4, 'safe', $5)")
            .bind(ws)
            .bind(email)
            .bind(first)
            .bind(last)
            .bind(chrono::Utc::now())
            .execute(p)
            .await
            .map(|_| ()))
        .unwrap();
    }
    {
        let mut f = fake.lock().unwrap();
        f.invalid_emails.push("o'neil@c.test".into());
        f.refused_silently.push("dan@c.test".into());
    }
    let week = chrono::NaiveDate::from_ymd_opt(2026, 11, 16).unwrap();
    let batch = backend::contacts::batches::create_weekly(db, ws, week).await.unwrap().unwrap();
    let (unsendable, listed) = backend::contacts::batches::unsendable(db, ws, 10).await.unwrap();
    assert_eq!(unsendable, 2, "no batch takes a contact without both names");
    assert_eq!(
        listed,
        vec![
            ("bob@c.test".to_string(), "no last name: Email Bison requires one".to_string()),
            ("zed@c.test".to_string(), "no first or last name: Email Bison requires both".to_string())
        ]
    );
    // A batch made before this check (it holds Bob) skips him at upload.
    on_db!(db, |p| sqlx::query("UPDATE contacts SET batch_id = $1 WHERE email = 'bob@c.test'").bind(batch).execute(p).await.map(|_| ())).unwrap();

    assert_eq!(backend::contacts::batches::upload(&state, batch).await.unwrap(), 3, "Ann, Cat and Eve are in Email Bison");
    let b = backend::contacts::batches::get(db, batch).await.unwrap();
    assert_eq!((b.status.as_str(), b.uploaded, b.skipped, b.error), ("uploaded", 3, 3, None));
    assert_eq!(
        backend::contacts::batches::skipped_contacts(db, batch).await.unwrap(),
        vec![
            ("bob@c.test".to_string(), "no last name: Email Bison requires one".to_string()),
            ("dan@c.test".to_string(), "Email Bison refused it: No leads were added.".to_string()),
            ("o'neil@c.test".to_string(), "Email Bison refused it: the email field must be a valid email address".to_string()),
        ]
    );
    let f = fake.lock().unwrap();
    let mut created: Vec<&str> = f.created.iter().map(|(_, e, _)| e.as_str()).collect();
    created.sort();
    assert_eq!(created, ["ann@c.test", "cat@c.test", "eve@c.test"], "each created once");
    assert_eq!(f.attached.iter().map(|(_, ids)| ids.len()).sum::<usize>(), 3);
    drop(f);

    // A refusal of every lead, even alone, is about the call: the batch stops, nothing skipped.
    for email in ["fay@c.test", "gus@c.test", "hal@c.test", "ivy@c.test"] {
        on_db!(db, |p| sqlx::query("INSERT INTO contacts (workspace_id, email, first_name, last_name, verification, created_at) VALUES ($1, $2, 'F', 'L', 'safe', $3)")
            .bind(ws)
            .bind(email)
            .bind(chrono::Utc::now())
            .execute(p)
            .await
            .map(|_| ()))
        .unwrap();
        fake.lock().unwrap().refused_silently.push(email.into());
    }
    let next = backend::contacts::batches::create_weekly(db, ws, week + chrono::Duration::days(7)).await.unwrap().unwrap();
    let err = backend::contacts::batches::upload(&state, next).await.unwrap_err().to_string();
    assert!(err.contains("Email Bison refuses every lead, even one at a time") && err.contains("Nothing was skipped"), "{err}");
    assert_eq!(backend::contacts::batches::skipped_contacts(db, next).await.unwrap(), vec![]);
    assert_eq!(backend::contacts::batches::get(db, next).await.unwrap().status.as_str(), "failed");
}

/// Issue 18 (3): a reply from a campaign that is not in the list is fetched; one Email Bison
/// does not have (or that is another workspace's) invents no campaign, and the lead is linked
/// when the campaign shows up.
#[tokio::test]
async fn a_reply_from_an_unknown_campaign_invents_no_campaign_and_is_linked_when_it_appears() {
    let (base, fake) = fake_bison().await;
    {
        let mut f = fake.lock().unwrap();
        f.extra_replies = vec![
            json!({"id": 20, "from_name": "Una Known", "from_email_address": "una@x.test", "campaign_id": 99999, "date_received": "2026-11-20T10:00:00Z"}),
            json!({"id": 21, "from_name": "Theo Other", "from_email_address": "theo@x.test", "campaign_id": 77, "date_received": "2026-11-20T10:00:00Z"}),
            json!({"id": 22, "from_name": "Ava Archive", "from_email_address": "ava@x.test", "campaign_id": 55, "date_received": "2026-11-20T10:00:00Z"}),
        ];
        f.unlisted_campaigns = vec![json!({"id": 55, "name": "Spring (archived)", "status": "archived", "total_leads": 30, "total_leads_contacted": 30})];
    }
    let (state, ws) = state_with(&base, "good-token").await;
    let db = &state.db;
    let run = sync::execute(&state, ws, SyncKind::All, None).await.unwrap();
    assert_eq!(run.status, "succeeded", "{:?}", run.error);
    let campaigns: Vec<(String, String, String)> =
        on_db!(db, |p| sqlx::query_as("SELECT bison_campaign_id, name, status FROM campaigns WHERE workspace_id = $1 ORDER BY bison_campaign_id").bind(ws).fetch_all(p).await)
            .unwrap();
    assert_eq!(
        campaigns,
        vec![
            ("42".into(), "Homeowners Q4".into(), "active".into()),
            ("43".into(), "Referral".into(), "active".into()),
            ("55".into(), "Spring (archived)".into(), "archived".into())
        ],
        "no 'Campaign 99999', no other workspace's campaign 77"
    );
    assert_eq!(fake.lock().unwrap().calls["/api/campaigns/{id}"], 3, "each unknown id asked once");
    let lead = |email: &'static str| async move {
        on_db!(db, |p| sqlx::query_as::<_, (Option<i64>, Option<String>)>(
            "SELECT l.campaign_id, c.name FROM leads l LEFT JOIN campaigns c ON c.id = l.campaign_id WHERE l.email = $1"
        )
        .bind(email)
        .fetch_one(p)
        .await)
        .unwrap()
    };
    assert_eq!(lead("una@x.test").await, (None, None), "kept, without a campaign");
    assert_eq!(lead("theo@x.test").await.1, None);
    assert_eq!(lead("ava@x.test").await.1.as_deref(), Some("Spring (archived)"));
    // Campaign 99999 is created in Email Bison: the next sync links Una's lead to it.
    fake.lock().unwrap().extra_campaigns.push(json!({"id": 99999, "name": "Winter push", "status": "active"}));
    sync::execute(&state, ws, SyncKind::All, None).await.unwrap();
    assert_eq!(lead("una@x.test").await.1.as_deref(), Some("Winter push"));
}

/// Another workspace's campaign is "not ours" (`None`), but a key Email Bison refuses while the
/// sync asks for a campaign (revoked mid-sync) fails the run there with the key problem: the
/// campaign is not taken for missing and its reply not imported without it.
#[tokio::test]
async fn a_key_revoked_mid_sync_fails_the_run_at_the_campaign_lookup_while_another_workspaces_campaign_is_just_not_ours() {
    let (base, fake) = fake_bison().await;
    let policy = || RetryPolicy { base_delay: Duration::from_millis(5), ..Default::default() };
    let good = BisonClient::new(&base, "good-token", policy());
    assert_eq!(good.campaign("42").await.unwrap().map(|c| c.name), Some("Homeowners Q4".to_owned()));
    assert!(good.campaign("77").await.unwrap().is_none(), "workspace 9's campaign");
    assert!(good.campaign("99999").await.unwrap().is_none(), "no such campaign");
    let refused = BisonClient::new(&base, "revoked-token", policy());
    assert_eq!(refused.campaign("42").await.unwrap_err(), BisonError::Auth("401 Unauthorized: Unauthenticated.".into()));

    {
        let mut f = fake.lock().unwrap();
        f.extra_replies = vec![json!({"id": 20, "from_name": "Una Known", "from_email_address": "una@x.test", "campaign_id": 55, "date_received": "2026-11-20T10:00:00Z"})];
        f.revoke_after_replies = true;
    }
    let (state, ws) = state_with(&base, "good-token").await;
    let run = sync::execute(&state, ws, SyncKind::All, None).await.unwrap();
    assert_eq!(run.status, "failed");
    let error = run.error.unwrap();
    assert!(error.contains("refused the API key (401 Unauthorized: Unauthenticated.)"), "{error}");
    {
        let f = fake.lock().unwrap();
        assert_eq!(f.calls["/api/campaigns/{id}"], 5, "the sync stopped at its campaign lookup");
        assert_eq!(f.calls.get("/api/campaign-events/stats"), None, "nothing after it was read");
    }
    let una: i64 = on_db!(&state.db, |p| sqlx::query_scalar("SELECT COUNT(*) FROM leads WHERE email = 'una@x.test'").fetch_one(p).await).unwrap();
    assert_eq!(una, 0, "the reply whose campaign could not be asked for is not imported as campaign-less");
}

/// Issue 18 (1): a webhook delivery whose body names another Email Bison workspace than the one
/// saved for the client (its URL pasted into the wrong workspace) is not imported.
#[tokio::test]
async fn a_webhook_from_another_bison_workspace_is_not_imported() {
    use backend::bison::webhook;
    let state = test_state().await;
    let db = &state.db;
    let ws = workspaces::create(db, WorkspaceInput::named("Acme Roofing")).await.unwrap().id;
    workspaces::set_bison_credentials(db, &state.secrets, ws, Some("1"), Some("good-token")).await.unwrap();
    let body = |bison_ws: i64, email: &str| {
        serde_json::to_vec(&json!({"event": {"type": "LEAD_INTERESTED", "workspace_id": bison_ws, "workspace_name": "Other Client"},
            "data": {"lead": {"id": 3, "email": email, "first_name": "Jo"}, "reply": {"id": bison_ws * 100, "text_body": "yes"}, "campaign": {"id": 2, "name": "Q4"}}}))
        .unwrap()
    };
    for (bison_ws, email) in [(9, "jo@other.test"), (1, "jo@acme.test")] {
        if let webhook::Receipt::Accepted(id) = webhook::receive_for(db, ws, &body(bison_ws, email), 1 << 20).await.unwrap() {
            webhook::process(db, id).await.unwrap();
        }
    }
    let failed = webhook::failed_deliveries(db, ws, 10).await.unwrap();
    assert_eq!(failed.len(), 1);
    assert_eq!(
        failed[0].error.as_deref(),
        Some("This delivery comes from Email Bison workspace 9 (Other Client), not workspace 1 saved for this client, so it was not imported. Set this webhook URL in workspace 1 only.")
    );
    let leads: Vec<(String, Option<i64>, Option<String>)> =
        on_db!(db, |p| sqlx::query_as("SELECT email, campaign_id, bison_campaign_id FROM leads WHERE workspace_id = $1").bind(ws).fetch_all(p).await).unwrap();
    assert_eq!(leads, vec![("jo@acme.test".to_string(), None, Some("2".to_string()))], "no campaign invented from a webhook either");
}
