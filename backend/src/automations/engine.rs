//! Works one automation run: claims it (compare-and-set), keeps a lease while working, runs its
//! steps in order under the workspace's time limit, and records each attempt. A step that fails
//! keeps its error, the page's address, HTML and a screenshot (browser steps); the run stops
//! there and can be retried from that step. Steps completed earlier are not run again: their
//! stored output feeds the next step.
//!
//! Dry run: everything except writing to outside services or to the contact pipeline — the site
//! is read (pulls and exports), the file is parsed and counted, and each write step logs what it
//! would have done.

use std::{
    collections::HashMap,
    path::{Path, PathBuf},
    sync::{
        atomic::{AtomicBool, Ordering},
        Arc, OnceLock,
    },
    time::Duration,
};

use chrono::{Datelike, NaiveDate, Utc};
use serde_json::{json, Value};

use super::{credentials, credentials::Site, log, LogLevel, Run, RunStatus, Settings, Step, StepStatus};
use crate::{
    connectors::{
        chromium::{BrowserPool, BrowserSettings},
        sites::{self, ColeQuery, SiteFailure},
    },
    contacts, identity,
    identity::sessions::SessionUser,
    on_db,
    platform::{
        db::Db,
        error::Result,
        event_catalog::{self as events, AutomationRunData},
        events::NewEvent,
    },
    tenancy::{settings as agency, workspaces},
    AppState, Error,
};

/// How long a run's lease lasts without renewal: a worker silent this long is gone.
pub const LEASE: Duration = Duration::from_secs(30);

/// Where failed pages (HTML, PNG) and downloaded files are kept, under the data folder.
pub fn artifacts_root(data_dir: &Path) -> PathBuf {
    data_dir.join("automations")
}

static POOL: OnceLock<BrowserPool> = OnceLock::new();

/// The process's browser pool (one browser by default), launched on first use.
fn browser(settings: &BrowserSettings) -> &'static BrowserPool {
    POOL.get_or_init(|| BrowserPool::new(settings.clone()))
}

/// Closes the process's browser, if one was launched (worker shutdown): no Chromium outlives it.
pub async fn shutdown_browser() {
    if let Some(pool) = POOL.get() {
        pool.shutdown().await;
    }
}

fn worker_id() -> &'static str {
    static ID: OnceLock<String> = OnceLock::new();
    ID.get_or_init(|| format!("{}-{}", std::process::id(), crate::platform::crypto::random_token().chars().take(8).collect::<String>()))
}

/// Why a step failed, with the page it failed on when a browser was involved.
#[derive(Debug, Default)]
pub struct StepFailure {
    pub message: String,
    pub action: Option<String>,
    pub url: Option<String>,
    pub html: Option<String>,
    pub png: Option<Vec<u8>>,
}

impl From<Error> for StepFailure {
    fn from(e: Error) -> Self {
        StepFailure { message: e.to_string(), ..Default::default() }
    }
}

impl From<sqlx::Error> for StepFailure {
    fn from(e: sqlx::Error) -> Self {
        Error::from(e).into()
    }
}

impl From<SiteFailure> for StepFailure {
    fn from(f: SiteFailure) -> Self {
        StepFailure { message: format!("{}: {}", f.action, f.message), action: Some(f.action), url: f.url, html: f.html, png: f.screenshot_png }
    }
}

/// What a step hands on: its counts and a JSON output for the steps after it.
struct Outcome {
    records_in: Option<i64>,
    records_out: Option<i64>,
    output: Value,
}

struct Ctx<'a> {
    state: &'a AppState,
    browser: &'a BrowserPool,
    run: &'a Run,
    settings: Settings,
    workspace: workspaces::Workspace,
    dir: PathBuf,
    today: NaiveDate,
    outputs: HashMap<Step, Value>,
}

