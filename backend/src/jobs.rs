//! The job queue: apalis on the same database as everything else (apalis-sqlite or
//! apalis-postgres). Workers run inside the web server by default, or alone with `server worker`;
//! any number of processes can work one PostgreSQL queue. Each process also writes a heartbeat
//! for /readyz.
//!
//! Scheduled work: a cron worker runs in every process, but each tick only *enqueues* a job with
//! an idempotency key derived from the tick, so N processes still produce one job per tick.

use std::{future::Future, str::FromStr, time::Duration};

use apalis::prelude::*;
use apalis_cron::{CronScheduler, Tick};
use apalis_postgres::PostgresStorage;
use apalis_sqlite::SqliteStorage;
use serde::{Deserialize, Serialize};

use crate::{
    bison_sync::{self, SyncKind},
    db::Db,
    error::{Error, Result},
    heartbeat, maintenance, AppState,
};

/// An Email Bison sync of one workspace (a recorded run from "Sync now", or a scheduled one).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct BisonSyncJob {
    pub workspace_id: i64,
    pub kind: SyncKind,
    pub run_id: Option<i64>,
}

/// A queue handle for one job type, on whichever backend is live: `new` and `push` (with an
/// optional idempotency key: a second push of the same key is a no-op, one job per tick).
macro_rules! job_queue {
    ($name:ident, $job:ty, $queue:expr, $attempts:expr) => {
        #[derive(Clone)]
        pub enum $name {
            Sqlite(SqliteStorage<$job>),
            Postgres(PostgresStorage<$job>),
        }

        impl $name {
            pub fn new(db: &Db) -> Self {
                match db {
                    Db::Sqlite(pool) => $name::Sqlite(SqliteStorage::new(pool).with_config(apalis_sqlite::Config::default().queue($queue))),
                    Db::Postgres(pool) => $name::Postgres(PostgresStorage::new(pool).with_config(apalis_postgres::Config::default().queue($queue))),
                }
            }

            pub async fn push(&self, job: $job, idempotency_key: Option<String>) -> Result<()> {
                let mut task = TaskBuilder::new(job).max_attempts($attempts);
                if let Some(key) = idempotency_key {
                    task = task.idempotency_key(key);
                }
                let task = task.build();
                let pushed = match self.clone() {
                    $name::Sqlite(mut s) => s.push_task(task).await.map_err(|e| e.to_string()),
                    $name::Postgres(mut s) => s.push_task(task).await.map_err(|e| e.to_string()),
                };
                match pushed {
                    Ok(()) => Ok(()),
                    Err(e) if e.contains("idx_jobs_idempotency_key") || e.contains("duplicate key") => Ok(()),
                    Err(e) => Err(Error::Internal(format!("could not enqueue {}: {e}", $queue))),
                }
            }
        }
    };
}

// A failed sync or verification is recorded with its error; the next schedule or click retries.
job_queue!(SyncQueue, BisonSyncJob, "bison.sync", 1);
job_queue!(VerifyQueue, VerifyContactsJob, "contacts.verify", 1);
job_queue!(BatchQueue, BatchJob, "contacts.batch", 1);
// A run that stops (crash, lost lease) is taken up again by the personalization sweep.
job_queue!(PersonalizeQueue, PersonalizeJob, "personalization.run", 1);

/// Work a personalization run (extract its file, then personalize its pending leads).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct PersonalizeJob {
    pub run_id: i64,
}

async fn run_personalize(job: PersonalizeJob, state: Data<AppState>) -> std::result::Result<String, BoxDynError> {
    let summary = crate::personalization::engine::execute(&state, job.run_id).await?;
    tracing::info!(run = job.run_id, %summary, "personalization run worked");
    Ok(summary)
}

/// This week's batch of a workspace: made (once), then uploaded to Email Bison.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct BatchJob {
    pub workspace_id: i64,
    /// Upload an existing batch again (after a failure) instead of making this week's.
    pub batch_id: Option<i64>,
}

