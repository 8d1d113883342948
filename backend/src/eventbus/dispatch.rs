//! From the event log to receivers, exactly once per (endpoint, event):
//!
//! 1. **Fan-out.** New public events (`fanned_out = FALSE`) are taken in id order — on
//!    PostgreSQL with `FOR UPDATE SKIP LOCKED`, so several processes split them; on SQLite under
//!    the write lock — and each becomes one `event_deliveries` row per matching enabled endpoint,
//!    in the same transaction that marks the events fanned out. The unique (endpoint, event) pair
//!    makes a second fan-out of the same event a no-op; a crash mid-way rolls the whole batch back.
//! 2. **Claim.** Due deliveries are claimed by compare-and-set on `claimed_until` (a lease): one
//!    process sends a delivery at a time; a lease that lapses (kill -9) frees it for another.
//! 3. **Send.** Standard Webhooks headers signed for this attempt, `traceparent`, the static
//!    header, a 15 s timeout, no redirects, the SSRF guard on every connection.
//! 4. **Record.** The attempt, and the delivery's next state, written only if the lease is still
//!    ours: 2xx delivered; 410 disables the endpoint; 429/502/503/504 wait for `Retry-After`;
//!    anything else waits the next step of the retry schedule (with ±10 % jitter) and fails after
//!    the last one. An endpoint failing without one success for `disable_after` is disabled, and
//!    Slack and the admin home are told.

use std::{sync::Arc, time::Duration as StdDuration};

use chrono::{DateTime, Duration, Utc};
use serde_json::Value;
use tokio::{sync::Semaphore, task::JoinSet};

use super::{endpoints, guard, signing};
use crate::{
    on_db,
    platform::{
        config::IntegrationSettings,
        crypto::SecretBox,
        db::Db,
        error::Result,
        event_catalog,
        trace,
    },
};

/// Events turned into deliveries per fan-out transaction.
const FANOUT_BATCH: i64 = 500;
/// How long a claim holds a delivery: longer than a send can take (timeout + margin).
const LEASE: Duration = Duration::seconds(60);
/// Response bytes kept per attempt.
const EXCERPT: usize = 1024;

#[derive(Clone, Debug, sqlx::FromRow)]
struct PendingEvent {
    id: i64,
    workspace_id: i64,
    kind: String,
    trace_id: Option<String>,
}

#[derive(Clone, Debug, sqlx::FromRow)]
struct Target {
    id: i64,
    workspace_id: Option<i64>,
    event_types: String,
    from_event_id: i64,
}

