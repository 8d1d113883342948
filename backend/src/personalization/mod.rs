//! AI personalization campaigns (seed 004): a campaign of a workspace takes leads CSVs; each
//! upload is a run — `extracting` → `personalizing` → `completed` | `failed` (or `cancelled`) —
//! worked as a job (see [`engine`]). Admins see every campaign; a workspace's client users see
//! and run their own when the workspace allows it.

pub mod engine;
pub mod extract;
pub mod writer;

use std::path::Path;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::{
    tenancy::access::{self, AccessLevel},
    platform::db::Db,
    platform::error::{Error, Result},
    on_db,
    identity::sessions::SessionUser,
    AppState,
};

pub use writer::Writer;

/// Hours a personalized lead saves (seed 004).
pub const HOURS_PER_LEAD: f64 = 0.02;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, sqlx::FromRow)]
pub struct Campaign {
    pub id: i64,
    pub workspace_id: i64,
    pub name: String,
    pub offer: String,
    pub example_line: String,
    pub created_at: DateTime<Utc>,
}

crate::sql_text_enum!(
    /// Where a run stands (`personalization_runs.status`): its file being read, its leads being
    /// written, or finished one way or another.
    pub enum RunStatus ("run status") {
        Extracting = "extracting",
        Personalizing = "personalizing",
        Completed = "completed",
        Failed = "failed",
        Cancelled = "cancelled",
    }
);

crate::sql_text_enum!(
    /// Where one lead of a run stands (`personalization_leads.status`).
    pub enum LeadStatus ("lead status") { Pending = "pending", Done = "done", Failed = "failed" }
);

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, sqlx::FromRow)]
pub struct Run {
    pub id: i64,
    pub campaign_id: i64,
    pub workspace_id: i64,
    pub created_by: Option<i64>,
    pub created_at: DateTime<Utc>,
    pub file_name: String,
    #[sqlx(try_from = "String")]
    pub writer: Writer,
    #[sqlx(try_from = "String")]
    pub status: RunStatus,
    pub rows_total: i64,
    pub rejected: i64,
    pub skipped: i64,
    pub total: i64,
    pub done: i64,
    pub failed: i64,
    pub cancel_requested: bool,
    pub error: Option<String>,
    pub finished_at: Option<DateTime<Utc>>,
    pub rejected_path: Option<String>,
}

impl Run {
    pub fn is_active(&self) -> bool {
        matches!(self.status, RunStatus::Extracting | RunStatus::Personalizing)
    }
}

const RUN_COLUMNS: &str = "id, campaign_id, workspace_id, created_by, created_at, file_name, writer, status, rows_total, rejected, skipped, total, done, \
                           failed, cancel_requested, error, finished_at, rejected_path";

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, sqlx::FromRow)]
pub struct Lead {
    pub id: i64,
    pub run_id: i64,
    pub line_no: i64,
    pub email: String,
    pub company: String,
    pub fields: String,
    pub original: String,
    #[sqlx(try_from = "String")]
    pub status: LeadStatus,
    pub writer: Option<String>,
    pub research: Option<String>,
    pub line: Option<String>,
    pub error: Option<String>,
    pub edited_by: Option<i64>,
    pub prompt_tokens: i64,
    pub completion_tokens: i64,
    /// The known costs of the lead's calls, in USD…
    pub cost_usd: f64,
    /// …and how many calls' cost is unknown (not in that sum).
    pub unknown_cost_calls: i64,
}

impl Lead {
    /// What the lead's AI calls cost, as people read it (see [`cost_label`]).
    pub fn cost_label(&self) -> String {
        cost_label(self.cost_usd, self.unknown_cost_calls)
    }
}

/// A total of AI costs that never passes unknown costs off as free: `$0.0131`, or
/// `$0.0050 + 2 calls of unknown cost`.
pub fn cost_label(known_usd: f64, unknown_calls: i64) -> String {
    match unknown_calls {
        0 => format!("${known_usd:.4}"),
        1 => format!("${known_usd:.4} + 1 call of unknown cost"),
        n => format!("${known_usd:.4} + {n} calls of unknown cost"),
    }
}

