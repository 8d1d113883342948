//! Email Bison's jobs: a sync of one workspace (from "Sync now" or a schedule), the two schedules
//! (`MAVERICK_BISON_SYNC_CRON` for everything, `MAVERICK_SENDER_POLL_CRON` for sender health),
//! and [`request_sync`], the one way a user's click starts a sync.

use apalis::prelude::{BoxDynError, Data};
use apalis_cron::Tick;
use chrono::Utc;
use serde::{Deserialize, Serialize};

use super::sync::{self, SyncKind};
use crate::{
    on_db,
    platform::{db::Db, error::Result, jobs::Workers},
    tenancy::access::WriteScope,
    AppState,
};

/// An Email Bison sync of one workspace (a recorded run from "Sync now", or a scheduled one).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct BisonSyncJob {
    pub workspace_id: i64,
    pub kind: SyncKind,
    pub run_id: Option<i64>,
    /// The trace of the request that asked for it (a schedule's tick starts a new one).
    #[serde(default)]
    pub trace_id: Option<String>,
}

// A failed sync is recorded with its error; the next schedule or click retries.
crate::job_queue!(SyncQueue, BisonSyncJob, "bison.sync", 1);

/// Records a sync run of the scoped workspace and queues it, in one step: if the queue refuses
/// it, the run is marked failed with the reason instead of staying "queued" forever.
pub async fn request_sync(db: &Db, scope: &WriteScope) -> Result<i64> {
    let workspace_id = scope.workspace_id();
    let run = sync::queue_run(db, workspace_id, SyncKind::All, Some(scope.user_id())).await?;
    let job = BisonSyncJob { workspace_id, kind: SyncKind::All, run_id: Some(run), trace_id: crate::platform::trace::current() };
    if let Err(e) = SyncQueue::new(db).push(job, Some(format!("sync-now:{run}"))).await {
        on_db!(db, |pool| sqlx::query("UPDATE sync_runs SET status = $4, error = $1, finished_at = $2 WHERE id = $3")
            .bind("the job queue refused the sync; try again")
            .bind(Utc::now())
            .bind(run)
            .bind(sync::SyncStatus::Failed.as_str())
            .execute(pool)
            .await
            .map(|r| r.rows_affected()))?;
        return Err(e);
    }
    Ok(run)
}

async fn run_sync(job: BisonSyncJob, state: Data<AppState>) -> std::result::Result<String, BoxDynError> {
    let trace = job.trace_id.clone().unwrap_or_else(crate::platform::trace::new_trace_id);
    crate::platform::trace::scope(trace, sync_job(job, state)).await
}

async fn sync_job(job: BisonSyncJob, state: Data<AppState>) -> std::result::Result<String, BoxDynError> {
    let run = sync::execute(&state, job.workspace_id, job.kind, job.run_id).await?;
    tracing::info!(workspace = job.workspace_id, kind = ?job.kind, status = %run.status, "Email Bison sync done");
    Ok(run.status.to_string())
}

/// A schedule's tick: one sync job per connected workspace (one per tick across processes).
async fn on_sync_tick(tick: Tick, ctx: Data<(Db, SyncQueue, SyncKind)>) -> std::result::Result<(), BoxDynError> {
    let (db, queue, kind) = &*ctx;
    for ws in sync::connected_workspaces(db).await? {
        let key = format!("sync:{}:{ws}:{}", kind.as_str(), tick.get_timestamp());
        queue.push(BisonSyncJob { workspace_id: ws, kind: *kind, run_id: None, trace_id: None }, Some(key)).await?;
    }
    Ok(())
}

/// The sync worker and its two schedules.
pub fn register_jobs(workers: Workers) -> Result<Workers> {
    let config = workers.state.config.clone();
    let full = Workers::schedule("MAVERICK_BISON_SYNC_CRON", &config.bison_sync_cron)?;
    let senders = Workers::schedule("MAVERICK_SENDER_POLL_CRON", &config.sender_poll_cron)?;
    let queue = SyncQueue::new(&workers.state.db);
    let db = workers.state.db.clone();
    let workers = crate::register_worker!(workers, SyncQueue, "bison-sync", 2, run_sync);
    let workers = crate::register_schedule!(workers, "bison-sync-cron", full, (db.clone(), queue.clone(), SyncKind::All), on_sync_tick);
    Ok(crate::register_schedule!(workers, "sender-poll-cron", senders, (db, queue, SyncKind::Senders), on_sync_tick))
}
