//! The demo agency's automations: Acme Roofing set up to pull from the stand-in Cole X Dates this
//! host serves in demo mode (`server/src/fixture_sites.rs`, its NJ account), a completed run two
//! weeks ago and a failed one three days ago with the screenshot and page of the refused sign-in
//! (captured once from that stand-in by the real Chromium), so a newcomer sees the page alive and
//! can start a dry run that works.

use chrono::{Duration, Utc};
use serde_json::json;

use crate::{
    automations::{LogLevel, RunStatus, Step, StepStatus, Trigger},
    on_db,
    platform::error::Result,
    AppState,
};

const FAILED_PAGE_PNG: &[u8] = include_bytes!("demo_assets/cole-sign-in-refused.png");
const FAILED_PAGE_HTML: &str = include_str!("demo_assets/cole-sign-in-refused.html");

/// Seeds the automation history once (when no run exists yet).
pub async fn seed(state: &AppState) -> Result<()> {
    let db = &state.db;
    let runs: i64 = on_db!(db, |p| sqlx::query_scalar("SELECT COUNT(*) FROM automation_runs").fetch_one(p).await)?;
    let acme: Option<i64> = on_db!(db, |p| sqlx::query_scalar("SELECT id FROM workspaces WHERE slug = 'acme-roofing'").fetch_optional(p).await)?;
    let admin: Option<i64> = on_db!(db, |p| sqlx::query_scalar("SELECT id FROM users WHERE email = 'admin@demo.maverick'").fetch_optional(p).await)?;
    let (Some(ws), Some(admin), 0) = (acme, admin, runs) else { return Ok(()) };
    let now = Utc::now();
    // The stand-in's NJ account: a demo value, meaningless anywhere else.
    let sealed = base64::Engine::encode(&base64::engine::general_purpose::STANDARD, state.secrets.seal(b"cole-nj-Secret-1"));
    on_db!(db, |p| sqlx::query(
        "INSERT INTO site_credentials (site, region, username, sealed_password, updated_by, updated_at) VALUES ('cole', 'NJ', 'nj-agency', $1, $2, $3)"
    )
    .bind(&sealed)
    .bind(admin)
    .bind(now)
    .execute(p)
    .await
    .map(|_| ()))?;
    on_db!(db, |p| sqlx::query(
        "INSERT INTO automation_settings (workspace_id, enabled, run_as, cole_state, step_timeout_secs, updated_at) VALUES ($1, FALSE, $2, 'NJ', 120, $3)"
    )
    .bind(ws)
    .bind(admin)
    .bind(now)
    .execute(p)
    .await
    .map(|_| ()))?;

    // Two weeks ago: the whole chain, completed.
    let started = now - Duration::days(14);
    let done = run(state, ws, Step::Pull, Step::Rotate, RunStatus::Completed, started, started + Duration::seconds(94), None).await?;
    let steps: [(Step, i64, i64, i64, serde_json::Value, &str); 5] = [
        (Step::Pull, 12, 36, 31, json!({"rows": 36}), "Export downloaded: 36 records."),
        (Step::Clean, 36, 34, 42, json!({"rows": 36, "created": 34, "duplicates": 2, "rejected": 0}), "Imported: 34 new contacts, 2 duplicates, 0 rejected. DeBounce: 34 checked — 31 safe, 1 risky, 2 invalid, 0 unknown."),
        (Step::Gap, 87, 96, 2, json!({"need": 87, "cleaned": 96, "short": 0, "supplemental": []}), "Month covered: 96 clean contacts for a need of 87."),
        (Step::Upload, 96, 20, 12, json!({"uploaded": 20, "campaign": "demo-1-0"}), "20 contacts are in Email Bison."),
        (Step::Rotate, 1, 1, 7, json!({"campaign": "demo-1-0", "name": "Acme Roofing – wk2"}), "Campaign renamed."),
    ];
    let mut at = started;
    for (step, input, out, secs, output, line) in steps {
        on_db!(db, |p| sqlx::query(
            "INSERT INTO automation_steps (run_id, step, attempt, status, started_at, finished_at, records_in, records_out, output) VALUES ($1, $2, 1, $3, $4, $5, $6, $7, $8)"
        )
        .bind(done)
        .bind(step.as_str())
        .bind(StepStatus::Completed.as_str())
        .bind(at)
        .bind(at + Duration::seconds(secs))
        .bind(input)
        .bind(out)
        .bind(output.to_string())
        .execute(p)
        .await
        .map(|_| ()))?;
        log(state, done, at, LogLevel::Info, &format!("{} started.", step.label())).await?;
        at += Duration::seconds(secs);
        log(state, done, at, LogLevel::Info, line).await?;
    }
    log(state, done, at, LogLevel::Info, "Run completed.").await?;

    // Three days ago: the NJ password had been changed on the site; the sign-in was refused.
    let started = now - Duration::days(3);
    let error = "sign in: Cole X Dates refused the sign-in for NJ as \"nj-agency\" (Invalid username or password for this state.): check the NJ username and password";
    let failed = run(state, ws, Step::Pull, Step::Gap, RunStatus::Failed, started, started + Duration::seconds(9), Some(error)).await?;
    let step_id: i64 = on_db!(db, |p| sqlx::query_scalar(
        "INSERT INTO automation_steps (run_id, step, attempt, status, started_at, finished_at, error, failed_action, page_url) \
         VALUES ($1, $2, 1, $3, $4, $5, $6, 'sign in', '/demo-sites/cole/login') RETURNING id"
    )
    .bind(failed)
    .bind(Step::Pull.as_str())
    .bind(StepStatus::Failed.as_str())
    .bind(started)
    .bind(started + Duration::seconds(9))
    .bind(error)
    .fetch_one(p)
    .await)?;
    let dir = crate::automations::engine::artifacts_root(&state.config.data_dir).join(format!("run-{failed}"));
    std::fs::create_dir_all(&dir).map_err(|e| crate::Error::Internal(format!("cannot create {}: {e}", dir.display())))?;
    let png = dir.join(format!("step-{step_id}-pt1_pull.png"));
    let html = dir.join(format!("step-{step_id}-pt1_pull.html"));
    std::fs::write(&png, FAILED_PAGE_PNG).and_then(|_| std::fs::write(&html, FAILED_PAGE_HTML)).map_err(|e| crate::Error::Internal(format!("cannot write the demo's failed page: {e}")))?;
    on_db!(db, |p| sqlx::query("UPDATE automation_steps SET screenshot_path = $1, html_path = $2 WHERE id = $3")
        .bind(png.display().to_string())
        .bind(html.display().to_string())
        .bind(step_id)
        .execute(p)
        .await
        .map(|_| ()))?;
    log(state, failed, started, LogLevel::Info, &format!("{} started.", Step::Pull.label())).await?;
    log(state, failed, started + Duration::seconds(9), LogLevel::Error, &format!("{} failed after 9.0 s: {error}", Step::Pull.label())).await?;
    Ok(())
}

