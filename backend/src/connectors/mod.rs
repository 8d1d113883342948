//! Clients of outside services, and nothing else: no database, no domain rules. Each has its
//! base URL in `Config`, its own error enum whose messages say what to fix, and a local fake of
//! the same shape in the tests.

pub mod ai;
pub mod bison;
pub mod chromium;
pub mod debounce;
pub mod mail;
pub mod sites;
pub mod slack;
