//! Working a run. The job (`PersonalizeJob`) takes the run's lease — a row-level claim with an
//! expiry that the worker keeps renewing — so one worker at a time works a run, and a run whose
//! worker died (kill -9, power cut) is taken up again by the sweep once its lease lapses.
//!
//! Leads go through a sliding window: up to `concurrency` leads in flight, a new one started as
//! soon as any finishes (no batches waiting on their slowest lead); the providers' rate limits
//! space the calls. A lead's result is stored by compare-and-set on `status = 'pending'` together
//! with the run's counters, so a lead is personalized exactly once even if two workers ever
//! overlapped, and a resumed run redoes only the leads that never finished.

use std::{
    sync::{
        atomic::{AtomicBool, Ordering},
        Arc, OnceLock,
    },
    time::{Duration, Instant},
};

use chrono::Utc;
use serde_json::{json, Map, Value};
use tokio::task::JoinSet;

use super::{
    writer::{self, AiWriters, Brief, LeadResult, Outcome, Writer},
    Lead, LeadStatus, Run, RunStatus,
};
use crate::{
    connectors::ai::Provider,
    platform::http_retry::RetryPolicy,
    platform::config::PersonalizationSettings,
    platform::db::Db,
    platform::error::{Error, Result},
    platform::jobs::Workers,
    platform::event_catalog::RunCompletedData,
    platform::events::{self, NewEvent},
    on_db, AppState,
};

/// Workspace event sent as a run moves (at most every `PROGRESS_EVERY`, and at the end).
pub const PROGRESS_EVENT: &str = "personalization.progress";
const PROGRESS_EVERY: Duration = Duration::from_millis(300);

/// This process, as a lease owner.
fn worker_id() -> &'static str {
    static ID: OnceLock<String> = OnceLock::new();
    ID.get_or_init(|| format!("{}-{}", std::process::id(), &uuid::Uuid::new_v4().simple().to_string()[..8]))
}

/// Work a personalization run (extract its file, then personalize its pending leads).
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub struct PersonalizeJob {
    pub run_id: i64,
    /// The trace of the request that started the run (the sweep starts a new one).
    #[serde(default)]
    pub trace_id: Option<String>,
}

// A run that stops (crash, lost lease) is taken up again by the sweep.
crate::job_queue!(PersonalizeQueue, PersonalizeJob, "personalization.run", 1);

async fn run_personalize(job: PersonalizeJob, state: apalis::prelude::Data<AppState>) -> std::result::Result<String, apalis::prelude::BoxDynError> {
    let trace = job.trace_id.clone().unwrap_or_else(crate::platform::trace::new_trace_id);
    crate::platform::trace::scope(trace, personalize_job(job, state)).await
}

async fn personalize_job(job: PersonalizeJob, state: apalis::prelude::Data<AppState>) -> std::result::Result<String, apalis::prelude::BoxDynError> {
    let summary = execute(&state, job.run_id).await?;
    tracing::info!(run = job.run_id, %summary, "personalization run worked");
    Ok(summary)
}

/// The run worker: several runs at once, each keeping its own window of leads in flight.
pub fn register_jobs(workers: Workers) -> Result<Workers> {
    Ok(crate::register_worker!(workers, PersonalizeQueue, "personalization", 4, run_personalize))
}

pub async fn enqueue(db: &Db, run_id: i64) -> Result<()> {
    PersonalizeQueue::new(db).push(PersonalizeJob { run_id, trace_id: crate::platform::trace::current() }, Some(format!("personalize:{run_id}:{}", Utc::now().timestamp_micros()))).await
}

/// The AI writers of these settings, or `None` when a key is missing. Rate limits are shared by
/// every run of the process (see [`Provider::new`]).
pub fn ai_writers(s: &PersonalizationSettings) -> Option<AiWriters> {
    let policy = RetryPolicy { attempts: 3, base_delay: s.retry_delay, max_retry_after: Duration::from_secs(60), timeout: s.timeout };
    let research = Provider::new("perplexity", "Perplexity", &s.perplexity_url, s.perplexity_key.as_deref()?, &s.perplexity_model, s.perplexity_per_minute, policy.clone());
    let write = Provider::new("openrouter", "OpenRouter", &s.openrouter_url, s.openrouter_key.as_deref()?, &s.openrouter_model, s.openrouter_per_minute, policy)
        .with_header("X-OpenRouter-Title", "Maverick")
        .with_header("X-Title", "Maverick")
        .with_openrouter_pricing();
    Some(AiWriters { research, write })
}

