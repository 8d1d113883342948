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

    /// One address; 429 and 5xx are retried with backoff (DeBounce sends no `Retry-After`).
    pub async fn verify(&self, email: &str) -> std::result::Result<Verdict, DebounceError> {
        let mut last = String::new();
        for attempt in 0..self.attempts {
            if attempt > 0 {
                tokio::time::sleep(self.base_delay * 2u32.pow(attempt - 1)).await;
            }
            let res = match self.http.get(&self.base).query(&[("api", self.key.as_str()), ("email", email)]).send().await {
                Ok(r) => r,
                Err(e) => {
                    last = format!("could not reach DeBounce ({})", e.without_url());
                    continue;
                }
            };
            let status = res.status().as_u16();
            let body: Value = res.json().await.unwrap_or(Value::Null);
            let error = body.pointer("/debounce/error").and_then(Value::as_str).unwrap_or("").to_owned();
            let success = matches!(body.get("success"), Some(Value::String(s)) if s == "1") || body.get("success") == Some(&Value::from(1));
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
                _ => {
                    let code = body.pointer("/debounce/code").and_then(|c| c.as_str().map(str::to_owned).or_else(|| c.as_i64().map(|n| n.to_string())));
                    return Ok(Verdict::from_code(code.as_deref().unwrap_or("7")));
                }
            }
        }
        Err(DebounceError::Unavailable(format!("{last} (after {} attempts)", self.attempts)))
    }
}
