//! The admin's guard rails on accounts: nobody disables themselves, and the agency always keeps
//! an active admin, even when two admins disable each other at the same moment. SQLite by
//! default, PostgreSQL when TEST_DATABASE_URL points at a server (`make test` runs both).

use backend::{
    identity::admin::set_user_disabled,
    identity::auth::{self, ClientInfo},
    identity::sessions::{self, SessionUser},
    identity::users::{self, NewUser, Role},
    platform::error::Error,
    platform::testing::test_state,
    AppState,
};
use chrono::Utc;

fn client() -> ClientInfo {
    ClientInfo { ip: Some("203.0.113.9".into()), user_agent: Some("tests".into()) }
}

/// Creates an account and signs it in.
async fn signed_in(state: &AppState, email: &str, role: Role) -> SessionUser {
    let new = NewUser { email: email.into(), display_name: email.split('@').next().unwrap().into(), role, password: "password-123".into() };
    users::create(&state.db, new).await.unwrap();
    let c = &state.config;
    let (token, _) = auth::login(&state.db, email, "password-123", &client(), &c.sessions, &c.throttle).await.unwrap();
    sessions::resolve(&state.db, &token, &c.sessions, Utc::now()).await.unwrap().expect("fresh session resolves")
}

async fn active_admins(state: &AppState) -> Vec<String> {
    users::list(&state.db).await.unwrap().into_iter().filter(|u| u.role == Role::Admin && !u.disabled).map(|u| u.email).collect()
}

#[tokio::test]
async fn an_admin_cannot_disable_themselves() {
    let state = test_state().await;
    let ada = signed_in(&state, "ada@agency.test", Role::Admin).await;
    let _bea = signed_in(&state, "bea@agency.test", Role::Admin).await;
    let err = set_user_disabled(&state.db, &ada, ada.user_id, true, &client()).await.unwrap_err();
    assert!(matches!(&err, Error::Invalid(m) if m == "You can't disable your own account: ask another admin to do it."), "{err:?}");
    assert_eq!(err.status(), 400);
    assert!(!users::get(&state.db, ada.user_id).await.unwrap().disabled);
    assert_eq!(active_admins(&state).await, vec!["ada@agency.test", "bea@agency.test"]);
}

#[tokio::test]
async fn the_last_active_admin_cannot_be_disabled() {
    let state = test_state().await;
    let ada = signed_in(&state, "ada@agency.test", Role::Admin).await;
    let bea = signed_in(&state, "bea@agency.test", Role::Admin).await;
    let cal = signed_in(&state, "cal@client.test", Role::Client).await;
    // Two admins: one may disable the other (and a client account is never "the last admin").
    set_user_disabled(&state.db, &ada, cal.user_id, true, &client()).await.unwrap();
    set_user_disabled(&state.db, &ada, bea.user_id, true, &client()).await.unwrap();
    // Bea's request was already under way when she was disabled: Ada is now the only admin left.
    let err = set_user_disabled(&state.db, &bea, ada.user_id, true, &client()).await.unwrap_err();
    assert!(
        matches!(&err, Error::Conflict(m) if m == "ada@agency.test is the last active admin: make another admin first, or nobody could manage the agency."),
        "{err:?}"
    );
    assert_eq!(err.status(), 409);
    assert_eq!(active_admins(&state).await, vec!["ada@agency.test"]);
    // Re-enabling is never refused, and then Bea may be disabled again.
    set_user_disabled(&state.db, &ada, bea.user_id, false, &client()).await.unwrap();
    assert_eq!(active_admins(&state).await, vec!["ada@agency.test", "bea@agency.test"]);
    assert!(matches!(set_user_disabled(&state.db, &ada, 987_654, true, &client()).await, Err(Error::NotFound)));
}

/// Two admins disabling each other at once: exactly one wins, one admin stays active.
#[tokio::test]
async fn two_admins_disabling_each_other_at_once_leave_one_admin() {
    let state = test_state().await;
    let ada = signed_in(&state, "ada@agency.test", Role::Admin).await;
    let bea = signed_in(&state, "bea@agency.test", Role::Admin).await;
    for round in 0..12 {
        let info = client();
        let (a, b) = tokio::join!(
            set_user_disabled(&state.db, &ada, bea.user_id, true, &info),
            set_user_disabled(&state.db, &bea, ada.user_id, true, &info),
        );
        assert_eq!(a.is_ok() as u8 + b.is_ok() as u8, 1, "round {round}: exactly one may win: {a:?} {b:?}");
        let loser = if a.is_ok() { b } else { a };
        assert!(matches!(loser, Err(Error::Conflict(m)) if m.contains("is the last active admin")), "round {round}");
        assert_eq!(active_admins(&state).await.len(), 1, "round {round}");
        let (winner, other) = if active_admins(&state).await == ["ada@agency.test"] { (&ada, &bea) } else { (&bea, &ada) };
        set_user_disabled(&state.db, winner, other.user_id, false, &client()).await.unwrap();
    }
}
