//! What admins read: metric rules, dashboards, revenue and costs, ROI. Reads every domain's
//! tables; no module imports it (only `runtime`, which seeds the demo history).

pub mod costs;
pub mod daily_metrics;
pub mod dashboards;
pub mod metrics;
pub mod revenue;
pub mod rollout;
