//! Revenue, costs and profit against hand-computed fixtures, on both backends.

use backend::{
    leads::{self, NewLead},
    reporting::metrics,
    reporting::revenue,
    platform::testing::test_state,
    tenancy::workspaces::{self, PricingModel, WorkspaceInput},
};
use chrono::{NaiveDate, TimeZone, Utc};

fn day(m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, m, d).unwrap()
}

async fn lead(db: &backend::platform::db::Db, ws: i64, tag: &str, on: NaiveDate, invalid: bool) -> i64 {
    leads::insert(db, ws, &NewLead { email: format!("{tag}@lead.test"), interested_day: Some(on), stage: backend::leads::Stage::New, invalid, ..Default::default() })
        .await
        .unwrap()
}

async fn cost(db: &backend::platform::db::Db, ws: i64, cents: i64, recurrence: &str, starts_on: NaiveDate) {
    backend::on_db!(db, |p| sqlx::query(
        "INSERT INTO client_costs (workspace_id, category, amount_cents, recurrence, starts_on, created_at) VALUES ($1, 'x', $2, $3, $4, $5)"
    )
    .bind(ws)
    .bind(cents)
    .bind(recurrence)
    .bind(starts_on)
    .bind(Utc::now())
    .execute(p)
    .await
    .map(|_| ()))
    .unwrap();
}

#[tokio::test]
async fn per_lead_and_retainer_revenue_costs_and_frozen_history() {
    let state = test_state().await;
    let db = &state.db;
    let today = day(11, 21);
    let mut per = WorkspaceInput::named("Per Lead Co");
    per.price_per_lead_cents = 15_000;
    let per = workspaces::create(db, per).await.unwrap();
    let mut ret = WorkspaceInput::named("Retainer Co");
    ret.pricing_model = PricingModel::Retainer;
    ret.retainer_fee_cents = 450_000;
    let ret = workspaces::create(db, ret).await.unwrap();

    // November: three valid interested leads and one invalid; October: two.
    for (tag, on) in [("n1", day(11, 3)), ("n2", day(11, 10)), ("n3", day(11, 21)), ("o1", day(10, 15)), ("o2", day(10, 31))] {
        lead(db, per.id, tag, on, false).await;
    }
    lead(db, per.id, "bad", day(11, 5), true).await;
    // A won deal of $5,000 on 10 Nov.
    let won = lead(db, per.id, "won", day(9, 1), false).await;
    backend::on_db!(db, |p| sqlx::query("UPDATE leads SET stage = 'won', deal_value_cents = 500000, won_day = $1 WHERE id = $2")
        .bind(day(11, 10))
        .bind(won)
        .execute(p)
        .await
        .map(|_| ()))
    .unwrap();
    // Costs: $300/month since September; one-offs of $120 (2 Nov), $50 (20 Oct), $999 (25 Nov, not yet).
    cost(db, per.id, 30_000, "monthly", day(9, 1)).await;
    cost(db, per.id, 12_000, "one_off", day(11, 2)).await;
    cost(db, per.id, 5_000, "one_off", day(10, 20)).await;
    cost(db, per.id, 99_900, "one_off", day(11, 25)).await;

    let nov = revenue::month(db, &per, 2026, 11, today).await.unwrap();
    // 3 × $150; costs 30000·21/30 + 12000 = 33000.
    assert_eq!((nov.billable_leads, nov.revenue_cents, nov.costs_cents, nov.frozen), (3, 45_000, 33_000, false));
    // Why billable is fewer than interested: 4 interested in November − 1 invalid = 3.
    assert_eq!((nov.interested_leads, nov.invalid_leads), (4, 1));
    let m = nov.money();
    assert_eq!(m.profit_cents, 12_000);
    assert!((m.margin.unwrap() - 12_000.0 / 45_000.0).abs() < 1e-12);
    assert!((m.roi.unwrap() - 12_000.0 / 33_000.0).abs() < 1e-12);
    assert_eq!(nov.won_value_cents, 500_000);
    assert_eq!(metrics::client_roi(nov.won_value_cents, nov.revenue_cents), Some(500_000.0 / 45_000.0));

    let oct = revenue::month(db, &per, 2026, 10, today).await.unwrap();
    assert_eq!((oct.billable_leads, oct.revenue_cents, oct.costs_cents, oct.frozen), (2, 30_000, 35_000, true));
    assert_eq!((oct.interested_leads, oct.invalid_leads), (2, 0), "counted live for a frozen month too");

    // A new price changes this month, not the closed one.
    let mut changed = WorkspaceInput::named("Per Lead Co");
    changed.price_per_lead_cents = 20_000;
    let per = workspaces::update(db, per.id, changed).await.unwrap();
    assert_eq!(revenue::month(db, &per, 2026, 11, today).await.unwrap().revenue_cents, 60_000);
    assert_eq!(revenue::month(db, &per, 2026, 10, today).await.unwrap().revenue_cents, 30_000);

    // Retainer: $4,500 · 21/30 month to date, whole in a closed month; no costs → ROI "—".
    let r_nov = revenue::month(db, &ret, 2026, 11, today).await.unwrap();
    assert_eq!(r_nov.revenue_cents, 315_000);
    assert_eq!((r_nov.money().margin, r_nov.money().roi), (Some(1.0), None));
    assert_eq!(revenue::month(db, &ret, 2026, 10, today).await.unwrap().revenue_cents, 450_000);

    // Daily billable revenue: per lead on the lead's day; retainer = fee / days in month.
    assert_eq!(revenue::daily_billable(db, &per, day(11, 1), day(11, 4)).await.unwrap(), vec![0, 0, 20_000, 0]);
    assert_eq!(revenue::daily_billable(db, &ret, day(11, 1), day(11, 2)).await.unwrap(), vec![15_000, 15_000]);
}

