//! The contact pipeline's first step: contact lists uploaded per workspace. An upload is staged
//! (the file streamed to disk, never held in memory), its header read and mapped automatically
//! to our fields — the admin may correct the mapping after seeing the first rows — then imported
//! in one streaming pass: every row validated (email syntax, required email), duplicates (within
//! the file or already in the workspace) skipped by the database's unique key, the rest inserted
//! in one transaction. The upload lands whole or not at all; uploading the same file twice adds
//! nothing; rejected rows go to a CSV with the reason per row.

pub mod batches;
pub mod jobs;
pub mod verification;

pub use jobs::{request_batch_upload, request_verification};

use std::{
    collections::HashMap,
    fs::File,
    io::{BufReader, BufWriter, Write},
    path::{Path, PathBuf},
};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::{
    tenancy::access,
    platform::csv_input,
    platform::db::Db,
    platform::error::{Error, Result},
    platform::csv_output::safe_cell,
    platform::event_catalog::ImportCompletedData,
    platform::events::{self, NewEvent},
    on_db,
    identity::sessions::SessionUser,
};

/// Our fields, in the order the mapping form shows them; `email` is required.
pub const FIELDS: &[&str] = &["email", "first_name", "last_name", "company", "title", "phone", "city", "state", "zip"];

/// Header spellings each field is recognised by (in `csv_input::header_key` form).
fn aliases(field: &str) -> &'static [&'static str] {
    match field {
        "email" => &["email", "emailaddress", "mail", "workemail", "contactemail", "emails"],
        "first_name" => &["firstname", "first", "givenname", "fname"],
        "last_name" => &["lastname", "last", "surname", "familyname", "lname"],
        "company" => &["company", "companyname", "organization", "organisation", "account", "accountname", "business"],
        "title" => &["title", "jobtitle", "position", "role"],
        "phone" => &["phone", "phonenumber", "mobile", "telephone", "tel"],
        "city" => &["city", "town"],
        "state" => &["state", "province", "region", "statecode"],
        "zip" => &["zip", "zipcode", "postalcode", "postcode", "zip5"],
        _ => &[],
    }
}

/// Which column (by index) feeds each field.
pub type Mapping = HashMap<String, usize>;

/// The mapping guessed from the header: the first column whose name matches a field's aliases.
pub fn auto_map(headers: &[String]) -> Mapping {
    FIELDS.iter().filter_map(|f| csv_input::find_column(headers, aliases(f)).map(|i| (f.to_string(), i))).collect()
}

pub use crate::platform::csv_input::{valid_email, MAX_COLUMNS};

crate::sql_text_enum!(
    /// Where an upload stands (`contact_uploads.status`): waiting for its mapping, imported, or failed.
    pub enum UploadStatus ("upload status") { Mapping = "mapping", Imported = "imported", Failed = "failed" }
);

/// One staged or finished upload.
#[derive(Clone, Debug, PartialEq, sqlx::FromRow)]
pub struct ContactUpload {
    pub id: i64,
    pub workspace_id: i64,
    pub created_at: DateTime<Utc>,
    pub file_name: String,
    pub bytes: i64,
    #[sqlx(try_from = "String")]
    pub status: UploadStatus,
    pub headers: Option<String>,
    pub preview: Option<String>,
    pub mapping: Option<String>,
    pub rows_total: i64,
    pub created: i64,
    pub duplicates: i64,
    pub rejected: i64,
    pub failure: Option<String>,
    pub rejected_path: Option<String>,
    /// The uploaded file, until it is imported.
    pub staged_path: Option<String>,
    /// What the import let in but warns about (rows Email Bison will refuse), with their lines.
    pub warnings: Option<String>,
}

impl ContactUpload {
    pub fn header_list(&self) -> Vec<String> {
        self.headers.as_deref().and_then(|h| serde_json::from_str(h).ok()).unwrap_or_default()
    }
    pub fn preview_rows(&self) -> Vec<Vec<String>> {
        self.preview.as_deref().and_then(|h| serde_json::from_str(h).ok()).unwrap_or_default()
    }
    pub fn mapping(&self) -> Mapping {
        self.mapping.as_deref().and_then(|h| serde_json::from_str(h).ok()).unwrap_or_default()
    }
}

