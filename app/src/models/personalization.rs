//! AI personalization: the hub, campaigns, runs and their leads.

use serde::{Deserialize, Serialize};

/// The personalization hub: campaigns the caller may see, what they saved, and whether AI is set up.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PersonalizationHub {
    pub campaigns: Vec<PersonalizationCampaignRow>,
    /// Workspaces a campaign can be created in: (slug, name).
    pub workspaces: Vec<(String, String)>,
    pub ai_ready: bool,
    pub models: (String, String),
    /// (who, personalized leads, hours saved, money saved)
    pub by_workspace: Vec<(String, i64, f64, f64)>,
    pub by_user: Vec<(String, i64, f64, f64)>,
    pub hourly_rate: f64,
    /// Admins only: (slug, name, clients may use personalization).
    pub client_access: Vec<(String, String, bool)>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PersonalizationCampaignRow {
    pub id: i64,
    pub name: String,
    pub workspace_name: String,
    pub leads: i64,
    pub personalized: i64,
    pub failed: i64,
    pub created_at: String,
}

/// One campaign's page: its runs, the chosen run's leads (a page of them), and what may be done.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PersonalizationCampaignPage {
    pub id: i64,
    pub name: String,
    pub workspace_slug: String,
    pub workspace_name: String,
    pub offer: String,
    pub can_write: bool,
    pub ai_ready: bool,
    pub max_upload_mb: usize,
    pub runs: Vec<PersonalizationRunView>,
    pub run: Option<i64>,
    pub leads: Vec<PersonalizationLeadView>,
    pub leads_total: i64,
    pub offset: i64,
    /// The workspace's newest event when the page was made (its live stream resumes after it).
    pub last_event_id: i64,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PersonalizationRunView {
    pub id: i64,
    pub file_name: String,
    pub writer: String,
    pub status: String,
    pub created_at: String,
    pub rows_total: i64,
    pub rejected: i64,
    pub skipped: i64,
    pub total: i64,
    pub done: i64,
    pub failed: i64,
    pub error: Option<String>,
    pub has_rejected_file: bool,
    pub cancel_requested: bool,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PersonalizationLeadView {
    pub id: i64,
    pub line_no: i64,
    pub email: String,
    pub name: String,
    pub company: String,
    pub status: String,
    pub writer: Option<String>,
    pub research: Option<String>,
    pub line: Option<String>,
    pub error: Option<String>,
    /// What the lead's AI calls cost (`$0.0131`, or with "+ N calls of unknown cost"); `None`
    /// when it had none.
    pub ai_cost: Option<String>,
}

/// Why an upload of leads was refused, by the code the host sends the page back with
/// (`?error=too_big`): a link can carry a code, never words of its own.
pub const UPLOAD_REFUSALS: &[(&str, &str)] = &[
    ("too_big", "The file is larger than this server accepts; split it into smaller files."),
    ("unreadable", "The upload could not be read; try again."),
    ("one_file", "Send one file at a time."),
    ("no_file", "Choose a CSV file of leads to upload."),
    ("writer", "Choose who writes the lines: AI or the template writer."),
    ("ai_keys", "AI writing is not set up on this server yet; choose the template writer (not AI)."),
];

/// The words for a refusal code; `None` for a code we never send.
pub fn upload_refusal(code: &str) -> Option<&'static str> {
    UPLOAD_REFUSALS.iter().find(|(c, _)| *c == code).map(|(_, words)| *words)
}
