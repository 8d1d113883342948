//! Automations PT1–PT5 end to end: the real Chromium drives the stand-in Cole X Dates site
//! (`server::fixture_sites`), contacts go through the real import and a DeBounce fake, the week's
//! batch and the campaign rename go to an Email Bison fake as strict as the documented API
//! (required lead fields, the non-partial campaign update, 429s). Failures stop the run at the
//! right step with a real PNG of the page, leave nothing half-written, and a retry resumes there.
//! Runs on SQLite, or PostgreSQL with TEST_DATABASE_URL.

mod common;

use std::{
    collections::HashMap,
    sync::{
        atomic::{AtomicI64, AtomicUsize, Ordering},
        Arc, Mutex,
    },
    time::Duration,
};

use axum::{
    extract::{Query, State},
    http::{HeaderMap, StatusCode},
    response::{IntoResponse, Response},
    routing::{get, patch, post},
    Json, Router,
};
use backend::{
    automations::{self, credentials::Site, engine, RunStatus, Step},
    identity::sessions::SessionUser,
    on_db,
};
use serde_json::{json, Value};
use server::fixture_sites::{FixtureBehaviour, FixtureSites, CLAY_ACCOUNT, COLE_ACCOUNTS};

/// The Email Bison fake: key `acme-bison-key-…` reads Bison workspace 7, whose campaign 42 exists.
#[derive(Default)]
struct Bison {
    /// 429s still to answer on `POST /api/leads/multiple`.
    throttled: usize,
    created: Vec<String>,
    attached: Vec<i64>,
    renames: Vec<Value>,
    calls: HashMap<String, usize>,
}
type SharedBison = Arc<Mutex<Bison>>;

const CAMPAIGN: &str = r#"{"id": 42, "name": "Homeowners", "status": "active", "max_emails_per_day": 500, "max_new_leads_per_day": 50,
    "plain_text": true, "open_tracking": false, "can_unsubscribe": true, "include_auto_replies_in_stats": false, "sequence_prioritization": "followups"}"#;

fn count(b: &SharedBison, call: &str) {
    *b.lock().unwrap().calls.entry(call.into()).or_default() += 1;
}

fn authorized(h: &HeaderMap) -> bool {
    h.get("authorization").and_then(|v| v.to_str().ok()) == Some(concat!("Bearer ", "acme-bison-key-0123456789abcdef"))
}

fn unauthorized() -> Response {
    (StatusCode::UNAUTHORIZED, Json(json!({"message": "Unauthenticated."}))).into_response()
}

