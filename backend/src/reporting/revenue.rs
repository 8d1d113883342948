//! Revenue, costs, profit and ROI per workspace and month (product.md, "Metric definitions"):
//! `per_lead` = billable leads × price (billable: reached the workspace's billable stage — by
//! default "interested" — and not marked invalid); `retainer` = the monthly fee, prorated d/D
//! month to date; costs = recurring monthly costs prorated the same way plus one-offs on their
//! day. Closed months are frozen in `monthly_revenue_snapshots` the first time they are read, so
//! a later price change does not rewrite history.

use std::collections::HashMap;

use chrono::{Datelike, Duration, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use crate::{
    platform::db::Db,
    platform::error::Result,
    reporting::metrics::{self, MonthClock},
    on_db,
    tenancy::workspaces::{PricingModel, Workspace},
};

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MonthRevenue {
    /// `YYYY-MM`.
    pub month: String,
    pub pricing_model: PricingModel,
    pub billable_leads: i64,
    pub revenue_cents: i64,
    pub costs_cents: i64,
    pub won_value_cents: i64,
    /// Leads that turned interested in the month, and how many of those are marked invalid:
    /// why billable leads (interested − invalid, by default) are fewer. Always counted live.
    pub interested_leads: i64,
    pub invalid_leads: i64,
    /// From a frozen snapshot (closed month) rather than computed live.
    pub frozen: bool,
}

impl MonthRevenue {
    pub fn money(&self) -> metrics::Money {
        metrics::money(self.revenue_cents, self.costs_cents)
    }
}

fn month_key(d: NaiveDate) -> String {
    format!("{:04}-{:02}", d.year(), d.month())
}

/// Leads billable in `[from, to]` (agency days): interested (or past the billable stage) and valid.
pub async fn billable_leads(db: &Db, ws: &Workspace, from: NaiveDate, to: NaiveDate) -> Result<i64> {
    if ws.billable_stage == "interested" {
        return Ok(on_db!(db, |pool| sqlx::query_scalar::<_, i64>(
            "SELECT COUNT(*) FROM leads WHERE workspace_id = $1 AND NOT invalid AND interested_day >= $2 AND interested_day <= $3"
        )
        .bind(ws.id)
        .bind(from)
        .bind(to)
        .fetch_one(pool)
        .await)?);
    }
    // A pipeline stage: leads whose first move to that stage or a later one (never `lost`)
    // happened in the period.
    let stages = crate::leads::Stage::ALL;
    let at = stages.iter().position(|s| *s == ws.billable_stage.as_str()).unwrap_or(0);
    let reached: Vec<String> = stages[at..].iter().filter(|s| **s != crate::leads::Stage::Lost).map(|s| s.to_string()).collect();
    let tz = crate::tenancy::settings::agency_time_zone(db).await?;
    let start = from.and_hms_opt(0, 0, 0).expect("midnight").and_local_timezone(tz).earliest().map(|t| t.with_timezone(&Utc));
    let end = (to + Duration::days(1)).and_hms_opt(0, 0, 0).expect("midnight").and_local_timezone(tz).earliest().map(|t| t.with_timezone(&Utc));
    let (Some(start), Some(end)) = (start, end) else { return Ok(0) };
    let rows: Vec<(i64, chrono::DateTime<Utc>, String)> = on_db!(db, |pool| sqlx::query_as(
        "SELECT h.lead_id, h.at, h.to_stage FROM lead_stage_history h JOIN leads l ON l.id = h.lead_id \
         WHERE h.workspace_id = $1 AND NOT l.invalid AND h.at < $2 ORDER BY h.lead_id, h.at"
    )
    .bind(ws.id)
    .bind(end)
    .fetch_all(pool)
    .await)?;
    let mut count = 0;
    let mut last_lead = None;
    for (lead, at, to_stage) in rows {
        if last_lead == Some(lead) || !reached.contains(&to_stage) {
            continue;
        }
        last_lead = Some(lead); // first time this lead reached the stage
        if at >= start {
            count += 1;
        }
    }
    Ok(count)
}

/// Costs per workspace for the month of `clock`, month to date (recurring prorated d/D).
async fn costs_all(db: &Db, clock: &MonthClock) -> Result<HashMap<i64, i64>> {
    let rows: Vec<(i64, i64, String)> = on_db!(db, |pool| sqlx::query_as(
        "SELECT workspace_id, amount_cents, recurrence FROM client_costs WHERE \
         (recurrence = 'monthly' AND starts_on <= $1 AND (ends_on IS NULL OR ends_on >= $2)) \
          OR (recurrence = 'one_off' AND starts_on >= $2 AND starts_on <= $3)"
    )
    .bind(clock.month_end)
    .bind(clock.month_start)
    .bind(clock.today)
    .fetch_all(pool)
    .await)?;
    let mut out = HashMap::new();
    for (ws, amount, kind) in rows {
        *out.entry(ws).or_default() += if kind == "monthly" { metrics::prorate_cents(amount, clock) } else { amount };
    }
    Ok(out)
}

async fn won_value_all(db: &Db, from: NaiveDate, to: NaiveDate) -> Result<HashMap<i64, i64>> {
    let rows: Vec<(i64, Option<i64>)> = on_db!(db, |pool| sqlx::query_as(
        "SELECT workspace_id, CAST(SUM(deal_value_cents) AS BIGINT) FROM leads \
         WHERE stage = 'won' AND won_day >= $1 AND won_day <= $2 GROUP BY workspace_id"
    )
    .bind(from)
    .bind(to)
    .fetch_all(pool)
    .await)?;
    Ok(rows.into_iter().map(|(ws, v)| (ws, v.unwrap_or(0))).collect())
}

/// Valid interested leads per workspace in `[from, to]` (the default billable rule).
async fn interested_billable_all(db: &Db, from: NaiveDate, to: NaiveDate) -> Result<HashMap<i64, i64>> {
    let rows: Vec<(i64, i64)> = on_db!(db, |pool| sqlx::query_as(
        "SELECT workspace_id, COUNT(*) FROM leads WHERE interested_day >= $1 AND interested_day <= $2 AND NOT invalid \
         GROUP BY workspace_id"
    )
    .bind(from)
    .bind(to)
    .fetch_all(pool)
    .await)?;
    Ok(rows.into_iter().collect())
}

/// Interested leads per workspace in `[from, to]`, and how many of them are invalid.
async fn interested_and_invalid_all(db: &Db, from: NaiveDate, to: NaiveDate) -> Result<HashMap<i64, (i64, i64)>> {
    let rows: Vec<(i64, i64, i64)> = on_db!(db, |pool| sqlx::query_as(
        "SELECT workspace_id, COUNT(*), CAST(SUM(CASE WHEN invalid THEN 1 ELSE 0 END) AS BIGINT) FROM leads \
         WHERE interested_day >= $1 AND interested_day <= $2 GROUP BY workspace_id"
    )
    .bind(from)
    .bind(to)
    .fetch_all(pool)
    .await)?;
    Ok(rows.into_iter().map(|(ws, all, invalid)| (ws, (all, invalid))).collect())
}

/// The month of `clock` for each workspace, computed live from the current prices with one
/// grouped query per quantity (not one per workspace).
pub async fn compute_all(db: &Db, wss: &[Workspace], clock: &MonthClock) -> Result<HashMap<i64, MonthRevenue>> {
    let interested = interested_billable_all(db, clock.month_start, clock.today).await?;
    let costs = costs_all(db, clock).await?;
    let won = won_value_all(db, clock.month_start, clock.today).await?;
    let mut out = HashMap::with_capacity(wss.len());
    for ws in wss {
        let billable = if ws.billable_stage == "interested" {
            interested.get(&ws.id).copied().unwrap_or(0)
        } else {
            billable_leads(db, ws, clock.month_start, clock.today).await?
        };
        let revenue = match ws.pricing_model {
            PricingModel::PerLead => billable * ws.price_per_lead_cents,
            PricingModel::Retainer => metrics::prorate_cents(ws.retainer_fee_cents, clock),
        };
        let m = MonthRevenue {
            month: month_key(clock.month_start),
            pricing_model: ws.pricing_model,
            billable_leads: billable,
            revenue_cents: revenue,
            costs_cents: costs.get(&ws.id).copied().unwrap_or(0),
            won_value_cents: won.get(&ws.id).copied().unwrap_or(0),
            interested_leads: 0,
            invalid_leads: 0,
            frozen: false,
        };
        out.insert(ws.id, m);
    }
    Ok(out)
}

/// One month for each workspace: live for the current month; for a closed month from its
/// snapshot, written on first read so later price changes keep history.
pub async fn months_for(db: &Db, wss: &[Workspace], year: i32, month: u32, today: NaiveDate) -> Result<HashMap<i64, MonthRevenue>> {
    let mut out = months_for_money(db, wss, year, month, today).await?;
    let closed = MonthClock::closed(year, month);
    let counts = interested_and_invalid_all(db, closed.month_start, closed.month_end.min(today)).await?;
    for (ws, m) in out.iter_mut() {
        (m.interested_leads, m.invalid_leads) = counts.get(ws).copied().unwrap_or((0, 0));
    }
    Ok(out)
}

async fn months_for_money(db: &Db, wss: &[Workspace], year: i32, month: u32, today: NaiveDate) -> Result<HashMap<i64, MonthRevenue>> {
    if (today.year(), today.month()) == (year, month) {
        return compute_all(db, wss, &MonthClock::at(today)).await;
    }
    let key = format!("{year:04}-{month:02}");
    let snaps: Vec<(i64, String, i64, i64, i64, i64)> = on_db!(db, |pool| sqlx::query_as(
        "SELECT workspace_id, pricing_model, billable_leads, revenue_cents, costs_cents, won_value_cents \
         FROM monthly_revenue_snapshots WHERE month = $1"
    )
    .bind(&key)
    .fetch_all(pool)
    .await)?;
    let mut out = HashMap::with_capacity(wss.len());
    for (ws, model, billable, revenue, costs, won) in snaps {
        if wss.iter().any(|w| w.id == ws) {
            let m = MonthRevenue {
                month: key.clone(),
                pricing_model: model.parse()?,
                billable_leads: billable,
                revenue_cents: revenue,
                costs_cents: costs,
                won_value_cents: won,
                interested_leads: 0,
                invalid_leads: 0,
                frozen: true,
            };
            out.insert(ws, m);
        }
    }
    let missing: Vec<Workspace> = wss.iter().filter(|w| !out.contains_key(&w.id)).cloned().collect();
    if missing.is_empty() {
        return Ok(out);
    }
    let closed = MonthClock::closed(year, month);
    let freeze = closed.month_end < today;
    let mut computed = compute_all(db, &missing, &closed).await?;
    for ws in &missing {
        let Some(mut m) = computed.remove(&ws.id) else { continue };
        if freeze {
            on_db!(db, |pool| sqlx::query(
                "INSERT INTO monthly_revenue_snapshots (workspace_id, month, pricing_model, billable_leads, price_per_lead_cents, \
                 retainer_fee_cents, revenue_cents, costs_cents, won_value_cents, frozen_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) \
                 ON CONFLICT (workspace_id, month) DO NOTHING"
            )
            .bind(ws.id)
            .bind(&key)
            .bind(ws.pricing_model.as_str())
            .bind(m.billable_leads)
            .bind(ws.price_per_lead_cents)
            .bind(ws.retainer_fee_cents)
            .bind(m.revenue_cents)
            .bind(m.costs_cents)
            .bind(m.won_value_cents)
            .bind(Utc::now())
            .execute(pool)
            .await
            .map(|r| r.rows_affected()))?;
            m.frozen = true;
        }
        out.insert(ws.id, m);
    }
    Ok(out)
}

/// One workspace's month (see [`months_for`]).
pub async fn month(db: &Db, ws: &Workspace, year: i32, month: u32, today: NaiveDate) -> Result<MonthRevenue> {
    months_for(db, std::slice::from_ref(ws), year, month, today)
        .await?
        .remove(&ws.id)
        .ok_or_else(|| crate::platform::error::Error::Internal("revenue month missing".into()))
}

/// Billable revenue per day of `[from, to]` for each workspace (per-lead: billable leads that
/// day × price; retainer: the fee / days of that month).
pub async fn daily_billable_all(db: &Db, wss: &[Workspace], from: NaiveDate, to: NaiveDate) -> Result<HashMap<i64, Vec<i64>>> {
    let days = ((to - from).num_days() + 1).max(0) as usize;
    let rows: Vec<(i64, NaiveDate, i64)> = on_db!(db, |pool| sqlx::query_as(
        "SELECT workspace_id, interested_day, COUNT(*) FROM leads WHERE interested_day >= $1 AND interested_day <= $2 \
         AND NOT invalid GROUP BY workspace_id, interested_day"
    )
    .bind(from)
    .bind(to)
    .fetch_all(pool)
    .await)?;
    let mut counts: HashMap<i64, Vec<i64>> = HashMap::new();
    for (ws, d, n) in rows {
        counts.entry(ws).or_insert_with(|| vec![0; days])[(d - from).num_days() as usize] = n;
    }
    let mut out = HashMap::with_capacity(wss.len());
    for ws in wss {
        let series = match ws.pricing_model {
            PricingModel::Retainer => (0..days)
                .map(|i| {
                    let d = from + Duration::days(i as i64);
                    ws.retainer_fee_cents / metrics::days_in_month(d.year(), d.month()) as i64
                })
                .collect(),
            PricingModel::PerLead if ws.billable_stage == "interested" => counts
                .get(&ws.id)
                .map(|c| c.iter().map(|n| n * ws.price_per_lead_cents).collect())
                .unwrap_or_else(|| vec![0; days]),
            PricingModel::PerLead => {
                let mut v = Vec::with_capacity(days);
                for i in 0..days {
                    let d = from + Duration::days(i as i64);
                    v.push(billable_leads(db, ws, d, d).await? * ws.price_per_lead_cents);
                }
                v
            }
        };
        out.insert(ws.id, series);
    }
    Ok(out)
}

/// One workspace's daily billable revenue (see [`daily_billable_all`]).
pub async fn daily_billable(db: &Db, ws: &Workspace, from: NaiveDate, to: NaiveDate) -> Result<Vec<i64>> {
    Ok(daily_billable_all(db, std::slice::from_ref(ws), from, to).await?.remove(&ws.id).unwrap_or_default())
}
