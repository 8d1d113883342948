//! Workspaces: one client business each (the seeds' client_registry), with its targets, pricing
//! and Email Bison credentials. The Bison API key is sealed at rest and never leaves the server;
//! only a hint (its last four characters) is ever shown.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::{
    tenancy::access::{self, AccessLevel},
    platform::crypto::SecretBox,
    platform::db::Db,
    platform::error::{on_unique, Error, Result},
    on_db,
    identity::sessions::SessionUser,
};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PricingModel {
    PerLead,
    Retainer,
}

impl PricingModel {
    pub fn as_str(self) -> &'static str {
        match self {
            PricingModel::PerLead => "per_lead",
            PricingModel::Retainer => "retainer",
        }
    }
}

impl std::str::FromStr for PricingModel {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        match s.trim() {
            "per_lead" => Ok(PricingModel::PerLead),
            "retainer" => Ok(PricingModel::Retainer),
            other => Err(Error::invalid(format!("Unknown pricing model {other:?}: use per_lead or retainer."))),
        }
    }
}

impl TryFrom<String> for PricingModel {
    type Error = Error;
    fn try_from(s: String) -> Result<Self> {
        s.parse()
    }
}

/// Stages a lead can be billed at: `interested` (every interested lead) or a pipeline stage.
pub const BILLABLE_STAGES: &[&str] = &["interested", "contacted", "follow_up", "meeting_booked", "quote_sent", "won"];

#[derive(Clone, Debug, sqlx::FromRow)]
pub struct Workspace {
    pub id: i64,
    pub name: String,
    pub slug: String,
    pub active: bool,
    pub monthly_lead_target: i64,
    pub daily_send_target: i64,
    pub weekly_contact_target: i64,
    #[sqlx(try_from = "String")]
    pub pricing_model: PricingModel,
    pub price_per_lead_cents: i64,
    pub retainer_fee_cents: i64,
    pub billable_stage: String,
    pub bison_workspace_id: Option<String>,
    pub bison_api_key_hint: Option<String>,
    /// Last characters of the webhook token (the token itself is only hashed).
    pub bison_webhook_hint: Option<String>,
    pub slack_webhook_hint: Option<String>,
    /// The Email Bison workspace name and user the saved key was verified to read, and when.
    pub bison_key_workspace_name: Option<String>,
    pub bison_key_user: Option<String>,
    pub bison_verified_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// The columns of [`Workspace`] (never the sealed key), as a literal so queries stay `&'static str`.
macro_rules! ws_columns {
    () => {
        "w.id, w.name, w.slug, w.active, w.monthly_lead_target, w.daily_send_target, \
    w.weekly_contact_target, w.pricing_model, w.price_per_lead_cents, w.retainer_fee_cents, w.billable_stage, \
    w.bison_workspace_id, w.bison_api_key_hint, w.bison_webhook_hint, w.slack_webhook_hint, \
    w.bison_key_workspace_name, w.bison_key_user, w.bison_verified_at, w.created_at, w.updated_at"
    };
}

/// The editable fields of a workspace, as submitted by an admin.
#[derive(Clone, Debug)]
pub struct WorkspaceInput {
    pub name: String,
    /// Empty: derived from the name.
    pub slug: String,
    pub monthly_lead_target: i64,
    pub daily_send_target: i64,
    pub weekly_contact_target: i64,
    pub pricing_model: PricingModel,
    pub price_per_lead_cents: i64,
    pub retainer_fee_cents: i64,
    pub billable_stage: String,
}

impl WorkspaceInput {
    pub fn named(name: &str) -> Self {
        WorkspaceInput {
            name: name.into(),
            slug: String::new(),
            monthly_lead_target: 0,
            daily_send_target: 0,
            weekly_contact_target: 0,
            pricing_model: PricingModel::PerLead,
            price_per_lead_cents: 0,
            retainer_fee_cents: 0,
            billable_stage: "interested".into(),
        }
    }

