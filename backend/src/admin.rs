//! What admins do to accounts and grants. Each function checks the caller is an admin, applies
//! the change and writes the audit trail, so the server functions stay thin.

use chrono::Utc;

use crate::{
    access::{self, GrantLevel},
    audit,
    auth::ClientInfo,
    db::Db,
    error::{Error, Result},
    sessions::{self, SessionUser},
    users::{self, NewUser, Role, User},
    workspaces::{self, Workspace, WorkspaceInput},
};

fn ip(client: &ClientInfo) -> Option<&str> {
    client.ip.as_deref()
}

pub async fn create_user(db: &Db, caller: &SessionUser, new: NewUser, client: &ClientInfo) -> Result<User> {
    access::require_admin(caller)?;
    let user = users::create(db, new).await?;
    audit::record(db, Some(caller), None, "user.created", Some(&format!("user:{} ({})", user.id, user.email)), ip(client))
        .await?;
    Ok(user)
}

/// Disables (ending every session at once) or re-enables an account. An admin can't lock
/// themselves out, and the last active admin can't be disabled.
pub async fn set_user_disabled(db: &Db, caller: &SessionUser, user_id: i64, disabled: bool, client: &ClientInfo) -> Result<()> {
    access::require_admin(caller)?;
    let target = users::get(db, user_id).await?;
    if disabled && target.id == caller.user_id {
        return Err(Error::invalid("You can't disable your own account."));
    }
    if disabled && target.role == Role::Admin && !target.disabled && users::count_active_admins(db).await? <= 1 {
        return Err(Error::invalid("This is the last active admin; create another admin first."));
    }
    users::set_disabled(db, user_id, disabled).await?;
    if disabled {
        sessions::revoke_all_for_user(db, user_id, None).await?;
    }
    let action = if disabled { "user.disabled" } else { "user.enabled" };
    audit::record(db, Some(caller), None, action, Some(&format!("user:{user_id} ({})", target.email)), ip(client)).await
}

/// Sets a new password for a user; their sessions end.
pub async fn reset_password(db: &Db, caller: &SessionUser, user_id: i64, new_password: &str, client: &ClientInfo) -> Result<()> {
    access::require_admin(caller)?;
    let target = users::get(db, user_id).await?;
    users::set_password(db, user_id, new_password).await?;
    let keep = (user_id == caller.user_id).then_some(caller.session_id);
    sessions::revoke_all_for_user(db, user_id, keep).await?;
    audit::record(db, Some(caller), None, "user.password_reset", Some(&format!("user:{user_id} ({})", target.email)), ip(client))
        .await
}

pub async fn grant_access(
    db: &Db,
    caller: &SessionUser,
    user_id: i64,
    workspace_id: i64,
    level: GrantLevel,
    client: &ClientInfo,
) -> Result<()> {
    access::require_admin(caller)?;
    access::grant(db, user_id, workspace_id, level, caller.user_id, Utc::now()).await?;
    audit::record(
        db,
        Some(caller),
        None,
        "access.granted",
        Some(&format!("user:{user_id} workspace:{workspace_id} level:{}", level.as_str())),
        ip(client),
    )
    .await
}

pub async fn revoke_access(db: &Db, caller: &SessionUser, user_id: i64, workspace_id: i64, client: &ClientInfo) -> Result<()> {
    access::require_admin(caller)?;
    if !access::revoke(db, user_id, workspace_id).await? {
        return Err(Error::NotFound);
    }
    audit::record(db, Some(caller), None, "access.revoked", Some(&format!("user:{user_id} workspace:{workspace_id}")), ip(client))
        .await
}

pub async fn create_workspace(db: &Db, caller: &SessionUser, input: WorkspaceInput, client: &ClientInfo) -> Result<Workspace> {
    access::require_admin(caller)?;
    let ws = workspaces::create(db, input).await?;
    audit::record(db, Some(caller), None, "workspace.created", Some(&format!("workspace:{} ({})", ws.id, ws.slug)), ip(client))
        .await?;
    Ok(ws)
}

pub async fn set_workspace_active(db: &Db, caller: &SessionUser, workspace_id: i64, active: bool, client: &ClientInfo) -> Result<()> {
    access::require_admin(caller)?;
    workspaces::set_active(db, workspace_id, active).await?;
    let action = if active { "workspace.activated" } else { "workspace.archived" };
    audit::record(db, Some(caller), None, action, Some(&format!("workspace:{workspace_id}")), ip(client)).await
}

