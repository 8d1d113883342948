//! Slack notifications through incoming webhooks: one URL per workspace and one for the agency
//! (both sealed at rest). Messages go into an outbox (`slack_messages`) and a sender loop posts
//! them, retrying 429 (after `Retry-After`), 5xx and timeouts with backoff; Slack's permanent
//! refusals (bad payload, revoked or archived channel) fail at once. Whoever queues a message never
//! waits for Slack and never fails because of it.

use std::time::Duration;

use base64::Engine;
use chrono::Utc;

use crate::{
    connectors::slack::{post, Posted},
    platform::crypto::SecretBox,
    platform::db::Db,
    platform::error::{Error, Result},
    leads::InterestedReply,
    on_db, tenancy::settings,
};
use crate::{
    identity::{audit, auth::ClientInfo, sessions::SessionUser},
    tenancy::access::require_admin,
};

/// Settings key of the agency-wide webhook URL (sealed, base64).
pub const AGENCY_WEBHOOK: &str = "slack_webhook_agency";
/// Attempts before a message is given up.
pub const MAX_ATTEMPTS: i64 = 6;

fn check_url(url: &str) -> Result<String> {
    let url = url.trim();
    if !(url.starts_with("https://") || url.starts_with("http://")) {
        return Err(Error::invalid("A Slack webhook URL starts with https:// (e.g. https://hooks.slack.com/services/…)."));
    }
    Ok(url.to_owned())
}

fn hint(url: &str) -> String {
    let tail: String = url.chars().rev().take(4).collect::<Vec<_>>().into_iter().rev().collect();
    format!("••••{tail}")
}

/// Stores (or with `None` removes) a workspace's webhook URL.
pub async fn set_workspace_url(db: &Db, secrets: &SecretBox, workspace_id: i64, url: Option<&str>) -> Result<()> {
    let (sealed, shown) = match url.map(str::trim).filter(|u| !u.is_empty()) {
        Some(u) => {
            let u = check_url(u)?;
            (Some(secrets.seal(u.as_bytes())), Some(hint(&u)))
        }
        None => (None, None),
    };
    let n = on_db!(db, |pool| sqlx::query("UPDATE workspaces SET slack_webhook_enc = $1, slack_webhook_hint = $2, updated_at = $3 WHERE id = $4")
        .bind(sealed)
        .bind(shown)
        .bind(Utc::now())
        .bind(workspace_id)
        .execute(pool)
        .await
        .map(|r| r.rows_affected()))?;
    if n == 0 {
        return Err(Error::NotFound);
    }
    Ok(())
}

/// Stores (or removes) the agency-wide webhook URL.
pub async fn set_agency_url(db: &Db, secrets: &SecretBox, url: Option<&str>) -> Result<()> {
    match url.map(str::trim).filter(|u| !u.is_empty()) {
        Some(u) => {
            let u = check_url(u)?;
            let sealed = base64::engine::general_purpose::STANDARD.encode(secrets.seal(u.as_bytes()));
            settings::set(db, AGENCY_WEBHOOK, &sealed).await
        }
        None => {
            on_db!(db, |pool| sqlx::query("DELETE FROM settings WHERE key = $1").bind(AGENCY_WEBHOOK).execute(pool).await.map(|r| r.rows_affected()))?;
            Ok(())
        }
    }
}

async fn url_for(db: &Db, secrets: &SecretBox, workspace_id: Option<i64>) -> Result<Option<String>> {
    let sealed: Option<Vec<u8>> = match workspace_id {
        Some(ws) => on_db!(db, |pool| sqlx::query_scalar::<_, Option<Vec<u8>>>("SELECT slack_webhook_enc FROM workspaces WHERE id = $1")
            .bind(ws)
            .fetch_optional(pool)
            .await)?
        .flatten(),
        None => match settings::get(db, AGENCY_WEBHOOK).await? {
            Some(b64) => Some(base64::engine::general_purpose::STANDARD.decode(b64).map_err(|e| Error::Internal(format!("agency Slack URL: {e}")))?),
            None => None,
        },
    };
    sealed.map(|s| secrets.open(&s).map(|b| String::from_utf8_lossy(&b).into_owned())).transpose()
}

/// Queues a message for the workspace's channel (`Some`) or the agency's (`None`); nothing is
/// queued when that channel has no webhook.
pub async fn enqueue(db: &Db, workspace_id: Option<i64>, text: &str) -> Result<()> {
    let configured = match workspace_id {
        Some(ws) => on_db!(db, |pool| sqlx::query_scalar::<_, bool>("SELECT slack_webhook_enc IS NOT NULL FROM workspaces WHERE id = $1")
            .bind(ws)
            .fetch_optional(pool)
            .await)?
        .unwrap_or(false),
        None => settings::get(db, AGENCY_WEBHOOK).await?.is_some(),
    };
    if !configured {
        return Ok(());
    }
    let now = Utc::now();
    on_db!(db, |pool| sqlx::query(
        "INSERT INTO slack_messages (workspace_id, text, status, attempts, next_attempt_at, created_at) VALUES ($1, $2, 'pending', 0, $3, $3)"
    )
    .bind(workspace_id)
    .bind(text)
    .bind(now)
    .execute(pool)
    .await
    .map(|r| r.rows_affected()))?;
    Ok(())
}

/// Slack's mrkdwn needs `&`, `<` and `>` escaped.
fn escape(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;")
}