async fn fake_bison() -> (String, SharedBison) {
    let b: SharedBison = Arc::default();
    let app = Router::new()
        .route(
            "/api/users",
            get(|State(b): State<SharedBison>, h: HeaderMap| async move {
                count(&b, "users");
                if !authorized(&h) {
                    return unauthorized();
                }
                Json(json!({"data": {"id": 5, "name": "Ops", "email": "ops@agency.test", "current_team_id": 7, "team": {"id": 7, "name": "Acme"}}})).into_response()
            }),
        )
        .route(
            "/api/campaigns/42",
            get(|State(b): State<SharedBison>, h: HeaderMap| async move {
                count(&b, "campaign");
                if !authorized(&h) {
                    return unauthorized();
                }
                Json(json!({"data": serde_json::from_str::<Value>(CAMPAIGN).unwrap()})).into_response()
            }),
        )
        .route(
            // Not partial: a setting left out would be reset, so the fake refuses a body without all.
            "/api/campaigns/42/update",
            patch(|State(b): State<SharedBison>, h: HeaderMap, Json(body): Json<Value>| async move {
                count(&b, "update");
                if !authorized(&h) {
                    return unauthorized();
                }
                let current: Value = serde_json::from_str(CAMPAIGN).unwrap();
                for k in ["max_emails_per_day", "max_new_leads_per_day", "plain_text", "open_tracking", "can_unsubscribe", "include_auto_replies_in_stats", "sequence_prioritization"] {
                    if body.get(k) != current.get(k) {
                        return (StatusCode::UNPROCESSABLE_ENTITY, Json(json!({"message": format!("{k} would be reset")}))).into_response();
                    }
                }
                b.lock().unwrap().renames.push(body.clone());
                Json(json!({"data": body})).into_response()
            }),
        )
        .route(
            "/api/leads/multiple",
            post(|State(b): State<SharedBison>, h: HeaderMap, Json(body): Json<Value>| async move {
                count(&b, "leads");
                if !authorized(&h) {
                    return unauthorized();
                }
                let mut f = b.lock().unwrap();
                if f.throttled > 0 {
                    f.throttled -= 1;
                    let mut res = (StatusCode::TOO_MANY_REQUESTS, Json(json!({"message": "Too Many Attempts."}))).into_response();
                    res.headers_mut().insert("retry-after", "0".parse().unwrap());
                    return res;
                }
                let leads = body["leads"].as_array().cloned().unwrap_or_default();
                for (i, l) in leads.iter().enumerate() {
                    for field in ["first_name", "last_name", "email"] {
                        if l[field].as_str().is_none_or(|v| v.trim().is_empty()) {
                            return (StatusCode::UNPROCESSABLE_ENTITY, Json(json!({"message": format!("The leads.{i}.{field} field is required.")}))).into_response();
                        }
                    }
                }
                let mut out = Vec::new();
                for l in leads {
                    let email = l["email"].as_str().unwrap().to_owned();
                    let id = 9000 + f.created.len() as i64;
                    f.created.push(email.clone());
                    out.push(json!({"id": id, "email": email}));
                }
                Json(json!({"data": out})).into_response()
            }),
        )
        .route(
            "/api/campaigns/42/leads/attach-leads",
            post(|State(b): State<SharedBison>, h: HeaderMap, Json(body): Json<Value>| async move {
                if !authorized(&h) {
                    return unauthorized();
                }
                let ids: Vec<i64> = body["lead_ids"].as_array().unwrap().iter().map(|v| v.as_i64().expect("lead ids are integers")).collect();
                b.lock().unwrap().attached.extend(ids);
                Json(json!({"data": {"success": true}})).into_response()
            }),
        )
        .with_state(b.clone());
    (serve(app).await, b)
}

/// The DeBounce fake: key `db-key`, one credit per answered address, 402 when none are left.
struct Debounce {
    credits: AtomicI64,
    calls: AtomicUsize,
}

async fn fake_debounce(credits: i64) -> (String, Arc<Debounce>) {
    let d = Arc::new(Debounce { credits: AtomicI64::new(credits), calls: AtomicUsize::new(0) });
    let app = Router::new()
        .route(
            "/v1/",
            get(|State(d): State<Arc<Debounce>>, Query(q): Query<HashMap<String, String>>| async move {
                if q.get("api").map(String::as_str) != Some("db-key") {
                    return (StatusCode::UNAUTHORIZED, Json(json!({"debounce": {"error": "Wrong API", "code": "0"}, "success": "0"}))).into_response();
                }
                d.calls.fetch_add(1, Ordering::SeqCst);
                let Ok(left) = d.credits.fetch_update(Ordering::SeqCst, Ordering::SeqCst, |c| (c > 0).then(|| c - 1)) else {
                    return (StatusCode::PAYMENT_REQUIRED, Json(json!({"debounce": {"error": "Credits Low", "code": "0"}, "success": "0"}))).into_response();
                };
                let email = q.get("email").cloned().unwrap_or_default();
                Json(json!({"debounce": {"email": email, "code": "5", "role": "false", "free_email": "false", "result": "Safe to Send", "reason": "Deliverable"},
                    "success": "1", "balance": (left - 1).to_string()}))
                .into_response()
            }),
        )
        .route(
            "/v1/balance/",
            get(|State(d): State<Arc<Debounce>>, Query(q): Query<HashMap<String, String>>| async move {
                if q.get("api").map(String::as_str) != Some("db-key") {
                    return (StatusCode::UNAUTHORIZED, Json(json!({"debounce": {"error": "Wrong API", "code": "0"}, "success": "0"}))).into_response();
                }
                Json(json!({"balance": d.credits.load(Ordering::SeqCst).to_string()})).into_response()
            }),
        )
        .with_state(d.clone());
    (format!("{}/v1/", serve(app).await), d)
}

async fn serve(app: Router) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    format!("http://{addr}")
}

struct World {
    srv: common::TestServer,
    /// This test's own browser (a pool lives on the runtime that launched it).
    browser: backend::connectors::chromium::BrowserPool,
    fixture: FixtureSites,
    bison: SharedBison,
    debounce: Arc<Debounce>,
    admin: SessionUser,
}

