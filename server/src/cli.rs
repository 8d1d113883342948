//! The command line: `server [serve] [--demo]`, `server worker`, `server migrate`,
//! `server create-admin`, `server seed-demo`, `server api-token create`, `server backup`,
//! `server restore`, `server prospects resolve`.

use std::{io::IsTerminal, sync::Arc};

use backend::{platform::config::Config, platform::db::Db, AppState, Error, Result};
use clap::{Parser, Subcommand};

use crate::{router, telemetry, HostState};

#[derive(Parser, Debug)]
#[command(name = "server", version, about = "Maverick: the operations portal of a lead-generation agency")]
pub struct Cli {
    /// Seed a demo agency into an empty database and print its logins (same as MAVERICK_DEMO=1).
    #[arg(long, global = true)]
    pub demo: bool,
    /// Log as JSON lines (same as MAVERICK_LOG_FORMAT=json).
    #[arg(long, global = true)]
    pub log_json: bool,
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Serve the web app (the default); runs the job workers too unless MAVERICK_WORKERS=0.
    Serve,
    /// Run only the job workers (scale-out on PostgreSQL: any number of these beside the web hosts).
    Worker,
    /// Apply database migrations and exit; `--verify` then checks that every table, column and
    /// index the migrations create exists on the database and prints a JSON report (exit 1 if not).
    Migrate {
        #[arg(long)]
        verify: bool,
    },
    /// Create an admin account (the first admin of a real install).
    CreateAdmin {
        #[arg(long)]
        email: String,
        #[arg(long, default_value = "Admin")]
        name: String,
        /// Read the password from this environment variable instead of asking.
        #[arg(long, default_value = "MAVERICK_ADMIN_PASSWORD")]
        password_env: String,
    },
    /// Seed the demo agency into an empty database.
    SeedDemo,
    /// Write a backup archive of the running SQLite install (database snapshot, secret key file,
    /// uploads) and print its path. On PostgreSQL: says how to use pg_dump instead.
    Backup {
        /// The folder for the archive (default: MAVERICK_BACKUP_DIR, or <data dir>/backups).
        #[arg(long)]
        to: Option<std::path::PathBuf>,
    },
    /// Restore a backup archive as the data folder (stop the server first). Checks every file's
    /// checksum and the schema version; an older archive is migrated forward.
    Restore {
        archive: std::path::PathBuf,
        /// Replace a non-empty data folder (the old one is kept beside it).
        #[arg(long)]
        force: bool,
    },
    /// Re-encrypt every stored secret (API keys, webhook URLs and secrets, site passwords) with a
    /// new key, in one transaction. Give the new key in the environment variable named by
    /// --new-key-env (default MAVERICK_NEW_SECRET_KEY). Stop the servers first; start them with
    /// the new key after. With a generated key file, the file is replaced (the old one kept beside it).
    RotateSecretKey {
        #[arg(long, default_value = "MAVERICK_NEW_SECRET_KEY")]
        new_key_env: String,
    },
    /// API tokens for REST v1 (`server api-token create --name n8n --workspace acme`).
    ApiToken {
        #[command(subcommand)]
        command: TokenCommand,
    },
    /// Prospect lists: resolve person records into one master per real person.
    Prospects {
        #[command(subcommand)]
        command: ProspectsCommand,
    },
}

#[derive(Subcommand, Debug)]
pub enum TokenCommand {
    /// Make a token and print it — and nothing else — to stdout, once.
    Create {
        /// What uses it (shown in the token list).
        #[arg(long)]
        name: String,
        /// The workspace's slug it is for.
        #[arg(long, conflicts_with = "agency", required_unless_present = "agency")]
        workspace: Option<String>,
        /// Agency-wide (an admin's token for every workspace and the agency's webhook endpoints).
        #[arg(long)]
        agency: bool,
        /// read or write.
        #[arg(long, default_value = "read")]
        scope: String,
        /// Expires after this many days (default: never).
        #[arg(long)]
        expires_days: Option<i64>,
        /// The user it acts for (default: the first active admin).
        #[arg(long = "as")]
        as_user: Option<String>,
    },
}

