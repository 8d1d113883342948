//! Stand-ins for Cole X Dates and Clay, served by us: the browser connectors
//! (`backend::connectors::sites`) are tested against them in a real Chromium, and in demo mode
//! the host mounts them under `/demo-sites/` so a dry run of an automation works without the
//! real sites. They behave like the real ones where the connectors depend on it: a CSRF token
//! in the sign-in form, a session cookie, a sign-in refused with the form shown again, an
//! export that starts a download after a delay, an enrichment that finishes after a while.
//! Every link is relative, so the same pages work at `/cole/…` and at `/demo-sites/cole/…`.
//!
//! Failure modes are switched per test with [`FixtureBehaviour`]; every request is recorded
//! (passwords redacted) for assertions.

use std::{
    collections::{HashMap, HashSet},
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use axum::{
    body::{to_bytes, Body},
    extract::{Multipart, Path, Query, Request, State},
    http::{header, HeaderMap, StatusCode},
    middleware::{self, Next},
    response::{Html, IntoResponse, Redirect, Response},
    routing::{get, post},
    Form, Router,
};
use chrono::{Duration as Days, NaiveDate};

/// Cole X Dates sign-ins: (state, username, password). Credentials are per state.
pub const COLE_ACCOUNTS: &[(&str, &str, &str)] = &[
    ("NJ", "nj-agency", "cole-nj-Secret-1"),
    ("TX", "tx-agency", "cole-tx-Secret-1"),
    ("FL", "fl-agency", "cole-fl-Secret-1"),
    ("CA", "ca-agency", "cole-ca-Secret-1"),
];

/// The Clay sign-in: (email, password).
pub const CLAY_ACCOUNT: (&str, &str) = ("ops@agency.test", "clay-Secret-1");

/// The Clay tables that exist.
pub const CLAY_TABLES: &[&str] = &["leads", "demo-leads"];

/// The columns of a Cole export (what the contact import maps automatically, plus the sale date).
pub const COLE_COLUMNS: &[&str] = &["First Name", "Last Name", "Email", "Phone", "Address", "City", "State", "Zip", "Sale Date"];

/// Columns Clay's enrichment adds.
pub const CLAY_ADDED_COLUMNS: &[&str] = &["Company", "Title"];

/// How the stand-ins misbehave (all off by default).
#[derive(Clone, Debug)]
pub struct FixtureBehaviour {
    /// Every sign-in is refused, as with a wrong password.
    pub wrong_password_always: bool,
    /// The export page says "preparing" for ever; no file comes.
    pub export_never_arrives: bool,
    /// Cole's search button has another id (a site redesign).
    pub changed_selector: bool,
    /// The sign-in pages start their answer and never finish it.
    pub page_never_loads: bool,
    /// Every answer waits this long first (a slow site).
    pub page_delay: Duration,
    /// Between asking for a Cole export and the download starting.
    pub export_delay: Duration,
    /// Between a Clay upload and the end of its enrichment.
    pub enrich_delay: Duration,
}

impl Default for FixtureBehaviour {
    fn default() -> Self {
        FixtureBehaviour {
            wrong_password_always: false,
            export_never_arrives: false,
            changed_selector: false,
            page_never_loads: false,
            page_delay: Duration::ZERO,
            export_delay: Duration::from_secs(1),
            enrich_delay: Duration::from_secs(2),
        }
    }
}

/// One request the stand-ins received. Form fields named `password` are recorded as `[redacted]`.
#[derive(Clone, Debug, PartialEq)]
pub struct RecordedRequest {
    pub method: String,
    pub path: String,
    pub query: Option<String>,
    pub form: Vec<(String, String)>,
}

/// Both stand-in sites, with their sessions and the requests they received. Cheap to clone.
#[derive(Clone, Default)]
pub struct FixtureSites {
    inner: Arc<Mutex<Inner>>,
}

#[derive(Default)]
struct Inner {
    behaviour: FixtureBehaviour,
    csrf: HashSet<String>,
    sessions: HashMap<String, Sess>,
    /// Cole exports ready for download: id → (file name, CSV).
    exports: HashMap<String, (String, String)>,
    requests: Vec<RecordedRequest>,
}

enum Sess {
    Cole { state: String },
    /// Each Clay session sees its own copy of the tables (runs never see each other's uploads).
    Clay { tables: HashMap<String, Upload> },
}

struct Upload {
    at: Instant,
    headers: Vec<String>,
    rows: Vec<Vec<String>>,
}

type Fx = State<FixtureSites>;

impl FixtureSites {
    pub fn new(behaviour: FixtureBehaviour) -> Self {
        let fx = FixtureSites::default();
        fx.set_behaviour(behaviour);
        fx
    }

    pub fn set_behaviour(&self, behaviour: FixtureBehaviour) {
        self.lock().behaviour = behaviour;
    }

    pub fn requests(&self) -> Vec<RecordedRequest> {
        self.lock().requests.clone()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn behaviour(&self) -> FixtureBehaviour {
        self.lock().behaviour.clone()
    }

    /// `/cole/…` and `/clay/…`.
    pub fn router<S: Clone + Send + Sync + 'static>(&self) -> Router<S> {
        Router::new()
            .route("/cole/login", get(cole_login_page).post(cole_login))
            .route("/cole/search", get(cole_search))
            .route("/cole/results", get(cole_results))
            .route("/cole/export", post(cole_export))
            .route("/cole/download/{id}", get(cole_download))
            .route("/clay/login", get(clay_login_page).post(clay_login))
            .route("/clay/home", get(clay_home))
            .route("/clay/tables/{name}", get(clay_table))
            .route("/clay/tables/{name}/upload", post(clay_upload))
            .route("/clay/tables/{name}/export", get(clay_export))
            .layer(middleware::from_fn_with_state(self.clone(), record))
            .with_state(self.clone())
    }
}

/// Records the request (form fields too) and applies the page delay.
async fn record(State(fx): Fx, req: Request, next: Next) -> Response {
    let (parts, body) = req.into_parts();
    let is_form = parts.headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).is_some_and(|t| t.starts_with("application/x-www-form-urlencoded"));
    let (body, form) = if is_form {
        let bytes = to_bytes(body, 1 << 20).await.unwrap_or_default();
        let form: Vec<(String, String)> = serde_urlencoded::from_bytes::<Vec<(String, String)>>(&bytes)
            .unwrap_or_default()
            .into_iter()
            .map(|(k, v)| if k == "password" { (k, "[redacted]".to_owned()) } else { (k, v) })
            .collect();
        (Body::from(bytes), form)
    } else {
        (body, Vec::new())
    };
    let delay = {
        let mut inner = fx.lock();
        // The demo mount runs for months: keep the newest requests only.
        if inner.requests.len() >= 1000 {
            inner.requests.drain(..500);
        }
        inner.requests.push(RecordedRequest {
            method: parts.method.to_string(),
            path: parts.uri.path().to_owned(),
            query: parts.uri.query().map(str::to_owned),
            form,
        });
        inner.behaviour.page_delay
    };
    if !delay.is_zero() {
        tokio::time::sleep(delay).await;
    }
    next.run(Request::from_parts(parts, body)).await
}

