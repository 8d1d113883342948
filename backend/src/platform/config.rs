//! Configuration, read once from the environment at start-up. Every variable is listed in the
//! README's configuration table; a bad value stops start-up with a message that names it.

use std::{env, path::PathBuf, time::Duration as StdDuration};

use chrono::Duration;

use crate::{
    platform::crypto::SecretBox,
    platform::db::PoolSettings,
    platform::error::{Error, Result},
};

/// How long a session lives: idle and absolute limits.
#[derive(Clone, Copy, Debug)]
pub struct SessionPolicy {
    pub idle_timeout: Duration,
    pub absolute_timeout: Duration,
}

impl Default for SessionPolicy {
    fn default() -> Self {
        SessionPolicy { idle_timeout: Duration::hours(8), absolute_timeout: Duration::days(7) }
    }
}

/// How many failed sign-ins are allowed, per account and per client IP, within a window.
#[derive(Clone, Copy, Debug)]
pub struct ThrottlePolicy {
    pub window: Duration,
    pub max_failures_per_account: i64,
    pub max_failures_per_ip: i64,
}

impl Default for ThrottlePolicy {
    fn default() -> Self {
        ThrottlePolicy { window: Duration::minutes(15), max_failures_per_account: 5, max_failures_per_ip: 30 }
    }
}

#[derive(Clone, Debug)]
pub struct Config {
    pub database_url: String,
    pub data_dir: PathBuf,
    pub pool: PoolSettings,
    /// Where users reach us (`https://…` turns on Secure cookies); also an allowed request origin.
    pub public_url: Option<String>,
    pub demo: bool,
    pub sessions: SessionPolicy,
    pub throttle: ThrottlePolicy,
    pub audit_retention_days: i64,
    /// Run the job workers inside the web server process (default) or leave them to `server worker`.
    pub workers_in_process: bool,
    pub max_body_bytes: usize,
    /// Largest CSV of ZIP assignments accepted by the ZIP page's upload.
    pub zip_upload_max_bytes: usize,
    /// Largest contacts CSV accepted by the contact pipeline's upload (streamed to disk).
    pub contacts_upload_max_bytes: usize,
    /// Largest webhook body processed (a larger one is stored truncated, as failed).
    pub webhook_max_bytes: usize,
    /// Email Bison's API base (each agency has its own instance), without `/api`.
    pub bison_url: String,
    /// First backoff of Email Bison retries (doubled each time).
    pub bison_retry_delay: StdDuration,
    /// When each workspace's weekly batch is made and uploaded (cron with seconds, UTC).
    pub batch_cron: String,
    /// DeBounce's single-address endpoint, and the agency's key (`MAVERICK_DEBOUNCE_KEY`).
    pub debounce_url: String,
    pub debounce_key: Option<String>,
    /// When every connected workspace gets a full sync (cron with seconds, UTC).
    pub bison_sync_cron: String,
    /// When sender accounts are polled.
    pub sender_poll_cron: String,
    pub log_json: bool,
    /// Take the client IP from `X-Forwarded-For` (only behind a reverse proxy you control).
    pub trust_proxy: bool,
    /// How often an open live stream checks that its session and grant still stand.
    pub stream_recheck: StdDuration,
    /// When the nightly maintenance (session/audit pruning) runs: cron with seconds, in UTC.
    pub maintenance_cron: String,
    /// The ZIP places file (`MAVERICK_ZIP_PLACES`); by default `vendor/geo/zip-places.csv` in the site root.
    pub zip_places_path: Option<PathBuf>,
    pub personalization: PersonalizationSettings,
    pub integrations: IntegrationSettings,
    pub mail: MailSettings,
    /// Password-reset requests, per address and per IP (the login_failures table, keys prefixed
    /// `reset:`); not configurable: 3 an hour per address is plenty for a person.
    pub reset_throttle: ThrottlePolicy,
    pub backup: BackupSettings,
}

/// Outgoing mail (password reset links; later the inbox). No SMTP URL: links go to the log.
#[derive(Clone, Default)]
pub struct MailSettings {
    /// `MAVERICK_SMTP_URL`, e.g. `smtps://user:pass@host:465` (holds the password: never logged).
    pub smtp_url: Option<String>,
    /// `MAVERICK_MAIL_FROM`, e.g. `Maverick <noreply@agency.com>`.
    pub from: Option<String>,
}

