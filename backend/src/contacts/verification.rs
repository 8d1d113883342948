//! Email verification of a workspace's contacts through DeBounce
//! ([`crate::connectors::debounce`]): its unverified contacts are checked with at most 5 calls in
//! flight, each verdict stored on the contact, and the credits used counted per month.


use chrono::{Datelike, Utc};
use futures_util::{stream, StreamExt};

use crate::{
    on_db,
    platform::{
        db::Db,
        error::{on_unique, Error, Result},
        event_catalog::VerifiedData,
        events::{self, NewEvent},
    },
};

use crate::connectors::debounce::{DebounceClient, DebounceError, Verdict, MAX_CONCURRENT};

/// What a verification run did.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct VerifySummary {
    pub checked: i64,
    pub safe: i64,
    pub risky: i64,
    pub invalid: i64,
    pub unknown: i64,
    /// Why the run stopped early (credits, key), if it did.
    pub stopped: Option<String>,
}

/// Checks up to `limit` of the workspace's unverified contacts, at most [`MAX_CONCURRENT`] at a
/// time; each result is saved as it comes, and a credit counted for the month. Stops at the first
/// refusal that more calls cannot fix (credits used up, key refused).
pub async fn verify_workspace(db: &Db, client: &DebounceClient, workspace_id: i64, limit: i64) -> Result<VerifySummary> {
    let contacts: Vec<(i64, String)> = on_db!(db, |pool| sqlx::query_as(
        "SELECT id, email FROM contacts WHERE workspace_id = $1 AND verification = 'unverified' ORDER BY id LIMIT $2"
    )
    .bind(workspace_id)
    .bind(limit)
    .fetch_all(pool)
    .await)?;
    let month = {
        let now = Utc::now();
        format!("{:04}-{:02}", now.year(), now.month())
    };
    let stop = std::sync::atomic::AtomicBool::new(false);
    let mut answers = stream::iter(contacts)
        .map(|(id, email)| {
            let stop = &stop;
            async move {
                if stop.load(std::sync::atomic::Ordering::Relaxed) {
                    return (id, Err(DebounceError::Unavailable("stopped".into())));
                }
                let r = client.verify(&email).await;
                if matches!(r, Err(DebounceError::Credits(_) | DebounceError::Auth(_))) {
                    stop.store(true, std::sync::atomic::Ordering::Relaxed);
                }
                (id, r)
            }
        })
        .buffer_unordered(MAX_CONCURRENT);
    let mut summary = VerifySummary::default();
    // Each verdict is paid for: it is stored, with its credit, the moment it arrives — a crash or
    // an error later in the run loses none of them.
    while let Some((id, r)) = answers.next().await {
        match r {
            Ok(v) => {
                record_verdict(db, workspace_id, id, v, &month).await?;
                summary.checked += 1;
                match v {
                    Verdict::Safe => summary.safe += 1,
                    Verdict::Risky => summary.risky += 1,
                    Verdict::Invalid => summary.invalid += 1,
                    Verdict::Unknown => summary.unknown += 1,
                }
            }
            Err(e @ (DebounceError::Credits(_) | DebounceError::Auth(_))) => summary.stopped = Some(e.to_string()),
            Err(DebounceError::Unavailable(m)) if m == "stopped" => {}
            // Still unavailable after the retries: it stays unverified for the next run.
            Err(e) => {
                if summary.stopped.is_none() {
                    summary.stopped = Some(e.to_string());
                }
            }
        }
    }
    Ok(summary)
}

/// One contact's verdict and the month's credit for it, in one transaction.
async fn record_verdict(db: &Db, workspace_id: i64, contact_id: i64, verdict: Verdict, month: &str) -> Result<()> {
    on_db!(db, |pool| async {
        let mut tx = pool.begin().await?;
        sqlx::query("UPDATE contacts SET verification = $1, verified_at = $2 WHERE id = $3")
            .bind(verdict.as_str())
            .bind(Utc::now())
            .bind(contact_id)
            .execute(&mut *tx)
            .await?;
        sqlx::query(
            "INSERT INTO debounce_usage (month, workspace_id, credits_used) VALUES ($1, $2, 1) \
             ON CONFLICT (month, workspace_id) DO UPDATE SET credits_used = debounce_usage.credits_used + 1",
        )
        .bind(month)
        .bind(workspace_id)
        .execute(&mut *tx)
        .await?;
        tx.commit().await
    }
    .await)?;
    Ok(())
}

/// Credits used by a workspace in a month (`YYYY-MM`).
pub async fn credits_used(db: &Db, workspace_id: i64, month: &str) -> Result<i64> {
    Ok(on_db!(db, |pool| sqlx::query_scalar::<_, i64>("SELECT credits_used FROM debounce_usage WHERE workspace_id = $1 AND month = $2")
        .bind(workspace_id)
        .bind(month)
        .fetch_optional(pool)
        .await)?
    .unwrap_or(0))
}

crate::sql_text_enum!(
    /// Where a verification run stands (`verification_runs.status`).
    pub enum VerifyStatus ("verification status") { Queued = "queued", Running = "running", Done = "done", Failed = "failed" }
);

/// The latest verification run of a workspace: (status, summary, error, queued at).
pub type VerificationRun = (VerifyStatus, Option<VerifySummary>, Option<String>, chrono::DateTime<Utc>);

/// A run still queued or running this long after it was queued lost its worker.
const STALE_AFTER: chrono::Duration = chrono::Duration::hours(2);

