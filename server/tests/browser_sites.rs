//! The browser connectors (`backend::connectors::{chromium, sites}`) driving the REAL system
//! Chromium against the stand-in sites (`server::fixture_sites`) on a loopback port: the happy
//! paths with pinned rows, each failure mode with its step, message, HTML and screenshot, a
//! hung browser replaced, and no Chromium process left after `shutdown`.

mod common;

use std::{
    path::{Path, PathBuf},
    time::{Duration, Instant},
};

use backend::connectors::{
    chromium::{BrowserPool, BrowserSettings},
    sites::{clay_enrich, cole_pull, ColeQuery, Download, SiteFailure, SiteLogin},
};
use chrono::NaiveDate;
use server::fixture_sites::{FixtureBehaviour, FixtureSites, CLAY_ACCOUNT, COLE_ACCOUNTS};

/// Short on purpose: the failure tests wait this long.
const STEP: Duration = Duration::from_secs(4);

fn pool() -> BrowserPool {
    let mut s = BrowserSettings::from_env();
    s.call_timeout = Duration::from_secs(5);
    BrowserPool::new(s)
}

async fn serve(fx: &FixtureSites) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let app = fx.router::<()>();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    format!("http://{addr}")
}

fn temp_dir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join("maverick-tests").join(format!("{name}-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn nj() -> SiteLogin {
    let (_, user, password) = COLE_ACCOUNTS[0];
    SiteLogin { username: user.into(), password: password.into() }
}

fn query() -> ColeQuery {
    ColeQuery {
        state: "NJ".into(),
        zips: vec!["07001".into(), "07002".into()],
        from: NaiveDate::from_ymd_opt(2026, 1, 1).unwrap(),
        to: NaiveDate::from_ymd_opt(2026, 3, 31).unwrap(),
    }
}

/// A real PNG of a page. `DUMP_PNG=<dir>` keeps each one there, to look at.
fn assert_png(f: &SiteFailure) {
    let png = f.screenshot_png.as_ref().unwrap_or_else(|| panic!("no screenshot: {f:?}"));
    if let Ok(dir) = std::env::var("DUMP_PNG") {
        std::fs::write(format!("{dir}/{}-{}.png", f.action.replace(' ', "-"), uuid::Uuid::new_v4().simple()), png).unwrap();
    }
    assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n", "not a PNG: {f:?}");
    assert!(png.len() > 1024, "screenshot of {} bytes is too small to show a page", png.len());
}

fn files_in(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
    v.sort();
    v
}

async fn shutdown_leaves_nothing(pool: &BrowserPool) {
    assert!(pool.chromium_processes() > 0, "the pool should have a Chromium running before shutdown");
    assert_eq!(pool.data_dirs_on_disk(), 1, "one browser, one user-data-dir");
    pool.shutdown().await;
    assert_eq!(pool.chromium_processes(), 0, "Chromium processes left after shutdown");
    assert_eq!(pool.data_dirs_on_disk(), 0, "Chromium's user-data-dirs left after shutdown");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cole_pull_downloads_the_export_and_reports_each_failure_with_the_page() {
    let fx = FixtureSites::new(FixtureBehaviour::default());
    let base = format!("{}/cole", serve(&fx).await);
    let pool = pool();
    let dir = temp_dir("cole");

    // Success: the CSV arrives in the folder, 3 homeowners per ZIP.
    let started = Instant::now();
    let d: Download = cole_pull(&pool, &base, &nj(), &query(), &dir, STEP).await.unwrap();
    eprintln!("one Cole pull against the fixture: {:?}", started.elapsed());
    assert_eq!(d.rows, Some(6));
    assert_eq!(d.path, dir.join("cole-x-dates-NJ-20260101-20260331.csv"));
    let csv = std::fs::read_to_string(&d.path).unwrap();
    assert_eq!(d.bytes, csv.len() as u64);
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines[0], "First Name,Last Name,Email,Phone,Address,City,State,Zip,Sale Date");
    // Row 0: FIRST[0], LAST[3]; sale date 2026-01-01 + 89 days / 4 = 22 days.
    assert_eq!(lines[1], "James,Brown,james.brown.07001@example.net,(555) 010-1000,100 Maple Ave,Avenel,NJ,07001,2026-01-23");
    // Row 5: second ZIP, third homeowner: FIRST[5], LAST[(5*7+3)%10 = 8]; 89*3/4 = 66 days.
    assert_eq!(lines[6], "Jennifer,Rodriguez,jennifer.rodriguez.07002@example.net,(555) 011-1005,155 Maple Ave,Bayonne,NJ,07002,2026-03-08");
    assert_eq!(files_in(&dir), vec!["cole-x-dates-NJ-20260101-20260331.csv"], "no partial download folder may remain");
    // The site got what the query said, and the password was typed (recorded redacted).
    let reqs = fx.requests();
    let login = reqs.iter().find(|r| r.method == "POST" && r.path == "/cole/login").unwrap();
    assert!(login.form.contains(&("state".into(), "NJ".into())) && login.form.contains(&("username".into(), "nj-agency".into())), "{login:?}");
    assert!(login.form.contains(&("password".into(), "[redacted]".into())));
    let search = reqs.iter().find(|r| r.path == "/cole/results").unwrap();
    assert_eq!(search.query.as_deref(), Some("zips=07001%2C+07002&from=01%2F01%2F2026&to=03%2F31%2F2026"));

    // Wrong password: "sign in", with the login form in the HTML and a real screenshot, and
    // the password nowhere in the failure.
    fx.set_behaviour(FixtureBehaviour { wrong_password_always: true, ..Default::default() });
    let f = cole_pull(&pool, &base, &nj(), &query(), &dir, STEP).await.unwrap_err();
    assert_eq!(f.action, "sign in", "{f:?}");
    assert!(f.message.contains("NJ") && f.message.contains("Invalid username or password"), "{}", f.message);
    let html = f.html.as_deref().unwrap();
    assert!(html.contains("id=\"login-form\"") && html.contains("id=\"password\""), "{html}");
    assert_png(&f);
    for text in [&f.message, html, &format!("{f:?}"), f.url.as_deref().unwrap()] {
        assert!(!text.contains(COLE_ACCOUNTS[0].2), "the password leaked: {text}");
    }
    assert!(f.url.as_deref().unwrap().ends_with("/cole/login"), "{:?}", f.url);

    // A redesigned search page: "search" at once (no waiting out the step), saying which element.
    fx.set_behaviour(FixtureBehaviour { changed_selector: true, ..Default::default() });
    let started = Instant::now();
    let f = cole_pull(&pool, &base, &nj(), &query(), &dir, STEP).await.unwrap_err();
    assert_eq!(f.action, "search", "{f:?}");
    assert!(f.message.contains("button#search-button") && f.message.contains("sites.rs"), "{}", f.message);
    assert!(f.html.as_deref().unwrap().contains("id=\"run-search\""));
    assert_png(&f);
    assert!(started.elapsed() < STEP, "took {:?}", started.elapsed());

    // The export never comes: "wait for download" once the step's time is up, not much later.
    fx.set_behaviour(FixtureBehaviour { export_never_arrives: true, ..Default::default() });
    let started = Instant::now();
    let f = cole_pull(&pool, &base, &nj(), &query(), &dir, STEP).await.unwrap_err();
    let took = started.elapsed();
    assert_eq!(f.action, "wait for download", "{f:?}");
    assert!(f.message.contains("Preparing your export of 6 records"), "{}", f.message);
    assert_png(&f);
    assert!(took >= STEP && took < STEP * 3, "took {took:?}");
    assert_eq!(files_in(&dir).len(), 1, "a failed download leaves nothing behind: {:?}", files_in(&dir));

    // A slow site still works within the step time.
    fx.set_behaviour(FixtureBehaviour { page_delay: Duration::from_millis(400), export_delay: Duration::from_millis(200), ..Default::default() });
    let d = cole_pull(&pool, &base, &nj(), &query(), &dir, STEP).await.unwrap();
    assert_eq!(d.rows, Some(6));
    assert_ne!(d.path, dir.join("cole-x-dates-NJ-20260101-20260331.csv"), "a second export must not overwrite the first");

    assert_eq!(pool.launches(), 1, "nothing hung, so one browser served every run");
    shutdown_leaves_nothing(&pool).await;
    assert!(cole_pull(&pool, &base, &nj(), &query(), &dir, STEP).await.is_err(), "a shut-down pool refuses work");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn clay_enrich_uploads_waits_for_the_enrichment_and_exports() {
    let fx = FixtureSites::new(FixtureBehaviour { enrich_delay: Duration::from_millis(1500), ..Default::default() });
    let base = format!("{}/clay", serve(&fx).await);
    let pool = pool();
    let dir = temp_dir("clay");
    let input = dir.join("contacts.csv");
    std::fs::write(&input, "First Name,Last Name,Email\nJames,Brown,james@example.net\nMary,Jones,mary@example.net\nRobert,Smith,rob@example.net\n").unwrap();
    let out = temp_dir("clay-out");
    let login = SiteLogin { username: CLAY_ACCOUNT.0.into(), password: CLAY_ACCOUNT.1.into() };

    let d = clay_enrich(&pool, &base, &login, "leads", &input, &out, STEP).await.unwrap();
    assert_eq!(d.rows, Some(3));
    assert_eq!(d.path, out.join("clay-leads-enriched.csv"));
    assert_eq!(
        std::fs::read_to_string(&d.path).unwrap(),
        "First Name,Last Name,Email,Company,Title\r\nJames,Brown,james@example.net,Garden State Roofing,Owner\r\n\
         Mary,Jones,mary@example.net,Lone Star HVAC,Office Manager\r\nRobert,Smith,rob@example.net,Sunshine Pools,Founder\r\n"
    );
    // The page was polled while Clay enriched (the status page reloads itself).
    let table_views = fx.requests().iter().filter(|r| r.path == "/clay/tables/leads").count();
    assert!(table_views >= 2, "{table_views} views of the table page");

    // An unknown table: "open page", saying which table.
    let f = clay_enrich(&pool, &base, &login, "no-such-table", &input, &out, STEP).await.unwrap_err();
    assert_eq!(f.action, "open page", "{f:?}");
    assert!(f.message.contains("no-such-table"), "{}", f.message);
    assert_png(&f);

    // A wrong password: "sign in", the password nowhere.
    let wrong = SiteLogin { username: CLAY_ACCOUNT.0.into(), password: "not-the-Password-9".into() };
    let f = clay_enrich(&pool, &base, &wrong, "leads", &input, &out, STEP).await.unwrap_err();
    assert_eq!(f.action, "sign in", "{f:?}");
    assert!(!f.message.contains("not-the-Password-9") && !f.html.as_deref().unwrap().contains("not-the-Password-9"));

    shutdown_leaves_nothing(&pool).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_page_that_never_loads_fails_in_time_and_the_browser_is_replaced() {
    let fx = FixtureSites::new(FixtureBehaviour { page_never_loads: true, ..Default::default() });
    let base = format!("{}/cole", serve(&fx).await);
    let pool = pool();
    let dir = temp_dir("hang");

    let started = Instant::now();
    let f = cole_pull(&pool, &base, &nj(), &query(), &dir, STEP).await.unwrap_err();
    let took = started.elapsed();
    eprintln!("a page that never loads failed after {took:?}: {f:?}");
    assert_eq!(f.action, "open page", "{f:?}");
    assert!(f.message.contains("did not finish loading"), "{}", f.message);
    // The step's time, the evidence (each bounded) and the browser's replacement.
    assert!(took < STEP + Duration::from_secs(20), "took {took:?}");
    assert_eq!(pool.launches(), 1);

    // The hung browser was closed; the next run gets a new one and works.
    fx.set_behaviour(FixtureBehaviour::default());
    let d = cole_pull(&pool, &base, &nj(), &query(), &dir, STEP).await.unwrap();
    assert_eq!(d.rows, Some(6));
    assert_eq!(pool.launches(), 2, "the browser that hung must have been replaced");
    shutdown_leaves_nothing(&pool).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_crashed_browser_is_replaced_on_the_next_run() {
    let fx = FixtureSites::new(FixtureBehaviour { export_delay: Duration::from_millis(200), ..Default::default() });
    let base = format!("{}/cole", serve(&fx).await);
    let pool = pool();
    let dir = temp_dir("crash");
    cole_pull(&pool, &base, &nj(), &query(), &dir, STEP).await.unwrap();
    let pids = pool.browser_pids();
    assert_eq!(pids.len(), 1, "one browser, idle in the pool: {pids:?}");
    // Chromium dies while idle (out of memory, a crash): the next run must not inherit it.
    let killed = std::process::Command::new("kill").args(["-9", &pids[0].to_string()]).status().unwrap();
    assert!(killed.success());
    let d = cole_pull(&pool, &base, &nj(), &query(), &dir, STEP).await.unwrap();
    assert_eq!(d.rows, Some(6));
    assert_eq!(pool.launches(), 2);
    assert!(!pool.browser_pids().contains(&pids[0]));
    shutdown_leaves_nothing(&pool).await;
}

#[tokio::test]
async fn a_missing_chromium_says_how_to_point_at_one() {
    let pool = BrowserPool::new(BrowserSettings { executable: "/nonexistent/chromium".into(), call_timeout: Duration::from_secs(5), max_browsers: 1 });
    let f = cole_pull(&pool, "http://127.0.0.1:9/cole", &nj(), &query(), &temp_dir("none"), STEP).await.unwrap_err();
    assert_eq!(f.action, "open page");
    assert!(f.message.contains("/nonexistent/chromium") && f.message.contains("MAVERICK_CHROMIUM"), "{}", f.message);
    assert_eq!(pool.data_dirs_on_disk(), 0);
    // The permit came back: a second try fails the same way instead of waiting for ever.
    let again = tokio::time::timeout(Duration::from_secs(5), cole_pull(&pool, "http://127.0.0.1:9/cole", &nj(), &query(), &temp_dir("none"), STEP)).await;
    assert!(again.expect("the pool must not hang").is_err());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn demo_mode_serves_the_sites_for_a_dry_run_and_normal_mode_does_not() {
    let normal = common::start().await;
    let res = reqwest::get(normal.url("/demo-sites/cole/login")).await.unwrap();
    assert_eq!(res.status(), 404);

    let demo = common::start_with(|c| c.demo = true).await;
    let res = reqwest::get(demo.url("/demo-sites/cole/login")).await.unwrap();
    assert_eq!(res.status(), 200);
    assert!(res.text().await.unwrap().contains("id=\"login-form\""));
    // The dry run: the real connector through the host's whole middleware stack.
    let pool = pool();
    let dir = temp_dir("demo");
    let d = cole_pull(&pool, &demo.url("/demo-sites/cole"), &nj(), &query(), &dir, STEP).await.unwrap();
    assert_eq!(d.rows, Some(6));
    shutdown_leaves_nothing(&pool).await;
}
