//! The resolver as a queued job: the page asks for a run, a worker (this process or a
//! `server worker`) works it, and the run row carries its phase and progress for the page.

use apalis::prelude::{BoxDynError, Data};
use chrono::Utc;
use serde::{Deserialize, Serialize};

use super::store;
use crate::{
    identity::sessions::SessionUser,
    platform::{db::Db, error::Result, jobs::Workers},
    tenancy::access,
    AppState,
};

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ResolveJob {
    pub run_id: i64,
    #[serde(default)]
    pub trace_id: Option<String>,
}

// A run records its own failure; apalis does not retry it (the admin starts another).
crate::job_queue!(ResolveQueue, ResolveJob, "prospects.resolve", 1);

/// Queues a resolver run for an admin: answers its id, or a conflict when one is going.
pub async fn request_resolve(db: &Db, caller: &SessionUser) -> Result<i64> {
    access::require_admin(caller)?;
    let run_id = store::request_run(db, Some(caller.user_id)).await?;
    let key = format!("prospects-resolve:{run_id}:{}", Utc::now().timestamp_micros());
    if let Err(e) = ResolveQueue::new(db).push(ResolveJob { run_id, trace_id: crate::platform::trace::current() }, Some(key)).await {
        store::fail_run(db, run_id, "The job queue refused the run; try again.").await?;
        return Err(e);
    }
    Ok(run_id)
}

async fn run_resolve(job: ResolveJob, state: Data<AppState>) -> std::result::Result<String, BoxDynError> {
    let trace = job.trace_id.clone().unwrap_or_else(crate::platform::trace::new_trace_id);
    let report = crate::platform::trace::scope(trace, store::execute_run(&state.db, job.run_id)).await?;
    let summary = format!("{} persons → {} masters, {} pairs to review", report.persons, report.masters, report.open_review_pairs);
    tracing::info!(run = job.run_id, %summary, "prospect resolver run finished");
    Ok(summary)
}

/// One run at a time per process: a run holds every person in memory.
pub fn register_jobs(workers: Workers) -> Result<Workers> {
    Ok(crate::register_worker!(workers, ResolveQueue, "prospects", 1, run_resolve))
}
