//! Weekly batches: every week (Friday by default) each workspace gets a batch of verified contacts
//! that were never batched, as many as its weekly contact target (safe ones; risky ones too when
//! the workspace accepts them). A batch is then uploaded to the workspace's active Email Bison
//! campaign: leads created 500 at a time, then attached to the campaign, every call written to
//! `upload_audit_log`. Contacts remember their Bison lead id, so a failed upload resumes without
//! creating anybody twice.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use crate::{
    connectors::bison::{rejected_positions, BisonClient, BisonError},
    platform::http_retry::RetryPolicy,
    platform::db::Db,
    platform::error::{Error, Result},
    platform::event_catalog::BatchUploadedData,
    platform::events::{self, NewEvent},
    on_db, tenancy::workspaces, AppState,
};

/// Leads per Email Bison call (its limit).
pub const CHUNK: i64 = 500;

/// A contact Email Bison can create: it requires `first_name`, `last_name` and `email` (SQL, over
/// `contacts`).
macro_rules! sendable {
    () => {
        "COALESCE(TRIM(first_name), '') <> '' AND COALESCE(TRIM(last_name), '') <> ''"
    };
}
const SENDABLE: &str = sendable!();

/// A contact whose verification the workspace `$1` sends to: safe, or risky where it accepts risky
/// addresses (SQL, over `contacts`).
macro_rules! accepted {
    () => {
        "(verification = 'safe' OR (verification = 'risky' AND (SELECT accept_risky FROM workspaces WHERE id = $1)))"
    };
}

/// What a weekly batch of workspace `$1` takes: in no batch yet, accepted and sendable (SQL, over
/// `contacts`). [`create_weekly`] and [`ready_count`] share it, so a dry run counts what a real
/// run would batch.
macro_rules! ready {
    () => {
        concat!("workspace_id = $1 AND batch_id IS NULL AND ", accepted!(), " AND ", sendable!())
    };
}

/// Why a contact can't be sent, in the words the contacts page shows (SQL, over `contacts`).
const MISSING_NAME_REASON: &str = "CASE WHEN COALESCE(TRIM(first_name), '') = '' AND COALESCE(TRIM(last_name), '') = '' \
     THEN 'no first or last name: Email Bison requires both' \
     WHEN COALESCE(TRIM(first_name), '') = '' THEN 'no first name: Email Bison requires one' \
     ELSE 'no last name: Email Bison requires one' END";

/// Makes the workspace's batch for the week starting `week_of` (idempotent: the existing batch's id
/// if there is one). `None` when the workspace has no weekly target.
pub async fn create_weekly(db: &Db, workspace_id: i64, week_of: NaiveDate) -> Result<Option<i64>> {
    let week = week_of.to_string();
    let begin = db.begin_read_write();
    Ok(on_db!(db, |pool| async {
        let mut tx = pool.begin_with(begin).await?;
        if let Some(id) = sqlx::query_scalar::<_, i64>("SELECT id FROM contact_batches WHERE workspace_id = $1 AND week_of = $2")
            .bind(workspace_id)
            .bind(&week)
            .fetch_optional(&mut *tx)
            .await?
        {
            return Ok::<Option<i64>, sqlx::Error>(Some(id));
        }
        let target: i64 = sqlx::query_scalar("SELECT weekly_contact_target FROM workspaces WHERE id = $1").bind(workspace_id).fetch_one(&mut *tx).await?;
        if target <= 0 {
            return Ok(None);
        }
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO contact_batches (workspace_id, week_of, size, status, created_at) VALUES ($1, $2, 0, $4, $3) RETURNING id",
        )
        .bind(workspace_id)
        .bind(&week)
        .bind(Utc::now())
        .bind(BatchStatus::Draft.as_str())
        .fetch_one(&mut *tx)
        .await?;
        // Only contacts Email Bison can take (it requires a first and a last name): the others
        // were flagged at import and wait, unbatched, until their names are filled in.
        let size = sqlx::query(concat!("UPDATE contacts SET batch_id = $2 WHERE id IN (SELECT id FROM contacts WHERE ", ready!(), " ORDER BY id LIMIT $3)"))
        .bind(workspace_id)
        .bind(id)
        .bind(target)
        .execute(&mut *tx)
        .await?
        .rows_affected() as i64;
        sqlx::query("UPDATE contact_batches SET size = $1 WHERE id = $2").bind(size).bind(id).execute(&mut *tx).await?;
        tx.commit().await?;
        Ok(Some(id))
    }
    .await)?)
}

