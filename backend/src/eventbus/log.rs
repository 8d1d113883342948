//! What was sent where: deliveries per endpoint with their attempts (the dead-letter list is the
//! failed ones), replay of one delivery, "recover every failed delivery since T", and the public
//! events of a workspace after a cursor (polling, for tools that cannot receive webhooks).

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::endpoints::{self, Owner};
use crate::{
    on_db,
    platform::{
        db::Db,
        error::{Error, Result},
        event_catalog::{self, EventEnvelope},
    },
    tenancy::access::WorkspaceScope,
};

#[derive(Clone, Debug, PartialEq, Serialize, sqlx::FromRow)]
pub struct Delivery {
    pub id: i64,
    pub endpoint_id: i64,
    pub event_id: Option<i64>,
    pub event_type: String,
    pub message_id: String,
    /// `pending`, `delivered` or `failed`.
    pub status: String,
    pub attempts: i64,
    pub next_attempt_at: DateTime<Utc>,
    pub last_status_code: Option<i64>,
    pub last_error: Option<String>,
    pub trace_id: Option<String>,
    pub created_at: DateTime<Utc>,
    pub finished_at: Option<DateTime<Utc>>,
}

#[derive(Clone, Debug, PartialEq, Serialize, sqlx::FromRow)]
pub struct Attempt {
    pub id: i64,
    pub delivery_id: i64,
    pub at: DateTime<Utc>,
    pub status_code: Option<i64>,
    pub latency_ms: i64,
    pub response_excerpt: String,
    pub error: Option<String>,
}

/// Which deliveries to list: all filters optional; `before` pages back by id.
#[derive(Clone, Debug, Default)]
pub struct DeliveryFilter {
    pub status: Option<String>,
    pub event_type: Option<String>,
    pub since: Option<DateTime<Utc>>,
    pub before_id: Option<i64>,
    pub limit: i64,
}

const DELIVERY_COLUMNS: &str =
    "id, endpoint_id, event_id, event_type, message_id, status, attempts, next_attempt_at, last_status_code, last_error, trace_id, created_at, finished_at";

/// An endpoint's deliveries, newest first.
pub async fn deliveries(db: &Db, owner: &Owner, endpoint_id: i64, f: &DeliveryFilter) -> Result<Vec<Delivery>> {
    let e = endpoints::get(db, owner, endpoint_id).await?;
    if let Some(s) = &f.status {
        if !["pending", "delivered", "failed"].contains(&s.as_str()) {
            return Err(Error::invalid(format!("Unknown status {s:?}: use pending, delivered or failed.")));
        }
    }
    let sql = format!(
        "SELECT {DELIVERY_COLUMNS} FROM event_deliveries WHERE endpoint_id = $1 AND ($2 IS NULL OR status = $2) AND ($3 IS NULL OR event_type = $3) \
         AND ($4 IS NULL OR created_at >= $4) AND ($5 IS NULL OR id < $5) ORDER BY id DESC LIMIT $6"
    );
    Ok(on_db!(db, |pool| sqlx::query_as::<_, Delivery>(sqlx::AssertSqlSafe(sql.as_str()))
        .bind(e.id)
        .bind(&f.status)
        .bind(&f.event_type)
        .bind(f.since)
        .bind(f.before_id)
        .bind(f.limit.clamp(1, 500))
        .fetch_all(pool)
        .await)?)
}

/// One delivery of the owner's, with its attempts (oldest first).
pub async fn delivery(db: &Db, owner: &Owner, delivery_id: i64) -> Result<(Delivery, Vec<Attempt>)> {
    let sql = format!("SELECT {DELIVERY_COLUMNS} FROM event_deliveries WHERE id = $1");
    let d = on_db!(db, |pool| sqlx::query_as::<_, Delivery>(sqlx::AssertSqlSafe(sql.as_str())).bind(delivery_id).fetch_optional(pool).await)?.ok_or(Error::NotFound)?;
    endpoints::get(db, owner, d.endpoint_id).await?;
    let attempts = on_db!(db, |pool| sqlx::query_as::<_, Attempt>(
        "SELECT id, delivery_id, at, status_code, latency_ms, response_excerpt, error FROM event_delivery_attempts WHERE delivery_id = $1 ORDER BY id"
    )
    .bind(d.id)
    .fetch_all(pool)
    .await)?;
    Ok((d, attempts))
}

