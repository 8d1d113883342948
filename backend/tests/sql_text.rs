//! Each enum stored as text has one spelling: its `as_str`. This test holds the schema to it —
//! the `CHECK (column IN (…))` list of the table's `CREATE TABLE`, in both dialects, must be
//! exactly the enum's values, so a value added on one side and not the other fails here rather
//! than as a constraint error (or a row that no longer decodes) in production.

use std::{collections::BTreeSet, path::Path};

use backend::{
    automations,
    bison::sync::{SyncKind, SyncStatus},
    contacts::{batches::BatchStatus, verification::VerifyStatus, UploadStatus},
    personalization::{LeadStatus, RunStatus, Writer},
};

/// The values the schema allows for `table.column`, from every migration of one dialect.
fn allowed(dialect: &str, table: &str, column: &str) -> BTreeSet<String> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../migrations").join(dialect);
    let mut files: Vec<_> = std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().path()).collect();
    files.sort();
    let mut found = None;
    for file in files {
        let sql = std::fs::read_to_string(&file).unwrap();
        let check = format!("CHECK ({column} IN (");
        // The table's CREATE (or SQLite's rebuild as `{table}_new`), or PostgreSQL's
        // `ALTER TABLE {table} ADD CONSTRAINT … CHECK (…)` replacing the list.
        let body = [format!("CREATE TABLE {table} ("), format!("CREATE TABLE {table}_new (")].iter().find_map(|head| {
            let start = sql.find(head.as_str())?;
            Some(&sql[start..start + sql[start..].find("\n);").expect("table body ends")])
        });
        let altered = sql.lines().find(|l| l.starts_with(&format!("ALTER TABLE {table} ADD CONSTRAINT")) && l.contains(&check));
        let Some(at_body) = altered.or(body).and_then(|b| b.find(&check).map(|at| &b[at + check.len()..])) else { continue };
        let list = &at_body[..at_body.find(')').unwrap()];
        found = Some(list.split(',').map(|v| v.trim().trim_matches('\'').to_owned()).collect());
    }
    found.unwrap_or_else(|| panic!("no CHECK ({column} IN …) in CREATE TABLE {table} of migrations/{dialect}"))
}

fn texts<T: Copy>(all: &[T], as_str: fn(T) -> &'static str) -> BTreeSet<String> {
    all.iter().map(|v| as_str(*v).to_owned()).collect()
}

#[test]
fn every_text_enum_matches_the_schema_in_both_dialects() {
    let cases: Vec<(&str, &str, BTreeSet<String>)> = vec![
        ("sync_runs", "kind", texts(SyncKind::ALL, SyncKind::as_str)),
        ("sync_runs", "status", texts(SyncStatus::ALL, SyncStatus::as_str)),
        ("contact_uploads", "status", texts(UploadStatus::ALL, UploadStatus::as_str)),
        ("verification_runs", "status", texts(VerifyStatus::ALL, VerifyStatus::as_str)),
        ("contact_batches", "status", texts(BatchStatus::ALL, BatchStatus::as_str)),
        ("personalization_runs", "status", texts(RunStatus::ALL, RunStatus::as_str)),
        ("personalization_runs", "writer", texts(Writer::ALL, Writer::as_str)),
        ("personalization_leads", "status", texts(LeadStatus::ALL, LeadStatus::as_str)),
        ("api_tokens", "scope", texts(backend::tenancy::api_tokens::TokenScope::ALL, backend::tenancy::api_tokens::TokenScope::as_str)),
        ("leads", "stage", backend::leads::Stage::ALL.iter().map(|s| s.as_str().to_owned()).collect()),
        ("automation_runs", "status", texts(automations::RunStatus::ALL, automations::RunStatus::as_str)),
        ("automation_runs", "trigger", texts(automations::Trigger::ALL, automations::Trigger::as_str)),
        ("automation_runs", "first_step", texts(automations::Step::ALL, automations::Step::as_str)),
        ("automation_runs", "last_step", texts(automations::Step::ALL, automations::Step::as_str)),
        ("automation_steps", "step", texts(automations::Step::ALL, automations::Step::as_str)),
        ("automation_steps", "status", texts(automations::StepStatus::ALL, automations::StepStatus::as_str)),
        ("automation_log", "level", texts(automations::LogLevel::ALL, automations::LogLevel::as_str)),
        ("site_credentials", "site", texts(automations::credentials::Site::ALL, automations::credentials::Site::as_str)),
        ("prospect_raw", "kind", texts(backend::prospects::store::SourceKind::ALL, backend::prospects::store::SourceKind::as_str)),
        ("prospect_rejects", "kind", texts(backend::prospects::store::SourceKind::ALL, backend::prospects::store::SourceKind::as_str)),
        ("prospect_review_pairs", "status", texts(backend::prospects::store::PairStatus::ALL, backend::prospects::store::PairStatus::as_str)),
        ("prospect_review_pairs", "rule", texts(backend::prospects::Rule::ALL, backend::prospects::Rule::as_str)),
        ("prospect_decisions", "action", texts(backend::prospects::store::Decision::ALL, backend::prospects::store::Decision::as_str)),
        ("prospect_runs", "status", texts(backend::prospects::store::RunStatus::ALL, backend::prospects::store::RunStatus::as_str)),
    ];
    for dialect in ["sqlite", "postgres"] {
        for (table, column, ours) in &cases {
            assert_eq!(&allowed(dialect, table, column), ours, "{table}.{column} in migrations/{dialect}");
        }
    }
}

#[test]
fn a_stored_text_reads_back_as_its_value_and_an_unknown_one_is_refused() {
    assert_eq!("succeeded".parse::<SyncStatus>().unwrap(), SyncStatus::Succeeded);
    assert_eq!(SyncStatus::Succeeded, "succeeded");
    let e = "done".parse::<SyncStatus>().unwrap_err();
    assert_eq!(e.to_string(), "Unknown sync status \"done\": use one of queued, running, succeeded, failed.");
}
