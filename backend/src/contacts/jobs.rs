//! The contact pipeline's jobs: DeBounce verification of a workspace's contacts, and the weekly
//! batch (made on the `MAVERICK_BATCH_CRON` schedule, then uploaded to Email Bison). A user's
//! click starts them through [`request_verification`] and [`request_batch_upload`] only.

use apalis::prelude::{BoxDynError, Data};
use apalis_cron::Tick;
use chrono::{Datelike, Utc};
use serde::{Deserialize, Serialize};

use super::{batches, verification};
use crate::{
    on_db,
    platform::{db::Db, error::Result, jobs::Workers},
    tenancy::{access::WriteScope, settings},
    AppState,
};

/// DeBounce verification of a workspace's unverified contacts.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct VerifyContactsJob {
    pub workspace_id: i64,
    /// The trace of the request that asked for it.
    #[serde(default)]
    pub trace_id: Option<String>,
}

/// This week's batch of a workspace: made (once), then uploaded to Email Bison.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct BatchJob {
    pub workspace_id: i64,
    /// Upload an existing batch again (after a failure) instead of making this week's.
    pub batch_id: Option<i64>,
    /// The trace of the request that asked for it (a schedule's tick starts a new one).
    #[serde(default)]
    pub trace_id: Option<String>,
}

// A failed verification or upload is recorded on its run or batch; the next click retries.
crate::job_queue!(VerifyQueue, VerifyContactsJob, "contacts.verify", 1);
crate::job_queue!(BatchQueue, BatchJob, "contacts.batch", 1);

/// Records a queued verification run of the scoped workspace and queues its job, in one step: a
/// refused push marks the run failed with the reason.
///
/// First the run is held against the key's credit balance (read from DeBounce when unknown or too
/// small): a run the balance can't cover is refused with what it needs and what is left, unless
/// `confirm`. We refuse rather than quietly verify only what the credits cover because the admin
/// is the one to choose between buying credits and leaving contacts unverified; confirmed, the
/// run goes on until DeBounce answers 402, which stops it and keeps every verdict paid for.
pub async fn request_verification(state: &AppState, scope: &WriteScope, confirm: bool) -> Result<()> {
    let db = &state.db;
    let workspace_id = scope.workspace_id();
    let credits = verification::credits_before_run(state, workspace_id).await?;
    if let (Some(short), false) = (credits.shortfall(), confirm) {
        return Err(crate::Error::Conflict(format!("{short} To verify as many as the credits cover, confirm and run it again.")));
    }
    let at = verification::queue_run(db, workspace_id).await?;
    let key = format!("verify:{workspace_id}:{}", at.timestamp_micros());
    if let Err(e) = VerifyQueue::new(db).push(VerifyContactsJob { workspace_id, trace_id: crate::platform::trace::current() }, Some(key)).await {
        on_db!(db, |pool| sqlx::query("UPDATE verification_runs SET status = $5, error = $1, finished_at = $2 WHERE workspace_id = $3 AND queued_at = $4")
            .bind("the job queue refused the verification; try again")
            .bind(Utc::now())
            .bind(workspace_id)
            .bind(at)
            .bind(verification::VerifyStatus::Failed.as_str())
            .execute(pool)
            .await
            .map(|r| r.rows_affected()))?;
        return Err(e);
    }
    Ok(())
}

/// Queues another upload of one of the scoped workspace's batches (after a failure); the upload
/// resumes without duplicates. A batch of another workspace is `NotFound`.
pub async fn request_batch_upload(db: &Db, scope: &WriteScope, batch_id: i64) -> Result<()> {
    let batch = batches::get(db, batch_id).await?;
    if batch.workspace_id != scope.workspace_id() {
        return Err(crate::Error::NotFound);
    }
    let key = format!("batch-again:{}:{}", batch.id, Utc::now().timestamp_micros());
    BatchQueue::new(db).push(BatchJob { workspace_id: batch.workspace_id, batch_id: Some(batch.id), trace_id: crate::platform::trace::current() }, Some(key)).await
}

async fn run_verify(job: VerifyContactsJob, state: Data<AppState>) -> std::result::Result<String, BoxDynError> {
    let trace = job.trace_id.clone().unwrap_or_else(crate::platform::trace::new_trace_id);
    crate::platform::trace::scope(trace, verify_job(job, state)).await
}

async fn verify_job(job: VerifyContactsJob, state: Data<AppState>) -> std::result::Result<String, BoxDynError> {
    let run = verification::execute(&state, job.workspace_id).await?;
    tracing::info!(workspace = job.workspace_id, ?run, "contact verification done");
    Ok(format!("{run:?}"))
}

async fn run_batch(job: BatchJob, state: Data<AppState>) -> std::result::Result<String, BoxDynError> {
    let trace = job.trace_id.clone().unwrap_or_else(crate::platform::trace::new_trace_id);
    crate::platform::trace::scope(trace, batch_job(job, state)).await
}

async fn batch_job(job: BatchJob, state: Data<AppState>) -> std::result::Result<String, BoxDynError> {
    let batch = match job.batch_id {
        Some(id) => Some(id),
        None => {
            let tz = settings::agency_time_zone(&state.db).await?;
            let today = settings::agency_today(Utc::now(), tz);
            let monday = today - chrono::Duration::days(today.weekday().num_days_from_monday() as i64);
            batches::create_weekly(&state.db, job.workspace_id, monday).await?
        }
    };
    let Some(batch) = batch else { return Ok("no weekly target".into()) };
    match batches::upload(&state, batch).await {
        Ok(n) => Ok(format!("batch {batch}: {n} leads in Email Bison")),
        // Recorded on the batch (status failed, reason); the admin uploads it again.
        Err(e) => Ok(format!("batch {batch} failed: {e}")),
    }
}

async fn on_batch_tick(tick: Tick, ctx: Data<(Db, BatchQueue)>) -> std::result::Result<(), BoxDynError> {
    let (db, queue) = &*ctx;
    let workspaces: Vec<i64> = on_db!(db, |pool| sqlx::query_scalar("SELECT id FROM workspaces WHERE active AND weekly_contact_target > 0 ORDER BY id")
        .fetch_all(pool)
        .await)?;
    for ws in workspaces {
        queue.push(BatchJob { workspace_id: ws, batch_id: None, trace_id: None }, Some(format!("batch:{ws}:{}", tick.get_timestamp()))).await?;
    }
    Ok(())
}

/// The verification and batch workers, and the weekly batch schedule.
pub fn register_jobs(workers: Workers) -> Result<Workers> {
    let schedule = Workers::schedule("MAVERICK_BATCH_CRON", &workers.state.config.batch_cron)?;
    let ctx = (workers.state.db.clone(), BatchQueue::new(&workers.state.db));
    let workers = crate::register_worker!(workers, VerifyQueue, "contacts-verify", 1, run_verify);
    let workers = crate::register_worker!(workers, BatchQueue, "contacts-batch", 1, run_batch);
    Ok(crate::register_schedule!(workers, "contacts-batch-cron", schedule, ctx, on_batch_tick))
}
