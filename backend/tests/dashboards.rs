//! Dashboard numbers on a real database (both backends), against hand-computed fixtures.

use backend::{
    reporting::daily_metrics::{self, DayCounts},
    reporting::dashboards::{self, Period},
    reporting::rollout,
    platform::error::Error,
    leads::{self, NewLead},
    reporting::metrics::{MonthClock, PacingStatus},
    identity::sessions::SessionUser,
    platform::testing::test_state,
    identity::users::Role,
    tenancy::workspaces::{self, WorkspaceInput},
};
use chrono::{NaiveDate, TimeZone};

fn day(m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, m, d).unwrap()
}

fn caller(role: Role) -> SessionUser {
    SessionUser { session_id: 1, user_id: 1, email: "x@agency.test".into(), display_name: "X".into(), role }
}

async fn interested(db: &backend::platform::db::Db, ws: i64, on: NaiveDate, n: usize, tag: &str) {
    for i in 0..n {
        let lead = NewLead { email: format!("{tag}{i}-{on}@lead.test"), interested_day: Some(on), stage: backend::leads::Stage::New, ..Default::default() };
        leads::insert(db, ws, &lead).await.unwrap();
    }
}

#[tokio::test]
async fn kpi_pacing_rates_and_trend_match_hand_computed_values() {
    let state = test_state().await;
    let db = &state.db;
    let mut acme = WorkspaceInput::named("Acme");
    acme.monthly_lead_target = 40;
    let acme = workspaces::create(db, acme).await.unwrap().id;
    let beta = workspaces::create(db, WorkspaceInput::named("Beta")).await.unwrap().id;
    assert!(beta > acme);
    let gone = workspaces::create(db, WorkspaceInput::named("Gone")).await.unwrap().id;
    workspaces::set_active(db, gone, false).await.unwrap();

    // 21 Nov 2026: 17 interested over 1–13 Nov, one a day 14–20 Nov (the last 7 complete days),
    // one today → MTD 25; three on 31 Oct (previous month).
    for d in 1..=13 {
        interested(db, acme, day(11, d), if d <= 4 { 2 } else { 1 }, "a").await; // 8 + 9 = 17
    }
    for d in 14..=20 {
        interested(db, acme, day(11, d), 1, "b").await;
    }
    interested(db, acme, day(11, 21), 1, "c").await;
    interested(db, acme, day(10, 31), 3, "d").await;
    interested(db, gone, day(11, 5), 4, "g").await;
    // 100 contacted and 4 replies a day, 1–21 Nov.
    for d in 1..=21 {
        let c = DayCounts { sent: 180, contacted: 100, replies: 4, ..Default::default() };
        daily_metrics::upsert(db, acme, day(11, d), &c).await.unwrap();
    }
    // Writing a day again replaces it (idempotent sync).
    daily_metrics::upsert(db, acme, day(11, 21), &DayCounts { sent: 180, contacted: 100, replies: 4, ..Default::default() }).await.unwrap();

    let clock = MonthClock::at(day(11, 21));
    let admin = caller(Role::Admin);
    let rows = dashboards::kpi(db, &admin, &clock, Period::month_to_date(&clock), None).await.unwrap();
    assert_eq!(rows.iter().map(|r| r.slug.as_str()).collect::<Vec<_>>(), vec!["acme", "beta"], "archived workspaces are left out");

    let a = &rows[0];
    assert_eq!((a.pacing.mtd, a.pacing.target), (25, 40));
    assert!((a.pacing.expected_by_today - 28.0).abs() < 1e-9);
    assert!((a.pacing.pacing.unwrap() - 25.0 / 28.0).abs() < 1e-9);
    assert!((a.pacing.projection - 34.0).abs() < 1e-9, "25 + (7/7)·(30 − 21)");
    assert_eq!(a.pacing.status, PacingStatus::AtRisk);
    assert_eq!((a.contacted, a.replies, a.interested), (2100, 84, 25));
    assert_eq!(a.rates.reply_rate, Some(84.0 / 2100.0));
    assert_eq!(a.rates.positive_of_replies, Some(25.0 / 84.0));
    assert_eq!(a.rates.positive_of_contacted, Some(25.0 / 2100.0));
    // Trend: 23 Oct … 21 Nov; 31 Oct is slot 8 (3 leads), 1 Nov slot 9 (2), today slot 29 (1).
    assert_eq!(a.trend_30_days.len(), 30);
    assert_eq!((a.trend_30_days[8], a.trend_30_days[9], a.trend_30_days[29]), (3, 2, 1));
    assert_eq!(a.trend_30_days.iter().sum::<i64>(), 28);

    let b = &rows[1];
    assert_eq!((b.pacing.status, b.pacing.mtd, b.rates.reply_rate), (PacingStatus::NoTarget, 0, None));

    // A chosen period changes the activity and rates, not the month-to-date pacing.
    let week = Period::parse(Some("2026-11-14"), Some("2026-11-20"), &clock).unwrap();
    let rows = dashboards::kpi(db, &admin, &clock, week, Some("acme")).await.unwrap();
    assert_eq!(rows.len(), 1);
    assert_eq!((rows[0].contacted, rows[0].replies, rows[0].interested, rows[0].pacing.mtd), (700, 28, 7, 25));

    // Rows are scoped to what the caller can see: a client without grants sees none.
    assert!(dashboards::kpi(db, &caller(Role::Client), &clock, week, None).await.unwrap().is_empty());
    assert!(Period::parse(Some("2026-11-30"), Some("2026-11-01"), &clock).unwrap_err().to_string().contains("after the end"));
    assert!(Period::parse(Some("21/11/2026"), None, &clock).unwrap_err().to_string().contains("not a date"));
}

