//! Whose data it is: workspaces (the agency's clients), who may see and change each one
//! (grants and access levels), and the agency's own settings.

pub mod access;
pub mod admin;
pub mod api_tokens;
pub mod settings;
pub mod workspaces;
