//! From an uploaded leads CSV to pending leads of a run: headers normalised to canonical names
//! (unknown columns kept), rows validated (email syntax, company present) with a report of the
//! rejected ones, emails deduplicated case-insensitively within the file, and leads already in
//! the campaign skipped. Everything lands in one transaction with the run's move to
//! `personalizing`, so a crash mid-way leaves the run to be extracted again from scratch.

use std::{
    collections::HashMap,
    io::Write,
    path::{Path, PathBuf},
};

use chrono::Utc;

use crate::{
    contacts::valid_email,
    csv_input::{self, LineCounter},
    db::Db,
    error::{Error, Result},
    export::safe_cell,
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

/// What reading the file gave.
#[derive(Debug, Default)]
pub struct Extraction {
    pub headers: Vec<String>,
    pub leads: Vec<ExtractedLead>,
    pub rows_total: i64,
    /// (line, reason, cells)
    pub rejected: Vec<(i64, String, Vec<String>)>,
}

/// Reads and validates a leads file (bytes as uploaded). A file that cannot be read at all (no
/// header, no email or company column, a quote that never closes) is an `Invalid` error that
/// says what to fix.
pub fn read_leads(bytes: &[u8]) -> Result<Extraction> {
    let text = csv_input::decode(bytes);
    let mut rdr = csv_input::reader(&text);
    let headers = csv_input::headers(&mut rdr)?;
    let names = canonical_headers(&headers);
    let col = |name: &str| names.iter().position(|n| n == name);
    let email_col = col("email").ok_or_else(|| {
        Error::invalid(format!("No column holds the email address (found: {}). Name one \"email\" or \"Email Address\".", headers.join(", ")))
    })?;
    let company_col = col("company")
        .ok_or_else(|| Error::invalid(format!("No column holds the company (found: {}). Name one \"company\" or \"Company Name\".", headers.join(", "))))?;
    let mut lines = LineCounter::new(text.as_bytes());
    let mut out = Extraction { headers: headers.clone(), ..Default::default() };
    let mut first_line: HashMap<String, i64> = HashMap::new();
    let mut record = csv::StringRecord::new();
    let mut last_start = 0u64;
    loop {
        match rdr.read_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {}
            Err(e) => {
                out.rows_total += 1;
                let line = e.position().map(|p| lines.line_at(p.byte())).unwrap_or(0) as i64;
                out.rejected.push((line, format!("unreadable row: {e}"), Vec::new()));
                continue;
            }
        }
        let start = record.position().map(|p| p.byte()).unwrap_or(0);
        last_start = start;
        if record.iter().all(|c| c.trim().is_empty()) {
            continue;
        }
        out.rows_total += 1;
        let line_no = lines.line_at(start) as i64;
        let cells: Vec<String> = record.iter().map(str::to_owned).collect();
        let cell = |i: usize| cells.get(i).map(|c| c.trim()).unwrap_or("");
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
            out.rejected.push((line_no, reason, cells));
            continue;
        }
        first_line.insert(email.clone(), line_no);
        let mut fields = serde_json::Map::new();
        for (name, value) in names.iter().zip(&cells) {
            let value = value.trim();
            if !value.is_empty() {
                fields.insert(name.clone(), serde_json::Value::String(value.chars().take(2_000).collect()));
            }
        }
        fields.insert("email".into(), serde_json::Value::String(email.clone()));
        out.leads.push(ExtractedLead { line_no, email, company, fields, original: cells });
    }
    // A quote opened and never closed swallows the rest of the file into one cell.
    if text.get(last_start as usize..).is_some_and(|rest| rest.matches('"').count() % 2 == 1) {
        let line = lines.line_at(last_start);
        return Err(Error::invalid(format!(
            "Line {line} opens a quoted cell (\") that never closes, so everything after it would be read as one cell. Fix that line and upload again."
        )));
    }
    if out.rows_total == 0 {
        return Err(Error::invalid("The file has a header but no rows of leads."));
    }
    Ok(out)
}

/// Writes the rejected rows (line, reason, then the row's cells), formula-safe, UTF-8 with a BOM.
fn write_rejected(path: &Path, headers: &[String], rejected: &[(i64, String, Vec<String>)]) -> Result<()> {
    let io = |e: std::io::Error| Error::Internal(format!("writing the rejected rows: {e}"));
    let mut file = std::fs::File::create(path).map_err(io)?;
    file.write_all("\u{feff}".as_bytes()).map_err(io)?;
    let mut out = csv::WriterBuilder::new().flexible(true).from_writer(file);
    let mut head = vec!["line".to_owned(), "error".to_owned()];
    head.extend(headers.iter().map(|h| safe_cell(h).into_owned()));
    let csv_err = |e: csv::Error| Error::Internal(format!("writing the rejected rows: {e}"));
    out.write_record(&head).map_err(csv_err)?;
    for (line, reason, cells) in rejected {
        let mut row = vec![line.to_string(), reason.clone()];
        row.extend(cells.iter().map(|c| safe_cell(c).into_owned()));
        out.write_record(&row).map_err(csv_err)?;
    }
    out.flush().map_err(io)
}