const ZIPS: &[&str] = &["07001", "07002", "07003"];

/// Workspace A with three NJ ZIP codes, a weekly target of 5, a Bison key bound to workspace 7
/// with campaign 42, the NJ sign-in stored, and its automation settings saved by the admin.
async fn world(credits: i64) -> World {
    world_with(credits, |_| {}).await
}

async fn world_with(credits: i64, change: impl FnOnce(&mut automations::Settings)) -> World {
    let fixture = FixtureSites::new(FixtureBehaviour { export_delay: Duration::from_millis(300), ..Default::default() });
    let sites = serve(fixture.router::<()>()).await;
    let (bison_url, bison) = fake_bison().await;
    let (debounce_url, debounce) = fake_debounce(credits).await;
    let srv = common::start_with(|c| {
        c.bison_url = bison_url;
        c.bison_retry_delay = Duration::from_millis(5);
        c.debounce_url = debounce_url;
        c.debounce_key = Some("db-key".into());
        c.integrations.cole_url = Some(format!("{sites}/cole"));
        c.integrations.clay_url = format!("{sites}/clay");
        c.integrations.browser.call_timeout = Duration::from_secs(10);
    })
    .await;
    let (db, ws) = (&srv.state.db, srv.fx.ws_a);
    on_db!(db, |p| sqlx::query("UPDATE workspaces SET weekly_contact_target = 5 WHERE id = $1").bind(ws).execute(p).await.map(|_| ())).unwrap();
    backend::tenancy::workspaces::set_bison_credentials(db, &srv.state.secrets, ws, Some("7"), Some("acme-bison-key-0123456789abcdef")).await.unwrap();
    on_db!(db, |p| sqlx::query(
        "INSERT INTO campaigns (workspace_id, bison_campaign_id, name, status, leads_total, leads_contacted, created_at, updated_at) VALUES ($1, '42', 'Homeowners', 'active', 0, 0, $2, $2)"
    )
    .bind(ws)
    .bind(chrono::Utc::now())
    .execute(p)
    .await
    .map(|_| ()))
    .unwrap();
    for z in ZIPS {
        backend::zips::assign(db, ws, z, Some("NJ"), None).await.unwrap();
    }
    let admin = SessionUser { session_id: 0, user_id: srv.fx.admin_id, email: "admin@agency.test".into(), display_name: "Ada Admin".into(), role: backend::identity::users::Role::Admin };
    let (_, user, password) = COLE_ACCOUNTS[0];
    automations::credentials::save(db, &srv.state.secrets, &admin, Site::Cole, "nj", user, password).await.unwrap();
    let scope = backend::tenancy::access::require_write(db, &admin, ws).await.unwrap();
    let mut settings = automations::Settings { cole_state: "NJ".into(), step_timeout_secs: 20, ..Default::default() };
    change(&mut settings);
    automations::save_settings(db, &admin, &scope, &settings).await.unwrap();
    let browser = backend::connectors::chromium::BrowserPool::new(srv.state.config.integrations.browser.clone());
    World { srv, browser, fixture, bison, debounce, admin }
}

impl World {
    async fn start(&self, first: Step, last: Step, dry_run: bool) -> i64 {
        let scope = backend::tenancy::access::require_write(&self.srv.state.db, &self.admin, self.srv.fx.ws_a).await.unwrap();
        automations::request_run(&self.srv.state, &self.admin, &scope, first, last, dry_run).await.unwrap()
    }

    async fn work(&self, run: i64) -> automations::Run {
        engine::execute_with(&self.srv.state, &self.browser, run).await.unwrap();
        automations::run(&self.srv.state.db, run).await.unwrap()
    }

    async fn count(&self, sql: &str) -> i64 {
        let ws = self.srv.fx.ws_a;
        on_db!(&self.srv.state.db, |p| sqlx::query_scalar::<_, i64>(sqlx::AssertSqlSafe(sql.to_owned())).bind(ws).fetch_one(p).await).unwrap()
    }

    async fn contacts(&self) -> i64 {
        self.count("SELECT COUNT(*) FROM contacts WHERE workspace_id = $1").await
    }

    fn exports(&self) -> usize {
        self.fixture.requests().iter().filter(|r| r.path.ends_with("/cole/export")).count()
    }

