//! Sign-ins for the outside sites the automations drive: one per site and region (Cole X Dates
//! sells data per state). Passwords are sealed with the secret key at rest, opened only in the
//! worker that types them into the browser, and never listed, logged or put in error text.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::{
    connectors::sites::SiteLogin,
    identity::{audit, sessions::SessionUser},
    on_db,
    platform::{crypto::SecretBox, db::Db, error::Result},
    tenancy::access,
    Error,
};

crate::sql_text_enum!(
    pub enum Site ("site") { Cole = "cole", Clay = "clay" }
);

impl Site {
    pub fn label(self) -> &'static str {
        match self {
            Site::Cole => "Cole X Dates",
            Site::Clay => "Clay",
        }
    }
}

/// A stored sign-in as the page lists it: no password.
#[derive(Clone, Debug, Serialize, Deserialize, sqlx::FromRow)]
pub struct Credential {
    pub id: i64,
    #[sqlx(try_from = "String")]
    pub site: Site,
    pub region: String,
    pub username: String,
    pub updated_at: DateTime<Utc>,
}

/// The region a site's sign-in is stored under: a state code for Cole, nothing for Clay.
fn region_for(site: Site, region: &str) -> Result<String> {
    let r = region.trim().to_ascii_uppercase();
    match site {
        Site::Cole if r.len() == 2 && r.chars().all(|c| c.is_ascii_uppercase()) => Ok(r),
        Site::Cole => Err(Error::invalid("Cole X Dates sign-ins are per state: give its two-letter code (NJ, TX, FL, CA…).")),
        Site::Clay => Ok(String::new()),
    }
}

/// Saves (or replaces) a sign-in. An empty password keeps the stored one (the page never shows it).
pub async fn save(db: &Db, secrets: &SecretBox, caller: &SessionUser, site: Site, region: &str, username: &str, password: &str) -> Result<()> {
    access::require_admin(caller)?;
    let region = region_for(site, region)?;
    let username = username.trim();
    if username.is_empty() || username.chars().count() > 200 {
        return Err(Error::invalid("Give the user name the site signs in with (at most 200 characters)."));
    }
    let now = Utc::now();
    if password.is_empty() {
        let n = on_db!(db, |pool| sqlx::query("UPDATE site_credentials SET username = $1, updated_by = $2, updated_at = $3 WHERE site = $4 AND region = $5")
            .bind(username)
            .bind(caller.user_id)
            .bind(now)
            .bind(site.as_str())
            .bind(&region)
            .execute(pool)
            .await
            .map(|r| r.rows_affected()))?;
        if n == 0 {
            return Err(Error::invalid(format!("Give the password for the new {} sign-in.", site.label())));
        }
    } else {
        let sealed = base64::Engine::encode(&base64::engine::general_purpose::STANDARD, secrets.seal(password.as_bytes()));
        on_db!(db, |pool| sqlx::query(
            "INSERT INTO site_credentials (site, region, username, sealed_password, updated_by, updated_at) VALUES ($1, $2, $3, $4, $5, $6) \
             ON CONFLICT (site, region) DO UPDATE SET username = excluded.username, sealed_password = excluded.sealed_password, \
             updated_by = excluded.updated_by, updated_at = excluded.updated_at"
        )
        .bind(site.as_str())
        .bind(&region)
        .bind(username)
        .bind(&sealed)
        .bind(caller.user_id)
        .bind(now)
        .execute(pool)
        .await
        .map(|r| r.rows_affected()))?;
    }
    let what = format!("site:{}{}", site.as_str(), if region.is_empty() { String::new() } else { format!(":{region}") });
    audit::record(db, Some(caller), None, "automation.credentials_saved", Some(&what), None).await?;
    Ok(())
}

pub async fn delete(db: &Db, caller: &SessionUser, id: i64) -> Result<()> {
    access::require_admin(caller)?;
    let n = on_db!(db, |pool| sqlx::query("DELETE FROM site_credentials WHERE id = $1").bind(id).execute(pool).await.map(|r| r.rows_affected()))?;
    if n == 0 {
        return Err(Error::NotFound);
    }
    audit::record(db, Some(caller), None, "automation.credentials_deleted", Some(&format!("site_credentials:{id}")), None).await?;
    Ok(())
}

pub async fn list(db: &Db, caller: &SessionUser) -> Result<Vec<Credential>> {
    access::require_admin(caller)?;
    Ok(on_db!(db, |pool| sqlx::query_as::<_, Credential>("SELECT id, site, region, username, updated_at FROM site_credentials ORDER BY site, region")
        .fetch_all(pool)
        .await)?)
}

/// The sign-in the worker types into the site, or a message that says what to add.
pub async fn login_for(db: &Db, secrets: &SecretBox, site: Site, region: &str) -> Result<SiteLogin> {
    let region = region_for(site, region)?;
    let row: Option<(String, String)> = on_db!(db, |pool| sqlx::query_as("SELECT username, sealed_password FROM site_credentials WHERE site = $1 AND region = $2")
        .bind(site.as_str())
        .bind(&region)
        .fetch_optional(pool)
        .await)?;
    let Some((username, sealed)) = row else {
        let which = if region.is_empty() { String::new() } else { format!(" for {region}") };
        return Err(Error::invalid(format!("No {} sign-in{which}: add it under Automations → Sign-ins.", site.label())));
    };
    let bytes = base64::Engine::decode(&base64::engine::general_purpose::STANDARD, sealed.as_bytes())
        .map_err(|_| Error::Internal("a stored site password is not base64".into()))?;
    let password = String::from_utf8(secrets.open(&bytes)?).map_err(|_| Error::Internal("a stored site password is not text".into()))?;
    Ok(SiteLogin { username, password })
}
