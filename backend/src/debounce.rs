//! Email verification through DeBounce: `GET {base}?api=KEY&email=E`, every value a string,
//! `success:"0"` for errors even on HTTP 200, 402 when credits run out, 429 (without
//! `Retry-After`) past 5 concurrent calls. Result codes map to our four outcomes: 5 deliverable →
//! safe; 4 accept-all and 8 role → risky; 1 syntax, 2 spam trap, 3 disposable, 6 bounce → invalid;
//! 7 and anything else → unknown. A workspace's unverified contacts are checked with at most 5
//! calls in flight, and the credits used are counted per month.

use std::time::Duration;

use chrono::{Datelike, Utc};
use futures_util::{stream, StreamExt};
use serde_json::Value;

use crate::{
    db::Db,
    error::{Error, Result},
    on_db,
};

/// DeBounce allows 5 concurrent calls per key.
pub const MAX_CONCURRENT: usize = 5;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    Safe,
    Risky,
    Invalid,
    Unknown,
}

impl Verdict {
    pub fn from_code(code: &str) -> Verdict {
        match code.trim() {
            "5" => Verdict::Safe,
            "4" | "8" => Verdict::Risky,
            "1" | "2" | "3" | "6" => Verdict::Invalid,
            _ => Verdict::Unknown,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Safe => "safe",
            Verdict::Risky => "risky",
            Verdict::Invalid => "invalid",
            Verdict::Unknown => "unknown",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum DebounceError {
    #[error("DeBounce refused the API key: {0}")]
    Auth(String),
    #[error("DeBounce credits are used up: {0}")]
    Credits(String),
    #[error("DeBounce is unavailable: {0}")]
    Unavailable(String),
}

#[derive(Clone)]
pub struct DebounceClient {
    http: reqwest::Client,
    base: String,
    key: String,
    attempts: u32,
    base_delay: Duration,
}

impl DebounceClient {
    pub fn new(base_url: &str, key: &str, base_delay: Duration) -> Self {
        let http = reqwest::Client::builder().timeout(Duration::from_secs(60)).build().expect("HTTP client");
        DebounceClient { http, base: base_url.to_owned(), key: key.to_owned(), attempts: 4, base_delay }
    }

    /// One address; 429 and 5xx are retried with backoff (DeBounce sends no `Retry-After`).
    pub async fn verify(&self, email: &str) -> std::result::Result<Verdict, DebounceError> {
        let mut last = String::new();
        for attempt in 0..self.attempts {
            if attempt > 0 {
                tokio::time::sleep(self.base_delay * 2u32.pow(attempt - 1)).await;
            }
            let res = match self.http.get(&self.base).query(&[("api", self.key.as_str()), ("email", email)]).send().await {
                Ok(r) => r,
                Err(e) => {
                    last = format!("could not reach DeBounce ({e})");
                    continue;
                }
            };
            let status = res.status().as_u16();
            let body: Value = res.json().await.unwrap_or(Value::Null);
            let error = body.pointer("/debounce/error").and_then(Value::as_str).unwrap_or("").to_owned();
            let success = matches!(body.get("success"), Some(Value::String(s)) if s == "1") || body.get("success") == Some(&Value::from(1));
            match status {
                401 | 403 => return Err(DebounceError::Auth(error)),
                402 => return Err(DebounceError::Credits(error)),
                429 | 500..=599 => {
                    last = format!("{status} {error}");
                    continue;
                }
                _ if !success => {
                    let lower = error.to_ascii_lowercase();
                    if lower.contains("credit") {
                        return Err(DebounceError::Credits(error));
                    }
                    if lower.contains("wrong api") || lower.contains("api key") {
                        return Err(DebounceError::Auth(error));
                    }
                    // Busy or "maximum concurrent calls": try again.
                    last = if error.is_empty() { format!("answered {status} without success") } else { error };
                    continue;
                }
                _ => {
                    let code = body.pointer("/debounce/code").and_then(|c| c.as_str().map(str::to_owned).or_else(|| c.as_i64().map(|n| n.to_string())));
                    return Ok(Verdict::from_code(code.as_deref().unwrap_or("7")));
                }
            }
        }
        Err(DebounceError::Unavailable(format!("{last} (after {} attempts)", self.attempts)))
    }
}

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
    let results: Vec<(i64, std::result::Result<Verdict, DebounceError>)> = stream::iter(contacts)
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
        .buffer_unordered(MAX_CONCURRENT)
        .collect()
        .await;
    let mut summary = VerifySummary::default();
    for (id, r) in results {
        match r {
            Ok(v) => {
                on_db!(db, |pool| sqlx::query("UPDATE contacts SET verification = $1, verified_at = $2 WHERE id = $3")
                    .bind(v.as_str())
                    .bind(Utc::now())
                    .bind(id)
                    .execute(pool)
                    .await
                    .map(|r| r.rows_affected()))?;
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
    if summary.checked > 0 {
        on_db!(db, |pool| sqlx::query(
            "INSERT INTO debounce_usage (month, workspace_id, credits_used) VALUES ($1, $2, $3) \
             ON CONFLICT (month, workspace_id) DO UPDATE SET credits_used = debounce_usage.credits_used + excluded.credits_used"
        )
        .bind(&month)
        .bind(workspace_id)
        .bind(summary.checked)
        .execute(pool)
        .await
        .map(|r| r.rows_affected()))?;
    }
    Ok(summary)
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

/// The latest verification run of a workspace: (status, summary, error, queued at).
pub type VerificationRun = (String, Option<VerifySummary>, Option<String>, chrono::DateTime<Utc>);

/// Records a queued run ("Verify now"); its job is pushed by the caller.
pub async fn queue_run(db: &Db, workspace_id: i64) -> Result<chrono::DateTime<Utc>> {
    let at = Utc::now();
    on_db!(db, |pool| sqlx::query("INSERT INTO verification_runs (workspace_id, queued_at, status) VALUES ($1, $2, 'queued')")
        .bind(workspace_id)
        .bind(at)
        .execute(pool)
        .await
        .map(|r| r.rows_affected()))?;
    Ok(at)
}

pub async fn latest_run(db: &Db, workspace_id: i64) -> Result<Option<VerificationRun>> {
    let row: Option<(String, Option<String>, Option<String>, chrono::DateTime<Utc>)> = on_db!(db, |pool| sqlx::query_as(
        "SELECT status, summary, error, queued_at FROM verification_runs WHERE workspace_id = $1 ORDER BY queued_at DESC LIMIT 1"
    )
    .bind(workspace_id)
    .fetch_optional(pool)
    .await)?;
    Ok(row.map(|(status, summary, error, at)| (status, summary.and_then(|s| serde_json::from_str(&s).ok()), error, at)))
}

/// The job: verifies the workspace's unverified contacts (up to 10,000 a run) with the agency's
/// DeBounce key, and writes the outcome onto the workspace's queued (or a new) run.
pub async fn execute(state: &crate::AppState, workspace_id: i64) -> Result<VerifySummary> {
    let db = &state.db;
    let run_at = match latest_run(db, workspace_id).await? {
        Some((status, _, _, at)) if status == "queued" => at,
        _ => queue_run(db, workspace_id).await?,
    };
    let set = |status: &'static str, summary: Option<String>, error: Option<String>| async move {
        on_db!(db, |pool| sqlx::query(
            "UPDATE verification_runs SET status = $1, summary = $2, error = $3, finished_at = $4 WHERE workspace_id = $5 AND queued_at = $6"
        )
        .bind(status)
        .bind(summary)
        .bind(error)
        .bind(Utc::now())
        .bind(workspace_id)
        .bind(run_at)
        .execute(pool)
        .await
        .map(|r| r.rows_affected()))
    };
    set("running", None, None).await?;
    let outcome = match state.config.debounce_key.as_deref() {
        None => Err(Error::invalid("No DeBounce key: set MAVERICK_DEBOUNCE_KEY on the server.")),
        Some(key) => {
            let client = DebounceClient::new(&state.config.debounce_url, key, state.config.bison_retry_delay);
            verify_workspace(db, &client, workspace_id, 10_000).await
        }
    };
    match &outcome {
        Ok(s) => set("done", serde_json::to_string(s).ok(), s.stopped.clone()).await?,
        Err(e) => set("failed", None, Some(e.to_string())).await?,
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
