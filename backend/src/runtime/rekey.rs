//! Key rotation: every secret sealed at rest is opened with the current key and sealed again with
//! a new one, in one transaction — all or nothing. A value that already opens with the new key is
//! left as it is, so a run that was stopped can simply be run again.
//!
//! The sealed columns are listed here, in one place: a new one must be added to [`SEALED`]
//! (the rekey test fails on a column it cannot read back with the new key).

use crate::{
    on_db,
    platform::{crypto::SecretBox, db::Db, error::Result},
    Error,
};

/// How a column holds its sealed bytes.
#[derive(Clone, Copy)]
enum Encoding {
    Blob,
    Base64,
}

/// (table, row key, column, encoding, extra filter): every sealed secret.
const SEALED: &[(&str, &str, &str, Encoding, &str)] = &[
    ("workspaces", "id", "bison_api_key_enc", Encoding::Blob, ""),
    ("workspaces", "id", "slack_webhook_enc", Encoding::Blob, ""),
    ("event_endpoints", "id", "secret_enc", Encoding::Base64, ""),
    ("event_endpoints", "id", "previous_secret_enc", Encoding::Base64, ""),
    ("event_endpoints", "id", "header_value_enc", Encoding::Base64, ""),
    ("site_credentials", "id", "sealed_password", Encoding::Base64, ""),
    ("settings", "key", "value", Encoding::Base64, " AND key = 'slack_webhook_agency'"),
];

/// What a rotation did: secrets sealed again, and those already under the new key.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Rekeyed {
    pub resealed: usize,
    pub already_new: usize,
}

/// Re-seals every stored secret from `old` to `new`. Refuses (changing nothing) when a value opens
/// with neither key: that database was sealed with a third key.
pub async fn rotate(db: &Db, old: &SecretBox, new: &SecretBox) -> Result<Rekeyed> {
    use base64::{engine::general_purpose::STANDARD, Engine};
    let mut done = Rekeyed::default();
    let outcome: std::result::Result<Result<Rekeyed>, sqlx::Error> = on_db!(db, |pool| async {
        let mut tx = pool.begin().await?;
        for (table, key, column, encoding, filter) in SEALED {
            // Keys are read as text on both backends (ids cast), so one query shape serves all tables.
            let rows: Vec<(String, Option<Vec<u8>>, Option<String>)> = match encoding {
                Encoding::Blob => sqlx::query_as::<_, (String, Option<Vec<u8>>)>(sqlx::AssertSqlSafe(format!(
                    "SELECT CAST({key} AS TEXT), {column} FROM {table} WHERE {column} IS NOT NULL{filter}"
                )))
                .fetch_all(&mut *tx)
                .await?
                .into_iter()
                .map(|(k, b)| (k, b, None))
                .collect(),
                Encoding::Base64 => sqlx::query_as::<_, (String, Option<String>)>(sqlx::AssertSqlSafe(format!(
                    "SELECT CAST({key} AS TEXT), {column} FROM {table} WHERE {column} IS NOT NULL{filter}"
                )))
                .fetch_all(&mut *tx)
                .await?
                .into_iter()
                .map(|(k, t)| (k, None, t))
                .collect(),
            };
            for (row, blob, text) in rows {
                let sealed = match (blob, text) {
                    (Some(b), _) => b,
                    (None, Some(t)) => match STANDARD.decode(t.trim()) {
                        Ok(b) => b,
                        Err(_) => return Ok(Err(Error::Internal(format!("{table}.{column} of {row} is not base64: nothing was changed")))),
                    },
                    (None, None) => continue,
                };
                let plain = match old.open(&sealed) {
                    Ok(p) => p,
                    Err(_) if new.open(&sealed).is_ok() => {
                        done.already_new += 1;
                        continue;
                    }
                    Err(_) => {
                        return Ok(Err(Error::invalid(format!(
                            "{table}.{column} of {row} opens with neither the current nor the new key: nothing was changed. Is MAVERICK_SECRET_KEY the key this database was sealed with?"
                        ))))
                    }
                };
                let resealed = new.seal(&plain);
                let cast_key = if *key == "id" { format!("CAST({key} AS TEXT)") } else { key.to_string() };
                let sql = format!("UPDATE {table} SET {column} = $1 WHERE {cast_key} = $2");
                match encoding {
                    Encoding::Blob => sqlx::query(sqlx::AssertSqlSafe(sql)).bind(resealed).bind(&row).execute(&mut *tx).await?,
                    Encoding::Base64 => sqlx::query(sqlx::AssertSqlSafe(sql)).bind(STANDARD.encode(resealed)).bind(&row).execute(&mut *tx).await?,
                };
                done.resealed += 1;
            }
        }
        tx.commit().await?;
        Ok(Ok(done))
    }
    .await);
    outcome?
}
