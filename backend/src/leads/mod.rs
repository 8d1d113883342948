//! Leads of a workspace (the seeds' client_leads): contact fields, the interested reply, the
//! pipeline stage with its history, deal value and the invalid flag.

pub mod pipeline;

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use crate::{
    on_db,
    platform::db::Db,
    platform::error::{Error, Result},
    platform::event_catalog::LeadData,
    platform::events::{self, NewEvent},
};

crate::sql_text_enum!(
    /// Pipeline stages, in board order (`leads.stage`).
    pub enum Stage ("stage") {
        New = "new",
        Contacted = "contacted",
        FollowUp = "follow_up",
        MeetingBooked = "meeting_booked",
        QuoteSent = "quote_sent",
        Won = "won",
        Lost = "lost",
    }
);

impl Default for Stage {
    /// Where a lead starts.
    fn default() -> Self {
        Stage::New
    }
}

/// A lead as it arrives (sync, webhook, import, demo).
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct NewLead {
    pub email: String,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub company: Option<String>,
    pub campaign_id: Option<i64>,
    pub reply_text: Option<String>,
    pub received_at: Option<DateTime<Utc>>,
    /// Agency day the lead was marked interested (None: not interested).
    pub interested_day: Option<NaiveDate>,
    pub stage: Stage,
    pub deal_value_cents: Option<i64>,
    pub won_day: Option<NaiveDate>,
    pub invalid: bool,
}

/// Inserts a lead; an email already present in the workspace is a conflict.
pub async fn insert(db: &Db, workspace_id: i64, lead: &NewLead) -> Result<i64> {
    let now = Utc::now();
    let id = on_db!(db, |pool| sqlx::query_scalar::<_, i64>(
        "INSERT INTO leads (workspace_id, campaign_id, email, first_name, last_name, company, reply_text, received_at, \
         interested, interested_day, stage, stage_changed_at, deal_value_cents, won_day, invalid, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $12, $12) RETURNING id"
    )
    .bind(workspace_id)
    .bind(lead.campaign_id)
    .bind(lead.email.trim().to_lowercase())
    .bind(&lead.first_name)
    .bind(&lead.last_name)
    .bind(&lead.company)
    .bind(&lead.reply_text)
    .bind(lead.received_at)
    .bind(lead.interested_day.is_some())
    .bind(lead.interested_day)
    .bind(lead.stage.as_str())
    .bind(now)
    .bind(lead.deal_value_cents)
    .bind(lead.won_day)
    .bind(lead.invalid)
    .fetch_one(pool)
    .await)
    .map_err(crate::platform::error::on_unique(|| Error::Conflict(format!("A lead with the email {} already exists in this workspace.", lead.email))))?;
    Ok(id)
}

/// Interested leads per workspace: month to date, and in the 7 complete days before today.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, sqlx::FromRow)]
pub struct InterestedCounts {
    pub workspace_id: i64,
    pub mtd: i64,
    pub last_7_days: i64,
}

pub async fn interested_counts(db: &Db, month_start: NaiveDate, today: NaiveDate) -> Result<Vec<InterestedCounts>> {
    let week_start = today - chrono::Duration::days(7);
    let yesterday = today - chrono::Duration::days(1);
    let from = month_start.min(week_start);
    Ok(on_db!(db, |pool| sqlx::query_as::<_, InterestedCounts>(
        "SELECT workspace_id, \
                SUM(CASE WHEN interested_day >= $1 AND interested_day <= $2 THEN 1 ELSE 0 END) AS mtd, \
                SUM(CASE WHEN interested_day >= $3 AND interested_day <= $4 THEN 1 ELSE 0 END) AS last_7_days \
         FROM leads WHERE interested_day >= $5 AND interested_day <= $2 GROUP BY workspace_id"
    )
    .bind(month_start)
    .bind(today)
    .bind(week_start)
    .bind(yesterday)
    .bind(from)
    .fetch_all(pool)
    .await)?)
}

