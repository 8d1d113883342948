//! The public event catalog: every event type an outside tool can receive (webhooks) or poll
//! (`GET /api/v1/workspaces/{slug}/events`), with the shape of its `data`. Writers build the
//! `data` from these structs, and the OpenAPI document publishes their JSON schemas, so the
//! documented shape and the sent one cannot drift apart.
//!
//! Versioning: a type's name never changes meaning. Fields may be added; a field is never removed
//! or retyped without a new type name (`lead.stage_changed.v2`). Every delivery's `data` also
//! carries `workspace` (the workspace's slug), set when the event is delivered.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

pub const CATALOG_VERSION: &str = "2026-11-30";

pub const LEAD_CREATED: &str = "lead.created";
pub const LEAD_INTERESTED: &str = "lead.interested";
pub const LEAD_STAGE_CHANGED: &str = "lead.stage_changed";
pub const LEAD_NOTE_ADDED: &str = "lead.note_added";
pub const CONTACTS_IMPORT_COMPLETED: &str = "contacts.import_completed";
pub const CONTACTS_VERIFIED: &str = "contacts.verified";
pub const BATCH_UPLOADED: &str = "batch.uploaded";
pub const PERSONALIZATION_RUN_COMPLETED: &str = "personalization.run_completed";
pub const SYNC_FAILED: &str = "sync.failed";
pub const SENDER_HEALTH_CHANGED: &str = "sender.health_changed";
pub const AUTOMATION_RUN_COMPLETED: &str = "automation.run_completed";
pub const AUTOMATION_RUN_FAILED: &str = "automation.run_failed";
/// Sent only by "Send test event", to one endpoint.
pub const WEBHOOK_TEST: &str = "webhook.test";

/// One entry of the catalog.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct EventType {
    pub name: &'static str,
    pub description: &'static str,
    /// The name of the `data` schema in the OpenAPI document.
    pub schema: &'static str,
    /// An example `data`.
    #[schema(value_type = Object)]
    pub example: serde_json::Value,
}

