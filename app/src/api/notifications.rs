//! Slack notifications: where a workspace's (or the agency's) messages go.

use leptos::prelude::*;

use crate::error::AppError;

/// Sets the Slack incoming-webhook URL of a workspace, or of the agency without `workspace_id`;
/// `remove` clears it. The URL is stored encrypted and never sent back.
#[server(endpoint = "admin/slack_webhook")]
pub async fn set_slack_webhook(workspace_id: Option<i64>, url: String, remove: Option<String>) -> Result<(), AppError> {
    let (state, caller) = super::ctx::admin()?;
    let url = if remove.is_some() {
        None
    } else if url.trim().is_empty() {
        return Err(AppError::invalid("Paste the Slack incoming-webhook URL (https://hooks.slack.com/services/…)."));
    } else {
        Some(url)
    };
    backend::notifications::set_webhook(&state.db, &state.secrets, &caller, workspace_id, url.as_deref(), &super::ctx::client_info()).await?;
    Ok(())
}

/// Slack messages that were given up, newest first (at most 50).
#[server(endpoint = "admin/slack_failed")]
pub async fn failed_slack_messages() -> Result<Vec<crate::models::FailedSlackRow>, AppError> {
    let (state, caller) = super::ctx::admin()?;
    let rows = backend::notifications::failed_messages(&state.db, &caller, 50).await?;
    Ok(rows
        .into_iter()
        .map(|m| crate::models::FailedSlackRow {
            id: m.id,
            target: match m.workspace_id {
                None => "Agency channel".into(),
                Some(id) => m.workspace_name.unwrap_or_else(|| format!("Workspace {id}")),
            },
            preview: m.text.chars().take(120).collect(),
            attempts: m.attempts,
            error: m.error.unwrap_or_default(),
            failed_at: m.failed_at.map(super::ctx::ts).unwrap_or_default(),
        })
        .collect())
}

/// Puts a given-up Slack message back in its channel's queue (audited).
#[server(endpoint = "admin/slack_retry")]
pub async fn retry_slack_message(message_id: i64) -> Result<(), AppError> {
    let (state, caller) = super::ctx::admin()?;
    backend::notifications::retry_message(&state.db, &caller, message_id, &super::ctx::client_info()).await?;
    Ok(())
}
