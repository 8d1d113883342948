//! Workspaces (clients) and who may use them: the admin's workspace list, creating and editing a
//! workspace, its Email Bison credentials, a client's profile page, and users' grants.

use leptos::prelude::*;

use crate::{
    error::AppError,
    models::{ClientProfile, WorkspaceRow},
};

/// Core workspace → wire row (shared with the host's CSV exports).
#[cfg(feature = "ssr")]
pub fn workspace_row(w: backend::tenancy::workspaces::Workspace, grants: &[backend::tenancy::access::Grant]) -> WorkspaceRow {
    WorkspaceRow {
        member_count: grants.iter().filter(|g| g.workspace_id == w.id).count() as i64,
        id: w.id,
        name: w.name,
        slug: w.slug,
        active: w.active,
        monthly_lead_target: w.monthly_lead_target,
        daily_send_target: w.daily_send_target,
        weekly_contact_target: w.weekly_contact_target,
        pricing_model: w.pricing_model.as_str().into(),
        price_per_lead_cents: w.price_per_lead_cents,
        retainer_fee_cents: w.retainer_fee_cents,
        billable_stage: w.billable_stage,
        bison_workspace_id: w.bison_workspace_id.clone(),
        bison_api_key_masked: backend::tenancy::workspaces::masked_key(w.bison_api_key_hint.as_deref()),
        bison_webhook_masked: backend::tenancy::workspaces::masked_key(w.bison_webhook_hint.as_deref()),
        slack_webhook_masked: w.slack_webhook_hint,
        bison_key_reads: w.bison_verified_at.map(|at| {
            let workspace = match (&w.bison_workspace_id, &w.bison_key_workspace_name) {
                (Some(id), Some(name)) => format!("workspace {id} ({name})"),
                (Some(id), None) => format!("workspace {id}"),
                _ => "an unknown workspace".into(),
            };
            let user = w.bison_key_user.as_deref().map(|u| format!(" as {u}")).unwrap_or_default();
            format!("{workspace}{user}, on {}", at.format("%Y-%m-%d"))
        }),
    }
}

#[server(endpoint = "admin/workspaces")]
pub async fn list_workspaces() -> Result<Vec<WorkspaceRow>, AppError> {
    let (state, caller) = super::ctx::admin()?;
    let grants = backend::tenancy::access::list_grants(&state.db).await?;
    let rows = backend::tenancy::workspaces::list_visible(&state.db, &caller).await?;
    Ok(rows.into_iter().map(|(w, _)| workspace_row(w, &grants)).collect())
}

/// Money arrives in dollars as typed (`150` or `150.00`); it is stored in cents. The billable
/// stage defaults to `interested`; Email Bison credentials are optional (stored encrypted).
#[allow(clippy::too_many_arguments)]
#[server(endpoint = "admin/workspaces/create")]
pub async fn create_workspace(
    name: String,
    slug: String,
    monthly_lead_target: i64,
    daily_send_target: i64,
    weekly_contact_target: i64,
    pricing_model: String,
    price: String,
    billable_stage: Option<String>,
    bison_workspace_id: Option<String>,
    bison_api_key: Option<String>,
) -> Result<WorkspaceRow, AppError> {
    let (state, caller) = super::ctx::admin()?;
    let given = |v: Option<String>| v.map(|v| v.trim().to_owned()).filter(|v| !v.is_empty());
    let (bison_id, bison_key) = (given(bison_workspace_id), given(bison_api_key));
    if bison_id.is_some() && bison_key.is_none() {
        return Err(AppError::invalid("Enter the Email Bison API key that goes with the workspace id (or leave both empty)."));
    }
    // The key is asked which Email Bison workspace it reads before anything is created.
    let verified = match &bison_key {
        Some(key) => Some(backend::bison::credentials::verify(&state, &caller, key, bison_id.as_deref(), None).await?),
        None => None,
    };
    let input = workspace_input(
        name,
        slug,
        monthly_lead_target,
        daily_send_target,
        weekly_contact_target,
        &pricing_model,
        &price,
        given(billable_stage).unwrap_or_else(|| "interested".into()),
    )?;
    let client = super::ctx::client_info();
    let mut ws = backend::tenancy::admin::create_workspace(&state.db, &caller, input, &client).await?;
    if let (Some(identity), Some(key)) = (&verified, &bison_key) {
        backend::bison::credentials::store(&state, &caller, ws.id, key, identity, &client).await?;
        ws = backend::tenancy::workspaces::get(&state.db, ws.id).await?;
    }
    Ok(workspace_row(ws, &[]))
}

