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

use std::{
    collections::HashMap,
    num::NonZeroU32,
    sync::{Arc, Mutex, OnceLock},
    time::Duration,
};

use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};
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
    pub provider: &'static str,
    pub model: String,
    pub attempt: i64,
    pub request: String,
    pub response: Option<String>,
    pub http_status: Option<i64>,
    pub error: Option<String>,
    pub prompt_tokens: i64,
    pub completion_tokens: i64,
    pub cost_usd: f64,
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
        }
    }

    pub fn with_header(mut self, name: &'static str, value: impl Into<String>) -> Self {
        self.headers.push((name, value.into()));
        self
    }

    /// A chat completion with the retry policy; every attempt is appended to `log`.
    pub async fn chat(&self, messages: &[Message], max_tokens: u32, temperature: f32, log: &mut Vec<CallRecord>) -> Result<Answer, AiError> {
        let body = json!({"model": self.model, "messages": messages, "max_tokens": max_tokens, "temperature": temperature});
        let request = body.to_string();
        let url = format!("{}/chat/completions", self.base);
        let mut last = String::new();
        for attempt in 0..self.policy.attempts {
            self.limiter.until_ready().await;
            let started = std::time::Instant::now();
            let mut record = CallRecord { provider: self.name, model: self.model.clone(), attempt: i64::from(attempt) + 1, request: request.clone(), ..Default::default() };
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
                    self.judge(status, retry_after, &text, backoff, &mut record)
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
            return Err(refusal(status, &message));
        }
        let Some(v) = parsed else {
            return Err((format!("{} answered something that is not JSON: {}", self.label, text.chars().take(120).collect::<String>()), None));
        };
        // An error after the 200 (OpenRouter): judged by the code inside.
        if let Some(err) = v.get("error").filter(|e| !e.is_null()) {
            let code = err.get("code").and_then(|c| c.as_u64().or_else(|| c.as_str().and_then(|s| s.parse().ok()))).unwrap_or(500) as u16;
            let message = err.get("message").and_then(Value::as_str).unwrap_or("no message").to_owned();
            return Err(refusal(code, &message));
        }
        if let Some(usage) = v.get("usage") {
            record.prompt_tokens = usage.get("prompt_tokens").and_then(Value::as_i64).unwrap_or(0);
            record.completion_tokens = usage.get("completion_tokens").and_then(Value::as_i64).unwrap_or(0);
            // Perplexity: usage.cost.total_cost; OpenRouter (usage accounting): usage.cost.
            record.cost_usd = usage.pointer("/cost/total_cost").or_else(|| usage.get("cost")).and_then(Value::as_f64).unwrap_or(0.0);
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
        assert_eq!((rec.prompt_tokens, rec.completion_tokens, rec.cost_usd), (10, 5, 0.005));
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
