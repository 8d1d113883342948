//! Server functions of the personalization pages. Every one authorizes on the server through
//! `backend::personalization` (admins anywhere; clients in their workspaces that allow it).

use leptos::prelude::*;

use crate::{
    error::AppError,
    models::{PersonalizationCampaignPage, PersonalizationHub, PersonalizationLeadView},
};

/// Leads shown per page of a campaign's results.
pub const LEADS_PER_PAGE: i64 = 50;

#[cfg(feature = "ssr")]
fn lead_view(l: backend::personalization::Lead) -> PersonalizationLeadView {
    let fields: serde_json::Map<String, serde_json::Value> = serde_json::from_str(&l.fields).unwrap_or_default();
    let get = |k: &str| fields.get(k).and_then(|v| v.as_str()).unwrap_or("").to_owned();
    let name = match (get("first_name"), get("last_name"), get("full_name")) {
        (f, l, _) if !f.is_empty() || !l.is_empty() => format!("{f} {l}").trim().to_owned(),
        (_, _, full) => full,
    };
    // Shown once the lead has had AI calls (or was written by AI).
    let ai_cost = (l.cost_usd > 0.0 || l.unknown_cost_calls > 0 || l.writer.as_deref() == Some("ai")).then(|| l.cost_label());
    PersonalizationLeadView {
        id: l.id,
        line_no: l.line_no,
        email: l.email,
        name,
        company: l.company,
        status: l.status.to_string(),
        writer: l.writer,
        research: l.research,
        line: l.line,
        error: l.error,
        ai_cost,
    }
}

#[server(endpoint = "personalization/hub")]
pub async fn load_personalization() -> Result<PersonalizationHub, AppError> {
    let (state, caller) = (super::ctx::state()?, super::ctx::caller()?);
    let db = &state.db;
    let settings = &state.config.personalization;
    let writable: Vec<i64> = backend::personalization::visible_workspaces(db, &caller).await?.into_iter().filter(|(_, w)| *w).map(|(id, _)| id).collect();
    let all = backend::tenancy::workspaces::list_visible(db, &caller).await?;
    let (by_ws, by_user) = backend::personalization::kpis(db, &caller, settings.hourly_rate).await?;
    let client_access = if caller.is_admin() {
        let open = backend::personalization::open_to_clients(db).await?;
        all.iter().map(|(ws, _)| (ws.slug.clone(), ws.name.clone(), open.contains(&ws.id))).collect()
    } else {
        Vec::new()
    };
    let row = |s: backend::personalization::Savings| (s.who, s.personalized, s.hours, s.money);
    Ok(PersonalizationHub {
        campaigns: backend::personalization::list_campaigns(db, &caller)
            .await?
            .into_iter()
            .map(|c| crate::models::PersonalizationCampaignRow {
                id: c.id,
                name: c.name,
                workspace_name: c.workspace_name,
                leads: c.leads,
                personalized: c.personalized,
                failed: c.failed,
                created_at: super::ctx::ts(c.created_at),
            })
            .collect(),
        workspaces: all.iter().filter(|(w, _)| writable.contains(&w.id)).map(|(w, _)| (w.slug.clone(), w.name.clone())).collect(),
        ai_ready: settings.ai_ready(),
        models: (settings.perplexity_model.clone(), settings.openrouter_model.clone()),
        by_workspace: by_ws.into_iter().map(row).collect(),
        by_user: by_user.into_iter().map(row).collect(),
        hourly_rate: settings.hourly_rate,
        client_access,
    })
}

#[server(endpoint = "personalization/create")]
pub async fn create_personalization_campaign(workspace: String, name: String, offer: String, example_line: String) -> Result<i64, AppError> {
    let (state, caller) = (super::ctx::state()?, super::ctx::caller()?);
    let (ws, _) = backend::tenancy::workspaces::visible_by_slug(&state.db, &caller, &workspace).await?;
    let id = backend::personalization::create_campaign(&state.db, &caller, ws.id, &name, &offer, &example_line).await?;
    leptos_axum::redirect(&format!("/personalization/{id}"));
    Ok(id)
}

