//! ZIP territories of each workspace. A ZIP assigned to two workspaces is a conflict the admin
//! home and the ZIP page point out.

use chrono::Utc;
use serde::{Deserialize, Serialize};

use crate::{
    db::Db,
    error::{Error, Result},
    on_db,
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
