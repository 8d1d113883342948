//! Email Bison → our tables, per workspace: campaigns, sender accounts, interested replies (→ leads
//! on the board) and the daily campaign stats (→ daily metrics). Every write is an upsert keyed
//! by Bison's ids or the natural key, so running a sync twice changes nothing. A run is recorded
//! in `sync_runs` with its progress and a result summary; its error (a refused key, a 422) is the
//! workspace's integration status. Runs are queued by "Sync now" and by the schedules in `jobs`.

use std::collections::HashMap;

use chrono::{DateTime, Duration, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use crate::{
    bison::credentials,
    connectors::bison::BisonError,
    platform::db::Db,
    platform::error::{Error, Result},
    platform::event_catalog::{SenderHealthData, SyncFailedData},
    platform::events::{self, NewEvent},
    leads::{self, InterestedReply, Upserted},
    notifications, on_db, tenancy::settings, tenancy::workspaces, AppState,
};

crate::sql_text_enum!(
    /// What a run covers: everything (daily), or just the sender accounts (polled often).
    pub enum SyncKind ("sync kind") { All = "all", Senders = "senders" }
);

crate::sql_text_enum!(
    /// Where a recorded sync run stands (`sync_runs.status`).
    pub enum SyncStatus ("sync status") { Queued = "queued", Running = "running", Succeeded = "succeeded", Failed = "failed" }
);

/// What a run did.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SyncSummary {
    pub campaigns: usize,
    pub senders: usize,
    pub leads_created: usize,
    pub leads_marked_interested: usize,
    pub replies_seen: usize,
    pub days: usize,
    /// Senders that turned critical (disconnected, or bounce rate over 5 %) in this run.
    pub newly_critical: Vec<String>,
}

/// A recorded run.
#[derive(Clone, Debug, PartialEq, sqlx::FromRow)]
pub struct SyncRun {
    pub id: i64,
    pub workspace_id: i64,
    #[sqlx(try_from = "String")]
    pub kind: SyncKind,
    #[sqlx(try_from = "String")]
    pub status: SyncStatus,
    pub step: i64,
    pub steps: i64,
    pub step_label: Option<String>,
    pub summary: Option<String>,
    pub error: Option<String>,
    pub created_at: DateTime<Utc>,
    pub started_at: Option<DateTime<Utc>>,
    pub finished_at: Option<DateTime<Utc>>,
}

/// Records a queued run (before its job is pushed).
pub async fn queue_run(db: &Db, workspace_id: i64, kind: SyncKind, requested_by: Option<i64>) -> Result<i64> {
    Ok(on_db!(db, |pool| sqlx::query_scalar::<_, i64>(
        "INSERT INTO sync_runs (workspace_id, kind, status, requested_by, created_at) VALUES ($1, $2, $3, $4, $5) RETURNING id"
    )
    .bind(workspace_id)
    .bind(kind.as_str())
    .bind(SyncStatus::Queued.as_str())
    .bind(requested_by)
    .bind(Utc::now())
    .fetch_one(pool)
    .await)?)
}

/// The workspace's latest runs, newest first.
pub async fn recent_runs(db: &Db, workspace_id: i64, limit: i64) -> Result<Vec<SyncRun>> {
    Ok(on_db!(db, |pool| sqlx::query_as::<_, SyncRun>(
        "SELECT id, workspace_id, kind, status, step, steps, step_label, summary, error, created_at, started_at, finished_at \
         FROM sync_runs WHERE workspace_id = $1 ORDER BY id DESC LIMIT $2"
    )
    .bind(workspace_id)
    .bind(limit)
    .fetch_all(pool)
    .await)?)
}

async fn set_progress(db: &Db, run: i64, step: i64, steps: i64, label: &str) -> Result<()> {
    on_db!(db, |pool| sqlx::query("UPDATE sync_runs SET step = $1, steps = $2, step_label = $3 WHERE id = $4")
        .bind(step)
        .bind(steps)
        .bind(label)
        .bind(run)
        .execute(pool)
        .await
        .map(|r| r.rows_affected()))?;
    Ok(())
}