#[tokio::test]
async fn the_demo_agency_is_alive_and_varied() {
    let state = test_state().await;
    let db = &state.db;
    let today = day(11, 21);
    assert!(backend::runtime::demo::seed_if_empty_at(db, today).await.unwrap());
    let clock = MonthClock::at(today);
    let rows = dashboards::kpi(db, &caller(Role::Admin), &clock, Period::month_to_date(&clock), None).await.unwrap();
    assert_eq!(rows.len(), 12);
    let statuses: Vec<_> = rows.iter().map(|r| r.pacing.status).collect();
    assert!(statuses.contains(&PacingStatus::OnTrack) && statuses.contains(&PacingStatus::Behind), "{statuses:?}");
    // Every workspace is sending except the one still onboarding (inboxes warming up).
    let quiet: Vec<&str> = rows.iter().filter(|r| r.contacted == 0 || r.replies == 0).map(|r| r.slug.as_str()).collect();
    assert_eq!(quiet, vec!["sunrise-home-care"]);
    // Leads left and runway differ between workspaces (they were 20 × the daily target, 20.0
    // days, everywhere); one workspace is short of leads.
    let (_, sending) = dashboards::senders(db, &caller(Role::Admin)).await.unwrap();
    let runways: Vec<f64> = sending.iter().map(|w| w.runway_days.unwrap()).collect();
    let mut distinct = runways.iter().map(|d| format!("{d:.1}")).collect::<Vec<_>>();
    distinct.sort();
    distinct.dedup();
    assert_eq!(distinct.len(), 12, "{runways:?}");
    assert!(runways.iter().any(|d| *d < 7.0) && runways.iter().any(|d| *d > 30.0), "{runways:?}");
    assert!(sending.iter().all(|w| w.uncontacted_leads != 20 * w.daily_send_target));
    // The ROI page's first month (June) had no costs anywhere: its agency ROI is "—", not 0 %.
    let history = dashboards::monthly_history(db, &caller(Role::Admin), today, 6, None).await.unwrap();
    assert!(history.iter().all(|(_, _, ms)| ms[0].month == "2026-06" && ms[0].costs_cents == 0 && ms[0].money().roi.is_none()));
    assert!(history.iter().all(|(_, _, ms)| ms[5].costs_cents > 0));
    let senders: i64 = backend::on_db!(db, |p| sqlx::query_scalar("SELECT COUNT(*) FROM sender_accounts").fetch_one(p).await).unwrap();
    assert_eq!(senders, 204);
    let conflicts: i64 = backend::on_db!(db, |p| sqlx::query_scalar(
        "SELECT COUNT(*) FROM (SELECT zip FROM client_zip_codes GROUP BY zip HAVING COUNT(*) > 1) c"
    )
    .fetch_one(p)
    .await)
    .unwrap();
    assert_eq!(conflicts, 1);
}

