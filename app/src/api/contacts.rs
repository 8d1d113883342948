//! The contact pipeline page: a workspace's contacts by verification status, its uploads, and the
//! mapping step of a staged upload. The upload itself is a plain form post to the host
//! (`server/src/uploads.rs`), streamed to disk.

use leptos::prelude::*;

use crate::{
    error::AppError,
    models::ContactsPage,
};

#[cfg(feature = "ssr")]
fn upload_view(u: backend::contacts::ContactUpload) -> crate::models::ContactUploadView {
    let mut mapping: Vec<(String, usize)> = u.mapping().into_iter().collect();
    mapping.sort_by_key(|(f, _)| backend::contacts::FIELDS.iter().position(|x| x == f));
    crate::models::ContactUploadView {
        headers: u.header_list(),
        preview: u.preview_rows(),
        mapping,
        id: u.id,
        file_name: u.file_name,
        created_at: super::ctx::ts(u.created_at),
        bytes: u.bytes,
        status: u.status.to_string(),
        rows_total: u.rows_total,
        created: u.created,
        duplicates: u.duplicates,
        rejected: u.rejected,
        failure: u.failure,
        warnings: u.warnings,
    }
}

/// The page for `workspace` (default: the first active one) and, with `upload`, that upload.
#[server(endpoint = "admin/contacts")]
pub async fn load_contacts(workspace: Option<String>, upload: Option<i64>) -> Result<ContactsPage, AppError> {
    let (state, caller) = super::ctx::admin()?;
    let db = &state.db;
    let all: Vec<backend::tenancy::workspaces::Workspace> =
        backend::tenancy::workspaces::list_visible(db, &caller).await?.into_iter().map(|(w, _)| w).filter(|w| w.active).collect();
    let chosen = workspace.as_deref().map(str::trim).filter(|s| !s.is_empty());
    let ws = match chosen {
        Some(slug) => backend::tenancy::workspaces::visible_by_slug(db, &caller, slug).await?.0,
        None => all.first().cloned().ok_or_else(|| backend::Error::invalid("Create a client workspace first."))?,
    };
    let current = match upload {
        Some(id) => {
            let u = backend::contacts::get_upload(db, &caller, id).await?;
            if u.workspace_id != ws.id {
                return Err(backend::Error::NotFound.into());
            }
            Some(upload_view(u))
        }
        None => None,
    };
    Ok(ContactsPage {
        counts: backend::contacts::counts_by_verification(db, ws.id).await?,
        uploads: backend::contacts::recent_uploads(db, ws.id, 10).await?.into_iter().map(upload_view).collect(),
        workspaces: all.into_iter().map(|w| (w.slug, w.name)).collect(),
        workspace_slug: ws.slug,
        workspace_name: ws.name,
        current,
        max_upload_mb: state.config.contacts_upload_max_bytes / (1024 * 1024),
        batch_settings: {
            let b = backend::contacts::batches::settings(db, ws.id).await?;
            crate::models::BatchSettingsView { accept_risky: b.accept_risky, campaign_id: b.campaign_id, campaigns: backend::contacts::batches::campaign_choices(db, ws.id).await? }
        },
        monthly: backend::contacts::monthly_flow(db, ws.id, 12)
            .await?
            .into_iter()
            .map(|m| (m.month, m.uploaded, m.verified, m.batched, m.in_bison))
            .collect(),
        batches: {
            let mut out = Vec::new();
            for b in backend::contacts::batches::list(db, ws.id, 10).await? {
                let skipped_contacts = if b.skipped > 0 {
                    backend::contacts::batches::skipped_contacts(db, b.id).await?.into_iter().take(50).collect()
                } else {
                    Vec::new()
                };
                out.push(crate::models::BatchView {
                    id: b.id,
                    week_of: b.week_of,
                    size: b.size,
                    status: b.status.to_string(),
                    uploaded: b.uploaded,
                    skipped: b.skipped,
                    skipped_contacts,
                    error: b.error,
                });
            }
            out
        },
        unsendable: backend::contacts::batches::unsendable(db, ws.id, 20).await?,
        credits: {
            let c = backend::contacts::verification::credits(&state, ws.id).await?;
            crate::models::CreditsView {
                balance: c.balance.map(|(b, at)| (b, super::ctx::ts(at))),
                needed: c.needed,
                shortfall: c.shortfall(),
                months: backend::contacts::verification::credits_by_month(db, ws.id, 12).await?,
            }
        },
        verification: backend::contacts::verification::latest_run(db, ws.id).await?.map(|(status, summary, error, at)| {
            let what = match (summary, error) {
                (Some(s), e) => {
                    use crate::components::format::thousands as n;
                    format!(
                        "{} checked: {} safe, {} risky, {} invalid, {} unknown{}",
                        n(s.checked as i64),
                        n(s.safe as i64),
                        n(s.risky as i64),
                        n(s.invalid as i64),
                        n(s.unknown as i64),
                        e.map(|e| format!(" — stopped: {e}")).unwrap_or_default()
                    )
                }
                (None, Some(e)) => e,
                (None, None) => format!("since {}", super::ctx::ts(at)),
            };
            (status.to_string(), what)
        }),
    })
}

