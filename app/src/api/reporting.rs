//! Admin dashboards: the agency overview, KPI, rollout, volume, revenue, ROI and email accounts;
//! and a client's costs, which revenue and ROI count.

use leptos::prelude::*;

use crate::{
    error::AppError,
    models::{AgencyOverview, KpiReport, RolloutRow},
};

/// Today's place in the month, in the agency time zone.
#[cfg(feature = "ssr")]
pub async fn agency_clock(db: &backend::platform::db::Db) -> backend::Result<backend::reporting::metrics::MonthClock> {
    let tz = backend::tenancy::settings::agency_time_zone(db).await?;
    Ok(backend::reporting::metrics::MonthClock::at(backend::tenancy::settings::agency_today(chrono::Utc::now(), tz)))
}

#[server(endpoint = "admin/overview")]
pub async fn admin_overview() -> Result<AgencyOverview, AppError> {
    use super::ctx::ts;
    use backend::{reporting::dashboards, reporting::metrics};
    let (state, caller) = super::ctx::admin()?;
    let db = &state.db;
    let clock = agency_clock(db).await?;
    let kpi = dashboards::kpi(db, &caller, &clock, dashboards::Period::month_to_date(&clock), None).await?;
    let alerts = dashboards::alerts(db, &caller, &kpi).await?;
    let (workspaces_total, workspaces_active) = backend::tenancy::workspaces::count(db).await?;
    let users = backend::identity::users::list(db).await?;
    let recent = backend::identity::audit::recent(db, 15).await?;
    Ok(AgencyOverview {
        today: clock.today.to_string(),
        interested_mtd: kpi.iter().map(|r| r.pacing.mtd).sum(),
        target_total: kpi.iter().map(|r| r.pacing.target).sum(),
        contacted_mtd: kpi.iter().map(|r| r.contacted).sum(),
        alerts: crate::models::HomeAlerts {
            behind: alerts.behind.into_iter().map(|r| (r.slug, r.name, r.pacing.mtd, r.pacing.target, r.pacing.projection)).collect(),
            critical_senders: alerts
                .critical_senders
                .into_iter()
                .map(|s| crate::models::SenderAlertRow {
                    bounce_rate: metrics::ratio(s.bounced_total as f64, s.sent_total as f64),
                    email: s.email,
                    workspace: s.workspace_name,
                    status: s.status,
                })
                .collect(),
            zip_conflicts: alerts.zip_conflicts.into_iter().map(|c| (c.zip, c.workspaces)).collect(),
            failed_jobs: alerts.failed_jobs,
            disabled_endpoints: alerts
                .disabled_endpoints
                .into_iter()
                .map(|e| {
                    let host = e.url.split("://").nth(1).and_then(|r| r.split(['/', '?', '#']).next()).unwrap_or(&e.url).to_owned();
                    let page = match &e.workspace_slug {
                        Some(slug) => format!("/admin/integrations?workspace={slug}"),
                        None => "/admin/integrations".to_owned(),
                    };
                    (e.workspace_name.unwrap_or_else(|| "Agency-wide".into()), page, host, e.reason)
                })
                .collect(),
            failed_slack_messages: alerts.failed_slack_messages,
        },
        workspaces_total,
        workspaces_active,
        users_total: users.len() as i64,
        users_disabled: users.iter().filter(|u| u.disabled).count() as i64,
        recent_activity: recent
            .into_iter()
            .map(|a| crate::models::AuditRow { at: ts(a.at), actor: a.actor_email, action: a.action, target: a.target, ip: a.ip })
            .collect(),
    })
}

/// KPI vs target and pacing, month to date; activity and reply rates over `from`–`to`
/// (default: month to date); optionally one workspace.
#[server(endpoint = "admin/kpi")]
pub async fn kpi_dashboard(from: Option<String>, to: Option<String>, workspace: Option<String>) -> Result<KpiReport, AppError> {
    let (state, caller) = (super::ctx::state()?, super::ctx::caller()?);
    Ok(kpi_report(&state, &caller, from.as_deref(), to.as_deref(), workspace.as_deref()).await?)
}

