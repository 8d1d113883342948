//! Password reset by email (issue 19) against a local SMTP server: the mail arrives with the
//! link, the link works once, expired and reused links are refused, an unknown address gets the
//! same answer and no mail, requests are throttled, and every session of the user ends.
//! SQLite by default, PostgreSQL when TEST_DATABASE_URL points at a server.

use std::sync::Arc;

use backend::{
    identity::auth::{self, ClientInfo},
    identity::reset::{self, LinkState, ResetError},
    identity::sessions::{self, SessionUser},
    identity::users::{self, NewUser, Role},
    platform::config::MailSettings,
    platform::error::Error,
    platform::testing::{test_state, FakeSmtp},
    runtime::password_reset::{self, Delivery},
    AppState,
};
use chrono::Utc;

fn client(ip: &str) -> ClientInfo {
    ClientInfo { ip: Some(ip.into()), user_agent: Some("tests".into()) }
}

/// A state whose mail goes to `smtp`, with links on https://maverick.example.
async fn mailing_state(smtp: &FakeSmtp) -> AppState {
    let mut state = test_state().await;
    let mut config = (*state.config).clone();
    config.public_url = Some("https://maverick.example".into());
    config.mail = MailSettings { smtp_url: Some(smtp.url()), from: Some("Maverick <noreply@agency.test>".into()) };
    state.config = Arc::new(config);
    state
}

async fn user(state: &AppState, email: &str, role: Role) -> i64 {
    let new = NewUser { email: email.into(), display_name: "Ida Client".into(), role, password: "old-password-1".into() };
    users::create(&state.db, new).await.unwrap().id
}

async fn sign_in(state: &AppState, email: &str, password: &str) -> Result<String, auth::LoginError> {
    let c = &state.config;
    auth::login(&state.db, email, password, &client("198.51.100.7"), &c.sessions, &c.throttle).await.map(|(t, _)| t)
}

async fn audit_actions(state: &AppState) -> Vec<String> {
    backend::identity::audit::recent(&state.db, 100).await.unwrap().into_iter().map(|e| e.action).collect()
}

#[tokio::test]
async fn a_mailed_link_sets_the_password_once_and_ends_every_session() {
    let smtp = FakeSmtp::start().await;
    let state = mailing_state(&smtp).await;
    let id = user(&state, "ida@client.test", Role::Client).await;
    let s1 = sign_in(&state, "ida@client.test", "old-password-1").await.unwrap();
    let s2 = sign_in(&state, "ida@client.test", "old-password-1").await.unwrap();
    assert_eq!(sessions::count_for_user(&state.db, id).await.unwrap(), 2);

    // Typed with other case and spaces: the same account.
    password_reset::request_link(&state, "  Ida@Client.TEST ", &client("203.0.113.5")).await.unwrap();
    let mails = smtp.wait_for(1).await;
    let mail = &mails[0];
    assert_eq!(mail.from, "noreply@agency.test");
    assert_eq!(mail.to, vec!["ida@client.test".to_string()]);
    assert!(mail.data.contains("Subject: Reset your Maverick password"), "{}", mail.data);
    let text = mail.text();
    assert!(text.contains("https://maverick.example/auth/reset?token="), "{text}");
    assert!(text.contains("within 30 minutes"), "{text}");
    let token = mail.reset_token().unwrap();
    assert_eq!(token.len(), 43);
    // Only the hash is stored.
    let stored: Vec<String> = backend::on_db!(&state.db, |p| sqlx::query_scalar("SELECT token_hash FROM password_resets").fetch_all(p).await).unwrap();
    assert_eq!(stored, vec![backend::platform::crypto::token_hash(&token)]);
    assert_eq!(reset::check(&state.db, &token, Utc::now()).await.unwrap(), LinkState::Valid);

    // Password rules as elsewhere; a refused password does not use the link up.
    let err = reset::complete(&state.db, &token, "short", "short", &client("203.0.113.5"), Utc::now()).await.unwrap_err();
    assert_eq!(err.code(), "short");
    let err = reset::complete(&state.db, &token, "new-password-22", "new-password-23", &client("203.0.113.5"), Utc::now()).await.unwrap_err();
    assert_eq!(err.code(), "mismatch");

    let done = reset::complete(&state.db, &token, "new-password-22", "new-password-22", &client("203.0.113.5"), Utc::now()).await.unwrap();
    assert_eq!(done, id);
    // Every session ended (both of them), the new password works, the old does not.
    assert_eq!(sessions::count_for_user(&state.db, id).await.unwrap(), 0);
    for s in [&s1, &s2] {
        assert!(sessions::resolve(&state.db, s, &state.config.sessions, Utc::now()).await.unwrap().is_none());
    }
    assert!(matches!(sign_in(&state, "ida@client.test", "old-password-1").await, Err(auth::LoginError::WrongCredentials)));
    sign_in(&state, "ida@client.test", "new-password-22").await.unwrap();

    // Used: refused, and the password stays.
    assert_eq!(reset::check(&state.db, &token, Utc::now()).await.unwrap(), LinkState::Used);
    let err = reset::complete(&state.db, &token, "third-password-3", "third-password-3", &client("203.0.113.5"), Utc::now()).await.unwrap_err();
    assert!(matches!(err, ResetError::Link(LinkState::Used)), "{err:?}");
    assert_eq!(err.code(), "used");
    sign_in(&state, "ida@client.test", "new-password-22").await.unwrap();

    let actions = audit_actions(&state).await;
    assert!(actions.contains(&"password.reset_requested".to_string()), "{actions:?}");
    assert!(actions.contains(&"password.reset_completed".to_string()), "{actions:?}");
}

