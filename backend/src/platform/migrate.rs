//! Schema migrations: ours (`migrations/sqlite`, `migrations/postgres`), then the job queue's,
//! which apalis keeps in its own bookkeeping (see [`crate::platform::jobs::migrate`]).

use crate::platform::{db::Db, error::Result};

/// Brings the database to the schema this build expects. Safe to run at every start-up.
pub async fn run(db: &Db) -> Result<()> {
    match db {
        Db::Sqlite(pool) => sqlx::migrate!("../migrations/sqlite").run(pool).await?,
        Db::Postgres(pool) => sqlx::migrate!("../migrations/postgres").run(pool).await?,
    }
    crate::platform::jobs::migrate(db).await
}

/// What the migrations create: tables with their columns, and indexes (comments stripped;
/// `CREATE TABLE`, `ALTER TABLE … ADD|DROP|RENAME COLUMN`, `ALTER TABLE … RENAME TO`,
/// `CREATE [UNIQUE] INDEX`, `DROP TABLE|INDEX`).
pub fn expected_schema(sqls: &[&str]) -> (std::collections::BTreeMap<String, Vec<String>>, std::collections::BTreeSet<String>) {
    let mut tables: std::collections::BTreeMap<String, Vec<String>> = Default::default();
    let mut indexes = std::collections::BTreeSet::new();
    let ident = |w: &str| w.trim_matches(|c| c == '"' || c == '`' || c == '(').to_lowercase();
    for sql in sqls {
        let text: String = sql.lines().map(|l| l.split("--").next().unwrap_or("")).collect::<Vec<_>>().join("\n");
        for stmt in text.split(';') {
            let words: Vec<&str> = stmt.split_whitespace().collect();
            let upper: Vec<String> = words.iter().map(|w| w.to_uppercase()).collect();
            let at = |i: usize| upper.get(i).map(String::as_str).unwrap_or("");
            let skip_if_not_exists = |i: usize| if at(i) == "IF" && at(i + 1) == "NOT" && at(i + 2) == "EXISTS" { i + 3 } else { i };
            // `CREATE UNLOGGED TABLE` (PostgreSQL staging tables) is a table like any other.
            let unlogged = usize::from(at(1) == "UNLOGGED");
            if at(0) == "CREATE" && at(1 + unlogged) == "TABLE" {
                let n = skip_if_not_exists(2 + unlogged);
                let Some(name) = words.get(n).map(|w| ident(w.split('(').next().unwrap_or(w))) else { continue };
                let (Some(open), Some(close)) = (stmt.find('('), stmt.rfind(')')) else { continue };
                let mut cols = Vec::new();
                let (mut depth, mut item) = (0, String::new());
                for c in stmt[open + 1..close].chars().chain([',']) {
                    match c {
                        '(' => depth += 1,
                        ')' => depth -= 1,
                        ',' if depth == 0 => {
                            let first = item.split_whitespace().next().unwrap_or("").to_uppercase();
                            if !first.is_empty() && !["UNIQUE", "PRIMARY", "CHECK", "FOREIGN", "CONSTRAINT"].contains(&first.as_str()) {
                                cols.push(ident(item.split_whitespace().next().unwrap_or("")));
                            }
                            item.clear();
                            continue;
                        }
                        _ => {}
                    }
                    item.push(c);
                }
                tables.insert(name, cols);
            } else if at(0) == "ALTER" && at(1) == "TABLE" && at(3) == "RENAME" && at(4) == "TO" {
                if let (Some(from), Some(to)) = (words.get(2), words.get(5)) {
                    let cols = tables.remove(&ident(from)).unwrap_or_default();
                    tables.insert(ident(to), cols);
                }
            } else if at(0) == "ALTER" && at(1) == "TABLE" && at(3) == "RENAME" && at(4) == "COLUMN" && at(6) == "TO" {
                if let (Some(t), Some(from), Some(to)) = (words.get(2), words.get(5), words.get(7)) {
                    if let Some(cols) = tables.get_mut(&ident(t)) {
                        cols.retain(|c| *c != ident(from));
                        cols.push(ident(to));
                    }
                }
            } else if at(0) == "ALTER" && at(1) == "TABLE" && at(3) == "DROP" && at(4) == "COLUMN" {
                if let (Some(t), Some(c)) = (words.get(2), words.get(5)) {
                    if let Some(cols) = tables.get_mut(&ident(t)) {
                        cols.retain(|x| *x != ident(c));
                    }
                }
            } else if at(0) == "ALTER" && at(1) == "TABLE" && at(3) == "ADD" && at(4) != "CONSTRAINT" {
                let col = if at(4) == "COLUMN" { words.get(5) } else { words.get(4) };
                if let (Some(t), Some(c)) = (words.get(2), col) {
                    tables.entry(ident(t)).or_default().push(ident(c));
                }
            } else if at(0) == "CREATE" && (at(1) == "INDEX" || (at(1) == "UNIQUE" && at(2) == "INDEX")) {
                let n = skip_if_not_exists(if at(1) == "INDEX" { 2 } else { 3 });
                if let Some(name) = words.get(n) {
                    indexes.insert(ident(name));
                }
            } else if at(0) == "DROP" && at(1) == "TABLE" {
                let n = if at(2) == "IF" { 4 } else { 2 };
                if let Some(t) = words.get(n) {
                    tables.remove(&ident(t));
                }
            } else if at(0) == "DROP" && at(1) == "INDEX" {
                let n = if at(2) == "IF" { 4 } else { 2 };
                if let Some(i) = words.get(n) {
                    indexes.remove(&ident(i));
                }
            }
        }
    }
    (tables, indexes)
}

