//! Leads of a workspace (the seeds' client_leads): contact fields, the interested reply, the
//! pipeline stage with its history, deal value and the invalid flag.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use crate::{
    db::Db,
    error::{Error, Result},
    on_db,
};

/// Pipeline stages, in order.
pub const STAGES: &[&str] = &["new", "contacted", "follow_up", "meeting_booked", "quote_sent", "won", "lost"];

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
    pub stage: String,
    pub deal_value_cents: Option<i64>,
    pub won_day: Option<NaiveDate>,
    pub invalid: bool,
}

/// Inserts a lead; an email already present in the workspace is a conflict.
pub async fn insert(db: &Db, workspace_id: i64, lead: &NewLead) -> Result<i64> {
    if !STAGES.contains(&lead.stage.as_str()) {
        return Err(Error::invalid(format!("Unknown stage {:?}: use one of {}.", lead.stage, STAGES.join(", "))));
    }
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
    .bind(&lead.stage)
    .bind(now)
    .bind(lead.deal_value_cents)
    .bind(lead.won_day)
    .bind(lead.invalid)
    .fetch_one(pool)
    .await)
    .map_err(|e| {
        if crate::error::is_unique_violation(&e) {
            Error::Conflict(format!("A lead with the email {} already exists in this workspace.", lead.email))
        } else {
            e.into()
        }
    })?;
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
