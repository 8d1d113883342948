//! 90 days of believable history for the demo agency: campaigns, interested leads across the
//! pipeline, daily sending metrics, sender accounts across health bands, client costs, ZIP
//! territories (one ZIP claimed twice) and rollout checklists. Deterministic (fixed seeds), and
//! varied on purpose: some workspaces pace ahead of target, some fall behind.

use chrono::{Duration, NaiveDate, TimeZone, Utc};
use rand::{rngs::StdRng, Rng, SeedableRng};

use crate::{
    reporting::daily_metrics::{self, DayCounts},
    platform::db::Db,
    platform::error::Result,
    leads::{self, NewLead, Stage},
    on_db,
};

/// How fast each demo workspace produces interested leads, relative to its target.
const PACE: &[f64] = &[1.25, 0.7, 1.05, 0.45, 0.95, 1.4, 0.85, 0.6, 1.1, 0.3, 1.0, 0.75];
const DAYS: i64 = 90;
/// The last workspace is still onboarding: inboxes warming up, no campaign mail yet.
const ONBOARDING: usize = 11;
/// Days of uncontacted leads left in each workspace's active campaign, at its daily send target.
const RUNWAY_DAYS: &[f64] = &[26.4, 11.2, 33.8, 4.6, 18.9, 7.3, 41.5, 14.1, 22.7, 3.2, 29.6, 35.0];

const FIRST: &[&str] = &["James", "Maria", "Robert", "Linda", "Michael", "Patricia", "David", "Jennifer", "Daniel", "Susan", "Kevin", "Angela", "Brian", "Nicole", "Jason", "Laura"];
const LAST: &[&str] = &["Smith", "Garcia", "Johnson", "Martinez", "Brown", "Davis", "Miller", "Lopez", "Wilson", "Anderson", "Taylor", "Thomas", "Moore", "Jackson", "White", "Harris"];
const COMPANY: &[&str] = &["Oakridge Properties", "Blue Fern LLC", "Cedar & Co", "Maple Street Homes", "Granite Holdings", "Willow Partners", "Summit Estates", "Harborview Group", "Redwood Living", "Copperline Inc"];
const REPLIES: &[&str] = &[
    "Yes, this is timely — can you call me Tuesday afternoon?",
    "Interested. What would pricing look like for a property our size?",
    "Sounds good, send me some times for next week.",
    "We were just talking about this. Who should I loop in?",
    "Please send more details and a quote.",
];

fn pick<'a>(rng: &mut StdRng, list: &[&'a str]) -> &'a str {
    list[rng.gen_range(0..list.len())]
}

/// The stage a lead has reached, by how many days ago it turned interested.
fn stage_for(rng: &mut StdRng, age_days: i64) -> Stage {
    use Stage::*;
    let roll: f64 = rng.gen();
    match age_days {
        0..=2 => New,
        3..=10 => [New, Contacted, FollowUp][(roll * 3.0) as usize],
        11..=30 => [Contacted, FollowUp, MeetingBooked, QuoteSent, Lost][(roll * 5.0) as usize],
        _ => [FollowUp, MeetingBooked, QuoteSent, Won, Won, Lost][(roll * 6.0) as usize],
    }
}

