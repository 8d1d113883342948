//! AI personalization against local fakes of Perplexity and OpenRouter, on a real database:
//! a whole run, the retry policy (429 + Retry-After, 5xx, timeouts, malformed JSON, an error
//! inside a 200), regeneration of an unusable line, a run stopped by a refused key and resumed,
//! a crashed worker's run taken up again without redoing finished leads, the template writer,
//! and who may see what.

#[path = "support/fake_ai.rs"]
mod fake_ai;

use std::{sync::Arc, time::Duration};

use backend::{
    connectors::ai::{AiError, Message, Provider},
    platform::http_retry::RetryPolicy,
    on_db,
    personalization::{self, engine, Writer},
    identity::sessions::SessionUser,
    platform::testing::test_state,
    identity::users::{self, NewUser, Role},
    tenancy::workspaces::{self, WorkspaceInput},
    AppState,
};
use fake_ai::{FakeAi, Scripted};

struct Setup {
    state: AppState,
    admin: SessionUser,
    ws: i64,
    campaign: i64,
}

async fn setup(fake: Option<Arc<FakeAi>>) -> Setup {
    let mut state = test_state().await;
    if let Some(fake) = fake {
        let base = fake_ai::start(fake).await;
        let mut config = (*state.config).clone();
        let p = &mut config.personalization;
        p.perplexity_url = format!("{base}/perplexity");
        p.openrouter_url = format!("{base}/openrouter");
        p.perplexity_key = Some("pplx-test".into());
        p.openrouter_key = Some("sk-or-test".into());
        p.perplexity_per_minute = 0;
        p.openrouter_per_minute = 0;
        p.retry_delay = Duration::from_millis(20);
        p.timeout = Duration::from_millis(500);
        config.data_dir = std::env::temp_dir().join(format!("maverick-tests/p-{}", uuid::Uuid::new_v4().simple()));
        state.config = Arc::new(config);
    }
    let db = &state.db;
    let ws = workspaces::create(db, WorkspaceInput::named("Acme Roofing")).await.unwrap().id;
    let u = users::create(db, NewUser { email: "admin@agency.test".into(), display_name: "Ada Admin".into(), role: Role::Admin, password: "password-123".into() })
        .await
        .unwrap();
    let admin = SessionUser { session_id: 0, user_id: u.id, email: u.email, display_name: u.display_name, role: Role::Admin };
    let campaign = personalization::create_campaign(db, &admin, ws, "Spring roofs", "Storm-damage inspections", "").await.unwrap();
    Setup { state, admin, ws, campaign }
}

fn staged(csv: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join("maverick-tests");
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(format!("leads-{}.csv", uuid::Uuid::new_v4().simple()));
    std::fs::write(&path, csv).unwrap();
    path
}

fn leads_csv(n: usize) -> String {
    let mut csv = String::from("First Name,Email Address,Company Name,Job Title,Favourite Colour\n");
    for i in 0..n {
        csv.push_str(&format!("Person{i},person{i}@firm{i}.test,Firm{i} Roofing,Owner,=HYPERLINK(\"x\")\n"));
    }
    csv
}

async fn lead_statuses(s: &Setup, run: i64) -> Vec<(String, String)> {
    on_db!(&s.state.db, |p| sqlx::query_as("SELECT email, status FROM personalization_leads WHERE run_id = $1 ORDER BY id").bind(run).fetch_all(p).await).unwrap()
}