pub async fn update_workspace(db: &Db, caller: &SessionUser, workspace_id: i64, input: WorkspaceInput, client: &ClientInfo) -> Result<Workspace> {
    access::require_admin(caller)?;
    let ws = workspaces::update(db, workspace_id, input).await?;
    audit::record(db, Some(caller), None, "workspace.updated", Some(&format!("workspace:{} ({})", ws.id, ws.slug)), ip(client)).await?;
    Ok(ws)
}

/// A new Email Bison webhook token for the workspace (the old URL stops working); returns it once.
pub async fn rotate_bison_webhook(db: &Db, caller: &SessionUser, workspace_id: i64, client: &ClientInfo) -> Result<String> {
    access::require_admin(caller)?;
    let token = crate::bison_webhook::rotate_token(db, workspace_id).await?;
    audit::record(db, Some(caller), None, "workspace.bison_webhook_rotated", Some(&format!("workspace:{workspace_id}")), ip(client)).await?;
    Ok(token)
}

/// Sets or removes a workspace's Slack webhook (`workspace_id`), or the agency's (`None`).
pub async fn set_slack_webhook(
    db: &Db,
    secrets: &crate::crypto::SecretBox,
    caller: &SessionUser,
    workspace_id: Option<i64>,
    url: Option<&str>,
    client: &ClientInfo,
) -> Result<()> {
    access::require_admin(caller)?;
    match workspace_id {
        Some(ws) => crate::slack::set_workspace_url(db, secrets, ws, url).await?,
        None => crate::slack::set_agency_url(db, secrets, url).await?,
    }
    let target = workspace_id.map_or("agency".to_owned(), |ws| format!("workspace:{ws}"));
    audit::record(db, Some(caller), None, "slack.webhook_set", Some(&target), ip(client)).await
}

pub async fn set_bison_credentials(
    db: &Db,
    secrets: &crate::crypto::SecretBox,
    caller: &SessionUser,
    workspace_id: i64,
    bison_workspace_id: Option<&str>,
    api_key: Option<&str>,
    client: &ClientInfo,
) -> Result<()> {
    access::require_admin(caller)?;
    workspaces::set_bison_credentials(db, secrets, workspace_id, bison_workspace_id, api_key).await?;
    // The key itself never goes into the audit trail.
    audit::record(db, Some(caller), None, "workspace.bison_credentials", Some(&format!("workspace:{workspace_id}")), ip(client)).await
}

pub async fn add_cost(db: &Db, caller: &SessionUser, workspace_id: i64, cost: crate::client_costs::NewCost, client: &ClientInfo) -> Result<i64> {
    access::require_admin(caller)?;
    workspaces::get(db, workspace_id).await?;
    let id = crate::client_costs::add(db, workspace_id, cost).await?;
    audit::record(db, Some(caller), None, "cost.added", Some(&format!("workspace:{workspace_id} cost:{id}")), ip(client)).await?;
    Ok(id)
}

pub async fn delete_cost(db: &Db, caller: &SessionUser, workspace_id: i64, cost_id: i64, client: &ClientInfo) -> Result<()> {
    access::require_admin(caller)?;
    crate::client_costs::delete(db, workspace_id, cost_id).await?;
    audit::record(db, Some(caller), None, "cost.deleted", Some(&format!("workspace:{workspace_id} cost:{cost_id}")), ip(client)).await
}

pub async fn assign_zip(db: &Db, caller: &SessionUser, workspace_id: i64, zip: &str, state: Option<&str>, city: Option<&str>, client: &ClientInfo) -> Result<String> {
    access::require_admin(caller)?;
    workspaces::get(db, workspace_id).await?;
    let zip = crate::zip_codes::assign(db, workspace_id, zip, state, city).await?;
    audit::record(db, Some(caller), None, "zip.assigned", Some(&format!("workspace:{workspace_id} zip:{zip}")), ip(client)).await?;
    Ok(zip)
}

pub async fn unassign_zip(db: &Db, caller: &SessionUser, workspace_id: i64, zip: &str, client: &ClientInfo) -> Result<()> {
    access::require_admin(caller)?;
    crate::zip_codes::unassign(db, workspace_id, zip).await?;
    audit::record(db, Some(caller), None, "zip.unassigned", Some(&format!("workspace:{workspace_id} zip:{zip}")), ip(client)).await
}
