//! From an uploaded leads CSV to pending leads of a run: headers normalised to canonical names
//! (unknown columns kept), rows validated (email syntax, company present) with a report of the
//! rejected ones, emails deduplicated case-insensitively within the file, and leads already in
//! the campaign skipped. Everything lands in one transaction with the run's move to
//! `personalizing`, so a crash mid-way leaves the run to be extracted again from scratch.

use std::{
    collections::HashMap,
    fs::File,
    io::{BufReader, Write},
    path::{Path, PathBuf},
};

use chrono::Utc;

use crate::{
    platform::csv_input::valid_email,
    platform::csv_input::{self, LineCounter},
    platform::db::Db,
    platform::error::{Error, Result},
    platform::csv_output::safe_cell,
};

/// Canonical names and the header spellings (in [`csv_input::header_key`] form) that mean them.
const CANONICAL: &[(&str, &[&str])] = &[
    ("email", &["email", "emailaddress", "mail", "email1", "workemail", "businessemail", "contactemail"]),
    ("first_name", &["firstname", "first", "givenname", "fname"]),
    ("last_name", &["lastname", "last", "surname", "familyname", "lname"]),
    ("full_name", &["name", "fullname", "contactname", "contact"]),
    ("company", &["company", "companyname", "organization", "organisation", "organizationname", "accountname", "business", "businessname", "employer"]),
    ("title", &["title", "jobtitle", "position", "role"]),
    ("website", &["website", "companywebsite", "web", "url", "domain", "companydomain", "site", "websiteurl"]),
    ("linkedin", &["linkedin", "linkedinurl", "linkedinprofile", "personlinkedinurl", "linkedinprofileurl"]),
    ("industry", &["industry", "sector", "vertical"]),
    ("city", &["city", "town"]),
    ("state", &["state", "province", "region"]),
    ("country", &["country"]),
    ("phone", &["phone", "phonenumber", "mobile", "telephone"]),
];

/// A header cell's canonical name: a known field (`First Name`, `firstName`, `first_name` →
/// `first_name`; `Email Address` → `email`; `Company Name` → `company`), or else the header in
/// snake_case (`Annual Revenue ($)` → `annual_revenue`, `numEmployees` → `num_employees`).
pub fn canonical_header(raw: &str) -> String {
    let key = csv_input::header_key(raw);
    if let Some((name, _)) = CANONICAL.iter().find(|(_, spellings)| spellings.contains(&key.as_str())) {
        return (*name).to_owned();
    }
    let mut out = String::new();
    let mut prev: Option<char> = None;
    for c in raw.trim().chars() {
        if c.is_alphanumeric() {
            // camelCase → camel_case
            if c.is_uppercase() && prev.is_some_and(|p| p.is_lowercase() || p.is_ascii_digit()) {
                out.push('_');
            }
            out.extend(c.to_lowercase());
        } else if !out.ends_with('_') && !out.is_empty() {
            out.push('_');
        }
        prev = Some(c);
    }
    let out = out.trim_end_matches('_').to_owned();
    if out.is_empty() { "column".into() } else { out }
}

/// Canonical names for a whole header row; a name taken twice gets `_2`, `_3`… (the first keeps it).
pub fn canonical_headers(headers: &[String]) -> Vec<String> {
    let mut seen: HashMap<String, usize> = HashMap::new();
    headers
        .iter()
        .map(|h| {
            let name = canonical_header(h);
            let n = seen.entry(name.clone()).or_insert(0);
            *n += 1;
            if *n == 1 { name } else { format!("{name}_{n}") }
        })
        .collect()
}

/// One lead read from the file.
#[derive(Clone, Debug, PartialEq)]
pub struct ExtractedLead {
    pub line_no: i64,
    pub email: String,
    pub company: String,
    /// canonical name → value, non-empty values only
    pub fields: serde_json::Map<String, serde_json::Value>,
    /// the row's cells as uploaded
    pub original: Vec<String>,
}

/// What reading the file gave, besides the leads and rejected rows handed out as they were read.
#[derive(Debug, Default, PartialEq)]
pub struct ReadSummary {
    pub headers: Vec<String>,
    pub rows_total: i64,
    pub rejected: i64,
}

/// A leads file opened for reading: its header checked (an email and a company column), the
/// records not read yet.
pub struct LeadsFile {
    path: PathBuf,
    rdr: csv::Reader<BufReader<File>>,
    lines: LineCounter<BufReader<File>>,
    pub headers: Vec<String>,
    names: Vec<String>,
    email_col: usize,
    company_col: usize,
}

