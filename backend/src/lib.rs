//! Maverick's server-only core: data access, auth, domain rules, jobs and connectors.
//! It compiles and tests without Leptos or a browser; the WASM bundle never links it.
//!
//! The folders are layers (docs/architecture.md, "The house"; `tests/layers.rs` enforces it):
//! `platform` knows no domain; `identity` and `tenancy` build on it; `connectors` are clients of
//! outside services with no database; the domains (`leads`, `contacts`, `bison`,
//! `personalization`, `notifications`, `zips`, `prospects`) import only downwards and along declared edges;
//! `reporting` reads them all and nobody reads it; `runtime` composes everything.

pub mod platform;

pub mod identity;
pub mod tenancy;

pub mod connectors;

pub mod automations;
pub mod bison;
pub mod contacts;
pub mod eventbus;
pub mod leads;
pub mod notifications;
pub mod personalization;
pub mod prospects;
pub mod zips;

pub mod reporting;
pub mod runtime;

pub use platform::error::{Error, Result};
pub use platform::state::AppState;
