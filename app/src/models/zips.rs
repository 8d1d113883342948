//! The ZIP page: ZIP territories, their conflicts and map points, and CSV assignment uploads.

use serde::{Deserialize, Serialize};

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
