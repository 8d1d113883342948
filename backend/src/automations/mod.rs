//! Browser automations (PT1–PT5): each workspace's contact supply run as one chain of steps —
//! PT1 pull from Cole X Dates (the real Chromium), PT2 clean (Clay when configured, the contact
//! import's normalisation, DeBounce), PT3 gap analysis against the month's need (one capped
//! supplemental pull when short), PT4 the weekly batch to Email Bison, PT5 campaign rotation.
//!
//! A run is one row (`automation_runs`) with a step row per attempt (`automation_steps`) and its
//! log (`automation_log`). One run per workspace at a time: the partial unique index
//! `automation_runs_one_active` is the claim. A step's writes are committed when it ends, so a
//! failed run is retried from the failed step with the earlier steps' outputs.
//! Schedules, the worker and the sweep for runs whose worker died are in [`jobs`]; the steps in
//! [`engine`]; sign-ins for the sites in [`credentials`].

pub mod credentials;
pub mod engine;
pub mod jobs;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::{
    identity::{audit, sessions::SessionUser},
    on_db,
    platform::{db::Db, error::Result},
    tenancy::access::{self, WriteScope},
    AppState, Error,
};

crate::sql_text_enum!(
    /// A step of the chain, in order.
    pub enum Step ("automation step") {
        Pull = "pt1_pull",
        Clean = "pt2_clean",
        Gap = "pt3_gap",
        Upload = "pt4_upload",
        Rotate = "pt5_rotate",
    }
);

impl Step {
    pub fn label(self) -> &'static str {
        match self {
            Step::Pull => "PT1 pull from Cole X Dates",
            Step::Clean => "PT2 clean and verify",
            Step::Gap => "PT3 gap analysis",
            Step::Upload => "PT4 weekly upload",
            Step::Rotate => "PT5 campaign rotation",
        }
    }

    fn index(self) -> usize {
        Step::ALL.iter().position(|s| *s == self).expect("every step is in ALL")
    }

    /// The steps from `first` to `last`, in order (empty when `last` comes before `first`).
    pub fn range(first: Step, last: Step) -> &'static [Step] {
        let (a, b) = (first.index(), last.index());
        if a > b {
            &[]
        } else {
            &Step::ALL[a..=b]
        }
    }
}

crate::sql_text_enum!(
    /// Where a run stands. `interrupted`: its worker stopped mid-run (kill -9, power cut).
    pub enum RunStatus ("automation run status") {
        Queued = "queued",
        Running = "running",
        Completed = "completed",
        Failed = "failed",
        Interrupted = "interrupted",
    }
);

crate::sql_text_enum!(
    pub enum StepStatus ("automation step status") { Running = "running", Completed = "completed", Failed = "failed" }
);

crate::sql_text_enum!(
    pub enum Trigger ("automation trigger") { Schedule = "schedule", Manual = "manual" }
);

crate::sql_text_enum!(
    pub enum LogLevel ("log level") { Info = "info", Warn = "warn", Error = "error" }
);

/// A workspace's automation settings (defaults until an admin saves them).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, sqlx::FromRow)]
pub struct Settings {
    pub enabled: bool,
    /// The admin whose rights the imports run with: the last to save the settings.
    pub run_as: Option<i64>,
    /// The state whose Cole X Dates sign-in pulls this workspace's ZIPs (NJ, TX…).
    pub cole_state: String,
    /// When PT1–PT3 run (six-field cron, agency time is not applied: UTC, like the other schedules).
    pub pull_cron: String,
    /// When PT4–PT5 run.
    pub upload_cron: String,
    /// PT1 pulls records dated within this many days before the run.
    pub lookback_days: i64,
    /// How many supplemental pulls PT3 may make when the month is short.
    pub supplemental_max: i64,
    /// The Clay table PT2 enriches through; empty: no Clay.
    pub clay_table: String,
    /// PT5's new campaign name: `{client}`, `{yyyy-mm}`, `{n}` (week of the month).
    pub rename_pattern: String,
    pub step_timeout_secs: i64,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            enabled: false,
            run_as: None,
            cole_state: String::new(),
            pull_cron: "0 0 6 15 * *".into(),
            upload_cron: "0 0 9 * * Fri".into(),
            lookback_days: 30,
            supplemental_max: 1,
            clay_table: String::new(),
            rename_pattern: "{client} – {yyyy-mm} – wk{n}".into(),
            step_timeout_secs: 300,
        }
    }
}