const LEAD_COLUMNS: &str =
    "id, run_id, line_no, email, company, fields, original, status, writer, research, line, error, edited_by, prompt_tokens, completion_tokens, cost_usd, \
     unknown_cost_calls";

/// The caller may use personalization in this workspace: admins anywhere; client users where
/// their workspace allows it (others: not found, as if it did not exist).
pub async fn require_access(db: &Db, caller: &SessionUser, workspace_id: i64) -> Result<AccessLevel> {
    Ok(scope(db, caller, workspace_id).await?.level())
}

async fn scope(db: &Db, caller: &SessionUser, workspace_id: i64) -> Result<access::WorkspaceScope> {
    let scope = access::scope(db, caller, workspace_id).await?;
    if scope.level() == AccessLevel::Admin {
        return Ok(scope);
    }
    let allowed: bool = on_db!(db, |pool| sqlx::query_scalar("SELECT personalization_for_clients FROM workspaces WHERE id = $1")
        .bind(workspace_id)
        .fetch_one(pool)
        .await)?;
    if !allowed {
        return Err(Error::NotFound);
    }
    Ok(scope)
}

/// Same, for changes: viewers read only, and an archived workspace is not changed.
async fn require_write(db: &Db, caller: &SessionUser, workspace_id: i64) -> Result<access::WriteScope> {
    scope(db, caller, workspace_id).await?.writable()
}

pub async fn set_client_access(db: &Db, caller: &SessionUser, workspace_id: i64, allowed: bool) -> Result<()> {
    access::require_admin(caller)?;
    let n = on_db!(db, |pool| sqlx::query("UPDATE workspaces SET personalization_for_clients = $1 WHERE id = $2")
        .bind(allowed)
        .bind(workspace_id)
        .execute(pool)
        .await
        .map(|r| r.rows_affected()))?;
    if n == 0 {
        return Err(Error::NotFound);
    }
    Ok(())
}

/// Opens or closes personalization to the client users of several workspaces (by slug) at once:
/// all the changes or none. Unknown slugs are refused (the form was older than a rename/delete).
pub async fn set_client_access_many(db: &Db, caller: &SessionUser, changes: &[(String, bool)]) -> Result<()> {
    access::require_admin(caller)?;
    let changed: Vec<u64> = on_db!(db, |pool| async {
        let mut tx = pool.begin().await?;
        let mut changed = Vec::with_capacity(changes.len());
        for (slug, allowed) in changes {
            let r = sqlx::query("UPDATE workspaces SET personalization_for_clients = $1 WHERE slug = $2")
                .bind(allowed)
                .bind(slug)
                .execute(&mut *tx)
                .await?;
            changed.push(r.rows_affected());
        }
        if changed.contains(&0) {
            tx.rollback().await?;
        } else {
            tx.commit().await?;
        }
        Ok::<_, sqlx::Error>(changed)
    }
    .await)?;
    if let Some(i) = changed.iter().position(|n| *n == 0) {
        return Err(Error::invalid(format!("No workspace \"{}\": reload the page and save again.", changes[i].0)));
    }
    Ok(())
}

/// The workspaces whose client users may use personalization.
pub async fn open_to_clients(db: &Db) -> Result<std::collections::HashSet<i64>> {
    let ids: Vec<i64> = on_db!(db, |pool| sqlx::query_scalar("SELECT id FROM workspaces WHERE personalization_for_clients").fetch_all(pool).await)?;
    Ok(ids.into_iter().collect())
}