impl Ctx<'_> {
    async fn log(&self, level: LogLevel, message: &str) {
        if let Err(e) = log(&self.state.db, self.run.workspace_id, self.run.id, level, message).await {
            tracing::warn!(run = self.run.id, error = %e, "could not write the run's log");
        }
    }

    fn step_timeout(&self) -> Duration {
        Duration::from_secs(self.settings.step_timeout_secs.max(1) as u64)
    }

    /// The admin whose rights the contact import runs with.
    async fn importer(&self) -> std::result::Result<SessionUser, StepFailure> {
        let id = self.run.requested_by.or(self.settings.run_as).ok_or_else(|| StepFailure {
            message: "No admin owns this workspace's automations: an admin saves its automation settings once, and imports run with their rights.".into(),
            ..Default::default()
        })?;
        let user = identity::users::get(&self.state.db, id).await?;
        if user.disabled || user.role != identity::users::Role::Admin {
            return Err(StepFailure {
                message: format!("{} is no longer an active admin: an admin saves this workspace's automation settings again to take the runs over.", user.email),
                ..Default::default()
            });
        }
        Ok(SessionUser { session_id: 0, user_id: user.id, email: user.email, display_name: user.display_name, role: user.role })
    }
}

/// Works a queued run to its end (or to the step that fails) with the process's browser.
/// Returns a one-line summary.
pub async fn execute(state: &AppState, run_id: i64) -> Result<String> {
    execute_with(state, browser(&state.config.integrations.browser), run_id).await
}

/// Same, with the given browser pool (tests give each their own: a pool lives on one runtime).
pub async fn execute_with(state: &AppState, browser: &BrowserPool, run_id: i64) -> Result<String> {
    let db = &state.db;
    let lease = chrono::Duration::from_std(LEASE).expect("short lease");
    let now = Utc::now();
    // Claimed by compare-and-set: of two workers handed the same run, one works it.
    let claimed = on_db!(db, |pool| sqlx::query(
        "UPDATE automation_runs SET status = $1, lease_owner = $2, lease_until = $3, started_at = COALESCE(started_at, $4) WHERE id = $5 AND status = $6"
    )
    .bind(RunStatus::Running.as_str())
    .bind(worker_id())
    .bind(now + lease)
    .bind(now)
    .bind(run_id)
    .bind(RunStatus::Queued.as_str())
    .execute(pool)
    .await
    .map(|r| r.rows_affected()))?;
    if claimed == 0 {
        return Ok(format!("run {run_id}: not queued (finished, or taken by another worker)"));
    }
    let lost = Arc::new(AtomicBool::new(false));
    let keeper = {
        let (db, lost) = (db.clone(), lost.clone());
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(LEASE / 3).await;
                let renewed = on_db!(&db, |pool| sqlx::query("UPDATE automation_runs SET lease_until = $1 WHERE id = $2 AND lease_owner = $3 AND status = $4")
                    .bind(Utc::now() + lease)
                    .bind(run_id)
                    .bind(worker_id())
                    .bind(RunStatus::Running.as_str())
                    .execute(pool)
                    .await
                    .map(|r| r.rows_affected()));
                match renewed {
                    Ok(0) => lost.store(true, Ordering::SeqCst),
                    Ok(_) => {}
                    Err(e) => tracing::warn!(run = run_id, error = %e, "could not renew the automation run's lease"),
                }
            }
        })
    };
    let outcome = work(state, browser, run_id, &lost).await;
    keeper.abort();
    outcome
}