impl std::fmt::Debug for MailSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MailSettings").field("smtp_url", &self.smtp_url.as_ref().map(|_| "[redacted]")).field("from", &self.from).finish()
    }
}

impl MailSettings {
    fn from_env() -> Result<MailSettings> {
        let smtp_url = var("MAVERICK_SMTP_URL");
        let from = var("MAVERICK_MAIL_FROM");
        if let Some(url) = &smtp_url {
            if !(url.starts_with("smtp://") || url.starts_with("smtps://")) {
                return Err(Error::invalid("MAVERICK_SMTP_URL must start with smtps:// (TLS, port 465) or smtp:// (add ?tls=required for STARTTLS on 587)"));
            }
            if from.is_none() {
                return Err(Error::invalid("MAVERICK_SMTP_URL is set but MAVERICK_MAIL_FROM is not: set the sender, e.g. \"Maverick <noreply@agency.com>\""));
            }
        }
        Ok(MailSettings { smtp_url, from })
    }
}

impl ThrottlePolicy {
    /// Password-reset requests: 3 per address and 20 per IP an hour.
    pub fn password_reset() -> ThrottlePolicy {
        ThrottlePolicy { window: Duration::hours(1), max_failures_per_account: 3, max_failures_per_ip: 20 }
    }
}

/// Scheduled backups of a SQLite install (`platform::backup`).
#[derive(Clone, Debug)]
pub struct BackupSettings {
    /// When a backup is made (cron with seconds, UTC); unset: no scheduled backup.
    pub cron: Option<String>,
    /// How many archives the schedule keeps (the newest).
    pub keep: usize,
    /// Where archives go; by default `<data dir>/backups`.
    pub dir: Option<PathBuf>,
}

impl Default for BackupSettings {
    fn default() -> Self {
        BackupSettings { cron: None, keep: 7, dir: None }
    }
}

/// The integrations API: outbound webhooks, REST v1 tokens, idempotency, metrics.
#[derive(Clone, Debug)]
pub struct IntegrationSettings {
    /// Deliver to loopback, private and link-local addresses (`MAVERICK_WEBHOOK_ALLOW_PRIVATE=1`;
    /// tests and receivers on the same network). Off: such URLs are refused (SSRF guard).
    pub allow_private: bool,
    /// Waits before each retry of a failed delivery (the first attempt is immediate);
    /// `MAVERICK_WEBHOOK_RETRY_SCHEDULE` in seconds, comma-separated. Svix's schedule by default.
    pub retry_schedule: Vec<StdDuration>,
    /// How long a receiver has to answer.
    pub delivery_timeout: StdDuration,
    /// An endpoint failing for this long without one success is disabled.
    pub disable_after: Duration,
    /// Deliveries in flight per process.
    pub delivery_concurrency: usize,
    /// Requests per minute per API token (`MAVERICK_API_RATE_PER_MINUTE`).
    pub api_rate_per_minute: u32,
    /// How long an idempotency key's first response is kept (`MAVERICK_IDEMPOTENCY_HOURS`).
    pub idempotency_retention: Duration,
    /// Bearer token for `GET /metrics`; unset: /metrics is off.
    pub metrics_token: Option<String>,
    /// How long events are kept for polling, delivery logs and replays.
    pub event_retention: Duration,
    /// Cole X Dates' site (`MAVERICK_COLE_URL`): the address its sign-in page lives under
    /// (`connectors::sites`); unset: the Cole pull has nowhere to go and says so.
    pub cole_url: Option<String>,
    /// Clay's web app (`MAVERICK_CLAY_URL`): Clay has no API for tables, so we use its pages.
    pub clay_url: String,
    /// The headless Chromium those two site connectors drive.
    pub browser: BrowserSettings,
}

/// How the browser automations run Chromium (`connectors::chromium::BrowserPool`).
#[derive(Clone, Debug, PartialEq)]
pub struct BrowserSettings {
    /// The system Chromium (`MAVERICK_CHROMIUM`); we never download a browser.
    pub executable: PathBuf,
    /// The longest one DevTools call may take (`MAVERICK_BROWSER_CALL_TIMEOUT_SECS`); a call that
    /// takes longer means the browser hangs, and it is replaced.
    pub call_timeout: StdDuration,
    /// Browsers this process runs at once (`MAVERICK_BROWSER_MAX`); each is ~150 MB.
    pub max_browsers: usize,
}

