//! A client's Email Bison credentials are asked which workspace they read before they are stored:
//! a super-admin key follows its user's *current* Email Bison workspace, so a key saved for one
//! client could otherwise import another client's campaigns and leads. The saved workspace id is
//! the one the key was seen to read; every sync and upload checks it again (`ensure_reads`).

use crate::{
    connectors::bison::{BisonClient, KeyIdentity},
    identity::{auth::ClientInfo, sessions::SessionUser},
    platform::error::{Error, Result},
    platform::http_retry::RetryPolicy,
    tenancy::{access, admin, workspaces},
    AppState,
};

/// A client for this installation's Email Bison with `key`.
pub fn client(state: &AppState, key: &str) -> BisonClient {
    BisonClient::new(&state.config.bison_url, key, RetryPolicy { base_delay: state.config.bison_retry_delay, ..Default::default() })
}

/// What `key` reads, refused unless it is `expected` (when an id was typed) and no other client
/// (than `for_workspace`, the one being saved) is bound to that Email Bison workspace: nothing
/// is stored.
pub async fn verify(state: &AppState, caller: &SessionUser, key: &str, expected: Option<&str>, for_workspace: Option<i64>) -> Result<KeyIdentity> {
    access::require_admin(caller)?;
    let key = key.trim();
    if key.len() < 8 || key.chars().any(char::is_whitespace) {
        return Err(Error::invalid("The Email Bison API key looks wrong: paste the whole token, without spaces."));
    }
    let identity = client(state, key).identity().await.map_err(|e| Error::invalid(format!("The key was not saved. {e}")))?;
    match expected.map(str::trim).filter(|e| !e.is_empty()) {
        Some(typed) if identity.workspace_id.as_deref() != Some(typed) => Err(Error::invalid(format!(
            "This key reads Email Bison workspace {}, not workspace {typed}; nothing was saved. Use an api-user key made inside workspace {typed}, \
             or (a super-admin key) switch to workspace {typed} in Email Bison first — syncs will stop if it switches away again.",
            identity.workspace_label()
        ))),
        _ => {
            let read = identity.workspace_id.clone().unwrap_or_default();
            let taken: Option<String> = crate::on_db!(&state.db, |pool| sqlx::query_scalar(
                "SELECT name FROM workspaces WHERE bison_workspace_id = $1 AND id <> $2 ORDER BY id LIMIT 1"
            )
            .bind(&read)
            .bind(for_workspace.unwrap_or(0))
            .fetch_optional(pool)
            .await)?;
            match taken {
                // One Bison workspace, one client: else a sync would show one client's leads to another.
                Some(other) => Err(Error::Conflict(format!(
                    "This key reads Email Bison workspace {}, which is already the Bison workspace of {other}; nothing was saved. \
                     Use the key of this client's own Email Bison workspace.",
                    identity.workspace_label()
                ))),
                None => Ok(identity),
            }
        }
    }
}

/// Verifies `key` and stores it with the workspace it reads (audited).
pub async fn save(
    state: &AppState,
    caller: &SessionUser,
    workspace_id: i64,
    expected: Option<&str>,
    key: &str,
    client_info: &ClientInfo,
) -> Result<KeyIdentity> {
    let identity = verify(state, caller, key, expected, Some(workspace_id)).await?;
    store(state, caller, workspace_id, key, &identity, client_info).await?;
    Ok(identity)
}

/// Stores a key already verified by [`verify`], with what it reads.
pub async fn store(state: &AppState, caller: &SessionUser, workspace_id: i64, key: &str, identity: &KeyIdentity, client_info: &ClientInfo) -> Result<()> {
    let read = identity.workspace_id.as_deref();
    admin::set_bison_credentials(&state.db, &state.secrets, caller, workspace_id, read, Some(key.trim()), client_info).await?;
    workspaces::record_bison_verification(&state.db, workspace_id, identity.workspace_name.as_deref(), identity.user_email.as_deref()).await
}
