//! `make bench` (event bus, issue 13): the real `server worker` process delivering webhooks to a
//! local receiver. 100 workspaces with one endpoint each; events spread evenly over them.
//!
//! 1. Burst: 20,000 events committed as fast as the bench can → deliveries/s, commit-to-receipt
//!    p50/p99.
//! 2. Paced: 5,000 events at a rate under that throughput → p50/p99 (target p99 < 2 s).
//! 3. Faults: the receiver answers 500 for a minute, and the worker is killed with SIGKILL mid-flood
//!    and started again → afterwards every event reached every endpoint exactly once (one
//!    `webhook-id` per endpoint and event; a repeat only as a retry of the same id).
//!
//!   BENCH_DATABASE_URL (default: a SQLite file) · BENCH_SERVER (target/release/server) ·
//!   BENCH_EVENTS (20000) · BENCH_FAULT_SECS (60)

use std::{
    collections::{HashMap, HashSet},
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use axum::{extract::Path, http::StatusCode, routing::post, Router};
use backend::{
    eventbus::endpoints::{self, EndpointInput, Owner},
    identity::{
        sessions::SessionUser,
        users::{self, NewUser, Role},
    },
    on_db,
    platform::{config::IntegrationSettings, crypto::SecretBox, db::Db, events::NewEvent},
    record_event,
    tenancy::{access, workspaces},
};
use chrono::{DateTime, Utc};

const KEY: &str = "bench-secret-key-0123456789abcdef0123456789";
const ENDPOINTS: usize = 100;

/// What the receiver saw: per (endpoint, event number) the webhook-ids and whether one was
/// answered 2xx; commit-to-receipt latencies of the 2xx answers.
#[derive(Default)]
struct Seen {
    ids: HashMap<(usize, i64), HashSet<String>>,
    delivered: HashSet<(usize, i64)>,
    repeats_after_success: usize,
    latencies_ms: Vec<i64>,
    requests: usize,
}

struct Receiver {
    seen: Mutex<Seen>,
    failing_until: Mutex<Option<Instant>>,
}

async fn hook(Path(endpoint): Path<usize>, state: axum::extract::State<Arc<Receiver>>, headers: axum::http::HeaderMap, body: String) -> StatusCode {
    let now = Utc::now();
    let v: serde_json::Value = serde_json::from_str(&body).unwrap_or_default();
    let n = v["data"]["note_id"].as_i64().unwrap_or(-1);
    let at: Option<DateTime<Utc>> = v["timestamp"].as_str().and_then(|t| DateTime::parse_from_rfc3339(t).ok()).map(|t| t.with_timezone(&Utc));
    let id = headers.get("webhook-id").and_then(|h| h.to_str().ok()).unwrap_or("").to_owned();
    let failing = state.failing_until.lock().unwrap().is_some_and(|u| Instant::now() < u);
    let mut seen = state.seen.lock().unwrap();
    seen.requests += 1;
    seen.ids.entry((endpoint, n)).or_default().insert(id);
    if failing {
        return StatusCode::INTERNAL_SERVER_ERROR;
    }
    if !seen.delivered.insert((endpoint, n)) {
        seen.repeats_after_success += 1;
    } else if let Some(at) = at {
        seen.latencies_ms.push((now - at).num_milliseconds());
    }
    StatusCode::NO_CONTENT
}

fn percentile(v: &mut [i64], p: f64) -> i64 {
    if v.is_empty() {
        return 0;
    }
    v.sort_unstable();
    v[((v.len() as f64 - 1.0) * p).round() as usize]
}

fn start_worker(bin: &str, url: &str, dir: &std::path::Path, schedule: &str) -> std::process::Child {
    std::process::Command::new(bin)
        .arg("worker")
        .env("DATABASE_URL", url)
        .env("MAVERICK_DATA_DIR", dir)
        .env("MAVERICK_SECRET_KEY", KEY)
        .env("MAVERICK_WEBHOOK_ALLOW_PRIVATE", "1")
        .env("MAVERICK_WEBHOOK_RETRY_SCHEDULE", schedule)
        .env("MAVERICK_DB_MAX_CONNECTIONS", "16")
        .env("RUST_LOG", "error")
        .stdout(std::process::Stdio::null())
        .spawn()
        .expect("start `server worker` (build it: cargo build --release -p server)")
}

/// Commits `count` events numbered from `first`, round-robin over the workspaces, `per_tx` per
/// transaction, at most `rate` per second (0: as fast as possible).
async fn commit_events(db: &Db, workspaces: &[i64], first: i64, count: i64, per_tx: i64, rate: f64) {
    let started = Instant::now();
    let mut n = first;
    while n < first + count {
        let batch: Vec<NewEvent> = (n..(n + per_tx).min(first + count))
            .map(|i| {
                let ws = workspaces[(i as usize) % workspaces.len()];
                let data = serde_json::json!({"lead_id": i, "note_id": i, "edited": false});
                NewEvent::new(ws, "lead.note_added", &data)
            })
            .collect();
        n += batch.len() as i64;
        on_db!(db, |pool| async {
            let mut tx = pool.begin().await?;
            for e in &batch {
                let e = NewEvent { at: Utc::now(), ..e.clone() };
                record_event!(&mut *tx, &e)?;
            }
            tx.commit().await
        }
        .await)
        .expect("commit events");
        if rate > 0.0 {
            let due = Duration::from_secs_f64((n - first) as f64 / rate);
            if let Some(wait) = due.checked_sub(started.elapsed()) {
                tokio::time::sleep(wait).await;
            }
        }
    }
}

async fn wait_delivered(receiver: &Receiver, want: usize, limit: Duration) -> Duration {
    let started = Instant::now();
    while receiver.seen.lock().unwrap().delivered.len() < want {
        if started.elapsed() > limit {
            panic!("only {} of {want} delivered after {limit:?}", receiver.seen.lock().unwrap().delivered.len());
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    started.elapsed()
}

#[tokio::main]
async fn main() {
    let bin = std::env::var("BENCH_SERVER").unwrap_or_else(|_| {
        let target = std::env::var("CARGO_TARGET_DIR").unwrap_or_else(|_| "target".into());
        format!("{target}/release/server")
    });
    let events: i64 = std::env::var("BENCH_EVENTS").ok().and_then(|v| v.parse().ok()).unwrap_or(20_000);
    let fault_secs: u64 = std::env::var("BENCH_FAULT_SECS").ok().and_then(|v| v.parse().ok()).unwrap_or(60);
    let dir = std::env::temp_dir().join(format!("maverick-event-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let url = std::env::var("BENCH_DATABASE_URL").unwrap_or_else(|_| format!("sqlite://{}/bench.db", dir.display()));
    let db = Db::connect(&url, &backend::platform::db::PoolSettings { max_connections: 8, ..Default::default() }).await.unwrap();
    backend::platform::migrate::run(&db).await.unwrap();
    let backend_name = format!("{:?}", db.backend());

    // The receiver.
    let receiver = Arc::new(Receiver { seen: Default::default(), failing_until: Mutex::new(None) });
    let app = Router::new().route("/hook/{endpoint}", post(hook)).with_state(receiver.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });

    // 100 workspaces, one endpoint each.
    let admin = users::create(&db, NewUser { email: "bench@agency.test".into(), display_name: "Bench".into(), role: Role::Admin, password: "bench-password-1".into() })
        .await
        .unwrap();
    let admin = SessionUser { session_id: 0, user_id: admin.id, email: admin.email, display_name: admin.display_name, role: Role::Admin };
    let secrets = SecretBox::from_passphrase(KEY).unwrap();
    let settings = IntegrationSettings { allow_private: true, ..Default::default() };
    let mut ws_ids = Vec::new();
    for i in 0..ENDPOINTS {
        let ws = workspaces::create(&db, workspaces::WorkspaceInput::named(&format!("Bench {i:03}"))).await.unwrap().id;
        ws_ids.push(ws);
        let owner = Owner::Workspace(access::require_write(&db, &admin, ws).await.unwrap());
        let input = EndpointInput { url: format!("http://{addr}/hook/{i}"), enabled: true, ..Default::default() };
        endpoints::create(&db, &secrets, &settings, &owner, &input, Utc::now()).await.unwrap();
    }
    println!("event bench on {backend_name}: {ENDPOINTS} endpoints, {events} events; machine: {} cores", std::thread::available_parallelism().map_or(0, |n| n.get()));

    // 1. Burst.
    let mut worker = start_worker(&bin, &url, &dir, "1,2,5,10,20,30,60");
    tokio::time::sleep(Duration::from_millis(500)).await;
    let started = Instant::now();
    commit_events(&db, &ws_ids, 0, events, 200, 0.0).await;
    let committed = started.elapsed();
    wait_delivered(&receiver, events as usize, Duration::from_secs(900)).await;
    let took = started.elapsed();
    let (p50, p99) = {
        let mut seen = receiver.seen.lock().unwrap();
        let mut l = std::mem::take(&mut seen.latencies_ms);
        (percentile(&mut l, 0.5), percentile(&mut l, 0.99))
    };
    let rate = events as f64 / took.as_secs_f64();
    println!(
        "  burst: {events} events committed in {:.1} s, all delivered in {:.1} s → {rate:.0} deliveries/s; commit→receipt p50 {p50} ms, p99 {p99} ms (a backlog, so p99 is the queue's length)",
        committed.as_secs_f64(),
        took.as_secs_f64()
    );

    // 2. Paced, at half the burst's rate.
    let paced_rate = (rate / 2.0).max(50.0);
    let paced = events / 4;
    let before = receiver.seen.lock().unwrap().delivered.len();
    commit_events(&db, &ws_ids, events, paced, 10, paced_rate).await;
    wait_delivered(&receiver, before + paced as usize, Duration::from_secs(600)).await;
    let (p50, p99) = {
        let mut seen = receiver.seen.lock().unwrap();
        let mut l = std::mem::take(&mut seen.latencies_ms);
        (percentile(&mut l, 0.5), percentile(&mut l, 0.99))
    };
    println!("  paced: {paced} events at {paced_rate:.0}/s → commit→receipt p50 {p50} ms, p99 {p99} ms");

    // 3. Faults: 500s for a while, and SIGKILL of the worker mid-flood.
    let first = events + paced;
    *receiver.failing_until.lock().unwrap() = Some(Instant::now() + Duration::from_secs(fault_secs));
    let before = receiver.seen.lock().unwrap().delivered.len();
    let flood = {
        let (db, ws_ids) = (db.clone(), ws_ids.clone());
        tokio::spawn(async move { commit_events(&db, &ws_ids, first, events, 200, 0.0).await })
    };
    tokio::time::sleep(Duration::from_secs(fault_secs / 3)).await;
    worker.kill().expect("SIGKILL the worker");
    let _ = worker.wait();
    let requests_at_kill = receiver.seen.lock().unwrap().requests;
    let mut worker = start_worker(&bin, &url, &dir, "1,2,5,10,20,30,60");
    flood.await.unwrap();
    let took = wait_delivered(&receiver, before + events as usize, Duration::from_secs(1800)).await;
    let _ = worker.kill();
    let _ = worker.wait();
    let seen = receiver.seen.lock().unwrap();
    let flood_keys: Vec<_> = seen.ids.iter().filter(|((_, n), _)| *n >= first).collect();
    let two_ids = flood_keys.iter().filter(|(_, ids)| ids.len() > 1).count();
    let missing = (first..first + events).filter(|n| !seen.delivered.contains(&((*n as usize) % ENDPOINTS, *n))).count();
    println!(
        "  faults: receiver 500 for {fault_secs} s, worker SIGKILLed after {requests_at_kill} requests and restarted: {} of {events} delivered {:.0} s after the flood; missing {missing}; an event with two webhook-ids: {two_ids}; repeats after a 2xx (same id): {}",
        events as usize - missing,
        took.as_secs_f64(),
        seen.repeats_after_success
    );
    assert_eq!(missing, 0, "every event reached its endpoint");
    assert_eq!(two_ids, 0, "one webhook-id per endpoint and event");
    drop(seen);
    db.close().await;
    let _ = std::fs::remove_dir_all(&dir);
}