/// How many contacts the workspace's next weekly batch could take (before its target caps it).
pub async fn ready_count(db: &Db, workspace_id: i64) -> Result<i64> {
    Ok(on_db!(db, |pool| sqlx::query_scalar(concat!("SELECT COUNT(*) FROM contacts WHERE ", ready!())).bind(workspace_id).fetch_one(pool).await)?)
}

/// Contacts created since `since` that could be sent, batched or not: verified (risky only when
/// the workspace accepts it), with the names Email Bison requires. The automations' gap step
/// weighs this month's against the month's need.
pub async fn clean_since(db: &Db, workspace_id: i64, since: DateTime<Utc>) -> Result<i64> {
    Ok(on_db!(db, |pool| sqlx::query_scalar(concat!("SELECT COUNT(*) FROM contacts WHERE workspace_id = $1 AND created_at >= $2 AND ", accepted!(), " AND ", sendable!()))
        .bind(workspace_id)
        .bind(since)
        .fetch_one(pool)
        .await)?)
}

async fn audit(db: &Db, batch_id: i64, call: &str, leads: i64, ok: bool, detail: Option<String>) -> Result<()> {
    on_db!(db, |pool| sqlx::query("INSERT INTO upload_audit_log (batch_id, at, call, leads, ok, detail) VALUES ($1, $2, $3, $4, $5, $6)")
        .bind(batch_id)
        .bind(Utc::now())
        .bind(call)
        .bind(leads)
        .bind(ok)
        .bind(detail)
        .execute(pool)
        .await
        .map(|r| r.rows_affected()))?;
    Ok(())
}

/// Uploads a batch (or resumes a failed one). Returns how many of its contacts are in Email Bison.
pub async fn upload(state: &AppState, batch_id: i64) -> Result<i64> {
    let db = &state.db;
    let ws: i64 = on_db!(db, |pool| sqlx::query_scalar("SELECT workspace_id FROM contact_batches WHERE id = $1").bind(batch_id).fetch_optional(pool).await)?
        .ok_or(Error::NotFound)?;
    // The outcome, and on success `batch.uploaded`, in one transaction.
    let set = |status: BatchStatus, error: Option<String>| async move {
        on_db!(db, |pool| async {
            let mut tx = pool.begin().await?;
            let uploaded: i64 = sqlx::query_scalar(
                "UPDATE contact_batches SET status = $1, error = $2, uploaded = (SELECT COUNT(*) FROM contacts WHERE batch_id = $3 AND bison_lead_id IS NOT NULL), \
                 skipped = (SELECT COUNT(*) FROM contacts WHERE batch_id = $3 AND bison_lead_id IS NULL AND bison_skip_reason IS NOT NULL), \
                 finished_at = $4 WHERE id = $3 RETURNING uploaded",
            )
            .bind(status.as_str())
            .bind(error)
            .bind(batch_id)
            .bind(Utc::now())
            .fetch_one(&mut *tx)
            .await?;
            if status == BatchStatus::Uploaded {
                let data = BatchUploadedData { workspace: String::new(), batch_id, uploaded };
                crate::record_event!(&mut *tx, &NewEvent::new(ws, events::BATCH_UPLOADED, &data))?;
            }
            tx.commit().await
        }
        .await)
    };
    // Claimed by compare-and-set: one worker uploads a batch (a double "Upload again" or a
    // schedule firing meanwhile posts nothing twice). An upload claimed over an hour ago lost its
    // worker and may be taken again.
    let now = Utc::now();
    let claimed = on_db!(db, |pool| sqlx::query(
        "UPDATE contact_batches SET status = $1, error = NULL, claimed_at = $2 WHERE id = $3 \
         AND (status IN ($4, $5) OR (status = $1 AND (claimed_at IS NULL OR claimed_at < $6)))"
    )
    .bind(BatchStatus::Uploading.as_str())
    .bind(now)
    .bind(batch_id)
    .bind(BatchStatus::Draft.as_str())
    .bind(BatchStatus::Failed.as_str())
    .bind(now - chrono::Duration::hours(1))
    .execute(pool)
    .await
    .map(|r| r.rows_affected()))?;
    if claimed == 0 {
        return Err(Error::Conflict("This batch is being uploaded right now, or is already in Email Bison.".into()));
    }
    let outcome = upload_steps(state, ws, batch_id).await;
    match &outcome {
        Ok(_) => set(BatchStatus::Uploaded, None).await?,
        Err(e) => set(BatchStatus::Failed, Some(e.to_string())).await?,
    };
    outcome
}

