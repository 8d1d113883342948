//! Email Bison as a source of data: scheduled and on-demand syncs (campaigns, senders, daily
//! numbers, interested replies) and the interested-lead webhook.
//! Declared edges: `bison → leads, notifications`.

pub mod credentials;
pub mod jobs;
pub mod sync;
pub mod webhook;

pub use jobs::request_sync;
