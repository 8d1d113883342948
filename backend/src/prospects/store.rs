//! The prospect layers on the database (migration 0024), as in the seed's pipeline: files are
//! loaded into `prospect_raw` (each row as received, JSON, with a record hash so reloading a file
//! adds nothing; bad rows into `prospect_rejects` with their reason), one normalised row per
//! person into `prospect_persons`, and a run of the resolver writes `prospect_masters`, the open
//! review pairs and a merge log (`prospect_runs`) with its JSON report. Review decisions
//! (approve, reject, split) are kept in `prospect_decisions` and applied by every later run.

use std::{collections::HashMap, path::Path, time::Instant};

use chrono::Utc;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};
use sqlx::types::Json;

use super::{
    file::map_columns,
    normalize::{self, split_values, Name, Region},
    resolve::{self, PersonInput},
};
use crate::{
    on_db,
    platform::{
        csv_input,
        db::Db,
        error::{Error, Result},
    },
};

crate::sql_text_enum!(
    /// Which kind of list a file is (`prospect_raw.kind`).
    pub enum SourceKind ("prospect file kind") { Company = "company", Agents = "agents" }
);

crate::sql_text_enum!(
    /// Where a review pair stands (`prospect_review_pairs.status`).
    pub enum PairStatus ("review pair status") { Open = "open", Approved = "approved", Rejected = "rejected" }
);

crate::sql_text_enum!(
    /// A person's decision on the review queue (`prospect_decisions.action`).
    pub enum Decision ("prospect decision") { Approve = "approve", Reject = "reject", Split = "split" }
);

crate::sql_text_enum!(
    /// Where a resolver run stands (`prospect_runs.status`).
    pub enum RunStatus ("prospect run status") { Queued = "queued", Running = "running", Succeeded = "succeeded", Failed = "failed" }
);

/// What loading a file did.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LoadSummary {
    pub rows: u64,
    /// Rows stored in the raw layer (new ones; a row already loaded is not stored again).
    pub raw_added: u64,
    pub raw_already_loaded: u64,
    pub persons_added: u64,
    pub rejected: u64,
}

/// One person found in a row, cleaned.
struct NewPerson {
    member_index: i64,
    name: Name,
    display: String,
    emails: Vec<String>,
    phones: Vec<String>,
    team: Option<String>,
}

/// Loads a company-research or agents file. Every row is kept as received (header → cell, unknown
/// columns too); a row is rejected with a reason when it has no person to keep. All in one
/// transaction: a file loads entirely or not at all.
pub async fn load_file(db: &Db, kind: SourceKind, path: &Path, region: Region) -> Result<LoadSummary> {
    let (delimiter, _bom) = csv_input::sniff_file(path)?;
    let mut rdr = csv_input::file_reader(path, delimiter)?;
    let mut record = csv::ByteRecord::new();
    let read_err = |e: csv::Error| Error::invalid(format!("{}: {e}", path.display()));
    if !rdr.read_byte_record(&mut record).map_err(read_err)? {
        return Err(Error::invalid(format!("{} is empty: its first line must name the columns.", path.display())));
    }
    let headers: Vec<String> = record.iter().map(|b| csv_input::field_text(b).trim_start_matches('\u{feff}').to_owned()).collect();
    let source = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let columns = map_columns(&headers).ok();
    let members_col = csv_input::find_column(&headers, &["teammembers", "members", "team"]);
    let team_col = csv_input::find_column(&headers, &["teamid", "companyid", "brokerageid", "officeid"]);
    if kind == SourceKind::Company && members_col.is_none() {
        return Err(Error::invalid(format!("{source}: a company file needs a team_members column (a JSON array of people).")));
    }
    if kind == SourceKind::Agents && columns.is_none() {
        return Err(Error::invalid(format!("{source}: no name, email or phone column; name them full_name (or first_name/last_name), email, phone, team_id.")));
    }

    let mut rows: Vec<(i64, Map<String, Value>, std::result::Result<Vec<NewPerson>, String>)> = Vec::new();
    let mut line = 1i64;
    while rdr.read_byte_record(&mut record).map_err(read_err)? {
        line += 1;
        let cells: Vec<String> = record.iter().map(csv_input::field_text).collect();
        if cells.iter().all(String::is_empty) {
            continue;
        }
        let mut data = Map::new();
        for (i, h) in headers.iter().enumerate() {
            data.insert(if h.is_empty() { format!("column_{}", i + 1) } else { h.clone() }, Value::String(cells.get(i).cloned().unwrap_or_default()));
        }
        let team = team_col.and_then(|i| cells.get(i)).map(|t| t.trim().to_owned()).filter(|t| !t.is_empty());
        let persons = match kind {
            SourceKind::Agents => agent_person(&cells, columns.as_ref().expect("checked above"), team, region),
            SourceKind::Company => company_persons(members_col.and_then(|i| cells.get(i)).map(String::as_str).unwrap_or(""), team, region),
        };
        rows.push((line, data, persons));
    }

    let now = Utc::now();
    let mut summary = LoadSummary::default();
    on_db!(db, |pool| async {
        let mut tx = pool.begin().await?;
        for (line, data, persons) in &rows {
            summary.rows += 1;
            let json = Value::Object(data.clone());
            match persons {
                Err(reason) => {
                    summary.rejected += 1;
                    // Kept once: reloading the file does not list the same bad row again.
                    let text = json.to_string();
                    let known: Option<i64> = sqlx::query_scalar("SELECT id FROM prospect_rejects WHERE kind = $1 AND data = $2 AND reason = $3")
                        .bind(kind.as_str())
                        .bind(&text)
                        .bind(reason)
                        .fetch_optional(&mut *tx)
                        .await?;
                    if known.is_none() {
                        sqlx::query("INSERT INTO prospect_rejects (kind, source_file, line, reason, data, rejected_at) VALUES ($1, $2, $3, $4, $5, $6)")
                            .bind(kind.as_str())
                            .bind(&source)
                            .bind(line)
                            .bind(reason)
                            .bind(&text)
                            .bind(now)
                            .execute(&mut *tx)
                            .await?;
                    }
                }
                Ok(persons) => {
                    let hash = record_hash(kind, &json);
                    let raw_id: Option<i64> = sqlx::query_scalar(
                        "INSERT INTO prospect_raw (kind, record_hash, source_file, line, data, loaded_at) VALUES ($1, $2, $3, $4, $5, $6) \
                         ON CONFLICT (record_hash) DO NOTHING RETURNING id",
                    )
                    .bind(kind.as_str())
                    .bind(&hash)
                    .bind(&source)
                    .bind(line)
                    .bind(Json(&json))
                    .bind(now)
                    .fetch_optional(&mut *tx)
                    .await?;
                    let Some(raw_id) = raw_id else {
                        summary.raw_already_loaded += 1;
                        continue;
                    };
                    summary.raw_added += 1;
                    for p in persons {
                        sqlx::query(
                            "INSERT INTO prospect_persons (raw_id, member_index, full_name, first_name, last_name, emails, phones, team_id) \
                             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
                        )
                        .bind(raw_id)
                        .bind(p.member_index)
                        .bind(&p.display)
                        .bind(&p.name.first)
                        .bind(&p.name.last)
                        .bind(serde_json::to_string(&p.emails).unwrap_or_default())
                        .bind(serde_json::to_string(&p.phones).unwrap_or_default())
                        .bind(&p.team)
                        .execute(&mut *tx)
                        .await?;
                        summary.persons_added += 1;
                    }
                }
            }
        }
        tx.commit().await?;
        Ok::<_, sqlx::Error>(())
    }
    .await)?;
    Ok(summary)
}