/// The form fields of a workspace as typed (money in dollars) → the core's input.
#[cfg(feature = "ssr")]
#[allow(clippy::too_many_arguments)]
pub fn workspace_input(
    name: String,
    slug: String,
    monthly_lead_target: i64,
    daily_send_target: i64,
    weekly_contact_target: i64,
    pricing_model: &str,
    price: &str,
    billable_stage: String,
) -> Result<backend::tenancy::workspaces::WorkspaceInput, AppError> {
    use backend::tenancy::workspaces::PricingModel;
    let pricing_model = pricing_model.parse::<PricingModel>()?;
    let cents = crate::money::parse_dollars(price).map_err(AppError::invalid)?;
    let (price_per_lead_cents, retainer_fee_cents) = match pricing_model {
        PricingModel::PerLead => (cents, 0),
        PricingModel::Retainer => (0, cents),
    };
    Ok(backend::tenancy::workspaces::WorkspaceInput {
        name,
        slug,
        monthly_lead_target,
        daily_send_target,
        weekly_contact_target,
        pricing_model,
        price_per_lead_cents,
        retainer_fee_cents,
        billable_stage,
    })
}

#[server(endpoint = "admin/workspaces/set_active")]
pub async fn set_workspace_active(workspace_id: i64, active: bool) -> Result<(), AppError> {
    let (state, caller) = super::ctx::admin()?;
    backend::tenancy::admin::set_workspace_active(&state.db, &caller, workspace_id, active, &super::ctx::client_info()).await?;
    Ok(())
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
    let kpi = if ws.active { super::reporting::kpi_report(&state, &caller, None, None, Some(&ws.slug)).await?.lines.pop() } else { None };
    let revenue =
        if ws.active { super::reporting::revenue_report(&state, &caller, None, Some(&ws.slug)).await?.lines.pop() } else { None };
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
        sync_runs: super::bison::sync_run_rows(db, ws.id).await?,
        failed_deliveries: backend::bison::webhook::failed_deliveries(db, ws.id, 20)
            .await?
            .into_iter()
            .map(|d| crate::models::FailedDeliveryRow {
                id: d.id,
                received_at: super::ctx::ts(d.received_at),
                event_type: d.event_type,
                attempts: d.attempts,
                error: d.error,
            })
            .collect(),
        workspace: workspace_row(ws, &grants),
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
    let input = workspace_input(
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

/// Stores the Email Bison credentials after asking the key which Email Bison workspace it reads
/// (a typed id must match; an empty one is filled from the key). An empty key re-checks the
/// stored one; `remove` clears both. Answers what the key reads, for the page to show.
#[server(endpoint = "admin/clients/bison")]
pub async fn set_bison_credentials(workspace_id: i64, bison_workspace_id: String, api_key: String, remove: Option<String>) -> Result<String, AppError> {
    let (state, caller) = super::ctx::admin()?;
    let db = &state.db;
    let client = super::ctx::client_info();
    if remove.is_some() {
        backend::tenancy::admin::set_bison_credentials(db, &state.secrets, &caller, workspace_id, None, None, &client).await?;
        return Ok("Credentials removed.".into());
    }
    let key = match api_key.trim() {
        "" => backend::tenancy::workspaces::bison_api_key(db, &state.secrets, workspace_id)
            .await?
            .ok_or_else(|| AppError::invalid("Paste the client's Email Bison API key."))?,
        typed => typed.to_owned(),
    };
    let identity = backend::bison::credentials::save(&state, &caller, workspace_id, Some(bison_workspace_id.as_str()), &key, &client).await?;
    let user = identity.user_email.as_deref().map(|u| format!(" as {u}")).unwrap_or_default();
    Ok(format!("Saved: the key reads Email Bison workspace {}{user}.", identity.workspace_label()))
}

#[server(endpoint = "admin/access/grant")]
pub async fn grant_access(user_id: i64, workspace_id: i64, level: String) -> Result<(), AppError> {
    let (state, caller) = super::ctx::admin()?;
    let level = level.parse::<backend::tenancy::access::GrantLevel>()?;
    backend::tenancy::admin::grant_access(&state.db, &caller, user_id, workspace_id, level, &super::ctx::client_info()).await?;
    Ok(())
}

#[server(endpoint = "admin/access/revoke")]
pub async fn revoke_access(user_id: i64, workspace_id: i64) -> Result<(), AppError> {
    let (state, caller) = super::ctx::admin()?;
    backend::tenancy::admin::revoke_access(&state.db, &caller, user_id, workspace_id, &super::ctx::client_info()).await?;
    Ok(())
}

/// The public home's text and whether mail is set up: for signed-out pages, so anyone may call it.
#[server(endpoint = "public/info")]
pub async fn public_info() -> Result<crate::models::PublicInfo, AppError> {
    let state = super::ctx::state()?;
    let home = backend::tenancy::settings::public_home(&state.db).await?;
    Ok(crate::models::PublicInfo { agency_name: home.agency_name, text: home.text, mail_configured: state.config.mail.smtp_url.is_some() })
}

/// An admin sets the agency name and the line of text of the public home page.
#[server(endpoint = "admin/public_home")]
pub async fn set_public_home(agency_name: String, text: String) -> Result<(), AppError> {
    let (state, caller) = super::ctx::admin()?;
    backend::tenancy::settings::set_public_home(&state.db, &caller, &agency_name, &text, &super::ctx::client_info()).await?;
    Ok(())
}
