//! Email Bison → us: `POST /webhooks/bison/{token}`. The token (a secret path segment per
//! workspace, rotatable; only its hash is stored) names the workspace. Each delivery is stored
//! durably *before* we answer, then processed: an interested reply puts the lead on the board and
//! queues Slack messages. A repeated delivery of the same reply is recognised by its dedupe key and
//! changes nothing; other event types are stored and ignored; a body that is not JSON or lacks the
//! lead is stored as failed with the reason (and answered 200, so Bison does not retry it for ever).
//! Pending deliveries are picked up again at start-up and by every host's sweep, so a crash between
//! receipt and processing loses nothing.

use std::time::Duration;

use chrono::{DateTime, Utc};
use serde_json::Value;

use crate::{
    platform::crypto,
    platform::db::Db,
    platform::error::{Error, Result},
    leads::{self, InterestedReply, Upserted},
    notifications, on_db, tenancy::settings,
};
use crate::{
    identity::{audit, auth::ClientInfo, sessions::SessionUser},
    tenancy::access::require_admin,
};

/// What the endpoint answers.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Receipt {
    /// Stored; processing follows (the delivery id).
    Accepted(i64),
    /// The same event was delivered before: nothing stored.
    Duplicate,
    /// Stored as failed: the body cannot be used (the reason).
    Rejected(String),
}

/// A new webhook secret for the workspace: the token is returned once (for the URL) and only its
/// hash is kept, so a rotation invalidates the old URL at once.
pub async fn rotate_token(db: &Db, workspace_id: i64) -> Result<String> {
    let token = crypto::random_token();
    let hint: String = token.chars().rev().take(4).collect::<Vec<_>>().into_iter().rev().collect();
    let n = on_db!(db, |pool| sqlx::query("UPDATE workspaces SET bison_webhook_token_hash = $1, bison_webhook_hint = $2, updated_at = $3 WHERE id = $4")
        .bind(crypto::token_hash(&token))
        .bind(&hint)
        .bind(Utc::now())
        .bind(workspace_id)
        .execute(pool)
        .await
        .map(|r| r.rows_affected()))?;
    if n == 0 {
        return Err(Error::NotFound);
    }
    Ok(token)
}

/// The active workspace a webhook token belongs to (looked up by its hash), if any.
pub async fn workspace_for_token(db: &Db, token: &str) -> Result<Option<i64>> {
    if token.len() < 16 || token.len() > 128 {
        return Ok(None);
    }
    Ok(on_db!(db, |pool| sqlx::query_scalar::<_, i64>("SELECT id FROM workspaces WHERE bison_webhook_token_hash = $1 AND active")
        .bind(crypto::token_hash(token))
        .fetch_optional(pool)
        .await)?)
}

/// `LEAD_INTERESTED`, `Lead Interested`, `lead.interested` → `lead_interested`.
pub fn normalize_event_type(raw: &str) -> String {
    raw.trim().chars().map(|c| if c.is_ascii_alphanumeric() { c.to_ascii_lowercase() } else { '_' }).collect()
}

fn id_text(v: &Value) -> Option<String> {
    match v {
        Value::Number(n) => Some(n.to_string()),
        Value::String(s) if !s.trim().is_empty() => Some(s.trim().to_owned()),
        _ => None,
    }
}

/// (event type, dedupe key) of a parsed body.
fn classify(body: &Value) -> (Option<String>, Option<String>) {
    let event_type = body.pointer("/event/type").and_then(Value::as_str).map(normalize_event_type);
    let key = event_type.as_ref().and_then(|t| {
        let data = body.get("data")?;
        let part = |path: &str| data.pointer(path).and_then(id_text);
        part("/reply/id")
            .map(|id| format!("{t}:reply:{id}"))
            .or_else(|| part("/campaign_event/id").map(|id| format!("{t}:campaign_event:{id}")))
            .or_else(|| part("/lead/id").map(|id| format!("{t}:lead:{id}")))
    });
    (event_type, key)
}

/// Stores one delivery. `Ok(None)`: no workspace has this token (answer 404, nothing stored).
pub async fn receive(db: &Db, token: &str, body: &[u8], max_bytes: usize) -> Result<Option<Receipt>> {
    let Some(ws) = workspace_for_token(db, token).await? else { return Ok(None) };
    receive_for(db, ws, body, max_bytes).await.map(Some)
}