macro_rules! upload_columns {
    () => {
        "id, workspace_id, created_at, file_name, bytes, status, headers, preview, mapping, rows_total, created, duplicates, rejected, failure, rejected_path, \
         staged_path, warnings"
    };
}

/// Records a staged upload (the file already on disk at `path`): its header, a preview of the
/// first rows and the guessed mapping. A file that cannot be read is recorded as failed, with
/// the reason, and removed.
pub async fn stage(db: &Db, caller: &SessionUser, workspace_id: i64, file_name: &str, path: &Path, bytes: u64) -> Result<i64> {
    access::require_admin(caller)?;
    access::level_in(db, caller, workspace_id).await?;
    let file_name: String = file_name.chars().filter(|c| !c.is_control()).take(200).collect();
    let inspected = inspect(path);
    let now = Utc::now();
    let (status, headers, preview, mapping, failure, staged) = match inspected {
        Ok((headers, preview)) => {
            let mapping = auto_map(&headers);
            (
                UploadStatus::Mapping,
                serde_json::to_string(&headers).ok(),
                serde_json::to_string(&preview).ok(),
                serde_json::to_string(&mapping).ok(),
                None,
                Some(path.display().to_string()),
            )
        }
        Err(Error::Invalid(reason)) => {
            let _ = std::fs::remove_file(path);
            (UploadStatus::Failed, None, None, None, Some(reason), None)
        }
        Err(e) => return Err(e),
    };
    Ok(on_db!(db, |pool| sqlx::query_scalar::<_, i64>(
        "INSERT INTO contact_uploads (workspace_id, created_by, created_at, file_name, bytes, status, staged_path, headers, preview, mapping, failure) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING id"
    )
    .bind(workspace_id)
    .bind(caller.user_id)
    .bind(now)
    .bind(&file_name)
    .bind(bytes as i64)
    .bind(status.as_str())
    .bind(staged)
    .bind(headers)
    .bind(preview)
    .bind(mapping)
    .bind(failure)
    .fetch_one(pool)
    .await)?)
}

/// The header and the first five rows, or why the file cannot be used.
fn inspect(path: &Path) -> Result<(Vec<String>, Vec<Vec<String>>)> {
    let (delimiter, bom) = csv_input::sniff_file(path)?;
    let mut rdr = csv_input::file_reader(path, delimiter)?;
    let mut records = rdr.byte_records();
    let header = match records.next() {
        Some(Ok(h)) => h,
        Some(Err(e)) => return Err(Error::invalid(format!("The header row cannot be read: {e}"))),
        None => return Err(Error::invalid("The file is empty.")),
    };
    let mut headers: Vec<String> = header.iter().map(csv_input::field_text).collect();
    if bom {
        if let Some(first) = headers.first_mut() {
            *first = first.trim_start_matches('\u{feff}').to_owned();
        }
    }
    if headers.len() > MAX_COLUMNS {
        return Err(Error::invalid(format!("The file has {} columns; at most {MAX_COLUMNS} are read. Remove the columns you don't need.", headers.len())));
    }
    if headers.iter().all(String::is_empty) {
        return Err(Error::invalid("The first line is empty: it must name the columns."));
    }
    let mut preview = Vec::new();
    for r in records.by_ref().take(5) {
        match r {
            Ok(r) => preview.push(r.iter().map(csv_input::field_text).collect()),
            Err(e) => preview.push(vec![format!("(unreadable row: {e})")]),
        }
    }
    if preview.is_empty() {
        return Err(Error::invalid("The file has a header but no rows."));
    }
    Ok((headers, preview))
}

/// Records an upload that brought nothing usable (no file, over the size limit).
pub async fn record_refused(db: &Db, caller: &SessionUser, workspace_id: i64, reason: &str) -> Result<i64> {
    access::require_admin(caller)?;
    Ok(on_db!(db, |pool| sqlx::query_scalar::<_, i64>(
        "INSERT INTO contact_uploads (workspace_id, created_by, created_at, file_name, status, failure) VALUES ($1, $2, $3, 'upload', $5, $4) RETURNING id"
    )
    .bind(workspace_id)
    .bind(caller.user_id)
    .bind(Utc::now())
    .bind(reason)
    .bind(UploadStatus::Failed.as_str())
    .fetch_one(pool)
    .await)?)
}

