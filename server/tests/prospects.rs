//! Prospects over HTTP (issue 15): an admin uploads an agents and a company file (the same
//! fixtures the Playwright spec uses), runs the resolver, decides review pairs and sends masters
//! to a workspace's contacts through the contact pipeline. Both backends (TEST_DATABASE_URL).

mod common;

use reqwest::multipart::{Form, Part};

const AGENTS: &str = include_str!("../../end2end/fixtures/prospects-agents.csv");
const COMPANY: &str = include_str!("../../end2end/fixtures/prospects-company.csv");

fn form(kind: &str, name: &str, body: &str) -> Form {
    Form::new().text("kind", kind.to_owned()).part("file", Part::bytes(body.as_bytes().to_vec()).file_name(name.to_owned()))
}

/// The real job workers of this test's host (the queue polled every 100 ms), until the test ends.
fn start_workers(srv: &common::TestServer) {
    let state = srv.state.clone();
    tokio::spawn(backend::runtime::workers::run_with_poll(state, std::future::pending(), std::time::Duration::from_millis(100)));
}

/// Asks for a resolver run as the page does, then follows its progress until it ends; answers
/// the run id and every (status, phase) seen on the way.
async fn resolve_and_wait(srv: &common::TestServer, admin: &reqwest::Client) -> (i64, Vec<(String, Option<String>)>) {
    let (status, body) = srv.call(admin, "/api/admin/prospects/resolve", &[]).await;
    assert_eq!(status, 200, "{body}");
    let run: i64 = body.parse().unwrap();
    let mut seen = Vec::new();
    for _ in 0..300 {
        let (s, b) = srv.call(admin, "/api/admin/prospects/progress", &[]).await;
        assert_eq!(s, 200, "{b}");
        let p: serde_json::Value = serde_json::from_str(&b).unwrap();
        assert_eq!(p["id"], run, "{b}");
        let at = (p["status"].as_str().unwrap().to_owned(), p["phase"].as_str().map(str::to_owned));
        if seen.last() != Some(&at) {
            seen.push(at.clone());
        }
        match at.0.as_str() {
            "succeeded" => return (run, seen),
            "failed" => panic!("run {run} failed: {b}"),
            _ => tokio::time::sleep(std::time::Duration::from_millis(50)).await,
        }
    }
    panic!("run {run} did not end in 15 s: {seen:?}");
}

#[tokio::test]
async fn uploads_load_both_kinds_once_and_their_rejected_rows_download() {
    let srv = common::start().await;
    let admin = srv.sign_in("admin@agency.test").await;
    let res = admin.post(srv.url("/admin/prospects/upload")).multipart(form("agents", "agents.csv", AGENTS)).send().await.unwrap();
    assert_eq!(res.status(), 303);
    // 9 rows: 8 people, the one with only a team is rejected.
    assert_eq!(res.headers()["location"], "/admin/prospects?loaded=agents&rows=9&added=8&again=0&persons=8&rejected=1");
    let res = admin.post(srv.url("/admin/prospects/upload")).multipart(form("company", "company.csv", COMPANY)).send().await.unwrap();
    assert_eq!(res.headers()["location"], "/admin/prospects?loaded=company&rows=2&added=1&again=0&persons=2&rejected=1");
    // The same file again adds nothing.
    let res = admin.post(srv.url("/admin/prospects/upload")).multipart(form("agents", "agents.csv", AGENTS)).send().await.unwrap();
    assert_eq!(res.headers()["location"], "/admin/prospects?loaded=agents&rows=9&added=0&again=8&persons=0&rejected=1");
    let page = admin.get(srv.url("/admin/prospects?loaded=agents&rows=9&added=8&again=0&persons=8&rejected=1")).send().await.unwrap().text().await.unwrap();
    assert!(page.contains("Agents file loaded: 9 rows read — 8 new, 0 already loaded, 8 persons added, 1 rejected."), "{page}");
    let csv = admin.get(srv.url("/admin/prospects/rejected.csv")).send().await.unwrap().text().await.unwrap();
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines[0], "kind,file,line,reason,row");
    assert!(lines.iter().any(|l| l.starts_with("agents,agents.csv,10,")), "{csv}");
    assert!(lines.iter().any(|l| l.starts_with("company,company.csv,3,")), "{csv}");
    // Refusals say what to fix; nothing is left on disk.
    let res = admin.post(srv.url("/admin/prospects/upload")).multipart(Form::new().part("file", Part::bytes(AGENTS.as_bytes().to_vec()).file_name("a.csv"))).send().await.unwrap();
    assert_eq!(res.status(), 400);
    assert!(res.text().await.unwrap().contains("agents or company"));
    let res = admin.post(srv.url("/admin/prospects/upload")).multipart(form("company", "agents.csv", AGENTS)).send().await.unwrap();
    assert_eq!(res.status(), 400);
    assert!(res.text().await.unwrap().contains("team_members"));
    let left: Vec<_> = std::fs::read_dir(srv.state.config.data_dir.join("uploads")).unwrap().flatten().collect();
    assert!(left.is_empty(), "uploads left behind: {left:?}");
    // A client may not upload.
    let client = srv.sign_in("clienta@acme.test").await;
    assert_eq!(client.post(srv.url("/admin/prospects/upload")).multipart(form("agents", "a.csv", AGENTS)).send().await.unwrap().status(), 403);
}

