//! The event bus on a real database (both backends) against a local receiver over real HTTP:
//! events written with their change, fanned out exactly once per endpoint, signed deliveries,
//! the retry schedule on a clock the test sets, 410, Retry-After, disabling after days of
//! failures, rotation, replay and recovery, polling, and API tokens' scopes.

use std::{
    net::SocketAddr,
    sync::{Arc, Mutex},
    time::Duration as StdDuration,
};

use axum::{extract::State, http::HeaderMap, response::IntoResponse, routing::post, Router};
use backend::{
    eventbus::{
        dispatch::{self, Next},
        endpoints::{self, EndpointInput, Owner},
        log::{self, DeliveryFilter},
        signing,
    },
    identity::{
        sessions::SessionUser,
        users::{self, NewUser, Role},
    },
    leads::{self, pipeline, NewLead},
    on_db,
    platform::{config::IntegrationSettings, db::Db, error::Error, event_catalog, events, testing::test_state},
    tenancy::{
        access::{self, GrantLevel},
        api_tokens::{self, NewToken, TokenScope},
        workspaces::{self, WorkspaceInput},
    },
    AppState,
};
use chrono::{Duration, TimeZone, Utc};

/// What the receiver saw: (headers, body) per request.
type Seen = Arc<Mutex<Vec<(HeaderMap, String)>>>;

