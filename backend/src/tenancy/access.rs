//! Who may see and change which workspace. Admins see every workspace; everybody else sees a
//! workspace only through a grant in `user_workspace_access`. A user whose role is `viewer` is
//! read-only everywhere, whatever the grant says. Every read of workspace data goes through here.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::{
    platform::db::Db,
    platform::error::{Error, Result},
    on_db,
    identity::sessions::SessionUser,
    identity::users::Role,
};

/// What a caller may do in one workspace.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AccessLevel {
    /// Agency admin: everything.
    Admin,
    /// Client user: works the leads (moves, notes).
    Client,
    /// Read-only.
    Viewer,
}

impl AccessLevel {
    pub fn as_str(self) -> &'static str {
        match self {
            AccessLevel::Admin => "admin",
            AccessLevel::Client => "client",
            AccessLevel::Viewer => "viewer",
        }
    }
    pub fn can_write(self) -> bool {
        matches!(self, AccessLevel::Admin | AccessLevel::Client)
    }
}

/// The level stored on a grant.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum GrantLevel {
    Client,
    Viewer,
}

impl GrantLevel {
    pub fn as_str(self) -> &'static str {
        match self {
            GrantLevel::Client => "client",
            GrantLevel::Viewer => "viewer",
        }
    }
}

impl std::str::FromStr for GrantLevel {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        match s.trim().to_ascii_lowercase().as_str() {
            "client" => Ok(GrantLevel::Client),
            "viewer" => Ok(GrantLevel::Viewer),
            other => Err(Error::invalid(format!("Unknown access level {other:?}: use client or viewer."))),
        }
    }
}

impl TryFrom<String> for GrantLevel {
    type Error = Error;
    fn try_from(s: String) -> Result<Self> {
        s.parse()
    }
}

pub use crate::identity::sessions::require_admin;

/// The caller's level in a workspace, or `NotFound` when they may not see it (or it does not exist:
/// the two must be indistinguishable).
pub async fn level_in(db: &Db, caller: &SessionUser, workspace_id: i64) -> Result<AccessLevel> {
    Ok(scope(db, caller, workspace_id).await?.level)
}

pub fn effective_level(role: Role, grant: GrantLevel) -> AccessLevel {
    match (role, grant) {
        (Role::Admin, _) => AccessLevel::Admin,
        (Role::Viewer, _) | (_, GrantLevel::Viewer) => AccessLevel::Viewer,
        (Role::Client, GrantLevel::Client) => AccessLevel::Client,
    }
}

/// A caller's checked access to one workspace. Only [`scope`] makes one (private fields), so a
/// function that takes a scope cannot be reached without the visibility check.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WorkspaceScope {
    workspace_id: i64,
    user_id: i64,
    level: AccessLevel,
    /// An archived workspace can be read, not changed.
    active: bool,
}

impl WorkspaceScope {
    pub fn workspace_id(&self) -> i64 {
        self.workspace_id
    }
    /// Who acts in this scope (for audit and "requested by").
    pub fn user_id(&self) -> i64 {
        self.user_id
    }
    pub fn level(&self) -> AccessLevel {
        self.level
    }
    /// Write access in this workspace: `Forbidden` for read-only callers, and a conflict that
    /// says why for an archived workspace (its pages hide the buttons; this refuses the calls).
    pub fn writable(self) -> Result<WriteScope> {
        if !self.level.can_write() {
            return Err(Error::Forbidden);
        }
        if !self.active {
            return Err(Error::Conflict(
                "This workspace is archived: it can be read but not changed. An admin can reactivate it on the Clients page.".into(),
            ));
        }
        Ok(WriteScope(self))
    }
}

impl WorkspaceScope {
    /// The same scope, read-only (a read token acting for a user who could write).
    pub fn read_only(self) -> Self {
        WorkspaceScope { level: AccessLevel::Viewer, ..self }
    }
}

/// Checked agency-wide admin rights (agency webhook endpoints, agency API tokens). Made only by
/// [`agency_admin`] or an agency token of an admin.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AgencyAdmin {
    user_id: i64,
}

impl AgencyAdmin {
    pub fn user_id(&self) -> i64 {
        self.user_id
    }
}

/// Agency-wide admin rights: `Forbidden` for everybody but admins.
pub fn agency_admin(caller: &SessionUser) -> Result<AgencyAdmin> {
    require_admin(caller)?;
    Ok(AgencyAdmin { user_id: caller.user_id })
}

/// Checked write access to one workspace: what every function that changes a workspace's data
/// takes. Made only by [`require_write`] (or [`WorkspaceScope::writable`]), so a new caller — a
/// server function, a host route, an API token — cannot forget the write check.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WriteScope(WorkspaceScope);