#[tokio::test]
async fn expired_links_are_refused_and_a_link_expires_30_minutes_after_its_issue() {
    let smtp = FakeSmtp::start().await;
    let state = mailing_state(&smtp).await;
    user(&state, "ida@client.test", Role::Client).await;
    for _ in 0..2 {
        password_reset::request_link(&state, "ida@client.test", &client("203.0.113.5")).await.unwrap();
    }
    let mails = smtp.wait_for(2).await;
    let (first, second) = (mails[0].reset_token().unwrap(), mails[1].reset_token().unwrap());
    assert_ne!(first, second);

    backend::on_db!(&state.db, |p| sqlx::query("UPDATE password_resets SET expires_at = $1 WHERE token_hash = $2")
        .bind(Utc::now() - chrono::Duration::minutes(1))
        .bind(backend::platform::crypto::token_hash(&first))
        .execute(p)
        .await
        .map(|_| ()))
    .unwrap();
    assert_eq!(reset::check(&state.db, &first, Utc::now()).await.unwrap(), LinkState::Expired);
    let err = reset::complete(&state.db, &first, "new-password-22", "new-password-22", &client("203.0.113.5"), Utc::now()).await.unwrap_err();
    assert_eq!(err.code(), "expired");
    assert!(matches!(sign_in(&state, "ida@client.test", "new-password-22").await, Err(auth::LoginError::WrongCredentials)));

    // A link is worth 30 minutes from its issue: 31 minutes on it has expired.
    let later = Utc::now() + chrono::Duration::minutes(31);
    assert_eq!(reset::check(&state.db, &second, later).await.unwrap(), LinkState::Expired);

    reset::complete(&state.db, &second, "new-password-22", "new-password-22", &client("203.0.113.5"), Utc::now()).await.unwrap();
    assert_eq!(reset::check(&state.db, "not-a-token", Utc::now()).await.unwrap(), LinkState::Unknown);
}

#[tokio::test]
async fn unknown_and_disabled_addresses_get_the_same_answer_and_no_mail() {
    let smtp = FakeSmtp::start().await;
    let state = mailing_state(&smtp).await;
    let id = user(&state, "gone@client.test", Role::Client).await;
    backend::on_db!(&state.db, |p| sqlx::query("UPDATE users SET disabled = TRUE WHERE id = $1").bind(id).execute(p).await.map(|_| ())).unwrap();
    password_reset::request_link(&state, "nobody@client.test", &client("203.0.113.5")).await.unwrap();
    password_reset::request_link(&state, "gone@client.test", &client("203.0.113.5")).await.unwrap();
    // A known address afterwards, and a pause after its mail for any stray one to arrive.
    user(&state, "ida@client.test", Role::Client).await;
    password_reset::request_link(&state, "ida@client.test", &client("203.0.113.5")).await.unwrap();
    let mails = smtp.wait_for(1).await;
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let mails = if smtp.mails().len() > mails.len() { smtp.mails() } else { mails };
    assert_eq!(mails.iter().map(|m| m.to.join(",")).collect::<Vec<_>>(), vec!["ida@client.test"]);
    let links: i64 = backend::on_db!(&state.db, |p| sqlx::query_scalar("SELECT COUNT(*) FROM password_resets").fetch_one(p).await).unwrap();
    assert_eq!(links, 1);
    assert!(audit_actions(&state).await.contains(&"password.reset_requested_unknown".to_string()));
}

#[tokio::test]
async fn requests_are_throttled_per_address_and_per_ip() {
    let smtp = FakeSmtp::start().await;
    let state = mailing_state(&smtp).await;
    // 3 per address an hour, counted for unknown addresses alike (so the limit reveals nothing).
    for _ in 0..3 {
        password_reset::request_link(&state, "nobody@client.test", &client("203.0.113.5")).await.unwrap();
    }
    let err = password_reset::request_link(&state, "nobody@client.test", &client("203.0.113.6")).await.unwrap_err();
    assert!(matches!(&err, Error::TooManyAttempts { message, .. } if message.starts_with("Too many password-reset requests for this account. Try again in 60 minutes")), "{err:?}");
    assert_eq!(err.status(), 429);

    // 20 per IP an hour, whatever the addresses.
    for i in 0..17 {
        password_reset::request_link(&state, &format!("n{i}@client.test"), &client("203.0.113.5")).await.unwrap();
    }
    let err = password_reset::request_link(&state, "fresh@client.test", &client("203.0.113.5")).await.unwrap_err();
    assert!(matches!(&err, Error::TooManyAttempts { message, .. } if message.contains("from your network address")), "{err:?}");
    // Reset requests don't use up sign-in attempts.
    user(&state, "ida@client.test", Role::Client).await;
    let c = &state.config;
    auth::login(&state.db, "ida@client.test", "old-password-1", &client("203.0.113.5"), &c.sessions, &c.throttle).await.unwrap();
}

