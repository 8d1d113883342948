//! The Automations page (admins only): runs with filters, one run's steps and log, "Run now",
//! retry, each workspace's settings and the sites' sign-ins. Screenshots and pages of failed steps
//! are host routes (`server/src/exports.rs`), also admin-only.

use leptos::prelude::*;

use crate::{
    error::AppError,
    models::{AutomationRunDetail, AutomationsPage},
};

#[cfg(feature = "ssr")]
fn seconds(from: Option<chrono::DateTime<chrono::Utc>>, to: Option<chrono::DateTime<chrono::Utc>>) -> Option<i64> {
    from.map(|f| (to.unwrap_or_else(chrono::Utc::now) - f).num_seconds().max(0))
}

#[cfg(feature = "ssr")]
fn run_view(r: backend::automations::Run, names: &std::collections::HashMap<i64, (String, String)>) -> crate::models::AutomationRunView {
    let (slug, name) = names.get(&r.workspace_id).cloned().unwrap_or_default();
    crate::models::AutomationRunView {
        id: r.id,
        workspace_slug: slug,
        workspace_name: name,
        first_step: r.first_step.as_str().into(),
        last_step: r.last_step.as_str().into(),
        dry_run: r.dry_run,
        status: r.status.as_str().into(),
        trigger: r.trigger.as_str().into(),
        current_step: r.current_step,
        error: r.error,
        created_at: super::ctx::ts(r.created_at),
        started_at: r.started_at.map(super::ctx::ts),
        finished_at: r.finished_at.map(super::ctx::ts),
        seconds: seconds(r.started_at, r.finished_at),
    }
}

#[cfg(feature = "ssr")]
async fn detail(state: &backend::AppState, run_id: i64, names: &std::collections::HashMap<i64, (String, String)>) -> Result<AutomationRunDetail, backend::Error> {
    use backend::automations as a;
    let db = &state.db;
    let run = a::run(db, run_id).await?;
    let last_event_id = backend::platform::events::latest_id(db, run.workspace_id).await?;
    let steps = a::steps(db, run_id)
        .await?
        .into_iter()
        .map(|s| crate::models::AutomationStepView {
            id: s.id,
            step: s.step.as_str().into(),
            label: s.step.label().into(),
            attempt: s.attempt,
            status: s.status.as_str().into(),
            started_at: super::ctx::ts(s.started_at),
            seconds: seconds(Some(s.started_at), s.finished_at),
            records_in: s.records_in,
            records_out: s.records_out,
            error: s.error,
            failed_action: s.failed_action,
            page_url: s.page_url,
            has_html: s.has_html,
            has_screenshot: s.has_screenshot,
        })
        .collect();
    let log = a::log_since(db, run_id, 0, 2000)
        .await?
        .into_iter()
        .map(|l| crate::models::AutomationLogLine { id: l.id, at: super::ctx::ts(l.at), level: l.level.as_str().into(), message: l.message })
        .collect();
    Ok(AutomationRunDetail { run: run_view(run, names), steps, log, last_event_id })
}

/// The page: runs (of `workspace` and `status` when given), the settings of `workspace` (else the
/// first workspace) and, with `run`, that run opened.
#[server(endpoint = "admin/automations")]
pub async fn load_automations(workspace: Option<String>, status: Option<String>, run: Option<i64>) -> Result<AutomationsPage, AppError> {
    use backend::automations as a;
    let (state, caller) = super::ctx::admin()?;
    let db = &state.db;
    let all: Vec<backend::tenancy::workspaces::Workspace> =
        backend::tenancy::workspaces::list_visible(db, &caller).await?.into_iter().map(|(w, _)| w).filter(|w| w.active).collect();
    let names: std::collections::HashMap<i64, (String, String)> = all.iter().map(|w| (w.id, (w.slug.clone(), w.name.clone()))).collect();
    let chosen = match workspace.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        Some(slug) => Some(backend::tenancy::workspaces::visible_by_slug(db, &caller, slug).await?.0),
        None => None,
    };
    let status = status.as_deref().map(str::trim).filter(|s| !s.is_empty()).map(str::parse::<a::RunStatus>).transpose()?;
    let runs = a::runs(db, chosen.as_ref().map(|w| w.id), status, 200).await?.into_iter().map(|r| run_view(r, &names)).collect();
    let shown = chosen.clone().or_else(|| all.first().cloned());
    let (settings_slug, settings_name, s) = match &shown {
        Some(w) => (w.slug.clone(), w.name.clone(), a::settings(db, w.id).await?),
        None => (String::new(), String::new(), a::Settings::default()),
    };
    let run_as = match s.run_as {
        Some(id) => backend::identity::users::get(db, id).await.ok().map(|u| u.email),
        None => None,
    };
    let detail = match run {
        Some(id) => Some(detail(&state, id, &names).await?),
        None => None,
    };
    Ok(AutomationsPage {
        workspaces: all.iter().map(|w| (w.slug.clone(), w.name.clone())).collect(),
        steps: a::Step::ALL.iter().map(|s| (s.as_str().to_owned(), s.label().to_owned())).collect(),
        runs,
        settings_slug,
        settings_name,
        settings: crate::models::AutomationSettingsView {
            enabled: s.enabled,
            cole_state: s.cole_state,
            pull_cron: s.pull_cron,
            upload_cron: s.upload_cron,
            lookback_days: s.lookback_days,
            supplemental_max: s.supplemental_max,
            clay_table: s.clay_table,
            rename_pattern: s.rename_pattern,
            step_timeout_secs: s.step_timeout_secs,
            run_as,
        },
        credentials: a::credentials::list(db, &caller)
            .await?
            .into_iter()
            .map(|c| crate::models::SiteCredentialView {
                id: c.id,
                site: c.site.as_str().into(),
                site_label: c.site.label().into(),
                region: c.region,
                username: c.username,
                updated_at: super::ctx::ts(c.updated_at),
            })
            .collect(),
        detail,
    })
}