async fn work(state: &AppState, browser: &BrowserPool, run_id: i64, lost: &AtomicBool) -> Result<String> {
    let db = &state.db;
    let run = super::run(db, run_id).await?;
    let workspace = workspaces::get(db, run.workspace_id).await?;
    let tz = agency::agency_time_zone(db).await?;
    let dir = artifacts_root(&state.config.data_dir).join(format!("run-{run_id}"));
    std::fs::create_dir_all(&dir).map_err(|e| Error::Internal(format!("cannot create {}: {e}", dir.display())))?;
    let mut ctx = Ctx {
        state,
        browser,
        settings: super::settings(db, run.workspace_id).await?,
        run: &run,
        workspace,
        dir,
        today: agency::agency_today(Utc::now(), tz),
        outputs: completed_outputs(db, run_id).await?,
    };
    let mode = if run.dry_run { " (dry run)" } else { "" };
    ctx.log(LogLevel::Info, &format!("Run {run_id}{mode} for {}: {} → {}.", ctx.workspace.name, run.first_step.label(), run.last_step.label())).await;
    for &step in Step::range(run.first_step, run.last_step) {
        if ctx.outputs.contains_key(&step) {
            ctx.log(LogLevel::Info, &format!("{} completed in an earlier attempt; its output is used.", step.label())).await;
            continue;
        }
        if lost.load(Ordering::SeqCst) {
            return Ok(format!("run {run_id}: lease lost before {}", step.as_str()));
        }
        let step_id = start_step(db, run_id, step).await?;
        ctx.log(LogLevel::Info, &format!("{} started.", step.label())).await;
        let started = std::time::Instant::now();
        let limit = ctx.step_timeout();
        let result = match tokio::time::timeout(limit, run_step(&ctx, step)).await {
            Ok(r) => r,
            Err(_) => Err(StepFailure { message: format!("{} did not finish within its time limit of {} s.", step.label(), limit.as_secs()), ..Default::default() }),
        };
        let secs = started.elapsed().as_secs_f64();
        match result {
            Ok(outcome) => {
                finish_step(db, step_id, &outcome).await?;
                ctx.log(LogLevel::Info, &format!("{} completed in {secs:.1} s.", step.label())).await;
                ctx.outputs.insert(step, outcome.output);
            }
            Err(failure) => {
                let message = fail_step(&ctx, step_id, step, failure).await?;
                finish_run(&ctx, RunStatus::Failed, Some(step), Some(&message)).await?;
                // Logged after the run is marked failed: the page watching refetches on this line.
                ctx.log(LogLevel::Error, &format!("{} failed after {secs:.1} s: {message}", step.label())).await;
                return Ok(format!("run {run_id}: failed at {}: {message}", step.as_str()));
            }
        }
    }
    finish_run(&ctx, RunStatus::Completed, None, None).await?;
    ctx.log(LogLevel::Info, "Run completed.").await;
    Ok(format!("run {run_id}: completed"))
}

/// Outputs of the run's steps that completed (in any attempt).
async fn completed_outputs(db: &Db, run_id: i64) -> Result<HashMap<Step, Value>> {
    let rows: Vec<(String, Option<String>)> = on_db!(db, |pool| sqlx::query_as("SELECT step, output FROM automation_steps WHERE run_id = $1 AND status = $2")
        .bind(run_id)
        .bind(StepStatus::Completed.as_str())
        .fetch_all(pool)
        .await)?;
    let mut out = HashMap::new();
    for (step, output) in rows {
        out.insert(step.parse()?, output.and_then(|o| serde_json::from_str(&o).ok()).unwrap_or(Value::Null));
    }
    Ok(out)
}

async fn start_step(db: &Db, run_id: i64, step: Step) -> Result<i64> {
    let now = Utc::now();
    Ok(on_db!(db, |pool| async {
        let mut tx = pool.begin().await?;
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO automation_steps (run_id, step, attempt, status, started_at) \
             SELECT $1, $2, COALESCE(MAX(attempt), 0) + 1, $3, $4 FROM automation_steps WHERE run_id = $1 AND step = $2 RETURNING id",
        )
        .bind(run_id)
        .bind(step.as_str())
        .bind(StepStatus::Running.as_str())
        .bind(now)
        .fetch_one(&mut *tx)
        .await?;
        sqlx::query("UPDATE automation_runs SET current_step = $1 WHERE id = $2").bind(step.as_str()).bind(run_id).execute(&mut *tx).await?;
        tx.commit().await?;
        Ok::<i64, sqlx::Error>(id)
    }
    .await)?)
}

