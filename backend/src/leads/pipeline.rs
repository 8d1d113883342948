//! The client portal's pipeline: a workspace's interested leads by stage, moves between stages
//! (each recorded with who, when, from and to), notes, and the filtered list the CSV export
//! downloads. Every function checks the caller's access to the lead's workspace itself.

use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;

use crate::{
    identity::sessions::SessionUser,
    leads::Stage,
    on_db,
    platform::{
        db::Db,
        error::{Error, Result},
        event_catalog::{NoteAddedData, StageChangedData},
        events::{self, NewEvent},
    },
    tenancy::access::{self, WorkspaceScope, WriteScope},
};

/// The board's filters: text (name, email, company), day received, campaign.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct LeadFilter {
    pub text: String,
    pub from: Option<NaiveDate>,
    pub to: Option<NaiveDate>,
    pub campaign_id: Option<i64>,
}

/// A card on the board (also a row of the CSV export).
#[derive(Clone, Debug, PartialEq, Serialize, sqlx::FromRow)]
pub struct Card {
    pub id: i64,
    pub email: String,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub company: Option<String>,
    pub title: Option<String>,
    pub phone: Option<String>,
    pub campaign: Option<String>,
    pub reply_text: Option<String>,
    pub received_at: Option<DateTime<Utc>>,
    pub interested_day: Option<NaiveDate>,
    #[sqlx(try_from = "String")]
    pub stage: Stage,
    pub deal_value_cents: Option<i64>,
    pub lost_reason: Option<String>,
}

/// One stage's column: how many leads match, what the won ones are worth, the first cards.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Column {
    pub stage: Stage,
    pub total: i64,
    pub value_cents: i64,
    pub cards: Vec<Card>,
}

// The filter as SQL over `leads l` (`$1` workspace, `$2` text pattern or '', `$3`/`$4` days,
// `$5` campaign), shared by the board, its counts and the export.
macro_rules! lead_filter {
    () => {
        "FROM leads l LEFT JOIN campaigns c ON c.id = l.campaign_id \
         WHERE l.workspace_id = $1 AND l.interested \
           AND ($2 = '' OR LOWER(COALESCE(l.first_name, '') || ' ' || COALESCE(l.last_name, '') || ' ' || l.email || ' ' || COALESCE(l.company, '')) LIKE $2) \
           AND ($3 IS NULL OR l.interested_day >= $3) AND ($4 IS NULL OR l.interested_day <= $4) \
           AND ($5 IS NULL OR l.campaign_id = $5) "
    };
}
macro_rules! card_columns {
    () => {
        "l.id, l.email, l.first_name, l.last_name, l.company, l.title, l.phone, c.name AS campaign, l.reply_text, \
         l.received_at, l.interested_day, l.stage, l.deal_value_cents, l.lost_reason"
    };
}

fn pattern(text: &str) -> String {
    let t = text.trim().to_lowercase();
    if t.is_empty() {
        String::new()
    } else {
        // LIKE wildcards typed by the user are taken literally enough: they only widen a search.
        format!("%{t}%")
    }
}

/// The board of a workspace: one column per stage, each with its count (and, for `won`, total
/// deal value) and its newest `per_column` cards.
pub async fn board(db: &Db, workspace_id: i64, filter: &LeadFilter, per_column: i64) -> Result<Vec<Column>> {
    let pat = pattern(&filter.text);
    let counts: Vec<(String, i64, Option<i64>)> = on_db!(db, |pool| sqlx::query_as(concat!(
        "SELECT l.stage, COUNT(*), CAST(SUM(l.deal_value_cents) AS BIGINT) ",
        lead_filter!(),
        "GROUP BY l.stage"
    ))
    .bind(workspace_id)
    .bind(&pat)
    .bind(filter.from)
    .bind(filter.to)
    .bind(filter.campaign_id)
    .fetch_all(pool)
    .await)?;
    let cards: Vec<Card> = on_db!(db, |pool| sqlx::query_as(concat!(
        "SELECT id, email, first_name, last_name, company, title, phone, campaign, reply_text, received_at, interested_day, stage, \
         deal_value_cents, lost_reason FROM (SELECT ",
        card_columns!(),
        ", ROW_NUMBER() OVER (PARTITION BY l.stage ORDER BY l.received_at DESC, l.id DESC) AS rn ",
        lead_filter!(),
        ") t WHERE rn <= $6 ORDER BY received_at DESC, id DESC"
    ))
    .bind(workspace_id)
    .bind(&pat)
    .bind(filter.from)
    .bind(filter.to)
    .bind(filter.campaign_id)
    .bind(per_column)
    .fetch_all(pool)
    .await)?;
    let mut columns: Vec<Column> = Stage::ALL
        .iter()
        .map(|&stage| {
            let (total, value) = counts.iter().find(|c| stage == c.0.as_str()).map(|c| (c.1, c.2.unwrap_or(0))).unwrap_or((0, 0));
            Column { stage, total, value_cents: if stage == Stage::Won { value } else { 0 }, cards: Vec::new() }
        })
        .collect();
    for card in cards {
        if let Some(col) = columns.iter_mut().find(|c| c.stage == card.stage) {
            col.cards.push(card);
        }
    }
    Ok(columns)
}

