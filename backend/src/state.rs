//! What every request handler, server function and job shares: the pool, the configuration and
//! the secret box. Cheap to clone.

use std::sync::Arc;

use crate::{config::Config, crypto::SecretBox, db::Db};

#[derive(Clone, Debug)]
pub struct AppState {
    pub db: Db,
    pub config: Arc<Config>,
    pub secrets: SecretBox,
}