pub async fn create_campaign(db: &Db, caller: &SessionUser, workspace_id: i64, name: &str, offer: &str, example_line: &str) -> Result<i64> {
    require_write(db, caller, workspace_id).await?;
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 120 {
        return Err(Error::invalid("Give the campaign a name (at most 120 characters)."));
    }
    if offer.len() > 4_000 || example_line.len() > 1_000 {
        return Err(Error::invalid("Keep the offer under 4,000 characters and the example line under 1,000."));
    }
    let id = on_db!(db, |pool| sqlx::query_scalar::<_, i64>(
        "INSERT INTO personalization_campaigns (workspace_id, name, offer, example_line, created_by, created_at) VALUES ($1, $2, $3, $4, $5, $6) RETURNING id"
    )
    .bind(workspace_id)
    .bind(name)
    .bind(offer.trim())
    .bind(example_line.trim())
    .bind(caller.user_id)
    .bind(Utc::now())
    .fetch_one(pool)
    .await)
    .map_err(crate::platform::error::on_unique(|| Error::invalid(format!("This workspace already has a campaign named {name:?}."))))?;
    crate::identity::audit::record(db, Some(caller), None, "personalization.campaign_created", Some(&format!("campaign:{id}")), None).await?;
    Ok(id)
}

pub async fn get_campaign(db: &Db, caller: &SessionUser, id: i64) -> Result<(Campaign, AccessLevel)> {
    let c: Campaign = on_db!(db, |pool| sqlx::query_as("SELECT id, workspace_id, name, offer, example_line, created_at FROM personalization_campaigns WHERE id = $1")
        .bind(id)
        .fetch_optional(pool)
        .await)?
    .ok_or(Error::NotFound)?;
    let level = require_access(db, caller, c.workspace_id).await?;
    Ok((c, level))
}

/// A campaign in a list: its workspace and lead counts.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, sqlx::FromRow)]
pub struct CampaignRow {
    pub id: i64,
    pub name: String,
    pub workspace_id: i64,
    pub workspace_slug: String,
    pub workspace_name: String,
    pub leads: i64,
    pub personalized: i64,
    pub failed: i64,
    pub created_at: DateTime<Utc>,
}

/// Campaigns the caller may see, newest first.
pub async fn list_campaigns(db: &Db, caller: &SessionUser) -> Result<Vec<CampaignRow>> {
    let visible = visible_workspaces(db, caller).await?;
    let rows: Vec<CampaignRow> = on_db!(db, |pool| sqlx::query_as(
        "SELECT c.id, c.name, c.workspace_id, w.slug AS workspace_slug, w.name AS workspace_name, \
         CAST(COUNT(l.id) AS BIGINT) AS leads, \
         CAST(COALESCE(SUM(CASE WHEN l.status = 'done' THEN 1 ELSE 0 END), 0) AS BIGINT) AS personalized, \
         CAST(COALESCE(SUM(CASE WHEN l.status = 'failed' THEN 1 ELSE 0 END), 0) AS BIGINT) AS failed, c.created_at \
         FROM personalization_campaigns c JOIN workspaces w ON w.id = c.workspace_id \
         LEFT JOIN personalization_leads l ON l.campaign_id = c.id \
         GROUP BY c.id, c.name, c.workspace_id, w.slug, w.name, c.created_at ORDER BY c.created_at DESC, c.id DESC"
    )
    .fetch_all(pool)
    .await)?;
    Ok(rows.into_iter().filter(|r| visible.iter().any(|(id, _)| *id == r.workspace_id)).collect())
}

/// Workspaces where the caller may use personalization: (id, can write).
pub async fn visible_workspaces(db: &Db, caller: &SessionUser) -> Result<Vec<(i64, bool)>> {
    let open = open_to_clients(db).await?;
    Ok(crate::tenancy::workspaces::list_visible(db, caller)
        .await?
        .into_iter()
        .filter(|(ws, level)| *level == AccessLevel::Admin || (ws.active && open.contains(&ws.id)))
        .map(|(ws, level)| (ws.id, level.can_write()))
        .collect())
}

/// The campaign, when the caller may start runs in it (checked before an upload is streamed).
pub async fn writable_campaign(db: &Db, caller: &SessionUser, campaign_id: i64) -> Result<Campaign> {
    let (campaign, _) = get_campaign(db, caller, campaign_id).await?;
    require_write(db, caller, campaign.workspace_id).await?;
    Ok(campaign)
}