#[derive(Subcommand, Debug)]
pub enum ProspectsCommand {
    /// Load a company-research file (`team_members` JSON per row) or an agents file into the raw
    /// and normalised layers. Reloading a file adds nothing; bad rows are kept with their reason.
    Load {
        #[arg(long, value_parser = ["company", "agents"])]
        kind: String,
        file: std::path::PathBuf,
        /// The country phone numbers without a `+country` prefix belong to (ISO code).
        #[arg(long, default_value = "US")]
        region: String,
    },
    /// Resolve persons into masters. On the configured database by default (applying the review
    /// decisions, logging the run); with `--input people.csv --out clusters.csv` in memory, no
    /// database, writing `record_id,entity_id,confidence,needs_review` (header auto-mapped: an id
    /// column, a full name or first/last name, any email and phone columns, a team id).
    Resolve {
        /// Standalone mode: the person records (CSV; `,`, `;` or tab).
        #[arg(long, requires = "out")]
        input: Option<std::path::PathBuf>,
        /// Standalone mode: where the clusters go.
        #[arg(long, requires = "input")]
        out: Option<std::path::PathBuf>,
        /// Standalone mode: the country of phone numbers without a `+country` prefix.
        #[arg(long, default_value = "US")]
        region: String,
        /// Also write the run's JSON report to this file.
        #[arg(long)]
        report: Option<std::path::PathBuf>,
    },
}

pub async fn run(cli: Cli) -> Result<()> {
    let mut config = Config::from_env()?;
    config.demo |= cli.demo;
    config.log_json |= cli.log_json;
    telemetry::init(config.log_json);
    // A mail setting that can't work stops start-up, not the first reset mail.
    if backend::connectors::mail::Mailer::from_settings(&config.mail).map_err(|e| backend::Error::invalid(e.to_string()))?.is_none() {
        tracing::info!("MAVERICK_SMTP_URL is not set: password-reset links are written to this log instead of mailed");
    }

    // Backups work on the files, beside a running server: no pool, no migration of the live database.
    match cli.command {
        Some(Command::Backup { to }) => {
            // A restore must not replace the folder while the snapshot is read from it.
            let _in_use = if config.data_dir.is_dir() { hold_data_folder(&config)? } else { None };
            return backup(&config, to).await;
        }
        Some(Command::Restore { archive, force }) => return restore(&config, &archive, force).await,
        Some(Command::Prospects { command: ProspectsCommand::Resolve { input: Some(input), out: Some(out), region, report } }) => {
            return resolve_prospects_file(&input, &out, &region, report.as_deref());
        }
        _ => {}
    }
    // The demo's automations pull from the stand-in Cole X Dates this host serves (demo mode only).
    if config.demo && config.integrations.cole_url.is_none() {
        if let Ok(options) = crate::leptos_options() {
            config.integrations.cole_url = Some(format!("http://{}/demo-sites/cole", options.site_addr));
        }
    }
    // Held until this process ends: `server restore` refuses while any process holds it.
    let _in_use = hold_data_folder(&config)?;
    let db = Db::connect(&config.database_url, &config.pool).await?;
    backend::platform::migrate::run(&db).await?;
    let command = cli.command.unwrap_or(Command::Serve);
    // Only the processes that serve pages need the map's places (and warn when they are missing).
    let places = Arc::new(if matches!(command, Command::Serve | Command::Worker) { load_zip_places(&config) } else { Default::default() });
    let state = AppState { db: db.clone(), secrets: config.secret_box()?, config: Arc::new(config), places, events: Default::default() };

    if matches!(command, Command::Serve | Command::Worker) {
        backend::runtime::workers::spawn_claim_loops(&state);
    }
    let outcome = match command {
        Command::Serve => serve(state).await,
        Command::Worker => backend::runtime::workers::run_until_shutdown(state, shutdown_signal()).await,
        Command::Migrate { verify: false } => {
            tracing::info!("migrations applied");
            Ok(())
        }
        Command::Migrate { verify: true } => verify_schema(&state.db).await,
        Command::Prospects { command: ProspectsCommand::Load { kind, file, region } } => {
            let region = parse_region(&region)?;
            let summary = backend::prospects::store::load_file(&state.db, kind.parse()?, &file, region).await?;
            println!("{}", serde_json::to_string_pretty(&summary).map_err(|e| Error::Internal(e.to_string()))?);
            Ok(())
        }
        Command::Prospects { command: ProspectsCommand::Resolve { report, .. } } => {
            let done = backend::prospects::store::resolve_db(&state.db).await?;
            let json = serde_json::to_string_pretty(&done).map_err(|e| Error::Internal(e.to_string()))?;
            if let Some(path) = report {
                std::fs::write(&path, &json).map_err(|e| Error::invalid(format!("Cannot write {}: {e}", path.display())))?;
            }
            println!("{json}");
            Ok(())
        }
        Command::CreateAdmin { email, name, password_env } => create_admin(&state, email, name, &password_env).await,
        Command::SeedDemo => seed_demo(&state).await,
        Command::Backup { .. } | Command::Restore { .. } => unreachable!("handled before connecting"),
        Command::RotateSecretKey { new_key_env } => rotate_secret_key(&state, &new_key_env).await,
        Command::ApiToken { command: TokenCommand::Create { name, workspace, agency, scope, expires_days, as_user } } => {
            create_token(&state, name, workspace, agency, &scope, expires_days, as_user).await
        }
    };
    db.close().await;
    outcome
}

