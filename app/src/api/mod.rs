//! Server functions. Each one is thin: who is calling, may they, is the input valid, then one
//! call into the server-only core, then the wire type. Endpoints are named explicitly so the
//! isolation test (server/tests/isolation.rs) can hold a case for every one of them. One file per
//! backend domain (endpoint URLs are kept as they were, whatever file now holds them).

pub mod automations;
pub mod bison;
pub mod contacts;
pub mod identity;
pub mod integrations;
pub mod leads;
pub mod notifications;
pub mod personalization;
pub mod prospects;
pub mod reporting;
pub mod tenancy;
pub mod zips;

#[cfg(feature = "ssr")]
pub mod ctx;

pub use automations::*;
pub use bison::*;
pub use contacts::*;
pub use identity::*;
pub use integrations::*;
pub use leads::*;
pub use notifications::*;
pub use personalization::*;
pub use prospects::*;
pub use reporting::*;
pub use tenancy::*;
pub use zips::*;
