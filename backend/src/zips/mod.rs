//! ZIP territories of each workspace. A ZIP held by two active workspaces is a conflict the admin
//! home and the ZIP page point out. Assignments arrive one by one (client profile) or as a CSV
//! upload: valid rows land together in one transaction, rejected rows are kept with their reason.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::{
    platform::csv_input,
    platform::db::Db,
    platform::error::{Error, Result},
    platform::geo::ZipPlaces,
    on_db,
    identity::sessions::SessionUser,
};
use crate::{
    identity::{audit, auth::ClientInfo},
    tenancy::{access::require_admin, workspaces},
};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, sqlx::FromRow)]
pub struct ZipAssignment {
    pub zip: String,
    pub state: Option<String>,
    pub city: Option<String>,
}

/// `"02108"`, `" 2108 "` (leading zero lost by a spreadsheet) and `"02108-1234"` → `"02108"`.
pub fn normalize_zip(raw: &str) -> Result<String> {
    let t = raw.trim();
    let five = t.split('-').next().unwrap_or("");
    if !five.is_empty() && five.len() <= 5 && five.chars().all(|c| c.is_ascii_digit()) {
        Ok(format!("{five:0>5}"))
    } else {
        Err(Error::invalid(format!("{t:?} is not a US ZIP code (5 digits, e.g. 02108).")))
    }
}

pub async fn list(db: &Db, workspace_id: i64) -> Result<Vec<ZipAssignment>> {
    Ok(on_db!(db, |pool| sqlx::query_as::<_, ZipAssignment>(
        "SELECT zip, state, city FROM client_zip_codes WHERE workspace_id = $1 ORDER BY zip"
    )
    .bind(workspace_id)
    .fetch_all(pool)
    .await)?)
}

/// Assigns a ZIP (idempotent: assigning it again updates state and city).
pub async fn assign(db: &Db, workspace_id: i64, zip: &str, state: Option<&str>, city: Option<&str>) -> Result<String> {
    let zip = normalize_zip(zip)?;
    let state = state.map(|s| s.trim().to_ascii_uppercase()).filter(|s| !s.is_empty());
    if let Some(s) = &state {
        if s.len() != 2 || !s.chars().all(|c| c.is_ascii_alphabetic()) {
            return Err(Error::invalid(format!("{s:?} is not a two-letter state code (e.g. TX).")));
        }
    }
    on_db!(db, |pool| sqlx::query(
        "INSERT INTO client_zip_codes (workspace_id, zip, state, city, assigned_at) VALUES ($1, $2, $3, $4, $5) \
         ON CONFLICT (workspace_id, zip) DO UPDATE SET state = excluded.state, city = excluded.city"
    )
    .bind(workspace_id)
    .bind(&zip)
    .bind(state)
    .bind(city.map(str::trim).filter(|c| !c.is_empty()))
    .bind(Utc::now())
    .execute(pool)
    .await
    .map(|r| r.rows_affected()))?;
    Ok(zip)
}

pub async fn unassign(db: &Db, workspace_id: i64, zip: &str) -> Result<()> {
    let zip = normalize_zip(zip)?;
    let n = on_db!(db, |pool| sqlx::query("DELETE FROM client_zip_codes WHERE workspace_id = $1 AND zip = $2")
        .bind(workspace_id)
        .bind(&zip)
        .execute(pool)
        .await
        .map(|r| r.rows_affected()))?;
    if n == 0 {
        return Err(Error::NotFound);
    }
    Ok(())
}

/// Other workspaces holding the same ZIPs as this one: (zip, other workspace name).
pub async fn conflicts_of(db: &Db, workspace_id: i64) -> Result<Vec<(String, String)>> {
    Ok(on_db!(db, |pool| sqlx::query_as::<_, (String, String)>(
        "SELECT z.zip, w.name FROM client_zip_codes z JOIN workspaces w ON w.id = z.workspace_id \
         WHERE z.workspace_id <> $1 AND z.zip IN (SELECT zip FROM client_zip_codes WHERE workspace_id = $1) ORDER BY z.zip"
    )
    .bind(workspace_id)
    .fetch_all(pool)
    .await)?)
}

/// One ZIP held by one active workspace.
#[derive(Clone, Debug, PartialEq, sqlx::FromRow)]
pub struct Territory {
    pub zip: String,
    pub state: Option<String>,
    pub city: Option<String>,
    pub workspace_slug: String,
    pub workspace_name: String,
    pub assigned_at: DateTime<Utc>,
}