/// The shared lock on the data folder, for a process on the embedded SQLite database (what
/// `server restore` replaces); PostgreSQL installs are restored with their own tools.
fn hold_data_folder(config: &Config) -> Result<Option<backend::platform::backup::DataFolderLock>> {
    if !config.database_url.starts_with("sqlite:") {
        return Ok(None);
    }
    backend::platform::backup::hold_data_folder(&config.data_dir).map(Some)
}

async fn rotate_secret_key(state: &AppState, new_key_env: &str) -> Result<()> {
    let new_key = std::env::var(new_key_env)
        .ok()
        .filter(|v| !v.trim().is_empty())
        .ok_or_else(|| backend::Error::invalid(format!("Set {new_key_env} to the new key (generate one with `openssl rand -hex 32`).")))?;
    let new = backend::platform::crypto::SecretBox::from_passphrase(&new_key)?;
    let done = backend::runtime::rekey::rotate(&state.db, &state.secrets, &new).await?;
    println!("{} secrets re-encrypted with the new key ({} already were).", done.resealed, done.already_new);
    if std::env::var("MAVERICK_SECRET_KEY").is_ok_and(|v| !v.trim().is_empty()) {
        println!("Now start every server and worker with MAVERICK_SECRET_KEY set to the new key.");
    } else {
        let path = state.config.data_dir.join("secret.key");
        let old = state.config.data_dir.join(format!("secret.key.replaced-{}", chrono::Utc::now().format("%Y%m%dT%H%M%SZ")));
        std::fs::rename(&path, &old).map_err(|e| backend::Error::Internal(format!("cannot move {} aside: {e}", path.display())))?;
        let mut opts = std::fs::OpenOptions::new();
        opts.write(true).create_new(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut opts, 0o600);
        let written = opts.open(&path).and_then(|mut f| std::io::Write::write_all(&mut f, new_key.trim().as_bytes()));
        written.map_err(|e| backend::Error::Internal(format!("cannot write {}: {e} (the new key is in {new_key_env}; put it there by hand)", path.display())))?;
        println!("{} now holds the new key; the old one is in {} until you delete it.", path.display(), old.display());
    }
    Ok(())
}

/// The ZIP places for the map; without them ZIPs still work, they are just not drawn.
fn load_zip_places(config: &Config) -> backend::platform::geo::ZipPlaces {
    let path = config.zip_places_path.clone().unwrap_or_else(|| {
        let site_root = std::env::var("LEPTOS_SITE_ROOT").ok().filter(|v| !v.is_empty()).unwrap_or_else(|| "target/site".into());
        std::path::Path::new(&site_root).join("vendor/geo/zip-places.csv")
    });
    match backend::platform::geo::ZipPlaces::load(&path) {
        Ok(places) => {
            tracing::debug!(zips = places.len(), path = %path.display(), "ZIP places loaded");
            places
        }
        Err(e) => {
            tracing::warn!(error = %e, "ZIP places not loaded: the ZIP map shows no points (run `make assets`, or set MAVERICK_ZIP_PLACES)");
            Default::default()
        }
    }
}