/// Every lead matching the filter, newest first (the CSV export).
pub async fn filtered_leads(db: &Db, workspace_id: i64, filter: &LeadFilter) -> Result<Vec<Card>> {
    Ok(on_db!(db, |pool| sqlx::query_as::<_, Card>(concat!(
        "SELECT ",
        card_columns!(),
        " ",
        lead_filter!(),
        "ORDER BY l.received_at DESC, l.id DESC"
    ))
    .bind(workspace_id)
    .bind(pattern(&filter.text))
    .bind(filter.from)
    .bind(filter.to)
    .bind(filter.campaign_id)
    .fetch_all(pool)
    .await)?)
}

/// The workspace's campaigns (id, name), for the board's campaign filter.
pub async fn campaigns(db: &Db, workspace_id: i64) -> Result<Vec<(i64, String)>> {
    Ok(on_db!(db, |pool| sqlx::query_as::<_, (i64, String)>("SELECT id, name FROM campaigns WHERE workspace_id = $1 ORDER BY name")
        .bind(workspace_id)
        .fetch_all(pool)
        .await)?)
}

/// The caller's scope in the lead's workspace; `NotFound` when the caller may not see it
/// (indistinguishable from a lead that does not exist).
async fn locate(db: &Db, caller: &SessionUser, lead_id: i64) -> Result<WorkspaceScope> {
    let ws: Option<i64> = on_db!(db, |pool| sqlx::query_scalar("SELECT workspace_id FROM leads WHERE id = $1")
        .bind(lead_id)
        .fetch_optional(pool)
        .await)?;
    access::scope(db, caller, ws.ok_or(Error::NotFound)?).await
}

/// A stage change asked for by a user.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Move {
    pub to_stage: String,
    /// Required to move to `won`.
    pub deal_value_cents: Option<i64>,
    /// Optional, for `lost`.
    pub lost_reason: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Moved {
    pub lead_id: i64,
    pub workspace_id: i64,
    pub from_stage: Stage,
    pub to_stage: Stage,
}