async fn finish_step(db: &Db, step_id: i64, o: &Outcome) -> Result<()> {
    on_db!(db, |pool| sqlx::query("UPDATE automation_steps SET status = $1, finished_at = $2, records_in = $3, records_out = $4, output = $5 WHERE id = $6")
        .bind(StepStatus::Completed.as_str())
        .bind(Utc::now())
        .bind(o.records_in)
        .bind(o.records_out)
        .bind(o.output.to_string())
        .bind(step_id)
        .execute(pool)
        .await
        .map(|r| r.rows_affected()))?;
    Ok(())
}

/// Records a failed attempt with its page (files under the run's folder). Returns the message.
async fn fail_step(ctx: &Ctx<'_>, step_id: i64, step: Step, f: StepFailure) -> Result<String> {
    let write = |ext: &str, bytes: &[u8]| -> Option<String> {
        let path = ctx.dir.join(format!("step-{step_id}-{}.{ext}", step.as_str()));
        match std::fs::write(&path, bytes) {
            Ok(()) => Some(path.display().to_string()),
            Err(e) => {
                tracing::warn!(error = %e, path = %path.display(), "could not keep the failed page");
                None
            }
        }
    };
    let html = f.html.as_deref().and_then(|h| write("html", h.as_bytes()));
    let png = f.png.as_deref().and_then(|p| write("png", p));
    let message: String = f.message.chars().take(2000).collect();
    on_db!(&ctx.state.db, |pool| sqlx::query(
        "UPDATE automation_steps SET status = $1, finished_at = $2, error = $3, failed_action = $4, page_url = $5, html_path = $6, screenshot_path = $7 WHERE id = $8"
    )
    .bind(StepStatus::Failed.as_str())
    .bind(Utc::now())
    .bind(&message)
    .bind(&f.action)
    .bind(&f.url)
    .bind(&html)
    .bind(&png)
    .bind(step_id)
    .execute(pool)
    .await
    .map(|r| r.rows_affected()))?;
    Ok(message)
}

/// Ends the run, with its public event in the same transaction, and tells Slack.
async fn finish_run(ctx: &Ctx<'_>, status: RunStatus, failed: Option<Step>, error: Option<&str>) -> Result<()> {
    let run = ctx.run;
    let data = AutomationRunData {
        workspace: String::new(),
        run_id: run.id,
        first_step: run.first_step.as_str().into(),
        last_step: run.last_step.as_str().into(),
        dry_run: run.dry_run,
        status: status.as_str().into(),
        failed_step: failed.map(|s| s.as_str().into()),
        error: error.map(str::to_owned),
    };
    let kind = if status == RunStatus::Completed { events::AUTOMATION_RUN_COMPLETED } else { events::AUTOMATION_RUN_FAILED };
    let event = NewEvent::new(run.workspace_id, kind, &data);
    on_db!(&ctx.state.db, |pool| async {
        let mut tx = pool.begin().await?;
        sqlx::query("UPDATE automation_runs SET status = $1, error = $2, finished_at = $3, current_step = NULL, lease_owner = NULL, lease_until = NULL WHERE id = $4")
            .bind(status.as_str())
            .bind(error)
            .bind(Utc::now())
            .bind(run.id)
            .execute(&mut *tx)
            .await?;
        crate::record_event!(&mut *tx, &event)?;
        tx.commit().await
    }
    .await)?;
    let mode = if run.dry_run { "Dry run" } else { "Run" };
    let text = match (failed, error) {
        (Some(step), Some(e)) => format!(":x: {} — automation {mode} {} failed at {}: {e}", ctx.workspace.name, run.id, step.label()),
        _ => format!(":white_check_mark: {} — automation {mode} {} completed ({} → {}).", ctx.workspace.name, run.id, run.first_step.label(), run.last_step.label()),
    };
    // The agency's channel: a run's sign-ins and steps are the agency's business, not the client's.
    if let Err(e) = crate::notifications::enqueue(&ctx.state.db, None, &text).await {
        tracing::warn!(run = run.id, error = %e, "could not queue the Slack message of an automation run");
    }
    Ok(())
}

