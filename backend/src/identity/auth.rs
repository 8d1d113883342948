//! Sign-in, sign-out and password changes: the flows that tie users, sessions, throttling and the
//! audit trail together.

use chrono::Utc;

use crate::{
    identity::audit,
    platform::db::Db,
    platform::error::{Error, Result},
    identity::password,
    identity::sessions::{self, SessionPolicy, SessionUser},
    identity::throttle::{self, ThrottlePolicy},
    identity::users::{self, normalize_email},
};

/// Where a request comes from, for throttling and the audit trail.
#[derive(Clone, Debug, Default)]
pub struct ClientInfo {
    pub ip: Option<String>,
    pub user_agent: Option<String>,
}

/// Why a sign-in was refused. The login page shows a message per code; the code (not free text)
/// travels in the redirect URL, so nobody can put words on our login page through a link.
#[derive(Debug, thiserror::Error)]
pub enum LoginError {
    #[error("Enter your email and password.")]
    MissingFields,
    #[error("Wrong email or password.")]
    WrongCredentials,
    #[error("This account is disabled. Ask your agency admin to re-enable it.")]
    Disabled,
    #[error("Too many failed sign-in attempts. Try again in {retry_after_minutes} minutes.")]
    Throttled { retry_after_minutes: u64 },
    #[error(transparent)]
    Internal(#[from] Error),
}

impl LoginError {
    pub fn code(&self) -> &'static str {
        match self {
            LoginError::MissingFields => "missing",
            LoginError::WrongCredentials => "credentials",
            LoginError::Disabled => "disabled",
            LoginError::Throttled { .. } => "throttled",
            LoginError::Internal(_) => "internal",
        }
    }
}

/// Checks the credentials and starts a session. Returns the session token for the cookie.
/// Any session the browser already had must be revoked by the caller (session rotation).
pub async fn login(
    db: &Db,
    email: &str,
    password_attempt: &str,
    client: &ClientInfo,
    sessions_policy: &SessionPolicy,
    throttle_policy: &ThrottlePolicy,
) -> Result<(String, users::User), LoginError> {
    if email.trim().is_empty() || password_attempt.is_empty() {
        return Err(LoginError::MissingFields);
    }
    if password_attempt.len() > 1024 || email.len() > 320 {
        return Err(LoginError::WrongCredentials);
    }
    let now = Utc::now();
    // A malformed email can't be an account; throttle on what was typed all the same.
    let email = normalize_email(email).unwrap_or_else(|_| email.trim().to_lowercase());
    let ip = client.ip.as_deref();
    // Counted before the (slow) password check, so parallel guesses can't all pass the limit.
    let attempt = throttle::begin_attempt(db, &email, ip, throttle_policy, now).await.map_err(|e| match e {
        Error::TooManyAttempts { retry_after_secs, .. } => {
            LoginError::Throttled { retry_after_minutes: retry_after_secs.div_ceil(60) }
        }
        other => LoginError::Internal(other),
    })?;

    let found = users::find_for_login(db, &email).await?;
    let hash = found.as_ref().map(|(_, h)| h.as_str()).unwrap_or_else(|| password::dummy_hash());
    let verified = password::verify(password_attempt, hash).await?;
    let user = match found {
        Some((user, _)) if verified => user,
        _ => {
            attempt.failed();
            audit::record(db, None, Some(&email), "login.failed", None, ip).await?;
            return Err(LoginError::WrongCredentials);
        }
    };
    if user.disabled {
        attempt.withdrawn(db).await?;
        audit::record(db, None, Some(&email), "login.refused_disabled", None, ip).await?;
        return Err(LoginError::Disabled);
    }
    attempt.succeeded(db).await?;
    users::touch_last_login(db, user.id, now).await?;
    let token = sessions::create(db, user.id, ip, client.user_agent.as_deref(), sessions_policy, now).await?;
    audit::record(db, None, Some(&email), "login", Some(&format!("user:{}", user.id)), ip).await?;
    Ok((token, user))
}

pub async fn logout(db: &Db, token: &str, who: Option<&SessionUser>, client: &ClientInfo) -> Result<()> {
    sessions::revoke(db, token).await?;
    if let Some(who) = who {
        audit::record(db, Some(who), None, "logout", None, client.ip.as_deref()).await?;
    }
    Ok(())
}

/// Changes the caller's own password; their other sessions end, this one stays. Wrong current
/// passwords count against the account like failed sign-ins, so a stolen session cannot
/// brute-force the password it would need to take the account over.
pub async fn change_own_password(
    db: &Db,
    caller: &SessionUser,
    current: &str,
    new: &str,
    confirm: &str,
    client: &ClientInfo,
    throttle_policy: &ThrottlePolicy,
) -> Result<()> {
    let attempt = throttle::begin_attempt(db, &caller.email, client.ip.as_deref(), throttle_policy, Utc::now()).await?;
    let stored = users::password_hash_of(db, caller.user_id).await?;
    if !password::verify(current, &stored).await? {
        attempt.failed();
        audit::record(db, Some(caller), None, "password.change_failed", None, client.ip.as_deref()).await?;
        return Err(Error::invalid("The current password is wrong."));
    }
    attempt.succeeded(db).await?;
    if new != confirm {
        return Err(Error::invalid("The new password and its confirmation differ."));
    }
    if new == current {
        return Err(Error::invalid("The new password must differ from the current one."));
    }
    users::set_password(db, caller.user_id, new).await?;
    sessions::revoke_all_for_user(db, caller.user_id, Some(caller.session_id)).await?;
    audit::record(db, Some(caller), None, "password.changed", Some(&format!("user:{}", caller.user_id)), client.ip.as_deref())
        .await?;
    Ok(())
}