pub(crate) async fn seed_workspace(db: &Db, ws_id: i64, index: usize, target: i64, daily_send_target: i64, today: NaiveDate) -> Result<()> {
    let mut rng = StdRng::seed_from_u64(0xC0FFEE + index as u64);
    // A second stream for campaign sizes and rollout days, so the history above stays as it was.
    let mut rng2 = StdRng::seed_from_u64(0x5EED + index as u64);
    let pace = PACE[index % PACE.len()];
    let now = Utc::now();
    let onboarding = index == ONBOARDING;
    let live_days = if onboarding { 0 } else { DAYS };
    // The launch: the older clients went live before the 90 days of history kept here (days
    // apart), the newer ones on its first day; inboxes 16 days before going live (two weeks of
    // warm-up), domains 3 days before that (the onboarding workspace: inboxes 18 days ago).
    // The first cost is at most 120 days old, so the first of the ROI page's six months has none.
    let first_send = today - Duration::days(DAYS - 1);
    let launch = first_send - Duration::days([12, 10, 8, 7, 5, 4, 3, 2, 1, 0, 0, 0][index % 12]);
    let inboxes_day = if onboarding { today - Duration::days(18) } else { launch - Duration::days(16) };
    let domains_day = inboxes_day - Duration::days(3);

    let mut campaign_ids = Vec::new();
    for (n, label) in ["Homeowners Q4", "Referral follow-up"].iter().enumerate() {
        let id = on_db!(db, |pool| sqlx::query_scalar::<_, i64>(
            "INSERT INTO campaigns (workspace_id, bison_campaign_id, name, status, leads_total, leads_contacted, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $7) RETURNING id"
        )
        .bind(ws_id)
        .bind(format!("demo-{ws_id}-{n}"))
        .bind(*label)
        .bind(if n == 0 { "active" } else { "paused" })
        .bind(0_i64) // sized below, once the history says how many were contacted
        .bind(0_i64)
        .bind(now)
        .fetch_one(pool)
        .await)?;
        campaign_ids.push(id);
    }

    // Interested leads day by day, and that day's sending metrics.
    let per_day = target as f64 / 30.0 * pace;
    let bounce_rate = [0.006, 0.012, 0.018, 0.025, 0.035][index % 5];
    let mut serial = 0;
    let (mut contacted_total, mut first_interested) = (0_i64, None);
    for back in (0..live_days).rev() {
        let day = today - Duration::days(back);
        let mut interested = per_day.floor() as i64 + i64::from(rng.gen::<f64>() < per_day.fract());
        if back == 0 {
            interested /= 2; // today is not over yet
        }
        if interested > 0 && first_interested.is_none() {
            first_interested = Some(day);
        }
        for _ in 0..interested {
            serial += 1;
            let (first, last, company) = (pick(&mut rng, FIRST), pick(&mut rng, LAST), pick(&mut rng, COMPANY));
            let stage = stage_for(&mut rng, back);
            let won = stage == Stage::Won;
            // Today's replies can't have arrived later than now (early on the 1st, most of the day is ahead).
            let received = Utc.from_utc_datetime(&day.and_hms_opt(rng.gen_range(13..23), rng.gen_range(0..60), 0).expect("valid time")).min(now);
            leads::insert(
                db,
                ws_id,
                &NewLead {
                    email: format!("{}.{}{serial}@{}.example", first.to_lowercase(), last.to_lowercase(), company.to_lowercase().replace([' ', '&'], "")),
                    first_name: Some(first.into()),
                    last_name: Some(last.into()),
                    company: Some(company.into()),
                    campaign_id: Some(campaign_ids[serial % 2]),
                    reply_text: Some(pick(&mut rng, REPLIES).into()),
                    received_at: Some(received),
                    interested_day: Some(day),
                    stage,
                    deal_value_cents: won.then(|| rng.gen_range(20..150) * 10_000),
                    won_day: won.then(|| day + Duration::days(rng.gen_range(10..25)).min(today - day)),
                    invalid: rng.gen::<f64>() < 0.03,
                },
            )
            .await?;
        }
        let under_sending = rng.gen::<f64>() < 0.1;
        let sent = (daily_send_target as f64 * if under_sending { rng.gen_range(0.4..0.7) } else { rng.gen_range(0.85..1.05) }) as i64;
        let contacted = (sent as f64 * 0.55) as i64;
        contacted_total += contacted;
        let replies = ((contacted as f64 * rng.gen_range(0.02..0.04)) as i64).max(interested);
        daily_metrics::upsert(
            db,
            ws_id,
            day,
            &DayCounts {
                sent,
                contacted,
                replies,
                interested,
                bounced: (sent as f64 * bounce_rate * rng.gen_range(0.7..1.3)) as i64,
                unsubscribed: replies / 8,
            },
        )
        .await?;
    }

    // The active campaign holds most of the contacted leads and some weeks of uncontacted ones
    // (varied, one nearly empty); the paused one was worked through.
    let left = (daily_send_target as f64 * RUNWAY_DAYS[index % RUNWAY_DAYS.len()] * rng2.gen_range(0.97..1.03)) as i64;
    let active_contacted = contacted_total * rng2.gen_range(80..95) / 100;
    for (id, total, contacted) in [
        (campaign_ids[0], active_contacted + left, active_contacted),
        (campaign_ids[1], contacted_total - active_contacted, contacted_total - active_contacted),
    ] {
        on_db!(db, |pool| sqlx::query("UPDATE campaigns SET leads_total = $1, leads_contacted = $2 WHERE id = $3")
            .bind(total)
            .bind(contacted)
            .bind(id)
            .execute(pool)
            .await
            .map(|r| r.rows_affected()))?;
    }

    // About 17 senders each (≈ 200 in all), mostly healthy, some warning, a few critical; the
    // onboarding workspace's are all warming up (warm-up mail only, all healthy).
    let senders_created = Utc.from_utc_datetime(&inboxes_day.and_hms_opt(16, 0, 0).expect("valid time"));
    for k in 0..(16 + index % 3) {
        let roll: f64 = if onboarding { rng.gen_range(0.0..0.8) } else { rng.gen() };
        let bounce = if roll < 0.8 { rng.gen_range(0.004..0.018) } else if roll < 0.93 { rng.gen_range(0.021..0.049) } else { rng.gen_range(0.055..0.09) };
        let status = if roll > 0.97 { "disconnected" } else if roll > 0.95 { "paused" } else { "connected" };
        // Enough capacity for the daily target, except one workspace that is short of inboxes.
        let cover = if index == 9 { 0.7 } else { rng.gen_range(1.05..1.35) };
        let daily_limit = ((daily_send_target as f64 * cover / 16.0) as i64).max(20);
        let sent_total = if onboarding { rng.gen_range(8..20) * 15 } else { daily_limit * rng.gen_range(40..80) };
        on_db!(db, |pool| sqlx::query(
            "INSERT INTO sender_accounts (workspace_id, bison_sender_id, email, status, daily_limit, warmup_enabled, sent_total, \
             bounced_total, replies_total, last_synced_at, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)"
        )
        .bind(ws_id)
        .bind(format!("demo-sender-{ws_id}-{k}"))
        .bind(format!("{}{k}@outreach-{ws_id}.example", pick(&mut rng, FIRST).to_lowercase()))
        .bind(status)
        .bind(daily_limit)
        .bind(onboarding || k % 4 == 0)
        .bind(sent_total)
        .bind((sent_total as f64 * bounce) as i64)
        .bind(sent_total / 40)
        .bind(now)
        .bind(senders_created)
        .execute(pool)
        .await
        .map(|r| r.rows_affected()))?;
    }

    // Costs: recurring software and inboxes, a one-off domain purchase and a data list.
    let costs: [(&str, &str, i64, &str, NaiveDate); 4] = [
        ("software", "Sending platform seats", 25_000, "monthly", domains_day),
        ("inboxes", "Google Workspace inboxes", 1_500 * (16 + index as i64 % 3), "monthly", inboxes_day),
        ("domains", "Sending domains", 18_000, "one_off", domains_day),
        ("data", "Contact list purchase", 40_000 + 5_000 * index as i64, "one_off", crate::reporting::metrics::MonthClock::at(today).month_start),
    ];
    for (category, description, amount, recurrence, starts_on) in costs {
        on_db!(db, |pool| sqlx::query(
            "INSERT INTO client_costs (workspace_id, category, description, amount_cents, recurrence, starts_on, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)"
        )
        .bind(ws_id)
        .bind(category)
        .bind(description)
        .bind(amount)
        .bind(recurrence)
        .bind(starts_on)
        .bind(now)
        .execute(pool)
        .await
        .map(|r| r.rows_affected()))?;
    }

    // Rollout checklist, ticked on the days things happened (never in the future: the write
    // refuses it). One live workspace never ticked its first interested lead (the data proves
    // it); the onboarding one has not ticked its inboxes (its senders prove them) and its
    // warm-up is late.
    let days: [Option<NaiveDate>; 5] = if onboarding {
        [Some(domains_day), None, None, None, None]
    } else {
        // Launched before the history kept: its first lead came within the first week.
        let first_lead = if launch < first_send { Some(launch + Duration::days(rng2.gen_range(2..8))) } else { first_interested };
        [Some(domains_day), Some(inboxes_day), Some(launch - Duration::days(2)), Some(launch), first_lead.filter(|_| index != 8)]
    };
    let planned: [NaiveDate; 5] = if onboarding {
        [domains_day - Duration::days(1), inboxes_day - Duration::days(1), today - Duration::days(4), today + Duration::days(5), today + Duration::days(12)]
    } else {
        [domains_day, inboxes_day, launch - Duration::days(2), launch, launch + Duration::days(7)].map(|d| d + Duration::days(rng2.gen_range(-3..=4)))
    };
    let steps = [("domains_bought", "Domains bought"), ("inboxes_created", "Inboxes created"), ("warmup_done", "Warm-up done"), ("campaign_live", "Campaign live"), ("first_interested", "First interested lead")];
    for (pos, (key, label)) in steps.iter().enumerate() {
        on_db!(db, |pool| sqlx::query(
            "INSERT INTO rollout_steps (workspace_id, step_key, label, position, due_on) VALUES ($1, $2, $3, $4, $5)"
        )
        .bind(ws_id)
        .bind(*key)
        .bind(*label)
        .bind(pos as i64)
        .bind(planned[pos])
        .execute(pool)
        .await
        .map(|r| r.rows_affected()))?;
        if let Some(done) = days[pos] {
            crate::reporting::rollout::record_done(db, ws_id, key, Some(done), today).await?;
        }
    }
    Ok(())
}