async fn run_batch(job: BatchJob, state: Data<AppState>) -> std::result::Result<String, BoxDynError> {
    let batch = match job.batch_id {
        Some(id) => Some(id),
        None => {
            let tz = crate::settings::agency_time_zone(&state.db).await?;
            let today = crate::metrics::agency_today(chrono::Utc::now(), tz);
            let monday = today - chrono::Duration::days(chrono::Datelike::weekday(&today).num_days_from_monday() as i64);
            crate::batches::create_weekly(&state.db, job.workspace_id, monday).await?
        }
    };
    let Some(batch) = batch else { return Ok("no weekly target".into()) };
    match crate::batches::upload(&state, batch).await {
        Ok(n) => Ok(format!("batch {batch}: {n} leads in Email Bison")),
        // Recorded on the batch (status failed, reason); the admin uploads it again.
        Err(e) => Ok(format!("batch {batch} failed: {e}")),
    }
}

async fn on_batch_tick(tick: Tick, ctx: Data<(Db, BatchQueue)>) -> std::result::Result<(), BoxDynError> {
    let (db, queue) = &*ctx;
    let workspaces: Vec<i64> = crate::on_db!(db, |pool| sqlx::query_scalar("SELECT id FROM workspaces WHERE active AND weekly_contact_target > 0 ORDER BY id")
        .fetch_all(pool)
        .await)?;
    for ws in workspaces {
        queue.push(BatchJob { workspace_id: ws, batch_id: None }, Some(format!("batch:{ws}:{}", tick.get_timestamp()))).await?;
    }
    Ok(())
}

/// DeBounce verification of a workspace's unverified contacts.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct VerifyContactsJob {
    pub workspace_id: i64,
}

async fn run_verify(job: VerifyContactsJob, state: Data<AppState>) -> std::result::Result<String, BoxDynError> {
    let run = crate::debounce::execute(&state, job.workspace_id).await?;
    tracing::info!(workspace = job.workspace_id, ?run, "contact verification done");
    Ok(format!("{run:?}"))
}

async fn run_sync(job: BisonSyncJob, state: Data<AppState>) -> std::result::Result<String, BoxDynError> {
    let run = bison_sync::execute(&state, job.workspace_id, job.kind, job.run_id).await?;
    tracing::info!(workspace = job.workspace_id, kind = ?job.kind, status = %run.status, "Email Bison sync done");
    Ok(run.status)
}

/// A schedule's tick: one sync job per connected workspace (one per tick across processes).
async fn on_sync_tick(tick: Tick, ctx: Data<(Db, SyncQueue, SyncKind)>) -> std::result::Result<(), BoxDynError> {
    let (db, queue, kind) = &*ctx;
    for ws in bison_sync::connected_workspaces(db).await? {
        let key = format!("sync:{}:{ws}:{}", kind.as_str(), tick.get_timestamp());
        queue.push(BisonSyncJob { workspace_id: ws, kind: *kind, run_id: None }, Some(key)).await?;
    }
    Ok(())
}

/// Nightly housekeeping: expired sessions, old login failures, audit rows past retention.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct PruneJob {}

const PRUNE_QUEUE: &str = "maintenance.prune";
const MAX_ATTEMPTS: usize = 3;

/// Applies apalis' own migrations, kept apart from ours: on SQLite in their own bookkeeping
/// table, on PostgreSQL in the `apalis` schema.
pub async fn migrate(db: &Db) -> Result<()> {
    match db {
        Db::Sqlite(pool) => {
            let mut migrator = SqliteStorage::<()>::migrations();
            migrator.dangerous_set_table_name("_apalis_migrations");
            migrator.run(pool).await?;
        }
        Db::Postgres(pool) => {
            PostgresStorage::<()>::setup(pool)
                .await
                .map_err(|e| Error::Internal(format!("job queue setup failed: {e}")))?;
        }
    }
    Ok(())
}

