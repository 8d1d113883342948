//! Revenue, costs, profit and ROI per workspace and month (product.md, "Metric definitions"):
//! `per_lead` = billable leads × price (billable: reached the workspace's billable stage — by
//! default "interested" — and not marked invalid); `retainer` = the monthly fee, prorated d/D
//! month to date; costs = recurring monthly costs prorated the same way plus one-offs on their
//! day. Closed months are frozen in `monthly_revenue_snapshots` the first time they are read, so
//! a later price change does not rewrite history.

use chrono::{Datelike, Duration, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use crate::{
    db::Db,
    error::Result,
    metrics::{self, MonthClock},
    on_db,
    workspaces::{PricingModel, Workspace},
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
    let stages = crate::leads::STAGES;
    let at = stages.iter().position(|s| *s == ws.billable_stage).unwrap_or(0);
    let reached: Vec<String> = stages[at..].iter().filter(|s| **s != "lost").map(|s| s.to_string()).collect();
    let tz = crate::settings::agency_time_zone(db).await?;
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

/// Costs of a workspace for the month of `clock`, month to date.
pub async fn costs(db: &Db, workspace_id: i64, clock: &MonthClock) -> Result<i64> {
    let rows: Vec<(i64, String)> = on_db!(db, |pool| sqlx::query_as(
        "SELECT amount_cents, recurrence FROM client_costs WHERE workspace_id = $1 AND \
         ((recurrence = 'monthly' AND starts_on <= $2 AND (ends_on IS NULL OR ends_on >= $3)) \
          OR (recurrence = 'one_off' AND starts_on >= $3 AND starts_on <= $4))"
    )
    .bind(workspace_id)
    .bind(clock.month_end)
    .bind(clock.month_start)
    .bind(clock.today)
    .fetch_all(pool)
    .await)?;
    Ok(rows.into_iter().map(|(amount, kind)| if kind == "monthly" { metrics::prorate_cents(amount, clock) } else { amount }).sum())
}

async fn won_value(db: &Db, workspace_id: i64, from: NaiveDate, to: NaiveDate) -> Result<i64> {
    Ok(on_db!(db, |pool| sqlx::query_scalar::<_, Option<i64>>(
        "SELECT CAST(SUM(deal_value_cents) AS BIGINT) FROM leads WHERE workspace_id = $1 AND stage = 'won' AND won_day >= $2 AND won_day <= $3"
    )
    .bind(workspace_id)
    .bind(from)
    .bind(to)
    .fetch_one(pool)
    .await)?
    .unwrap_or(0))
}

/// The month of `clock` computed live from the current prices.
pub async fn compute_month(db: &Db, ws: &Workspace, clock: &MonthClock) -> Result<MonthRevenue> {
    let billable = billable_leads(db, ws, clock.month_start, clock.today).await?;
    let revenue = match ws.pricing_model {
        PricingModel::PerLead => billable * ws.price_per_lead_cents,
        PricingModel::Retainer => metrics::prorate_cents(ws.retainer_fee_cents, clock),
    };
    Ok(MonthRevenue {
        month: month_key(clock.month_start),
        pricing_model: ws.pricing_model,
        billable_leads: billable,
        revenue_cents: revenue,
        costs_cents: costs(db, ws.id, clock).await?,
        won_value_cents: won_value(db, ws.id, clock.month_start, clock.today).await?,
        frozen: false,
    })
}

/// A month of a workspace: live for the current month, from its snapshot once closed (the
/// snapshot is written on first read of a closed month).
pub async fn month(db: &Db, ws: &Workspace, year: i32, month: u32, today: NaiveDate) -> Result<MonthRevenue> {
    let key = format!("{year:04}-{month:02}");
    let current = (today.year(), today.month()) == (year, month);
    if current {
        return compute_month(db, ws, &MonthClock::at(today)).await;
    }
    #[derive(sqlx::FromRow)]
    struct Snap {
        pricing_model: String,
        billable_leads: i64,
        revenue_cents: i64,
        costs_cents: i64,
        won_value_cents: i64,
    }
    let snap = on_db!(db, |pool| sqlx::query_as::<_, Snap>(
        "SELECT pricing_model, billable_leads, revenue_cents, costs_cents, won_value_cents FROM monthly_revenue_snapshots \
         WHERE workspace_id = $1 AND month = $2"
    )
    .bind(ws.id)
    .bind(&key)
    .fetch_optional(pool)
    .await)?;
    if let Some(s) = snap {
        return Ok(MonthRevenue {
            month: key,
            pricing_model: s.pricing_model.parse()?,
            billable_leads: s.billable_leads,
            revenue_cents: s.revenue_cents,
            costs_cents: s.costs_cents,
            won_value_cents: s.won_value_cents,
            frozen: true,
        });
    }
    let closed = MonthClock::closed(year, month);
    let mut computed = compute_month(db, ws, &closed).await?;
    if closed.month_end < today {
        on_db!(db, |pool| sqlx::query(
            "INSERT INTO monthly_revenue_snapshots (workspace_id, month, pricing_model, billable_leads, price_per_lead_cents, \
             retainer_fee_cents, revenue_cents, costs_cents, won_value_cents, frozen_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) \
             ON CONFLICT (workspace_id, month) DO NOTHING"
        )
        .bind(ws.id)
        .bind(&key)
        .bind(ws.pricing_model.as_str())
        .bind(computed.billable_leads)
        .bind(ws.price_per_lead_cents)
        .bind(ws.retainer_fee_cents)
        .bind(computed.revenue_cents)
        .bind(computed.costs_cents)
        .bind(computed.won_value_cents)
        .bind(Utc::now())
        .execute(pool)
        .await
        .map(|r| r.rows_affected()))?;
        computed.frozen = true;
    }
    Ok(computed)
}

/// Billable revenue per day of `[from, to]` (per-lead: billable leads that day × price;
/// retainer: the fee / days of that month).
pub async fn daily_billable(db: &Db, ws: &Workspace, from: NaiveDate, to: NaiveDate) -> Result<Vec<i64>> {
    let days = (to - from).num_days() + 1;
    let mut out = Vec::with_capacity(days as usize);
    match ws.pricing_model {
        PricingModel::Retainer => {
            for i in 0..days {
                let d = from + Duration::days(i);
                out.push(ws.retainer_fee_cents / metrics::days_in_month(d.year(), d.month()) as i64);
            }
        }
        PricingModel::PerLead => {
            let counts: Vec<(NaiveDate, i64)> = if ws.billable_stage == "interested" {
                on_db!(db, |pool| sqlx::query_as(
                    "SELECT interested_day, COUNT(*) FROM leads WHERE workspace_id = $1 AND NOT invalid \
                     AND interested_day >= $2 AND interested_day <= $3 GROUP BY interested_day"
                )
                .bind(ws.id)
                .bind(from)
                .bind(to)
                .fetch_all(pool)
                .await)?
            } else {
                let mut v = Vec::new();
                for i in 0..days {
                    let d = from + Duration::days(i);
                    v.push((d, billable_leads(db, ws, d, d).await?));
                }
                v
            };
            out = vec![0; days as usize];
            for (d, n) in counts {
                out[(d - from).num_days() as usize] = n * ws.price_per_lead_cents;
            }
        }
    }
    Ok(out)
}
