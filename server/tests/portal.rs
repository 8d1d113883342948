//! The client portal over HTTP: moves by role, the live event stream (only the caller's
//! workspace, resumable with Last-Event-ID), the lead page and the CSV export.

mod common;

use std::time::Duration;

use reqwest::Response;

/// Reads a server-sent event stream until `want` appears (or `wait` passes); returns what came.
async fn read_until(res: &mut Response, want: &str, wait: Duration) -> String {
    let mut seen = String::new();
    let deadline = tokio::time::Instant::now() + wait;
    while !seen.contains(want) {
        match tokio::time::timeout_at(deadline, res.chunk()).await {
            Ok(Ok(Some(bytes))) => seen.push_str(&String::from_utf8_lossy(&bytes)),
            _ => break,
        }
    }
    seen
}

#[tokio::test]
async fn moves_reach_open_boards_of_that_workspace_only_and_a_reconnect_replays_what_was_missed() {
    let srv = common::start().await;
    srv.tail_events();
    let fx = &srv.fx;
    let client_a = srv.sign_in("clienta@acme.test").await;
    let client_b = srv.sign_in("clientb@beta.test").await;
    let viewer_a = srv.sign_in("viewera@acme.test").await;

    let mut stream = client_a.get(srv.url("/client-portal/acme-roofing/events")).send().await.unwrap();
    assert_eq!(stream.status(), 200);
    assert_eq!(stream.headers()["content-type"], "text/event-stream");
    // B's move happens first: it must never show on A's stream.
    let (status, body) = srv.call(&client_b, "/api/portal/leads/move", &[("lead_id", fx.lead_b.to_string()), ("to_stage", "contacted".into())]).await;
    assert_eq!(status, 200, "{body}");
    // A viewer may not move; A's client may.
    let (status, _) = srv.call(&viewer_a, "/api/portal/leads/move", &[("lead_id", fx.lead_a.to_string()), ("to_stage", "contacted".into())]).await;
    assert_eq!(status, 403);
    let started = std::time::Instant::now();
    let (status, body) = srv.call(&client_a, "/api/portal/leads/move", &[("lead_id", fx.lead_a.to_string()), ("to_stage", "follow_up".into())]).await;
    assert_eq!(status, 200, "{body}");
    let seen = read_until(&mut stream, "lead.stage_changed", Duration::from_secs(2)).await;
    assert!(seen.contains("\"kind\":\"lead.stage_changed\""), "the move arrives within 2 s: {seen:?}");
    assert!(started.elapsed() < Duration::from_secs(2));
    assert!(seen.contains(&format!("\"lead_id\":{}", fx.lead_a)), "{seen}");
    assert!(!seen.contains(&format!("\"lead_id\":{}", fx.lead_b)), "B's event leaked: {seen}");
    let last_id: i64 = seen.lines().find_map(|l| l.strip_prefix("id:")).map(|v| v.trim().parse().unwrap()).expect("events carry ids");

    // Reconnecting from before that event replays it, and nothing of B.
    let mut again = client_a.get(srv.url("/client-portal/acme-roofing/events")).header("last-event-id", "0").send().await.unwrap();
    let replay = read_until(&mut again, &format!("id: {last_id}"), Duration::from_secs(2)).await;
    assert!(replay.contains(&format!("id: {last_id}")), "{replay}");
    assert!(!replay.contains(&format!("\"lead_id\":{}", fx.lead_b)), "{replay}");
    // So does a page opening its stream after the event it was rendered with (`?after=`).
    let mut fresh = client_a.get(srv.url(&format!("/client-portal/acme-roofing/events?after={}", last_id - 1))).send().await.unwrap();
    let replay = read_until(&mut fresh, &format!("id: {last_id}"), Duration::from_secs(2)).await;
    assert!(replay.contains(&format!("id: {last_id}")) && replay.contains("\"payload\""), "{replay}");

    // Another workspace's stream is not found.
    let res = client_a.get(srv.url("/client-portal/beta-secret/events")).send().await.unwrap();
    assert_eq!(res.status(), 404);

    // The move is on the lead's page, with who did it.
    let page = client_a.get(srv.url(&format!("/client-portal/acme-roofing/leads/{}", fx.lead_a))).send().await.unwrap().text().await.unwrap();
    assert!(page.contains("New → Follow-up"), "history shows the move");
    assert!(page.contains("Al Acme"), "and who made it");
}

