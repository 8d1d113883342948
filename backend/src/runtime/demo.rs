//! The demo agency, seeded only in demo mode and only into an empty database, so a production
//! install never gets it. Logins are printed at start-up.

use crate::{
    tenancy::access::{self, GrantLevel},
    platform::db::Db,
    platform::error::Result,
    identity::users::{self, NewUser, Role},
    tenancy::workspaces::{self, PricingModel, WorkspaceInput},
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

pub(crate) struct DemoWorkspace {
    name: &'static str,
    slug: &'static str,
    monthly_lead_target: i64,
    daily_send_target: i64,
    weekly_contact_target: i64,
    pricing: PricingModel,
    price_per_lead_cents: i64,
    retainer_fee_cents: i64,
}

const fn ws(
    name: &'static str,
    slug: &'static str,
    monthly_lead_target: i64,
    daily_send_target: i64,
    pricing: PricingModel,
    price_cents: i64,
) -> DemoWorkspace {
    let (price_per_lead_cents, retainer_fee_cents) = match pricing {
        PricingModel::PerLead => (price_cents, 0),
        PricingModel::Retainer => (0, price_cents),
    };
    DemoWorkspace {
        name,
        slug,
        monthly_lead_target,
        daily_send_target,
        weekly_contact_target: daily_send_target * 5 / 2,
        pricing,
        price_per_lead_cents,
        retainer_fee_cents,
    }
}

/// Twelve client businesses, both pricing models, targets of different sizes.
const WORKSPACES: &[DemoWorkspace] = &[
    ws("Acme Roofing", "acme-roofing", 40, 1200, PricingModel::PerLead, 15_000),
    ws("Bright Smile Dental", "bright-smile-dental", 25, 800, PricingModel::Retainer, 450_000),
    ws("Summit Realty Group", "summit-realty", 30, 1000, PricingModel::PerLead, 20_000),
    ws("Glow Med Spa", "glow-med-spa", 20, 600, PricingModel::Retainer, 300_000),
    ws("Evergreen Landscaping", "evergreen-landscaping", 35, 1100, PricingModel::PerLead, 12_000),
    ws("Harbor HVAC", "harbor-hvac", 45, 1400, PricingModel::PerLead, 14_000),
    ws("Keystone Consulting", "keystone-consulting", 15, 500, PricingModel::Retainer, 600_000),
    ws("Lakeside Solar", "lakeside-solar", 50, 1600, PricingModel::PerLead, 18_000),
    ws("Northside Plumbing", "northside-plumbing", 30, 900, PricingModel::PerLead, 11_000),
    ws("Pinnacle Fitness", "pinnacle-fitness", 20, 700, PricingModel::Retainer, 250_000),
    ws("Riverbend Law", "riverbend-law", 12, 450, PricingModel::Retainer, 550_000),
    ws("Sunrise Home Care", "sunrise-home-care", 25, 800, PricingModel::PerLead, 16_000),
];

/// Seeds the demo agency when the database has no users. Returns whether it seeded.
pub async fn seed_if_empty(db: &Db) -> Result<bool> {
    seed_if_empty_at(db, crate::tenancy::settings::agency_today(chrono::Utc::now(), crate::tenancy::settings::DEFAULT_TIME_ZONE)).await
}

/// Same, with 90 days of history ending on `today` (tests pin the day).
pub async fn seed_if_empty_at(db: &Db, today: chrono::NaiveDate) -> Result<bool> {
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
    for (i, (id, w)) in ids.iter().zip(WORKSPACES).enumerate() {
        crate::runtime::demo_history::seed_workspace(db, *id, i, w.monthly_lead_target, w.daily_send_target, today).await?;
    }
    crate::runtime::demo_history::seed_zip_territories(db, &ids).await?;
    Ok(true)
}
