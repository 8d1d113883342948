//! Agency-wide settings (key/value), e.g. the agency time zone that days and months are counted in.

use chrono_tz::Tz;

use crate::{
    identity::{audit, auth::ClientInfo, sessions::{require_admin, SessionUser}},
    platform::db::Db,
    platform::error::{Error, Result},
    on_db,
};

pub const AGENCY_TIME_ZONE: &str = "agency_time_zone";
pub const AGENCY_NAME: &str = "agency_name";
pub const PUBLIC_HOME_TEXT: &str = "public_home_text";

/// What a signed-out visitor of `/` sees: the agency's name and one line about it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PublicHome {
    pub agency_name: String,
    pub text: String,
}

/// The public home, with defaults until an admin sets it.
pub async fn public_home(db: &Db) -> Result<PublicHome> {
    Ok(PublicHome {
        agency_name: get(db, AGENCY_NAME).await?.unwrap_or_else(|| "Maverick".into()),
        text: get(db, PUBLIC_HOME_TEXT).await?.unwrap_or_else(|| "Client portal of our lead-generation agency.".into()),
    })
}

/// An admin sets the public home's name and line (both shown to anyone, so plain text, short).
pub async fn set_public_home(db: &Db, caller: &SessionUser, agency_name: &str, text: &str, client: &ClientInfo) -> Result<PublicHome> {
    require_admin(caller)?;
    let (agency_name, text) = (agency_name.trim(), text.trim());
    if agency_name.is_empty() || agency_name.chars().count() > 80 {
        return Err(Error::invalid("The agency name must be 1 to 80 characters."));
    }
    if text.chars().count() > 200 || text.contains(['\n', '\r']) {
        return Err(Error::invalid("The line of text must be one line of at most 200 characters."));
    }
    set(db, AGENCY_NAME, agency_name).await?;
    set(db, PUBLIC_HOME_TEXT, text).await?;
    audit::record(db, Some(caller), None, "settings.public_home", None, client.ip.as_deref()).await?;
    Ok(PublicHome { agency_name: agency_name.into(), text: text.into() })
}
pub const DEFAULT_TIME_ZONE: Tz = chrono_tz::America::New_York;

/// The agency's calendar day at `now`.
pub fn agency_today(now: chrono::DateTime<chrono::Utc>, tz: Tz) -> chrono::NaiveDate {
    now.with_timezone(&tz).date_naive()
}

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

#[cfg(test)]
mod tests {
    use super::*;

    fn day(y: i32, m: u32, d: u32) -> chrono::NaiveDate {
        chrono::NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    #[test]
    fn the_agency_day_turns_at_local_midnight() {
        let ny = chrono_tz::America::New_York;
        // 1 Nov 2026 is the end of daylight saving in New York (UTC−4 until 06:00 UTC).
        let before = "2026-11-01T03:59:59Z".parse::<chrono::DateTime<chrono::Utc>>().unwrap();
        let after = "2026-11-01T04:00:00Z".parse::<chrono::DateTime<chrono::Utc>>().unwrap();
        assert_eq!(agency_today(before, ny), day(2026, 10, 31));
        assert_eq!(agency_today(after, ny), day(2026, 11, 1));
        // In winter New York is UTC−5: 04:59 UTC on 1 Dec is still 30 Nov.
        assert_eq!(agency_today("2026-12-01T04:59:00Z".parse().unwrap(), ny), day(2026, 11, 30));
        assert_eq!(agency_today("2026-12-01T05:00:00Z".parse().unwrap(), ny), day(2026, 12, 1));
    }
}
