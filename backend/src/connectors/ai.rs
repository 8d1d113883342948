//! Chat-completion clients for Perplexity (company research) and OpenRouter (Claude writes the
//! line). Both speak the OpenAI shape: `POST {base}/chat/completions` with a bearer key, answer
//! `choices[0].message.content` and `usage`. Every attempt is recorded (prompt, answer, status,
//! tokens, cost, latency) for the lead it was made for.
//!
//! Retry policy (issue 5): 3 attempts; only timeouts, connection failures, 429 and 5xx are
//! retried — after `Retry-After` when given, else 2 s, 4 s… OpenRouter may also fail *after*
//! answering 200, with `{"error": {"code": …}}` in the body: the same rule applies to that code.
//! A refused key, missing credits or an unknown model stop the whole run (every lead would fail
//! the same way); anything else fails just this lead. A per-provider rate limit (requests per
//! minute, shared by every run of the process) spaces the calls.
//!
//! Cost (issue 18): Perplexity answers `usage.cost.total_cost`; OpenRouter answers `usage.cost`
//! when asked with `"usage": {"include": true}`. When an answer lacks it, OpenRouter's published
//! per-token prices (`GET {base}/models`, cached) × the tokens give it. Otherwise the cost is
//! unknown (`None`) — never 0, which would read as free.

use std::{
    collections::HashMap,
    num::NonZeroU32,
    sync::{Arc, Mutex, OnceLock},
    time::Duration,
};

use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use crate::platform::http_retry::{retry_after_secs, RetryPolicy};

/// Bodies kept per call, at most.
const KEEP_BYTES: usize = 64 * 1024;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Message {
    pub role: String,
    pub content: String,
}

impl Message {
    pub fn system(content: impl Into<String>) -> Self {
        Message { role: "system".into(), content: content.into() }
    }
    pub fn user(content: impl Into<String>) -> Self {
        Message { role: "user".into(), content: content.into() }
    }
    pub fn assistant(content: impl Into<String>) -> Self {
        Message { role: "assistant".into(), content: content.into() }
    }
}

/// One attempt at a provider, as stored in `personalization_calls`.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct CallRecord {
    /// When this attempt was sent (each attempt its own).
    pub at: DateTime<Utc>,
    pub provider: &'static str,
    pub model: String,
    pub attempt: i64,
    pub request: String,
    pub response: Option<String>,
    pub http_status: Option<i64>,
    pub error: Option<String>,
    pub prompt_tokens: i64,
    pub completion_tokens: i64,
    /// USD; `None` when neither the answer nor the price list tells.
    pub cost_usd: Option<f64>,
    pub latency_ms: i64,
}

/// A successful answer.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Answer {
    pub content: String,
    /// Source URLs (Perplexity's `search_results`, else `citations`).
    pub sources: Vec<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum AiError {
    /// Every lead would fail the same way (key refused, no credits, unknown model): stop the run.
    #[error("{0}")]
    Fatal(String),
    /// This lead failed (after the retries, when retryable).
    #[error("{0}")]
    Failed(String),
}

/// One provider: where, with which key and model, how fast.
#[derive(Clone)]
pub struct Provider {
    pub name: &'static str,
    pub label: &'static str,
    base: String,
    key: String,
    pub model: String,
    http: reqwest::Client,
    limiter: Arc<DefaultDirectRateLimiter>,
    policy: RetryPolicy,
    /// Extra headers (OpenRouter's app attribution).
    headers: Vec<(&'static str, String)>,
    /// OpenRouter: ask for usage accounting and fall back on `{base}/models` prices.
    openrouter_pricing: bool,
}

impl Provider {
    /// `per_minute`: the rate limit, 0 for none.
    pub fn new(name: &'static str, label: &'static str, base: &str, key: &str, model: &str, per_minute: u32, policy: RetryPolicy) -> Self {
        let http = reqwest::Client::builder().timeout(policy.timeout).build().unwrap_or_default();
        Provider {
            name,
            label,
            base: base.trim_end_matches('/').to_owned(),
            key: key.to_owned(),
            model: model.to_owned(),
            http,
            limiter: shared_limiter(name, base, per_minute),
            policy,
            headers: Vec::new(),
            openrouter_pricing: false,
        }
    }

    /// OpenRouter's cost: asked for in each request (usage accounting), else computed from the
    /// model's published prices.
    pub fn with_openrouter_pricing(mut self) -> Self {
        self.openrouter_pricing = true;
        self
    }

    pub fn with_header(mut self, name: &'static str, value: impl Into<String>) -> Self {
        self.headers.push((name, value.into()));
        self
    }

