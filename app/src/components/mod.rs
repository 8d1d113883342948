pub mod chart;
pub mod format;
pub mod guard;
pub mod layout;
pub mod sort;
pub mod status;
pub mod theme;
pub mod ui;
