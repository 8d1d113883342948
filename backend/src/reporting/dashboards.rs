//! The admin dashboards' numbers, gathered with a few grouped queries over all workspaces and
//! turned into metrics by [`crate::reporting::metrics`]. Admin-only: every function checks the caller.

use std::collections::HashMap;

use chrono::{Duration, NaiveDate};
use serde::{Deserialize, Serialize};

use crate::{
    tenancy::access, reporting::daily_metrics,
    platform::db::Db,
    platform::error::{Error, Result},
    leads,
    reporting::metrics::{self, MonthClock, Pacing, ReplyRates},
    identity::sessions::SessionUser,
    tenancy::workspaces::{self, Workspace},
};

/// The period a dashboard looks at: by default the month to date.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Period {
    pub from: NaiveDate,
    pub to: NaiveDate,
}

impl Period {
    pub fn month_to_date(clock: &MonthClock) -> Period {
        Period { from: clock.month_start, to: clock.today }
    }

    /// A period from optional `YYYY-MM-DD` texts, defaulting to the month to date; the message
    /// says what to fix.
    pub fn parse(from: Option<&str>, to: Option<&str>, clock: &MonthClock) -> Result<Period> {
        let parse = |label: &str, v: Option<&str>, default: NaiveDate| -> Result<NaiveDate> {
            match v.map(str::trim).filter(|v| !v.is_empty()) {
                None => Ok(default),
                Some(v) => NaiveDate::parse_from_str(v, "%Y-%m-%d")
                    .map_err(|_| Error::invalid(format!("The {label} date {v:?} is not a date like 2026-11-01."))),
            }
        };
        let p = Period { from: parse("start", from, clock.month_start)?, to: parse("end", to, clock.today)? };
        if p.from > p.to {
            return Err(Error::invalid("The start date is after the end date."));
        }
        if (p.to - p.from).num_days() > 3 * 366 {
            return Err(Error::invalid("Choose a period of at most three years."));
        }
        Ok(p)
    }

    pub fn days(&self) -> i64 {
        (self.to - self.from).num_days() + 1
    }
}

/// One workspace's line on the KPI dashboard.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct KpiRow {
    pub workspace_id: i64,
    pub name: String,
    pub slug: String,
    pub pacing: Pacing,
    /// Activity over the chosen period.
    pub contacted: i64,
    pub replies: i64,
    pub interested: i64,
    pub rates: ReplyRates,
    /// Interested per day over the last 30 days up to today (oldest first).
    pub trend_30_days: Vec<i64>,
}

fn active(list: Vec<(Workspace, access::AccessLevel)>, only: Option<&str>) -> Vec<Workspace> {
    list.into_iter().map(|(w, _)| w).filter(|w| w.active && only.is_none_or(|s| s == w.slug)).collect()
}

/// KPI vs target and pacing month to date, with activity and reply rates over `period`, for each
/// active workspace the caller can see (admins: all, for the dashboard; clients: their own, for
/// the portal), or just `only`.
pub async fn kpi(db: &Db, caller: &SessionUser, clock: &MonthClock, period: Period, only: Option<&str>) -> Result<Vec<KpiRow>> {
    let list = active(workspaces::list_visible(db, caller).await?, only);
    let counts: HashMap<i64, leads::InterestedCounts> =
        leads::interested_counts(db, clock.month_start, clock.today).await?.into_iter().map(|c| (c.workspace_id, c)).collect();
    let totals: HashMap<i64, daily_metrics::Totals> =
        daily_metrics::totals(db, period.from, period.to).await?.into_iter().map(|t| (t.workspace_id, t)).collect();
    let in_period: HashMap<i64, i64> = leads::interested_by_day(db, period.from, period.to).await?.into_iter().fold(
        HashMap::new(),
        |mut m, (ws, _, n)| {
            *m.entry(ws).or_default() += n;
            m
        },
    );
    let trend_from = clock.today - Duration::days(29);
    let mut trend: HashMap<i64, Vec<i64>> = HashMap::new();
    for (ws, day, n) in leads::interested_by_day(db, trend_from, clock.today).await? {
        let slot = (day - trend_from).num_days() as usize;
        trend.entry(ws).or_insert_with(|| vec![0; 30])[slot] = n;
    }
    Ok(list
        .into_iter()
        .map(|w| {
            let c = counts.get(&w.id).copied().unwrap_or_default();
            let t = totals.get(&w.id).copied().unwrap_or_default();
            let interested = in_period.get(&w.id).copied().unwrap_or(0);
            KpiRow {
                workspace_id: w.id,
                pacing: metrics::pacing(w.monthly_lead_target, c.mtd, c.last_7_days, clock),
                contacted: t.contacted,
                replies: t.replies,
                interested,
                rates: metrics::reply_rates(t.contacted, t.replies, interested),
                trend_30_days: trend.remove(&w.id).unwrap_or_else(|| vec![0; 30]),
                name: w.name,
                slug: w.slug,
            }
        })
        .collect())
}

