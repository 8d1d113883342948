//! The client portal: the caller's workspaces with their headline KPIs, a workspace's pipeline
//! board, moves between stages, a lead's page and its notes. Every function authorizes through
//! the core (`backend::leads::pipeline`, `workspaces::visible_by_slug`): a workspace or lead the caller
//! may not see is `NotFound`, a read-only caller's write is `Forbidden`.

use leptos::prelude::*;

use crate::{
    error::AppError,
    models::{LeadView, PortalBoard, WorkspaceCard},
};

#[cfg(feature = "ssr")]
fn portal_row(ws: backend::tenancy::workspaces::Workspace, level: backend::tenancy::access::AccessLevel, kpi: Option<crate::models::PortalKpi>) -> WorkspaceCard {
    WorkspaceCard {
        slug: ws.slug,
        name: ws.name,
        active: ws.active,
        monthly_lead_target: ws.monthly_lead_target,
        access: level.as_str().into(),
        kpi,
    }
}

/// This month's KPIs of the workspaces the caller can see, by workspace id.
#[cfg(feature = "ssr")]
async fn portal_kpis(
    state: &backend::AppState,
    caller: &backend::identity::sessions::SessionUser,
    only: Option<&str>,
) -> backend::Result<std::collections::HashMap<i64, crate::models::PortalKpi>> {
    let clock = super::reporting::agency_clock(&state.db).await?;
    let period = backend::reporting::dashboards::Period::parse(None, None, &clock)?;
    Ok(backend::reporting::dashboards::kpi(&state.db, caller, &clock, period, only)
        .await?
        .into_iter()
        .map(|r| {
            let p = r.pacing;
            let status = serde_json::to_value(p.status).ok().and_then(|v| v.as_str().map(str::to_owned)).unwrap_or_default();
            let kpi = crate::models::PortalKpi {
                target: p.target,
                mtd: p.mtd,
                expected_by_today: p.expected_by_today,
                pacing: p.pacing,
                projection: p.projection,
                percent_of_target: p.percent_of_target,
                status,
            };
            (r.workspace_id, kpi)
        })
        .collect())
}

/// The workspaces the caller can see (admins: all), with this month's KPIs.
#[server(endpoint = "portal/workspaces")]
pub async fn my_workspaces() -> Result<Vec<WorkspaceCard>, AppError> {
    use super::ctx;
    let (state, caller) = (ctx::state()?, ctx::caller()?);
    let rows = backend::tenancy::workspaces::list_visible(&state.db, &caller).await?;
    let mut kpis = portal_kpis(&state, &caller, None).await?;
    Ok(rows.into_iter().map(|(ws, level)| { let k = kpis.remove(&ws.id); portal_row(ws, level, k) }).collect())
}

/// The board's filters as the URL carries them.
#[cfg(feature = "ssr")]
pub fn lead_filter(q: &str, from: &str, to: &str, campaign: &str) -> backend::Result<backend::leads::pipeline::LeadFilter> {
    let day = |label: &str, v: &str| -> backend::Result<Option<chrono::NaiveDate>> {
        let v = v.trim();
        if v.is_empty() {
            return Ok(None);
        }
        chrono::NaiveDate::parse_from_str(v, "%Y-%m-%d")
            .map(Some)
            .map_err(|_| backend::Error::invalid(format!("The {label} date {v:?} is not a date like 2026-11-01.")))
    };
    let campaign = campaign.trim();
    Ok(backend::leads::pipeline::LeadFilter {
        text: q.trim().to_owned(),
        from: day("from", from)?,
        to: day("to", to)?,
        campaign_id: if campaign.is_empty() {
            None
        } else {
            Some(campaign.parse().map_err(|_| backend::Error::invalid(format!("{campaign:?} is not a campaign.")))?)
        },
    })
}

#[cfg(feature = "ssr")]
fn card(c: backend::leads::pipeline::Card) -> crate::models::LeadCard {
    let name = [c.first_name.as_deref(), c.last_name.as_deref()].into_iter().flatten().collect::<Vec<_>>().join(" ");
    let snippet = c.reply_text.as_deref().map(|t| {
        let t = t.split_whitespace().collect::<Vec<_>>().join(" ");
        if t.chars().count() > 140 { format!("{}…", t.chars().take(140).collect::<String>()) } else { t }
    });
    crate::models::LeadCard {
        id: c.id,
        name: if name.trim().is_empty() { c.email.clone() } else { name },
        email: c.email,
        company: c.company,
        received_on: c.interested_day.map(|d| d.to_string()),
        snippet,
        stage: c.stage.to_string(),
        deal_value_cents: c.deal_value_cents,
    }
}

/// Largest number of cards a column shows at once.
pub const MAX_PER_COLUMN: i64 = 500;