/// The attempts of deliveries already listed by [`deliveries`] (which checked their endpoint), by
/// delivery, oldest first: one query for a page instead of one per row.
pub async fn attempts_of(db: &Db, deliveries: &[Delivery]) -> Result<std::collections::HashMap<i64, Vec<Attempt>>> {
    let mut by_delivery: std::collections::HashMap<i64, Vec<Attempt>> = deliveries.iter().map(|d| (d.id, Vec::new())).collect();
    if deliveries.is_empty() {
        return Ok(by_delivery);
    }
    let ids: Vec<String> = deliveries.iter().map(|d| d.id.to_string()).collect();
    let sql = format!(
        "SELECT id, delivery_id, at, status_code, latency_ms, response_excerpt, error FROM event_delivery_attempts WHERE delivery_id IN ({}) ORDER BY id",
        ids.join(",")
    );
    let rows = on_db!(db, |pool| sqlx::query_as::<_, Attempt>(sqlx::AssertSqlSafe(sql.as_str())).fetch_all(pool).await)?;
    for a in rows {
        by_delivery.entry(a.delivery_id).or_default().push(a);
    }
    Ok(by_delivery)
}

/// Sends a finished delivery again (same message id, a fresh schedule). A pending one is left
/// as it is.
pub async fn replay(db: &Db, owner: &Owner, delivery_id: i64, now: DateTime<Utc>) -> Result<Delivery> {
    let (d, _) = delivery(db, owner, delivery_id).await?;
    if d.status == "pending" {
        return Err(Error::Conflict("This delivery is still being attempted; it can be replayed once it is delivered or failed.".into()));
    }
    on_db!(db, |pool| sqlx::query(
        "UPDATE event_deliveries SET status = 'pending', attempts = 0, next_attempt_at = $1, finished_at = NULL, claimed_until = NULL \
         WHERE id = $2 AND status <> 'pending'"
    )
    .bind(now)
    .bind(d.id)
    .execute(pool)
    .await
    .map(|r| r.rows_affected()))?;
    Ok(delivery(db, owner, delivery_id).await?.0)
}

/// Sends every failed delivery of an endpoint created since `since` again. Returns how many.
pub async fn recover(db: &Db, owner: &Owner, endpoint_id: i64, since: DateTime<Utc>, now: DateTime<Utc>) -> Result<u64> {
    let e = endpoints::get(db, owner, endpoint_id).await?;
    if !e.enabled {
        return Err(Error::Conflict("Enable the endpoint first: a disabled endpoint is sent nothing.".into()));
    }
    Ok(on_db!(db, |pool| sqlx::query(
        "UPDATE event_deliveries SET status = 'pending', attempts = 0, next_attempt_at = $1, finished_at = NULL, claimed_until = NULL \
         WHERE endpoint_id = $2 AND status = 'failed' AND created_at >= $3"
    )
    .bind(now)
    .bind(e.id)
    .bind(since)
    .execute(pool)
    .await
    .map(|r| r.rows_affected()))?)
}

#[derive(Clone, Debug, sqlx::FromRow)]
struct EventRow {
    id: i64,
    kind: String,
    payload: String,
    at: DateTime<Utc>,
    trace_id: Option<String>,
}

/// A workspace's public events after `after` (an event id), oldest first: the polling feed. Ids
/// only grow, but on PostgreSQL a lower id can commit after a higher one was read; the feed
/// therefore stops short of events younger than `settle` so a poller never skips one.
pub async fn events_after(db: &Db, scope: &WorkspaceScope, slug: &str, after: i64, limit: i64, settle_before: DateTime<Utc>) -> Result<Vec<EventEnvelope>> {
    let kinds: Vec<&str> = event_catalog::catalog().iter().map(|e| e.name).filter(|n| event_catalog::is_public(n)).collect();
    let placeholders: Vec<String> = (0..kinds.len()).map(|i| format!("${}", i + 4)).collect();
    let sql = format!(
        "SELECT id, kind, payload, at, trace_id FROM workspace_events WHERE workspace_id = $1 AND id > $2 AND at < $3 AND kind IN ({}) ORDER BY id LIMIT {}",
        placeholders.join(", "),
        limit.clamp(1, 500)
    );
    let rows: Vec<EventRow> = on_db!(db, |pool| {
        let mut q = sqlx::query_as::<_, EventRow>(sqlx::AssertSqlSafe(sql.as_str())).bind(scope.workspace_id()).bind(after).bind(settle_before);
        for k in &kinds {
            q = q.bind(*k);
        }
        q.fetch_all(pool).await
    })?;
    Ok(rows
        .into_iter()
        .map(|r| {
            let mut data: serde_json::Value = serde_json::from_str(&r.payload).unwrap_or_else(|_| serde_json::json!({}));
            if let serde_json::Value::Object(m) = &mut data {
                m.insert("workspace".into(), serde_json::Value::String(slug.to_owned()));
            }
            EventEnvelope { id: Some(r.id), kind: r.kind, timestamp: r.at, data, trace_id: r.trace_id }
        })
        .collect())
}