    fn validated(mut self) -> Result<Self> {
        self.name = self.name.trim().to_owned();
        if self.name.is_empty() || self.name.chars().count() > 120 {
            return Err(Error::invalid("The workspace name must be 1 to 120 characters."));
        }
        self.slug = if self.slug.trim().is_empty() { slugify(&self.name) } else { self.slug.trim().to_owned() };
        validate_slug(&self.slug)?;
        for (label, v) in [
            ("monthly lead target", self.monthly_lead_target),
            ("daily send target", self.daily_send_target),
            ("weekly contact target", self.weekly_contact_target),
            ("price per lead", self.price_per_lead_cents),
            ("retainer fee", self.retainer_fee_cents),
        ] {
            if !(0..=1_000_000_000_000).contains(&v) {
                return Err(Error::invalid(format!("The {label} must be a number of at least 0.")));
            }
        }
        if !BILLABLE_STAGES.contains(&self.billable_stage.as_str()) {
            return Err(Error::invalid(format!(
                "Unknown billable stage {:?}: use one of {}.",
                self.billable_stage,
                BILLABLE_STAGES.join(", ")
            )));
        }
        Ok(self)
    }
}

/// `Acme Roofing & Co.` → `acme-roofing-co`.
pub fn slugify(name: &str) -> String {
    let mut slug = String::new();
    for c in name.chars().flat_map(char::to_lowercase) {
        if c.is_ascii_alphanumeric() {
            slug.push(c);
        } else if !slug.ends_with('-') && !slug.is_empty() {
            slug.push('-');
        }
    }
    slug.trim_end_matches('-').chars().take(60).collect::<String>().trim_end_matches('-').to_owned()
}

pub fn validate_slug(slug: &str) -> Result<()> {
    let ok = (2..=60).contains(&slug.len())
        && slug.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        && !slug.starts_with('-')
        && !slug.ends_with('-');
    if ok {
        Ok(())
    } else {
        Err(Error::invalid(format!(
            "{slug:?} is not a valid URL name: use 2 to 60 lower-case letters, digits and dashes."
        )))
    }
}

fn slug_conflict(slug: &str) -> impl FnOnce(sqlx::Error) -> Error + '_ {
    on_unique(move || Error::Conflict(format!("The URL name {slug:?} is already used by another workspace.")))
}

pub async fn create(db: &Db, input: WorkspaceInput) -> Result<Workspace> {
    let w = input.validated()?;
    let now = Utc::now();
    let id = on_db!(db, |pool| sqlx::query_scalar::<_, i64>(
        "INSERT INTO workspaces (name, slug, active, monthly_lead_target, daily_send_target, weekly_contact_target, \
         pricing_model, price_per_lead_cents, retainer_fee_cents, billable_stage, created_at, updated_at) \
         VALUES ($1, $2, TRUE, $3, $4, $5, $6, $7, $8, $9, $10, $10) RETURNING id"
    )
    .bind(&w.name)
    .bind(&w.slug)
    .bind(w.monthly_lead_target)
    .bind(w.daily_send_target)
    .bind(w.weekly_contact_target)
    .bind(w.pricing_model.as_str())
    .bind(w.price_per_lead_cents)
    .bind(w.retainer_fee_cents)
    .bind(&w.billable_stage)
    .bind(now)
    .fetch_one(pool)
    .await)
    .map_err(slug_conflict(&w.slug))?;
    get(db, id).await
}

pub async fn update(db: &Db, id: i64, input: WorkspaceInput) -> Result<Workspace> {
    let w = input.validated()?;
    let done = on_db!(db, |pool| sqlx::query(
        "UPDATE workspaces SET name = $1, slug = $2, monthly_lead_target = $3, daily_send_target = $4, \
         weekly_contact_target = $5, pricing_model = $6, price_per_lead_cents = $7, retainer_fee_cents = $8, \
         billable_stage = $9, updated_at = $10 WHERE id = $11"
    )
    .bind(&w.name)
    .bind(&w.slug)
    .bind(w.monthly_lead_target)
    .bind(w.daily_send_target)
    .bind(w.weekly_contact_target)
    .bind(w.pricing_model.as_str())
    .bind(w.price_per_lead_cents)
    .bind(w.retainer_fee_cents)
    .bind(&w.billable_stage)
    .bind(Utc::now())
    .bind(id)
    .execute(pool)
    .await.map(|r| r.rows_affected()))
    .map_err(slug_conflict(&w.slug))?;
    if done == 0 {
        return Err(Error::NotFound);
    }
    get(db, id).await
}