    /// A chat completion with the retry policy; every attempt is appended to `log`.
    pub async fn chat(&self, messages: &[Message], max_tokens: u32, temperature: f32, log: &mut Vec<CallRecord>) -> Result<Answer, AiError> {
        let mut body = json!({"model": self.model, "messages": messages, "max_tokens": max_tokens, "temperature": temperature});
        if self.openrouter_pricing {
            body["usage"] = json!({"include": true});
        }
        let request = body.to_string();
        let url = format!("{}/chat/completions", self.base);
        let mut last = String::new();
        for attempt in 0..self.policy.attempts {
            self.limiter.until_ready().await;
            let started = std::time::Instant::now();
            let mut record = CallRecord { at: Utc::now(), provider: self.name, model: self.model.clone(), attempt: i64::from(attempt) + 1, request: request.clone(), ..Default::default() };
            let mut req = self.http.post(&url).bearer_auth(&self.key).header("accept", "application/json").json(&body);
            for (name, value) in &self.headers {
                req = req.header(*name, value);
            }
            let backoff = self.policy.backoff(attempt);
            let outcome = match req.send().await {
                Err(e) => {
                    let why = if e.is_timeout() { format!("{} did not answer within {} s", self.label, self.policy.timeout.as_secs()) } else { format!("could not reach {} ({})", self.label, e.without_url()) };
                    Err((why, Some(backoff)))
                }
                Ok(res) => {
                    let status = res.status().as_u16();
                    let retry_after = retry_after_secs(res.headers());
                    let text = res.text().await.unwrap_or_default();
                    record.http_status = Some(i64::from(status));
                    record.response = Some(truncate(&text));
                    let outcome = self.judge(status, retry_after, &text, backoff, &mut record);
                    if record.cost_usd.is_none() && self.openrouter_pricing {
                        record.cost_usd = self.priced(&record, &text).await;
                    }
                    outcome
                }
            };
            record.latency_ms = started.elapsed().as_millis() as i64;
            match outcome {
                Ok(answer) => {
                    log.push(record);
                    return Ok(answer);
                }
                Err((why, retry)) => {
                    record.error = Some(why.clone());
                    log.push(record);
                    last = why;
                    match retry {
                        None => return Err(if is_fatal(&last) { AiError::Fatal(last) } else { AiError::Failed(last) }),
                        Some(wait) if attempt + 1 < self.policy.attempts => tokio::time::sleep(wait).await,
                        Some(_) => {}
                    }
                }
            }
        }
        Err(AiError::Failed(format!("{last} (gave up after {} attempts)", self.policy.attempts)))
    }

    /// What an HTTP answer means: the answer, or why not and whether (after how long) to retry.
    fn judge(&self, status: u16, retry_after: Option<f64>, text: &str, backoff: Duration, record: &mut CallRecord) -> Result<Answer, (String, Option<Duration>)> {
        let parsed: Option<Value> = serde_json::from_str(text).ok();
        let message = parsed
            .as_ref()
            .and_then(|v| v.pointer("/error/message").or_else(|| v.get("message")).and_then(Value::as_str).map(str::to_owned))
            .unwrap_or_else(|| text.chars().take(300).collect());
        let wait = |code: u16| match code {
            429 => Some(retry_after.map_or(backoff, |s| Duration::from_secs_f64(s.max(0.0))).min(self.policy.max_retry_after)),
            408 | 500..=599 => Some(retry_after.map_or(backoff, |s| Duration::from_secs_f64(s.max(0.0))).min(self.policy.max_retry_after)),
            _ => None,
        };
        let refusal = |code: u16, message: &str| {
            let why = match code {
                401 => format!("{} refused the API key: {message}{FATAL}", self.label),
                402 => format!("{} has no credits left: {message}{FATAL}", self.label),
                403 => format!("{} refused the request (403): {message}", self.label),
                400 if message.to_lowercase().contains("model") => format!("{} does not know the model {:?}: {message}{FATAL}", self.label, self.model),
                429 => format!("{} is rate limiting us (429): {message}", self.label),
                c => format!("{} answered {c}: {message}", self.label),
            };
            (why, wait(code))
        };
        if !(200..300).contains(&status) {
            // A refused request ran no model: nothing billed (Perplexity documents 429s as
            // unbilled; OpenRouter's request errors come before any model runs).
            record.cost_usd = Some(0.0);
            return Err(refusal(status, &message));
        }
        let Some(v) = parsed else {
            return Err((format!("{} answered something that is not JSON: {}", self.label, text.chars().take(120).collect::<String>()), None));
        };
        if let Some(usage) = v.get("usage") {
            record.prompt_tokens = usage.get("prompt_tokens").and_then(Value::as_i64).unwrap_or(0);
            record.completion_tokens = usage.get("completion_tokens").and_then(Value::as_i64).unwrap_or(0);
            // Perplexity: usage.cost.total_cost; OpenRouter (usage accounting): usage.cost.
            record.cost_usd = usage.pointer("/cost/total_cost").or_else(|| usage.get("cost")).and_then(Value::as_f64);
        }
        // An error after the 200 (OpenRouter): judged by the code inside.
        if let Some(err) = v.get("error").filter(|e| !e.is_null()) {
            let code = err.get("code").and_then(|c| c.as_u64().or_else(|| c.as_str().and_then(|s| s.parse().ok()))).unwrap_or(500) as u16;
            let message = err.get("message").and_then(Value::as_str).unwrap_or("no message").to_owned();
            return Err(refusal(code, &message));
        }
        let content = v.pointer("/choices/0/message/content").and_then(Value::as_str).map(str::trim).unwrap_or_default();
        if content.is_empty() {
            return Err((format!("{} answered without any text", self.label), None));
        }
        let sources = v
            .get("search_results")
            .and_then(Value::as_array)
            .map(|a| a.iter().filter_map(|r| r.get("url").and_then(Value::as_str).map(str::to_owned)).collect::<Vec<_>>())
            .filter(|s| !s.is_empty())
            .or_else(|| v.get("citations").and_then(Value::as_array).map(|a| a.iter().filter_map(|c| c.as_str().map(str::to_owned)).collect()))
            .unwrap_or_default();
        Ok(Answer { content: content.to_owned(), sources })
    }
}

impl Provider {
    /// The cost of an answer that did not carry one: its tokens × the model's published prices
    /// (the model asked for, else the one that answered). `None` without usage or prices.
    async fn priced(&self, record: &CallRecord, text: &str) -> Option<f64> {
        let v: Value = serde_json::from_str(text).ok()?;
        v.get("usage").filter(|u| u.is_object())?;
        let prices = self.prices().await?;
        let (prompt, completion) = prices.get(&self.model).or_else(|| v.get("model").and_then(Value::as_str).and_then(|m| prices.get(m)))?;
        Some(record.prompt_tokens as f64 * prompt + record.completion_tokens as f64 * completion)
    }