/// Runs a recorded run to its end (status, summary or error written back). With no run id (a
/// schedule), one is recorded first.
pub async fn execute(state: &AppState, workspace_id: i64, kind: SyncKind, run_id: Option<i64>) -> Result<SyncRun> {
    let db = &state.db;
    let run = match run_id {
        Some(id) => id,
        None => queue_run(db, workspace_id, kind, None).await?,
    };
    // One sync of a workspace at a time: a schedule that fires during "Sync now" stands aside.
    let busy: i64 = on_db!(db, |pool| sqlx::query_scalar(
        "SELECT COUNT(*) FROM sync_runs WHERE workspace_id = $1 AND status = $4 AND id <> $2 AND started_at > $3"
    )
    .bind(workspace_id)
    .bind(run)
    .bind(Utc::now() - Duration::minutes(30))
    .bind(SyncStatus::Running.as_str())
    .fetch_one(pool)
    .await)?;
    if busy > 0 {
        on_db!(db, |pool| sqlx::query("UPDATE sync_runs SET status = $4, error = $1, finished_at = $2 WHERE id = $3")
            .bind("Skipped: another sync of this workspace was running.")
            .bind(Utc::now())
            .bind(run)
            .bind(SyncStatus::Failed.as_str())
            .execute(pool)
            .await
            .map(|r| r.rows_affected()))?;
        return Ok(recent_runs(db, workspace_id, 50).await?.into_iter().find(|r| r.id == run).ok_or(Error::NotFound)?);
    }
    on_db!(db, |pool| sqlx::query("UPDATE sync_runs SET status = $3, started_at = $1 WHERE id = $2")
        .bind(Utc::now())
        .bind(run)
        .bind(SyncStatus::Running.as_str())
        .execute(pool)
        .await
        .map(|r| r.rows_affected()))?;
    let outcome = sync(state, workspace_id, kind, run).await;
    let (status, summary, error) = match &outcome {
        Ok(s) => (SyncStatus::Succeeded, serde_json::to_string(s).ok(), None),
        Err(e) => (SyncStatus::Failed, None, Some(e.to_string())),
    };
    // A failed sync and its `sync.failed` event are written together.
    let failed = error.as_ref().map(|e| {
        let data = SyncFailedData { workspace: String::new(), run_id: run, kind: kind.as_str().to_owned(), error: e.clone() };
        NewEvent::new(workspace_id, events::SYNC_FAILED, &data)
    });
    on_db!(db, |pool| async {
        let mut tx = pool.begin().await?;
        sqlx::query("UPDATE sync_runs SET status = $1, summary = $2, error = $3, finished_at = $4 WHERE id = $5")
            .bind(status.as_str())
            .bind(&summary)
            .bind(&error)
            .bind(Utc::now())
            .bind(run)
            .execute(&mut *tx)
            .await?;
        if let Some(event) = &failed {
            crate::record_event!(&mut *tx, event)?;
        }
        tx.commit().await
    }
    .await)?;
    match outcome {
        Ok(s) => {
            for sender in &s.newly_critical {
                let text = format!("*Sender needs attention*: {sender} is disconnected or bouncing over 5 %.");
                notifications::enqueue(db, Some(workspace_id), &text).await?;
                notifications::enqueue(db, None, &text).await?;
            }
        }
        Err(e) => {
            let name: String = on_db!(db, |pool| sqlx::query_scalar("SELECT name FROM workspaces WHERE id = $1").bind(workspace_id).fetch_one(pool).await)?;
            notifications::enqueue(db, None, &format!("*Email Bison sync failed* for {name}: {e}")).await?;
        }
    }
    Ok(recent_runs(db, workspace_id, 50).await?.into_iter().find(|r| r.id == run).ok_or(Error::NotFound)?)
}

fn bison_err(e: BisonError) -> Error {
    Error::invalid(e.to_string())
}

