//! Wire types: what server functions send to the page. Defined once, used on both sides.

use serde::{Deserialize, Serialize};

/// The signed-in user, as the page needs it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Me {
    pub user_id: i64,
    pub email: String,
    pub display_name: String,
    /// `admin`, `client` or `viewer`.
    pub role: String,
}

impl Me {
    pub fn is_admin(&self) -> bool {
        self.role == "admin"
    }
    /// Where this user lands after signing in.
    pub fn home(&self) -> &'static str {
        if self.is_admin() {
            "/admin"
        } else {
            "/client-portal"
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct GrantRow {
    pub workspace_id: i64,
    pub workspace_name: String,
    pub workspace_slug: String,
    /// `client` or `viewer`.
    pub level: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserRow {
    pub id: i64,
    pub email: String,
    pub display_name: String,
    pub role: String,
    pub disabled: bool,
    /// RFC 3339, UTC.
    pub created_at: String,
    pub last_login_at: Option<String>,
    pub grants: Vec<GrantRow>,
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
    pub member_count: i64,
}

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

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditRow {
    pub at: String,
    pub actor: Option<String>,
    pub action: String,
    pub target: Option<String>,
    pub ip: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AgencyOverview {
    pub today: String,
    pub alerts: HomeAlerts,
    /// Σ interested month to date and Σ monthly targets over active workspaces.
    pub interested_mtd: i64,
    pub target_total: i64,
    pub contacted_mtd: i64,
    pub workspaces_total: i64,
    pub workspaces_active: i64,
    pub users_total: i64,
    pub users_disabled: i64,
    pub recent_activity: Vec<AuditRow>,
}

/// One workspace on the KPI dashboard (see product.md, "Metric definitions").
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct KpiLine {
    pub slug: String,
    pub name: String,
    pub target: i64,
    pub mtd: i64,
    pub expected_by_today: f64,
    pub pacing: Option<f64>,
    pub projection: f64,
    pub percent_of_target: Option<f64>,
    /// `on_track`, `at_risk`, `behind` or `no_target`.
    pub status: String,
    pub contacted: i64,
    pub replies: i64,
    pub interested: i64,
    pub reply_rate: Option<f64>,
    pub positive_of_replies: Option<f64>,
    pub positive_of_contacted: Option<f64>,
    /// Interested per day, the last 30 days up to today.
    pub trend_30_days: Vec<i64>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct KpiReport {
    /// Agency-local today and the period shown (`YYYY-MM-DD`).
    pub today: String,
    pub from: String,
    pub to: String,
    pub elapsed_days: u32,
    pub days_in_month: u32,
    pub lines: Vec<KpiLine>,
    /// (slug, name) of every active workspace, for the filter.
    pub workspaces: Vec<(String, String)>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct HomeAlerts {
    /// (slug, name, interested MTD, target, projection)
    pub behind: Vec<(String, String, i64, i64, f64)>,
    pub critical_senders: Vec<SenderAlertRow>,
    /// (ZIP, the workspaces that claim it)
    pub zip_conflicts: Vec<(String, Vec<String>)>,
    /// (job type, failed in the last 7 days)
    pub failed_jobs: Vec<(String, i64)>,
}

impl HomeAlerts {
    pub fn is_empty(&self) -> bool {
        self.behind.is_empty() && self.critical_senders.is_empty() && self.zip_conflicts.is_empty() && self.failed_jobs.is_empty()
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SenderAlertRow {
    pub email: String,
    pub workspace: String,
    pub status: String,
    pub bounce_rate: Option<f64>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RolloutRow {
    pub workspace_slug: String,
    pub workspace_name: String,
    /// (label, due day, completed day, overdue)
    pub steps: Vec<(String, Option<String>, Option<String>, bool)>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct VolumeLine {
    pub slug: String,
    pub name: String,
    pub daily_send_target: i64,
    /// Σ daily limits of connected senders.
    pub capacity: i64,
    pub connected_senders: i64,
    pub total_sent: i64,
    pub sent_per_day: Vec<i64>,
    /// Days below 80 % of the daily send target (`YYYY-MM-DD`).
    pub under_sending_days: Vec<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct VolumeReport {
    pub from: String,
    pub to: String,
    pub days: Vec<String>,
    pub lines: Vec<VolumeLine>,
    pub workspaces: Vec<(String, String)>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RevenueLine {
    pub slug: String,
    pub name: String,
    /// `per_lead` or `retainer`.
    pub pricing_model: String,
    pub billable_leads: i64,
    pub revenue_cents: i64,
    pub costs_cents: i64,
    pub profit_cents: i64,
    pub margin: Option<f64>,
    /// Agency ROI: profit / costs.
    pub roi: Option<f64>,
    pub won_value_cents: i64,
    /// Client ROI: won deal value / fees billed.
    pub client_roi: Option<f64>,
    pub frozen: bool,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RevenueReport {
    /// `YYYY-MM`.
    pub month: String,
    pub current_month: String,
    pub lines: Vec<RevenueLine>,
    pub total: RevenueLine,
    /// (month, revenue, costs), oldest first.
    pub history: Vec<(String, i64, i64)>,
    /// (day, billable revenue in cents)
    pub daily: Vec<(String, i64)>,
    pub workspaces: Vec<(String, String)>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RoiLine {
    pub slug: String,
    pub name: String,
    /// (month, revenue, costs, won value), oldest first.
    pub months: Vec<(String, i64, i64, i64)>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RoiReport {
    pub months: Vec<String>,
    pub lines: Vec<RoiLine>,
    pub workspaces: Vec<(String, String)>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CostRow {
    pub id: i64,
    pub category: String,
    pub description: String,
    pub amount_cents: i64,
    pub recurrence: String,
    pub starts_on: String,
    pub ends_on: Option<String>,
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
}

/// One ZIP on the ZIP page: the workspaces holding it (two or more is a conflict).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ZipLine {
    pub zip: String,
    pub city: Option<String>,
    pub state: Option<String>,
    /// (slug, name), by name
    pub workspaces: Vec<(String, String)>,
    /// Day of the earliest assignment.
    pub assigned_on: String,
    /// Where it is drawn on the map; `None` when the ZIP is not in the ZIP places file.
    pub map_point: Option<(f32, f32)>,
}

impl ZipLine {
    pub fn conflict(&self) -> bool {
        self.workspaces.len() > 1
    }
}

/// What one CSV upload of assignments did.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ZipImportSummary {
    pub id: i64,
    pub file_name: String,
    pub created_at: String,
    pub rows_total: i64,
    pub assigned: i64,
    pub unchanged: i64,
    pub rejected: i64,
    /// Why the whole file was refused (then nothing was assigned).
    pub failure: Option<String>,
    /// The first rejected rows: (line, reason).
    pub rejected_preview: Vec<(String, String)>,
}

/// The ZIP page: the filtered ZIPs, the filter choices and, after an upload, its outcome.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ZipReport {
    pub lines: Vec<ZipLine>,
    /// ZIPs assigned in all (before filters), and how many are in conflict.
    pub total_zips: usize,
    pub total_conflicts: usize,
    pub workspaces: Vec<(String, String)>,
    pub states: Vec<String>,
    /// False when the ZIP places file is not installed (no points on the map).
    pub places_loaded: bool,
    pub import: Option<ZipImportSummary>,
}

/// One Email Bison sync of a workspace, for the client page's sync panel.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SyncRunRow {
    pub id: i64,
    /// `all` or `senders`
    pub kind: String,
    /// `queued`, `running`, `succeeded` or `failed`
    pub status: String,
    pub step: i64,
    pub steps: i64,
    pub step_label: Option<String>,
    /// What it did, in words (succeeded runs).
    pub result: Option<String>,
    pub error: Option<String>,
    pub created_at: String,
    pub finished_at: Option<String>,
}

impl SyncRunRow {
    pub fn active(&self) -> bool {
        self.status == "queued" || self.status == "running"
    }
}

/// A sender account, with its bounce-rate band.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SenderLine {
    pub workspace_slug: String,
    pub workspace_name: String,
    pub email: String,
    pub status: String,
    pub daily_limit: i64,
    pub warmup_enabled: bool,
    pub sent: i64,
    pub bounced: i64,
    pub replies: i64,
    pub bounce_rate: Option<f64>,
    /// `healthy` (< 2 %), `warning` (2–5 %), `critical` (> 5 %) or `no_data`.
    pub band: String,
    pub last_synced_at: Option<String>,
}

/// A workspace's sending capacity and lead runway.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SendingLine {
    pub slug: String,
    pub name: String,
    pub daily_send_target: i64,
    pub capacity: i64,
    pub connected_senders: i64,
    pub uncontacted_leads: i64,
    pub runway_days: Option<f64>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SenderReport {
    pub senders: Vec<SenderLine>,
    /// Senders before the filters, by band: (healthy, warning, critical, no data).
    pub bands: (usize, usize, usize, usize),
    pub workspaces: Vec<SendingLine>,
}

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
    /// Weekly batches, newest first: (id, week of, size, status, uploaded, error).
    pub batches: Vec<(i64, String, i64, String, i64, Option<String>)>,
    pub batch_settings: BatchSettingsView,
    /// The last months of the pipeline: (month, uploaded, verified, batched, in Email Bison).
    pub monthly: Vec<(String, i64, i64, i64, i64)>,
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
}

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
    pub cost_usd: f64,
}
