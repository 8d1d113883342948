//! Each workspace's launch checklist, reconciled with what the data proves: a step the data shows
//! done (connected senders ⇒ inboxes created, campaign mail sent ⇒ campaign live, an interested
//! lead ⇒ first interested lead) is done on the day the data says, even if nobody ticked it; a
//! tick dated after the agency's today is shown as a conflict, and refused on write.

use std::collections::HashMap;

use chrono::{NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use crate::{
    identity::sessions::SessionUser,
    on_db,
    platform::db::Db,
    platform::error::{Error, Result},
    tenancy::{access, workspaces},
};

/// One workspace's rollout checklist.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Rollout {
    pub workspace_name: String,
    pub workspace_slug: String,
    pub steps: Vec<RolloutStep>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RolloutStep {
    pub key: String,
    pub label: String,
    pub due_on: Option<NaiveDate>,
    /// The day it was done: as ticked, or else as the data proves (then `proof` says how).
    pub completed_on: Option<NaiveDate>,
    /// What in the data shows the step done, when the done day comes from the data (not ticked).
    pub proof: Option<Proof>,
    /// A tick the calendar contradicts (done "in the future"), in words.
    pub conflict: Option<String>,
    /// Not done and past its due day.
    pub overdue: bool,
}

/// What in the data shows a step done (the page words it).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Proof {
    /// Connected senders: their inboxes exist, so their domains were bought.
    ConnectedSenders { count: i64 },
    /// Campaign mail went out: the campaign is live, so warm-up was over.
    Sending { since: NaiveDate, sent: i64 },
    /// A valid interested lead arrived.
    InterestedLead { first: NaiveDate },
}

/// What the data proves about one workspace: (day, proof) per step key.
type Proofs = HashMap<&'static str, (NaiveDate, Proof)>;

/// Reconciles one checklist entry with the data (pure, so each rule is pinned by a unit test).
pub fn reconcile(
    key: String,
    label: String,
    due_on: Option<NaiveDate>,
    ticked_on: Option<NaiveDate>,
    proof: Option<&(NaiveDate, Proof)>,
    today: NaiveDate,
) -> RolloutStep {
    let (ticked_on, conflict) = match ticked_on {
        Some(d) if d > today => (None, Some(format!("ticked as done on {d}, which is after today ({today})"))),
        t => (t, None),
    };
    let proof = proof.filter(|_| ticked_on.is_none());
    let completed_on = ticked_on.or(proof.map(|p| p.0));
    RolloutStep {
        overdue: completed_on.is_none() && due_on.is_some_and(|d| d < today),
        proof: proof.map(|p| p.1.clone()),
        key,
        label,
        due_on,
        completed_on,
        conflict,
    }
}

/// Per workspace, what its senders, sending and leads prove, with agency days.
async fn proofs(db: &Db, today: NaiveDate) -> Result<HashMap<i64, Proofs>> {
    let tz = crate::tenancy::settings::agency_time_zone(db).await?;
    let mut out: HashMap<i64, Proofs> = HashMap::new();
    // Connected senders: their inboxes exist, so their domains were bought.
    let senders: Vec<(i64, chrono::DateTime<Utc>)> = on_db!(db, |pool| sqlx::query_as(
        "SELECT workspace_id, created_at FROM sender_accounts WHERE status = 'connected'"
    )
    .fetch_all(pool)
    .await)?;
    let mut first_sender: HashMap<i64, (NaiveDate, i64)> = HashMap::new();
    for (ws, at) in senders {
        let d = crate::tenancy::settings::agency_today(at, tz).min(today);
        let e = first_sender.entry(ws).or_insert((d, 0));
        e.0 = e.0.min(d);
        e.1 += 1;
    }
    for (ws, (d, n)) in first_sender {
        let p = out.entry(ws).or_default();
        p.insert("domains_bought", (d, Proof::ConnectedSenders { count: n }));
        p.insert("inboxes_created", (d, Proof::ConnectedSenders { count: n }));
    }
    // Campaign mail sent: the campaign is live, so warm-up was over.
    let sending: Vec<(i64, NaiveDate, i64)> = on_db!(db, |pool| sqlx::query_as(
        "SELECT workspace_id, MIN(day), CAST(SUM(sent) AS BIGINT) FROM daily_metrics WHERE sent > 0 AND day <= $1 GROUP BY workspace_id"
    )
    .bind(today)
    .fetch_all(pool)
    .await)?;
    for (ws, first, total) in sending {
        let p = out.entry(ws).or_default();
        p.insert("warmup_done", (first, Proof::Sending { since: first, sent: total }));
        p.insert("campaign_live", (first, Proof::Sending { since: first, sent: total }));
    }
    // A valid interested lead: the first one's day.
    let leads: Vec<(i64, NaiveDate)> = on_db!(db, |pool| sqlx::query_as(
        "SELECT workspace_id, MIN(interested_day) FROM leads WHERE interested_day IS NOT NULL AND interested_day <= $1 AND NOT invalid \
         GROUP BY workspace_id"
    )
    .bind(today)
    .fetch_all(pool)
    .await)?;
    for (ws, first) in leads {
        out.entry(ws).or_default().insert("first_interested", (first, Proof::InterestedLead { first }));
    }
    Ok(out)
}