pub async fn set_active(db: &Db, id: i64, active: bool) -> Result<()> {
    let done = on_db!(db, |pool| sqlx::query("UPDATE workspaces SET active = $1, updated_at = $2 WHERE id = $3")
        .bind(active)
        .bind(Utc::now())
        .bind(id)
        .execute(pool)
        .await.map(|r| r.rows_affected()))?;
    if done == 0 {
        return Err(Error::NotFound);
    }
    Ok(())
}

/// Unscoped read by id: for admin flows and jobs only. Callers acting for a user use [`visible`].
pub async fn get(db: &Db, id: i64) -> Result<Workspace> {
    let sql = concat!("SELECT ", ws_columns!(), " FROM workspaces w WHERE w.id = $1");
    on_db!(db, |pool| sqlx::query_as::<_, Workspace>(sql).bind(id).fetch_optional(pool).await)?.ok_or(Error::NotFound)
}

/// Every workspace the caller may see (admins: all), active first, by name.
pub async fn list_visible(db: &Db, caller: &SessionUser) -> Result<Vec<(Workspace, AccessLevel)>> {
    #[derive(sqlx::FromRow)]
    struct Row {
        #[sqlx(flatten)]
        ws: Workspace,
        level: Option<String>,
    }
    let rows = if caller.is_admin() {
        let sql = concat!("SELECT ", ws_columns!(), ", CAST(NULL AS TEXT) AS level FROM workspaces w ORDER BY w.active DESC, lower(w.name)");
        on_db!(db, |pool| sqlx::query_as::<_, Row>(sql).fetch_all(pool).await)?
    } else {
        let sql = concat!(
            "SELECT ",
            ws_columns!(),
            ", a.level FROM workspaces w JOIN user_workspace_access a ON a.workspace_id = w.id \
             WHERE a.user_id = $1 ORDER BY w.active DESC, lower(w.name)"
        );
        on_db!(db, |pool| sqlx::query_as::<_, Row>(sql).bind(caller.user_id).fetch_all(pool).await)?
    };
    rows.into_iter()
        .map(|r| {
            let level = match r.level {
                None => AccessLevel::Admin,
                Some(l) => access::effective_level(caller.role, l.try_into()?),
            };
            Ok((r.ws, level))
        })
        .collect()
}

/// One workspace by slug, if the caller may see it; `NotFound` otherwise.
pub async fn visible_by_slug(db: &Db, caller: &SessionUser, slug: &str) -> Result<(Workspace, AccessLevel)> {
    let sql = concat!("SELECT ", ws_columns!(), " FROM workspaces w WHERE w.slug = $1");
    let ws = on_db!(db, |pool| sqlx::query_as::<_, Workspace>(sql).bind(slug).fetch_optional(pool).await)?
        .ok_or(Error::NotFound)?;
    let level = access::level_in(db, caller, ws.id).await?;
    Ok((ws, level))
}

pub async fn count(db: &Db) -> Result<(i64, i64)> {
    #[derive(sqlx::FromRow)]
    struct Row {
        total: i64,
        active: Option<i64>,
    }
    let row = on_db!(db, |pool| sqlx::query_as::<_, Row>(
        "SELECT COUNT(*) AS total, SUM(CASE WHEN active THEN 1 ELSE 0 END) AS active FROM workspaces"
    )
    .fetch_one(pool)
    .await)?;
    Ok((row.total, row.active.unwrap_or(0)))
}

