//! Server-side sessions, stored in the database so every host behind a load balancer shares them.
//! The cookie carries a random token; the table holds only its SHA-256. A session ends at the
//! first of: logout, idle timeout, absolute timeout, the user being disabled or their password reset.

use chrono::{DateTime, Duration, Utc};

pub use crate::platform::config::SessionPolicy;

use crate::{
    platform::crypto::{random_token, token_hash},
    platform::db::Db,
    platform::error::{Error, Result},
    on_db,
    identity::users::Role,
};

/// Who is calling: the signed-in user behind a valid session.
#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct SessionUser {
    pub session_id: i64,
    pub user_id: i64,
    pub email: String,
    pub display_name: String,
    #[sqlx(try_from = "String")]
    pub role: Role,
}

impl SessionUser {
    pub fn is_admin(&self) -> bool {
        self.role == Role::Admin
    }
}

/// Don't write `last_seen_at` on every request: once a minute is precise enough for idle expiry.
const TOUCH_EVERY: Duration = Duration::seconds(60);

/// Starts a session and returns the token to put in the cookie.
pub async fn create(
    db: &Db,
    user_id: i64,
    ip: Option<&str>,
    user_agent: Option<&str>,
    policy: &SessionPolicy,
    now: DateTime<Utc>,
) -> Result<String> {
    let token = random_token();
    let user_agent = user_agent.map(|ua| ua.chars().take(300).collect::<String>());
    on_db!(db, |pool| sqlx::query(
        "INSERT INTO sessions (token_hash, user_id, created_at, last_seen_at, expires_at, ip, user_agent) \
         VALUES ($1, $2, $3, $3, $4, $5, $6)"
    )
    .bind(token_hash(&token))
    .bind(user_id)
    .bind(now)
    .bind(now + policy.absolute_timeout)
    .bind(ip)
    .bind(user_agent)
    .execute(pool)
    .await.map(|r| r.rows_affected()))?;
    Ok(token)
}

/// The user behind `token`, if the session is still valid; refreshes its idle clock.
pub async fn resolve(db: &Db, token: &str, policy: &SessionPolicy, now: DateTime<Utc>) -> Result<Option<SessionUser>> {
    lookup(db, token, policy, now, true).await
}

/// Whether the session behind `token` still stands, without counting this as activity: an open
/// live stream re-checks its session this way, so a tab left open still idles out.
pub async fn still_valid(db: &Db, token: &str, policy: &SessionPolicy, now: DateTime<Utc>) -> Result<Option<SessionUser>> {
    lookup(db, token, policy, now, false).await
}

async fn lookup(db: &Db, token: &str, policy: &SessionPolicy, now: DateTime<Utc>, activity: bool) -> Result<Option<SessionUser>> {
    #[derive(sqlx::FromRow)]
    struct Row {
        #[sqlx(flatten)]
        user: SessionUser,
        last_seen_at: DateTime<Utc>,
    }
    let row = on_db!(db, |pool| sqlx::query_as::<_, Row>(
        "SELECT s.id AS session_id, u.id AS user_id, u.email, u.display_name, u.role, s.last_seen_at \
         FROM sessions s JOIN users u ON u.id = s.user_id \
         WHERE s.token_hash = $1 AND s.expires_at > $2 AND s.last_seen_at > $3 AND NOT u.disabled"
    )
    .bind(token_hash(token))
    .bind(now)
    .bind(now - policy.idle_timeout)
    .fetch_optional(pool)
    .await)?;
    let Some(row) = row else { return Ok(None) };
    if activity && now - row.last_seen_at > TOUCH_EVERY {
        on_db!(db, |pool| sqlx::query("UPDATE sessions SET last_seen_at = $1 WHERE id = $2")
            .bind(now)
            .bind(row.user.session_id)
            .execute(pool)
            .await.map(|r| r.rows_affected()))?;
    }
    Ok(Some(row.user))
}

/// Ends the session behind `token` (logout). Unknown tokens are fine.
pub async fn revoke(db: &Db, token: &str) -> Result<()> {
    on_db!(db, |pool| sqlx::query("DELETE FROM sessions WHERE token_hash = $1")
        .bind(token_hash(token))
        .execute(pool)
        .await.map(|r| r.rows_affected()))?;
    Ok(())
}

/// Ends every session of a user, except optionally one (the caller's own, after a password change).
pub async fn revoke_all_for_user(db: &Db, user_id: i64, keep_session_id: Option<i64>) -> Result<u64> {
    let done = on_db!(db, |pool| sqlx::query("DELETE FROM sessions WHERE user_id = $1 AND id <> $2")
        .bind(user_id)
        .bind(keep_session_id.unwrap_or(-1))
        .execute(pool)
        .await.map(|r| r.rows_affected()))?;
    Ok(done)
}

/// Deletes sessions past their absolute or idle expiry; returns how many.
pub async fn prune_expired(db: &Db, policy: &SessionPolicy, now: DateTime<Utc>) -> Result<u64> {
    let done = on_db!(db, |pool| sqlx::query("DELETE FROM sessions WHERE expires_at <= $1 OR last_seen_at <= $2")
        .bind(now)
        .bind(now - policy.idle_timeout)
        .execute(pool)
        .await.map(|r| r.rows_affected()))?;
    Ok(done)
}

pub async fn count_for_user(db: &Db, user_id: i64) -> Result<i64> {
    Ok(on_db!(db, |pool| sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM sessions WHERE user_id = $1")
        .bind(user_id)
        .fetch_one(pool)
        .await)?)
}

/// Admins only; everybody else gets `Forbidden`.
pub fn require_admin(caller: &SessionUser) -> Result<()> {
    if caller.is_admin() {
        Ok(())
    } else {
        Err(Error::Forbidden)
    }
}
