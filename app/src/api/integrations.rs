//! Integrations (issue 13): API tokens, webhook endpoints, delivery logs and the event catalog.
//! `workspace` names whose they are: a workspace's slug (write access to it: admins, clients
//! who may write) or nothing for the agency's own (admins). A workspace the caller can't see is
//! `NotFound`, like everywhere else. Tokens and secrets leave the server only in the answer of
//! the call that made them.

use leptos::prelude::*;

use crate::{
    error::AppError,
    models::{ApiTokenRow, AttemptRow, CreatedEndpoint, CreatedToken, DeliveryRow, EndpointRow, IntegrationsOverview, RotatedSecret},
};

#[cfg(feature = "ssr")]
use backend::eventbus::endpoints::Owner;

/// Who owns what the call is about, checked: the agency (admins) or a workspace (write access).
#[cfg(feature = "ssr")]
async fn owner(
    db: &backend::platform::db::Db,
    caller: &backend::identity::sessions::SessionUser,
    workspace: Option<String>,
) -> Result<(Owner, Option<backend::tenancy::workspaces::Workspace>), AppError> {
    Ok(owner_checked(db, caller, workspace).await?)
}

/// The same check for the host's CSV downloads of these tables.
#[cfg(feature = "ssr")]
pub async fn owner_checked(
    db: &backend::platform::db::Db,
    caller: &backend::identity::sessions::SessionUser,
    workspace: Option<String>,
) -> backend::Result<(Owner, Option<backend::tenancy::workspaces::Workspace>)> {
    use backend::tenancy::{access, workspaces};
    match workspace.map(|s| s.trim().to_owned()).filter(|s| !s.is_empty()) {
        None => Ok((Owner::Agency(access::agency_admin(caller)?), None)),
        Some(slug) => {
            let (ws, _) = workspaces::visible_by_slug(db, caller, &slug).await?;
            let write = access::require_write(db, caller, ws.id).await?;
            Ok((Owner::Workspace(write), Some(ws)))
        }
    }
}

#[cfg(feature = "ssr")]
fn context() -> Result<(backend::AppState, backend::identity::sessions::SessionUser), AppError> {
    Ok((super::ctx::state()?, super::ctx::caller()?))
}

#[cfg(feature = "ssr")]
fn token_row(t: backend::tenancy::api_tokens::ApiToken) -> ApiTokenRow {
    use super::ctx::ts;
    ApiTokenRow {
        id: t.id,
        name: t.name,
        prefix: t.prefix,
        scope: t.scope.as_str().to_owned(),
        workspace_slug: t.workspace_slug,
        created_by: t.created_by_name,
        created_at: ts(t.created_at),
        last_used_at: t.last_used_at.map(ts),
        expires_at: t.expires_at.map(ts),
        revoked_at: t.revoked_at.map(ts),
    }
}

#[cfg(feature = "ssr")]
fn endpoint_row(e: backend::eventbus::endpoints::Endpoint) -> EndpointRow {
    use super::ctx::ts;
    EndpointRow {
        id: e.id,
        event_types: e.types(),
        url: e.url,
        description: e.description,
        enabled: e.enabled,
        disabled_reason: e.disabled_reason,
        header_name: e.header_name,
        previous_until: e.previous_until.map(ts),
        failing_since: e.failing_since.map(ts),
        created_at: ts(e.created_at),
    }
}

#[cfg(feature = "ssr")]
fn delivery_row(d: backend::eventbus::log::Delivery) -> DeliveryRow {
    use super::ctx::ts;
    DeliveryRow {
        id: d.id,
        event_type: d.event_type,
        message_id: d.message_id,
        status: d.status,
        attempts: d.attempts,
        last_status_code: d.last_status_code,
        last_error: d.last_error,
        trace_id: d.trace_id,
        created_at: ts(d.created_at),
        next_attempt_at: ts(d.next_attempt_at),
        finished_at: d.finished_at.map(ts),
    }
}

