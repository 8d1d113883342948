//! The two web apps we can only use through their pages: Cole X Dates (homeowner lists by ZIP
//! and sale date; the sign-in is per state) and Clay (enrichment tables; Clay has no API for
//! them, docs/integrations.md §7). Each is driven in a real Chromium ([`BrowserPool`]).
//!
//! Every path and selector of a site is in its table right below ([`COLE`], [`CLAY`]): when a
//! site changes its page, that table is the one place to update. A failure says which step
//! failed, what to fix, and carries the page's address, HTML and a screenshot at that moment;
//! neither the message nor the HTML ever contains the password.

use std::{
    path::{Path, PathBuf},
    time::Duration,
};

use chrono::NaiveDate;

use super::chromium::{BrowserError, BrowserPool, Session};

/// Cole X Dates' pages (paths under `MAVERICK_COLE_URL`) and the elements we use on them.
pub struct ColeSite {
    pub login_path: &'static str,
    pub login_form: &'static str,
    pub state_select: &'static str,
    pub username: &'static str,
    pub password: &'static str,
    pub login_button: &'static str,
    pub login_error: &'static str,
    pub search_form: &'static str,
    pub zips: &'static str,
    pub from_date: &'static str,
    pub to_date: &'static str,
    /// How the search form wants its dates (US style).
    pub date_format: &'static str,
    pub search_button: &'static str,
    pub search_error: &'static str,
    pub result_count: &'static str,
    pub export_button: &'static str,
    pub export_status: &'static str,
}

pub const COLE: ColeSite = ColeSite {
    login_path: "/login",
    login_form: "form#login-form",
    state_select: "select#state",
    username: "input#username",
    password: "input#password",
    login_button: "button#login-button",
    login_error: "#login-error",
    search_form: "form#search-form",
    zips: "#zip-codes",
    from_date: "input#date-from",
    to_date: "input#date-to",
    date_format: "%m/%d/%Y",
    search_button: "button#search-button",
    search_error: "#search-error",
    result_count: "#result-count",
    export_button: "button#export-button",
    export_status: "#export-status",
};

/// Clay's pages (paths under `MAVERICK_CLAY_URL`) and the elements we use on them.
pub struct ClaySite {
    pub login_path: &'static str,
    pub login_form: &'static str,
    pub email: &'static str,
    pub password: &'static str,
    pub login_button: &'static str,
    pub login_error: &'static str,
    /// Shown once signed in.
    pub signed_in: &'static str,
    /// A table's page is this path + the table's id (or pass the table's full address).
    pub table_path: &'static str,
    pub table_missing: &'static str,
    pub upload_input: &'static str,
    pub upload_button: &'static str,
    pub upload_error: &'static str,
    pub enrichment_status: &'static str,
    pub enrichment_finished: &'static str,
    pub enrichment_failed: &'static str,
    pub export_button: &'static str,
}

pub const CLAY: ClaySite = ClaySite {
    login_path: "/login",
    login_form: "form#login-form",
    email: "input#email",
    password: "input#password",
    login_button: "button#login-button",
    login_error: "#login-error",
    signed_in: "#workspace-home",
    table_path: "/tables/",
    table_missing: "#table-not-found",
    upload_input: "input#csv-upload[type=file]",
    upload_button: "button#upload-button",
    upload_error: "#upload-error",
    enrichment_status: "#enrichment-status",
    enrichment_finished: "#enrichment-status[data-state=finished]",
    enrichment_failed: "#enrichment-status[data-state=failed]",
    export_button: "#export-button",
};

/// Never Debug-prints the password.
#[derive(Clone)]
pub struct SiteLogin {
    pub username: String,
    pub password: String,
}

impl std::fmt::Debug for SiteLogin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SiteLogin").field("username", &self.username).field("password", &"[redacted]").finish()
    }
}

/// One Cole X Dates pull: the state whose sign-in to use, its ZIP codes and the sale dates.
#[derive(Clone, Debug, PartialEq)]
pub struct ColeQuery {
    pub state: String,
    pub zips: Vec<String>,
    pub from: NaiveDate,
    pub to: NaiveDate,
}

/// A file the site gave us: where it is now, its size and its data rows (header excluded) when
/// it reads as CSV.
#[derive(Clone, Debug, PartialEq)]
pub struct Download {
    pub path: PathBuf,
    pub bytes: u64,
    pub rows: Option<u64>,
}

