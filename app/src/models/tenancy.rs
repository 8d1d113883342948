//! Workspaces (clients) as the admin manages them, users' grants to them, and a client's profile.

use serde::{Deserialize, Serialize};

use super::{bison::SyncRunRow, reporting::{CostRow, KpiLine, RevenueLine}};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct GrantRow {
    pub workspace_id: i64,
    pub workspace_name: String,
    pub workspace_slug: String,
    /// `client` or `viewer`.
    pub level: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct WorkspaceRow {
    pub id: i64,
    pub name: String,
    pub slug: String,
    pub active: bool,
    pub monthly_lead_target: i64,
    pub daily_send_target: i64,
    pub weekly_contact_target: i64,
    /// `per_lead` or `retainer`.
    pub pricing_model: String,
    pub price_per_lead_cents: i64,
    pub retainer_fee_cents: i64,
    pub billable_stage: String,
    pub bison_workspace_id: Option<String>,
    /// `••••abcd` when a key is stored; the key itself never leaves the server.
    pub bison_api_key_masked: Option<String>,
    /// `••••abcd` when a webhook URL has been made (its token is only shown once).
    pub bison_webhook_masked: Option<String>,
    pub slack_webhook_masked: Option<String>,
    /// What the stored Email Bison key was verified to read when it was saved:
    /// "workspace 7 (Acme Roofing) as ops@agency.test, on 2026-12-01".
    pub bison_key_reads: Option<String>,
    pub member_count: i64,
}

/// Everything about one client workspace, for its profile page.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ClientProfile {
    pub workspace: WorkspaceRow,
    pub kpi: Option<KpiLine>,
    pub revenue: Option<RevenueLine>,
    pub costs: Vec<CostRow>,
    /// (zip, state, city)
    pub zips: Vec<(String, Option<String>, Option<String>)>,
    /// (zip, the other workspace that holds it)
    pub zip_conflicts: Vec<(String, String)>,
    /// (email, name, level)
    pub members: Vec<(String, String, String)>,
    /// The latest Email Bison syncs, newest first.
    pub sync_runs: Vec<SyncRunRow>,
    /// Email Bison webhook deliveries that were given up, newest first.
    pub failed_deliveries: Vec<super::bison::FailedDeliveryRow>,
}

/// What signed-out pages show: the agency's public home, and whether reset links are mailed.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PublicInfo {
    pub agency_name: String,
    pub text: String,
    /// SMTP is configured (`MAVERICK_SMTP_URL`); without it, reset links go to the server log.
    pub mail_configured: bool,
}