async fn upload_steps(state: &AppState, ws: i64, batch_id: i64) -> Result<i64> {
    let db = &state.db;
    let (key, saved_workspace) =
        workspaces::bison_credentials(db, &state.secrets, ws).await?.ok_or_else(|| Error::invalid("No Email Bison API key is stored for this workspace."))?;
    let campaign = batch_campaign(db, ws).await?;
    let client = BisonClient::new(&state.config.bison_url, &key, RetryPolicy { base_delay: state.config.bison_retry_delay, ..Default::default() });
    // Contacts go only to the Email Bison workspace saved for this client.
    client.ensure_reads(saved_workspace.as_deref()).await.map_err(|e| Error::invalid(e.to_string()))?;
    // 1. Contacts Email Bison would refuse are skipped with their reason, never sent.
    on_db!(db, |pool| sqlx::query(sqlx::AssertSqlSafe(format!(
        "UPDATE contacts SET bison_skip_reason = {MISSING_NAME_REASON} WHERE batch_id = $1 AND bison_lead_id IS NULL AND bison_skip_reason IS NULL AND NOT ({SENDABLE})"
    )))
    .bind(batch_id)
    .execute(pool)
    .await
    .map(|r| r.rows_affected()))?;
    // 2. Create the leads not created yet, 500 at a time. A refusal that names leads skips those
    // and sends the rest again; one that names none is narrowed down by halving the call.
    let mut size = CHUNK;
    let mut refused_alone: Vec<i64> = Vec::new();
    loop {
        let chunk: Vec<(i64, String, Option<String>, Option<String>, Option<String>, Option<String>)> = on_db!(db, |pool| sqlx::query_as(
            "SELECT id, email, first_name, last_name, company, title FROM contacts WHERE batch_id = $1 AND bison_lead_id IS NULL \
             AND bison_skip_reason IS NULL ORDER BY id LIMIT $2"
        )
        .bind(batch_id)
        .bind(size)
        .fetch_all(pool)
        .await)?;
        if chunk.is_empty() {
            break;
        }
        let leads: Vec<serde_json::Value> = chunk
            .iter()
            .map(|(_, email, first, last, company, title)| {
                serde_json::json!({ "email": email, "first_name": first.as_deref().map(str::trim), "last_name": last.as_deref().map(str::trim),
                    "company": company, "title": title })
            })
            .collect();
        let created = match client.create_leads(&leads).await {
            Ok(c) => c,
            Err(BisonError::Invalid(message)) => {
                audit(db, batch_id, "POST /api/leads/multiple", leads.len() as i64, false, Some(message.clone())).await?;
                let named: Vec<usize> = rejected_positions(&message).into_iter().map(|(p, _)| p).filter(|p| *p < chunk.len()).collect();
                if !named.is_empty() {
                    for position in named {
                        skip(db, chunk[position].0, &complaint_about(&message, position)).await?;
                    }
                } else if chunk.len() > 1 {
                    size = (chunk.len() as i64 / 2).max(1);
                } else {
                    skip(db, chunk[0].0, &format!("Email Bison refused it: {}", without_status(&message))).await?;
                    refused_alone.push(chunk[0].0);
                    // Lead after lead refused on its own: the refusal is about the call, not
                    // the leads. Stop (resumable) instead of skipping the whole batch.
                    if refused_alone.len() >= 3 {
                        for contact in &refused_alone {
                            on_db!(db, |pool| sqlx::query("UPDATE contacts SET bison_skip_reason = NULL WHERE id = $1")
                                .bind(contact)
                                .execute(pool)
                                .await
                                .map(|r| r.rows_affected()))?;
                        }
                        return Err(Error::invalid(format!(
                            "Email Bison refuses every lead, even one at a time: {message}. Nothing was skipped; fix what it says, then upload again."
                        )));
                    }
                }
                continue;
            }
            Err(e) => {
                audit(db, batch_id, "POST /api/leads/multiple", leads.len() as i64, false, Some(e.to_string())).await?;
                return Err(Error::invalid(e.to_string()));
            }
        };
        audit(db, batch_id, "POST /api/leads/multiple", leads.len() as i64, true, Some(format!("{} created", created.len()))).await?;
        // Nothing back at all is an answer we don't understand, not a verdict on each lead.
        if created.is_empty() {
            return Err(Error::invalid("Email Bison created none of the leads sent; see the upload log."));
        }
        size = CHUNK;
        refused_alone.clear();
        let created: std::collections::HashMap<&str, &str> = created.iter().map(|(id, email)| (email.as_str(), id.as_str())).collect();
        for (contact, email, ..) in &chunk {
            match created.get(email.to_lowercase().as_str()) {
                Some(bison_id) => {
                    on_db!(db, |pool| sqlx::query("UPDATE contacts SET bison_lead_id = $1 WHERE id = $2 AND bison_lead_id IS NULL")
                        .bind(*bison_id)
                        .bind(contact)
                        .execute(pool)
                        .await
                        .map(|r| r.rows_affected()))?;
                }
                // Accepted without a lead back: sending it again would loop, so it is skipped.
                None => skip(db, *contact, "Email Bison accepted the call but did not create this lead").await?,
            }
        }
    }
    // 3. Attach them all to the campaign.
    let ids: Vec<String> = on_db!(db, |pool| sqlx::query_scalar("SELECT bison_lead_id FROM contacts WHERE batch_id = $1 AND bison_lead_id IS NOT NULL ORDER BY id")
        .bind(batch_id)
        .fetch_all(pool)
        .await)?;
    for part in ids.chunks(CHUNK as usize) {
        let call = format!("POST /api/campaigns/{campaign}/leads/attach-leads");
        if let Err(e) = client.attach_leads(&campaign, part).await {
            audit(db, batch_id, &call, part.len() as i64, false, Some(e.to_string())).await?;
            return Err(Error::invalid(e.to_string()));
        }
        audit(db, batch_id, &call, part.len() as i64, true, None).await?;
    }
    Ok(ids.len() as i64)
}