async fn run_step(ctx: &Ctx<'_>, step: Step) -> std::result::Result<Outcome, StepFailure> {
    match step {
        Step::Pull => {
            let to = ctx.today;
            let from = to - chrono::Duration::days(ctx.settings.lookback_days);
            pull(ctx, from, to, "pull").await
        }
        Step::Clean => {
            let pulled = ctx.outputs.get(&Step::Pull).cloned().ok_or_else(|| missing(Step::Pull))?;
            clean(ctx, &pulled).await
        }
        Step::Gap => gap(ctx).await,
        Step::Upload => upload(ctx).await,
        Step::Rotate => rotate(ctx).await,
    }
}

fn missing(step: Step) -> StepFailure {
    StepFailure { message: format!("This step needs the output of {}: run the chain from that step.", step.label()), ..Default::default() }
}

/// PT1: the workspace's ZIPs and a date range on Cole X Dates, exported to a CSV in the run's folder.
async fn pull(ctx: &Ctx<'_>, from: NaiveDate, to: NaiveDate, name: &str) -> std::result::Result<Outcome, StepFailure> {
    let state = ctx.settings.cole_state.trim().to_owned();
    if state.is_empty() {
        return Err(StepFailure { message: "Choose the workspace's Cole X Dates state (NJ, TX…) in its automation settings.".into(), ..Default::default() });
    }
    let zips: Vec<String> = crate::zips::list(&ctx.state.db, ctx.run.workspace_id).await?.into_iter().map(|z| z.zip).collect();
    if zips.is_empty() {
        return Err(StepFailure { message: "The workspace has no ZIP codes: assign its territory on the ZIP page first.".into(), ..Default::default() });
    }
    let login = credentials::login_for(&ctx.state.db, &ctx.state.secrets, Site::Cole, &state).await?;
    ctx.log(LogLevel::Info, &format!("Cole X Dates ({state}): {} ZIP codes, records dated {from} to {to}.", zips.len())).await;
    let dir = ctx.dir.join(name);
    std::fs::create_dir_all(&dir).map_err(|e| Error::Internal(format!("cannot create {}: {e}", dir.display())))?;
    let query = ColeQuery { state, zips: zips.clone(), from, to };
    let base = ctx.state.config.integrations.cole_url.clone().ok_or_else(|| StepFailure {
        message: "MAVERICK_COLE_URL is not set: the server does not know the address of Cole X Dates' site.".into(),
        ..Default::default()
    })?;
    let download = sites::cole_pull(ctx.browser, &base, &login, &query, &dir, ctx.step_timeout()).await?;
    let rows = csv_rows(&download.path)?;
    ctx.log(LogLevel::Info, &format!("Export downloaded: {rows} records ({} bytes).", download.bytes)).await;
    Ok(Outcome {
        records_in: Some(zips.len() as i64),
        records_out: Some(rows),
        output: json!({"file": download.path.display().to_string(), "rows": rows, "from": from.to_string(), "to": to.to_string()}),
    })
}

/// Data rows of a CSV file (records after the header).
fn csv_rows(path: &Path) -> std::result::Result<i64, StepFailure> {
    let mut rdr = csv::ReaderBuilder::new().flexible(true).from_path(path).map_err(|e| StepFailure { message: format!("The export cannot be read: {e}"), ..Default::default() })?;
    let mut n = 0;
    for r in rdr.byte_records() {
        r.map_err(|e| StepFailure { message: format!("The export has an unreadable row: {e}"), ..Default::default() })?;
        n += 1;
    }
    Ok(n)
}