/// Moves a lead to another stage. Concurrent moves of the same lead apply in turn — the last one
/// wins — and each is recorded with the stage it actually left, so history never loses a step.
pub async fn move_lead(db: &Db, caller: &SessionUser, lead_id: i64, m: Move, today: NaiveDate) -> Result<Moved> {
    let scope = locate(db, caller, lead_id).await?.writable()?;
    let ws = scope.workspace_id();
    let to: Stage = m.to_stage.parse()?;
    let deal = match (to, m.deal_value_cents) {
        (Stage::Won, None) => return Err(Error::invalid("Enter the deal value to move a lead to won.")),
        (_, Some(v)) if v < 0 => return Err(Error::invalid("The deal value cannot be negative.")),
        (_, v) => v,
    };
    let reason = m.lost_reason.map(|r| r.trim().chars().take(500).collect::<String>()).filter(|r| !r.is_empty() && to == Stage::Lost);
    let note = match to {
        Stage::Won => deal.map(|c| format!("deal value {}.{:02}", c / 100, c % 100)),
        Stage::Lost => reason.clone(),
        _ => None,
    };
    // Compare-and-set on the stage: if another move lands between our read and our write, read
    // again and record the stage we really leave.
    for _ in 0..8 {
        let from: String = on_db!(db, |pool| sqlx::query_scalar("SELECT stage FROM leads WHERE id = $1")
            .bind(lead_id)
            .fetch_optional(pool)
            .await)?
        .ok_or(Error::NotFound)?;
        let from: Stage = from.parse()?;
        if from == to && to != Stage::Won {
            return Ok(Moved { lead_id, workspace_id: ws, from_stage: from, to_stage: to });
        }
        let now = Utc::now();
        let event = NewEvent::new(
            ws,
            events::LEAD_STAGE_CHANGED,
            &StageChangedData {
                workspace: String::new(),
                lead_id,
                from: from.as_str().to_owned(),
                to: to.as_str().to_owned(),
                deal_value_cents: deal.filter(|_| to == Stage::Won),
                lost_reason: reason.clone(),
                by: caller.display_name.clone(),
            },
        )
        .lead(lead_id)
        .actor(Some(caller.user_id))
        .at(now);
        let applied = on_db!(db, |pool| async {
            let mut tx = pool.begin().await?;
            let n = sqlx::query(
                "UPDATE leads SET stage = $1, stage_changed_at = $2, updated_at = $2, \
                 won_day = CASE WHEN $1 = 'won' THEN $3 ELSE NULL END, \
                 deal_value_cents = CASE WHEN $1 = 'won' THEN $4 ELSE deal_value_cents END, \
                 lost_reason = CASE WHEN $1 = 'lost' THEN $5 ELSE NULL END \
                 WHERE id = $6 AND stage = $7",
            )
            .bind(to.as_str())
            .bind(now)
            .bind(today)
            .bind(deal)
            .bind(&reason)
            .bind(lead_id)
            .bind(from.as_str())
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if n == 0 {
                tx.rollback().await?;
                return Ok::<bool, sqlx::Error>(false);
            }
            sqlx::query(
                "INSERT INTO lead_stage_history (lead_id, workspace_id, from_stage, to_stage, actor_user_id, note, at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7)",
            )
            .bind(lead_id)
            .bind(ws)
            .bind(from.as_str())
            .bind(to.as_str())
            .bind(caller.user_id)
            .bind(&note)
            .bind(now)
            .execute(&mut *tx)
            .await?;
            crate::record_event!(&mut *tx, &event)?;
            tx.commit().await?;
            Ok(true)
        }
        .await)?;
        if applied {
            return Ok(Moved { lead_id, workspace_id: ws, from_stage: from, to_stage: to });
        }
    }
    Err(Error::Conflict("This lead is being moved by someone else right now; try again.".into()))
}

/// A note on a lead.
#[derive(Clone, Debug, PartialEq, Serialize, sqlx::FromRow)]
pub struct Note {
    pub id: i64,
    pub author_user_id: Option<i64>,
    pub author_name: String,
    pub body: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// One step of a lead's history. Steps are listed in the order they were committed (by id): a
/// move's time is taken before it waits for a concurrent one, so times can interleave.
#[derive(Clone, Debug, PartialEq, Serialize, sqlx::FromRow)]
pub struct Step {
    pub from_stage: Option<String>,
    pub to_stage: String,
    pub actor: Option<String>,
    pub note: Option<String>,
    pub at: DateTime<Utc>,
}

/// A lead with its notes and stage history.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct LeadDetail {
    pub workspace_id: i64,
    pub lead: Card,
    pub notes: Vec<Note>,
    pub history: Vec<Step>,
    pub can_write: bool,
}

pub async fn lead_detail(db: &Db, caller: &SessionUser, lead_id: i64) -> Result<LeadDetail> {
    let scope = locate(db, caller, lead_id).await?;
    let (ws, level) = (scope.workspace_id(), scope.level());
    let lead = on_db!(db, |pool| sqlx::query_as::<_, Card>(concat!(
        "SELECT ",
        card_columns!(),
        " FROM leads l LEFT JOIN campaigns c ON c.id = l.campaign_id WHERE l.id = $1"
    ))
    .bind(lead_id)
    .fetch_one(pool)
    .await)?;
    let notes = on_db!(db, |pool| sqlx::query_as::<_, Note>(
        "SELECT id, author_user_id, author_name, body, created_at, updated_at FROM lead_notes WHERE lead_id = $1 ORDER BY created_at, id"
    )
    .bind(lead_id)
    .fetch_all(pool)
    .await)?;
    let history = on_db!(db, |pool| sqlx::query_as::<_, Step>(
        "SELECT h.from_stage, h.to_stage, u.display_name AS actor, h.note, h.at FROM lead_stage_history h \
         LEFT JOIN users u ON u.id = h.actor_user_id WHERE h.lead_id = $1 ORDER BY h.id"
    )
    .bind(lead_id)
    .fetch_all(pool)
    .await)?;
    Ok(LeadDetail { workspace_id: ws, lead, notes, history, can_write: level.can_write() })
}