#[tokio::test]
async fn home_alerts_and_rollout_from_the_demo_agency() {
    let state = test_state().await;
    let db = &state.db;
    let today = day(11, 21);
    backend::runtime::demo::seed_if_empty_at(db, today).await.unwrap();
    let clock = MonthClock::at(today);
    let admin = caller(Role::Admin);

    let kpi = dashboards::kpi(db, &admin, &clock, Period::month_to_date(&clock), None).await.unwrap();
    let alerts = dashboards::alerts(db, &admin, &kpi).await.unwrap();
    let behind = kpi.iter().filter(|r| r.pacing.status == PacingStatus::Behind).count();
    assert!(behind > 0);
    assert_eq!(alerts.behind.len(), behind);
    assert_eq!(alerts.zip_conflicts.len(), 1);
    assert_eq!(alerts.zip_conflicts[0].zip, "78701");
    assert_eq!(alerts.zip_conflicts[0].workspaces, vec!["Bright Smile Dental", "Glow Med Spa"]);
    assert!(!alerts.critical_senders.is_empty());
    assert!(alerts.critical_senders.iter().all(|s| s.status == "disconnected" || s.bounced_total * 100 > s.sent_total * 5));
    // Worst first: bounce rates never rise down the list.
    let rates: Vec<f64> = alerts.critical_senders.iter().map(|s| s.bounced_total as f64 / s.sent_total.max(1) as f64).collect();
    assert!(rates.len() > 8 && rates.windows(2).all(|w| w[0] >= w[1]), "{rates:?}");
    assert!(alerts.failed_jobs.is_empty());

    let rollout = dashboards::rollout(db, &admin, today).await.unwrap();
    assert_eq!(rollout.len(), 12);
    assert!(rollout.iter().all(|r| r.steps.len() == 5));
    // Nothing is done in the future, and nothing contradicts the calendar.
    assert!(rollout.iter().flat_map(|r| &r.steps).all(|s| s.completed_on.is_none_or(|d| d <= today) && s.conflict.is_none()));
    let overdue: Vec<(&str, &str)> =
        rollout.iter().flat_map(|r| r.steps.iter().filter(|s| s.overdue).map(|s| (r.workspace_slug.as_str(), s.key.as_str()))).collect();
    // Only the onboarding workspace's warm-up (due 4 days ago) is late.
    assert_eq!(overdue, vec![("sunrise-home-care", "warmup_done")]);
    let sunrise = rollout.iter().find(|r| r.workspace_slug == "sunrise-home-care").unwrap();
    // Its inboxes were never ticked, but its 18 connected senders (created 18 days ago) prove them.
    let inboxes = &sunrise.steps[1];
    assert_eq!(inboxes.key, "inboxes_created");
    assert_eq!((inboxes.completed_on, inboxes.proof.clone()), (Some(day(11, 3)), Some(rollout::Proof::ConnectedSenders { count: 18 })));
    assert_eq!((sunrise.steps[3].completed_on, sunrise.steps[3].due_on), (None, Some(day(11, 26))), "campaign live is due in 5 days");
    // Every workspace with an interested lead has its first-interested step done on or before
    // that lead's day; Northside never ticked it, so the data says when.
    for r in rollout.iter().filter(|r| r.workspace_slug != "sunrise-home-care") {
        assert!(r.steps.iter().all(|s| s.completed_on.is_some()), "{} is live: every step is done", r.workspace_slug);
    }
    let northside = rollout.iter().find(|r| r.workspace_slug == "northside-plumbing").unwrap();
    assert!(matches!(northside.steps[4].proof, Some(rollout::Proof::InterestedLead { first }) if Some(first) == northside.steps[4].completed_on));
    assert!(matches!(dashboards::rollout(db, &caller(Role::Viewer), today).await, Err(Error::Forbidden)));
}

#[tokio::test]
async fn volume_flags_under_sending_days_and_sums_connected_capacity() {
    let state = test_state().await;
    let db = &state.db;
    let mut w = WorkspaceInput::named("Acme");
    w.daily_send_target = 1000;
    let ws = workspaces::create(db, w).await.unwrap().id;
    for (d, sent) in [(1, 1000), (2, 790), (3, 800), (5, 1200)] {
        daily_metrics::upsert(db, ws, day(11, d), &DayCounts { sent, ..Default::default() }).await.unwrap();
    }
    for (email, status, limit) in [("a@s.test", "connected", 40), ("b@s.test", "connected", 50), ("c@s.test", "disconnected", 45)] {
        backend::on_db!(db, |p| sqlx::query(
            "INSERT INTO sender_accounts (workspace_id, email, status, daily_limit, created_at) VALUES ($1, $2, $3, $4, $5)"
        )
        .bind(ws)
        .bind(email)
        .bind(status)
        .bind(limit as i64)
        .bind(chrono::Utc::now())
        .execute(p)
        .await
        .map(|_| ()))
        .unwrap();
    }
    let clock = MonthClock::at(day(11, 21));
    let period = Period::parse(Some("2026-11-01"), Some("2026-11-05"), &clock).unwrap();
    let rows = dashboards::volume(db, &caller(Role::Admin), period).await.unwrap();
    assert_eq!(rows.len(), 1);
    let r = &rows[0];
    assert_eq!(r.sent_per_day, vec![1000, 790, 800, 0, 1200]);
    // Under 80 % of 1,000: 790 on the 2nd and nothing reported on the 4th; exactly 800 is not under.
    assert_eq!(r.under_sending_days, vec![day(11, 2), day(11, 4)]);
    assert_eq!((r.total_sent, r.capacity, r.connected_senders), (3790, 90, 2));
}