/// SHA-256 of the kind and the row's JSON (keys in header order): the same row, the same hash.
fn record_hash(kind: SourceKind, row: &Value) -> String {
    let mut h = Sha256::new();
    h.update(kind.as_str().as_bytes());
    h.update(b"\n");
    h.update(row.to_string().as_bytes());
    hex::encode(h.finalize())
}

fn clean_person(member_index: i64, name: Name, raw_name: &str, emails: &[String], phones: &[String], team: Option<String>, region: Region) -> Option<NewPerson> {
    let mut e: Vec<String> = emails.iter().filter_map(|x| normalize::email(x)).collect();
    e.dedup();
    let mut p: Vec<String> = phones.iter().filter_map(|x| normalize::phone(x, region)).collect();
    p.dedup();
    if name.is_empty() && e.is_empty() && p.is_empty() {
        return None;
    }
    let display = if raw_name.trim().is_empty() { name.full() } else { raw_name.split_whitespace().collect::<Vec<_>>().join(" ") };
    Some(NewPerson { member_index, name, display, emails: e, phones: p, team: team.map(|t| t.to_lowercase()) })
}

fn agent_person(cells: &[String], cols: &super::file::Columns, team: Option<String>, region: Region) -> std::result::Result<Vec<NewPerson>, String> {
    let cell = |i: Option<usize>| i.and_then(|i| cells.get(i)).cloned().unwrap_or_default();
    let multi = |is: &[usize]| is.iter().flat_map(|&i| cells.get(i).map(|c| split_values(c)).unwrap_or_default()).collect::<Vec<_>>();
    let (full, first, last) = (cell(cols.full_name), cell(cols.first_name), cell(cols.last_name));
    let name = Name::from_parts(&first, &last, &full);
    let raw_name = if full.is_empty() { format!("{first} {last}") } else { full };
    clean_person(0, name, &raw_name, &multi(&cols.emails), &multi(&cols.phones), team.or_else(|| Some(cell(cols.team)).filter(|t| !t.is_empty())), region)
        .map(|p| vec![p])
        .ok_or_else(|| "No name, no valid email and no valid phone.".to_owned())
}

/// The people of a company row's `team_members` JSON array (objects with a name or first/last
/// name and email(s) / phone(s)); members with nothing to keep are skipped.
fn company_persons(members: &str, team: Option<String>, region: Region) -> std::result::Result<Vec<NewPerson>, String> {
    let list: Vec<Value> = match serde_json::from_str::<Value>(members.trim()) {
        Ok(Value::Array(list)) => list,
        Ok(_) => return Err("team_members is not a JSON array.".into()),
        Err(e) => return Err(format!("team_members is not valid JSON: {e}")),
    };
    let text = |m: &Map<String, Value>, keys: &[&str]| -> Vec<String> {
        let mut out = Vec::new();
        for (k, v) in m {
            if keys.contains(&csv_input::header_key(k).as_str()) {
                match v {
                    Value::String(s) => out.extend(split_values(s)),
                    Value::Array(a) => out.extend(a.iter().filter_map(|x| x.as_str().map(str::to_owned))),
                    Value::Number(n) => out.push(n.to_string()),
                    _ => {}
                }
            }
        }
        out
    };
    let mut people = Vec::new();
    for (i, m) in list.iter().enumerate() {
        let Some(m) = m.as_object() else { continue };
        let one = |keys: &[&str]| text(m, keys).into_iter().next().unwrap_or_default();
        let full = one(&["name", "fullname", "membername"]);
        let (first, last) = (one(&["firstname", "first"]), one(&["lastname", "last"]));
        let name = Name::from_parts(&first, &last, &full);
        let raw_name = if full.is_empty() { format!("{first} {last}") } else { full };
        let emails = text(m, &["email", "emails", "emailaddress", "workemail"]);
        let phones = text(m, &["phone", "phones", "mobile", "cell", "phonenumber", "officephone"]);
        if let Some(p) = clean_person(i as i64, name, &raw_name, &emails, &phones, team.clone(), region) {
            people.push(p);
        }
    }
    if people.is_empty() {
        return Err("team_members lists nobody with a name, a valid email or a valid phone.".into());
    }
    Ok(people)
}

