//! Admin-only server functions: users, grants, workspaces, the admin home.

use leptos::prelude::*;

use crate::{
    error::AppError,
    models::{AgencyOverview, UserRow, WorkspaceRow},
};

#[cfg(feature = "ssr")]
pub use convert::{user_row, workspace_row};

/// Core rows → wire rows (shared with the host's CSV exports).
#[cfg(feature = "ssr")]
mod convert {
    use super::super::ctx::ts;
    use crate::models::*;
    use backend::{tenancy::access::Grant, identity::users::User, tenancy::workspaces::Workspace};

    pub fn user_row(u: User, grants: &[Grant]) -> UserRow {
        UserRow {
            id: u.id,
            email: u.email,
            display_name: u.display_name,
            role: u.role.as_str().into(),
            disabled: u.disabled,
            created_at: ts(u.created_at),
            last_login_at: u.last_login_at.map(ts),
            grants: grants
                .iter()
                .filter(|g| g.user_id == u.id)
                .map(|g| GrantRow {
                    workspace_id: g.workspace_id,
                    workspace_name: g.workspace_name.clone(),
                    workspace_slug: g.workspace_slug.clone(),
                    level: g.level.as_str().into(),
                })
                .collect(),
        }
    }

    pub fn workspace_row(w: Workspace, grants: &[Grant]) -> WorkspaceRow {
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
            bison_workspace_id: w.bison_workspace_id,
            bison_api_key_masked: backend::tenancy::workspaces::masked_key(w.bison_api_key_hint.as_deref()),
            bison_webhook_masked: backend::tenancy::workspaces::masked_key(w.bison_webhook_hint.as_deref()),
            slack_webhook_masked: w.slack_webhook_hint,
        }
    }
}

#[server(endpoint = "admin/overview")]
pub async fn admin_overview() -> Result<AgencyOverview, AppError> {
    use super::ctx::ts;
    use backend::{reporting::dashboards, reporting::metrics};
    let (state, caller) = super::ctx::admin()?;
    let db = &state.db;
    let clock = super::dashboards::agency_clock(db).await?;
    let kpi = dashboards::kpi(db, &caller, &clock, dashboards::Period::month_to_date(&clock), None).await?;
    let alerts = dashboards::alerts(db, &caller, &kpi).await?;
    let (workspaces_total, workspaces_active) = backend::tenancy::workspaces::count(db).await?;
    let users = backend::identity::users::list(db).await?;
    let recent = backend::identity::audit::recent(db, 15).await?;
    Ok(AgencyOverview {
        today: clock.today.to_string(),
        interested_mtd: kpi.iter().map(|r| r.pacing.mtd).sum(),
        target_total: kpi.iter().map(|r| r.pacing.target).sum(),
        contacted_mtd: kpi.iter().map(|r| r.contacted).sum(),
        alerts: crate::models::HomeAlerts {
            behind: alerts.behind.into_iter().map(|r| (r.slug, r.name, r.pacing.mtd, r.pacing.target, r.pacing.projection)).collect(),
            critical_senders: alerts
                .critical_senders
                .into_iter()
                .map(|s| crate::models::SenderAlertRow {
                    bounce_rate: metrics::ratio(s.bounced_total as f64, s.sent_total as f64),
                    email: s.email,
                    workspace: s.workspace_name,
                    status: s.status,
                })
                .collect(),
            zip_conflicts: alerts.zip_conflicts.into_iter().map(|c| (c.zip, c.workspaces)).collect(),
            failed_jobs: alerts.failed_jobs,
        },
        workspaces_total,
        workspaces_active,
        users_total: users.len() as i64,
        users_disabled: users.iter().filter(|u| u.disabled).count() as i64,
        recent_activity: recent
            .into_iter()
            .map(|a| crate::models::AuditRow { at: ts(a.at), actor: a.actor_email, action: a.action, target: a.target, ip: a.ip })
            .collect(),
    })
}

#[server(endpoint = "admin/users")]
pub async fn list_users() -> Result<Vec<UserRow>, AppError> {
    let (state, _) = super::ctx::admin()?;
    let grants = backend::tenancy::access::list_grants(&state.db).await?;
    let users = backend::identity::users::list(&state.db).await?;
    Ok(users.into_iter().map(|u| convert::user_row(u, &grants)).collect())
}

#[server(endpoint = "admin/users/create")]
pub async fn create_user(email: String, display_name: String, role: String, password: String) -> Result<UserRow, AppError> {
    let (state, caller) = super::ctx::admin()?;
    let role = role.parse::<backend::identity::users::Role>()?;
    let new = backend::identity::users::NewUser { email, display_name, role, password };
    let user = backend::identity::admin::create_user(&state.db, &caller, new, &super::ctx::client_info()).await?;
    Ok(convert::user_row(user, &[]))
}

#[server(endpoint = "admin/users/set_disabled")]
pub async fn set_user_disabled(user_id: i64, disabled: bool) -> Result<(), AppError> {
    let (state, caller) = super::ctx::admin()?;
    backend::identity::admin::set_user_disabled(&state.db, &caller, user_id, disabled, &super::ctx::client_info()).await?;
    Ok(())
}

#[server(endpoint = "admin/users/reset_password")]
pub async fn reset_user_password(user_id: i64, new_password: String) -> Result<(), AppError> {
    let (state, caller) = super::ctx::admin()?;
    backend::identity::admin::reset_password(&state.db, &caller, user_id, &new_password, &super::ctx::client_info()).await?;
    Ok(())
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

#[server(endpoint = "admin/workspaces")]
pub async fn list_workspaces() -> Result<Vec<WorkspaceRow>, AppError> {
    let (state, caller) = super::ctx::admin()?;
    let grants = backend::tenancy::access::list_grants(&state.db).await?;
    let rows = backend::tenancy::workspaces::list_visible(&state.db, &caller).await?;
    Ok(rows.into_iter().map(|(w, _)| convert::workspace_row(w, &grants)).collect())
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
    if bison_key.is_some() && bison_id.is_none() {
        return Err(AppError::invalid("Enter the Email Bison workspace id that goes with the API key."));
    }
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
    if bison_id.is_some() {
        backend::tenancy::admin::set_bison_credentials(&state.db, &state.secrets, &caller, ws.id, bison_id.as_deref(), bison_key.as_deref(), &client)
            .await?;
        ws = backend::tenancy::workspaces::get(&state.db, ws.id).await?;
    }
    Ok(convert::workspace_row(ws, &[]))
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