    async fn step_status(&self, run: i64) -> Vec<(String, i64, String)> {
        automations::steps(&self.srv.state.db, run).await.unwrap().into_iter().map(|s| (s.step.as_str().to_owned(), s.attempt, s.status.as_str().to_owned())).collect()
    }
}

fn output(steps: &[automations::StepRun], step: Step) -> Value {
    let s = steps.iter().rev().find(|s| s.step == step && s.status == automations::StepStatus::Completed).unwrap_or_else(|| panic!("{step:?} did not complete"));
    serde_json::from_str(s.output.as_deref().unwrap()).unwrap()
}

fn today() -> chrono::NaiveDate {
    backend::tenancy::settings::agency_today(chrono::Utc::now(), backend::tenancy::settings::DEFAULT_TIME_ZONE)
}

#[tokio::test]
async fn the_whole_chain_pulls_cleans_measures_uploads_and_renames() {
    let w = world(1000).await;
    // Slack: the agency's channel hears how runs end (the client's channel does not).
    backend::notifications::set_agency_url(&w.srv.state.db, &w.srv.state.secrets, Some("http://127.0.0.1:9/agency-hook")).await.unwrap();
    backend::notifications::set_workspace_url(&w.srv.state.db, &w.srv.state.secrets, w.srv.fx.ws_a, Some("http://127.0.0.1:9/client-hook")).await.unwrap();
    let run = w.start(Step::Pull, Step::Rotate, false).await;
    let done = w.work(run).await;
    assert_eq!(done.status, RunStatus::Completed, "{:?}", done.error);
    let steps = automations::steps(&w.srv.state.db, run).await.unwrap();
    assert_eq!(steps.iter().map(|s| s.step.as_str()).collect::<Vec<_>>(), ["pt1_pull", "pt2_clean", "pt3_gap", "pt4_upload", "pt5_rotate"]);
    // PT1: 3 homeowners per ZIP.
    assert_eq!(output(&steps, Step::Pull)["rows"], 9);
    // PT2: all 9 imported and verified safe (one DeBounce credit each).
    assert_eq!(w.contacts().await, 9);
    assert_eq!(output(&steps, Step::Clean)["created"], 9);
    assert_eq!(w.count("SELECT COUNT(*) FROM contacts WHERE workspace_id = $1 AND verification = 'safe'").await, 9);
    // PT3: the month needs ⌈5 × 52 / 12⌉ = 22; 9 is short, so one supplemental pull went further
    // back (the stand-in has the same 9 people there: nothing new), and the run says it is short by 13.
    let gap = output(&steps, Step::Gap);
    assert_eq!((gap["need"].as_i64(), gap["cleaned"].as_i64(), gap["short"].as_i64()), (Some(22), Some(9), Some(13)));
    assert_eq!(gap["supplemental"].as_array().unwrap().len(), 1);
    assert_eq!(w.exports(), 2, "the chain's pull and one supplemental pull");
    assert_eq!(w.debounce.calls.load(Ordering::SeqCst), 9, "the supplemental pull's duplicates are not verified again");
    // PT4: the week's batch of 5 went to campaign 42.
    let b = w.bison.lock().unwrap();
    assert_eq!(b.created.len(), 5);
    assert_eq!(b.attached.len(), 5);
    // PT5: renamed with every setting sent back unchanged (the fake refuses anything else).
    assert_eq!(b.renames.len(), 1);
    let expected = automations::campaign_name("{client} – {yyyy-mm} – wk{n}", "Acme Roofing", today());
    assert_eq!(b.renames[0]["name"], expected.as_str());
    drop(b);
    assert_eq!(w.count("SELECT COUNT(*) FROM campaigns WHERE workspace_id = $1 AND name LIKE 'Acme Roofing – %'").await, 1);
    // The public event and the log.
    assert_eq!(w.count("SELECT COUNT(*) FROM workspace_events WHERE workspace_id = $1 AND kind = 'automation.run_completed'").await, 1);
    let log = automations::log_since(&w.srv.state.db, run, 0, 500).await.unwrap();
    assert!(log.iter().any(|l| l.message.contains("Export downloaded: 9 records")), "{log:?}");
    // Nothing secret in the log or the stored outputs.
    let password = COLE_ACCOUNTS[0].2;
    assert!(log.iter().all(|l| !l.message.contains(password)));
    assert!(steps.iter().all(|s| !s.output.as_deref().unwrap_or("").contains(password)));
    let slack: Vec<(Option<i64>, String)> =
        on_db!(&w.srv.state.db, |p| sqlx::query_as("SELECT workspace_id, text FROM slack_messages ORDER BY id").fetch_all(p).await).unwrap();
    assert_eq!(slack.len(), 1, "{slack:?}");
    assert_eq!(slack[0].0, None, "to the agency's channel");
    assert!(slack[0].1.contains(&format!("Acme Roofing — automation Run {run} completed")), "{slack:?}");
    // The browser closes with nothing left behind.
    assert!(w.browser.chromium_processes() > 0, "the pull ran in a real Chromium");
    w.browser.shutdown().await;
    assert_eq!(w.browser.chromium_processes(), 0, "no Chromium process outlives the pool");
}