/// Stores one delivery for a workspace whose token was already checked
/// ([`workspace_for_token`]; the host does that before reading the body).
pub async fn receive_for(db: &Db, ws: i64, body: &[u8], max_bytes: usize) -> Result<Receipt> {
    let now = Utc::now();
    let text = String::from_utf8_lossy(&body[..body.len().min(max_bytes)]).into_owned();
    let (event_type, dedupe_key, failure) = if body.len() > max_bytes {
        (None, None, Some(format!("the body is over {max_bytes} bytes; at most {max_bytes} are accepted (stored truncated)")))
    } else {
        match serde_json::from_slice::<Value>(body) {
            Err(e) => (None, None, Some(format!("the body is not JSON: {e}"))),
            Ok(v) => {
                let (t, k) = classify(&v);
                let failure = t.is_none().then(|| "the body has no event.type".to_owned());
                (t, k, failure)
            }
        }
    };
    let status = if failure.is_some() { "failed" } else { "pending" };
    let id = on_db!(db, |pool| sqlx::query_scalar::<_, i64>(
        "INSERT INTO webhook_deliveries (source, workspace_id, received_at, event_type, dedupe_key, body, status, error) \
         VALUES ('bison', $1, $2, $3, $4, $5, $6, $7) ON CONFLICT (workspace_id, dedupe_key) DO NOTHING RETURNING id"
    )
    .bind(ws)
    .bind(now)
    .bind(&event_type)
    .bind(&dedupe_key)
    .bind(&text)
    .bind(status)
    .bind(&failure)
    .fetch_optional(pool)
    .await)?;
    Ok(match (id, failure) {
        (None, _) => Receipt::Duplicate,
        (Some(_), Some(reason)) => Receipt::Rejected(reason),
        (Some(id), None) => Receipt::Accepted(id),
    })
}

/// Deliveries processed at once in this process: SQLite has one writer, so a single processor
/// keeps the receivers' inserts (the 2xx) from queueing behind a convoy of processing writes.
static SQLITE_PROCESSING: tokio::sync::Semaphore = tokio::sync::Semaphore::const_new(1);
static POSTGRES_PROCESSING: tokio::sync::Semaphore = tokio::sync::Semaphore::const_new(8);

/// Attempts at a delivery that keeps failing for a reason other than its content (the database,
/// say) before it is given up as `failed` — visible on the client profile, and replayable.
pub const MAX_ATTEMPTS: i64 = 8;

/// Claims and processes one pending delivery; `false` when another process already has it.
pub async fn process(db: &Db, id: i64) -> Result<bool> {
    let gate = match db.backend() {
        crate::platform::db::Backend::Sqlite => &SQLITE_PROCESSING,
        crate::platform::db::Backend::Postgres => &POSTGRES_PROCESSING,
    };
    let _permit = gate.acquire().await.map_err(|e| Error::Internal(format!("webhook processing: {e}")))?;
    let now = Utc::now();
    let claimed: Option<(i64, Option<String>, String, i64)> = on_db!(db, |pool| sqlx::query_as(
        "UPDATE webhook_deliveries SET status = 'processing', claimed_at = $1, attempts = attempts + 1 WHERE id = $2 AND status = 'pending' \
         RETURNING workspace_id, event_type, body, attempts"
    )
    .bind(now)
    .bind(id)
    .fetch_optional(pool)
    .await)?;
    let Some((ws, event_type, body, attempts)) = claimed else { return Ok(false) };
    let outcome = match event_type.as_deref() {
        Some("lead_interested") => handle_interested(db, ws, &body).await.map(|_| "processed"),
        _ => Ok("ignored"),
    };
    let (status, error) = match outcome {
        Ok(s) => (s, None),
        // Bad content will not get better: failed. Anything else (database trouble) is retried.
        Err(Error::Invalid(reason)) => ("failed", Some(reason)),
        Err(e) if attempts >= MAX_ATTEMPTS => {
            tracing::error!(delivery = id, error = %e, attempts, "webhook delivery given up");
            ("failed", Some(format!("gave up after {attempts} attempts: {e}")))
        }
        Err(e) => {
            tracing::warn!(delivery = id, error = %e, "webhook processing failed; it will be retried");
            ("pending", Some(e.to_string()))
        }
    };
    on_db!(db, |pool| sqlx::query("UPDATE webhook_deliveries SET status = $1, error = $2, processed_at = $3 WHERE id = $4")
        .bind(status)
        .bind(&error)
        .bind(Utc::now())
        .bind(id)
        .execute(pool)
        .await
        .map(|r| r.rows_affected()))?;
    Ok(true)
}

