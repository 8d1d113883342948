//! Prospect layers on a real database (both backends: SQLite by default, PostgreSQL when
//! TEST_DATABASE_URL points at a server): files load into raw and normalised layers, a reload
//! adds nothing, bad rows are rejected with a reason, the resolver writes masters with the union
//! of emails and phones, re-running changes nothing, review decisions survive re-runs, a split
//! is remembered, and every run is logged with its report.

use std::path::PathBuf;

use backend::{
    on_db,
    platform::testing::test_state,
    prospects::{store, Region},
};

fn file(name: &str, text: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("prospects-db-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

const COMPANY: &str = r#"research_uuid,team_id,website,team_members
c1,T1,https://smithrealty.test,"[{""name"": ""Dr. John Smith"", ""email"": ""John.Smith@SmithRealty.test"", ""phone"": ""(512) 326-0123""}, {""name"": ""Mary Jones"", ""phones"": [""512.326.0456""]}]"
c2,T2,https://broken.test,"[{""name"": ""Unclosed"""
c3,T3,https://empty.test,"[{""name"": """", ""email"": ""not-an-email""}]"
"#;

const AGENTS: &str = "supabase_uuid,full_name,email_clean,phone_digits,team_id,instagram\n\
a1,Johnny Smith,,5123260123,T1,@johnny\n\
a2,Mary Jones,mary@jones.test,,T1,\n\
a3,,,,T9,@nobody\n\
a4,Peter Wu,peter@wu.test,,T5,\n\
a5,Pete Wu,,,,\n";

async fn count(db: &backend::platform::db::Db, sql: &'static str) -> i64 {
    on_db!(db, |pool| sqlx::query_scalar::<_, i64>(sql).fetch_one(pool).await).unwrap()
}

#[tokio::test]
async fn loads_resolve_and_decisions_survive_re_runs() {
    let state = test_state().await;
    let db = &state.db;
    let company = file("raw_company_info.csv", COMPANY);
    let agents = file("new_agents.csv", AGENTS);

    let c = store::load_file(db, store::SourceKind::Company, &company, Region::default()).await.unwrap();
    // c1 holds two people; c2's JSON is malformed; c3 lists nobody usable.
    assert_eq!((c.rows, c.raw_added, c.persons_added, c.rejected), (3, 1, 2, 2));
    let a = store::load_file(db, store::SourceKind::Agents, &agents, Region::default()).await.unwrap();
    // a3 has no name, email or phone.
    assert_eq!((a.rows, a.raw_added, a.persons_added, a.rejected), (5, 4, 4, 1));
    let reasons: Vec<String> = on_db!(db, |pool| sqlx::query_scalar("SELECT reason FROM prospect_rejects ORDER BY id").fetch_all(pool).await).unwrap();
    assert!(reasons[0].starts_with("team_members is not valid JSON"), "{reasons:?}");
    assert!(reasons[1].contains("nobody"), "{reasons:?}");
    assert_eq!(reasons[2], "No name, no valid email and no valid phone.");

    // Reloading the same file adds nothing to the raw or normalised layers.
    let again = store::load_file(db, store::SourceKind::Agents, &agents, Region::default()).await.unwrap();
    assert_eq!((again.raw_added, again.raw_already_loaded, again.persons_added, again.rejected), (0, 4, 0, 1));
    assert_eq!(count(db, "SELECT COUNT(*) FROM prospect_rejects").await, 3, "a rejected row is kept once");
    assert_eq!(count(db, "SELECT COUNT(*) FROM prospect_persons").await, 6);

    // Normalised: emails lower-cased and validated, phones in E.164.
    let (emails, phones): (String, String) =
        on_db!(db, |pool| sqlx::query_as("SELECT emails, phones FROM prospect_persons ORDER BY id LIMIT 1").fetch_one(pool).await).unwrap();
    assert_eq!((emails.as_str(), phones.as_str()), (r#"["john.smith@smithrealty.test"]"#, r#"["+15123260123"]"#));

    let r = store::resolve_db(db).await.unwrap();
    // John Smith (company) + Johnny Smith (agents, same phone) → one master; Mary Jones twice in
    // T1 → one (name + team); Peter Wu and Pete Wu (no team, nothing contradicts) → review.
    assert_eq!((r.persons, r.masters, r.open_review_pairs), (6, 4, 1));
    assert_eq!(r.confidence_histogram.get("90"), Some(&1));
    assert_eq!(r.confidence_histogram.get("80"), Some(&1));
    assert!((r.duplicate_rate - (1.0 - 4.0 / 6.0)).abs() < 1e-9);
    let (emails, phones): (String, String) = on_db!(db, |pool| sqlx::query_as(
        "SELECT emails, phones FROM prospect_masters WHERE full_name = 'Dr. John Smith'"
    )
    .fetch_one(pool)
    .await)
    .unwrap();
    assert_eq!((emails.as_str(), phones.as_str()), (r#"["john.smith@smithrealty.test"]"#, r#"["+15123260123"]"#));

    // Re-running on the same data changes nothing.
    let masters_before: Vec<(i64, i64, i64)> =
        on_db!(db, |pool| sqlx::query_as("SELECT id, anchor_person_id, persons FROM prospect_masters ORDER BY id").fetch_all(pool).await).unwrap();
    let r2 = store::resolve_db(db).await.unwrap();
    let masters_after: Vec<(i64, i64, i64)> =
        on_db!(db, |pool| sqlx::query_as("SELECT id, anchor_person_id, persons FROM prospect_masters ORDER BY id").fetch_all(pool).await).unwrap();
    assert_eq!(masters_before, masters_after);
    assert_eq!((r2.masters, r2.open_review_pairs), (4, 1));

    // Reject the Wu pair: it is not proposed again. Approving is remembered the same way.
    let queue = store::review_queue(db, 10).await.unwrap();
    assert_eq!((queue.len(), queue[0].rule.as_str(), queue[0].confidence), (1, "fuzzy_name", 60));
    store::decide(db, queue[0].id, false, None).await.unwrap();
    let r3 = store::resolve_db(db).await.unwrap();
    assert_eq!((r3.masters, r3.open_review_pairs), (4, 0));
    assert!(matches!(store::decide(db, 999_999, true, None).await, Err(backend::Error::NotFound)));

    // Split the Mary Jones master (joined by name + team only): two masters at once, and from
    // now on.
    let mary: i64 = on_db!(db, |pool| sqlx::query_scalar("SELECT id FROM prospect_masters WHERE full_name = 'Mary Jones'").fetch_one(pool).await).unwrap();
    assert_eq!(store::split(db, mary, None).await.unwrap(), 2);
    assert_eq!(store::counts(db).await.unwrap().masters, 5, "a split applies at once");
    let marys: Vec<(i64, i64)> = on_db!(db, |pool| sqlx::query_as("SELECT id, persons FROM prospect_masters WHERE full_name = 'Mary Jones' ORDER BY id").fetch_all(pool).await).unwrap();
    assert_eq!((marys.len(), marys[0], marys[1].1), (2, (mary, 1), 1));
    assert!(matches!(store::split(db, 999_999, None).await, Err(backend::Error::NotFound)));
    let r4 = store::resolve_db(db).await.unwrap();
    assert_eq!(r4.masters, 5);
    let r5 = store::resolve_db(db).await.unwrap();
    assert_eq!(r5.masters, 5, "a split survives re-runs");

    // Every decision is audited; every run is in the merge log with its report.
    let actions: Vec<String> = on_db!(db, |pool| sqlx::query_scalar("SELECT action FROM prospect_decisions ORDER BY id").fetch_all(pool).await).unwrap();
    assert_eq!(actions, ["reject", "split", "reject"]);
    let runs = store::runs(db, 10).await.unwrap();
    assert_eq!(runs.len(), 5);
    assert!(runs.iter().all(|r| r.1 == "succeeded" && r.2 == 6));
    let report: Option<String> = on_db!(db, |pool| sqlx::query_scalar("SELECT report FROM prospect_runs ORDER BY id LIMIT 1").fetch_one(pool).await).unwrap();
    let report: serde_json::Value = serde_json::from_str(&report.unwrap()).unwrap();
    assert_eq!(report["masters"], 4);

    // A new file merges into the existing masters (John's keeps its id).
    let more = file("more_agents.csv", "id,name,email,phone,team\nb1,John Smith,,+1 512 326 0123,T1\n");
    store::load_file(db, store::SourceKind::Agents, &more, Region::default()).await.unwrap();
    let john_before: i64 = on_db!(db, |pool| sqlx::query_scalar("SELECT id FROM prospect_masters WHERE full_name = 'Dr. John Smith'").fetch_one(pool).await).unwrap();
    let r6 = store::resolve_db(db).await.unwrap();
    assert_eq!((r6.persons, r6.masters), (7, 5));
    let john: (i64, i64) = on_db!(db, |pool| sqlx::query_as("SELECT id, persons FROM prospect_masters WHERE full_name = 'Dr. John Smith'").fetch_one(pool).await).unwrap();
    assert_eq!(john, (john_before, 3));
}

/// Approving a pair merges the two masters at once (union of emails and phones, the weakest
/// confidence, the first anchor's id), and the next run keeps exactly that master. A pair is
/// decided once, however many approvals arrive together.
#[tokio::test]
async fn an_approved_pair_is_one_master_at_once_and_stays_one() {
    let state = test_state().await;
    let db = &state.db;
    let agents = file(
        "agents.csv",
        "full_name,email,phone,team_id\nPeter Wu,peter@wu.test,,T5\nPete Wu,,+1 512 326 0999,\nAnn Lee,ann@lee.test,,T7\n",
    );
    store::load_file(db, store::SourceKind::Agents, &agents, Region::default()).await.unwrap();
    let r = store::resolve_db(db).await.unwrap();
    assert_eq!((r.masters, r.open_review_pairs), (3, 1));
    let pair = store::review_queue(db, 10).await.unwrap().remove(0);
    let flagged: i64 = count(db, "SELECT COUNT(*) FROM prospect_masters WHERE needs_review").await;
    assert_eq!(flagged, 2, "both Wu masters wait for the decision");
    let peter: i64 = on_db!(db, |pool| sqlx::query_scalar("SELECT id FROM prospect_masters WHERE full_name = 'Peter Wu'").fetch_one(pool).await).unwrap();

    // Ten approvals at once: one decides, the others are told it was decided already.
    let tries = futures_util::future::join_all((0..10).map(|_| store::decide(db, pair.id, true, None))).await;
    assert_eq!(tries.iter().filter(|t| t.is_ok()).count(), 1, "{tries:?}");
    assert!(tries.iter().filter_map(|t| t.as_ref().err()).all(|e| matches!(e, backend::Error::Conflict(_))), "{tries:?}");
    assert_eq!(count(db, "SELECT COUNT(*) FROM prospect_decisions").await, 1);

    let now: Vec<(i64, String, String, String, i64, i64, bool)> = on_db!(db, |pool| sqlx::query_as(
        "SELECT id, full_name, emails, phones, persons, confidence, needs_review FROM prospect_masters ORDER BY id"
    )
    .fetch_all(pool)
    .await)
    .unwrap();
    assert_eq!(now.len(), 2, "merged at once: {now:?}");
    let wu = now.iter().find(|m| m.0 == peter).expect("Peter's master keeps its id");
    assert_eq!(
        (wu.1.as_str(), wu.2.as_str(), wu.3.as_str(), wu.4, wu.5, wu.6),
        ("Peter Wu", r#"["peter@wu.test"]"#, r#"["+15123260999"]"#, 2, 100, false)
    );
    assert_eq!(count(db, "SELECT COUNT(*) FROM prospect_persons WHERE master_id IS NULL OR master_id NOT IN (SELECT id FROM prospect_masters)").await, 0);

    // The next run makes the same master (same id, same contents) and proposes nothing.
    let r2 = store::resolve_db(db).await.unwrap();
    assert_eq!((r2.masters, r2.open_review_pairs), (2, 0));
    let after: Vec<(i64, String, String, String, i64, i64, bool)> = on_db!(db, |pool| sqlx::query_as(
        "SELECT id, full_name, emails, phones, persons, confidence, needs_review FROM prospect_masters ORDER BY id"
    )
    .fetch_all(pool)
    .await)
    .unwrap();
    assert_eq!(after, now);
}

/// Resolver runs are claimed one at a time: of ten requests at once one is queued and the rest
/// name it; a worker takes a run once (compare-and-set) and reports its progress to the end; a
/// run whose worker stopped (lease lapsed) is marked failed by the next request, never blocking.
#[tokio::test]
async fn runs_are_claimed_once_report_progress_and_a_dead_worker_s_run_does_not_block() {
    let state = test_state().await;
    let db = &state.db;
    let agents = file("agents.csv", AGENTS);
    store::load_file(db, store::SourceKind::Agents, &agents, Region::default()).await.unwrap();

    let tries = futures_util::future::join_all((0..10).map(|_| store::request_run(db, None))).await;
    let runs: Vec<i64> = tries.iter().filter_map(|t| t.as_ref().ok().copied()).collect();
    assert_eq!(runs.len(), 1, "{tries:?}");
    let run = runs[0];
    for t in tries.iter().filter_map(|t| t.as_ref().err()) {
        assert!(matches!(t, backend::Error::Conflict(m) if m.contains(&format!("run {run} is already going"))), "{t:?}");
    }
    let queued = store::progress(db).await.unwrap().unwrap();
    assert_eq!((queued.id, queued.status.as_str(), queued.phase.as_deref()), (run, "queued", Some("queued")));

    // Two workers take the same job: one works it, the other is refused.
    let (a, b) = tokio::join!(store::execute_run(db, run), store::execute_run(db, run));
    assert_eq!(a.is_ok() as u8 + b.is_ok() as u8, 1, "{a:?} {b:?}");
    let done = store::progress(db).await.unwrap().unwrap();
    // 4 persons → 4 masters staged and 4 members: 8 rows written of 8.
    assert_eq!((done.status.as_str(), done.phase, done.done, done.total), ("succeeded", None, 8, 8));
    assert_eq!(count(db, "SELECT COUNT(*) FROM prospect_run_masters").await + count(db, "SELECT COUNT(*) FROM prospect_run_members").await, 0, "staging is emptied");

    // A worker took the next run and died: its lease lapses, the next request fails it.
    let dead = store::request_run(db, None).await.unwrap();
    on_db!(db, |pool| sqlx::query("UPDATE prospect_runs SET status = 'running', phase = 'writing', lease_until = $1 WHERE id = $2")
        .bind(chrono::Utc::now() - chrono::Duration::seconds(1))
        .bind(dead)
        .execute(pool)
        .await
        .map(|_| ()))
    .unwrap();
    // It had staged rows before it died: the next request clears them.
    on_db!(db, |pool| sqlx::query("INSERT INTO prospect_run_members (run_id, person_id, anchor_person_id) VALUES ($1, 1, 1)").bind(dead).execute(pool).await.map(|_| ())).unwrap();
    let next = store::request_run(db, None).await.unwrap();
    assert_eq!(count(db, "SELECT COUNT(*) FROM prospect_run_members").await, 0);
    let runs = store::runs(db, 10).await.unwrap();
    let dead_row = runs.iter().find(|r| r.0 == dead).unwrap();
    assert_eq!(dead_row.1, "failed");
    assert!(dead_row.5.as_deref().unwrap_or("").contains("worker stopped"), "{dead_row:?}");
    store::execute_run(db, next).await.unwrap();
    assert_eq!(store::counts(db).await.unwrap().masters, 4);
}

/// `server migrate --verify`: a migrated database has every table, column and index the
/// migrations create; a dropped column and index are reported by name.
#[tokio::test]
async fn verify_reports_what_the_schema_lacks() {
    let state = test_state().await;
    let db = &state.db;
    let ok = backend::platform::migrate::verify(db).await.unwrap();
    assert!(ok.ok, "{ok:?}");
    assert!(ok.tables_expected >= 40 && ok.columns_expected > 300 && ok.indexes_expected > 20, "{ok:?}");
    on_db!(db, |pool| async {
        sqlx::query("DROP INDEX prospect_persons_master").execute(pool).await?;
        sqlx::query("ALTER TABLE prospect_runs DROP COLUMN report").execute(pool).await.map(|_| ())
    }
    .await)
    .unwrap();
    let bad = backend::platform::migrate::verify(db).await.unwrap();
    assert!(!bad.ok);
    assert_eq!((bad.missing_tables.len(), bad.missing_columns.as_slice(), bad.missing_indexes.as_slice()), (0, &["prospect_runs.report".to_string()][..], &["prospect_persons_master".to_string()][..]));
}