/// A stored step: workspace, key, label, due day, ticked day.
type StepRow = (i64, String, String, Option<NaiveDate>, Option<NaiveDate>);

/// Every active workspace's checklist as of the agency's `today`.
pub async fn rollout(db: &Db, caller: &SessionUser, today: NaiveDate) -> Result<Vec<Rollout>> {
    access::require_admin(caller)?;
    let rows: Vec<StepRow> = on_db!(db, |pool| sqlx::query_as(
        "SELECT workspace_id, step_key, label, due_on, completed_on FROM rollout_steps ORDER BY workspace_id, position"
    )
    .fetch_all(pool)
    .await)?;
    let proofs = proofs(db, today).await?;
    let mut by_ws: HashMap<i64, Vec<RolloutStep>> = HashMap::new();
    for (ws, key, label, due, ticked) in rows {
        let proof = proofs.get(&ws).and_then(|p| p.get(key.as_str()));
        by_ws.entry(ws).or_default().push(reconcile(key, label, due, ticked, proof, today));
    }
    Ok(workspaces::list_visible(db, caller)
        .await?
        .into_iter()
        .filter(|(w, _)| w.active)
        .map(|(w, _)| Rollout { steps: by_ws.remove(&w.id).unwrap_or_default(), workspace_name: w.name, workspace_slug: w.slug })
        .collect())
}

/// Ticks (or, with `None`, unticks) a step of a workspace's checklist. A done day after the
/// agency's `today` is refused: nothing is done in the future.
pub async fn record_done(db: &Db, workspace_id: i64, step_key: &str, done_on: Option<NaiveDate>, today: NaiveDate) -> Result<()> {
    if let Some(d) = done_on.filter(|d| *d > today) {
        return Err(Error::invalid(format!(
            "A step can't be done on {d}: that is after today ({today}, agency time). Enter the day it was done."
        )));
    }
    let n = on_db!(db, |pool| sqlx::query("UPDATE rollout_steps SET completed_on = $1 WHERE workspace_id = $2 AND step_key = $3")
        .bind(done_on)
        .bind(workspace_id)
        .bind(step_key)
        .execute(pool)
        .await
        .map(|r| r.rows_affected()))?;
    if n == 0 {
        return Err(Error::NotFound);
    }
    Ok(())
}

/// [`record_done`] for an admin.
pub async fn mark_done(db: &Db, caller: &SessionUser, workspace_id: i64, step_key: &str, done_on: Option<NaiveDate>, today: NaiveDate) -> Result<()> {
    access::require_admin(caller)?;
    record_done(db, workspace_id, step_key, done_on, today).await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, m, d).unwrap()
    }

    fn step(due: Option<NaiveDate>, ticked: Option<NaiveDate>, proof: Option<NaiveDate>) -> RolloutStep {
        let proof = proof.map(|d| (d, Proof::ConnectedSenders { count: 18 }));
        reconcile("k".into(), "Step".into(), due, ticked, proof.as_ref(), day(11, 30))
    }

    #[test]
    fn the_data_completes_an_unticked_step_on_its_own_day() {
        // Due 1 Nov, not ticked, 18 senders connected on 3 Nov → done 3 Nov, not overdue.
        let s = step(Some(day(11, 1)), None, Some(day(11, 3)));
        assert_eq!((s.completed_on, s.overdue, s.proof, s.conflict), (Some(day(11, 3)), false, Some(Proof::ConnectedSenders { count: 18 }), None));
        // Without proof the same step is overdue; due today is not overdue yet.
        assert!(step(Some(day(11, 1)), None, None).overdue);
        assert!(!step(Some(day(11, 30)), None, None).overdue);
    }

    #[test]
    fn a_tick_wins_over_the_data_unless_it_is_in_the_future() {
        let s = step(Some(day(11, 1)), Some(day(11, 2)), Some(day(11, 3)));
        assert_eq!((s.completed_on, s.conflict, s.proof), (Some(day(11, 2)), None, None));
        // Ticked for 10 Dec with today 30 Nov: a conflict; the data's day stands in.
        let s = step(Some(day(12, 10)), Some(day(12, 10)), Some(day(11, 3)));
        assert_eq!(s.completed_on, Some(day(11, 3)));
        assert_eq!(s.conflict.as_deref(), Some("ticked as done on 2026-12-10, which is after today (2026-11-30)"));
        // No proof: not done, and overdue once its due day has passed.
        let s = step(Some(day(11, 10)), Some(day(12, 10)), None);
        assert_eq!((s.completed_on, s.overdue), (None, true));
    }
}