/// A handle to push jobs from anywhere (handlers, CLI, ticks).
#[derive(Clone)]
pub enum JobQueue {
    Sqlite(SqliteStorage<PruneJob>),
    Postgres(PostgresStorage<PruneJob>),
}

impl JobQueue {
    pub fn new(db: &Db) -> Self {
        match db {
            Db::Sqlite(pool) => JobQueue::Sqlite(
                SqliteStorage::new(pool).with_config(apalis_sqlite::Config::default().queue(PRUNE_QUEUE)),
            ),
            Db::Postgres(pool) => JobQueue::Postgres(
                PostgresStorage::new(pool).with_config(apalis_postgres::Config::default().queue(PRUNE_QUEUE)),
            ),
        }
    }

    /// Enqueues a prune. With a key, a second push of the same key is a no-op (one job per tick).
    pub async fn push_prune(&self, idempotency_key: Option<String>) -> Result<()> {
        let mut task = TaskBuilder::new(PruneJob {}).max_attempts(MAX_ATTEMPTS);
        if let Some(key) = idempotency_key {
            task = task.idempotency_key(key);
        }
        let task = task.build();
        let pushed = match self.clone() {
            JobQueue::Sqlite(mut s) => s.push_task(task).await.map_err(|e| e.to_string()),
            JobQueue::Postgres(mut s) => s.push_task(task).await.map_err(|e| e.to_string()),
        };
        match pushed {
            Ok(()) => Ok(()),
            // PostgreSQL reports the duplicate key; SQLite ignores it silently. Both mean "already queued".
            Err(e) if e.contains("idx_jobs_idempotency_key") || e.contains("duplicate key") => Ok(()),
            Err(e) => Err(Error::Internal(format!("could not enqueue the prune job: {e}"))),
        }
    }
}

async fn run_prune(_job: PruneJob, state: Data<AppState>) -> std::result::Result<maintenance::PruneReport, BoxDynError> {
    let report = maintenance::prune(&state.db, &state.config, chrono::Utc::now()).await?;
    tracing::info!(?report, "maintenance prune done");
    Ok(report)
}

async fn on_prune_tick(tick: Tick, queue: Data<JobQueue>) -> std::result::Result<(), BoxDynError> {
    queue.push_prune(Some(format!("prune:{}", tick.get_timestamp()))).await?;
    Ok(())
}

fn worker_suffix() -> String {
    let host = std::env::var("HOSTNAME").unwrap_or_else(|_| "host".into());
    let unique = uuid::Uuid::new_v4().simple().to_string();
    format!("{host}-{}-{}", std::process::id(), &unique[..8])
}

