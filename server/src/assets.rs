//! The site's static files, served from `LEPTOS_SITE_ROOT` without a session lookup:
//!
//! - `/pkg/*`: the WASM, its JS glue and the CSS. cargo-leptos puts a content hash in their names
//!   (`hash-files`), so a browser keeps them for a year and never asks again; a new build has new
//!   names, which the HTML (never cached without revalidation) points to.
//! - `/vendor/*` and the rest (ECharts, the map's outlines, the favicon): stable names, so the
//!   browser revalidates them on each use (`Last-Modified` → `304 Not Modified`).
//!
//! Both are sent precompressed when the browser accepts it: `scripts/site-finish.mjs` writes a
//! `.br` and a `.gz` beside each file at build time (brotli at its best level would be too slow
//! per request). Pages and server function answers are compressed as they are sent
//! ([`compression`]).

use std::path::{Path, PathBuf};

use axum::{
    http::{header, HeaderValue},
    Router,
};
use tower_http::{
    compression::{predicate::{NotForContentType, Predicate, SizeAbove}, CompressionLayer},
    services::ServeDir,
    set_header::SetResponseHeaderLayer,
};

use crate::HostState;

/// For file names that carry a content hash.
pub const IMMUTABLE: &str = "public, max-age=31536000, immutable";
/// For files whose name stays the same when they change.
pub const REVALIDATE: &str = "public, no-cache";
/// For pages: they are per user, and always checked with the server.
pub const PAGE: &str = "private, no-cache";

/// The static routes. `hashed` says whether /pkg's names carry content hashes (see
/// [`with_hashed_names`]); without them, /pkg is revalidated like the rest.
pub fn routes(site_root: &Path, pkg_dir: &str, hashed: bool) -> Router<HostState> {
    let pkg_cache = if hashed { IMMUTABLE } else { REVALIDATE };
    let serve = |dir: PathBuf, cache: &'static str| {
        tower::ServiceBuilder::new()
            .layer(SetResponseHeaderLayer::overriding(header::CACHE_CONTROL, CacheIfFound(cache)))
            // The same URL is sent br, gzip or plain: a shared cache must key on the encoding.
            .layer(SetResponseHeaderLayer::if_not_present(header::VARY, HeaderValue::from_static("accept-encoding")))
            .service(ServeDir::new(dir).precompressed_br().precompressed_gzip())
    };
    Router::new()
        .nest_service(&format!("/{pkg_dir}"), serve(site_root.join(pkg_dir), pkg_cache))
        .nest_service("/vendor", serve(site_root.join("vendor"), REVALIDATE))
        .route_service("/favicon.svg", serve(site_root.to_path_buf(), REVALIDATE))
}

/// `Cache-Control` for a file that was found; a miss is never kept. (During a rolling deploy a page
/// from a new host may ask an old host for a new hashed name: that 404 must not stick for a year.)
#[derive(Clone, Copy)]
struct CacheIfFound(&'static str);

impl<B> tower_http::set_header::MakeHeaderValue<axum::http::Response<B>> for CacheIfFound {
    fn make_header_value(&mut self, response: &axum::http::Response<B>) -> Option<HeaderValue> {
        let status = response.status();
        let found = status.is_success() || status == axum::http::StatusCode::NOT_MODIFIED;
        Some(HeaderValue::from_static(if found { self.0 } else { "no-store" }))
    }
}

/// Turns on hashed asset names when the build made them (cargo-leptos `hash-files`): Leptos then
/// reads the list at `current_exe().parent().join(hash_file)`, so an absolute path points it to
/// the site's own copy.
pub fn with_hashed_names(mut options: leptos::config::LeptosOptions) -> leptos::config::LeptosOptions {
    if let Some(file) = hash_file(&options) {
        options.hash_files = true;
        options.hash_file = std::path::absolute(&file).unwrap_or(file).to_string_lossy().into();
    }
    options
}

/// cargo-leptos' list of the hashes in /pkg's file names, if the site has one: `hash.txt` in the
/// site root (`scripts/site-finish.mjs` copies it there, so the site directory is complete on its
/// own), else beside the server binary (where `cargo leptos build`/`serve` writes it). A list is
/// used only if the files it names are there: an unhashed build leaves an older list behind.
fn hash_file(options: &leptos::config::LeptosOptions) -> Option<PathBuf> {
    let site_root = Path::new(&*options.site_root);
    let pkg = site_root.join(&*options.site_pkg_dir);
    let names_files_present = |list: &Path| {
        let Ok(text) = std::fs::read_to_string(list) else { return false };
        let mut named = 0;
        for (ext, hash) in text.lines().filter_map(|l| l.split_once(':')).map(|(k, v)| (k.trim(), v.trim())) {
            if matches!(ext, "js" | "wasm" | "css") {
                if !pkg.join(format!("{}.{hash}.{ext}", options.output_name)).is_file() {
                    return false;
                }
                named += 1;
            }
        }
        named > 0
    };
    let beside_binary = std::env::current_exe().ok().and_then(|exe| exe.parent().map(|dir| dir.join("hash.txt")));
    [Some(site_root.join("hash.txt")), beside_binary].into_iter().flatten().find(|p| names_files_present(p))
}

/// Compression of what is not precompressed: pages, server function answers, exports (brotli at
/// quality 4, gzip at 6: fast enough per request). Event streams are left alone (each event must
/// reach the browser when it is sent), and so is anything already encoded (the precompressed
/// static files) or too small to gain.
pub fn compression() -> CompressionLayer<impl Predicate + Clone> {
    CompressionLayer::new().br(true).gzip(true).compress_when(
        SizeAbove::new(256).and(NotForContentType::GRPC).and(NotForContentType::IMAGES).and(NotForContentType::SSE),
    )
}
