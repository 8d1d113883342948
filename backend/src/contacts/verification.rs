//! Email verification of a workspace's contacts through DeBounce
//! ([`crate::connectors::debounce`]): its unverified contacts are checked with at most 5 calls in
//! flight, each verdict stored on the contact, the credits used counted per month, and the key's
//! credit balance (in every answer) kept, so a run the balance can't cover is caught before it
//! starts.

use chrono::{DateTime, Datelike, Utc};
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

/// A run checks at most this many contacts.
pub const RUN_LIMIT: i64 = 10_000;

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
    let key_id = client.key_id();
    let stop = std::sync::atomic::AtomicBool::new(false);
    let mut answers = stream::iter(contacts)
        .map(|(id, email)| {
            let stop = &stop;
            async move {
                if stop.load(std::sync::atomic::Ordering::Relaxed) {
                    return (id, Err(DebounceError::Unavailable("stopped".into())));
                }
                let r = client.check(&email).await;
                if matches!(r, Err(DebounceError::Credits(_) | DebounceError::Auth(_))) {
                    stop.store(true, std::sync::atomic::Ordering::Relaxed);
                }
                (id, r)
            }
        })
        .buffer_unordered(MAX_CONCURRENT);
    let mut summary = VerifySummary::default();
    // The lowest balance of this run's answers: five calls are in flight, so answers can arrive
    // out of order, and within a run the balance only goes down.
    let mut low: Option<i64> = None;
    let mut out_of_credits = false;
    // Each verdict is paid for: it is stored, with its credit and the balance, the moment it
    // arrives — a crash or an error later in the run loses none of them.
    while let Some((id, r)) = answers.next().await {
        match r {
            Ok(answer) => {
                let v = answer.verdict;
                if let Some(b) = answer.balance {
                    low = Some(low.map_or(b, |l| l.min(b)));
                }
                record_verdict(db, workspace_id, id, v, low.map(|b| (key_id.as_str(), b))).await?;
                summary.checked += 1;
                match v {
                    Verdict::Safe => summary.safe += 1,
                    Verdict::Risky => summary.risky += 1,
                    Verdict::Invalid => summary.invalid += 1,
                    Verdict::Unknown => summary.unknown += 1,
                }
            }
            Err(e @ DebounceError::Credits(_)) => {
                out_of_credits = true;
                summary.stopped = Some(e.to_string());
            }
            Err(e @ DebounceError::Auth(_)) => summary.stopped = Some(e.to_string()),
            Err(DebounceError::Unavailable(m)) if m == "stopped" => {}
            // Still unavailable after the retries: it stays unverified for the next run.
            Err(e) => {
                if summary.stopped.is_none() {
                    summary.stopped = Some(e.to_string());
                }
            }
        }
    }
    if out_of_credits {
        // DeBounce refuses further calls: nothing is left that this key can spend.
        store_balance(db, &key_id, 0).await?;
        summary.stopped = Some(format!(
            "{} — the run stopped; the {} contacts verified before that are kept. Buy DeBounce credits, then press Verify now for the rest.",
            summary.stopped.take().unwrap_or_default(),
            thousands(summary.checked)
        ));
    }
    Ok(summary)
}

/// Keeps a balance reading unless a newer one is stored already.
const UPSERT_BALANCE: &str = "INSERT INTO debounce_balance (key_hash, balance, read_at) VALUES ($1, $2, $3) \
     ON CONFLICT (key_hash) DO UPDATE SET balance = excluded.balance, read_at = excluded.read_at \
     WHERE debounce_balance.read_at <= excluded.read_at";

async fn store_balance(db: &Db, key_id: &str, balance: i64) -> Result<()> {
    on_db!(db, |pool| sqlx::query(UPSERT_BALANCE).bind(key_id).bind(balance).bind(Utc::now()).execute(pool).await.map(|_| ()))?;
    Ok(())
}

/// The balance last reported for a key (by `DebounceClient::key_id`), and when it was read.
pub async fn known_balance(db: &Db, key_id: &str) -> Result<Option<(i64, DateTime<Utc>)>> {
    Ok(on_db!(db, |pool| sqlx::query_as::<_, (i64, DateTime<Utc>)>("SELECT balance, read_at FROM debounce_balance WHERE key_hash = $1")
        .bind(key_id)
        .fetch_optional(pool)
        .await)?)
}

/// A workspace's next run against the key's credits.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Credits {
    /// Unverified contacts the next run would check (at most [`RUN_LIMIT`]), one credit each.
    pub needed: i64,
    /// The key's balance as last reported, and when; `None` until DeBounce has told us.
    pub balance: Option<(i64, DateTime<Utc>)>,
}

impl Credits {
    /// What to tell the admin when the known balance can't cover the run.
    pub fn shortfall(&self) -> Option<String> {
        let left = self.balance?.0.max(0);
        (left < self.needed).then(|| {
            format!(
                "This run needs {} credit{}; DeBounce reports {} left — {} contact{} would stay unverified. Buy credits or verify fewer.",
                thousands(self.needed),
                if self.needed == 1 { "" } else { "s" },
                thousands(left),
                thousands(self.needed - left),
                if self.needed - left == 1 { "" } else { "s" },
            )
        })
    }
}

