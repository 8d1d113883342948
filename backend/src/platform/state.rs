//! What every request handler, server function and job shares: the pool, the configuration, the
//! secret box, the ZIP places and
//! the live-event fan-out. Cheap to clone.

use std::sync::Arc;

use crate::{platform::config::Config, platform::crypto::SecretBox, platform::db::Db, platform::events::EventHub, platform::geo::ZipPlaces};

#[derive(Clone, Debug)]
pub struct AppState {
    pub db: Db,
    pub config: Arc<Config>,
    pub secrets: SecretBox,
    pub places: Arc<ZipPlaces>,
    /// Workspace events for this host's open live boards (fed by `events::tail`).
    pub events: EventHub,
}