    /// The price list of this base URL, fetched at most once an hour (a failed fetch is tried
    /// again after five minutes, not at every call).
    async fn prices(&self) -> Option<Arc<Prices>> {
        static CACHE: OnceLock<tokio::sync::Mutex<HashMap<String, PriceEntry>>> = OnceLock::new();
        // Held across the fetch: concurrent leads wait for one fetch instead of each making one.
        let mut cache = CACHE.get_or_init(Default::default).lock().await;
        if let Some((at, prices)) = cache.get(&self.base) {
            if at.elapsed() < if prices.is_some() { PRICES_TTL } else { PRICES_RETRY } {
                return prices.clone();
            }
        }
        let prices = match self.fetch_prices().await {
            Ok(p) => Some(Arc::new(p)),
            Err(why) => {
                tracing::warn!(provider = self.name, "cannot read the model prices ({why}); the cost of answers without usage.cost stays unknown");
                None
            }
        };
        cache.insert(self.base.clone(), (std::time::Instant::now(), prices.clone()));
        prices
    }

    /// `GET {base}/models`: `{"data": [{"id", "pricing": {"prompt", "completion"}}]}`, prices
    /// per token as decimal strings (negative ones mean "varies": left out).
    async fn fetch_prices(&self) -> Result<Prices, String> {
        let url = format!("{}/models", self.base);
        let res = self.http.get(&url).header("accept", "application/json").send().await.map_err(|e| e.without_url().to_string())?;
        let status = res.status();
        if !status.is_success() {
            return Err(format!("{url} answered {status}"));
        }
        let v: Value = res.json().await.map_err(|e| format!("{url} answered something unreadable: {}", e.without_url()))?;
        let price = |m: &Value, key: &str| {
            let p = m.pointer(&format!("/pricing/{key}"))?;
            p.as_str().and_then(|s| s.trim().parse::<f64>().ok()).or_else(|| p.as_f64()).filter(|p| *p >= 0.0)
        };
        let prices: Prices = v
            .get("data")
            .and_then(Value::as_array)
            .ok_or_else(|| format!("{url} answered without a data list"))?
            .iter()
            .filter_map(|m| Some((m.get("id")?.as_str()?.to_owned(), (price(m, "prompt")?, price(m, "completion")?))))
            .collect();
        Ok(prices)
    }
}

/// Per-token prices in USD (prompt, completion) by model id.
type Prices = HashMap<String, (f64, f64)>;
/// A base URL's price list (`None`: the fetch failed) and when it was fetched.
type PriceEntry = (std::time::Instant, Option<Arc<Prices>>);
const PRICES_TTL: Duration = Duration::from_secs(3600);
const PRICES_RETRY: Duration = Duration::from_secs(300);

/// One limiter per provider, base URL and rate in the process, so concurrent runs share the
/// provider's allowance instead of each taking all of it.
fn shared_limiter(name: &str, base: &str, per_minute: u32) -> Arc<DefaultDirectRateLimiter> {
    static LIMITERS: OnceLock<Mutex<HashMap<(String, String, u32), Arc<DefaultDirectRateLimiter>>>> = OnceLock::new();
    let mut all = LIMITERS.get_or_init(Default::default).lock().unwrap_or_else(|p| p.into_inner());
    all.entry((name.to_owned(), base.to_owned(), per_minute))
        .or_insert_with(|| {
            let quota = NonZeroU32::new(per_minute).map_or_else(
                || Quota::per_second(NonZeroU32::MAX),
                // A burst of a tenth of the minute's allowance; the rest spread evenly.
                |n| Quota::per_minute(n).allow_burst(NonZeroU32::new((n.get() / 10).max(1)).unwrap_or(NonZeroU32::MIN)),
            );
            Arc::new(RateLimiter::direct(quota))
        })
        .clone()
}

/// Appended to messages that should stop a run (see [`is_fatal`]).
const FATAL: &str = " — fix the setting, then resume the run";

fn is_fatal(why: &str) -> bool {
    why.ends_with(FATAL)
}

fn truncate(text: &str) -> String {
    if text.len() <= KEEP_BYTES {
        return text.to_owned();
    }
    let mut end = KEEP_BYTES;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &text[..end])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn provider() -> Provider {
        Provider::new("openrouter", "OpenRouter", "http://127.0.0.1:9", "k", "anthropic/claude-sonnet-4.5", 0, RetryPolicy::default())
    }