fn page(title: &str, body: &str) -> Html<String> {
    Html(format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>{title}</title>\
         <style>body{{font-family:sans-serif;margin:2rem;max-width:48rem}}label{{display:block;margin:.5rem 0}}\
         .error{{color:#b00;border:1px solid #b00;padding:.5rem}}table{{border-collapse:collapse}}td,th{{border:1px solid #999;padding:.2rem .4rem}}</style>\
         </head><body><h1>{title}</h1>{body}</body></html>"
    ))
}

fn esc(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers.get_all(header::COOKIE).iter().filter_map(|v| v.to_str().ok()).flat_map(|v| v.split(';')).find_map(|c| {
        let (k, v) = c.trim().split_once('=')?;
        (k == name).then(|| v.to_owned())
    })
}

fn token() -> String {
    uuid::Uuid::new_v4().simple().to_string()
}

fn set_cookie(name: &str, value: &str) -> (header::HeaderName, String) {
    (header::SET_COOKIE, format!("{name}={value}; Path=/; HttpOnly; SameSite=Lax"))
}

/// A sign-in page that never finishes loading: the start of the page, then nothing.
fn never_finishing() -> Response {
    let start = futures_util::stream::once(async { Ok::<_, std::io::Error>(axum::body::Bytes::from_static(b"<!doctype html><html><body><h1>Loading")) });
    let stream = futures_util::StreamExt::chain(start, futures_util::stream::pending());
    ([(header::CONTENT_TYPE, "text/html; charset=utf-8")], Body::from_stream(stream)).into_response()
}

fn login_form(fx: &FixtureSites, site: &str, error: Option<&str>) -> Response {
    let csrf = token();
    fx.lock().csrf.insert(csrf.clone());
    let error = error.map(|e| format!("<p id=\"login-error\" class=\"error\" role=\"alert\">{}</p>", esc(e))).unwrap_or_default();
    let (title, fields) = if site == "cole" {
        let options: String = COLE_ACCOUNTS.iter().map(|(s, ..)| format!("<option value=\"{s}\">{s}</option>")).collect();
        (
            "Cole X Dates — Sign in",
            format!(
                "<label>State <select id=\"state\" name=\"state\"><option value=\"\">Choose…</option>{options}</select></label>\
                 <label>Username <input id=\"username\" name=\"username\" autocomplete=\"username\"></label>"
            ),
        )
    } else {
        ("Clay — Log in", "<label>Email <input id=\"email\" name=\"email\" type=\"email\" autocomplete=\"username\"></label>".to_owned())
    };
    let body = format!(
        "{error}<form id=\"login-form\" method=\"post\" action=\"login\">\
         <input type=\"hidden\" name=\"csrf_token\" value=\"{csrf}\">{fields}\
         <label>Password <input id=\"password\" name=\"password\" type=\"password\" autocomplete=\"current-password\"></label>\
         <button id=\"login-button\" type=\"submit\">Sign in</button></form>"
    );
    ([set_cookie(&format!("{site}_csrf"), &csrf)], page(title, &body)).into_response()
}

/// The CSRF token of the form must be the one its page set in the cookie, and used once.
fn csrf_ok(fx: &FixtureSites, site: &str, headers: &HeaderMap, form: &HashMap<String, String>) -> bool {
    let Some(sent) = form.get("csrf_token") else { return false };
    cookie(headers, &format!("{site}_csrf")).as_deref() == Some(sent.as_str()) && fx.lock().csrf.remove(sent)
}

fn session<'a>(inner: &'a mut Inner, headers: &HeaderMap, name: &str) -> Option<&'a mut Sess> {
    inner.sessions.get_mut(&cookie(headers, name)?)
}

