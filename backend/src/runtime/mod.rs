//! The composition root: migrations, every domain's job registration, the background loops of
//! a process, and the demo agency.

pub mod demo;
pub mod demo_automations;
pub mod password_reset;
pub mod prospects_to_contacts;
pub mod rekey;
mod demo_history;
pub mod uploads;
pub mod workers;
