//! The DeBounce client: `GET {base}?api=KEY&email=E`, every value a string, `success:"0"` for
//! errors even on HTTP 200, 402 when credits run out, 429 (without `Retry-After`) past 5
//! concurrent calls. Result codes map to our four outcomes: 5 deliverable → safe; 4 accept-all
//! and 8 role → risky; 1 syntax, 2 spam trap, 3 disposable, 6 bounce → invalid; 7 and anything
//! else → unknown.

use std::time::Duration;

use serde_json::Value;

/// DeBounce allows 5 concurrent calls per key.
pub const MAX_CONCURRENT: usize = 5;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    Safe,
    Risky,
    Invalid,
    Unknown,
}

impl Verdict {
    pub fn from_code(code: &str) -> Verdict {
        match code.trim() {
            "5" => Verdict::Safe,
            "4" | "8" => Verdict::Risky,
            "1" | "2" | "3" | "6" => Verdict::Invalid,
            _ => Verdict::Unknown,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Safe => "safe",
            Verdict::Risky => "risky",
            Verdict::Invalid => "invalid",
            Verdict::Unknown => "unknown",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum DebounceError {
    #[error("DeBounce refused the API key: {0}")]
    Auth(String),
    #[error("DeBounce credits are used up: {0}")]
    Credits(String),
    #[error("DeBounce is unavailable: {0}")]
    Unavailable(String),
}

#[derive(Clone)]
pub struct DebounceClient {
    http: reqwest::Client,
    base: String,
    key: String,
    attempts: u32,
    base_delay: Duration,
}

impl DebounceClient {
    pub fn new(base_url: &str, key: &str, base_delay: Duration) -> Self {
        let http = reqwest::Client::builder().timeout(Duration::from_secs(60)).build().expect("HTTP client");
        DebounceClient { http, base: base_url.to_owned(), key: key.to_owned(), attempts: 4, base_delay }
    }

    /// Identifies the key without holding it: the credit balance belongs to the key, so a stored
    /// balance is filed under this (a changed key starts with an unknown balance).
    pub fn key_id(&self) -> String {
        crate::platform::crypto::token_hash(&self.key)
    }

    /// One address; 429 and 5xx are retried with backoff (DeBounce sends no `Retry-After`).
    pub async fn verify(&self, email: &str) -> std::result::Result<Verdict, DebounceError> {
        self.check(email).await.map(|a| a.verdict)
    }

    /// One address, with the credit balance DeBounce reports in the same answer (after this call).
    pub async fn check(&self, email: &str) -> std::result::Result<Answer, DebounceError> {
        let body = self.call(&self.base, Some(email)).await?;
        let code = body.pointer("/debounce/code").and_then(|c| c.as_str().map(str::to_owned).or_else(|| c.as_i64().map(|n| n.to_string())));
        Ok(Answer { verdict: Verdict::from_code(code.as_deref().unwrap_or("7")), balance: balance_in(&body) })
    }

    /// The key's credit balance: `GET {base}balance/?api=K`.
    pub async fn balance(&self) -> std::result::Result<i64, DebounceError> {
        let url = format!("{}/balance/", self.base.trim_end_matches('/'));
        let body = self.call(&url, None).await?;
        balance_in(&body).ok_or_else(|| DebounceError::Unavailable("DeBounce answered the balance request without a balance".into()))
    }

    /// One GET with the key as `api=` (DeBounce has no header form). 429, 5xx, an unreachable
    /// server and a `success:"0"` that is not about the key or credits are retried. A verify answer
    /// must say `success:"1"`; the balance answer has no `success` at all.
    async fn call(&self, url: &str, email: Option<&str>) -> std::result::Result<Value, DebounceError> {
        let mut last = String::new();
        for attempt in 0..self.attempts {
            if attempt > 0 {
                tokio::time::sleep(self.base_delay * 2u32.pow(attempt - 1)).await;
            }
            let mut req = self.http.get(url).query(&[("api", self.key.as_str())]);
            if let Some(email) = email {
                req = req.query(&[("email", email)]);
            }
            let res = match req.send().await {
                Ok(r) => r,
                Err(e) => {
                    last = format!("could not reach DeBounce ({})", e.without_url());
                    continue;
                }
            };
            let status = res.status().as_u16();
            let body: Value = res.json().await.unwrap_or(Value::Null);
            let error = body.pointer("/debounce/error").and_then(Value::as_str).unwrap_or("").to_owned();
            let success = match body.get("success") {
                Some(Value::String(s)) => s == "1",
                Some(v) => v == &Value::from(1),
                None => email.is_none() && body.is_object(),
            };
            match status {
                401 | 403 => return Err(DebounceError::Auth(error)),
                402 => return Err(DebounceError::Credits(error)),
                429 | 500..=599 => {
                    last = format!("{status} {error}");
                    continue;
                }
                _ if !success => {
                    let lower = error.to_ascii_lowercase();
                    if lower.contains("credit") {
                        return Err(DebounceError::Credits(error));
                    }
                    if lower.contains("wrong api") || lower.contains("api key") {
                        return Err(DebounceError::Auth(error));
                    }
                    // Busy or "maximum concurrent calls": try again.
                    last = if error.is_empty() { format!("answered {status} without success") } else { error };
                    continue;
                }
                _ => return Ok(body),
            }
        }
        Err(DebounceError::Unavailable(format!("{last} (after {} attempts)", self.attempts)))
    }
}

/// A verdict and the balance left after it (when the answer carried one).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Answer {
    pub verdict: Verdict,
    pub balance: Option<i64>,
}

/// `balance` at the top level or under `debounce`, a string (as documented) or a number (as in
/// the spec's example).
fn balance_in(body: &Value) -> Option<i64> {
    [body.get("balance"), body.pointer("/debounce/balance")].into_iter().flatten().find_map(|v| match v {
        Value::String(s) => s.trim().parse::<i64>().ok().or_else(|| s.trim().parse::<f64>().ok().filter(|f| f.is_finite()).map(|f| f as i64)),
        Value::Number(n) => n.as_i64().or_else(|| n.as_f64().map(|f| f as i64)),
        _ => None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_balance_is_read_as_a_string_or_a_number_at_either_path() {
        assert_eq!(balance_in(&json!({"balance": "42"})), Some(42));
        assert_eq!(balance_in(&json!({"balance": 42})), Some(42));
        assert_eq!(balance_in(&json!({"debounce": {"balance": "7"}})), Some(7));
        assert_eq!(balance_in(&json!({"debounce": {"balance": 7.0}})), Some(7));
        assert_eq!(balance_in(&json!({"debounce": {"email": "a@b.c"}, "success": "1", "balance": "1725935"})), Some(1725935));
        assert_eq!(balance_in(&json!({"balance": ""})), None);
        assert_eq!(balance_in(&json!({"success": "1"})), None);
    }
}
