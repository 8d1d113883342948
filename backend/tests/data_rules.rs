//! The core's data rules against a real database: SQLite by default, PostgreSQL when
//! TEST_DATABASE_URL points at a server (`make test` runs both).

use backend::{
    tenancy::access::{self, AccessLevel, GrantLevel},
    tenancy::admin,
    identity::auth::{self, ClientInfo, LoginError},
    platform::error::Error,
    identity::sessions::{self, SessionUser},
    platform::testing::test_state,
    identity::users::{self, NewUser, Role},
    tenancy::workspaces::{self, WorkspaceInput},
    AppState,
};
use chrono::{Duration, Utc};

fn client() -> ClientInfo {
    ClientInfo { ip: Some("203.0.113.7".into()), user_agent: Some("tests".into()) }
}

async fn user(state: &AppState, email: &str, role: Role) -> users::User {
    users::create(
        &state.db,
        NewUser { email: email.into(), display_name: email.split('@').next().unwrap().into(), role, password: "password-123".into() },
    )
    .await
    .unwrap()
}

async fn sign_in(state: &AppState, email: &str, password: &str) -> Result<(String, SessionUser), LoginError> {
    let c = &state.config;
    let (token, _) = auth::login(&state.db, email, password, &client(), &c.sessions, &c.throttle).await?;
    let who = sessions::resolve(&state.db, &token, &c.sessions, Utc::now()).await.unwrap().expect("fresh session resolves");
    Ok((token, who))
}

#[tokio::test]
async fn emails_are_unique_case_insensitively() {
    let state = test_state().await;
    let u = user(&state, "Ann@Example.com", Role::Client).await;
    assert_eq!(u.email, "ann@example.com");
    let err = users::create(
        &state.db,
        NewUser { email: "ANN@example.COM".into(), display_name: "Ann 2".into(), role: Role::Viewer, password: "password-123".into() },
    )
    .await
    .unwrap_err();
    assert!(matches!(err, Error::Conflict(ref m) if m.contains("ann@example.com")), "{err:?}");
    // The stored hash is argon2id.
    let hash: String = backend::on_db!(&state.db, |p| sqlx::query_scalar("SELECT password_hash FROM users WHERE id = $1")
        .bind(u.id)
        .fetch_one(p)
        .await)
    .unwrap();
    assert!(hash.starts_with("$argon2id$"));
}

#[tokio::test]
async fn login_checks_password_disabled_accounts_and_records_last_login() {
    let state = test_state().await;
    let u = user(&state, "casey@acme.test", Role::Client).await;
    assert!(matches!(sign_in(&state, "casey@acme.test", "nope-nope-nope").await, Err(LoginError::WrongCredentials)));
    assert!(matches!(sign_in(&state, "nobody@acme.test", "password-123").await, Err(LoginError::WrongCredentials)));
    assert!(matches!(sign_in(&state, "", "").await, Err(LoginError::MissingFields)));

    let (_, who) = sign_in(&state, "  CASEY@acme.test ", "password-123").await.unwrap();
    assert_eq!((who.user_id, who.role), (u.id, Role::Client));
    assert!(users::get(&state.db, u.id).await.unwrap().last_login_at.is_some());

    users_set_disabled(&state, u.id).await;
    assert!(matches!(sign_in(&state, "casey@acme.test", "password-123").await, Err(LoginError::Disabled)));
}

async fn users_set_disabled(state: &AppState, id: i64) {
    let admin_user = user(state, &format!("admin{id}@agency.test"), Role::Admin).await;
    let (_, admin) = sign_in(state, &admin_user.email, "password-123").await.unwrap();
    backend::identity::admin::set_user_disabled(&state.db, &admin, id, true, &client()).await.unwrap();
}

