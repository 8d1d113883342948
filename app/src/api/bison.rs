//! Email Bison: a workspace's webhook URL, and its syncs (queue one now, the latest runs).

use leptos::prelude::*;

use crate::error::AppError;

/// A new Email Bison webhook URL for the workspace (the previous one stops working). The URL is
/// shown this once: only a hash of its secret is kept.
#[server(endpoint = "admin/clients/bison_webhook")]
pub async fn rotate_bison_webhook(workspace_id: i64) -> Result<String, AppError> {
    let (state, caller) = super::ctx::admin()?;
    let token = backend::bison::webhook::rotate(&state.db, &caller, workspace_id, &super::ctx::client_info()).await?;
    let base = state.config.public_url.clone().unwrap_or_default();
    Ok(format!("{base}/webhooks/bison/{token}"))
}

/// Queues an Email Bison sync of the workspace now; the run's progress shows in [`sync_runs`].
#[server(endpoint = "admin/clients/sync_now")]
pub async fn sync_now(workspace_id: i64) -> Result<i64, AppError> {
    let (state, caller) = super::ctx::admin()?;
    let scope = backend::tenancy::access::require_write(&state.db, &caller, workspace_id).await?;
    Ok(backend::bison::request_sync(&state.db, &scope).await?)
}

/// Puts a given-up webhook delivery of the workspace back in the queue and processes it now.
#[server(endpoint = "admin/clients/replay_delivery")]
pub async fn replay_bison_delivery(workspace_id: i64, delivery_id: i64) -> Result<(), AppError> {
    let (state, caller) = super::ctx::admin()?;
    let scope = backend::tenancy::access::require_write(&state.db, &caller, workspace_id).await?;
    Ok(backend::bison::webhook::replay(&state.db, &scope, delivery_id).await?)
}

/// The workspace's latest Email Bison syncs, newest first.
#[server(endpoint = "admin/clients/sync_runs")]
pub async fn sync_runs(workspace_id: i64) -> Result<Vec<crate::models::SyncRunRow>, AppError> {
    let (state, caller) = super::ctx::admin()?;
    backend::tenancy::access::level_in(&state.db, &caller, workspace_id).await?;
    Ok(sync_run_rows(&state.db, workspace_id).await?)
}

#[cfg(feature = "ssr")]
pub(super) async fn sync_run_rows(db: &backend::platform::db::Db, workspace_id: i64) -> backend::Result<Vec<crate::models::SyncRunRow>> {
    let runs = backend::bison::sync::recent_runs(db, workspace_id, 5).await?;
    Ok(runs
        .into_iter()
        .map(|r| {
            let result = r.summary.as_deref().and_then(|s| serde_json::from_str::<backend::bison::sync::SyncSummary>(s).ok()).map(|s| {
                let mut text = format!(
                    "{} campaigns, {} senders, {} interested replies ({} new leads, {} newly interested), {} days of stats",
                    s.campaigns, s.senders, s.replies_seen, s.leads_created, s.leads_marked_interested, s.days
                );
                if !s.newly_critical.is_empty() {
                    text.push_str(&format!("; needs attention: {}", s.newly_critical.join(", ")));
                }
                text
            });
            crate::models::SyncRunRow {
                id: r.id,
                kind: r.kind.to_string(),
                status: r.status.to_string(),
                step: r.step,
                steps: r.steps,
                step_label: r.step_label,
                result,
                error: r.error,
                created_at: super::ctx::ts(r.created_at),
                finished_at: r.finished_at.map(super::ctx::ts),
            }
        })
        .collect())
}