/// A catalog entry with its example as a receiver gets it: `{"type", "timestamp", "data"}`.
#[cfg(feature = "ssr")]
fn event_type_row(e: backend::platform::event_catalog::EventType) -> crate::models::EventTypeRow {
    let data = serde_json::to_string_pretty(&e.example).unwrap_or_default().replace('\n', "\n  ");
    crate::models::EventTypeRow {
        example: format!("{{\n  \"type\": \"{}\",\n  \"timestamp\": \"2026-11-30T14:05:09Z\",\n  \"data\": {data}\n}}", e.name),
        name: e.name.to_owned(),
        description: e.description.to_owned(),
    }
}

/// A form's day (`YYYY-MM-DD`) as the start of that day, UTC; empty: none.
#[cfg(feature = "ssr")]
fn day_start(day: Option<String>, what: &str) -> Result<Option<chrono::DateTime<chrono::Utc>>, AppError> {
    match day.map(|d| d.trim().to_owned()).filter(|d| !d.is_empty()) {
        None => Ok(None),
        Some(d) => chrono::NaiveDate::parse_from_str(&d, "%Y-%m-%d")
            .map(|d| Some(d.and_hms_opt(0, 0, 0).unwrap_or_default().and_utc()))
            .map_err(|_| AppError::invalid(format!("{what}: give a day as YYYY-MM-DD."))),
    }
}

/// Ticked event types (`types[lead.created]=yes`) → catalog names; none ticked: every type.
#[cfg(feature = "ssr")]
fn ticked(types: Option<std::collections::HashMap<String, String>>) -> Vec<String> {
    let mut v: Vec<String> = types.unwrap_or_default().into_keys().collect();
    v.sort();
    v
}

/// The page: tokens, endpoints and the catalog of the agency or a workspace, and (for admins)
/// the workspaces to choose from.
#[server(endpoint = "integrations/overview")]
pub async fn load_integrations(workspace: Option<String>) -> Result<IntegrationsOverview, AppError> {
    let (state, caller) = context()?;
    let db = &state.db;
    let (owner, ws) = owner(db, &caller, workspace).await?;
    let workspaces = if caller.is_admin() {
        backend::tenancy::workspaces::list_visible(db, &caller).await?.into_iter().map(|(w, _)| (w.slug, w.name)).collect()
    } else {
        Vec::new()
    };
    Ok(IntegrationsOverview {
        tokens: backend::tenancy::api_tokens::list(db, &caller, owner.workspace_id()).await?.into_iter().map(token_row).collect(),
        endpoints: backend::eventbus::endpoints::list(db, &owner).await?.into_iter().map(endpoint_row).collect(),
        catalog: backend::platform::event_catalog::catalog().into_iter().map(event_type_row).collect(),
        workspace: ws.map(|w| (w.slug, w.name)),
        workspaces,
    })
}

/// Makes a token for the workspace (or the agency); the answer holds the token, once.
#[server(endpoint = "integrations/tokens/create")]
pub async fn create_api_token(workspace: Option<String>, name: String, scope: String, expires_days: Option<String>) -> Result<CreatedToken, AppError> {
    use backend::tenancy::api_tokens::{self, NewToken, TokenScope};
    let (state, caller) = context()?;
    let (owner, _) = owner(&state.db, &caller, workspace).await?;
    let expires_in_days = match expires_days.as_deref().map(str::trim).filter(|d| !d.is_empty()) {
        None => None,
        Some(d) => Some(d.parse::<i64>().map_err(|_| AppError::invalid("Expires after: a whole number of days, or empty for never."))?),
    };
    let new = NewToken { name, workspace_id: owner.workspace_id(), scope: scope.parse::<TokenScope>()?, expires_in_days };
    let (row, token) = api_tokens::create(&state.db, &caller, &new, chrono::Utc::now()).await?;
    Ok(CreatedToken { row: token_row(row), token })
}

#[server(endpoint = "integrations/tokens/revoke")]
pub async fn revoke_api_token(token_id: i64) -> Result<ApiTokenRow, AppError> {
    let (state, caller) = context()?;
    Ok(token_row(backend::tenancy::api_tokens::revoke(&state.db, &caller, token_id, chrono::Utc::now()).await?))
}