/// The JSON report of a run (`--report FILE`, downloadable from the page).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct RunReport {
    pub run_id: i64,
    pub read_ms: u128,
    pub resolve_ms: u128,
    pub write_ms: u128,
    pub raw_rows: i64,
    pub rejected_rows: i64,
    pub persons: i64,
    pub masters: i64,
    /// Masters by confidence (`"100"`, `"90"`, `"80"`), as the seed's "confidence score distribution".
    pub confidence_histogram: std::collections::BTreeMap<String, i64>,
    pub masters_needing_review: i64,
    pub open_review_pairs: i64,
    /// Persons that are a duplicate of another: 1 − masters / persons.
    pub duplicate_rate: f64,
}

#[derive(sqlx::FromRow)]
struct PersonRow {
    id: i64,
    full_name: String,
    first_name: String,
    last_name: String,
    emails: String,
    phones: String,
    team_id: Option<String>,
}

/// How long a worker's hold on a run lasts without news from it. Each progress step renews it;
/// a run whose lease lapsed had its worker stop, and the next request marks it failed.
pub const LEASE_SECS: i64 = 300;
/// Staging rows written per transaction (each one a progress step the page can see).
const STAGE_CHUNK: usize = 2_000;

/// Where a run is, for the page's progress bar.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, sqlx::FromRow)]
pub struct RunProgress {
    pub id: i64,
    pub status: String,
    /// `reading`, `resolving`, `writing`, `saving` while it works.
    pub phase: Option<String>,
    pub done: i64,
    pub total: i64,
    pub error: Option<String>,
}

/// Claims the one resolver run that may be queued or going (the partial unique index is the
/// claim): answers the new run's id, or a conflict naming the run already going. A run whose
/// worker stopped (lease lapsed) is marked failed first, so it never blocks for good.
pub async fn request_run(db: &Db, user_id: Option<i64>) -> Result<i64> {
    let now = Utc::now();
    on_db!(db, |pool| async {
        sqlx::query("UPDATE prospect_runs SET status = $1, error = $2, finished_at = $3, phase = NULL WHERE status = $4 AND lease_until < $3")
            .bind(RunStatus::Failed.as_str())
            .bind("The worker stopped during this run; nothing of it was kept. Run the resolver again.")
            .bind(now)
            .bind(RunStatus::Running.as_str())
            .execute(pool)
            .await?;
        // A queued run no worker took in a day had its job lost (a restore, a cleared queue).
        sqlx::query("UPDATE prospect_runs SET status = $1, error = $2, finished_at = $3, phase = NULL WHERE status = $4 AND started_at < $5")
            .bind(RunStatus::Failed.as_str())
            .bind("No worker took this run within a day; is a worker running (MAVERICK_WORKERS, `server worker`)?")
            .bind(now)
            .bind(RunStatus::Queued.as_str())
            .bind(now - chrono::Duration::days(1))
            .execute(pool)
            .await
            .map(|_| ())
    }
    .await)?;
    drop_failed_staging(db).await?;
    let inserted = on_db!(db, |pool| sqlx::query_scalar::<_, i64>(
        "INSERT INTO prospect_runs (started_at, status, phase, requested_by) VALUES ($1, $2, 'queued', $3) RETURNING id"
    )
    .bind(now)
    .bind(RunStatus::Queued.as_str())
    .bind(user_id)
    .fetch_one(pool)
    .await);
    match inserted {
        Ok(id) => Ok(id),
        Err(e) if crate::platform::error::is_unique_violation(&e) => {
            let going: Option<i64> = on_db!(db, |pool| sqlx::query_scalar("SELECT id FROM prospect_runs WHERE status IN ('queued', 'running') LIMIT 1").fetch_optional(pool).await)?;
            Err(Error::Conflict(format!("Resolver run {} is already going; its progress is on the page.", going.unwrap_or_default())))
        }
        Err(e) => Err(e.into()),
    }
}

/// Removes what failed runs staged (a run that broke, a worker that stopped): of no use to anyone.
async fn drop_failed_staging(db: &Db) -> Result<()> {
    for table in ["prospect_run_masters", "prospect_run_members"] {
        let sql = format!("DELETE FROM {table} WHERE run_id IN (SELECT id FROM prospect_runs WHERE status = 'failed')");
        on_db!(db, |pool| sqlx::query(sqlx::AssertSqlSafe(sql.clone())).execute(pool).await.map(|_| ()))?;
    }
    Ok(())
}

/// Marks a run failed with a reason (a queue push that failed, a run that broke).
pub async fn fail_run(db: &Db, run_id: i64, reason: &str) -> Result<()> {
    on_db!(db, |pool| sqlx::query("UPDATE prospect_runs SET status = $1, error = $2, finished_at = $3, phase = NULL WHERE id = $4 AND status IN ('queued', 'running')")
        .bind(RunStatus::Failed.as_str())
        .bind(reason)
        .bind(Utc::now())
        .bind(run_id)
        .execute(pool)
        .await
        .map(|_| ()))?;
    Ok(())
}

/// The run going, else the newest one.
pub async fn progress(db: &Db) -> Result<Option<RunProgress>> {
    Ok(on_db!(db, |pool| sqlx::query_as::<_, RunProgress>(
        "SELECT id, status, phase, done, total, error FROM prospect_runs ORDER BY (status IN ('queued', 'running')) DESC, id DESC LIMIT 1"
    )
    .fetch_optional(pool)
    .await)?)
}