impl Default for BrowserSettings {
    fn default() -> Self {
        BrowserSettings { executable: PathBuf::from("/usr/bin/chromium"), call_timeout: StdDuration::from_secs(30), max_browsers: 1 }
    }
}

impl BrowserSettings {
    /// From the environment; a bad value falls back to the default with a warning (the host's
    /// start-up already refused it through [`Config::from_env`]).
    pub fn from_env() -> Self {
        Self::try_from_env().unwrap_or_else(|e| {
            tracing::warn!(error = %e, "browser settings: using the defaults");
            BrowserSettings::default()
        })
    }

    pub fn try_from_env() -> Result<Self> {
        let d = BrowserSettings::default();
        Ok(BrowserSettings {
            executable: var("MAVERICK_CHROMIUM").map(PathBuf::from).unwrap_or(d.executable),
            call_timeout: StdDuration::from_secs(parse("MAVERICK_BROWSER_CALL_TIMEOUT_SECS", 30u64)?.max(1)),
            max_browsers: parse("MAVERICK_BROWSER_MAX", d.max_browsers)?.clamp(1, 16),
        })
    }
}

impl Default for IntegrationSettings {
    fn default() -> Self {
        IntegrationSettings {
            allow_private: false,
            retry_schedule: [5u64, 300, 1800, 7200, 18000, 36000, 36000].into_iter().map(StdDuration::from_secs).collect(),
            delivery_timeout: StdDuration::from_secs(15),
            disable_after: Duration::days(5),
            delivery_concurrency: 64,
            api_rate_per_minute: 600,
            idempotency_retention: Duration::hours(24),
            metrics_token: None,
            event_retention: Duration::days(30),
            cole_url: None,
            clay_url: "https://app.clay.com".into(),
            browser: BrowserSettings::default(),
        }
    }
}

impl IntegrationSettings {
    fn from_env() -> Result<Self> {
        let d = IntegrationSettings::default();
        let retry_schedule = match var("MAVERICK_WEBHOOK_RETRY_SCHEDULE") {
            None => d.retry_schedule,
            Some(list) => list
                .split(',')
                .map(|s| s.trim().parse::<f64>().ok().filter(|v| v.is_finite() && *v >= 0.0).map(StdDuration::from_secs_f64))
                .collect::<Option<Vec<_>>>()
                .ok_or_else(|| Error::invalid(format!("MAVERICK_WEBHOOK_RETRY_SCHEDULE={list:?}: give seconds, comma-separated (e.g. 5,300,1800)")))?,
        };
        Ok(IntegrationSettings {
            allow_private: flag("MAVERICK_WEBHOOK_ALLOW_PRIVATE", false)?,
            retry_schedule,
            delivery_timeout: StdDuration::from_secs(parse("MAVERICK_WEBHOOK_TIMEOUT_SECS", 15u64)?.max(1)),
            disable_after: Duration::hours(parse("MAVERICK_WEBHOOK_DISABLE_AFTER_HOURS", 120i64)?.max(1)),
            delivery_concurrency: parse("MAVERICK_WEBHOOK_CONCURRENCY", d.delivery_concurrency)?.clamp(1, 1024),
            api_rate_per_minute: parse("MAVERICK_API_RATE_PER_MINUTE", d.api_rate_per_minute)?.max(1),
            idempotency_retention: Duration::hours(parse("MAVERICK_IDEMPOTENCY_HOURS", 24i64)?.max(1)),
            metrics_token: var("MAVERICK_METRICS_TOKEN"),
            event_retention: Duration::days(parse("MAVERICK_EVENT_RETENTION_DAYS", 30i64)?.max(1)),
            cole_url: var("MAVERICK_COLE_URL").map(|u| u.trim_end_matches('/').to_owned()),
            clay_url: var("MAVERICK_CLAY_URL").map(|u| u.trim_end_matches('/').to_owned()).unwrap_or(d.clay_url),
            browser: BrowserSettings::try_from_env()?,
        })
    }
}

/// AI personalization: the two providers, how hard to push them, and the savings rate.
#[derive(Clone, Debug)]
pub struct PersonalizationSettings {
    pub perplexity_url: String,
    pub perplexity_key: Option<String>,
    pub perplexity_model: String,
    /// Requests per minute to Perplexity from this process (0: no limit).
    pub perplexity_per_minute: u32,
    pub openrouter_url: String,
    pub openrouter_key: Option<String>,
    pub openrouter_model: String,
    pub openrouter_per_minute: u32,
    /// First retry delay (doubled each retry) and the time one call may take.
    pub retry_delay: StdDuration,
    pub timeout: StdDuration,
    /// Leads in flight per run (a sliding window).
    pub concurrency: usize,
    pub upload_max_bytes: usize,
    /// Dollars per hour saved (each personalized lead saves 0.02 h).
    pub hourly_rate: f64,
    /// How long a worker holds a run without renewing it before another may take it over.
    pub lease: StdDuration,
}