/// Starts a run over a staged upload: records it (`extracting`), queues its job, returns its id
/// at once. The run owns `staged` from then on (its extraction removes it).
pub async fn start_run(state: &AppState, caller: &SessionUser, campaign_id: i64, file_name: &str, staged: &Path, writer: Writer) -> Result<i64> {
    let db = &state.db;
    let (campaign, _) = get_campaign(db, caller, campaign_id).await?;
    require_write(db, caller, campaign.workspace_id).await?;
    if writer == Writer::Ai && !state.config.personalization.ai_ready() {
        return Err(Error::invalid(
            "AI writing needs both MAVERICK_PERPLEXITY_KEY and MAVERICK_OPENROUTER_KEY on the server; until then choose the template writer (not AI).",
        ));
    }
    let file_name: String = file_name.chars().filter(|c| !c.is_control()).take(200).collect();
    let file_name = if file_name.is_empty() { "leads.csv".to_owned() } else { file_name };
    let now = Utc::now();
    // The run and its audit row in one transaction. From then on the run owns the staged file:
    // if its job can't be queued now, the sweep queues it (a run in `extracting` with no lease).
    let id = on_db!(db, |pool| async {
        let mut tx = pool.begin().await?;
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO personalization_runs (campaign_id, workspace_id, created_by, created_at, file_name, writer, status, staged_path) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
        )
        .bind(campaign.id)
        .bind(campaign.workspace_id)
        .bind(caller.user_id)
        .bind(now)
        .bind(&file_name)
        .bind(writer.as_str())
        .bind(RunStatus::Extracting.as_str())
        .bind(staged.display().to_string())
        .fetch_one(&mut *tx)
        .await?;
        sqlx::query(crate::identity::audit::INSERT)
            .bind(caller.user_id)
            .bind(&caller.email)
            .bind("personalization.run_started")
            .bind(format!("run:{id}"))
            .bind(None::<String>)
            .bind(now)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok::<i64, sqlx::Error>(id)
    }
    .await)?;
    if let Err(e) = engine::enqueue(db, id).await {
        tracing::warn!(run = id, error = %e, "the run could not be queued now; the sweep will queue it");
    }
    Ok(id)
}

pub async fn get_run(db: &Db, caller: &SessionUser, run_id: i64) -> Result<Run> {
    let run = run_by_id(db, run_id).await?.ok_or(Error::NotFound)?;
    require_access(db, caller, run.workspace_id).await?;
    Ok(run)
}

pub(crate) async fn run_by_id(db: &Db, run_id: i64) -> Result<Option<Run>> {
    let sql = format!("SELECT {RUN_COLUMNS} FROM personalization_runs WHERE id = $1");
    Ok(on_db!(db, |pool| sqlx::query_as(sqlx::AssertSqlSafe(sql.clone())).bind(run_id).fetch_optional(pool).await)?)
}

pub async fn runs_of(db: &Db, campaign_id: i64, limit: i64) -> Result<Vec<Run>> {
    let sql = format!("SELECT {RUN_COLUMNS} FROM personalization_runs WHERE campaign_id = $1 ORDER BY id DESC LIMIT $2");
    Ok(on_db!(db, |pool| sqlx::query_as(sqlx::AssertSqlSafe(sql.clone())).bind(campaign_id).bind(limit).fetch_all(pool).await)?)
}

/// Asks a running run to stop: leads in flight finish, the rest stay pending (resumable).
pub async fn cancel_run(db: &Db, caller: &SessionUser, run_id: i64) -> Result<()> {
    let run = get_run(db, caller, run_id).await?;
    require_write(db, caller, run.workspace_id).await?;
    if !run.is_active() {
        return Err(Error::Conflict(format!("The run is already {}.", run.status)));
    }
    on_db!(db, |pool| sqlx::query("UPDATE personalization_runs SET cancel_requested = TRUE WHERE id = $1").bind(run_id).execute(pool).await.map(|_| ()))?;
    Ok(())
}