// ---- Cole X Dates ----

async fn cole_login_page(State(fx): Fx) -> Response {
    if fx.behaviour().page_never_loads {
        return never_finishing();
    }
    login_form(&fx, "cole", None)
}

async fn cole_login(State(fx): Fx, headers: HeaderMap, Form(form): Form<HashMap<String, String>>) -> Response {
    if !csrf_ok(&fx, "cole", &headers, &form) {
        return (StatusCode::FORBIDDEN, page("Cole X Dates", "<p class=\"error\">Your session expired. Reload the sign-in page.</p>")).into_response();
    }
    let field = |k: &str| form.get(k).map(String::as_str).unwrap_or("");
    let ok = COLE_ACCOUNTS.iter().any(|(s, u, p)| *s == field("state") && *u == field("username") && *p == field("password"));
    if !ok || fx.behaviour().wrong_password_always {
        return login_form(&fx, "cole", Some("Invalid username or password for this state."));
    }
    let sid = token();
    fx.lock().sessions.insert(sid.clone(), Sess::Cole { state: field("state").to_owned() });
    ([set_cookie("cole_session", &sid)], Redirect::to("search")).into_response()
}

fn cole_state(fx: &FixtureSites, headers: &HeaderMap) -> Option<String> {
    match session(&mut fx.lock(), headers, "cole_session")? {
        Sess::Cole { state } => Some(state.clone()),
        Sess::Clay { .. } => None,
    }
}