/// Makes an endpoint; the answer holds its signing secret, once.
#[server(endpoint = "integrations/endpoints/create")]
pub async fn create_webhook_endpoint(
    workspace: Option<String>,
    url: String,
    description: Option<String>,
    types: Option<std::collections::HashMap<String, String>>,
    header_name: Option<String>,
    header_value: Option<String>,
) -> Result<CreatedEndpoint, AppError> {
    use backend::eventbus::endpoints::{self, EndpointInput};
    let (state, caller) = context()?;
    let (owner, _) = owner(&state.db, &caller, workspace).await?;
    let header = header_name.filter(|n| !n.trim().is_empty()).map(|n| (n, header_value.unwrap_or_default()));
    let input = EndpointInput { url, description: description.unwrap_or_default(), event_types: ticked(types), enabled: true, header };
    let created = endpoints::create(&state.db, &state.secrets, &state.config.integrations, &owner, &input, chrono::Utc::now()).await?;
    Ok(CreatedEndpoint { endpoint: endpoint_row(created.endpoint), secret: created.secret })
}

/// Changes an endpoint. The static header: a new value replaces it, an empty name removes it,
/// the same name without a value keeps it as it is.
#[allow(clippy::too_many_arguments)]
#[server(endpoint = "integrations/endpoints/update")]
pub async fn update_webhook_endpoint(
    workspace: Option<String>,
    endpoint_id: i64,
    url: String,
    description: Option<String>,
    types: Option<std::collections::HashMap<String, String>>,
    enabled: Option<String>,
    header_name: Option<String>,
    header_value: Option<String>,
) -> Result<EndpointRow, AppError> {
    use backend::eventbus::endpoints::{self, EndpointInput};
    let (state, caller) = context()?;
    let (owner, _) = owner(&state.db, &caller, workspace).await?;
    let current = endpoints::get(&state.db, &owner, endpoint_id).await?;
    let (name, value) = (header_name.unwrap_or_default().trim().to_owned(), header_value.unwrap_or_default());
    let header = if !value.trim().is_empty() {
        Some((name, value))
    } else if name.is_empty() {
        Some((String::new(), String::new()))
    } else if current.header_name.as_deref() == Some(name.as_str()) {
        None
    } else {
        return Err(AppError::invalid("Give the new header a value (or clear its name to send none)."));
    };
    let input = EndpointInput { url, description: description.unwrap_or_default(), event_types: ticked(types), enabled: enabled.is_some(), header };
    let e = endpoints::update(&state.db, &state.secrets, &state.config.integrations, &owner, endpoint_id, &input, chrono::Utc::now()).await?;
    Ok(endpoint_row(e))
}

/// Enables or disables an endpoint, leaving the rest as it is.
#[server(endpoint = "integrations/endpoints/set_enabled")]
pub async fn set_webhook_endpoint_enabled(workspace: Option<String>, endpoint_id: i64, enabled: bool) -> Result<EndpointRow, AppError> {
    use backend::eventbus::endpoints::{self, EndpointInput};
    let (state, caller) = context()?;
    let (owner, _) = owner(&state.db, &caller, workspace).await?;
    let current = endpoints::get(&state.db, &owner, endpoint_id).await?;
    let input = EndpointInput { event_types: current.types(), url: current.url, description: current.description, enabled, header: None };
    let e = endpoints::update(&state.db, &state.secrets, &state.config.integrations, &owner, endpoint_id, &input, chrono::Utc::now()).await?;
    Ok(endpoint_row(e))
}

/// How long the previous secret keeps signing after a rotation from the page.
#[cfg(feature = "ssr")]
const ROTATION_OVERLAP_HOURS: i64 = 24;

/// A new signing secret (answered once); the old one signs too for 24 hours.
#[server(endpoint = "integrations/endpoints/rotate")]
pub async fn rotate_webhook_secret(workspace: Option<String>, endpoint_id: i64) -> Result<RotatedSecret, AppError> {
    let (state, caller) = context()?;
    let (owner, _) = owner(&state.db, &caller, workspace).await?;
    let (now, overlap) = (chrono::Utc::now(), chrono::Duration::hours(ROTATION_OVERLAP_HOURS));
    let secret = backend::eventbus::endpoints::rotate_secret(&state.db, &state.secrets, &owner, endpoint_id, overlap, now).await?;
    Ok(RotatedSecret { endpoint_id, secret, previous_until: super::ctx::ts(now + overlap) })
}