/// What needs attention now, for the admin home.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Alerts {
    /// Active workspaces whose month-end projection is below 80 % of target.
    pub behind: Vec<KpiRow>,
    pub critical_senders: Vec<SenderAlert>,
    pub zip_conflicts: Vec<ZipConflict>,
    /// (job type, failed or killed jobs in the last 7 days)
    pub failed_jobs: Vec<(String, i64)>,
    /// Webhook endpoints Maverick disabled (410 Gone, or days of failures), newest first.
    pub disabled_endpoints: Vec<DisabledEndpoint>,
    /// Slack messages given up (listed, with a retry, under the agency Slack channel).
    pub failed_slack_messages: i64,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, sqlx::FromRow)]
pub struct DisabledEndpoint {
    pub id: i64,
    /// `None`: an agency-wide endpoint.
    pub workspace_name: Option<String>,
    pub workspace_slug: Option<String>,
    pub url: String,
    pub reason: String,
    pub at: chrono::DateTime<chrono::Utc>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, sqlx::FromRow)]
pub struct SenderAlert {
    pub email: String,
    pub workspace_name: String,
    pub status: String,
    pub sent_total: i64,
    pub bounced_total: i64,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ZipConflict {
    pub zip: String,
    pub workspaces: Vec<String>,
}

/// Alerts, given this month's KPI rows (the home page computes them once for alerts and totals).
pub async fn alerts(db: &Db, caller: &SessionUser, kpi_month_to_date: &[KpiRow]) -> Result<Alerts> {
    access::require_admin(caller)?;
    let behind = kpi_month_to_date.iter().filter(|r| r.pacing.status == metrics::PacingStatus::Behind).cloned().collect();
    // Critical: bounce rate above 5 % (bounced·100 > sent·5 keeps it in integers), or disconnected.
    let mut critical_senders = crate::on_db!(db, |pool| sqlx::query_as::<_, SenderAlert>(
        "SELECT s.email, w.name AS workspace_name, s.status, s.sent_total, s.bounced_total \
         FROM sender_accounts s JOIN workspaces w ON w.id = s.workspace_id \
         WHERE w.active AND (s.status = 'disconnected' OR s.bounced_total * 100 > s.sent_total * 5) \
         ORDER BY w.name, s.email"
    )
    .fetch_all(pool)
    .await)?;
    // Worst first: highest bounce rate (a disconnected sender that bounced little comes after).
    let rate = |s: &SenderAlert| metrics::ratio(s.bounced_total as f64, s.sent_total as f64).unwrap_or(-1.0);
    critical_senders.sort_by(|a, b| rate(b).total_cmp(&rate(a)));
    let mut zip_conflicts: Vec<ZipConflict> = Vec::new();
    for t in crate::zips::territories(db).await? {
        match zip_conflicts.last_mut() {
            Some(c) if c.zip == t.zip => c.workspaces.push(t.workspace_name),
            _ => zip_conflicts.push(ZipConflict { zip: t.zip, workspaces: vec![t.workspace_name] }),
        }
    }
    zip_conflicts.retain(|c| c.workspaces.len() > 1);
    let failed_jobs = crate::platform::jobs::failed_since(db, chrono::Utc::now() - Duration::days(7)).await?;
    // Disabled by Maverick, not by a person (whose reason is the default text).
    let disabled_endpoints = crate::on_db!(db, |pool| sqlx::query_as::<_, DisabledEndpoint>(
        "SELECT e.id, w.name AS workspace_name, w.slug AS workspace_slug, e.url, e.disabled_reason AS reason, e.updated_at AS at \
         FROM event_endpoints e LEFT JOIN workspaces w ON w.id = e.workspace_id \
         WHERE NOT e.enabled AND e.disabled_reason IS NOT NULL AND e.disabled_reason <> 'Disabled by a user.' ORDER BY e.updated_at DESC LIMIT 20"
    )
    .fetch_all(pool)
    .await)?;
    let failed_slack_messages = crate::notifications::failed_count(db).await?;
    Ok(Alerts { behind, critical_senders, zip_conflicts, failed_jobs, disabled_endpoints, failed_slack_messages })
}

// The rollout checklist lives in its own module (it also writes).
pub use crate::reporting::rollout::{rollout, Rollout, RolloutStep};

/// A day counts as under-sending when fewer than this share of the daily send target went out.
pub const UNDER_SENDING_SHARE: f64 = 0.8;

/// One workspace on the volume dashboard.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct VolumeRow {
    pub name: String,
    pub slug: String,
    pub daily_send_target: i64,
    /// Σ daily limits of connected senders.
    pub capacity: i64,
    pub connected_senders: i64,
    /// Sent per day over the period, every day present (0 when nothing was reported).
    pub sent_per_day: Vec<i64>,
    /// Days with sent < 80 % of the daily send target.
    pub under_sending_days: Vec<NaiveDate>,
    pub total_sent: i64,
}