/// The next run and the stored balance of the configured key (no call to DeBounce: the page).
pub async fn credits(state: &crate::AppState, workspace_id: i64) -> Result<Credits> {
    let needed = on_db!(&state.db, |pool| sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM contacts WHERE workspace_id = $1 AND verification = 'unverified'")
        .bind(workspace_id)
        .fetch_one(pool)
        .await)?
    .min(RUN_LIMIT);
    let balance = match &state.config.debounce_key {
        Some(key) => known_balance(&state.db, &DebounceClient::new(&state.config.debounce_url, key, state.config.bison_retry_delay).key_id()).await?,
        None => None,
    };
    Ok(Credits { needed, balance })
}

/// The next run against a balance fresh enough to decide on: an unknown balance, or one that looks
/// too small (credits may have been bought since), is read from DeBounce's balance endpoint first.
pub async fn credits_before_run(state: &crate::AppState, workspace_id: i64) -> Result<Credits> {
    let Some(key) = state.config.debounce_key.as_deref() else {
        return Err(Error::invalid("No DeBounce key: set MAVERICK_DEBOUNCE_KEY on the server."));
    };
    let mut credits = credits(state, workspace_id).await?;
    if credits.balance.is_none() || credits.shortfall().is_some() {
        let client = DebounceClient::new(&state.config.debounce_url, key, state.config.bison_retry_delay);
        let balance = client.balance().await.map_err(|e| Error::invalid(format!("Could not read the DeBounce credit balance: {e}")))?;
        store_balance(&state.db, &client.key_id(), balance).await?;
        credits.balance = known_balance(&state.db, &client.key_id()).await?;
    }
    Ok(credits)
}

/// Credits a workspace used per month (`YYYY-MM`, UTC) over the last `months` months, oldest
/// first, beside the contacts whose stored verdict is dated that month: one credit per verdict,
/// so the two agree unless contacts were deleted or checked again since.
pub async fn credits_by_month(db: &Db, workspace_id: i64, months: u32) -> Result<Vec<(String, i64, i64)>> {
    let now = Utc::now();
    let back = now.year() * 12 + now.month0() as i32 - (months.max(1) as i32 - 1);
    let from = format!("{:04}-{:02}", back.div_euclid(12), back.rem_euclid(12) + 1);
    let used: Vec<(String, i64)> = on_db!(db, |pool| sqlx::query_as("SELECT month, credits_used FROM debounce_usage WHERE workspace_id = $1 AND month >= $2 ORDER BY month")
        .bind(workspace_id)
        .bind(&from)
        .fetch_all(pool)
        .await)?;
    macro_rules! verified {
        ($month:expr) => {
            concat!(
                "SELECT ", $month, " AS month, COUNT(*) FROM contacts WHERE workspace_id = $1 AND verification <> 'unverified' ",
                "AND verified_at IS NOT NULL AND ", $month, " >= $2 GROUP BY 1"
            )
        };
    }
    let verified: Vec<(String, i64)> = match db {
        Db::Sqlite(pool) => sqlx::query_as(verified!("substr(verified_at, 1, 7)")).bind(workspace_id).bind(&from).fetch_all(pool).await?,
        Db::Postgres(pool) => {
            sqlx::query_as(verified!("to_char(verified_at AT TIME ZONE 'UTC', 'YYYY-MM')")).bind(workspace_id).bind(&from).fetch_all(pool).await?
        }
    };
    let mut rows: std::collections::BTreeMap<String, (i64, i64)> = std::collections::BTreeMap::new();
    for (m, n) in used {
        rows.entry(m).or_default().0 = n;
    }
    for (m, n) in verified {
        rows.entry(m).or_default().1 = n;
    }
    Ok(rows.into_iter().map(|(m, (u, v))| (m, u, v)).collect())
}

/// 1240 → "1,240".
fn thousands(n: i64) -> String {
    let digits = n.unsigned_abs().to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    if n < 0 { format!("-{out}") } else { out }
}

/// One contact's verdict, the month's credit for it and the balance DeBounce reported (key id,
/// balance), in one transaction.
async fn record_verdict(db: &Db, workspace_id: i64, contact_id: i64, verdict: Verdict, balance: Option<(&str, i64)>) -> Result<()> {
    // The month of the credit is the month of `verified_at`, so the two always agree.
    let now = Utc::now();
    let month = format!("{:04}-{:02}", now.year(), now.month());
    on_db!(db, |pool| async {
        let mut tx = pool.begin().await?;
        sqlx::query("UPDATE contacts SET verification = $1, verified_at = $2 WHERE id = $3")
            .bind(verdict.as_str())
            .bind(now)
            .bind(contact_id)
            .execute(&mut *tx)
            .await?;
        sqlx::query(
            "INSERT INTO debounce_usage (month, workspace_id, credits_used) VALUES ($1, $2, 1) \
             ON CONFLICT (month, workspace_id) DO UPDATE SET credits_used = debounce_usage.credits_used + 1",
        )
        .bind(&month)
        .bind(workspace_id)
        .execute(&mut *tx)
        .await?;
        if let Some((key_id, balance)) = balance {
            sqlx::query(UPSERT_BALANCE).bind(key_id).bind(balance).bind(now).execute(&mut *tx).await?;
        }
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
            verify_workspace(db, &client, workspace_id, RUN_LIMIT).await
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