fn search_page(fx: &FixtureSites, state: &str, error: Option<&str>) -> Response {
    let button = if fx.behaviour().changed_selector { "run-search" } else { "search-button" };
    let error = error.map(|e| format!("<p id=\"search-error\" class=\"error\">{}</p>", esc(e))).unwrap_or_default();
    let body = format!(
        "<p>Signed in for {state}.</p>{error}<form id=\"search-form\" method=\"get\" action=\"results\">\
         <label>ZIP codes (comma-separated) <textarea id=\"zip-codes\" name=\"zips\" rows=\"2\"></textarea></label>\
         <label>Sale date from <input id=\"date-from\" name=\"from\" placeholder=\"MM/DD/YYYY\"></label>\
         <label>Sale date to <input id=\"date-to\" name=\"to\" placeholder=\"MM/DD/YYYY\"></label>\
         <button id=\"{button}\" type=\"submit\">Search</button></form>"
    );
    page("Cole X Dates — Search", &body).into_response()
}

async fn cole_search(State(fx): Fx, headers: HeaderMap) -> Response {
    match cole_state(&fx, &headers) {
        Some(state) => search_page(&fx, &state, None),
        None => Redirect::to("login").into_response(),
    }
}

/// The query a search form sent, checked like the real site does.
fn parse_search(q: &HashMap<String, String>) -> Result<(Vec<String>, NaiveDate, NaiveDate), String> {
    let zips: Vec<String> = q.get("zips").map(String::as_str).unwrap_or("").split([',', ' ', '\n']).map(str::trim).filter(|z| !z.is_empty()).map(str::to_owned).collect();
    if zips.is_empty() {
        return Err("Enter at least one ZIP code.".into());
    }
    if let Some(bad) = zips.iter().find(|z| z.len() != 5 || !z.bytes().all(|b| b.is_ascii_digit())) {
        return Err(format!("ZIP codes have 5 digits: {bad}"));
    }
    let date = |k: &str| NaiveDate::parse_from_str(q.get(k).map(String::as_str).unwrap_or("").trim(), "%m/%d/%Y").map_err(|_| "Dates are MM/DD/YYYY.".to_owned());
    let (from, to) = (date("from")?, date("to")?);
    if from > to {
        return Err("The first date is after the last.".into());
    }
    Ok((zips, from, to))
}

async fn cole_results(State(fx): Fx, headers: HeaderMap, Query(q): Query<HashMap<String, String>>) -> Response {
    let Some(state) = cole_state(&fx, &headers) else { return Redirect::to("login").into_response() };
    let (zips, from, to) = match parse_search(&q) {
        Ok(v) => v,
        Err(e) => return search_page(&fx, &state, Some(&e)),
    };
    let rows = cole_rows(&state, &zips, from, to);
    let preview: String = rows.iter().take(5).map(|r| format!("<tr>{}</tr>", r.iter().map(|c| format!("<td>{}</td>", esc(c))).collect::<String>())).collect();
    let head: String = COLE_COLUMNS.iter().map(|c| format!("<th>{c}</th>")).collect();
    let hidden = |k: &str| format!("<input type=\"hidden\" name=\"{k}\" value=\"{}\">", esc(q.get(k).map(String::as_str).unwrap_or("")));
    let body = format!(
        "<p id=\"result-count\">{} records found</p><table><tr>{head}</tr>{preview}</table>\
         <form id=\"export-form\" method=\"post\" action=\"export\">{}{}{}<button id=\"export-button\" type=\"submit\">Export</button></form>",
        rows.len(),
        hidden("zips"),
        hidden("from"),
        hidden("to")
    );
    page("Cole X Dates — Results", &body).into_response()
}