/// Extracts a run's staged file into pending leads and moves the run to `personalizing`, in one
/// transaction. A file that cannot be used fails the run with the reason.
pub async fn extract_run(db: &Db, run_id: i64, data_dir: &Path) -> Result<()> {
    let (campaign_id, staged): (i64, Option<String>) =
        crate::on_db!(db, |pool| sqlx::query_as("SELECT campaign_id, staged_path FROM personalization_runs WHERE id = $1 AND status = 'extracting'")
            .bind(run_id)
            .fetch_optional(pool)
            .await)?
        .ok_or(Error::NotFound)?;
    let Some(staged) = staged.map(PathBuf::from) else {
        return fail(db, run_id, "The uploaded file is gone; upload it again.").await;
    };
    let bytes = tokio::fs::read(&staged).await.map_err(|e| Error::Internal(format!("reading {}: {e}", staged.display())))?;
    let extraction = match tokio::task::spawn_blocking(move || read_leads(&bytes)).await.map_err(|e| Error::Internal(e.to_string()))? {
        Ok(x) => x,
        Err(Error::Invalid(why)) => {
            let _ = std::fs::remove_file(&staged);
            return fail(db, run_id, &why).await;
        }
        Err(e) => return Err(e),
    };
    let rejected_path = (!extraction.rejected.is_empty()).then(|| data_dir.join("uploads").join(format!("personalization-{run_id}-rejected.csv")));
    if let Some(path) = &rejected_path {
        std::fs::create_dir_all(path.parent().unwrap_or(Path::new("."))).map_err(|e| Error::Internal(e.to_string()))?;
        write_rejected(path, &extraction.headers, &extraction.rejected)?;
    }
    let now = Utc::now();
    let headers_json = serde_json::to_string(&extraction.headers).unwrap_or_default();
    let accepted = extraction.leads.len() as i64;
    let rejected = extraction.rejected.len() as i64;
    let rows_total = extraction.rows_total;
    let rejected_path = rejected_path.map(|p| p.display().to_string());
    crate::on_db!(db, |pool| async {
        let mut tx = pool.begin().await?;
        let mut taken = 0i64;
        for lead in &extraction.leads {
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
            .execute(&mut *tx)
            .await?
            .rows_affected() as i64;
        }
        sqlx::query(
            "UPDATE personalization_runs SET status = 'personalizing', headers = $1, staged_path = NULL, rejected_path = $2, rows_total = $3, \
             rejected = $4, skipped = $5, total = $6 WHERE id = $7 AND status = 'extracting'",
        )
        .bind(&headers_json)
        .bind(&rejected_path)
        .bind(rows_total)
        .bind(rejected)
        .bind(accepted - taken)
        .bind(taken)
        .bind(run_id)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok::<(), Error>(())
    }
    .await)?;
    let _ = std::fs::remove_file(&staged);
    tracing::info!(run = run_id, leads = accepted, rejected, %now, "personalization leads extracted");
    Ok(())
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

    #[test]
    fn rows_are_validated_deduplicated_and_reported_with_their_lines() {
        let csv = "\u{feff}First Name;Email Address;Company Name;Favourite Colour\r\n\
                   Ann;ANN@Acme.test;Acme;blue\r\n\
                   Bob;not-an-email;Bobco;\r\n\
                   Cy;cy@cyco.test;;red\r\n\
                   ;;;\r\n\
                   Ann again;ann@acme.TEST;Acme;green\r\n\
                   \"Dee\nDee\";dee@dee.test;\"Dee, Inc\";=cmd|' /C calc'!A0\r\n";
        let x = read_leads(csv.as_bytes()).unwrap();
        assert_eq!(x.rows_total, 5, "the blank row is not a row");
        let got: Vec<(i64, &str, &str)> = x.leads.iter().map(|l| (l.line_no, l.email.as_str(), l.company.as_str())).collect();
        assert_eq!(got, [(2, "ann@acme.test", "Acme"), (7, "dee@dee.test", "Dee, Inc")]);
        let reasons: Vec<(i64, &str)> = x.rejected.iter().map(|(l, r, _)| (*l, r.as_str())).collect();
        assert_eq!(
            reasons,
            [
                (3, "\"not-an-email\" is not a valid email address"),
                (4, "the company is missing"),
                (6, "repeats ann@acme.test from line 2 (the first is kept)"),
            ]
        );
        let dee = &x.leads[1];
        assert_eq!(dee.fields["first_name"], "Dee\nDee");
        assert_eq!(dee.fields["favourite_colour"], "=cmd|' /C calc'!A0", "unknown columns are kept as they are");
        assert_eq!(dee.original.len(), 4);
    }

    #[test]
    fn files_that_cannot_be_used_say_what_to_fix() {
        let err = |csv: &str| read_leads(csv.as_bytes()).unwrap_err().to_string();
        assert!(err("").contains("empty"));
        assert!(err("email,company\n").contains("no rows"));
        assert!(err("name,company\nAnn,Acme\n").contains("email address"));
        assert!(err("email,name\na@b.test,Ann\n").contains("company"));
        assert!(err("email,company\na@b.test,\"Acme\nb@c.test,Bco\n").contains("never closes"));
        // Latin-1 (Windows-1252) bytes are read, not refused.
        let x = read_leads(b"email,company\nj@b.test,Caf\xe9 Ren\xe9\n").unwrap();
        assert_eq!(x.leads[0].company, "Café René");
    }
}
