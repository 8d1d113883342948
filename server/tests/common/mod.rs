//! A real Maverick host on a loopback port over a fresh database (SQLite, or PostgreSQL when
//! TEST_DATABASE_URL is set), with two client workspaces: A (ours) and B (someone else's).

#![allow(dead_code)]

use std::net::SocketAddr;

use backend::{
    tenancy::access::{self, GrantLevel},
    identity::users::{self, NewUser, Role},
    tenancy::workspaces::{self, WorkspaceInput},
    AppState,
};
use leptos::config::LeptosOptions;
use reqwest::{redirect::Policy, Client, Response};
use server::{router, HostState};

pub const PASSWORD: &str = "password-123";

pub struct Fixture {
    pub admin_id: i64,
    pub client_a_id: i64,
    pub client_b_id: i64,
    pub viewer_a_id: i64,
    pub ws_a: i64,
    pub ws_b: i64,
    /// A lead of A, and one of B with a note by B's client.
    pub lead_a: i64,
    pub lead_b: i64,
    pub note_b: i64,
}

/// Strings that only workspace B's data contains: none may ever reach a user of A.
pub const B_MARKERS: &[&str] = &["Beta Secret Dental", "beta-secret", "clientb@beta.test", "Bea Beta"];

pub struct TestServer {
    pub base: String,
    pub state: AppState,
    pub fx: Fixture,
}

async fn user(state: &AppState, email: &str, name: &str, role: Role) -> i64 {
    users::create(&state.db, NewUser { email: email.into(), display_name: name.into(), role, password: PASSWORD.into() })
        .await
        .unwrap()
        .id
}

pub async fn start() -> TestServer {
    start_with(|_| {}).await
}

/// Same, with the configuration changed first.
pub async fn start_with(change: impl FnOnce(&mut backend::platform::config::Config)) -> TestServer {
    let mut state = backend::platform::testing::test_state().await;
    // Open live streams re-check their session often, so tests see a revocation quickly.
    let mut config = (*state.config).clone();
    config.stream_recheck = std::time::Duration::from_millis(300);
    // A data folder of its own, so a test can look at the files it (and only it) left.
    config.data_dir = std::env::temp_dir().join("maverick-tests").join(format!("host-{}", uuid::Uuid::new_v4().simple()));
    change(&mut config);
    state.config = std::sync::Arc::new(config);
    let db = &state.db;
    let mut a = WorkspaceInput::named("Acme Roofing");
    a.monthly_lead_target = 40;
    let ws_a = workspaces::create(db, a).await.unwrap().id;
    let mut b = WorkspaceInput::named("Beta Secret Dental");
    b.slug = "beta-secret".into();
    let ws_b = workspaces::create(db, b).await.unwrap().id;
    workspaces::set_bison_credentials(db, &state.secrets, ws_b, Some("77"), Some("bison-secret-key-of-b")).await.unwrap();
    let admin_id = user(&state, "admin@agency.test", "Ada Admin", Role::Admin).await;
    let client_a_id = user(&state, "clienta@acme.test", "Al Acme", Role::Client).await;
    let client_b_id = user(&state, "clientb@beta.test", "Bea Beta", Role::Client).await;
    let viewer_a_id = user(&state, "viewera@acme.test", "Vi Acme", Role::Viewer).await;
    let now = chrono::Utc::now();
    access::grant(db, client_a_id, ws_a, GrantLevel::Client, admin_id, now).await.unwrap();
    access::grant(db, viewer_a_id, ws_a, GrantLevel::Viewer, admin_id, now).await.unwrap();
    access::grant(db, client_b_id, ws_b, GrantLevel::Client, admin_id, now).await.unwrap();
    let lead = |email: &str, company: &str| backend::leads::NewLead {
        email: email.into(),
        company: Some(company.into()),
        reply_text: Some("Yes, interested".into()),
        received_at: Some(now),
        interested_day: Some(now.date_naive()),
        stage: backend::leads::Stage::New,
        ..Default::default()
    };
    let lead_a = backend::leads::insert(db, ws_a, &lead("pat@acme-customer.test", "Acme Customer")).await.unwrap();
    let lead_b = backend::leads::insert(db, ws_b, &lead("lead@beta-secret.test", "Beta Secret Dental patient")).await.unwrap();
    let client_b = backend::identity::sessions::SessionUser {
        session_id: 0,
        user_id: client_b_id,
        email: "clientb@beta.test".into(),
        display_name: "Bea Beta".into(),
        role: Role::Client,
    };
    let note_b = backend::leads::pipeline::add_note(db, &client_b, lead_b, "Beta Secret Dental private note").await.unwrap();

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let leptos = LeptosOptions::builder()
        .output_name("maverick")
        .site_root(std::env::temp_dir().join("maverick-tests").join("site").display().to_string())
        .site_pkg_dir("pkg")
        .site_addr(addr)
        .build();
    let app = router::build(HostState { app: state.clone(), leptos });
    tokio::spawn(async move {
        axum::serve(listener, app.into_make_service_with_connect_info::<SocketAddr>()).await.unwrap();
    });
    TestServer { base: format!("http://{addr}"), state, fx: Fixture { admin_id, client_a_id, client_b_id, viewer_a_id, ws_a, ws_b, lead_a, lead_b, note_b } }
}

/// A browser-like client: keeps cookies, does not follow redirects (tests look at them).
pub fn browser() -> Client {
    Client::builder().cookie_store(true).redirect(Policy::none()).build().unwrap()
}

impl TestServer {
    /// Starts what `serve` runs beside the router for live boards: the tail of the event log.
    pub fn tail_events(&self) {
        tokio::spawn(backend::platform::events::tail(self.state.db.clone(), self.state.events.clone(), std::time::Duration::from_millis(50)));
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    pub async fn sign_in(&self, email: &str) -> Client {
        let client = browser();
        let res = self.post_login(&client, email, PASSWORD, None).await;
        assert_eq!(res.status(), 303, "sign-in of {email} should redirect");
        let to = res.headers()["location"].to_str().unwrap().to_owned();
        assert!(!to.contains("error="), "sign-in of {email} failed: {to}");
        client
    }

    pub async fn post_login(&self, client: &Client, email: &str, password: &str, next: Option<&str>) -> Response {
        let mut form = vec![("email", email), ("password", password)];
        if let Some(n) = next {
            form.push(("next", n));
        }
        client.post(self.url("/auth/login")).form(&form).send().await.unwrap()
    }

    /// Calls a server function the way the browser does (form-encoded arguments).
    pub async fn call(&self, client: &Client, path: &str, args: &[(&str, String)]) -> (u16, String) {
        let res = client.post(self.url(path)).header("accept", "application/json").form(args).send().await.unwrap();
        let status = res.status().as_u16();
        (status, res.text().await.unwrap())
    }
}