async fn cole_export(State(fx): Fx, headers: HeaderMap, Form(form): Form<HashMap<String, String>>) -> Response {
    let Some(state) = cole_state(&fx, &headers) else { return Redirect::to("login").into_response() };
    let (zips, from, to) = match parse_search(&form) {
        Ok(v) => v,
        Err(e) => return search_page(&fx, &state, Some(&e)),
    };
    let rows = cole_rows(&state, &zips, from, to);
    let b = fx.behaviour();
    let id = token();
    let name = format!("cole-x-dates-{state}-{}-{}.csv", from.format("%Y%m%d"), to.format("%Y%m%d"));
    let mut inner = fx.lock();
    // Bounded for the long-running demo mount: an old export simply expires.
    if inner.exports.len() >= 100 {
        inner.exports.clear();
    }
    inner.exports.insert(id.clone(), (name, to_csv(COLE_COLUMNS.iter().map(|c| c.to_string()).collect(), &rows)));
    // The download starts by itself after a delay, as on the real site.
    drop(inner);
    let refresh = if b.export_never_arrives { String::new() } else { format!("<meta http-equiv=\"refresh\" content=\"{};url=download/{id}\">", b.export_delay.as_secs_f64()) };
    let body = format!("{refresh}<p id=\"export-status\">Preparing your export of {} records…</p>", rows.len());
    page("Cole X Dates — Export", &body).into_response()
}

async fn cole_download(State(fx): Fx, headers: HeaderMap, Path(id): Path<String>) -> Response {
    if cole_state(&fx, &headers).is_none() {
        return Redirect::to("../login").into_response();
    }
    match fx.lock().exports.get(&id) {
        Some((name, csv)) => csv_attachment(name, csv.clone()),
        None => (StatusCode::NOT_FOUND, page("Cole X Dates", "<p class=\"error\">This export has expired.</p>")).into_response(),
    }
}

fn csv_attachment(name: &str, csv: String) -> Response {
    (
        [(header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()), (header::CONTENT_DISPOSITION, format!("attachment; filename=\"{name}\""))],
        csv,
    )
        .into_response()
}

const FIRST: &[&str] = &["James", "Mary", "Robert", "Patricia", "John", "Jennifer", "Michael", "Linda", "David", "Susan"];
const LAST: &[&str] = &["Smith", "Johnson", "Williams", "Brown", "Jones", "Garcia", "Miller", "Davis", "Rodriguez", "Martinez"];
const STREETS: &[&str] = &["Maple Ave", "Oak St", "Park Pl", "Cedar Ln", "Elm St"];
const CITIES: &[(&str, &str)] = &[("07001", "Avenel"), ("07002", "Bayonne"), ("75001", "Addison"), ("33101", "Miami"), ("90001", "Los Angeles")];

/// Three homeowners per ZIP, in the order the ZIP codes were given, with sale dates spread over
/// the range (at a quarter, half and three quarters of it). Deterministic: tests pin them.
pub fn cole_rows(state: &str, zips: &[String], from: NaiveDate, to: NaiveDate) -> Vec<Vec<String>> {
    let span = (to - from).num_days();
    let mut rows = Vec::new();
    for (zi, zip) in zips.iter().enumerate() {
        let city = CITIES.iter().find(|(z, _)| z == zip).map(|(_, c)| *c).unwrap_or("Springfield");
        for j in 0..3usize {
            let i = zi * 3 + j;
            let (first, last) = (FIRST[i % FIRST.len()], LAST[(i * 7 + 3) % LAST.len()]);
            let sale = from + Days::days(span * (j as i64 + 1) / 4);
            rows.push(vec![
                first.to_owned(),
                last.to_owned(),
                format!("{}.{}.{zip}@example.net", first.to_lowercase(), last.to_lowercase()),
                format!("(555) 01{zi:01}-{:04}", 1000 + i),
                format!("{} {}", 100 + i * 11, STREETS[i % STREETS.len()]),
                city.to_owned(),
                state.to_owned(),
                zip.clone(),
                sale.format("%Y-%m-%d").to_string(),
            ]);
        }
    }
    rows
}