/// Every public event type, in the order the docs list them.
pub fn catalog() -> Vec<EventType> {
    use serde_json::json;
    let lead = json!({"workspace": "acme-roofing", "lead_id": 4812, "email": "dana@example.com", "first_name": "Dana", "last_name": "Reyes",
        "company": "Reyes Homes", "title": "Broker", "stage": "new", "source": "email_bison", "campaign_id": 31});
    vec![
        EventType {
            name: LEAD_CREATED,
            description: "A lead was added to a workspace's pipeline (an interested reply from Email Bison, or pushed in through the API).",
            schema: "LeadData",
            example: lead.clone(),
        },
        EventType {
            name: LEAD_INTERESTED,
            description: "Email Bison marked a reply interested: the lead is new on the board, or an existing lead became interested.",
            schema: "LeadData",
            example: lead,
        },
        EventType {
            name: LEAD_STAGE_CHANGED,
            description: "A lead moved to another stage of the pipeline (board, lead page or API).",
            schema: "StageChangedData",
            example: json!({"workspace": "acme-roofing", "lead_id": 4812, "from": "new", "to": "won", "deal_value_cents": 250000, "lost_reason": null, "by": "Dana Admin"}),
        },
        EventType {
            name: LEAD_NOTE_ADDED,
            description: "A note was written on a lead (or an existing note edited: `edited` is true).",
            schema: "NoteAddedData",
            example: json!({"workspace": "acme-roofing", "lead_id": 4812, "note_id": 77, "edited": false}),
        },
        EventType {
            name: CONTACTS_IMPORT_COMPLETED,
            description: "An uploaded contacts file was imported into the contact pipeline.",
            schema: "ImportCompletedData",
            example: json!({"workspace": "acme-roofing", "upload_id": 12, "file_name": "november.csv", "imported": 1180, "rejected": 20}),
        },
        EventType {
            name: CONTACTS_VERIFIED,
            description: "A DeBounce verification run finished.",
            schema: "VerifiedData",
            example: json!({"workspace": "acme-roofing", "checked": 1180, "safe": 1020, "risky": 40, "invalid": 110, "unknown": 10}),
        },
        EventType {
            name: BATCH_UPLOADED,
            description: "A weekly contact batch was uploaded to its Email Bison campaign.",
            schema: "BatchUploadedData",
            example: json!({"workspace": "acme-roofing", "batch_id": 5, "uploaded": 500}),
        },
        EventType {
            name: PERSONALIZATION_RUN_COMPLETED,
            description: "An AI personalization run ended (completed, failed or cancelled).",
            schema: "RunCompletedData",
            example: json!({"workspace": "acme-roofing", "run_id": 3, "campaign_id": 2, "status": "completed", "done": 98, "failed": 2, "total": 100}),
        },
        EventType {
            name: SYNC_FAILED,
            description: "An Email Bison sync of the workspace failed.",
            schema: "SyncFailedData",
            example: json!({"workspace": "acme-roofing", "run_id": 41, "kind": "full", "error": "Email Bison refused the API key (401): check it on the client's page."}),
        },
        EventType {
            name: SENDER_HEALTH_CHANGED,
            description: "A sending account's health band changed: healthy, critical (bouncing over 5 %) or disconnected.",
            schema: "SenderHealthData",
            example: json!({"workspace": "acme-roofing", "sender_id": 310, "email": "dana@acme-mail.com", "from": "healthy", "to": "critical"}),
        },
        EventType {
            name: AUTOMATION_RUN_COMPLETED,
            description: "An automation run (PT1 pull → PT5 campaign rotation, or part of it) completed.",
            schema: "AutomationRunData",
            example: json!({"workspace": "acme-roofing", "run_id": 7, "first_step": "pt1_pull", "last_step": "pt5_rotate", "dry_run": false, "status": "completed", "failed_step": null, "error": null}),
        },
        EventType {
            name: AUTOMATION_RUN_FAILED,
            description: "An automation run failed at one of its steps; it can be retried from that step.",
            schema: "AutomationRunData",
            example: json!({"workspace": "acme-roofing", "run_id": 8, "first_step": "pt1_pull", "last_step": "pt3_gap", "dry_run": false, "status": "failed", "failed_step": "pt1_pull", "error": "sign in: Cole X Dates refused the sign-in for NJ; check the credentials on Automations."}),
        },
        EventType {
            name: WEBHOOK_TEST,
            description: "A test message sent by \"Send test event\" to one endpoint.",
            schema: "TestData",
            example: json!({"workspace": "acme-roofing", "endpoint_id": 4, "message": "This is a test event from Maverick."}),
        },
    ]
}

/// Whether `name` is a public event type (internal events, like a run's progress, are not).
pub fn is_public(name: &str) -> bool {
    matches!(
        name,
        LEAD_CREATED
            | LEAD_INTERESTED
            | LEAD_STAGE_CHANGED
            | LEAD_NOTE_ADDED
            | CONTACTS_IMPORT_COMPLETED
            | CONTACTS_VERIFIED
            | BATCH_UPLOADED
            | PERSONALIZATION_RUN_COMPLETED
            | SYNC_FAILED
            | SENDER_HEALTH_CHANGED
            | AUTOMATION_RUN_COMPLETED
            | AUTOMATION_RUN_FAILED
    )
}

/// The workspace's slug, set on delivery (writers leave it empty).
fn is_empty(s: &str) -> bool {
    s.is_empty()
}

/// `lead.created`, `lead.interested`.
#[derive(Clone, Debug, Default, Serialize, Deserialize, ToSchema)]
pub struct LeadData {
    #[serde(default, skip_serializing_if = "is_empty")]
    pub workspace: String,
    pub lead_id: i64,
    pub email: String,
    pub first_name: String,
    pub last_name: String,
    pub company: String,
    pub title: String,
    pub stage: String,
    /// `email_bison` or `api`.
    pub source: String,
    pub campaign_id: Option<i64>,
}

/// `lead.stage_changed`.
#[derive(Clone, Debug, Default, Serialize, Deserialize, ToSchema)]
pub struct StageChangedData {
    #[serde(default, skip_serializing_if = "is_empty")]
    pub workspace: String,
    pub lead_id: i64,
    pub from: String,
    pub to: String,
    /// The deal's value in cents, when moved to `won`.
    pub deal_value_cents: Option<i64>,
    pub lost_reason: Option<String>,
    /// Who moved it (a name, or the API token's name).
    pub by: String,
}