impl Default for PersonalizationSettings {
    fn default() -> Self {
        PersonalizationSettings {
            perplexity_url: "https://api.perplexity.ai".into(),
            perplexity_key: None,
            perplexity_model: "sonar".into(),
            perplexity_per_minute: 150,
            openrouter_url: "https://openrouter.ai/api/v1".into(),
            openrouter_key: None,
            openrouter_model: "anthropic/claude-sonnet-4.5".into(),
            openrouter_per_minute: 600,
            retry_delay: StdDuration::from_secs(2),
            timeout: StdDuration::from_secs(60),
            concurrency: 10,
            upload_max_bytes: 10 * 1024 * 1024,
            hourly_rate: 2.0,
            lease: StdDuration::from_secs(30),
        }
    }
}

impl PersonalizationSettings {
    fn from_env() -> Result<Self> {
        let d = PersonalizationSettings::default();
        let url = |name: &str, default: String| var(name).map(|u| u.trim_end_matches('/').to_owned()).unwrap_or(default);
        let hourly_rate: f64 = parse("MAVERICK_PERSONALIZATION_HOURLY_RATE", d.hourly_rate)?;
        if !(hourly_rate.is_finite() && hourly_rate >= 0.0) {
            return Err(Error::invalid("MAVERICK_PERSONALIZATION_HOURLY_RATE must be a number of dollars, 0 or more"));
        }
        Ok(PersonalizationSettings {
            perplexity_url: url("MAVERICK_PERPLEXITY_URL", d.perplexity_url),
            perplexity_key: var("MAVERICK_PERPLEXITY_KEY"),
            perplexity_model: var("MAVERICK_PERPLEXITY_MODEL").unwrap_or(d.perplexity_model),
            perplexity_per_minute: parse("MAVERICK_PERPLEXITY_RPM", d.perplexity_per_minute)?,
            openrouter_url: url("MAVERICK_OPENROUTER_URL", d.openrouter_url),
            openrouter_key: var("MAVERICK_OPENROUTER_KEY"),
            openrouter_model: var("MAVERICK_OPENROUTER_MODEL").unwrap_or(d.openrouter_model),
            openrouter_per_minute: parse("MAVERICK_OPENROUTER_RPM", d.openrouter_per_minute)?,
            retry_delay: StdDuration::from_millis(parse("MAVERICK_AI_RETRY_DELAY_MS", 2000u64)?),
            timeout: StdDuration::from_secs(parse("MAVERICK_AI_TIMEOUT_SECS", 60u64)?.max(1)),
            concurrency: parse("MAVERICK_PERSONALIZATION_CONCURRENCY", d.concurrency)?.clamp(1, 200),
            upload_max_bytes: parse("MAVERICK_PERSONALIZATION_UPLOAD_MAX_BYTES", d.upload_max_bytes)?,
            hourly_rate,
            lease: StdDuration::from_secs(parse("MAVERICK_PERSONALIZATION_LEASE_SECS", 30u64)?.max(2)),
        })
    }

    /// Both AI keys are set: runs can use Perplexity and Claude; otherwise only the template writer.
    pub fn ai_ready(&self) -> bool {
        self.perplexity_key.is_some() && self.openrouter_key.is_some()
    }
}

fn var(name: &str) -> Option<String> {
    env::var(name).ok().map(|v| v.trim().to_owned()).filter(|v| !v.is_empty())
}

fn parse<T: std::str::FromStr>(name: &str, default: T) -> Result<T> {
    match var(name) {
        None => Ok(default),
        Some(v) => v.parse().map_err(|_| Error::invalid(format!("{name}={v:?} is not a valid number"))),
    }
}

fn flag(name: &str, default: bool) -> Result<bool> {
    match var(name).as_deref().map(str::to_ascii_lowercase).as_deref() {
        None => Ok(default),
        Some("1" | "true" | "yes" | "on") => Ok(true),
        Some("0" | "false" | "no" | "off") => Ok(false),
        Some(other) => Err(Error::invalid(format!("{name}={other:?}: use 1/0, true/false, yes/no or on/off"))),
    }
}