#[tokio::test]
async fn a_run_reads_the_file_personalizes_every_lead_and_stores_prompts_tokens_and_cost() {
    let fake = Arc::new(FakeAi::default());
    let s = setup(Some(fake.clone())).await;
    let csv = format!("{}Broken,not-an-email,X,,\nPerson0 again,PERSON0@firm0.test,Firm0 Roofing,,\n", leads_csv(12));
    let run = personalization::start_run(&s.state, &s.admin, s.campaign, "leads.csv", &staged(&csv), Writer::Ai).await.unwrap();
    let summary = engine::execute(&s.state, run).await.unwrap();
    assert!(summary.contains("completed, 12 done, 0 failed of 12"), "{summary}");
    let r = personalization::get_run(&s.state.db, &s.admin, run).await.unwrap();
    assert_eq!((r.status.as_str(), r.rows_total, r.rejected, r.skipped, r.total, r.done, r.failed), ("completed", 14, 2, 0, 12, 12, 0));
    assert_eq!((fake.calls("perplexity"), fake.calls("openrouter")), (12, 12));
    let (leads, count) = personalization::leads(&s.state.db, s.campaign, Some(run), None, 0, 100).await.unwrap();
    assert_eq!(count, 12);
    assert_eq!(leads[0].line.as_deref(), Some("Seeing Firm0 Roofing expand its team this year caught my eye."));
    assert!(leads[0].research.as_deref().unwrap().contains("Sources: https://example.test/about"));
    // Perplexity 120 + 30 tokens, Claude 1200 + 300.
    assert_eq!((leads[0].prompt_tokens, leads[0].completion_tokens), (1320, 330));
    // The lead's cost: Perplexity's $0.005 + Claude's $0.0084 (OpenRouter's usage accounting).
    assert!((leads[0].cost_usd - 0.0134).abs() < 1e-12, "{}", leads[0].cost_usd);
    assert_eq!((leads[0].unknown_cost_calls, leads[0].cost_label().as_str()), (0, "$0.0134"));
    let req = fake.writer_requests.lock().unwrap()[0].clone();
    assert_eq!(req["usage"], serde_json::json!({"include": true}), "usage accounting asked for");
    assert_eq!(fake.calls("openrouter/models"), 0, "no price list needed when the answer has the cost");
    // The writer got the task, guidelines, example and the campaign's offer; the lead and research.
    let req = fake.writer_requests.lock().unwrap()[0].clone();
    let system = req["messages"][0]["content"].as_str().unwrap();
    assert!(system.contains("# Task") && system.contains("# Guidelines") && system.contains("# Example") && system.contains("Storm-damage inspections"));
    assert!(req["messages"][1]["content"].as_str().unwrap().contains("company: Firm0 Roofing"));
    let calls = personalization::calls_of(&s.state.db, &s.admin, leads[0].id).await.unwrap();
    assert_eq!(calls.iter().map(|c| c.provider.as_str()).collect::<Vec<_>>(), ["perplexity", "openrouter"]);
    assert!(calls[1].request.contains("# Guidelines") && calls[1].response.as_deref().unwrap().contains("personalized_sentence"), "prompt and answer kept");
    assert_eq!(calls.iter().map(|c| c.cost_usd).collect::<Vec<_>>(), [Some(0.005), Some(0.0084)]);
    assert!(calls[0].at < calls[1].at, "each call keeps its own time: {calls:?}");

    // Savings: 12 leads × 0.02 h = 0.24 h; × $2/h = $0.48.
    let (by_ws, by_user) = personalization::kpis(&s.state.db, &s.admin, 2.0).await.unwrap();
    assert_eq!(by_ws.len(), 1);
    assert_eq!((by_ws[0].who.as_str(), by_ws[0].personalized), ("Acme Roofing", 12));
    assert!((by_ws[0].hours - 0.24).abs() < 1e-9 && (by_ws[0].money - 0.48).abs() < 1e-9);
    assert_eq!((by_user[0].who.as_str(), by_user[0].personalized), ("Ada Admin", 12));

    // The export: the uploaded columns, then the three added ones.
    let (header, rows) = personalization::export(&s.state.db, &s.admin, s.campaign, Some(run)).await.unwrap();
    assert_eq!(header, ["First Name", "Email Address", "Company Name", "Job Title", "Favourite Colour", "personalized_message", "enrichment_status", "research"]);
    assert_eq!(rows[0][..7], ["Person0", "person0@firm0.test", "Firm0 Roofing", "Owner", "=HYPERLINK(\"x\")", "Seeing Firm0 Roofing expand its team this year caught my eye.", "enriched"]);

    // The same file again: every lead is already personalized in this campaign.
    let again = personalization::start_run(&s.state, &s.admin, s.campaign, "leads.csv", &staged(&csv), Writer::Ai).await.unwrap();
    engine::execute(&s.state, again).await.unwrap();
    let r = personalization::get_run(&s.state.db, &s.admin, again).await.unwrap();
    assert_eq!((r.status.as_str(), r.skipped, r.total), ("completed", 12, 0));
    assert_eq!(fake.calls("openrouter"), 12, "no lead written twice");
}