/// Stores (or with `None`, removes) the workspace's Email Bison credentials; the key is sealed.
/// What the key was verified to read is cleared: `record_bison_verification` sets it again.
pub async fn set_bison_credentials(
    db: &Db,
    secrets: &SecretBox,
    id: i64,
    bison_workspace_id: Option<&str>,
    api_key: Option<&str>,
) -> Result<()> {
    let api_key = api_key.map(str::trim).filter(|k| !k.is_empty());
    if let Some(key) = api_key {
        if key.len() < 8 || key.chars().any(char::is_whitespace) {
            return Err(Error::invalid("The Email Bison API key looks wrong: paste the whole token, without spaces."));
        }
    }
    let sealed = api_key.map(|k| secrets.seal(k.as_bytes()));
    let hint = api_key.map(|k| k.chars().rev().take(4).collect::<Vec<_>>().into_iter().rev().collect::<String>());
    let done = on_db!(db, |pool| sqlx::query(
        "UPDATE workspaces SET bison_workspace_id = $1, bison_api_key_enc = $2, bison_api_key_hint = $3, updated_at = $4, \
         bison_key_workspace_name = NULL, bison_key_user = NULL, bison_verified_at = NULL WHERE id = $5"
    )
    .bind(bison_workspace_id.map(str::trim).filter(|s| !s.is_empty()))
    .bind(sealed)
    .bind(hint)
    .bind(Utc::now())
    .bind(id)
    .execute(pool)
    .await.map(|r| r.rows_affected()))?;
    if done == 0 {
        return Err(Error::NotFound);
    }
    Ok(())
}

/// Records what the saved key was just verified to read (its workspace's name and its user).
pub async fn record_bison_verification(db: &Db, id: i64, workspace_name: Option<&str>, user: Option<&str>) -> Result<()> {
    on_db!(db, |pool| sqlx::query("UPDATE workspaces SET bison_key_workspace_name = $1, bison_key_user = $2, bison_verified_at = $3 WHERE id = $4")
        .bind(workspace_name)
        .bind(user)
        .bind(Utc::now())
        .bind(id)
        .execute(pool)
        .await
        .map(|r| r.rows_affected()))?;
    Ok(())
}

/// The clear key and the Email Bison workspace saved with it: what every call to Email Bison for
/// this client starts from (the key must be checked to read that workspace before use).
pub async fn bison_credentials(db: &Db, secrets: &SecretBox, id: i64) -> Result<Option<(String, Option<String>)>> {
    let Some(key) = bison_api_key(db, secrets, id).await? else { return Ok(None) };
    let saved: Option<String> =
        on_db!(db, |pool| sqlx::query_scalar("SELECT bison_workspace_id FROM workspaces WHERE id = $1").bind(id).fetch_one(pool).await)?;
    Ok(Some((key, saved)))
}

/// The clear Bison API key, for server-side connectors only. Never send it to a browser.
pub async fn bison_api_key(db: &Db, secrets: &SecretBox, id: i64) -> Result<Option<String>> {
    let sealed = on_db!(db, |pool| sqlx::query_scalar::<_, Option<Vec<u8>>>(
        "SELECT bison_api_key_enc FROM workspaces WHERE id = $1"
    )
    .bind(id)
    .fetch_optional(pool)
    .await)?
    .ok_or(Error::NotFound)?;
    sealed
        .map(|s| secrets.open(&s).and_then(|b| String::from_utf8(b).map_err(|_| Error::Internal("stored key is not UTF-8".into()))))
        .transpose()
}

/// `••••abcd` for a stored key, for display.
pub fn masked_key(hint: Option<&str>) -> Option<String> {
    hint.map(|h| format!("••••{h}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs_are_derived_and_checked() {
        assert_eq!(slugify("Acme Roofing & Co."), "acme-roofing-co");
        assert_eq!(slugify("  Ünïcode Spa "), "n-code-spa");
        assert!(validate_slug("ok-slug-2").is_ok());
        for bad in ["a", "-lead", "trail-", "UPPER", "sp ace", "dot.ted"] {
            assert!(validate_slug(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn input_validation_says_what_to_fix() {
        let mut w = WorkspaceInput::named("Acme");
        w.monthly_lead_target = -1;
        assert!(w.validated().unwrap_err().to_string().contains("monthly lead target"));
        let mut w = WorkspaceInput::named("Acme");
        w.billable_stage = "paid".into();
        assert!(w.validated().unwrap_err().to_string().contains("billable stage"));
        assert!(WorkspaceInput::named("  ").validated().is_err());
    }
}
