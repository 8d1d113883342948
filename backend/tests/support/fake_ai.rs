#![allow(dead_code)] // each test binary uses a part
//! Local fakes of Perplexity and OpenRouter (`POST …/chat/completions`, OpenAI shape), on one
//! port: `{base}/perplexity` and `{base}/openrouter`. Latency and a share of 429s (with or
//! without `Retry-After`) can be set; scripted answers (status, body, a hang) are served first, per
//! provider. Research names the company; the writer's line uses only the lead's company, so it
//! passes Maverick's checks. Used by the tests and the personalization benchmark.
//!
//! Usage and cost as the real services answer them: Perplexity's `usage.cost.total_cost` always;
//! OpenRouter's `usage.cost` only when the request asked for usage accounting
//! (`"usage": {"include": true}`), and its model prices at `GET {base}/openrouter/models`.

use std::{
    collections::{HashMap, VecDeque},
    sync::{Arc, Mutex},
    time::Duration,
};

use axum::{
    extract::{Path, State},
    http::StatusCode,
    response::{IntoResponse, Response},
    routing::post,
    Json, Router,
};
use serde_json::{json, Value};

#[derive(Clone, Debug)]
pub enum Scripted {
    /// Answer with this status, optional `Retry-After` seconds, and body.
    Status(u16, Option<u64>, String),
    /// Take this long before answering normally (a client timeout).
    Hang(Duration),
}

#[derive(Default)]
pub struct FakeAi {
    /// Mean latency and ± jitter, in milliseconds.
    pub latency_ms: (u64, u64),
    /// Share of calls answered 429…
    pub share_429: f64,
    /// …with `Retry-After: N` from these providers (none from the others).
    pub retry_after_429: Vec<(&'static str, u64)>,
    pub script: Mutex<HashMap<String, VecDeque<Scripted>>>,
    pub calls: Mutex<HashMap<String, usize>>,
    /// The writer's requests (messages), for assertions on prompts.
    pub writer_requests: Mutex<Vec<Value>>,
    /// The writer answers with a line this long first (to test regeneration), once per lead.
    pub first_line_too_long: bool,
    pub seen: Mutex<HashMap<String, usize>>,
    /// OpenRouter leaves `usage.cost` out even when asked (a gateway that ignores accounting).
    pub ignore_usage_accounting: bool,
    /// OpenRouter's `/models` answers 503.
    pub models_down: bool,
}

/// The fake OpenRouter's usage: 1200 + 300 tokens; with accounting, a cost of $0.0084 (on
/// purpose not the list price, $0.0081, so a test can tell where a cost came from).
pub const OPENROUTER_TOKENS: (i64, i64) = (1200, 300);
pub const OPENROUTER_COST: f64 = 0.0084;
/// Perplexity's `usage.cost.total_cost` per call.
pub const PERPLEXITY_COST: f64 = 0.005;

impl FakeAi {
    pub fn script(&self, provider: &str, steps: impl IntoIterator<Item = Scripted>) {
        self.script.lock().unwrap().entry(provider.to_owned()).or_default().extend(steps);
    }