/// What went wrong and where: `action` is the step the user reads ("sign in", "search",
/// "export", "wait for download", "open page"; Clay adds "upload" and "wait for enrichment");
/// message says what to fix and never contains the password; url/html/screenshot are of the
/// page at the moment of failure (PNG bytes).
#[derive(Clone)]
pub struct SiteFailure {
    pub action: String,
    pub message: String,
    pub url: Option<String>,
    pub html: Option<String>,
    pub screenshot_png: Option<Vec<u8>>,
}

impl std::fmt::Debug for SiteFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SiteFailure")
            .field("action", &self.action)
            .field("message", &self.message)
            .field("url", &self.url)
            .field("html_bytes", &self.html.as_ref().map(String::len))
            .field("screenshot_bytes", &self.screenshot_png.as_ref().map(Vec::len))
            .finish()
    }
}

impl std::fmt::Display for SiteFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.action, self.message)
    }
}

impl std::error::Error for SiteFailure {}

/// Signs in to Cole X Dates with the state's credentials, searches the ZIP codes and sale dates,
/// exports the result and waits for the CSV, which lands in `download_dir`.
pub async fn cole_pull(
    pool: &BrowserPool,
    base_url: &str,
    login: &SiteLogin,
    q: &ColeQuery,
    download_dir: &Path,
    step_timeout: Duration,
) -> Result<Download, SiteFailure> {
    let mut run = Run::start(pool, "Cole X Dates", &login.password, step_timeout).await?;
    let result = cole_steps(&mut run, base_url.trim_end_matches('/'), login, q, download_dir).await;
    run.finish(result).await
}

async fn cole_steps(run: &mut Run, base: &str, login: &SiteLogin, q: &ColeQuery, download_dir: &Path) -> Result<Download, SiteFailure> {
    let state = q.state.trim().to_ascii_uppercase();
    let url = format!("{base}{}", COLE.login_path);
    run.open(&url, COLE.login_form, "MAVERICK_COLE_URL").await?;

    let action = "sign in";
    if !run.s.select(COLE.state_select, &state).await.map_err(|e| run.browser(action, e))? {
        return Err(run.fail(action, format!("Cole X Dates' sign-in page offers no state {state}: check the state of these credentials")).await);
    }
    run.fill(action, COLE.username, &login.username).await?;
    run.fill(action, COLE.password, &login.password).await?;
    run.click(action, COLE.login_button).await?;
    match run.wait(action, &[COLE.search_form, COLE.login_error]).await? {
        Some(0) => {}
        Some(_) => {
            let said = run.s.text(COLE.login_error).await.ok().flatten().unwrap_or_default();
            return Err(run
                .fail(action, format!("Cole X Dates refused the sign-in for {state} as {:?} ({said}): check the {state} username and password", login.username))
                .await);
        }
        None => return Err(run.fail(action, format!("Cole X Dates showed neither its search page nor an error within {:?} after signing in", run.step)).await),
    }

    let action = "search";
    if !run.s.exists(COLE.search_button).await.map_err(|e| run.browser(action, e))? {
        return Err(run.changed(action, "search button", COLE.search_button).await);
    }
    if q.zips.is_empty() {
        return Err(run.fail(action, "no ZIP codes to search: give the workspace ZIP codes first".to_owned()).await);
    }
    run.fill(action, COLE.zips, &q.zips.join(", ")).await?;
    run.fill(action, COLE.from_date, &q.from.format(COLE.date_format).to_string()).await?;
    run.fill(action, COLE.to_date, &q.to.format(COLE.date_format).to_string()).await?;
    run.click(action, COLE.search_button).await?;
    match run.wait(action, &[COLE.result_count, COLE.search_error]).await? {
        Some(0) => {}
        Some(_) => {
            let said = run.s.text(COLE.search_error).await.ok().flatten().unwrap_or_default();
            return Err(run.fail(action, format!("Cole X Dates refused the search: {said}")).await);
        }
        None => return Err(run.fail(action, format!("no search result within {:?}", run.step)).await),
    }

    let action = "export";
    if !run.s.exists(COLE.export_button).await.map_err(|e| run.browser(action, e))? {
        return Err(run.changed(action, "export button", COLE.export_button).await);
    }
    let partial = run.download_folder(download_dir).await?;
    run.click(action, COLE.export_button).await?;
    let status = COLE.export_status;
    run.download(&partial, download_dir, Some(status)).await
}