const PLACEHOLDERS: &[&str] = &["{client}", "{yyyy-mm}", "{n}"];

impl Settings {
    /// Every field checked, with what to fix.
    pub fn validate(&self) -> Result<()> {
        for (name, cron) in [("pull schedule", &self.pull_cron), ("upload schedule", &self.upload_cron)] {
            cron.parse::<cron::Schedule>()
                .map_err(|e| Error::invalid(format!("The {name} {cron:?} is not a cron expression (sec min hour day month weekday, e.g. \"0 0 6 15 * *\"): {e}")))?;
        }
        let state = self.cole_state.trim();
        if !state.is_empty() && !(state.len() == 2 && state.chars().all(|c| c.is_ascii_uppercase())) {
            return Err(Error::invalid(format!("The state {state:?} must be a two-letter code such as NJ or TX.")));
        }
        if !(1..=365).contains(&self.lookback_days) {
            return Err(Error::invalid("Look back between 1 and 365 days."));
        }
        if !(0..=3).contains(&self.supplemental_max) {
            return Err(Error::invalid("Allow between 0 and 3 supplemental pulls."));
        }
        if !(5..=7200).contains(&self.step_timeout_secs) {
            return Err(Error::invalid("A step's time limit is between 5 seconds and 2 hours."));
        }
        let mut rest = self.rename_pattern.clone();
        for p in PLACEHOLDERS {
            rest = rest.replace(p, "");
        }
        if let Some(start) = rest.find('{') {
            let bad: String = rest[start..].chars().take_while(|c| *c != '}').chain(std::iter::once('}')).collect();
            return Err(Error::invalid(format!("The campaign name pattern has {bad}; use {}.", PLACEHOLDERS.join(", "))));
        }
        if self.rename_pattern.trim().is_empty() || self.rename_pattern.chars().count() > 120 {
            return Err(Error::invalid("The campaign name pattern must have 1 to 120 characters."));
        }
        Ok(())
    }
}

/// The campaign name for `pattern` on `today` (`{n}`: the week of the month, 1–5).
pub fn campaign_name(pattern: &str, client: &str, today: chrono::NaiveDate) -> String {
    use chrono::Datelike;
    pattern
        .replace("{client}", client)
        .replace("{yyyy-mm}", &today.format("%Y-%m").to_string())
        .replace("{n}", &((today.day() - 1) / 7 + 1).to_string())
}

pub async fn settings(db: &Db, workspace_id: i64) -> Result<Settings> {
    let row: Option<Settings> = on_db!(db, |pool| sqlx::query_as(
        "SELECT enabled, run_as, cole_state, pull_cron, upload_cron, lookback_days, supplemental_max, clay_table, rename_pattern, step_timeout_secs \
         FROM automation_settings WHERE workspace_id = $1"
    )
    .bind(workspace_id)
    .fetch_optional(pool)
    .await)?;
    Ok(row.unwrap_or_default())
}

/// Saves a workspace's settings (admins); the saver becomes the one imports run as.
pub async fn save_settings(db: &Db, caller: &SessionUser, scope: &WriteScope, s: &Settings) -> Result<()> {
    access::require_admin(caller)?;
    s.validate()?;
    let ws = scope.workspace_id();
    on_db!(db, |pool| sqlx::query(
        "INSERT INTO automation_settings (workspace_id, enabled, run_as, cole_state, pull_cron, upload_cron, lookback_days, supplemental_max, clay_table, rename_pattern, step_timeout_secs, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) \
         ON CONFLICT (workspace_id) DO UPDATE SET enabled = excluded.enabled, run_as = excluded.run_as, cole_state = excluded.cole_state, \
         pull_cron = excluded.pull_cron, upload_cron = excluded.upload_cron, lookback_days = excluded.lookback_days, \
         supplemental_max = excluded.supplemental_max, clay_table = excluded.clay_table, rename_pattern = excluded.rename_pattern, \
         step_timeout_secs = excluded.step_timeout_secs, updated_at = excluded.updated_at"
    )
    .bind(ws)
    .bind(s.enabled)
    .bind(caller.user_id)
    .bind(s.cole_state.trim())
    .bind(s.pull_cron.trim())
    .bind(s.upload_cron.trim())
    .bind(s.lookback_days)
    .bind(s.supplemental_max)
    .bind(s.clay_table.trim())
    .bind(s.rename_pattern.trim())
    .bind(s.step_timeout_secs)
    .bind(Utc::now())
    .execute(pool)
    .await
    .map(|r| r.rows_affected()))?;
    audit::record(db, Some(caller), None, "automation.settings_saved", Some(&format!("workspace:{ws}")), None).await?;
    Ok(())
}

