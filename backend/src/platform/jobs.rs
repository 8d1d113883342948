//! Job-queue primitives: apalis on the same database as everything else (apalis-sqlite or
//! apalis-postgres). A domain with jobs declares a queue handle per job type ([`job_queue!`]),
//! its handlers, and one `register_jobs(Workers) -> Result<Workers>` that adds its workers
//! ([`register_worker!`]) and schedules ([`register_schedule!`]); `runtime::workers` lists the
//! domains. Workers run inside the web server by default, or alone with `server worker`; any
//! number of processes can work one PostgreSQL queue.
//!
//! Scheduled work: a cron worker runs in every process, but each tick only *enqueues* a job with
//! an idempotency key derived from the tick, so N processes still produce one job per tick.

use std::{str::FromStr, time::Duration};

use apalis::prelude::Monitor;
use apalis_postgres::PostgresStorage;
use apalis_sqlite::SqliteStorage;

use crate::{
    platform::db::Db,
    platform::error::{Error, Result},
    AppState,
};

/// A queue handle for one job type, on whichever backend is live: `new` and `push` (with an
/// optional idempotency key: a second push of the same key is a no-op, one job per tick).
/// `$attempts` is apalis' `max_attempts` (its default is 25 immediate retries).
#[macro_export]
macro_rules! job_queue {
    ($name:ident, $job:ty, $queue:expr, $attempts:expr) => {
        #[derive(Clone)]
        pub enum $name {
            Sqlite(::apalis_sqlite::SqliteStorage<$job>),
            Postgres(::apalis_postgres::PostgresStorage<$job>),
        }

        impl $name {
            pub const QUEUE: &'static str = $queue;

            pub fn new(db: &$crate::platform::db::Db) -> Self {
                match db {
                    $crate::platform::db::Db::Sqlite(pool) => $name::Sqlite(
                        ::apalis_sqlite::SqliteStorage::new(pool).with_config(::apalis_sqlite::Config::default().queue($queue)),
                    ),
                    $crate::platform::db::Db::Postgres(pool) => $name::Postgres(
                        ::apalis_postgres::PostgresStorage::new(pool).with_config(::apalis_postgres::Config::default().queue($queue)),
                    ),
                }
            }

            pub async fn push(&self, job: $job, idempotency_key: Option<String>) -> $crate::Result<()> {
                use ::apalis::prelude::*;
                let mut task = TaskBuilder::new(job).max_attempts($attempts);
                if let Some(key) = idempotency_key {
                    task = task.idempotency_key(key);
                }
                let task = task.build();
                let pushed = match self.clone() {
                    $name::Sqlite(mut s) => s.push_task(task).await.map_err(|e| e.to_string()),
                    $name::Postgres(mut s) => s.push_task(task).await.map_err(|e| e.to_string()),
                };
                $crate::platform::jobs::pushed($queue, pushed)
            }
        }
    };
}

/// What a push came to. PostgreSQL reports a repeated idempotency key as a duplicate key; SQLite
/// ignores it silently. Both mean "already queued".
pub fn pushed(queue: &str, outcome: std::result::Result<(), String>) -> Result<()> {
    match outcome {
        Ok(()) => Ok(()),
        Err(e) if e.contains("idx_jobs_idempotency_key") || e.contains("duplicate key") => Ok(()),
        Err(e) => Err(Error::Internal(format!("could not enqueue {queue}: {e}"))),
    }
}

/// Wakes an idle worker every `every`, for good. apalis' `IntervalStrategy` replaces its timer
/// when it fires without polling the new one, so no waker is armed: an idle SQLite worker then
/// sleeps until something else wakes it (its 30 s heartbeat) and jobs wait that long
/// (backend/tests/jobs.rs, `idle_workers_take_each_new_job_within_a_few_polls`). This one polls
/// the next timer as soon as it sets it.
#[derive(Debug)]
pub struct EveryPoll {
    every: Duration,
    timer: std::pin::Pin<Box<tokio::time::Sleep>>,
}

