//! What happened in a workspace, as an append-only log (`workspace_events`): a lead arrived, moved
//! or got a note. Every web host tails the log and fans new rows out to the open boards of that
//! workspace over an in-process channel, so a move made through any host — or a lead delivered to
//! a worker process — reaches every browser, and a browser that reconnects resumes from the last
//! event id it saw.

use std::{collections::VecDeque, sync::Arc, time::Duration};

use chrono::{DateTime, Utc};
use serde::Serialize;
use tokio::sync::broadcast;

use crate::{on_db, platform::db::Db, platform::error::Result};

pub use crate::platform::event_catalog::{
    BATCH_UPLOADED, CONTACTS_IMPORT_COMPLETED, CONTACTS_VERIFIED, LEAD_CREATED, LEAD_INTERESTED, LEAD_NOTE_ADDED,
    LEAD_STAGE_CHANGED, PERSONALIZATION_RUN_COMPLETED, SENDER_HEALTH_CHANGED, SYNC_FAILED,
};

#[derive(Clone, Debug, PartialEq, Serialize, sqlx::FromRow)]
pub struct WorkspaceEvent {
    pub id: i64,
    pub workspace_id: i64,
    pub kind: String,
    pub lead_id: Option<i64>,
    pub actor_user_id: Option<i64>,
    /// JSON
    pub payload: String,
    pub at: DateTime<Utc>,
    /// The W3C trace id of the request or job that caused it.
    pub trace_id: Option<String>,
}

/// The insert (see [`record_event!`](crate::record_event)).
pub const INSERT: &str = "INSERT INTO workspace_events (workspace_id, kind, lead_id, actor_user_id, payload, at, trace_id) \
     VALUES ($1, $2, $3, $4, $5, $6, $7)";

/// An event about to be written, in the transaction of the change that causes it.
#[derive(Clone, Debug)]
pub struct NewEvent {
    pub workspace_id: i64,
    pub kind: &'static str,
    pub lead_id: Option<i64>,
    pub actor: Option<i64>,
    pub payload: serde_json::Value,
    pub at: DateTime<Utc>,
}

impl NewEvent {
    /// `data` is the event's public payload (the catalog's type for `kind`).
    pub fn new(workspace_id: i64, kind: &'static str, data: &impl Serialize) -> Self {
        NewEvent {
            workspace_id,
            kind,
            lead_id: None,
            actor: None,
            payload: serde_json::to_value(data).unwrap_or(serde_json::Value::Null),
            at: Utc::now(),
        }
    }
    pub fn lead(mut self, lead_id: i64) -> Self {
        self.lead_id = Some(lead_id);
        self
    }
    pub fn actor(mut self, user_id: Option<i64>) -> Self {
        self.actor = user_id;
        self
    }
    pub fn at(mut self, at: DateTime<Utc>) -> Self {
        self.at = at;
        self
    }
}

/// Writes a [`NewEvent`] on an executor — the transaction of the change it records, so there is
/// never a change without its event or an event without its change: `record_event!(&mut *tx,
/// &event)?`. The trace id is the current request's or job's ([`crate::platform::trace`]).
#[macro_export]
macro_rules! record_event {
    ($executor:expr, $event:expr) => {{
        let event: &$crate::platform::events::NewEvent = $event;
        sqlx::query($crate::platform::events::INSERT)
            .bind(event.workspace_id)
            .bind(event.kind)
            .bind(event.lead_id)
            .bind(event.actor)
            .bind(event.payload.to_string())
            .bind(event.at)
            .bind($crate::platform::trace::current())
            .execute($executor)
            .await
            .map(|r| r.rows_affected())
    }};
}

/// Records an event on its own (for events that are the change, like progress).
pub async fn publish(db: &Db, event: &NewEvent) -> Result<()> {
    on_db!(db, |pool| record_event!(pool, event))?;
    Ok(())
}