async fn brief_of(db: &Db, campaign_id: i64) -> Result<Brief> {
    let (offer, example_line): (String, String) =
        on_db!(db, |pool| sqlx::query_as("SELECT offer, example_line FROM personalization_campaigns WHERE id = $1").bind(campaign_id).fetch_one(pool).await)?;
    Ok(Brief { offer, example_line })
}

/// Personalizes one lead's fields with the run's writer.
async fn write_one(writers: Option<&AiWriters>, writer: Writer, fields: &Map<String, Value>, brief: &Brief) -> LeadResult {
    match (writer, writers) {
        (Writer::Template, _) => writer::personalize_with_template(fields),
        (Writer::Ai, Some(w)) => writer::personalize_with_ai(w, fields, brief).await,
        (Writer::Ai, None) => LeadResult {
            outcome: Outcome::Fatal("AI writing needs MAVERICK_PERPLEXITY_KEY and MAVERICK_OPENROUTER_KEY; set them, then resume the run".into()),
            ..Default::default()
        },
    }
}

/// Works a run until it is done, cancelled, stopped by a provider, or its lease is lost.
pub async fn execute(state: &AppState, run_id: i64) -> Result<String> {
    let db = &state.db;
    let settings = &state.config.personalization;
    let lease = chrono::Duration::from_std(settings.lease).unwrap_or(chrono::Duration::seconds(30));
    let me = worker_id();
    let now = Utc::now();
    let claimed: Option<bool> = on_db!(db, |pool| sqlx::query_scalar(
        "UPDATE personalization_runs SET lease_owner = $1, lease_until = $2 \
         WHERE id = $3 AND status IN ('extracting', 'personalizing') AND (lease_until IS NULL OR lease_until < $4 OR lease_owner = $1) \
         RETURNING cancel_requested"
    )
    .bind(me)
    .bind(now + lease)
    .bind(run_id)
    .bind(now)
    .fetch_optional(pool)
    .await)?;
    let Some(cancelled) = claimed else {
        return Ok(format!("run {run_id}: finished, or being worked elsewhere"));
    };
    // Keep the lease while working; hear of a cancel; stop if the lease was taken over.
    let (cancel, lost) = (Arc::new(AtomicBool::new(cancelled)), Arc::new(AtomicBool::new(false)));
    let keeper = {
        let (db, cancel, lost, every) = (db.clone(), cancel.clone(), lost.clone(), settings.lease / 3);
        tokio::spawn(async move {
            loop {
                let renewed: std::result::Result<Option<bool>, sqlx::Error> = on_db!(&db, |pool| sqlx::query_scalar(
                    "UPDATE personalization_runs SET lease_until = $1 WHERE id = $2 AND lease_owner = $3 RETURNING cancel_requested"
                )
                .bind(Utc::now() + lease)
                .bind(run_id)
                .bind(me)
                .fetch_optional(pool)
                .await);
                match renewed {
                    Ok(Some(c)) => cancel.store(c, Ordering::SeqCst),
                    Ok(None) => lost.store(true, Ordering::SeqCst),
                    Err(e) => tracing::warn!(run = run_id, error = %e, "could not renew the run's lease"),
                }
                tokio::time::sleep(every).await;
            }
        })
    };
    let outcome = work(state, run_id, &cancel, &lost).await;
    keeper.abort();
    let summary = match outcome {
        Ok(s) => s,
        Err(e) => {
            // An internal error (database gone…): release the lease; the sweep tries again.
            release(db, run_id).await?;
            return Err(e);
        }
    };
    publish_progress(db, run_id).await;
    Ok(summary)
}

async fn release(db: &Db, run_id: i64) -> Result<()> {
    on_db!(db, |pool| sqlx::query("UPDATE personalization_runs SET lease_owner = NULL, lease_until = NULL WHERE id = $1 AND lease_owner = $2")
        .bind(run_id)
        .bind(worker_id())
        .execute(pool)
        .await
        .map(|_| ()))?;
    Ok(())
}