/// Turns up to [`FANOUT_BATCH`] new events into deliveries. Returns how many events it took.
pub async fn fan_out(db: &Db, now: DateTime<Utc>) -> Result<usize> {
    let select = match db {
        Db::Sqlite(_) => "SELECT id, workspace_id, kind, trace_id FROM workspace_events WHERE fanned_out = FALSE ORDER BY id LIMIT $1",
        Db::Postgres(_) => {
            "SELECT id, workspace_id, kind, trace_id FROM workspace_events WHERE fanned_out = FALSE ORDER BY id LIMIT $1 FOR UPDATE SKIP LOCKED"
        }
    };
    // A cheap read first (a partial index): most ticks find nothing and take no write lock.
    let waiting: Option<i64> =
        on_db!(db, |pool| sqlx::query_scalar("SELECT id FROM workspace_events WHERE fanned_out = FALSE LIMIT 1").fetch_optional(pool).await)?;
    if waiting.is_none() {
        return Ok(0);
    }
    let begin = db.begin_read_write();
    let taken = on_db!(db, |pool| async {
        let mut tx = pool.begin_with(begin).await?;
        let events: Vec<PendingEvent> = sqlx::query_as(select).bind(FANOUT_BATCH).fetch_all(&mut *tx).await?;
        if events.is_empty() {
            tx.rollback().await?;
            return Ok::<usize, sqlx::Error>(0);
        }
        let targets: Vec<Target> =
            sqlx::query_as("SELECT id, workspace_id, event_types, from_event_id FROM event_endpoints WHERE enabled = TRUE").fetch_all(&mut *tx).await?;
        let mut rows: Vec<(i64, &PendingEvent)> = Vec::new();
        for e in events.iter().filter(|e| event_catalog::is_public(&e.kind)) {
            for t in &targets {
                let ws_ok = t.workspace_id.is_none_or(|w| w == e.workspace_id);
                let type_ok = t.event_types.is_empty() || t.event_types.split(',').any(|k| k == e.kind);
                if ws_ok && type_ok && e.id > t.from_event_id {
                    rows.push((t.id, e));
                }
            }
        }
        for chunk in rows.chunks(400) {
            let mut q = sqlx::QueryBuilder::new(
                "INSERT INTO event_deliveries (endpoint_id, event_id, event_type, message_id, status, next_attempt_at, trace_id, created_at) ",
            );
            q.push_values(chunk, |mut b, (endpoint, e)| {
                b.push_bind(*endpoint)
                    .push_bind(e.id)
                    .push_bind(e.kind.clone())
                    .push_bind(super::new_message_id())
                    .push_bind("pending")
                    .push_bind(now)
                    .push_bind(e.trace_id.clone())
                    .push_bind(now);
            });
            q.push(" ON CONFLICT (endpoint_id, event_id) DO NOTHING");
            q.build().execute(&mut *tx).await?;
        }
        let (first, last) = (events[0].id, events[events.len() - 1].id);
        let ids: Vec<i64> = events.iter().map(|e| e.id).collect();
        // The ids taken, by range then exact list (a range alone could catch an event another
        // transaction committed in between on PostgreSQL).
        let mut mark = sqlx::QueryBuilder::new("UPDATE workspace_events SET fanned_out = TRUE WHERE id >= ");
        mark.push_bind(first).push(" AND id <= ").push_bind(last).push(" AND id IN (");
        let mut sep = mark.separated(", ");
        for id in &ids {
            sep.push_bind(*id);
        }
        mark.push(")");
        mark.build().execute(&mut *tx).await?;
        tx.commit().await?;
        Ok(events.len())
    }
    .await)?;
    Ok(taken)
}

/// A delivery claimed for sending, with what the send needs.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct Claimed {
    pub id: i64,
    pub endpoint_id: i64,
    pub event_id: Option<i64>,
    pub event_type: String,
    pub message_id: String,
    pub payload: Option<String>,
    pub attempts: i64,
    pub claimed_until: DateTime<Utc>,
    pub trace_id: Option<String>,
    pub url: String,
    pub secret_enc: String,
    pub previous_secret_enc: Option<String>,
    pub previous_until: Option<DateTime<Utc>>,
    pub header_name: Option<String>,
    pub header_value_enc: Option<String>,
    pub event_payload: Option<String>,
    pub event_at: Option<DateTime<Utc>>,
    pub workspace_slug: Option<String>,
}