fn note_body(body: &str) -> Result<String> {
    let body = body.trim();
    if body.is_empty() {
        return Err(Error::invalid("Write something in the note."));
    }
    if body.chars().count() > 5_000 {
        return Err(Error::invalid("A note holds at most 5,000 characters."));
    }
    Ok(body.to_owned())
}

/// The live event of a note written or edited, run inside the note's own transaction (a macro:
/// `on_db!` compiles the body once per backend).
fn note_event(ws: i64, lead_id: i64, note_id: i64, actor: i64, at: DateTime<Utc>, edited: bool) -> NewEvent {
    let data = NoteAddedData { workspace: String::new(), lead_id, note_id, edited };
    NewEvent::new(ws, events::LEAD_NOTE_ADDED, &data).lead(lead_id).actor(Some(actor)).at(at)
}

/// Adds a note (client or admin of the lead's workspace).
pub async fn add_note(db: &Db, caller: &SessionUser, lead_id: i64, body: &str) -> Result<i64> {
    let scope = locate(db, caller, lead_id).await?.writable()?;
    let ws = scope.workspace_id();
    let body = note_body(body)?;
    let now = Utc::now();
    // The note and its live event in one transaction: never one without the other.
    let id = on_db!(db, |pool| async {
        let mut tx = pool.begin().await?;
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO lead_notes (lead_id, workspace_id, author_user_id, author_name, body, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $6) RETURNING id",
        )
        .bind(lead_id)
        .bind(ws)
        .bind(caller.user_id)
        .bind(&caller.display_name)
        .bind(&body)
        .bind(now)
        .fetch_one(&mut *tx)
        .await?;
        crate::record_event!(&mut *tx, &note_event(ws, lead_id, id, caller.user_id, now, false))?;
        tx.commit().await?;
        Ok::<i64, sqlx::Error>(id)
    }
    .await)?;
    Ok(id)
}

/// Edits a note: its author may, and admins.
pub async fn edit_note(db: &Db, caller: &SessionUser, note_id: i64, body: &str) -> Result<()> {
    let row: Option<(i64, Option<i64>)> = on_db!(db, |pool| sqlx::query_as("SELECT lead_id, author_user_id FROM lead_notes WHERE id = $1")
        .bind(note_id)
        .fetch_optional(pool)
        .await)?;
    let (lead_id, author) = row.ok_or(Error::NotFound)?;
    let scope = locate(db, caller, lead_id).await?.writable()?;
    let ws = scope.workspace_id();
    if !(caller.is_admin() || author == Some(caller.user_id)) {
        return Err(Error::Forbidden);
    }
    let body = note_body(body)?;
    let now = Utc::now();
    on_db!(db, |pool| async {
        let mut tx = pool.begin().await?;
        sqlx::query("UPDATE lead_notes SET body = $1, updated_at = $2 WHERE id = $3").bind(&body).bind(now).bind(note_id).execute(&mut *tx).await?;
        crate::record_event!(&mut *tx, &note_event(ws, lead_id, note_id, caller.user_id, now, true))?;
        tx.commit().await
    }
    .await)?;
    Ok(())
}

/// A workspace's leads after `after_id`, in id order: the API's cursor pages. Ids only grow, so
/// walking the pages never repeats or skips a lead while new ones arrive (a new lead lands on a
/// later page). The board's filters apply, and optionally one stage.
pub async fn page(db: &Db, scope: &WorkspaceScope, filter: &LeadFilter, stage: Option<Stage>, after_id: i64, limit: i64) -> Result<Vec<Card>> {
    let sql = concat!("SELECT ", card_columns!(), " ", lead_filter!(), "AND ($6 IS NULL OR l.stage = $6) AND l.id > $7 ORDER BY l.id LIMIT $8");
    Ok(on_db!(db, |pool| sqlx::query_as::<_, Card>(sql)
        .bind(scope.workspace_id())
        .bind(pattern(&filter.text))
        .bind(filter.from)
        .bind(filter.to)
        .bind(filter.campaign_id)
        .bind(stage.map(|s| s.as_str()))
        .bind(after_id)
        .bind(limit.clamp(1, 500))
        .fetch_all(pool)
        .await)?)
}