async fn work(state: &AppState, run_id: i64, cancel: &AtomicBool, lost: &AtomicBool) -> Result<String> {
    let db = &state.db;
    let mut run = super::run_by_id(db, run_id).await?.ok_or(Error::NotFound)?;
    if run.status == RunStatus::Extracting {
        super::extract::extract_run(db, run_id, &state.config.data_dir).await?;
        publish_progress(db, run_id).await;
        run = super::run_by_id(db, run_id).await?.ok_or(Error::NotFound)?;
        if run.status != RunStatus::Personalizing {
            return Ok(format!("run {run_id}: {}", run.error.unwrap_or_default()));
        }
    }
    let writer = run.writer;
    let writers = Arc::new(ai_writers(&state.config.personalization));
    let brief = Arc::new(brief_of(db, run.campaign_id).await?);
    let window = state.config.personalization.concurrency;
    let mut in_flight: JoinSet<(i64, LeadResult)> = JoinSet::new();
    let mut queue: std::collections::VecDeque<(i64, String)> = Default::default();
    let mut cursor = 0i64;
    let mut exhausted = false;
    let mut fatal: Option<String> = None;
    let mut last_progress = Instant::now();
    loop {
        let stopping = fatal.is_some() || cancel.load(Ordering::SeqCst) || lost.load(Ordering::SeqCst);
        // Top the window up.
        while !stopping && in_flight.len() < window {
            if queue.is_empty() && !exhausted {
                let next: Vec<(i64, String)> = on_db!(db, |pool| sqlx::query_as(
                    "SELECT id, fields FROM personalization_leads WHERE run_id = $1 AND status = 'pending' AND id > $2 ORDER BY id LIMIT 200"
                )
                .bind(run_id)
                .bind(cursor)
                .fetch_all(pool)
                .await)?;
                exhausted = next.len() < 200;
                if let Some(last) = next.last() {
                    cursor = last.0;
                }
                queue.extend(next);
            }
            let Some((lead_id, fields)) = queue.pop_front() else { break };
            let fields: Map<String, Value> = serde_json::from_str(&fields).unwrap_or_default();
            let (writers, brief) = (writers.clone(), brief.clone());
            in_flight.spawn(async move { (lead_id, write_one(writers.as_ref().as_ref(), writer, &fields, &brief).await) });
        }
        let Some(joined) = in_flight.join_next().await else { break };
        let (lead_id, result) = joined.map_err(|e| Error::Internal(format!("a lead's task failed: {e}")))?;
        if let Outcome::Fatal(why) = &result.outcome {
            fatal.get_or_insert_with(|| why.clone());
        }
        if lost.load(Ordering::SeqCst) {
            continue; // another worker has the run now; it redoes what is not stored
        }
        store(db, run_id, lead_id, LeadStatus::Pending, writer.as_str(), result).await?;
        if last_progress.elapsed() >= PROGRESS_EVERY {
            publish_progress(db, run_id).await;
            last_progress = Instant::now();
        }
    }
    if lost.load(Ordering::SeqCst) {
        return Ok(format!("run {run_id}: taken over by another worker"));
    }
    let run = super::run_by_id(db, run_id).await?.ok_or(Error::NotFound)?;
    let (status, error) = if let Some(why) = fatal {
        (RunStatus::Failed, Some(why))
    } else if cancel.load(Ordering::SeqCst) {
        (RunStatus::Cancelled, None)
    } else if run.done == 0 && run.failed > 0 {
        (RunStatus::Failed, Some(format!("All {} leads failed; see each lead's reason.", run.failed)))
    } else {
        (RunStatus::Completed, None)
    };
    let data = RunCompletedData {
        workspace: String::new(),
        run_id,
        campaign_id: run.campaign_id,
        status: status.as_str().to_owned(),
        done: run.done,
        failed: run.failed,
        total: run.total,
    };
    let event = NewEvent::new(run.workspace_id, events::PERSONALIZATION_RUN_COMPLETED, &data);
    // The end of the run and its event in one transaction; a worker that lost the lease writes neither.
    on_db!(db, |pool| async {
        let mut tx = pool.begin().await?;
        let ended = sqlx::query(
            "UPDATE personalization_runs SET status = $1, error = $2, finished_at = $3, lease_owner = NULL, lease_until = NULL WHERE id = $4 AND lease_owner = $5",
        )
        .bind(status.as_str())
        .bind(&error)
        .bind(event.at)
        .bind(run_id)
        .bind(worker_id())
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if ended == 1 {
            crate::record_event!(&mut *tx, &event)?;
        }
        tx.commit().await
    }
    .await)?;
    Ok(format!("run {run_id}: {status}, {} done, {} failed of {}", run.done, run.failed, run.total))
}

