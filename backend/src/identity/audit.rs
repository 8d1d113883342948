//! The audit trail: who did what to which target, from where, when.

use chrono::{DateTime, Utc};

use crate::{platform::db::Db, platform::error::Result, on_db, identity::sessions::SessionUser};

#[derive(Clone, Debug, sqlx::FromRow)]
pub struct AuditEntry {
    pub id: i64,
    pub actor_user_id: Option<i64>,
    pub actor_email: Option<String>,
    pub action: String,
    pub target: Option<String>,
    pub ip: Option<String>,
    pub at: DateTime<Utc>,
}

/// Records an action. `actor` is `None` for the system (CLI, jobs) or an anonymous attempt, in
/// which case `actor_email` may still name the account that was tried.
/// The insert, for callers that audit inside their own transaction (bind: actor user id, actor
/// email, action, target, ip, time).
pub const INSERT: &str = "INSERT INTO audit_log (actor_user_id, actor_email, action, target, ip, at) VALUES ($1, $2, $3, $4, $5, $6)";

pub async fn record(
    db: &Db,
    actor: Option<&SessionUser>,
    actor_email: Option<&str>,
    action: &str,
    target: Option<&str>,
    ip: Option<&str>,
) -> Result<()> {
    let email = actor.map(|a| a.email.as_str()).or(actor_email);
    on_db!(db, |pool| sqlx::query(INSERT)
    .bind(actor.map(|a| a.user_id))
    .bind(email)
    .bind(action)
    .bind(target)
    .bind(ip)
    .bind(Utc::now())
    .execute(pool)
    .await.map(|r| r.rows_affected()))?;
    Ok(())
}

pub async fn recent(db: &Db, limit: i64) -> Result<Vec<AuditEntry>> {
    Ok(on_db!(db, |pool| sqlx::query_as::<_, AuditEntry>(
        "SELECT id, actor_user_id, actor_email, action, target, ip, at FROM audit_log ORDER BY at DESC, id DESC LIMIT $1"
    )
    .bind(limit)
    .fetch_all(pool)
    .await)?)
}

/// Deletes entries older than `before`; returns how many.
pub async fn prune_before(db: &Db, before: DateTime<Utc>) -> Result<u64> {
    let done = on_db!(db, |pool| sqlx::query("DELETE FROM audit_log WHERE at < $1").bind(before).execute(pool).await.map(|r| r.rows_affected()))?;
    Ok(done)
}
