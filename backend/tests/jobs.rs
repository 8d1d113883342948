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

/// An idle worker keeps polling: a job pushed at any moment is taken within a few poll
/// intervals, every time. (apalis' interval strategy arms its next timer without registering a
/// waker, so idle SQLite workers went quiet until some other wake-up — up to the 30 s heartbeat;
/// seen as resolver runs "waiting for a worker" for 20 s.)
#[tokio::test]
async fn idle_workers_take_each_new_job_within_a_few_polls() {
    let state = test_state().await;
    let db = state.db.clone();
    let admin = users::create(
        &db,
        users::NewUser { email: "poll@agency.test".into(), display_name: "Poll".into(), role: users::Role::Admin, password: "password-123".into() },
    )
    .await
    .unwrap();
    let caller = sessions::SessionUser { session_id: 0, user_id: admin.id, email: admin.email.clone(), display_name: admin.display_name.clone(), role: users::Role::Admin };
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let workers = tokio::spawn(backend::runtime::workers::run_with_poll(state.clone(), async { let _ = stop_rx.await; }, Duration::from_millis(100)));
    tokio::time::sleep(Duration::from_secs(2)).await;
    let mut waits = Vec::new();
    for round in 0..8u64 {
        // Pushed at different moments between polls, after the workers have been idle a while.
        tokio::time::sleep(Duration::from_millis(700 + 130 * round)).await;
        let run = backend::prospects::request_resolve(&db, &caller).await.unwrap();
        let pushed = std::time::Instant::now();
        loop {
            let p = backend::prospects::store::progress(&db).await.unwrap().unwrap();
            assert_eq!(p.id, run);
            if p.status == "succeeded" {
                break;
            }
            assert_ne!(p.status, "failed", "{p:?}");
            assert!(pushed.elapsed() < Duration::from_secs(10), "run {run} (round {round}) still {} after 10 s; waits so far {waits:?}", p.status);
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        waits.push(pushed.elapsed().as_millis());
    }
    assert!(waits.iter().all(|&w| w < 1_500), "each run should be taken within a few 100 ms polls: {waits:?}");
    let _ = stop_tx.send(());
    workers.await.unwrap().unwrap();
}
