//! Person records from a CSV file and clusters back to one: the standalone resolver (no
//! database), as `server prospects resolve --input people.csv --out clusters.csv` runs it.

use std::{io::Write, path::Path, time::Instant};

use serde::Serialize;

use super::{
    normalize::{split_values, Region},
    resolve::{self, PersonInput, Resolution},
};
use crate::platform::{
    csv_input::{self, header_key},
    error::{Error, Result},
};

/// Which columns hold what, from the header (`header_key` form). Every column whose name
/// mentions an email or a phone is read: lists often have `email`, `email_2`, `work_phone`, `mobile`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Columns {
    pub id: Option<usize>,
    pub full_name: Option<usize>,
    pub first_name: Option<usize>,
    pub last_name: Option<usize>,
    pub emails: Vec<usize>,
    pub phones: Vec<usize>,
    pub team: Option<usize>,
}

pub fn map_columns(headers: &[String]) -> Result<Columns> {
    let find = |names: &[&str]| csv_input::find_column(headers, names);
    let keys: Vec<String> = headers.iter().map(|h| header_key(h)).collect();
    let cols = Columns {
        id: find(&["id", "recordid", "uuid", "supabaseuuid", "agentid", "personid", "memberid", "uniqueid"]),
        full_name: find(&["fullname", "name", "membername", "agentname", "contactname", "personname"]),
        first_name: find(&["firstname", "first", "givenname", "fname"]),
        last_name: find(&["lastname", "last", "surname", "familyname", "lname"]),
        emails: keys.iter().enumerate().filter(|(_, k)| k.contains("email") || k.as_str() == "mail").map(|(i, _)| i).collect(),
        phones: keys
            .iter()
            .enumerate()
            .filter(|(_, k)| ["phone", "mobile", "cell", "telephone"].iter().any(|w| k.contains(w)) || k.as_str() == "tel")
            .map(|(i, _)| i)
            .collect(),
        team: find(&["teamid", "team", "companyid", "brokerageid", "officeid", "office", "teamuuid"]),
    };
    if cols.full_name.is_none() && cols.first_name.is_none() && cols.last_name.is_none() && cols.emails.is_empty() && cols.phones.is_empty() {
        return Err(Error::invalid(format!(
            "No name, email or phone column in the header ({}). Name them e.g. full_name (or first_name and last_name), email, phone, team_id.",
            headers.join(", ")
        )));
    }
    Ok(cols)
}

/// Every person record of the file (ids default to the row number).
pub fn read_people(path: &Path) -> Result<Vec<PersonInput>> {
    let (delimiter, bom) = csv_input::sniff_file(path)?;
    let mut rdr = csv_input::file_reader(path, delimiter)?;
    let mut record = csv::ByteRecord::new();
    let read_err = |e: csv::Error| Error::invalid(format!("{}: {e}", path.display()));
    if !rdr.read_byte_record(&mut record).map_err(read_err)? {
        return Err(Error::invalid(format!("{} is empty: its first line must name the columns.", path.display())));
    }
    let mut headers: Vec<String> = record.iter().map(csv_input::field_text).collect();
    if bom {
        if let Some(h) = headers.first_mut() {
            *h = h.trim_start_matches('\u{feff}').to_owned();
        }
    }
    let cols = map_columns(&headers)?;
    let mut people = Vec::new();
    let cell = |r: &csv::ByteRecord, i: Option<usize>| i.and_then(|i| r.get(i)).map(csv_input::field_text).unwrap_or_default();
    let mut row = 0u64;
    while rdr.read_byte_record(&mut record).map_err(read_err)? {
        row += 1;
        let id = cell(&record, cols.id);
        let multi = |cols: &[usize]| cols.iter().flat_map(|&i| record.get(i).map(|b| split_values(&csv_input::field_text(b))).unwrap_or_default()).collect();
        people.push(PersonInput {
            id: if id.is_empty() { row.to_string() } else { id },
            full_name: cell(&record, cols.full_name),
            first_name: cell(&record, cols.first_name),
            last_name: cell(&record, cols.last_name),
            emails: multi(&cols.emails),
            phones: multi(&cols.phones),
            team: cell(&record, cols.team),
        });
    }
    Ok(people)
}