/// Every ZIP of every active workspace, by ZIP then workspace name.
pub async fn territories(db: &Db) -> Result<Vec<Territory>> {
    Ok(on_db!(db, |pool| sqlx::query_as::<_, Territory>(
        "SELECT z.zip, z.state, z.city, w.slug AS workspace_slug, w.name AS workspace_name, z.assigned_at \
         FROM client_zip_codes z JOIN workspaces w ON w.id = z.workspace_id WHERE w.active ORDER BY z.zip, w.name"
    )
    .fetch_all(pool)
    .await)?)
}

/// Largest upload of assignments read in one go (rows after the header).
pub const MAX_IMPORT_ROWS: usize = 100_000;

/// The outcome of one upload, as stored.
#[derive(Clone, Debug, PartialEq, sqlx::FromRow)]
pub struct ZipImport {
    pub id: i64,
    pub created_at: DateTime<Utc>,
    pub file_name: String,
    pub rows_total: i64,
    pub assigned: i64,
    pub unchanged: i64,
    pub rejected: i64,
    pub failure: Option<String>,
    pub rejected_csv: Option<String>,
}

impl ZipImport {
    /// The first `n` rejected rows: (line, reason).
    pub fn rejected_preview(&self, n: usize) -> Vec<(String, String)> {
        let Some(text) = self.rejected_csv.as_deref() else { return Vec::new() };
        csv_input::reader(text.trim_start_matches('\u{feff}'))
            .records()
            .filter_map(|r| r.ok())
            .take(n)
            .map(|r| (r.get(0).unwrap_or_default().to_owned(), r.get(1).unwrap_or_default().to_owned()))
            .collect()
    }
}

/// A row that will be assigned.
#[derive(Clone, Debug, PartialEq)]
struct ValidRow {
    workspace_id: i64,
    zip: String,
    state: Option<String>,
    city: Option<String>,
}

/// What reading a file yields before anything is written.
#[derive(Debug, Default)]
struct ParsedUpload {
    rows_total: i64,
    valid: Vec<ValidRow>,
    repeated: i64,
    /// line, reason, the row's cells
    rejected: Vec<(u64, String, Vec<String>)>,
    headers: Vec<String>,
}

/// An active or archived workspace, as a file may name it.
struct KnownWorkspace {
    id: i64,
    slug: String,
    name: String,
    active: bool,
}

fn parse_upload(bytes: &[u8], workspaces: &[KnownWorkspace], default_workspace: Option<i64>, places: &ZipPlaces) -> Result<ParsedUpload> {
    let text = csv_input::decode(bytes);
    if text.trim().is_empty() {
        return Err(Error::invalid("The file is empty. Upload a CSV whose first line names the columns, e.g. workspace,zip."));
    }
    let mut rdr = csv_input::reader(&text);
    let headers = csv_input::headers(&mut rdr)?;
    let zip_col = csv_input::find_column(&headers, &["zip", "zipcode", "zip5", "postalcode", "postcode"]).ok_or_else(|| {
        Error::invalid(format!(
            "No ZIP column: name one column zip (or zip_code, postal_code). The header has: {}.",
            headers.iter().map(|h| format!("{h:?}")).collect::<Vec<_>>().join(", ")
        ))
    })?;
    let ws_col = csv_input::find_column(&headers, &["workspace", "workspaceslug", "workspacename", "slug", "client", "clientname"]);
    if ws_col.is_none() && default_workspace.is_none() {
        return Err(Error::invalid(
            "No workspace column: add a column workspace (its slug or name), or choose the workspace in the form.",
        ));
    }
    let state_col = csv_input::find_column(&headers, &["state", "statecode", "st"]);
    let city_col = csv_input::find_column(&headers, &["city", "town"]);
    let by_key: HashMap<String, &KnownWorkspace> = workspaces
        .iter()
        .flat_map(|w| [(w.slug.to_lowercase(), w), (w.name.trim().to_lowercase(), w)])
        .collect();

    let mut out = ParsedUpload { headers, ..Default::default() };
    let mut seen: HashSet<(i64, String)> = HashSet::new();
    let mut lines = csv_input::LineCounter::new(text.as_bytes());
    for record in rdr.records() {
        let (line, cells, result) = match record {
            Ok(r) => {
                let line = r.position().map_or(0, |p| lines.line_at(p.byte()));
                let cells: Vec<String> = r.iter().map(str::to_owned).collect();
                if cells.iter().all(|c| c.trim().is_empty()) {
                    continue;
                }
                let cell = |i: Option<usize>| i.and_then(|i| cells.get(i)).map(|c| c.trim()).filter(|c| !c.is_empty());
                let result = check_row(cell(Some(zip_col)), cell(ws_col), cell(state_col), cell(city_col), &by_key, default_workspace, places);
                (line, cells, result)
            }
            Err(e) => {
                let line = e.position().map_or(0, |p| lines.line_at(p.byte()));
                (line, Vec::new(), Err(format!("unreadable row: {e}")))
            }
        };
        out.rows_total += 1;
        if out.rows_total as usize > MAX_IMPORT_ROWS {
            return Err(Error::invalid(format!("The file has more than {MAX_IMPORT_ROWS} rows; split it into smaller files.")));
        }
        match result {
            Ok(row) if !seen.insert((row.workspace_id, row.zip.clone())) => out.repeated += 1,
            Ok(row) => out.valid.push(row),
            Err(reason) => out.rejected.push((line, reason, cells)),
        }
    }
    if out.rows_total == 0 {
        return Err(Error::invalid("The file has a header but no rows."));
    }
    Ok(out)
}