fn to_csv(headers: Vec<String>, rows: &[Vec<String>]) -> String {
    let cell = |c: &str| if c.contains([',', '"', '\n']) { format!("\"{}\"", c.replace('"', "\"\"")) } else { c.to_owned() };
    std::iter::once(&headers).chain(rows).map(|r| r.iter().map(|c| cell(c)).collect::<Vec<_>>().join(",") + "\r\n").collect()
}

// ---- Clay ----

async fn clay_login_page(State(fx): Fx) -> Response {
    if fx.behaviour().page_never_loads {
        return never_finishing();
    }
    login_form(&fx, "clay", None)
}

async fn clay_login(State(fx): Fx, headers: HeaderMap, Form(form): Form<HashMap<String, String>>) -> Response {
    if !csrf_ok(&fx, "clay", &headers, &form) {
        return (StatusCode::FORBIDDEN, page("Clay", "<p class=\"error\">Your session expired. Reload the page.</p>")).into_response();
    }
    let field = |k: &str| form.get(k).map(String::as_str).unwrap_or("");
    if (field("email"), field("password")) != CLAY_ACCOUNT || fx.behaviour().wrong_password_always {
        return login_form(&fx, "clay", Some("Incorrect email or password."));
    }
    let sid = token();
    fx.lock().sessions.insert(sid.clone(), Sess::Clay { tables: HashMap::new() });
    ([set_cookie("clay_session", &sid)], Redirect::to("home")).into_response()
}

fn clay_signed_in(fx: &FixtureSites, headers: &HeaderMap) -> bool {
    matches!(session(&mut fx.lock(), headers, "clay_session"), Some(Sess::Clay { .. }))
}

async fn clay_home(State(fx): Fx, headers: HeaderMap) -> Response {
    if !clay_signed_in(&fx, &headers) {
        return Redirect::to("login").into_response();
    }
    let links: String = CLAY_TABLES.iter().map(|t| format!("<li><a href=\"tables/{t}\">{t}</a></li>")).collect();
    page("Clay — Home", &format!("<main id=\"workspace-home\"><h2>Tables</h2><ul>{links}</ul></main>")).into_response()
}

/// Where an upload's enrichment stands: rows done so far, and whether it finished.
fn enrichment(upload: &Upload, delay: Duration) -> (usize, bool) {
    let elapsed = upload.at.elapsed();
    if elapsed >= delay {
        return (upload.rows.len(), true);
    }
    let done = (upload.rows.len() as f64 * elapsed.as_secs_f64() / delay.as_secs_f64().max(0.001)) as usize;
    (done, false)
}

fn table_page(fx: &FixtureSites, headers: &HeaderMap, name: &str, error: Option<&str>) -> Response {
    let delay = fx.behaviour().enrich_delay;
    let mut inner = fx.lock();
    let Some(Sess::Clay { tables }) = session(&mut inner, headers, "clay_session") else { return Redirect::to("../login").into_response() };
    if !CLAY_TABLES.contains(&name) {
        return (StatusCode::NOT_FOUND, page("Clay", &format!("<p id=\"table-not-found\" class=\"error\">No table named {}.</p>", esc(name)))).into_response();
    }
    let seg = esc(name);
    let status = match tables.get(name) {
        None => String::new(),
        Some(upload) => match enrichment(upload, delay) {
            (n, true) => format!(
                "<p id=\"enrichment-status\" data-state=\"finished\">Enrichment finished: {n} rows enriched.</p><a id=\"export-button\" href=\"{seg}/export\">Export CSV</a>"
            ),
            (n, false) => format!(
                "<meta http-equiv=\"refresh\" content=\"1\"><p id=\"enrichment-status\" data-state=\"running\">Enriching… {n} of {} rows</p>",
                upload.rows.len()
            ),
        },
    };
    let error = error.map(|e| format!("<p id=\"upload-error\" class=\"error\">{}</p>", esc(e))).unwrap_or_default();
    let body = format!(
        "{error}{status}<form id=\"upload-form\" method=\"post\" enctype=\"multipart/form-data\" action=\"{seg}/upload\">\
         <label>CSV file <input id=\"csv-upload\" name=\"file\" type=\"file\" accept=\".csv,text/csv\"></label>\
         <button id=\"upload-button\" type=\"submit\">Upload and enrich</button></form>"
    );
    page(&format!("Clay — {}", esc(name)), &body).into_response()
}

