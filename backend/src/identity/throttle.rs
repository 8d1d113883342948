//! Throttling of failed logins, per account and per client IP, kept in the database so that
//! every host counts the same attempts.

use chrono::{DateTime, Utc};

pub use crate::platform::config::ThrottlePolicy;

use crate::{
    platform::db::Db,
    platform::error::{Error, Result},
    on_db,
};

/// What is being counted: sign-in attempts, or password-reset requests (same table, their keys
/// prefixed `reset:` so neither kind uses up the other's allowance).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    SignIn,
    Reset,
}

fn too_many(kind: Kind, what: &str, oldest: Option<DateTime<Utc>>, policy: &ThrottlePolicy, now: DateTime<Utc>) -> Error {
    let free_at = oldest.map(|o| o + policy.window).unwrap_or(now + policy.window);
    let secs = (free_at - now).num_seconds().max(1) as u64;
    let minutes = secs.div_ceil(60);
    let plural = if minutes == 1 { "" } else { "s" };
    Error::TooManyAttempts {
        message: match kind {
            Kind::SignIn => format!(
                "Too many failed sign-in attempts {what}. Try again in {minutes} minute{plural}, or ask an admin to reset your password."
            ),
            Kind::Reset => format!("Too many password-reset requests {what}. Try again in {minutes} minute{plural}, or ask an admin."),
        },
        retry_after_secs: secs,
    }
}

/// An attempt counted before its password is verified (see [`begin_attempt`]).
#[derive(Debug)]
#[must_use = "settle the attempt: succeeded() forgives it, failed() keeps it counted"]
pub struct Attempt {
    rows: Vec<i64>,
    email: String,
}

/// Counts a sign-in (or password) attempt *before* the slow password check, then refuses it when
/// the account or the IP is over its limit. The attempt is written first and the count includes
/// it, so N parallel wrong passwords cannot all pass a check made before any of them was
/// recorded: an attempt goes ahead only when fewer than the limit others are recorded.
pub async fn begin_attempt(db: &Db, email: &str, ip: Option<&str>, policy: &ThrottlePolicy, now: DateTime<Utc>) -> Result<Attempt> {
    begin(db, Kind::SignIn, email, ip, policy, now).await
}

/// Counts a password-reset request for `email` (whether or not it is an account, so the limit
/// says nothing about which addresses exist) and from `ip`; refuses it over the limit. A request
/// stays counted (it is not a guess that a right answer forgives).
pub async fn count_reset_request(db: &Db, email: &str, ip: Option<&str>, policy: &ThrottlePolicy, now: DateTime<Utc>) -> Result<()> {
    begin(db, Kind::Reset, email, ip, policy, now).await.map(Attempt::failed)
}

async fn begin(db: &Db, kind: Kind, email: &str, ip: Option<&str>, policy: &ThrottlePolicy, now: DateTime<Utc>) -> Result<Attempt> {
    let since = now - policy.window;
    let mut attempt = Attempt { rows: Vec::new(), email: email.to_owned() };
    let prefix = if kind == Kind::Reset { "reset:" } else { "" };
    for (scope, key, limit, what) in [
        ("account", Some(email), policy.max_failures_per_account, "for this account"),
        ("ip", ip, policy.max_failures_per_ip, "from your network address"),
    ] {
        let Some(key) = key.map(|k| format!("{prefix}{k}")) else { continue };
        let id: i64 = on_db!(db, |pool| sqlx::query_scalar("INSERT INTO login_failures (scope, key, at) VALUES ($1, $2, $3) RETURNING id")
            .bind(scope)
            .bind(&key)
            .bind(now)
            .fetch_one(pool)
            .await)?;
        attempt.rows.push(id);
        // Every other attempt recorded in the window, including ones that started after this
        // one: of any two concurrent attempts the one that counts last sees the other, so no
        // more than `limit` go ahead (however the database orders ids and commits).
        let (before, oldest): (i64, Option<DateTime<Utc>>) = on_db!(db, |pool| sqlx::query_as(
            "SELECT COUNT(*), MIN(at) FROM login_failures WHERE scope = $1 AND key = $2 AND at > $3 AND id <> $4"
        )
        .bind(scope)
        .bind(&key)
        .bind(since)
        .bind(id)
        .fetch_one(pool)
        .await)?;
        if before >= limit {
            // A refused attempt is not a guess: it does not extend the lock.
            forget(db, &attempt.rows).await?;
            return Err(too_many(kind, what, oldest, policy, now));
        }
    }
    Ok(attempt)
}

impl Attempt {
    /// The password was right: the account's failures are forgiven (the IP's earlier ones stay
    /// counted) and this attempt is not one.
    pub async fn succeeded(self, db: &Db) -> Result<()> {
        forget(db, &self.rows).await?;
        clear_account(db, &self.email).await
    }

    /// The password was wrong: the attempt stays counted.
    pub fn failed(self) {}

    /// Neither (e.g. a disabled account): the attempt is not counted.
    pub async fn withdrawn(self, db: &Db) -> Result<()> {
        forget(db, &self.rows).await
    }
}

async fn forget(db: &Db, rows: &[i64]) -> Result<()> {
    for id in rows {
        on_db!(db, |pool| sqlx::query("DELETE FROM login_failures WHERE id = $1").bind(id).execute(pool).await.map(|r| r.rows_affected()))?;
    }
    Ok(())
}

/// Records a failed attempt after the fact (demo data and tests; sign-ins use [`begin_attempt`]).
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

/// Deletes sign-in failures older than the sign-in window and reset requests older than theirs.
pub async fn prune(db: &Db, sign_in: &ThrottlePolicy, reset: &ThrottlePolicy, now: DateTime<Utc>) -> Result<u64> {
    let mut done = 0;
    for (sql, policy) in [
        ("DELETE FROM login_failures WHERE at <= $1 AND key NOT LIKE 'reset:%'", sign_in),
        ("DELETE FROM login_failures WHERE at <= $1 AND key LIKE 'reset:%'", reset),
    ] {
        done += on_db!(db, |pool| sqlx::query(sql).bind(now - policy.window).execute(pool).await.map(|r| r.rows_affected()))?;
    }
    Ok(done)
}
