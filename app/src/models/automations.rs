//! The Automations page: runs of PT1–PT5 with their steps and log, each workspace's settings, and
//! the sites' sign-ins (user names only: passwords never leave the server).

use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AutomationRunView {
    pub id: i64,
    pub workspace_slug: String,
    pub workspace_name: String,
    pub first_step: String,
    pub last_step: String,
    pub dry_run: bool,
    pub status: String,
    pub trigger: String,
    pub current_step: Option<String>,
    pub error: Option<String>,
    pub created_at: String,
    pub started_at: Option<String>,
    pub finished_at: Option<String>,
    /// Seconds from start to finish (or to now while it runs).
    pub seconds: Option<i64>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AutomationStepView {
    pub id: i64,
    pub step: String,
    pub label: String,
    pub attempt: i64,
    pub status: String,
    pub started_at: String,
    pub seconds: Option<i64>,
    pub records_in: Option<i64>,
    pub records_out: Option<i64>,
    pub error: Option<String>,
    pub failed_action: Option<String>,
    pub page_url: Option<String>,
    pub has_html: bool,
    pub has_screenshot: bool,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AutomationLogLine {
    pub id: i64,
    pub at: String,
    pub level: String,
    pub message: String,
}

/// One run opened on the page.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AutomationRunDetail {
    pub run: AutomationRunView,
    pub steps: Vec<AutomationStepView>,
    pub log: Vec<AutomationLogLine>,
    /// The workspace's newest event when the page was made (the live stream resumes after it).
    pub last_event_id: i64,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AutomationSettingsView {
    pub enabled: bool,
    pub cole_state: String,
    pub pull_cron: String,
    pub upload_cron: String,
    pub lookback_days: i64,
    pub supplemental_max: i64,
    pub clay_table: String,
    pub rename_pattern: String,
    pub step_timeout_secs: i64,
    /// Who imports run as (the admin who saved the settings last), if anyone.
    pub run_as: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SiteCredentialView {
    pub id: i64,
    pub site: String,
    pub site_label: String,
    pub region: String,
    pub username: String,
    pub updated_at: String,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AutomationsPage {
    /// Every active workspace (slug, name), for the filters and "Run now".
    pub workspaces: Vec<(String, String)>,
    /// (value, label) of each step, in order.
    pub steps: Vec<(String, String)>,
    pub runs: Vec<AutomationRunView>,
    /// The workspace whose settings are shown (the filter's, else the first).
    pub settings_slug: String,
    pub settings_name: String,
    pub settings: AutomationSettingsView,
    pub credentials: Vec<SiteCredentialView>,
    pub detail: Option<AutomationRunDetail>,
}