/// Marks a contact of a batch as not sendable, with the reason the page shows.
async fn skip(db: &Db, contact_id: i64, reason: &str) -> Result<()> {
    on_db!(db, |pool| sqlx::query("UPDATE contacts SET bison_skip_reason = $1 WHERE id = $2")
        .bind(reason.chars().take(300).collect::<String>())
        .bind(contact_id)
        .execute(pool)
        .await
        .map(|r| r.rows_affected()))?;
    Ok(())
}

/// What Email Bison said about the lead at `position` of a call, without the position (which
/// means nothing to the user): "The leads.12.last_name field is required." → "Email Bison refused
/// it: the last name field is required."
fn complaint_about(message: &str, position: usize) -> String {
    let marker = format!("leads.{position}.");
    let said: Vec<String> = message
        .split_inclusive(". ")
        .map(str::trim)
        .filter_map(|sentence| sentence.find(&marker).map(|at| &sentence[sentence[..at].rfind("The ").unwrap_or(0)..]))
        .map(|sentence| {
            let rest = sentence.replacen(&marker, "", 1);
            let field_end = rest.find(" field").unwrap_or(0);
            let (head, tail) = rest.split_at(field_end);
            format!("{}{}", head.replace('_', " ").to_lowercase(), tail.trim_end_matches('.'))
        })
        .collect();
    let mut unique: Vec<String> = Vec::new();
    for s in said {
        if !unique.contains(&s) {
            unique.push(s);
        }
    }
    if unique.is_empty() {
        format!("Email Bison refused it: {}", without_status(message))
    } else {
        format!("Email Bison refused it: {}", unique.join("; "))
    }
}