/// One lead of the scope's workspace (`NotFound` for a lead of any other workspace).
pub async fn card(db: &Db, scope: &WorkspaceScope, lead_id: i64) -> Result<Card> {
    let sql = concat!("SELECT ", card_columns!(), " FROM leads l LEFT JOIN campaigns c ON c.id = l.campaign_id WHERE l.workspace_id = $1 AND l.id = $2");
    on_db!(db, |pool| sqlx::query_as::<_, Card>(sql).bind(scope.workspace_id()).bind(lead_id).fetch_optional(pool).await)?.ok_or(Error::NotFound)
}

/// A lead a tool pushes in (REST v1; also its wire shape).
#[derive(Clone, Debug, Default, serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PushedLead {
    #[schema(format = Email, max_length = 320)]
    pub email: String,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub company: Option<String>,
    pub title: Option<String>,
    pub phone: Option<String>,
    /// The message that made them a lead.
    pub reply_text: Option<String>,
}

/// Puts a pushed lead on the board at `new`, interested today, with its `lead.created` event in
/// the same transaction. An email already in the workspace is a conflict.
pub async fn push(db: &Db, scope: &WriteScope, lead: &PushedLead, today: NaiveDate) -> Result<i64> {
    let email = lead.email.trim().to_lowercase();
    if !crate::platform::csv_input::valid_email(&email) {
        return Err(Error::invalid(format!("{:?} is not an email address.", lead.email)));
    }
    let clean = |v: &Option<String>, max: usize| v.as_deref().map(str::trim).filter(|s| !s.is_empty()).map(|s| s.chars().take(max).collect::<String>());
    let (first, last, company, title, phone, reply) =
        (clean(&lead.first_name, 200), clean(&lead.last_name, 200), clean(&lead.company, 300), clean(&lead.title, 200), clean(&lead.phone, 50), clean(&lead.reply_text, 20_000));
    let now = Utc::now();
    let ws = scope.workspace_id();
    let result = on_db!(db, |pool| async {
        let mut tx = pool.begin().await?;
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO leads (workspace_id, email, first_name, last_name, company, title, phone, reply_text, received_at, interested, interested_day, \
             stage, stage_changed_at, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, TRUE, $10, 'new', $9, $9, $9) RETURNING id",
        )
        .bind(ws)
        .bind(&email)
        .bind(&first)
        .bind(&last)
        .bind(&company)
        .bind(&title)
        .bind(&phone)
        .bind(&reply)
        .bind(now)
        .bind(today)
        .fetch_one(&mut *tx)
        .await?;
        sqlx::query(
            "INSERT INTO lead_stage_history (lead_id, workspace_id, from_stage, to_stage, actor_user_id, note, at) VALUES ($1, $2, NULL, 'new', $3, 'pushed in through the API', $4)",
        )
        .bind(id)
        .bind(ws)
        .bind(scope.user_id())
        .bind(now)
        .execute(&mut *tx)
        .await?;
        let data = crate::platform::event_catalog::LeadData {
            workspace: String::new(),
            lead_id: id,
            email: email.clone(),
            first_name: first.clone().unwrap_or_default(),
            last_name: last.clone().unwrap_or_default(),
            company: company.clone().unwrap_or_default(),
            title: title.clone().unwrap_or_default(),
            stage: Stage::New.as_str().into(),
            source: "api".into(),
            campaign_id: None,
        };
        crate::record_event!(&mut *tx, &NewEvent::new(ws, events::LEAD_CREATED, &data).lead(id).actor(Some(scope.user_id())).at(now))?;
        tx.commit().await?;
        Ok::<i64, sqlx::Error>(id)
    }
    .await);
    result.map_err(crate::platform::error::on_unique(|| Error::Conflict(format!("A lead with the email {email} already exists in this workspace."))))
}
