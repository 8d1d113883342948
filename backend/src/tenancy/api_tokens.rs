//! Bearer tokens for REST v1 (n8n, Zapier, scripts). A token acts for the user who made it,
//! narrowed to one workspace (or, for an admin's agency token, the whole agency) and to read or
//! write: it can never do more than its user could, and loses access when its user does
//! (disabled, grant removed). Only a SHA-256 of the token is stored — the token is 32 random
//! bytes, so a slow password hash would add nothing — and its first characters are kept to
//! recognise it in lists.

use chrono::{DateTime, Duration, Utc};
use serde::Serialize;

use crate::{
    identity::{sessions::SessionUser, users::Role},
    on_db,
    platform::{
        crypto::{random_token, token_hash},
        db::Db,
        error::{Error, Result},
    },
    tenancy::access::{self, AgencyAdmin, WorkspaceScope},
};

/// What every Maverick token starts with (secret scanners can look for it).
pub const TOKEN_PREFIX: &str = "mvk_";

crate::sql_text_enum! {
    /// What a token may do.
    pub enum TokenScope ("token scope") { Read = "read", Write = "write" }
}

#[derive(Clone, Debug, PartialEq, Serialize, sqlx::FromRow)]
pub struct ApiToken {
    pub id: i64,
    pub name: String,
    /// The token's first characters, to recognise it.
    pub prefix: String,
    /// `None`: agency-wide (admins only).
    pub workspace_id: Option<i64>,
    pub workspace_slug: Option<String>,
    #[sqlx(try_from = "String")]
    #[serde(serialize_with = "as_text")]
    pub scope: TokenScope,
    pub created_by: Option<i64>,
    pub created_by_name: Option<String>,
    pub created_at: DateTime<Utc>,
    pub expires_at: Option<DateTime<Utc>>,
    pub last_used_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
}

fn as_text<S: serde::Serializer>(scope: &TokenScope, s: S) -> std::result::Result<S::Ok, S::Error> {
    s.serialize_str(scope.as_str())
}

macro_rules! token_select {
    () => {
        "SELECT t.id, t.name, t.prefix, t.workspace_id, w.slug AS workspace_slug, t.scope, t.created_by, u.display_name AS created_by_name, \
         t.created_at, t.expires_at, t.last_used_at, t.revoked_at \
         FROM api_tokens t LEFT JOIN workspaces w ON w.id = t.workspace_id LEFT JOIN users u ON u.id = t.created_by "
    };
}

/// What a new token is for.
#[derive(Clone, Debug)]
pub struct NewToken {
    pub name: String,
    /// `None`: agency-wide.
    pub workspace_id: Option<i64>,
    pub scope: TokenScope,
    pub expires_in_days: Option<i64>,
}

/// Makes a token for `creator`, who must hold what it grants: write access to the workspace for
/// a write token, sight of it for a read token, admin rights for an agency token. Returns the
/// token's record and the token itself — shown once, never stored.
pub async fn create(db: &Db, creator: &SessionUser, new: &NewToken, now: DateTime<Utc>) -> Result<(ApiToken, String)> {
    let name = new.name.trim();
    if name.is_empty() || name.chars().count() > 100 {
        return Err(Error::invalid("Give the token a name of 1 to 100 characters (what uses it, e.g. \"n8n production\")."));
    }
    if let Some(days) = new.expires_in_days {
        if !(1..=3650).contains(&days) {
            return Err(Error::invalid("A token expires after 1 to 3,650 days (or never: leave it empty)."));
        }
    }
    match new.workspace_id {
        None => {
            access::agency_admin(creator)?;
        }
        Some(ws) => {
            let scope = access::scope(db, creator, ws).await?;
            if new.scope == TokenScope::Write {
                scope.writable()?;
            }
        }
    }
    let token = format!("{TOKEN_PREFIX}{}", random_token());
    let prefix: String = token.chars().take(TOKEN_PREFIX.len() + 6).collect();
    let expires_at = new.expires_in_days.map(|d| now + Duration::days(d));
    let id: i64 = on_db!(db, |pool| sqlx::query_scalar(
        "INSERT INTO api_tokens (name, prefix, token_hash, workspace_id, scope, created_by, created_at, expires_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id"
    )
    .bind(name)
    .bind(&prefix)
    .bind(token_hash(&token))
    .bind(new.workspace_id)
    .bind(new.scope.as_str())
    .bind(creator.user_id)
    .bind(now)
    .bind(expires_at)
    .fetch_one(pool)
    .await)?;
    Ok((get(db, id).await?, token))
}

async fn get(db: &Db, id: i64) -> Result<ApiToken> {
    let sql = concat!(token_select!(), "WHERE t.id = $1");
    on_db!(db, |pool| sqlx::query_as::<_, ApiToken>(sql).bind(id).fetch_optional(pool).await)?.ok_or(Error::NotFound)
}

/// The tokens a user may see: an admin every token; anybody else the tokens they made for
/// workspaces they can still write in. `workspace_id` narrows the list to one workspace.
pub async fn list(db: &Db, caller: &SessionUser, workspace_id: Option<i64>) -> Result<Vec<ApiToken>> {
    let sql = concat!(token_select!(), "WHERE ($1 OR t.created_by = $2) AND ($3 IS NULL OR t.workspace_id = $3) ORDER BY t.revoked_at IS NOT NULL, t.id DESC");
    let rows = on_db!(db, |pool| sqlx::query_as::<_, ApiToken>(sql)
        .bind(caller.is_admin())
        .bind(caller.user_id)
        .bind(workspace_id)
        .fetch_all(pool)
        .await)?;
    if caller.is_admin() {
        return Ok(rows);
    }
    let mut visible = Vec::with_capacity(rows.len());
    for t in rows {
        if let Some(ws) = t.workspace_id {
            if access::require_write(db, caller, ws).await.is_ok() {
                visible.push(t);
            }
        }
    }
    Ok(visible)
}