/// Contacts of a workspace by verification status: (status, count).
pub async fn counts_by_verification(db: &Db, workspace_id: i64) -> Result<Vec<(String, i64)>> {
    Ok(on_db!(db, |pool| sqlx::query_as::<_, (String, i64)>(
        "SELECT verification, COUNT(*) FROM contacts WHERE workspace_id = $1 GROUP BY verification ORDER BY verification"
    )
    .bind(workspace_id)
    .fetch_all(pool)
    .await)?)
}

/// One month of the pipeline: contacts uploaded that month, how many of them are verified (safe
/// or risky), batched, and in Email Bison.
#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct MonthFlow {
    pub month: String,
    pub uploaded: i64,
    pub verified: i64,
    pub batched: i64,
    pub in_bison: i64,
}

/// The workspace's last `months` months of the pipeline, oldest first (months with uploads only).
/// Months are cut in UTC; the month of a timestamp is spelled differently per backend, hence two texts.
pub async fn monthly_flow(db: &Db, workspace_id: i64, months: i64) -> Result<Vec<MonthFlow>> {
    macro_rules! flow {
        ($month:expr) => {
            concat!(
                "SELECT ", $month, " AS month, COUNT(*) AS uploaded, ",
                "CAST(SUM(CASE WHEN verification IN ('safe', 'risky') THEN 1 ELSE 0 END) AS BIGINT) AS verified, ",
                "CAST(SUM(CASE WHEN batch_id IS NOT NULL THEN 1 ELSE 0 END) AS BIGINT) AS batched, ",
                "CAST(SUM(CASE WHEN bison_lead_id IS NOT NULL THEN 1 ELSE 0 END) AS BIGINT) AS in_bison ",
                "FROM contacts WHERE workspace_id = $1 AND created_at >= $2 GROUP BY 1 ORDER BY 1"
            )
        };
    }
    let since = Utc::now() - chrono::Duration::days(31 * months);
    Ok(match db {
        Db::Sqlite(pool) => sqlx::query_as::<_, MonthFlow>(flow!("substr(created_at, 1, 7)")).bind(workspace_id).bind(since).fetch_all(pool).await?,
        Db::Postgres(pool) => {
            sqlx::query_as::<_, MonthFlow>(flow!("to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM')")).bind(workspace_id).bind(since).fetch_all(pool).await?
        }
    })
}

pub async fn get_upload(db: &Db, caller: &SessionUser, id: i64) -> Result<ContactUpload> {
    access::require_admin(caller)?;
    on_db!(db, |pool| sqlx::query_as::<_, ContactUpload>(concat!("SELECT ", upload_columns!(), " FROM contact_uploads WHERE id = $1"))
        .bind(id)
        .fetch_optional(pool)
        .await)?
    .ok_or(Error::NotFound)
}

/// A workspace's latest uploads, newest first.
pub async fn recent_uploads(db: &Db, workspace_id: i64, limit: i64) -> Result<Vec<ContactUpload>> {
    Ok(on_db!(db, |pool| sqlx::query_as::<_, ContactUpload>(concat!(
        "SELECT ",
        upload_columns!(),
        " FROM contact_uploads WHERE workspace_id = $1 ORDER BY id DESC LIMIT $2"
    ))
    .bind(workspace_id)
    .bind(limit)
    .fetch_all(pool)
    .await)?)
}

/// Rows per INSERT statement: on SQLite 12 parameters each, well under its 32,766; on
/// PostgreSQL one array per column, so larger batches only save round trips.
fn batch_rows(db: &Db) -> usize {
    match db {
        Db::Sqlite(_) => 500,
        Db::Postgres(_) => 5_000,
    }
}

/// One contact ready to insert: the mapped fields, in `FIELDS` order.
type Row = [Option<String>; 9];

