//! Housekeeping run nightly by the job queue: expired sessions, old login failures, and audit
//! rows past the retention period.

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

use crate::{audit, config::Config, db::Db, error::Result, sessions, throttle};

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PruneReport {
    pub sessions: u64,
    pub login_failures: u64,
    pub audit_rows: u64,
}

pub async fn prune(db: &Db, config: &Config, now: DateTime<Utc>) -> Result<PruneReport> {
    Ok(PruneReport {
        sessions: sessions::prune_expired(db, &config.sessions, now).await?,
        login_failures: throttle::prune(db, &config.throttle, now).await?,
        audit_rows: audit::prune_before(db, now - Duration::days(config.audit_retention_days)).await?,
    })
}
