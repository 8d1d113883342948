//! Test support shared by this crate's and the host's tests: a fresh, migrated database per test
//! on the backend chosen by `TEST_DATABASE_URL` (a PostgreSQL server URL), or SQLite otherwise.

use std::{str::FromStr, sync::Arc};

use sqlx::{postgres::PgConnectOptions, ConnectOptions, Connection};

use crate::{platform::config::Config, platform::crypto::SecretBox, platform::db::Db, AppState};

/// A fresh database: a new SQLite file, or a new database on the PostgreSQL server.
pub async fn fresh_db() -> (Db, String) {
    let url = match std::env::var("TEST_DATABASE_URL").ok().filter(|u| u.starts_with("postgres")) {
        Some(server) => {
            let name = format!("maverick_test_{}", uuid::Uuid::new_v4().simple());
            let opts = PgConnectOptions::from_str(&server).expect("TEST_DATABASE_URL is a PostgreSQL URL");
            let mut conn = opts.connect().await.expect("connect to TEST_DATABASE_URL");
            sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
                .execute(&mut conn)
                .await
                .expect("create test database");
            conn.close().await.ok();
            let base = server.split('?').next().unwrap_or(&server);
            let (prefix, _) = base.rsplit_once('/').expect("URL has a path");
            format!("{prefix}/{name}")
        }
        None => {
            let dir = std::env::temp_dir().join("maverick-tests");
            std::fs::create_dir_all(&dir).expect("temp dir");
            format!("sqlite://{}/{}.db", dir.display(), uuid::Uuid::new_v4().simple())
        }
    };
    let db = Db::connect(&url, &Default::default()).await.expect("connect test database");
    crate::platform::migrate::run(&db).await.expect("migrate test database");
    (db, url)
}

/// A full state over a fresh database, with default policies and a fixed test key.
pub async fn test_state() -> AppState {
    let (db, url) = fresh_db().await;
    let config = Config::with_database(&url, std::env::temp_dir().join("maverick-tests"));
    AppState {
        db,
        config: Arc::new(config),
        secrets: SecretBox::from_passphrase("test-key-0123456789abcdef0123456789").expect("key"),
        places: Default::default(),
        events: Default::default(),
    }
}

/// A local SMTP server for tests (password-reset mail): speaks EHLO/HELO, MAIL, RCPT, DATA,
/// RSET, NOOP and QUIT, refuses commands out of order (503) like a real server, and keeps every
/// message it accepted.
#[derive(Clone, Debug)]
pub struct FakeSmtp {
    pub addr: std::net::SocketAddr,
    mails: Arc<std::sync::Mutex<Vec<Mail>>>,
}

/// One message a [`FakeSmtp`] accepted.
#[derive(Clone, Debug)]
pub struct Mail {
    pub from: String,
    pub to: Vec<String>,
    /// Headers and body as sent (dot-stuffing undone).
    pub data: String,
}

impl Mail {
    /// The body with quoted-printable soft breaks and escapes undone.
    pub fn text(&self) -> String {
        let body = self.data.split_once("\r\n\r\n").map(|(_, b)| b).unwrap_or(&self.data);
        if !self.data.to_ascii_lowercase().contains("content-transfer-encoding: quoted-printable") {
            return body.to_owned();
        }
        let joined = body.replace("=\r\n", "");
        let bytes = joined.as_bytes();
        let mut out = Vec::with_capacity(bytes.len());
        let mut i = 0;
        while i < bytes.len() {
            if bytes[i] == b'=' && i + 2 < bytes.len() {
                if let Some(b) = std::str::from_utf8(&bytes[i + 1..i + 3]).ok().and_then(|h| u8::from_str_radix(h, 16).ok()) {
                    out.push(b);
                    i += 3;
                    continue;
                }
            }
            out.push(bytes[i]);
            i += 1;
        }
        String::from_utf8_lossy(&out).into_owned()
    }