#[tokio::test]
async fn a_dry_run_reads_the_site_but_writes_nothing_outside() {
    let w = world(1000).await;
    let run = w.start(Step::Pull, Step::Rotate, true).await;
    let done = w.work(run).await;
    assert_eq!(done.status, RunStatus::Completed, "{:?}", done.error);
    assert_eq!(w.exports(), 2, "it pulled (and, short, pulled once more)");
    assert_eq!(w.contacts().await, 0, "no contact imported");
    assert_eq!(w.debounce.calls.load(Ordering::SeqCst), 0, "no DeBounce credit spent");
    let b = w.bison.lock().unwrap();
    assert_eq!((b.created.len(), b.renames.len(), b.calls.get("update").copied().unwrap_or(0)), (0, 0, 0), "nothing written to Email Bison");
    drop(b);
    let steps = automations::steps(&w.srv.state.db, run).await.unwrap();
    assert_eq!(output(&steps, Step::Upload)["would_upload"], 0, "no verified contacts yet");
    let log = automations::log_since(&w.srv.state.db, run, 0, 500).await.unwrap();
    assert!(log.iter().any(|l| l.message.starts_with("Dry run: would rename Email Bison campaign 42")), "{log:?}");
}

#[tokio::test]
async fn with_a_clay_table_set_pt2_enriches_the_pull_through_clay_before_the_import() {
    let w = world_with(1000, |s| s.clay_table = "leads".into()).await;
    let (user, password) = CLAY_ACCOUNT;
    automations::credentials::save(&w.srv.state.db, &w.srv.state.secrets, &w.admin, Site::Clay, "", user, password).await.unwrap();
    let run = w.start(Step::Pull, Step::Clean, false).await;
    let done = w.work(run).await;
    assert_eq!(done.status, RunStatus::Completed, "{:?}", done.error);
    assert!(w.fixture.requests().iter().any(|r| r.path == "/clay/tables/leads/upload"), "the pull went to Clay's table");
    assert_eq!(w.contacts().await, 9);
    // The stand-in's enrichment adds a company and a title, which the import maps.
    assert_eq!(w.count("SELECT COUNT(*) FROM contacts WHERE workspace_id = $1 AND company IS NOT NULL AND title IS NOT NULL").await, 9);
}

fn assert_png(path: &str) {
    let png = std::fs::read(path).unwrap();
    assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n", "{path} is not a PNG");
    assert!(png.len() > 1024, "{path}: {} bytes is too small to show a page", png.len());
}

async fn failed_step_files(w: &World, run: i64) -> (Option<String>, Option<String>) {
    on_db!(&w.srv.state.db, |p| sqlx::query_as::<_, (Option<String>, Option<String>)>(
        "SELECT screenshot_path, html_path FROM automation_steps WHERE run_id = $1 AND status = 'failed' ORDER BY id DESC LIMIT 1"
    )
    .bind(run)
    .fetch_one(p)
    .await)
    .unwrap()
}

