//! The headless Chromium the browser automations drive (chromiumoxide over the DevTools
//! protocol, docs/dependencies.md). A [`BrowserPool`] launches the *system* Chromium lazily, at
//! most `max_browsers` at once, each with a fresh user-data-dir of its own; every DevTools call
//! has an outer timeout (chromiumoxide has calls that never return), and a browser that timed
//! out or crashed is closed, waited for and replaced by a new one on the next use.
//! [`BrowserPool::shutdown`] closes and reaps every browser, so no Chromium outlives us.
//!
//! A [`Session`] is one private browser context (own cookies, own downloads folder) with one
//! tab: Cole for NJ and Cole for TX never share a sign-in.

use std::{
    future::Future,
    path::{Path, PathBuf},
    sync::{
        atomic::{AtomicBool, AtomicU64, Ordering},
        Arc, Mutex,
    },
    time::{Duration, Instant},
};

use chromiumoxide::{
    cdp::browser_protocol::{
        browser::{BrowserContextId, SetDownloadBehaviorBehavior, SetDownloadBehaviorParams},
        dom::SetFileInputFilesParams,
        input::InsertTextParams,
        page::CaptureScreenshotFormat,
        target::{CreateBrowserContextParams, CreateTargetParams},
    },
    cdp::js_protocol::runtime::EvaluateParams,
    page::ScreenshotParams,
    Browser, BrowserConfig, Page,
};
use futures_util::StreamExt;
use tokio::{sync::Semaphore, task::JoinHandle};

pub use crate::platform::config::BrowserSettings;

/// What went wrong driving the browser. Messages say what to do; none carries page input.
#[derive(Debug, thiserror::Error)]
pub enum BrowserError {
    #[error("could not start Chromium ({executable}): {detail}. Install Chromium or point MAVERICK_CHROMIUM at it")]
    Launch { executable: String, detail: String },
    #[error("the browser did not answer within {0:?} ({1}); it will be restarted")]
    Hung(Duration, &'static str),
    #[error("the browser failed during {0}: {1}")]
    Cdp(&'static str, String),
    #[error("the browser pool is shut down")]
    ShutDown,
}

/// Browsers shared by this process. Cheap to clone.
#[derive(Clone)]
pub struct BrowserPool {
    inner: Arc<PoolInner>,
}

impl std::fmt::Debug for BrowserPool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BrowserPool").field("settings", &self.inner.settings).field("launches", &self.launches()).finish()
    }
}

struct PoolInner {
    settings: BrowserSettings,
    /// One permit per browser that may run.
    permits: Semaphore,
    /// Running browsers not lent out.
    idle: Mutex<Vec<Running>>,
    closed: AtomicBool,
    /// Every user-data-dir of this pool starts with this (the zombie counter looks for it).
    dir_prefix: String,
    launches: AtomicU64,
}

struct Running {
    browser: Browser,
    handler: JoinHandle<()>,
    data_dir: PathBuf,
}

impl BrowserPool {
    pub fn new(settings: BrowserSettings) -> Self {
        remove_dirs_of_dead_processes();
        let dir_prefix = std::env::temp_dir()
            .join(format!("maverick-chromium-{}-{}", std::process::id(), uuid::Uuid::new_v4().simple()))
            .display()
            .to_string();
        BrowserPool {
            inner: Arc::new(PoolInner {
                permits: Semaphore::new(settings.max_browsers.max(1)),
                settings,
                idle: Mutex::new(Vec::new()),
                closed: AtomicBool::new(false),
                dir_prefix,
                launches: AtomicU64::new(0),
            }),
        }
    }

    pub fn settings(&self) -> &BrowserSettings {
        &self.inner.settings
    }

    /// How many browsers this pool has launched so far (a replaced browser counts again).
    pub fn launches(&self) -> u64 {
        self.inner.launches.load(Ordering::Relaxed)
    }

