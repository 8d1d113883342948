//! Webhook endpoints: where a workspace's (or the whole agency's) events are sent. A workspace's
//! endpoints are read and changed with write access to it (admins, clients who may write); the
//! agency's with agency admin rights. Secrets and the static header's value are sealed at rest;
//! the secret is answered once, when made or rotated.

use base64::{engine::general_purpose::STANDARD, Engine};
use chrono::{DateTime, Duration, Utc};
use serde::Serialize;

use super::{guard, signing};
use crate::{
    on_db,
    platform::{
        config::IntegrationSettings,
        crypto::SecretBox,
        db::Db,
        error::{Error, Result},
        event_catalog,
    },
    tenancy::access::{AgencyAdmin, WriteScope},
};

/// Whose endpoints a caller works with — the checked capability every function here takes.
#[derive(Clone, Copy, Debug)]
pub enum Owner {
    Workspace(WriteScope),
    Agency(AgencyAdmin),
}

impl Owner {
    pub fn workspace_id(&self) -> Option<i64> {
        match self {
            Owner::Workspace(s) => Some(s.workspace_id()),
            Owner::Agency(_) => None,
        }
    }
    pub fn user_id(&self) -> i64 {
        match self {
            Owner::Workspace(s) => s.user_id(),
            Owner::Agency(a) => a.user_id(),
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, sqlx::FromRow)]
pub struct Endpoint {
    pub id: i64,
    pub workspace_id: Option<i64>,
    pub url: String,
    pub description: String,
    /// Comma-separated; empty: every type.
    #[serde(skip)]
    pub event_types: String,
    pub enabled: bool,
    pub disabled_reason: Option<String>,
    pub header_name: Option<String>,
    /// Until when the previous secret still signs (after a rotation).
    pub previous_until: Option<DateTime<Utc>>,
    pub failing_since: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl Endpoint {
    /// The event types it wants (empty: all).
    pub fn types(&self) -> Vec<String> {
        split_types(&self.event_types)
    }
    pub fn wants(&self, kind: &str) -> bool {
        self.event_types.is_empty() || self.event_types.split(',').any(|t| t == kind)
    }
}

fn split_types(s: &str) -> Vec<String> {
    s.split(',').map(str::trim).filter(|t| !t.is_empty()).map(str::to_owned).collect()
}

pub(crate) const ENDPOINT_COLUMNS: &str = "id, workspace_id, url, description, event_types, enabled, disabled_reason, header_name, previous_until, failing_since, created_at, updated_at";

/// What a caller sends to make or change an endpoint.
#[derive(Clone, Debug, Default)]
pub struct EndpointInput {
    pub url: String,
    pub description: String,
    /// Catalog names; empty: every type.
    pub event_types: Vec<String>,
    pub enabled: bool,
    /// A static header sent with every delivery (name, value); `None` keeps the current one on
    /// update, `Some(("", _))` removes it.
    pub header: Option<(String, String)>,
}

/// A new endpoint and its secret (shown once).
#[derive(Clone, Debug, Serialize)]
pub struct Created {
    pub endpoint: Endpoint,
    pub secret: String,
}

fn seal(secrets: &SecretBox, value: &str) -> String {
    STANDARD.encode(secrets.seal(value.as_bytes()))
}

pub(crate) fn unseal(secrets: &SecretBox, sealed: &str) -> Result<String> {
    let bytes = STANDARD.decode(sealed).map_err(|_| Error::Internal("a sealed endpoint secret is not base64".into()))?;
    String::from_utf8(secrets.open(&bytes)?).map_err(|_| Error::Internal("a sealed endpoint secret is not text".into()))
}

async fn checked(input: &EndpointInput, settings: &IntegrationSettings) -> Result<(String, String, String)> {
    let url = guard::check_url(&input.url, settings.allow_private).await?;
    let description = input.description.trim();
    if description.chars().count() > 500 {
        return Err(Error::invalid("The description holds at most 500 characters."));
    }
    let mut types: Vec<String> = Vec::new();
    for t in &input.event_types {
        let t = t.trim();
        if t.is_empty() {
            continue;
        }
        if !event_catalog::is_public(t) {
            let known: Vec<&str> = event_catalog::catalog().iter().map(|e| e.name).filter(|n| *n != event_catalog::WEBHOOK_TEST).collect();
            return Err(Error::invalid(format!("Unknown event type {t:?}: use one of {}.", known.join(", "))));
        }
        if !types.iter().any(|x| x == t) {
            types.push(t.to_owned());
        }
    }
    Ok((url, description.to_owned(), types.join(",")))
}

fn checked_header(header: &(String, String)) -> Result<Option<(String, String)>> {
    let (name, value) = (header.0.trim(), header.1.trim());
    if name.is_empty() {
        return Ok(None);
    }
    let reserved = ["host", "content-type", "content-length", "user-agent", "traceparent", "connection", "transfer-encoding"];
    if name.len() > 100 || !name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_') {
        return Err(Error::invalid("A header name has letters, digits, '-' and '_' only (e.g. X-N8N-Auth)."));
    }
    if reserved.contains(&name.to_ascii_lowercase().as_str()) || name.to_ascii_lowercase().starts_with("webhook-") {
        return Err(Error::invalid(format!("{name} is set by Maverick itself; choose another header name.")));
    }
    if value.is_empty() || value.len() > 1000 || value.bytes().any(|b| b.is_ascii_control()) {
        return Err(Error::invalid("Give the header a value of 1 to 1,000 printable characters."));
    }
    Ok(Some((name.to_owned(), value.to_owned())))
}

/// Makes an endpoint; it receives events from now on.
pub async fn create(db: &Db, secrets: &SecretBox, settings: &IntegrationSettings, owner: &Owner, input: &EndpointInput, now: DateTime<Utc>) -> Result<Created> {
    let (url, description, types) = checked(input, settings).await?;
    let header = match &input.header {
        Some(h) => checked_header(h)?,
        None => None,
    };
    let secret = signing::new_secret();
    let sql = format!(
        "INSERT INTO event_endpoints (workspace_id, url, description, event_types, enabled, secret_enc, header_name, header_value_enc, \
         from_event_id, created_by, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, (SELECT COALESCE(MAX(id), 0) FROM workspace_events), $9, $10, $10) RETURNING {ENDPOINT_COLUMNS}"
    );
    let endpoint = on_db!(db, |pool| sqlx::query_as::<_, Endpoint>(sqlx::AssertSqlSafe(sql.as_str()))
        .bind(owner.workspace_id())
        .bind(&url)
        .bind(&description)
        .bind(&types)
        .bind(input.enabled)
        .bind(seal(secrets, &secret))
        .bind(header.as_ref().map(|h| h.0.clone()))
        .bind(header.as_ref().map(|h| seal(secrets, &h.1)))
        .bind(owner.user_id())
        .bind(now)
        .fetch_one(pool)
        .await)?;
    Ok(Created { endpoint, secret })
}

/// The owner's endpoints, newest first.
pub async fn list(db: &Db, owner: &Owner) -> Result<Vec<Endpoint>> {
    let sql = format!("SELECT {ENDPOINT_COLUMNS} FROM event_endpoints WHERE workspace_id IS NOT DISTINCT FROM $1 ORDER BY id DESC");
    let sql = sql.replace("IS NOT DISTINCT FROM $1", match db {
        Db::Sqlite(_) => "IS $1",
        Db::Postgres(_) => "IS NOT DISTINCT FROM $1",
    });
    Ok(on_db!(db, |pool| sqlx::query_as::<_, Endpoint>(sqlx::AssertSqlSafe(sql.as_str())).bind(owner.workspace_id()).fetch_all(pool).await)?)
}

/// One of the owner's endpoints (another owner's is `NotFound`).
pub async fn get(db: &Db, owner: &Owner, id: i64) -> Result<Endpoint> {
    list_one(db, owner, id).await
}

async fn list_one(db: &Db, owner: &Owner, id: i64) -> Result<Endpoint> {
    let sql = format!("SELECT {ENDPOINT_COLUMNS} FROM event_endpoints WHERE id = $1");
    let e = on_db!(db, |pool| sqlx::query_as::<_, Endpoint>(sqlx::AssertSqlSafe(sql.as_str())).bind(id).fetch_optional(pool).await)?.ok_or(Error::NotFound)?;
    if e.workspace_id != owner.workspace_id() {
        return Err(Error::NotFound);
    }
    Ok(e)
}

/// Changes an endpoint's URL, description, types, enabled flag and header. Enabling a disabled
/// endpoint clears its failure clock.
pub async fn update(db: &Db, secrets: &SecretBox, settings: &IntegrationSettings, owner: &Owner, id: i64, input: &EndpointInput, now: DateTime<Utc>) -> Result<Endpoint> {
    let current = list_one(db, owner, id).await?;
    let (url, description, types) = checked(input, settings).await?;
    let (keep_header, header) = match &input.header {
        None => (true, None),
        Some(h) => (false, checked_header(h)?),
    };
    let sql = format!(
        "UPDATE event_endpoints SET url = $1, description = $2, event_types = $3, enabled = $4, \
         disabled_reason = CASE WHEN $4 THEN NULL ELSE COALESCE(disabled_reason, 'Disabled by a user.') END, \
         failing_since = CASE WHEN $4 AND NOT enabled THEN NULL ELSE failing_since END, \
         header_name = CASE WHEN $5 THEN header_name ELSE $6 END, header_value_enc = CASE WHEN $5 THEN header_value_enc ELSE $7 END, \
         updated_at = $8 WHERE id = $9 RETURNING {ENDPOINT_COLUMNS}"
    );
    let updated = on_db!(db, |pool| sqlx::query_as::<_, Endpoint>(sqlx::AssertSqlSafe(sql.as_str()))
        .bind(&url)
        .bind(&description)
        .bind(&types)
        .bind(input.enabled)
        .bind(keep_header)
        .bind(header.as_ref().map(|h| h.0.clone()))
        .bind(header.as_ref().map(|h| seal(secrets, &h.1)))
        .bind(now)
        .bind(current.id)
        .fetch_one(pool)
        .await)?;
    if current.enabled && !updated.enabled {
        // A disabled endpoint is sent nothing: what was waiting fails (and can be recovered).
        super::dispatch::fail_pending(db, current.id, "The endpoint was disabled.", now).await?;
    }
    Ok(updated)
}

/// Deletes an endpoint and its delivery log.
pub async fn delete(db: &Db, owner: &Owner, id: i64) -> Result<()> {
    let e = list_one(db, owner, id).await?;
    on_db!(db, |pool| sqlx::query("DELETE FROM event_endpoints WHERE id = $1").bind(e.id).execute(pool).await.map(|r| r.rows_affected()))?;
    Ok(())
}

/// A new secret; the old one keeps signing for `overlap` (both signatures are sent), so a
/// receiver can switch without missing a message. Returns the new secret (shown once).
pub async fn rotate_secret(db: &Db, secrets: &SecretBox, owner: &Owner, id: i64, overlap: Duration, now: DateTime<Utc>) -> Result<String> {
    if overlap < Duration::zero() || overlap > Duration::days(7) {
        return Err(Error::invalid("The overlap is 0 to 7 days (the time both secrets sign)."));
    }
    let e = list_one(db, owner, id).await?;
    let secret = signing::new_secret();
    on_db!(db, |pool| sqlx::query(
        "UPDATE event_endpoints SET previous_secret_enc = secret_enc, previous_until = $1, secret_enc = $2, updated_at = $3 WHERE id = $4"
    )
    .bind(now + overlap)
    .bind(seal(secrets, &secret))
    .bind(now)
    .bind(e.id)
    .execute(pool)
    .await
    .map(|r| r.rows_affected()))?;
    Ok(secret)
}

/// Queues a `webhook.test` message to one endpoint (even a disabled one: that is how a user checks
/// a receiver before enabling it). Returns the delivery's id.
pub async fn send_test(db: &Db, owner: &Owner, id: i64, now: DateTime<Utc>) -> Result<i64> {
    let e = list_one(db, owner, id).await?;
    let data = event_catalog::TestData { workspace: String::new(), endpoint_id: e.id, message: "This is a test event from Maverick.".into() };
    let payload = serde_json::to_string(&data).map_err(|e| Error::Internal(e.to_string()))?;
    let delivery: i64 = on_db!(db, |pool| sqlx::query_scalar(
        "INSERT INTO event_deliveries (endpoint_id, event_id, event_type, message_id, payload, status, next_attempt_at, trace_id, created_at) \
         VALUES ($1, NULL, $2, $3, $4, 'pending', $5, $6, $5) RETURNING id"
    )
    .bind(e.id)
    .bind(event_catalog::WEBHOOK_TEST)
    .bind(super::new_message_id())
    .bind(payload)
    .bind(now)
    .bind(crate::platform::trace::current())
    .fetch_one(pool)
    .await)?;
    Ok(delivery)
}
