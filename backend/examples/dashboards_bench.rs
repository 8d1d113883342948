//! `make bench`: generates a large agency and times every dashboard function (p50/p95 over
//! repeated calls) on the database given by BENCH_DATABASE_URL (default: a fresh SQLite file).
//!
//!   BENCH_WORKSPACES (200) · BENCH_LEADS (1000000) · BENCH_SENDERS (5000) · BENCH_DAYS (365) · BENCH_RUNS (20)
//!
//! Prints a Markdown table to paste into docs/performance.md.

use std::time::{Duration, Instant};

use backend::{
    reporting::dashboards::{self, Period},
    platform::db::Db,
    reporting::metrics::MonthClock,
    on_db,
    identity::sessions::SessionUser,
    identity::users::Role,
};
use chrono::{Datelike, NaiveDate, Utc};
use rand::{rngs::StdRng, Rng, SeedableRng};

fn env(name: &str, default: usize) -> usize {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

/// Inserts `rows` (each `cols` values, rendered by `bind`) with multi-row INSERTs in one transaction.
macro_rules! bulk_insert {
    ($db:expr, $table_cols:expr, $cols:expr, $rows:expr, |$q:ident, $r:ident| $bind:expr) => {{
        const BATCH: usize = 500;
        on_db!($db, |pool| {
            let mut tx = pool.begin().await.expect("begin");
            for chunk in $rows.chunks(BATCH) {
                let mut sql = format!("INSERT INTO {} VALUES ", $table_cols);
                for (i, _) in chunk.iter().enumerate() {
                    if i > 0 {
                        sql.push(',');
                    }
                    sql.push('(');
                    for c in 0..$cols {
                        if c > 0 {
                            sql.push(',');
                        }
                        sql.push_str(&format!("${}", i * $cols + c + 1));
                    }
                    sql.push(')');
                }
                let mut $q = sqlx::query(sqlx::AssertSqlSafe(sql));
                for $r in chunk {
                    $q = $bind;
                }
                $q.execute(&mut *tx).await.expect("insert batch");
            }
            tx.commit().await.expect("commit");
        })
    }};
}

#[tokio::main]
async fn main() {
    let (n_ws, n_leads, n_senders, n_days, runs) =
        (env("BENCH_WORKSPACES", 200), env("BENCH_LEADS", 1_000_000), env("BENCH_SENDERS", 5_000), env("BENCH_DAYS", 365), env("BENCH_RUNS", 20));
    let url = std::env::var("BENCH_DATABASE_URL").unwrap_or_else(|_| {
        let dir = std::env::temp_dir().join("maverick-bench");
        std::fs::create_dir_all(&dir).unwrap();
        format!("sqlite://{}/bench-{}.db", dir.display(), uuid::Uuid::new_v4().simple())
    });
    let db = Db::connect(&url, &Default::default()).await.expect("connect");
    backend::platform::migrate::run(&db).await.expect("migrate");
    let today = backend::tenancy::settings::agency_today(Utc::now(), backend::tenancy::settings::DEFAULT_TIME_ZONE);
    let now = Utc::now();
    let mut rng = StdRng::seed_from_u64(7);

    let started = Instant::now();
    let mut ws_ids = Vec::new();
    for i in 0..n_ws {
        let mut w = backend::tenancy::workspaces::WorkspaceInput::named(&format!("Bench Client {i:03}"));
        w.monthly_lead_target = rng.gen_range(10..80);
        w.daily_send_target = rng.gen_range(300..2000);
        if i % 3 == 0 {
            w.pricing_model = backend::tenancy::workspaces::PricingModel::Retainer;
            w.retainer_fee_cents = 300_000;
        } else {
            w.price_per_lead_cents = 15_000;
        }
        ws_ids.push(backend::tenancy::workspaces::create(&db, w).await.unwrap().id);
    }
    let first_day = today - chrono::Duration::days(n_days as i64 - 1);
    // Leads: ~30 % interested, spread over the period; a few invalid.
    let stages: Vec<&str> = backend::leads::Stage::ALL.iter().map(|s| s.as_str()).collect();
    let leads: Vec<(i64, String, Option<NaiveDate>, &str, bool)> = (0..n_leads)
        .map(|i| {
            let ws = ws_ids[i % n_ws];
            let interested = rng.gen::<f64>() < 0.3;
            let day = interested.then(|| first_day + chrono::Duration::days(rng.gen_range(0..n_days as i64)));
            (ws, format!("lead{i}@bench.example"), day, stages[rng.gen_range(0..stages.len())], rng.gen::<f64>() < 0.03)
        })
        .collect();
    bulk_insert!(&db, "leads (workspace_id, email, interested, interested_day, stage, invalid, created_at, updated_at)", 8, leads, |q, r| q
        .bind(r.0)
        .bind(&r.1)
        .bind(r.2.is_some())
        .bind(r.2)
        .bind(r.3)
        .bind(r.4)
        .bind(now)
        .bind(now));
    let metrics: Vec<(i64, NaiveDate, i64)> = ws_ids
        .iter()
        .flat_map(|ws| (0..n_days).map(move |d| (*ws, first_day + chrono::Duration::days(d as i64), 0)))
        .map(|(ws, d, _)| (ws, d, rng.gen_range(200..2000)))
        .collect();
    bulk_insert!(&db, "daily_metrics (workspace_id, day, sent, contacted, replies, interested, bounced, unsubscribed)", 8, metrics, |q, r| q
        .bind(r.0)
        .bind(r.1)
        .bind(r.2)
        .bind(r.2 / 2)
        .bind(r.2 / 40)
        .bind(r.2 / 400)
        .bind(r.2 / 100)
        .bind(0i64));
    let senders: Vec<(i64, String, i64, i64)> = (0..n_senders)
        .map(|i| (ws_ids[i % n_ws], format!("s{i}@bench.example"), rng.gen_range(20..60), rng.gen_range(1000..5000)))
        .collect();
    bulk_insert!(&db, "sender_accounts (workspace_id, email, status, daily_limit, sent_total, bounced_total, created_at)", 7, senders, |q, r| q
        .bind(r.0)
        .bind(&r.1)
        .bind("connected")
        .bind(r.2)
        .bind(r.3)
        .bind(r.3 / 50)
        .bind(now));
    let sender_ids: Vec<i64> = on_db!(&db, |p| sqlx::query_scalar("SELECT id FROM sender_accounts").fetch_all(p).await).unwrap();
    let sender_days: Vec<(i64, NaiveDate, i64)> = sender_ids
        .iter()
        .flat_map(|s| (0..n_days).map(move |d| (*s, first_day + chrono::Duration::days(d as i64), 40)))
        .collect();
    bulk_insert!(&db, "sender_daily_metrics (sender_id, day, sent, replies, bounced)", 5, sender_days, |q, r| q
        .bind(r.0)
        .bind(r.1)
        .bind(r.2)
        .bind(1i64)
        .bind(0i64));
    let generated = started.elapsed();

    let admin = SessionUser { session_id: 0, user_id: 0, email: "bench@agency".into(), display_name: "Bench".into(), role: Role::Admin };
    let clock = MonthClock::at(today);
    let last_30 = Period { from: today - chrono::Duration::days(29), to: today };
    let mut results: Vec<(&str, Vec<Duration>)> = Vec::new();
    macro_rules! time {
        ($name:expr, $call:expr) => {{
            let mut samples = Vec::with_capacity(runs);
            $call.await.expect($name); // warm-up (and, for revenue, freezing closed months)
            for _ in 0..runs {
                let t = Instant::now();
                $call.await.expect($name);
                samples.push(t.elapsed());
            }
            results.push(($name, samples));
        }};
    }
    time!("kpi", dashboards::kpi(&db, &admin, &clock, Period::month_to_date(&clock), None));
    time!("volume (30 days)", dashboards::volume(&db, &admin, last_30));
    time!("revenue (month + 6-month history)", dashboards::revenue(&db, &admin, clock.today.year(), clock.today.month(), today, None));
    time!("roi (6 months)", dashboards::monthly_history(&db, &admin, today, 6, None));
    time!("alerts (home)", async {
        let kpi = dashboards::kpi(&db, &admin, &clock, Period::month_to_date(&clock), None).await?;
        dashboards::alerts(&db, &admin, &kpi).await
    });
    time!("rollout", dashboards::rollout(&db, &admin, today));

    println!("\nBackend {:?}: {n_ws} workspaces, {n_leads} leads, {n_senders} senders, {n_days} days (generated in {:.1} s), {runs} runs each\n", db.backend(), generated.as_secs_f64());
    println!("| dashboard | p50 (ms) | p95 (ms) |\n|---|---|---|");
    for (name, mut s) in results {
        s.sort();
        let pct = |p: f64| s[((s.len() as f64 * p).ceil() as usize).saturating_sub(1).min(s.len() - 1)].as_secs_f64() * 1000.0;
        println!("| {name} | {:.1} | {:.1} |", pct(0.5), pct(0.95));
    }
    db.close().await;
}
