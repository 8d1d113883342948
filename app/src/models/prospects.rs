//! Prospects (issue 15): counts per layer, the merge log, the review queue side by side, masters.

use serde::{Deserialize, Serialize};

/// One person of a review pair, as loaded and cleaned.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProspectPersonView {
    pub id: i64,
    pub full_name: String,
    pub emails: Vec<String>,
    pub phones: Vec<String>,
    pub team_id: Option<String>,
}

/// A pair the resolver scored 70 or less, waiting for a person's decision.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReviewPairView {
    pub id: i64,
    /// The rule that matched (`fuzzy_name`, `name_team`, …).
    pub rule: String,
    pub confidence: i64,
    pub a: ProspectPersonView,
    pub b: ProspectPersonView,
}

/// One master record (one real person).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MasterView {
    pub id: i64,
    pub full_name: String,
    pub emails: Vec<String>,
    pub phones: Vec<String>,
    pub team_id: Option<String>,
    pub persons: i64,
    pub confidence: i64,
    pub needs_review: bool,
}

/// One resolver run of the merge log.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProspectRunView {
    pub id: i64,
    pub status: String,
    pub processed: i64,
    pub merged: i64,
    pub flagged: i64,
    pub error: Option<String>,
}

/// Where the resolver run going (or the newest one) is, for the progress bar.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProspectRunProgress {
    pub id: i64,
    /// queued, running, succeeded, failed.
    pub status: String,
    /// reading, resolving, writing, saving while it runs.
    pub phase: Option<String>,
    pub done: i64,
    pub total: i64,
    pub error: Option<String>,
}

impl ProspectRunProgress {
    pub fn active(&self) -> bool {
        self.status == "queued" || self.status == "running"
    }
}

/// The Prospects page.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ProspectsPage {
    pub raw_rows: i64,
    pub rejected_rows: i64,
    pub persons: i64,
    pub masters: i64,
    pub masters_needing_review: i64,
    pub open_review_pairs: i64,
    pub duplicate_rate: f64,
    pub runs: Vec<ProspectRunView>,
    /// The run going, else the newest.
    pub progress: Option<ProspectRunProgress>,
    pub review: Vec<ReviewPairView>,
    /// The first masters (most persons first); `masters` is the total.
    pub master_rows: Vec<MasterView>,
    /// Workspaces masters can be sent to: (slug, name).
    pub workspaces: Vec<(String, String)>,
    pub max_upload_mb: usize,
}

/// What "Send to contacts" did.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SendToContactsView {
    pub workspace_name: String,
    pub masters: usize,
    pub created: usize,
    pub duplicates: usize,
    pub rejected: usize,
    /// The workspace's contacts after sending.
    pub contacts_total: i64,
}
