//! Throttling of failed logins, per account and per client IP, kept in the database so that
//! every host counts the same attempts.

use chrono::{DateTime, Utc};

pub use crate::platform::config::ThrottlePolicy;

use crate::{
    platform::db::Db,
    platform::error::{Error, Result},
    on_db,
};

async fn failures_since(db: &Db, scope: &str, key: &str, since: DateTime<Utc>) -> Result<(i64, Option<DateTime<Utc>>)> {
    #[derive(sqlx::FromRow)]
    struct Row {
        n: i64,
        oldest: Option<DateTime<Utc>>,
    }
    let row = on_db!(db, |pool| sqlx::query_as::<_, Row>(
        "SELECT COUNT(*) AS n, MIN(at) AS oldest FROM login_failures WHERE scope = $1 AND key = $2 AND at > $3"
    )
    .bind(scope)
    .bind(key)
    .bind(since)
    .fetch_one(pool)
    .await)?;
    Ok((row.n, row.oldest))
}

fn too_many(what: &str, oldest: Option<DateTime<Utc>>, policy: &ThrottlePolicy, now: DateTime<Utc>) -> Error {
    let free_at = oldest.map(|o| o + policy.window).unwrap_or(now + policy.window);
    let secs = (free_at - now).num_seconds().max(1) as u64;
    let minutes = secs.div_ceil(60);
    Error::TooManyAttempts {
        message: format!(
            "Too many failed sign-in attempts {what}. Try again in {minutes} minute{}, or ask an admin to reset your password.",
            if minutes == 1 { "" } else { "s" }
        ),
        retry_after_secs: secs,
    }
}

/// Refuses the attempt when the account or the IP has too many recent failures.
pub async fn check(db: &Db, email: &str, ip: Option<&str>, policy: &ThrottlePolicy, now: DateTime<Utc>) -> Result<()> {
    let since = now - policy.window;
    let (n, oldest) = failures_since(db, "account", email, since).await?;
    if n >= policy.max_failures_per_account {
        return Err(too_many("for this account", oldest, policy, now));
    }
    if let Some(ip) = ip {
        let (n, oldest) = failures_since(db, "ip", ip, since).await?;
        if n >= policy.max_failures_per_ip {
            return Err(too_many("from your network address", oldest, policy, now));
        }
    }
    Ok(())
}

pub async fn record_failure(db: &Db, email: &str, ip: Option<&str>, now: DateTime<Utc>) -> Result<()> {
    for (scope, key) in [("account", Some(email)), ("ip", ip)] {
        if let Some(key) = key {
            on_db!(db, |pool| sqlx::query("INSERT INTO login_failures (scope, key, at) VALUES ($1, $2, $3)")
                .bind(scope)
                .bind(key)
                .bind(now)
                .execute(pool)
                .await.map(|r| r.rows_affected()))?;
        }
    }
    Ok(())
}

/// A successful sign-in forgives the account's earlier failures (the IP's stay counted).
pub async fn clear_account(db: &Db, email: &str) -> Result<()> {
    on_db!(db, |pool| sqlx::query("DELETE FROM login_failures WHERE scope = 'account' AND key = $1")
        .bind(email)
        .execute(pool)
        .await.map(|r| r.rows_affected()))?;
    Ok(())
}

pub async fn prune(db: &Db, policy: &ThrottlePolicy, now: DateTime<Utc>) -> Result<u64> {
    let done = on_db!(db, |pool| sqlx::query("DELETE FROM login_failures WHERE at <= $1")
        .bind(now - policy.window)
        .execute(pool)
        .await.map(|r| r.rows_affected()))?;
    Ok(done)
}