/// The KPI report for the page and its CSV export (same filters, same numbers).
#[cfg(feature = "ssr")]
pub async fn kpi_report(
    state: &backend::AppState,
    caller: &backend::identity::sessions::SessionUser,
    from: Option<&str>,
    to: Option<&str>,
    workspace: Option<&str>,
) -> backend::Result<KpiReport> {
    use backend::reporting::dashboards;
    backend::tenancy::access::require_admin(caller)?;
    let db = &state.db;
    let clock = agency_clock(db).await?;
    let period = dashboards::Period::parse(from, to, &clock)?;
    let only = workspace.map(str::trim).filter(|s| !s.is_empty());
    let all = dashboards::kpi(db, caller, &clock, period, None).await?;
    let workspaces = all.iter().map(|r| (r.slug.clone(), r.name.clone())).collect();
    let lines = all
        .into_iter()
        .filter(|r| only.is_none_or(|s| s == r.slug))
        .map(|r| crate::models::KpiLine {
            slug: r.slug,
            name: r.name,
            target: r.pacing.target,
            mtd: r.pacing.mtd,
            expected_by_today: r.pacing.expected_by_today,
            pacing: r.pacing.pacing,
            projection: r.pacing.projection,
            percent_of_target: r.pacing.percent_of_target,
            status: serde_json::to_value(r.pacing.status).ok().and_then(|v| v.as_str().map(str::to_owned)).unwrap_or_default(),
            contacted: r.contacted,
            replies: r.replies,
            interested: r.interested,
            reply_rate: r.rates.reply_rate,
            positive_of_replies: r.rates.positive_of_replies,
            positive_of_contacted: r.rates.positive_of_contacted,
            trend_30_days: r.trend_30_days,
        })
        .collect();
    Ok(KpiReport {
        today: clock.today.to_string(),
        from: period.from.to_string(),
        to: period.to.to_string(),
        elapsed_days: clock.elapsed_days,
        days_in_month: clock.days_in_month,
        lines,
        workspaces,
    })
}

/// Rollout checklists of every active workspace.
#[server(endpoint = "admin/rollout")]
pub async fn rollout_progress() -> Result<Vec<RolloutRow>, AppError> {
    let (state, caller) = (super::ctx::state()?, super::ctx::caller()?);
    Ok(rollout_rows(&state, &caller).await?)
}

#[cfg(feature = "ssr")]
pub async fn rollout_rows(state: &backend::AppState, caller: &backend::identity::sessions::SessionUser) -> backend::Result<Vec<RolloutRow>> {
    backend::tenancy::access::require_admin(caller)?;
    let clock = agency_clock(&state.db).await?;
    Ok(backend::reporting::dashboards::rollout(&state.db, caller, clock.today)
        .await?
        .into_iter()
        .map(|r| RolloutRow {
            workspace_slug: r.workspace_slug,
            workspace_name: r.workspace_name,
            steps: r
                .steps
                .into_iter()
                .map(|s| crate::models::RolloutStepLine {
                    proof: s.proof.map(proof_words),
                    label: s.label,
                    due_on: s.due_on.map(|d| d.to_string()),
                    completed_on: s.completed_on.map(|d| d.to_string()),
                    conflict: s.conflict,
                    overdue: s.overdue,
                })
                .collect(),
        })
        .collect())
}

/// What in the data shows a rollout step done, as the page says it.
#[cfg(feature = "ssr")]
fn proof_words(p: backend::reporting::rollout::Proof) -> String {
    use crate::components::format::thousands;
    use backend::reporting::rollout::Proof;
    match p {
        Proof::ConnectedSenders { count: 1 } => "1 connected sender".into(),
        Proof::ConnectedSenders { count } => format!("{} connected senders", thousands(count)),
        Proof::Sending { since, sent } => format!("sending since {since} ({} emails)", thousands(sent)),
        Proof::InterestedLead { first } => format!("first interested lead on {first}"),
    }
}

/// Emails sent per day against each workspace's daily send target (default: the last 30 days).
#[server(endpoint = "admin/volume")]
pub async fn volume_dashboard(from: Option<String>, to: Option<String>, workspace: Option<String>) -> Result<crate::models::VolumeReport, AppError> {
    let (state, caller) = (super::ctx::state()?, super::ctx::caller()?);
    Ok(volume_report(&state, &caller, from.as_deref(), to.as_deref(), workspace.as_deref()).await?)
}