/// One run, as the Automations page and the engine read it.
#[derive(Clone, Debug, Serialize, Deserialize, sqlx::FromRow)]
pub struct Run {
    pub id: i64,
    pub workspace_id: i64,
    #[sqlx(try_from = "String")]
    pub first_step: Step,
    #[sqlx(try_from = "String")]
    pub last_step: Step,
    pub dry_run: bool,
    #[sqlx(try_from = "String")]
    pub status: RunStatus,
    #[sqlx(try_from = "String")]
    pub trigger: Trigger,
    pub requested_by: Option<i64>,
    pub current_step: Option<String>,
    pub error: Option<String>,
    pub created_at: DateTime<Utc>,
    pub started_at: Option<DateTime<Utc>>,
    pub finished_at: Option<DateTime<Utc>>,
}

const RUN_COLUMNS: &str = "id, workspace_id, first_step, last_step, dry_run, status, trigger, requested_by, current_step, error, created_at, started_at, finished_at";

/// One attempt at one step.
#[derive(Clone, Debug, Serialize, Deserialize, sqlx::FromRow)]
pub struct StepRun {
    pub id: i64,
    #[sqlx(try_from = "String")]
    pub step: Step,
    pub attempt: i64,
    #[sqlx(try_from = "String")]
    pub status: StepStatus,
    pub started_at: DateTime<Utc>,
    pub finished_at: Option<DateTime<Utc>>,
    pub records_in: Option<i64>,
    pub records_out: Option<i64>,
    pub output: Option<String>,
    pub error: Option<String>,
    pub failed_action: Option<String>,
    pub page_url: Option<String>,
    pub has_html: bool,
    pub has_screenshot: bool,
}

#[derive(Clone, Debug, Serialize, Deserialize, sqlx::FromRow)]
pub struct LogLine {
    pub id: i64,
    pub at: DateTime<Utc>,
    #[sqlx(try_from = "String")]
    pub level: LogLevel,
    pub message: String,
}

/// Asks for a run of `first..=last` of the scoped workspace (admins). Refused while another run
/// of the workspace is queued or going (the database's unique index decides, atomically).
pub async fn request_run(state: &AppState, caller: &SessionUser, scope: &WriteScope, first: Step, last: Step, dry_run: bool) -> Result<i64> {
    access::require_admin(caller)?;
    if Step::range(first, last).is_empty() {
        return Err(Error::invalid(format!("The run must end at or after {} ({} comes before it).", first.label(), last.label())));
    }
    let ws = scope.workspace_id();
    let id = insert_run(&state.db, ws, first, last, dry_run, Trigger::Manual, Some(caller.user_id), None).await?.ok_or_else(|| busy(ws))?;
    audit::record(&state.db, Some(caller), None, "automation.run_requested", Some(&format!("automation_run:{id} dry_run:{dry_run}")), None).await?;
    jobs::enqueue(&state.db, id).await.map(|_| id).or_else(|e| {
        // The run row stays for the sweep, which queues runs that no worker took.
        tracing::warn!(run = id, error = %e, "the run could not be queued now; the sweep will queue it");
        Ok(id)
    })
}

fn busy(workspace_id: i64) -> Error {
    Error::Conflict(format!("Workspace {workspace_id} already has an automation run queued or going; wait for it to end (or retry it if it stopped)."))
}