impl WriteScope {
    pub fn workspace_id(&self) -> i64 {
        self.0.workspace_id
    }
    pub fn user_id(&self) -> i64 {
        self.0.user_id
    }
    pub fn level(&self) -> AccessLevel {
        self.0.level
    }
}

/// The caller's scope in a workspace: not visible (or not there) → `NotFound`.
/// One query: admins see any workspace; everybody else through a grant.
pub async fn scope(db: &Db, caller: &SessionUser, workspace_id: i64) -> Result<WorkspaceScope> {
    let (level, active) = if caller.is_admin() {
        let active: Option<bool> = on_db!(db, |pool| sqlx::query_scalar("SELECT active FROM workspaces WHERE id = $1")
            .bind(workspace_id)
            .fetch_optional(pool)
            .await)?;
        (AccessLevel::Admin, active.ok_or(Error::NotFound)?)
    } else {
        let grant: Option<(String, bool)> = on_db!(db, |pool| sqlx::query_as(
            "SELECT a.level, w.active FROM user_workspace_access a JOIN workspaces w ON w.id = a.workspace_id \
             WHERE a.user_id = $1 AND a.workspace_id = $2"
        )
        .bind(caller.user_id)
        .bind(workspace_id)
        .fetch_optional(pool)
        .await)?;
        let (grant, active) = grant.ok_or(Error::NotFound)?;
        (effective_level(caller.role, GrantLevel::try_from(grant)?), active)
    };
    Ok(WorkspaceScope { workspace_id, user_id: caller.user_id, level, active })
}

/// Requires write access in a workspace: not visible → `NotFound`, read-only → `Forbidden`.
pub async fn require_write(db: &Db, caller: &SessionUser, workspace_id: i64) -> Result<WriteScope> {
    scope(db, caller, workspace_id).await?.writable()
}

#[derive(Clone, Debug, sqlx::FromRow)]
pub struct Grant {
    pub user_id: i64,
    pub workspace_id: i64,
    pub workspace_name: String,
    pub workspace_slug: String,
    #[sqlx(try_from = "String")]
    pub level: GrantLevel,
    pub granted_at: DateTime<Utc>,
}

macro_rules! grant_select {
    () => {
        "SELECT a.user_id, a.workspace_id, w.name AS workspace_name, w.slug AS workspace_slug, \
     a.level, a.granted_at FROM user_workspace_access a JOIN workspaces w ON w.id = a.workspace_id"
    };
}

pub async fn list_grants(db: &Db) -> Result<Vec<Grant>> {
    let sql = concat!(grant_select!(), " ORDER BY a.user_id, w.name");
    Ok(on_db!(db, |pool| sqlx::query_as::<_, Grant>(sql).fetch_all(pool).await)?)
}

pub async fn grants_of_user(db: &Db, user_id: i64) -> Result<Vec<Grant>> {
    let sql = concat!(grant_select!(), " WHERE a.user_id = $1 ORDER BY w.name");
    Ok(on_db!(db, |pool| sqlx::query_as::<_, Grant>(sql).bind(user_id).fetch_all(pool).await)?)
}

/// Grants (or changes the level of) a user's access to a workspace.
pub async fn grant(db: &Db, user_id: i64, workspace_id: i64, level: GrantLevel, granted_by: i64, now: DateTime<Utc>) -> Result<()> {
    // Both must exist; say which one is missing.
    crate::identity::users::get(db, user_id).await.map_err(|_| Error::invalid(format!("There is no user with id {user_id}.")))?;
    crate::tenancy::workspaces::get(db, workspace_id)
        .await
        .map_err(|_| Error::invalid(format!("There is no workspace with id {workspace_id}.")))?;
    on_db!(db, |pool| sqlx::query(
        "INSERT INTO user_workspace_access (user_id, workspace_id, level, granted_at, granted_by) \
         VALUES ($1, $2, $3, $4, $5) \
         ON CONFLICT (user_id, workspace_id) DO UPDATE SET level = excluded.level, granted_at = excluded.granted_at, granted_by = excluded.granted_by"
    )
    .bind(user_id)
    .bind(workspace_id)
    .bind(level.as_str())
    .bind(now)
    .bind(granted_by)
    .execute(pool)
    .await.map(|r| r.rows_affected()))?;
    Ok(())
}

/// Removes a grant; returns whether there was one.
pub async fn revoke(db: &Db, user_id: i64, workspace_id: i64) -> Result<bool> {
    let done = on_db!(db, |pool| sqlx::query("DELETE FROM user_workspace_access WHERE user_id = $1 AND workspace_id = $2")
        .bind(user_id)
        .bind(workspace_id)
        .execute(pool)
        .await.map(|r| r.rows_affected()))?;
    Ok(done > 0)
}
