//! Client management: one workspace's profile and its settings, costs, ZIPs and credentials.

use leptos::prelude::*;

use crate::{error::AppError, models::ClientProfile};

#[cfg(feature = "ssr")]
fn parse_day(label: &str, v: &str) -> Result<Option<chrono::NaiveDate>, AppError> {
    let v = v.trim();
    if v.is_empty() {
        return Ok(None);
    }
    chrono::NaiveDate::parse_from_str(v, "%Y-%m-%d")
        .map(Some)
        .map_err(|_| AppError::from(backend::Error::invalid(format!("The {label} {v:?} is not a date like 2026-11-01."))))
}

#[server(endpoint = "admin/clients/profile")]
pub async fn workspace_profile(slug: String) -> Result<ClientProfile, AppError> {
    let (state, caller) = super::ctx::admin()?;
    let db = &state.db;
    let (ws, _) = backend::tenancy::workspaces::visible_by_slug(db, &caller, &slug).await?;
    let grants = backend::tenancy::access::list_grants(db).await?;
    let users = backend::identity::users::list(db).await?;
    let members = grants
        .iter()
        .filter(|g| g.workspace_id == ws.id)
        .filter_map(|g| users.iter().find(|u| u.id == g.user_id).map(|u| (u.email.clone(), u.display_name.clone(), g.level.as_str().to_owned())))
        .collect();
    let kpi = if ws.active { super::dashboards::kpi_report(&state, &caller, None, None, Some(&ws.slug)).await?.lines.pop() } else { None };
    let revenue =
        if ws.active { super::dashboards::revenue_report(&state, &caller, None, Some(&ws.slug)).await?.lines.pop() } else { None };
    Ok(ClientProfile {
        costs: backend::reporting::costs::list(db, ws.id)
            .await?
            .into_iter()
            .map(|c| crate::models::CostRow {
                id: c.id,
                category: c.category,
                description: c.description,
                amount_cents: c.amount_cents,
                recurrence: c.recurrence,
                starts_on: c.starts_on.to_string(),
                ends_on: c.ends_on.map(|d| d.to_string()),
            })
            .collect(),
        zips: backend::zips::list(db, ws.id).await?.into_iter().map(|z| (z.zip, z.state, z.city)).collect(),
        zip_conflicts: backend::zips::conflicts_of(db, ws.id).await?,
        members,
        kpi,
        revenue,
        sync_runs: sync_run_rows(db, ws.id).await?,
        workspace: super::admin::workspace_row(ws, &grants),
    })
}

#[allow(clippy::too_many_arguments)]
#[server(endpoint = "admin/clients/update")]
pub async fn update_workspace(
    workspace_id: i64,
    name: String,
    slug: String,
    monthly_lead_target: i64,
    daily_send_target: i64,
    weekly_contact_target: i64,
    pricing_model: String,
    price: String,
    billable_stage: String,
) -> Result<(), AppError> {
    let (state, caller) = super::ctx::admin()?;
    let input = super::admin::workspace_input(
        name,
        slug,
        monthly_lead_target,
        daily_send_target,
        weekly_contact_target,
        &pricing_model,
        &price,
        billable_stage,
    )?;
    backend::tenancy::admin::update_workspace(&state.db, &caller, workspace_id, input, &super::ctx::client_info()).await?;
    Ok(())
}

/// Stores the Email Bison credentials; an empty key keeps the stored one, `remove` clears both.
#[server(endpoint = "admin/clients/bison")]
pub async fn set_bison_credentials(workspace_id: i64, bison_workspace_id: String, api_key: String, remove: Option<String>) -> Result<(), AppError> {
    let (state, caller) = super::ctx::admin()?;
    let db = &state.db;
    let (bison_id, key) = if remove.is_some() {
        (None, None)
    } else if api_key.trim().is_empty() {
        (Some(bison_workspace_id), backend::tenancy::workspaces::bison_api_key(db, &state.secrets, workspace_id).await?)
    } else {
        (Some(bison_workspace_id), Some(api_key))
    };
    backend::tenancy::admin::set_bison_credentials(db, &state.secrets, &caller, workspace_id, bison_id.as_deref(), key.as_deref(), &super::ctx::client_info())
        .await?;
    Ok(())
}

#[allow(clippy::too_many_arguments)]
#[server(endpoint = "admin/clients/costs/add")]
pub async fn add_cost(
    workspace_id: i64,
    category: String,
    description: String,
    amount: String,
    recurrence: String,
    starts_on: String,
    ends_on: String,
) -> Result<(), AppError> {
    let (state, caller) = super::ctx::admin()?;
    let cost = backend::reporting::costs::NewCost {
        category,
        description,
        amount_cents: crate::money::parse_dollars(&amount).map_err(AppError::invalid)?,
        recurrence,
        starts_on: parse_day("start date", &starts_on)?.ok_or_else(|| AppError::invalid("Enter the day the cost starts (or was incurred)."))?,
        ends_on: parse_day("end date", &ends_on)?,
    };
    backend::reporting::costs::add_cost(&state.db, &caller, workspace_id, cost, &super::ctx::client_info()).await?;
    Ok(())
}

