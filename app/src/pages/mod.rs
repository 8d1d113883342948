pub mod account;
pub mod admin;
pub mod login;
pub mod portal;