/// What a standalone run did, printed as JSON.
#[derive(Clone, Debug, Serialize)]
pub struct Summary {
    pub records: usize,
    pub entities: usize,
    pub merges: usize,
    pub review_pairs: usize,
    pub records_needing_review: usize,
    pub invalid_emails: usize,
    pub invalid_phones: usize,
    pub blocks: usize,
    pub skipped_blocks: usize,
    pub compared_pairs: u64,
    pub read_ms: u128,
    pub normalize_ms: u128,
    pub resolve_ms: u128,
    pub write_ms: u128,
}

/// Reads `input`, resolves it in memory and writes `record_id,entity_id,confidence,needs_review`.
pub fn resolve_file(input: &Path, out: &Path, region: Region) -> Result<Summary> {
    let t = Instant::now();
    let mut people = read_people(input)?;
    let read_ms = t.elapsed().as_millis();
    let ids: Vec<String> = people.iter_mut().map(|p| std::mem::take(&mut p.id)).collect();
    let t = Instant::now();
    let mut prepared = resolve::prepare(&people, region);
    drop(people);
    let normalize_ms = t.elapsed().as_millis();
    let t = Instant::now();
    let res = resolve::resolve(&mut prepared, &[]);
    let resolve_ms = t.elapsed().as_millis();
    let t = Instant::now();
    write_clusters(out, &ids, &res)?;
    let write_ms = t.elapsed().as_millis();
    Ok(Summary {
        records: ids.len(),
        entities: res.entities(),
        merges: res.merges,
        review_pairs: res.review.len(),
        records_needing_review: res.needs_review.iter().filter(|&&f| f).count(),
        invalid_emails: prepared.invalid_emails,
        invalid_phones: prepared.invalid_phones,
        blocks: res.blocking.blocks,
        skipped_blocks: res.blocking.skipped_blocks,
        compared_pairs: res.blocking.compared_pairs,
        read_ms,
        normalize_ms,
        resolve_ms,
        write_ms,
    })
}

pub fn write_clusters(out: &Path, ids: &[String], res: &Resolution) -> Result<()> {
    let io = |e: std::io::Error| Error::invalid(format!("Cannot write {}: {e}", out.display()));
    let file = std::fs::File::create(out).map_err(io)?;
    let mut w = csv::Writer::from_writer(std::io::BufWriter::with_capacity(1 << 20, file));
    let csv_err = |e: csv::Error| Error::invalid(format!("Cannot write {}: {e}", out.display()));
    w.write_record(["record_id", "entity_id", "confidence", "needs_review"]).map_err(csv_err)?;
    for (i, id) in ids.iter().enumerate() {
        let conf = res.confidence[i].to_string();
        w.write_record([id.as_str(), ids[res.entity[i] as usize].as_str(), conf.as_str(), if res.needs_review[i] { "true" } else { "false" }]).map_err(csv_err)?;
    }
    w.into_inner().map_err(|e| Error::invalid(format!("Cannot write {}: {e}", out.display())))?.flush().map_err(io)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_is_auto_mapped() {
        let h: Vec<String> = ["Supabase UUID", "Full Name", "Email", "email_2", "Mobile Phone", "Office Phone", "Team ID", "Instagram"].map(String::from).into();
        let c = map_columns(&h).unwrap();
        assert_eq!(c, Columns { id: Some(0), full_name: Some(1), first_name: None, last_name: None, emails: vec![2, 3], phones: vec![4, 5], team: Some(6) });
        assert!(map_columns(&["website".to_string()]).unwrap_err().to_string().contains("No name, email or phone column"));
    }

    #[test]
    fn a_file_round_trips_to_clusters() {
        let dir = std::env::temp_dir().join(format!("prospects-file-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let input = dir.join("in.csv");
        std::fs::write(
            &input,
            "id,first_name,last_name,email,phone,team_id\n\
             r1,John,Smith,JOHN@acme.com,,t1\n\
             r2,Johnny,Smith,,\"(512) 326-0123\",t1\n\
             r3,John,Smith,john@acme.com;js@x.io,512.326.0123,\n\
             r4,Mary,Jones,,,t1\n",
        )
        .unwrap();
        let out = dir.join("out.csv");
        let s = resolve_file(&input, &out, Region::default()).unwrap();
        assert_eq!((s.records, s.entities, s.review_pairs), (4, 2, 0));
        let text = std::fs::read_to_string(&out).unwrap();
        assert_eq!(text, "record_id,entity_id,confidence,needs_review\nr1,r1,90,false\nr2,r1,90,false\nr3,r1,90,false\nr4,r4,100,false\n");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