fn check_row(
    zip: Option<&str>,
    workspace: Option<&str>,
    state: Option<&str>,
    city: Option<&str>,
    workspaces: &HashMap<String, &KnownWorkspace>,
    default_workspace: Option<i64>,
    places: &ZipPlaces,
) -> std::result::Result<ValidRow, String> {
    let workspace_id = match workspace {
        Some(w) => match workspaces.get(&w.to_lowercase()) {
            Some(ws) if !ws.active => return Err(format!("workspace {:?} is archived", ws.name)),
            Some(ws) => ws.id,
            None => return Err(format!("no workspace has the slug or name {w:?}")),
        },
        None => default_workspace.ok_or("the workspace is missing")?,
    };
    let zip = normalize_zip(zip.ok_or("the ZIP is missing")?).map_err(|e| e.to_string())?;
    let place = places.get(&zip);
    let state = match state.map(str::to_ascii_uppercase) {
        Some(s) if s.len() != 2 || !s.chars().all(|c| c.is_ascii_alphabetic()) => {
            return Err(format!("{s:?} is not a two-letter state code (e.g. TX)"))
        }
        Some(s) => match place {
            Some(p) if p.state != s => return Err(format!("ZIP {zip} is in {}, not {s}", p.state)),
            _ => Some(s),
        },
        None => place.map(|p| p.state.clone()),
    };
    let city = city.map(str::to_owned).or_else(|| place.map(|p| p.city.clone()));
    Ok(ValidRow { workspace_id, zip, state, city })
}

fn rejected_csv(parsed: &ParsedUpload) -> Result<Option<String>> {
    if parsed.rejected.is_empty() {
        return Ok(None);
    }
    let mut header = vec!["line", "error"];
    header.extend(parsed.headers.iter().map(String::as_str));
    let rows = parsed.rejected.iter().map(|(line, reason, cells)| {
        let mut row = vec![line.to_string(), reason.clone()];
        row.extend(cells.iter().cloned());
        row
    });
    let bytes = crate::platform::csv_output::to_csv(&header, rows)?;
    Ok(Some(String::from_utf8_lossy(&bytes).into_owned()))
}

/// Reads an uploaded CSV of assignments (columns `workspace` — slug or name — and `zip`, optional
/// `state` and `city`; `default_workspace` stands in for a missing workspace column) and assigns
/// every valid row in one transaction. Rows that cannot be assigned are kept with their reason;
/// a file that cannot be read at all assigns nothing. Either way the upload is recorded and its id
/// returned, so the page can show what happened and offer the rejected rows.
pub async fn import_csv(
    db: &Db,
    places: &ZipPlaces,
    caller: &SessionUser,
    file_name: &str,
    bytes: &[u8],
    default_workspace: Option<i64>,
) -> Result<i64> {
    crate::tenancy::access::require_admin(caller)?;
    let workspaces: Vec<KnownWorkspace> = on_db!(db, |pool| sqlx::query_as::<_, (i64, String, String, bool)>(
        "SELECT id, slug, name, active FROM workspaces"
    )
    .fetch_all(pool)
    .await)?
    .into_iter()
    .map(|(id, slug, name, active)| KnownWorkspace { id, slug, name, active })
    .collect();
    if let Some(id) = default_workspace {
        if !workspaces.iter().any(|w| w.id == id && w.active) {
            return Err(Error::invalid("The chosen workspace does not exist or is archived."));
        }
    }
    let file_name: String = file_name.chars().filter(|c| !c.is_control()).take(200).collect();
    let now = Utc::now();
    let parsed = match parse_upload(bytes, &workspaces, default_workspace, places) {
        Ok(p) => p,
        Err(Error::Invalid(reason)) => {
            return record_import(db, caller, &file_name, now, (0, 0, 0, 0), Some(reason), None).await;
        }
        Err(e) => return Err(e),
    };
    let rejected = rejected_csv(&parsed)?;
    let (assigned, already) = on_db!(db, |pool| async {
        let mut tx = pool.begin().await?;
        let (mut assigned, mut already) = (0i64, 0i64);
        for row in &parsed.valid {
            let n = sqlx::query(
                "INSERT INTO client_zip_codes (workspace_id, zip, state, city, assigned_at) VALUES ($1, $2, $3, $4, $5) \
                 ON CONFLICT (workspace_id, zip) DO NOTHING",
            )
            .bind(row.workspace_id)
            .bind(&row.zip)
            .bind(&row.state)
            .bind(&row.city)
            .bind(now)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if n == 1 { assigned += 1 } else { already += 1 }
        }
        tx.commit().await?;
        Ok::<_, sqlx::Error>((assigned, already))
    }
    .await)?;
    let counts = (parsed.rows_total, assigned, already + parsed.repeated, parsed.rejected.len() as i64);
    let id = record_import(db, caller, &file_name, now, counts, None, rejected).await?;
    crate::identity::audit::record(db, Some(caller), None, "zip.imported", Some(&format!("zip_import:{id} assigned:{assigned}")), None).await?;
    Ok(id)
}