/// What `server migrate --verify` found: every table, column and index the migrations create,
/// checked on the connected database (the seed's verification step).
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct SchemaReport {
    pub backend: String,
    pub ok: bool,
    pub migrations: usize,
    pub tables_expected: usize,
    pub columns_expected: usize,
    pub indexes_expected: usize,
    pub missing_tables: Vec<String>,
    pub missing_columns: Vec<String>,
    pub missing_indexes: Vec<String>,
}

pub async fn verify(db: &Db) -> Result<SchemaReport> {
    let migrator = match db {
        Db::Sqlite(_) => sqlx::migrate!("../migrations/sqlite"),
        Db::Postgres(_) => sqlx::migrate!("../migrations/postgres"),
    };
    let sqls: Vec<&str> = migrator.iter().map(|m| m.sql.as_str()).collect();
    let (tables, indexes) = expected_schema(&sqls);
    let (present_tables, present_cols, present_indexes): (Vec<String>, Vec<(String, String)>, Vec<String>) = match db {
        Db::Sqlite(pool) => (
            sqlx::query_scalar("SELECT lower(name) FROM sqlite_master WHERE type = 'table'").fetch_all(pool).await?,
            sqlx::query_as("SELECT lower(m.name), lower(p.name) FROM sqlite_master m JOIN pragma_table_info(m.name) p WHERE m.type = 'table'").fetch_all(pool).await?,
            sqlx::query_scalar("SELECT lower(name) FROM sqlite_master WHERE type = 'index'").fetch_all(pool).await?,
        ),
        Db::Postgres(pool) => (
            sqlx::query_scalar("SELECT lower(table_name::text) FROM information_schema.tables WHERE table_schema = current_schema()").fetch_all(pool).await?,
            sqlx::query_as("SELECT lower(table_name::text), lower(column_name::text) FROM information_schema.columns WHERE table_schema = current_schema()").fetch_all(pool).await?,
            sqlx::query_scalar("SELECT lower(indexname::text) FROM pg_indexes WHERE schemaname = current_schema()").fetch_all(pool).await?,
        ),
    };
    let present_tables: std::collections::BTreeSet<String> = present_tables.into_iter().collect();
    let present_cols: std::collections::BTreeSet<(String, String)> = present_cols.into_iter().collect();
    let present_indexes: std::collections::BTreeSet<String> = present_indexes.into_iter().collect();
    let missing_tables: Vec<String> = tables.keys().filter(|t| !present_tables.contains(*t)).cloned().collect();
    let missing_columns: Vec<String> = tables
        .iter()
        .filter(|(t, _)| present_tables.contains(*t))
        .flat_map(|(t, cols)| cols.iter().filter(|c| !present_cols.contains(&(t.clone(), (*c).clone()))).map(move |c| format!("{t}.{c}")))
        .collect();
    let missing_indexes: Vec<String> = indexes.iter().filter(|i| !present_indexes.contains(*i)).cloned().collect();
    Ok(SchemaReport {
        backend: format!("{:?}", db.backend()).to_lowercase(),
        ok: missing_tables.is_empty() && missing_columns.is_empty() && missing_indexes.is_empty(),
        migrations: sqls.len(),
        tables_expected: tables.len(),
        columns_expected: tables.values().map(Vec::len).sum(),
        indexes_expected: indexes.len(),
        missing_tables,
        missing_columns,
        missing_indexes,
    })
}