/// PT2: Clay (when configured), then the contact import (normalisation, validation, dedupe),
/// then DeBounce for the workspace's unverified contacts.
async fn clean(ctx: &Ctx<'_>, pulled: &Value) -> std::result::Result<Outcome, StepFailure> {
    let mut file = PathBuf::from(pulled.get("file").and_then(Value::as_str).ok_or_else(|| missing(Step::Pull))?);
    if !file.exists() {
        return Err(StepFailure { message: format!("The pulled file {} is gone: run the chain again from PT1.", file.display()), ..Default::default() });
    }
    let rows = csv_rows(&file)?;
    let mut output = json!({"rows": rows});
    if !ctx.settings.clay_table.trim().is_empty() {
        let login = credentials::login_for(&ctx.state.db, &ctx.state.secrets, Site::Clay, "").await?;
        let dir = ctx.dir.join("clay");
        std::fs::create_dir_all(&dir).map_err(|e| Error::Internal(format!("cannot create {}: {e}", dir.display())))?;
        ctx.log(LogLevel::Info, &format!("Clay: enriching {rows} records in table {:?}.", ctx.settings.clay_table.trim())).await;
        let enriched = sites::clay_enrich(ctx.browser, &ctx.state.config.integrations.clay_url, &login, ctx.settings.clay_table.trim(), &file, &dir, ctx.step_timeout()).await?;
        ctx.log(LogLevel::Info, &format!("Clay export downloaded ({} bytes).", enriched.bytes)).await;
        output["clay_file"] = json!(enriched.path.display().to_string());
        file = enriched.path;
    }
    if ctx.run.dry_run {
        let unverified = unverified_contacts(&ctx.state.db, ctx.run.workspace_id).await?;
        ctx.log(LogLevel::Info, &format!("Dry run: would import {rows} rows into the contact pipeline and verify them with DeBounce ({unverified} contacts unverified now).")).await;
        output["dry_run"] = json!(true);
        return Ok(Outcome { records_in: Some(rows), records_out: Some(rows), output });
    }
    let importer = ctx.importer().await?;
    let db = &ctx.state.db;
    let bytes = std::fs::metadata(&file).map(|m| m.len()).unwrap_or(0);
    // The import removes its staged file: hand it a copy, so a retry still has the pull.
    let staged = ctx.dir.join(format!("import-{}.csv", Utc::now().timestamp_micros()));
    std::fs::copy(&file, &staged).map_err(|e| Error::Internal(format!("cannot stage the pulled file: {e}")))?;
    let name = format!("automation run {} ({})", ctx.run.id, file.file_name().and_then(|n| n.to_str()).unwrap_or("export.csv"));
    let upload_id = contacts::stage(db, &importer, ctx.run.workspace_id, &name, &staged, bytes).await?;
    let upload = contacts::get_upload(db, &importer, upload_id).await?;
    if let Some(reason) = &upload.failure {
        return Err(StepFailure { message: format!("The contact import refused the file: {reason}"), ..Default::default() });
    }
    let counts = contacts::import(db, &importer, upload_id, upload.mapping(), &ctx.state.config.data_dir).await?;
    ctx.log(
        LogLevel::Info,
        &format!("Imported: {} new contacts, {} duplicates, {} rejected (upload {upload_id}).", counts.created, counts.duplicates, counts.rejected),
    )
    .await;
    output["upload_id"] = json!(upload_id);
    output["created"] = json!(counts.created);
    output["duplicates"] = json!(counts.duplicates);
    output["rejected"] = json!(counts.rejected);
    let credits = contacts::verification::credits_before_run(ctx.state, ctx.run.workspace_id).await?;
    if let Some(short) = credits.shortfall() {
        return Err(StepFailure { message: format!("DeBounce: {short} The contacts are imported; verify them when credits are added, then retry this run."), ..Default::default() });
    }
    let summary = contacts::verification::execute(ctx.state, ctx.run.workspace_id).await?;
    ctx.log(
        LogLevel::Info,
        &format!("DeBounce: {} checked — {} safe, {} risky, {} invalid, {} unknown.", summary.checked, summary.safe, summary.risky, summary.invalid, summary.unknown),
    )
    .await;
    output["verified"] = json!({"checked": summary.checked, "safe": summary.safe, "risky": summary.risky, "invalid": summary.invalid, "unknown": summary.unknown});
    if let Some(stopped) = summary.stopped {
        return Err(StepFailure { message: format!("DeBounce stopped: {stopped} The verdicts paid for are kept; retry this run once that is fixed."), ..Default::default() });
    }
    Ok(Outcome { records_in: Some(rows), records_out: Some(counts.created), output })
}