fn text_at(v: &Value, path: &str) -> Option<String> {
    v.pointer(path).and_then(Value::as_str).map(str::trim).filter(|s| !s.is_empty()).map(str::to_owned)
}

/// The reply of a `lead_interested` body.
pub fn interested_reply(body: &Value, fallback_time: DateTime<Utc>) -> Result<InterestedReply> {
    let data = body.get("data").ok_or_else(|| Error::invalid("the body has no data"))?;
    let email = text_at(data, "/lead/email")
        .or_else(|| text_at(data, "/reply/from_email_address"))
        .ok_or_else(|| Error::invalid("the body has no data.lead.email"))?;
    let received_at = text_at(data, "/reply/date_received")
        .and_then(|t| DateTime::parse_from_rfc3339(&t).ok().map(|d| d.with_timezone(&Utc)))
        .unwrap_or(fallback_time);
    Ok(InterestedReply {
        email,
        first_name: text_at(data, "/lead/first_name"),
        last_name: text_at(data, "/lead/last_name"),
        company: text_at(data, "/lead/company"),
        title: text_at(data, "/lead/title"),
        bison_lead_id: data.pointer("/lead/id").and_then(id_text),
        bison_campaign_id: data.pointer("/campaign/id").and_then(id_text),
        reply_text: text_at(data, "/reply/text_body").or_else(|| text_at(data, "/reply/html_body")),
        received_at,
    })
}

async fn handle_interested(db: &Db, ws: i64, body: &str) -> Result<()> {
    let v: Value = serde_json::from_str(body).map_err(|e| Error::invalid(format!("the body is not JSON: {e}")))?;
    // The URL's secret names the workspace; a body from another Email Bison workspace than the
    // one saved for this client (a URL pasted into the wrong workspace) is not imported.
    let saved: Option<String> =
        on_db!(db, |pool| sqlx::query_scalar("SELECT bison_workspace_id FROM workspaces WHERE id = $1").bind(ws).fetch_one(pool).await)?;
    if let (Some(saved), Some(sent)) = (saved, v.pointer("/event/workspace_id").and_then(id_text)) {
        if saved.trim() != sent {
            let name = text_at(&v, "/event/workspace_name").map(|n| format!(" ({n})")).unwrap_or_default();
            return Err(Error::invalid(format!(
                "This delivery comes from Email Bison workspace {sent}{name}, not workspace {saved} saved for this client, so it was not imported. \
                 Set this webhook URL in workspace {saved} only."
            )));
        }
    }
    let reply = interested_reply(&v, Utc::now())?;
    let tz = settings::agency_time_zone(db).await?;
    let day = crate::tenancy::settings::agency_today(reply.received_at, tz);
    match leads::upsert_interested(db, ws, &reply, day).await? {
        Upserted::Created(_) | Upserted::BecameInterested(_) => notifications::new_interested_lead(db, ws, &reply).await,
        Upserted::Unchanged(_) => Ok(()),
    }
}

/// A delivery that was given up, as the client profile lists it.
#[derive(Clone, Debug, PartialEq, sqlx::FromRow)]
pub struct FailedDelivery {
    pub id: i64,
    pub received_at: DateTime<Utc>,
    pub event_type: Option<String>,
    pub attempts: i64,
    pub error: Option<String>,
}

/// The workspace's failed deliveries, newest first.
pub async fn failed_deliveries(db: &Db, workspace_id: i64, limit: i64) -> Result<Vec<FailedDelivery>> {
    Ok(on_db!(db, |pool| sqlx::query_as::<_, FailedDelivery>(
        "SELECT id, received_at, event_type, attempts, error FROM webhook_deliveries WHERE workspace_id = $1 AND status = 'failed' \
         ORDER BY id DESC LIMIT $2"
    )
    .bind(workspace_id)
    .bind(limit)
    .fetch_all(pool)
    .await)?)
}

/// Puts a failed delivery of the scoped workspace back in the queue and processes it now.
/// Another workspace's delivery, or one that is not failed, is `NotFound`.
pub async fn replay(db: &Db, scope: &crate::tenancy::access::WriteScope, delivery_id: i64) -> Result<()> {
    let n = on_db!(db, |pool| sqlx::query(
        "UPDATE webhook_deliveries SET status = 'pending', error = NULL, attempts = 0 WHERE id = $1 AND workspace_id = $2 AND status = 'failed'"
    )
    .bind(delivery_id)
    .bind(scope.workspace_id())
    .execute(pool)
    .await
    .map(|r| r.rows_affected()))?;
    if n == 0 {
        return Err(Error::NotFound);
    }
    process(db, delivery_id).await?;
    Ok(())
}