#[tokio::test]
async fn a_run_its_review_decisions_and_masters_sent_to_contacts() {
    let srv = common::start().await;
    let admin = srv.sign_in("admin@agency.test").await;
    for (kind, name, body) in [("agents", "agents.csv", AGENTS), ("company", "company.csv", COMPANY)] {
        assert_eq!(admin.post(srv.url("/admin/prospects/upload")).multipart(form(kind, name, body)).send().await.unwrap().status(), 303);
    }
    // The page's request only queues the run: without a worker it waits, then one takes it.
    let (status, body) = srv.call(&admin, "/api/admin/prospects/resolve", &[]).await;
    assert_eq!(status, 200, "{body}");
    let queued: i64 = body.parse().unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let (_, b) = srv.call(&admin, "/api/admin/prospects/progress", &[]).await;
    assert!(b.contains(r#""status":"queued""#), "{b}");
    let (s, b) = srv.call(&admin, "/api/admin/prospects/resolve", &[]).await;
    assert_eq!(s, 409, "one run at a time: {b}");
    assert!(b.contains(&format!("run {queued} is already going")), "{b}");
    start_workers(&srv);
    let mut run = 0;
    for _ in 0..300 {
        let (_, b) = srv.call(&admin, "/api/admin/prospects/progress", &[]).await;
        if b.contains(r#""status":"succeeded""#) {
            run = queued;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(run, queued, "the worker ran the queued run");
    let report = admin.get(srv.url(&format!("/admin/prospects/runs/{run}/report.json"))).send().await.unwrap();
    assert_eq!(report.status(), 200);
    let report: serde_json::Value = report.json().await.unwrap();
    // 8 agents + 2 company members; Dana ×3 (email, name + team) become one master.
    assert_eq!(report["persons"], 10);
    let queue = backend::prospects::store::review_queue(&srv.state.db, 50).await.unwrap();
    // Best first: Maria and Peter share an office email (70), Katherine/Catherine only a name (60).
    let rules: Vec<(&str, i64)> = queue.iter().map(|p| (p.rule.as_str(), p.confidence)).collect();
    assert_eq!(rules, [("shared_contact", 70), ("fuzzy_name", 60)]);
    let masters_before = backend::prospects::store::counts(&srv.state.db).await.unwrap().masters;
    let (s, b) = srv.call(&admin, "/api/admin/prospects/decide", &[("pair", queue[0].id.to_string()), ("approve", "yes".into())]).await;
    assert_eq!(s, 200, "{b}");
    // Merged at once, not at the next run.
    assert_eq!(backend::prospects::store::counts(&srv.state.db).await.unwrap().masters, masters_before - 1);
    let (s, b) = srv.call(&admin, "/api/admin/prospects/decide", &[("pair", queue[0].id.to_string()), ("approve", "no".into())]).await;
    assert_eq!(s, 409, "a pair is decided once: {b}");
    let (s, b) = srv.call(&admin, "/api/admin/prospects/decide", &[("pair", queue[1].id.to_string()), ("approve", "no".into())]).await;
    assert_eq!(s, 200, "{b}");
    let (_, phases) = resolve_and_wait(&srv, &admin).await;
    assert_eq!(phases.last().unwrap().0, "succeeded");
    // Decisions survive the re-run: nothing left to review; Maria and Peter are one master,
    // Katherine and Catherine two.
    assert!(backend::prospects::store::review_queue(&srv.state.db, 50).await.unwrap().is_empty());
    let masters = backend::prospects::store::masters(&srv.state.db, 100).await.unwrap();
    let names: Vec<(&str, i64)> = masters.iter().map(|m| (m.full_name.as_str(), m.persons)).collect();
    assert_eq!(masters.len(), 7, "{names:?}");
    assert!(masters.iter().any(|m| m.persons == 2 && m.emails == ["office@realty.test"]), "{names:?}");
    assert_eq!(masters.iter().filter(|m| m.full_name.ends_with("Middleton")).count(), 2, "{names:?}");
    // Catherine Middleton came with a phone only.
    let with_email = 6;
    // Every master to Acme Roofing: those with an email become contacts, the rest are rejected
    // by the contact pipeline's own validation.
    let (s, b) = srv.call(&admin, "/api/admin/prospects/send", &[("workspace", "acme-roofing".into()), ("min_confidence", "0".into())]).await;
    assert_eq!(s, 200, "{b}");
    let sent: serde_json::Value = serde_json::from_str(&b).unwrap();
    assert_eq!(sent["masters"], masters.len());
    assert_eq!(sent["created"], with_email);
    assert_eq!(sent["rejected"], masters.len() - with_email);
    // Sending again: the contact pipeline's dedupe keeps them once.
    let (s, b) = srv.call(&admin, "/api/admin/prospects/send", &[("workspace", "acme-roofing".into()), ("min_confidence", "0".into())]).await;
    assert_eq!(s, 200, "{b}");
    let again: serde_json::Value = serde_json::from_str(&b).unwrap();
    assert_eq!((again["created"].as_u64(), again["duplicates"].as_u64()), (Some(0), Some(with_email as u64)));
    assert_eq!(again["contacts_total"], sent["contacts_total"]);
    // Nothing above 100: a clear error.
    let (s, b) = srv.call(&admin, "/api/admin/prospects/send", &[("workspace", "acme-roofing".into()), ("min_confidence", "101".into())]).await;
    assert_eq!(s, 400, "{b}");
    let masters_csv = admin.get(srv.url("/admin/prospects/masters.csv")).send().await.unwrap().text().await.unwrap();
    assert_eq!(masters_csv.lines().count(), masters.len() + 1);
}

/// The phone region chosen on the form reads numbers written without a country code; a region
/// that is not a country code is refused with what to do, and nothing is loaded.
#[tokio::test]
async fn the_upload_s_phone_region_reads_national_numbers() {
    let srv = common::start().await;
    let admin = srv.sign_in("admin@agency.test").await;
    let body = "full_name,phone\nNigel Price,020 7946 0958\n";
    let with = |region: &str| form("agents", "uk.csv", body).text("region", region.to_owned());
    let res = admin.post(srv.url("/admin/prospects/upload")).multipart(with("XX")).send().await.unwrap();
    assert_eq!(res.status(), 400);
    assert!(res.text().await.unwrap().contains("not a country code"));
    assert_eq!(backend::prospects::store::counts(&srv.state.db).await.unwrap().raw_rows, 0);
    let res = admin.post(srv.url("/admin/prospects/upload")).multipart(with("GB")).send().await.unwrap();
    assert_eq!(res.status(), 303);
    let phones: String = backend::on_db!(&srv.state.db, |pool| sqlx::query_scalar("SELECT phones FROM prospect_persons").fetch_one(pool).await).unwrap();
    assert_eq!(phones, r#"["+442079460958"]"#);
}

/// Uploads attacked: the same file posted eight times at once loads once; a file over the limit,
/// a form without a file, a body that is not multipart and a truncated multipart body are refused
/// with a reason, and nothing is left on disk or half-loaded.
#[tokio::test]
async fn concurrent_and_malformed_uploads_load_once_or_not_at_all() {
    let srv = common::start_with(|c| c.contacts_upload_max_bytes = 64 * 1024).await;
    let admin = srv.sign_in("admin@agency.test").await;
    let posts = (0..8).map(|_| admin.post(srv.url("/admin/prospects/upload")).multipart(form("agents", "agents.csv", AGENTS)).send());
    let answers = futures_util::future::join_all(posts).await;
    for a in &answers {
        let a = a.as_ref().unwrap();
        assert_eq!(a.status(), 303, "{a:?}");
    }
    let c = backend::prospects::store::counts(&srv.state.db).await.unwrap();
    assert_eq!((c.raw_rows, c.persons, c.rejected_rows), (8, 8, 1), "loaded once");

    let big = format!("full_name,email\n{}", "Ann Lee,ann@lee.test\n".repeat(4_000));
    let res = admin.post(srv.url("/admin/prospects/upload")).multipart(form("agents", "big.csv", &big)).send().await.unwrap();
    assert_eq!(res.status(), 413, "over the limit");
    let res = admin.post(srv.url("/admin/prospects/upload")).multipart(Form::new().text("kind", "agents")).send().await.unwrap();
    assert_eq!(res.status(), 400);
    assert!(res.text().await.unwrap().contains("Choose a CSV file"));
    let res = admin.post(srv.url("/admin/prospects/upload")).header("content-type", "text/csv").body(AGENTS).send().await.unwrap();
    assert!(res.status().is_client_error(), "{res:?}");
    let cut = "--XyZ\r\nContent-Disposition: form-data; name=\"kind\"\r\n\r\nagents\r\n--XyZ\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.csv\"\r\n\r\nfull_name\r\nAnn";
    let res = admin.post(srv.url("/admin/prospects/upload")).header("content-type", "multipart/form-data; boundary=XyZ").body(cut).send().await.unwrap();
    assert!(res.status().is_client_error(), "{res:?}");
    let c2 = backend::prospects::store::counts(&srv.state.db).await.unwrap();
    assert_eq!((c2.raw_rows, c2.persons), (8, 8), "nothing half-loaded");
    let left: Vec<_> = std::fs::read_dir(srv.state.config.data_dir.join("uploads")).map(|d| d.flatten().collect()).unwrap_or_default();
    assert!(left.is_empty(), "uploads left behind: {left:?}");
}