/// `lead.note_added`.
#[derive(Clone, Debug, Default, Serialize, Deserialize, ToSchema)]
pub struct NoteAddedData {
    #[serde(default, skip_serializing_if = "is_empty")]
    pub workspace: String,
    pub lead_id: i64,
    pub note_id: i64,
    pub edited: bool,
}

/// `contacts.import_completed`.
#[derive(Clone, Debug, Default, Serialize, Deserialize, ToSchema)]
pub struct ImportCompletedData {
    #[serde(default, skip_serializing_if = "is_empty")]
    pub workspace: String,
    pub upload_id: i64,
    pub file_name: String,
    pub imported: i64,
    pub rejected: i64,
}

/// `automation.run_completed`, `automation.run_failed`.
#[derive(Clone, Debug, Default, Serialize, Deserialize, ToSchema)]
pub struct AutomationRunData {
    #[serde(default, skip_serializing_if = "is_empty")]
    pub workspace: String,
    pub run_id: i64,
    pub first_step: String,
    pub last_step: String,
    pub dry_run: bool,
    pub status: String,
    pub failed_step: Option<String>,
    pub error: Option<String>,
}

/// `contacts.verified`.
#[derive(Clone, Debug, Default, Serialize, Deserialize, ToSchema)]
pub struct VerifiedData {
    #[serde(default, skip_serializing_if = "is_empty")]
    pub workspace: String,
    pub checked: i64,
    pub safe: i64,
    pub risky: i64,
    pub invalid: i64,
    pub unknown: i64,
}

/// `batch.uploaded`.
#[derive(Clone, Debug, Default, Serialize, Deserialize, ToSchema)]
pub struct BatchUploadedData {
    #[serde(default, skip_serializing_if = "is_empty")]
    pub workspace: String,
    pub batch_id: i64,
    /// How many of the batch's contacts are in Email Bison.
    pub uploaded: i64,
}

/// `personalization.run_completed`.
#[derive(Clone, Debug, Default, Serialize, Deserialize, ToSchema)]
pub struct RunCompletedData {
    #[serde(default, skip_serializing_if = "is_empty")]
    pub workspace: String,
    pub run_id: i64,
    pub campaign_id: i64,
    /// `completed`, `failed` or `cancelled`.
    pub status: String,
    pub done: i64,
    pub failed: i64,
    pub total: i64,
}

/// `sync.failed`.
#[derive(Clone, Debug, Default, Serialize, Deserialize, ToSchema)]
pub struct SyncFailedData {
    #[serde(default, skip_serializing_if = "is_empty")]
    pub workspace: String,
    pub run_id: i64,
    pub kind: String,
    pub error: String,
}

/// `sender.health_changed`.
#[derive(Clone, Debug, Default, Serialize, Deserialize, ToSchema)]
pub struct SenderHealthData {
    #[serde(default, skip_serializing_if = "is_empty")]
    pub workspace: String,
    pub sender_id: i64,
    pub email: String,
    pub from: String,
    pub to: String,
}

/// `webhook.test`.
#[derive(Clone, Debug, Default, Serialize, Deserialize, ToSchema)]
pub struct TestData {
    #[serde(default, skip_serializing_if = "is_empty")]
    pub workspace: String,
    pub endpoint_id: i64,
    pub message: String,
}

/// The envelope every delivery and every polled event has.
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct EventEnvelope {
    /// The event's id in the workspace's log (absent on test messages).
    pub id: Option<i64>,
    /// One of the catalog's names.
    #[serde(rename = "type")]
    pub kind: String,
    /// When it happened (RFC 3339).
    pub timestamp: chrono::DateTime<chrono::Utc>,
    /// The type's data (see the catalog); always has `workspace`.
    #[schema(value_type = Object)]
    pub data: serde_json::Value,
    /// The W3C trace id of the request or job that caused it.
    pub trace_id: Option<String>,
}
