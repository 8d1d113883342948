//! What every domain stands on, with no domain knowledge: errors, the database handle and
//! migrations, backups, configuration, secrets, the job-queue primitives, the event log, CSV in and out,
//! the shared state, and test helpers.

pub mod backup;
pub mod config;
pub mod crypto;
pub mod csv_input;
pub mod csv_output;
pub mod db;
pub mod error;
pub mod event_catalog;
pub mod events;
pub mod geo;
pub mod heartbeat;
pub mod idempotency;
pub mod http_retry;
pub mod jobs;
pub mod migrate;
pub mod prometheus;
pub mod sql_text;
pub mod state;
pub mod testing;
pub mod trace;