/// Which workspaces' client users may run personalization, all in one form. The form names every
/// workspace it showed (`shown[<slug>]`) and each ticked one (`allowed[<slug>]=yes`); only the
/// shown ones change, so a workspace added after the page was loaded is left as it is.
#[server(endpoint = "personalization/client_access")]
pub async fn set_personalization_client_access(
    shown: Option<std::collections::HashMap<String, String>>,
    allowed: Option<std::collections::HashMap<String, String>>,
) -> Result<(), AppError> {
    let (state, caller) = super::ctx::admin()?;
    let allowed = allowed.unwrap_or_default();
    let changes: Vec<(String, bool)> = shown.unwrap_or_default().into_keys().map(|slug| {
        let open = allowed.contains_key(&slug);
        (slug, open)
    }).collect();
    backend::personalization::set_client_access_many(&state.db, &caller, &changes).await?;
    Ok(())
}

#[server(endpoint = "personalization/campaign")]
pub async fn load_personalization_campaign(id: i64, run: Option<i64>, status: Option<String>, offset: Option<i64>) -> Result<PersonalizationCampaignPage, AppError> {
    let (state, caller) = (super::ctx::state()?, super::ctx::caller()?);
    let db = &state.db;
    let (c, level) = backend::personalization::get_campaign(db, &caller, id).await?;
    let ws = backend::tenancy::workspaces::get(db, c.workspace_id).await?;
    // Read before the runs: the page's live stream replays every event after this id, so an event
    // written while the runs are read is seen twice (harmless) rather than never (a run that
    // finished meanwhile stayed at 0 % for good).
    let last_event_id = backend::platform::events::latest_id(db, c.workspace_id).await?;
    let runs = backend::personalization::runs_of(db, c.id, 50).await?;
    let run = match run {
        Some(r) if runs.iter().any(|x| x.id == r) => Some(r),
        Some(_) => return Err(backend::Error::NotFound.into()),
        None => runs.first().map(|r| r.id),
    };
    let status = status.filter(|s| matches!(s.as_str(), "pending" | "done" | "failed"));
    let offset = offset.unwrap_or(0).max(0);
    let (leads, leads_total) = match run {
        Some(r) => backend::personalization::leads(db, c.id, Some(r), status.as_deref(), offset, LEADS_PER_PAGE).await?,
        None => (Vec::new(), 0),
    };
    Ok(PersonalizationCampaignPage {
        last_event_id,
        id: c.id,
        name: c.name,
        workspace_slug: ws.slug,
        workspace_name: ws.name,
        offer: c.offer,
        can_write: level.can_write(),
        ai_ready: state.config.personalization.ai_ready(),
        max_upload_mb: state.config.personalization.upload_max_bytes / (1024 * 1024),
        runs: runs
            .into_iter()
            .map(|r| crate::models::PersonalizationRunView {
                id: r.id,
                file_name: r.file_name,
                writer: r.writer.to_string(),
                status: r.status.to_string(),
                created_at: super::ctx::ts(r.created_at),
                rows_total: r.rows_total,
                rejected: r.rejected,
                skipped: r.skipped,
                total: r.total,
                done: r.done,
                failed: r.failed,
                error: r.error,
                has_rejected_file: r.rejected_path.is_some(),
                cancel_requested: r.cancel_requested,
            })
            .collect(),
        run,
        leads: leads.into_iter().map(lead_view).collect(),
        leads_total,
        offset,
    })
}

#[server(endpoint = "personalization/cancel")]
pub async fn cancel_personalization_run(run_id: i64) -> Result<(), AppError> {
    let (state, caller) = (super::ctx::state()?, super::ctx::caller()?);
    backend::personalization::cancel_run(&state.db, &caller, run_id).await?;
    Ok(())
}

#[server(endpoint = "personalization/resume")]
pub async fn resume_personalization_run(run_id: i64) -> Result<(), AppError> {
    let (state, caller) = (super::ctx::state()?, super::ctx::caller()?);
    backend::personalization::resume_run(&state.db, &caller, run_id).await?;
    Ok(())
}

#[server(endpoint = "personalization/edit_line")]
pub async fn edit_personalization_line(lead_id: i64, line: String) -> Result<(), AppError> {
    let (state, caller) = (super::ctx::state()?, super::ctx::caller()?);
    backend::personalization::edit_line(&state.db, &caller, lead_id, &line).await?;
    Ok(())
}

#[server(endpoint = "personalization/regenerate")]
pub async fn regenerate_personalization_lead(lead_id: i64) -> Result<PersonalizationLeadView, AppError> {
    let (state, caller) = (super::ctx::state()?, super::ctx::caller()?);
    let lead = backend::personalization::regenerate(&state, &caller, lead_id).await?;
    Ok(lead_view(lead))
}