pub async fn volume(db: &Db, caller: &SessionUser, period: Period) -> Result<Vec<VolumeRow>> {
    access::require_admin(caller)?;
    let days = period.days() as usize;
    let mut sent: HashMap<i64, Vec<i64>> = HashMap::new();
    for (ws, day, n) in daily_metrics::sent_by_day(db, period.from, period.to).await? {
        sent.entry(ws).or_insert_with(|| vec![0; days])[(day - period.from).num_days() as usize] = n;
    }
    let capacity: HashMap<i64, (i64, i64)> =
        daily_metrics::sending_capacity(db).await?.into_iter().map(|(ws, cap, n)| (ws, (cap, n))).collect();
    Ok(active(workspaces::list_visible(db, caller).await?, None)
        .into_iter()
        .map(|w| {
            let per_day = sent.remove(&w.id).unwrap_or_else(|| vec![0; days]);
            let threshold = w.daily_send_target as f64 * UNDER_SENDING_SHARE;
            let under_sending_days = per_day
                .iter()
                .enumerate()
                .filter(|(_, n)| w.daily_send_target > 0 && (**n as f64) < threshold)
                .map(|(i, _)| period.from + Duration::days(i as i64))
                .collect();
            let (capacity, connected_senders) = capacity.get(&w.id).copied().unwrap_or((0, 0));
            VolumeRow {
                total_sent: per_day.iter().sum(),
                name: w.name,
                slug: w.slug,
                daily_send_target: w.daily_send_target,
                capacity,
                connected_senders,
                sent_per_day: per_day,
                under_sending_days,
            }
        })
        .collect())
}

/// Revenue, costs, profit and ROI of each active workspace for one month, plus the agency's
/// monthly history and its daily billable revenue in that month.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RevenueReport {
    pub month: String,
    pub rows: Vec<(String, String, crate::reporting::revenue::MonthRevenue)>,
    /// (month, revenue, costs) for the agency, oldest first, ending with the chosen month.
    pub history: Vec<(String, i64, i64)>,
    /// Agency billable revenue per day of the chosen month (up to today in the current month).
    pub daily: Vec<(NaiveDate, i64)>,
}

pub const HISTORY_MONTHS: u32 = 6;

pub async fn revenue(db: &Db, caller: &SessionUser, year: i32, month: u32, today: NaiveDate, only: Option<&str>) -> Result<RevenueReport> {
    use chrono::Datelike;
    access::require_admin(caller)?;
    let list = active(workspaces::list_visible(db, caller).await?, only);
    let chosen = MonthClock::closed(year, month);
    let last_day = chosen.month_end.min(today);
    let mut rows = Vec::new();
    let mut daily = vec![0i64; ((last_day - chosen.month_start).num_days() + 1).max(0) as usize];
    let mut history: Vec<(String, i64, i64)> = Vec::new();
    for back in (0..HISTORY_MONTHS).rev() {
        let first = chosen.month_start - chrono::Months::new(back);
        history.push((format!("{:04}-{:02}", first.year(), first.month()), 0, 0));
    }
    // One grouped pass per month over all workspaces (snapshots once frozen).
    for (i, slot) in history.iter_mut().enumerate() {
        let first = chosen.month_start - chrono::Months::new(HISTORY_MONTHS - 1 - i as u32);
        let months = crate::reporting::revenue::months_for(db, &list, first.year(), first.month(), today).await?;
        slot.1 = months.values().map(|m| m.revenue_cents).sum();
        slot.2 = months.values().map(|m| m.costs_cents).sum();
        if i as u32 == HISTORY_MONTHS - 1 {
            for w in &list {
                if let Some(m) = months.get(&w.id) {
                    rows.push((w.name.clone(), w.slug.clone(), m.clone()));
                }
            }
        }
    }
    if chosen.month_start <= today {
        for series in crate::reporting::revenue::daily_billable_all(db, &list, chosen.month_start, last_day).await?.into_values() {
            for (i, v) in series.into_iter().enumerate() {
                daily[i] += v;
            }
        }
    }
    Ok(RevenueReport {
        month: format!("{year:04}-{month:02}"),
        rows,
        history,
        daily: daily.into_iter().enumerate().map(|(i, v)| (chosen.month_start + Duration::days(i as i64), v)).collect(),
    })
}