async fn sync(state: &AppState, workspace_id: i64, kind: SyncKind, run: i64) -> Result<SyncSummary> {
    let db = &state.db;
    let (key, saved_workspace) = workspaces::bison_credentials(db, &state.secrets, workspace_id)
        .await?
        .ok_or_else(|| Error::invalid("No Email Bison API key is stored for this workspace; add it on the client's page."))?;
    let client = credentials::client(state, &key);
    let mut summary = SyncSummary::default();
    // Nothing is read before the key is seen to read this client's Email Bison workspace.
    client.ensure_reads(saved_workspace.as_deref()).await.map_err(bison_err)?;
    let steps = if kind == SyncKind::All { 4 } else { 1 };
    let mut step = 0;
    let mut next = |label: &'static str| {
        step += 1;
        (step, label)
    };
    // Email Bison campaign ids → whether Email Bison has them (asked once per run for ids that
    // replies name but the list did not hold).
    let mut campaign_known: HashMap<String, bool> = HashMap::new();
    if kind == SyncKind::All {
        let (n, label) = next("campaigns");
        set_progress(db, run, n, steps, label).await?;
        let campaigns = client.campaigns().await.map_err(bison_err)?;
        for c in &campaigns {
            upsert_campaign(db, workspace_id, c).await?;
            campaign_known.insert(c.id.clone(), true);
        }
        summary.campaigns = campaigns.len();
    }
    let (n, label) = next("sender accounts");
    set_progress(db, run, n, steps, label).await?;
    let senders = client.sender_emails().await.map_err(bison_err)?;
    let critical_before = critical_senders(db, workspace_id).await?;
    for s in &senders {
        upsert_sender(db, workspace_id, s).await?;
    }
    summary.senders = senders.len();
    summary.newly_critical = critical_senders(db, workspace_id).await?.into_iter().filter(|e| !critical_before.contains(e)).collect();
    if kind == SyncKind::All {
        let (n, label) = next("interested replies");
        set_progress(db, run, n, steps, label).await?;
        let tz = settings::agency_time_zone(db).await?;
        let replies = client.interested_replies().await.map_err(bison_err)?;
        summary.replies_seen = replies.len();
        for r in replies {
            let Some(email) = r.from_email_address.clone().filter(|e| e.contains('@')) else { continue };
            let received_at = r
                .date_received
                .as_deref()
                .and_then(|t| DateTime::parse_from_rfc3339(t).ok())
                .map(|d| d.with_timezone(&Utc))
                .unwrap_or_else(Utc::now);
            let (first_name, last_name) = match r.from_name.as_deref().map(str::trim).filter(|n| !n.is_empty()) {
                Some(n) => match n.split_once(' ') {
                    Some((f, l)) => (Some(f.to_owned()), Some(l.to_owned())),
                    None => (Some(n.to_owned()), None),
                },
                None => (None, None),
            };
            // A campaign the list did not hold is fetched; one Email Bison does not have is not
            // invented — the reply is kept with its campaign id, linked if the campaign appears.
            if let Some(id) = r.campaign_id.as_ref().filter(|id| !campaign_known.contains_key(*id)) {
                let found = client.campaign(id).await.map_err(bison_err)?;
                if let Some(c) = &found {
                    upsert_campaign(db, workspace_id, c).await?;
                    summary.campaigns += 1;
                }
                campaign_known.insert(id.clone(), found.is_some());
            }
            let reply = InterestedReply {
                email,
                first_name,
                last_name,
                bison_lead_id: r.lead_id.clone(),
                bison_campaign_id: r.campaign_id.clone(),
                reply_text: r.text_body.clone(),
                received_at,
                ..Default::default()
            };
            match leads::upsert_interested(db, workspace_id, &reply, crate::tenancy::settings::agency_today(received_at, tz)).await? {
                Upserted::Created(_) => {
                    summary.leads_created += 1;
                    notifications::new_interested_lead(db, workspace_id, &reply).await?;
                }
                Upserted::BecameInterested(_) => {
                    summary.leads_marked_interested += 1;
                    notifications::new_interested_lead(db, workspace_id, &reply).await?;
                }
                Upserted::Unchanged(_) => {}
            }
        }
        leads::link_campaigns(db, workspace_id).await?;
        let (n, label) = next("daily stats");
        set_progress(db, run, n, steps, label).await?;
        let today = crate::tenancy::settings::agency_today(Utc::now(), tz);
        let series = client.daily_stats(today - Duration::days(29), today).await.map_err(bison_err)?;
        summary.days = upsert_daily(db, workspace_id, &series).await?;
    }
    Ok(summary)
}