#[tokio::test]
async fn failed_logins_are_throttled_per_account_then_forgiven_by_success() {
    let state = test_state().await;
    user(&state, "dana@acme.test", Role::Client).await;
    // Policy: 5 failures per account within 15 minutes.
    for _ in 0..4 {
        assert!(matches!(sign_in(&state, "dana@acme.test", "wrong-password").await, Err(LoginError::WrongCredentials)));
    }
    // Fourth failure so far: a correct password still gets in and clears the account's count.
    sign_in(&state, "dana@acme.test", "password-123").await.unwrap();
    for _ in 0..5 {
        assert!(matches!(sign_in(&state, "dana@acme.test", "wrong-password").await, Err(LoginError::WrongCredentials)));
    }
    // Sixth attempt: refused even with the right password, with a wait of at most 15 minutes.
    match sign_in(&state, "dana@acme.test", "password-123").await {
        Err(LoginError::Throttled { retry_after_minutes }) => assert!((1..=15).contains(&retry_after_minutes)),
        other => panic!("expected throttling, got {:?}", other.map(|_| ())),
    }
}

#[tokio::test]
async fn failed_logins_are_throttled_per_ip_across_accounts() {
    let state = test_state().await;
    // Policy: 30 failures per IP. Spread over many accounts so no account limit is reached.
    for i in 0..30 {
        let _ = sign_in(&state, &format!("user{}@spray.test", i % 10), "wrong-password").await;
    }
    user(&state, "eve@acme.test", Role::Client).await;
    assert!(matches!(sign_in(&state, "eve@acme.test", "password-123").await, Err(LoginError::Throttled { .. })));
}

#[tokio::test]
async fn sessions_expire_when_idle_or_too_old_and_end_at_logout() {
    let state = test_state().await;
    user(&state, "fay@acme.test", Role::Client).await;
    let (token, _) = sign_in(&state, "fay@acme.test", "password-123").await.unwrap();
    let policy = state.config.sessions; // idle 8 h, absolute 7 days
    let now = Utc::now();
    assert!(sessions::resolve(&state.db, &token, &policy, now + Duration::hours(7)).await.unwrap().is_some());
    // That use refreshed the idle clock: 7 h + 7 h later is still inside the idle window from it.
    assert!(sessions::resolve(&state.db, &token, &policy, now + Duration::hours(14)).await.unwrap().is_some());
    // 8 h 1 min of silence after the last use ends it.
    assert!(sessions::resolve(&state.db, &token, &policy, now + Duration::hours(22) + Duration::minutes(2)).await.unwrap().is_none());

    let (token2, who) = sign_in(&state, "fay@acme.test", "password-123").await.unwrap();
    // Absolute expiry: even if used constantly, a session ends after 7 days.
    let mut t = now;
    while t < now + Duration::days(7) - Duration::hours(1) {
        t += Duration::hours(6);
        if t >= now + Duration::days(7) {
            break;
        }
        assert!(sessions::resolve(&state.db, &token2, &policy, t).await.unwrap().is_some(), "alive at {t}");
    }
    assert!(sessions::resolve(&state.db, &token2, &policy, now + Duration::days(7) + Duration::minutes(1)).await.unwrap().is_none());

    auth::logout(&state.db, &token2, Some(&who), &client()).await.unwrap();
    assert!(sessions::resolve(&state.db, &token2, &policy, Utc::now()).await.unwrap().is_none());
    // The token itself is never stored.
    let stored: Vec<String> = backend::on_db!(&state.db, |p| sqlx::query_scalar("SELECT token_hash FROM sessions").fetch_all(p).await).unwrap();
    assert!(stored.iter().all(|h| h.len() == 64 && h != &token && h != &token2));
}

