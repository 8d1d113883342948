//! `make bench` (host part), against the real host on a loopback port:
//! - portal: a workspace with 5,000 interested leads; the board page's full server-side render
//!   (GET, HTML) and a stage move round trip (the server function), p50/p95 over repeated calls;
//! - webhook ingest: Email Bison interested-lead deliveries fired concurrently (half of them
//!   repeats of earlier ones): throughput and latency of the 2xx, then every delivery processed,
//!   with no lead lost or duplicated.
//!
//!   BENCH_DATABASE_URL (default: a fresh SQLite file) · BENCH_PORTAL_LEADS (5000) · BENCH_RUNS (30)
//!   BENCH_WEBHOOKS (20000) · BENCH_WEBHOOK_CONCURRENCY (32)

use std::{
    net::SocketAddr,
    sync::Arc,
    time::{Duration, Instant},
};

use backend::{
    tenancy::access::{self, GrantLevel},
    leads::{self, NewLead},
    identity::users::{self, NewUser, Role},
    tenancy::workspaces::{self, WorkspaceInput},
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
    let db = backend::platform::db::Db::connect(&url, &Default::default()).await.expect("connect");
    backend::platform::migrate::run(&db).await.expect("migrate");
    let config = backend::platform::config::Config::with_database(&url, std::env::temp_dir().join("maverick-bench"));
    let state = AppState {
        db: db.clone(),
        secrets: backend::platform::crypto::SecretBox::from_passphrase("bench-key-0123456789abcdef0123456789").unwrap(),
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
            stage: stage.parse().unwrap(),
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

    webhooks(&state, &base, ws).await;
}

/// Fires deliveries at the webhook from `concurrency` tasks; half repeat an earlier reply.
async fn webhooks(state: &AppState, base: &str, ws: i64) {
    let (total, concurrency) = (env("BENCH_WEBHOOKS", 20_000), env("BENCH_WEBHOOK_CONCURRENCY", 32));
    let db = &state.db;
    let token = backend::bison::webhook::rotate_token(db, ws).await.unwrap();
    let url = Arc::new(format!("{base}/webhooks/bison/{token}"));
    let unique = total / 2;
    let http = reqwest::Client::builder().pool_max_idle_per_host(concurrency).build().unwrap();
    let next = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let started = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..concurrency {
        let (http, url, next) = (http.clone(), url.clone(), next.clone());
        tasks.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            loop {
                let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                if i >= total {
                    break;
                }
                let n = i % unique; // the second half repeats the first
                let body = serde_json::json!({
                    "event": {"type": "LEAD_INTERESTED", "name": "Lead Interested", "workspace_id": 1},
                    "data": {
                        "reply": {"id": 1_000_000 + n, "text_body": "Yes, interested — what does it cost?", "date_received": "2026-11-20T15:04:05Z"},
                        "lead": {"id": n, "email": format!("hook{n}@bench.test"), "first_name": "Hook", "last_name": format!("{n}"), "company": "Bench Co"},
                        "campaign": {"id": 7, "name": "Bench campaign"}
                    }
                });
                let t = Instant::now();
                let res = http.post(url.as_str()).json(&body).send().await.unwrap();
                assert!(res.status().is_success(), "delivery {i}: {}", res.status());
                latencies.push(t.elapsed());
            }
            latencies
        }));
    }
    let mut latencies = Vec::new();
    for t in tasks {
        latencies.extend(t.await.unwrap());
    }
    let answered = started.elapsed();
    // Every stored delivery processed (by the per-delivery task or the sweep).
    let count = |sql: &'static str| async move {
        backend::on_db!(db, |p| sqlx::query_scalar::<_, i64>(sql).bind(ws).fetch_one(p).await).unwrap()
    };
    loop {
        backend::bison::webhook::sweep(db, Duration::from_secs(300)).await.unwrap();
        if count("SELECT COUNT(*) FROM webhook_deliveries WHERE workspace_id = $1 AND status IN ('pending', 'processing')").await == 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let processed_all = started.elapsed();
    let leads = count("SELECT COUNT(*) FROM leads WHERE workspace_id = $1 AND email LIKE 'hook%'").await;
    let stored = count("SELECT COUNT(*) FROM webhook_deliveries WHERE workspace_id = $1 AND status = 'processed'").await;
    assert_eq!(leads, unique as i64, "every distinct lead exactly once");
    assert_eq!(stored, unique as i64, "repeats were recognised, not stored");
    println!(
        "\nWebhook ingest: {total} deliveries ({unique} distinct, the rest repeats) from {concurrency} concurrent senders\n\n\
         | measure | value |\n|---|---|\n| answered | {:.0} deliveries/s ({:.1} s) |\n| 2xx latency p50 / p99 | {:.1} / {:.1} ms |\n\
         | all processed after | {:.1} s |\n| leads created | {leads} (lost 0, duplicated 0) |",
        total as f64 / answered.as_secs_f64(),
        answered.as_secs_f64(),
        percentile(&mut latencies.clone(), 0.5),
        percentile(&mut latencies, 0.99),
        processed_all.as_secs_f64(),
    );
}
