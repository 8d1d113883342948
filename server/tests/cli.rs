//! The command line, as an operator runs it: the real binary on a fresh database.

use std::process::{Command, Output};

async fn run(db_url: &str, data_dir: &std::path::Path, args: &[&str], envs: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_server"));
    cmd.args(args)
        .env("DATABASE_URL", db_url)
        .env("MAVERICK_DATA_DIR", data_dir)
        .env("MAVERICK_SECRET_KEY", "cli-test-key-0123456789abcdef0123456789")
        .env_remove("MAVERICK_DEMO")
        .env_remove("RUST_LOG");
    for (k, v) in envs {
        cmd.env(k, v);
    }
    tokio::task::spawn_blocking(move || cmd.output().unwrap()).await.unwrap()
}

fn temp_dir() -> std::path::PathBuf {
    let dir = std::env::temp_dir().join("maverick-tests").join(uuid::Uuid::new_v4().simple().to_string());
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[tokio::test]
async fn create_admin_makes_a_working_admin_once_and_explains_failures() {
    let (db, url) = backend::platform::testing::fresh_db().await;
    let dir = temp_dir();
    let out = run(&url, &dir, &["create-admin", "--email", "Owner@Agency.test", "--name", "Owner"], &[("MAVERICK_ADMIN_PASSWORD", "owner-password-1")]).await;
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stdout).contains("Admin owner@agency.test created"));

    let cfg = backend::platform::config::Config::with_database(&url, dir.clone());
    let (_, user) = backend::identity::auth::login(&db, "owner@agency.test", "owner-password-1", &Default::default(), &cfg.sessions, &cfg.throttle)
        .await
        .unwrap();
    assert_eq!(user.role, backend::identity::users::Role::Admin);

    let again = run(&url, &dir, &["create-admin", "--email", "owner@agency.test"], &[("MAVERICK_ADMIN_PASSWORD", "owner-password-1")]).await;
    assert_eq!(again.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&again.stderr).contains("already exists"), "{}", String::from_utf8_lossy(&again.stderr));
    let weak = run(&url, &dir, &["create-admin", "--email", "b@agency.test"], &[("MAVERICK_ADMIN_PASSWORD", "short")]).await;
    assert!(String::from_utf8_lossy(&weak.stderr).contains("at least 10 characters"));
}

#[tokio::test]
async fn migrate_logs_json_lines_when_asked_and_demo_seeding_prints_the_logins() {
    let (_db, url) = backend::platform::testing::fresh_db().await;
    let dir = temp_dir();
    let out = run(&url, &dir, &["migrate", "--log-json"], &[]).await;
    assert!(out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    let line = stderr.lines().find(|l| l.contains("migrations applied")).expect("a log line");
    let json: serde_json::Value = serde_json::from_str(line).expect("JSON log line");
    assert_eq!(json["level"], "INFO");

    let seeded = run(&url, &dir, &["seed-demo"], &[]).await;
    let stdout = String::from_utf8_lossy(&seeded.stdout);
    assert!(stdout.contains("admin@demo.maverick") && stdout.contains("demo-client-pass"), "{stdout}");
    let twice = run(&url, &dir, &["seed-demo"], &[]).await;
    assert!(!String::from_utf8_lossy(&twice.stdout).contains("demo-client-pass"), "seeding happens only into an empty database");
}

#[tokio::test]
async fn a_bad_setting_stops_start_up_with_a_message_naming_it() {
    let (_db, url) = backend::platform::testing::fresh_db().await;
    let dir = temp_dir();
    let out = run(&url, &dir, &["migrate"], &[("MAVERICK_SESSION_IDLE_MINUTES", "soon")]).await;
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("MAVERICK_SESSION_IDLE_MINUTES"));
    let out = run("mysql://nope", &dir, &["migrate"], &[]).await;
    assert!(String::from_utf8_lossy(&out.stderr).contains("DATABASE_URL must start with sqlite:// or postgres://"));
}

/// The binary on a default install: SQLite in the data folder, a generated key file.
async fn run_in(data_dir: &std::path::Path, args: &[&str], envs: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_server"));
    cmd.args(args)
        .env("MAVERICK_DATA_DIR", data_dir)
        .env_remove("DATABASE_URL")
        .env_remove("MAVERICK_SECRET_KEY")
        .env_remove("MAVERICK_BACKUP_DIR")
        .env_remove("MAVERICK_DEMO")
        .env_remove("RUST_LOG");
    for (k, v) in envs {
        cmd.env(k, v);
    }
    tokio::task::spawn_blocking(move || cmd.output().unwrap()).await.unwrap()
}