#[tokio::test]
async fn changing_a_password_keeps_this_session_and_ends_the_others() {
    let state = test_state().await;
    user(&state, "gus@acme.test", Role::Client).await;
    let (token_a, who_a) = sign_in(&state, "gus@acme.test", "password-123").await.unwrap();
    let (token_b, _) = sign_in(&state, "gus@acme.test", "password-123").await.unwrap();
    let err = auth::change_own_password(&state.db, &who_a, "wrong", "new-password-1", "new-password-1", &client(), &state.config.throttle).await.unwrap_err();
    assert!(err.to_string().contains("current password is wrong"));
    let err = auth::change_own_password(&state.db, &who_a, "password-123", "new-password-1", "new-password-2", &client(), &state.config.throttle).await.unwrap_err();
    assert!(err.to_string().contains("differ"));
    let err = auth::change_own_password(&state.db, &who_a, "password-123", "short", "short", &client(), &state.config.throttle).await.unwrap_err();
    assert!(err.to_string().contains("at least 10"));
    auth::change_own_password(&state.db, &who_a, "password-123", "new-password-1", "new-password-1", &client(), &state.config.throttle).await.unwrap();

    let policy = state.config.sessions;
    assert!(sessions::resolve(&state.db, &token_a, &policy, Utc::now()).await.unwrap().is_some());
    assert!(sessions::resolve(&state.db, &token_b, &policy, Utc::now()).await.unwrap().is_none());
    assert!(sign_in(&state, "gus@acme.test", "password-123").await.is_err());
    sign_in(&state, "gus@acme.test", "new-password-1").await.unwrap();
}

#[tokio::test]
async fn admins_manage_users_and_grants_and_everything_is_audited() {
    let state = test_state().await;
    let db = &state.db;
    let admin_user = user(&state, "root@agency.test", Role::Admin).await;
    let (_, admin) = sign_in(&state, "root@agency.test", "password-123").await.unwrap();
    let ws_a = workspaces::create(db, WorkspaceInput::named("Acme Roofing")).await.unwrap();
    let ws_b = workspaces::create(db, WorkspaceInput::named("Beta Dental")).await.unwrap();
    let new = backend::identity::admin::create_user(
        db,
        &admin,
        NewUser { email: "hal@acme.test".into(), display_name: "Hal".into(), role: Role::Client, password: "password-123".into() },
        &client(),
    )
    .await
    .unwrap();
    admin::grant_access(db, &admin, new.id, ws_a.id, GrantLevel::Client, &client()).await.unwrap();
    let (token, hal) = sign_in(&state, "hal@acme.test", "password-123").await.unwrap();

    // Hal sees A (as client), not B; a made-up id looks exactly like B.
    assert_eq!(access::level_in(db, &hal, ws_a.id).await.unwrap(), AccessLevel::Client);
    assert!(matches!(access::level_in(db, &hal, ws_b.id).await, Err(Error::NotFound)));
    assert!(matches!(access::level_in(db, &hal, 987_654).await, Err(Error::NotFound)));
    let visible: Vec<_> = workspaces::list_visible(db, &hal).await.unwrap().into_iter().map(|(w, _)| w.slug).collect();
    assert_eq!(visible, vec!["acme-roofing"]);
    assert!(matches!(workspaces::visible_by_slug(db, &hal, "beta-dental").await, Err(Error::NotFound)));

    // Non-admins can't administer.
    assert!(matches!(admin::grant_access(db, &hal, hal.user_id, ws_b.id, GrantLevel::Client, &client()).await, Err(Error::Forbidden)));
    assert!(matches!(backend::identity::admin::set_user_disabled(db, &hal, admin_user.id, true, &client()).await, Err(Error::Forbidden)));

    // A grant downgraded to viewer makes Hal read-only.
    admin::grant_access(db, &admin, new.id, ws_a.id, GrantLevel::Viewer, &client()).await.unwrap();
    assert!(matches!(access::require_write(db, &hal, ws_a.id).await, Err(Error::Forbidden)));
    admin::revoke_access(db, &admin, new.id, ws_a.id, &client()).await.unwrap();
    assert!(matches!(access::level_in(db, &hal, ws_a.id).await, Err(Error::NotFound)));
    assert!(matches!(admin::revoke_access(db, &admin, new.id, ws_a.id, &client()).await, Err(Error::NotFound)));

    // Admin guard rails.
    assert!(backend::identity::admin::set_user_disabled(db, &admin, admin.user_id, true, &client()).await.unwrap_err().to_string().contains("your own"));
    // Disabling ends the user's sessions at once; re-enabling lets them sign in again.
    backend::identity::admin::set_user_disabled(db, &admin, new.id, true, &client()).await.unwrap();
    assert!(sessions::resolve(db, &token, &state.config.sessions, Utc::now()).await.unwrap().is_none());
    backend::identity::admin::set_user_disabled(db, &admin, new.id, false, &client()).await.unwrap();
    backend::identity::admin::reset_password(db, &admin, new.id, "reset-password-9", &client()).await.unwrap();
    sign_in(&state, "hal@acme.test", "reset-password-9").await.unwrap();
    assert!(matches!(admin::grant_access(db, &admin, new.id, 424_242, GrantLevel::Client, &client()).await, Err(Error::Invalid(m)) if m.contains("no workspace")));

    let actions: Vec<String> = backend::identity::audit::recent(db, 100).await.unwrap().into_iter().map(|a| a.action).collect();
    for expected in ["user.created", "access.granted", "access.revoked", "user.disabled", "user.enabled", "user.password_reset", "login"] {
        assert!(actions.iter().any(|a| a == expected), "missing audit action {expected}: {actions:?}");
    }
}