#[tokio::test]
async fn sender_health_bands_capacity_and_runway_match_hand_computed_values() {
    let state = test_state().await;
    let db = &state.db;
    let mut acme = WorkspaceInput::named("Acme");
    acme.daily_send_target = 100;
    let acme = workspaces::create(db, acme).await.unwrap().id;
    let now = chrono::Utc::now();
    for (name, status, total, contacted) in [("Live", "active", 1000, 300), ("Old", "paused", 500, 0)] {
        backend::on_db!(db, |p| sqlx::query(
            "INSERT INTO campaigns (workspace_id, name, status, leads_total, leads_contacted, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $6)"
        )
        .bind(acme)
        .bind(name)
        .bind(status)
        .bind(total as i64)
        .bind(contacted as i64)
        .bind(now)
        .execute(p)
        .await
        .map(|_| ()))
        .unwrap();
    }
    // (email, status, daily limit, sent, bounced): 1 % healthy, 3 % warning, 6 % critical, nothing sent.
    for (email, status, limit, sent, bounced) in
        [("a@s.test", "connected", 40, 1000, 10), ("b@s.test", "connected", 30, 1000, 30), ("c@s.test", "disconnected", 50, 1000, 60), ("d@s.test", "paused", 20, 0, 0)]
    {
        backend::on_db!(db, |p| sqlx::query(
            "INSERT INTO sender_accounts (workspace_id, email, status, daily_limit, sent_total, bounced_total, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7)"
        )
        .bind(acme)
        .bind(email)
        .bind(status)
        .bind(limit as i64)
        .bind(sent as i64)
        .bind(bounced as i64)
        .bind(now)
        .execute(p)
        .await
        .map(|_| ()))
        .unwrap();
    }
    let (senders, sending) = dashboards::senders(db, &caller(Role::Admin)).await.unwrap();
    let bands: Vec<_> = senders.iter().map(|s| backend::reporting::metrics::health_band(s.bounced_total, s.sent_total)).collect();
    use backend::reporting::metrics::HealthBand::*;
    assert_eq!(bands, vec![Healthy, Warning, Critical, NoData]);
    assert_eq!(sending.len(), 1);
    let w = &sending[0];
    // Capacity counts connected senders only: 40 + 30. Leads left: 1000 − 300 in the active
    // campaign (the paused one does not count); runway 700 / 100 a day = 7 days.
    assert_eq!((w.capacity, w.connected_senders, w.uncontacted_leads, w.runway_days), (70, 2, 700, Some(7.0)));
    assert!(matches!(dashboards::senders(db, &caller(Role::Client)).await, Err(Error::Forbidden)));
}