#[tokio::test]
async fn a_wrong_password_fails_pt1_with_a_screenshot_and_a_retry_goes_on_from_there() {
    let w = world(1000).await;
    w.fixture.set_behaviour(FixtureBehaviour { wrong_password_always: true, ..Default::default() });
    let run = w.start(Step::Pull, Step::Clean, false).await;
    let failed = w.work(run).await;
    assert_eq!(failed.status, RunStatus::Failed);
    assert!(failed.error.as_deref().unwrap().starts_with("sign in: Cole X Dates refused the sign-in for NJ"), "{:?}", failed.error);
    assert!(!failed.error.as_deref().unwrap().contains(COLE_ACCOUNTS[0].2), "the password is not in the error");
    let (png, html) = failed_step_files(&w, run).await;
    assert_png(&png.unwrap());
    let html = std::fs::read_to_string(html.unwrap()).unwrap();
    assert!(html.contains("Invalid username or password") && !html.contains(COLE_ACCOUNTS[0].2));
    assert_eq!(w.contacts().await, 0, "nothing half-written");
    assert_eq!(w.count("SELECT COUNT(*) FROM workspace_events WHERE workspace_id = $1 AND kind = 'automation.run_failed'").await, 1);

    // Fixed, retried: PT1 again (attempt 2), then PT2.
    w.fixture.set_behaviour(FixtureBehaviour { export_delay: Duration::from_millis(200), ..Default::default() });
    automations::retry(&w.srv.state, &w.admin, run).await.unwrap();
    let done = w.work(run).await;
    assert_eq!(done.status, RunStatus::Completed, "{:?}", done.error);
    assert_eq!(w.step_status(run).await, [("pt1_pull".into(), 1, "failed".into()), ("pt1_pull".into(), 2, "completed".into()), ("pt2_clean".into(), 1, "completed".into())]);
    assert_eq!(w.contacts().await, 9);
}

#[tokio::test]
async fn an_export_that_never_arrives_fails_pt1_within_its_time_limit() {
    let w = world(1000).await;
    w.fixture.set_behaviour(FixtureBehaviour { export_never_arrives: true, ..Default::default() });
    let scope = backend::tenancy::access::require_write(&w.srv.state.db, &w.admin, w.srv.fx.ws_a).await.unwrap();
    let settings = automations::Settings { cole_state: "NJ".into(), step_timeout_secs: 6, ..Default::default() };
    automations::save_settings(&w.srv.state.db, &w.admin, &scope, &settings).await.unwrap();
    let run = w.start(Step::Pull, Step::Rotate, false).await;
    let started = std::time::Instant::now();
    let failed = w.work(run).await;
    assert!(started.elapsed() < Duration::from_secs(30), "took {:?}", started.elapsed());
    assert_eq!(failed.status, RunStatus::Failed);
    let steps = automations::steps(&w.srv.state.db, run).await.unwrap();
    assert_eq!(steps.len(), 1, "nothing after the failed step ran");
    assert_eq!(steps[0].step, Step::Pull);
    assert!(steps[0].failed_action.as_deref() == Some("wait for download") || steps[0].error.as_deref().unwrap_or("").contains("time limit"), "{:?}", steps[0]);
}

#[tokio::test]
async fn debounce_out_of_credits_stops_pt2_with_the_import_whole_and_the_retry_does_not_pull_again() {
    // 4 credits for 9 new contacts: the run stops before spending any (the admin decides between
    // buying credits and leaving contacts unverified, as on the contacts page).
    let w = world(4).await;
    let run = w.start(Step::Pull, Step::Gap, false).await;
    let failed = w.work(run).await;
    assert_eq!(failed.status, RunStatus::Failed);
    assert!(failed.error.as_deref().unwrap().starts_with("DeBounce: "), "{:?}", failed.error);
    assert_eq!(w.step_status(run).await.last().unwrap(), &("pt2_clean".to_owned(), 1, "failed".to_owned()));
    assert_eq!(w.contacts().await, 9, "the import is whole");
    assert_eq!(w.count("SELECT COUNT(*) FROM contacts WHERE workspace_id = $1 AND verification <> 'unverified'").await, 0);

    w.debounce.credits.store(100, Ordering::SeqCst);
    automations::retry(&w.srv.state, &w.admin, run).await.unwrap();
    let done = w.work(run).await;
    assert_eq!(done.status, RunStatus::Completed, "{:?}", done.error);
    assert_eq!(w.contacts().await, 9, "the same file imported again adds nothing");
    assert_eq!(w.count("SELECT COUNT(*) FROM contacts WHERE workspace_id = $1 AND verification = 'safe'").await, 9);
    assert_eq!(w.debounce.calls.load(Ordering::SeqCst), 9, "each address verified once");
    // PT1 completed the first time: the retry used its file. The gap step's supplemental pull is the second export.
    assert_eq!(w.exports(), 2);
}

