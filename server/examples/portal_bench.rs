//! `make bench` (portal part): a workspace with 5,000 interested leads behind the real host on a
//! loopback port; times the board page's full server-side render (GET, HTML) and a stage move
//! round trip (the server function over HTTP), p50/p95 over repeated calls.
//!
//!   BENCH_DATABASE_URL (default: a fresh SQLite file) · BENCH_PORTAL_LEADS (5000) · BENCH_RUNS (30)

use std::{net::SocketAddr, time::{Duration, Instant}};

use backend::{
    access::{self, GrantLevel},
    leads::{self, NewLead},
    users::{self, NewUser, Role},
    workspaces::{self, WorkspaceInput},
    AppState,
};
use chrono::Utc;
use server::{router, HostState};

fn env(name: &str, default: usize) -> usize {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

fn percentile(samples: &mut [Duration], p: f64) -> f64 {
    samples.sort();
    let i = ((samples.len() as f64 - 1.0) * p).round() as usize;
    samples[i].as_secs_f64() * 1000.0
}

#[tokio::main]
async fn main() {
    let (n_leads, runs) = (env("BENCH_PORTAL_LEADS", 5_000), env("BENCH_RUNS", 30));
    let url = std::env::var("BENCH_DATABASE_URL").unwrap_or_else(|_| {
        let dir = std::env::temp_dir().join("maverick-bench");
        std::fs::create_dir_all(&dir).unwrap();
        format!("sqlite://{}/portal-{}.db", dir.display(), uuid::Uuid::new_v4().simple())
    });
    let db = backend::db::Db::connect(&url, &Default::default()).await.expect("connect");
    db.migrate().await.expect("migrate");
    let config = backend::config::Config::with_database(&url, std::env::temp_dir().join("maverick-bench"));
    let state = AppState {
        db: db.clone(),
        secrets: backend::crypto::SecretBox::from_passphrase("bench-key-0123456789abcdef0123456789").unwrap(),
        config: std::sync::Arc::new(config),
        places: Default::default(),
        events: Default::default(),
    };
    let mut input = WorkspaceInput::named("Bench Roofing");
    input.monthly_lead_target = 400;
    let ws = workspaces::create(&db, input).await.unwrap().id;
    let u = users::create(&db, NewUser { email: "bench@client.test".into(), display_name: "Bench".into(), role: Role::Client, password: "password-123".into() })
        .await
        .unwrap();
    access::grant(&db, u.id, ws, GrantLevel::Client, u.id, Utc::now()).await.unwrap();
    let started = Instant::now();
    let stages = ["new", "contacted", "follow_up", "meeting_booked", "quote_sent", "won", "lost"];
    let today = Utc::now();
    for i in 0..n_leads {
        let received = today - chrono::Duration::minutes(i as i64 * 17);
        let stage = stages[i % stages.len()];
        let lead = NewLead {
            email: format!("lead{i}@bench.test"),
            first_name: Some(format!("Lead{i}")),
            company: Some(format!("Company {}", i % 300)),
            reply_text: Some("Yes — this is timely, can you send pricing and a few times for a call next week?".into()),
            received_at: Some(received),
            interested_day: Some(received.date_naive()),
            stage: stage.into(),
            deal_value_cents: (stage == "won").then_some(150_000),
            ..Default::default()
        };
        leads::insert(&db, ws, &lead).await.unwrap();
    }
    let generated = started.elapsed();

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let leptos = leptos::config::LeptosOptions::builder().output_name("maverick").site_root("target/site").site_pkg_dir("pkg").site_addr(addr).build();
    let app = router::build(HostState { app: state.clone(), leptos });
    tokio::spawn(async move { axum::serve(listener, app.into_make_service_with_connect_info::<SocketAddr>()).await.unwrap() });
    let base = format!("http://{addr}");
    let client = reqwest::Client::builder().cookie_store(true).redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let res = client.post(format!("{base}/auth/login")).form(&[("email", "bench@client.test"), ("password", "password-123")]).send().await.unwrap();
    assert_eq!(res.status(), 303);

    let board = format!("{base}/client-portal/bench-roofing");
    let mut page = Vec::new();
    for i in 0..=runs {
        let t = Instant::now();
        let res = client.get(&board).send().await.unwrap();
        assert_eq!(res.status(), 200);
        let html = res.text().await.unwrap();
        if i > 0 {
            page.push(t.elapsed());
        }
        assert!(html.contains("lead-card"), "the board rendered");
    }
    let lead_ids: Vec<i64> = backend::on_db!(&db, |p| sqlx::query_scalar::<_, i64>("SELECT id FROM leads WHERE workspace_id = $1 ORDER BY id LIMIT 200")
        .bind(ws)
        .fetch_all(p)
        .await)
    .unwrap();
    let mut moves = Vec::new();
    for i in 0..=runs {
        let to = ["contacted", "follow_up", "meeting_booked", "quote_sent"][i % 4];
        let t = Instant::now();
        let res = client
            .post(format!("{base}/api/portal/leads/move"))
            .header("accept", "application/json")
            .form(&[("lead_id", lead_ids[i % lead_ids.len()].to_string()), ("to_stage", to.to_string())])
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200, "{}", res.text().await.unwrap_or_default());
        if i > 0 {
            moves.push(t.elapsed());
        }
    }
    println!("\nBackend {:?}: one workspace, {n_leads} interested leads (generated in {:.1} s), {runs} runs each, over loopback HTTP\n", db.backend(), generated.as_secs_f64());
    println!("| request | p50 (ms) | p95 (ms) |\n|---|---|---|");
    println!("| board page, full SSR (GET /client-portal/…) | {:.1} | {:.1} |", percentile(&mut page.clone(), 0.5), percentile(&mut page, 0.95));
    println!("| stage move (POST /api/portal/leads/move) | {:.1} | {:.1} |", percentile(&mut moves.clone(), 0.5), percentile(&mut moves, 0.95));
}
