//! Password reset by link (issue 19): a signed-out user asks for a link by email, or an admin
//! sends one. A link is single use, expires after [`LINK_LIFETIME`], and only its token's SHA-256
//! is stored (like sessions and API tokens). Using it sets the new password, ends every session
//! of the user and is audited — all in one transaction, claimed by compare-and-set so a link
//! can't be used twice even by two requests at once.
//!
//! Sending the mail is not done here: identity may not import connectors (backend/tests/layers.rs),
//! so `runtime::password_reset` issues the link here and hands it to `connectors::mail`.

use chrono::{DateTime, Duration, Utc};

use crate::{
    identity::{
        audit,
        auth::ClientInfo,
        password,
        sessions::{require_admin, SessionUser},
        throttle::{self, ThrottlePolicy},
        users::{self, normalize_email},
    },
    on_db,
    platform::{
        crypto::{random_token, token_hash},
        db::Db,
        error::{Error, Result},
    },
};

/// How long a link works.
pub const LINK_LIFETIME: Duration = Duration::minutes(30);

/// A freshly issued link's token (in clear only here, on its way into the mail).
#[derive(Clone)]
pub struct IssuedLink {
    pub user_id: i64,
    pub email: String,
    pub display_name: String,
    pub token: String,
    pub expires_at: DateTime<Utc>,
}

impl std::fmt::Debug for IssuedLink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IssuedLink").field("user_id", &self.user_id).field("expires_at", &self.expires_at).finish_non_exhaustive()
    }
}

/// The path of the link (the host turns it into a page); the caller prefixes the public URL.
pub fn link_path(token: &str) -> String {
    format!("/auth/reset?token={token}")
}

/// Step one of a visitor's request, done before answering: the address (as typed, normalised)
/// and the IP are counted whether or not the address is an account, so neither the answer nor
/// the limit tells which addresses exist. Returns the normalised address.
pub async fn count_request(db: &Db, email: &str, client: &ClientInfo, policy: &ThrottlePolicy, now: DateTime<Utc>) -> Result<String> {
    let email = email.trim();
    if email.is_empty() {
        return Err(Error::invalid("Enter your email address."));
    }
    if email.len() > 320 {
        return Err(Error::invalid("That is not an email address."));
    }
    let email = normalize_email(email).unwrap_or_else(|_| email.to_lowercase());
    throttle::count_reset_request(db, &email, client.ip.as_deref(), policy, now).await?;
    Ok(email)
}

/// Step two (in the background): a link for the address if it is an active account, else
/// nothing. Audited either way (the audit trail is admin-only).
pub async fn issue_for_email(db: &Db, email: &str, client: &ClientInfo, now: DateTime<Utc>) -> Result<Option<IssuedLink>> {
    let found = users::find_for_login(db, email).await?.map(|(u, _)| u).filter(|u| !u.disabled);
    let Some(user) = found else {
        audit::record(db, None, Some(email), "password.reset_requested_unknown", None, client.ip.as_deref()).await?;
        return Ok(None);
    };
    let link = insert(db, &user, None, now).await?;
    audit::record(db, None, Some(email), "password.reset_requested", Some(&format!("user:{}", user.id)), client.ip.as_deref()).await?;
    Ok(Some(link))
}

/// An admin sends `user_id` a set-password link instead of typing a password for them.
pub async fn issue_by_admin(db: &Db, caller: &SessionUser, user_id: i64, client: &ClientInfo, now: DateTime<Utc>) -> Result<IssuedLink> {
    require_admin(caller)?;
    let user = users::get(db, user_id).await?;
    if user.disabled {
        return Err(Error::invalid(format!("{} is disabled: enable the account first, then send the link.", user.email)));
    }
    let link = insert(db, &user, Some(caller.user_id), now).await?;
    audit::record(db, Some(caller), None, "user.password_link_sent", Some(&format!("user:{} ({})", user.id, user.email)), client.ip.as_deref())
        .await?;
    Ok(link)
}

async fn insert(db: &Db, user: &users::User, requested_by: Option<i64>, now: DateTime<Utc>) -> Result<IssuedLink> {
    let token = random_token();
    let expires_at = now + LINK_LIFETIME;
    on_db!(db, |pool| sqlx::query(
        "INSERT INTO password_resets (user_id, token_hash, created_at, expires_at, requested_by) VALUES ($1, $2, $3, $4, $5)"
    )
    .bind(user.id)
    .bind(token_hash(&token))
    .bind(now)
    .bind(expires_at)
    .bind(requested_by)
    .execute(pool)
    .await
    .map(|r| r.rows_affected()))?;
    Ok(IssuedLink { user_id: user.id, email: user.email.clone(), display_name: user.display_name.clone(), token, expires_at })
}

/// What a link is worth now.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LinkState {
    Valid,
    Expired,
    Used,
    Unknown,
}

