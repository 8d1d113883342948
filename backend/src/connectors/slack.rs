//! The Slack incoming-webhook client: one post of a message (mrkdwn section plus plain text),
//! and what the answer means — sent, retry (after `Retry-After` on 429), or refused for good.

use std::time::Duration;

use crate::platform::http_retry::retry_after_secs;

/// What one post attempt came to.
#[derive(Debug, PartialEq)]
pub enum Posted {
    Ok,
    RetryAfter(Duration),
    Retry(String),
    Refused(String),
}

pub async fn post(http: &reqwest::Client, url: &str, text: &str) -> Posted {
    let body = serde_json::json!({ "text": text, "blocks": [{ "type": "section", "text": { "type": "mrkdwn", "text": text } }] });
    match http.post(url).json(&body).send().await {
        Err(e) => Posted::Retry(format!("could not reach Slack: {}", e.without_url())),
        Ok(res) => {
            let status = res.status();
            let retry_after = retry_after_secs(res.headers());
            let text = res.text().await.unwrap_or_default();
            match status.as_u16() {
                200..=299 => Posted::Ok,
                429 => Posted::RetryAfter(Duration::from_secs_f64(retry_after.unwrap_or(30.0).min(3600.0))),
                500..=599 => Posted::Retry(format!("Slack answered {status}: {text}")),
                _ => Posted::Refused(format!("Slack refused the message ({status}): {text}")),
            }
        }
    }
}
