//! What every request handler, server function and job shares: the pool, the configuration, the
//! secret box and the ZIP places. Cheap to clone.

use std::sync::Arc;

use crate::{config::Config, crypto::SecretBox, db::Db, geo::ZipPlaces};

#[derive(Clone, Debug)]
pub struct AppState {
    pub db: Db,
    pub config: Arc<Config>,
    pub secrets: SecretBox,
    pub places: Arc<ZipPlaces>,
}
