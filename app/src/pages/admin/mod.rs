pub mod clients;
pub mod home;
pub mod users;
