//! Slack notifications through incoming webhooks: one URL per workspace and one for the agency
//! (both sealed at rest). Messages go into an outbox (`slack_messages`) and a sender loop posts
//! them, oldest first per channel and at most one a second per channel (`slack_hooks`, shared by
//! every process). A 429 pauses that channel for its `Retry-After` without using up an attempt;
//! 5xx and timeouts are retried with backoff up to `MAX_ATTEMPTS`; Slack's permanent refusals (bad
//! payload, revoked or archived channel) fail at once. Failed messages are listed for the admin,
//! who can retry them. Whoever queues a message never waits for Slack and never fails because of it.

use std::time::Duration;

use base64::Engine;
use chrono::{DateTime, Utc};

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

/// Slack takes about one message per second per webhook: after each answer its hook waits this long.
pub const HOOK_INTERVAL: Duration = Duration::from_secs(1);
/// How long a sender holds a hook while it posts (longer than the HTTP timeout): one that dies
/// mid-post frees its hook after this, and the message is posted again.
const HOOK_LEASE: Duration = Duration::from_secs(60);

fn chrono_of(d: Duration) -> chrono::Duration {
    chrono::Duration::from_std(d).unwrap_or(chrono::Duration::hours(1))
}

/// Hooks with pending messages (0: the agency's channel, otherwise the workspace id) and when each
/// may post next (`None`: it never posted).
async fn hooks_waiting(db: &Db) -> Result<Vec<(i64, Option<DateTime<Utc>>)>> {
    Ok(on_db!(db, |pool| sqlx::query_as(
        "SELECT DISTINCT COALESCE(m.workspace_id, 0) AS hook, h.next_post_at FROM slack_messages m \
         LEFT JOIN slack_hooks h ON h.hook = COALESCE(m.workspace_id, 0) WHERE m.status = 'pending'"
    )
    .fetch_all(pool)
    .await)?)
}

/// When a hook with pending messages may post next (the sender sleeps until then).
pub async fn next_due(db: &Db) -> Result<Option<DateTime<Utc>>> {
    let now = Utc::now();
    Ok(hooks_waiting(db).await?.into_iter().map(|(_, next)| next.unwrap_or(now)).min())
}

/// Posts the oldest pending message of every hook that may post now — one per hook, hooks side by
/// side, so a paused or slow channel never holds up the others. Returns how many were sent.
pub async fn send_due(db: &Db, secrets: &SecretBox, http: &reqwest::Client, backoff_base: Duration) -> Result<usize> {
    let now = Utc::now();
    let due = hooks_waiting(db).await?.into_iter().filter(|(_, next)| next.is_none_or(|t| t <= now)).map(|(hook, _)| hook);
    let mut sent = 0;
    for posted in futures_util::future::join_all(due.map(|hook| post_next(db, secrets, http, hook, backoff_base))).await {
        sent += usize::from(posted?);
    }
    Ok(sent)
}

/// Claims `hook` if it may post now and posts its oldest pending message; `true` when Slack took it.
async fn post_next(db: &Db, secrets: &SecretBox, http: &reqwest::Client, hook: i64, backoff_base: Duration) -> Result<bool> {
    let now = Utc::now();
    // Compare-and-set: only the sender that moves a due `next_post_at` forward posts, so two
    // processes never post to one hook at once, nor faster than it allows.
    let claimed = on_db!(db, |pool| sqlx::query(
        "INSERT INTO slack_hooks (hook, next_post_at) VALUES ($1, $2) \
         ON CONFLICT (hook) DO UPDATE SET next_post_at = excluded.next_post_at WHERE slack_hooks.next_post_at <= $3"
    )
    .bind(hook)
    .bind(now + chrono_of(HOOK_LEASE))
    .bind(now)
    .execute(pool)
    .await
    .map(|r| r.rows_affected()))?;
    if claimed == 0 {
        return Ok(false);
    }
    let head: Option<(i64, String, i64)> = on_db!(db, |pool| sqlx::query_as(
        "SELECT id, text, attempts FROM slack_messages WHERE status = 'pending' AND COALESCE(workspace_id, 0) = $1 ORDER BY id LIMIT 1"
    )
    .bind(hook)
    .fetch_optional(pool)
    .await)?;
    let Some((id, text, attempts)) = head else {
        set_hook_next(db, hook, now).await?;
        return Ok(false);
    };
    let ws = (hook != 0).then_some(hook);
    let (outcome, posted) = match url_for(db, secrets, ws).await {
        Ok(Some(url)) => (post(http, &url, &text).await, true),
        Ok(None) => (Posted::Refused("the channel has no webhook URL any more".into()), false),
        Err(e) => (Posted::Refused(format!("the webhook URL cannot be read: {e}")), false),
    };
    // Paced from the answer, so Slack never sees two posts to a hook closer than the interval.
    let answered = Utc::now();
    let paced = if posted { answered + chrono_of(HOOK_INTERVAL) } else { answered };
    let (status, attempts, error, hook_next) = match outcome {
        Posted::Ok => ("sent", attempts + 1, None, paced),
        Posted::Refused(e) => ("failed", attempts + 1, Some(e), paced),
        // Slack's pause is the hook's, not the message's: every message to it waits, and no
        // attempt is used up.
        Posted::RetryAfter(wait) => {
            let wait = wait.max(HOOK_INTERVAL);
            ("pending", attempts, Some(format!("Slack asked to wait {} s (rate limit)", wait.as_secs_f64().ceil())), answered + chrono_of(wait))
        }
        Posted::Retry(e) if attempts + 1 >= MAX_ATTEMPTS => ("failed", attempts + 1, Some(format!("gave up after {} attempts: {e}", attempts + 1)), paced),
        // The oldest message stays first (order per channel is kept); the hook backs off.
        Posted::Retry(e) => {
            let wait = (backoff_base * 2u32.pow(attempts as u32)).max(if posted { HOOK_INTERVAL } else { Duration::ZERO });
            ("pending", attempts + 1, Some(e), answered + chrono_of(wait))
        }
    };
    if let Some(e) = &error {
        tracing::warn!(message = id, hook, attempts, error = %e, "Slack message not posted");
    }
    on_db!(db, |pool| async {
        let mut tx = pool.begin().await?;
        sqlx::query(
            "UPDATE slack_messages SET status = $1, attempts = $2, next_attempt_at = $3, last_error = $4, \
             sent_at = CASE WHEN $1 = 'sent' THEN $5 ELSE sent_at END, failed_at = CASE WHEN $1 = 'failed' THEN $5 ELSE NULL END WHERE id = $6"
        )
        .bind(status)
        .bind(attempts)
        .bind(hook_next)
        .bind(&error)
        .bind(answered)
        .bind(id)
        .execute(&mut *tx)
        .await?;
        sqlx::query("UPDATE slack_hooks SET next_post_at = $1 WHERE hook = $2").bind(hook_next).bind(hook).execute(&mut *tx).await?;
        tx.commit().await
    }
    .await)?;
    Ok(status == "sent")
}

