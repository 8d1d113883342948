//! The client portal's HTTP endpoints beside its pages: the live event stream of a workspace
//! (server-sent events) and the CSV export of its filtered leads. Both authorize like the pages:
//! a workspace the caller may not see is 404.

use std::{collections::HashMap, convert::Infallible, time::Duration};

use axum::{
    extract::{Path, Query, State},
    http::HeaderMap,
    response::{
        sse::{Event, KeepAlive, Sse},
        IntoResponse, Response,
    },
};
use backend::platform::events::WorkspaceEvent;
use futures_util::{stream, Stream, StreamExt};
use tokio_stream::wrappers::{errors::BroadcastStreamRecvError, BroadcastStream};

use crate::{exports::error_response, session_layer::Caller, HostState};

/// The live event stream and the CSV export of a workspace's board.
pub fn routes() -> crate::routes::HostRoutes {
    crate::routes::HostRoutes::new().get("/client-portal/{workspace}/events", events).get("/client-portal/{workspace}/leads.csv", leads_csv)
}

/// A stream lives this long, then the browser reconnects (and is authorized again).
const STREAM_LIFETIME: Duration = Duration::from_secs(30 * 60);
/// Events replayed to a browser that reconnects with `Last-Event-ID`.
const REPLAY_LIMIT: i64 = 500;

fn sse_event(e: &WorkspaceEvent) -> Event {
    let data = serde_json::json!({
        "id": e.id,
        "kind": e.kind,
        "lead_id": e.lead_id,
        "actor_user_id": e.actor_user_id,
        "at": e.at,
        "payload": serde_json::from_str::<serde_json::Value>(&e.payload).unwrap_or_default(),
    });
    Event::default().id(e.id.to_string()).data(data.to_string())
}

/// What the pages listen to: the board's lead events, a personalization run's progress and, for
/// admins only, an automation run's progress (the Automations page). The rest of the log (syncs,
/// senders, contacts, batches) is for integrations, not for the browsers of every client user of
/// the workspace.
fn for_pages(kind: &str, admin: bool) -> bool {
    kind.starts_with("lead.") || kind == backend::personalization::engine::PROGRESS_EVENT || (admin && kind == backend::automations::PROGRESS_EVENT)
}

