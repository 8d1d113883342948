//! The Email Bison REST client: bearer token per workspace, `{"data": …}` envelopes, page loops
//! until `meta.last_page`, numbers that arrive as strings or numbers, 429 with `Retry-After`
//! honoured, 5xx and timeouts retried with exponential backoff, and 401/403/422 turned into
//! messages that say what to fix. Base URL configurable (`MAVERICK_BISON_URL`); tests run it
//! against a local fake of the same shape.

use std::time::Duration;

use serde::{de::DeserializeOwned, Deserialize, Deserializer};
use serde_json::Value;

use crate::platform::http_retry::{retry_after_secs, RetryPolicy};

/// Why a call failed, in words for the workspace's integration status.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum BisonError {
    #[error("Email Bison refused the API key ({0}); check the key and the workspace it belongs to")]
    Auth(String),
    #[error("Email Bison rejected the request: {0}")]
    Invalid(String),
    #[error("Email Bison is unavailable: {0}")]
    Unavailable(String),
    #[error("Email Bison answered something unexpected: {0}")]
    Unexpected(String),
}

#[derive(Clone)]
pub struct BisonClient {
    http: reqwest::Client,
    base: String,
    token: String,
    policy: RetryPolicy,
}

impl std::fmt::Debug for BisonClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BisonClient").field("base", &self.base).finish_non_exhaustive()
    }
}

/// An integer that Email Bison may send as a number, a string or null.
pub fn int<'de, D: Deserializer<'de>>(d: D) -> Result<i64, D::Error> {
    Ok(match Value::deserialize(d)? {
        Value::Number(n) => n.as_i64().or_else(|| n.as_f64().map(|f| f as i64)).unwrap_or(0),
        Value::String(s) => s.trim().parse::<f64>().map(|f| f as i64).unwrap_or(0),
        _ => 0,
    })
}

/// An id that may be a number or a string.
pub fn id<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    Ok(match Value::deserialize(d)? {
        Value::Number(n) => n.to_string(),
        Value::String(s) => s,
        other => other.to_string(),
    })
}

fn opt_id<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    Ok(match Value::deserialize(d)? {
        Value::Number(n) => Some(n.to_string()),
        Value::String(s) if !s.is_empty() => Some(s),
        _ => None,
    })
}

fn boolish<'de, D: Deserializer<'de>>(d: D) -> Result<bool, D::Error> {
    Ok(match Value::deserialize(d)? {
        Value::Bool(b) => b,
        Value::Number(n) => n.as_i64().unwrap_or(0) != 0,
        Value::String(s) => matches!(s.trim().to_ascii_lowercase().as_str(), "1" | "true" | "yes"),
        _ => false,
    })
}

#[derive(Clone, Debug, Deserialize)]
pub struct Campaign {
    #[serde(deserialize_with = "id")]
    pub id: String,
    pub name: String,
    #[serde(default)]
    pub status: Option<String>,
    #[serde(default, deserialize_with = "int")]
    pub total_leads: i64,
    #[serde(default, deserialize_with = "int")]
    pub total_leads_contacted: i64,
}

#[derive(Clone, Debug, Deserialize)]
pub struct SenderEmail {
    #[serde(deserialize_with = "id")]
    pub id: String,
    pub email: String,
    #[serde(default)]
    pub status: Option<String>,
    #[serde(default, deserialize_with = "int")]
    pub daily_limit: i64,
    #[serde(default, deserialize_with = "boolish")]
    pub warmup_enabled: bool,
    #[serde(default, deserialize_with = "int")]
    pub emails_sent_count: i64,
    #[serde(default, deserialize_with = "int")]
    pub bounced_count: i64,
    #[serde(default, deserialize_with = "int")]
    pub total_replied_count: i64,
}