/// Resolves every person on the database now, in this process (the command line and tests):
/// the same claim and the same work as a queued run.
pub async fn resolve_db(db: &Db) -> Result<RunReport> {
    let run_id = request_run(db, None).await?;
    execute_run(db, run_id).await
}

/// Works a claimed run: takes it from `queued` (compare-and-set, so two workers can't both),
/// resolves every person into masters applying earlier decisions, and logs the run. Re-running on
/// the same data changes nothing; new persons join the existing masters.
pub async fn execute_run(db: &Db, run_id: i64) -> Result<RunReport> {
    let taken = on_db!(db, |pool| sqlx::query("UPDATE prospect_runs SET status = $1, started_at = $2, lease_until = $3, phase = 'reading' WHERE id = $4 AND status = $5")
        .bind(RunStatus::Running.as_str())
        .bind(Utc::now())
        .bind(Utc::now() + chrono::Duration::seconds(LEASE_SECS))
        .bind(run_id)
        .bind(RunStatus::Queued.as_str())
        .execute(pool)
        .await
        .map(|r| r.rows_affected()))?;
    if taken == 0 {
        return Err(Error::Conflict(format!("Resolver run {run_id} is not waiting to start (taken by another worker, or ended).")));
    }
    match resolve_run(db, run_id).await {
        Ok(report) => Ok(report),
        Err(e) => {
            fail_run(db, run_id, &e.to_string()).await?;
            drop_failed_staging(db).await?;
            Err(e)
        }
    }
}

/// Records where a run is and renews its lease.
async fn step(db: &Db, run_id: i64, phase: &str, done: i64, total: i64) -> Result<()> {
    on_db!(db, |pool| sqlx::query("UPDATE prospect_runs SET phase = $1, done = $2, total = $3, lease_until = $4 WHERE id = $5")
        .bind(phase)
        .bind(done)
        .bind(total)
        .bind(Utc::now() + chrono::Duration::seconds(LEASE_SECS))
        .bind(run_id)
        .execute(pool)
        .await
        .map(|_| ()))?;
    Ok(())
}

/// One master as staged by a run.
struct StagedMaster<'a> {
    anchor_person_id: i64,
    full_name: &'a str,
    emails: String,
    phones: String,
    team: Option<&'a str>,
    persons: i64,
    confidence: i64,
    needs_review: bool,
}

