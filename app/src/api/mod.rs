//! Server functions. Each one is thin: who is calling, may they, is the input valid, then one
//! call into the server-only core, then the wire type. Endpoints are named explicitly so the
//! isolation test (server/tests/isolation.rs) can hold a case for every one of them.

pub mod account;
pub mod admin;
pub mod clients;
pub mod contacts;
pub mod personalization;
pub mod dashboards;
pub mod portal;
pub mod zips;

#[cfg(feature = "ssr")]
pub mod ctx;

pub use account::*;
pub use admin::*;
pub use clients::*;
pub use contacts::*;
pub use personalization::*;
pub use dashboards::*;
pub use portal::*;
pub use zips::*;
