//! `make bench` (webhook flood, issue 11): the real `server` binary on a loopback port, and 64
//! connections at once each announcing a 16 MiB webhook body under a made-up token and sending
//! it. Reports how much the server's resident memory grew (its peak, `VmHWM`, against its RSS
//! before the flood). The token is checked before the body is read, so the bodies are never
//! held: target < 50 MB.
//!
//!   BENCH_SERVER (default: target/release/server) · BENCH_FLOOD (64) · BENCH_FLOOD_MB (16)

use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};

fn status_kb(pid: u32, field: &str) -> u64 {
    let text = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("the server's /proc status");
    text.lines()
        .find_map(|l| l.strip_prefix(field))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .expect("a memory figure")
}

#[tokio::main]
async fn main() {
    let bin = std::env::var("BENCH_SERVER").unwrap_or_else(|_| {
        let target = std::env::var("CARGO_TARGET_DIR").unwrap_or_else(|_| "target".into());
        format!("{target}/release/server")
    });
    let flood: usize = std::env::var("BENCH_FLOOD").ok().and_then(|v| v.parse().ok()).unwrap_or(64);
    let mb: usize = std::env::var("BENCH_FLOOD_MB").ok().and_then(|v| v.parse().ok()).unwrap_or(16);
    let dir = std::env::temp_dir().join(format!("maverick-flood-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let addr = format!("127.0.0.1:{port}");
    let mut child = tokio::process::Command::new(&bin)
        .arg("serve")
        .env("MAVERICK_DATA_DIR", &dir)
        .env("LEPTOS_SITE_ADDR", &addr)
        .env("LEPTOS_SITE_ROOT", dir.join("site"))
        .env("MAVERICK_WORKERS", "0")
        .env("RUST_LOG", "warn")
        .kill_on_drop(true)
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {bin} ({e}); build it with `cargo build --release -p server`"));
    let pid = child.id().expect("pid");
    // Ready when /healthz answers.
    let started = Instant::now();
    loop {
        if let Ok(mut c) = tokio::net::TcpStream::connect(&addr).await {
            c.write_all(format!("GET /healthz HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n").as_bytes()).await.unwrap();
            let mut buf = Vec::new();
            let _ = c.read_to_end(&mut buf).await;
            if buf.starts_with(b"HTTP/1.1 200") {
                break;
            }
        }
        assert!(started.elapsed() < Duration::from_secs(60), "the server did not start");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    // Reset the peak so it measures the flood, not start-up ("5": reset VmHWM, Linux ≥ 4.0).
    let _ = std::fs::write(format!("/proc/{pid}/clear_refs"), "5");
    let before = status_kb(pid, "VmRSS:");

    let body_len = mb * 1024 * 1024;
    let chunk = vec![b'x'; 64 * 1024];
    let t0 = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..flood {
        let (addr, chunk) = (addr.clone(), chunk.clone());
        tasks.spawn(async move {
            let mut c = tokio::net::TcpStream::connect(&addr).await.unwrap();
            let head = format!(
                "POST /webhooks/bison/made-up-token-{i:08}-abcdef HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\nContent-Length: {body_len}\r\nConnection: close\r\n\r\n"
            );
            c.write_all(head.as_bytes()).await.unwrap();
            let mut sent = 0;
            // Send the whole body unless the server has answered and closed first.
            while sent < body_len {
                if c.write_all(&chunk).await.is_err() {
                    break;
                }
                sent += chunk.len();
            }
            let mut answer = Vec::new();
            let _ = tokio::time::timeout(Duration::from_secs(30), c.read_to_end(&mut answer)).await;
            (String::from_utf8_lossy(&answer[..answer.len().min(12)]).into_owned(), sent)
        });
    }
    let (mut not_found, mut bytes_sent) = (0, 0usize);
    while let Some(r) = tasks.join_next().await {
        let (status, sent) = r.unwrap();
        not_found += usize::from(status.starts_with("HTTP/1.1 404"));
        bytes_sent += sent;
    }
    let elapsed = t0.elapsed();
    let peak = status_kb(pid, "VmHWM:");
    let after = status_kb(pid, "VmRSS:");
    println!("webhook flood: {flood} posts of {mb} MiB under made-up tokens in {:.2} s; {not_found} answered 404", elapsed.as_secs_f64());
    println!("  client pushed {:.0} MiB before the server closed each connection", bytes_sent as f64 / 1048576.0);
    println!(
        "  server RSS before {:.1} MB, peak {:.1} MB (+{:.1} MB), after {:.1} MB — target: growth < 50 MB",
        before as f64 / 1024.0,
        peak as f64 / 1024.0,
        (peak.saturating_sub(before)) as f64 / 1024.0,
        after as f64 / 1024.0
    );
    child.kill().await.ok();
    let _ = std::fs::remove_dir_all(&dir);
    assert_eq!(not_found, flood, "every made-up token is refused");
}
