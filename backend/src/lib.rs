//! Maverick's server-only core: data access, auth, domain rules, jobs and connectors.
//! It compiles and tests without Leptos or a browser; the WASM bundle never links it.

pub mod access;
pub mod admin;
pub mod ai;
pub mod audit;
pub mod auth;
pub mod batches;
pub mod bison;
pub mod bison_sync;
pub mod bison_webhook;
pub mod client_costs;
pub mod config;
pub mod contacts;
pub mod csv_input;
pub mod crypto;
pub mod daily_metrics;
pub mod dashboards;
pub mod db;
pub mod debounce;
pub mod demo;
mod demo_history;
pub mod error;
pub mod events;
pub mod export;
pub mod geo;
pub mod heartbeat;
pub mod leads;
pub mod jobs;
pub mod maintenance;
pub mod metrics;
pub mod personalization;
pub mod pipeline;
pub mod password;
pub mod revenue;
pub mod sessions;
pub mod settings;
pub mod slack;
pub mod state;
pub mod testing;
pub mod throttle;
pub mod users;
pub mod workspaces;
pub mod zip_codes;

pub use error::{Error, Result};
pub use state::AppState;