/// "New interested lead" for the workspace's channel and the agency's.
pub async fn new_interested_lead(db: &Db, workspace_id: i64, reply: &InterestedReply) -> Result<()> {
    let ws_name: String = on_db!(db, |pool| sqlx::query_scalar("SELECT name FROM workspaces WHERE id = $1").bind(workspace_id).fetch_one(pool).await)?;
    let who = [reply.first_name.as_deref(), reply.last_name.as_deref()].into_iter().flatten().collect::<Vec<_>>().join(" ");
    let who = if who.is_empty() { reply.email.clone() } else { format!("{who} <{}>", reply.email) };
    let company = reply.company.as_deref().map(|c| format!(" at {c}")).unwrap_or_default();
    let snippet: String = reply.reply_text.as_deref().unwrap_or("").split_whitespace().collect::<Vec<_>>().join(" ").chars().take(200).collect();
    let text = format!("*New interested lead* for {}: {}{}\n> {}", escape(&ws_name), escape(&who), escape(&company), escape(&snippet));
    enqueue(db, Some(workspace_id), &text).await?;
    enqueue(db, None, &text).await
}

/// Posts every due message once; returns how many were sent.
pub async fn send_due(db: &Db, secrets: &SecretBox, http: &reqwest::Client, backoff_base: Duration) -> Result<usize> {
    let now = Utc::now();
    let due: Vec<(i64, Option<i64>, String, i64)> = on_db!(db, |pool| sqlx::query_as(
        "SELECT id, workspace_id, text, attempts FROM slack_messages WHERE status = 'pending' AND next_attempt_at <= $1 ORDER BY id LIMIT 50"
    )
    .bind(now)
    .fetch_all(pool)
    .await)?;
    let mut sent = 0;
    for (id, ws, text, attempts) in due {
        // Claim it, so two hosts never post the same message.
        let claimed = on_db!(db, |pool| sqlx::query("UPDATE slack_messages SET status = 'sending', next_attempt_at = $1 WHERE id = $2 AND status = 'pending'")
            .bind(now)
            .bind(id)
            .execute(pool)
            .await
            .map(|r| r.rows_affected()))?;
        if claimed == 0 {
            continue;
        }
        let outcome = match url_for(db, secrets, ws).await {
            Ok(Some(url)) => post(http, &url, &text).await,
            Ok(None) => Posted::Refused("the channel has no webhook URL any more".into()),
            Err(e) => Posted::Refused(format!("the webhook URL cannot be read: {e}")),
        };
        let attempts = attempts + 1;
        let (status, next, error) = match outcome {
            Posted::Ok => ("sent", now, None),
            Posted::Refused(e) => ("failed", now, Some(e)),
            Posted::RetryAfter(_) | Posted::Retry(_) if attempts >= MAX_ATTEMPTS => ("failed", now, Some(format!("gave up after {attempts} attempts"))),
            Posted::RetryAfter(wait) => ("pending", now + chrono::Duration::from_std(wait).unwrap_or_default(), Some("rate limited by Slack".into())),
            Posted::Retry(e) => {
                let wait = backoff_base * 2u32.pow(attempts as u32 - 1);
                ("pending", now + chrono::Duration::from_std(wait).unwrap_or_default(), Some(e))
            }
        };
        if status == "sent" {
            sent += 1;
        } else if let Some(e) = &error {
            tracing::warn!(message = id, attempts, error = %e, "Slack message not posted");
        }
        on_db!(db, |pool| sqlx::query(
            "UPDATE slack_messages SET status = $1, attempts = $2, next_attempt_at = $3, last_error = $4, \
             sent_at = CASE WHEN $1 = 'sent' THEN $5 ELSE sent_at END WHERE id = $6"
        )
        .bind(status)
        .bind(attempts)
        .bind(next)
        .bind(&error)
        .bind(Utc::now())
        .bind(id)
        .execute(pool)
        .await
        .map(|r| r.rows_affected()))?;
    }
    Ok(sent)
}

/// Posts due messages every `every`, until the process ends.
pub async fn run_sender(db: Db, secrets: SecretBox, every: Duration) {
    let http = reqwest::Client::builder().timeout(Duration::from_secs(10)).build().expect("HTTP client");
    loop {
        // A message left `sending` by a process that died (claimed over 2 minutes ago) goes back.
        let stale = Utc::now() - chrono::Duration::minutes(2);
        let _ = on_db!(&db, |pool| sqlx::query("UPDATE slack_messages SET status = 'pending' WHERE status = 'sending' AND next_attempt_at < $1")
            .bind(stale)
            .execute(pool)
            .await
            .map(|r| r.rows_affected()));
        if let Err(e) = send_due(&db, &secrets, &http, Duration::from_secs(5)).await {
            tracing::warn!(error = %e, "Slack sender failed; retrying");
        }
        tokio::time::sleep(every).await;
    }
}

/// Sets or removes a workspace's Slack webhook (`workspace_id`), or the agency's (`None`).
pub async fn set_webhook(
    db: &Db,
    secrets: &SecretBox,
    caller: &SessionUser,
    workspace_id: Option<i64>,
    url: Option<&str>,
    client: &ClientInfo,
) -> Result<()> {
    require_admin(caller)?;
    match workspace_id {
        Some(ws) => set_workspace_url(db, secrets, ws, url).await?,
        None => set_agency_url(db, secrets, url).await?,
    }
    let target = workspace_id.map_or("agency".to_owned(), |ws| format!("workspace:{ws}"));
    audit::record(db, Some(caller), None, "slack.webhook_set", Some(&target), client.ip.as_deref()).await
}