/// Signs in to Clay, uploads `input_csv` to the table, waits until Clay has enriched it, exports
/// the table and waits for the CSV, which lands in `download_dir`. `table` is the table's id (its
/// address is `MAVERICK_CLAY_URL` + `/tables/` + id) or the table's full address.
pub async fn clay_enrich(
    pool: &BrowserPool,
    base_url: &str,
    login: &SiteLogin,
    table: &str,
    input_csv: &Path,
    download_dir: &Path,
    step_timeout: Duration,
) -> Result<Download, SiteFailure> {
    let mut run = Run::start(pool, "Clay", &login.password, step_timeout).await?;
    let result = clay_steps(&mut run, base_url.trim_end_matches('/'), login, table, input_csv, download_dir).await;
    run.finish(result).await
}

async fn clay_steps(run: &mut Run, base: &str, login: &SiteLogin, table: &str, input_csv: &Path, download_dir: &Path) -> Result<Download, SiteFailure> {
    if !input_csv.is_file() {
        return Err(SiteFailure::plain("upload", format!("the file to enrich is missing: {}", input_csv.display())));
    }
    let url = format!("{base}{}", CLAY.login_path);
    run.open(&url, CLAY.login_form, "MAVERICK_CLAY_URL").await?;

    let action = "sign in";
    run.fill(action, CLAY.email, &login.username).await?;
    run.fill(action, CLAY.password, &login.password).await?;
    run.click(action, CLAY.login_button).await?;
    match run.wait(action, &[CLAY.signed_in, CLAY.login_error]).await? {
        Some(0) => {}
        Some(_) => {
            let said = run.s.text(CLAY.login_error).await.ok().flatten().unwrap_or_default();
            return Err(run.fail(action, format!("Clay refused the sign-in as {:?} ({said}): check the Clay email and password", login.username)).await);
        }
        None => return Err(run.fail(action, format!("Clay showed neither its home page nor an error within {:?} after signing in", run.step)).await),
    }

    let table_url = table_address(base, table).ok_or_else(|| SiteFailure::plain("open page", format!("{table:?} is not a Clay table id or address")))?;
    let action = "open page";
    run.goto(action, &table_url).await?;
    match run.wait(action, &[CLAY.upload_input, CLAY.table_missing]).await? {
        Some(0) => {}
        Some(_) => return Err(run.fail(action, format!("Clay has no table {table:?}: check the table's id in the automation's settings")).await),
        None => return Err(run.changed(action, "upload field", CLAY.upload_input).await),
    }

    let action = "upload";
    run.s.set_file(CLAY.upload_input, input_csv).await.map_err(|e| run.browser(action, e))?;
    run.click(action, CLAY.upload_button).await?;
    match run.wait(action, &[CLAY.enrichment_status, CLAY.upload_error]).await? {
        Some(0) => {}
        Some(_) => {
            let said = run.s.text(CLAY.upload_error).await.ok().flatten().unwrap_or_default();
            return Err(run.fail(action, format!("Clay refused the file: {said}")).await);
        }
        None => return Err(run.fail(action, format!("Clay did not take the file within {:?}", run.step)).await),
    }

    let action = "wait for enrichment";
    match run.wait(action, &[CLAY.enrichment_finished, CLAY.enrichment_failed]).await? {
        Some(0) => {}
        Some(_) => {
            let said = run.s.text(CLAY.enrichment_status).await.ok().flatten().unwrap_or_default();
            return Err(run.fail(action, format!("Clay's enrichment failed: {said}")).await);
        }
        None => {
            let said = run.s.text(CLAY.enrichment_status).await.ok().flatten().unwrap_or_default();
            return Err(run.fail(action, format!("Clay had not finished enriching within {:?} (it says: {said})", run.step)).await);
        }
    }

    let action = "export";
    if !run.s.exists(CLAY.export_button).await.map_err(|e| run.browser(action, e))? {
        return Err(run.changed(action, "export button", CLAY.export_button).await);
    }
    let partial = run.download_folder(download_dir).await?;
    run.click(action, CLAY.export_button).await?;
    run.download(&partial, download_dir, None).await
}