#[derive(Clone, Debug, Deserialize)]
pub struct Reply {
    #[serde(deserialize_with = "id")]
    pub id: String,
    #[serde(default)]
    pub from_name: Option<String>,
    #[serde(default)]
    pub from_email_address: Option<String>,
    #[serde(default)]
    pub text_body: Option<String>,
    #[serde(default)]
    pub date_received: Option<String>,
    #[serde(default, deserialize_with = "opt_id")]
    pub campaign_id: Option<String>,
    #[serde(default, deserialize_with = "opt_id")]
    pub lead_id: Option<String>,
}

/// One line of `campaign-events/stats`: a label (Sent, Replied, …) and `[day, count]` pairs.
#[derive(Clone, Debug, Deserialize)]
pub struct DailySeries {
    pub label: String,
    #[serde(default)]
    pub dates: Vec<(String, Value)>,
}

#[derive(Deserialize)]
struct Page<T> {
    data: Vec<T>,
    #[serde(default)]
    meta: Option<Meta>,
}

#[derive(Deserialize)]
struct Meta {
    #[serde(default, deserialize_with = "int")]
    current_page: i64,
    #[serde(default, deserialize_with = "int")]
    last_page: i64,
}

impl BisonClient {
    pub fn new(base_url: &str, token: &str, policy: RetryPolicy) -> Self {
        let http = reqwest::Client::builder().timeout(policy.timeout).build().expect("HTTP client");
        BisonClient { http, base: base_url.trim_end_matches('/').to_owned(), token: token.to_owned(), policy }
    }

    /// One request with the retry policy; the parsed JSON body.
    async fn call(&self, method: reqwest::Method, path: &str, query: &[(&str, String)], body: Option<&Value>) -> Result<Value, BisonError> {
        let url = format!("{}{path}", self.base);
        let mut last = String::new();
        for attempt in 0..self.policy.attempts {
            let mut req = self.http.request(method.clone(), &url).bearer_auth(&self.token).header("accept", "application/json").query(query);
            if let Some(b) = body {
                req = req.json(b);
            }
            let wait = match req.send().await {
                Err(e) => {
                    last = if e.is_timeout() { "the request timed out".into() } else { format!("could not connect ({})", e.without_url()) };
                    self.policy.backoff(attempt)
                }
                Ok(res) => {
                    let status = res.status();
                    let retry_after = retry_after_secs(res.headers());
                    let text = res.text().await.unwrap_or_default();
                    let message = || {
                        serde_json::from_str::<Value>(&text)
                            .ok()
                            .and_then(|v| v.get("message").and_then(Value::as_str).map(str::to_owned))
                            .unwrap_or_else(|| text.chars().take(300).collect())
                    };
                    match status.as_u16() {
                        200..=299 => {
                            if text.trim().is_empty() {
                                return Ok(Value::Null);
                            }
                            return serde_json::from_str(&text).map_err(|e| BisonError::Unexpected(format!("{path}: not JSON ({e})")));
                        }
                        401 | 403 => return Err(BisonError::Auth(format!("{status}: {}", message()))),
                        404 => return Err(BisonError::Invalid(format!("{path} was not found (404)"))),
                        422 | 400 => return Err(BisonError::Invalid(format!("{status}: {}", message()))),
                        429 => {
                            last = "rate limited (429)".into();
                            Duration::from_secs_f64(retry_after.unwrap_or(5.0)).min(self.policy.max_retry_after)
                        }
                        500..=599 => {
                            last = format!("{status}: {}", message());
                            self.policy.backoff(attempt)
                        }
                        _ => return Err(BisonError::Unexpected(format!("{path} answered {status}: {}", message()))),
                    }
                }
            };
            if attempt + 1 < self.policy.attempts {
                tokio::time::sleep(wait).await;
            }
        }
        Err(BisonError::Unavailable(format!("{path}: {last} (after {} attempts)", self.policy.attempts)))
    }