/// Inserts a queued run; `None` when the workspace already has one queued or going, or when
/// `schedule_key` was already used (another process made this occurrence's run).
pub(crate) async fn insert_run(
    db: &Db,
    workspace_id: i64,
    first: Step,
    last: Step,
    dry_run: bool,
    trigger: Trigger,
    requested_by: Option<i64>,
    schedule_key: Option<&str>,
) -> Result<Option<i64>> {
    Ok(on_db!(db, |pool| sqlx::query_scalar::<_, i64>(
        "INSERT INTO automation_runs (workspace_id, first_step, last_step, dry_run, status, trigger, requested_by, schedule_key, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT DO NOTHING RETURNING id"
    )
    .bind(workspace_id)
    .bind(first.as_str())
    .bind(last.as_str())
    .bind(dry_run)
    .bind(RunStatus::Queued.as_str())
    .bind(trigger.as_str())
    .bind(requested_by)
    .bind(schedule_key)
    .bind(Utc::now())
    .fetch_optional(pool)
    .await)?)
}

/// Queues a failed or interrupted run again; it resumes at the step that did not complete.
pub async fn retry(state: &AppState, caller: &SessionUser, run_id: i64) -> Result<()> {
    access::require_admin(caller)?;
    let run = run(&state.db, run_id).await?;
    let requeued = on_db!(&state.db, |pool| sqlx::query(
        "UPDATE automation_runs SET status = $1, error = NULL, finished_at = NULL, lease_owner = NULL, lease_until = NULL \
         WHERE id = $2 AND status IN ($3, $4)"
    )
    .bind(RunStatus::Queued.as_str())
    .bind(run_id)
    .bind(RunStatus::Failed.as_str())
    .bind(RunStatus::Interrupted.as_str())
    .execute(pool)
    .await
    .map(|r| r.rows_affected()));
    match requeued {
        Ok(1) => {}
        Ok(_) => return Err(Error::Conflict(format!("Run {run_id} is {}: only a failed or interrupted run can be retried.", run.status.as_str()))),
        Err(e) if crate::platform::error::is_unique_violation(&e) => return Err(busy(run.workspace_id)),
        Err(e) => return Err(e.into()),
    }
    log(&state.db, run.workspace_id, run_id, LogLevel::Info, &format!("Retry asked by {}.", caller.email)).await?;
    audit::record(&state.db, Some(caller), None, "automation.run_retried", Some(&format!("automation_run:{run_id}")), None).await?;
    jobs::enqueue(&state.db, run_id).await
}

pub async fn run(db: &Db, run_id: i64) -> Result<Run> {
    on_db!(db, |pool| sqlx::query_as::<_, Run>(sqlx::AssertSqlSafe(format!("SELECT {RUN_COLUMNS} FROM automation_runs WHERE id = $1")))
        .bind(run_id)
        .fetch_optional(pool)
        .await)?
    .ok_or(Error::NotFound)
}

/// Recent runs, newest first: of one workspace or all, of one status or all.
pub async fn runs(db: &Db, workspace_id: Option<i64>, status: Option<RunStatus>, limit: i64) -> Result<Vec<Run>> {
    Ok(on_db!(db, |pool| sqlx::query_as::<_, Run>(sqlx::AssertSqlSafe(format!(
        "SELECT {RUN_COLUMNS} FROM automation_runs WHERE ($1 IS NULL OR workspace_id = $1) AND ($2 IS NULL OR status = $2) ORDER BY id DESC LIMIT $3"
    )))
    .bind(workspace_id)
    .bind(status.map(RunStatus::as_str))
    .bind(limit)
    .fetch_all(pool)
    .await)?)
}

pub async fn steps(db: &Db, run_id: i64) -> Result<Vec<StepRun>> {
    Ok(on_db!(db, |pool| sqlx::query_as::<_, StepRun>(
        "SELECT id, step, attempt, status, started_at, finished_at, records_in, records_out, output, error, failed_action, page_url, \
         html_path IS NOT NULL AS has_html, screenshot_path IS NOT NULL AS has_screenshot FROM automation_steps WHERE run_id = $1 ORDER BY id"
    )
    .bind(run_id)
    .fetch_all(pool)
    .await)?)
}

