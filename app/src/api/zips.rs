//! The ZIP page: every assigned ZIP with its workspaces, map points and conflicts, and the outcome
//! of the last CSV upload (the upload itself is a plain form post to the host, see
//! `server/src/uploads.rs`, so it works before and without the WASM); and assigning or
//! unassigning one ZIP from a client's page.

use leptos::prelude::*;

use crate::{error::AppError, models::ZipReport};

/// The page's filters, as they appear in the URL.
#[derive(Clone, Debug, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ZipFilter {
    /// Matches ZIP prefix, city, state or workspace name.
    pub q: String,
    pub workspace: String,
    pub state: String,
    /// `conflicts` shows only ZIPs held by two or more workspaces.
    pub show: String,
}

impl ZipFilter {
    pub fn matches(&self, line: &crate::models::ZipLine) -> bool {
        let q = self.q.trim().to_lowercase();
        let text_ok = q.is_empty()
            || line.zip.starts_with(&q)
            || line.city.as_deref().is_some_and(|c| c.to_lowercase().contains(&q))
            || line.state.as_deref().is_some_and(|s| s.eq_ignore_ascii_case(&q))
            || line.workspaces.iter().any(|(slug, name)| slug.contains(&q) || name.to_lowercase().contains(&q));
        text_ok
            && (self.workspace.is_empty() || line.workspaces.iter().any(|(slug, _)| *slug == self.workspace))
            && (self.state.is_empty() || line.state.as_deref() == Some(self.state.as_str()))
            && (self.show != "conflicts" || line.conflict())
    }
}

/// The ZIP page's data: ZIPs matching the filters (see [`ZipFilter`]) and, with `import`, the
/// outcome of that upload.
#[server(endpoint = "admin/zips")]
pub async fn zip_territories(
    q: Option<String>,
    workspace: Option<String>,
    state: Option<String>,
    show: Option<String>,
    import: Option<i64>,
) -> Result<ZipReport, AppError> {
    let (app, caller) = super::ctx::admin()?;
    let filter = ZipFilter {
        q: q.unwrap_or_default(),
        workspace: workspace.unwrap_or_default(),
        state: state.unwrap_or_default(),
        show: show.unwrap_or_default(),
    };
    Ok(zip_report(&app, &caller, &filter, import).await?)
}

/// The report for the page and its CSV export (same filters, same rows).
#[cfg(feature = "ssr")]
pub async fn zip_report(
    state: &backend::AppState,
    caller: &backend::identity::sessions::SessionUser,
    filter: &ZipFilter,
    import: Option<i64>,
) -> backend::Result<ZipReport> {
    use crate::models::{ZipImportSummary, ZipLine};
    backend::tenancy::access::require_admin(caller)?;
    let db = &state.db;
    let mut lines: Vec<ZipLine> = Vec::new();
    for t in backend::zips::territories(db).await? {
        let day = t.assigned_at.date_naive().to_string();
        match lines.last_mut() {
            Some(l) if l.zip == t.zip => {
                l.workspaces.push((t.workspace_slug, t.workspace_name));
                l.city = l.city.take().or(t.city);
                l.state = l.state.take().or(t.state);
                if day < l.assigned_on {
                    l.assigned_on = day;
                }
            }
            _ => {
                let place = state.places.get(&t.zip);
                lines.push(ZipLine {
                    city: t.city.or_else(|| place.map(|p| p.city.clone())),
                    state: t.state.or_else(|| place.map(|p| p.state.clone())),
                    map_point: place.and_then(|p| p.map_point),
                    zip: t.zip,
                    workspaces: vec![(t.workspace_slug, t.workspace_name)],
                    assigned_on: day,
                })
            }
        }
    }
    let total_zips = lines.len();
    let total_conflicts = lines.iter().filter(|l| l.conflict()).count();
    let mut states: Vec<String> = lines.iter().filter_map(|l| l.state.clone()).collect();
    states.sort();
    states.dedup();
    let workspaces = backend::tenancy::workspaces::list_visible(db, caller)
        .await?
        .into_iter()
        .filter(|(w, _)| w.active)
        .map(|(w, _)| (w.slug, w.name))
        .collect();
    let import = match import {
        None => None,
        Some(id) => {
            let i = backend::zips::get_import(db, caller, id).await?;
            let rejected_preview = i.rejected_preview(20);
            Some(ZipImportSummary {
                id: i.id,
                file_name: i.file_name,
                created_at: super::ctx::ts(i.created_at),
                rows_total: i.rows_total,
                assigned: i.assigned,
                unchanged: i.unchanged,
                rejected: i.rejected,
                failure: i.failure,
                rejected_preview,
            })
        }
    };
    Ok(ZipReport {
        lines: lines.into_iter().filter(|l| filter.matches(l)).collect(),
        total_zips,
        total_conflicts,
        workspaces,
        states,
        places_loaded: !state.places.is_empty(),
        import,
    })
}

#[server(endpoint = "admin/clients/zips/assign")]
pub async fn assign_zip(workspace_id: i64, zip: String, state_code: String, city: String) -> Result<(), AppError> {
    let (state, caller) = super::ctx::admin()?;
    backend::zips::assign_zip(&state.db, &caller, workspace_id, &zip, Some(&state_code), Some(&city), &super::ctx::client_info()).await?;
    Ok(())
}

#[server(endpoint = "admin/clients/zips/unassign")]
pub async fn unassign_zip(workspace_id: i64, zip: String) -> Result<(), AppError> {
    let (state, caller) = super::ctx::admin()?;
    backend::zips::unassign_zip(&state.db, &caller, workspace_id, &zip, &super::ctx::client_info()).await?;
    Ok(())
}