/// Stores a lead's result if the lead is still in `expected` status, with the calls made and the
/// run's counters, in one transaction. A fatal outcome stores only the calls (the lead stays
/// pending for a resume). Returns whether the lead changed.
async fn store(db: &Db, run_id: i64, lead_id: i64, expected: LeadStatus, writer: &str, result: LeadResult) -> Result<bool> {
    let now = Utc::now();
    // Known costs are summed; calls of unknown cost are counted, never taken as free.
    let (prompt_tokens, completion_tokens, cost, unknown): (i64, i64, f64, i64) = result.calls.iter().fold((0, 0, 0.0, 0), |(p, c, d, u), r| {
        (p + r.prompt_tokens, c + r.completion_tokens, d + r.cost_usd.unwrap_or(0.0), u + i64::from(r.cost_usd.is_none()))
    });
    let (status, line, error) = match result.outcome {
        Outcome::Line(line) => (Some(LeadStatus::Done), Some(line), None),
        Outcome::Failed(why) => (Some(LeadStatus::Failed), None, Some(why)),
        Outcome::Fatal(_) | Outcome::NotRun => (None, None, None),
    };
    on_db!(db, |pool| async {
        let mut tx = pool.begin().await?;
        let mut changed = false;
        if let Some(status) = status {
            changed = sqlx::query(
                "UPDATE personalization_leads SET status = $1, writer = $2, research = $3, line = $4, error = $5, prompt_tokens = prompt_tokens + $6, \
                 completion_tokens = completion_tokens + $7, cost_usd = cost_usd + $8, unknown_cost_calls = unknown_cost_calls + $12, edited_by = NULL, \
                 finished_at = $9 WHERE id = $10 AND status = $11",
            )
            .bind(status.as_str())
            .bind(writer)
            .bind(&result.research)
            .bind(&line)
            .bind(&error)
            .bind(prompt_tokens)
            .bind(completion_tokens)
            .bind(cost)
            .bind(now)
            .bind(lead_id)
            .bind(expected.as_str())
            .bind(unknown)
            .execute(&mut *tx)
            .await?
            .rows_affected()
                == 1;
            if changed && status != expected {
                sqlx::query(sqlx::AssertSqlSafe(format!(
                    "UPDATE personalization_runs SET {} {} WHERE id = $1",
                    counter(status, "+").unwrap_or_default(),
                    counter(expected, "-").map(|c| format!(", {c}")).unwrap_or_default()
                )))
                .bind(run_id)
                .execute(&mut *tx)
                .await?;
            }
        }
        if status.is_none() && !result.calls.is_empty() {
            // A stopped run's calls were made (and billed) too: the lead's totals count them.
            sqlx::query(
                "UPDATE personalization_leads SET prompt_tokens = prompt_tokens + $1, completion_tokens = completion_tokens + $2, cost_usd = cost_usd + $3, \
                 unknown_cost_calls = unknown_cost_calls + $4 WHERE id = $5",
            )
            .bind(prompt_tokens)
            .bind(completion_tokens)
            .bind(cost)
            .bind(unknown)
            .bind(lead_id)
            .execute(&mut *tx)
            .await?;
        }
        if changed || status.is_none() {
            for c in &result.calls {
                sqlx::query(
                    "INSERT INTO personalization_calls (lead_id, at, provider, model, attempt, request, response, http_status, error, prompt_tokens, \
                     completion_tokens, cost_usd, latency_ms) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)",
                )
                .bind(lead_id)
                .bind(c.at)
                .bind(c.provider)
                .bind(&c.model)
                .bind(c.attempt)
                .bind(&c.request)
                .bind(&c.response)
                .bind(c.http_status)
                .bind(&c.error)
                .bind(c.prompt_tokens)
                .bind(c.completion_tokens)
                .bind(c.cost_usd)
                .bind(c.latency_ms)
                .execute(&mut *tx)
                .await?;
            }
        }
        tx.commit().await?;
        Ok::<bool, Error>(changed)
    }
    .await)
}

/// The run counter a lead status feeds, as an SQL assignment (`done = done + 1`).
fn counter(status: LeadStatus, op: &str) -> Option<String> {
    match status {
        LeadStatus::Done => Some(format!("done = done {op} 1")),
        LeadStatus::Failed => Some(format!("failed = failed {op} 1")),
        LeadStatus::Pending => None,
    }
}

