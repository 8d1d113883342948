//! Idempotency keys (IETF httpapi `Idempotency-Key`, as Stripe has them), per API token: the
//! first request with a key is worked and its response stored; a repeat gets that response again;
//! a repeat while the first is still being worked is told so (409); the same key with another
//! request (method, path or body) is refused (422). The claim is an insert that only one request
//! can win. A claim whose request died (kill -9) is taken over once its lock lapses.

use chrono::{DateTime, Duration, Utc};
use sha2::{Digest, Sha256};

use crate::{on_db, platform::db::Db, platform::error::Result};

/// How long an in-flight claim holds before another request may take it over.
const LOCK: Duration = Duration::seconds(60);

/// A stored response.
#[derive(Clone, Debug, PartialEq, sqlx::FromRow)]
pub struct Stored {
    pub response_status: i64,
    pub response_type: Option<String>,
    pub response_body: Option<String>,
}

/// What a key's claim came to.
#[derive(Clone, Debug, PartialEq)]
pub enum Claim {
    /// This request works it (and must call [`finish`]).
    Mine { locked_until: DateTime<Utc> },
    /// Worked before: send this again.
    Replay(Stored),
    /// Another request with this key is being worked now.
    InFlight,
    /// The key was used for a different request.
    Mismatch,
}

/// The request's fingerprint: method, path with query, body.
pub fn fingerprint(method: &str, path_and_query: &str, body: &[u8]) -> String {
    let mut h = Sha256::new();
    h.update(method.as_bytes());
    h.update(b" ");
    h.update(path_and_query.as_bytes());
    h.update(b"\n");
    h.update(body);
    hex::encode(h.finalize())
}

/// A key from the header: an sf-string (`"…"`) or bare, 1 to 255 printable ASCII characters.
pub fn parse_key(header: &str) -> Option<String> {
    let h = header.trim();
    let key = match h.strip_prefix('"') {
        Some(rest) => rest.strip_suffix('"')?,
        None => h,
    };
    (!key.is_empty() && key.len() <= 255 && key.bytes().all(|b| (0x20..0x7f).contains(&b) && b != b'"' && b != b'\\')).then(|| key.to_owned())
}

#[derive(sqlx::FromRow)]
struct Row {
    fingerprint: String,
    state: String,
    locked_until: DateTime<Utc>,
    created_at: DateTime<Utc>,
    response_status: Option<i64>,
    response_type: Option<String>,
    response_body: Option<String>,
}

/// Claims `key` for `token_id`'s request with `fp`. Keys older than `retention` are forgotten.
pub async fn claim(db: &Db, token_id: i64, key: &str, fp: &str, retention: Duration, now: DateTime<Utc>) -> Result<Claim> {
    let locked_until = now + LOCK;
    for _ in 0..3 {
        let inserted = on_db!(db, |pool| sqlx::query(
            "INSERT INTO api_idempotency (token_id, key, fingerprint, state, locked_until, created_at) VALUES ($1, $2, $3, 'in_flight', $4, $5) \
             ON CONFLICT (token_id, key) DO NOTHING"
        )
        .bind(token_id)
        .bind(key)
        .bind(fp)
        .bind(locked_until)
        .bind(now)
        .execute(pool)
        .await
        .map(|r| r.rows_affected()))?;
        if inserted == 1 {
            return Ok(Claim::Mine { locked_until });
        }
        let row: Option<Row> = on_db!(db, |pool| sqlx::query_as(
            "SELECT fingerprint, state, locked_until, created_at, response_status, response_type, response_body FROM api_idempotency WHERE token_id = $1 AND key = $2"
        )
        .bind(token_id)
        .bind(key)
        .fetch_optional(pool)
        .await)?;
        let Some(row) = row else { continue };
        if row.created_at < now - retention {
            // Expired: forget it (only if still that old one) and claim afresh.
            on_db!(db, |pool| sqlx::query("DELETE FROM api_idempotency WHERE token_id = $1 AND key = $2 AND created_at = $3")
                .bind(token_id)
                .bind(key)
                .bind(row.created_at)
                .execute(pool)
                .await
                .map(|r| r.rows_affected()))?;
            continue;
        }
        if row.fingerprint != fp {
            return Ok(Claim::Mismatch);
        }
        if row.state == "done" {
            return Ok(Claim::Replay(Stored { response_status: row.response_status.unwrap_or(500), response_type: row.response_type, response_body: row.response_body }));
        }
        if row.locked_until > now {
            return Ok(Claim::InFlight);
        }
        // The first request died: take the claim over, compare-and-set on its lock.
        let taken = on_db!(db, |pool| sqlx::query("UPDATE api_idempotency SET locked_until = $1 WHERE token_id = $2 AND key = $3 AND state = 'in_flight' AND locked_until = $4")
            .bind(locked_until)
            .bind(token_id)
            .bind(key)
            .bind(row.locked_until)
            .execute(pool)
            .await
            .map(|r| r.rows_affected()))?;
        if taken == 1 {
            return Ok(Claim::Mine { locked_until });
        }
    }
    Ok(Claim::InFlight)
}

/// Stores the response of a claimed key.
pub async fn finish(db: &Db, token_id: i64, key: &str, locked_until: DateTime<Utc>, response: &Stored) -> Result<()> {
    on_db!(db, |pool| sqlx::query(
        "UPDATE api_idempotency SET state = 'done', response_status = $1, response_type = $2, response_body = $3 \
         WHERE token_id = $4 AND key = $5 AND locked_until = $6 AND state = 'in_flight'"
    )
    .bind(response.response_status)
    .bind(&response.response_type)
    .bind(&response.response_body)
    .bind(token_id)
    .bind(key)
    .bind(locked_until)
    .execute(pool)
    .await
    .map(|r| r.rows_affected()))?;
    Ok(())
}

/// Lets go of a claim without a response (the request never reached its handler).
pub async fn release(db: &Db, token_id: i64, key: &str, locked_until: DateTime<Utc>) -> Result<()> {
    on_db!(db, |pool| sqlx::query("DELETE FROM api_idempotency WHERE token_id = $1 AND key = $2 AND locked_until = $3 AND state = 'in_flight'")
        .bind(token_id)
        .bind(key)
        .bind(locked_until)
        .execute(pool)
        .await
        .map(|r| r.rows_affected()))?;
    Ok(())
}

/// Forgets keys older than `before` (nightly).
pub async fn prune(db: &Db, before: DateTime<Utc>) -> Result<u64> {
    Ok(on_db!(db, |pool| sqlx::query("DELETE FROM api_idempotency WHERE created_at < $1").bind(before).execute(pool).await.map(|r| r.rows_affected()))?)
}

#[cfg(test)]
mod tests {
    #[test]
    fn keys_are_sf_strings_or_bare_and_bounded() {
        use super::parse_key;
        assert_eq!(parse_key("\"8e03978e-40d5-43e8-bc93-6894a57f9324\"").as_deref(), Some("8e03978e-40d5-43e8-bc93-6894a57f9324"));
        assert_eq!(parse_key("abc-123").as_deref(), Some("abc-123"));
        for bad in ["", "\"\"", "\"unterminated", &"x".repeat(256), "tab\there", "caf\u{e9}"] {
            assert_eq!(parse_key(bad), None, "{bad:?}");
        }
    }
}