/// Metro areas in several states, by their first ZIP: each workspace holds two metros, five
/// consecutive (real) ZIPs each; 78701 is claimed by two workspaces.
const ZIPS: &[(&str, &str, &str)] = &[
    ("10001", "NY", "New York"), ("11201", "NY", "Brooklyn"), ("33125", "FL", "Miami"), ("32801", "FL", "Orlando"),
    ("33602", "FL", "Tampa"), ("30301", "GA", "Atlanta"), ("75201", "TX", "Dallas"), ("78701", "TX", "Austin"),
    ("77002", "TX", "Houston"), ("85001", "AZ", "Phoenix"), ("90001", "CA", "Los Angeles"), ("94102", "CA", "San Francisco"),
    ("92101", "CA", "San Diego"), ("60601", "IL", "Chicago"), ("98101", "WA", "Seattle"), ("80202", "CO", "Denver"),
    ("02108", "MA", "Boston"), ("19103", "PA", "Philadelphia"), ("28202", "NC", "Charlotte"), ("37201", "TN", "Nashville"),
    ("97201", "OR", "Portland"), ("89101", "NV", "Las Vegas"), ("55401", "MN", "Minneapolis"), ("63101", "MO", "St. Louis"),
];

pub(crate) async fn seed_zip_territories(db: &Db, workspace_ids: &[i64]) -> Result<()> {
    let now = Utc::now();
    for (i, ws) in workspace_ids.iter().enumerate() {
        let mut picks: Vec<&(&str, &str, &str)> = ZIPS.iter().skip(2 * i % ZIPS.len()).take(2).collect();
        if i == 1 {
            picks.push(&ZIPS[7]); // the conflict: Austin 78701 is also workspace 4's
        }
        let zips = picks.into_iter().flat_map(|(first, state, city)| {
            let first: u32 = first.parse().expect("demo ZIPs are numbers");
            let span = if first == 78701 { 1 } else { 5 };
            (first..first + span).map(move |z| (format!("{z:05}"), *state, *city))
        });
        let zips: Vec<(String, &str, &str)> = zips.collect();
        for (zip, state, city) in &zips {
            on_db!(db, |pool| sqlx::query(
                "INSERT INTO client_zip_codes (workspace_id, zip, state, city, assigned_at) VALUES ($1, $2, $3, $4, $5)"
            )
            .bind(ws)
            .bind(zip)
            .bind(*state)
            .bind(*city)
            .bind(now)
            .execute(pool)
            .await
            .map(|r| r.rows_affected()))?;
        }
    }
    Ok(())
}