impl LinkState {
    /// The code the host puts in the page's URL (the page has the words).
    pub fn code(self) -> &'static str {
        match self {
            LinkState::Valid => "valid",
            LinkState::Expired => "expired",
            LinkState::Used => "used",
            LinkState::Unknown => "invalid",
        }
    }
}

pub async fn check(db: &Db, token: &str, now: DateTime<Utc>) -> Result<LinkState> {
    if token.is_empty() || token.len() > 100 {
        return Ok(LinkState::Unknown);
    }
    let row: Option<(DateTime<Utc>, Option<DateTime<Utc>>)> = on_db!(db, |pool| sqlx::query_as(
        "SELECT expires_at, used_at FROM password_resets WHERE token_hash = $1"
    )
    .bind(token_hash(token))
    .fetch_optional(pool)
    .await)?;
    Ok(match row {
        None => LinkState::Unknown,
        Some((_, Some(_))) => LinkState::Used,
        Some((expires_at, None)) if expires_at <= now => LinkState::Expired,
        Some(_) => LinkState::Valid,
    })
}

/// Why a link could not set the password; each has a code for the redirect.
#[derive(Debug, thiserror::Error)]
pub enum ResetError {
    #[error("This link is not valid.")]
    Link(LinkState),
    #[error("The passwords differ.")]
    Mismatch,
    #[error("{0}")]
    Password(&'static str),
    #[error(transparent)]
    Internal(#[from] Error),
}

impl ResetError {
    pub fn code(&self) -> &'static str {
        match self {
            ResetError::Link(state) => state.code(),
            ResetError::Mismatch => "mismatch",
            ResetError::Password(code) => code,
            ResetError::Internal(_) => "internal",
        }
    }
}

/// The code for a password the policy refuses (the page words it, like `password::validate_new`).
fn password_code(new: &str) -> Option<&'static str> {
    let chars = new.chars().count();
    if chars < password::MIN_LEN {
        Some("short")
    } else if chars > password::MAX_LEN {
        Some("long")
    } else if new.trim().is_empty() {
        Some("blank")
    } else {
        None
    }
}

/// Uses a link: sets the password, marks this and every other open link of the user used, ends
/// every session of the user and audits it, in one transaction. Returns the user's id.
pub async fn complete(db: &Db, token: &str, new: &str, confirm: &str, client: &ClientInfo, now: DateTime<Utc>) -> Result<i64, ResetError> {
    let state = check(db, token, now).await?;
    if state != LinkState::Valid {
        return Err(ResetError::Link(state));
    }
    if let Some(code) = password_code(new) {
        return Err(ResetError::Password(code));
    }
    if new != confirm {
        return Err(ResetError::Mismatch);
    }
    password::validate_new(new)?;
    let hash = password::hash(new).await?;
    let begin = db.begin_read_write();
    let ip = client.ip.clone();
    let claimed: Option<(i64, String)> = on_db!(db, |pool| async {
        let mut tx = pool.begin_with(begin).await?;
        // Compare-and-set: of two uses at once, one finds the row already used.
        let user_id: Option<i64> = sqlx::query_scalar(
            "UPDATE password_resets SET used_at = $1 WHERE token_hash = $2 AND used_at IS NULL AND expires_at > $1 \
             AND user_id IN (SELECT id FROM users WHERE NOT disabled) RETURNING user_id",
        )
        .bind(now)
        .bind(token_hash(token))
        .fetch_optional(&mut *tx)
        .await?;
        let Some(user_id) = user_id else { return Ok::<_, Error>(None) };
        sqlx::query("UPDATE password_resets SET used_at = $1 WHERE user_id = $2 AND used_at IS NULL").bind(now).bind(user_id).execute(&mut *tx).await?;
        let email: String = sqlx::query_scalar("UPDATE users SET password_hash = $1 WHERE id = $2 RETURNING email")
            .bind(&hash)
            .bind(user_id)
            .fetch_one(&mut *tx)
            .await?;
        sqlx::query("DELETE FROM sessions WHERE user_id = $1").bind(user_id).execute(&mut *tx).await?;
        sqlx::query(audit::INSERT)
            .bind(None::<i64>)
            .bind(&email)
            .bind("password.reset_completed")
            .bind(format!("user:{user_id}"))
            .bind(&ip)
            .bind(now)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(Some((user_id, email)))
    }
    .await)?;
    match claimed {
        Some((user_id, email)) => {
            // The old failures of the account no longer mean anything.
            throttle::clear_account(db, &email).await?;
            Ok(user_id)
        }
        None => Err(ResetError::Link(match check(db, token, now).await? {
            LinkState::Valid => LinkState::Used,
            other => other,
        })),
    }
}

/// Deletes links that expired more than a day ago; returns how many.
pub async fn prune(db: &Db, now: DateTime<Utc>) -> Result<u64> {
    Ok(on_db!(db, |pool| sqlx::query("DELETE FROM password_resets WHERE expires_at < $1")
        .bind(now - Duration::days(1))
        .execute(pool)
        .await
        .map(|r| r.rows_affected()))?)
}
