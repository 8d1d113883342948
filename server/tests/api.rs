//! REST v1 over real HTTP on both backends: every documented operation attacked as a stranger and
//! as a token of another workspace, every operation answering only what its document says (no
//! 500, problem+json errors), idempotency keys, the rate limit, leads and contacts pushed in,
//! events polled, a webhook endpoint delivering to a receiver, trace ids, metrics, and the CLI.

mod common;

use std::{collections::BTreeSet, net::SocketAddr, sync::Arc, time::Duration};

use backend::{
    identity::sessions::SessionUser,
    identity::users::Role,
    tenancy::api_tokens::{self, NewToken, TokenScope},
};
use reqwest::{Client, Method};
use serde_json::{json, Value};

fn user(id: i64, role: Role) -> SessionUser {
    SessionUser { session_id: 0, user_id: id, email: format!("u{id}@test"), display_name: format!("User {id}"), role }
}

async fn token(srv: &common::TestServer, user_id: i64, role: Role, ws: Option<i64>, scope: TokenScope) -> String {
    let new = NewToken { name: "test".into(), workspace_id: ws, scope, expires_in_days: None };
    api_tokens::create(&srv.state.db, &user(user_id, role), &new, chrono::Utc::now()).await.unwrap().1
}

fn http() -> Client {
    Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap()
}

async fn call(srv: &common::TestServer, method: Method, path: &str, bearer: Option<&str>, body: Option<Value>, headers: &[(&str, &str)]) -> (u16, reqwest::header::HeaderMap, String) {
    let mut req = http().request(method, srv.url(path));
    if let Some(t) = bearer {
        req = req.bearer_auth(t);
    }
    if let Some(b) = body {
        req = req.json(&b);
    }
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    let res = req.send().await.unwrap();
    let (status, headers) = (res.status().as_u16(), res.headers().clone());
    (status, headers, res.text().await.unwrap())
}

/// Every operation of the document: (method, path template, documented statuses).
fn operations() -> Vec<(Method, String, BTreeSet<u16>)> {
    let doc = serde_json::to_value(server::api::openapi()).unwrap();
    let mut ops = Vec::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            let statuses = op["responses"].as_object().unwrap().keys().map(|k| k.parse().unwrap()).collect();
            ops.push((method.to_uppercase().parse().unwrap(), path.clone(), statuses));
        }
    }
    ops
}

/// A path template filled with workspace B's slug and made-up ids.
fn filled(template: &str) -> String {
    template.replace("{slug}", "beta-secret").replace("{id}", "1").replace("{delivery}", "1")
}

#[tokio::test]
async fn the_document_covers_every_route_and_every_source_route_is_documented() {
    let ops = operations();
    assert!(ops.len() >= 28, "{} operations", ops.len());
    // Routes can only be added through `routes!` (which documents them): no bare `.route(` in
    // the API's files except the document and its page.
    for entry in std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/src/api")).unwrap() {
        let path = entry.unwrap().path();
        let text = std::fs::read_to_string(&path).unwrap();
        for line in text.lines().filter(|l| l.contains(".route(")) {
            assert!(line.contains("openapi.json") || line.contains("/api/docs"), "{}: an undocumented route: {line}", path.display());
        }
    }
    let srv = common::start().await;
    let (status, _, body) = call(&srv, Method::GET, "/api/v1/openapi.json", None, None, &[]).await;
    assert_eq!(status, 200);
    let doc: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(doc["openapi"].as_str().unwrap().get(..3), Some("3.1"));
    for schema in ["LeadData", "StageChangedData", "EventEnvelope", "Problem"] {
        assert!(doc["components"]["schemas"][schema].is_object(), "{schema} is published");
    }
    // Every reference resolves (a fuzzer skips what it can't resolve; a client generator fails).
    let text = doc.to_string();
    for reference in text.split("\"#/components/schemas/").skip(1) {
        let name = &reference[..reference.find('"').unwrap()];
        assert!(doc["components"]["schemas"][name].is_object(), "the document refers to {name} but does not define it");
    }
    let (status, _, page) = call(&srv, Method::GET, "/api/docs", None, None, &[]).await;
    assert_eq!(status, 200);
    assert!(page.contains("/vendor/swagger-ui/swagger-ui-bundle.js") && !page.contains("https://"), "docs assets come from our host");
}