    pub fn calls(&self, provider: &str) -> usize {
        self.calls.lock().unwrap().get(provider).copied().unwrap_or(0)
    }
}

fn company_of(body: &Value) -> String {
    // Both prompts carry a "company: X" or "Company: X" line in a user message.
    let messages = body["messages"].as_array().cloned().unwrap_or_default();
    messages
        .iter()
        .filter(|m| m["role"] == "user")
        .filter_map(|m| m["content"].as_str())
        .flat_map(str::lines)
        .find_map(|l| l.strip_prefix("company: ").or_else(|| l.strip_prefix("Company: ")))
        .unwrap_or("the company")
        .trim()
        .to_owned()
}

async fn chat(Path(provider): Path<String>, State(fake): State<Arc<FakeAi>>, Json(body): Json<Value>) -> Response {
    *fake.calls.lock().unwrap().entry(provider.clone()).or_default() += 1;
    let step = fake.script.lock().unwrap().get_mut(&provider).and_then(VecDeque::pop_front);
    let (mean, jitter) = fake.latency_ms;
    let wait = if jitter > 0 { mean - jitter + rand::random::<u64>() % (2 * jitter + 1) } else { mean };
    tokio::time::sleep(Duration::from_millis(wait)).await;
    match step {
        Some(Scripted::Status(code, retry_after, body)) => {
            let mut res = (StatusCode::from_u16(code).unwrap(), body).into_response();
            res.headers_mut().insert("content-type", "application/json".parse().unwrap());
            if let Some(s) = retry_after {
                res.headers_mut().insert("retry-after", s.to_string().parse().unwrap());
            }
            return res;
        }
        Some(Scripted::Hang(d)) => tokio::time::sleep(d).await,
        None => {}
    }
    if fake.share_429 > 0.0 && rand::random::<f64>() < fake.share_429 {
        let mut res = (StatusCode::TOO_MANY_REQUESTS, Json(json!({"error": {"code": 429, "message": "Rate limit exceeded"}}))).into_response();
        if let Some((_, s)) = fake.retry_after_429.iter().find(|(p, _)| *p == provider) {
            res.headers_mut().insert("retry-after", s.to_string().parse().unwrap());
        }
        return res;
    }
    let company = company_of(&body);
    let usage = if provider == "perplexity" {
        json!({"prompt_tokens": 120, "completion_tokens": 30, "total_tokens": 150, "search_context_size": "low",
               "cost": {"input_tokens_cost": 0.00012, "output_tokens_cost": 0.00003, "request_cost": 0.00485, "total_cost": PERPLEXITY_COST}})
    } else {
        let (prompt, completion) = OPENROUTER_TOKENS;
        let mut usage = json!({"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion});
        if body.pointer("/usage/include") == Some(&Value::Bool(true)) && !fake.ignore_usage_accounting {
            usage["cost"] = json!(OPENROUTER_COST);
        }
        usage
    };
    let content = if provider == "perplexity" {
        format!("- {company} serves homeowners and businesses.\n- {company} expanded its team this year.")
    } else {
        fake.writer_requests.lock().unwrap().push(body.clone());
        let first = {
            let mut seen = fake.seen.lock().unwrap();
            let n = seen.entry(company.clone()).or_default();
            *n += 1;
            *n == 1
        };
        if fake.first_line_too_long && first {
            json!({"personalized_sentence": vec!["very"; 30].join(" ")}).to_string()
        } else {
            json!({"personalized_sentence": format!("Seeing {company} expand its team this year caught my eye.")}).to_string()
        }
    };
    let mut answer = json!({
        "id": "gen-1", "model": body["model"], "object": "chat.completion", "created": 1_700_000_000,
        "choices": [{"index": 0, "finish_reason": "stop", "message": {"role": "assistant", "content": content}}],
        "usage": usage,
    });
    if provider == "perplexity" {
        answer["search_results"] = json!([{"title": company, "url": "https://example.test/about", "snippet": "…"}]);
    }
    Json(answer).into_response()
}

/// OpenRouter's model list: prices per token as decimal strings ("-1": varies).
async fn models(Path(provider): Path<String>, State(fake): State<Arc<FakeAi>>) -> Response {
    *fake.calls.lock().unwrap().entry(format!("{provider}/models")).or_default() += 1;
    if provider != "openrouter" {
        return (StatusCode::NOT_FOUND, "not found").into_response();
    }
    if fake.models_down {
        return (StatusCode::SERVICE_UNAVAILABLE, Json(json!({"error": {"code": 503, "message": "unavailable"}}))).into_response();
    }
    Json(json!({"data": [
        {"id": "openrouter/auto", "name": "Auto Router", "pricing": {"prompt": "-1", "completion": "-1"}},
        {"id": "anthropic/claude-sonnet-4.5", "name": "Anthropic: Claude Sonnet 4.5", "context_length": 1_000_000,
         "pricing": {"prompt": "0.000003", "completion": "0.000015", "request": "0", "image": "0.0048", "web_search": "0", "internal_reasoning": "0",
                     "input_cache_read": "0.0000003", "input_cache_write": "0.00000375"}},
        {"id": "anthropic/claude-3.5-sonnet", "pricing": {"prompt": "0.000006", "completion": "0.00003"}},
    ]}))
    .into_response()
}

/// Starts the fakes; returns the base URL (`{base}/perplexity`, `{base}/openrouter`).
pub async fn start(fake: Arc<FakeAi>) -> String {
    let app = Router::new().route("/{provider}/chat/completions", post(chat)).route("/{provider}/models", axum::routing::get(models)).with_state(fake);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    format!("http://{addr}")
}