/// "422 Unprocessable Entity: No leads were added." → "No leads were added."
fn without_status(message: &str) -> &str {
    match message.split_once(": ") {
        Some((status, rest)) if status.len() > 3 && status[..3].bytes().all(|b| b.is_ascii_digit()) => rest,
        _ => message,
    }
}

crate::sql_text_enum!(
    /// Where a weekly batch stands (`contact_batches.status`).
    pub enum BatchStatus ("batch status") { Draft = "draft", Uploading = "uploading", Uploaded = "uploaded", Failed = "failed" }
);

/// A batch, as the contacts page lists it.
#[derive(Clone, Debug, PartialEq, sqlx::FromRow)]
pub struct Batch {
    pub id: i64,
    pub workspace_id: i64,
    pub week_of: String,
    pub size: i64,
    #[sqlx(try_from = "String")]
    pub status: BatchStatus,
    pub uploaded: i64,
    /// Contacts Email Bison can't take, skipped with their reason (`skipped_contacts`).
    pub skipped: i64,
    pub error: Option<String>,
}

/// A workspace's latest batches, newest first.
pub async fn list(db: &Db, workspace_id: i64, limit: i64) -> Result<Vec<Batch>> {
    Ok(on_db!(db, |pool| sqlx::query_as::<_, Batch>(
        "SELECT id, workspace_id, week_of, size, status, uploaded, skipped, error FROM contact_batches WHERE workspace_id = $1 ORDER BY week_of DESC LIMIT $2"
    )
    .bind(workspace_id)
    .bind(limit)
    .fetch_all(pool)
    .await)?)
}

pub async fn get(db: &Db, id: i64) -> Result<Batch> {
    on_db!(db, |pool| sqlx::query_as::<_, Batch>("SELECT id, workspace_id, week_of, size, status, uploaded, skipped, error FROM contact_batches WHERE id = $1")
        .bind(id)
        .fetch_optional(pool)
        .await)?
    .ok_or(Error::NotFound)
}

/// The contacts of a batch that were not sent, with why: (email, reason), by email.
pub async fn skipped_contacts(db: &Db, batch_id: i64) -> Result<Vec<(String, String)>> {
    Ok(on_db!(db, |pool| sqlx::query_as(
        "SELECT email, bison_skip_reason FROM contacts WHERE batch_id = $1 AND bison_lead_id IS NULL AND bison_skip_reason IS NOT NULL ORDER BY email"
    )
    .bind(batch_id)
    .fetch_all(pool)
    .await)?)
}

/// Verified contacts no batch takes because Email Bison would refuse them (no first or last
/// name): how many, and the first `limit` as (email, reason).
pub async fn unsendable(db: &Db, workspace_id: i64, limit: i64) -> Result<(i64, Vec<(String, String)>)> {
    let filter = format!("workspace_id = $1 AND batch_id IS NULL AND NOT ({SENDABLE}) \
         AND (verification = 'safe' OR (verification = 'risky' AND (SELECT accept_risky FROM workspaces WHERE id = $1)))");
    let count: i64 = on_db!(db, |pool| sqlx::query_scalar(sqlx::AssertSqlSafe(format!("SELECT COUNT(*) FROM contacts WHERE {filter}")))
        .bind(workspace_id)
        .fetch_one(pool)
        .await)?;
    let rows = on_db!(db, |pool| sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT email, {MISSING_NAME_REASON} FROM contacts WHERE {filter} ORDER BY email LIMIT $2"
    )))
    .bind(workspace_id)
    .bind(limit)
    .fetch_all(pool)
    .await)?;
    Ok((count, rows))
}