async fn resolve_run(db: &Db, run_id: i64) -> Result<RunReport> {
    let t = Instant::now();
    let rows: Vec<PersonRow> = on_db!(db, |pool| sqlx::query_as::<_, PersonRow>(
        "SELECT id, full_name, first_name, last_name, emails, phones, team_id FROM prospect_persons ORDER BY id"
    )
    .fetch_all(pool)
    .await)?;
    let decisions: Vec<(String, i64, i64)> = on_db!(db, |pool| sqlx::query_as(
        "SELECT action, person_a, person_b FROM prospect_decisions WHERE person_a IS NOT NULL AND person_b IS NOT NULL ORDER BY id"
    )
    .fetch_all(pool)
    .await)?;
    let read_ms = t.elapsed().as_millis();
    step(db, run_id, "resolving", 0, rows.len() as i64).await?;

    let t = Instant::now();
    let index: HashMap<i64, u32> = rows.iter().enumerate().map(|(i, r)| (r.id, i as u32)).collect();
    // The latest decision on a pair wins.
    let mut last: HashMap<(u32, u32), bool> = HashMap::new();
    for (action, a, b) in &decisions {
        if let (Some(&x), Some(&y)) = (index.get(a), index.get(b)) {
            last.insert((x.min(y), x.max(y)), action == Decision::Approve.as_str());
        }
    }
    let join: Vec<(u32, u32)> = last.iter().filter(|(_, &approve)| approve).map(|(&k, _)| k).collect();
    let apart: Vec<(u32, u32)> = last.iter().filter(|(_, &approve)| !approve).map(|(&k, _)| k).collect();
    let inputs: Vec<PersonInput> = rows
        .iter()
        .map(|r| PersonInput {
            id: r.id.to_string(),
            first_name: r.first_name.clone(),
            last_name: r.last_name.clone(),
            full_name: r.full_name.clone(),
            emails: serde_json::from_str(&r.emails).unwrap_or_default(),
            phones: serde_json::from_str(&r.phones).unwrap_or_default(),
            team: r.team_id.clone().unwrap_or_default(),
        })
        .collect();
    let mut prepared = resolve::prepare(&inputs, Region::default());
    let res = resolve::resolve_with(&mut prepared, &apart, &join);
    let resolve_ms = t.elapsed().as_millis();

    let t = Instant::now();
    // Masters: one per entity, found again by its first person (the anchor).
    let mut members: HashMap<u32, Vec<u32>> = HashMap::new();
    for (i, &e) in res.entity.iter().enumerate() {
        members.entry(e).or_default().push(i as u32);
    }
    let mut anchors: Vec<u32> = members.keys().copied().collect();
    anchors.sort_unstable();
    let staged: Vec<StagedMaster> = anchors
        .iter()
        .map(|anchor| {
            let m = &members[anchor];
            let mut emails: Vec<&str> = Vec::new();
            let mut phones: Vec<&str> = Vec::new();
            let mut team = None;
            for &i in m {
                let p = &prepared.people[i as usize];
                emails.extend(p.emails.iter().map(|&e| prepared.emails[e as usize].as_str()));
                phones.extend(p.phones.iter().map(|&x| prepared.phones[x as usize].as_str()));
                if team.is_none() && p.team != 0 {
                    team = Some(prepared.teams[(p.team - 1) as usize].as_str());
                }
            }
            dedup_keep_order(&mut emails);
            dedup_keep_order(&mut phones);
            let a = *anchor as usize;
            StagedMaster {
                anchor_person_id: rows[a].id,
                full_name: &rows[a].full_name,
                emails: serde_json::to_string(&emails).unwrap_or_default(),
                phones: serde_json::to_string(&phones).unwrap_or_default(),
                team,
                persons: m.len() as i64,
                confidence: i64::from(res.confidence[a]),
                needs_review: res.needs_review[a],
            }
        })
        .collect();
    let member_rows: Vec<(i64, i64)> = res.entity.iter().enumerate().map(|(i, &e)| (rows[i].id, rows[e as usize].id)).collect();

    // Staged in small transactions, each one a progress step; then swapped in at once.
    let total = (staged.len() + member_rows.len()) as i64;
    let mut done = 0i64;
    step(db, run_id, "writing", done, total).await?;
    for chunk in staged.chunks(STAGE_CHUNK / 2) {
        on_db!(db, |pool| {
            let mut q = sqlx::QueryBuilder::new(
                "INSERT INTO prospect_run_masters (run_id, anchor_person_id, full_name, emails, phones, team_id, persons, confidence, needs_review) ",
            );
            q.push_values(chunk, |mut b, m| {
                b.push_bind(run_id)
                    .push_bind(m.anchor_person_id)
                    .push_bind(m.full_name)
                    .push_bind(&m.emails)
                    .push_bind(&m.phones)
                    .push_bind(m.team)
                    .push_bind(m.persons)
                    .push_bind(m.confidence)
                    .push_bind(m.needs_review);
            });
            q.build().execute(pool).await.map(|_| ())
        })?;
        done += chunk.len() as i64;
        step(db, run_id, "writing", done, total).await?;
    }
    for chunk in member_rows.chunks(STAGE_CHUNK * 2) {
        on_db!(db, |pool| {
            let mut q = sqlx::QueryBuilder::new("INSERT INTO prospect_run_members (run_id, person_id, anchor_person_id) ");
            q.push_values(chunk, |mut b, (person, anchor)| {
                b.push_bind(run_id).push_bind(*person).push_bind(*anchor);
            });
            q.build().execute(pool).await.map(|_| ())
        })?;
        done += chunk.len() as i64;
        step(db, run_id, "writing", done, total).await?;
    }
    step(db, run_id, "saving", done, total).await?;

    let now = Utc::now();
    let flagged = res.review.len() as i64;
    let review: Vec<(i64, i64, &'static str, i64)> = res
        .review
        .iter()
        .map(|r| {
            let (a, b) = (rows[r.a as usize].id, rows[r.b as usize].id);
            (a.min(b), a.max(b), r.rule.as_str(), i64::from(r.rule.confidence()))
        })
        .collect();
    on_db!(db, |pool| async {
        let mut tx = pool.begin().await?;
        // Only masters that changed are written: a re-run on the same data leaves every row as it was.
        sqlx::query(
            "INSERT INTO prospect_masters (anchor_person_id, full_name, emails, phones, team_id, persons, confidence, needs_review, updated_at) \
             SELECT anchor_person_id, full_name, emails, phones, team_id, persons, confidence, needs_review, $2 FROM prospect_run_masters WHERE run_id = $1 \
             ON CONFLICT (anchor_person_id) DO UPDATE SET full_name = excluded.full_name, emails = excluded.emails, phones = excluded.phones, \
             team_id = excluded.team_id, persons = excluded.persons, confidence = excluded.confidence, needs_review = excluded.needs_review, \
             updated_at = excluded.updated_at \
             WHERE prospect_masters.full_name IS DISTINCT FROM excluded.full_name OR prospect_masters.emails IS DISTINCT FROM excluded.emails \
             OR prospect_masters.phones IS DISTINCT FROM excluded.phones OR prospect_masters.team_id IS DISTINCT FROM excluded.team_id \
             OR prospect_masters.persons IS DISTINCT FROM excluded.persons OR prospect_masters.confidence IS DISTINCT FROM excluded.confidence \
             OR prospect_masters.needs_review IS DISTINCT FROM excluded.needs_review",
        )
        .bind(run_id)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        sqlx::query(
            "UPDATE prospect_persons AS p SET master_id = m.id FROM prospect_run_members s JOIN prospect_masters m ON m.anchor_person_id = s.anchor_person_id \
             WHERE s.run_id = $1 AND p.id = s.person_id AND p.master_id IS DISTINCT FROM m.id",
        )
        .bind(run_id)
        .execute(&mut *tx)
        .await?;
        sqlx::query("DELETE FROM prospect_masters WHERE NOT EXISTS (SELECT 1 FROM prospect_persons p WHERE p.master_id = prospect_masters.id)").execute(&mut *tx).await?;
        // The open queue is this run's; decided pairs stay as they were decided.
        sqlx::query("DELETE FROM prospect_review_pairs WHERE status = $1").bind(PairStatus::Open.as_str()).execute(&mut *tx).await?;
        for chunk in review.chunks(STAGE_CHUNK) {
            let mut q = sqlx::QueryBuilder::new("INSERT INTO prospect_review_pairs (person_a, person_b, rule, confidence, status, created_at) ");
            q.push_values(chunk, |mut b, (a, b_, rule, conf)| {
                b.push_bind(*a).push_bind(*b_).push_bind(*rule).push_bind(*conf).push_bind(PairStatus::Open.as_str()).push_bind(now);
            });
            q.push(" ON CONFLICT (person_a, person_b) DO NOTHING");
            q.build().execute(&mut *tx).await?;
        }
        sqlx::query("DELETE FROM prospect_run_masters WHERE run_id = $1").bind(run_id).execute(&mut *tx).await?;
        sqlx::query("DELETE FROM prospect_run_members WHERE run_id = $1").bind(run_id).execute(&mut *tx).await?;
        sqlx::query("UPDATE prospect_runs SET status = $1, finished_at = $2, processed = $3, merged = $4, flagged = $5, phase = NULL, done = total WHERE id = $6")
            .bind(RunStatus::Succeeded.as_str())
            .bind(Utc::now())
            .bind(rows.len() as i64)
            .bind((rows.len() - anchors.len()) as i64)
            .bind(flagged)
            .bind(run_id)
            .execute(&mut *tx)
            .await?;
        tx.commit().await
    }
    .await)?;
    let write_ms = t.elapsed().as_millis();

    let mut report = counts(db).await?;
    report.run_id = run_id;
    report.read_ms = read_ms;
    report.resolve_ms = resolve_ms;
    report.write_ms = write_ms;
    let json = serde_json::to_string(&report).unwrap_or_default();
    on_db!(db, |pool| sqlx::query("UPDATE prospect_runs SET report = $1 WHERE id = $2").bind(&json).bind(run_id).execute(pool).await.map(|_| ()))?;
    Ok(report)
}

fn dedup_keep_order(v: &mut Vec<&str>) {
    let mut seen = std::collections::HashSet::new();
    v.retain(|x| seen.insert(*x));
}

/// Counts per layer, the confidence histogram, review counts, the duplicate rate.
pub async fn counts(db: &Db) -> Result<RunReport> {
    let one = |sql: &'static str| async move { on_db!(db, |pool| sqlx::query_scalar::<_, i64>(sql).fetch_one(pool).await) };
    let hist: Vec<(i64, i64)> = on_db!(db, |pool| sqlx::query_as("SELECT confidence, COUNT(*) FROM prospect_masters GROUP BY confidence ORDER BY confidence DESC")
        .fetch_all(pool)
        .await)?;
    let persons = one("SELECT COUNT(*) FROM prospect_persons").await?;
    let masters = one("SELECT COUNT(*) FROM prospect_masters").await?;
    Ok(RunReport {
        raw_rows: one("SELECT COUNT(*) FROM prospect_raw").await?,
        rejected_rows: one("SELECT COUNT(*) FROM prospect_rejects").await?,
        persons,
        masters,
        confidence_histogram: hist.into_iter().map(|(c, n)| (c.to_string(), n)).collect(),
        masters_needing_review: one("SELECT COUNT(*) FROM prospect_masters WHERE needs_review").await?,
        open_review_pairs: one("SELECT COUNT(*) FROM prospect_review_pairs WHERE status = 'open'").await?,
        duplicate_rate: if persons > 0 { 1.0 - masters as f64 / persons as f64 } else { 0.0 },
        ..Default::default()
    })
}

/// A review pair, best first in the queue.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, sqlx::FromRow)]
pub struct ReviewItem {
    pub id: i64,
    pub person_a: i64,
    pub person_b: i64,
    pub rule: String,
    pub confidence: i64,
    pub status: String,
}

/// Open pairs, best first.
pub async fn review_queue(db: &Db, limit: i64) -> Result<Vec<ReviewItem>> {
    Ok(on_db!(db, |pool| sqlx::query_as::<_, ReviewItem>(
        "SELECT id, person_a, person_b, rule, confidence, status FROM prospect_review_pairs WHERE status = $1 ORDER BY confidence DESC, id LIMIT $2"
    )
    .bind(PairStatus::Open.as_str())
    .bind(limit)
    .fetch_all(pool)
    .await)?)
}

/// Approves (merge now) or rejects (keep apart, for good) a review pair; audited in
/// `prospect_decisions`, which every later run applies. Approving merges the two persons' masters
/// at once: the one with the first anchor keeps its id and takes the other's persons, emails and
/// phones — what the next run would make of them.
pub async fn decide(db: &Db, pair_id: i64, approve: bool, user_id: Option<i64>) -> Result<()> {
    let (status, action) = if approve { (PairStatus::Approved, Decision::Approve) } else { (PairStatus::Rejected, Decision::Reject) };
    let now = Utc::now();
    let decided = on_db!(db, |pool| async {
        let mut tx = pool.begin().await?;
        // The claim: only an open pair is decided, once, however many clicks arrive together.
        let pair: Option<(i64, i64)> = sqlx::query_as(
            "UPDATE prospect_review_pairs SET status = $1, decided_at = $2, decided_by = $3 WHERE id = $4 AND status = $5 RETURNING person_a, person_b",
        )
        .bind(status.as_str())
        .bind(now)
        .bind(user_id)
        .bind(pair_id)
        .bind(PairStatus::Open.as_str())
        .fetch_optional(&mut *tx)
        .await?;
        let Some((a, b)) = pair else {
            let known: Option<i64> = sqlx::query_scalar("SELECT id FROM prospect_review_pairs WHERE id = $1").bind(pair_id).fetch_optional(&mut *tx).await?;
            return Ok(if known.is_some() { Decided::Already } else { Decided::Unknown });
        };
        sqlx::query("INSERT INTO prospect_decisions (action, person_a, person_b, decided_by, decided_at) VALUES ($1, $2, $3, $4, $5)")
            .bind(action.as_str())
            .bind(a)
            .bind(b)
            .bind(user_id)
            .bind(now)
            .execute(&mut *tx)
            .await?;
        type Master = (i64, i64, String, String, Option<String>, i64, i64);
        let master_of = |person: i64| {
            sqlx::query_as::<_, Master>(
                "SELECT m.id, m.anchor_person_id, m.emails, m.phones, m.team_id, m.persons, m.confidence \
                 FROM prospect_masters m JOIN prospect_persons p ON p.master_id = m.id WHERE p.id = $1",
            )
            .bind(person)
        };
        let ma = master_of(a).fetch_optional(&mut *tx).await?;
        let mb = master_of(b).fetch_optional(&mut *tx).await?;
        let mut touched: Vec<i64> = ma.iter().chain(mb.iter()).map(|m| m.0).collect();
        if let (true, Some(x), Some(y)) = (approve, ma, mb) {
            if x.0 != y.0 {
                let (keep, gone) = if x.1 <= y.1 { (x, y) } else { (y, x) };
                let union = |p: &str, q: &str| {
                    let mut all: Vec<String> = serde_json::from_str(p).unwrap_or_default();
                    all.extend(serde_json::from_str::<Vec<String>>(q).unwrap_or_default());
                    let mut seen = std::collections::HashSet::new();
                    all.retain(|v| seen.insert(v.clone()));
                    serde_json::to_string(&all).unwrap_or_default()
                };
                sqlx::query("UPDATE prospect_persons SET master_id = $1 WHERE master_id = $2").bind(keep.0).bind(gone.0).execute(&mut *tx).await?;
                sqlx::query("DELETE FROM prospect_masters WHERE id = $1").bind(gone.0).execute(&mut *tx).await?;
                sqlx::query("UPDATE prospect_masters SET emails = $1, phones = $2, team_id = $3, persons = $4, confidence = $5, updated_at = $6 WHERE id = $7")
                    .bind(union(&keep.2, &gone.2))
                    .bind(union(&keep.3, &gone.3))
                    .bind(keep.4.clone().or(gone.4.clone()))
                    .bind(keep.5 + gone.5)
                    // A person's approval counts 100; the master is as sure as its weakest link.
                    .bind(keep.6.min(gone.6))
                    .bind(now)
                    .bind(keep.0)
                    .execute(&mut *tx)
                    .await?;
                // Other open pairs between the two are moot now.
                sqlx::query(
                    "DELETE FROM prospect_review_pairs WHERE status = $1 AND person_a IN (SELECT id FROM prospect_persons WHERE master_id = $2) \
                     AND person_b IN (SELECT id FROM prospect_persons WHERE master_id = $2)",
                )
                .bind(PairStatus::Open.as_str())
                .bind(keep.0)
                .execute(&mut *tx)
                .await?;
                touched = vec![keep.0];
            }
        }
        // A master needs review while an open pair still touches one of its persons.
        for id in touched {
            sqlx::query(
                "UPDATE prospect_masters SET needs_review = EXISTS (SELECT 1 FROM prospect_review_pairs r JOIN prospect_persons p ON p.id = r.person_a OR p.id = r.person_b \
                 WHERE r.status = $1 AND p.master_id = $2) WHERE id = $2",
            )
            .bind(PairStatus::Open.as_str())
            .bind(id)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok::<_, sqlx::Error>(Decided::Now)
    }
    .await)?;
    match decided {
        Decided::Now => Ok(()),
        Decided::Already => Err(Error::Conflict("This pair was decided already (another click or another admin); reload the queue.".into())),
        Decided::Unknown => Err(Error::NotFound),
    }
}

enum Decided {
    Now,
    Already,
    Unknown,
}

/// Splits a master now: each of its persons becomes a master of its own (the first keeps the
/// master's id), and every two of them are kept apart from now on, so later runs don't join them
/// again. Audited.
pub async fn split(db: &Db, master_id: i64, user_id: Option<i64>) -> Result<usize> {
    let now = Utc::now();
    let n = on_db!(db, |pool| async {
        let mut tx = pool.begin().await?;
        let persons: Vec<(i64, String, String, String, Option<String>)> =
            sqlx::query_as("SELECT id, full_name, emails, phones, team_id FROM prospect_persons WHERE master_id = $1 ORDER BY id").bind(master_id).fetch_all(&mut *tx).await?;
        if persons.is_empty() {
            return Ok(0);
        }
        sqlx::query("INSERT INTO prospect_decisions (action, master_id, decided_by, decided_at) VALUES ($1, $2, $3, $4)")
            .bind(Decision::Split.as_str())
            .bind(master_id)
            .bind(user_id)
            .bind(now)
            .execute(&mut *tx)
            .await?;
        for (i, (a, ..)) in persons.iter().enumerate() {
            for (b, ..) in &persons[i + 1..] {
                sqlx::query("INSERT INTO prospect_decisions (action, person_a, person_b, master_id, decided_by, decided_at) VALUES ($1, $2, $3, $4, $5, $6)")
                    .bind(Decision::Reject.as_str())
                    .bind(a)
                    .bind(b)
                    .bind(master_id)
                    .bind(user_id)
                    .bind(now)
                    .execute(&mut *tx)
                    .await?;
            }
        }
        for (i, (id, full_name, emails, phones, team)) in persons.iter().enumerate() {
            // The first person keeps the master's row; each other gets a new one.
            let sql = if i == 0 {
                "UPDATE prospect_masters SET anchor_person_id = $1, full_name = $2, emails = $3, phones = $4, team_id = $5, persons = 1, confidence = 100, \
                 needs_review = FALSE, updated_at = $6 WHERE id = $7 RETURNING id"
            } else {
                "INSERT INTO prospect_masters (anchor_person_id, full_name, emails, phones, team_id, persons, confidence, needs_review, updated_at) \
                 VALUES ($1, $2, $3, $4, $5, 1, 100, FALSE, $6) RETURNING id"
            };
            let q = sqlx::query_scalar(sql).bind(id).bind(full_name).bind(emails).bind(phones).bind(team).bind(now);
            let target: i64 = if i == 0 { q.bind(master_id) } else { q }.fetch_one(&mut *tx).await?;
            sqlx::query("UPDATE prospect_persons SET master_id = $1 WHERE id = $2").bind(target).bind(id).execute(&mut *tx).await?;
        }
        tx.commit().await?;
        Ok::<_, sqlx::Error>(persons.len())
    }
    .await)?;
    if n == 0 {
        return Err(Error::NotFound);
    }
    Ok(n)
}

/// The merge log, newest first: (id, status, processed, merged, flagged, error).
pub async fn runs(db: &Db, limit: i64) -> Result<Vec<(i64, String, i64, i64, i64, Option<String>)>> {
    Ok(on_db!(db, |pool| sqlx::query_as("SELECT id, status, processed, merged, flagged, error FROM prospect_runs ORDER BY id DESC LIMIT $1")
        .bind(limit)
        .fetch_all(pool)
        .await)?)
}


/// One normalised person, as the review queue shows it side by side.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PersonView {
    pub id: i64,
    pub full_name: String,
    pub emails: Vec<String>,
    pub phones: Vec<String>,
    pub team_id: Option<String>,
}

/// The persons with these ids (any order; unknown ids are left out).
pub async fn persons(db: &Db, ids: &[i64]) -> Result<Vec<PersonView>> {
    let mut out = Vec::with_capacity(ids.len());
    for &id in ids {
        let row: Option<(i64, String, String, String, Option<String>)> =
            on_db!(db, |pool| sqlx::query_as("SELECT id, full_name, emails, phones, team_id FROM prospect_persons WHERE id = $1").bind(id).fetch_optional(pool).await)?;
        if let Some((id, full_name, emails, phones, team_id)) = row {
            out.push(PersonView { id, full_name, emails: serde_json::from_str(&emails).unwrap_or_default(), phones: serde_json::from_str(&phones).unwrap_or_default(), team_id });
        }
    }
    Ok(out)
}

/// A master record with its anchor person's first and last name (what a contact needs).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MasterRow {
    pub id: i64,
    pub full_name: String,
    pub first_name: String,
    pub last_name: String,
    pub emails: Vec<String>,
    pub phones: Vec<String>,
    pub team_id: Option<String>,
    pub persons: i64,
    pub confidence: i64,
    pub needs_review: bool,
}