impl EveryPoll {
    pub fn new(every: Duration) -> Self {
        EveryPoll { every, timer: Box::pin(tokio::time::sleep(every)) }
    }
}

impl apalis::prelude::PollStrategy for EveryPoll {
    fn poll_drive(&mut self, cx: &mut std::task::Context<'_>, _: &apalis::prelude::PollSnapshot) -> std::task::Poll<Option<()>> {
        use std::future::Future;
        match self.timer.as_mut().poll(cx) {
            std::task::Poll::Ready(()) => {
                self.timer.as_mut().reset(tokio::time::Instant::now() + self.every);
                // Arms the waker for the next tick (the step apalis' own strategy misses).
                let _ = self.timer.as_mut().poll(cx);
                std::task::Poll::Ready(Some(()))
            }
            std::task::Poll::Pending => std::task::Poll::Pending,
        }
    }
}

/// The workers of one process while they are being registered: each domain's `register_jobs`
/// takes it and gives it back with its workers added.
pub struct Workers {
    pub monitor: Monitor,
    pub state: AppState,
    /// Makes worker names unique per process (apalis keeps one row per worker name).
    pub suffix: String,
    pub poll: Duration,
}

impl Workers {
    pub fn new(state: &AppState, suffix: &str, poll: Duration) -> Self {
        Workers { monitor: Monitor::new(), state: state.clone(), suffix: suffix.to_owned(), poll }
    }

    /// A cron schedule from a setting, or an error that names the setting.
    pub fn schedule(var: &str, value: &str) -> Result<cron::Schedule> {
        cron::Schedule::from_str(value).map_err(|e| Error::invalid(format!("{var}={value:?} is not a cron schedule: {e}")))
    }
}

/// Adds a worker for a queue declared with [`job_queue!`]: `register_worker!(workers, SyncQueue,
/// "bison-sync", 2, run_sync)`; the handler receives the job and `Data<AppState>`.
#[macro_export]
macro_rules! register_worker {
    ($workers:expr, $queue:ident, $name:expr, $concurrency:expr, $handler:expr) => {{
        use ::apalis::prelude::*;
        let $crate::platform::jobs::Workers { monitor, state, suffix, poll } = $workers;
        let (data, name) = (state.clone(), format!("{}-{}", $name, suffix));
        let monitor = match $queue::new(&state.db) {
            $queue::Sqlite(storage) => monitor.register(move |_restarts| {
                WorkerBuilder::new(name.clone())
                    .backend(storage.clone().poll_with_strategy($crate::platform::jobs::EveryPoll::new(poll)))
                    .data(data.clone())
                    .concurrency($concurrency)
                    .build($handler)
            }),
            $queue::Postgres(storage) => monitor.register(move |_restarts| {
                WorkerBuilder::new(name.clone())
                    .backend(storage.clone().with_pubsub().poll_with_strategy(Strategy::new().interval(poll)))
                    .data(data.clone())
                    .concurrency($concurrency)
                    .build($handler)
            }),
        };
        $crate::platform::jobs::Workers { monitor, state, suffix, poll }
    }};
}

/// Adds a schedule: on each tick of `$schedule` (a `cron::Schedule`) the handler gets the
/// `apalis_cron::Tick` and `Data<$data>`; it should only enqueue, keyed by the tick.
#[macro_export]
macro_rules! register_schedule {
    ($workers:expr, $name:expr, $schedule:expr, $data:expr, $handler:expr) => {{
        use ::apalis::prelude::*;
        let $crate::platform::jobs::Workers { monitor, state, suffix, poll } = $workers;
        let (name, schedule, data) = (format!("{}-{}", $name, suffix), $schedule, $data);
        let monitor = monitor.register(move |_restarts| {
            WorkerBuilder::new(name.clone()).backend(::apalis_cron::CronScheduler::new(schedule.clone())).data(data.clone()).build($handler)
        });
        $crate::platform::jobs::Workers { monitor, state, suffix, poll }
    }};
}

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