#[tokio::test]
async fn an_admin_sends_a_set_password_link_and_without_smtp_it_is_logged() {
    let smtp = FakeSmtp::start().await;
    let state = mailing_state(&smtp).await;
    let admin_id = user(&state, "root@agency.test", Role::Admin).await;
    let admin = SessionUser { session_id: 0, user_id: admin_id, email: "root@agency.test".into(), display_name: "Root".into(), role: Role::Admin };
    let new_id = user(&state, "new@client.test", Role::Client).await;
    assert_eq!(password_reset::send_admin_link(&state, &admin, new_id, &client("203.0.113.5")).await.unwrap(), Delivery::Mailed);
    let mails = smtp.wait_for(1).await;
    assert!(mails[0].data.contains("Subject: Set your Maverick password"));
    let token = mails[0].reset_token().unwrap();
    reset::complete(&state.db, &token, "chosen-password-1", "chosen-password-1", &client("203.0.113.8"), Utc::now()).await.unwrap();
    sign_in(&state, "new@client.test", "chosen-password-1").await.unwrap();
    assert!(audit_actions(&state).await.contains(&"user.password_link_sent".to_string()));

    // Not an admin: refused.
    let ida = SessionUser { session_id: 0, user_id: new_id, email: "new@client.test".into(), display_name: "N".into(), role: Role::Client };
    assert!(matches!(password_reset::send_admin_link(&state, &ida, admin_id, &client("203.0.113.5")).await, Err(Error::Forbidden)));

    // Without SMTP the link goes to the log (and is valid).
    let plain = test_state().await;
    let p_admin = user(&plain, "root@agency.test", Role::Admin).await;
    let p_user = user(&plain, "new@client.test", Role::Client).await;
    let p_caller = SessionUser { user_id: p_admin, ..admin };
    assert_eq!(password_reset::send_admin_link(&plain, &p_caller, p_user, &client("203.0.113.5")).await.unwrap(), Delivery::Logged);
}

#[tokio::test]
async fn an_unreachable_smtp_server_is_reported_to_the_admin() {
    let smtp = FakeSmtp::start().await;
    let mut state = mailing_state(&smtp).await;
    let mut config = (*state.config).clone();
    // A port nothing listens on.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap();
    config.mail.smtp_url = Some(format!("smtp://{closed}"));
    state.config = Arc::new(config);
    let admin_id = user(&state, "root@agency.test", Role::Admin).await;
    let admin = SessionUser { session_id: 0, user_id: admin_id, email: "root@agency.test".into(), display_name: "Root".into(), role: Role::Admin };
    let err = password_reset::send_admin_link(&state, &admin, admin_id, &client("203.0.113.5")).await.unwrap_err();
    assert!(err.to_string().contains("Check MAVERICK_SMTP_URL"), "{err}");
}

/// A link waiting in a mailbox (or the log) is void once an admin sets the password or disables
/// the account: after a suspected compromise, an old link must not take the account over.
#[tokio::test]
async fn an_admin_password_change_or_disabling_voids_waiting_links() {
    let smtp = FakeSmtp::start().await;
    let state = mailing_state(&smtp).await;
    let ida = user(&state, "ida@client.test", Role::Client).await;
    let admin_id = user(&state, "ada@agency.test", Role::Admin).await;
    let admin = backend::identity::sessions::SessionUser { session_id: 0, user_id: admin_id, email: "ada@agency.test".into(), display_name: "Ada".into(), role: Role::Admin };
    password_reset::request_link(&state, "ida@client.test", &client("203.0.113.5")).await.unwrap();
    let first = smtp.wait_for(1).await[0].reset_token().unwrap();
    backend::identity::admin::reset_password(&state.db, &admin, ida, "admin-set-pass-9", &client("203.0.113.9")).await.unwrap();
    assert_eq!(reset::check(&state.db, &first, Utc::now()).await.unwrap(), LinkState::Used);
    assert!(reset::complete(&state.db, &first, "taken-over-pass-1", "taken-over-pass-1", &client("203.0.113.5"), Utc::now()).await.is_err());

    password_reset::request_link(&state, "ida@client.test", &client("203.0.113.5")).await.unwrap();
    let second = smtp.wait_for(2).await[1].reset_token().unwrap();
    backend::identity::admin::set_user_disabled(&state.db, &admin, ida, true, &client("203.0.113.9")).await.unwrap();
    assert!(reset::complete(&state.db, &second, "taken-over-pass-1", "taken-over-pass-1", &client("203.0.113.5"), Utc::now()).await.is_err());
    assert!(matches!(sign_in(&state, "ida@client.test", "admin-set-pass-9").await, Err(_)), "still disabled");
}