    #[test]
    fn answers_are_read_with_their_usage_and_sources() {
        let mut rec = CallRecord::default();
        let body = r#"{"choices":[{"message":{"content":" Roofs. "}}],"search_results":[{"url":"https://a.test"}],"citations":["https://b.test"],
            "usage":{"prompt_tokens":10,"completion_tokens":5,"cost":{"total_cost":0.005}}}"#;
        let a = provider().judge(200, None, body, Duration::from_secs(2), &mut rec).unwrap();
        assert_eq!((a.content.as_str(), a.sources.clone()), ("Roofs.", vec!["https://a.test".to_string()]));
        assert_eq!((rec.prompt_tokens, rec.completion_tokens, rec.cost_usd), (10, 5, Some(0.005)));
        // OpenRouter's usage accounting: a number.
        let mut rec = CallRecord::default();
        provider().judge(200, None, r#"{"choices":[{"message":{"content":"x"}}],"usage":{"prompt_tokens":1,"completion_tokens":2,"cost":0.25}}"#, Duration::ZERO, &mut rec).unwrap();
        assert_eq!(rec.cost_usd, Some(0.25));
        // No cost in the answer: unknown, not free.
        let mut rec = CallRecord::default();
        provider().judge(200, None, r#"{"choices":[{"message":{"content":"x"}}],"usage":{"prompt_tokens":1,"completion_tokens":2}}"#, Duration::ZERO, &mut rec).unwrap();
        assert_eq!(rec.cost_usd, None);
    }

    #[test]
    fn only_timeouts_429_and_5xx_are_retried_and_retry_after_wins() {
        let p = provider();
        let mut rec = CallRecord::default();
        let two = Duration::from_secs(2);
        let judge = |status, ra, body: &str, rec: &mut CallRecord| p.judge(status, ra, body, two, rec).unwrap_err();
        assert_eq!(judge(429, Some(7.0), "{}", &mut rec).1, Some(Duration::from_secs(7)));
        assert_eq!(judge(429, Some(600.0), "{}", &mut rec).1, Some(Duration::from_secs(60)), "capped");
        assert_eq!(judge(503, None, "oops", &mut rec).1, Some(two));
        assert_eq!(judge(400, None, r#"{"error":{"message":"bad"}}"#, &mut rec).1, None);
        let (why, retry) = judge(401, None, r#"{"error":{"message":"No auth credentials found","code":401}}"#, &mut rec);
        assert!(retry.is_none() && is_fatal(&why) && why.contains("No auth credentials found"), "{why}");
        let (why, retry) = judge(200, None, "<html>", &mut rec);
        assert!(retry.is_none() && why.contains("not JSON"), "{why}");
        // An error inside a 200 body follows its own code.
        let (why, retry) = judge(200, None, r#"{"error":{"code":502,"message":"provider down"}}"#, &mut rec);
        assert_eq!(retry, Some(two), "{why}");
        let (why, retry) = judge(200, None, r#"{"error":{"code":402,"message":"Insufficient credits"}}"#, &mut rec);
        assert!(retry.is_none() && is_fatal(&why), "{why}");
        let (why, _) = judge(400, None, r#"{"error":{"message":"Invalid model 'x'.","type":"invalid_model","code":400}}"#, &mut rec);
        assert!(is_fatal(&why), "an unknown model stops the run: {why}");
    }
}