/// How a workspace's weekly batches are made and where they go.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct BatchSettings {
    /// Risky contacts (accept-all domains, role addresses) count as verified.
    pub accept_risky: bool,
    /// The campaign batches are attached to; `None`: the first active Email Bison campaign.
    pub campaign_id: Option<i64>,
}

pub async fn settings(db: &Db, workspace_id: i64) -> Result<BatchSettings> {
    let row: Option<(bool, Option<i64>)> = on_db!(db, |pool| sqlx::query_as("SELECT accept_risky, batch_campaign_id FROM workspaces WHERE id = $1")
        .bind(workspace_id)
        .fetch_optional(pool)
        .await)?;
    let (accept_risky, campaign_id) = row.ok_or(Error::NotFound)?;
    Ok(BatchSettings { accept_risky, campaign_id })
}

/// Saves the settings; a chosen campaign must be this workspace's and known to Email Bison.
pub async fn save_settings(db: &Db, workspace_id: i64, settings: &BatchSettings) -> Result<()> {
    if let Some(campaign) = settings.campaign_id {
        let owner: Option<(i64, Option<String>)> = on_db!(db, |pool| sqlx::query_as("SELECT workspace_id, bison_campaign_id FROM campaigns WHERE id = $1")
            .bind(campaign)
            .fetch_optional(pool)
            .await)?;
        match owner {
            Some((ws, Some(_))) if ws == workspace_id => {}
            Some((ws, None)) if ws == workspace_id => {
                return Err(Error::invalid("That campaign is not in Email Bison yet; sync the workspace, then choose it."));
            }
            _ => return Err(Error::invalid("Choose one of this workspace's campaigns.")),
        }
    }
    let n = on_db!(db, |pool| sqlx::query("UPDATE workspaces SET accept_risky = $1, batch_campaign_id = $2, updated_at = $3 WHERE id = $4")
        .bind(settings.accept_risky)
        .bind(settings.campaign_id)
        .bind(Utc::now())
        .bind(workspace_id)
        .execute(pool)
        .await
        .map(|r| r.rows_affected()))?;
    if n == 0 {
        return Err(Error::NotFound);
    }
    Ok(())
}

/// The workspace's Email Bison campaigns a batch can go to: (id, name, status), active first.
pub async fn campaign_choices(db: &Db, workspace_id: i64) -> Result<Vec<(i64, String, String)>> {
    Ok(on_db!(db, |pool| sqlx::query_as(
        "SELECT id, name, status FROM campaigns WHERE workspace_id = $1 AND bison_campaign_id IS NOT NULL \
         ORDER BY CASE WHEN status = 'active' THEN 0 ELSE 1 END, name, id"
    )
    .bind(workspace_id)
    .fetch_all(pool)
    .await)?)
}

/// The Email Bison id of the campaign this workspace's batches go to: the chosen one, or else
/// its first active campaign.
pub async fn batch_campaign(db: &Db, workspace_id: i64) -> Result<String> {
    let chosen: Option<String> = on_db!(db, |pool| sqlx::query_scalar(
        "SELECT c.bison_campaign_id FROM workspaces w JOIN campaigns c ON c.id = w.batch_campaign_id \
         WHERE w.id = $1 AND c.bison_campaign_id IS NOT NULL"
    )
    .bind(workspace_id)
    .fetch_optional(pool)
    .await)?;
    if let Some(bison_id) = chosen {
        return Ok(bison_id);
    }
    on_db!(db, |pool| sqlx::query_scalar(
        "SELECT bison_campaign_id FROM campaigns WHERE workspace_id = $1 AND status = 'active' AND bison_campaign_id IS NOT NULL ORDER BY id LIMIT 1"
    )
    .bind(workspace_id)
    .fetch_optional(pool)
    .await)?
    .ok_or_else(|| Error::invalid("The workspace has no active Email Bison campaign to add the batch to (sync the workspace first, or choose its campaign)."))
}
