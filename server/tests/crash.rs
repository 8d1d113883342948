//! A personalization run survives `kill -9`: the real `server worker` process works a run against
//! local Perplexity/OpenRouter fakes, is killed mid-run, a new process starts, and the run
//! completes with every lead personalized exactly once (one stored writing call per lead).

#[path = "../../backend/tests/support/fake_ai.rs"]
mod fake_ai;

use std::{process::Command, sync::Arc, time::Duration};

use backend::{
    on_db,
    personalization::{self, Writer},
    identity::sessions::SessionUser,
    identity::users::{self, NewUser, Role},
    tenancy::workspaces::{self, WorkspaceInput},
};

const LEADS: i64 = 300;

fn worker(url: &str, dir: &std::path::Path, fakes: &str) -> std::process::Child {
    Command::new(env!("CARGO_BIN_EXE_server"))
        .arg("worker")
        .env("DATABASE_URL", url)
        .env("MAVERICK_DATA_DIR", dir)
        .env("MAVERICK_SECRET_KEY", "crash-test-key-0123456789abcdef0123456789")
        .env("MAVERICK_PERPLEXITY_URL", format!("{fakes}/perplexity"))
        .env("MAVERICK_OPENROUTER_URL", format!("{fakes}/openrouter"))
        .env("MAVERICK_PERPLEXITY_KEY", "pplx-test")
        .env("MAVERICK_OPENROUTER_KEY", "sk-or-test")
        .env("MAVERICK_PERPLEXITY_RPM", "0")
        .env("MAVERICK_OPENROUTER_RPM", "0")
        .env("MAVERICK_PERSONALIZATION_LEASE_SECS", "2")
        .env("RUST_LOG", "error")
        .env_remove("MAVERICK_DEMO")
        .stdout(std::process::Stdio::null())
        .spawn()
        .expect("start the server binary")
}

async fn done(db: &backend::platform::db::Db, run: i64) -> (String, i64) {
    on_db!(db, |p| sqlx::query_as("SELECT status, done FROM personalization_runs WHERE id = $1").bind(run).fetch_one(p).await).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_run_killed_mid_way_completes_after_a_restart_with_every_lead_written_once() {
    let fake = Arc::new(fake_ai::FakeAi { latency_ms: (40, 20), ..Default::default() });
    let fakes = fake_ai::start(fake.clone()).await;
    let (db, url) = backend::platform::testing::fresh_db().await;
    let dir = std::env::temp_dir().join("maverick-tests").join(uuid::Uuid::new_v4().simple().to_string());
    std::fs::create_dir_all(&dir).unwrap();

    // The run is queued by this process, as a page would; only the worker processes work it.
    let mut config = backend::platform::config::Config::with_database(&url, dir.clone());
    config.personalization.perplexity_key = Some("pplx-test".into());
    config.personalization.openrouter_key = Some("sk-or-test".into());
    let state = backend::AppState {
        db: db.clone(),
        config: Arc::new(config),
        secrets: backend::platform::crypto::SecretBox::from_passphrase("crash-test-key-0123456789abcdef0123456789").unwrap(),
        places: Default::default(),
        events: Default::default(),
    };
    let ws = workspaces::create(&db, WorkspaceInput::named("Acme Roofing")).await.unwrap().id;
    let u = users::create(&db, NewUser { email: "admin@agency.test".into(), display_name: "Ada".into(), role: Role::Admin, password: "password-123".into() })
        .await
        .unwrap();
    let admin = SessionUser { session_id: 0, user_id: u.id, email: u.email, display_name: u.display_name, role: Role::Admin };
    let campaign = personalization::create_campaign(&db, &admin, ws, "Crash", "", "").await.unwrap();
    let mut csv = String::from("email,company,first_name\n");
    for i in 0..LEADS {
        csv.push_str(&format!("p{i}@firm{i}.test,Firm{i} Roofing,P{i}\n"));
    }
    let staged = dir.join("leads.csv");
    std::fs::write(&staged, csv).unwrap();
    let run = personalization::start_run(&state, &admin, campaign, "leads.csv", &staged, Writer::Ai).await.unwrap();

    let mut first = worker(&url, &dir, &fakes);
    let killed_at = loop {
        let (_, n) = done(&db, run).await;
        if n >= LEADS / 4 {
            break n;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    first.kill().unwrap(); // SIGKILL: no shutdown, leads in flight lost mid-call
    first.wait().unwrap();
    let (status, at_kill) = done(&db, run).await;
    assert_eq!(status, "personalizing", "killed mid-run");
    assert!(at_kill >= killed_at && at_kill < LEADS, "{at_kill}");

    let mut second = worker(&url, &dir, &fakes);
    let mut finished = false;
    for _ in 0..600 {
        if done(&db, run).await.0 == "completed" {
            finished = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    second.kill().unwrap();
    second.wait().unwrap();
    assert!(finished, "the run completed after the restart: {:?}", done(&db, run).await);

    let (done_count, failed, total): (i64, i64, i64) =
        on_db!(&db, |p| sqlx::query_as("SELECT done, failed, total FROM personalization_runs WHERE id = $1").bind(run).fetch_one(p).await).unwrap();
    assert_eq!((done_count, failed, total), (LEADS, 0, LEADS));
    let lines: Vec<(i64, Option<String>)> =
        on_db!(&db, |p| sqlx::query_as("SELECT COUNT(*), MIN(line) FROM personalization_leads WHERE run_id = $1 AND status = 'done' AND line IS NOT NULL GROUP BY campaign_id").bind(run).fetch_all(p).await).unwrap();
    assert_eq!(lines[0].0, LEADS, "every lead has its line");
    // Exactly once: each lead's result (with its calls) was stored by one transaction.
    let per_lead: Vec<i64> = on_db!(&db, |p| sqlx::query_scalar(
        "SELECT CAST(COUNT(c.id) AS BIGINT) FROM personalization_leads l LEFT JOIN personalization_calls c ON c.lead_id = l.id AND c.provider = 'openrouter' \
         WHERE l.run_id = $1 GROUP BY l.id"
    )
    .bind(run)
    .fetch_all(p)
    .await)
    .unwrap();
    assert_eq!(per_lead.len() as i64, LEADS);
    assert!(per_lead.iter().all(|n| *n == 1), "one stored writing call per lead: {:?}", per_lead.iter().filter(|n| **n != 1).count());
    assert!(fake.calls("openrouter") as i64 >= LEADS, "some leads in flight at the kill were asked again");
}
