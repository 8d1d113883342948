//! Slack notifications as the admin sees them: messages that were given up.

use serde::{Deserialize, Serialize};

/// A Slack message given up (refused by Slack, or too many failed attempts). The target is the
/// channel's owner by name; the webhook URL is never sent.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FailedSlackRow {
    pub id: i64,
    /// "Agency channel", or the workspace's name.
    pub target: String,
    /// The message's start (at most 120 characters).
    pub preview: String,
    pub attempts: i64,
    pub error: String,
    /// RFC 3339; empty when unknown.
    pub failed_at: String,
}