async fn set_hook_next(db: &Db, hook: i64, at: DateTime<Utc>) -> Result<()> {
    on_db!(db, |pool| sqlx::query("UPDATE slack_hooks SET next_post_at = $1 WHERE hook = $2").bind(at).bind(hook).execute(pool).await.map(|_| ()))?;
    Ok(())
}

/// Posts due messages until the process ends: again as soon as a hook may post (at least every
/// `every`, for messages queued meanwhile).
pub async fn run_sender(db: Db, secrets: SecretBox, every: Duration) {
    let http = reqwest::Client::builder().timeout(Duration::from_secs(10)).build().expect("HTTP client");
    loop {
        if let Err(e) = send_due(&db, &secrets, &http, Duration::from_secs(5)).await {
            tracing::warn!(error = %e, "Slack sender failed; retrying");
        }
        let wait = match next_due(&db).await {
            Ok(Some(at)) => (at - Utc::now()).to_std().unwrap_or_default().clamp(Duration::from_millis(20), every),
            _ => every,
        };
        tokio::time::sleep(wait).await;
    }
}

/// A Slack message that was given up, for the admin's list. The target is named, never its URL.
#[derive(Clone, Debug, PartialEq, sqlx::FromRow)]
pub struct FailedMessage {
    pub id: i64,
    /// `None`: the agency's channel.
    pub workspace_id: Option<i64>,
    pub workspace_name: Option<String>,
    pub text: String,
    pub attempts: i64,
    pub error: Option<String>,
    pub failed_at: Option<DateTime<Utc>>,
}

/// Given-up Slack messages, newest first.
pub async fn failed_messages(db: &Db, caller: &SessionUser, limit: i64) -> Result<Vec<FailedMessage>> {
    require_admin(caller)?;
    Ok(on_db!(db, |pool| sqlx::query_as::<_, FailedMessage>(
        "SELECT m.id, m.workspace_id, w.name AS workspace_name, m.text, m.attempts, m.last_error AS error, m.failed_at \
         FROM slack_messages m LEFT JOIN workspaces w ON w.id = m.workspace_id WHERE m.status = 'failed' ORDER BY m.id DESC LIMIT $1"
    )
    .bind(limit)
    .fetch_all(pool)
    .await)?)
}

/// How many Slack messages were given up (the admin home's alert).
pub async fn failed_count(db: &Db) -> Result<i64> {
    Ok(on_db!(db, |pool| sqlx::query_scalar("SELECT COUNT(*) FROM slack_messages WHERE status = 'failed'").fetch_one(pool).await)?)
}

/// Puts a given-up message back in its channel's queue, with fresh attempts (the sender posts it
/// in its turn — the oldest first). One that is not failed is `NotFound`.
pub async fn retry_message(db: &Db, caller: &SessionUser, message_id: i64, client: &ClientInfo) -> Result<()> {
    require_admin(caller)?;
    let n = on_db!(db, |pool| sqlx::query(
        "UPDATE slack_messages SET status = 'pending', attempts = 0, last_error = NULL, failed_at = NULL, next_attempt_at = $1 \
         WHERE id = $2 AND status = 'failed'"
    )
    .bind(Utc::now())
    .bind(message_id)
    .execute(pool)
    .await
    .map(|r| r.rows_affected()))?;
    if n == 0 {
        return Err(Error::NotFound);
    }
    audit::record(db, Some(caller), None, "slack.message_retried", Some(&format!("slack_message:{message_id}")), client.ip.as_deref()).await
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