/// Opens a leads file and reads its header. A file that cannot be used at all (empty, UTF-16, no
/// email or company column, too many columns) is an `Invalid` error that says what to fix.
pub fn open_leads(path: &Path) -> Result<LeadsFile> {
    let (delimiter, bom) = csv_input::sniff_file(path)?;
    let mut rdr = csv_input::file_reader(path, delimiter)?;
    let io = |e: std::io::Error| Error::Internal(format!("reading the upload: {e}"));
    let lines = LineCounter::new(BufReader::with_capacity(1 << 16, File::open(path).map_err(io)?));
    let mut record = csv::ByteRecord::new();
    let headers: Vec<String> = match rdr.read_byte_record(&mut record) {
        Ok(true) => record.iter().map(csv_input::field_text).enumerate().map(|(i, h)| if i == 0 && bom { h.trim_start_matches('\u{feff}').to_owned() } else { h }).collect(),
        Ok(false) => return Err(Error::invalid("The file is empty: the first line must name the columns.")),
        Err(e) => return Err(Error::invalid(format!("The header row cannot be read: {e}"))),
    };
    if headers.iter().all(String::is_empty) {
        return Err(Error::invalid("The file is empty: the first line must name the columns."));
    }
    if headers.len() > crate::platform::csv_input::MAX_COLUMNS {
        return Err(Error::invalid(format!("The file has {} columns; at most {} are read. Remove the columns you don't need.", headers.len(), crate::platform::csv_input::MAX_COLUMNS)));
    }
    let names = canonical_headers(&headers);
    let col = |name: &str| names.iter().position(|n| n == name);
    let email_col = col("email").ok_or_else(|| {
        Error::invalid(format!("No column holds the email address (found: {}). Name one \"email\" or \"Email Address\".", headers.join(", ")))
    })?;
    let company_col = col("company")
        .ok_or_else(|| Error::invalid(format!("No column holds the company (found: {}). Name one \"company\" or \"Company Name\".", headers.join(", "))))?;
    Ok(LeadsFile { path: path.to_owned(), rdr, lines, headers, names, email_col, company_col })
}

/// Streams a leads file from disk (never held whole in memory): each valid lead goes to
/// `on_lead`, each rejected row to `on_reject` (line, reason, cells). A file that cannot be used
/// (see [`open_leads`], or a quote that never closes) is an `Invalid` error that says what to
/// fix — callers then discard what they were handed.
pub fn read_leads(
    path: &Path,
    on_lead: impl FnMut(ExtractedLead) -> Result<()>,
    on_reject: impl FnMut(i64, String, Vec<String>) -> Result<()>,
) -> Result<ReadSummary> {
    open_leads(path)?.read(on_lead, on_reject)
}

impl LeadsFile {
    /// Reads the records: see [`read_leads`].
    pub fn read(self, mut on_lead: impl FnMut(ExtractedLead) -> Result<()>, mut on_reject: impl FnMut(i64, String, Vec<String>) -> Result<()>) -> Result<ReadSummary> {
        let LeadsFile { path, mut rdr, mut lines, headers, names, email_col, company_col } = self;
        let mut record = csv::ByteRecord::new();
        let mut summary = ReadSummary { headers, ..Default::default() };
        let mut first_line: HashMap<String, i64> = HashMap::new();
        let mut last_start = 0u64;
        loop {
            match rdr.read_byte_record(&mut record) {
                Ok(false) => break,
                Ok(true) => {}
                Err(e) => {
                    summary.rows_total += 1;
                    summary.rejected += 1;
                    let line = e.position().map(|p| lines.line_at(p.byte())).unwrap_or(0) as i64;
                    on_reject(line, format!("unreadable row: {e}"), Vec::new())?;
                    continue;
                }
            }
            let start = record.position().map(|p| p.byte()).unwrap_or(0);
            last_start = start;
            let cells: Vec<String> = record.iter().map(csv_input::field_text).collect();
            if cells.iter().all(String::is_empty) {
                continue;
            }
            summary.rows_total += 1;
            let line_no = lines.line_at(start) as i64;
            let cell = |i: usize| cells.get(i).map(String::as_str).unwrap_or("");
            let email = cell(email_col).to_lowercase();
            let company = cell(company_col).to_owned();
            let reason = if email.is_empty() {
                Some("the email is missing".to_owned())
            } else if !valid_email(&email) {
                Some(format!("{email:?} is not a valid email address"))
            } else if company.is_empty() {
                Some("the company is missing".to_owned())
            } else if let Some(first) = first_line.get(&email) {
                Some(format!("repeats {email} from line {first} (the first is kept)"))
            } else {
                None
            };
            if let Some(reason) = reason {
                summary.rejected += 1;
                on_reject(line_no, reason, cells)?;
                continue;
            }
            first_line.insert(email.clone(), line_no);
            let mut fields = serde_json::Map::new();
            for (name, value) in names.iter().zip(&cells) {
                if !value.is_empty() {
                    fields.insert(name.clone(), serde_json::Value::String(value.chars().take(2_000).collect()));
                }
            }
            fields.insert("email".into(), serde_json::Value::String(email.clone()));
            on_lead(ExtractedLead { line_no, email, company, fields, original: cells })?;
        }
        if csv_input::unterminated_quote(&path, last_start)? {
            let line = lines.line_at(last_start);
            return Err(Error::invalid(format!(
                "Line {line} opens a quoted cell (\") that never closes, so everything after it would be read as one cell. Fix that line and upload again."
            )));
        }
        if summary.rows_total == 0 {
            return Err(Error::invalid("The file has a header but no rows of leads."));
        }
        Ok(summary)
    }
}