/// Records a queued run ("Verify now"). At most one run per workspace is queued or running (a
/// unique index, so two clicks at once can't both pay DeBounce for the same contacts); the second
/// gets a conflict that says so. A run whose worker died is closed first.
pub async fn queue_run(db: &Db, workspace_id: i64) -> Result<chrono::DateTime<Utc>> {
    let at = Utc::now();
    on_db!(db, |pool| sqlx::query(
        "UPDATE verification_runs SET status = $1, error = $2, finished_at = $3 WHERE workspace_id = $4 AND status IN ($5, $6) AND queued_at < $7"
    )
    .bind(VerifyStatus::Failed.as_str())
    .bind("Interrupted: the worker stopped before finishing. Contacts verified before that are kept.")
    .bind(at)
    .bind(workspace_id)
    .bind(VerifyStatus::Queued.as_str())
    .bind(VerifyStatus::Running.as_str())
    .bind(at - STALE_AFTER)
    .execute(pool)
    .await
    .map(|r| r.rows_affected()))?;
    on_db!(db, |pool| sqlx::query("INSERT INTO verification_runs (workspace_id, queued_at, status) VALUES ($1, $2, $3)")
        .bind(workspace_id)
        .bind(at)
        .bind(VerifyStatus::Queued.as_str())
        .execute(pool)
        .await
        .map(|r| r.rows_affected()))
    .map_err(on_unique(|| Error::Conflict("A verification of this workspace is already queued or running; its outcome shows here when it is done.".into())))?;
    Ok(at)
}

pub async fn latest_run(db: &Db, workspace_id: i64) -> Result<Option<VerificationRun>> {
    let row: Option<(String, Option<String>, Option<String>, chrono::DateTime<Utc>)> = on_db!(db, |pool| sqlx::query_as(
        "SELECT status, summary, error, queued_at FROM verification_runs WHERE workspace_id = $1 ORDER BY queued_at DESC LIMIT 1"
    )
    .bind(workspace_id)
    .fetch_optional(pool)
    .await)?;
    row.map(|(status, summary, error, at)| Ok((status.parse()?, summary.and_then(|s| serde_json::from_str(&s).ok()), error, at))).transpose()
}

/// The job: verifies the workspace's unverified contacts (up to 10,000 a run) with the agency's
/// DeBounce key, and writes the outcome onto the workspace's queued (or a new) run.
pub async fn execute(state: &crate::AppState, workspace_id: i64) -> Result<VerifySummary> {
    let db = &state.db;
    let run_at = match latest_run(db, workspace_id).await? {
        Some((VerifyStatus::Queued, _, _, at)) => at,
        _ => queue_run(db, workspace_id).await?,
    };
    // Claimed by compare-and-set: of two workers handed the same run, one works it.
    let claimed = on_db!(db, |pool| sqlx::query("UPDATE verification_runs SET status = $1 WHERE workspace_id = $2 AND queued_at = $3 AND status = $4")
        .bind(VerifyStatus::Running.as_str())
        .bind(workspace_id)
        .bind(run_at)
        .bind(VerifyStatus::Queued.as_str())
        .execute(pool)
        .await
        .map(|r| r.rows_affected()))?;
    if claimed == 0 {
        return Ok(VerifySummary { stopped: Some("another worker has this run".into()), ..Default::default() });
    }
    // The outcome, and for a finished run `contacts.verified`, in one transaction.
    let set = |status: VerifyStatus, summary: Option<String>, error: Option<String>, event: Option<NewEvent>| async move {
        on_db!(db, |pool| async {
            let mut tx = pool.begin().await?;
            sqlx::query("UPDATE verification_runs SET status = $1, summary = $2, error = $3, finished_at = $4 WHERE workspace_id = $5 AND queued_at = $6")
                .bind(status.as_str())
                .bind(summary)
                .bind(error)
                .bind(Utc::now())
                .bind(workspace_id)
                .bind(run_at)
                .execute(&mut *tx)
                .await?;
            if let Some(event) = &event {
                crate::record_event!(&mut *tx, event)?;
            }
            tx.commit().await
        }
        .await)
    };
    let outcome = match state.config.debounce_key.as_deref() {
        None => Err(Error::invalid("No DeBounce key: set MAVERICK_DEBOUNCE_KEY on the server.")),
        Some(key) => {
            let client = DebounceClient::new(&state.config.debounce_url, key, state.config.bison_retry_delay);
            verify_workspace(db, &client, workspace_id, 10_000).await
        }
    };
    match &outcome {
        Ok(s) => {
            let data = VerifiedData { workspace: String::new(), checked: s.checked, safe: s.safe, risky: s.risky, invalid: s.invalid, unknown: s.unknown };
            let event = NewEvent::new(workspace_id, events::CONTACTS_VERIFIED, &data);
            set(VerifyStatus::Done, serde_json::to_string(s).ok(), s.stopped.clone(), Some(event)).await?
        }
        Err(e) => set(VerifyStatus::Failed, None, Some(e.to_string()), None).await?,
    };
    outcome
}

impl From<DebounceError> for Error {
    fn from(e: DebounceError) -> Self {
        Error::invalid(e.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn result_codes_map_to_four_outcomes() {
        let map = |c: &str| Verdict::from_code(c).as_str();
        assert_eq!(["5", "4", "8", "1", "2", "3", "6", "7", "", "99"].map(map), [
            "safe", "risky", "risky", "invalid", "invalid", "invalid", "invalid", "unknown", "unknown", "unknown"
        ]);
    }
}
