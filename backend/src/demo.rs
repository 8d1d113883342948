//! The demo agency, seeded only in demo mode and only into an empty database, so a production
//! install never gets it. Logins are printed at start-up.

use crate::{
    access::{self, GrantLevel},
    db::Db,
    error::Result,
    users::{self, NewUser, Role},
    workspaces::{self, PricingModel, WorkspaceInput},
};

pub struct DemoLogin {
    pub role: &'static str,
    pub email: &'static str,
    pub password: &'static str,
    pub note: &'static str,
}

pub const LOGINS: &[DemoLogin] = &[
    DemoLogin { role: "admin", email: "admin@demo.maverick", password: "demo-admin-pass", note: "sees every workspace" },
    DemoLogin { role: "client", email: "client@demo.maverick", password: "demo-client-pass", note: "works Acme Roofing" },
    DemoLogin { role: "viewer", email: "viewer@demo.maverick", password: "demo-viewer-pass", note: "reads Bright Smile Dental" },
];

struct DemoWorkspace {
    name: &'static str,
    slug: &'static str,
    monthly_lead_target: i64,
    daily_send_target: i64,
    weekly_contact_target: i64,
    pricing: PricingModel,
    price_per_lead_cents: i64,
    retainer_fee_cents: i64,
}

const WORKSPACES: &[DemoWorkspace] = &[
    DemoWorkspace { name: "Acme Roofing", slug: "acme-roofing", monthly_lead_target: 40, daily_send_target: 1200, weekly_contact_target: 3000, pricing: PricingModel::PerLead, price_per_lead_cents: 15_000, retainer_fee_cents: 0 },
    DemoWorkspace { name: "Bright Smile Dental", slug: "bright-smile-dental", monthly_lead_target: 25, daily_send_target: 800, weekly_contact_target: 2000, pricing: PricingModel::Retainer, price_per_lead_cents: 0, retainer_fee_cents: 450_000 },
    DemoWorkspace { name: "Summit Realty Group", slug: "summit-realty", monthly_lead_target: 30, daily_send_target: 1000, weekly_contact_target: 2500, pricing: PricingModel::PerLead, price_per_lead_cents: 20_000, retainer_fee_cents: 0 },
    DemoWorkspace { name: "Glow Med Spa", slug: "glow-med-spa", monthly_lead_target: 20, daily_send_target: 600, weekly_contact_target: 1500, pricing: PricingModel::Retainer, price_per_lead_cents: 0, retainer_fee_cents: 300_000 },
];

/// Seeds the demo agency when the database has no users. Returns whether it seeded.
pub async fn seed_if_empty(db: &Db) -> Result<bool> {
    if users::count(db).await? > 0 {
        return Ok(false);
    }
    let mut ids = Vec::new();
    for w in WORKSPACES {
        let ws = workspaces::create(
            db,
            WorkspaceInput {
                name: w.name.into(),
                slug: w.slug.into(),
                monthly_lead_target: w.monthly_lead_target,
                daily_send_target: w.daily_send_target,
                weekly_contact_target: w.weekly_contact_target,
                pricing_model: w.pricing,
                price_per_lead_cents: w.price_per_lead_cents,
                retainer_fee_cents: w.retainer_fee_cents,
                billable_stage: "interested".into(),
            },
        )
        .await?;
        ids.push(ws.id);
    }
    let names = ["Avery Admin", "Casey Client", "Vic Viewer"];
    let mut user_ids = Vec::new();
    for (login, name) in LOGINS.iter().zip(names) {
        let user = users::create(
            db,
            NewUser {
                email: login.email.into(),
                display_name: name.into(),
                role: login.role.parse::<Role>()?,
                password: login.password.into(),
            },
        )
        .await?;
        user_ids.push(user.id);
    }
    let now = chrono::Utc::now();
    access::grant(db, user_ids[1], ids[0], GrantLevel::Client, user_ids[0], now).await?;
    access::grant(db, user_ids[2], ids[1], GrantLevel::Viewer, user_ids[0], now).await?;
    Ok(true)
}