#[cfg(feature = "ssr")]
pub async fn volume_report(
    state: &backend::AppState,
    caller: &backend::identity::sessions::SessionUser,
    from: Option<&str>,
    to: Option<&str>,
    workspace: Option<&str>,
) -> backend::Result<crate::models::VolumeReport> {
    use backend::reporting::dashboards::{self, Period};
    backend::tenancy::access::require_admin(caller)?;
    let clock = agency_clock(&state.db).await?;
    let default_from = (clock.today - chrono::Duration::days(29)).to_string();
    let from = from.map(str::trim).filter(|s| !s.is_empty()).unwrap_or(&default_from);
    let period = Period::parse(Some(from), to, &clock)?;
    let only = workspace.map(str::trim).filter(|s| !s.is_empty());
    let all = dashboards::volume(&state.db, caller, period).await?;
    let workspaces = all.iter().map(|r| (r.slug.clone(), r.name.clone())).collect();
    Ok(crate::models::VolumeReport {
        from: period.from.to_string(),
        to: period.to.to_string(),
        days: (0..period.days()).map(|i| (period.from + chrono::Duration::days(i)).to_string()).collect(),
        lines: all
            .into_iter()
            .filter(|r| only.is_none_or(|s| s == r.slug))
            .map(|r| crate::models::VolumeLine {
                slug: r.slug,
                name: r.name,
                daily_send_target: r.daily_send_target,
                capacity: r.capacity,
                connected_senders: r.connected_senders,
                total_sent: r.total_sent,
                sent_per_day: r.sent_per_day,
                under_sending_days: r.under_sending_days.iter().map(|d| d.to_string()).collect(),
            })
            .collect(),
        workspaces,
    })
}

/// Revenue, costs, profit, margin and ROI per workspace for a month (`YYYY-MM`, default: this one).
#[server(endpoint = "admin/revenue")]
pub async fn revenue_dashboard(month: Option<String>, workspace: Option<String>) -> Result<crate::models::RevenueReport, AppError> {
    let (state, caller) = (super::ctx::state()?, super::ctx::caller()?);
    Ok(revenue_report(&state, &caller, month.as_deref(), workspace.as_deref()).await?)
}

#[cfg(feature = "ssr")]
pub async fn revenue_report(
    state: &backend::AppState,
    caller: &backend::identity::sessions::SessionUser,
    month: Option<&str>,
    workspace: Option<&str>,
) -> backend::Result<crate::models::RevenueReport> {
    use backend::reporting::metrics;
    use chrono::Datelike;
    backend::tenancy::access::require_admin(caller)?;
    let db = &state.db;
    let clock = agency_clock(db).await?;
    let current = format!("{:04}-{:02}", clock.today.year(), clock.today.month());
    let month = month.map(str::trim).filter(|m| !m.is_empty()).unwrap_or(&current);
    let (year, mon) = month
        .split_once('-')
        .and_then(|(y, m)| Some((y.parse::<i32>().ok()?, m.parse::<u32>().ok().filter(|m| (1..=12).contains(m))?)))
        .filter(|(y, _)| (2000..=2100).contains(y))
        .ok_or_else(|| backend::Error::invalid(format!("The month {month:?} is not a month like 2026-11.")))?;
    if (year, mon) > (clock.today.year(), clock.today.month()) {
        return Err(backend::Error::invalid("That month has not started yet: choose this month or an earlier one."));
    }
    let all_ws = backend::tenancy::workspaces::list_visible(db, caller).await?;
    let workspaces = all_ws.iter().filter(|(w, _)| w.active).map(|(w, _)| (w.slug.clone(), w.name.clone())).collect();
    let only = workspace.map(str::trim).filter(|s| !s.is_empty());
    let r = backend::reporting::dashboards::revenue(db, caller, year, mon, clock.today, only).await?;
    let stage_of = |slug: &str| all_ws.iter().find(|(w, _)| w.slug == slug).map(|(w, _)| w.billable_stage.clone()).unwrap_or_default();
    let line = |slug: String, name: String, pricing: String, m: &backend::reporting::revenue::MonthRevenue, frozen: bool| {
        let money = metrics::money(m.revenue_cents, m.costs_cents);
        crate::models::RevenueLine {
            billable_stage: stage_of(&slug),
            slug,
            name,
            pricing_model: pricing,
            billable_leads: m.billable_leads,
            interested_leads: m.interested_leads,
            invalid_leads: m.invalid_leads,
            revenue_cents: m.revenue_cents,
            costs_cents: m.costs_cents,
            profit_cents: money.profit_cents,
            margin: money.margin,
            roi: money.roi,
            won_value_cents: m.won_value_cents,
            client_roi: metrics::client_roi(m.won_value_cents, m.revenue_cents),
            frozen,
        }
    };
    let mut sum = backend::reporting::revenue::MonthRevenue {
        month: r.month.clone(),
        pricing_model: backend::tenancy::workspaces::PricingModel::PerLead,
        billable_leads: 0,
        revenue_cents: 0,
        costs_cents: 0,
        won_value_cents: 0,
        interested_leads: 0,
        invalid_leads: 0,
        frozen: false,
    };
    let lines = r
        .rows
        .iter()
        .map(|(name, slug, m)| {
            sum.billable_leads += m.billable_leads;
            sum.revenue_cents += m.revenue_cents;
            sum.costs_cents += m.costs_cents;
            sum.won_value_cents += m.won_value_cents;
            sum.interested_leads += m.interested_leads;
            sum.invalid_leads += m.invalid_leads;
            line(slug.clone(), name.clone(), m.pricing_model.as_str().into(), m, m.frozen)
        })
        .collect();
    Ok(crate::models::RevenueReport {
        month: r.month.clone(),
        current_month: current,
        total: line(String::new(), "Agency total".into(), String::new(), &sum, false),
        lines,
        history: r.history,
        daily: r.daily.into_iter().map(|(d, v)| (d.to_string(), v)).collect(),
        workspaces,
    })
}