#[tokio::test]
async fn billing_at_a_pipeline_stage_counts_each_lead_once_when_it_first_gets_there() {
    let state = test_state().await;
    let db = &state.db;
    let mut w = WorkspaceInput::named("Stage Co");
    w.price_per_lead_cents = 10_000;
    w.billable_stage = "meeting_booked".into();
    let w = workspaces::create(db, w).await.unwrap();
    let at = |m: u32, d: u32| Utc.with_ymd_and_hms(2026, m, d, 17, 0, 0).unwrap();
    let a = lead(db, w.id, "a", day(10, 1), false).await;
    let b = lead(db, w.id, "b", day(10, 1), false).await;
    let c = lead(db, w.id, "c", day(10, 1), false).await;
    for (lead_id, to_stage, when) in [
        (a, "meeting_booked", at(11, 5)),
        (a, "quote_sent", at(11, 8)),   // already counted
        (b, "quote_sent", at(10, 30)),  // reached (past) the stage in October
        (b, "won", at(11, 12)),
        (c, "lost", at(11, 6)),         // lost never counts
    ] {
        backend::on_db!(db, |p| sqlx::query(
            "INSERT INTO lead_stage_history (lead_id, workspace_id, from_stage, to_stage, at) VALUES ($1, $2, 'new', $3, $4)"
        )
        .bind(lead_id)
        .bind(w.id)
        .bind(to_stage)
        .bind(when)
        .execute(p)
        .await
        .map(|_| ()))
        .unwrap();
    }
    assert_eq!(revenue::billable_leads(db, &w, day(11, 1), day(11, 21)).await.unwrap(), 1);
    assert_eq!(revenue::billable_leads(db, &w, day(10, 1), day(10, 31)).await.unwrap(), 1);
    assert_eq!(revenue::month(db, &w, 2026, 11, day(11, 21)).await.unwrap().revenue_cents, 10_000);
}

#[tokio::test]
async fn costs_and_zip_territories_validate_and_stay_in_their_workspace() {
    use backend::{reporting::costs, zips};
    let state = test_state().await;
    let db = &state.db;
    let a = workspaces::create(db, WorkspaceInput::named("Alpha")).await.unwrap();
    let b = workspaces::create(db, WorkspaceInput::named("Bravo")).await.unwrap();
    let cost = |amount, recurrence: &str, ends: Option<NaiveDate>| costs::NewCost {
        category: "software".into(),
        description: String::new(),
        amount_cents: amount,
        recurrence: recurrence.into(),
        starts_on: day(11, 1),
        ends_on: ends,
    };
    assert!(costs::add(db, a.id, cost(0, "monthly", None)).await.unwrap_err().to_string().contains("more than $0"));
    assert!(costs::add(db, a.id, cost(100, "weekly", None)).await.is_err());
    assert!(costs::add(db, a.id, cost(100, "one_off", Some(day(11, 30)))).await.unwrap_err().to_string().contains("no end date"));
    assert!(costs::add(db, a.id, cost(100, "monthly", Some(day(10, 1)))).await.unwrap_err().to_string().contains("before the start"));
    let id = costs::add(db, a.id, cost(100, "monthly", Some(day(12, 31)))).await.unwrap();
    // Another workspace can't delete it, even knowing its id.
    assert!(matches!(costs::delete(db, b.id, id).await, Err(backend::Error::NotFound)));
    costs::delete(db, a.id, id).await.unwrap();

    assert_eq!(zips::assign(db, a.id, " 2108", Some("ma"), Some("Boston")).await.unwrap(), "02108");
    assert_eq!(zips::assign(db, a.id, "02108", Some("MA"), Some("Boston")).await.unwrap(), "02108", "idempotent");
    assert_eq!(zips::list(db, a.id).await.unwrap().len(), 1);
    assert!(zips::assign(db, a.id, "02108", Some("Mass"), None).await.unwrap_err().to_string().contains("two-letter"));
    zips::assign(db, b.id, "02108-0001", None, None).await.unwrap();
    assert_eq!(zips::conflicts_of(db, a.id).await.unwrap(), vec![("02108".to_string(), "Bravo".to_string())]);
    assert!(matches!(zips::unassign(db, a.id, "99999").await, Err(backend::Error::NotFound)));
}
