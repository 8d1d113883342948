//! The job workers of one process: every domain's registration, the heartbeat for /readyz, and
//! the loops that claim stored work (webhook deliveries, the Slack outbox, lapsed runs).

use std::{future::Future, time::Duration};

use crate::{
    platform::{
        error::{Error, Result},
        heartbeat,
        jobs::Workers,
    },
    AppState,
};

/// Every domain that has jobs, in one list: adding a domain's jobs is one line here.
const REGISTRATIONS: &[fn(Workers) -> Result<Workers>] = &[
    crate::identity::maintenance::register_jobs,
    crate::platform::backup::register_jobs,
    crate::bison::jobs::register_jobs,
    crate::contacts::jobs::register_jobs,
    crate::personalization::engine::register_jobs,
    crate::automations::jobs::register_jobs,
    crate::prospects::jobs::register_jobs,
];

/// Loops that claim stored work by compare-and-set, so any number of processes can run them:
/// pending webhook deliveries (at start-up, then every few seconds), outbound event deliveries,
/// runs whose lease lapsed,
/// the Slack outbox, and upload files no record points to. `serve` and `worker` both start them.
pub fn spawn_claim_loops(state: &AppState) {
    tokio::spawn(crate::bison::webhook::run_sweeper(state.db.clone(), Duration::from_secs(5)));
    let lease = state.config.personalization.lease;
    tokio::spawn(crate::personalization::engine::run_sweeper(state.db.clone(), lease, Duration::from_secs(5)));
    tokio::spawn(crate::notifications::run_sender(state.db.clone(), state.secrets.clone(), Duration::from_secs(2)));
    let integrations = std::sync::Arc::new(state.config.integrations.clone());
    tokio::spawn(crate::eventbus::dispatch::run(state.db.clone(), state.secrets.clone(), integrations, Duration::from_millis(200)));
    tokio::spawn(crate::automations::jobs::run_sweeper(state.db.clone(), Duration::from_secs(10)));
    tokio::spawn(super::uploads::run_sweeper(state.db.clone(), state.config.data_dir.clone(), Duration::from_secs(3600)));
}

fn worker_suffix() -> String {
    let host = std::env::var("HOSTNAME").unwrap_or_else(|_| "host".into());
    let unique = uuid::Uuid::new_v4().simple().to_string();
    format!("{host}-{}-{}", std::process::id(), &unique[..8])
}

/// Runs the workers and the heartbeat until `shutdown` resolves.
pub async fn run_until_shutdown(state: AppState, shutdown: impl Future<Output = ()> + Send) -> Result<()> {
    run_with_poll(state, shutdown, Duration::from_secs(1)).await
}

/// Same, with the queue polled every `poll` (tests use a short one).
pub async fn run_with_poll(state: AppState, shutdown: impl Future<Output = ()> + Send, poll: Duration) -> Result<()> {
    let suffix = worker_suffix();
    let mut workers = Workers::new(&state, &suffix, poll);
    for register in REGISTRATIONS {
        workers = register(workers)?;
    }
    let monitor = workers.monitor.shutdown_timeout(Duration::from_secs(10));
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let started = chrono::Utc::now();
    let host = std::env::var("HOSTNAME").unwrap_or_else(|_| "host".into());

    let beat = {
        let (db, suffix, mut stop) = (state.db.clone(), suffix.clone(), stop_rx.clone());
        async move {
            loop {
                if let Err(e) = heartbeat::beat(&db, &suffix, &host, started, chrono::Utc::now()).await {
                    tracing::warn!(error = %e, "worker heartbeat failed");
                }
                tokio::select! {
                    _ = tokio::time::sleep(Duration::from_secs(heartbeat::INTERVAL_SECS)) => {}
                    _ = stop.wait_for(|s| *s) => break,
                }
            }
        }
    };
    let mut stop = stop_rx.clone();
    let run = monitor.run_with_signal(async move {
        let _ = stop.wait_for(|s| *s).await;
        Ok(())
    });
    let trigger = async move {
        shutdown.await;
        let _ = stop_tx.send(true);
    };
    tracing::info!(worker = %suffix, "job workers started");
    let ((), result, ()) = tokio::join!(beat, run, trigger);
    heartbeat::remove(&state.db, &suffix, chrono::Utc::now()).await?;
    // No Chromium outlives the worker.
    crate::automations::engine::shutdown_browser().await;
    result.map_err(|e| Error::Internal(format!("job workers stopped with an error: {e}")))
}
