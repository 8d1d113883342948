//! The automation runs' worker, the schedules (each workspace's own crons, checked every
//! minute) and the sweep that marks runs whose worker died as interrupted.

use std::{str::FromStr, time::Duration};

use apalis::prelude::{BoxDynError, Data};
use apalis_cron::Tick;
use chrono::{DateTime, TimeZone, Utc};
use serde::{Deserialize, Serialize};

use super::{engine, log, LogLevel, RunStatus, Step, Trigger};
use crate::{
    on_db,
    platform::{db::Db, error::Result, jobs::Workers},
    AppState,
};

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct AutomationJob {
    pub run_id: i64,
    #[serde(default)]
    pub trace_id: Option<String>,
}

// A run records its own failure; apalis does not retry it (the admin retries from the page).
crate::job_queue!(AutomationQueue, AutomationJob, "automations.run", 1);

pub async fn enqueue(db: &Db, run_id: i64) -> Result<()> {
    let key = format!("automation:{run_id}:{}", Utc::now().timestamp_micros());
    AutomationQueue::new(db).push(AutomationJob { run_id, trace_id: crate::platform::trace::current() }, Some(key)).await
}

async fn run_automation(job: AutomationJob, state: Data<AppState>) -> std::result::Result<String, BoxDynError> {
    let trace = job.trace_id.clone().unwrap_or_else(crate::platform::trace::new_trace_id);
    let summary = crate::platform::trace::scope(trace, engine::execute(&state, job.run_id)).await?;
    tracing::info!(run = job.run_id, %summary, "automation run worked");
    Ok(summary)
}

/// The schedules of every enabled workspace: (cron, first step, last step, name).
async fn schedules(db: &Db) -> Result<Vec<(i64, String, String)>> {
    Ok(on_db!(db, |pool| sqlx::query_as(
        "SELECT s.workspace_id, s.pull_cron, s.upload_cron FROM automation_settings s JOIN workspaces w ON w.id = s.workspace_id WHERE s.enabled AND w.active"
    )
    .fetch_all(pool)
    .await)?)
}

/// Makes the runs whose schedule fell in `(since, until]`. Each occurrence has one key, so N
/// processes ticking make one run; a workspace with a run going skips the occurrence.
pub async fn make_scheduled_runs(db: &Db, since: DateTime<Utc>, until: DateTime<Utc>) -> Result<Vec<i64>> {
    let mut made = Vec::new();
    for (ws, pull_cron, upload_cron) in schedules(db).await? {
        for (which, cron, first, last) in [("pull", pull_cron, Step::Pull, Step::Gap), ("upload", upload_cron, Step::Upload, Step::Rotate)] {
            let Ok(schedule) = cron::Schedule::from_str(&cron) else {
                tracing::warn!(workspace = ws, %cron, "an automation schedule is not a cron expression");
                continue;
            };
            let Some(at) = schedule.after(&since).next().filter(|at| *at <= until) else { continue };
            let key = format!("{ws}:{which}:{}", at.timestamp());
            match super::insert_run(db, ws, first, last, false, Trigger::Schedule, None, Some(&key)).await? {
                Some(run) => {
                    enqueue(db, run).await?;
                    made.push(run);
                }
                None => tracing::info!(workspace = ws, which, "scheduled automation skipped: already made, or a run is going"),
            }
        }
    }
    Ok(made)
}

async fn on_tick(tick: Tick, db: Data<Db>) -> std::result::Result<(), BoxDynError> {
    let until = Utc.timestamp_opt(tick.get_timestamp() as i64, 0).single().unwrap_or_else(Utc::now);
    make_scheduled_runs(&db, until - chrono::Duration::seconds(60), until).await?;
    Ok(())
}

/// Runs whose worker stopped (lease lapsed): marked interrupted, to be resumed from the page.
/// Queued runs no worker took within a few leases are queued again. Returns (interrupted, requeued).
pub async fn sweep(db: &Db, now: DateTime<Utc>) -> Result<(usize, usize)> {
    let lapsed: Vec<(i64, i64, Option<String>)> = on_db!(db, |pool| sqlx::query_as(
        "UPDATE automation_runs SET status = $1, error = $2, finished_at = $3, lease_owner = NULL, lease_until = NULL \
         WHERE status = $4 AND lease_until < $3 RETURNING id, workspace_id, current_step"
    )
    .bind(RunStatus::Interrupted.as_str())
    .bind("Interrupted: the worker stopped mid-run. Resume it to go on from the step that did not finish.")
    .bind(now)
    .bind(RunStatus::Running.as_str())
    .fetch_all(pool)
    .await)?;
    for (run, ws, step) in &lapsed {
        // The step that was going is closed as failed, so the resume starts it again.
        on_db!(db, |pool| sqlx::query("UPDATE automation_steps SET status = 'failed', finished_at = $1, error = 'the worker stopped' WHERE run_id = $2 AND status = 'running'")
            .bind(now)
            .bind(run)
            .execute(pool)
            .await
            .map(|r| r.rows_affected()))?;
        log(db, *ws, *run, LogLevel::Error, &format!("Interrupted during {}: the worker stopped. Resume the run to go on.", step.as_deref().unwrap_or("a step"))).await?;
        let name = crate::tenancy::workspaces::get(db, *ws).await.map(|w| w.name).unwrap_or_default();
        let text = format!(":warning: {name} — automation run {run} was interrupted (its worker stopped); resume it on the Automations page.");
        if let Err(e) = crate::notifications::enqueue(db, None, &text).await {
            tracing::warn!(run, error = %e, "could not queue the Slack message of an interrupted run");
        }
    }
    let forgotten: Vec<i64> = on_db!(db, |pool| sqlx::query_scalar("SELECT id FROM automation_runs WHERE status = $1 AND created_at < $2")
        .bind(RunStatus::Queued.as_str())
        .bind(now - chrono::Duration::from_std(engine::LEASE * 4).expect("short"))
        .fetch_all(pool)
        .await)?;
    for run in &forgotten {
        // One job per minute at most, however many processes sweep.
        let key = format!("automation-sweep:{run}:{}", now.timestamp() / 60);
        AutomationQueue::new(db).push(AutomationJob { run_id: *run, trace_id: None }, Some(key)).await?;
    }
    Ok((lapsed.len(), forgotten.len()))
}

pub async fn run_sweeper(db: Db, every: Duration) {
    loop {
        match sweep(&db, Utc::now()).await {
            Ok((0, 0)) => {}
            Ok((i, q)) => tracing::info!(interrupted = i, requeued = q, "automation sweep"),
            Err(e) => tracing::warn!(error = %e, "automation sweep failed"),
        }
        tokio::time::sleep(every).await;
    }
}

/// The run worker (one run at a time per process: one browser) and the minute tick.
pub fn register_jobs(workers: Workers) -> Result<Workers> {
    let every_minute = Workers::schedule("automation tick", "0 * * * * *")?;
    let db = workers.state.db.clone();
    let workers = crate::register_worker!(workers, AutomationQueue, "automations", 1, run_automation);
    Ok(crate::register_schedule!(workers, "automations-cron", every_minute, db, on_tick))
}
