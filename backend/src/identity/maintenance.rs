//! Housekeeping run nightly by the job queue: expired sessions, old login failures, audit rows
//! past the retention period, and workspace events older than a week (boards only replay the
//! last few minutes to a reconnecting browser).

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

use crate::{identity::audit, platform::config::Config, platform::db::Db, platform::error::Result, platform::events, identity::sessions, identity::throttle};

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PruneReport {
    pub sessions: u64,
    pub login_failures: u64,
    pub audit_rows: u64,
    pub events: u64,
    pub idempotency_keys: u64,
    pub reset_links: u64,
}

pub async fn prune(db: &Db, config: &Config, now: DateTime<Utc>) -> Result<PruneReport> {
    Ok(PruneReport {
        sessions: sessions::prune_expired(db, &config.sessions, now).await?,
        login_failures: throttle::prune(db, &config.throttle, &config.reset_throttle, now).await?,
        audit_rows: audit::prune_before(db, now - Duration::days(config.audit_retention_days)).await?,
        events: events::prune(db, now - config.integrations.event_retention).await?,
        idempotency_keys: crate::platform::idempotency::prune(db, now - config.integrations.idempotency_retention).await?,
        reset_links: crate::identity::reset::prune(db, now).await?,
    })
}

/// The nightly prune as a job.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct PruneJob {}

crate::job_queue!(PruneQueue, PruneJob, "maintenance.prune", 3);

async fn run_prune(_job: PruneJob, state: apalis::prelude::Data<crate::AppState>) -> std::result::Result<PruneReport, apalis::prelude::BoxDynError> {
    let report = prune(&state.db, &state.config, Utc::now()).await?;
    tracing::info!(?report, "maintenance prune done");
    Ok(report)
}

async fn on_prune_tick(tick: apalis_cron::Tick, queue: apalis::prelude::Data<PruneQueue>) -> std::result::Result<(), apalis::prelude::BoxDynError> {
    queue.push(PruneJob {}, Some(format!("prune:{}", tick.get_timestamp()))).await?;
    Ok(())
}

/// The prune worker and its schedule (`MAVERICK_MAINTENANCE_CRON`).
pub fn register_jobs(workers: crate::platform::jobs::Workers) -> Result<crate::platform::jobs::Workers> {
    let schedule = crate::platform::jobs::Workers::schedule("MAVERICK_MAINTENANCE_CRON", &workers.state.config.maintenance_cron)?;
    let queue = PruneQueue::new(&workers.state.db);
    let workers = crate::register_worker!(workers, PruneQueue, "maintenance", 1, run_prune);
    Ok(crate::register_schedule!(workers, "maintenance-cron", schedule, queue, on_prune_tick))
}