/// Leads handed from the reading thread to the transaction at a time.
const BATCH: usize = 500;

/// Extracts a run's staged file into pending leads and moves the run to `personalizing`, in one
/// transaction: the file is read on a blocking thread that hands leads over in batches, and the
/// transaction commits only once the whole file was read. A file that cannot be used fails the
/// run with the reason (nothing of it stays).
pub async fn extract_run(db: &Db, run_id: i64, data_dir: &Path) -> Result<()> {
    let (campaign_id, staged): (i64, Option<String>) =
        crate::on_db!(db, |pool| sqlx::query_as("SELECT campaign_id, staged_path FROM personalization_runs WHERE id = $1 AND status = 'extracting'")
            .bind(run_id)
            .fetch_optional(pool)
            .await)?
        .ok_or(Error::NotFound)?;
    let Some(staged) = staged.map(PathBuf::from).filter(|p| p.exists()) else {
        return fail(db, run_id, "The uploaded file is gone; upload it again.").await;
    };
    let rejected_path = data_dir.join("uploads").join(format!("personalization-{run_id}-rejected.csv"));
    std::fs::create_dir_all(rejected_path.parent().unwrap_or(Path::new("."))).map_err(|e| Error::Internal(e.to_string()))?;
    let _ = std::fs::remove_file(&rejected_path); // from an attempt that did not finish
    let (tx, mut rx) = tokio::sync::mpsc::channel::<Vec<ExtractedLead>>(4);
    let reading = {
        let (staged, rejected_path) = (staged.clone(), rejected_path.clone());
        tokio::task::spawn_blocking(move || -> Result<ReadSummary> {
            let file = open_leads(&staged)?;
            let mut out = RejectedWriter { path: rejected_path, headers: file.headers.clone(), out: None };
            let mut batch = Vec::with_capacity(BATCH);
            let summary = file.read(
                |lead| {
                    batch.push(lead);
                    if batch.len() == BATCH && tx.blocking_send(std::mem::replace(&mut batch, Vec::with_capacity(BATCH))).is_err() {
                        return Err(Error::Internal("the extraction stopped".into()));
                    }
                    Ok(())
                },
                |line, reason, cells| out.write(line, &reason, &cells),
            );
            let summary = summary?;
            if !batch.is_empty() && tx.blocking_send(batch).is_err() {
                return Err(Error::Internal("the extraction stopped".into()));
            }
            out.finish()?;
            Ok(summary)
        })
    };
    let outcome = crate::on_db!(db, |pool| async {
        let mut txn = pool.begin().await?;
        let (mut accepted, mut taken) = (0i64, 0i64);
        while let Some(batch) = rx.recv().await {
            for lead in &batch {
                accepted += 1;
                // New to the campaign, or failed in an earlier run: this run personalizes it.
                // Already personalized (or pending in another run): skipped.
                taken += sqlx::query(
                    "INSERT INTO personalization_leads (campaign_id, run_id, line_no, email, company, fields, original, status) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, 'pending') \
                     ON CONFLICT (campaign_id, email) DO UPDATE SET run_id = excluded.run_id, line_no = excluded.line_no, company = excluded.company, \
                     fields = excluded.fields, original = excluded.original, status = 'pending', error = NULL \
                     WHERE personalization_leads.status = 'failed'",
                )
                .bind(campaign_id)
                .bind(run_id)
                .bind(lead.line_no)
                .bind(&lead.email)
                .bind(&lead.company)
                .bind(serde_json::Value::Object(lead.fields.clone()).to_string())
                .bind(serde_json::to_string(&lead.original).unwrap_or_default())
                .execute(&mut *txn)
                .await?
                .rows_affected() as i64;
            }
        }
        let summary = match reading.await.map_err(|e| Error::Internal(format!("reading the upload: {e}")))? {
            Ok(s) => s,
            Err(e) => return Ok::<std::result::Result<_, Error>, Error>(Err(e)),
        };
        let rejected_file = (summary.rejected > 0).then(|| rejected_path.display().to_string());
        sqlx::query(
            "UPDATE personalization_runs SET status = 'personalizing', headers = $1, staged_path = NULL, rejected_path = $2, rows_total = $3, \
             rejected = $4, skipped = $5, total = $6 WHERE id = $7 AND status = 'extracting'",
        )
        .bind(serde_json::to_string(&summary.headers).unwrap_or_default())
        .bind(&rejected_file)
        .bind(summary.rows_total)
        .bind(summary.rejected)
        .bind(accepted - taken)
        .bind(taken)
        .bind(run_id)
        .execute(&mut *txn)
        .await?;
        txn.commit().await?;
        Ok(Ok((summary, accepted)))
    }
    .await)?;
    match outcome {
        Ok((summary, accepted)) => {
            let _ = std::fs::remove_file(&staged);
            tracing::info!(run = run_id, leads = accepted, rejected = summary.rejected, "personalization leads extracted");
            Ok(())
        }
        Err(Error::Invalid(why)) => {
            let _ = std::fs::remove_file(&staged);
            let _ = std::fs::remove_file(&rejected_path);
            fail(db, run_id, &why).await
        }
        // Kept: the staged file stays for the sweep's next attempt.
        Err(e) => Err(e),
    }
}