#[tokio::test]
async fn backup_then_restore_brings_back_the_install_and_refuses_to_overwrite_without_force() {
    let root = temp_dir();
    let data = root.join("data");
    let admin = [("MAVERICK_ADMIN_PASSWORD", "owner-password-1")];
    let out = run_in(&data, &["create-admin", "--email", "owner@agency.test"], &admin).await;
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let key = std::fs::read_to_string(data.join("secret.key")).expect("a generated key file");

    let out = run_in(&data, &["backup"], &[]).await;
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let archive = std::path::PathBuf::from(String::from_utf8_lossy(&out.stdout).trim());
    assert_eq!(archive.parent().unwrap(), std::path::absolute(data.join("backups")).unwrap(), "only the path on stdout, in <data>/backups");
    assert!(archive.is_file());

    let out = run_in(&data, &["restore", archive.to_str().unwrap()], &[]).await;
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--force"), "{}", String::from_utf8_lossy(&out.stderr));

    let other = root.join("other");
    let out = run_in(&other, &["restore", archive.to_str().unwrap()], &[]).await;
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stdout).contains("Restored the backup"));
    assert_eq!(std::fs::read_to_string(other.join("secret.key")).unwrap(), key);
    let again = run_in(&other, &["create-admin", "--email", "owner@agency.test"], &admin).await;
    assert!(String::from_utf8_lossy(&again.stderr).contains("already exists"), "the restored database has the admin: {}", String::from_utf8_lossy(&again.stderr));
}

#[tokio::test]
async fn backup_on_postgres_says_to_use_pg_dump_and_fails() {
    let dir = temp_dir();
    let out = run_in(&dir, &["backup"], &[("DATABASE_URL", "postgres://maverick@127.0.0.1:1/maverick")]).await;
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("pg_dump") && stderr.contains("MAVERICK_SECRET_KEY"), "{stderr}");
    assert!(!dir.join("backups").exists());
}

/// A child process killed when dropped, so a failed assertion leaves no host running.
struct Host(std::process::Child);

impl Drop for Host {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A web-only host (`MAVERICK_WORKERS=0`: no worker heartbeat) on the default install.
fn serve_web_only(data_dir: &std::path::Path) -> (Host, std::net::SocketAddr) {
    let addr = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap();
    let child = Command::new(env!("CARGO_BIN_EXE_server"))
        .arg("serve")
        .env("MAVERICK_DATA_DIR", data_dir)
        .env("MAVERICK_WORKERS", "0")
        .env("LEPTOS_SITE_ADDR", addr.to_string())
        .env("RUST_LOG", "error")
        .env_remove("DATABASE_URL")
        .env_remove("MAVERICK_SECRET_KEY")
        .env_remove("MAVERICK_DEMO")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("start the server binary");
    (Host(child), addr)
}

#[tokio::test]
async fn restore_refuses_while_a_web_only_host_serves_the_data_folder_and_works_once_it_stopped() {
    let root = temp_dir();
    let data = root.join("data");
    let out = run_in(&data, &["create-admin", "--email", "owner@agency.test"], &[("MAVERICK_ADMIN_PASSWORD", "owner-password-1")]).await;
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let out = run_in(&data, &["backup"], &[]).await;
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let archive = String::from_utf8_lossy(&out.stdout).trim().to_owned();

    let (mut host, addr) = serve_web_only(&data);
    let mut up = false;
    for _ in 0..600 {
        if std::net::TcpStream::connect(addr).is_ok() {
            up = true;
            break;
        }
        assert!(host.0.try_wait().unwrap().is_none(), "the host exited early");
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(up, "the host listens on {addr}");

    let out = run_in(&data, &["restore", "--force", &archive], &[]).await;
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "refused while the host runs: {stderr}");
    assert!(stderr.contains(&format!("process {} (server serve)", host.0.id())), "names the host to stop: {stderr}");
    assert!(stderr.contains("Stop every Maverick process"), "{stderr}");
    assert!(std::net::TcpStream::connect(addr).is_ok(), "the host still serves");
    assert!(!root.read_dir().unwrap().any(|e| e.unwrap().file_name().to_string_lossy().contains("before-restore")), "nothing was moved");

    drop(host);
    let out = run_in(&data, &["restore", "--force", &archive], &[]).await;
    assert!(out.status.success(), "restores once the host stopped: {}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stdout).contains("Restored the backup"));
}