/// `base` + the table path + the id as one path segment, or the table's own http(s) address.
fn table_address(base: &str, table: &str) -> Option<String> {
    let table = table.trim();
    if table.starts_with("https://") || table.starts_with("http://") {
        return url::Url::parse(table).ok().map(String::from);
    }
    if table.is_empty() {
        return None;
    }
    let mut url = url::Url::parse(&format!("{base}{}", CLAY.table_path)).ok()?;
    url.path_segments_mut().ok()?.pop_if_empty().push(table);
    Some(url.into())
}

impl SiteFailure {
    /// A failure before or without a page to show.
    fn plain(action: &str, message: String) -> SiteFailure {
        SiteFailure { action: action.to_owned(), message, url: None, html: None, screenshot_png: None }
    }
}

/// One connector run: the browser session, the site's name for messages, the secret to keep
/// out of every text, and the time each step may take.
struct Run {
    s: Session,
    site: &'static str,
    secret: String,
    step: Duration,
}

impl Run {
    async fn start(pool: &BrowserPool, site: &'static str, secret: &str, step: Duration) -> Result<Run, SiteFailure> {
        let s = pool.session().await.map_err(|e| SiteFailure::plain("open page", e.to_string()))?;
        Ok(Run { s, site, secret: secret.to_owned(), step })
    }

    async fn finish<T>(self, result: Result<T, SiteFailure>) -> Result<T, SiteFailure> {
        self.s.close().await;
        result
    }

    /// The failure with the page's address, HTML and screenshot as they are now.
    async fn fail(&mut self, action: &str, message: String) -> SiteFailure {
        let url = self.s.url().await;
        let html = self.s.html().await.map(|h| self.scrub(&h));
        let screenshot_png = self.s.screenshot().await;
        tracing::warn!(site = self.site, action, url = url.as_deref().unwrap_or(""), "browser automation step failed");
        SiteFailure { action: action.to_owned(), message: self.scrub(&message), url, html, screenshot_png }
    }

    /// The page no longer has an element we rely on.
    async fn changed(&mut self, action: &str, what: &str, selector: &str) -> SiteFailure {
        let m = format!(
            "{}'s page has no {what} ({selector}): the site has probably changed its page; update its table in backend/src/connectors/sites.rs",
            self.site
        );
        self.fail(action, m).await
    }

    /// Defence in depth: the password never leaves in a message or the saved HTML.
    fn scrub(&self, text: &str) -> String {
        if self.secret.len() >= 3 {
            text.replace(&self.secret, "[redacted]")
        } else {
            text.to_owned()
        }
    }

    /// A browser-level error: hung (the browser will be replaced) or a DevTools failure.
    fn browser(&mut self, action: &str, e: BrowserError) -> SiteFailure {
        SiteFailure::plain(action, self.scrub(&format!("{}: {e}", self.site)))
    }

    async fn browser_fail(&mut self, action: &str, e: BrowserError) -> SiteFailure {
        let m = format!("{}: {e}", self.site);
        self.fail(action, m).await
    }

    async fn goto(&mut self, action: &str, url: &str) -> Result<(), SiteFailure> {
        match self.s.goto(url, self.step).await {
            Ok(()) => Ok(()),
            Err(BrowserError::Hung(..)) => {
                self.s.poison();
                let m = format!("{} did not finish loading {url} within {:?}: the site is down or very slow; try again later", self.site, self.step.min(self.s.call_timeout()));
                Err(self.fail(action, m).await)
            }
            Err(e) => {
                let m = format!("{} could not be opened at {url} ({e})", self.site);
                Err(self.fail(action, m).await)
            }
        }
    }

    /// Opens the sign-in page and waits for its form.
    async fn open(&mut self, url: &str, form: &str, setting: &str) -> Result<(), SiteFailure> {
        let action = "open page";
        self.goto(action, url).await?;
        match self.wait(action, &[form]).await? {
            Some(_) => Ok(()),
            None => {
                let m = format!("{url} shows no sign-in form ({form}): check {setting}, or the site changed its page (update backend/src/connectors/sites.rs)");
                Err(self.fail(action, m).await)
            }
        }
    }

    async fn wait(&mut self, action: &str, selectors: &[&str]) -> Result<Option<usize>, SiteFailure> {
        match self.s.wait_any(selectors, self.step).await {
            Ok(found) => Ok(found),
            Err(e) => Err(self.browser_fail(action, e).await),
        }
    }