/// Counts of an import.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImportCounts {
    pub rows_total: i64,
    pub created: i64,
    pub duplicates: i64,
    pub rejected: i64,
    /// Imported rows without a first or a last name: Email Bison refuses them, so no weekly
    /// batch takes them until the names are filled in (the upload's `warnings` says which lines).
    pub unnamed: i64,
}

/// Imports a staged upload with `mapping` (field → column index; `email` required). Streams the
/// file; inserts in one transaction; returns the counts. The staged file is removed afterwards.
pub async fn import(db: &Db, caller: &SessionUser, upload_id: i64, mapping: Mapping, data_dir: &Path) -> Result<ImportCounts> {
    let upload = get_upload(db, caller, upload_id).await?;
    if upload.status != UploadStatus::Mapping {
        return Err(Error::Conflict("This upload was already imported (or failed); upload the file again to import it again.".into()));
    }
    let headers = upload.header_list();
    let email_col = *mapping.get("email").ok_or_else(|| Error::invalid("Choose the column that holds the email address."))?;
    for (field, col) in &mapping {
        if !FIELDS.contains(&field.as_str()) {
            return Err(Error::invalid(format!("{field:?} is not a contact field.")));
        }
        if *col >= headers.len() {
            return Err(Error::invalid(format!("The file has no column {} for {field}.", col + 1)));
        }
    }
    let path = PathBuf::from(upload.staged_path.clone().ok_or_else(|| Error::invalid("The uploaded file is gone; upload it again."))?);
    // Claimed by compare-and-set: a double submit imports once (the second is told so); a claim
    // older than an hour is a request that died half-way and may be taken again.
    let now = Utc::now();
    let claimed = on_db!(db, |pool| sqlx::query(
        "UPDATE contact_uploads SET claimed_at = $1 WHERE id = $2 AND status = $3 AND (claimed_at IS NULL OR claimed_at < $4)"
    )
    .bind(now)
    .bind(upload_id)
    .bind(UploadStatus::Mapping.as_str())
    .bind(now - chrono::Duration::hours(1))
    .execute(pool)
    .await
    .map(|r| r.rows_affected()))?;
    if claimed == 0 {
        return Err(Error::Conflict("This upload is being imported right now; its outcome shows here when it is done.".into()));
    }
    let rejected_path = data_dir.join("uploads").join(format!("contacts-{upload_id}-rejected.csv"));
    // The import runs on a task of its own: if the request that started it goes away (the
    // browser closes, a proxy times out), it still finishes and records its outcome, so the claim
    // never outlives the work.
    let work = {
        let (db, caller) = (db.clone(), caller.clone());
        async move {
            let result = run_import(&db, &upload, &path, email_col, &mapping, &headers, &rejected_path).await;
            let (status, counts, failure, warnings) = match &result {
                Ok((c, w)) => (UploadStatus::Imported, *c, None, w.clone()),
                Err(Error::Invalid(m)) => (UploadStatus::Failed, ImportCounts::default(), Some(m.clone()), None),
                Err(e) => (UploadStatus::Failed, ImportCounts::default(), Some(format!("The import failed and nothing was added: {e}")), None),
            };
            let result = result.map(|(c, _)| c);
            let rejected_file = (counts.rejected > 0).then(|| rejected_path.display().to_string());
            // The outcome first, then the files: a failed write leaves the staged file in place.
            let completed = result.is_ok().then(|| {
                let data = ImportCompletedData {
                    workspace: String::new(),
                    upload_id,
                    file_name: upload.file_name.clone(),
                    imported: counts.created,
                    rejected: counts.rejected,
                };
                NewEvent::new(upload.workspace_id, events::CONTACTS_IMPORT_COMPLETED, &data).actor(Some(caller.user_id))
            });
            on_db!(&db, |pool| async {
            let mut tx = pool.begin().await?;
            sqlx::query(
                "UPDATE contact_uploads SET status = $1, mapping = $2, rows_total = $3, created = $4, duplicates = $5, rejected = $6, failure = $7, \
                 rejected_path = $8, staged_path = NULL, finished_at = $9, warnings = $11 WHERE id = $10"
            )
            .bind(status.as_str())
            .bind(serde_json::to_string(&mapping).ok())
            .bind(counts.rows_total)
            .bind(counts.created)
            .bind(counts.duplicates)
            .bind(counts.rejected)
            .bind(&failure)
            .bind(rejected_file)
            .bind(Utc::now())
            .bind(upload_id)
            .bind(&warnings)
            .execute(&mut *tx)
            .await?;
            if let Some(event) = &completed {
                crate::record_event!(&mut *tx, event)?;
            }
            tx.commit().await
            }
            .await)?;
            if counts.rejected == 0 {
                let _ = std::fs::remove_file(&rejected_path);
            }
            let _ = std::fs::remove_file(&path);
            crate::identity::audit::record(&db, Some(&caller), None, "contacts.imported", Some(&format!("contact_upload:{upload_id} created:{}", counts.created)), None)
                .await?;
            result
        }
    };
    tokio::spawn(crate::platform::trace::carry(work)).await.map_err(|e| Error::Internal(format!("the import task failed: {e}")))?
}

