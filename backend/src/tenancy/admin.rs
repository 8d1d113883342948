//! What admins do to workspaces and grants. Each function checks the caller is an admin,
//! applies the change and writes the audit trail, so the server functions stay thin.
//! (Accounts: `identity::admin`; each domain's own settings live in that domain.)

use chrono::Utc;

use crate::{
    identity::{audit, auth::ClientInfo, sessions::SessionUser},
    platform::{
        crypto::SecretBox,
        db::Db,
        error::{Error, Result},
    },
    tenancy::{
        access::{self, GrantLevel},
        workspaces::{self, Workspace, WorkspaceInput},
    },
};

fn ip(client: &ClientInfo) -> Option<&str> {
    client.ip.as_deref()
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

pub async fn set_bison_credentials(
    db: &Db,
    secrets: &SecretBox,
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