#[server(endpoint = "admin/clients/costs/delete")]
pub async fn delete_cost(workspace_id: i64, cost_id: i64) -> Result<(), AppError> {
    let (state, caller) = super::ctx::admin()?;
    backend::reporting::costs::delete_cost(&state.db, &caller, workspace_id, cost_id, &super::ctx::client_info()).await?;
    Ok(())
}

#[server(endpoint = "admin/clients/zips/assign")]
pub async fn assign_zip(workspace_id: i64, zip: String, state_code: String, city: String) -> Result<(), AppError> {
    let (state, caller) = super::ctx::admin()?;
    backend::zips::assign_zip(&state.db, &caller, workspace_id, &zip, Some(&state_code), Some(&city), &super::ctx::client_info()).await?;
    Ok(())
}

#[server(endpoint = "admin/clients/zips/unassign")]
pub async fn unassign_zip(workspace_id: i64, zip: String) -> Result<(), AppError> {
    let (state, caller) = super::ctx::admin()?;
    backend::zips::unassign_zip(&state.db, &caller, workspace_id, &zip, &super::ctx::client_info()).await?;
    Ok(())
}

/// A new Email Bison webhook URL for the workspace (the previous one stops working). The URL is
/// shown this once: only a hash of its secret is kept.
#[server(endpoint = "admin/clients/bison_webhook")]
pub async fn rotate_bison_webhook(workspace_id: i64) -> Result<String, AppError> {
    let (state, caller) = super::ctx::admin()?;
    let token = backend::bison::webhook::rotate(&state.db, &caller, workspace_id, &super::ctx::client_info()).await?;
    let base = state.config.public_url.clone().unwrap_or_default();
    Ok(format!("{base}/webhooks/bison/{token}"))
}

/// Sets the Slack incoming-webhook URL of a workspace, or of the agency without `workspace_id`;
/// `remove` clears it. The URL is stored encrypted and never sent back.
#[server(endpoint = "admin/slack_webhook")]
pub async fn set_slack_webhook(workspace_id: Option<i64>, url: String, remove: Option<String>) -> Result<(), AppError> {
    let (state, caller) = super::ctx::admin()?;
    let url = if remove.is_some() {
        None
    } else if url.trim().is_empty() {
        return Err(AppError::invalid("Paste the Slack incoming-webhook URL (https://hooks.slack.com/services/…)."));
    } else {
        Some(url)
    };
    backend::notifications::set_webhook(&state.db, &state.secrets, &caller, workspace_id, url.as_deref(), &super::ctx::client_info()).await?;
    Ok(())
}

/// Queues an Email Bison sync of the workspace now; the run's progress shows in [`sync_runs`].
#[server(endpoint = "admin/clients/sync_now")]
pub async fn sync_now(workspace_id: i64) -> Result<i64, AppError> {
    let (state, caller) = super::ctx::admin()?;
    let scope = backend::tenancy::access::require_write(&state.db, &caller, workspace_id).await?;
    Ok(backend::bison::request_sync(&state.db, &scope).await?)
}

/// The workspace's latest Email Bison syncs, newest first.
#[server(endpoint = "admin/clients/sync_runs")]
pub async fn sync_runs(workspace_id: i64) -> Result<Vec<crate::models::SyncRunRow>, AppError> {
    let (state, caller) = super::ctx::admin()?;
    backend::tenancy::access::level_in(&state.db, &caller, workspace_id).await?;
    Ok(sync_run_rows(&state.db, workspace_id).await?)
}

#[cfg(feature = "ssr")]
async fn sync_run_rows(db: &backend::platform::db::Db, workspace_id: i64) -> backend::Result<Vec<crate::models::SyncRunRow>> {
    let runs = backend::bison::sync::recent_runs(db, workspace_id, 5).await?;
    Ok(runs
        .into_iter()
        .map(|r| {
            let result = r.summary.as_deref().and_then(|s| serde_json::from_str::<backend::bison::sync::SyncSummary>(s).ok()).map(|s| {
                let mut text = format!(
                    "{} campaigns, {} senders, {} interested replies ({} new leads, {} newly interested), {} days of stats",
                    s.campaigns, s.senders, s.replies_seen, s.leads_created, s.leads_marked_interested, s.days
                );
                if !s.newly_critical.is_empty() {
                    text.push_str(&format!("; needs attention: {}", s.newly_critical.join(", ")));
                }
                text
            });
            crate::models::SyncRunRow {
                id: r.id,
                kind: r.kind,
                status: r.status,
                step: r.step,
                steps: r.steps,
                step_label: r.step_label,
                result,
                error: r.error,
                created_at: super::ctx::ts(r.created_at),
                finished_at: r.finished_at.map(super::ctx::ts),
            }
        })
        .collect())
}