/// Claims up to `limit` due deliveries for this process.
pub async fn claim_due(db: &Db, limit: i64, now: DateTime<Utc>) -> Result<Vec<Claimed>> {
    if limit <= 0 {
        return Ok(Vec::new());
    }
    // A lease unique to this claim (the time to the microsecond plus a random nanosecond part),
    // so finishing can check the delivery is still ours.
    let until = now + LEASE + Duration::nanoseconds(rand::random::<u16>() as i64 * 1000);
    let until = until - Duration::nanoseconds(until.timestamp_subsec_nanos() as i64 % 1000);
    let lock = match db {
        Db::Sqlite(_) => "",
        Db::Postgres(_) => " FOR UPDATE SKIP LOCKED",
    };
    let claim = format!(
        "UPDATE event_deliveries SET claimed_until = $1 WHERE id IN (SELECT id FROM event_deliveries \
         WHERE status = 'pending' AND next_attempt_at <= $2 AND (claimed_until IS NULL OR claimed_until < $2) \
         ORDER BY next_attempt_at LIMIT $3{lock}) AND status = 'pending' AND (claimed_until IS NULL OR claimed_until < $2) RETURNING id"
    );
    let due: Option<i64> = on_db!(db, |pool| sqlx::query_scalar(
        "SELECT id FROM event_deliveries WHERE status = 'pending' AND next_attempt_at <= $1 AND (claimed_until IS NULL OR claimed_until < $1) LIMIT 1"
    )
    .bind(now)
    .fetch_optional(pool)
    .await)?;
    if due.is_none() {
        return Ok(Vec::new());
    }
    let begin = db.begin_read_write();
    let ids: Vec<i64> = on_db!(db, |pool| async {
        let mut tx = pool.begin_with(begin).await?;
        let ids: Vec<i64> = sqlx::query_scalar(sqlx::AssertSqlSafe(claim.as_str())).bind(until).bind(now).bind(limit).fetch_all(&mut *tx).await?;
        tx.commit().await?;
        Ok::<_, sqlx::Error>(ids)
    }
    .await)?;
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let mut q = String::from(
        "SELECT d.id, d.endpoint_id, d.event_id, d.event_type, d.message_id, d.payload, d.attempts, d.claimed_until, d.trace_id, \
         e.url, e.secret_enc, e.previous_secret_enc, e.previous_until, e.header_name, e.header_value_enc, \
         ev.payload AS event_payload, ev.at AS event_at, w.slug AS workspace_slug \
         FROM event_deliveries d JOIN event_endpoints e ON e.id = d.endpoint_id \
         LEFT JOIN workspace_events ev ON ev.id = d.event_id \
         LEFT JOIN workspaces w ON w.id = COALESCE(ev.workspace_id, e.workspace_id) WHERE d.id IN (",
    );
    q.push_str(&ids.iter().map(|i| i.to_string()).collect::<Vec<_>>().join(","));
    q.push(')');
    Ok(on_db!(db, |pool| sqlx::query_as::<_, Claimed>(sqlx::AssertSqlSafe(q.as_str())).fetch_all(pool).await)?)
}

/// The body of a delivery: `{"type", "timestamp", "data"}`, `data.workspace` set.
pub fn body(c: &Claimed, now: DateTime<Utc>) -> String {
    let raw = c.event_payload.as_deref().or(c.payload.as_deref()).unwrap_or("{}");
    let mut data: Value = serde_json::from_str(raw).unwrap_or_else(|_| Value::Object(Default::default()));
    if let Value::Object(map) = &mut data {
        let slug = c.workspace_slug.clone().map(Value::String).unwrap_or(Value::Null);
        map.insert("workspace".into(), slug);
    }
    serde_json::json!({
        "type": c.event_type,
        "timestamp": c.event_at.unwrap_or(now).to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
        "data": data,
    })
    .to_string()
}

/// What one attempt came to.
#[derive(Clone, Debug, PartialEq)]
pub struct AttemptResult {
    pub status: Option<u16>,
    pub latency_ms: i64,
    pub excerpt: String,
    pub error: Option<String>,
    /// `Retry-After`, when the receiver asked to slow down.
    pub retry_after: Option<StdDuration>,
}