/// Queues a `webhook.test` message to the endpoint; answers the delivery's id.
#[server(endpoint = "integrations/endpoints/test")]
pub async fn send_webhook_test(workspace: Option<String>, endpoint_id: i64) -> Result<i64, AppError> {
    let (state, caller) = context()?;
    let (owner, _) = owner(&state.db, &caller, workspace).await?;
    Ok(backend::eventbus::endpoints::send_test(&state.db, &owner, endpoint_id, chrono::Utc::now()).await?)
}

#[server(endpoint = "integrations/endpoints/delete")]
pub async fn delete_webhook_endpoint(workspace: Option<String>, endpoint_id: i64) -> Result<(), AppError> {
    let (state, caller) = context()?;
    let (owner, _) = owner(&state.db, &caller, workspace).await?;
    backend::eventbus::endpoints::delete(&state.db, &owner, endpoint_id).await?;
    Ok(())
}

/// How many deliveries the log shows (the newest).
pub const DELIVERY_LOG_ROWS: i64 = 100;

/// An endpoint's delivery log, newest first; filters optional (`since`: a day, UTC).
#[server(endpoint = "integrations/deliveries")]
pub async fn load_webhook_deliveries(
    workspace: Option<String>,
    endpoint_id: i64,
    status: Option<String>,
    event_type: Option<String>,
    since: Option<String>,
) -> Result<Vec<DeliveryRow>, AppError> {
    use backend::eventbus::log::{self, DeliveryFilter};
    let (state, caller) = context()?;
    let (owner, _) = owner(&state.db, &caller, workspace).await?;
    let given = |v: Option<String>| v.map(|v| v.trim().to_owned()).filter(|v| !v.is_empty());
    let filter = DeliveryFilter {
        status: given(status),
        event_type: given(event_type),
        since: day_start(since, "Since")?,
        before_id: None,
        limit: DELIVERY_LOG_ROWS,
    };
    Ok(log::deliveries(&state.db, &owner, endpoint_id, &filter).await?.into_iter().map(delivery_row).collect())
}

/// One delivery's attempts, oldest first.
#[server(endpoint = "integrations/deliveries/attempts")]
pub async fn load_webhook_attempts(workspace: Option<String>, delivery_id: i64) -> Result<Vec<AttemptRow>, AppError> {
    let (state, caller) = context()?;
    let (owner, _) = owner(&state.db, &caller, workspace).await?;
    let (_, attempts) = backend::eventbus::log::delivery(&state.db, &owner, delivery_id).await?;
    Ok(attempts
        .into_iter()
        .map(|a| AttemptRow {
            at: super::ctx::ts(a.at),
            status_code: a.status_code,
            latency_ms: a.latency_ms,
            response_excerpt: a.response_excerpt,
            error: a.error,
        })
        .collect())
}

/// Sends a finished delivery again (same message id).
#[server(endpoint = "integrations/deliveries/replay")]
pub async fn replay_webhook_delivery(workspace: Option<String>, delivery_id: i64) -> Result<DeliveryRow, AppError> {
    let (state, caller) = context()?;
    let (owner, _) = owner(&state.db, &caller, workspace).await?;
    Ok(delivery_row(backend::eventbus::log::replay(&state.db, &owner, delivery_id, chrono::Utc::now()).await?))
}

/// Sends every failed delivery of the endpoint made since the day again; answers how many.
#[server(endpoint = "integrations/deliveries/recover")]
pub async fn recover_webhook_deliveries(workspace: Option<String>, endpoint_id: i64, since: String) -> Result<u64, AppError> {
    let (state, caller) = context()?;
    let (owner, _) = owner(&state.db, &caller, workspace).await?;
    let since = day_start(Some(since), "Recover failed since")?.ok_or_else(|| AppError::invalid("Recover failed since: pick a day."))?;
    Ok(backend::eventbus::log::recover(&state.db, &owner, endpoint_id, since, chrono::Utc::now()).await?)
}
