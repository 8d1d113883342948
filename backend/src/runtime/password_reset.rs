//! Password-reset mail. Identity issues the link (`identity::reset`) but may not import
//! connectors (backend/tests/layers.rs), and the mailer lives in `connectors::mail` so the inbox
//! can reuse it; this is the one place allowed to use both, so the sending is here.

use chrono::Utc;

use crate::{
    connectors::mail::Mailer,
    identity::{auth::ClientInfo, reset, sessions::SessionUser},
    platform::error::{Error, Result},
    AppState,
};

/// How a link reached its user.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Delivery {
    Mailed,
    /// No SMTP configured: the link is in the server log.
    Logged,
}

/// A signed-out visitor asks for a link. Only the throttle runs before the answer (it counts
/// any address alike); finding the account, writing the link and mailing it happen in the
/// background, so the answer and its timing are the same whether or not the address exists.
pub async fn request_link(app: &AppState, email: &str, client: &ClientInfo) -> Result<()> {
    let now = Utc::now();
    let email = reset::count_request(&app.db, email, client, &app.config.reset_throttle, now).await?;
    let (app, client) = (app.clone(), client.clone());
    tokio::spawn(async move {
        match reset::issue_for_email(&app.db, &email, &client, now).await {
            Ok(Some(link)) => {
                if let Err(e) = deliver(&app, &link, false).await {
                    tracing::error!(user_id = link.user_id, error = %e, "could not mail a password-reset link");
                }
            }
            Ok(None) => {}
            Err(e) => tracing::error!(error = %e, "could not issue a password-reset link"),
        }
    });
    Ok(())
}

/// An admin sends a user a set-password link (instead of typing a password for them).
pub async fn send_admin_link(app: &AppState, caller: &SessionUser, user_id: i64, client: &ClientInfo) -> Result<Delivery> {
    let link = reset::issue_by_admin(&app.db, caller, user_id, client, Utc::now()).await?;
    deliver(app, &link, true).await
}

/// The full URL of a link: MAVERICK_PUBLIC_URL (required with SMTP, see `Config::from_env`), or
/// only the path when it is not set (then the log says to prefix the server's address).
pub fn link_url(app: &AppState, token: &str) -> String {
    format!("{}{}", app.config.public_url.as_deref().unwrap_or(""), reset::link_path(token))
}

async fn deliver(app: &AppState, link: &reset::IssuedLink, by_admin: bool) -> Result<Delivery> {
    let url = link_url(app, &link.token);
    // Built per mail (resets are rare): the settings were checked at start-up.
    let mailer = Mailer::from_settings(&app.config.mail).map_err(|e| Error::Internal(e.to_string()))?;
    let Some(mailer) = mailer else {
        // No SMTP: the operator reads the link from the log and passes it on (issue 19).
        tracing::info!(
            user_id = link.user_id,
            email = %link.email,
            link = %url,
            "PASSWORD RESET LINK (MAVERICK_SMTP_URL is not set, so it is logged instead of mailed; valid 30 minutes, once)"
        );
        return Ok(Delivery::Logged);
    };
    let minutes = reset::LINK_LIFETIME.num_minutes();
    let (subject, intro) = if by_admin {
        ("Set your Maverick password", format!("an admin of your agency invites you to set the password of your account {}.", link.email))
    } else {
        ("Reset your Maverick password", format!("someone (hopefully you) asked to reset the password of your account {}.", link.email))
    };
    let body = format!(
        "Hello {},\n\n{intro}\n\nOpen this link within {minutes} minutes to choose a new password:\n\n{url}\n\n\
         The link works once. If you did not ask for it, ignore this mail: your password stays as it is.\n",
        link.display_name
    );
    mailer.send_text(&link.email, subject, body).await.map_err(|e| Error::Conflict(format!("The link could not be mailed: {e}")))?;
    tracing::info!(user_id = link.user_id, "password-reset link mailed");
    Ok(Delivery::Mailed)
}
