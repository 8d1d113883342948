//! Email Bison: sync runs, and sender (email) accounts with their health and sending capacity.

use serde::{Deserialize, Serialize};

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
    /// One page of the filtered, sorted senders (all of them for the CSV export).
    pub senders: Vec<SenderLine>,
    /// Senders after the filters, on every page.
    pub total: usize,
    /// The page shown (1-based) and its size.
    pub page: usize,
    pub size: usize,
    /// Senders before the filters, by band: (healthy, warning, critical, no data).
    pub bands: (usize, usize, usize, usize),
    pub workspaces: Vec<SendingLine>,
}

/// An Email Bison webhook delivery that was given up (bad content, or too many failed attempts).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FailedDeliveryRow {
    pub id: i64,
    pub received_at: String,
    pub event_type: Option<String>,
    pub attempts: i64,
    pub error: Option<String>,
}