#[tokio::test]
async fn viewer_role_is_read_only_even_with_a_client_grant() {
    let state = test_state().await;
    let db = &state.db;
    let ws = workspaces::create(db, WorkspaceInput::named("Acme Roofing")).await.unwrap();
    let v = user(&state, "vic@acme.test", Role::Viewer).await;
    access::grant(db, v.id, ws.id, GrantLevel::Client, v.id, Utc::now()).await.unwrap();
    let (_, vic) = sign_in(&state, "vic@acme.test", "password-123").await.unwrap();
    assert_eq!(access::level_in(db, &vic, ws.id).await.unwrap(), AccessLevel::Viewer);
    assert!(matches!(access::require_write(db, &vic, ws.id).await, Err(Error::Forbidden)));
}

#[tokio::test]
async fn workspace_slugs_are_unique_and_bison_keys_are_sealed_at_rest() {
    let state = test_state().await;
    let db = &state.db;
    let ws = workspaces::create(db, WorkspaceInput::named("Acme Roofing & Co.")).await.unwrap();
    assert_eq!(ws.slug, "acme-roofing-co");
    let err = workspaces::create(db, WorkspaceInput::named("Acme Roofing Co")).await.unwrap_err();
    assert!(matches!(err, Error::Conflict(ref m) if m.contains("acme-roofing-co")), "{err:?}");

    let key = "bison_live_Zx81KqP0secret";
    workspaces::set_bison_credentials(db, &state.secrets, ws.id, Some("42"), Some(key)).await.unwrap();
    let raw: Vec<u8> = backend::on_db!(db, |p| sqlx::query_scalar("SELECT bison_api_key_enc FROM workspaces WHERE id = $1")
        .bind(ws.id)
        .fetch_one(p)
        .await)
    .unwrap();
    assert!(!raw.windows(key.len()).any(|w| w == key.as_bytes()), "the key must not be stored in clear");
    let read = workspaces::get(db, ws.id).await.unwrap();
    assert_eq!(read.bison_api_key_hint.as_deref(), Some("cret"));
    assert_eq!(workspaces::masked_key(read.bison_api_key_hint.as_deref()).unwrap(), "••••cret");
    assert_eq!(workspaces::bison_api_key(db, &state.secrets, ws.id).await.unwrap().as_deref(), Some(key));
    workspaces::set_bison_credentials(db, &state.secrets, ws.id, None, None).await.unwrap();
    assert_eq!(workspaces::bison_api_key(db, &state.secrets, ws.id).await.unwrap(), None);
}