impl Config {
    /// The defaults, for a given database (tests and tools; the host uses [`Config::from_env`]).
    pub fn with_database(database_url: &str, data_dir: PathBuf) -> Config {
        Config {
            database_url: database_url.to_owned(),
            data_dir,
            pool: PoolSettings::default(),
            public_url: None,
            demo: false,
            sessions: SessionPolicy::default(),
            throttle: ThrottlePolicy::default(),
            audit_retention_days: 365,
            workers_in_process: true,
            max_body_bytes: 2 * 1024 * 1024,
            zip_upload_max_bytes: 5 * 1024 * 1024,
            webhook_max_bytes: 256 * 1024,
            contacts_upload_max_bytes: 50 * 1024 * 1024,
            bison_url: "https://dedi.emailbison.com".into(),
            bison_retry_delay: StdDuration::from_secs(1),
            bison_sync_cron: "0 15 6 * * *".into(),
            sender_poll_cron: "0 */30 * * * *".into(),
            debounce_url: "https://api.debounce.io/v1/".into(),
            debounce_key: None,
            batch_cron: "0 0 9 * * Fri".into(),
            log_json: false,
            trust_proxy: false,
            stream_recheck: StdDuration::from_secs(15),
            maintenance_cron: "0 30 3 * * *".into(),
            zip_places_path: None,
            personalization: PersonalizationSettings::default(),
            integrations: IntegrationSettings::default(),
            mail: MailSettings::default(),
            reset_throttle: ThrottlePolicy::password_reset(),
            backup: BackupSettings::default(),
        }
    }

    pub fn from_env() -> Result<Config> {
        let data_dir = PathBuf::from(var("MAVERICK_DATA_DIR").unwrap_or_else(|| "data".into()));
        let database_url = var("DATABASE_URL").unwrap_or_else(|| format!("sqlite://{}/maverick.db", data_dir.display()));
        let positive = |name: &str, v: i64| {
            if v > 0 {
                Ok(v)
            } else {
                Err(Error::invalid(format!("{name} must be greater than 0")))
            }
        };
        let public_url = var("MAVERICK_PUBLIC_URL").map(|u| u.trim_end_matches('/').to_owned());
        if let Some(u) = &public_url {
            if !(u.starts_with("http://") || u.starts_with("https://")) {
                return Err(Error::invalid(format!("MAVERICK_PUBLIC_URL={u:?} must start with http:// or https://")));
            }
        }
        let mail = MailSettings::from_env()?;
        if mail.smtp_url.is_some() && public_url.is_none() {
            return Err(Error::invalid("MAVERICK_SMTP_URL is set but MAVERICK_PUBLIC_URL is not: mailed links need the address users reach Maverick at"));
        }
        Ok(Config {
            database_url,
            pool: PoolSettings {
                max_connections: parse("MAVERICK_DB_MAX_CONNECTIONS", 10u32)?.max(1),
                acquire_timeout: StdDuration::from_secs(parse("MAVERICK_DB_TIMEOUT_SECS", 10u64)?.max(1)),
            },
            public_url,
            demo: flag("MAVERICK_DEMO", false)?,
            sessions: SessionPolicy {
                idle_timeout: Duration::minutes(positive(
                    "MAVERICK_SESSION_IDLE_MINUTES",
                    parse("MAVERICK_SESSION_IDLE_MINUTES", 480)?,
                )?),
                absolute_timeout: Duration::hours(positive(
                    "MAVERICK_SESSION_MAX_HOURS",
                    parse("MAVERICK_SESSION_MAX_HOURS", 168)?,
                )?),
            },
            throttle: ThrottlePolicy {
                window: Duration::minutes(positive("MAVERICK_LOGIN_WINDOW_MINUTES", parse("MAVERICK_LOGIN_WINDOW_MINUTES", 15)?)?),
                max_failures_per_account: positive(
                    "MAVERICK_LOGIN_MAX_FAILURES_ACCOUNT",
                    parse("MAVERICK_LOGIN_MAX_FAILURES_ACCOUNT", 5)?,
                )?,
                max_failures_per_ip: positive("MAVERICK_LOGIN_MAX_FAILURES_IP", parse("MAVERICK_LOGIN_MAX_FAILURES_IP", 30)?)?,
            },
            audit_retention_days: positive("MAVERICK_AUDIT_RETENTION_DAYS", parse("MAVERICK_AUDIT_RETENTION_DAYS", 365)?)?,
            workers_in_process: flag("MAVERICK_WORKERS", true)?,
            max_body_bytes: parse("MAVERICK_MAX_BODY_BYTES", 2 * 1024 * 1024usize)?,
            zip_upload_max_bytes: parse("MAVERICK_ZIP_UPLOAD_MAX_BYTES", 5 * 1024 * 1024usize)?,
            webhook_max_bytes: parse("MAVERICK_WEBHOOK_MAX_BYTES", 256 * 1024usize)?,
            contacts_upload_max_bytes: parse("MAVERICK_CONTACTS_UPLOAD_MAX_BYTES", 50 * 1024 * 1024usize)?,
            bison_url: var("MAVERICK_BISON_URL").unwrap_or_else(|| "https://dedi.emailbison.com".into()).trim_end_matches('/').to_owned(),
            bison_retry_delay: StdDuration::from_millis(parse("MAVERICK_BISON_RETRY_DELAY_MS", 1000u64)?),
            bison_sync_cron: var("MAVERICK_BISON_SYNC_CRON").unwrap_or_else(|| "0 15 6 * * *".into()),
            sender_poll_cron: var("MAVERICK_SENDER_POLL_CRON").unwrap_or_else(|| "0 */30 * * * *".into()),
            debounce_url: var("MAVERICK_DEBOUNCE_URL").unwrap_or_else(|| "https://api.debounce.io/v1/".into()),
            debounce_key: var("MAVERICK_DEBOUNCE_KEY"),
            batch_cron: var("MAVERICK_BATCH_CRON").unwrap_or_else(|| "0 0 9 * * Fri".into()),
            log_json: matches!(var("MAVERICK_LOG_FORMAT").as_deref(), Some("json")),
            trust_proxy: flag("MAVERICK_TRUST_PROXY", false)?,
            stream_recheck: StdDuration::from_secs(parse("MAVERICK_STREAM_RECHECK_SECS", 15u64)?.max(1)),
            maintenance_cron: var("MAVERICK_MAINTENANCE_CRON").unwrap_or_else(|| "0 30 3 * * *".into()),
            zip_places_path: var("MAVERICK_ZIP_PLACES").map(PathBuf::from),
            personalization: PersonalizationSettings::from_env()?,
            integrations: IntegrationSettings::from_env()?,
            mail,
            reset_throttle: ThrottlePolicy::password_reset(),
            backup: BackupSettings {
                cron: var("MAVERICK_BACKUP_CRON"),
                keep: parse("MAVERICK_BACKUP_KEEP", 7usize)?.max(1),
                dir: var("MAVERICK_BACKUP_DIR").map(PathBuf::from),
            },
            data_dir,
        })
    }