#[test]
fn the_documented_event_type_names_are_the_catalog_s_public_ones() {
    let documented: BTreeSet<String> = server::api::endpoints::EventTypeName::ALL.iter().map(|t| t.name()).collect();
    let catalog: BTreeSet<String> =
        backend::platform::event_catalog::catalog().iter().map(|e| e.name.to_owned()).filter(|n| backend::platform::event_catalog::is_public(n)).collect();
    assert_eq!(documented, catalog);
}

#[tokio::test]
async fn every_operation_refuses_strangers_and_tokens_of_another_workspace_and_leaks_nothing() {
    let srv = common::start().await;
    let fx = &srv.fx;
    let a_write = token(&srv, fx.client_a_id, Role::Client, Some(fx.ws_a), TokenScope::Write).await;
    let admin_a = token(&srv, fx.admin_id, Role::Admin, Some(fx.ws_a), TokenScope::Write).await;
    let admin_read_agency = token(&srv, fx.admin_id, Role::Admin, None, TokenScope::Read).await;
    for (method, template, _) in operations() {
        let path = filled(&template);
        let body = matches!(method, Method::POST | Method::PUT).then(|| json!({}));
        let (status, headers, text) = call(&srv, method.clone(), &path, None, body.clone(), &[]).await;
        assert_eq!(status, 401, "no token: {method} {path}");
        assert_eq!(headers["content-type"], "application/problem+json");
        let (status, _, text2) = call(&srv, method.clone(), &path, Some("mvk_made-up-token"), body.clone(), &[]).await;
        assert_eq!(status, 401, "a forged token: {method} {path}");
        for (who, t) in [("client A write token", &a_write), ("admin's token for A", &admin_a), ("admin's agency read token", &admin_read_agency)] {
            let (status, _, text3) = call(&srv, method.clone(), &path, Some(t), body.clone(), &[]).await;
            let agency_route = !template.contains("{slug}");
            let expected: &[u16] = match (who, agency_route) {
                // Catalog and the list of own workspaces are for any token.
                (_, true) if template == "/api/v1/event-types" || template == "/api/v1/workspaces" => &[200],
                // Agency endpoints need an admin's agency *write* token.
                (_, true) => &[403],
                // B's workspace: not found, for every workspace token and for an agency read token
                // of an admin it is visible, so only its writes are refused.
                ("admin's agency read token", false) => &[200, 400, 403, 404],
                _ => &[404],
            };
            assert!(expected.contains(&status), "{who}: {method} {path} answered {status}: {text3}");
            if who != "admin's agency read token" {
                // (The path the caller sent comes back as the problem's `instance`.)
                for marker in common::B_MARKERS.iter().filter(|m| !path.contains(**m)) {
                    assert!(!text3.contains(marker), "{who}: {method} {path} leaked {marker}");
                }
            }
        }
        let _ = (text, text2);
    }
}

#[tokio::test]
async fn every_operation_answers_only_what_its_document_says_even_to_nonsense() {
    let srv = common::start().await;
    let fx = &srv.fx;
    let admin_agency = token(&srv, fx.admin_id, Role::Admin, None, TokenScope::Write).await;
    let nonsense: Vec<Option<Value>> = vec![
        None,
        Some(json!({})),
        Some(json!([])),
        Some(json!({"email": 5, "url": "ftp://x", "stage": "moon", "contacts": "no", "since": "yesterday", "overlap_hours": -4})),
        Some(json!({"contacts": [{"email": "not-an-email"}], "url": "http://127.0.0.1/x", "stage": "won", "body": ""})),
    ];
    for (method, template, documented) in operations() {
        for path in [template.replace("{slug}", "acme-roofing").replace("{id}", "999999").replace("{delivery}", "999999"), template.replace("{slug}", "%00").replace("{id}", "-1").replace("{delivery}", "x")] {
            for body in &nonsense {
                let (status, headers, text) = call(&srv, method.clone(), &path, Some(&admin_agency), body.clone(), &[]).await;
                assert_ne!(status, 500, "{method} {path} {body:?}: {text}");
                assert!(documented.contains(&status), "{method} {path} with {body:?} answered {status}, not in its document {documented:?}: {text}");
                if status >= 400 {
                    assert_eq!(headers["content-type"], "application/problem+json", "{method} {path}");
                    let p: Value = serde_json::from_str(&text).unwrap();
                    assert_eq!(p["status"], status);
                    assert!(!p["request_id"].as_str().unwrap().is_empty());
                }
            }
        }
    }
}

