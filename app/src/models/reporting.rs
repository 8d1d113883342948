//! Dashboards: the agency overview and alerts, KPI, rollout, volume, revenue, ROI, and client costs.

use serde::{Deserialize, Serialize};

use super::identity::AuditRow;

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
    /// Webhook endpoints Maverick disabled: (where — a workspace's name or "Agency-wide" —, its
    /// integrations page, the URL's host, why).
    pub disabled_endpoints: Vec<(String, String, String, String)>,
    /// Slack messages given up (listed with a retry on the clients page).
    pub failed_slack_messages: i64,
}

impl HomeAlerts {
    pub fn is_empty(&self) -> bool {
        self.behind.is_empty()
            && self.critical_senders.is_empty()
            && self.zip_conflicts.is_empty()
            && self.failed_jobs.is_empty()
            && self.disabled_endpoints.is_empty()
            && self.failed_slack_messages == 0
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
    pub steps: Vec<RolloutStepLine>,
}

/// One checklist step, reconciled with the data (`YYYY-MM-DD` days).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RolloutStepLine {
    pub label: String,
    pub due_on: Option<String>,
    /// As ticked, or as the data proves it (then `proof` says how).
    pub completed_on: Option<String>,
    /// What in the data shows it done, in words ("18 connected senders").
    pub proof: Option<String>,
    /// A tick the calendar contradicts, in words.
    pub conflict: Option<String>,
    pub overdue: bool,
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
    /// Interested in the month and, of those, marked invalid: why billable can be fewer.
    pub interested_leads: i64,
    pub invalid_leads: i64,
    /// The stage a lead must reach to be billable (`interested` by default).
    pub billable_stage: String,
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
