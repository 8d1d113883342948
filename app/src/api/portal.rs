use leptos::prelude::*;

use crate::{error::AppError, models::WorkspaceCard};

#[cfg(feature = "ssr")]
fn portal_row(ws: backend::workspaces::Workspace, level: backend::access::AccessLevel) -> WorkspaceCard {
    WorkspaceCard {
        slug: ws.slug,
        name: ws.name,
        active: ws.active,
        monthly_lead_target: ws.monthly_lead_target,
        access: level.as_str().into(),
    }
}

/// The workspaces the caller can see (admins: all).
#[server(endpoint = "portal/workspaces")]
pub async fn my_workspaces() -> Result<Vec<WorkspaceCard>, AppError> {
    use super::ctx;
    let (state, caller) = (ctx::state()?, ctx::caller()?);
    let rows = backend::workspaces::list_visible(&state.db, &caller).await?;
    Ok(rows.into_iter().map(|(ws, level)| portal_row(ws, level)).collect())
}

/// One workspace's portal header; `NotFound` unless the caller may see it.
#[server(endpoint = "portal/workspace")]
pub async fn portal_workspace(slug: String) -> Result<WorkspaceCard, AppError> {
    use super::ctx;
    let (state, caller) = (ctx::state()?, ctx::caller()?);
    let (ws, level) = backend::workspaces::visible_by_slug(&state.db, &caller, &slug).await?;
    Ok(portal_row(ws, level))
}
