//! Sending activity per workspace and agency day (sent, contacted, replies, bounced…), as the
//! Email Bison sync reports it. Upserts are idempotent: writing a day twice leaves one row.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::{platform::db::Db, platform::error::Result, on_db};

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, sqlx::FromRow)]
pub struct DayCounts {
    pub sent: i64,
    pub contacted: i64,
    pub replies: i64,
    pub interested: i64,
    pub bounced: i64,
    pub unsubscribed: i64,
}

pub async fn upsert(db: &Db, workspace_id: i64, day: NaiveDate, c: &DayCounts) -> Result<()> {
    on_db!(db, |pool| sqlx::query(
        "INSERT INTO daily_metrics (workspace_id, day, sent, contacted, replies, interested, bounced, unsubscribed) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8) \
         ON CONFLICT (workspace_id, day) DO UPDATE SET sent = excluded.sent, contacted = excluded.contacted, \
         replies = excluded.replies, interested = excluded.interested, bounced = excluded.bounced, unsubscribed = excluded.unsubscribed"
    )
    .bind(workspace_id)
    .bind(day)
    .bind(c.sent)
    .bind(c.contacted)
    .bind(c.replies)
    .bind(c.interested)
    .bind(c.bounced)
    .bind(c.unsubscribed)
    .execute(pool)
    .await
    .map(|r| r.rows_affected()))?;
    Ok(())
}

/// Totals per workspace over `[from, to]`. (PostgreSQL sums BIGINT as NUMERIC: cast back.)
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, sqlx::FromRow)]
pub struct Totals {
    pub workspace_id: i64,
    pub sent: i64,
    pub contacted: i64,
    pub replies: i64,
    pub bounced: i64,
}

pub async fn totals(db: &Db, from: NaiveDate, to: NaiveDate) -> Result<Vec<Totals>> {
    Ok(on_db!(db, |pool| sqlx::query_as::<_, Totals>(
        "SELECT workspace_id, CAST(SUM(sent) AS BIGINT) AS sent, CAST(SUM(contacted) AS BIGINT) AS contacted, \
                CAST(SUM(replies) AS BIGINT) AS replies, CAST(SUM(bounced) AS BIGINT) AS bounced \
         FROM daily_metrics WHERE day >= $1 AND day <= $2 GROUP BY workspace_id"
    )
    .bind(from)
    .bind(to)
    .fetch_all(pool)
    .await)?)
}

/// Emails sent per workspace and day in `[from, to]`.
pub async fn sent_by_day(db: &Db, from: NaiveDate, to: NaiveDate) -> Result<Vec<(i64, NaiveDate, i64)>> {
    Ok(on_db!(db, |pool| sqlx::query_as::<_, (i64, NaiveDate, i64)>(
        "SELECT workspace_id, day, sent FROM daily_metrics WHERE day >= $1 AND day <= $2 ORDER BY workspace_id, day"
    )
    .bind(from)
    .bind(to)
    .fetch_all(pool)
    .await)?)
}

/// Sending capacity per workspace: Σ daily limit of its connected senders, and how many there are.
pub async fn sending_capacity(db: &Db) -> Result<Vec<(i64, i64, i64)>> {
    Ok(on_db!(db, |pool| sqlx::query_as::<_, (i64, i64, i64)>(
        "SELECT workspace_id, CAST(SUM(daily_limit) AS BIGINT), COUNT(*) FROM sender_accounts \
         WHERE status = 'connected' GROUP BY workspace_id"
    )
    .fetch_all(pool)
    .await)?)
}