/// Takes up a cancelled or failed run again where it stopped (its pending leads).
pub async fn resume_run(db: &Db, caller: &SessionUser, run_id: i64) -> Result<()> {
    let run = get_run(db, caller, run_id).await?;
    require_write(db, caller, run.workspace_id).await?;
    let n = on_db!(db, |pool| sqlx::query(
        "UPDATE personalization_runs SET status = 'personalizing', cancel_requested = FALSE, error = NULL, finished_at = NULL \
         WHERE id = $1 AND status IN ('cancelled', 'failed') AND staged_path IS NULL AND headers IS NOT NULL"
    )
    .bind(run_id)
    .execute(pool)
    .await
    .map(|r| r.rows_affected()))?;
    if n == 0 {
        return Err(Error::Conflict("Only a cancelled or stopped run whose leads were read can be resumed; upload the file again otherwise.".into()));
    }
    engine::enqueue(db, run_id).await
}

/// Leads of a campaign (optionally one run and one status), in file order, a page at a time.
pub async fn leads(db: &Db, campaign_id: i64, run_id: Option<i64>, status: Option<&str>, offset: i64, limit: i64) -> Result<(Vec<Lead>, i64)> {
    let filter = "campaign_id = $1 AND ($2 IS NULL OR run_id = $2) AND ($3 IS NULL OR status = $3)";
    let sql = format!("SELECT {LEAD_COLUMNS} FROM personalization_leads WHERE {filter} ORDER BY run_id, line_no, id LIMIT $4 OFFSET $5");
    let count_sql = format!("SELECT COUNT(*) FROM personalization_leads WHERE {filter}");
    let rows = on_db!(db, |pool| sqlx::query_as(sqlx::AssertSqlSafe(sql.clone()))
        .bind(campaign_id)
        .bind(run_id)
        .bind(status)
        .bind(limit)
        .bind(offset)
        .fetch_all(pool)
        .await)?;
    let count: i64 = on_db!(db, |pool| sqlx::query_scalar(sqlx::AssertSqlSafe(count_sql.clone())).bind(campaign_id).bind(run_id).bind(status).fetch_one(pool).await)?;
    Ok((rows, count))
}

/// A lead and its run, if the caller may see it (and, for `write`, change it).
async fn lead_with_access(db: &Db, caller: &SessionUser, lead_id: i64, write: bool) -> Result<(Lead, Run)> {
    let sql = format!("SELECT {LEAD_COLUMNS} FROM personalization_leads WHERE id = $1");
    let lead: Lead = on_db!(db, |pool| sqlx::query_as(sqlx::AssertSqlSafe(sql.clone())).bind(lead_id).fetch_optional(pool).await)?.ok_or(Error::NotFound)?;
    let run = get_run(db, caller, lead.run_id).await?;
    if write {
        require_write(db, caller, run.workspace_id).await?;
    }
    Ok((lead, run))
}

/// A line written by hand: same limits as a generated one (length, placeholders).
pub async fn edit_line(db: &Db, caller: &SessionUser, lead_id: i64, line: &str) -> Result<()> {
    let (lead, _) = lead_with_access(db, caller, lead_id, true).await?;
    // One line, like the writers' (a pasted line break would split a mail-merge row).
    let line = &line.split_whitespace().collect::<Vec<_>>().join(" ");
    let words = line.split_whitespace().count();
    if line.is_empty() {
        return Err(Error::invalid("Write a line (or regenerate it)."));
    }
    if words > writer::MAX_WORDS {
        return Err(Error::invalid(format!("The line has {words} words; keep it to {} or fewer.", writer::MAX_WORDS)));
    }
    if let Some(why) = writer::check_line(line, &[line]) {
        return Err(Error::invalid(format!("The line cannot be used: {why}.")));
    }
    engine::store_manual(db, &lead, line, caller.user_id).await
}

