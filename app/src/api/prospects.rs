//! The Prospects page (issue 15): counts per layer, the merge log, the review queue and its
//! decisions, splitting a master, running the resolver and sending masters to a workspace's
//! contacts. Admins only. Files are uploaded by a plain form post to the host
//! (`server/src/uploads.rs`), streamed to disk.

use leptos::prelude::*;

use crate::{
    error::AppError,
    models::{ProspectRunProgress, ProspectsPage, SendToContactsView},
};

/// Review pairs shown at once, best first.
#[cfg(feature = "ssr")]
const REVIEW_LIMIT: i64 = 50;
/// Masters shown in the table (the CSV has them all).
#[cfg(feature = "ssr")]
const MASTERS_SHOWN: i64 = 100;

#[cfg(feature = "ssr")]
fn person(p: Option<&backend::prospects::store::PersonView>) -> crate::models::ProspectPersonView {
    p.map(|p| crate::models::ProspectPersonView { id: p.id, full_name: p.full_name.clone(), emails: p.emails.clone(), phones: p.phones.clone(), team_id: p.team_id.clone() })
        .unwrap_or_default()
}

#[cfg(feature = "ssr")]
fn progress_view(p: backend::prospects::store::RunProgress) -> ProspectRunProgress {
    ProspectRunProgress { id: p.id, status: p.status, phase: p.phase, done: p.done, total: p.total, error: p.error }
}

#[server(endpoint = "admin/prospects")]
pub async fn load_prospects() -> Result<ProspectsPage, AppError> {
    use backend::prospects::store;
    let (state, caller) = super::ctx::admin()?;
    let db = &state.db;
    let c = store::counts(db).await?;
    let pairs = store::review_queue(db, REVIEW_LIMIT).await?;
    let ids: Vec<i64> = pairs.iter().flat_map(|p| [p.person_a, p.person_b]).collect();
    let people = store::persons(db, &ids).await?;
    let find = |id: i64| people.iter().find(|p| p.id == id);
    Ok(ProspectsPage {
        raw_rows: c.raw_rows,
        rejected_rows: c.rejected_rows,
        persons: c.persons,
        masters: c.masters,
        masters_needing_review: c.masters_needing_review,
        open_review_pairs: c.open_review_pairs,
        duplicate_rate: c.duplicate_rate,
        runs: store::runs(db, 10)
            .await?
            .into_iter()
            .map(|(id, status, processed, merged, flagged, error)| crate::models::ProspectRunView { id, status, processed, merged, flagged, error })
            .collect(),
        progress: store::progress(db).await?.map(progress_view),
        review: pairs
            .iter()
            .map(|p| crate::models::ReviewPairView { id: p.id, rule: p.rule.clone(), confidence: p.confidence, a: person(find(p.person_a)), b: person(find(p.person_b)) })
            .collect(),
        master_rows: store::masters(db, MASTERS_SHOWN)
            .await?
            .into_iter()
            .map(|m| crate::models::MasterView {
                id: m.id,
                full_name: m.full_name,
                emails: m.emails,
                phones: m.phones,
                team_id: m.team_id,
                persons: m.persons,
                confidence: m.confidence,
                needs_review: m.needs_review,
            })
            .collect(),
        workspaces: backend::tenancy::workspaces::list_visible(db, &caller)
            .await?
            .into_iter()
            .map(|(w, _)| w)
            .filter(|w| w.active)
            .map(|w| (w.slug, w.name))
            .collect(),
        max_upload_mb: state.config.contacts_upload_max_bytes / (1024 * 1024),
    })
}

/// Queues a resolver run on everything loaded (a worker runs it); answers the run id, or a
/// conflict when a run is already going.
#[server(endpoint = "admin/prospects/resolve")]
pub async fn resolve_prospects() -> Result<i64, AppError> {
    let (state, caller) = super::ctx::admin()?;
    Ok(backend::prospects::request_resolve(&state.db, &caller).await?)
}

/// The resolver run going (or the newest one): the page polls it while a run works.
#[server(endpoint = "admin/prospects/progress")]
pub async fn prospects_progress() -> Result<Option<ProspectRunProgress>, AppError> {
    let (state, _caller) = super::ctx::admin()?;
    Ok(backend::prospects::store::progress(&state.db).await?.map(progress_view))
}

/// Approves (`approve` = "yes": the two masters merge now) or rejects (kept apart from now on) a
/// review pair. Audited.
#[server(endpoint = "admin/prospects/decide")]
pub async fn decide_prospect_pair(pair: i64, approve: String) -> Result<(), AppError> {
    let (state, caller) = super::ctx::admin()?;
    let approve = match approve.as_str() {
        "yes" => true,
        "no" => false,
        _ => return Err(backend::Error::invalid("Say yes (merge) or no (keep apart).").into()),
    };
    backend::prospects::store::decide(&state.db, pair, approve, Some(caller.user_id)).await?;
    Ok(())
}

/// Splits a master now: each of its persons becomes its own master, kept apart from then on. Audited.
#[server(endpoint = "admin/prospects/split")]
pub async fn split_prospect_master(master: i64) -> Result<usize, AppError> {
    let (state, caller) = super::ctx::admin()?;
    Ok(backend::prospects::store::split(&state.db, master, Some(caller.user_id)).await?)
}

/// Sends masters to a workspace's contacts: the chosen ids (comma-separated) or, without ids,
/// every master with a confidence of at least `min_confidence`.
#[server(endpoint = "admin/prospects/send")]
pub async fn send_prospects_to_contacts(workspace: String, ids: Option<String>, min_confidence: Option<i64>) -> Result<SendToContactsView, AppError> {
    use backend::prospects::store::MasterSelection;
    let (state, caller) = super::ctx::admin()?;
    let db = &state.db;
    let (ws, _) = backend::tenancy::workspaces::visible_by_slug(db, &caller, workspace.trim()).await?;
    let ids: Vec<i64> = match ids.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        None => Vec::new(),
        Some(list) => list
            .split(',')
            .map(|x| x.trim().parse::<i64>())
            .collect::<Result<_, _>>()
            .map_err(|_| backend::Error::invalid("The master ids must be numbers separated by commas."))?,
    };
    let selection = match (ids.is_empty(), min_confidence) {
        (false, _) => MasterSelection::Ids(ids),
        (true, Some(n)) if (0..=100).contains(&n) => MasterSelection::MinConfidence(n),
        (true, Some(_)) => return Err(backend::Error::invalid("The confidence is a number from 0 to 100.").into()),
        (true, None) => return Err(backend::Error::invalid("Choose master records or a minimum confidence.").into()),
    };
    let s = backend::runtime::prospects_to_contacts::send(db, &caller, ws.id, &selection, &state.config.data_dir).await?;
    let contacts_total = backend::contacts::counts_by_verification(db, ws.id).await?.iter().map(|(_, n)| n).sum();
    Ok(SendToContactsView { workspace_name: ws.name, masters: s.masters, created: s.created, duplicates: s.duplicates, rejected: s.rejected, contacts_total })
}
