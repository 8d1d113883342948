//! Worker heartbeats: each process that runs jobs writes one row every few seconds, so /readyz
//! (on any host) can tell whether somebody is working the queue.

use chrono::{DateTime, Utc};

use crate::{platform::db::Db, platform::error::Result, on_db};

pub const INTERVAL_SECS: u64 = 10;
/// A worker silent for longer than this is considered gone.
pub const STALE_AFTER_SECS: i64 = 60;

pub async fn beat(db: &Db, worker_id: &str, hostname: &str, started_at: DateTime<Utc>, now: DateTime<Utc>) -> Result<()> {
    on_db!(db, |pool| sqlx::query(
        "INSERT INTO worker_heartbeats (worker_id, hostname, started_at, seen_at) VALUES ($1, $2, $3, $4) \
         ON CONFLICT (worker_id) DO UPDATE SET seen_at = excluded.seen_at"
    )
    .bind(worker_id)
    .bind(hostname)
    .bind(started_at)
    .bind(now)
    .execute(pool)
    .await
    .map(|r| r.rows_affected()))?;
    Ok(())
}

/// Workers seen within the stale window.
pub async fn alive(db: &Db, now: DateTime<Utc>) -> Result<i64> {
    Ok(on_db!(db, |pool| sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM worker_heartbeats WHERE seen_at > $1")
        .bind(now - chrono::Duration::seconds(STALE_AFTER_SECS))
        .fetch_one(pool)
        .await)?)
}

/// Forgets a worker (clean shutdown) and rows of workers long gone.
pub async fn remove(db: &Db, worker_id: &str, now: DateTime<Utc>) -> Result<()> {
    on_db!(db, |pool| sqlx::query("DELETE FROM worker_heartbeats WHERE worker_id = $1 OR seen_at < $2")
        .bind(worker_id)
        .bind(now - chrono::Duration::days(1))
        .execute(pool)
        .await
        .map(|r| r.rows_affected()))?;
    Ok(())
}