async fn run_import(
    db: &Db,
    upload: &ContactUpload,
    path: &Path,
    email_col: usize,
    mapping: &Mapping,
    headers: &[String],
    rejected_path: &Path,
) -> Result<(ImportCounts, Option<String>)> {
    let (delimiter, _) = csv_input::sniff_file(path)?;
    // Reading the file happens on a blocking thread, which hands rows over in batches.
    let (tx, mut rx) = tokio::sync::mpsc::channel::<std::result::Result<Vec<Row>, Error>>(4);
    let cols: Vec<Option<usize>> = FIELDS.iter().map(|f| mapping.get(*f).copied()).collect();
    let batch_size = batch_rows(db);
    let (path, rejected_path, headers) = (path.to_owned(), rejected_path.to_owned(), headers.to_vec());
    let reader_task = tokio::task::spawn_blocking(move || -> Result<(i64, i64, Unnamed)> {
        std::fs::create_dir_all(rejected_path.parent().unwrap_or(Path::new("."))).map_err(|e| Error::Internal(format!("{e}")))?;
        let mut file = BufWriter::new(File::create(&rejected_path).map_err(|e| Error::Internal(format!("writing the rejected rows: {e}")))?);
        // A BOM, so spreadsheet programs read the file as UTF-8.
        file.write_all("\u{feff}".as_bytes()).map_err(|e| Error::Internal(format!("{e}")))?;
        let mut out = csv::WriterBuilder::new().flexible(true).from_writer(file);
        let mut head = vec!["line".to_owned(), "error".to_owned()];
        head.extend(headers.iter().map(|h| safe_cell(h).into_owned()));
        out.write_record(&head).map_err(|e| Error::Internal(format!("{e}")))?;
        let text_len = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
        let mut rdr = csv_input::file_reader(&path, delimiter)?;
        let (mut total, mut rejected) = (0i64, 0i64);
        let mut unnamed = Unnamed::default();
        let mut batch: Vec<Row> = Vec::with_capacity(batch_size);
        // Physical line numbers need the text; for speed they are counted from byte offsets.
        let mut lines = csv_input::LineCounter::new(BufReader::with_capacity(1 << 16, File::open(&path).map_err(|e| Error::Internal(format!("{e}")))?));
        let mut record = csv::ByteRecord::new();
        let mut first = true;
        let mut last_start = 0u64;
        loop {
            let read = rdr.read_byte_record(&mut record);
            let pos = record.position().map(|p| p.byte()).unwrap_or(text_len);
            if matches!(read, Ok(true)) {
                last_start = pos;
            }
            match read {
                Ok(false) => break,
                Ok(true) if first => {
                    first = false; // the header
                    continue;
                }
                Ok(true) => {}
                Err(e) => {
                    total += 1;
                    rejected += 1;
                    let line = e.position().map(|p| lines.line_at(p.byte())).unwrap_or(0);
                    out.write_record([line.to_string(), format!("unreadable row: {e}")]).map_err(|e| Error::Internal(format!("{e}")))?;
                    // A broken quote swallows the rest of the file: stop here.
                    break;
                }
            }
            if record.iter().all(|f| f.iter().all(u8::is_ascii_whitespace)) {
                continue;
            }
            total += 1;
            let get = |i: Option<usize>| i.and_then(|i| record.get(i)).map(csv_input::field_text).filter(|s| !s.is_empty());
            let email = get(Some(email_col)).map(|e| e.to_lowercase());
            let reason = match &email {
                None => Some("the email is missing".to_owned()),
                Some(e) if !valid_email(e) => Some(format!("{e:?} is not a valid email address")),
                _ => None,
            };
            if let Some(reason) = reason {
                rejected += 1;
                let mut row = vec![lines.line_at(pos).to_string(), reason];
                row.extend(record.iter().map(|f| safe_cell(&csv_input::field_text(f)).into_owned()));
                out.write_record(&row).map_err(|e| Error::Internal(format!("{e}")))?;
                continue;
            }
            let mut row: Row = Default::default();
            for (slot, col) in row.iter_mut().zip(&cols) {
                *slot = get(*col).map(|v| v.chars().take(500).collect());
            }
            row[0] = email;
            if row[1].is_none() || row[2].is_none() {
                unnamed.count += 1;
                if unnamed.lines.len() < 10 {
                    unnamed.lines.push(lines.line_at(pos));
                }
            }
            batch.push(row);
            if batch.len() == batch_size && tx.blocking_send(Ok(std::mem::replace(&mut batch, Vec::with_capacity(batch_size)))).is_err() {
                return Err(Error::Internal("the import stopped".into()));
            }
        }
        // A quote opened and never closed swallows the rest of the file into one cell: the csv
        // reader cannot tell, so look at the last record's raw bytes. Refuse the whole file.
        if csv_input::unterminated_quote(&path, last_start)? {
            let line = lines.line_at(last_start);
            return Err(Error::invalid(format!(
                "Line {line} opens a quoted cell (\") that never closes, so everything after it would be read as one cell. Fix that line and upload again."
            )));
        }
        if !batch.is_empty() && tx.blocking_send(Ok(batch)).is_err() {
            return Err(Error::Internal("the import stopped".into()));
        }
        out.flush().map_err(|e| Error::Internal(format!("{e}")))?;
        Ok((total, rejected, unnamed))
    });
    let (ws, upload_id) = (upload.workspace_id, upload.id);
    let now = Utc::now();
    let finish = || async {
        // Everything read: commit only if the whole file was read without an internal error.
        reader_task.await.map_err(|e| Error::Internal(format!("reading the upload: {e}")))?
    };
    let (created, (total, rejected, unnamed)) = match db {
        Db::Sqlite(pool) => {
            let mut txn = pool.begin().await?;
            let mut created = 0i64;
            while let Some(Ok(batch)) = rx.recv().await {
                // Positional `?`: with `$N` names, sqlx looks each one up among all the
                // statement's parameters, which is quadratic in a 6,000-value insert.
                let row = format!("({})", vec!["?"; 12].join(","));
                let sql = format!(
                    "INSERT INTO contacts (workspace_id, upload_id, created_at, email, first_name, last_name, company, title, phone, city, state, zip) VALUES {} \
                     ON CONFLICT (workspace_id, email) DO NOTHING",
                    vec![row.as_str(); batch.len()].join(",")
                );
                let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
                for row in batch {
                    q = q.bind(ws).bind(upload_id).bind(now);
                    for v in row {
                        q = q.bind(v);
                    }
                }
                created += q.execute(&mut *txn).await?.rows_affected() as i64;
            }
            let read = finish().await?;
            txn.commit().await?;
            (created, read)
        }
        Db::Postgres(pool) => {
            // One array per column, unnested server-side: a fixed 12-parameter statement that
            // PostgreSQL prepares once, instead of a new 6,000-parameter one per batch.
            let mut txn = pool.begin().await?;
            let mut created = 0i64;
            while let Some(Ok(batch)) = rx.recv().await {
                let mut columns: Vec<Vec<Option<String>>> = vec![Vec::with_capacity(batch.len()); 9];
                for row in batch {
                    for (column, v) in columns.iter_mut().zip(row) {
                        column.push(v);
                    }
                }
                let mut q = sqlx::query(
                    "INSERT INTO contacts (workspace_id, upload_id, created_at, email, first_name, last_name, company, title, phone, city, state, zip) \
                     SELECT $1, $2, $3, * FROM UNNEST($4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $9::text[], $10::text[], $11::text[], $12::text[]) \
                     ON CONFLICT (workspace_id, email) DO NOTHING",
                )
                .bind(ws)
                .bind(upload_id)
                .bind(now);
                for column in columns {
                    q = q.bind(column);
                }
                created += q.execute(&mut *txn).await?.rows_affected() as i64;
            }
            let read = finish().await?;
            txn.commit().await?;
            (created, read)
        }
    };
    let counts = ImportCounts { rows_total: total, created, duplicates: total - rejected - created, rejected, unnamed: unnamed.count };
    Ok((counts, unnamed.warning()))
}

