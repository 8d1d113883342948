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
    #[error(
        "This client's Email Bison key reads workspace {found}, not workspace {expected} saved for this client, so nothing was imported or sent. \
         A super-admin key follows its user's current workspace: switch back to workspace {expected} in Email Bison, or save an api-user key made inside it."
    )]
    WrongWorkspace { expected: String, found: String },
    #[error("No Email Bison workspace id is saved for this client, so the key's workspace can't be verified: save the credentials again on the client's page.")]
    Unbound,
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

/// What a key can see: its user and the Email Bison workspace it reads.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct KeyIdentity {
    pub workspace_id: Option<String>,
    pub workspace_name: Option<String>,
    pub user_email: Option<String>,
}

impl KeyIdentity {
    /// Reads the user of `GET /api/users` (an object, or a list holding it). Email Bison is a
    /// Laravel team application: the current workspace is `current_team_id` (or a `team` /
    /// `workspace` object, as some instances answer).
    fn from_user(body: &Value) -> KeyIdentity {
        let data = body.get("data").unwrap_or(body);
        let user = match data {
            Value::Array(items) => items.first().unwrap_or(&Value::Null),
            other => other,
        };
        let nested = ["current_team", "team", "current_workspace", "workspace"].iter().find_map(|k| user.get(*k).filter(|v| v.is_object()));
        let workspace_id = ["current_team_id", "current_workspace_id", "team_id", "workspace_id"]
            .iter()
            .find_map(|k| user.get(*k).and_then(id_text))
            .or_else(|| nested.and_then(|t| t.get("id")).and_then(id_text));
        let workspace_name = nested
            .and_then(|t| t.get("name"))
            .or_else(|| user.get("current_team_name"))
            .or_else(|| user.get("team_name"))
            .and_then(Value::as_str)
            .map(str::to_owned);
        let user_email = user.get("email").and_then(Value::as_str).map(str::to_owned);
        KeyIdentity { workspace_id, workspace_name, user_email }
    }

    /// "7 (Acme Roofing)", for messages.
    pub fn workspace_label(&self) -> String {
        match (&self.workspace_id, &self.workspace_name) {
            (Some(id), Some(name)) => format!("{id} ({name})"),
            (Some(id), None) => id.clone(),
            _ => "an unknown workspace".into(),
        }
    }
}

/// A non-empty id from a number or a string.
fn id_text(v: &Value) -> Option<String> {
    match v {
        Value::Number(n) => Some(n.to_string()),
        Value::String(s) if !s.trim().is_empty() => Some(s.trim().to_owned()),
        _ => None,
    }
}

/// An id as one path segment: digits and letters pass, anything else is refused by encoding it.
fn urlencoding_path(id: &str) -> String {
    id.bytes().map(|b| if b.is_ascii_alphanumeric() || b == b'-' || b == b'_' { (b as char).to_string() } else { format!("%{b:02X}") }).collect()
}

/// The words of an error body: Laravel's `message`, then each field's first complaint of its
/// `errors` map ("The leads.12.last_name field is required."), so callers can tell which item.
fn error_message(text: &str) -> String {
    let Ok(v) = serde_json::from_str::<Value>(text) else { return text.chars().take(300).collect() };
    let mut out = v.get("message").and_then(Value::as_str).unwrap_or("").to_owned();
    if let Some(errors) = v.get("errors").and_then(Value::as_object) {
        for complaints in errors.values() {
            let first = complaints.as_array().and_then(|a| a.first()).or(Some(complaints)).and_then(Value::as_str);
            if let Some(c) = first.filter(|c| !out.contains(*c)) {
                out.push_str(if out.is_empty() { "" } else { " " });
                out.push_str(c);
            }
        }
    }
    if out.is_empty() {
        text.chars().take(300).collect()
    } else {
        out
    }
}

/// Email Bison answers a valid key asking for a record of another workspace with an auth error
/// (401/403) whose message says so: "api key does not match the workspace the record is on"
/// (docs/integrations.md, Email Bison). Any other auth error is the key itself being refused.
fn another_workspaces_record(auth_message: &str) -> bool {
    auth_message.to_ascii_lowercase().contains("does not match the workspace")
}

/// The leads a bulk-create refusal names: (position in the call, field), from texts such as
/// "The leads.12.last_name field is required." Positions are 0-based, as Email Bison counts.
pub fn rejected_positions(message: &str) -> Vec<(usize, String)> {
    let mut out = Vec::new();
    for (at, _) in message.match_indices("leads.") {
        let rest = &message[at + "leads.".len()..];
        let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
        let Ok(position) = digits.parse::<usize>() else { continue };
        let field: String = rest[digits.len()..].strip_prefix('.').unwrap_or("").chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '_').collect();
        if !out.iter().any(|(p, f)| *p == position && *f == field) {
            out.push((position, field));
        }
    }
    out
}

#[derive(Deserialize)]
struct Page<T> {
    data: Vec<T>,
    #[serde(default)]
    meta: Option<Meta>,
}