/// Agency ROI (profit / costs) and client ROI (won deal value / fees) per workspace, six months.
#[server(endpoint = "admin/roi")]
pub async fn roi_dashboard(workspace: Option<String>) -> Result<crate::models::RoiReport, AppError> {
    let (state, caller) = (super::ctx::state()?, super::ctx::caller()?);
    Ok(roi_report(&state, &caller, workspace.as_deref()).await?)
}

#[cfg(feature = "ssr")]
pub async fn roi_report(
    state: &backend::AppState,
    caller: &backend::identity::sessions::SessionUser,
    workspace: Option<&str>,
) -> backend::Result<crate::models::RoiReport> {
    backend::tenancy::access::require_admin(caller)?;
    let clock = agency_clock(&state.db).await?;
    let only = workspace.map(str::trim).filter(|s| !s.is_empty());
    let months = backend::reporting::dashboards::HISTORY_MONTHS;
    let all = backend::reporting::dashboards::monthly_history(&state.db, caller, clock.today, months, None).await?;
    let workspaces = all.iter().map(|(n, s, _)| (s.clone(), n.clone())).collect();
    Ok(crate::models::RoiReport {
        months: all.first().map(|(_, _, m)| m.iter().map(|m| m.month.clone()).collect()).unwrap_or_default(),
        lines: all
            .into_iter()
            .filter(|(_, s, _)| only.is_none_or(|o| o == s))
            .map(|(name, slug, ms)| crate::models::RoiLine {
                slug,
                name,
                months: ms.into_iter().map(|m| (m.month, m.revenue_cents, m.costs_cents, m.won_value_cents)).collect(),
            })
            .collect(),
        workspaces,
    })
}

/// The "Email accounts" page: every sender with its health band (filtered by workspace, band,
/// status and email text), and each workspace's capacity and lead runway. Sorted and paged here,
/// so the browser gets one page of the 200-odd senders.
#[server(endpoint = "admin/senders")]
#[allow(clippy::too_many_arguments)]
pub async fn sender_health(
    workspace: Option<String>,
    band: Option<String>,
    status: Option<String>,
    q: Option<String>,
    sort: Option<String>,
    dir: Option<String>,
    page: Option<usize>,
    size: Option<usize>,
) -> Result<crate::models::SenderReport, AppError> {
    use crate::pages::admin::senders::{default_order, SORTS};
    let (state, caller) = super::ctx::admin()?;
    let mut r = sender_report(&state, &caller, workspace.as_deref(), band.as_deref(), status.as_deref(), q.as_deref()).await?;
    default_order(&mut r.senders);
    crate::components::sort::sort_rows(&mut r.senders, SORTS, sort.as_deref().unwrap_or(""), dir.as_deref().unwrap_or(""));
    let (rows, page, size) = crate::components::sort::page_of(std::mem::take(&mut r.senders), page, size);
    Ok(crate::models::SenderReport { senders: rows, page, size, ..r })
}