/// Imports a staged upload with the columns the admin chose (column numbers from 1; empty: the
/// field is not in the file).
#[allow(clippy::too_many_arguments)]
#[server(endpoint = "admin/contacts/import")]
pub async fn import_contacts(
    upload_id: i64,
    email: String,
    first_name: Option<String>,
    last_name: Option<String>,
    company: Option<String>,
    title: Option<String>,
    phone: Option<String>,
    city: Option<String>,
    state: Option<String>,
    zip: Option<String>,
) -> Result<crate::models::ImportedCounts, AppError> {
    let (app, caller) = super::ctx::admin()?;
    let mut mapping = std::collections::HashMap::new();
    let fields = [
        ("email", Some(email)),
        ("first_name", first_name),
        ("last_name", last_name),
        ("company", company),
        ("title", title),
        ("phone", phone),
        ("city", city),
        ("state", state),
        ("zip", zip),
    ];
    for (field, column) in fields {
        let Some(column) = column.map(|c| c.trim().to_owned()).filter(|c| !c.is_empty()) else { continue };
        let n: usize = column.parse().map_err(|_| AppError::invalid(format!("{column:?} is not a column number.")))?;
        if n == 0 {
            return Err(AppError::invalid("Column numbers start at 1."));
        }
        mapping.insert(field.to_owned(), n - 1);
    }
    let c = backend::contacts::import(&app.db, &caller, upload_id, mapping, &app.config.data_dir).await?;
    Ok(crate::models::ImportedCounts { rows_total: c.rows_total, created: c.created, duplicates: c.duplicates, rejected: c.rejected, unnamed: c.unnamed })
}

/// Queues a DeBounce check of the workspace's unverified contacts (a job; the page shows its
/// outcome). A run the credit balance can't cover is refused (409, saying what is short) unless
/// `confirm` is given (a checkbox: present = yes).
#[server(endpoint = "admin/contacts/verify")]
pub async fn verify_contacts(workspace: String, confirm: Option<String>) -> Result<(), AppError> {
    let (state, caller) = super::ctx::admin()?;
    let (ws, _) = backend::tenancy::workspaces::visible_by_slug(&state.db, &caller, &workspace).await?;
    let scope = backend::tenancy::access::require_write(&state.db, &caller, ws.id).await?;
    Ok(backend::contacts::request_verification(&state, &scope, confirm.is_some()).await?)
}

/// Uploads a weekly batch to Email Bison again (after a failure); resumes without duplicates.
#[server(endpoint = "admin/contacts/batches/upload")]
pub async fn upload_batch(batch_id: i64) -> Result<(), AppError> {
    let (state, caller) = super::ctx::admin()?;
    let b = backend::contacts::batches::get(&state.db, batch_id).await?;
    let scope = backend::tenancy::access::require_write(&state.db, &caller, b.workspace_id).await?;
    Ok(backend::contacts::request_batch_upload(&state.db, &scope, b.id).await?)
}

/// How this workspace's weekly batches are made: risky contacts count as verified (a checkbox:
/// present = yes) and the campaign they go to (empty: the first active one).
#[server(endpoint = "admin/contacts/batch_settings")]
pub async fn save_batch_settings(workspace: String, accept: Option<String>, campaign: Option<String>) -> Result<(), AppError> {
    let (state, caller) = super::ctx::admin()?;
    let (ws, _) = backend::tenancy::workspaces::visible_by_slug(&state.db, &caller, &workspace).await?;
    let campaign_id = match campaign.as_deref().map(str::trim).filter(|c| !c.is_empty()) {
        None => None,
        Some(c) => Some(c.parse::<i64>().map_err(|_| backend::Error::invalid("Choose one of this workspace's campaigns."))?),
    };
    backend::contacts::batches::save_settings(&state.db, ws.id, &backend::contacts::batches::BatchSettings { accept_risky: accept.is_some(), campaign_id }).await?;
    Ok(())
}