macro_rules! select_events {
    () => {
        "SELECT id, workspace_id, kind, lead_id, actor_user_id, payload, at, trace_id FROM workspace_events "
    };
}

/// A workspace's events after `after_id`, oldest first (at most `limit`): the replay for a
/// reconnecting browser.
pub async fn since(db: &Db, workspace_id: i64, after_id: i64, limit: i64) -> Result<Vec<WorkspaceEvent>> {
    Ok(on_db!(db, |pool| sqlx::query_as::<_, WorkspaceEvent>(concat!(
        select_events!(),
        "WHERE workspace_id = $1 AND id > $2 ORDER BY id LIMIT $3"
    ))
    .bind(workspace_id)
    .bind(after_id)
    .bind(limit)
    .fetch_all(pool)
    .await)?)
}

/// The id of the workspace's newest event (0 when none): a page rendered now passes it to its
/// event stream (`?after=`) so nothing that happens between the render and the stream is missed.
pub async fn latest_id(db: &Db, workspace_id: i64) -> Result<i64> {
    Ok(on_db!(db, |pool| sqlx::query_scalar::<_, Option<i64>>("SELECT MAX(id) FROM workspace_events WHERE workspace_id = $1")
        .bind(workspace_id)
        .fetch_one(pool)
        .await)?
    .unwrap_or(0))
}

/// Deletes events older than `before` (nightly).
pub async fn prune(db: &Db, before: DateTime<Utc>) -> Result<u64> {
    Ok(on_db!(db, |pool| sqlx::query("DELETE FROM workspace_events WHERE at < $1")
        .bind(before)
        .execute(pool)
        .await
        .map(|r| r.rows_affected()))?)
}

/// The fan-out to this host's open event streams. Cheap to clone.
#[derive(Clone, Debug)]
pub struct EventHub {
    sender: broadcast::Sender<Arc<WorkspaceEvent>>,
}

impl Default for EventHub {
    fn default() -> Self {
        EventHub { sender: broadcast::channel(1024).0 }
    }
}

impl EventHub {
    pub fn subscribe(&self) -> broadcast::Receiver<Arc<WorkspaceEvent>> {
        self.sender.subscribe()
    }

    fn send(&self, e: WorkspaceEvent) {
        // No open stream is not an error.
        let _ = self.sender.send(Arc::new(e));
    }
}

/// Tails the log every `every` and hands new events to the hub, until the process ends.
/// PostgreSQL can commit a lower id after a higher one (concurrent transactions), so each look
/// goes back a little behind the cursor and skips the ids already sent.
pub async fn tail(db: Db, hub: EventHub, every: Duration) {
    const LOOKBACK: i64 = 64;
    let mut cursor: i64 = on_db!(&db, |pool| sqlx::query_scalar::<_, Option<i64>>("SELECT MAX(id) FROM workspace_events")
        .fetch_one(pool)
        .await)
    .ok()
    .flatten()
    .unwrap_or(0);
    // Events before start-up are replayed by id on reconnect, not pushed.
    let floor = cursor;
    let mut sent: VecDeque<i64> = VecDeque::with_capacity(256);
    loop {
        tokio::time::sleep(every).await;
        let rows = on_db!(&db, |pool| sqlx::query_as::<_, WorkspaceEvent>(concat!(select_events!(), "WHERE id > $1 ORDER BY id LIMIT 1000"))
            .bind(cursor - LOOKBACK)
            .fetch_all(pool)
            .await);
        let rows = match rows {
            Ok(r) => r,
            Err(e) => {
                tracing::warn!(error = %e, "reading workspace events failed; retrying");
                continue;
            }
        };
        for e in rows {
            if e.id <= floor || sent.contains(&e.id) {
                continue;
            }
            cursor = cursor.max(e.id);
            if sent.len() == 256 {
                sent.pop_front();
            }
            sent.push_back(e.id);
            hub.send(e);
        }
    }
}
