//! `make bench` (personalization part): BENCH_LEADS leads (1,000) personalized against local
//! fakes of Perplexity and OpenRouter answering in 300 ± 100 ms with 5 % of calls refused with 429
//! (OpenRouter with `Retry-After: 1`; Perplexity without, so our 2 s backoff applies — or
//! `BENCH_RETRY_AFTER=both`). Two ways on the same fakes:
//! - the run engine's sliding window (10 leads in flight, a new one as soon as any finishes),
//!   through a real run on a real database, results stored;
//! - seed-004-style batches of 10 with a barrier (each batch waits for its slowest lead), calling
//!   the same per-lead function.
//! Reports wall times, the speed-up, and checks that no lead is lost or written twice.
//!
//!   BENCH_DATABASE_URL (default: a fresh SQLite file) · BENCH_LEADS (1000) · BENCH_RETRY_AFTER

#[path = "../tests/support/fake_ai.rs"]
mod fake_ai;

use std::{sync::Arc, time::Instant};

use backend::{
    on_db,
    personalization::{self, engine, writer, Writer},
    identity::sessions::SessionUser,
    identity::users::{self, NewUser, Role},
    tenancy::workspaces::{self, WorkspaceInput},
};

#[tokio::main]
async fn main() {
    let leads: usize = std::env::var("BENCH_LEADS").ok().and_then(|v| v.parse().ok()).unwrap_or(1000);
    // Retry-After on 429: OpenRouter may send it, Perplexity's is undocumented (integrations.md),
    // so by default only OpenRouter's fake sends one; BENCH_RETRY_AFTER=both sends it from both.
    let both = std::env::var("BENCH_RETRY_AFTER").is_ok_and(|v| v == "both");
    let retry_after_429 = if both { vec![("perplexity", 1), ("openrouter", 1)] } else { vec![("openrouter", 1)] };
    let fake = Arc::new(fake_ai::FakeAi { latency_ms: (300, 100), share_429: 0.05, retry_after_429, ..Default::default() });
    let base = fake_ai::start(fake.clone()).await;
    let dir = std::env::temp_dir().join("maverick-bench");
    std::fs::create_dir_all(&dir).unwrap();
    let url = std::env::var("BENCH_DATABASE_URL")
        .unwrap_or_else(|_| format!("sqlite://{}/personalization-{}.db", dir.display(), uuid::Uuid::new_v4().simple()));
    let db = backend::platform::db::Db::connect(&url, &Default::default()).await.expect("connect");
    backend::platform::migrate::run(&db).await.expect("migrate");
    let mut config = backend::platform::config::Config::with_database(&url, dir.clone());
    let p = &mut config.personalization;
    p.perplexity_url = format!("{base}/perplexity");
    p.openrouter_url = format!("{base}/openrouter");
    p.perplexity_key = Some("pplx-bench".into());
    p.openrouter_key = Some("sk-or-bench".into());
    // The providers' own limits are what the fakes' 429s stand for.
    p.perplexity_per_minute = 0;
    p.openrouter_per_minute = 0;
    let window = p.concurrency;
    let state = backend::AppState {
        db: db.clone(),
        config: Arc::new(config),
        secrets: backend::platform::crypto::SecretBox::from_passphrase("bench-key-0123456789abcdef0123456789").unwrap(),
        places: Default::default(),
        events: Default::default(),
    };
    let ws = workspaces::create(&db, WorkspaceInput::named(&format!("Bench {}", uuid::Uuid::new_v4().simple()))).await.unwrap().id;
    let u = users::create(&db, NewUser { email: format!("bench{}@agency.test", uuid::Uuid::new_v4().simple()), display_name: "Bench".into(), role: Role::Admin, password: "password-123".into() })
        .await
        .unwrap();
    let admin = SessionUser { session_id: 0, user_id: u.id, email: u.email, display_name: u.display_name, role: Role::Admin };
    let campaign = personalization::create_campaign(&db, &admin, ws, "Bench", "", "").await.unwrap();
    let mut csv = String::from("email,company,first_name,title\n");
    for i in 0..leads {
        csv.push_str(&format!("p{i}@firm{i}.test,Firm{i} Roofing,P{i},Owner\n"));
    }
    let staged = dir.join(format!("personalization-{}.csv", uuid::Uuid::new_v4().simple()));
    std::fs::write(&staged, &csv).unwrap();

    // 1. The sliding window, through a real run.
    let started = Instant::now();
    let run = personalization::start_run(&state, &admin, campaign, "bench.csv", &staged, Writer::Ai).await.unwrap();
    engine::execute(&state, run).await.unwrap();
    let window_time = started.elapsed();
    let r = personalization::get_run(&db, &admin, run).await.unwrap();
    let (rows, distinct): (i64, i64) = on_db!(&db, |p| sqlx::query_as(
        "SELECT CAST(COUNT(*) AS BIGINT), CAST(COUNT(DISTINCT email) AS BIGINT) FROM personalization_leads WHERE run_id = $1 AND status IN ('done', 'failed')"
    )
    .bind(run)
    .fetch_one(p)
    .await)
    .unwrap();
    let retried_window: i64 = on_db!(&db, |p| sqlx::query_scalar(
        "SELECT CAST(COUNT(*) AS BIGINT) FROM personalization_calls c JOIN personalization_leads l ON l.id = c.lead_id WHERE l.run_id = $1 AND c.http_status = 429"
    )
    .bind(run)
    .fetch_one(p)
    .await)
    .unwrap();

    // 2. Batches of 10 with a barrier, on the same fakes and the same per-lead function.
    let writers = engine::ai_writers(&state.config.personalization).unwrap();
    let brief = writer::Brief::default();
    let fields: Vec<serde_json::Map<String, serde_json::Value>> = (0..leads)
        .map(|i| {
            serde_json::json!({"email": format!("p{i}@firm{i}.test"), "company": format!("Firm{i} Roofing"), "first_name": format!("P{i}"), "title": "Owner"})
                .as_object()
                .cloned()
                .unwrap()
        })
        .collect();
    let started = Instant::now();
    let (mut written, mut failed) = (0usize, 0usize);
    for chunk in fields.chunks(10) {
        let results = futures_util::future::join_all(chunk.iter().map(|f| writer::personalize_with_ai(&writers, f, &brief))).await;
        for r in results {
            match r.outcome {
                writer::Outcome::Line(_) => written += 1,
                _ => failed += 1,
            }
        }
    }
    let barrier_time = started.elapsed();

    let ra = if both { "Retry-After: 1 from both" } else { "Retry-After: 1 from OpenRouter, none from Perplexity (backoff 2 s)" };
    println!("\nBackend {:?}: {leads} leads, fakes 300 ± 100 ms with 5 % 429 ({ra}), window {window}\n", db.backend());
    println!("| mode | wall time | leads/s | written / failed |\n|---|---|---|---|");
    println!("| sliding window ({window} in flight), stored | {:.1} s | {:.1} | {} / {} |", window_time.as_secs_f64(), leads as f64 / window_time.as_secs_f64(), r.done, r.failed);
    println!("| batches of 10 with a barrier (seed 004) | {:.1} s | {:.1} | {written} / {failed} |", barrier_time.as_secs_f64(), leads as f64 / barrier_time.as_secs_f64());
    println!("\nspeed-up: {:.2}× · 429 answers met by the window: {retried_window}", barrier_time.as_secs_f64() / window_time.as_secs_f64());
    println!(
        "window run: {} leads, {rows} finished rows for {distinct} distinct emails (lost: {}, duplicated: {})",
        r.total,
        r.total - rows,
        rows - distinct
    );
    assert_eq!(r.total, leads as i64);
    assert_eq!(rows, distinct, "no lead twice");
    assert_eq!(rows, leads as i64, "no lead lost");
    let _ = std::fs::remove_file(&staged);
}
