//! Integrations (issue 13): API tokens, webhook endpoints, their delivery logs and the event
//! catalog, for the agency (admins) or one workspace (admins, clients who may write). Tokens and
//! secrets appear only in the answers of create and rotate (`CreatedToken`, `CreatedEndpoint`,
//! `RotatedSecret`), never in a list.

use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiTokenRow {
    pub id: i64,
    pub name: String,
    /// The token's first characters (`mvk_ab12cd`), to recognise it.
    pub prefix: String,
    /// `read` or `write`.
    pub scope: String,
    /// `None`: agency-wide.
    pub workspace_slug: Option<String>,
    pub created_by: Option<String>,
    pub created_at: String,
    pub last_used_at: Option<String>,
    pub expires_at: Option<String>,
    pub revoked_at: Option<String>,
}

/// A new token: its row, and the token itself (shown once).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CreatedToken {
    pub row: ApiTokenRow,
    pub token: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EndpointRow {
    pub id: i64,
    pub url: String,
    pub description: String,
    /// Empty: every event type.
    pub event_types: Vec<String>,
    pub enabled: bool,
    pub disabled_reason: Option<String>,
    /// The static header's name (its value is never sent back).
    pub header_name: Option<String>,
    /// Until when the previous secret still signs, after a rotation.
    pub previous_until: Option<String>,
    pub failing_since: Option<String>,
    pub created_at: String,
}

/// A new endpoint and its signing secret (`whsec_…`, shown once).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CreatedEndpoint {
    pub endpoint: EndpointRow,
    pub secret: String,
}

/// A rotated endpoint's new secret (shown once), and until when the old one keeps signing.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RotatedSecret {
    pub endpoint_id: i64,
    pub secret: String,
    pub previous_until: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeliveryRow {
    pub id: i64,
    pub event_type: String,
    pub message_id: String,
    /// `pending`, `delivered` or `failed`.
    pub status: String,
    pub attempts: i64,
    pub last_status_code: Option<i64>,
    pub last_error: Option<String>,
    pub trace_id: Option<String>,
    pub created_at: String,
    pub next_attempt_at: String,
    pub finished_at: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AttemptRow {
    pub at: String,
    pub status_code: Option<i64>,
    pub latency_ms: i64,
    pub response_excerpt: String,
    pub error: Option<String>,
}

/// One event type of the public catalog, with an example message as a receiver gets it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventTypeRow {
    pub name: String,
    pub description: String,
    /// `{"type", "timestamp", "data"}`, pretty-printed.
    pub example: String,
}

/// Everything the integrations page shows for one owner (the agency or a workspace).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct IntegrationsOverview {
    /// The workspace's slug and name; `None`: agency-wide.
    pub workspace: Option<(String, String)>,
    /// (slug, name) of every workspace, for the admin's picker (empty for clients).
    pub workspaces: Vec<(String, String)>,
    pub tokens: Vec<ApiTokenRow>,
    pub endpoints: Vec<EndpointRow>,
    pub catalog: Vec<EventTypeRow>,
}
