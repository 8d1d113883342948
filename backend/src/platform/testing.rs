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