/// Tells the page to fetch its data again (it missed events it can't be sent one by one).
fn resync_event() -> Event {
    Event::default().data(r#"{"kind":"resync"}"#)
}

#[derive(serde::Deserialize)]
pub struct EventsQuery {
    after: Option<i64>,
}

/// `GET /client-portal/{workspace}/events`: this workspace's events as they happen. A browser
/// that reconnects with `Last-Event-ID` first gets what it missed.
pub async fn events(
    State(state): State<HostState>,
    Caller(caller): Caller,
    Path(slug): Path<String>,
    axum::extract::Query(query): axum::extract::Query<EventsQuery>,
    headers: HeaderMap,
) -> Response {
    let app = state.app;
    let ws = match backend::tenancy::workspaces::visible_by_slug(&app.db, &caller, &slug).await {
        Ok((ws, _)) => ws,
        Err(e) => return error_response(e),
    };
    // Subscribe before reading the replay, so nothing falls between the two.
    let live = BroadcastStream::new(app.events.subscribe());
    // A reconnecting browser sends Last-Event-ID; a page opening its stream names the last
    // event it was rendered with (`?after=`).
    let last_seen: i64 =
        headers.get("last-event-id").and_then(|v| v.to_str().ok()).and_then(|v| v.parse().ok()).or(query.after).unwrap_or(i64::MAX);
    let replay = if last_seen == i64::MAX {
        Vec::new()
    } else {
        match backend::platform::events::since(&app.db, ws.id, last_seen, REPLAY_LIMIT).await {
            Ok(r) => r,
            Err(e) => return error_response(e),
        }
    };
    let replayed_up_to = replay.last().map_or(last_seen.min(i64::MAX - 1), |e| e.id);
    // The replay stopped at its limit: what came after it is not sent, so the page reloads.
    let resync = (replay.len() as i64 >= REPLAY_LIMIT).then(resync_event);
    let workspace_id = ws.id;
    let admin = caller.is_admin();
    let live = live.filter_map(move |item: Result<_, BroadcastStreamRecvError>| async move {
        match item {
            Ok(e) if e.workspace_id == workspace_id && for_pages(&e.kind, admin) && (replayed_up_to == i64::MAX - 1 || e.id > replayed_up_to) => {
                Some(sse_event(&e))
            }
            Ok(_) => None,
            // This browser fell behind: tell it to fetch the board again.
            Err(BroadcastStreamRecvError::Lagged(_)) => Some(resync_event()),
        }
    });
    // The stream ends when its lifetime is up, or as soon as the session or the grant that
    // opened it is gone (sign-out, revoked access, disabled account): checked every few seconds.
    let token = crate::session_layer::cookie(&headers, crate::session_layer::SESSION_COOKIE).map(str::to_owned);
    let still_allowed = {
        let (db, policy, every) = (app.db.clone(), app.config.sessions, app.config.stream_recheck);
        async move {
            loop {
                tokio::time::sleep(every).await;
                let Some(token) = &token else { break };
                let user = match backend::identity::sessions::still_valid(&db, token, &policy, chrono::Utc::now()).await {
                    Ok(Some(user)) => user,
                    _ => break,
                };
                if backend::tenancy::access::level_in(&db, &user, workspace_id).await.is_err() {
                    break;
                }
            }
        }
    };
    let end = async move {
        tokio::select! {
            _ = tokio::time::sleep(STREAM_LIFETIME) => {}
            _ = still_allowed => {}
        }
    };
    let events: std::pin::Pin<Box<dyn Stream<Item = Result<Event, Infallible>> + Send>> = Box::pin(
        stream::iter(replay.iter().filter(|e| for_pages(&e.kind, admin)).map(sse_event).chain(resync).collect::<Vec<_>>()).chain(live).map(Ok).take_until(end),
    );
    let mut res = Sse::new(events).keep_alive(KeepAlive::new().interval(Duration::from_secs(15))).into_response();
    res.headers_mut().insert("x-accel-buffering", axum::http::HeaderValue::from_static("no"));
    res
}

/// `GET /client-portal/{workspace}/leads.csv`: the leads the board's filters select, all of them.
pub async fn leads_csv(
    State(state): State<HostState>,
    Caller(caller): Caller,
    Path(slug): Path<String>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let get = |k: &str| q.get(k).map(String::as_str).unwrap_or("");
    let result = async {
        let (ws, _) = backend::tenancy::workspaces::visible_by_slug(&state.app.db, &caller, &slug).await?;
        let filter = app::api::leads::lead_filter(get("q"), get("from"), get("to"), get("campaign"))?;
        let leads = backend::leads::pipeline::filtered_leads(&state.app.db, ws.id, &filter).await?;
        let rows = leads.into_iter().map(|l| {
            vec![
                l.email,
                l.first_name.unwrap_or_default(),
                l.last_name.unwrap_or_default(),
                l.company.unwrap_or_default(),
                l.title.unwrap_or_default(),
                l.phone.unwrap_or_default(),
                l.campaign.unwrap_or_default(),
                l.interested_day.map(|d| d.to_string()).unwrap_or_default(),
                l.stage.to_string(),
                l.deal_value_cents.map(|c| format!("{}.{:02}", c / 100, c % 100)).unwrap_or_default(),
                l.lost_reason.unwrap_or_default(),
                l.reply_text.unwrap_or_default(),
            ]
        });
        backend::platform::csv_output::to_csv(
            &["email", "first_name", "last_name", "company", "title", "phone", "campaign", "received_on", "stage", "deal_value", "lost_reason", "reply"],
            rows,
        )
        .map(|bytes| (ws.slug, bytes))
    }
    .await;
    match result {
        Ok((slug, bytes)) => crate::exports::csv_response(&format!("{slug}-leads.csv"), Ok(bytes)),
        Err(e) => error_response(e),
    }
}
