pub mod clients;
pub mod home;
pub mod kpi;
pub mod revenue;
pub mod roi;
pub mod rollout;
pub mod users;
pub mod volume;