/// Each active workspace's last months (oldest first, ending with the current month), for ROI trends.
pub async fn monthly_history(
    db: &Db,
    caller: &SessionUser,
    today: NaiveDate,
    months: u32,
    only: Option<&str>,
) -> Result<Vec<(String, String, Vec<crate::reporting::revenue::MonthRevenue>)>> {
    use chrono::Datelike;
    access::require_admin(caller)?;
    let start = MonthClock::at(today).month_start;
    let list = active(workspaces::list_visible(db, caller).await?, only);
    let mut series: Vec<Vec<crate::reporting::revenue::MonthRevenue>> = vec![Vec::with_capacity(months as usize); list.len()];
    for back in (0..months).rev() {
        let first = start - chrono::Months::new(back);
        let mut month = crate::reporting::revenue::months_for(db, &list, first.year(), first.month(), today).await?;
        for (w, s) in list.iter().zip(series.iter_mut()) {
            if let Some(m) = month.remove(&w.id) {
                s.push(m);
            }
        }
    }
    Ok(list.into_iter().zip(series).map(|(w, s)| (w.name, w.slug, s)).collect())
}

/// One sender account on the "Email accounts" page.
#[derive(Clone, Debug, PartialEq, sqlx::FromRow)]
pub struct SenderRow {
    pub workspace_slug: String,
    pub workspace_name: String,
    pub email: String,
    pub status: String,
    pub daily_limit: i64,
    pub warmup_enabled: bool,
    pub sent_total: i64,
    pub bounced_total: i64,
    pub replies_total: i64,
    pub last_synced_at: Option<chrono::DateTime<chrono::Utc>>,
}

/// A workspace's sending capacity against its target, and how long its leads last.
#[derive(Clone, Debug, PartialEq)]
pub struct SendingRow {
    pub slug: String,
    pub name: String,
    pub daily_send_target: i64,
    /// Σ daily limits of connected senders.
    pub capacity: i64,
    pub connected_senders: i64,
    /// Leads not yet contacted in active campaigns.
    pub uncontacted_leads: i64,
    /// uncontacted leads ÷ daily send target (or capacity without a target).
    pub runway_days: Option<f64>,
}

/// Every sender of the active workspaces, and each workspace's capacity and runway.
pub async fn senders(db: &Db, caller: &SessionUser) -> Result<(Vec<SenderRow>, Vec<SendingRow>)> {
    access::require_admin(caller)?;
    let rows = crate::on_db!(db, |pool| sqlx::query_as::<_, SenderRow>(
        "SELECT w.slug AS workspace_slug, w.name AS workspace_name, s.email, s.status, s.daily_limit, s.warmup_enabled, s.sent_total, \
         s.bounced_total, s.replies_total, s.last_synced_at FROM sender_accounts s JOIN workspaces w ON w.id = s.workspace_id \
         WHERE w.active ORDER BY w.name, s.email"
    )
    .fetch_all(pool)
    .await)?;
    let capacity: HashMap<i64, (i64, i64)> =
        daily_metrics::sending_capacity(db).await?.into_iter().map(|(ws, cap, n)| (ws, (cap, n))).collect();
    let uncontacted: HashMap<i64, i64> = crate::on_db!(db, |pool| sqlx::query_as::<_, (i64, i64)>(
        "SELECT workspace_id, CAST(SUM(CASE WHEN leads_total > leads_contacted THEN leads_total - leads_contacted ELSE 0 END) AS BIGINT) \
         FROM campaigns WHERE status = 'active' GROUP BY workspace_id"
    )
    .fetch_all(pool)
    .await)?
    .into_iter()
    .collect();
    let sending = active(workspaces::list_visible(db, caller).await?, None)
        .into_iter()
        .map(|w| {
            let (capacity, connected_senders) = capacity.get(&w.id).copied().unwrap_or((0, 0));
            let left = uncontacted.get(&w.id).copied().unwrap_or(0);
            let per_day = if w.daily_send_target > 0 { w.daily_send_target } else { capacity };
            SendingRow {
                runway_days: metrics::lead_runway_days(left, per_day),
                slug: w.slug,
                name: w.name,
                daily_send_target: w.daily_send_target,
                capacity,
                connected_senders,
                uncontacted_leads: left,
            }
        })
        .collect();
    Ok((rows, sending))
}
