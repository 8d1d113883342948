//! Housekeeping run nightly by the job queue: expired sessions, old login failures, audit rows
//! past the retention period, and workspace events older than a week (boards only replay the
//! last few minutes to a reconnecting browser).

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

use crate::{audit, config::Config, db::Db, error::Result, events, sessions, throttle};

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PruneReport {
    pub sessions: u64,
    pub login_failures: u64,
    pub audit_rows: u64,
    pub events: u64,
}

pub async fn prune(db: &Db, config: &Config, now: DateTime<Utc>) -> Result<PruneReport> {
    Ok(PruneReport {
        sessions: sessions::prune_expired(db, &config.sessions, now).await?,
        login_failures: throttle::prune(db, &config.throttle, now).await?,
        audit_rows: audit::prune_before(db, now - Duration::days(config.audit_retention_days)).await?,
        events: events::prune(db, now - Duration::days(7)).await?,
    })
}