/// Interested leads per workspace and day in `[from, to]`, for trend lines.
pub async fn interested_by_day(db: &Db, from: NaiveDate, to: NaiveDate) -> Result<Vec<(i64, NaiveDate, i64)>> {
    Ok(on_db!(db, |pool| sqlx::query_as::<_, (i64, NaiveDate, i64)>(
        "SELECT workspace_id, interested_day, COUNT(*) FROM leads \
         WHERE interested_day >= $1 AND interested_day <= $2 GROUP BY workspace_id, interested_day"
    )
    .bind(from)
    .bind(to)
    .fetch_all(pool)
    .await)?)
}

/// Links the workspace's leads that came from an Email Bison campaign unknown at the time to
/// that campaign, now that a sync brought it. Returns how many were linked.
pub async fn link_campaigns(db: &Db, workspace_id: i64) -> Result<u64> {
    Ok(on_db!(db, |pool| sqlx::query(
        "UPDATE leads SET campaign_id = (SELECT c.id FROM campaigns c WHERE c.workspace_id = leads.workspace_id AND c.bison_campaign_id = leads.bison_campaign_id) \
         WHERE workspace_id = $1 AND campaign_id IS NULL AND bison_campaign_id IS NOT NULL \
         AND EXISTS (SELECT 1 FROM campaigns c WHERE c.workspace_id = leads.workspace_id AND c.bison_campaign_id = leads.bison_campaign_id)"
    )
    .bind(workspace_id)
    .execute(pool)
    .await
    .map(|r| r.rows_affected()))?)
}

/// An interested reply, as Email Bison reports it (webhook or sync).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct InterestedReply {
    pub email: String,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub company: Option<String>,
    pub title: Option<String>,
    pub bison_lead_id: Option<String>,
    /// The Email Bison campaign the reply came from. The lead is linked to it when that campaign
    /// is known here (synced from Email Bison); a campaign is never invented from a reply.
    pub bison_campaign_id: Option<String>,
    pub reply_text: Option<String>,
    pub received_at: DateTime<Utc>,
}

/// The public `data` of a lead's `lead.created` / `lead.interested` event.
fn event_data(lead_id: i64, email: &str, reply: &InterestedReply, campaign_id: Option<i64>, stage: &str, source: &str) -> LeadData {
    let text = |v: &Option<String>| v.clone().unwrap_or_default();
    LeadData {
        workspace: String::new(),
        lead_id,
        email: email.to_owned(),
        first_name: text(&reply.first_name),
        last_name: text(&reply.last_name),
        company: text(&reply.company),
        title: text(&reply.title),
        stage: stage.to_owned(),
        source: source.to_owned(),
        campaign_id,
    }
}

/// What an upsert did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Upserted {
    /// A new lead on the board (stage `new`).
    Created(i64),
    /// A known contact just turned interested: now on the board.
    BecameInterested(i64),
    /// Already interested: nothing changed.
    Unchanged(i64),
}

