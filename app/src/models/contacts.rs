//! The contact pipeline: uploads, verification counts, weekly batches and their settings.

use serde::{Deserialize, Serialize};

/// One contact upload, as the contact pipeline page shows it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContactUploadView {
    pub id: i64,
    pub file_name: String,
    pub created_at: String,
    pub bytes: i64,
    /// `mapping` (waiting for the admin to confirm the columns), `imported` or `failed`.
    pub status: String,
    pub headers: Vec<String>,
    pub preview: Vec<Vec<String>>,
    /// field → column index
    pub mapping: Vec<(String, usize)>,
    pub rows_total: i64,
    pub created: i64,
    pub duplicates: i64,
    pub rejected: i64,
    pub failure: Option<String>,
    /// Rows imported but warned about (no first or last name: Email Bison refuses them).
    pub warnings: Option<String>,
}

/// The contact pipeline page of one workspace.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContactsPage {
    pub workspace_slug: String,
    pub workspace_name: String,
    pub workspaces: Vec<(String, String)>,
    /// Contacts by verification status.
    pub counts: Vec<(String, i64)>,
    pub uploads: Vec<ContactUploadView>,
    /// The upload named in the URL (`?upload=`).
    pub current: Option<ContactUploadView>,
    pub max_upload_mb: usize,
    /// The latest "Verify now": status and what it did (or why it stopped).
    pub verification: Option<(String, String)>,
    /// Weekly batches, newest first.
    pub batches: Vec<BatchView>,
    /// Verified contacts no batch takes because Email Bison would refuse them: how many, and the
    /// first of them as (email, reason).
    pub unsendable: (i64, Vec<(String, String)>),
    pub batch_settings: BatchSettingsView,
    /// The last months of the pipeline: (month, uploaded, verified, batched, in Email Bison).
    pub monthly: Vec<(String, i64, i64, i64, i64)>,
    pub credits: CreditsView,
}

/// DeBounce credits: the agency key's balance and what this workspace spent.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CreditsView {
    /// The balance DeBounce last reported for the key, and when (`None`: not read yet).
    pub balance: Option<(i64, String)>,
    /// Unverified contacts the next run would check, one credit each.
    pub needed: i64,
    /// Why the known balance can't cover the next run, if it can't.
    pub shortfall: Option<String>,
    /// The last 12 months, oldest first: (month, credits used, contacts verified that month).
    pub months: Vec<(String, i64, i64)>,
}

/// One weekly batch and what its upload did.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BatchView {
    pub id: i64,
    pub week_of: String,
    pub size: i64,
    pub status: String,
    /// Contacts now in Email Bison.
    pub uploaded: i64,
    /// Contacts Email Bison can't take, with why: (email, reason), by email (the first 50;
    /// `skipped` counts them all and the CSV has them all).
    pub skipped: i64,
    pub skipped_contacts: Vec<(String, String)>,
    pub error: Option<String>,
}

/// How a workspace's weekly batches are made and where they go.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct BatchSettingsView {
    /// Risky contacts (accept-all, role addresses) count as verified.
    pub accept_risky: bool,
    /// The chosen campaign; `None`: the first active one.
    pub campaign_id: Option<i64>,
    /// The workspace's Email Bison campaigns: (id, name, status).
    pub campaigns: Vec<(i64, String, String)>,
}

/// What an import of contacts did.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImportedCounts {
    pub rows_total: i64,
    pub created: i64,
    pub duplicates: i64,
    pub rejected: i64,
    /// Imported without a first or a last name (Email Bison refuses them).
    pub unnamed: i64,
}