    /// Live Chromium processes (browser, zygotes, renderers…) started by this pool: every process
    /// whose command line names one of our user-data-dirs. Tests assert it is 0 after shutdown.
    pub fn chromium_processes(&self) -> usize {
        count_processes_mentioning(&self.inner.dir_prefix)
    }

    /// User-data-dirs of this pool still on disk (each browser's is removed when it is closed).
    pub fn data_dirs_on_disk(&self) -> usize {
        self.own_data_dirs().len()
    }

    /// The process ids of this pool's main Chromium processes (not their helpers), for tests
    /// that crash one on purpose.
    pub fn browser_pids(&self) -> Vec<u32> {
        processes_mentioning(&self.inner.dir_prefix)
            .into_iter()
            .filter(|(_, cmdline)| !cmdline.windows(7).any(|w| w == b"--type="))
            .map(|(pid, _)| pid)
            .collect()
    }

    /// Closes every browser and waits for it to exit, then removes its user-data-dir. Sessions
    /// still open close their browser when they end; later sessions are refused.
    pub async fn shutdown(&self) {
        self.inner.closed.store(true, Ordering::SeqCst);
        let idle = std::mem::take(&mut *self.inner.idle.lock().expect("pool lock"));
        for running in idle {
            retire(running, self.inner.settings.call_timeout).await;
        }
        // Wait (bounded) for lent-out browsers to come back and be retired.
        let all = self.inner.settings.max_browsers.max(1) as u32;
        let wait = self.inner.settings.call_timeout * 3;
        if let Ok(Ok(permits)) = tokio::time::timeout(wait, self.inner.permits.acquire_many(all)).await {
            permits.forget();
        }
        self.inner.permits.close();
        // Anything a browser left behind (e.g. one killed while it was writing its profile).
        for dir in self.own_data_dirs() {
            let _ = std::fs::remove_dir_all(dir);
        }
    }

    fn own_data_dirs(&self) -> Vec<PathBuf> {
        let prefix = Path::new(&self.inner.dir_prefix);
        let (Some(parent), Some(name)) = (prefix.parent(), prefix.file_name().and_then(|n| n.to_str())) else { return Vec::new() };
        std::fs::read_dir(parent)
            .map(|d| d.filter_map(Result::ok).filter(|e| e.file_name().to_str().is_some_and(|n| n.starts_with(name))).map(|e| e.path()).collect())
            .unwrap_or_default()
    }

    /// A private browser context with one blank tab, on an idle browser or a newly launched one.
    pub async fn session(&self) -> Result<Session, BrowserError> {
        if self.inner.closed.load(Ordering::SeqCst) {
            return Err(BrowserError::ShutDown);
        }
        let permit = self.inner.permits.acquire().await.map_err(|_| BrowserError::ShutDown)?;
        permit.forget(); // given back in `Session::close`
        match self.open_session().await {
            Ok(s) => Ok(s),
            Err(e) => {
                self.inner.permits.add_permits(1);
                Err(e)
            }
        }
    }

    async fn open_session(&self) -> Result<Session, BrowserError> {
        let t = self.inner.settings.call_timeout;
        loop {
            let idle = self.inner.idle.lock().expect("pool lock").pop();
            let (running, reused) = match idle {
                // A finished handler means the connection is gone: the browser crashed.
                Some(r) if r.handler.is_finished() => {
                    retire(r, t).await;
                    continue;
                }
                Some(r) => (r, true),
                None => (self.launch().await?, false),
            };
            match new_context(&running.browser, t).await {
                Ok((context, page)) => return Ok(Session { pool: self.clone(), running: Some(running), context, page, poisoned: false, call_timeout: t }),
                Err(e) => {
                    // A browser that cannot open a tab is no use. An idle one may have died
                    // unnoticed (crashed): replace it and try again; a fresh one failing is final.
                    retire(running, t).await;
                    if !reused {
                        return Err(e);
                    }
                    tracing::warn!(error = %e, "an idle chromium did not answer; starting another");
                }
            }
        }
    }

