//! Prospects (issue 15): agent and company lists an agency scrapes or buys, resolved into one
//! master list of real people with a confidence, a review queue and a merge log.
//!
//! `normalize` cleans emails, phones and names; `resolve` is the entity-resolution engine (pure,
//! no database: blocking, rules with the seed's confidences, union-find with a chain guard);
//! `file` reads person records from a CSV (header auto-mapped) and writes the clusters — the
//! standalone mode of `server prospects resolve --input … --out …` and of the benchmark;
//! `store` is the database side (migrations 0024–0025): raw, persons, masters, review, runs;
//! `jobs` queues resolver runs for a worker.

pub mod file;
pub mod jobs;
pub mod normalize;
pub mod resolve;
pub mod store;

pub use jobs::request_resolve;
pub use normalize::Region;
pub use resolve::{PersonInput, Resolution, Rule, AUTO_MERGE_ABOVE};