/// Sends one claimed delivery.
pub async fn send(http: &reqwest::Client, secrets: &SecretBox, allow_private: bool, c: &Claimed, now: DateTime<Utc>) -> AttemptResult {
    let started = std::time::Instant::now();
    let failed = |error: String| AttemptResult { status: None, latency_ms: started.elapsed().as_millis() as i64, excerpt: String::new(), error: Some(error), retry_after: None };
    if !allow_private {
        if let Some(why) = guard::literal_host_forbidden(&c.url) {
            return failed(format!("refused by the SSRF guard: {why}"));
        }
    }
    let mut keys = match endpoints::unseal(secrets, &c.secret_enc) {
        Ok(k) => vec![k],
        Err(e) => return failed(e.to_string()),
    };
    if let (Some(prev), Some(until)) = (&c.previous_secret_enc, c.previous_until) {
        if until > now {
            if let Ok(k) = endpoints::unseal(secrets, prev) {
                keys.push(k);
            }
        }
    }
    let body = body(c, now);
    let timestamp = now.timestamp();
    let signature = match signing::signature_header(&keys, &c.message_id, timestamp, body.as_bytes()) {
        Ok(s) => s,
        Err(e) => return failed(e.to_string()),
    };
    let trace_id = c.trace_id.clone().unwrap_or_else(trace::new_trace_id);
    let mut request = http
        .post(&c.url)
        .header("content-type", "application/json")
        .header("webhook-id", &c.message_id)
        .header("webhook-timestamp", timestamp.to_string())
        .header("webhook-signature", signature)
        .header("traceparent", trace::traceparent(&trace_id))
        .body(body);
    if let (Some(name), Some(sealed)) = (&c.header_name, &c.header_value_enc) {
        match endpoints::unseal(secrets, sealed) {
            Ok(value) => request = request.header(name.as_str(), value),
            Err(e) => return failed(e.to_string()),
        }
    }
    match request.send().await {
        Err(e) => failed(describe(&e)),
        Ok(response) => {
            let status = response.status().as_u16();
            let retry_after = response
                .headers()
                .get("retry-after")
                .and_then(|v| v.to_str().ok())
                .and_then(|v| parse_retry_after(v, now));
            let mut excerpt = Vec::with_capacity(EXCERPT);
            let mut stream = response;
            while excerpt.len() < EXCERPT {
                match stream.chunk().await {
                    Ok(Some(chunk)) => excerpt.extend_from_slice(&chunk[..chunk.len().min(EXCERPT - excerpt.len())]),
                    _ => break,
                }
            }
            AttemptResult {
                status: Some(status),
                latency_ms: started.elapsed().as_millis() as i64,
                excerpt: String::from_utf8_lossy(&excerpt).into_owned(),
                error: None,
                retry_after,
            }
        }
    }
}

/// A transport error in words, without the URL (which may carry a secret path).
fn describe(e: &reqwest::Error) -> String {
    let what = if e.is_timeout() {
        "the receiver did not answer in time"
    } else if e.is_connect() {
        "could not connect to the receiver"
    } else if e.is_redirect() {
        "the receiver answered with a redirect (not followed)"
    } else {
        "the request failed"
    };
    let mut source = std::error::Error::source(e);
    let mut detail = String::new();
    while let Some(s) = source {
        detail = s.to_string();
        source = s.source();
    }
    if detail.is_empty() {
        what.to_owned()
    } else {
        format!("{what}: {detail}")
    }
}

/// `Retry-After` as seconds or an HTTP date; at most a day.
pub fn parse_retry_after(value: &str, now: DateTime<Utc>) -> Option<StdDuration> {
    let value = value.trim();
    let secs = if let Ok(s) = value.parse::<u64>() {
        s
    } else {
        let at = DateTime::parse_from_rfc2822(value).ok()?.with_timezone(&Utc);
        (at - now).num_seconds().max(0) as u64
    };
    Some(StdDuration::from_secs(secs.min(86_400)))
}

/// What happens to a delivery after an attempt.
#[derive(Clone, Debug, PartialEq)]
pub enum Next {
    Delivered,
    /// Try again at this time.
    Retry(DateTime<Utc>),
    /// No more attempts.
    Failed,
    /// 410 Gone: the receiver asks to be forgotten.
    DisableEndpoint,
}

/// The decision after attempt number `attempt` (1 for the first), with `jitter` in [-1, 1]
/// scaling ±10 % of the wait — a pure function, so the schedule is tested with a chosen clock.
pub fn next_step(attempt: i64, result: &AttemptResult, schedule: &[StdDuration], now: DateTime<Utc>, jitter: f64) -> Next {
    match result.status {
        Some(s) if (200..300).contains(&s) => return Next::Delivered,
        Some(410) => return Next::DisableEndpoint,
        _ => {}
    }
    let Some(wait) = schedule.get((attempt - 1).max(0) as usize) else {
        return Next::Failed;
    };
    let slow_down = matches!(result.status, Some(429 | 502 | 503 | 504));
    let wait = match (slow_down, result.retry_after) {
        // The receiver said when: that, but never sooner than the schedule.
        (true, Some(asked)) => asked.max(*wait),
        _ => wait.mul_f64(1.0 + 0.1 * jitter.clamp(-1.0, 1.0)),
    };
    Next::Retry(now + Duration::from_std(wait).unwrap_or(Duration::days(1)))
}

