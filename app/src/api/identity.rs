//! Users: who is signed in, their own password, and the admin's user management.

use leptos::prelude::*;

use crate::{
    error::AppError,
    models::{Me, UserRow},
};

/// Who is signed in (`None` for a visitor).
#[server(endpoint = "me")]
pub async fn current_user() -> Result<Option<Me>, AppError> {
    use super::ctx;
    Ok(ctx::caller().ok().map(|u| Me {
        user_id: u.user_id,
        email: u.email,
        display_name: u.display_name,
        role: u.role.as_str().into(),
    }))
}

/// Changes the caller's own password; their other sessions end.
#[server(endpoint = "account/change_password")]
pub async fn change_password(current: String, new_password: String, confirm: String) -> Result<(), AppError> {
    use super::ctx;
    let (state, caller) = (ctx::state()?, ctx::caller()?);
    backend::identity::auth::change_own_password(&state.db, &caller, &current, &new_password, &confirm, &ctx::client_info(), &state.config.throttle).await?;
    Ok(())
}

/// Core user → wire row (shared with the host's CSV exports).
#[cfg(feature = "ssr")]
pub fn user_row(u: backend::identity::users::User, grants: &[backend::tenancy::access::Grant]) -> UserRow {
    use super::ctx::ts;
    use crate::models::GrantRow;
    UserRow {
        id: u.id,
        email: u.email,
        display_name: u.display_name,
        role: u.role.as_str().into(),
        disabled: u.disabled,
        created_at: ts(u.created_at),
        last_login_at: u.last_login_at.map(ts),
        grants: grants
            .iter()
            .filter(|g| g.user_id == u.id)
            .map(|g| GrantRow {
                workspace_id: g.workspace_id,
                workspace_name: g.workspace_name.clone(),
                workspace_slug: g.workspace_slug.clone(),
                level: g.level.as_str().into(),
            })
            .collect(),
    }
}

#[server(endpoint = "admin/users")]
pub async fn list_users() -> Result<Vec<UserRow>, AppError> {
    let (state, _) = super::ctx::admin()?;
    let grants = backend::tenancy::access::list_grants(&state.db).await?;
    let users = backend::identity::users::list(&state.db).await?;
    Ok(users.into_iter().map(|u| user_row(u, &grants)).collect())
}

/// Creates a user. Without a password, the account gets one nobody knows and the user is sent a
/// set-password link instead (mailed, or in the server log without SMTP).
#[server(endpoint = "admin/users/create")]
pub async fn create_user(email: String, display_name: String, role: String, #[server(default)] password: String) -> Result<UserRow, AppError> {
    let (state, caller) = super::ctx::admin()?;
    let role = role.parse::<backend::identity::users::Role>()?;
    let send_link = password.is_empty();
    let password = if send_link { backend::platform::crypto::random_token() } else { password };
    let new = backend::identity::users::NewUser { email, display_name, role, password };
    let client = super::ctx::client_info();
    let user = backend::identity::admin::create_user(&state.db, &caller, new, &client).await?;
    if send_link {
        // The account exists either way: say so, so the admin sends the link again rather than
        // trying to create the user twice.
        if let Err(e) = backend::runtime::password_reset::send_admin_link(&state, &caller, user.id, &client).await {
            return Err(AppError::invalid(format!(
                "{} was created, but the set-password link could not be sent ({e}). Use \"Send set-password link\" on their row once mail works.",
                user.email
            )));
        }
    }
    Ok(user_row(user, &[]))
}

/// Sends a user a single-use link to set their own password; says how it went out.
#[server(endpoint = "admin/users/send_password_link")]
pub async fn send_password_link(user_id: i64) -> Result<String, AppError> {
    let (state, caller) = super::ctx::admin()?;
    let delivery = backend::runtime::password_reset::send_admin_link(&state, &caller, user_id, &super::ctx::client_info()).await?;
    Ok(match delivery {
        backend::runtime::password_reset::Delivery::Mailed => "Link mailed; it works once, for 30 minutes.".into(),
        backend::runtime::password_reset::Delivery::Logged => {
            "No SMTP is configured (MAVERICK_SMTP_URL): the link was written to the server log. Pass it on; it works once, for 30 minutes.".into()
        }
    })
}

#[server(endpoint = "admin/users/set_disabled")]
pub async fn set_user_disabled(user_id: i64, disabled: bool) -> Result<(), AppError> {
    let (state, caller) = super::ctx::admin()?;
    backend::identity::admin::set_user_disabled(&state.db, &caller, user_id, disabled, &super::ctx::client_info()).await?;
    Ok(())
}

#[server(endpoint = "admin/users/reset_password")]
pub async fn reset_user_password(user_id: i64, new_password: String) -> Result<(), AppError> {
    let (state, caller) = super::ctx::admin()?;
    backend::identity::admin::reset_password(&state.db, &caller, user_id, &new_password, &super::ctx::client_info()).await?;
    Ok(())
}
