//! The client portal: workspace cards with their KPIs, the stages, the board, a lead's page and notes.

use serde::{Deserialize, Serialize};

/// A workspace as its portal shows it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct WorkspaceCard {
    pub slug: String,
    pub name: String,
    pub active: bool,
    pub monthly_lead_target: i64,
    /// `admin`, `client` or `viewer`: what the caller may do here.
    pub access: String,
    /// This month's headline numbers (active workspaces).
    pub kpi: Option<PortalKpi>,
}

/// Interested leads this month against the target, and the pacing behind the status colour.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PortalKpi {
    pub target: i64,
    pub mtd: i64,
    pub expected_by_today: f64,
    pub pacing: Option<f64>,
    pub projection: f64,
    pub percent_of_target: Option<f64>,
    /// `on_track`, `at_risk`, `behind` or `no_target`.
    pub status: String,
}

/// The pipeline stages, in board order, with what the page calls them.
pub const STAGES: &[(&str, &str)] = &[
    ("new", "New"),
    ("contacted", "Contacted"),
    ("follow_up", "Follow-up"),
    ("meeting_booked", "Meeting booked"),
    ("quote_sent", "Quote sent"),
    ("won", "Won"),
    ("lost", "Lost"),
];

pub fn stage_label(stage: &str) -> &'static str {
    STAGES.iter().find(|(k, _)| *k == stage).map_or("?", |(_, l)| l)
}

/// A lead's card on the board.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LeadCard {
    pub id: i64,
    /// The person's name, or the email when no name is known.
    pub name: String,
    pub email: String,
    pub company: Option<String>,
    /// Agency day it arrived (`YYYY-MM-DD`).
    pub received_on: Option<String>,
    /// The start of the interested reply.
    pub snippet: Option<String>,
    pub stage: String,
    pub deal_value_cents: Option<i64>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BoardColumn {
    pub stage: String,
    /// Leads in this stage that match the filters (the column shows the newest `per_column`).
    pub total: i64,
    /// Σ deal value, for `won`.
    pub value_cents: i64,
    pub cards: Vec<LeadCard>,
}

/// One workspace's portal page: header, KPIs, the board and the filter choices.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PortalBoard {
    pub workspace: WorkspaceCard,
    pub can_write: bool,
    pub columns: Vec<BoardColumn>,
    pub per_column: i64,
    pub campaigns: Vec<(i64, String)>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NoteView {
    pub id: i64,
    pub author: String,
    pub body: String,
    pub created_at: String,
    /// Set when the note was edited after it was written.
    pub edited_at: Option<String>,
    /// The caller may edit it (its author, or an admin).
    pub editable: bool,
}

/// A step of a lead's history: (from, to, who, note, when).
pub type HistoryStep = (Option<String>, String, Option<String>, Option<String>, String);

/// A lead's own page.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LeadView {
    pub workspace_slug: String,
    pub workspace_name: String,
    pub can_write: bool,
    pub id: i64,
    pub name: String,
    pub email: String,
    pub company: Option<String>,
    pub title: Option<String>,
    pub phone: Option<String>,
    pub campaign: Option<String>,
    pub reply_text: Option<String>,
    pub received_at: Option<String>,
    pub stage: String,
    pub deal_value_cents: Option<i64>,
    pub lost_reason: Option<String>,
    pub notes: Vec<NoteView>,
    pub history: Vec<HistoryStep>,
}