#[tokio::test]
async fn idempotency_keys_replay_refuse_a_changed_payload_and_a_malformed_key_and_wait_for_the_first() {
    let srv = common::start().await;
    let fx = &srv.fx;
    let t = token(&srv, fx.client_a_id, Role::Client, Some(fx.ws_a), TokenScope::Write).await;
    let path = "/api/v1/workspaces/acme-roofing/leads";
    let lead = json!({"email": "new@lead.test", "first_name": "Nia"});
    let key = [("idempotency-key", "\"k-1\"")];
    let (s1, h1, b1) = call(&srv, Method::POST, path, Some(&t), Some(lead.clone()), &key).await;
    assert_eq!(s1, 201, "{b1}");
    assert!(h1.get("idempotent-replayed").is_none());
    let (s2, h2, b2) = call(&srv, Method::POST, path, Some(&t), Some(lead.clone()), &key).await;
    assert_eq!((s2, b2.as_str()), (201, b1.as_str()), "the first answer again");
    assert_eq!(h2["idempotent-replayed"], "true");
    let count: i64 = backend::on_db!(&srv.state.db, |pool| sqlx::query_scalar("SELECT COUNT(*) FROM leads WHERE email = 'new@lead.test'").fetch_one(pool).await).unwrap();
    assert_eq!(count, 1, "one lead");
    let (s3, _, b3) = call(&srv, Method::POST, path, Some(&t), Some(json!({"email": "other@lead.test"})), &key).await;
    assert_eq!(s3, 422, "{b3}");
    let (s4, _, _) = call(&srv, Method::POST, path, Some(&t), Some(lead.clone()), &[("idempotency-key", "\"unterminated")]).await;
    assert_eq!(s4, 400);
    // Keys are per token: another token's same key is a new request.
    let t2 = token(&srv, fx.admin_id, Role::Admin, Some(fx.ws_a), TokenScope::Write).await;
    let (s5, _, _) = call(&srv, Method::POST, path, Some(&t2), Some(json!({"email": "third@lead.test"})), &key).await;
    assert_eq!(s5, 201);
    // While a first request holds the key: 409.
    let caller = api_tokens::authenticate(&srv.state.db, &t, chrono::Utc::now()).await.unwrap();
    let body = serde_json::to_vec(&json!({"email": "busy@lead.test"})).unwrap();
    let fp = backend::platform::idempotency::fingerprint("POST", path, &body);
    let claim = backend::platform::idempotency::claim(&srv.state.db, caller.token.id, "k-busy", &fp, chrono::Duration::hours(24), chrono::Utc::now()).await.unwrap();
    assert!(matches!(claim, backend::platform::idempotency::Claim::Mine { .. }));
    let res = http().post(srv.url(path)).bearer_auth(&t).header("idempotency-key", "k-busy").header("content-type", "application/json").body(body).send().await.unwrap();
    assert_eq!(res.status(), 409);
}