/// The rejected rows' CSV, written as they are found: line, reason, then the row's cells,
/// formula-safe, UTF-8 with a BOM; the file is made with the first rejected row.
struct RejectedWriter {
    path: PathBuf,
    headers: Vec<String>,
    out: Option<csv::Writer<std::io::BufWriter<File>>>,
}

impl RejectedWriter {
    fn write(&mut self, line: i64, reason: &str, cells: &[String]) -> Result<()> {
        let failed = |e: csv::Error| Error::Internal(format!("writing the rejected rows: {e}"));
        if self.out.is_none() {
            let io = |e: std::io::Error| Error::Internal(format!("writing the rejected rows: {e}"));
            let mut file = std::io::BufWriter::new(File::create(&self.path).map_err(io)?);
            file.write_all("\u{feff}".as_bytes()).map_err(io)?;
            let mut out = csv::WriterBuilder::new().flexible(true).from_writer(file);
            let mut head = vec!["line".to_owned(), "error".to_owned()];
            head.extend(self.headers.iter().map(|h| safe_cell(h).into_owned()));
            out.write_record(&head).map_err(failed)?;
            self.out = Some(out);
        }
        let mut row = vec![line.to_string(), reason.to_owned()];
        row.extend(cells.iter().map(|c| safe_cell(c).into_owned()));
        self.out.as_mut().map_or(Ok(()), |out| out.write_record(&row).map_err(failed))
    }

    fn finish(self) -> Result<()> {
        match self.out {
            Some(mut out) => out.flush().map_err(|e| Error::Internal(format!("writing the rejected rows: {e}"))),
            None => Ok(()),
        }
    }
}