    async fn launch(&self) -> Result<Running, BrowserError> {
        let s = &self.inner.settings;
        let n = self.inner.launches.fetch_add(1, Ordering::Relaxed) + 1;
        let data_dir = PathBuf::from(format!("{}-{n}", self.inner.dir_prefix));
        let launch_err = |detail: String| BrowserError::Launch { executable: s.executable.display().to_string(), detail };
        std::fs::create_dir_all(&data_dir).map_err(|e| launch_err(format!("cannot create {}: {e}", data_dir.display())))?;
        let config = BrowserConfig::builder()
            .chrome_executable(&s.executable)
            .new_headless_mode()
            .no_sandbox()
            .user_data_dir(&data_dir)
            .request_timeout(s.call_timeout)
            .launch_timeout(s.call_timeout.max(Duration::from_secs(20)))
            .window_size(1280, 900)
            .viewport(None)
            .arg("--disable-dev-shm-usage")
            .arg("--disable-gpu")
            .build()
            .map_err(launch_err)?;
        let (browser, mut handler) = match Browser::launch(config).await {
            Ok(pair) => pair,
            Err(e) => {
                let _ = std::fs::remove_dir_all(&data_dir);
                return Err(launch_err(e.to_string()));
            }
        };
        // The handler drives the connection; newer Chromium sends messages chromiumoxide cannot
        // parse, so an error is logged and polling goes on until the connection closes.
        let handler = tokio::spawn(async move {
            while let Some(event) = handler.next().await {
                if let Err(e) = event {
                    tracing::debug!(error = %e, "chromium handler");
                }
            }
        });
        tracing::info!(data_dir = %data_dir.display(), "chromium started");
        Ok(Running { browser, handler, data_dir })
    }
}

/// A Maverick process that was killed (SIGKILL, OOM) could not remove its browsers' data dirs:
/// the next pool removes those of processes that no longer run.
fn remove_dirs_of_dead_processes() {
    let Ok(dir) = std::fs::read_dir(std::env::temp_dir()) else { return };
    for entry in dir.filter_map(Result::ok) {
        let name = entry.file_name();
        let Some(pid) = name.to_str().and_then(|n| n.strip_prefix("maverick-chromium-")).and_then(|rest| rest.split('-').next()).and_then(|p| p.parse::<u32>().ok())
        else {
            continue;
        };
        if pid != std::process::id() && !Path::new(&format!("/proc/{pid}")).exists() {
            let _ = std::fs::remove_dir_all(entry.path());
        }
    }
}