async fn record_import(
    db: &Db,
    caller: &SessionUser,
    file_name: &str,
    now: DateTime<Utc>,
    (rows_total, assigned, unchanged, rejected): (i64, i64, i64, i64),
    failure: Option<String>,
    rejected_csv: Option<String>,
) -> Result<i64> {
    Ok(on_db!(db, |pool| sqlx::query_scalar::<_, i64>(
        "INSERT INTO zip_imports (created_by, created_at, file_name, rows_total, assigned, unchanged, rejected, failure, rejected_csv) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id"
    )
    .bind(caller.user_id)
    .bind(now)
    .bind(file_name)
    .bind(rows_total)
    .bind(assigned)
    .bind(unchanged)
    .bind(rejected)
    .bind(failure)
    .bind(rejected_csv)
    .fetch_one(pool)
    .await)?)
}

/// Records an upload that brought nothing to read (no file, over the size limit).
pub async fn record_refused(db: &Db, caller: &SessionUser, file_name: &str, reason: &str) -> Result<i64> {
    crate::tenancy::access::require_admin(caller)?;
    record_import(db, caller, file_name, Utc::now(), (0, 0, 0, 0), Some(reason.to_owned()), None).await
}

/// One recorded upload (admins only).
pub async fn get_import(db: &Db, caller: &SessionUser, id: i64) -> Result<ZipImport> {
    crate::tenancy::access::require_admin(caller)?;
    on_db!(db, |pool| sqlx::query_as::<_, ZipImport>(
        "SELECT id, created_at, file_name, rows_total, assigned, unchanged, rejected, failure, rejected_csv FROM zip_imports WHERE id = $1"
    )
    .bind(id)
    .fetch_optional(pool)
    .await)?
    .ok_or(Error::NotFound)
}

pub async fn assign_zip(db: &Db, caller: &SessionUser, workspace_id: i64, zip: &str, state: Option<&str>, city: Option<&str>, client: &ClientInfo) -> Result<String> {
    require_admin(caller)?;
    workspaces::get(db, workspace_id).await?;
    let zip = assign(db, workspace_id, zip, state, city).await?;
    audit::record(db, Some(caller), None, "zip.assigned", Some(&format!("workspace:{workspace_id} zip:{zip}")), client.ip.as_deref()).await?;
    Ok(zip)
}

pub async fn unassign_zip(db: &Db, caller: &SessionUser, workspace_id: i64, zip: &str, client: &ClientInfo) -> Result<()> {
    require_admin(caller)?;
    unassign(db, workspace_id, zip).await?;
    audit::record(db, Some(caller), None, "zip.unassigned", Some(&format!("workspace:{workspace_id} zip:{zip}")), client.ip.as_deref()).await
}

#[cfg(test)]
mod tests {
    use super::normalize_zip;

    #[test]
    fn zips_normalise() {
        assert_eq!(normalize_zip("02108").unwrap(), "02108");
        assert_eq!(normalize_zip(" 2108 ").unwrap(), "02108");
        assert_eq!(normalize_zip("78701-1234").unwrap(), "78701");
        for bad in ["", "ABCDE", "123456", "7870a", "-"] {
            assert!(normalize_zip(bad).is_err(), "{bad:?}");
        }
    }
}