/// Rows imported without a first or a last name, and the first lines of them.
#[derive(Default)]
struct Unnamed {
    count: i64,
    lines: Vec<u64>,
}

impl Unnamed {
    /// What the upload's page says about them.
    fn warning(&self) -> Option<String> {
        if self.count == 0 {
            return None;
        }
        let mut lines = self.lines.iter().map(u64::to_string).collect::<Vec<_>>().join(", ");
        if self.count > self.lines.len() as i64 {
            lines.push_str(", …");
        }
        let rows = if self.count == 1 { "1 row has".to_owned() } else { format!("{} rows have", self.count) };
        Some(format!(
            "{rows} no first or no last name (line {lines}). They were imported, but Email Bison requires both names, \
             so weekly batches leave them out (the contacts page lists them)."
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_are_checked_for_what_a_sender_needs() {
        for ok in ["pat@example.com", "pat.lee+q4@sub.example.co.uk", "o'neil@example.ie"] {
            assert!(valid_email(ok), "{ok}");
        }
        for bad in ["", "pat", "pat@", "@example.com", "pat@example", "pat@@example.com", "pat @example.com", "pat@example..com", "<pat@example.com>", "pat@.example.com"] {
            assert!(!valid_email(bad), "{bad}");
        }
    }

    #[test]
    fn headers_map_to_fields_whatever_their_spelling() {
        let h: Vec<String> = ["Email Address", "First Name", "lastName", "Company Name", "Job Title", "Phone Number", "ZIP Code", "notes", "E-mail"]
            .map(String::from)
            .to_vec();
        let m = auto_map(&h);
        assert_eq!(m["email"], 0, "the first matching column wins");
        assert_eq!((m["first_name"], m["last_name"], m["company"], m["title"], m["phone"], m["zip"]), (1, 2, 3, 4, 5, 6));
        assert!(!m.contains_key("city"));
    }

    #[test]
    fn streamed_line_numbers_match_an_editor() {
        let text = b"h\r\na\r\n\r\nb\rc\n";
        let mut lines = csv_input::LineCounter::new(&text[..]);
        assert_eq!(lines.line_at(3), 2, "a starts line 2 (offset at its CRLF's LF)");
        assert_eq!(lines.line_at(6), 4, "b, after a blank line");
        assert_eq!(lines.line_at(10), 5, "c, after a lone CR");
    }
}

/// At most this many contacts in one API call.
pub const MAX_ROWS_PER_CALL: usize = 1000;

/// One contact sent by a tool (REST v1), in our field names (also its wire shape).
#[derive(Clone, Debug, Default, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ContactRow {
    pub email: Option<String>,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub company: Option<String>,
    pub title: Option<String>,
    pub phone: Option<String>,
    pub city: Option<String>,
    pub state: Option<String>,
    pub zip: Option<String>,
}

/// What became of one row: `created`, `duplicate` (already in the workspace, or earlier in this
/// call) or `rejected` with the reason.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct RowResult {
    pub index: usize,
    pub email: Option<String>,
    pub status: &'static str,
    pub reason: Option<String>,
}

/// Imports contacts sent as rows through the same path as an uploaded file — the same
/// validation, dedupe, atomic insert, upload record and `contacts.import_completed` event —
/// and answers per row. Admins only, like the upload.
pub async fn import_rows(db: &Db, caller: &SessionUser, workspace_id: i64, rows: &[ContactRow], data_dir: &Path) -> Result<(i64, Vec<RowResult>)> {
    access::require_admin(caller)?;
    access::level_in(db, caller, workspace_id).await?;
    if rows.is_empty() || rows.len() > MAX_ROWS_PER_CALL {
        return Err(Error::invalid(format!("Send 1 to {MAX_ROWS_PER_CALL} contacts per call (this call had {}).", rows.len())));
    }
    let dir = data_dir.join("uploads");
    std::fs::create_dir_all(&dir).map_err(|e| Error::Internal(format!("cannot create {}: {e}", dir.display())))?;
    let path = dir.join(format!("api-contacts-{}.csv", uuid::Uuid::new_v4().simple()));
    {
        let mut out = csv::Writer::from_path(&path).map_err(|e| Error::Internal(format!("staging the contacts: {e}")))?;
        let write = |out: &mut csv::Writer<File>, rec: Vec<String>| out.write_record(rec).map_err(|e| Error::Internal(format!("staging the contacts: {e}")));
        write(&mut out, FIELDS.iter().map(|f| f.to_string()).collect())?;
        for r in rows {
            let cell = |v: &Option<String>| v.as_deref().unwrap_or("").replace(['\r', '\n'], " ");
            // A row with every field empty would be skipped as a blank line: keep its place.
            let email = match r.email.as_deref().map(str::trim) {
                Some(e) if !e.is_empty() => e.to_owned(),
                _ => " ".into(),
            };
            write(&mut out, vec![email, cell(&r.first_name), cell(&r.last_name), cell(&r.company), cell(&r.title), cell(&r.phone), cell(&r.city), cell(&r.state), cell(&r.zip)])?;
        }
        out.flush().map_err(|e| Error::Internal(format!("staging the contacts: {e}")))?;
    }
    let bytes = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
    let upload_id = stage(db, caller, workspace_id, "api", &path, bytes).await?;
    let upload = get_upload(db, caller, upload_id).await?;
    if upload.status == UploadStatus::Failed {
        return Err(Error::invalid(upload.failure.unwrap_or_else(|| "The contacts could not be read.".into())));
    }
    let mapping: Mapping = FIELDS.iter().enumerate().map(|(i, f)| (f.to_string(), i)).collect();
    import(db, caller, upload_id, mapping, data_dir).await?;
    // Rejected rows, by the line they were written on (line 2 is row 0).
    let mut rejected: HashMap<usize, String> = HashMap::new();
    let rejected_path = data_dir.join("uploads").join(format!("contacts-{upload_id}-rejected.csv"));
    if let Ok(mut rdr) = csv::ReaderBuilder::new().flexible(true).from_path(&rejected_path) {
        for rec in rdr.records().flatten() {
            if let (Some(line), Some(reason)) = (rec.get(0).and_then(|l| l.trim_start_matches('\u{feff}').parse::<usize>().ok()), rec.get(1)) {
                if line >= 2 {
                    rejected.insert(line - 2, reason.to_owned());
                }
            }
        }
    }
    let created: Vec<String> = on_db!(db, |pool| sqlx::query_scalar("SELECT email FROM contacts WHERE upload_id = $1").bind(upload_id).fetch_all(pool).await)?;
    let mut created: std::collections::HashSet<String> = created.into_iter().collect();
    let results = rows
        .iter()
        .enumerate()
        .map(|(index, r)| {
            let email = r.email.as_deref().map(|e| e.trim().to_lowercase()).filter(|e| !e.is_empty());
            match (rejected.remove(&index), &email) {
                (Some(reason), _) => RowResult { index, email, status: "rejected", reason: Some(reason) },
                // The first row with an email takes the "created"; a repeat is a duplicate.
                (None, Some(e)) if created.remove(e) => RowResult { index, email, status: "created", reason: None },
                (None, _) => RowResult { index, email, status: "duplicate", reason: Some("already in this workspace's contacts".into()) },
            }
        })
        .collect();
    Ok((upload_id, results))
}