/// Closes the browser (asks, then kills if it does not go), reaps it and removes its data dir.
async fn retire(mut r: Running, t: Duration) {
    let closed = matches!(tokio::time::timeout(t, r.browser.close()).await, Ok(Ok(_)));
    let waited = closed && matches!(tokio::time::timeout(t, r.browser.wait()).await, Ok(Ok(_)));
    if !waited {
        // `kill` also waits for the process.
        let _ = tokio::time::timeout(t, r.browser.kill()).await;
    }
    r.handler.abort();
    // Renderers, zygotes and services leave with the browser; give them a moment, then remove
    // the dir. One still writing makes a removal fail half-way: try again until it is gone.
    let prefix = r.data_dir.display().to_string();
    let until = Instant::now() + Duration::from_secs(10);
    while count_processes_mentioning(&prefix) > 0 && Instant::now() < until {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let until = Instant::now() + Duration::from_secs(5);
    while let Err(e) = std::fs::remove_dir_all(&r.data_dir) {
        if e.kind() == std::io::ErrorKind::NotFound {
            break;
        }
        if Instant::now() >= until {
            tracing::warn!(data_dir = %prefix, error = %e, "could not remove chromium's data dir");
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    tracing::info!(data_dir = %prefix, "chromium stopped");
}

async fn new_context(browser: &Browser, t: Duration) -> Result<(BrowserContextId, Page), BrowserError> {
    let context = within(t, "opening a browser context", browser.create_browser_context(CreateBrowserContextParams::default())).await?;
    let params = CreateTargetParams::builder()
        .url("about:blank")
        .browser_context_id(context.clone())
        .build()
        .map_err(|e| BrowserError::Cdp("opening a tab", e))?;
    let page = within(t, "opening a tab", browser.new_page(params)).await?;
    Ok((context, page))
}

/// One outer timeout around a chromiumoxide call.
async fn within<T>(t: Duration, what: &'static str, fut: impl Future<Output = chromiumoxide::Result<T>>) -> Result<T, BrowserError> {
    match tokio::time::timeout(t, fut).await {
        Ok(Ok(v)) => Ok(v),
        Ok(Err(chromiumoxide::error::CdpError::Timeout)) => Err(BrowserError::Hung(t, what)),
        Ok(Err(e)) => Err(BrowserError::Cdp(what, e.to_string())),
        Err(_) => Err(BrowserError::Hung(t, what)),
    }
}

fn count_processes_mentioning(needle: &str) -> usize {
    processes_mentioning(needle).len()
}

/// Live processes whose command line contains `needle`, with that command line (a zombie's
/// is empty: it is no longer running anything).
fn processes_mentioning(needle: &str) -> Vec<(u32, Vec<u8>)> {
    let Ok(dir) = std::fs::read_dir("/proc") else { return Vec::new() };
    let needle = needle.as_bytes();
    dir.filter_map(Result::ok)
        .filter_map(|e| Some((e.file_name().to_str()?.parse::<u32>().ok()?, e.path())))
        .filter_map(|(pid, path)| {
            let cmdline = std::fs::read(path.join("cmdline")).ok()?;
            cmdline.windows(needle.len()).any(|w| w == needle).then_some((pid, cmdline))
        })
        .collect()
}

/// A private browser context with one tab, lent by the pool. End it with [`Session::close`].
pub struct Session {
    pool: BrowserPool,
    running: Option<Running>,
    context: BrowserContextId,
    page: Page,
    /// A call timed out: the browser is not trusted again and is replaced on close.
    poisoned: bool,
    call_timeout: Duration,
}

/// Which of several selectors showed up first.
pub type Found = usize;

impl Session {
    pub fn page(&self) -> &Page {
        &self.page
    }

    pub fn call_timeout(&self) -> Duration {
        self.call_timeout
    }

    /// Runs one DevTools call under the call timeout; a timeout marks the browser for replacement.
    pub async fn call<T>(&mut self, what: &'static str, fut: impl Future<Output = chromiumoxide::Result<T>>) -> Result<T, BrowserError> {
        self.call_for(self.call_timeout, what, fut).await
    }

    async fn call_for<T>(&mut self, t: Duration, what: &'static str, fut: impl Future<Output = chromiumoxide::Result<T>>) -> Result<T, BrowserError> {
        let r = within(t, what, fut).await;
        if matches!(r, Err(BrowserError::Hung(..))) {
            self.poisoned = true;
        }
        r
    }

    /// Opens `url` and waits for it to load, at most `timeout` (and the call timeout).
    pub async fn goto(&mut self, url: &str, timeout: Duration) -> Result<(), BrowserError> {
        let page = self.page.clone();
        self.call_for(timeout.min(self.call_timeout), "opening the page", async move { page.goto(url).await.map(|_| ()) }).await
    }

    /// Evaluates a JavaScript expression and returns its JSON value.
    pub async fn eval(&mut self, js: &str) -> Result<serde_json::Value, BrowserError> {
        let page = self.page.clone();
        let params = EvaluateParams::builder().expression(js).return_by_value(true).await_promise(true).build().map_err(|e| BrowserError::Cdp("evaluating", e))?;
        let r = self.call("reading the page", async move { page.evaluate_expression(params).await }).await?;
        Ok(r.value().cloned().unwrap_or(serde_json::Value::Null))
    }

    /// Polls until one of `selectors` matches (its index), or `None` after `timeout`. A page
    /// between two documents cannot be read for a moment: such errors just mean "not yet".
    pub async fn wait_any(&mut self, selectors: &[&str], timeout: Duration) -> Result<Option<Found>, BrowserError> {
        let list = serde_json::to_string(selectors).expect("selectors");
        let js = format!("(() => {{ const s = {list}; for (let i = 0; i < s.length; i++) {{ if (document.querySelector(s[i])) return i; }} return -1; }})()");
        let deadline = Instant::now() + timeout;
        loop {
            match self.eval(&js).await {
                Ok(v) => {
                    if let Some(i) = v.as_i64().filter(|i| *i >= 0) {
                        return Ok(Some(i as usize));
                    }
                }
                Err(e @ BrowserError::Hung(..)) => return Err(e),
                Err(_) => {}
            }
            if Instant::now() >= deadline {
                return Ok(None);
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Whether `selector` matches now.
    pub async fn exists(&mut self, selector: &str) -> Result<bool, BrowserError> {
        let js = format!("document.querySelector({}) !== null", serde_json::to_string(selector).expect("selector"));
        Ok(self.eval(&js).await?.as_bool().unwrap_or(false))
    }

    /// The trimmed text of the first match of `selector`, if any.
    pub async fn text(&mut self, selector: &str) -> Result<Option<String>, BrowserError> {
        let js = format!("(() => {{ const e = document.querySelector({}); return e ? e.innerText.trim() : null; }})()", serde_json::to_string(selector).expect("selector"));
        Ok(self.eval(&js).await?.as_str().map(str::to_owned))
    }

    /// Empties the field and types `text` into it through the DevTools input domain (not through
    /// page JavaScript, so a password never appears in a script).
    pub async fn fill(&mut self, selector: &str, text: &str) -> Result<(), BrowserError> {
        let js = format!(
            "(() => {{ const e = document.querySelector({}); if (!e) return false; e.focus(); e.value = ''; return document.activeElement === e; }})()",
            serde_json::to_string(selector).expect("selector")
        );
        if !self.eval(&js).await?.as_bool().unwrap_or(false) {
            return Err(BrowserError::Cdp("typing", format!("no field {selector} to type into")));
        }
        let page = self.page.clone();
        self.call("typing", async move { page.execute(InsertTextParams::new(text)).await.map(|_| ()) }).await
    }

    /// Picks the option whose value is `value` in a `<select>`; false when there is none.
    pub async fn select(&mut self, selector: &str, value: &str) -> Result<bool, BrowserError> {
        let js = format!(
            "(() => {{ const e = document.querySelector({}); if (!e || ![...e.options].some(o => o.value === {v})) return false; \
             e.value = {v}; e.dispatchEvent(new Event('change', {{ bubbles: true }})); return true; }})()",
            serde_json::to_string(selector).expect("selector"),
            v = serde_json::to_string(value).expect("value")
        );
        Ok(self.eval(&js).await?.as_bool().unwrap_or(false))
    }

    /// Clicks the element like a user (mouse events at its centre).
    pub async fn click(&mut self, selector: &str) -> Result<(), BrowserError> {
        let page = self.page.clone();
        let selector = selector.to_owned();
        self.call("clicking", async move {
            page.find_element(selector).await?.click().await?;
            Ok(())
        })
        .await
    }

    /// Puts a file into a file input (DOM.setFileInputFiles).
    pub async fn set_file(&mut self, selector: &str, file: &Path) -> Result<(), BrowserError> {
        let page = self.page.clone();
        let selector = selector.to_owned();
        let path = std::path::absolute(file).unwrap_or_else(|_| file.to_owned()).display().to_string();
        self.call("choosing the file", async move {
            let input = page.find_element(selector).await?;
            let params = SetFileInputFilesParams::builder().file(path).backend_node_id(input.backend_node_id).build().map_err(chromiumoxide::error::CdpError::msg)?;
            page.execute(params).await.map(|_| ())
        })
        .await
    }

    /// Lets this session's downloads go to `dir` (CDP Browser.setDownloadBehavior for our context).
    pub async fn allow_downloads(&mut self, dir: &Path) -> Result<(), BrowserError> {
        let params = SetDownloadBehaviorParams::builder()
            .behavior(SetDownloadBehaviorBehavior::Allow)
            .browser_context_id(self.context.clone())
            .download_path(dir.display().to_string())
            .events_enabled(true)
            .build()
            .map_err(|e| BrowserError::Cdp("allowing downloads", e))?;
        let page = self.page.clone();
        self.call("allowing downloads", async move { page.execute(params).await.map(|_| ()) }).await
    }

    // Evidence of a failure is taken with a short bound: the browser may be the thing that hangs.
    fn evidence_timeout(&self) -> Duration {
        self.call_timeout.min(Duration::from_secs(5))
    }

    pub async fn url(&mut self) -> Option<String> {
        let page = self.page.clone();
        self.call_for(self.evidence_timeout(), "reading the address", async move { page.url().await }).await.ok().flatten()
    }

    pub async fn html(&mut self) -> Option<String> {
        let page = self.page.clone();
        self.call_for(self.evidence_timeout(), "reading the page", async move { page.content().await }).await.ok()
    }

    /// A PNG of the whole page.
    pub async fn screenshot(&mut self) -> Option<Vec<u8>> {
        let page = self.page.clone();
        let params = ScreenshotParams::builder().format(CaptureScreenshotFormat::Png).full_page(true).build();
        self.call_for(self.evidence_timeout(), "taking a screenshot", async move { page.screenshot(params).await }).await.ok()
    }

    /// Waits until a finished download sits in `dir` (Chromium writes `*.crdownload` and renames
    /// it when complete; the size must also hold still for a poll) and returns its path.
    pub async fn wait_for_download(&mut self, dir: &Path, timeout: Duration) -> Option<PathBuf> {
        let deadline = Instant::now() + timeout;
        let mut last: Option<(PathBuf, u64)> = None;
        loop {
            let done = std::fs::read_dir(dir).ok().into_iter().flatten().filter_map(Result::ok).find_map(|e| {
                let path = e.path();
                let partial = path.extension().is_some_and(|x| x == "crdownload");
                let len = e.metadata().ok().filter(|m| m.is_file())?.len();
                (!partial && len > 0).then_some((path, len))
            });
            if let (Some(now), Some(before)) = (&done, &last) {
                if now == before {
                    return Some(now.0.clone());
                }
            }
            last = done;
            if Instant::now() >= deadline {
                return None;
            }
            tokio::time::sleep(Duration::from_millis(150)).await;
        }
    }

    /// Marks the browser for replacement (e.g. a page that never finished loading).
    pub fn poison(&mut self) {
        self.poisoned = true;
    }

    /// Ends the session: the tab and context are closed and the browser goes back to the pool,
    /// or is closed, reaped and replaced if it hung, crashed or the pool is shutting down.
    pub async fn close(mut self) {
        let Some(running) = self.running.take() else { return };
        let t = self.call_timeout;
        let pool = self.pool.inner.clone();
        let mut keep = !self.poisoned && !pool.closed.load(Ordering::SeqCst) && !running.handler.is_finished();
        if keep {
            let page = self.page.clone();
            keep = within(t, "closing the tab", page.close()).await.is_ok()
                && within(t, "closing the context", running.browser.dispose_browser_context(self.context.clone())).await.is_ok();
        }
        if keep && !pool.closed.load(Ordering::SeqCst) {
            pool.idle.lock().expect("pool lock").push(running);
        } else {
            retire(running, t).await;
        }
        pool.permits.add_permits(1);
    }
}

impl Drop for Session {
    /// A session dropped without `close` (a panic, a cancelled task) still gives its browser
    /// back: retired in the background, since we cannot know what state it was left in.
    fn drop(&mut self) {
        if let Some(running) = self.running.take() {
            let pool = self.pool.inner.clone();
            let t = self.call_timeout;
            if let Ok(rt) = tokio::runtime::Handle::try_current() {
                rt.spawn(async move {
                    retire(running, t).await;
                    pool.permits.add_permits(1);
                });
            }
        }
    }
}