fn monitor(state: &AppState, suffix: &str, poll: Duration) -> Result<Monitor> {
    let schedule = cron::Schedule::from_str(&state.config.maintenance_cron).map_err(|e| {
        Error::invalid(format!("MAVERICK_MAINTENANCE_CRON={:?} is not a cron schedule: {e}", state.config.maintenance_cron))
    })?;
    let queue = JobQueue::new(&state.db);
    let (s1, q1, name1) = (state.clone(), queue.clone(), format!("maintenance-{suffix}"));
    let (q2, name2) = (queue, format!("maintenance-cron-{suffix}"));
    let monitor = match q1 {
        JobQueue::Sqlite(storage) => Monitor::new().register(move |_restarts| {
            WorkerBuilder::new(name1.clone())
                .backend(storage.clone().poll_with_interval(poll))
                .data(s1.clone())
                .concurrency(1)
                .build(run_prune)
        }),
        JobQueue::Postgres(storage) => Monitor::new().register(move |_restarts| {
            WorkerBuilder::new(name1.clone())
                .backend(storage.clone().with_pubsub().poll_with_strategy(Strategy::new().interval(poll)))
                .data(s1.clone())
                .concurrency(1)
                .build(run_prune)
        }),
    };
    let monitor = monitor.register(move |_restarts| {
        WorkerBuilder::new(name2.clone())
            .backend(CronScheduler::new(schedule.clone()))
            .data(q2.clone())
            .build(on_prune_tick)
    });
    // Email Bison: the sync worker and its two schedules.
    let cron = |var: &str, value: &str| {
        cron::Schedule::from_str(value).map_err(|e| Error::invalid(format!("{var}={value:?} is not a cron schedule: {e}")))
    };
    let full = cron("MAVERICK_BISON_SYNC_CRON", &state.config.bison_sync_cron)?;
    let senders = cron("MAVERICK_SENDER_POLL_CRON", &state.config.sender_poll_cron)?;
    let sync_queue = SyncQueue::new(&state.db);
    let (s3, name3) = (state.clone(), format!("bison-sync-{suffix}"));
    let monitor = match sync_queue.clone() {
        SyncQueue::Sqlite(storage) => monitor.register(move |_restarts| {
            WorkerBuilder::new(name3.clone())
                .backend(storage.clone().poll_with_interval(poll))
                .data(s3.clone())
                .concurrency(2)
                .build(run_sync)
        }),
        SyncQueue::Postgres(storage) => monitor.register(move |_restarts| {
            WorkerBuilder::new(name3.clone())
                .backend(storage.clone().with_pubsub().poll_with_strategy(Strategy::new().interval(poll)))
                .data(s3.clone())
                .concurrency(2)
                .build(run_sync)
        }),
    };
    let verify_queue = VerifyQueue::new(&state.db);
    let (s4, name4) = (state.clone(), format!("contacts-verify-{suffix}"));
    let monitor = match verify_queue {
        VerifyQueue::Sqlite(storage) => monitor.register(move |_restarts| {
            WorkerBuilder::new(name4.clone()).backend(storage.clone().poll_with_interval(poll)).data(s4.clone()).concurrency(1).build(run_verify)
        }),
        VerifyQueue::Postgres(storage) => monitor.register(move |_restarts| {
            WorkerBuilder::new(name4.clone())
                .backend(storage.clone().with_pubsub().poll_with_strategy(Strategy::new().interval(poll)))
                .data(s4.clone())
                .concurrency(1)
                .build(run_verify)
        }),
    };
    let batch_schedule = cron("MAVERICK_BATCH_CRON", &state.config.batch_cron)?;
    let batch_queue = BatchQueue::new(&state.db);
    let (s5, name5) = (state.clone(), format!("contacts-batch-{suffix}"));
    let monitor = match batch_queue.clone() {
        BatchQueue::Sqlite(storage) => monitor.register(move |_restarts| {
            WorkerBuilder::new(name5.clone()).backend(storage.clone().poll_with_interval(poll)).data(s5.clone()).concurrency(1).build(run_batch)
        }),
        BatchQueue::Postgres(storage) => monitor.register(move |_restarts| {
            WorkerBuilder::new(name5.clone())
                .backend(storage.clone().with_pubsub().poll_with_strategy(Strategy::new().interval(poll)))
                .data(s5.clone())
                .concurrency(1)
                .build(run_batch)
        }),
    };
    let (s7, name7) = (state.clone(), format!("personalization-{suffix}"));
    // Several runs at once; each keeps its own window of leads in flight.
    let monitor = match PersonalizeQueue::new(&state.db) {
        PersonalizeQueue::Sqlite(storage) => monitor.register(move |_restarts| {
            WorkerBuilder::new(name7.clone()).backend(storage.clone().poll_with_interval(poll)).data(s7.clone()).concurrency(4).build(run_personalize)
        }),
        PersonalizeQueue::Postgres(storage) => monitor.register(move |_restarts| {
            WorkerBuilder::new(name7.clone())
                .backend(storage.clone().with_pubsub().poll_with_strategy(Strategy::new().interval(poll)))
                .data(s7.clone())
                .concurrency(4)
                .build(run_personalize)
        }),
    };
    let (batch_ctx, name6) = ((state.db.clone(), batch_queue), format!("contacts-batch-cron-{suffix}"));
    let monitor = monitor.register(move |_restarts| {
        WorkerBuilder::new(name6.clone()).backend(CronScheduler::new(batch_schedule.clone())).data(batch_ctx.clone()).build(on_batch_tick)
    });
    let mut monitor = monitor;
    for (name, schedule, kind) in [("bison-sync-cron", full, SyncKind::All), ("sender-poll-cron", senders, SyncKind::Senders)] {
        let ctx = (state.db.clone(), sync_queue.clone(), kind);
        let name = format!("{name}-{suffix}");
        monitor = monitor.register(move |_restarts| {
            WorkerBuilder::new(name.clone()).backend(CronScheduler::new(schedule.clone())).data(ctx.clone()).build(on_sync_tick)
        });
    }
    Ok(monitor.shutdown_timeout(Duration::from_secs(10)))
}