/// One run's steps and log (the page refetches it while the run goes).
#[server(endpoint = "admin/automations/run")]
pub async fn load_automation_run(run: i64) -> Result<AutomationRunDetail, AppError> {
    let (state, caller) = super::ctx::admin()?;
    let names = backend::tenancy::workspaces::list_visible(&state.db, &caller).await?.into_iter().map(|(w, _)| (w.id, (w.slug, w.name))).collect();
    Ok(detail(&state, run, &names).await?)
}

/// "Run now": `first`..=`last` of `workspace`, for real or as a dry run. Returns the run's id.
#[server(endpoint = "admin/automations/start")]
pub async fn start_automation_run(workspace: String, first: String, last: String, dry_run: Option<String>) -> Result<i64, AppError> {
    let (state, caller) = super::ctx::admin()?;
    let ws = backend::tenancy::workspaces::visible_by_slug(&state.db, &caller, workspace.trim()).await?.0;
    let scope = backend::tenancy::access::require_write(&state.db, &caller, ws.id).await?;
    let (first, last) = (first.parse()?, last.parse()?);
    Ok(backend::automations::request_run(&state, &caller, &scope, first, last, dry_run.is_some()).await?)
}

/// Retry a failed run from its failed step, or resume an interrupted one.
#[server(endpoint = "admin/automations/retry")]
pub async fn retry_automation_run(run: i64) -> Result<(), AppError> {
    let (state, caller) = super::ctx::admin()?;
    Ok(backend::automations::retry(&state, &caller, run).await?)
}

#[allow(clippy::too_many_arguments)]
#[server(endpoint = "admin/automations/settings")]
pub async fn save_automation_settings(
    workspace: String,
    enabled: Option<String>,
    cole_state: String,
    pull_cron: String,
    upload_cron: String,
    lookback_days: i64,
    supplemental_max: i64,
    clay_table: String,
    rename_pattern: String,
    step_timeout_secs: i64,
) -> Result<(), AppError> {
    let (state, caller) = super::ctx::admin()?;
    let ws = backend::tenancy::workspaces::visible_by_slug(&state.db, &caller, workspace.trim()).await?.0;
    let scope = backend::tenancy::access::require_write(&state.db, &caller, ws.id).await?;
    let settings = backend::automations::Settings {
        enabled: enabled.is_some(),
        run_as: Some(caller.user_id),
        cole_state: cole_state.trim().to_ascii_uppercase(),
        pull_cron,
        upload_cron,
        lookback_days,
        supplemental_max,
        clay_table,
        rename_pattern,
        step_timeout_secs,
    };
    Ok(backend::automations::save_settings(&state.db, &caller, &scope, &settings).await?)
}

/// Adds or replaces a site's sign-in (an empty password keeps the stored one).
#[server(endpoint = "admin/automations/credentials")]
pub async fn save_site_credential(site: String, region: Option<String>, username: String, password: String) -> Result<(), AppError> {
    let (state, caller) = super::ctx::admin()?;
    let site = site.parse()?;
    Ok(backend::automations::credentials::save(&state.db, &state.secrets, &caller, site, region.as_deref().unwrap_or(""), &username, &password).await?)
}

#[server(endpoint = "admin/automations/credentials/delete")]
pub async fn delete_site_credential(id: i64) -> Result<(), AppError> {
    let (state, caller) = super::ctx::admin()?;
    Ok(backend::automations::credentials::delete(&state.db, &caller, id).await?)
}
