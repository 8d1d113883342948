//! The outbound HTTP retry policy every connector shares: how many attempts, the exponential
//! backoff between them, how long a `Retry-After` may make us wait, and the request timeout.

use std::time::Duration;

/// How a client waits and retries.
#[derive(Clone, Debug)]
pub struct RetryPolicy {
    /// Attempts per request (the first included).
    pub attempts: u32,
    /// First backoff; doubled each retry.
    pub base_delay: Duration,
    /// `Retry-After` values above this are capped.
    pub max_retry_after: Duration,
    pub timeout: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy { attempts: 4, base_delay: Duration::from_secs(1), max_retry_after: Duration::from_secs(60), timeout: Duration::from_secs(30) }
    }
}

impl RetryPolicy {
    /// The wait before retry number `attempt + 1` when the service said nothing: base × 2^attempt.
    pub fn backoff(&self, attempt: u32) -> Duration {
        self.base_delay * 2u32.pow(attempt)
    }
}

/// The `Retry-After` header in seconds (fractions allowed), if the answer carries a readable one.
pub fn retry_after_secs(headers: &reqwest::header::HeaderMap) -> Option<f64> {
    headers
        .get(reqwest::header::RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<f64>().ok())
        .filter(|s| s.is_finite() && *s >= 0.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_is_read_in_seconds_and_backoff_doubles() {
        let mut h = reqwest::header::HeaderMap::new();
        assert_eq!(retry_after_secs(&h), None);
        h.insert("retry-after", "1.5".parse().unwrap());
        assert_eq!(retry_after_secs(&h), Some(1.5));
        h.insert("retry-after", "-3".parse().unwrap());
        assert_eq!(retry_after_secs(&h), None);
        let p = RetryPolicy { base_delay: Duration::from_millis(100), ..Default::default() };
        assert_eq!((p.backoff(0), p.backoff(3)), (Duration::from_millis(100), Duration::from_millis(800)));
    }
}