    /// Secure cookies when users reach us over https.
    pub fn secure_cookies(&self) -> bool {
        self.public_url.as_deref().is_some_and(|u| u.starts_with("https://"))
    }

    /// The key that seals secrets at rest: `MAVERICK_SECRET_KEY`, or — for a zero-setup single
    /// host — a random key kept in `<data dir>/secret.key` (created on first start, mode 0600).
    pub fn secret_box(&self) -> Result<SecretBox> {
        if let Some(secret) = var("MAVERICK_SECRET_KEY") {
            return SecretBox::from_passphrase(&secret);
        }
        let path = self.data_dir.join("secret.key");
        let secret = match std::fs::read_to_string(&path) {
            Ok(s) => s,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                std::fs::create_dir_all(&self.data_dir)
                    .map_err(|e| Error::Internal(format!("cannot create {}: {e}", self.data_dir.display())))?;
                let secret = crate::platform::crypto::random_token();
                write_private(&path, &secret)?;
                tracing::warn!(path = %path.display(), "MAVERICK_SECRET_KEY is not set: generated a key file; back it up with the database");
                secret
            }
            Err(e) => return Err(Error::Internal(format!("cannot read {}: {e}", path.display()))),
        };
        SecretBox::from_passphrase(&secret)
    }
}

fn write_private(path: &std::path::Path, contents: &str) -> Result<()> {
    use std::io::Write;
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut opts, 0o600);
    let mut f = opts.open(path).map_err(|e| Error::Internal(format!("cannot create {}: {e}", path.display())))?;
    f.write_all(contents.as_bytes()).map_err(|e| Error::Internal(format!("cannot write {}: {e}", path.display())))
}