/// Email Bison's campaign statuses → ours (`queued`, `launching`… are running campaigns).
fn campaign_status(raw: Option<&str>) -> &'static str {
    match raw.map(|s| s.trim().to_ascii_lowercase()).as_deref() {
        Some("draft") => "draft",
        Some("paused") => "paused",
        Some("completed") | Some("finished") => "completed",
        Some("archived") => "archived",
        _ => "active",
    }
}

/// `Connected`, `Disconnected`, `Paused`… → ours.
fn sender_status(raw: Option<&str>) -> &'static str {
    let s = raw.unwrap_or("").to_ascii_lowercase();
    if s.contains("disconnect") || s.contains("not connected") || s.contains("error") || s.contains("failed") {
        "disconnected"
    } else if s.contains("pause") {
        "paused"
    } else {
        "connected"
    }
}

async fn upsert_campaign(db: &Db, workspace_id: i64, c: &crate::connectors::bison::Campaign) -> Result<()> {
    on_db!(db, |pool| sqlx::query(
        "INSERT INTO campaigns (workspace_id, bison_campaign_id, name, status, leads_total, leads_contacted, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $7) \
         ON CONFLICT (workspace_id, bison_campaign_id) DO UPDATE SET name = excluded.name, status = excluded.status, \
         leads_total = excluded.leads_total, leads_contacted = excluded.leads_contacted, updated_at = excluded.updated_at \
         WHERE (campaigns.name, campaigns.status, campaigns.leads_total, campaigns.leads_contacted) \
            <> (excluded.name, excluded.status, excluded.leads_total, excluded.leads_contacted)"
    )
    .bind(workspace_id)
    .bind(&c.id)
    .bind(&c.name)
    .bind(campaign_status(c.status.as_deref()))
    .bind(c.total_leads)
    .bind(c.total_leads_contacted)
    .bind(Utc::now())
    .execute(pool)
    .await
    .map(|r| r.rows_affected()))?;
    Ok(())
}

/// Stores a sender's figures; a change of its health band (`healthy`, `critical`: bouncing over
/// 5 %, `disconnected`) is recorded as `sender.health_changed` in the same transaction.
async fn upsert_sender(db: &Db, workspace_id: i64, s: &crate::connectors::bison::SenderEmail) -> Result<()> {
    let email = s.email.trim().to_lowercase();
    let status = sender_status(s.status.as_deref());
    let (sent, bounced) = (s.emails_sent_count.max(0), s.bounced_count.max(0));
    let now = Utc::now();
    let begin = db.begin_read_write();
    on_db!(db, |pool| async {
        let mut tx = pool.begin_with(begin).await?;
        let before: Option<(String, i64, i64)> =
            sqlx::query_as("SELECT status, sent_total, bounced_total FROM sender_accounts WHERE workspace_id = $1 AND email = $2")
                .bind(workspace_id)
                .bind(&email)
                .fetch_optional(&mut *tx)
                .await?;
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO sender_accounts (workspace_id, bison_sender_id, email, status, daily_limit, warmup_enabled, sent_total, bounced_total, \
             replies_total, last_synced_at, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $10) \
             ON CONFLICT (workspace_id, email) DO UPDATE SET bison_sender_id = excluded.bison_sender_id, status = excluded.status, \
             daily_limit = excluded.daily_limit, warmup_enabled = excluded.warmup_enabled, sent_total = excluded.sent_total, \
             bounced_total = excluded.bounced_total, replies_total = excluded.replies_total, last_synced_at = excluded.last_synced_at \
             RETURNING id",
        )
        .bind(workspace_id)
        .bind(&s.id)
        .bind(&email)
        .bind(status)
        .bind(s.daily_limit.max(0))
        .bind(s.warmup_enabled)
        .bind(sent)
        .bind(bounced)
        .bind(s.total_replied_count.max(0))
        .bind(now)
        .fetch_one(&mut *tx)
        .await?;
        let to = health_band(status, sent, bounced);
        let from = before.as_ref().map_or("healthy", |(st, sent, bounced)| health_band(st, *sent, *bounced));
        if from != to {
            let data = SenderHealthData { workspace: String::new(), sender_id: id, email: email.clone(), from: from.into(), to: to.into() };
            crate::record_event!(&mut *tx, &NewEvent::new(workspace_id, events::SENDER_HEALTH_CHANGED, &data).at(now))?;
        }
        tx.commit().await
    }
    .await)?;
    Ok(())
}