/// Writes one lead's line again, now (the run's writer), and returns the lead as stored.
pub async fn regenerate(state: &AppState, caller: &SessionUser, lead_id: i64) -> Result<Lead> {
    let (lead, run) = lead_with_access(&state.db, caller, lead_id, true).await?;
    engine::regenerate(state, &lead, &run).await?;
    let sql = format!("SELECT {LEAD_COLUMNS} FROM personalization_leads WHERE id = $1");
    Ok(on_db!(&state.db, |pool| sqlx::query_as(sqlx::AssertSqlSafe(sql.clone())).bind(lead_id).fetch_one(pool).await)?)
}

/// A call made for a lead, as stored: what was sent and what came back, tokens, cost, time.
#[derive(Clone, Debug, PartialEq, sqlx::FromRow)]
pub struct Call {
    pub at: DateTime<Utc>,
    pub provider: String,
    pub model: String,
    pub attempt: i64,
    pub http_status: Option<i64>,
    pub error: Option<String>,
    pub prompt_tokens: i64,
    pub completion_tokens: i64,
    /// USD; `None`: unknown.
    pub cost_usd: Option<f64>,
    pub latency_ms: i64,
    pub request: String,
    pub response: Option<String>,
}

pub async fn calls_of(db: &Db, caller: &SessionUser, lead_id: i64) -> Result<Vec<Call>> {
    lead_with_access(db, caller, lead_id, false).await?;
    Ok(on_db!(db, |pool| sqlx::query_as(
        "SELECT at, provider, model, attempt, http_status, error, prompt_tokens, completion_tokens, cost_usd, latency_ms, request, response \
         FROM personalization_calls WHERE lead_id = $1 ORDER BY at, id"
    )
    .bind(lead_id)
    .fetch_all(pool)
    .await)?)
}

/// Savings: personalized leads, hours (0.02 each) and money (hours × the configured rate).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Savings {
    pub who: String,
    pub personalized: i64,
    pub hours: f64,
    pub money: f64,
}

/// KPIs per workspace and per user (who started the run) over the workspaces the caller may see.
/// Per user only for admins: the users are agency staff, whose names are not the clients' to read.
pub async fn kpis(db: &Db, caller: &SessionUser, hourly_rate: f64) -> Result<(Vec<Savings>, Vec<Savings>)> {
    let visible: Vec<i64> = visible_workspaces(db, caller).await?.into_iter().map(|(id, _)| id).collect();
    let rows: Vec<(i64, String, Option<i64>, Option<String>, i64)> = on_db!(db, |pool| sqlx::query_as(
        "SELECT r.workspace_id, w.name, u.id, u.display_name, CAST(COUNT(*) AS BIGINT) FROM personalization_leads l \
         JOIN personalization_runs r ON r.id = l.run_id JOIN workspaces w ON w.id = r.workspace_id LEFT JOIN users u ON u.id = r.created_by \
         WHERE l.status = 'done' GROUP BY r.workspace_id, w.name, u.id, u.display_name"
    )
    .fetch_all(pool)
    .await)?;
    let savings = |who: String, n: i64| {
        let hours = n as f64 * HOURS_PER_LEAD;
        Savings { who, personalized: n, hours, money: hours * hourly_rate }
    };
    let mut by_ws: std::collections::BTreeMap<String, i64> = Default::default();
    // Per user by id (two people may share a name), shown by name.
    let mut by_user: std::collections::BTreeMap<(String, Option<i64>), i64> = Default::default();
    for (_, ws_name, user_id, user_name, n) in rows.into_iter().filter(|r| visible.contains(&r.0)) {
        *by_ws.entry(ws_name).or_default() += n;
        *by_user.entry((user_name.unwrap_or_else(|| "(removed user)".into()), user_id)).or_default() += n;
    }
    let by_user = if caller.is_admin() { by_user.into_iter().map(|((u, _), n)| savings(u, n)).collect() } else { Vec::new() };
    Ok((by_ws.into_iter().map(|(w, n)| savings(w, n)).collect(), by_user))
}

