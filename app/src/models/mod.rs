//! Wire types: what server functions send to the page. Defined once, used on both sides.
//! One file per backend domain; every type is re-exported here, so `crate::models::X` is the path.

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