/// Which masters: these ids, or every master with at least this confidence.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum MasterSelection {
    Ids(Vec<i64>),
    MinConfidence(i64),
}

type MasterSql = (i64, String, String, String, String, String, Option<String>, i64, i64, bool);

fn master_row(r: MasterSql) -> MasterRow {
    let (id, full_name, first_name, last_name, emails, phones, team_id, persons, confidence, needs_review) = r;
    MasterRow {
        id,
        full_name,
        first_name,
        last_name,
        emails: serde_json::from_str(&emails).unwrap_or_default(),
        phones: serde_json::from_str(&phones).unwrap_or_default(),
        team_id,
        persons,
        confidence,
        needs_review,
    }
}

macro_rules! master_select {
    () => {
        "SELECT m.id, m.full_name, COALESCE(p.first_name, ''), COALESCE(p.last_name, ''), m.emails, m.phones, m.team_id, m.persons, m.confidence, m.needs_review \
         FROM prospect_masters m LEFT JOIN prospect_persons p ON p.id = m.anchor_person_id"
    };
}

/// Masters, most persons first then by name (the page's table and its CSV); `limit` caps them.
pub async fn masters(db: &Db, limit: i64) -> Result<Vec<MasterRow>> {
    let rows: Vec<MasterSql> = on_db!(db, |pool| sqlx::query_as(concat!(master_select!(), " ORDER BY m.persons DESC, m.full_name, m.id LIMIT $1")).bind(limit).fetch_all(pool).await)?;
    Ok(rows.into_iter().map(master_row).collect())
}

