pub mod account;
pub mod admin;
pub mod integrations;
pub mod lead;
pub mod login;
pub mod personalization;
pub mod portal;
pub mod public;