async fn clay_table(State(fx): Fx, headers: HeaderMap, Path(name): Path<String>) -> Response {
    table_page(&fx, &headers, &name, None)
}

async fn clay_upload(State(fx): Fx, headers: HeaderMap, Path(name): Path<String>, mut multipart: Multipart) -> Response {
    if !clay_signed_in(&fx, &headers) {
        return Redirect::to("../../login").into_response();
    }
    let mut bytes = None;
    while let Ok(Some(field)) = multipart.next_field().await {
        if field.name() == Some("file") {
            bytes = field.bytes().await.ok();
        }
    }
    let parsed = bytes.ok_or("Choose a CSV file.".to_owned()).and_then(|b| parse_csv(&b));
    let (head, rows) = match parsed {
        Ok(v) => v,
        Err(e) => return table_page(&fx, &headers, &name, Some(&e)),
    };
    if let Some(Sess::Clay { tables }) = session(&mut fx.lock(), &headers, "clay_session") {
        tables.insert(name.clone(), Upload { at: Instant::now(), headers: head, rows });
    }
    // Back to the table page: /clay/tables/{name}/upload → ../{name}.
    let segment: String = url::form_urlencoded::byte_serialize(name.as_bytes()).collect();
    Redirect::to(&format!("../{segment}")).into_response()
}

fn parse_csv(bytes: &[u8]) -> Result<(Vec<String>, Vec<Vec<String>>), String> {
    let mut reader = csv::ReaderBuilder::new().flexible(true).from_reader(bytes);
    let head: Vec<String> = reader.headers().map_err(|_| "That file is not a CSV.".to_owned())?.iter().map(str::to_owned).collect();
    if !head.iter().any(|h| h.trim().eq_ignore_ascii_case("email")) {
        return Err("The CSV needs an Email column.".into());
    }
    let rows = reader.records().map(|r| r.map(|r| r.iter().map(str::to_owned).collect())).collect::<Result<Vec<Vec<String>>, _>>().map_err(|e| format!("Line {e}"))?;
    if rows.is_empty() {
        return Err("The CSV has no rows.".into());
    }
    Ok((head, rows))
}

const COMPANIES: &[&str] = &["Garden State Roofing", "Lone Star HVAC", "Sunshine Pools", "Golden Gate Solar"];
const TITLES: &[&str] = &["Owner", "Office Manager", "Founder"];

async fn clay_export(State(fx): Fx, headers: HeaderMap, Path(name): Path<String>) -> Response {
    let delay = fx.behaviour().enrich_delay;
    let mut inner = fx.lock();
    let Some(Sess::Clay { tables }) = session(&mut inner, &headers, "clay_session") else { return Redirect::to("../../login").into_response() };
    let Some(upload) = tables.get(&name).filter(|u| enrichment(u, delay).1) else {
        return (StatusCode::CONFLICT, page("Clay", "<p class=\"error\">Nothing to export yet.</p>")).into_response();
    };
    let mut head = upload.headers.clone();
    head.extend(CLAY_ADDED_COLUMNS.iter().map(|c| c.to_string()));
    let rows: Vec<Vec<String>> = upload
        .rows
        .iter()
        .enumerate()
        .map(|(i, r)| {
            let mut r = r.clone();
            r.resize(upload.headers.len(), String::new());
            r.push(COMPANIES[i % COMPANIES.len()].to_owned());
            r.push(TITLES[i % TITLES.len()].to_owned());
            r
        })
        .collect();
    csv_attachment(&format!("clay-{name}-enriched.csv"), to_csv(head, &rows))
}