#[tokio::test]
async fn the_lead_export_follows_the_filters_and_defuses_formulas() {
    let srv = common::start().await;
    let db = &srv.state.db;
    let now = chrono::Utc::now();
    let lead = backend::leads::NewLead {
        email: "mal@evil.test".into(),
        company: Some("=HYPERLINK(\"http://evil\",\"x\")".into()),
        received_at: Some(now),
        interested_day: Some(now.date_naive()),
        stage: backend::leads::Stage::New,
        ..Default::default()
    };
    backend::leads::insert(db, srv.fx.ws_a, &lead).await.unwrap();
    let client_a = srv.sign_in("clienta@acme.test").await;
    let res = client_a.get(srv.url("/client-portal/acme-roofing/leads.csv?q=evil")).send().await.unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["content-type"], "text/csv; charset=utf-8");
    let text = res.text().await.unwrap();
    let lines: Vec<&str> = text.trim_start_matches('\u{feff}').lines().collect();
    assert_eq!(lines[0], "email,first_name,last_name,company,title,phone,campaign,received_on,stage,deal_value,lost_reason,reply");
    assert_eq!(lines.len(), 2, "only the lead the search matches: {text}");
    assert!(lines[1].starts_with("mal@evil.test,,,\"'=HYPERLINK(\"\"http://evil\"\",\"\"x\"\")\","), "{text}");
    let all = client_a.get(srv.url("/client-portal/acme-roofing/leads.csv")).send().await.unwrap().text().await.unwrap();
    assert_eq!(all.trim_start_matches('\u{feff}').lines().count(), 3, "header + both of A's leads: {all}");
    assert!(!all.contains("beta-secret"));
}

/// Reads a stream until the server ends it (or `wait` passes): `true` when it ended.
async fn ends_within(res: &mut Response, wait: Duration) -> bool {
    let deadline = tokio::time::Instant::now() + wait;
    loop {
        match tokio::time::timeout_at(deadline, res.chunk()).await {
            Ok(Ok(Some(_))) => continue,
            Ok(Ok(None)) | Ok(Err(_)) => return true,
            Err(_) => return false,
        }
    }
}

/// Issue 11 (6): a live stream closes once its session ends or its grant is revoked.
#[tokio::test]
async fn an_open_stream_closes_after_sign_out_or_a_revoked_grant() {
    let srv = common::start().await;
    let fx = &srv.fx;
    let client_a = srv.sign_in("clienta@acme.test").await;
    let mut stream = client_a.get(srv.url("/client-portal/acme-roofing/events")).send().await.unwrap();
    assert_eq!(stream.status(), 200);
    assert!(!ends_within(&mut stream, Duration::from_millis(900)).await, "a valid session keeps its stream");
    let res = client_a.post(srv.url("/auth/logout")).send().await.unwrap();
    assert_eq!(res.status(), 303);
    assert!(ends_within(&mut stream, Duration::from_secs(3)).await, "signed out: the stream ends");

    let client_a = srv.sign_in("clienta@acme.test").await;
    let mut stream = client_a.get(srv.url("/client-portal/acme-roofing/events")).send().await.unwrap();
    assert_eq!(stream.status(), 200);
    backend::tenancy::access::revoke(&srv.state.db, fx.client_a_id, fx.ws_a).await.unwrap();
    assert!(ends_within(&mut stream, Duration::from_secs(3)).await, "grant revoked: the stream ends");
}

