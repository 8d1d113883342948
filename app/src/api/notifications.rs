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
