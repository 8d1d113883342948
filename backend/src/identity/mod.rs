//! Who is calling: users, passwords, sessions, sign-in, throttling, the audit trail and the
//! nightly pruning of what they leave behind.

pub mod audit;
pub mod admin;
pub mod auth;
pub mod maintenance;
pub mod password;
pub mod reset;
pub mod sessions;
pub mod throttle;
pub mod users;