/// Processes every pending delivery (start-up, and each sweep), plus deliveries whose processor
/// died (claimed more than `stale` ago). Returns how many were processed.
pub async fn sweep(db: &Db, stale: Duration) -> Result<usize> {
    let cutoff = Utc::now() - chrono::Duration::from_std(stale).unwrap_or(chrono::Duration::minutes(5));
    on_db!(db, |pool| sqlx::query("UPDATE webhook_deliveries SET status = 'pending' WHERE status = 'processing' AND claimed_at < $1")
        .bind(cutoff)
        .execute(pool)
        .await
        .map(|r| r.rows_affected()))?;
    let ids: Vec<i64> = on_db!(db, |pool| sqlx::query_scalar("SELECT id FROM webhook_deliveries WHERE status = 'pending' ORDER BY id LIMIT 1000")
        .fetch_all(pool)
        .await)?;
    let mut done = 0;
    for id in ids {
        if process(db, id).await? {
            done += 1;
        }
    }
    Ok(done)
}

/// Runs [`sweep`] now and then every `every`, until the process ends.
pub async fn run_sweeper(db: Db, every: Duration) {
    loop {
        match sweep(&db, Duration::from_secs(300)).await {
            Ok(0) => {}
            Ok(n) => tracing::info!(deliveries = n, "pending webhook deliveries processed"),
            Err(e) => tracing::warn!(error = %e, "webhook sweep failed"),
        }
        tokio::time::sleep(every).await;
    }
}

/// A new Email Bison webhook token for the workspace (the old URL stops working); returns it once.
pub async fn rotate(db: &Db, caller: &SessionUser, workspace_id: i64, client: &ClientInfo) -> Result<String> {
    require_admin(caller)?;
    let token = rotate_token(db, workspace_id).await?;
    audit::record(db, Some(caller), None, "workspace.bison_webhook_rotated", Some(&format!("workspace:{workspace_id}")), client.ip.as_deref()).await?;
    Ok(token)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn event_types_and_dedupe_keys() {
        assert_eq!(normalize_event_type("LEAD_INTERESTED"), "lead_interested");
        assert_eq!(normalize_event_type("lead.interested"), "lead_interested");
        let v: Value = serde_json::json!({"event": {"type": "LEAD_INTERESTED"}, "data": {"reply": {"id": 9}, "lead": {"id": "1"}}});
        assert_eq!(classify(&v), (Some("lead_interested".into()), Some("lead_interested:reply:9".into())));
        let v: Value = serde_json::json!({"event": {"type": "EMAIL_SENT"}, "data": {"campaign_event": {"id": 6}, "lead": {"id": 1}}});
        assert_eq!(classify(&v).1.as_deref(), Some("email_sent:campaign_event:6"));
        assert_eq!(classify(&serde_json::json!({"data": {}})), (None, None));
    }

    #[test]
    fn interested_replies_read_the_documented_shape() {
        let v: Value = serde_json::json!({"event": {"type": "LEAD_INTERESTED"}, "data": {
            "reply": {"id": 9, "text_body": "Yes please", "date_received": "2026-11-20T15:04:05Z", "from_email_address": "x@y.test"},
            "lead": {"id": 1, "email": "Pat@Example.com", "first_name": "Pat", "last_name": "Lee", "company": "Acme"},
            "campaign": {"id": 2, "name": "Q4"}}});
        let r = interested_reply(&v, Utc::now()).unwrap();
        assert_eq!(r.email, "Pat@Example.com");
        assert_eq!((r.first_name.as_deref(), r.company.as_deref(), r.reply_text.as_deref()), (Some("Pat"), Some("Acme"), Some("Yes please")));
        assert_eq!(r.bison_campaign_id.as_deref(), Some("2"));
        assert_eq!(r.received_at.to_rfc3339(), "2026-11-20T15:04:05+00:00");
        let missing = serde_json::json!({"event": {"type": "LEAD_INTERESTED"}, "data": {"reply": {"id": 3}}});
        assert!(interested_reply(&missing, Utc::now()).unwrap_err().to_string().contains("data.lead.email"));
    }
}