#[tokio::test]
async fn a_token_over_its_rate_gets_429_with_retry_after_and_the_ratelimit_headers() {
    let srv = common::start_with(|c| c.integrations.api_rate_per_minute = 3).await;
    let t = token(&srv, srv.fx.admin_id, Role::Admin, None, TokenScope::Read).await;
    let mut last = None;
    for i in 0..4 {
        let (status, headers, _) = call(&srv, Method::GET, "/api/v1/workspaces", Some(&t), None, &[]).await;
        assert_eq!(headers["ratelimit-limit"], "3");
        last = Some((status, headers));
        if i < 3 {
            assert_eq!(last.as_ref().unwrap().0, 200);
        }
    }
    let (status, headers) = last.unwrap();
    // A fresh window may have started between the calls; then the fourth passes. Otherwise 429.
    if status == 429 {
        assert_eq!(headers["ratelimit-remaining"], "0");
        let wait: u64 = headers["retry-after"].to_str().unwrap().parse().unwrap();
        assert!((1..=60).contains(&wait));
    } else {
        assert_eq!(status, 200);
    }
}

#[tokio::test]
async fn leads_go_in_move_get_notes_and_come_back_in_pages_and_as_events_with_the_trace_id() {
    let srv = common::start().await;
    let fx = &srv.fx;
    let t = token(&srv, fx.client_a_id, Role::Client, Some(fx.ws_a), TokenScope::Write).await;
    let base = "/api/v1/workspaces/acme-roofing";
    let trace = "0af7651916cd43dd8448eb211c80319c";
    let tp = format!("00-{trace}-b7ad6b7169203331-01");
    let (s, h, body) = call(&srv, Method::POST, &format!("{base}/leads"), Some(&t), Some(json!({"email": " Dana@Example.com ", "company": "Reyes Homes"})), &[("traceparent", &tp)]).await;
    assert_eq!(s, 201, "{body}");
    assert!(h["traceresponse"].to_str().unwrap().contains(trace));
    let lead: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(lead["email"], "dana@example.com");
    assert_eq!(lead["stage"], "new");
    let id = lead["id"].as_i64().unwrap();
    let (s, _, body) = call(&srv, Method::POST, &format!("{base}/leads"), Some(&t), Some(json!({"email": "dana@example.com"})), &[]).await;
    assert_eq!(s, 409, "{body}");
    let (s, _, body) = call(&srv, Method::POST, &format!("{base}/leads/{id}/stage"), Some(&t), Some(json!({"stage": "won", "deal_value_cents": 250000})), &[]).await;
    assert_eq!(s, 200, "{body}");
    assert_eq!(serde_json::from_str::<Value>(&body).unwrap()["deal_value_cents"], 250000);
    let (s, _, _) = call(&srv, Method::POST, &format!("{base}/leads/{id}/notes"), Some(&t), Some(json!({"body": "Signed."})), &[]).await;
    assert_eq!(s, 201);
    // A read token reads and writes nothing.
    let r = token(&srv, fx.client_a_id, Role::Client, Some(fx.ws_a), TokenScope::Read).await;
    assert_eq!(call(&srv, Method::POST, &format!("{base}/leads/{id}/notes"), Some(&r), Some(json!({"body": "x"})), &[]).await.0, 403);
    assert_eq!(call(&srv, Method::GET, &format!("{base}/leads/{id}"), Some(&r), None, &[]).await.0, 200);
    // B's lead through A's path: not found.
    assert_eq!(call(&srv, Method::GET, &format!("{base}/leads/{}", fx.lead_b), Some(&t), None, &[]).await.0, 404);
    assert_eq!(call(&srv, Method::POST, &format!("{base}/leads/{}/notes", fx.lead_b), Some(&t), Some(json!({"body": "x"})), &[]).await.0, 404);

    // Pages of 1 while leads keep arriving: each lead once, in order.
    let mut seen = Vec::new();
    let mut cursor = String::new();
    for i in 0..10 {
        if i < 5 {
            call(&srv, Method::POST, &format!("{base}/leads"), Some(&t), Some(json!({"email": format!("late{i}@x.test")})), &[]).await;
        }
        let (s, _, body) = call(&srv, Method::GET, &format!("{base}/leads?limit=1&cursor={cursor}"), Some(&t), None, &[]).await;
        assert_eq!(s, 200);
        let page: Value = serde_json::from_str(&body).unwrap();
        for l in page["leads"].as_array().unwrap() {
            seen.push(l["id"].as_i64().unwrap());
        }
        match page["next_cursor"].as_str() {
            Some(c) => cursor = c.to_owned(),
            None => break,
        }
    }
    let mut unique = seen.clone();
    unique.dedup();
    assert_eq!(unique, seen);
    assert!(seen.windows(2).all(|w| w[0] < w[1]));
    assert!(seen.len() >= 6, "the lead of the fixture, Dana and late ones: {seen:?}");

    // The events, polled: created (with the request's trace id), stage changed, note added.
    tokio::time::sleep(Duration::from_millis(2100)).await;
    let (s, _, body) = call(&srv, Method::GET, &format!("{base}/events?after=0&limit=100"), Some(&t), None, &[]).await;
    assert_eq!(s, 200);
    let page: Value = serde_json::from_str(&body).unwrap();
    let events = page["events"].as_array().unwrap();
    let first = events.iter().find(|e| e["type"] == "lead.created" && e["data"]["lead_id"] == id).expect("lead.created");
    assert_eq!(first["trace_id"], trace);
    assert_eq!(first["data"]["workspace"], "acme-roofing");
    assert_eq!(first["data"]["source"], "api");
    let moved = events.iter().find(|e| e["type"] == "lead.stage_changed").unwrap();
    assert_eq!((moved["data"]["from"].as_str(), moved["data"]["to"].as_str(), moved["data"]["deal_value_cents"].as_i64()), (Some("new"), Some("won"), Some(250000)));
    assert!(events.iter().any(|e| e["type"] == "lead.note_added"));
    let after = page["next_after"].as_i64().unwrap();
    let (_, _, body) = call(&srv, Method::GET, &format!("{base}/events?after={after}"), Some(&t), None, &[]).await;
    assert_eq!(serde_json::from_str::<Value>(&body).unwrap()["events"].as_array().unwrap().len(), 0, "nothing is given twice");
}

