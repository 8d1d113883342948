//! What admins do to accounts: create, disable or re-enable, set a new password. Each function
//! checks the caller is an admin, applies the change and writes the audit trail.

use crate::{
    identity::{
        audit,
        auth::ClientInfo,
        sessions::{self, require_admin, SessionUser},
        users::{self, NewUser, Role, User},
    },
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
/// themselves out, and the last active admin can't be disabled.
pub async fn set_user_disabled(db: &Db, caller: &SessionUser, user_id: i64, disabled: bool, client: &ClientInfo) -> Result<()> {
    require_admin(caller)?;
    let target = users::get(db, user_id).await?;
    if disabled && target.id == caller.user_id {
        return Err(Error::invalid("You can't disable your own account."));
    }
    if disabled && target.role == Role::Admin && !target.disabled && users::count_active_admins(db).await? <= 1 {
        return Err(Error::invalid("This is the last active admin; create another admin first."));
    }
    users::set_disabled(db, user_id, disabled).await?;
    if disabled {
        sessions::revoke_all_for_user(db, user_id, None).await?;
    }
    let action = if disabled { "user.disabled" } else { "user.enabled" };
    audit::record(db, Some(caller), None, action, Some(&format!("user:{user_id} ({})", target.email)), client.ip.as_deref()).await
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
