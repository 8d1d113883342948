//! "Send to contacts": chosen prospect masters become contacts of a workspace's contact
//! pipeline. The glue lives here (the composition root may import any domain) so prospects and
//! contacts stay independent; the rows go through `contacts::import_rows`, so the contact
//! pipeline's own validation and dedupe decide what is created.

use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::{
    contacts::{self, ContactRow},
    identity::sessions::SessionUser,
    platform::{db::Db, error::{Error, Result}},
    prospects::{
        normalize,
        store::{self, MasterRow, MasterSelection},
    },
};

/// What sending did, over every call into the contact pipeline.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SendSummary {
    pub masters: usize,
    pub created: usize,
    pub duplicates: usize,
    pub rejected: usize,
    /// The contact uploads that recorded them (one per 1,000 masters).
    pub upload_ids: Vec<i64>,
}

/// A master as a contact: its first email and phone, its anchor person's names, its team as the company.
pub fn contact_row(m: &MasterRow) -> ContactRow {
    let some = |s: &str| Some(s.trim().to_owned()).filter(|s| !s.is_empty());
    let (first, last) = if m.first_name.is_empty() && m.last_name.is_empty() {
        match m.full_name.trim().rsplit_once(' ') {
            Some((f, l)) => (some(f), some(l)),
            None => (some(&m.full_name), None),
        }
    } else {
        (some(&normalize::display_part(&m.full_name, &m.first_name)), some(&normalize::display_part(&m.full_name, &m.last_name)))
    };
    ContactRow {
        email: m.emails.first().cloned(),
        first_name: first,
        last_name: last,
        company: m.team_id.clone(),
        phone: m.phones.first().cloned(),
        ..Default::default()
    }
}

/// Sends the selected masters to `workspace_id`'s contacts (admins only; `import_rows` checks
/// the caller and the workspace). Nothing selected is an error that says what to choose.
pub async fn send(db: &Db, caller: &SessionUser, workspace_id: i64, selection: &MasterSelection, data_dir: &Path) -> Result<SendSummary> {
    crate::tenancy::access::require_admin(caller)?;
    let masters = store::select_masters(db, selection).await?;
    if masters.is_empty() {
        return Err(Error::invalid(match selection {
            MasterSelection::Ids(_) => "Choose at least one master record to send.".to_owned(),
            MasterSelection::MinConfidence(n) => format!("No master record has a confidence of {n} or more; lower the threshold or run the resolver."),
        }));
    }
    let mut summary = SendSummary { masters: masters.len(), ..Default::default() };
    for chunk in masters.chunks(contacts::MAX_ROWS_PER_CALL) {
        let rows: Vec<ContactRow> = chunk.iter().map(contact_row).collect();
        let (upload_id, results) = contacts::import_rows(db, caller, workspace_id, &rows, data_dir).await?;
        summary.upload_ids.push(upload_id);
        for r in results {
            match r.status {
                "created" => summary.created += 1,
                "duplicate" => summary.duplicates += 1,
                _ => summary.rejected += 1,
            }
        }
    }
    Ok(summary)
}