#[tokio::test]
async fn contacts_go_through_the_import_with_a_result_per_row() {
    let srv = common::start().await;
    let fx = &srv.fx;
    let admin = token(&srv, fx.admin_id, Role::Admin, Some(fx.ws_a), TokenScope::Write).await;
    let path = "/api/v1/workspaces/acme-roofing/contacts";
    let rows = json!({"contacts": [
        {"email": "ok@contact.test", "first_name": "Ok"},
        {"email": "not an email"},
        {"email": "OK@contact.test"},
        {"first_name": "No email"},
        {"email": "second@contact.test", "zip": "07030"}
    ]});
    let (s, _, body) = call(&srv, Method::POST, path, Some(&admin), Some(rows), &[]).await;
    assert_eq!(s, 200, "{body}");
    let out: Value = serde_json::from_str(&body).unwrap();
    let statuses: Vec<&str> = out["rows"].as_array().unwrap().iter().map(|r| r["status"].as_str().unwrap()).collect();
    assert_eq!(statuses, vec!["created", "rejected", "duplicate", "rejected", "created"]);
    assert_eq!((out["created"].as_i64(), out["duplicates"].as_i64(), out["rejected"].as_i64()), (Some(2), Some(1), Some(2)));
    assert!(out["rows"][1]["reason"].as_str().unwrap().contains("not a valid email"));
    assert!(out["rows"][3]["reason"].as_str().unwrap().contains("missing"));
    // Clients don't import contacts (the upload is admins' too); 1,001 rows are refused.
    let client = token(&srv, fx.client_a_id, Role::Client, Some(fx.ws_a), TokenScope::Write).await;
    assert_eq!(call(&srv, Method::POST, path, Some(&client), Some(json!({"contacts": [{"email": "a@b.test"}]})), &[]).await.0, 403);
    let many: Vec<Value> = (0..1001).map(|i| json!({"email": format!("c{i}@x.test")})).collect();
    let (s, _, body) = call(&srv, Method::POST, path, Some(&admin), Some(json!({"contacts": many})), &[]).await;
    assert_eq!(s, 400, "{body}");
    assert!(body.contains("1000"));
}