#[tokio::test]
async fn rollout_steps_follow_the_data_and_refuse_future_done_days() {
    let state = test_state().await;
    let db = &state.db;
    let ws = workspaces::create(db, WorkspaceInput::named("Acme")).await.unwrap().id;
    let today = day(11, 30);
    let steps = [("domains_bought", day(10, 1)), ("inboxes_created", day(10, 8)), ("warmup_done", day(11, 1)), ("campaign_live", day(11, 3)), ("first_interested", day(12, 10))];
    for (pos, (key, due)) in steps.iter().enumerate() {
        backend::on_db!(db, |p| sqlx::query("INSERT INTO rollout_steps (workspace_id, step_key, label, position, due_on) VALUES ($1, $2, $2, $3, $4)")
            .bind(ws)
            .bind(*key)
            .bind(pos as i64)
            .bind(*due)
            .execute(p)
            .await
            .map(|_| ()))
        .unwrap();
    }
    // Ticked: domains on 2 Oct. Refused: anything after today, and unknown steps.
    rollout::record_done(db, ws, "domains_bought", Some(day(10, 2)), today).await.unwrap();
    let err = rollout::record_done(db, ws, "campaign_live", Some(day(12, 1)), today).await.unwrap_err();
    assert!(matches!(err, Error::Invalid(_)));
    assert_eq!(err.to_string(), "A step can't be done on 2026-12-01: that is after today (2026-11-30, agency time). Enter the day it was done.");
    assert!(matches!(rollout::record_done(db, ws, "no_such_step", Some(day(11, 1)), today).await, Err(Error::NotFound)));
    assert!(matches!(rollout::mark_done(db, &caller(Role::Client), ws, "domains_bought", None, today).await, Err(Error::Forbidden)));
    // A future tick written before the rule existed shows as a conflict.
    backend::on_db!(db, |p| sqlx::query("UPDATE rollout_steps SET completed_on = $1 WHERE step_key = 'warmup_done'").bind(day(12, 24)).execute(p).await.map(|_| ()))
        .unwrap();

    let admin = caller(Role::Admin);
    let by_key = |r: &[rollout::Rollout], k: &str| r[0].steps.iter().find(|s| s.key == k).unwrap().clone();
    // No data yet: inboxes and campaign overdue, warm-up a conflict (and overdue), first lead due later.
    let r = rollout::rollout(db, &admin, today).await.unwrap();
    assert_eq!(by_key(&r, "domains_bought").completed_on, Some(day(10, 2)));
    assert!(by_key(&r, "inboxes_created").overdue && by_key(&r, "campaign_live").overdue);
    let warm = by_key(&r, "warmup_done");
    assert_eq!((warm.completed_on, warm.overdue), (None, true));
    assert_eq!(warm.conflict.as_deref(), Some("ticked as done on 2026-12-24, which is after today (2026-11-30)"));
    assert!(!by_key(&r, "first_interested").overdue);

    // The data: two connected senders (one created 12 Oct 03:00 UTC = 11 Oct in New York), a
    // disconnected one that doesn't count, mail sent from 4 Nov, an invalid interested lead on
    // 5 Nov and a valid one on 9 Nov.
    for (email, status, at) in [
        ("a@s.test", "connected", chrono::Utc.with_ymd_and_hms(2026, 10, 12, 3, 0, 0).unwrap()),
        ("b@s.test", "connected", chrono::Utc.with_ymd_and_hms(2026, 10, 20, 15, 0, 0).unwrap()),
        ("c@s.test", "disconnected", chrono::Utc.with_ymd_and_hms(2026, 9, 1, 15, 0, 0).unwrap()),
    ] {
        backend::on_db!(db, |p| sqlx::query("INSERT INTO sender_accounts (workspace_id, email, status, created_at) VALUES ($1, $2, $3, $4)")
            .bind(ws)
            .bind(email)
            .bind(status)
            .bind(at)
            .execute(p)
            .await
            .map(|_| ()))
        .unwrap();
    }
    daily_metrics::upsert(db, ws, day(11, 3), &DayCounts { sent: 0, ..Default::default() }).await.unwrap();
    for (d, sent) in [(4, 500), (5, 740)] {
        daily_metrics::upsert(db, ws, day(11, d), &DayCounts { sent, ..Default::default() }).await.unwrap();
    }
    let bad = NewLead { email: "bad@lead.test".into(), interested_day: Some(day(11, 5)), invalid: true, ..Default::default() };
    leads::insert(db, ws, &bad).await.unwrap();
    interested(db, ws, day(11, 9), 1, "ok").await;

    let r = rollout::rollout(db, &admin, today).await.unwrap();
    // A tick stands over the data.
    assert_eq!(by_key(&r, "domains_bought").completed_on, Some(day(10, 2)));
    let inboxes = by_key(&r, "inboxes_created");
    assert_eq!((inboxes.completed_on, inboxes.overdue, inboxes.proof), (Some(day(10, 11)), false, Some(rollout::Proof::ConnectedSenders { count: 2 })));
    let live = by_key(&r, "campaign_live");
    assert_eq!((live.completed_on, live.proof), (Some(day(11, 4)), Some(rollout::Proof::Sending { since: day(11, 4), sent: 1240 })));
    // The future tick is still reported, but the data's day stands in for it.
    let warm = by_key(&r, "warmup_done");
    assert_eq!((warm.completed_on, warm.overdue, warm.conflict.is_some()), (Some(day(11, 4)), false, true));
    let first = by_key(&r, "first_interested");
    assert_eq!((first.completed_on, first.proof), (Some(day(11, 9)), Some(rollout::Proof::InterestedLead { first: day(11, 9) })));
}