/// Revokes a token the caller may see (see [`list`]); revoking twice is harmless.
pub async fn revoke(db: &Db, caller: &SessionUser, id: i64, now: DateTime<Utc>) -> Result<ApiToken> {
    let token = get(db, id).await?;
    let allowed = caller.is_admin()
        || (token.created_by == Some(caller.user_id)
            && match token.workspace_id {
                Some(ws) => access::require_write(db, caller, ws).await.is_ok(),
                None => false,
            });
    if !allowed {
        return Err(Error::NotFound);
    }
    on_db!(db, |pool| sqlx::query("UPDATE api_tokens SET revoked_at = COALESCE(revoked_at, $1) WHERE id = $2")
        .bind(now)
        .bind(id)
        .execute(pool)
        .await
        .map(|r| r.rows_affected()))?;
    get(db, id).await
}

/// A request's verified token and the user it acts for.
#[derive(Clone, Debug)]
pub struct TokenCaller {
    pub token: ApiToken,
    /// The token's user, as the rest of the core knows callers (stage history names the token).
    pub user: SessionUser,
}

impl TokenCaller {
    /// The token's access to a workspace: `NotFound` when the token is not for it (or its user
    /// cannot see it), read-only for a read token.
    pub async fn scope(&self, db: &Db, workspace_id: i64) -> Result<WorkspaceScope> {
        if self.token.workspace_id.is_some_and(|ws| ws != workspace_id) {
            return Err(Error::NotFound);
        }
        let scope = access::scope(db, &self.user, workspace_id).await?;
        Ok(match self.token.scope {
            TokenScope::Read => scope.read_only(),
            TokenScope::Write => scope,
        })
    }

    /// Agency-wide admin rights: only an agency write token of an admin.
    pub fn agency_admin(&self) -> Result<AgencyAdmin> {
        if self.token.workspace_id.is_some() || self.token.scope != TokenScope::Write {
            return Err(Error::Forbidden);
        }
        access::agency_admin(&self.user)
    }

    /// Whether the token may read agency-wide lists (every workspace it can see).
    pub fn is_agency(&self) -> bool {
        self.token.workspace_id.is_none()
    }
}

/// Checks a bearer token: known, not revoked, not expired, and its user still active. Every
/// failure is the same `Unauthenticated`, so a caller learns nothing about which tokens exist.
/// Marks it used (at most once a minute, to spare the database a write per request).
pub async fn authenticate(db: &Db, bearer: &str, now: DateTime<Utc>) -> Result<TokenCaller> {
    let bearer = bearer.trim();
    if !bearer.starts_with(TOKEN_PREFIX) || bearer.len() > 200 {
        return Err(Error::Unauthenticated);
    }
    let sql = concat!(token_select!(), "WHERE t.token_hash = $1");
    let token = on_db!(db, |pool| sqlx::query_as::<_, ApiToken>(sql).bind(token_hash(bearer)).fetch_optional(pool).await)?
        .ok_or(Error::Unauthenticated)?;
    if token.revoked_at.is_some() || token.expires_at.is_some_and(|e| e <= now) {
        return Err(Error::Unauthenticated);
    }
    let user_id = token.created_by.ok_or(Error::Unauthenticated)?;
    let user = crate::identity::users::get(db, user_id).await.map_err(|_| Error::Unauthenticated)?;
    if user.disabled {
        return Err(Error::Unauthenticated);
    }
    if token.last_used_at.is_none_or(|t| now - t > Duration::seconds(60)) {
        on_db!(db, |pool| sqlx::query("UPDATE api_tokens SET last_used_at = $1 WHERE id = $2")
            .bind(now)
            .bind(token.id)
            .execute(pool)
            .await
            .map(|r| r.rows_affected()))?;
    }
    let user = SessionUser {
        session_id: 0,
        user_id: user.id,
        email: user.email,
        display_name: format!("{} (API token \"{}\")", user.display_name, token.name),
        role: user.role,
    };
    Ok(TokenCaller { token, user })
}

/// The user a command-line token acts for: the one named, or the first active admin.
pub async fn command_line_user(db: &Db, email: Option<&str>) -> Result<SessionUser> {
    let users = crate::identity::users::list(db).await?;
    let user = match email {
        Some(e) => users.into_iter().find(|u| u.email.eq_ignore_ascii_case(e.trim())).ok_or_else(|| Error::invalid(format!("There is no user {e:?}.")))?,
        None => users
            .into_iter()
            .filter(|u| u.role == Role::Admin && !u.disabled)
            .min_by_key(|u| u.id)
            .ok_or_else(|| Error::invalid("There is no active admin yet: create one first (`server create-admin`)."))?,
    };
    if user.disabled {
        return Err(Error::invalid(format!("{} is disabled.", user.email)));
    }
    Ok(SessionUser { session_id: 0, user_id: user.id, email: user.email, display_name: user.display_name, role: user.role })
}