/// The settings `PATCH /api/campaigns/{id}/update` resets when they are left out.
const CAMPAIGN_SETTINGS: &[&str] = &[
    "max_emails_per_day",
    "max_new_leads_per_day",
    "plain_text",
    "open_tracking",
    "can_unsubscribe",
    "include_auto_replies_in_stats",
    "sequence_prioritization",
];

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
                    let message = || error_message(&text);
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

    /// Who the key belongs to and which Email Bison workspace it reads now. A super-admin key
    /// follows its user's *current* workspace, so this is asked again before every import.
    /// `GET /api/users` names the user (and, on the instances seen, its current workspace); when
    /// it does not, a key that sees exactly one workspace (`GET /api/workspaces/v1.1`) reads that one.
    pub async fn identity(&self) -> Result<KeyIdentity, BisonError> {
        let v = self.call(reqwest::Method::GET, "/api/users", &[], None).await?;
        let mut identity = KeyIdentity::from_user(&v);
        if identity.workspace_id.is_none() {
            let list = self.call(reqwest::Method::GET, "/api/workspaces/v1.1", &[], None).await.unwrap_or(Value::Null);
            if let Some([only]) = list.get("data").and_then(Value::as_array).map(Vec::as_slice) {
                identity.workspace_id = only.get("id").and_then(id_text);
                identity.workspace_name = only.get("name").and_then(Value::as_str).map(str::to_owned);
            }
        }
        if identity.workspace_id.is_none() {
            return Err(BisonError::Unexpected(
                "it did not say which workspace this key reads (GET /api/users); use an api-user key made inside the client's Email Bison workspace".into(),
            ));
        }
        Ok(identity)
    }

    /// The key's identity, if it reads `expected` — the Email Bison workspace saved for the client.
    /// Asked before anything is imported from or sent to Email Bison.
    pub async fn ensure_reads(&self, expected: Option<&str>) -> Result<KeyIdentity, BisonError> {
        let expected = expected.map(str::trim).filter(|e| !e.is_empty()).ok_or(BisonError::Unbound)?;
        let identity = self.identity().await?;
        if identity.workspace_id.as_deref() == Some(expected) {
            Ok(identity)
        } else {
            Err(BisonError::WrongWorkspace { expected: expected.to_owned(), found: identity.workspace_label() })
        }
    }

    /// One campaign (`GET /api/campaigns/{id}`); `None` when the key's workspace has no such
    /// campaign (404, or another workspace's). A key Email Bison refuses outright (revoked,
    /// invalid: "Unauthenticated.") is the `Auth` error, so the sync fails saying so.
    pub async fn campaign(&self, id: &str) -> Result<Option<Campaign>, BisonError> {
        let path = format!("/api/campaigns/{}", urlencoding_path(id));
        match self.call(reqwest::Method::GET, &path, &[], None).await {
            Ok(v) => {
                let data = v.get("data").cloned().unwrap_or(v);
                serde_json::from_value(data).map(Some).map_err(|e| BisonError::Unexpected(format!("{path}: {e}")))
            }
            Err(BisonError::Invalid(m)) if m.ends_with("(404)") => Ok(None),
            Err(BisonError::Auth(m)) if another_workspaces_record(&m) => Ok(None),
            Err(e) => Err(e),
        }
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

    /// Renames a campaign (`PATCH /api/campaigns/{id}/update`). That call is not partial: a
    /// setting left out is reset to its default, so the campaign's current settings are read
    /// first and sent back unchanged beside the new name.
    pub async fn rename_campaign(&self, id: &str, name: &str) -> Result<(), BisonError> {
        let path = format!("/api/campaigns/{}", urlencoding_path(id));
        let current = self.call(reqwest::Method::GET, &path, &[], None).await?;
        let current = current.get("data").cloned().unwrap_or(current);
        let mut body = serde_json::Map::new();
        for key in CAMPAIGN_SETTINGS {
            if let Some(v) = current.get(*key).filter(|v| !v.is_null()) {
                body.insert((*key).to_owned(), v.clone());
            }
        }
        body.insert("name".into(), Value::from(name));
        self.call(reqwest::Method::PATCH, &format!("{path}/update"), &[], Some(&Value::Object(body))).await.map(|_| ())
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
    use serde_json::json;

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

    #[test]
    fn a_key_names_the_workspace_it_reads_in_any_of_the_shapes_seen() {
        let id = |v: Value| KeyIdentity::from_user(&v).workspace_id;
        assert_eq!(id(json!({"data": {"id": 1, "email": "a@b.test", "current_team_id": 7}})), Some("7".into()));
        assert_eq!(id(json!({"data": [{"id": 1, "team": {"id": "9", "name": "Oak"}}]})), Some("9".into()));
        assert_eq!(id(json!({"data": {"id": 1, "workspace": {"id": 3}}})), Some("3".into()));
        assert_eq!(id(json!({"data": {"id": 1, "email": "a@b.test"}})), None, "the user's own id is not a workspace");
        let full = KeyIdentity::from_user(&json!({"data": {"email": "ops@agency.test", "current_team": {"id": 7, "name": "Acme"}}}));
        assert_eq!((full.workspace_label(), full.user_email.as_deref()), ("7 (Acme)".to_string(), Some("ops@agency.test")));
    }

    #[test]
    fn a_refused_bulk_create_says_which_leads() {
        let text = r#"{"message":"The leads.12.last_name field is required. (and 2 more errors)","errors":{"leads.12.last_name":["The leads.12.last_name field is required."],"leads.3.email":["The leads.3.email field must be a valid email address."],"leads.12.first_name":["The leads.12.first_name field is required."]}}"#;
        let message = error_message(text);
        assert!(message.contains("leads.3.email") && message.contains("leads.12.first_name"), "{message}");
        let mut named = rejected_positions(&message);
        named.sort();
        assert_eq!(named, vec![(3, "email".to_string()), (12, "first_name".to_string()), (12, "last_name".to_string())]);
        assert_eq!(rejected_positions("No leads were added"), vec![]);
        assert_eq!(urlencoding_path("42"), "42");
        assert_eq!(urlencoding_path("../x"), "%2E%2E%2Fx");
    }
}
