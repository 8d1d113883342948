//! Personalization over HTTP with the job workers running: the JSON API starts a run (202 and a
//! run id at once), the status endpoint follows it to `completed`, the CSV export carries the
//! uploaded columns plus the three added ones (formula-safe), and the page shows the results.
//! A browser's form is sent back to the page; a bad file comes back with the reason.

mod common;

use std::time::Duration;

#[tokio::test]
async fn a_script_starts_a_run_follows_it_to_completion_and_downloads_the_csv() {
    let srv = common::start().await;
    let workers = tokio::spawn(backend::runtime::workers::run_with_poll(srv.state.clone(), std::future::pending(), Duration::from_millis(50)));
    let db = &srv.state.db;
    let admin = srv.sign_in("admin@agency.test").await;
    let caller = backend::identity::sessions::SessionUser {
        session_id: 0,
        user_id: srv.fx.admin_id,
        email: "admin@agency.test".into(),
        display_name: "Ada Admin".into(),
        role: backend::identity::users::Role::Admin,
    };
    let campaign = backend::personalization::create_campaign(db, &caller, srv.fx.ws_a, "Spring", "", "").await.unwrap();
    let csv = "First Name,Email Address,Company Name,Notes\nAnn,ann@acme.test,Acme Roofing,=cmd|' /C calc'!A0\nBob,bob@bobco.test,Bobco,\nBad,nope,X,\n";
    let upload = |csv: &'static str| {
        reqwest::multipart::Form::new().text("writer", "template").part("file", reqwest::multipart::Part::bytes(csv.as_bytes().to_vec()).file_name("leads.csv"))
    };
    let res = admin.post(srv.url(&format!("/personalization/{campaign}/runs"))).header("accept", "application/json").multipart(upload(csv)).send().await.unwrap();
    assert_eq!(res.status(), 202);
    let body: serde_json::Value = res.json().await.unwrap();
    let run = body["run_id"].as_i64().unwrap();
    assert_eq!(body["status_url"], format!("/personalization/runs/{run}"));

    let mut status = serde_json::Value::Null;
    for _ in 0..200 {
        status = admin.get(srv.url(&format!("/personalization/runs/{run}"))).send().await.unwrap().json().await.unwrap();
        if status["status"] == "completed" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(status["status"], "completed", "{status}");
    assert_eq!((status["total"].as_i64(), status["done"].as_i64(), status["rejected"].as_i64()), (Some(2), Some(2), Some(1)));

    let export = admin.get(srv.url(&format!("/personalization/{campaign}/export.csv?run={run}"))).send().await.unwrap();
    assert_eq!(export.status(), 200);
    let text = export.text().await.unwrap();
    let mut lines = text.trim_start_matches('\u{feff}').lines();
    assert_eq!(lines.next(), Some("First Name,Email Address,Company Name,Notes,personalized_message,enrichment_status,research"));
    assert_eq!(
        lines.next(),
        Some("Ann,ann@acme.test,Acme Roofing,'=cmd|' /C calc'!A0,\"Ann, I came across Acme Roofing and had an idea for bringing in new business.\",template (not AI),"),
        "the uploaded columns (a formula defused), then the line, who wrote it, no research: {text}"
    );
    let rejected = admin.get(srv.url(&format!("/personalization/runs/{run}/rejected.csv"))).send().await.unwrap().text().await.unwrap();
    assert!(rejected.contains("\"\"\"nope\"\" is not a valid email address\""), "{rejected}");

    let savings = admin.get(srv.url("/personalization/savings.csv")).send().await.unwrap().text().await.unwrap();
    // 2 leads × 0.02 h = 0.04 h; × $2 = $0.08.
    assert!(savings.contains("workspace,Acme Roofing,2,0.04,0.08") && savings.contains("user,Ada Admin,2,0.04,0.08"), "{savings}");
    // A client reads its workspace's savings (once the agency opened personalization to it),
    // never the names of the agency staff who ran them.
    backend::personalization::set_client_access(db, &caller, srv.fx.ws_a, true).await.unwrap();
    let client = srv.sign_in("clienta@acme.test").await;
    let theirs = client.get(srv.url("/personalization/savings.csv")).send().await.unwrap().text().await.unwrap();
    assert!(theirs.contains("workspace,Acme Roofing,2,0.04,0.08"), "{theirs}");
    assert!(!theirs.contains("user,") && !theirs.contains("Ada Admin"), "{theirs}");
    let campaigns = admin.get(srv.url("/personalization/campaigns.csv")).send().await.unwrap().text().await.unwrap();
    assert!(campaigns.contains("Spring,Acme Roofing,2,2,0,"), "{campaigns}");

    let (leads, _) = backend::personalization::leads(db, campaign, Some(run), None, 0, 1).await.unwrap();
    let calls = admin.get(srv.url(&format!("/personalization/leads/{}/calls.csv", leads[0].id))).send().await.unwrap().text().await.unwrap();
    assert!(calls.trim_start_matches('\u{feff}').starts_with("at,provider,model,attempt,http_status,error"), "{calls}");

    let page = admin.get(srv.url(&format!("/personalization/{campaign}?run={run}"))).send().await.unwrap().text().await.unwrap();
    assert!(page.contains("Ann, I came across Acme Roofing") && page.contains("template, not AI"), "the results and who wrote them");

    // A browser's form goes back to the page: on the run, or with the reason it was refused.
    let res = admin.post(srv.url(&format!("/personalization/{campaign}/runs"))).multipart(upload("name,company\nAnn,Acme\n")).send().await.unwrap();
    assert_eq!(res.status(), 303);
    let to = res.headers()["location"].to_str().unwrap().to_owned();
    assert!(to.starts_with(&format!("/personalization/{campaign}?run=")), "{to}");
    let res = admin.post(srv.url(&format!("/personalization/{campaign}/runs"))).multipart(reqwest::multipart::Form::new().text("writer", "ai")).send().await.unwrap();
    let to = res.headers()["location"].to_str().unwrap().to_owned();
    assert_eq!(to, format!("/personalization/{campaign}?error=no_file"), "a code, not words (issue 11, item 10)");
    let page = admin.get(srv.url(&to)).send().await.unwrap().text().await.unwrap();
    assert!(page.contains("Choose a CSV file of leads to upload."), "the page has the words for the code");
    // A link carrying words of its own puts nothing on the page.
    let spoof = admin.get(srv.url(&format!("/personalization/{campaign}?error=Your+account+is+suspended"))).send().await.unwrap().text().await.unwrap();
    assert!(!spoof.contains("suspended") && !spoof.contains("upload-error"), "unknown codes show nothing");
    workers.abort();
}