/// One workspace's board: KPI header, a column per stage (the newest `per` cards of each, 50 by
/// default), filtered by text, day received and campaign.
#[server(endpoint = "portal/board")]
pub async fn load_board(
    slug: String,
    q: Option<String>,
    from: Option<String>,
    to: Option<String>,
    campaign: Option<String>,
    per: Option<i64>,
) -> Result<PortalBoard, AppError> {
    use super::ctx;
    let (state, caller) = (ctx::state()?, ctx::caller()?);
    let (ws, level) = backend::tenancy::workspaces::visible_by_slug(&state.db, &caller, &slug).await?;
    let filter = lead_filter(q.as_deref().unwrap_or(""), from.as_deref().unwrap_or(""), to.as_deref().unwrap_or(""), campaign.as_deref().unwrap_or(""))?;
    let per_column = per.unwrap_or(50).clamp(1, MAX_PER_COLUMN);
    let columns = backend::leads::pipeline::board(&state.db, ws.id, &filter, per_column)
        .await?
        .into_iter()
        .map(|c| crate::models::BoardColumn { stage: c.stage.to_string(), total: c.total, value_cents: c.value_cents, cards: c.cards.into_iter().map(card).collect() })
        .collect();
    let kpi = if ws.active { portal_kpis(&state, &caller, Some(&ws.slug)).await?.remove(&ws.id) } else { None };
    let campaigns = backend::leads::pipeline::campaigns(&state.db, ws.id).await?;
    Ok(PortalBoard { can_write: level.can_write() && ws.active, workspace: portal_row(ws, level, kpi), columns, per_column, campaigns })
}

/// Moves a lead to another stage. `deal_value` (dollars) is required for `won`; `lost_reason`
/// is optional for `lost`.
#[server(endpoint = "portal/leads/move")]
pub async fn move_lead(lead_id: i64, to_stage: String, deal_value: Option<String>, lost_reason: Option<String>) -> Result<(), AppError> {
    use super::ctx;
    let (state, caller) = (ctx::state()?, ctx::caller()?);
    let deal_value_cents = match deal_value.as_deref().map(str::trim).filter(|v| !v.is_empty()) {
        None => None,
        Some(v) => Some(crate::money::parse_dollars(v).map_err(AppError::invalid)?),
    };
    let today = super::reporting::agency_clock(&state.db).await?.today;
    let m = backend::leads::pipeline::Move { to_stage, deal_value_cents, lost_reason };
    backend::leads::pipeline::move_lead(&state.db, &caller, lead_id, m, today).await?;
    Ok(())
}

/// A lead's page: contact details, the interested reply, notes and stage history. The lead must
/// belong to the workspace named in the URL.
#[server(endpoint = "portal/lead")]
pub async fn load_lead(slug: String, lead_id: i64) -> Result<LeadView, AppError> {
    use super::ctx;
    let (state, caller) = (ctx::state()?, ctx::caller()?);
    let (ws, _) = backend::tenancy::workspaces::visible_by_slug(&state.db, &caller, &slug).await?;
    let d = backend::leads::pipeline::lead_detail(&state.db, &caller, lead_id).await?;
    if d.workspace_id != ws.id {
        return Err(backend::Error::NotFound.into());
    }
    let c = card(d.lead.clone());
    let l = d.lead;
    Ok(LeadView {
        workspace_slug: ws.slug,
        workspace_name: ws.name,
        can_write: d.can_write && ws.active,
        id: l.id,
        name: c.name,
        email: l.email,
        company: l.company,
        title: l.title,
        phone: l.phone,
        campaign: l.campaign,
        reply_text: l.reply_text,
        received_at: l.received_at.map(ctx::ts),
        stage: l.stage.to_string(),
        deal_value_cents: l.deal_value_cents,
        lost_reason: l.lost_reason,
        notes: d
            .notes
            .into_iter()
            .map(|n| crate::models::NoteView {
                id: n.id,
                editable: d.can_write && (caller.is_admin() || n.author_user_id == Some(caller.user_id)),
                author: n.author_name,
                body: n.body,
                created_at: ctx::ts(n.created_at),
                edited_at: (n.updated_at > n.created_at).then(|| ctx::ts(n.updated_at)),
            })
            .collect(),
        history: d.history.into_iter().map(|h| (h.from_stage, h.to_stage, h.actor, h.note, ctx::ts(h.at))).collect(),
    })
}

#[server(endpoint = "portal/notes/add")]
pub async fn add_note(lead_id: i64, body: String) -> Result<(), AppError> {
    use super::ctx;
    let (state, caller) = (ctx::state()?, ctx::caller()?);
    backend::leads::pipeline::add_note(&state.db, &caller, lead_id, &body).await?;
    Ok(())
}

#[server(endpoint = "portal/notes/edit")]
pub async fn edit_note(note_id: i64, body: String) -> Result<(), AppError> {
    use super::ctx;
    let (state, caller) = (ctx::state()?, ctx::caller()?);
    backend::leads::pipeline::edit_note(&state.db, &caller, note_id, &body).await?;
    Ok(())
}