/// Writes one lead's line again now, with its run's writer (or the template when the run's
/// writer is AI but no keys are set — said so by the writer recorded on the lead).
pub(super) async fn regenerate(state: &AppState, lead: &Lead, run: &Run) -> Result<()> {
    let writer = run.writer;
    let writers = ai_writers(&state.config.personalization);
    let brief = brief_of(&state.db, run.campaign_id).await?;
    let fields: Map<String, Value> = serde_json::from_str(&lead.fields).unwrap_or_default();
    let result = write_one(writers.as_ref(), writer, &fields, &brief).await;
    if let Outcome::Fatal(why) = &result.outcome {
        return Err(Error::invalid(why.clone()));
    }
    if !store(&state.db, run.id, lead.id, lead.status, writer.as_str(), result).await? {
        return Err(Error::Conflict("The lead changed meanwhile; reload and try again.".into()));
    }
    publish_progress(&state.db, run.id).await;
    Ok(())
}

/// A line written by a person: stored as done, written by `manual`.
pub(super) async fn store_manual(db: &Db, lead: &Lead, line: &str, user_id: i64) -> Result<()> {
    on_db!(db, |pool| async {
        let mut tx = pool.begin().await?;
        let n = sqlx::query(
            "UPDATE personalization_leads SET status = $6, line = $1, writer = 'manual', edited_by = $2, error = NULL, finished_at = $3 WHERE id = $4 AND status = $5",
        )
        .bind(line)
        .bind(user_id)
        .bind(Utc::now())
        .bind(lead.id)
        .bind(lead.status.as_str())
        .bind(LeadStatus::Done.as_str())
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if n == 0 {
            return Err(Error::Conflict("The lead changed meanwhile; reload and try again.".into()));
        }
        if lead.status != LeadStatus::Done {
            let sql = format!("UPDATE personalization_runs SET done = done + 1{} WHERE id = $1", counter(lead.status, "-").map(|c| format!(", {c}")).unwrap_or_default());
            sqlx::query(sqlx::AssertSqlSafe(sql)).bind(lead.run_id).execute(&mut *tx).await?;
        }
        tx.commit().await?;
        Ok::<(), Error>(())
    }
    .await)
}

/// Tells the run's workspace (its open pages) where the run stands.
async fn publish_progress(db: &Db, run_id: i64) {
    let Ok(Some(run)) = super::run_by_id(db, run_id).await else { return };
    let payload = json!({"run_id": run.id, "status": run.status, "total": run.total, "done": run.done, "failed": run.failed, "skipped": run.skipped, "rejected": run.rejected});
    let event = crate::platform::events::NewEvent::new(run.workspace_id, PROGRESS_EVENT, &payload);
    if let Err(e) = crate::platform::events::publish(db, &event).await {
        tracing::warn!(run = run_id, error = %e, "could not publish the run's progress");
    }
}

/// Runs that should be moving but whose worker is gone (lease lapsed, or never taken within a
/// lease): queued again. Returns how many.
pub async fn sweep(db: &Db, lease: Duration) -> Result<usize> {
    let now = Utc::now();
    let stale_start = now - chrono::Duration::from_std(lease).unwrap_or(chrono::Duration::seconds(30));
    let stale: Vec<(i64, Option<chrono::DateTime<Utc>>)> = on_db!(db, |pool| sqlx::query_as(
        "SELECT id, lease_until FROM personalization_runs WHERE status IN ('extracting', 'personalizing') \
         AND ((lease_until IS NOT NULL AND lease_until < $1) OR (lease_until IS NULL AND created_at < $2))"
    )
    .bind(now)
    .bind(stale_start)
    .fetch_all(pool)
    .await)?;
    for (run, until) in &stale {
        // One job per lapse, however many processes sweep.
        let key = format!("personalize-sweep:{run}:{}", until.map_or(0, |u| u.timestamp_micros()));
        PersonalizeQueue::new(db).push(PersonalizeJob { run_id: *run, trace_id: None }, Some(key)).await?;
    }
    Ok(stale.len())
}

pub async fn run_sweeper(db: Db, lease: Duration, every: Duration) {
    loop {
        match sweep(&db, lease).await {
            Ok(0) => {}
            Ok(n) => tracing::info!(runs = n, "personalization runs taken up again"),
            Err(e) => tracing::warn!(error = %e, "personalization sweep failed"),
        }
        tokio::time::sleep(every).await;
    }
}