    async fn fill(&mut self, action: &str, selector: &str, text: &str) -> Result<(), SiteFailure> {
        match self.s.fill(selector, text).await {
            Ok(()) => Ok(()),
            Err(BrowserError::Cdp(..)) if !self.s.exists(selector).await.unwrap_or(true) => Err(self.changed(action, "field", selector).await),
            Err(e) => Err(self.browser_fail(action, e).await),
        }
    }

    async fn click(&mut self, action: &str, selector: &str) -> Result<(), SiteFailure> {
        match self.s.click(selector).await {
            Ok(()) => Ok(()),
            Err(BrowserError::Cdp(..)) if !self.s.exists(selector).await.unwrap_or(true) => Err(self.changed(action, "button", selector).await),
            Err(e) => Err(self.browser_fail(action, e).await),
        }
    }

    /// A fresh folder next to `download_dir` for this download only (so no other file can be
    /// mistaken for it), given to the browser.
    async fn download_folder(&mut self, download_dir: &Path) -> Result<PathBuf, SiteFailure> {
        let partial = download_dir.join(format!(".download-{}", uuid::Uuid::new_v4().simple()));
        if let Err(e) = std::fs::create_dir_all(&partial) {
            return Err(SiteFailure::plain("export", format!("cannot create {}: {e}", partial.display())));
        }
        if let Err(e) = self.s.allow_downloads(&partial).await {
            let _ = std::fs::remove_dir_all(&partial);
            return Err(self.browser_fail("export", e).await);
        }
        Ok(partial)
    }

    /// Waits for the file, moves it into `download_dir` and counts its rows.
    async fn download(&mut self, partial: &Path, download_dir: &Path, status: Option<&str>) -> Result<Download, SiteFailure> {
        let action = "wait for download";
        let Some(file) = self.s.wait_for_download(partial, self.step).await else {
            let said = match status {
                Some(sel) => self.s.text(sel).await.ok().flatten().map(|t| format!(" (the page says: {t})")).unwrap_or_default(),
                None => String::new(),
            };
            let m = format!("{} did not deliver the export within {:?}{said}; try again later", self.site, self.step);
            let failure = self.fail(action, m).await;
            let _ = std::fs::remove_dir_all(partial);
            return Err(failure);
        };
        let name = file.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| "export.csv".into());
        let mut target = download_dir.join(&name);
        if target.exists() {
            target = download_dir.join(format!("{}-{name}", chrono::Utc::now().format("%Y%m%d%H%M%S%3f")));
        }
        let moved = std::fs::rename(&file, &target);
        let _ = std::fs::remove_dir_all(partial);
        moved.map_err(|e| SiteFailure::plain(action, format!("cannot move the download to {}: {e}", target.display())))?;
        let bytes = std::fs::metadata(&target).map(|m| m.len()).unwrap_or(0);
        Ok(Download { rows: csv_rows(&target), path: target, bytes })
    }
}

/// Data rows of a CSV file (its first line is the header), or None if it does not read as CSV.
fn csv_rows(path: &Path) -> Option<u64> {
    let mut reader = csv::ReaderBuilder::new().flexible(true).from_path(path).ok()?;
    let mut n = 0;
    for record in reader.byte_records() {
        record.ok()?;
        n += 1;
    }
    Some(n)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn login_debug_hides_the_password() {
        let l = SiteLogin { username: "nj-agency".into(), password: "hunter2-secret".into() };
        let shown = format!("{l:?}");
        assert!(shown.contains("nj-agency") && !shown.contains("hunter2"), "{shown}");
    }

    #[test]
    fn table_address_is_one_segment_or_the_given_url() {
        assert_eq!(table_address("https://app.clay.com", "t_123").as_deref(), Some("https://app.clay.com/tables/t_123"));
        assert_eq!(table_address("http://h/clay", "my leads/2").as_deref(), Some("http://h/clay/tables/my%20leads%2F2"));
        assert_eq!(table_address("http://h/clay", "https://app.clay.com/workspaces/1/tables/t_9").as_deref(), Some("https://app.clay.com/workspaces/1/tables/t_9"));
        assert_eq!(table_address("http://h/clay", " "), None);
    }
}
