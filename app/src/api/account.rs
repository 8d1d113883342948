use leptos::prelude::*;

use crate::{error::AppError, models::Me};

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
    backend::identity::auth::change_own_password(&state.db, &caller, &current, &new_password, &confirm, &ctx::client_info()).await?;
    Ok(())
}