    /// Every item of a paginated list (`?page=N` until `meta.last_page`).
    pub async fn pages<T: DeserializeOwned>(&self, path: &str, query: &[(&str, String)]) -> Result<Vec<T>, BisonError> {
        let mut out = Vec::new();
        for page in 1..=10_000i64 {
            let mut q = query.to_vec();
            q.push(("page", page.to_string()));
            let v = self.call(reqwest::Method::GET, path, &q, None).await?;
            let p: Page<T> = serde_json::from_value(v).map_err(|e| BisonError::Unexpected(format!("{path} page {page}: {e}")))?;
            out.extend(p.data);
            match p.meta {
                Some(m) if m.current_page.max(page) < m.last_page => continue,
                _ => break,
            }
        }
        Ok(out)
    }

    /// Checks the credentials (`GET /api/users`).
    pub async fn check(&self) -> Result<(), BisonError> {
        self.call(reqwest::Method::GET, "/api/users", &[], None).await.map(|_| ())
    }

    pub async fn campaigns(&self) -> Result<Vec<Campaign>, BisonError> {
        self.pages("/api/campaigns", &[]).await
    }

    pub async fn sender_emails(&self) -> Result<Vec<SenderEmail>, BisonError> {
        self.pages("/api/sender-emails", &[]).await
    }

    pub async fn interested_replies(&self) -> Result<Vec<Reply>, BisonError> {
        self.pages("/api/replies", &[("status", "interested".into()), ("folder", "all".into())]).await
    }

    /// Creates up to 500 leads in one call (`POST /api/leads/multiple`); the created leads' (id, email).
    pub async fn create_leads(&self, leads: &[Value]) -> Result<Vec<(String, String)>, BisonError> {
        let v = self.call(reqwest::Method::POST, "/api/leads/multiple", &[], Some(&serde_json::json!({ "leads": leads }))).await?;
        let data = v.get("data").and_then(Value::as_array).cloned().unwrap_or_default();
        Ok(data
            .iter()
            .filter_map(|l| {
                let id = match l.get("id")? {
                    Value::Number(n) => n.to_string(),
                    Value::String(s) => s.clone(),
                    _ => return None,
                };
                Some((id, l.get("email")?.as_str()?.to_lowercase()))
            })
            .collect())
    }

    /// Attaches leads to a campaign (`POST /api/campaigns/{id}/leads/attach-leads`).
    pub async fn attach_leads(&self, campaign_id: &str, lead_ids: &[String]) -> Result<(), BisonError> {
        let ids: Vec<Value> = lead_ids.iter().map(|id| id.parse::<i64>().map(Value::from).unwrap_or_else(|_| Value::from(id.clone()))).collect();
        let path = format!("/api/campaigns/{campaign_id}/leads/attach-leads");
        self.call(reqwest::Method::POST, &path, &[], Some(&serde_json::json!({ "lead_ids": ids }))).await.map(|_| ())
    }

    /// Daily counts per label over `[from, to]` for the whole workspace.
    pub async fn daily_stats(&self, from: chrono::NaiveDate, to: chrono::NaiveDate) -> Result<Vec<DailySeries>, BisonError> {
        let v = self
            .call(reqwest::Method::GET, "/api/campaign-events/stats", &[("start_date", from.to_string()), ("end_date", to.to_string())], None)
            .await?;
        let data = v.get("data").cloned().unwrap_or(Value::Null);
        serde_json::from_value(data).map_err(|e| BisonError::Unexpected(format!("campaign-events/stats: {e}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_may_be_strings() {
        let s: SenderEmail = serde_json::from_value(serde_json::json!({
            "id": 3, "email": "a@b.test", "status": "Connected", "daily_limit": "30", "warmup_enabled": 1,
            "emails_sent_count": "1200", "bounced_count": 12, "total_replied_count": null
        }))
        .unwrap();
        assert_eq!((s.id.as_str(), s.daily_limit, s.warmup_enabled, s.emails_sent_count, s.bounced_count, s.total_replied_count), ("3", 30, true, 1200, 12, 0));
        let c: Campaign = serde_json::from_value(serde_json::json!({"id": "42", "name": "Q3", "total_leads": "1,5"})).unwrap();
        assert_eq!((c.id.as_str(), c.total_leads), ("42", 0), "garbage counts read as 0, not an error");
    }
}