#[tokio::test]
async fn an_endpoint_made_through_the_api_receives_signed_events() {
    let srv = common::start_with(|c| c.integrations.allow_private = true).await;
    let fx = &srv.fx;
    let seen: Arc<std::sync::Mutex<Vec<(axum::http::HeaderMap, String)>>> = Default::default();
    let app = {
        let seen = seen.clone();
        axum::Router::new().route(
            "/hook",
            axum::routing::post(move |h: axum::http::HeaderMap, b: String| {
                let seen = seen.clone();
                async move {
                    seen.lock().unwrap().push((h, b));
                    "ok"
                }
            }),
        )
    };
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr: SocketAddr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    tokio::spawn(backend::eventbus::dispatch::run(srv.state.db.clone(), srv.state.secrets.clone(), Arc::new(srv.state.config.integrations.clone()), Duration::from_millis(50)));

    let t = token(&srv, fx.client_a_id, Role::Client, Some(fx.ws_a), TokenScope::Write).await;
    let base = "/api/v1/workspaces/acme-roofing/webhook-endpoints";
    let body = json!({"url": format!("http://{addr}/hook"), "description": "n8n", "event_types": ["lead.created"], "header_name": "X-N8N-Auth", "header_value": "n8n-shared"});
    let (s, _, text) = call(&srv, Method::POST, base, Some(&t), Some(body), &[]).await;
    assert_eq!(s, 201, "{text}");
    let created: Value = serde_json::from_str(&text).unwrap();
    let secret = created["secret"].as_str().unwrap().to_owned();
    let id = created["endpoint"]["id"].as_i64().unwrap();
    let (_, _, listed) = call(&srv, Method::GET, base, Some(&t), None, &[]).await;
    assert!(!listed.contains(&secret) && !listed.contains("n8n-shared"), "the secret and header value are never shown again");
    call(&srv, Method::POST, "/api/v1/workspaces/acme-roofing/leads", Some(&t), Some(json!({"email": "hooked@x.test"})), &[]).await;
    let (s, _, _) = call(&srv, Method::POST, &format!("{base}/{id}/test"), Some(&t), None, &[]).await;
    assert_eq!(s, 202);
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while seen.lock().unwrap().len() < 2 && std::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let seen = seen.lock().unwrap().clone();
    assert_eq!(seen.len(), 2);
    for (h, b) in &seen {
        let sig = backend::eventbus::signing::sign(&secret, h["webhook-id"].to_str().unwrap(), h["webhook-timestamp"].to_str().unwrap().parse().unwrap(), b.as_bytes()).unwrap();
        assert_eq!(h["webhook-signature"].to_str().unwrap(), sig);
        assert_eq!(h["x-n8n-auth"], "n8n-shared");
    }
    let types: BTreeSet<String> = seen.iter().map(|(_, b)| serde_json::from_str::<Value>(b).unwrap()["type"].as_str().unwrap().to_owned()).collect();
    assert_eq!(types, BTreeSet::from(["lead.created".to_owned(), "webhook.test".to_owned()]));
    let (_, _, log) = call(&srv, Method::GET, &format!("{base}/{id}/deliveries?status=delivered"), Some(&t), None, &[]).await;
    let log: Value = serde_json::from_str(&log).unwrap();
    assert_eq!(log["deliveries"].as_array().unwrap().len(), 2);
    assert_eq!(log["deliveries"][0]["attempt_log"][0]["status_code"], 200);
    // Replay one: delivered again with the same webhook-id.
    let did = log["deliveries"][0]["id"].as_i64().unwrap();
    assert_eq!(call(&srv, Method::POST, &format!("{base}/{id}/deliveries/{did}/replay"), Some(&t), None, &[]).await.0, 202);
}

#[tokio::test]
async fn metrics_need_their_token_and_count_requests_deliveries_and_jobs() {
    let srv = common::start_with(|c| c.integrations.metrics_token = Some("metrics-token-123".into())).await;
    assert_eq!(http().get(srv.url("/metrics")).send().await.unwrap().status(), 401);
    assert_eq!(http().get(srv.url("/metrics")).bearer_auth("wrong").send().await.unwrap().status(), 401);
    http().get(srv.url("/healthz")).send().await.unwrap();
    let res = http().get(srv.url("/metrics")).bearer_auth("metrics-token-123").send().await.unwrap();
    assert_eq!(res.status(), 200);
    let text = res.text().await.unwrap();
    for needle in ["maverick_http_requests_total", "route=\"/healthz\"", "maverick_webhook_deliveries", "maverick_event_log_lag_seconds"] {
        assert!(text.contains(needle), "{needle} in:\n{text}");
    }
}

