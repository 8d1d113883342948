//! What admins do to accounts: create, disable or re-enable, set a new password. Each function
//! checks the caller is an admin, applies the change and writes the audit trail.

use crate::{
    identity::{
        audit,
        auth::ClientInfo,
        sessions::{self, require_admin, SessionUser},
        users::{self, NewUser, Role, User},
    },
    on_db,
    platform::{
        db::Db,
        error::{Error, Result},
    },
};

pub async fn create_user(db: &Db, caller: &SessionUser, new: NewUser, client: &ClientInfo) -> Result<User> {
    require_admin(caller)?;
    let user = users::create(db, new).await?;
    audit::record(db, Some(caller), None, "user.created", Some(&format!("user:{} ({})", user.id, user.email)), client.ip.as_deref())
        .await?;
    Ok(user)
}

/// Disables (ending every session at once) or re-enables an account. An admin can't lock
/// themselves out, and the last active admin can't be disabled: the count and the change are
/// one transaction behind a lock, so two admins disabling each other at the same moment can't
/// both pass the count.
pub async fn set_user_disabled(db: &Db, caller: &SessionUser, user_id: i64, disabled: bool, client: &ClientInfo) -> Result<()> {
    require_admin(caller)?;
    let target = users::get(db, user_id).await?;
    if disabled && target.id == caller.user_id {
        return Err(Error::invalid("You can't disable your own account: ask another admin to do it."));
    }
    if disabled {
        disable_keeping_an_admin(db, &target).await?;
        sessions::revoke_all_for_user(db, user_id, None).await?;
        users::void_reset_links(db, user_id).await?;
    } else {
        users::set_disabled(db, user_id, false).await?;
    }
    let action = if disabled { "user.disabled" } else { "user.enabled" };
    audit::record(db, Some(caller), None, action, Some(&format!("user:{user_id} ({})", target.email)), client.ip.as_deref()).await
}

/// Disables `target` unless that would leave no active admin. PostgreSQL: every such
/// transaction first locks one agreed row (the first admin's) until commit, so a concurrent call
/// waits and then counts again (one lock, taken first: no deadlock); SQLite: `BEGIN IMMEDIATE`
/// already holds the write lock.
async fn disable_keeping_an_admin(db: &Db, target: &User) -> Result<()> {
    let begin = db.begin_read_write();
    let last_admin = || {
        Error::Conflict(format!(
            "{} is the last active admin: make another admin first, or nobody could manage the agency.",
            target.email
        ))
    };
    on_db!(db, |pool| async {
        let mut tx = pool.begin_with(begin).await?;
        sqlx::query("UPDATE users SET disabled = disabled WHERE id = (SELECT MIN(id) FROM users WHERE role = 'admin')").execute(&mut *tx).await?;
        let row: Option<(String, bool)> =
            sqlx::query_as("SELECT role, disabled FROM users WHERE id = $1").bind(target.id).fetch_optional(&mut *tx).await?;
        let Some((role, already)) = row else { return Err(Error::NotFound) };
        if role == Role::Admin.as_str() && !already {
            let others: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM users WHERE role = 'admin' AND NOT disabled AND id <> $1")
                .bind(target.id)
                .fetch_one(&mut *tx)
                .await?;
            if others == 0 {
                return Err(last_admin());
            }
        }
        sqlx::query("UPDATE users SET disabled = TRUE WHERE id = $1").bind(target.id).execute(&mut *tx).await?;
        tx.commit().await?;
        Ok(())
    }
    .await)
}

/// Sets a new password for a user; their sessions end.
pub async fn reset_password(db: &Db, caller: &SessionUser, user_id: i64, new_password: &str, client: &ClientInfo) -> Result<()> {
    require_admin(caller)?;
    let target = users::get(db, user_id).await?;
    users::set_password(db, user_id, new_password).await?;
    let keep = (user_id == caller.user_id).then_some(caller.session_id);
    sessions::revoke_all_for_user(db, user_id, keep).await?;
    audit::record(db, Some(caller), None, "user.password_reset", Some(&format!("user:{user_id} ({})", target.email)), client.ip.as_deref())
        .await
}