fn provider(base: &str, timeout_ms: u64) -> Provider {
    let policy = RetryPolicy { attempts: 3, base_delay: Duration::from_millis(50), max_retry_after: Duration::from_secs(60), timeout: Duration::from_millis(timeout_ms) };
    Provider::new("openrouter", "OpenRouter", &format!("{base}/openrouter"), "sk", "anthropic/claude-sonnet-4.5", 0, policy)
}

#[tokio::test]
async fn retries_follow_the_policy_429_with_retry_after_5xx_and_timeouts_only() {
    let fake = Arc::new(FakeAi::default());
    let base = fake_ai::start(fake.clone()).await;
    let p = provider(&base, 300);
    let msgs = [Message::user("company: Acme")];
    let ask = |log: &mut Vec<_>| {
        let p = p.clone();
        let msgs = msgs.clone();
        let log = std::mem::take(log);
        async move {
            let mut log = log;
            let r = p.chat(&msgs, 100, 0.5, &mut log).await;
            (r, log)
        }
    };
    // 429 with Retry-After: 1 → waited a second, then answered.
    fake.script("openrouter", [Scripted::Status(429, Some(1), r#"{"error":{"code":429,"message":"slow down"}}"#.into())]);
    let started = std::time::Instant::now();
    let (r, log) = ask(&mut Vec::new()).await;
    assert!(r.is_ok() && log.len() == 2 && started.elapsed() >= Duration::from_secs(1), "{r:?} {log:?}");
    assert_eq!(log[0].http_status, Some(429));
    // 500, then a timeout, then an answer: three attempts.
    fake.script("openrouter", [Scripted::Status(500, None, "oops".into()), Scripted::Hang(Duration::from_millis(800))]);
    let (r, log) = ask(&mut Vec::new()).await;
    assert!(r.is_ok(), "{r:?}");
    assert_eq!(log.iter().map(|c| c.error.is_some()).collect::<Vec<_>>(), [true, true, false]);
    assert!(log[1].error.as_deref().unwrap().contains("did not answer"));
    // Three 503s: the lead fails, with the last reason.
    fake.script("openrouter", (0..3).map(|_| Scripted::Status(503, None, r#"{"error":{"message":"overloaded"}}"#.into())));
    let (r, log) = ask(&mut Vec::new()).await;
    assert!(matches!(&r, Err(AiError::Failed(m)) if m.contains("overloaded") && m.contains("after 3 attempts")), "{r:?}");
    assert_eq!(log.len(), 3);
    // Malformed JSON and a 400 are not retried.
    for body in ["{not json", r#"{"error":{"message":"bad request"}}"#] {
        let code = if body.starts_with("{not") { 200 } else { 400 };
        fake.script("openrouter", [Scripted::Status(code, None, body.into())]);
        let (r, log) = ask(&mut Vec::new()).await;
        assert!(matches!(r, Err(AiError::Failed(_))), "{r:?}");
        assert_eq!(log.len(), 1, "{body}");
    }
    // An error inside a 200: retried when its code is, then answered.
    fake.script("openrouter", [Scripted::Status(200, None, r#"{"error":{"code":502,"message":"upstream died"}}"#.into())]);
    let (r, log) = ask(&mut Vec::new()).await;
    assert!(r.is_ok() && log.len() == 2, "{r:?}");
    // A refused key stops the run.
    fake.script("openrouter", [Scripted::Status(401, None, r#"{"error":{"code":401,"message":"No auth credentials found"}}"#.into())]);
    let (r, _) = ask(&mut Vec::new()).await;
    assert!(matches!(&r, Err(AiError::Fatal(m)) if m.contains("refused the API key")), "{r:?}");
}

#[tokio::test]
async fn an_unusable_line_is_written_again_once_and_a_lead_that_still_fails_does_not_stop_the_run() {
    let fake = Arc::new(FakeAi { first_line_too_long: true, ..Default::default() });
    let s = setup(Some(fake.clone())).await;
    fake.script("perplexity", (0..3).map(|_| Scripted::Status(500, None, "down".into())));
    // One lead at a time, so the first lead meets all three failures.
    let mut config = (*s.state.config).clone();
    config.personalization.concurrency = 1;
    let state = AppState { config: Arc::new(config), ..s.state.clone() };
    let run = personalization::start_run(&state, &s.admin, s.campaign, "l.csv", &staged(&leads_csv(3)), Writer::Ai).await.unwrap();
    engine::execute(&state, run).await.unwrap();
    let r = personalization::get_run(&s.state.db, &s.admin, run).await.unwrap();
    assert_eq!((r.status.as_str(), r.done, r.failed), ("completed", 2, 1));
    let (leads, _) = personalization::leads(&s.state.db, s.campaign, Some(run), Some("failed"), 0, 10).await.unwrap();
    assert!(leads[0].error.as_deref().unwrap().starts_with("research: Perplexity answered 500"), "{:?}", leads[0].error);
    // Each written lead: one research call, two writing calls (the first line had 30 words).
    assert_eq!(fake.calls("openrouter"), 4);
    let req = fake.writer_requests.lock().unwrap()[1].clone();
    assert!(req["messages"][3]["content"].as_str().unwrap().contains("30 words"), "told why: {req}");
}

#[tokio::test]
async fn a_refused_key_stops_the_run_with_leads_left_pending_and_a_resume_finishes_it() {
    let fake = Arc::new(FakeAi::default());
    let s = setup(Some(fake.clone())).await;
    fake.script("perplexity", [Scripted::Status(401, None, r#"{"error":{"message":"Invalid API key","code":401}}"#.into())]);
    let mut config = (*s.state.config).clone();
    config.personalization.concurrency = 1;
    let state = AppState { config: Arc::new(config), ..s.state.clone() };
    let run = personalization::start_run(&state, &s.admin, s.campaign, "l.csv", &staged(&leads_csv(4)), Writer::Ai).await.unwrap();
    engine::execute(&state, run).await.unwrap();
    let r = personalization::get_run(&state.db, &s.admin, run).await.unwrap();
    assert_eq!((r.status.as_str(), r.done, r.failed), ("failed", 0, 0));
    assert!(r.error.as_deref().unwrap().contains("Perplexity refused the API key: Invalid API key"), "{:?}", r.error);
    assert!(lead_statuses(&s, run).await.iter().all(|(_, st)| st == "pending"));
    personalization::resume_run(&state.db, &s.admin, run).await.unwrap();
    engine::execute(&state, run).await.unwrap();
    let r = personalization::get_run(&state.db, &s.admin, run).await.unwrap();
    assert_eq!((r.status.as_str(), r.done, r.failed, r.error), ("completed", 4, 0, None));
}

#[tokio::test]
async fn a_run_whose_worker_died_is_taken_up_by_the_sweep_and_finished_leads_are_not_redone() {
    let fake = Arc::new(FakeAi::default());
    let s = setup(Some(fake.clone())).await;
    let db = &s.state.db;
    let run = personalization::start_run(&s.state, &s.admin, s.campaign, "l.csv", &staged(&leads_csv(6)), Writer::Ai).await.unwrap();
    personalization::extract::extract_run(db, run, &s.state.config.data_dir).await.unwrap();
    // A worker that died after two leads: their results stored, its lease still held, then lapsed.
    on_db!(db, |p| async {
        sqlx::query("UPDATE personalization_leads SET status = 'done', line = 'Kept from before.', writer = 'ai' WHERE run_id = $1 AND line_no <= 3")
            .bind(run)
            .execute(p)
            .await?;
        sqlx::query("UPDATE personalization_runs SET done = 2, lease_owner = 'dead-worker', lease_until = $1 WHERE id = $2")
            .bind(chrono::Utc::now() + chrono::Duration::seconds(30))
            .bind(run)
            .execute(p)
            .await
            .map(|_| ())
    }
    .await)
    .unwrap();
    // While the lease holds, nobody else works the run; the sweep leaves it alone.
    assert!(engine::execute(&s.state, run).await.unwrap().contains("worked elsewhere"));
    assert_eq!(engine::sweep(db, Duration::from_secs(30)).await.unwrap(), 0);
    on_db!(db, |p| sqlx::query("UPDATE personalization_runs SET lease_until = $1 WHERE id = $2")
        .bind(chrono::Utc::now() - chrono::Duration::seconds(1))
        .bind(run)
        .execute(p)
        .await
        .map(|_| ()))
    .unwrap();
    assert_eq!(engine::sweep(db, Duration::from_secs(30)).await.unwrap(), 1, "the lapsed run is queued again");
    engine::execute(&s.state, run).await.unwrap();
    let r = personalization::get_run(db, &s.admin, run).await.unwrap();
    assert_eq!((r.status.as_str(), r.done, r.failed, r.total), ("completed", 6, 0, 6));
    assert_eq!(fake.calls("openrouter"), 4, "only the four unfinished leads were written");
    let kept: i64 = on_db!(db, |p| sqlx::query_scalar("SELECT COUNT(*) FROM personalization_leads WHERE run_id = $1 AND line = 'Kept from before.'").bind(run).fetch_one(p).await).unwrap();
    assert_eq!(kept, 2);
}

#[tokio::test]
async fn without_keys_only_the_template_writer_runs_and_says_so() {
    let s = setup(None).await;
    let path = staged(&leads_csv(3));
    let err = personalization::start_run(&s.state, &s.admin, s.campaign, "l.csv", &path, Writer::Ai).await.unwrap_err();
    assert!(err.to_string().contains("MAVERICK_PERPLEXITY_KEY"), "{err}");
    let run = personalization::start_run(&s.state, &s.admin, s.campaign, "l.csv", &path, Writer::Template).await.unwrap();
    engine::execute(&s.state, run).await.unwrap();
    let (leads, _) = personalization::leads(&s.state.db, s.campaign, Some(run), None, 0, 10).await.unwrap();
    assert_eq!(leads[0].line.as_deref(), Some("Person0, as Owner at Firm0 Roofing, you likely decide how new business comes in."));
    assert_eq!(leads[0].writer.as_deref(), Some("template"));
    let (_, rows) = personalization::export(&s.state.db, &s.admin, s.campaign, None).await.unwrap();
    assert_eq!(rows[0][6], "template (not AI)");
    // A line edited by hand; a cancelled run stops before its leads.
    personalization::edit_line(&s.state.db, &s.admin, leads[1].id, "A line I wrote myself.").await.unwrap();
    let err = personalization::edit_line(&s.state.db, &s.admin, leads[1].id, &vec!["word"; 26].join(" ")).await.unwrap_err();
    assert!(err.to_string().contains("26 words"), "{err}");
    let run2 = personalization::start_run(&s.state, &s.admin, s.campaign, "m.csv", &staged("email,company\nz@z.test,Zed\n"), Writer::Template).await.unwrap();
    personalization::cancel_run(&s.state.db, &s.admin, run2).await.unwrap();
    engine::execute(&s.state, run2).await.unwrap();
    let r = personalization::get_run(&s.state.db, &s.admin, run2).await.unwrap();
    assert_eq!((r.status.as_str(), r.done, r.total), ("cancelled", 0, 1));
    personalization::resume_run(&s.state.db, &s.admin, run2).await.unwrap();
    engine::execute(&s.state, run2).await.unwrap();
    assert_eq!(personalization::get_run(&s.state.db, &s.admin, run2).await.unwrap().status, "completed");
}

#[tokio::test]
async fn clients_see_their_workspaces_campaigns_only_when_it_allows_them() {
    let s = setup(None).await;
    let db = &s.state.db;
    let other = workspaces::create(db, WorkspaceInput::named("Other Co")).await.unwrap().id;
    let theirs = personalization::create_campaign(db, &s.admin, other, "Theirs", "", "").await.unwrap();
    let u = users::create(db, NewUser { email: "client@acme.test".into(), display_name: "Cal Client".into(), role: Role::Client, password: "password-123".into() })
        .await
        .unwrap();
    backend::tenancy::access::grant(db, u.id, s.ws, backend::tenancy::access::GrantLevel::Client, s.admin.user_id, chrono::Utc::now()).await.unwrap();
    let client = SessionUser { session_id: 0, user_id: u.id, email: u.email, display_name: u.display_name, role: Role::Client };
    assert!(matches!(personalization::get_campaign(db, &client, s.campaign).await, Err(backend::Error::NotFound)), "not allowed yet");
    assert!(personalization::list_campaigns(db, &client).await.unwrap().is_empty());
    personalization::set_client_access(db, &s.admin, s.ws, true).await.unwrap();
    assert!(personalization::get_campaign(db, &client, s.campaign).await.is_ok());
    assert!(matches!(personalization::get_campaign(db, &client, theirs).await, Err(backend::Error::NotFound)), "another workspace's");
    assert_eq!(personalization::list_campaigns(db, &client).await.unwrap().iter().map(|c| c.id).collect::<Vec<_>>(), [s.campaign]);
    assert!(personalization::set_client_access(db, &client, s.ws, false).await.is_err(), "only admins change the setting");
}

#[tokio::test]
async fn client_access_changes_only_the_workspaces_named_all_or_none() {
    let s = setup(None).await;
    let db = &s.state.db;
    let beta = workspaces::create(db, WorkspaceInput::named("Beta Dental")).await.unwrap().id;
    // Opened after the admin's form was loaded: the form doesn't name it, so it stays open.
    let later = workspaces::create(db, WorkspaceInput::named("Later Co")).await.unwrap().id;
    personalization::set_client_access(db, &s.admin, later, true).await.unwrap();
    personalization::set_client_access_many(db, &s.admin, &[("acme-roofing".into(), true), ("beta-dental".into(), false)]).await.unwrap();
    let open = personalization::open_to_clients(db).await.unwrap();
    assert_eq!(open, [s.ws, later].into_iter().collect(), "acme opened, beta closed, later untouched");

    // A name that no longer exists: nothing is changed, and the message says what to do.
    let err = personalization::set_client_access_many(db, &s.admin, &[("beta-dental".into(), true), ("gone".into(), true)]).await.unwrap_err();
    assert!(err.to_string().contains("No workspace \"gone\": reload the page"), "{err}");
    assert!(!personalization::open_to_clients(db).await.unwrap().contains(&beta), "all or none");

    let client = SessionUser { role: Role::Client, ..s.admin.clone() };
    assert!(personalization::set_client_access_many(db, &client, &[("beta-dental".into(), true)]).await.is_err(), "admins only");
}

#[tokio::test]
async fn a_file_that_breaks_half_way_fails_the_run_and_leaves_no_lead_behind() {
    let s = setup(None).await;
    let mut csv = leads_csv(1200);
    csv.push_str("Zed,zed@zed.test,\"Zed Roofing,Owner,x\n");
    let run = personalization::start_run(&s.state, &s.admin, s.campaign, "broken.csv", &staged(&csv), Writer::Template).await.unwrap();
    engine::execute(&s.state, run).await.unwrap();
    let r = personalization::get_run(&s.state.db, &s.admin, run).await.unwrap();
    assert_eq!(r.status, "failed");
    assert!(r.error.as_deref().unwrap().contains("Line 1202 opens a quoted cell"), "{:?}", r.error);
    assert!(lead_statuses(&s, run).await.is_empty(), "nothing of the file was kept");
    // UTF-16 is refused with what to do.
    let utf16: Vec<u8> = [0xFF, 0xFE].into_iter().chain("email,company\n".encode_utf16().flat_map(u16::to_le_bytes)).collect();
    let path = staged("");
    std::fs::write(&path, utf16).unwrap();
    let run = personalization::start_run(&s.state, &s.admin, s.campaign, "utf16.csv", &path, Writer::Template).await.unwrap();
    engine::execute(&s.state, run).await.unwrap();
    let r = personalization::get_run(&s.state.db, &s.admin, run).await.unwrap();
    assert!(r.status == "failed" && r.error.as_deref().unwrap().contains("CSV UTF-8"), "{r:?}");
}

/// Issue 11 (15): once a run is recorded it owns its file — a job queue that refuses the push
/// leaves a run the sweep queues later, never a run stuck in `extracting` without its file.
#[tokio::test]
async fn a_run_whose_job_could_not_be_queued_is_queued_by_the_sweep() {
    let s = setup(None).await;
    let db = &s.state.db;
    let (hide, show) = match db {
        backend::platform::db::Db::Sqlite(_) => ("ALTER TABLE Jobs RENAME TO Jobs_hidden", "ALTER TABLE Jobs_hidden RENAME TO Jobs"),
        backend::platform::db::Db::Postgres(_) => ("ALTER TABLE apalis.jobs RENAME TO jobs_hidden", "ALTER TABLE apalis.jobs_hidden RENAME TO jobs"),
    };
    on_db!(db, |p| sqlx::query(hide).execute(p).await.map(|_| ())).unwrap();
    let file = staged(&leads_csv(3));
    let run = personalization::start_run(&s.state, &s.admin, s.campaign, "l.csv", &file, Writer::Template).await.expect("the run is recorded");
    assert!(file.exists(), "the run keeps its file");
    let audited: i64 = on_db!(db, |p| sqlx::query_scalar("SELECT COUNT(*) FROM audit_log WHERE action = 'personalization.run_started' AND target = $1")
        .bind(format!("run:{run}"))
        .fetch_one(p)
        .await)
    .unwrap();
    assert_eq!(audited, 1, "recorded with its audit row");
    on_db!(db, |p| sqlx::query(show).execute(p).await.map(|_| ())).unwrap();
    // No lease and older than the lease time: the sweep queues it.
    tokio::time::sleep(Duration::from_millis(20)).await;
    assert_eq!(engine::sweep(db, Duration::from_millis(10)).await.unwrap(), 1);
    engine::execute(&s.state, run).await.unwrap();
    assert_eq!(personalization::get_run(db, &s.admin, run).await.unwrap().status, personalization::RunStatus::Completed);
}

/// A lead's calls and the lead itself, after a one-lead AI run.
async fn one_lead_run(s: &Setup) -> (personalization::Lead, Vec<personalization::Call>) {
    let run = personalization::start_run(&s.state, &s.admin, s.campaign, "l.csv", &staged(&leads_csv(1)), Writer::Ai).await.unwrap();
    engine::execute(&s.state, run).await.unwrap();
    let (leads, _) = personalization::leads(&s.state.db, s.campaign, Some(run), None, 0, 10).await.unwrap();
    let calls = personalization::calls_of(&s.state.db, &s.admin, leads[0].id).await.unwrap();
    (leads[0].clone(), calls)
}

#[tokio::test]
async fn without_usage_accounting_claudes_cost_comes_from_the_published_prices_fetched_once() {
    let fake = Arc::new(FakeAi { ignore_usage_accounting: true, ..Default::default() });
    let s = setup(Some(fake.clone())).await;
    let run = personalization::start_run(&s.state, &s.admin, s.campaign, "l.csv", &staged(&leads_csv(3)), Writer::Ai).await.unwrap();
    engine::execute(&s.state, run).await.unwrap();
    let (leads, _) = personalization::leads(&s.state.db, s.campaign, Some(run), None, 0, 10).await.unwrap();
    assert_eq!(leads.len(), 3);
    for lead in &leads {
        let calls = personalization::calls_of(&s.state.db, &s.admin, lead.id).await.unwrap();
        // 1200 prompt tokens × $0.000003 + 300 completion tokens × $0.000015 = $0.0036 + $0.0045.
        assert!((calls[1].cost_usd.unwrap() - 0.0081).abs() < 1e-12, "{calls:?}");
        // + Perplexity's $0.005.
        assert!((lead.cost_usd - 0.0131).abs() < 1e-12 && lead.unknown_cost_calls == 0, "{lead:?}");
    }
    assert_eq!(fake.calls("openrouter/models"), 1, "the price list is cached");
}

#[tokio::test]
async fn a_cost_nobody_tells_is_unknown_never_zero() {
    let fake = Arc::new(FakeAi { ignore_usage_accounting: true, models_down: true, ..Default::default() });
    let s = setup(Some(fake.clone())).await;
    let (lead, calls) = one_lead_run(&s).await;
    assert_eq!(lead.status.as_str(), "done");
    assert_eq!(calls.iter().map(|c| c.cost_usd).collect::<Vec<_>>(), [Some(0.005), None]);
    assert!((lead.cost_usd - 0.005).abs() < 1e-12, "only the known part is summed: {lead:?}");
    assert_eq!(lead.unknown_cost_calls, 1);
    assert_eq!(lead.cost_label(), "$0.0050 + 1 call of unknown cost");
    assert_eq!(personalization::cost_label(1.23, 2), "$1.2300 + 2 calls of unknown cost");
    let stored: Option<f64> = on_db!(&s.state.db, |p| sqlx::query_scalar("SELECT cost_usd FROM personalization_calls WHERE provider = 'openrouter'").fetch_one(p).await).unwrap();
    assert_eq!(stored, None, "stored as NULL");
}

#[tokio::test]
async fn every_attempt_keeps_its_own_time_and_a_refused_attempt_costs_nothing() {
    let fake = Arc::new(FakeAi::default());
    let s = setup(Some(fake.clone())).await;
    fake.script("openrouter", [Scripted::Status(429, None, r#"{"error":{"code":429,"message":"slow down"}}"#.into())]);
    let (lead, calls) = one_lead_run(&s).await;
    assert_eq!(calls.iter().map(|c| (c.provider.as_str(), c.attempt, c.http_status)).collect::<Vec<_>>(), [
        ("perplexity", 1, Some(200)),
        ("openrouter", 1, Some(429)),
        ("openrouter", 2, Some(200))
    ]);
    // The retry waited the backoff (20 ms) after the 429: its time is later by at least that.
    assert!(calls[2].at - calls[1].at >= chrono::Duration::milliseconds(20), "{:?} then {:?}", calls[1].at, calls[2].at);
    assert_eq!(calls.iter().map(|c| c.cost_usd).collect::<Vec<_>>(), [Some(0.005), Some(0.0), Some(0.0084)]);
    assert!((lead.cost_usd - 0.0134).abs() < 1e-12 && lead.unknown_cost_calls == 0, "{lead:?}");
}