/// A receiver answering each request with the next status of `script` (the last one repeats),
/// with `retry-after` when given.
async fn receiver(script: Vec<(u16, Option<&'static str>)>) -> (String, Seen) {
    let seen: Seen = Default::default();
    let state = (seen.clone(), Arc::new(Mutex::new(script)));
    async fn hook(State((seen, script)): State<(Seen, Arc<Mutex<Vec<(u16, Option<&'static str>)>>>)>, headers: HeaderMap, body: String) -> impl IntoResponse {
        seen.lock().unwrap().push((headers, body));
        let mut s = script.lock().unwrap();
        let (status, retry_after) = if s.len() > 1 { s.remove(0) } else { s[0] };
        let mut h = HeaderMap::new();
        if let Some(r) = retry_after {
            h.insert("retry-after", r.parse().unwrap());
        }
        (axum::http::StatusCode::from_u16(status).unwrap(), h, "receiver says hi")
    }
    let app = Router::new().route("/hook", post(hook)).with_state(state);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr: SocketAddr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (format!("http://{addr}/hook"), seen)
}

fn settings() -> IntegrationSettings {
    IntegrationSettings { allow_private: true, ..Default::default() }
}

async fn user(db: &Db, email: &str, role: Role) -> SessionUser {
    let u = users::create(db, NewUser { email: email.into(), display_name: email.split('@').next().unwrap().into(), role, password: "password-123".into() })
        .await
        .unwrap();
    SessionUser { session_id: 0, user_id: u.id, email: u.email, display_name: u.display_name, role }
}

struct World {
    state: AppState,
    admin: SessionUser,
    client: SessionUser,
    acme: i64,
    beta: i64,
}

async fn world() -> World {
    let state = test_state().await;
    let db = state.db.clone();
    let acme = workspaces::create(&db, WorkspaceInput::named("Acme")).await.unwrap().id;
    let beta = workspaces::create(&db, WorkspaceInput::named("Beta")).await.unwrap().id;
    let admin = user(&db, "admin@agency.test", Role::Admin).await;
    let client = user(&db, "client@acme.test", Role::Client).await;
    access::grant(&db, client.user_id, acme, GrantLevel::Client, admin.user_id, Utc::now()).await.unwrap();
    World { state, admin, client, acme, beta }
}

async fn owner_of(w: &World, ws: i64) -> Owner {
    Owner::Workspace(access::require_write(&w.state.db, &w.admin, ws).await.unwrap())
}

async fn endpoint(w: &World, owner: &Owner, url: &str, types: &[&str]) -> endpoints::Created {
    let input = EndpointInput { url: url.into(), description: "test".into(), event_types: types.iter().map(|t| t.to_string()).collect(), enabled: true, header: None };
    endpoints::create(&w.state.db, &w.state.secrets, &settings(), owner, &input, Utc::now()).await.unwrap()
}

async fn lead(db: &Db, ws: i64, email: &str) -> i64 {
    leads::insert(db, ws, &NewLead { email: email.into(), stage: "new".parse().unwrap(), ..Default::default() }).await.unwrap()
}

async fn count(db: &Db, sql: &'static str, id: i64) -> i64 {
    on_db!(db, |pool| sqlx::query_scalar::<_, i64>(sql).bind(id).fetch_one(pool).await).unwrap()
}

/// Claims and sends every due delivery once, at `now`; returns the decisions.
async fn deliver_due(w: &World, now: chrono::DateTime<Utc>) -> Vec<Next> {
    let http = backend::eventbus::guard::client(true, StdDuration::from_secs(5)).unwrap();
    let mut out = Vec::new();
    for c in dispatch::claim_due(&w.state.db, 100, now).await.unwrap() {
        let r = dispatch::send(&http, &w.state.secrets, true, &c, now).await;
        out.push(dispatch::record(&w.state.db, &settings(), &c, &r, now).await.unwrap().expect("our claim"));
    }
    out
}

#[tokio::test]
async fn each_event_reaches_each_matching_endpoint_once_signed_and_traced() {
    let w = world().await;
    let db = &w.state.db;
    let (url, seen) = receiver(vec![(200, None)]).await;
    let acme = owner_of(&w, w.acme).await;
    let all = endpoint(&w, &acme, &url, &[]).await;
    let moves_only = endpoint(&w, &acme, &url, &[event_catalog::LEAD_STAGE_CHANGED]).await;
    let agency = endpoint(&w, &Owner::Agency(access::agency_admin(&w.admin).unwrap()), &url, &[]).await;
    let beta = endpoint(&w, &owner_of(&w, w.beta).await, &url, &[]).await;

    // Acme: a move and a note (the lead itself was inserted without an event); Beta: one move;
    // plus an internal event that is not in the catalog.
    let l = lead(db, w.acme, "dana@example.com").await;
    let trace = "4bf92f3577b34da6a3ce929d0e0e4736".to_string();
    backend::platform::trace::scope(trace.clone(), async {
        pipeline::move_lead(db, &w.client, l, pipeline::Move { to_stage: "contacted".into(), ..Default::default() }, Utc::now().date_naive()).await.unwrap();
    })
    .await;
    pipeline::add_note(db, &w.client, l, "Called, will call back").await.unwrap();
    let lb = lead(db, w.beta, "bo@example.com").await;
    pipeline::move_lead(db, &w.admin, lb, pipeline::Move { to_stage: "contacted".into(), ..Default::default() }, Utc::now().date_naive()).await.unwrap();
    events::publish(db, &events::NewEvent::new(w.acme, "personalization.progress", &serde_json::json!({}))).await.unwrap();

    // Two fan-outs at once take the events once.
    let (a, b) = tokio::join!(dispatch::fan_out(db, Utc::now()), dispatch::fan_out(db, Utc::now()));
    assert_eq!(a.unwrap() + b.unwrap(), 4, "four events, each taken by one fan-out");
    assert_eq!(dispatch::fan_out(db, Utc::now()).await.unwrap(), 0);
    let per = |id| count(db, "SELECT COUNT(*) FROM event_deliveries WHERE endpoint_id = $1", id);
    // acme-all: move + note; moves-only: move; agency: 3 public events; beta: its move.
    assert_eq!((per(all.endpoint.id).await, per(moves_only.endpoint.id).await, per(agency.endpoint.id).await, per(beta.endpoint.id).await), (2, 1, 3, 1));

    let now = Utc::now();
    let decisions = deliver_due(&w, now).await;
    assert_eq!(decisions.len(), 7);
    assert!(decisions.iter().all(|d| *d == Next::Delivered));
    assert!(deliver_due(&w, now).await.is_empty(), "nothing is sent twice");

    let seen = seen.lock().unwrap();
    assert_eq!(seen.len(), 7);
    let mut traced = 0;
    for (headers, body) in seen.iter() {
        let h = |n: &str| headers.get(n).unwrap().to_str().unwrap().to_owned();
        let (id, ts) = (h("webhook-id"), h("webhook-timestamp"));
        assert!(id.starts_with("msg_"));
        let expected_secret = [&all, &moves_only, &agency, &beta]
            .iter()
            .map(|e| signing::sign(&e.secret, &id, ts.parse().unwrap(), body.as_bytes()).unwrap())
            .find(|s| *s == h("webhook-signature"));
        assert!(expected_secret.is_some(), "signed with one endpoint's secret: {}", h("webhook-signature"));
        let v: serde_json::Value = serde_json::from_str(body).unwrap();
        assert!(v["type"].as_str().unwrap().starts_with("lead."));
        assert!(v["timestamp"].as_str().unwrap().ends_with('Z'));
        let slug = v["data"]["workspace"].as_str().unwrap();
        assert!(slug == "acme" || slug == "beta", "{v}");
        let tp = h("traceparent");
        assert!(backend::platform::trace::parse_traceparent(&tp).is_some(), "{tp}");
        if v["type"] == "lead.stage_changed" && slug == "acme" {
            assert_eq!(backend::platform::trace::parse_traceparent(&tp).unwrap(), trace, "the move's trace id travels along");
            assert_eq!(v["data"]["from"], "new");
            assert_eq!(v["data"]["to"], "contacted");
            traced += 1;
        }
    }
    assert_eq!(traced, 3, "acme-all, moves-only and agency got Acme's move");
}

#[tokio::test]
async fn an_endpoint_made_after_an_event_does_not_receive_it_and_disabled_ones_get_nothing() {
    let w = world().await;
    let db = &w.state.db;
    let (url, _) = receiver(vec![(200, None)]).await;
    let l = lead(db, w.acme, "early@example.com").await;
    pipeline::add_note(db, &w.admin, l, "before any endpoint").await.unwrap();
    let acme = owner_of(&w, w.acme).await;
    let e = endpoint(&w, &acme, &url, &[]).await;
    let mut off = EndpointInput { url: url.clone(), enabled: false, ..Default::default() };
    let disabled = endpoints::create(db, &w.state.secrets, &settings(), &acme, &off, Utc::now()).await.unwrap();
    pipeline::add_note(db, &w.admin, l, "after").await.unwrap();
    dispatch::fan_out(db, Utc::now()).await.unwrap();
    assert_eq!(count(db, "SELECT COUNT(*) FROM event_deliveries WHERE endpoint_id = $1", e.endpoint.id).await, 1);
    assert_eq!(count(db, "SELECT COUNT(*) FROM event_deliveries WHERE endpoint_id = $1", disabled.endpoint.id).await, 0);
    // Unknown event types are refused with the list.
    off.event_types = vec!["lead.exploded".into()];
    off.enabled = true;
    let err = endpoints::create(db, &w.state.secrets, &settings(), &acme, &off, Utc::now()).await.unwrap_err().to_string();
    assert!(err.contains("lead.stage_changed"), "{err}");
}

#[test]
fn the_retry_schedule_is_svix_with_jitter_and_retry_after_and_ends_failed() {
    let schedule = IntegrationSettings::default().retry_schedule;
    let now = Utc.with_ymd_and_hms(2026, 11, 30, 12, 0, 0).unwrap();
    let fail = dispatch::AttemptResult { status: Some(500), latency_ms: 3, excerpt: String::new(), error: None, retry_after: None };
    let expected = [5, 300, 1800, 7200, 18000, 36000, 36000];
    for (i, secs) in expected.iter().enumerate() {
        assert_eq!(dispatch::next_step(i as i64 + 1, &fail, &schedule, now, 0.0), Next::Retry(now + Duration::seconds(*secs)), "after attempt {}", i + 1);
    }
    assert_eq!(dispatch::next_step(8, &fail, &schedule, now, 0.0), Next::Failed, "eight attempts in all");
    // Jitter: ±10 %.
    assert_eq!(dispatch::next_step(2, &fail, &schedule, now, 1.0), Next::Retry(now + Duration::seconds(330)));
    assert_eq!(dispatch::next_step(2, &fail, &schedule, now, -1.0), Next::Retry(now + Duration::seconds(270)));
    // 429 with Retry-After: the receiver's wait when longer than the schedule's.
    let slow = dispatch::AttemptResult { status: Some(429), retry_after: Some(StdDuration::from_secs(120)), ..fail.clone() };
    assert_eq!(dispatch::next_step(1, &slow, &schedule, now, 0.9), Next::Retry(now + Duration::seconds(120)));
    assert_eq!(dispatch::next_step(2, &slow, &schedule, now, 0.9), Next::Retry(now + Duration::seconds(300)));
    assert_eq!(dispatch::parse_retry_after("Mon, 30 Nov 2026 12:01:00 GMT", now), Some(StdDuration::from_secs(60)));
    assert_eq!(dispatch::parse_retry_after("999999", now), Some(StdDuration::from_secs(86_400)));
    // 2xx delivered, 410 disables, a 3xx is a failure.
    let ok = dispatch::AttemptResult { status: Some(204), ..fail.clone() };
    assert_eq!(dispatch::next_step(1, &ok, &schedule, now, 0.0), Next::Delivered);
    let gone = dispatch::AttemptResult { status: Some(410), ..fail.clone() };
    assert_eq!(dispatch::next_step(1, &gone, &schedule, now, 0.0), Next::DisableEndpoint);
    let moved = dispatch::AttemptResult { status: Some(301), ..fail };
    assert!(matches!(dispatch::next_step(1, &moved, &schedule, now, 0.0), Next::Retry(_)));
}

#[tokio::test]
async fn failures_follow_the_schedule_on_the_clock_then_fail_and_recover_resends() {
    let w = world().await;
    let db = &w.state.db;
    let (url, seen) = receiver(vec![(500, None)]).await;
    let acme = owner_of(&w, w.acme).await;
    let e = endpoint(&w, &acme, &url, &[]).await;
    let l = lead(db, w.acme, "retry@example.com").await;
    pipeline::add_note(db, &w.admin, l, "n").await.unwrap();
    let t0 = Utc::now();
    dispatch::fan_out(db, t0).await.unwrap();
    let mut now = t0;
    for attempt in 1..=8 {
        let d = deliver_due(&w, now).await;
        assert_eq!(d.len(), 1, "attempt {attempt} is due at its time");
        // Not due again a moment before its next time (the schedule's wait less 10 % jitter).
        match &d[0] {
            Next::Retry(at) => {
                let wait = *at - now;
                let planned = [5, 300, 1800, 7200, 18000, 36000, 36000][attempt - 1] as f64;
                let secs = wait.num_milliseconds() as f64 / 1000.0;
                assert!(secs >= planned * 0.9 - 0.01 && secs <= planned * 1.1 + 0.01, "attempt {attempt}: waits {secs} s");
                assert!(deliver_due(&w, *at - Duration::milliseconds(1)).await.is_empty());
                now = *at;
            }
            Next::Failed => assert_eq!(attempt, 8),
            other => panic!("{other:?}"),
        }
    }
    assert_eq!(seen.lock().unwrap().len(), 8);
    let ids: std::collections::BTreeSet<String> =
        seen.lock().unwrap().iter().map(|(h, _)| h.get("webhook-id").unwrap().to_str().unwrap().to_owned()).collect();
    assert_eq!(ids.len(), 1, "every retry carries the same webhook-id");
    let failed = log::deliveries(db, &acme, e.endpoint.id, &DeliveryFilter { status: Some("failed".into()), limit: 50, ..Default::default() }).await.unwrap();
    assert_eq!(failed.len(), 1);
    assert_eq!(failed[0].attempts, 8);
    let (_, attempts) = log::delivery(db, &acme, failed[0].id).await.unwrap();
    assert_eq!(attempts.len(), 8);
    assert_eq!(attempts[0].status_code, Some(500));
    assert_eq!(attempts[0].response_excerpt, "receiver says hi");
    // Recover every failed since t0: pending again, delivered on the next pass.
    assert_eq!(log::recover(db, &acme, e.endpoint.id, t0 - Duration::seconds(1), now).await.unwrap(), 1);
    let _ = deliver_due(&w, now).await;
    assert_eq!(seen.lock().unwrap().len(), 9);
}

#[tokio::test]
async fn gone_disables_the_endpoint_and_days_of_failures_do_too() {
    let w = world().await;
    let db = &w.state.db;
    let acme = owner_of(&w, w.acme).await;
    let (gone_url, _) = receiver(vec![(410, None)]).await;
    let gone = endpoint(&w, &acme, &gone_url, &[]).await;
    backend::notifications::set_agency_url(db, &w.state.secrets, Some("https://hooks.slack.com/services/T0/B0/secret")).await.unwrap();
    let l = lead(db, w.acme, "gone@example.com").await;
    pipeline::add_note(db, &w.admin, l, "one").await.unwrap();
    pipeline::add_note(db, &w.admin, l, "two").await.unwrap();
    dispatch::fan_out(db, Utc::now()).await.unwrap();
    let now = Utc::now();
    // Claim one at a time: the 410 on the first disables the endpoint and fails the other.
    let http = backend::eventbus::guard::client(true, StdDuration::from_secs(5)).unwrap();
    let c = dispatch::claim_due(db, 1, now).await.unwrap().remove(0);
    let r = dispatch::send(&http, &w.state.secrets, true, &c, now).await;
    assert_eq!(dispatch::record(db, &settings(), &c, &r, now).await.unwrap(), Some(Next::DisableEndpoint));
    let e = endpoints::get(db, &acme, gone.endpoint.id).await.unwrap();
    assert!(!e.enabled);
    assert!(e.disabled_reason.unwrap().contains("410"));
    assert_eq!(count(db, "SELECT COUNT(*) FROM event_deliveries WHERE endpoint_id = $1 AND status = 'failed'", gone.endpoint.id).await, 2);
    assert_eq!(count(db, "SELECT COUNT(*) FROM slack_messages WHERE text LIKE '%disabled%' AND id > $1", 0).await, 1, "Slack is told once");
    let alerts = backend::reporting::dashboards::alerts(db, &w.admin, &[]).await.unwrap();
    assert_eq!(alerts.disabled_endpoints.len(), 1, "the admin home shows it");
    assert_eq!(alerts.disabled_endpoints[0].workspace_name.as_deref(), Some("Acme"));
    // One disabled by a person is not an alert.
    let mut off = EndpointInput { url: gone_url.clone(), enabled: true, ..Default::default() };
    let manual = endpoints::create(db, &w.state.secrets, &settings(), &acme, &off, Utc::now()).await.unwrap();
    off.enabled = false;
    endpoints::update(db, &w.state.secrets, &settings(), &acme, manual.endpoint.id, &off, Utc::now()).await.unwrap();
    assert_eq!(backend::reporting::dashboards::alerts(db, &w.admin, &[]).await.unwrap().disabled_endpoints.len(), 1);

    // A receiver failing for five days: disabled on the first failure past the limit.
    let (bad_url, _) = receiver(vec![(503, None)]).await;
    let bad = endpoint(&w, &acme, &bad_url, &[]).await;
    pipeline::add_note(db, &w.admin, l, "three").await.unwrap();
    dispatch::fan_out(db, Utc::now()).await.unwrap();
    let t0 = Utc::now();
    assert!(matches!(deliver_due(&w, t0).await[..], [Next::Retry(_)]));
    let later = t0 + Duration::days(5) + Duration::seconds(1);
    let _ = deliver_due(&w, later).await;
    let e = endpoints::get(db, &acme, bad.endpoint.id).await.unwrap();
    assert!(!e.enabled, "disabled after 5 days of failures");
    assert!(e.disabled_reason.unwrap().contains("5 days"));
}

#[tokio::test]
async fn a_rotated_secret_signs_alongside_the_new_one_during_the_overlap() {
    let w = world().await;
    let db = &w.state.db;
    let (url, seen) = receiver(vec![(200, None)]).await;
    let acme = owner_of(&w, w.acme).await;
    let e = endpoint(&w, &acme, &url, &[]).await;
    let new_secret = endpoints::rotate_secret(db, &w.state.secrets, &acme, e.endpoint.id, Duration::hours(1), Utc::now()).await.unwrap();
    assert_ne!(new_secret, e.secret);
    let d = endpoints::send_test(db, &acme, e.endpoint.id, Utc::now()).await.unwrap();
    assert!(d > 0);
    deliver_due(&w, Utc::now()).await;
    let (headers, body) = seen.lock().unwrap()[0].clone();
    let (id, ts) = (headers["webhook-id"].to_str().unwrap(), headers["webhook-timestamp"].to_str().unwrap().parse().unwrap());
    let sigs: Vec<&str> = headers["webhook-signature"].to_str().unwrap().split(' ').collect();
    assert_eq!(sigs, vec![signing::sign(&new_secret, id, ts, body.as_bytes()).unwrap(), signing::sign(&e.secret, id, ts, body.as_bytes()).unwrap()]);
    let v: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(v["type"], "webhook.test");
    assert_eq!(v["data"]["workspace"], "acme");
    // After the overlap, only the new one.
    endpoints::send_test(db, &acme, e.endpoint.id, Utc::now()).await.unwrap();
    deliver_due(&w, Utc::now() + Duration::hours(2)).await;
    let (headers, _) = seen.lock().unwrap()[1].clone();
    assert_eq!(headers["webhook-signature"].to_str().unwrap().split(' ').count(), 1);
}

#[tokio::test]
async fn endpoints_of_another_owner_are_not_found() {
    let w = world().await;
    let db = &w.state.db;
    let (url, _) = receiver(vec![(200, None)]).await;
    let acme = owner_of(&w, w.acme).await;
    let beta = owner_of(&w, w.beta).await;
    let agency = Owner::Agency(access::agency_admin(&w.admin).unwrap());
    let e = endpoint(&w, &acme, &url, &[]).await;
    for other in [&beta, &agency] {
        assert!(matches!(endpoints::get(db, other, e.endpoint.id).await, Err(Error::NotFound)));
        assert!(matches!(endpoints::delete(db, other, e.endpoint.id).await, Err(Error::NotFound)));
        assert!(matches!(endpoints::send_test(db, other, e.endpoint.id, Utc::now()).await, Err(Error::NotFound)));
        assert!(matches!(log::deliveries(db, other, e.endpoint.id, &DeliveryFilter { limit: 5, ..Default::default() }).await, Err(Error::NotFound)));
    }
    assert_eq!(endpoints::list(db, &agency).await.unwrap().len(), 0);
    assert_eq!(endpoints::list(db, &acme).await.unwrap().len(), 1);
    // A client who may write in Acme works Acme's endpoints; agency rights are admins' only.
    assert!(access::require_write(db, &w.client, w.acme).await.is_ok());
    assert!(matches!(access::agency_admin(&w.client), Err(Error::Forbidden)));
    // The SSRF guard with private addresses not allowed.
    let strict = IntegrationSettings::default();
    let input = EndpointInput { url: url.clone(), enabled: true, ..Default::default() };
    let err = endpoints::create(db, &w.state.secrets, &strict, &acme, &input, Utc::now()).await.unwrap_err().to_string();
    assert!(err.contains("loopback"), "{err}");
}

#[tokio::test]
async fn the_polling_feed_pages_without_gaps_or_repeats_while_events_arrive() {
    let w = world().await;
    let db = &w.state.db;
    let l = lead(db, w.acme, "poll@example.com").await;
    let scope = access::scope(db, &w.admin, w.acme).await.unwrap();
    let writer = {
        let (db, admin) = (db.clone(), w.admin.clone());
        tokio::spawn(async move {
            for i in 0..60 {
                pipeline::add_note(&db, &admin, l, &format!("note {i}")).await.unwrap();
            }
        })
    };
    let mut seen = Vec::new();
    let mut cursor = 0;
    loop {
        let page = log::events_after(db, &scope, "acme", cursor, 7, Utc::now() + Duration::seconds(1)).await.unwrap();
        if page.is_empty() && writer.is_finished() {
            let rest = log::events_after(db, &scope, "acme", cursor, 7, Utc::now() + Duration::seconds(1)).await.unwrap();
            if rest.is_empty() {
                break;
            }
        }
        for e in &page {
            seen.push(e.id.unwrap());
            cursor = e.id.unwrap();
        }
        tokio::task::yield_now().await;
    }
    let mut sorted = seen.clone();
    sorted.dedup();
    assert_eq!(sorted.len(), 60, "no repeats");
    assert!(seen.windows(2).all(|p| p[0] < p[1]));
    // Another workspace's feed has none of them.
    let beta = access::scope(db, &w.admin, w.beta).await.unwrap();
    assert!(log::events_after(db, &beta, "beta", 0, 100, Utc::now() + Duration::seconds(1)).await.unwrap().is_empty());
}

#[tokio::test]
async fn tokens_are_scoped_expire_and_die_with_their_user() {
    let w = world().await;
    let db = &w.state.db;
    let now = Utc::now();
    let new = |ws: Option<i64>, scope: TokenScope, days: Option<i64>| NewToken { name: "n8n".into(), workspace_id: ws, scope, expires_in_days: days };
    // A client can make tokens for Acme only, never agency ones.
    let (_, acme_write) = api_tokens::create(db, &w.client, &new(Some(w.acme), TokenScope::Write, None), now).await.unwrap();
    assert!(matches!(api_tokens::create(db, &w.client, &new(Some(w.beta), TokenScope::Read, None), now).await, Err(Error::NotFound)));
    assert!(matches!(api_tokens::create(db, &w.client, &new(None, TokenScope::Read, None), now).await, Err(Error::Forbidden)));
    let (_, acme_read) = api_tokens::create(db, &w.admin, &new(Some(w.acme), TokenScope::Read, Some(1)), now).await.unwrap();
    let (listed, _) = api_tokens::create(db, &w.admin, &new(None, TokenScope::Write, None), now).await.unwrap();
    assert!(listed.prefix.starts_with("mvk_") && listed.prefix.len() == 10);

    let t = api_tokens::authenticate(db, &acme_write, now).await.unwrap();
    assert!(t.scope(db, w.acme).await.unwrap().writable().is_ok());
    assert!(matches!(t.scope(db, w.beta).await, Err(Error::NotFound)), "a workspace token never reaches another workspace");
    assert!(matches!(t.agency_admin(), Err(Error::Forbidden)));
    let r = api_tokens::authenticate(db, &acme_read, now).await.unwrap();
    assert!(matches!(r.scope(db, w.acme).await.unwrap().writable(), Err(Error::Forbidden)), "read tokens read");
    // Expiry, forgery, revocation, and the user's own access.
    assert!(matches!(api_tokens::authenticate(db, &acme_read, now + Duration::days(2)).await, Err(Error::Unauthenticated)));
    assert!(matches!(api_tokens::authenticate(db, "mvk_forged", now).await, Err(Error::Unauthenticated)));
    assert!(matches!(api_tokens::authenticate(db, &acme_write.replace("mvk_", "xyz_"), now).await, Err(Error::Unauthenticated)));
    access::revoke(db, w.client.user_id, w.acme).await.unwrap();
    let t = api_tokens::authenticate(db, &acme_write, now).await.unwrap();
    assert!(matches!(t.scope(db, w.acme).await, Err(Error::NotFound)), "the token loses what its user lost");
    let tokens = api_tokens::list(db, &w.admin, None).await.unwrap();
    let id = tokens.iter().find(|t| t.scope == TokenScope::Write && t.workspace_id == Some(w.acme)).unwrap().id;
    api_tokens::revoke(db, &w.admin, id, now).await.unwrap();
    assert!(matches!(api_tokens::authenticate(db, &acme_write, now).await, Err(Error::Unauthenticated)));
    // The client no longer sees a token for a workspace they lost.
    assert!(api_tokens::list(db, &w.client, None).await.unwrap().is_empty());
}

#[tokio::test]
async fn every_kind_of_change_writes_its_event_in_the_same_transaction() {
    let w = world().await;
    let db = &w.state.db;
    // An interested reply from Email Bison: lead.created + lead.interested, once.
    let reply = leads::InterestedReply {
        email: "New@Example.com".into(),
        first_name: Some("New".into()),
        last_name: Some("Lead".into()),
        company: Some("Co".into()),
        title: None,
        bison_lead_id: Some("77".into()),
        bison_campaign_id: None,
        reply_text: Some("yes".into()),
        received_at: Utc::now(),
    };
    leads::upsert_interested(db, w.acme, &reply, Utc::now().date_naive()).await.unwrap();
    leads::upsert_interested(db, w.acme, &reply, Utc::now().date_naive()).await.unwrap();
    let kinds: Vec<String> = events::since(db, w.acme, 0, 10).await.unwrap().into_iter().map(|e| e.kind).collect();
    assert_eq!(kinds, vec!["lead.created", "lead.interested"]);
    let e = &events::since(db, w.acme, 0, 10).await.unwrap()[0];
    let data: event_catalog::LeadData = serde_json::from_str(&e.payload).unwrap();
    assert_eq!((data.email.as_str(), data.first_name.as_str(), data.source.as_str(), data.stage.as_str()), ("new@example.com", "New", "email_bison", "new"));
    // A refused move writes no event.
    let id = e.lead_id.unwrap();
    let before = events::since(db, w.acme, 0, 100).await.unwrap().len();
    assert!(pipeline::move_lead(db, &w.client, id, pipeline::Move { to_stage: "won".into(), ..Default::default() }, Utc::now().date_naive()).await.is_err());
    assert_eq!(events::since(db, w.acme, 0, 100).await.unwrap().len(), before);
}
