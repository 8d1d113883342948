//! Schema migrations: ours (`migrations/sqlite`, `migrations/postgres`), then the job queue's,
//! which apalis keeps in its own bookkeeping (see [`crate::platform::jobs::migrate`]).

use crate::platform::{db::Db, error::Result};

/// Brings the database to the schema this build expects. Safe to run at every start-up.
pub async fn run(db: &Db) -> Result<()> {
    match db {
        Db::Sqlite(pool) => sqlx::migrate!("../migrations/sqlite").run(pool).await?,
        Db::Postgres(pool) => sqlx::migrate!("../migrations/postgres").run(pool).await?,
    }
    crate::platform::jobs::migrate(db).await
}