#[path = "../../backend/tests/support/fake_ai.rs"]
mod fake_ai;

/// Claude's cost untold (no usage accounting, no price list): the calls CSV says `unknown`
/// and the page says so beside the known part, never $0 for the call.
#[tokio::test]
async fn an_unknown_ai_cost_reads_unknown_in_the_calls_csv_and_on_the_page() {
    let fake = std::sync::Arc::new(fake_ai::FakeAi { ignore_usage_accounting: true, models_down: true, ..Default::default() });
    let base = fake_ai::start(fake).await;
    let srv = common::start_with(|c| {
        let p = &mut c.personalization;
        p.perplexity_url = format!("{base}/perplexity");
        p.openrouter_url = format!("{base}/openrouter");
        p.perplexity_key = Some("pplx-test".into());
        p.openrouter_key = Some("sk-or-test".into());
        p.perplexity_per_minute = 0;
        p.openrouter_per_minute = 0;
    })
    .await;
    let db = &srv.state.db;
    let caller = backend::identity::sessions::SessionUser {
        session_id: 0,
        user_id: srv.fx.admin_id,
        email: "admin@agency.test".into(),
        display_name: "Ada Admin".into(),
        role: backend::identity::users::Role::Admin,
    };
    let campaign = backend::personalization::create_campaign(db, &caller, srv.fx.ws_a, "Spring", "", "").await.unwrap();
    let dir = std::env::temp_dir().join("maverick-tests");
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join(format!("leads-{}.csv", uuid::Uuid::new_v4().simple()));
    std::fs::write(&file, "First Name,Email Address,Company Name\nAnn,ann@acme.test,Acme Roofing\n").unwrap();
    let run = backend::personalization::start_run(&srv.state, &caller, campaign, "leads.csv", &file, backend::personalization::Writer::Ai).await.unwrap();
    backend::personalization::engine::execute(&srv.state, run).await.unwrap();
    let (leads, _) = backend::personalization::leads(db, campaign, Some(run), None, 0, 1).await.unwrap();
    assert_eq!(leads[0].status.as_str(), "done");

    let admin = srv.sign_in("admin@agency.test").await;
    let calls = admin.get(srv.url(&format!("/personalization/leads/{}/calls.csv", leads[0].id))).send().await.unwrap().text().await.unwrap();
    let costs: Vec<(String, String)> = calls
        .trim_start_matches('\u{feff}')
        .lines()
        .skip(1)
        .filter_map(|l| l.split(',').collect::<Vec<_>>().get(1..9).map(|f| (f[0].to_owned(), f[7].to_owned())))
        .filter(|(provider, _)| provider == "perplexity" || provider == "openrouter")
        .collect();
    assert_eq!(costs, [("perplexity".to_owned(), "0.005000".to_owned()), ("openrouter".to_owned(), "unknown".to_owned())], "{calls}");

    let page = admin.get(srv.url(&format!("/personalization/{campaign}?run={run}"))).send().await.unwrap().text().await.unwrap();
    assert!(page.contains("AI cost $0.0050 + 1 call of unknown cost"), "{page}");
}
