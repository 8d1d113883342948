//! Metrics in Prometheus' text format (`GET /metrics`), through the `metrics` facade and its
//! Prometheus exporter. Counters and histograms are this process's (HTTP requests, webhook
//! attempts); the gauges read from the database at scrape time are the whole installation's
//! (jobs by type and status, queue depth, pending deliveries, event log lag), so any host's
//! /metrics tells the truth about the shared queue.

use std::sync::OnceLock;

use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

use crate::{on_db, platform::db::Db, platform::error::Result};

static HANDLE: OnceLock<Option<PrometheusHandle>> = OnceLock::new();

/// Installs the recorder (once per process; later calls return the same handle).
pub fn handle() -> Option<&'static PrometheusHandle> {
    HANDLE
        .get_or_init(|| {
            let latency = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 15.0];
            let recorder = PrometheusBuilder::new()
                .set_buckets_for_metric(Matcher::Suffix("_seconds".into()), &latency)
                .ok()?
                .build_recorder();
            let handle = recorder.handle();
            metrics::set_global_recorder(recorder).ok()?;
            Some(handle)
        })
        .as_ref()
}

/// One HTTP request answered.
pub fn http_request(method: &str, route: &str, status: u16, seconds: f64) {
    if handle().is_none() {
        return;
    }
    let labels = [("method", method.to_owned()), ("route", route.to_owned()), ("status", status.to_string())];
    metrics::counter!("maverick_http_requests_total", &labels).increment(1);
    metrics::histogram!("maverick_http_request_duration_seconds", &labels[..2]).record(seconds);
}

/// One webhook attempt: `delivered`, `refused` (a non-2xx answer) or `unreachable`.
pub fn delivery(outcome: &'static str, latency_ms: i64) {
    if handle().is_none() {
        return;
    }
    metrics::counter!("maverick_webhook_attempts_total", "outcome" => outcome).increment(1);
    metrics::histogram!("maverick_webhook_attempt_duration_seconds", "outcome" => outcome).record(latency_ms as f64 / 1000.0);
}

/// The text exposition, with the database gauges refreshed first.
pub async fn render(db: &Db) -> Result<String> {
    let Some(handle) = handle() else {
        return Ok(String::new());
    };
    let jobs: Vec<(String, String, i64)> = match db {
        Db::Sqlite(pool) => sqlx::query_as("SELECT job_type, status, COUNT(*) FROM Jobs GROUP BY job_type, status").fetch_all(pool).await?,
        Db::Postgres(pool) => sqlx::query_as("SELECT job_type, status, COUNT(*) FROM apalis.jobs GROUP BY job_type, status").fetch_all(pool).await?,
    };
    for (job_type, status, n) in jobs {
        metrics::gauge!("maverick_jobs", "type" => job_type.clone(), "status" => status.clone()).set(n as f64);
        if status == "Pending" {
            metrics::gauge!("maverick_queue_depth", "type" => job_type).set(n as f64);
        }
    }
    let deliveries: Vec<(String, i64)> =
        on_db!(db, |pool| sqlx::query_as("SELECT status, COUNT(*) FROM event_deliveries GROUP BY status").fetch_all(pool).await)?;
    for status in ["pending", "delivered", "failed"] {
        let n = deliveries.iter().find(|(s, _)| s == status).map_or(0, |(_, n)| *n);
        metrics::gauge!("maverick_webhook_deliveries", "status" => status).set(n as f64);
    }
    // Lag: events not yet turned into deliveries, and the age of the oldest.
    let (waiting, oldest): (i64, Option<chrono::DateTime<chrono::Utc>>) = on_db!(db, |pool| sqlx::query_as(
        "SELECT COUNT(*), MIN(at) FROM workspace_events WHERE fanned_out = FALSE"
    )
    .fetch_one(pool)
    .await)?;
    metrics::gauge!("maverick_event_log_unfanned").set(waiting as f64);
    let lag = oldest.map_or(0.0, |t| (chrono::Utc::now() - t).num_milliseconds().max(0) as f64 / 1000.0);
    metrics::gauge!("maverick_event_log_lag_seconds").set(lag);
    Ok(handle.render())
}