/// Runs the workers and the heartbeat until `shutdown` resolves.
pub async fn run_until_shutdown(state: AppState, shutdown: impl Future<Output = ()> + Send) -> Result<()> {
    run_with_poll(state, shutdown, Duration::from_secs(1)).await
}

/// Same, with the queue polled every `poll` (tests use a short one).
pub async fn run_with_poll(state: AppState, shutdown: impl Future<Output = ()> + Send, poll: Duration) -> Result<()> {
    let suffix = worker_suffix();
    let monitor = monitor(&state, &suffix, poll)?;
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let started = chrono::Utc::now();
    let host = std::env::var("HOSTNAME").unwrap_or_else(|_| "host".into());

    let beat = {
        let (db, suffix, mut stop) = (state.db.clone(), suffix.clone(), stop_rx.clone());
        async move {
            loop {
                if let Err(e) = heartbeat::beat(&db, &suffix, &host, started, chrono::Utc::now()).await {
                    tracing::warn!(error = %e, "worker heartbeat failed");
                }
                tokio::select! {
                    _ = tokio::time::sleep(Duration::from_secs(heartbeat::INTERVAL_SECS)) => {}
                    _ = stop.wait_for(|s| *s) => break,
                }
            }
        }
    };
    let mut stop = stop_rx.clone();
    let workers = monitor.run_with_signal(async move {
        let _ = stop.wait_for(|s| *s).await;
        Ok(())
    });
    let trigger = async move {
        shutdown.await;
        let _ = stop_tx.send(true);
    };
    tracing::info!(worker = %suffix, "job workers started");
    let ((), result, ()) = tokio::join!(beat, workers, trigger);
    heartbeat::remove(&state.db, &suffix, chrono::Utc::now()).await?;
    result.map_err(|e| Error::Internal(format!("job workers stopped with an error: {e}")))
}

/// Jobs that failed for good (or were killed) since `since`, per job type. apalis' tables differ
/// by backend (SQLite stores unix seconds; PostgreSQL keeps its own schema), hence two texts.
pub async fn failed_since(db: &Db, since: chrono::DateTime<chrono::Utc>) -> Result<Vec<(String, i64)>> {
    Ok(match db {
        Db::Sqlite(pool) => {
            sqlx::query_as::<_, (String, i64)>(
                "SELECT job_type, COUNT(*) FROM Jobs WHERE status IN ('Failed', 'Killed') AND done_at >= $1 GROUP BY job_type ORDER BY job_type",
            )
            .bind(since.timestamp())
            .fetch_all(pool)
            .await?
        }
        Db::Postgres(pool) => {
            sqlx::query_as::<_, (String, i64)>(
                "SELECT job_type, COUNT(*) FROM apalis.jobs WHERE status IN ('Failed', 'Killed') AND done_at >= $1 GROUP BY job_type ORDER BY job_type",
            )
            .bind(since)
            .fetch_all(pool)
            .await?
        }
    })
}