#[allow(clippy::too_many_arguments)]
async fn run(
    state: &AppState,
    ws: i64,
    first: Step,
    last: Step,
    status: RunStatus,
    started: chrono::DateTime<Utc>,
    finished: chrono::DateTime<Utc>,
    error: Option<&str>,
) -> Result<i64> {
    Ok(on_db!(&state.db, |p| sqlx::query_scalar::<_, i64>(
        "INSERT INTO automation_runs (workspace_id, first_step, last_step, dry_run, status, trigger, created_at, started_at, finished_at, error) \
         VALUES ($1, $2, $3, FALSE, $4, $5, $6, $6, $7, $8) RETURNING id"
    )
    .bind(ws)
    .bind(first.as_str())
    .bind(last.as_str())
    .bind(status.as_str())
    .bind(Trigger::Schedule.as_str())
    .bind(started)
    .bind(finished)
    .bind(error)
    .fetch_one(p)
    .await)?)
}

async fn log(state: &AppState, run: i64, at: chrono::DateTime<Utc>, level: LogLevel, message: &str) -> Result<()> {
    on_db!(&state.db, |p| sqlx::query("INSERT INTO automation_log (run_id, at, level, message) VALUES ($1, $2, $3, $4)")
        .bind(run)
        .bind(at)
        .bind(level.as_str())
        .bind(message)
        .execute(p)
        .await
        .map(|_| ()))?;
    Ok(())
}