#[tokio::test]
async fn maintenance_prunes_exactly_what_is_expired() {
    let state = test_state().await;
    let db = &state.db;
    let u = user(&state, "ida@acme.test", Role::Client).await;
    let policy = state.config.sessions;
    let now = Utc::now();
    // Fresh; idle for 9 h (expired); created 8 days ago (past absolute).
    sessions::create(db, u.id, None, None, &policy, now).await.unwrap();
    let idle = sessions::create(db, u.id, None, None, &policy, now - Duration::hours(9)).await.unwrap();
    sessions::create(db, u.id, None, None, &policy, now - Duration::days(8)).await.unwrap();
    assert!(sessions::resolve(db, &idle, &policy, now).await.unwrap().is_none());
    backend::identity::audit::record(db, None, Some("x"), "old.thing", None, None).await.unwrap();
    backend::on_db!(db, |p| sqlx::query("UPDATE audit_log SET at = $1 WHERE action = 'old.thing'")
        .bind(now - Duration::days(400))
        .execute(p)
        .await
        .map(|_| ()))
    .unwrap();
    backend::identity::audit::record(db, None, Some("x"), "new.thing", None, None).await.unwrap();
    backend::identity::throttle::record_failure(db, "ida@acme.test", Some("198.51.100.1"), now - Duration::minutes(20)).await.unwrap();
    backend::identity::throttle::record_failure(db, "ida@acme.test", Some("198.51.100.1"), now).await.unwrap();
    let ws = backend::tenancy::workspaces::create(db, backend::tenancy::workspaces::WorkspaceInput::named("Acme")).await.unwrap().id;
    for days_ago in [31, 29] {
        backend::platform::events::publish(db, &backend::platform::events::NewEvent::new(ws, "lead.stage_changed", &serde_json::json!({}))).await.unwrap();
        backend::on_db!(db, |p| sqlx::query("UPDATE workspace_events SET at = $1 WHERE id = (SELECT MAX(id) FROM workspace_events)")
            .bind(now - Duration::days(days_ago))
            .execute(p)
            .await
            .map(|_| ()))
        .unwrap();
    }

    // Idempotency keys of 25 h and 23 h ago (24 h are kept).
    let a = user(&state, "root@agency.test", Role::Admin).await;
    let caller = backend::identity::sessions::SessionUser { session_id: 0, user_id: a.id, email: a.email.clone(), display_name: "A".into(), role: Role::Admin };
    let new = backend::tenancy::api_tokens::NewToken { name: "t".into(), workspace_id: Some(ws), scope: backend::tenancy::api_tokens::TokenScope::Read, expires_in_days: None };
    let (token, _) = backend::tenancy::api_tokens::create(db, &caller, &new, now).await.unwrap();
    for (key, hours) in [("old", 25), ("new", 23)] {
        backend::platform::idempotency::claim(db, token.id, key, "fp", Duration::hours(48), now - Duration::hours(hours)).await.unwrap();
    }

    let report = backend::identity::maintenance::prune(db, &state.config, now).await.unwrap();
    // 2 sessions; 2 failure rows (account + ip) of the old attempt; 1 audit row older than 365
    // days; the event of 31 days ago (30 days are kept); the key of 25 h ago.
    assert_eq!(report, backend::identity::maintenance::PruneReport { sessions: 2, login_failures: 2, audit_rows: 1, events: 1, idempotency_keys: 1, reset_links: 0 });
    assert_eq!(sessions::count_for_user(db, u.id).await.unwrap(), 1);
}