    /// The token of the reset link in the body, if any.
    pub fn reset_token(&self) -> Option<String> {
        let text = self.text();
        let at = text.find("/auth/reset?token=")? + "/auth/reset?token=".len();
        Some(text[at..].chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_').collect())
    }
}

impl FakeSmtp {
    pub async fn start() -> FakeSmtp {
        use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind fake SMTP");
        let addr = listener.local_addr().expect("address");
        let mails: Arc<std::sync::Mutex<Vec<Mail>>> = Default::default();
        let store = mails.clone();
        tokio::spawn(async move {
            while let Ok((socket, _)) = listener.accept().await {
                let store = store.clone();
                tokio::spawn(async move {
                    let (read, mut write) = socket.into_split();
                    let mut lines = BufReader::new(read);
                    let _ = write.write_all(b"220 fake.smtp.test ESMTP ready\r\n").await;
                    let (mut greeted, mut from, mut to) = (false, None::<String>, Vec::<String>::new());
                    let mut line = String::new();
                    loop {
                        line.clear();
                        if lines.read_line(&mut line).await.unwrap_or(0) == 0 {
                            return;
                        }
                        let cmd = line.trim_end().to_owned();
                        let upper = cmd.to_ascii_uppercase();
                        let reply: String = if upper.starts_with("EHLO ") {
                            greeted = true;
                            "250-fake.smtp.test\r\n250-8BITMIME\r\n250 SMTPUTF8\r\n".into()
                        } else if upper.starts_with("HELO ") {
                            greeted = true;
                            "250 fake.smtp.test\r\n".into()
                        } else if upper.starts_with("MAIL FROM:") {
                            if !greeted {
                                "503 5.5.1 EHLO first\r\n".into()
                            } else {
                                from = Some(address(&cmd[10..]));
                                to.clear();
                                "250 2.1.0 OK\r\n".into()
                            }
                        } else if upper.starts_with("RCPT TO:") {
                            if from.is_none() {
                                "503 5.5.1 MAIL first\r\n".into()
                            } else {
                                to.push(address(&cmd[8..]));
                                "250 2.1.5 OK\r\n".into()
                            }
                        } else if upper == "DATA" {
                            if from.is_none() || to.is_empty() {
                                "503 5.5.1 RCPT first\r\n".into()
                            } else {
                                let _ = write.write_all(b"354 End data with <CR><LF>.<CR><LF>\r\n").await;
                                let mut data = String::new();
                                loop {
                                    line.clear();
                                    if lines.read_line(&mut line).await.unwrap_or(0) == 0 {
                                        return;
                                    }
                                    if line == ".\r\n" {
                                        break;
                                    }
                                    data.push_str(line.strip_prefix('.').filter(|_| line.starts_with("..")).unwrap_or(&line));
                                }
                                store.lock().unwrap().push(Mail { from: from.take().unwrap_or_default(), to: std::mem::take(&mut to), data });
                                "250 2.0.0 queued\r\n".into()
                            }
                        } else if upper == "RSET" {
                            from = None;
                            to.clear();
                            "250 2.0.0 OK\r\n".into()
                        } else if upper == "NOOP" {
                            "250 2.0.0 OK\r\n".into()
                        } else if upper == "QUIT" {
                            let _ = write.write_all(b"221 2.0.0 bye\r\n").await;
                            return;
                        } else {
                            "502 5.5.2 command not recognised\r\n".into()
                        };
                        if write.write_all(reply.as_bytes()).await.is_err() {
                            return;
                        }
                    }
                });
            }
        });
        FakeSmtp { addr, mails }
    }

    /// The `MAVERICK_SMTP_URL` of this server (plain SMTP on loopback, no password).
    pub fn url(&self) -> String {
        format!("smtp://{}", self.addr)
    }

    pub fn mails(&self) -> Vec<Mail> {
        self.mails.lock().unwrap().clone()
    }

    /// Waits up to five seconds for the `n`-th message and returns all so far.
    pub async fn wait_for(&self, n: usize) -> Vec<Mail> {
        for _ in 0..100 {
            let mails = self.mails();
            if mails.len() >= n {
                return mails;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        panic!("expected {n} mail(s) within 5 s, got {}", self.mails().len());
    }
}

/// `<a@b.c>` (with optional parameters after it) → `a@b.c`.
fn address(arg: &str) -> String {
    let arg = arg.trim();
    arg.strip_prefix('<').and_then(|a| a.split_once('>')).map(|(a, _)| a.to_owned()).unwrap_or_else(|| arg.to_owned())
}