/// Puts an interested reply on the workspace's board: creates the lead (stage `new`), or marks a
/// known contact interested; a lead already interested is left as it is, so repeated deliveries
/// and repeated syncs change nothing. The board's event log gets a `lead.interested` (and for a new lead `lead.created`) in the same
/// transaction.
pub async fn upsert_interested(db: &Db, workspace_id: i64, reply: &InterestedReply, interested_day: NaiveDate) -> Result<Upserted> {
    let email = reply.email.trim().to_lowercase();
    if !email.contains('@') {
        return Err(Error::invalid(format!("{:?} is not an email address.", reply.email)));
    }
    // Two deliveries for one new contact can race to insert it: the loser reads it again.
    let begin = db.begin_read_write();
    for _ in 0..3 {
        let result = on_db!(db, |pool| async {
            let mut tx = pool.begin_with(begin).await?;
            let campaign_id: Option<i64> = match &reply.bison_campaign_id {
                None => None,
                Some(bison_id) => sqlx::query_scalar("SELECT id FROM campaigns WHERE workspace_id = $1 AND bison_campaign_id = $2")
                    .bind(workspace_id)
                    .bind(bison_id)
                    .fetch_optional(&mut *tx)
                    .await?,
            };
            let existing: Option<(i64, bool, String)> = sqlx::query_as("SELECT id, interested, stage FROM leads WHERE workspace_id = $1 AND email = $2")
                .bind(workspace_id)
                .bind(&email)
                .fetch_optional(&mut *tx)
                .await?;
            let now = Utc::now();
            let outcome = match existing {
                Some((id, true, _)) => Upserted::Unchanged(id),
                Some((id, false, _)) => {
                    sqlx::query(
                        "UPDATE leads SET interested = TRUE, interested_day = $1, reply_text = COALESCE($2, reply_text), received_at = $3, \
                         campaign_id = COALESCE($4, campaign_id), bison_lead_id = COALESCE($5, bison_lead_id), updated_at = $6, \
                         bison_campaign_id = COALESCE($8, bison_campaign_id) WHERE id = $7",
                    )
                    .bind(interested_day)
                    .bind(&reply.reply_text)
                    .bind(reply.received_at)
                    .bind(campaign_id)
                    .bind(&reply.bison_lead_id)
                    .bind(now)
                    .bind(id)
                    .bind(&reply.bison_campaign_id)
                    .execute(&mut *tx)
                    .await?;
                    Upserted::BecameInterested(id)
                }
                None => {
                    let id: i64 = sqlx::query_scalar(
                        "INSERT INTO leads (workspace_id, campaign_id, bison_lead_id, email, first_name, last_name, company, title, reply_text, \
                         received_at, interested, interested_day, stage, stage_changed_at, created_at, updated_at, bison_campaign_id) \
                         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, TRUE, $11, 'new', $12, $12, $12, $13) RETURNING id",
                    )
                    .bind(workspace_id)
                    .bind(campaign_id)
                    .bind(&reply.bison_lead_id)
                    .bind(&email)
                    .bind(&reply.first_name)
                    .bind(&reply.last_name)
                    .bind(&reply.company)
                    .bind(&reply.title)
                    .bind(&reply.reply_text)
                    .bind(reply.received_at)
                    .bind(interested_day)
                    .bind(now)
                    .bind(&reply.bison_campaign_id)
                    .fetch_one(&mut *tx)
                    .await?;
                    sqlx::query(
                        "INSERT INTO lead_stage_history (lead_id, workspace_id, from_stage, to_stage, actor_user_id, note, at) \
                         VALUES ($1, $2, NULL, 'new', NULL, 'interested reply (Email Bison)', $3)",
                    )
                    .bind(id)
                    .bind(workspace_id)
                    .bind(now)
                    .execute(&mut *tx)
                    .await?;
                    Upserted::Created(id)
                }
            };
            if let Upserted::Created(id) | Upserted::BecameInterested(id) = outcome {
                let stage = existing.map_or_else(|| Stage::New.as_str().to_owned(), |(_, _, stage)| stage);
                let data = event_data(id, &email, reply, campaign_id, &stage, "email_bison");
                if let Upserted::Created(_) = outcome {
                    crate::record_event!(&mut *tx, &NewEvent::new(workspace_id, events::LEAD_CREATED, &data).lead(id).at(now))?;
                }
                crate::record_event!(&mut *tx, &NewEvent::new(workspace_id, events::LEAD_INTERESTED, &data).lead(id).at(now))?;
            }
            tx.commit().await?;
            Ok::<Upserted, sqlx::Error>(outcome)
        }
        .await);
        match result {
            Ok(outcome) => return Ok(outcome),
            Err(e) if crate::platform::error::is_unique_violation(&e) => continue,
            Err(e) => return Err(e.into()),
        }
    }
    Err(Error::Conflict(format!("the lead {email} kept changing while it was being saved; it will be retried")))
}