/// Writes an attempt and the delivery's next state — if the claim is still ours. Returns the
/// decision, or `None` when another process had taken the delivery over.
pub async fn record(db: &Db, settings: &IntegrationSettings, c: &Claimed, result: &AttemptResult, now: DateTime<Utc>) -> Result<Option<Next>> {
    let attempt = c.attempts + 1;
    let next = next_step(attempt, result, &settings.retry_schedule, now, rand::random::<f64>() * 2.0 - 1.0);
    let (status, next_at, finished) = match &next {
        Next::Delivered => ("delivered", now, Some(now)),
        Next::Retry(at) => ("pending", *at, None),
        Next::Failed | Next::DisableEndpoint => ("failed", now, Some(now)),
    };
    let error = result.error.clone().or_else(|| match result.status {
        Some(s) if !(200..300).contains(&s) => Some(format!("the receiver answered {s}")),
        _ => None,
    });
    let begin = db.begin_read_write();
    let applied = on_db!(db, |pool| async {
        let mut tx = pool.begin_with(begin).await?;
        let n = sqlx::query(
            "UPDATE event_deliveries SET status = $1, attempts = $2, next_attempt_at = $3, finished_at = $4, last_status_code = $5, last_error = $6, \
             claimed_until = NULL WHERE id = $7 AND claimed_until = $8",
        )
        .bind(status)
        .bind(attempt)
        .bind(next_at)
        .bind(finished)
        .bind(result.status.map(i64::from))
        .bind(&error)
        .bind(c.id)
        .bind(c.claimed_until)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if n == 0 {
            tx.rollback().await?;
            return Ok::<bool, sqlx::Error>(false);
        }
        sqlx::query(
            "INSERT INTO event_delivery_attempts (delivery_id, at, status_code, latency_ms, response_excerpt, error) VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(c.id)
        .bind(now)
        .bind(result.status.map(i64::from))
        .bind(result.latency_ms)
        .bind(&result.excerpt)
        .bind(&error)
        .execute(&mut *tx)
        .await?;
        // The endpoint's failure clock: reset by a success, started by the first failure.
        if next == Next::Delivered {
            sqlx::query("UPDATE event_endpoints SET failing_since = NULL WHERE id = $1 AND failing_since IS NOT NULL")
                .bind(c.endpoint_id)
                .execute(&mut *tx)
                .await?;
        } else {
            sqlx::query("UPDATE event_endpoints SET failing_since = $1 WHERE id = $2 AND failing_since IS NULL")
                .bind(now)
                .bind(c.endpoint_id)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(true)
    }
    .await)?;
    if !applied {
        return Ok(None);
    }
    if next == Next::DisableEndpoint {
        disable(db, c.endpoint_id, "The receiver answered 410 Gone: it asked not to be sent more.", now).await?;
    } else if next != Next::Delivered {
        let since: Option<DateTime<Utc>> = on_db!(db, |pool| sqlx::query_scalar("SELECT failing_since FROM event_endpoints WHERE id = $1 AND enabled = TRUE")
            .bind(c.endpoint_id)
            .fetch_optional(pool)
            .await)?
        .flatten();
        if since.is_some_and(|s| now - s >= settings.disable_after) {
            let days = settings.disable_after.num_hours() as f64 / 24.0;
            disable(db, c.endpoint_id, &format!("Every delivery failed for {days:.0} days; fix the receiver, then enable the endpoint again."), now).await?;
        }
    }
    Ok(Some(next))
}

/// Disables an endpoint (once: only the call that flips it tells Slack) and fails its pending
/// deliveries so they can be recovered later.
pub async fn disable(db: &Db, endpoint_id: i64, reason: &str, now: DateTime<Utc>) -> Result<bool> {
    let flipped = on_db!(db, |pool| sqlx::query("UPDATE event_endpoints SET enabled = FALSE, disabled_reason = $1, updated_at = $2 WHERE id = $3 AND enabled = TRUE")
        .bind(reason)
        .bind(now)
        .bind(endpoint_id)
        .execute(pool)
        .await
        .map(|r| r.rows_affected()))?;
    fail_pending(db, endpoint_id, "The endpoint was disabled.", now).await?;
    if flipped == 1 {
        let (ws, url): (Option<i64>, String) = on_db!(db, |pool| sqlx::query_as("SELECT workspace_id, url FROM event_endpoints WHERE id = $1")
            .bind(endpoint_id)
            .fetch_one(pool)
            .await)?;
        let host = reqwest::Url::parse(&url).ok().and_then(|u| u.host_str().map(str::to_owned)).unwrap_or_default();
        let text = format!("*Webhook endpoint disabled* ({host}, endpoint {endpoint_id}): {reason}");
        crate::notifications::enqueue(db, None, &text).await?;
        if ws.is_some() {
            crate::notifications::enqueue(db, ws, &text).await?;
        }
        tracing::warn!(endpoint = endpoint_id, reason, "webhook endpoint disabled");
    }
    Ok(flipped == 1)
}

/// Marks an endpoint's pending deliveries failed (it was disabled).
pub async fn fail_pending(db: &Db, endpoint_id: i64, reason: &str, now: DateTime<Utc>) -> Result<u64> {
    Ok(on_db!(db, |pool| sqlx::query(
        "UPDATE event_deliveries SET status = 'failed', last_error = $1, finished_at = $2, claimed_until = NULL WHERE endpoint_id = $3 AND status = 'pending'"
    )
    .bind(reason)
    .bind(now)
    .bind(endpoint_id)
    .execute(pool)
    .await
    .map(|r| r.rows_affected()))?)
}

/// The dispatcher of one process: fans out, claims and sends, until the process ends. Any
/// number of processes may run it on one database.
pub async fn run(db: Db, secrets: SecretBox, settings: Arc<IntegrationSettings>, idle: StdDuration) {
    let http = match guard::client(settings.allow_private, settings.delivery_timeout) {
        Ok(c) => c,
        Err(e) => {
            tracing::error!(error = %e, "webhook dispatcher not started");
            return;
        }
    };
    let slots = Arc::new(Semaphore::new(settings.delivery_concurrency));
    let mut running: JoinSet<()> = JoinSet::new();
    loop {
        while running.try_join_next().is_some() {}
        let now = Utc::now();
        let fanned = match fan_out(&db, now).await {
            Ok(n) => n,
            Err(e) => {
                tracing::warn!(error = %e, "webhook fan-out failed; retrying");
                0
            }
        };
        let free = slots.available_permits() as i64;
        let claimed = match claim_due(&db, free, now).await {
            Ok(c) => c,
            Err(e) => {
                tracing::warn!(error = %e, "claiming webhook deliveries failed; retrying");
                Vec::new()
            }
        };
        let got = claimed.len();
        for c in claimed {
            let Ok(permit) = slots.clone().acquire_owned().await else { return };
            let (db, secrets, settings, http) = (db.clone(), secrets.clone(), settings.clone(), http.clone());
            running.spawn(async move {
                let sent_at = Utc::now();
                let result = send(&http, &secrets, settings.allow_private, &c, sent_at).await;
                let outcome = match result.status {
                    Some(s) if (200..300).contains(&s) => "delivered",
                    Some(_) => "refused",
                    None => "unreachable",
                };
                crate::platform::prometheus::delivery(outcome, result.latency_ms);
                if let Err(e) = record(&db, &settings, &c, &result, Utc::now()).await {
                    tracing::warn!(delivery = c.id, error = %e, "could not record a webhook attempt (the lease will lapse and it is sent again)");
                }
                drop(permit);
            });
        }
        if fanned == 0 && got == 0 {
            tokio::time::sleep(idle).await;
        } else if got == 0 {
            tokio::task::yield_now().await;
        } else if slots.available_permits() == 0 {
            // Wait for a send to finish before claiming more.
            let _ = running.join_next().await;
        }
    }
}
