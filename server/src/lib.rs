//! The Maverick host: HTTP router and middleware around the Leptos app, the CLI, and the job
//! workers. `main.rs` only parses the command line and calls in here, so tests drive the same code.

pub mod api;
pub mod assets;
pub mod cli;
pub mod exports;
pub mod fixture_sites;
pub mod health;
pub mod personalization;
pub mod portal;
pub mod router;
pub mod routes;
pub mod session_layer;
pub mod telemetry;
pub mod uploads;
pub mod web_auth;
pub mod webhooks;

use axum::extract::FromRef;
use backend::AppState;
use leptos::config::LeptosOptions;

/// The router's state: the core's shared state plus Leptos' site options.
#[derive(Clone)]
pub struct HostState {
    pub app: AppState,
    pub leptos: LeptosOptions,
}

impl FromRef<HostState> for LeptosOptions {
    fn from_ref(s: &HostState) -> Self {
        s.leptos.clone()
    }
}

impl FromRef<HostState> for AppState {
    fn from_ref(s: &HostState) -> Self {
        s.app.clone()
    }
}

/// Site options from the environment (`LEPTOS_SITE_ROOT`, `LEPTOS_SITE_ADDR`, …), with defaults
/// that work from a checkout (`target/site`, 127.0.0.1:3000).
pub fn leptos_options() -> backend::Result<LeptosOptions> {
    let env = |k: &str, d: &str| std::env::var(k).ok().filter(|v| !v.is_empty()).unwrap_or_else(|| d.to_owned());
    let addr = env("LEPTOS_SITE_ADDR", "127.0.0.1:3000");
    let site_addr = addr
        .parse::<std::net::SocketAddr>()
        .map_err(|_| backend::Error::invalid(format!("LEPTOS_SITE_ADDR={addr:?} is not an address like 127.0.0.1:3000")))?;
    let leptos_env = match env("LEPTOS_ENV", "DEV").to_ascii_uppercase().as_str() {
        "PROD" | "PRODUCTION" => leptos::config::Env::PROD,
        _ => leptos::config::Env::DEV,
    };
    let options = LeptosOptions::builder()
        .output_name(env("LEPTOS_OUTPUT_NAME", "maverick"))
        .site_root(env("LEPTOS_SITE_ROOT", "target/site"))
        .site_pkg_dir(env("LEPTOS_SITE_PKG_DIR", "pkg"))
        .site_addr(site_addr)
        .env(leptos_env)
        .build();
    Ok(assets::with_hashed_names(options))
}

