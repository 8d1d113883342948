//! Static files and pages as the browser receives them: precompressed variants chosen by
//! Accept-Encoding, hashed names cached for a year, stable names revalidated, pages compressed
//! and never cached without asking (server/src/assets.rs).

use std::{net::SocketAddr, path::Path};

use leptos::config::LeptosOptions;
use reqwest::{header, Client, StatusCode};
use server::{router, HostState};

const WASM: &[u8] = b"\0asm pretend module bytes";
const WASM_BR: &[u8] = b"brotli bytes of the module";
const WASM_GZ: &[u8] = b"gzip bytes of the module";
const ECHARTS: &[u8] = b"window.echarts = {};";
const ECHARTS_GZ: &[u8] = b"gzip bytes of echarts";

fn write(root: &Path, rel: &str, bytes: &[u8]) {
    let path = root.join(rel);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, bytes).unwrap();
}

/// A site as `make build` leaves it: hashed /pkg names with hash.txt, precompressed variants.
fn site(hashed: bool) -> std::path::PathBuf {
    let root = std::env::temp_dir().join("maverick-tests").join(format!("site-{}", uuid::Uuid::new_v4().simple()));
    let (js, wasm, css) = if hashed { ("maverick.JsHash.js", "maverick.WasmHash.wasm", "maverick.CssHash.css") } else { ("maverick.js", "maverick.wasm", "maverick.css") };
    write(&root, &format!("pkg/{js}"), b"export default function init() {}");
    write(&root, &format!("pkg/{wasm}"), WASM);
    write(&root, &format!("pkg/{wasm}.br"), WASM_BR);
    write(&root, &format!("pkg/{wasm}.gz"), WASM_GZ);
    write(&root, &format!("pkg/{css}"), b"body { color: black }");
    write(&root, "vendor/echarts.min.js", ECHARTS);
    write(&root, "vendor/echarts.min.js.gz", ECHARTS_GZ);
    if hashed {
        write(&root, "hash.txt", b"js: JsHash\nwasm: WasmHash\ncss: CssHash\n");
    }
    root
}

async fn start(site_root: &Path) -> String {
    let state = backend::platform::testing::test_state().await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let leptos = server::assets::with_hashed_names(
        LeptosOptions::builder()
            .output_name("maverick")
            .site_root(site_root.display().to_string())
            .site_pkg_dir("pkg")
            .site_addr(addr)
            .build(),
    );
    let app = router::build(HostState { app: state, leptos });
    tokio::spawn(async move {
        axum::serve(listener, app.into_make_service_with_connect_info::<SocketAddr>()).await.unwrap();
    });
    format!("http://{addr}")
}

/// reqwest is built without decompression here, so bodies arrive as sent.
fn client() -> Client {
    Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap()
}

fn header_of(res: &reqwest::Response, name: header::HeaderName) -> String {
    res.headers().get(name).map(|v| v.to_str().unwrap().to_owned()).unwrap_or_default()
}

#[tokio::test]
async fn hashed_files_are_sent_precompressed_and_cached_for_a_year() {
    let base = start(&site(true)).await;
    let http = client();
    let url = format!("{base}/pkg/maverick.WasmHash.wasm");

    let res = http.get(&url).header(header::ACCEPT_ENCODING, "gzip, deflate, br").send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(header_of(&res, header::CONTENT_ENCODING), "br");
    assert_eq!(header_of(&res, header::CACHE_CONTROL), "public, max-age=31536000, immutable");
    assert!(header_of(&res, header::VARY).to_ascii_lowercase().contains("accept-encoding"));
    assert_eq!(header_of(&res, header::CONTENT_TYPE), "application/wasm");
    assert_eq!(res.bytes().await.unwrap().as_ref(), WASM_BR);

    let res = http.get(&url).header(header::ACCEPT_ENCODING, "gzip").send().await.unwrap();
    assert_eq!(header_of(&res, header::CONTENT_ENCODING), "gzip");
    assert_eq!(res.bytes().await.unwrap().as_ref(), WASM_GZ);

    let res = http.get(&url).send().await.unwrap();
    assert_eq!(header_of(&res, header::CONTENT_ENCODING), "");
    assert_eq!(res.bytes().await.unwrap().as_ref(), WASM);

    // A name this host doesn't have (yet: a rolling deploy) is not kept by the browser.
    let res = http.get(format!("{base}/pkg/maverick.Missing.wasm")).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    assert_eq!(header_of(&res, header::CACHE_CONTROL), "no-store");
}

#[tokio::test]
async fn pages_name_the_hashed_files_and_are_compressed_but_revalidated() {
    let base = start(&site(true)).await;
    let http = client();

    // A page that hydrates (the not-found page does) loads the hashed script, WASM and CSS.
    let res = http.get(format!("{base}/no-such-page")).send().await.unwrap();
    assert_eq!(header_of(&res, header::CACHE_CONTROL), "private, no-cache");
    let html = res.text().await.unwrap();
    for name in ["/pkg/maverick.JsHash.js", "/pkg/maverick.WasmHash.wasm", "/pkg/maverick.CssHash.css"] {
        assert!(html.contains(name), "{name} in {html}");
    }

    // Sign-in is a plain form: the stylesheet, no WASM.
    let html = http.get(format!("{base}/login")).send().await.unwrap().text().await.unwrap();
    assert!(html.contains("/pkg/maverick.CssHash.css"));
    assert!(!html.contains(".wasm") && !html.contains("modulepreload"), "{html}");

    // Compressed on the way out when the browser accepts it.
    let res = http.get(format!("{base}/login")).header(header::ACCEPT_ENCODING, "br").send().await.unwrap();
    assert_eq!(header_of(&res, header::CONTENT_ENCODING), "br");
    assert_eq!(header_of(&res, header::CACHE_CONTROL), "private, no-cache");
    let res = http.get(format!("{base}/login")).header(header::ACCEPT_ENCODING, "gzip").send().await.unwrap();
    assert_eq!(header_of(&res, header::CONTENT_ENCODING), "gzip");
}

#[tokio::test]
async fn stable_names_are_revalidated_with_not_modified() {
    let base = start(&site(true)).await;
    let http = client();
    let url = format!("{base}/vendor/echarts.min.js");

    let res = http.get(&url).header(header::ACCEPT_ENCODING, "br, gzip").send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    // No .br beside it: the .gz is sent, never a variant that does not exist.
    assert_eq!(header_of(&res, header::CONTENT_ENCODING), "gzip");
    assert_eq!(header_of(&res, header::CACHE_CONTROL), "public, no-cache");
    let modified = header_of(&res, header::LAST_MODIFIED);
    assert!(!modified.is_empty());
    assert_eq!(res.bytes().await.unwrap().as_ref(), ECHARTS_GZ);

    let res = http.get(&url).header(header::IF_MODIFIED_SINCE, &modified).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::NOT_MODIFIED);
    assert!(res.bytes().await.unwrap().is_empty());
}

#[tokio::test]
async fn without_hashed_names_pkg_is_revalidated_too() {
    // A list left by an earlier hashed build names files this site doesn't have: it is ignored.
    let root = site(false);
    write(&root, "hash.txt", b"js: OldHash\nwasm: OldHash\ncss: OldHash\n");
    let base = start(&root).await;
    let http = client();
    let res = http.get(format!("{base}/pkg/maverick.wasm")).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(header_of(&res, header::CACHE_CONTROL), "public, no-cache");
    let html = http.get(format!("{base}/no-such-page")).send().await.unwrap().text().await.unwrap();
    assert!(html.contains("/pkg/maverick.js") && html.contains("/pkg/maverick.css"), "{html}");
}