async fn unverified_contacts(db: &Db, workspace_id: i64) -> Result<i64> {
    Ok(on_db!(db, |pool| sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM contacts WHERE workspace_id = $1 AND verification = 'unverified'")
        .bind(workspace_id)
        .fetch_one(pool)
        .await)?)
}

/// PT3: this month's cleaned contacts against the month's need (the weekly target × 52 / 12);
/// when short, supplemental pulls further back in time (at most `supplemental_max`).
async fn gap(ctx: &Ctx<'_>) -> std::result::Result<Outcome, StepFailure> {
    let need = (ctx.workspace.weekly_contact_target * 52 + 11) / 12;
    let tz = agency::agency_time_zone(&ctx.state.db).await?;
    let first = ctx.today.with_day(1).expect("day 1");
    let month_start = first.and_hms_opt(0, 0, 0).and_then(|t| t.and_local_timezone(tz).earliest()).map(|t| t.with_timezone(&Utc)).unwrap_or_else(Utc::now);
    // A dry run imports nothing: what its pulls brought counts as if it were all clean.
    let mut not_imported = if ctx.run.dry_run { ctx.outputs.get(&Step::Clean).and_then(|v| v.get("rows")).and_then(Value::as_i64).unwrap_or(0) } else { 0 };
    let mut cleaned = contacts::batches::clean_since(&ctx.state.db, ctx.run.workspace_id, month_start).await? + not_imported;
    let mut supplemental = Vec::new();
    let lookback = ctx.settings.lookback_days;
    while cleaned < need && (supplemental.len() as i64) < ctx.settings.supplemental_max {
        let k = supplemental.len() as i64 + 1;
        let to = ctx.today - chrono::Duration::days(lookback * k + 1);
        let from = to - chrono::Duration::days(lookback - 1);
        ctx.log(LogLevel::Warn, &format!("Short by {} contacts ({cleaned} of {need}): supplemental pull {k}, records dated {from} to {to}.", need - cleaned)).await;
        let pulled = pull(ctx, from, to, &format!("supplemental-{k}")).await?;
        let cleaned_out = clean(ctx, &pulled.output).await?;
        if ctx.run.dry_run {
            not_imported += cleaned_out.records_in.unwrap_or(0);
        }
        cleaned = contacts::batches::clean_since(&ctx.state.db, ctx.run.workspace_id, month_start).await? + not_imported;
        supplemental.push(json!({"from": from.to_string(), "to": to.to_string(), "rows": pulled.records_out, "imported": cleaned_out.records_out}));
    }
    let short = (need - cleaned).max(0);
    if short > 0 {
        ctx.log(LogLevel::Warn, &format!("Still short by {short} contacts this month ({cleaned} of {need}) after {} supplemental pulls.", supplemental.len())).await;
    } else {
        ctx.log(LogLevel::Info, &format!("Month covered: {cleaned} clean contacts for a need of {need}.")).await;
    }
    Ok(Outcome {
        records_in: Some(need),
        records_out: Some(cleaned),
        output: json!({"need": need, "cleaned": cleaned, "short": short, "supplemental": supplemental}),
    })
}