async fn fail(db: &Db, run_id: i64, why: &str) -> Result<()> {
    crate::on_db!(db, |pool| sqlx::query(
        "UPDATE personalization_runs SET status = 'failed', error = $1, staged_path = NULL, finished_at = $2, lease_owner = NULL, lease_until = NULL WHERE id = $3"
    )
    .bind(why)
    .bind(Utc::now())
    .bind(run_id)
    .execute(pool)
    .await
    .map(|_| ()))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers_normalise_to_canonical_names_and_unknown_ones_are_kept() {
        for (raw, want) in [
            ("First Name", "first_name"),
            ("firstName", "first_name"),
            ("first_name", "first_name"),
            ("FIRST-NAME", "first_name"),
            ("Last Name", "last_name"),
            ("Email Address", "email"),
            ("E-mail", "email"),
            ("email", "email"),
            ("Company Name", "company"),
            ("companyName", "company"),
            ("Organization", "company"),
            ("Job Title", "title"),
            ("Website", "website"),
            ("Company Domain", "website"),
            ("Person Linkedin Url", "linkedin"),
            ("Annual Revenue ($)", "annual_revenue"),
            ("numEmployees", "num_employees"),
            ("  Notes  ", "notes"),
            ("☃", "column"),
        ] {
            assert_eq!(canonical_header(raw), want, "{raw:?}");
        }
        let names = canonical_headers(&["Email".into(), "Email Address".into(), "Notes".into(), "notes".into()]);
        assert_eq!(names, ["email", "email_2", "notes", "notes_2"]);
    }

    type Rejected = Vec<(i64, String, Vec<String>)>;

    /// Reads `bytes` as an uploaded file would be read.
    fn read(bytes: &[u8]) -> Result<(Vec<ExtractedLead>, Rejected, ReadSummary)> {
        let path = std::env::temp_dir().join(format!("maverick-extract-{}.csv", uuid::Uuid::new_v4().simple()));
        std::fs::write(&path, bytes).unwrap();
        let (mut leads, mut rejected) = (Vec::new(), Vec::new());
        let summary = read_leads(
            &path,
            |l| {
                leads.push(l);
                Ok(())
            },
            |line, reason, cells| {
                rejected.push((line, reason, cells));
                Ok(())
            },
        );
        let _ = std::fs::remove_file(&path);
        summary.map(|s| (leads, rejected, s))
    }

    #[test]
    fn rows_are_validated_deduplicated_and_reported_with_their_lines() {
        let csv = "\u{feff}First Name;Email Address;Company Name;Favourite Colour\r\n\
                   Ann;ANN@Acme.test;Acme;blue\r\n\
                   Bob;not-an-email;Bobco;\r\n\
                   Cy;cy@cyco.test;;red\r\n\
                   ;;;\r\n\
                   Ann again;ann@acme.TEST;Acme;green\r\n\
                   \"Dee\nDee\";dee@dee.test;\"Dee, Inc\";=cmd|' /C calc'!A0\r\n";
        let (leads, rejected, summary) = read(csv.as_bytes()).unwrap();
        assert_eq!((summary.rows_total, summary.rejected), (5, 3), "the blank row is not a row");
        assert_eq!(summary.headers[0], "First Name", "the BOM is not part of the first header");
        let got: Vec<(i64, &str, &str)> = leads.iter().map(|l| (l.line_no, l.email.as_str(), l.company.as_str())).collect();
        assert_eq!(got, [(2, "ann@acme.test", "Acme"), (7, "dee@dee.test", "Dee, Inc")]);
        let reasons: Vec<(i64, &str)> = rejected.iter().map(|(l, r, _)| (*l, r.as_str())).collect();
        assert_eq!(
            reasons,
            [
                (3, "\"not-an-email\" is not a valid email address"),
                (4, "the company is missing"),
                (6, "repeats ann@acme.test from line 2 (the first is kept)"),
            ]
        );
        let dee = &leads[1];
        assert_eq!(dee.fields["first_name"], "Dee\nDee");
        assert_eq!(dee.fields["favourite_colour"], "=cmd|' /C calc'!A0", "unknown columns are kept as they are");
        assert_eq!(dee.original.len(), 4);
    }

    #[test]
    fn files_that_cannot_be_used_say_what_to_fix() {
        let err = |csv: &[u8]| read(csv).unwrap_err().to_string();
        assert!(err(b"").contains("empty"));
        assert!(err(b"email,company\n").contains("no rows"));
        assert!(err(b"name,company\nAnn,Acme\n").contains("email address"));
        assert!(err(b"email,name\na@b.test,Ann\n").contains("company"));
        assert!(err(b"email,company\na@b.test,\"Acme\nb@c.test,Bco\n").contains("never closes"));
        assert!(err(b"\xff\xfee\x00m\x00").contains("UTF-16"));
        // Latin-1 (Windows-1252) bytes are read, not refused.
        let (leads, _, _) = read(b"email,company\nj@b.test,Caf\xe9 Ren\xe9\n").unwrap();
        assert_eq!(leads[0].company, "Café René");
    }
}
