//! The job queue end to end on the real database: a queued prune job is picked up by a worker
//! and does its work; scheduled ticks enqueue once however many processes see them; the worker
//! heartbeat is visible while it runs and gone after a clean shutdown.

use std::time::Duration;

use backend::{platform::heartbeat, identity::maintenance::{PruneJob, PruneQueue}, identity::sessions, platform::testing::test_state, identity::users};
use chrono::Utc;

async fn jobs_in_queue(db: &backend::platform::db::Db) -> i64 {
    match db {
        backend::platform::db::Db::Sqlite(p) => sqlx::query_scalar("SELECT COUNT(*) FROM Jobs").fetch_one(p).await.unwrap(),
        backend::platform::db::Db::Postgres(p) => sqlx::query_scalar("SELECT COUNT(*) FROM apalis.jobs").fetch_one(p).await.unwrap(),
    }
}

#[tokio::test]
async fn a_queued_prune_job_runs_on_a_worker_and_removes_expired_sessions() {
    let state = test_state().await;
    let db = state.db.clone();
    let u = users::create(
        &db,
        users::NewUser { email: "job@acme.test".into(), display_name: "Job".into(), role: users::Role::Client, password: "password-123".into() },
    )
    .await
    .unwrap();
    let policy = state.config.sessions;
    sessions::create(&db, u.id, None, None, &policy, Utc::now() - chrono::Duration::days(30)).await.unwrap();
    sessions::create(&db, u.id, None, None, &policy, Utc::now()).await.unwrap();
    assert_eq!(sessions::count_for_user(&db, u.id).await.unwrap(), 2);

    let (stop_tx, mut stop_rx) = tokio::sync::watch::channel(false);
    let worker = tokio::spawn(backend::runtime::workers::run_with_poll(
        state.clone(),
        async move {
            let _ = stop_rx.wait_for(|s| *s).await;
        },
        Duration::from_millis(200),
    ));

    PruneQueue::new(&db).push(PruneJob {}, None).await.unwrap();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    loop {
        if sessions::count_for_user(&db, u.id).await.unwrap() == 1 {
            break;
        }
        assert!(tokio::time::Instant::now() < deadline, "the prune job did not run within 20 s");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(heartbeat::alive(&db, Utc::now()).await.unwrap(), 1, "the worker's heartbeat is visible");

    stop_tx.send(true).unwrap();
    tokio::time::timeout(Duration::from_secs(20), worker).await.expect("workers stop").unwrap().unwrap();
    assert_eq!(heartbeat::alive(&db, Utc::now()).await.unwrap(), 0, "a clean shutdown removes the heartbeat");
}

#[tokio::test]
async fn a_schedule_tick_seen_by_several_processes_enqueues_one_job() {
    let state = test_state().await;
    let (a, b) = (PruneQueue::new(&state.db), PruneQueue::new(&state.db));
    a.push(PruneJob {}, Some("prune:1764000000".into())).await.unwrap();
    b.push(PruneJob {}, Some("prune:1764000000".into())).await.unwrap();
    assert_eq!(jobs_in_queue(&state.db).await, 1);
    a.push(PruneJob {}, Some("prune:1764086400".into())).await.unwrap();
    assert_eq!(jobs_in_queue(&state.db).await, 2);
}