/// A sender's health band, as the home page and `sender.health_changed` name it.
fn health_band(status: &str, sent: i64, bounced: i64) -> &'static str {
    if status == "disconnected" {
        "disconnected"
    } else if bounced * 100 > sent * 5 {
        "critical"
    } else {
        "healthy"
    }
}

/// Emails of the workspace's critical senders: disconnected, or bouncing over 5 %.
async fn critical_senders(db: &Db, workspace_id: i64) -> Result<Vec<String>> {
    Ok(on_db!(db, |pool| sqlx::query_scalar::<_, String>(
        "SELECT email FROM sender_accounts WHERE workspace_id = $1 AND (status = 'disconnected' OR bounced_total * 100 > sent_total * 5) ORDER BY email"
    )
    .bind(workspace_id)
    .fetch_all(pool)
    .await)?)
}

/// Sets the daily metrics Bison reports (sent, replies, interested, bounced, unsubscribed) for
/// each day in the series; `contacted` (not in the series) is left as it is. Returns the days.
async fn upsert_daily(db: &Db, workspace_id: i64, series: &[crate::connectors::bison::DailySeries]) -> Result<usize> {
    let mut days: std::collections::BTreeMap<NaiveDate, [i64; 5]> = Default::default();
    for s in series {
        let slot = match s.label.trim().to_ascii_lowercase().as_str() {
            "sent" => 0,
            "replied" => 1,
            "interested" => 2,
            "bounced" => 3,
            "unsubscribed" => 4,
            _ => continue,
        };
        for (day, v) in &s.dates {
            let Ok(d) = NaiveDate::parse_from_str(day.get(..10).unwrap_or(day), "%Y-%m-%d") else { continue };
            let n = match v {
                serde_json::Value::Number(n) => n.as_i64().unwrap_or(0),
                serde_json::Value::String(s) => s.trim().parse().unwrap_or(0),
                _ => 0,
            };
            days.entry(d).or_default()[slot] = n.max(0);
        }
    }
    for (day, [sent, replies, interested, bounced, unsubscribed]) in &days {
        on_db!(db, |pool| sqlx::query(
            "INSERT INTO daily_metrics (workspace_id, day, sent, replies, interested, bounced, unsubscribed) VALUES ($1, $2, $3, $4, $5, $6, $7) \
             ON CONFLICT (workspace_id, day) DO UPDATE SET sent = excluded.sent, replies = excluded.replies, interested = excluded.interested, \
             bounced = excluded.bounced, unsubscribed = excluded.unsubscribed"
        )
        .bind(workspace_id)
        .bind(day)
        .bind(sent)
        .bind(replies)
        .bind(interested)
        .bind(bounced)
        .bind(unsubscribed)
        .execute(pool)
        .await
        .map(|r| r.rows_affected()))?;
    }
    Ok(days.len())
}

/// Active workspaces with Email Bison credentials (what the schedules sync).
pub async fn connected_workspaces(db: &Db) -> Result<Vec<i64>> {
    Ok(on_db!(db, |pool| sqlx::query_scalar::<_, i64>("SELECT id FROM workspaces WHERE active AND bison_api_key_enc IS NOT NULL ORDER BY id")
        .fetch_all(pool)
        .await)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_map_to_ours() {
        assert_eq!(campaign_status(Some("Queued")), "active");
        assert_eq!(campaign_status(Some("paused")), "paused");
        assert_eq!(campaign_status(None), "active");
        assert_eq!(sender_status(Some("Connected")), "connected");
        assert_eq!(sender_status(Some("Disconnected")), "disconnected");
        assert_eq!(sender_status(Some("Not connected")), "disconnected");
        assert_eq!(sender_status(Some("Paused")), "paused");
    }
}