async fn serve(state: AppState) -> Result<()> {
    if state.config.demo {
        seed_demo(&state).await?;
    }
    let leptos = crate::leptos_options()?;
    let addr = leptos.site_addr;
    let host = HostState { app: state.clone(), leptos };
    // Live boards: every web host tails the event log (moves and leads from any process).
    tokio::spawn(backend::platform::events::tail(state.db.clone(), state.events.clone(), std::time::Duration::from_millis(250)));
    let app = router::build(host);

    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|e| Error::invalid(format!("cannot listen on {addr} ({e}); set LEPTOS_SITE_ADDR to a free address")))?;
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let workers = state.config.workers_in_process.then(|| {
        let state = state.clone();
        let mut rx = stop_rx.clone();
        tokio::spawn(async move { backend::runtime::workers::run_until_shutdown(state, async move { let _ = rx.wait_for(|s| *s).await; }).await })
    });
    tracing::info!(%addr, backend = ?state.db.backend(), workers_in_process = workers.is_some(), "Maverick is listening on http://{addr}");
    axum::serve(listener, app.into_make_service_with_connect_info::<std::net::SocketAddr>())
        .with_graceful_shutdown(shutdown_signal())
        .await
        .map_err(|e| Error::Internal(format!("server error: {e}")))?;
    let _ = stop_tx.send(true);
    if let Some(handle) = workers {
        match handle.await {
            Ok(result) => result?,
            Err(e) => tracing::error!(error = %e, "worker task failed"),
        }
    }
    Ok(())
}

async fn seed_demo(state: &AppState) -> Result<()> {
    if backend::runtime::demo::seed_if_empty(&state.db).await? {
        // A personalization campaign whose run the job workers carry out (template writer).
        backend::personalization::seed_demo(state).await?;
        backend::runtime::demo_automations::seed(state).await?;
        println!("\nDemo agency seeded. Sign in at the address below with:");
        for l in backend::runtime::demo::LOGINS {
            println!("  {:<7} {:<24} password: {:<18} ({})", l.role, l.email, l.password, l.note);
        }
        println!();
    } else {
        tracing::info!("database already has users: demo seeding skipped");
    }
    Ok(())
}

async fn create_admin(state: &AppState, email: String, name: String, password_env: &str) -> Result<()> {
    let password = match std::env::var(password_env) {
        Ok(p) if !p.is_empty() => p,
        _ if std::io::stdin().is_terminal() => prompt_password()?,
        _ => {
            let mut line = String::new();
            std::io::stdin().read_line(&mut line).map_err(|e| Error::Internal(format!("cannot read stdin: {e}")))?;
            line.trim_end_matches(['\r', '\n']).to_owned()
        }
    };
    let user = backend::identity::users::create(
        &state.db,
        backend::identity::users::NewUser { email, display_name: name, role: backend::identity::users::Role::Admin, password },
    )
    .await?;
    backend::identity::audit::record(&state.db, None, Some("cli"), "user.created", Some(&format!("user:{} ({}) admin", user.id, user.email)), None)
        .await?;
    println!("Admin {} created. Sign in at /login.", user.email);
    Ok(())
}

async fn create_token(
    state: &AppState,
    name: String,
    workspace: Option<String>,
    agency: bool,
    scope: &str,
    expires_in_days: Option<i64>,
    as_user: Option<String>,
) -> Result<()> {
    use backend::tenancy::api_tokens;
    let user = api_tokens::command_line_user(&state.db, as_user.as_deref()).await?;
    let workspace_id = match (workspace, agency) {
        (Some(slug), false) => Some(
            backend::tenancy::workspaces::visible_by_slug(&state.db, &user, &slug)
                .await
                .map_err(|_| Error::invalid(format!("There is no workspace {slug:?} that {} can see.", user.email)))?
                .0
                .id,
        ),
        _ => None,
    };
    let new = api_tokens::NewToken { name, workspace_id, scope: scope.parse()?, expires_in_days };
    let (token, secret) = api_tokens::create(&state.db, &user, &new, chrono::Utc::now()).await?;
    backend::identity::audit::record(&state.db, None, Some("cli"), "api_token.created", Some(&format!("api_token:{} ({}) for user:{}", token.id, token.prefix, user.user_id)), None)
        .await?;
    // Only the token on stdout, so `TOKEN=$(server api-token create …)` captures it.
    println!("{secret}");
    Ok(())
}