/// The selected masters, by id.
pub async fn select_masters(db: &Db, selection: &MasterSelection) -> Result<Vec<MasterRow>> {
    let rows: Vec<MasterSql> = match selection {
        MasterSelection::MinConfidence(min) => {
            on_db!(db, |pool| sqlx::query_as(concat!(master_select!(), " WHERE m.confidence >= $1 ORDER BY m.id")).bind(*min).fetch_all(pool).await)?
        }
        MasterSelection::Ids(ids) => {
            let mut out = Vec::new();
            for &id in ids {
                if let Some(r) = on_db!(db, |pool| sqlx::query_as::<_, MasterSql>(concat!(master_select!(), " WHERE m.id = $1")).bind(id).fetch_optional(pool).await)? {
                    out.push(r);
                }
            }
            out
        }
    };
    Ok(rows.into_iter().map(master_row).collect())
}

/// Every rejected row as CSV: kind, file, line, reason, the row as received (JSON).
pub async fn rejects_csv(db: &Db) -> Result<Vec<u8>> {
    let rows: Vec<(String, String, i64, String, String)> =
        on_db!(db, |pool| sqlx::query_as("SELECT kind, source_file, line, reason, data FROM prospect_rejects ORDER BY id").fetch_all(pool).await)?;
    let mut out = csv::Writer::from_writer(Vec::new());
    let err = |e: csv::Error| Error::Internal(format!("writing the rejected rows: {e}"));
    out.write_record(["kind", "file", "line", "reason", "row"]).map_err(err)?;
    for (kind, file, line, reason, data) in rows {
        out.write_record([kind, file, line.to_string(), reason, data]).map_err(err)?;
    }
    out.into_inner().map_err(|e| Error::Internal(format!("writing the rejected rows: {e}")))
}

/// The JSON report of a run (the newest one that has a report when `run_id` is None).
pub async fn run_report(db: &Db, run_id: Option<i64>) -> Result<String> {
    let report: Option<Option<String>> = match run_id {
        Some(id) => on_db!(db, |pool| sqlx::query_scalar("SELECT report FROM prospect_runs WHERE id = $1").bind(id).fetch_optional(pool).await)?,
        None => on_db!(db, |pool| sqlx::query_scalar("SELECT report FROM prospect_runs WHERE report IS NOT NULL ORDER BY id DESC LIMIT 1").fetch_optional(pool).await)?,
    };
    report.flatten().ok_or(Error::NotFound)
}