/// Issue 11 (18): a replay cut at its limit tells the page to reload instead of leaving a gap.
#[tokio::test]
async fn a_replay_past_its_limit_ends_with_a_resync() {
    let srv = common::start().await;
    let fx = &srv.fx;
    for _ in 0..510 {
        backend::platform::events::publish(&srv.state.db, &backend::platform::events::NewEvent::new(fx.ws_a, "lead.stage_changed", &serde_json::json!({}))).await.unwrap();
    }
    let client_a = srv.sign_in("clienta@acme.test").await;
    let mut stream = client_a.get(srv.url("/client-portal/acme-roofing/events")).header("last-event-id", "0").send().await.unwrap();
    let seen = read_until(&mut stream, "resync", Duration::from_secs(5)).await;
    assert_eq!(seen.lines().filter(|l| l.starts_with("id:")).count(), 500, "the replay is capped");
    assert!(seen.contains("{\"kind\":\"resync\"}"), "and says so: {}", &seen[seen.len().saturating_sub(300)..]);
    // A replay within the limit has no resync.
    let mut short = client_a.get(srv.url("/client-portal/acme-roofing/events")).header("last-event-id", "100").send().await.unwrap();
    let seen = read_until(&mut short, "resync", Duration::from_millis(800)).await;
    assert!(!seen.contains("resync"), "410 events fit in one replay");
}

/// Issue 13: the log also holds integration events (syncs, senders, contacts); the pages' stream
/// carries only what the pages use.
#[tokio::test]
async fn the_page_stream_carries_lead_events_and_not_the_integration_ones() {
    let srv = common::start().await;
    let fx = &srv.fx;
    for kind in ["sync.failed", "sender.health_changed", "lead.note_added"] {
        let event = backend::platform::events::NewEvent::new(fx.ws_a, kind, &serde_json::json!({"error": "sync-secret-detail"}));
        backend::platform::events::publish(&srv.state.db, &event).await.unwrap();
    }
    let client_a = srv.sign_in("clienta@acme.test").await;
    let mut stream = client_a.get(srv.url("/client-portal/acme-roofing/events")).header("last-event-id", "0").send().await.unwrap();
    let seen = read_until(&mut stream, "lead.note_added", Duration::from_secs(3)).await;
    assert!(seen.contains("lead.note_added"), "{seen}");
    assert!(!seen.contains("sync.failed") && !seen.contains("sender.health_changed"), "{seen}");
}

/// Issue 12: a client with a single workspace has nothing to choose on the hub, so the hub sends
/// them to that board before the first byte; with a second workspace the hub is back.
#[tokio::test]
async fn a_client_with_one_workspace_lands_on_its_board() {
    let srv = common::start().await;
    let fx = &srv.fx;
    let client_a = srv.sign_in("clienta@acme.test").await;
    // (leptos answers a redirect with 302 to requests that accept HTML, as a browser's do.)
    let hub = |c: &reqwest::Client| c.get(srv.url("/client-portal")).header("accept", "text/html").send();
    let res = hub(&client_a).await.unwrap();
    assert_eq!(res.status(), 302);
    assert_eq!(res.headers()["location"], "/client-portal/acme-roofing");

    backend::tenancy::access::grant(&srv.state.db, fx.client_a_id, fx.ws_b, backend::tenancy::access::GrantLevel::Viewer, fx.admin_id, chrono::Utc::now())
        .await
        .unwrap();
    let res = hub(&client_a).await.unwrap();
    assert_eq!(res.status(), 200);
    let page = res.text().await.unwrap();
    assert!(page.contains("Acme Roofing") && page.contains("Beta Secret Dental"), "the hub lists both");

    // The agency admin keeps the hub.
    let admin = srv.sign_in("admin@agency.test").await;
    assert_eq!(hub(&admin).await.unwrap().status(), 200);
}