#[tokio::test]
async fn agency_time_zone_defaults_to_new_york_and_rejects_unknown_zones() {
    let state = test_state().await;
    assert_eq!(backend::tenancy::settings::agency_time_zone(&state.db).await.unwrap(), chrono_tz::America::New_York);
    let err = backend::tenancy::settings::set_agency_time_zone(&state.db, "Mars/Olympus").await.unwrap_err();
    assert!(err.to_string().contains("IANA"));
    backend::tenancy::settings::set_agency_time_zone(&state.db, "Europe/Paris").await.unwrap();
    assert_eq!(backend::tenancy::settings::agency_time_zone(&state.db).await.unwrap(), chrono_tz::Europe::Paris);
}

#[tokio::test]
async fn demo_seeding_happens_once_and_only_into_an_empty_database() {
    let state = test_state().await;
    assert!(backend::runtime::demo::seed_if_empty(&state.db).await.unwrap());
    assert!(!backend::runtime::demo::seed_if_empty(&state.db).await.unwrap());
    let (token, client) = sign_in(&state, "client@demo.maverick", "demo-client-pass").await.unwrap();
    assert!(!token.is_empty());
    let visible: Vec<_> = workspaces::list_visible(&state.db, &client).await.unwrap().into_iter().map(|(w, _)| w.slug).collect();
    assert_eq!(visible, vec!["acme-roofing"]);
}

/// Issue 11 (4): the limit is counted before the slow password check, so a burst of parallel
/// wrong passwords gets at most `max_failures_per_account` real guesses, not all of them.
#[tokio::test]
async fn parallel_wrong_passwords_get_no_more_guesses_than_the_limit() {
    let state = test_state().await;
    user(&state, "flood@acme.test", Role::Client).await;
    let limit = state.config.throttle.max_failures_per_account;
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..20 {
        let state = state.clone();
        // Different addresses: only the account limit applies.
        let client = ClientInfo { ip: Some(format!("198.51.100.{i}")), user_agent: None };
        tasks.spawn(async move {
            let c = &state.config;
            auth::login(&state.db, "flood@acme.test", "wrong-guess", &client, &c.sessions, &c.throttle).await.map(|_| ())
        });
    }
    let (mut guessed, mut refused) = (0, 0);
    while let Some(outcome) = tasks.join_next().await {
        match outcome.unwrap() {
            Err(LoginError::WrongCredentials) => guessed += 1,
            Err(LoginError::Throttled { .. }) => refused += 1,
            other => panic!("unexpected outcome {other:?}"),
        }
    }
    assert!(guessed <= limit, "{guessed} passwords were checked; the limit is {limit}");
    assert_eq!(guessed + refused, 20);
    // A burst may be refused more than needed (never less): the guesses left are still allowed,
    // and once `limit` were made the account is locked, even for the right password.
    for _ in guessed..limit {
        assert!(matches!(sign_in(&state, "flood@acme.test", "wrong-guess").await, Err(LoginError::WrongCredentials)));
    }
    assert!(matches!(sign_in(&state, "flood@acme.test", "password-123").await, Err(LoginError::Throttled { .. })));
}

/// Issue 11 (5): a stolen session can't brute-force the current password through "change password".
#[tokio::test]
async fn wrong_current_passwords_are_throttled_like_sign_ins() {
    let state = test_state().await;
    user(&state, "pat@acme.test", Role::Client).await;
    let (_, who) = sign_in(&state, "pat@acme.test", "password-123").await.unwrap();
    let limit = state.config.throttle.max_failures_per_account;
    for _ in 0..limit {
        let err = auth::change_own_password(&state.db, &who, "guess-guess", "next-password-1", "next-password-1", &client(), &state.config.throttle).await;
        assert!(matches!(err, Err(Error::Invalid(ref m)) if m.contains("current password is wrong")), "{err:?}");
    }
    let err = auth::change_own_password(&state.db, &who, "password-123", "next-password-1", "next-password-1", &client(), &state.config.throttle).await;
    assert!(matches!(err, Err(Error::TooManyAttempts { .. })), "the right password is refused once the limit is reached: {err:?}");
    assert!(matches!(sign_in(&state, "pat@acme.test", "password-123").await, Err(LoginError::Throttled { .. })));
}
