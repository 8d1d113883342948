//! Agency-wide settings (key/value), e.g. the agency time zone that days and months are counted in.

use chrono_tz::Tz;

use crate::{
    db::Db,
    error::{Error, Result},
    on_db,
};

pub const AGENCY_TIME_ZONE: &str = "agency_time_zone";
pub const DEFAULT_TIME_ZONE: Tz = chrono_tz::America::New_York;

pub async fn get(db: &Db, key: &str) -> Result<Option<String>> {
    Ok(on_db!(db, |pool| sqlx::query_scalar::<_, String>("SELECT value FROM settings WHERE key = $1")
        .bind(key)
        .fetch_optional(pool)
        .await)?)
}

pub async fn set(db: &Db, key: &str, value: &str) -> Result<()> {
    on_db!(db, |pool| sqlx::query(
        "INSERT INTO settings (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = excluded.value"
    )
    .bind(key)
    .bind(value)
    .execute(pool)
    .await.map(|r| r.rows_affected()))?;
    Ok(())
}

pub async fn agency_time_zone(db: &Db) -> Result<Tz> {
    match get(db, AGENCY_TIME_ZONE).await? {
        Some(name) => name.parse().map_err(|_| Error::Internal(format!("stored agency time zone {name:?} is unknown"))),
        None => Ok(DEFAULT_TIME_ZONE),
    }
}

pub async fn set_agency_time_zone(db: &Db, name: &str) -> Result<Tz> {
    let tz: Tz = name
        .trim()
        .parse()
        .map_err(|_| Error::invalid(format!("{name:?} is not an IANA time zone (e.g. America/New_York).")))?;
    set(db, AGENCY_TIME_ZONE, tz.name()).await?;
    Ok(tz)
}
