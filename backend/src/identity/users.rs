//! User accounts: creation, listing, disabling, password changes. Every mutation is audited by
//! the caller-facing functions in [`crate::tenancy::admin`]; this module holds the data rules.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::{
    platform::db::Db,
    platform::error::{on_unique, Error, Result},
    on_db, identity::password,
};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Admin,
    Client,
    Viewer,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Client => "client",
            Role::Viewer => "viewer",
        }
    }
}

impl std::str::FromStr for Role {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        match s.trim().to_ascii_lowercase().as_str() {
            "admin" => Ok(Role::Admin),
            "client" => Ok(Role::Client),
            "viewer" => Ok(Role::Viewer),
            other => Err(Error::invalid(format!("Unknown role {other:?}: use admin, client or viewer."))),
        }
    }
}

impl TryFrom<String> for Role {
    type Error = Error;
    fn try_from(s: String) -> Result<Self> {
        s.parse()
    }
}

#[derive(Clone, Debug, sqlx::FromRow)]
pub struct User {
    pub id: i64,
    pub email: String,
    pub display_name: String,
    #[sqlx(try_from = "String")]
    pub role: Role,
    pub disabled: bool,
    pub created_at: DateTime<Utc>,
    pub last_login_at: Option<DateTime<Utc>>,
}

/// The columns of [`User`], as a literal so queries stay `&'static str`.
macro_rules! user_columns {
    () => {
        "id, email, display_name, role, disabled, created_at, last_login_at"
    };
}

/// Lower-cases and trims an email, and checks its shape; the message says what to fix.
pub fn normalize_email(raw: &str) -> Result<String> {
    let email = raw.trim().to_lowercase();
    let valid = email.len() <= 254
        && email.split_once('@').is_some_and(|(local, domain)| {
            !local.is_empty()
                && domain.contains('.')
                && !domain.starts_with('.')
                && !domain.ends_with('.')
                && !email.contains(char::is_whitespace)
                && email.matches('@').count() == 1
        });
    if valid {
        Ok(email)
    } else {
        Err(Error::invalid(format!("{:?} is not a valid email address.", raw.trim())))
    }
}

#[derive(Clone, Debug)]
pub struct NewUser {
    pub email: String,
    pub display_name: String,
    pub role: Role,
    pub password: String,
}

pub async fn create(db: &Db, new: NewUser) -> Result<User> {
    let email = normalize_email(&new.email)?;
    let display_name = new.display_name.trim().to_owned();
    if display_name.is_empty() || display_name.chars().count() > 120 {
        return Err(Error::invalid("The name must be 1 to 120 characters."));
    }
    password::validate_new(&new.password)?;
    let hash = password::hash(&new.password).await?;
    let now = Utc::now();
    let sql = concat!(
        "INSERT INTO users (email, display_name, password_hash, role, disabled, created_at) \
         VALUES ($1, $2, $3, $4, FALSE, $5) RETURNING ",
        user_columns!()
    );
    let created = on_db!(db, |pool| sqlx::query_as::<_, User>(sql)
        .bind(&email)
        .bind(&display_name)
        .bind(&hash)
        .bind(new.role.as_str())
        .bind(now)
        .fetch_one(pool)
        .await);
    created.map_err(on_unique(|| Error::Conflict(format!("A user with the email {email} already exists."))))
}

pub async fn get(db: &Db, id: i64) -> Result<User> {
    let sql = concat!("SELECT ", user_columns!(), " FROM users WHERE id = $1");
    on_db!(db, |pool| sqlx::query_as::<_, User>(sql).bind(id).fetch_optional(pool).await)?.ok_or(Error::NotFound)
}

pub async fn list(db: &Db) -> Result<Vec<User>> {
    let sql = concat!("SELECT ", user_columns!(), " FROM users ORDER BY lower(email)");
    Ok(on_db!(db, |pool| sqlx::query_as::<_, User>(sql).fetch_all(pool).await)?)
}

pub async fn count(db: &Db) -> Result<i64> {
    Ok(on_db!(db, |pool| sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM users").fetch_one(pool).await)?)
}

/// The user and stored hash for a login attempt.
pub(crate) async fn find_for_login(db: &Db, email: &str) -> Result<Option<(User, String)>> {
    #[derive(sqlx::FromRow)]
    struct Row {
        #[sqlx(flatten)]
        user: User,
        password_hash: String,
    }
    let sql = concat!("SELECT ", user_columns!(), ", password_hash FROM users WHERE email = $1");
    let row = on_db!(db, |pool| sqlx::query_as::<_, Row>(sql).bind(email).fetch_optional(pool).await)?;
    Ok(row.map(|r| (r.user, r.password_hash)))
}

pub(crate) async fn password_hash_of(db: &Db, user_id: i64) -> Result<String> {
    on_db!(db, |pool| sqlx::query_scalar::<_, String>("SELECT password_hash FROM users WHERE id = $1")
        .bind(user_id)
        .fetch_optional(pool)
        .await)?
    .ok_or(Error::NotFound)
}

pub(crate) async fn touch_last_login(db: &Db, user_id: i64, at: DateTime<Utc>) -> Result<()> {
    on_db!(db, |pool| sqlx::query("UPDATE users SET last_login_at = $1 WHERE id = $2")
        .bind(at)
        .bind(user_id)
        .execute(pool)
        .await.map(|r| r.rows_affected()))?;
    Ok(())
}

/// Sets a new password (already validated by the caller's flow) and returns whether the user exists.
pub(crate) async fn set_password(db: &Db, user_id: i64, new_password: &str) -> Result<()> {
    password::validate_new(new_password)?;
    let hash = password::hash(new_password).await?;
    let done = on_db!(db, |pool| sqlx::query("UPDATE users SET password_hash = $1 WHERE id = $2")
        .bind(&hash)
        .bind(user_id)
        .execute(pool)
        .await.map(|r| r.rows_affected()))?;
    if done == 0 {
        return Err(Error::NotFound);
    }
    void_reset_links(db, user_id).await
}

/// Ends the user's unused password-reset links: after any other change of password, or when the
/// account is disabled, a link waiting in a mailbox or a log must not take the account over.
pub(crate) async fn void_reset_links(db: &Db, user_id: i64) -> Result<()> {
    on_db!(db, |pool| sqlx::query("UPDATE password_resets SET used_at = $1 WHERE user_id = $2 AND used_at IS NULL")
        .bind(chrono::Utc::now())
        .bind(user_id)
        .execute(pool)
        .await
        .map(|r| r.rows_affected()))?;
    Ok(())
}

pub(crate) async fn set_disabled(db: &Db, user_id: i64, disabled: bool) -> Result<()> {
    let done = on_db!(db, |pool| sqlx::query("UPDATE users SET disabled = $1 WHERE id = $2")
        .bind(disabled)
        .bind(user_id)
        .execute(pool)
        .await.map(|r| r.rows_affected()))?;
    if done == 0 {
        return Err(Error::NotFound);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_are_normalised_and_checked() {
        assert_eq!(normalize_email("  Ann.Lee@Example.COM ").unwrap(), "ann.lee@example.com");
        for bad in ["", "ann", "ann@", "@x.com", "ann@localhost", "a b@x.com", "a@@x.com", "a@x.com."] {
            assert!(normalize_email(bad).is_err(), "{bad:?} should be rejected");
        }
    }

    #[test]
    fn roles_parse_with_a_helpful_error() {
        assert_eq!("Admin".parse::<Role>().unwrap(), Role::Admin);
        assert!("root".parse::<Role>().unwrap_err().to_string().contains("admin, client or viewer"));
    }
}