/// The run's log lines after `after_id` (0: from the start), at most `limit`.
pub async fn log_since(db: &Db, run_id: i64, after_id: i64, limit: i64) -> Result<Vec<LogLine>> {
    Ok(on_db!(db, |pool| sqlx::query_as::<_, LogLine>(
        "SELECT id, at, level, message FROM automation_log WHERE run_id = $1 AND id > $2 ORDER BY id LIMIT $3"
    )
    .bind(run_id)
    .bind(after_id)
    .bind(limit)
    .fetch_all(pool)
    .await)?)
}

/// The stored file of a failed step: its screenshot (`png`) or page (`html`), for admins.
pub async fn artifact(state: &AppState, caller: &SessionUser, step_id: i64, kind: &str) -> Result<Vec<u8>> {
    access::require_admin(caller)?;
    let column = match kind {
        "png" => "screenshot_path",
        "html" => "html_path",
        _ => return Err(Error::NotFound),
    };
    let path: Option<String> = on_db!(&state.db, |pool| sqlx::query_scalar(sqlx::AssertSqlSafe(format!("SELECT {column} FROM automation_steps WHERE id = $1")))
        .bind(step_id)
        .fetch_optional(pool)
        .await)?
    .flatten();
    let path = path.ok_or(Error::NotFound)?;
    // Only files under this data folder's automations directory are ever served.
    let root = engine::artifacts_root(&state.config.data_dir);
    let full = std::path::Path::new(&path);
    if !full.starts_with(&root) {
        return Err(Error::NotFound);
    }
    std::fs::read(full).map_err(|_| Error::NotFound)
}

/// The internal event each log line publishes on the workspace's live stream (the Automations
/// page tails the run with it); not in the public catalog.
pub const PROGRESS_EVENT: &str = "automation.progress";

/// Appends a line to the run's log and tells the page that is watching (the live stream of the
/// run's workspace, which every caller already knows).
pub async fn log(db: &Db, workspace_id: i64, run_id: i64, level: LogLevel, message: &str) -> Result<()> {
    let message: String = message.chars().take(2000).collect();
    on_db!(db, |pool| sqlx::query("INSERT INTO automation_log (run_id, at, level, message) VALUES ($1, $2, $3, $4)")
        .bind(run_id)
        .bind(Utc::now())
        .bind(level.as_str())
        .bind(&message)
        .execute(pool)
        .await
        .map(|r| r.rows_affected()))?;
    let event = crate::platform::events::NewEvent::new(workspace_id, PROGRESS_EVENT, &serde_json::json!({"run_id": run_id}));
    if let Err(e) = crate::platform::events::publish(db, &event).await {
        tracing::warn!(run = run_id, error = %e, "could not publish the run's progress");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_run_in_order_and_refuse_backwards() {
        assert_eq!(Step::range(Step::Pull, Step::Rotate).len(), 5);
        assert_eq!(Step::range(Step::Upload, Step::Rotate), &[Step::Upload, Step::Rotate]);
        assert!(Step::range(Step::Rotate, Step::Pull).is_empty());
    }

    #[test]
    fn campaign_names_follow_the_pattern() {
        let d = |y, m, dd| chrono::NaiveDate::from_ymd_opt(y, m, dd).unwrap();
        assert_eq!(campaign_name("{client} – {yyyy-mm} – wk{n}", "Acme Roofing", d(2026, 12, 4)), "Acme Roofing – 2026-12 – wk1");
        assert_eq!(campaign_name("{client} wk{n}", "A", d(2026, 12, 8)), "A wk2");
        assert_eq!(campaign_name("{n}", "A", d(2026, 12, 29)), "5");
    }

    #[test]
    fn settings_say_what_to_fix() {
        let ok = Settings::default();
        assert!(ok.validate().is_ok());
        let bad = |f: fn(&mut Settings)| {
            let mut s = Settings::default();
            f(&mut s);
            s.validate().unwrap_err().to_string()
        };
        assert!(bad(|s| s.pull_cron = "every friday".into()).contains("not a cron expression"));
        assert!(bad(|s| s.cole_state = "New Jersey".into()).contains("two-letter"));
        assert!(bad(|s| s.rename_pattern = "{client} {week}".into()).contains("{week}"));
        assert!(bad(|s| s.step_timeout_secs = 1).contains("time limit"));
    }
}