#[tokio::test]
async fn the_command_line_prints_only_the_token_and_it_works() {
    let srv = common::start().await;
    let out = tokio::task::spawn_blocking({
        let url = srv.state.config.database_url.clone();
        move || {
            std::process::Command::new(env!("CARGO_BIN_EXE_server"))
                .args(["api-token", "create", "--name", "script", "--workspace", "acme-roofing", "--scope", "write", "--expires-days", "30"])
                .env("DATABASE_URL", url)
                .env("MAVERICK_SECRET_KEY", "test-key-0123456789abcdef0123456789")
                .env_remove("RUST_LOG")
                .output()
                .unwrap()
        }
    })
    .await
    .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let stdout = String::from_utf8(out.stdout).unwrap();
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), 1, "only the token: {stdout:?}");
    assert!(lines[0].starts_with("mvk_"));
    let (s, _, body) = call(&srv, Method::GET, "/api/v1/workspaces", Some(lines[0]), None, &[]).await;
    assert_eq!(s, 200);
    let list: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(list.as_array().unwrap().len(), 1, "a workspace token sees its workspace");
    assert_eq!(list[0]["slug"], "acme-roofing");
}

#[tokio::test]
async fn a_personalization_run_starts_from_a_csv_body_and_reports_where_it_stands() {
    let srv = common::start().await;
    let fx = &srv.fx;
    let admin = user(fx.admin_id, Role::Admin);
    let db = &srv.state.db;
    let campaign_a = backend::personalization::create_campaign(db, &admin, fx.ws_a, "Acme spring", "", "").await.unwrap();
    let campaign_b = backend::personalization::create_campaign(db, &admin, fx.ws_b, "Beta Secret Dental", "", "").await.unwrap();
    let t = token(&srv, fx.admin_id, Role::Admin, Some(fx.ws_a), TokenScope::Write).await;
    let base = "/api/v1/workspaces/acme-roofing/personalization-runs";
    let csv = "email,company,first_name\nann@roof.test,Roof Co,Ann\nbob@roof.test,Bob's Gutters,Bob\nnot-an-email,X,Y\n";
    let post = |campaign: i64| {
        http().post(srv.url(&format!("{base}?campaign_id={campaign}&writer=template"))).bearer_auth(&t).header("content-type", "text/csv").body(csv)
    };
    let res = post(campaign_a).send().await.unwrap();
    assert_eq!(res.status(), 202);
    let run: Value = res.json().await.unwrap();
    let id = run["run_id"].as_i64().unwrap();
    assert_eq!(run["writer"], "template");
    // The job workers extract and write (none run beside this test host): the run waits its turn.
    let (s, _, body) = call(&srv, Method::GET, &format!("{base}/{id}"), Some(&t), None, &[]).await;
    assert_eq!(s, 200, "{body}");
    let status: Value = serde_json::from_str(&body).unwrap();
    assert_eq!((status["status"].as_str(), status["campaign_id"].as_i64()), (Some("extracting"), Some(campaign_a)), "{status}");
    // Another workspace's campaign through this workspace's path, and its runs: not found.
    assert_eq!(post(campaign_b).send().await.unwrap().status(), 404);
    let other = token(&srv, fx.admin_id, Role::Admin, Some(fx.ws_b), TokenScope::Write).await;
    assert_eq!(call(&srv, Method::GET, &format!("{base}/{id}"), Some(&other), None, &[]).await.0, 404);
    // An empty body says what to send.
    let res = http().post(srv.url(&format!("{base}?campaign_id={campaign_a}"))).bearer_auth(&t).send().await.unwrap();
    assert_eq!(res.status(), 400);
    assert!(res.text().await.unwrap().contains("CSV"));
}