/// The campaign's results as CSV rows: the uploaded columns (of the run's file, or the first
/// run's when all runs are exported) plus `personalized_message`, `enrichment_status`, `research`.
pub async fn export(db: &Db, caller: &SessionUser, campaign_id: i64, run_id: Option<i64>) -> Result<(Vec<String>, Vec<Vec<String>>)> {
    let (campaign, _) = get_campaign(db, caller, campaign_id).await?;
    let header_rows: Vec<(i64, Option<String>)> = on_db!(db, |pool| sqlx::query_as("SELECT id, headers FROM personalization_runs WHERE campaign_id = $1 ORDER BY id")
        .bind(campaign.id)
        .fetch_all(pool)
        .await)?;
    let chosen = match run_id {
        Some(id) => header_rows.iter().find(|(r, _)| *r == id).ok_or(Error::NotFound)?.1.clone(),
        None => header_rows.iter().find_map(|(_, h)| h.clone()),
    };
    let columns: Vec<String> = chosen.and_then(|h| serde_json::from_str(&h).ok()).unwrap_or_default();
    let (leads, _) = leads(db, campaign.id, run_id, None, 0, i64::MAX).await?;
    let mut header = columns.clone();
    header.extend(["personalized_message", "enrichment_status", "research"].map(String::from));
    let rows = leads
        .into_iter()
        .map(|l| {
            let original: Vec<String> = serde_json::from_str(&l.original).unwrap_or_default();
            let mut row: Vec<String> = (0..columns.len()).map(|i| original.get(i).cloned().unwrap_or_default()).collect();
            let status = match (l.status.as_str(), l.writer.as_deref()) {
                ("done", Some("template")) => "template (not AI)".to_owned(),
                ("done", _) => "enriched".to_owned(),
                (s, _) => s.to_owned(),
            };
            row.extend([l.line.unwrap_or_default(), status, l.research.unwrap_or_default()]);
            row
        })
        .collect();
    Ok((header, rows))
}

/// Leads of the demo campaign: a few rows as a client would export them from a CRM.
const DEMO_LEADS: &str = "First Name,Last Name,Email Address,Company Name,Job Title,City\n\
Dana,Ruiz,dana@ruizroofing.example,Ruiz Roofing,Owner,Austin\n\
Sam,Okafor,sam@okaforhomes.example,Okafor Homes,General Manager,Dallas\n\
Lee,Park,lee@parkexteriors.example,Park Exteriors,Operations Director,Houston\n\
Mia,Chen,mia@chenconstruction.example,Chen Construction,Founder,San Antonio\n\
Ari,Novak,ari@novakgutters.example,Novak Gutters,Owner,El Paso\n";

/// The demo agency's personalization campaign: Acme Roofing lets its client users in, and one run
/// of a few leads goes through the real pipeline (template writer, no keys needed) on start-up.
pub async fn seed_demo(state: &AppState) -> Result<()> {
    let db = &state.db;
    let ws: Option<i64> = on_db!(db, |pool| sqlx::query_scalar("SELECT id FROM workspaces WHERE slug = 'acme-roofing'").fetch_optional(pool).await)?;
    let admin: Option<(i64, String, String)> =
        on_db!(db, |pool| sqlx::query_as("SELECT id, email, display_name FROM users WHERE role = 'admin' ORDER BY id LIMIT 1").fetch_optional(pool).await)?;
    let (Some(ws), Some((user_id, email, display_name))) = (ws, admin) else { return Ok(()) };
    let admin = SessionUser { session_id: 0, user_id, email, display_name, role: crate::identity::users::Role::Admin };
    set_client_access(db, &admin, ws, true).await?;
    let campaign = create_campaign(db, &admin, ws, "Spring storm follow-up", "Free roof inspections after hail storms", "").await?;
    let dir = state.config.data_dir.join("uploads");
    std::fs::create_dir_all(&dir).map_err(|e| Error::Internal(format!("cannot create {}: {e}", dir.display())))?;
    let path = dir.join(format!("demo-leads-{}.csv", uuid::Uuid::new_v4().simple()));
    std::fs::write(&path, DEMO_LEADS).map_err(|e| Error::Internal(format!("cannot write {}: {e}", path.display())))?;
    start_run(state, &admin, campaign, "demo-leads.csv", &path, Writer::Template).await?;
    Ok(())
}