#[cfg(feature = "ssr")]
pub async fn sender_report(
    state: &backend::AppState,
    caller: &backend::identity::sessions::SessionUser,
    workspace: Option<&str>,
    band: Option<&str>,
    status: Option<&str>,
    q: Option<&str>,
) -> backend::Result<crate::models::SenderReport> {
    use crate::models::{SenderLine, SendingLine};
    let (rows, sending) = backend::reporting::dashboards::senders(&state.db, caller).await?;
    let given = |v: Option<&str>| v.map(str::trim).filter(|s| !s.is_empty()).map(str::to_lowercase);
    let (workspace, band, status, q) = (given(workspace), given(band), given(status), given(q));
    let lines: Vec<SenderLine> = rows
        .into_iter()
        .map(|r| {
            let band = serde_json::to_value(backend::reporting::metrics::health_band(r.bounced_total, r.sent_total))
                .ok()
                .and_then(|v| v.as_str().map(str::to_owned))
                .unwrap_or_default();
            SenderLine {
                bounce_rate: backend::reporting::metrics::ratio(r.bounced_total as f64, r.sent_total as f64),
                band,
                workspace_slug: r.workspace_slug,
                workspace_name: r.workspace_name,
                email: r.email,
                status: r.status,
                daily_limit: r.daily_limit,
                warmup_enabled: r.warmup_enabled,
                sent: r.sent_total,
                bounced: r.bounced_total,
                replies: r.replies_total,
                last_synced_at: r.last_synced_at.map(super::ctx::ts),
            }
        })
        .collect();
    let count = |b: &str| lines.iter().filter(|l| l.band == b).count();
    let bands = (count("healthy"), count("warning"), count("critical"), count("no_data"));
    let senders: Vec<SenderLine> = lines
        .into_iter()
        .filter(|l| workspace.as_ref().is_none_or(|w| *w == l.workspace_slug))
        .filter(|l| band.as_ref().is_none_or(|b| *b == l.band))
        .filter(|l| status.as_ref().is_none_or(|s| *s == l.status))
        .filter(|l| q.as_ref().is_none_or(|q| l.email.contains(q.as_str())))
        .collect();
    let workspaces = sending
        .into_iter()
        .filter(|w| workspace.as_ref().is_none_or(|s| *s == w.slug))
        .map(|w| SendingLine {
            slug: w.slug,
            name: w.name,
            daily_send_target: w.daily_send_target,
            capacity: w.capacity,
            connected_senders: w.connected_senders,
            uncontacted_leads: w.uncontacted_leads,
            runway_days: w.runway_days,
        })
        .collect();
    Ok(crate::models::SenderReport { total: senders.len(), page: 1, size: senders.len(), senders, bands, workspaces })
}

#[cfg(feature = "ssr")]
fn parse_day(label: &str, v: &str) -> Result<Option<chrono::NaiveDate>, AppError> {
    let v = v.trim();
    if v.is_empty() {
        return Ok(None);
    }
    chrono::NaiveDate::parse_from_str(v, "%Y-%m-%d")
        .map(Some)
        .map_err(|_| AppError::from(backend::Error::invalid(format!("The {label} {v:?} is not a date like 2026-11-01."))))
}

#[allow(clippy::too_many_arguments)]
#[server(endpoint = "admin/clients/costs/add")]
pub async fn add_cost(
    workspace_id: i64,
    category: String,
    description: String,
    amount: String,
    recurrence: String,
    starts_on: String,
    ends_on: String,
) -> Result<(), AppError> {
    let (state, caller) = super::ctx::admin()?;
    let cost = backend::reporting::costs::NewCost {
        category,
        description,
        amount_cents: crate::money::parse_dollars(&amount).map_err(AppError::invalid)?,
        recurrence,
        starts_on: parse_day("start date", &starts_on)?.ok_or_else(|| AppError::invalid("Enter the day the cost starts (or was incurred)."))?,
        ends_on: parse_day("end date", &ends_on)?,
    };
    backend::reporting::costs::add_cost(&state.db, &caller, workspace_id, cost, &super::ctx::client_info()).await?;
    Ok(())
}

#[server(endpoint = "admin/clients/costs/delete")]
pub async fn delete_cost(workspace_id: i64, cost_id: i64) -> Result<(), AppError> {
    let (state, caller) = super::ctx::admin()?;
    backend::reporting::costs::delete_cost(&state.db, &caller, workspace_id, cost_id, &super::ctx::client_info()).await?;
    Ok(())
}