#[tokio::test]
async fn an_email_bison_429_fails_pt4_and_the_retry_uploads_without_duplicates() {
    let w = world(1000).await;
    let first = w.start(Step::Pull, Step::Clean, false).await;
    assert_eq!(w.work(first).await.status, RunStatus::Completed);
    w.bison.lock().unwrap().throttled = 4; // every attempt of the first call
    let run = w.start(Step::Upload, Step::Rotate, false).await;
    let failed = w.work(run).await;
    assert_eq!(failed.status, RunStatus::Failed);
    assert!(failed.error.as_deref().unwrap().contains("429"), "{:?}", failed.error);
    assert!(w.bison.lock().unwrap().created.is_empty());
    automations::retry(&w.srv.state, &w.admin, run).await.unwrap();
    let done = w.work(run).await;
    assert_eq!(done.status, RunStatus::Completed, "{:?}", done.error);
    let b = w.bison.lock().unwrap();
    assert_eq!(b.created.len(), 5);
    let unique: std::collections::HashSet<_> = b.created.iter().collect();
    assert_eq!(unique.len(), 5, "no lead sent twice");
    assert_eq!(b.renames.len(), 1);
}

#[tokio::test]
async fn one_run_per_workspace_at_a_time_and_a_dead_worker_s_run_is_interrupted_then_resumed() {
    let w = world(1000).await;
    let scope = backend::tenancy::access::require_write(&w.srv.state.db, &w.admin, w.srv.fx.ws_a).await.unwrap();
    // Ten "Run now" clicks at once: one run.
    let tries = (0..10).map(|_| automations::request_run(&w.srv.state, &w.admin, &scope, Step::Pull, Step::Clean, true));
    let outcomes = futures_util::future::join_all(tries).await;
    assert_eq!(outcomes.iter().filter(|o| o.is_ok()).count(), 1);
    assert!(outcomes.iter().filter_map(|o| o.as_ref().err()).all(|e| e.to_string().contains("already has an automation run")));
    let run = *outcomes.iter().find_map(|o| o.as_ref().ok()).unwrap();
    // A worker claimed it and died (kill -9): its lease lapses.
    let db = &w.srv.state.db;
    on_db!(db, |p| sqlx::query("UPDATE automation_runs SET status = 'running', lease_owner = 'gone', lease_until = $1, current_step = 'pt1_pull' WHERE id = $2")
        .bind(chrono::Utc::now() - chrono::Duration::seconds(5))
        .bind(run)
        .execute(p)
        .await
        .map(|_| ()))
    .unwrap();
    assert_eq!(engine::execute_with(&w.srv.state, &w.browser, run).await.unwrap(), format!("run {run}: not queued (finished, or taken by another worker)"));
    let (interrupted, _) = automations::jobs::sweep(db, chrono::Utc::now()).await.unwrap();
    assert_eq!(interrupted, 1);
    assert_eq!(automations::run(db, run).await.unwrap().status, RunStatus::Interrupted);
    automations::retry(&w.srv.state, &w.admin, run).await.unwrap();
    let done = w.work(run).await;
    assert_eq!(done.status, RunStatus::Completed, "{:?}", done.error);
}

#[tokio::test]
async fn site_passwords_are_sealed_at_rest_and_survive_a_key_rotation() {
    let w = world(1000).await;
    let db = &w.srv.state.db;
    let stored: String = on_db!(db, |p| sqlx::query_scalar("SELECT sealed_password FROM site_credentials").fetch_one(p).await).unwrap();
    assert!(!stored.contains(COLE_ACCOUNTS[0].2));
    let new = backend::platform::crypto::SecretBox::from_passphrase("a-brand-new-key-of-at-least-32-characters").unwrap();
    let done = backend::runtime::rekey::rotate(db, &w.srv.state.secrets, &new).await.unwrap();
    assert_eq!((done.resealed, done.already_new), (3, 0), "B's Bison key, A's Bison key, the NJ password");
    let login = automations::credentials::login_for(db, &new, Site::Cole, "NJ").await.unwrap();
    assert_eq!(login.password, COLE_ACCOUNTS[0].2);
    assert!(automations::credentials::login_for(db, &w.srv.state.secrets, Site::Cole, "NJ").await.is_err(), "the old key no longer opens it");
    // Run again: nothing left to do, nothing broken.
    assert_eq!(backend::runtime::rekey::rotate(db, &w.srv.state.secrets, &new).await.unwrap(), backend::runtime::rekey::Rekeyed { resealed: 0, already_new: 3 });
}