/// PT4: this week's batch to Email Bison (the contact pipeline's own batch and upload).
async fn upload(ctx: &Ctx<'_>) -> std::result::Result<Outcome, StepFailure> {
    let db = &ctx.state.db;
    let ws = ctx.run.workspace_id;
    let monday = ctx.today - chrono::Duration::days(ctx.today.weekday().num_days_from_monday() as i64);
    let campaign = contacts::batches::batch_campaign(db, ws).await?;
    if ctx.run.dry_run {
        let ready = contacts::batches::ready_count(db, ws).await?;
        let would = ready.min(ctx.workspace.weekly_contact_target.max(0));
        ctx.log(LogLevel::Info, &format!("Dry run: would batch {would} contacts for the week of {monday} and upload them to Email Bison campaign {campaign}.")).await;
        return Ok(Outcome { records_in: Some(ready), records_out: Some(would), output: json!({"dry_run": true, "would_upload": would, "campaign": campaign}) });
    }
    let Some(batch) = contacts::batches::create_weekly(db, ws, monday).await? else {
        ctx.log(LogLevel::Warn, "The workspace has no weekly contact target: nothing to upload.").await;
        return Ok(Outcome { records_in: Some(0), records_out: Some(0), output: json!({"batch_id": null, "campaign": campaign}) });
    };
    let size = contacts::batches::get(db, batch).await?.size;
    ctx.log(LogLevel::Info, &format!("Batch {batch} for the week of {monday}: {size} contacts to campaign {campaign}.")).await;
    let failed = |e: Error| StepFailure { message: format!("Email Bison upload of batch {batch}: {e}"), ..Default::default() };
    let uploaded = match contacts::batches::upload(ctx.state, batch).await {
        Ok(n) => n,
        Err(e @ Error::Conflict(_)) => {
            // Already in Email Bison (a retry after a later step failed): count it as done.
            let now = contacts::batches::get(db, batch).await?;
            if now.status != contacts::batches::BatchStatus::Uploaded {
                return Err(failed(e));
            }
            now.uploaded
        }
        Err(e) => return Err(failed(e)),
    };
    ctx.log(LogLevel::Info, &format!("{uploaded} contacts are in Email Bison.")).await;
    Ok(Outcome { records_in: Some(size), records_out: Some(uploaded), output: json!({"batch_id": batch, "uploaded": uploaded, "campaign": campaign}) })
}

/// PT5: the batch's campaign renamed per the workspace's convention.
async fn rotate(ctx: &Ctx<'_>) -> std::result::Result<Outcome, StepFailure> {
    let db = &ctx.state.db;
    let ws = ctx.run.workspace_id;
    let campaign = match ctx.outputs.get(&Step::Upload).and_then(|o| o.get("campaign")).and_then(Value::as_str) {
        Some(c) => c.to_owned(),
        None => contacts::batches::batch_campaign(db, ws).await?,
    };
    let name = super::campaign_name(&ctx.settings.rename_pattern, &ctx.workspace.name, ctx.today);
    if ctx.run.dry_run {
        ctx.log(LogLevel::Info, &format!("Dry run: would rename Email Bison campaign {campaign} to {name:?}.")).await;
        return Ok(Outcome { records_in: Some(1), records_out: Some(0), output: json!({"dry_run": true, "campaign": campaign, "name": name}) });
    }
    let (key, saved) = workspaces::bison_credentials(db, &ctx.state.secrets, ws).await?.ok_or_else(|| Error::invalid("No Email Bison API key is stored for this workspace."))?;
    let client = crate::bison::credentials::client(ctx.state, &key);
    client.ensure_reads(saved.as_deref()).await.map_err(|e| Error::invalid(e.to_string()))?;
    client.rename_campaign(&campaign, &name).await.map_err(|e| StepFailure { message: format!("Email Bison refused the rename of campaign {campaign}: {e}"), ..Default::default() })?;
    on_db!(db, |pool| sqlx::query("UPDATE campaigns SET name = $1, updated_at = $2 WHERE workspace_id = $3 AND bison_campaign_id = $4")
        .bind(&name)
        .bind(Utc::now())
        .bind(ws)
        .bind(&campaign)
        .execute(pool)
        .await
        .map(|r| r.rows_affected()))?;
    ctx.log(LogLevel::Info, &format!("Campaign {campaign} renamed to {name:?}.")).await;
    Ok(Outcome { records_in: Some(1), records_out: Some(1), output: json!({"campaign": campaign, "name": name}) })
}