async fn backup(config: &Config, to: Option<std::path::PathBuf>) -> Result<()> {
    use backend::platform::backup;
    let dir = to.unwrap_or_else(|| backup::backup_dir(config));
    let made = backup::create(&config.database_url, &config.data_dir, &dir, chrono::Utc::now()).await?;
    if made.manifest.secret_key == "environment" {
        eprintln!("note: MAVERICK_SECRET_KEY is set, so the archive holds no key: keep that value too, or the stored API keys cannot be read after a restore.");
    }
    // Only the path on stdout, for scripts (`ARCHIVE=$(server backup)`).
    println!("{}", made.path.display());
    Ok(())
}

async fn restore(config: &Config, archive: &std::path::Path, force: bool) -> Result<()> {
    let done = backend::platform::backup::restore(archive, &config.database_url, &config.data_dir, force, chrono::Utc::now()).await?;
    let m = &done.manifest;
    println!(
        "Restored the backup of {} ({} files, schema {}{}) into {}.",
        m.created_at.format("%Y-%m-%d %H:%M:%S UTC"),
        m.files.len(),
        m.schema_version,
        if done.schema_version != m.schema_version { format!(", migrated to {}", done.schema_version) } else { String::new() },
        config.data_dir.display()
    );
    if let Some(previous) = &done.previous {
        println!("The previous data folder is kept as {}; remove it once you have checked the restore.", previous.display());
    }
    if m.secret_key == "environment" {
        println!("This backup was made with MAVERICK_SECRET_KEY set: start the server with the same value.");
    }
    Ok(())
}

fn parse_region(region: &str) -> Result<backend::prospects::Region> {
    backend::prospects::Region::parse(region).ok_or_else(|| Error::invalid(format!("--region {region:?} is not an ISO country code (e.g. US, GB, DE).")))
}

/// `server migrate --verify`: the JSON report on stdout, and an error (exit 1) when part of the
/// schema is missing.
async fn verify_schema(db: &Db) -> Result<()> {
    let report = backend::platform::migrate::verify(db).await?;
    println!("{}", serde_json::to_string_pretty(&report).map_err(|e| Error::Internal(e.to_string()))?);
    if report.ok {
        Ok(())
    } else {
        Err(Error::invalid("The database lacks part of the schema (see the report above): run `server migrate` against it, or restore it from a backup."))
    }
}

/// The standalone resolver: a CSV in, clusters out, all in memory; the summary on stdout.
fn resolve_prospects_file(input: &std::path::Path, out: &std::path::Path, region: &str, report: Option<&std::path::Path>) -> Result<()> {
    let region = parse_region(region)?;
    let summary = backend::prospects::file::resolve_file(input, out, region)?;
    let json = serde_json::to_string_pretty(&summary).map_err(|e| Error::Internal(e.to_string()))?;
    if let Some(path) = report {
        std::fs::write(path, &json).map_err(|e| Error::invalid(format!("Cannot write {}: {e}", path.display())))?;
    }
    println!("{json}");
    Ok(())
}

fn prompt_password() -> Result<String> {
    let read = |label: &str| {
        rpassword::prompt_password(label).map_err(|e| Error::Internal(format!("cannot read the password: {e}")))
    };
    let first = read("Password (at least 10 characters): ")?;
    if read("Repeat it: ")? != first {
        return Err(Error::invalid("The two passwords differ."));
    }
    Ok(first)
}

/// Ctrl-C or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        if let Ok(mut s) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            s.recv().await;
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! { _ = ctrl_c => {}, _ = term => {} }
    tracing::info!("shutting down");
}
