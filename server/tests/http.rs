//! The host over real HTTP: sign-in forms, cookies and session rotation, redirects, CSRF origin
//! checks, request ids, health, limits, CSV exports, the DeBounce credit check before a run.

mod common;

use common::{browser, PASSWORD};

fn set_cookies(res: &reqwest::Response) -> Vec<String> {
    res.headers().get_all("set-cookie").iter().map(|v| v.to_str().unwrap().to_owned()).collect()
}

fn session_token(res: &reqwest::Response) -> Option<String> {
    set_cookies(res)
        .iter()
        .find_map(|c| c.strip_prefix("maverick_session=").map(|rest| rest.split(';').next().unwrap().to_owned()))
        .filter(|t| !t.is_empty())
}

#[tokio::test]
async fn sign_in_sets_a_hardened_cookie_and_lands_by_role_or_on_next() {
    let srv = common::start().await;
    let c = browser();
    let res = srv.post_login(&c, "clienta@acme.test", PASSWORD, None).await;
    assert_eq!(res.status(), 303);
    assert_eq!(res.headers()["location"], "/client-portal");
    let cookie = set_cookies(&res).into_iter().find(|c| c.starts_with("maverick_session=")).unwrap();
    for part in ["HttpOnly", "SameSite=Lax", "Path=/"] {
        assert!(cookie.contains(part), "{cookie}");
    }
    assert!(!cookie.contains("Secure"), "no Secure flag without an https public URL");

    let admin = browser();
    let res = srv.post_login(&admin, "admin@agency.test", PASSWORD, Some("/admin/users?q=ada")).await;
    assert_eq!(res.headers()["location"], "/admin/users?q=ada");
    // An off-site `next` is ignored.
    let res = srv.post_login(&browser(), "admin@agency.test", PASSWORD, Some("//evil.example/x")).await;
    assert_eq!(res.headers()["location"], "/admin");
}

#[tokio::test]
async fn wrong_credentials_and_throttling_come_back_as_codes_on_the_login_page() {
    let srv = common::start().await;
    let c = browser();
    let res = srv.post_login(&c, "clienta@acme.test", "wrong-password", Some("/client-portal")).await;
    assert_eq!(res.status(), 303);
    // The email comes back for the form (issue 12), the password never does.
    assert_eq!(res.headers()["location"], "/login?error=credentials&next=/client-portal&email=clienta%40acme.test");
    assert!(session_token(&res).is_none());
    let page = c.get(srv.url(res.headers()["location"].to_str().unwrap())).send().await.unwrap().text().await.unwrap();
    assert!(page.contains(r#"value="clienta@acme.test""#), "the email field keeps what was typed");
    for _ in 0..4 {
        srv.post_login(&c, "clienta@acme.test", "wrong-password", None).await;
    }
    let res = srv.post_login(&c, "clienta@acme.test", PASSWORD, None).await;
    let to = res.headers()["location"].to_str().unwrap();
    assert!(to.starts_with("/login?error=throttled&retry="), "{to}");
    // The page words the code; nobody can inject text through the URL.
    let page = c.get(srv.url(to)).send().await.unwrap().text().await.unwrap();
    assert!(page.contains("Too many failed sign-in attempts"), "{page}");
    let page = c.get(srv.url("/login?error=<script>alert(1)</script>")).send().await.unwrap().text().await.unwrap();
    assert!(!page.contains("<script>alert(1)"));
}

#[tokio::test]
async fn a_new_sign_in_rotates_the_session_and_logout_ends_it() {
    let srv = common::start().await;
    let c = browser();
    let first = session_token(&srv.post_login(&c, "clienta@acme.test", PASSWORD, None).await).unwrap();
    let second = session_token(&srv.post_login(&c, "clienta@acme.test", PASSWORD, None).await).unwrap();
    assert_ne!(first, second);
    // The first token no longer works.
    let old = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let res = old.get(srv.url("/client-portal")).header("cookie", format!("maverick_session={first}")).send().await.unwrap();
    assert_eq!(res.status(), 303);
    assert_eq!(res.headers()["location"], "/login?next=/client-portal&error=expired");
    assert!(set_cookies(&res).iter().any(|c| c.starts_with("maverick_session=;")), "the stale cookie is cleared");

    // (The hub sends a one-workspace client to that board: the board is the page to check.)
    let res = c.get(srv.url("/client-portal/acme-roofing")).send().await.unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["cache-control"], "no-store, private");

    let res = c.post(srv.url("/auth/logout")).send().await.unwrap();
    assert_eq!(res.headers()["location"], "/login?signed_out=1");
    let res = old.get(srv.url("/client-portal")).header("cookie", format!("maverick_session={second}")).send().await.unwrap();
    assert_eq!(res.status(), 303, "the session is gone server-side, not just the cookie");
}

#[tokio::test]
async fn visitors_are_sent_to_sign_in_with_next_and_signed_in_users_skip_the_login_page_and_the_public_home() {
    let srv = common::start().await;
    let c = browser();
    let res = c.get(srv.url("/admin/users?q=a b")).send().await.unwrap();
    assert_eq!(res.status(), 303);
    assert_eq!(res.headers()["location"], "/login?next=/admin/users%3Fq%3Da%2520b");
    // `/` is the agency's public home for visitors (issue 19), no longer a redirect to sign-in.
    let home = c.get(srv.url("/")).send().await.unwrap();
    assert_eq!(home.status(), 200);
    assert!(home.text().await.unwrap().contains("href=\"/login\""), "the public home links to sign-in");
    let login = c.get(srv.url("/login")).send().await.unwrap();
    assert_eq!(login.status(), 200);
    assert!(login.text().await.unwrap().contains("action=\"/auth/login\""), "a plain form that works without WASM");

    let admin = srv.sign_in("admin@agency.test").await;
    assert_eq!(admin.get(srv.url("/")).send().await.unwrap().headers()["location"], "/admin");
    assert_eq!(admin.get(srv.url("/login")).send().await.unwrap().headers()["location"], "/admin");
    let res = admin.get(srv.url("/nowhere/at/all")).send().await.unwrap();
    assert_eq!(res.status(), 404);
}

#[tokio::test]
async fn mutating_requests_from_another_origin_are_refused() {
    let srv = common::start().await;
    let admin = srv.sign_in("admin@agency.test").await;
    let res = admin
        .post(srv.url("/api/admin/users/set_disabled"))
        .header("origin", "http://evil.example")
        .form(&[("user_id", srv.fx.client_b_id.to_string()), ("disabled", "true".into())])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 403);
    assert!(!backend::identity::users::get(&srv.state.db, srv.fx.client_b_id).await.unwrap().disabled);
    let res = browser()
        .post(srv.url("/auth/login"))
        .header("origin", "http://evil.example")
        .form(&[("email", "admin@agency.test"), ("password", PASSWORD)])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 403, "login CSRF is refused too");
    // The same request from our own origin works.
    let res = admin
        .post(srv.url("/api/admin/users/set_disabled"))
        .header("origin", srv.base.clone())
        .form(&[("user_id", srv.fx.client_b_id.to_string()), ("disabled", "true".into())])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert!(backend::identity::users::get(&srv.state.db, srv.fx.client_b_id).await.unwrap().disabled);
}

#[tokio::test]
async fn every_response_carries_a_request_id_and_keeps_a_given_one() {
    let srv = common::start().await;
    let c = browser();
    let res = c.get(srv.url("/healthz")).send().await.unwrap();
    let id = res.headers()["x-request-id"].to_str().unwrap().to_owned();
    assert_eq!(id.len(), 36, "a generated UUID: {id}");
    let res = c.get(srv.url("/healthz")).header("x-request-id", "trace-abc-123").send().await.unwrap();
    assert_eq!(res.headers()["x-request-id"], "trace-abc-123");
    assert_eq!(res.text().await.unwrap(), "ok");
}

#[tokio::test]
async fn readiness_needs_the_database_and_a_live_worker() {
    let srv = common::start().await;
    let c = browser();
    let res = c.get(srv.url("/readyz")).send().await.unwrap();
    assert_eq!(res.status(), 503);
    let body: serde_json::Value = res.json().await.unwrap();
    assert_eq!((body["database"].as_str(), body["workers_alive"].as_i64()), (Some("ok"), Some(0)));
    let now = chrono::Utc::now();
    backend::platform::heartbeat::beat(&srv.state.db, "w1", "test", now, now).await.unwrap();
    let res = c.get(srv.url("/readyz")).send().await.unwrap();
    assert_eq!(res.status(), 200);
}

#[tokio::test]
async fn bad_input_gets_a_clear_4xx() {
    let srv = common::start().await;
    let admin = srv.sign_in("admin@agency.test").await;
    // Arguments of the wrong type.
    let (status, body) = srv.call(&admin, "/api/admin/users/set_disabled", &[("user_id", "abc".into()), ("disabled", "true".into())]).await;
    assert!((400..500).contains(&status), "{status}: {body}");
    // Unknown ids and invalid values say what is wrong.
    let (status, body) = srv.call(&admin, "/api/admin/users/set_disabled", &[("user_id", "424242".into()), ("disabled", "true".into())]).await;
    assert_eq!(status, 404, "{body}");
    let (status, body) = srv
        .call(
            &admin,
            "/api/admin/users/create",
            &[("email", "not-an-email".into()), ("display_name", "X".into()), ("role", "client".into()), ("password", PASSWORD.into())],
        )
        .await;
    assert_eq!(status, 400);
    assert!(body.contains("not a valid email address"), "{body}");
    let (status, body) = srv
        .call(
            &admin,
            "/api/admin/users/create",
            &[("email", "CLIENTA@acme.test".into()), ("display_name", "X".into()), ("role", "client".into()), ("password", PASSWORD.into())],
        )
        .await;
    assert_eq!(status, 409, "{body}");
    // Oversized bodies are refused before they are read whole (limit 2 MiB).
    let huge = "x".repeat(3 * 1024 * 1024);
    let res = browser().post(srv.url("/auth/login")).form(&[("email", huge.as_str()), ("password", "x")]).send().await.unwrap();
    assert_eq!(res.status(), 413);
}

#[tokio::test]
async fn csv_exports_follow_the_filters_and_defuse_formulas() {
    let srv = common::start().await;
    let admin = srv.sign_in("admin@agency.test").await;
    backend::identity::users::create(
        &srv.state.db,
        backend::identity::users::NewUser {
            email: "formula@acme.test".into(),
            display_name: "=HYPERLINK(\"http://evil\",\"x\")".into(),
            role: backend::identity::users::Role::Viewer,
            password: PASSWORD.into(),
        },
    )
    .await
    .unwrap();
    let res = admin.get(srv.url("/admin/users.csv?role=viewer")).send().await.unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["content-type"], "text/csv; charset=utf-8");
    let text = res.text().await.unwrap();
    let lines: Vec<&str> = text.trim_start_matches('\u{feff}').lines().collect();
    assert_eq!(lines[0], "id,email,name,role,status,created_at,last_login_at,workspaces");
    assert_eq!(lines.len(), 3, "header + the two viewers: {text}");
    assert!(text.contains("viewera@acme.test") && text.contains("acme-roofing (viewer)"));
    assert!(text.contains("\"'=HYPERLINK(\"\"http://evil\"\",\"\"x\"\")\""), "{text}");

    let res = admin.get(srv.url("/admin/workspaces.csv?q=beta")).send().await.unwrap();
    let text = res.text().await.unwrap();
    assert_eq!(text.trim_start_matches('\u{feff}').lines().count(), 2, "{text}");
    assert!(text.contains("beta-secret"));
    assert!(!text.contains("bison-secret-key-of-b"), "secrets never leave the server");
}

/// An Email Bison that knows one key: "gamma-bison-key-9876" reads its workspace 42.
async fn fake_bison_users() -> String {
    use axum::{http::HeaderMap, routing::get, Json, Router};
    let app = Router::new().route(
        "/api/users",
        get(|headers: HeaderMap| async move {
            match headers.get("authorization").and_then(|v| v.to_str().ok()) {
                Some("Bearer gamma-bison-key-9876") => (
                    axum::http::StatusCode::OK,
                    Json(serde_json::json!({"data": {"id": 3, "email": "ops@agency.test", "current_team_id": 42, "team": {"id": 42, "name": "Gamma"}}})),
                ),
                _ => (axum::http::StatusCode::UNAUTHORIZED, Json(serde_json::json!({"message": "Unauthenticated."}))),
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    format!("http://{addr}")
}

#[tokio::test]
async fn the_bison_key_never_reaches_the_browser() {
    let bison = fake_bison_users().await;
    let srv = common::start_with(|c| c.bison_url = bison).await;
    let admin = srv.sign_in("admin@agency.test").await;
    let (status, body) = srv.call(&admin, "/api/admin/workspaces", &[]).await;
    assert_eq!(status, 200);
    assert!(body.contains("••••of-b"), "masked hint is shown: {body}");
    assert!(!body.contains("bison-secret-key-of-b"));
    let page = admin.get(srv.url("/admin/clients")).send().await.unwrap().text().await.unwrap();
    assert!(!page.contains("bison-secret-key-of-b"));

    // Created with its billable stage and Bison credentials: the answer holds the mask only,
    // the database the sealed key.
    let create = |key: &str| {
        vec![
            ("name", "Gamma Pools".to_string()),
            ("slug", String::new()),
            ("monthly_lead_target", "10".into()),
            ("daily_send_target", "100".into()),
            ("weekly_contact_target", "50".into()),
            ("pricing_model", "per_lead".into()),
            ("price", "120".into()),
            ("billable_stage", "meeting_booked".into()),
            ("bison_workspace_id", if key.is_empty() { String::new() } else { "42".into() }),
            ("bison_api_key", key.to_owned()),
        ]
    };
    let (status, body) = srv.call(&admin, "/api/admin/workspaces/create", &create("gamma-bison-key-9876")).await;
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("••••9876") && body.contains("\"billable_stage\":\"meeting_booked\""), "{body}");
    assert!(!body.contains("gamma-bison-key-9876"));
    let (ws, _) = backend::tenancy::workspaces::visible_by_slug(&srv.state.db, &backend::identity::sessions::SessionUser {
        session_id: 0,
        user_id: srv.fx.admin_id,
        email: "admin@agency.test".into(),
        display_name: "Ada".into(),
        role: backend::identity::users::Role::Admin,
    }, "gamma-pools")
    .await
    .unwrap();
    assert_eq!(backend::tenancy::workspaces::bison_api_key(&srv.state.db, &srv.state.secrets, ws.id).await.unwrap().as_deref(), Some("gamma-bison-key-9876"));
    assert!(body.contains("workspace 42 (Gamma) as ops@agency.test, on "), "what the key reads: {body}");
    // Keys Email Bison refuses, or that read another workspace than the one typed, create nothing.
    for (key, id, said) in [
        ("lonely-key-123", "", "The key was not saved. Email Bison refused the API key"),
        ("gamma-bison-key-9876", "41", "This key reads Email Bison workspace 42 (Gamma), not workspace 41; nothing was saved"),
    ] {
        let mut args = create(key);
        args[0].1 = "Delta Pools".into();
        args[8].1 = id.into();
        let (status, body) = srv.call(&admin, "/api/admin/workspaces/create", &args).await;
        assert_eq!(status, 400, "{body}");
        assert!(body.contains(said), "{body}");
    }
    let (status, list) = srv.call(&admin, "/api/admin/workspaces", &[]).await;
    assert_eq!(status, 200);
    assert!(list.contains("gamma-pools") && !list.contains("delta-pools"), "{list}");
}

#[tokio::test]
async fn a_zip_upload_lands_reports_rejected_rows_and_refuses_clients_and_oversized_files() {
    use reqwest::multipart::{Form, Part};
    let srv = common::start().await;
    let admin = srv.sign_in("admin@agency.test").await;
    let form = |csv: &'static str, ws: &str| {
        Form::new().text("workspace", ws.to_owned()).part("file", Part::bytes(csv.as_bytes()).file_name("territory.csv"))
    };
    let res = admin
        .post(srv.url("/admin/zips/import"))
        .multipart(form("workspace,zip\nacme-roofing,78701\nbeta-secret,78701\nnobody,10001\nacme-roofing,12\n", ""))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 303);
    let to = res.headers()["location"].to_str().unwrap().to_owned();
    let id: i64 = to.strip_prefix("/admin/zips?import=").expect("back to the ZIP page with the upload's id").parse().unwrap();
    let page = admin.get(srv.url(&to)).send().await.unwrap().text().await.unwrap();
    assert!(page.contains("4 rows read — 3 assigned, 0 unchanged (already assigned or repeated), 1 rejected."), "{page}");
    assert!(page.contains("line 4: no workspace has the slug or name"), "{page}");
    assert!(page.contains("data-conflict=\"true\""), "78701 is now held by two workspaces");
    let rejected = admin.get(srv.url(&format!("/admin/zips/imports/{id}/rejected.csv"))).send().await.unwrap();
    assert_eq!(rejected.status(), 200);
    assert_eq!(rejected.headers()["content-type"], "text/csv; charset=utf-8");
    let text = rejected.text().await.unwrap();
    assert_eq!(text, "\u{feff}line,error,workspace,zip\n4,\"no workspace has the slug or name \"\"nobody\"\"\",nobody,10001\n");

    // The ZIP export follows the page's filters.
    let csv = admin.get(srv.url("/admin/zips.csv?show=conflicts")).send().await.unwrap().text().await.unwrap();
    assert_eq!(
        csv.trim_start_matches('\u{feff}').lines().collect::<Vec<_>>(),
        vec!["zip,city,state,workspaces,workspace_slugs,conflict,assigned_on", &format!(
            "78701,,,Acme Roofing; Beta Secret Dental,acme-roofing; beta-secret,yes,{}",
            chrono::Utc::now().date_naive()
        )]
    );

    // A client cannot upload, nor read an upload's rejected rows.
    let client = srv.sign_in("clienta@acme.test").await;
    let res = client.post(srv.url("/admin/zips/import")).multipart(form("zip\n10001\n", "acme-roofing")).send().await.unwrap();
    assert_eq!(res.status(), 403);
    let res = client.get(srv.url(&format!("/admin/zips/imports/{id}/rejected.csv"))).send().await.unwrap();
    assert_eq!(res.status(), 403);
    assert!(backend::zips::list(&srv.state.db, srv.fx.ws_a).await.unwrap().iter().all(|z| z.zip != "10001"));

    // Over the upload limit (5 MiB by default): recorded as refused, with the reason on the page.
    let big = "workspace,zip\n".to_owned() + &"acme-roofing,78702\n".repeat(300_000);
    let res = admin
        .post(srv.url("/admin/zips/import"))
        .multipart(Form::new().part("file", Part::bytes(big.into_bytes()).file_name("big.csv")))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 303);
    let page = admin.get(srv.url(res.headers()["location"].to_str().unwrap())).send().await.unwrap().text().await.unwrap();
    assert!(page.contains("nothing was assigned. The file is larger than 5 MB"), "{page}");
    assert!(backend::zips::list(&srv.state.db, srv.fx.ws_a).await.unwrap().iter().all(|z| z.zip != "78702"));
}

#[tokio::test]
async fn a_contact_list_is_streamed_in_mapped_imported_and_its_rejected_rows_downloaded() {
    use reqwest::multipart::{Form, Part};
    let srv = common::start().await;
    let admin = srv.sign_in("admin@agency.test").await;
    let csv = "Work Email;Name;Org\nann@acme-client.test;Ann;Acme Client\nbroken;Bo;X\n";
    let form = Form::new().text("workspace", "acme-roofing").part("file", Part::bytes(csv.as_bytes()).file_name("list.csv"));
    let res = admin.post(srv.url("/admin/contacts/upload")).multipart(form).send().await.unwrap();
    assert_eq!(res.status(), 303);
    let to = res.headers()["location"].to_str().unwrap().to_owned();
    let id: i64 = to.rsplit_once("upload=").unwrap().1.parse().unwrap();
    let page = admin.get(srv.url(&to)).send().await.unwrap().text().await.unwrap();
    assert!(page.contains("data-testid=\"contacts-mapping\"") && page.contains("column 1: Work Email"), "the mapping step: {page}");
    // "Work Email" is recognised as the email column; the admin maps Org to company.
    let (status, body) = srv
        .call(&admin, "/api/admin/contacts/import", &[("upload_id", id.to_string()), ("email", "1".into()), ("company", "3".into())])
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body, r#"{"rows_total":2,"created":1,"duplicates":0,"rejected":1,"unnamed":1}"#);
    // Ann came without a first and last name (Name was not mapped): the page says which line.
    let page = admin.get(srv.url(&to)).send().await.unwrap().text().await.unwrap();
    assert!(page.contains("1 row has no first or no last name (line 2). They were imported, but Email Bison requires both names"), "{page}");
    let rejected = admin.get(srv.url(&format!("/admin/contacts/uploads/{id}/rejected.csv"))).send().await.unwrap();
    assert_eq!(rejected.status(), 200);
    assert_eq!(rejected.text().await.unwrap(), "\u{feff}line,error,Work Email,Name,Org\n3,\"\"\"broken\"\" is not a valid email address\",broken,Bo,X\n");
    // A client can neither upload nor read the rows.
    let client = srv.sign_in("clienta@acme.test").await;
    let form = Form::new().text("workspace", "acme-roofing").part("file", Part::bytes(csv.as_bytes()).file_name("list.csv"));
    assert_eq!(client.post(srv.url("/admin/contacts/upload")).multipart(form).send().await.unwrap().status(), 403);
    assert_eq!(client.get(srv.url(&format!("/admin/contacts/uploads/{id}/rejected.csv"))).send().await.unwrap().status(), 403);
}

#[tokio::test]
async fn an_admin_queues_a_batch_upload_again_and_unknown_batches_are_not_found() {
    let srv = common::start().await;
    let db = &srv.state.db;
    backend::on_db!(db, |p| sqlx::query("UPDATE workspaces SET weekly_contact_target = 5 WHERE id = $1").bind(srv.fx.ws_a).execute(p).await.map(|_| ())).unwrap();
    let batch = backend::contacts::batches::create_weekly(db, srv.fx.ws_a, chrono::NaiveDate::from_ymd_opt(2026, 11, 16).unwrap()).await.unwrap().unwrap();
    let admin = srv.sign_in("admin@agency.test").await;
    let (status, body) = srv.call(&admin, "/api/admin/contacts/batches/upload", &[("batch_id", batch.to_string())]).await;
    assert_eq!(status, 200, "{body}");
    let (status, _) = srv.call(&admin, "/api/admin/contacts/batches/upload", &[("batch_id", "987654".into())]).await;
    assert_eq!(status, 404);
    let page = admin.get(srv.url("/admin/contacts?workspace=acme-roofing")).send().await.unwrap().text().await.unwrap();
    assert!(page.contains("data-testid=\"batches\"") && page.contains("2026-11-16"), "the batch is listed");

    // Risky contacts join next week's batch once the workspace accepts them.
    backend::on_db!(db, |p| sqlx::query("INSERT INTO contacts (workspace_id, email, first_name, last_name, verification, created_at) VALUES ($1, 'r@risky.test', 'Rae', 'Risk', 'risky', $2)")
        .bind(srv.fx.ws_a)
        .bind(chrono::Utc::now())
        .execute(p)
        .await
        .map(|_| ()))
    .unwrap();
    let (status, body) = srv.call(&admin, "/api/admin/contacts/batch_settings", &[("workspace", "acme-roofing".into()), ("accept", "yes".into()), ("campaign", "".into())]).await;
    assert_eq!(status, 200, "{body}");
    let next = backend::contacts::batches::create_weekly(db, srv.fx.ws_a, chrono::NaiveDate::from_ymd_opt(2026, 11, 23).unwrap()).await.unwrap().unwrap();
    assert_eq!(backend::contacts::batches::get(db, next).await.unwrap().size, 1, "the risky contact");
    let (status, _) = srv.call(&admin, "/api/admin/contacts/batch_settings", &[("workspace", "acme-roofing".into())]).await;
    assert_eq!(status, 200);
    assert!(!backend::contacts::batches::settings(db, srv.fx.ws_a).await.unwrap().accept_risky, "an unticked box turns it off");
    // A campaign of another workspace, or one Email Bison does not know, is refused with a reason.
    let (other, local): (i64, i64) = backend::on_db!(db, |p| async {
        let other = sqlx::query_scalar("INSERT INTO campaigns (workspace_id, bison_campaign_id, name, created_at, updated_at) VALUES ($1, '77', 'Theirs', $2, $2) RETURNING id")
            .bind(srv.fx.ws_b)
            .bind(chrono::Utc::now())
            .fetch_one(p)
            .await?;
        let local = sqlx::query_scalar("INSERT INTO campaigns (workspace_id, name, created_at, updated_at) VALUES ($1, 'Local only', $2, $2) RETURNING id")
            .bind(srv.fx.ws_a)
            .bind(chrono::Utc::now())
            .fetch_one(p)
            .await?;
        Ok::<_, sqlx::Error>((other, local))
    }
    .await)
    .unwrap();
    let (status, body) = srv.call(&admin, "/api/admin/contacts/batch_settings", &[("workspace", "acme-roofing".into()), ("campaign", other.to_string())]).await;
    assert_eq!(status, 400, "{body}");
    assert!(body.contains("this workspace's campaigns"), "{body}");
    let (status, body) = srv.call(&admin, "/api/admin/contacts/batch_settings", &[("workspace", "acme-roofing".into()), ("campaign", local.to_string())]).await;
    assert_eq!(status, 400, "{body}");
    assert!(body.contains("not in Email Bison yet"), "{body}");
    assert_eq!(backend::contacts::batches::settings(db, srv.fx.ws_a).await.unwrap().campaign_id, None, "nothing saved");
}

/// Issue 11 (7): a signed-out request to a host route is 401 (or, for a page, the sign-in
/// redirect) — never a 500 for a missing session.
#[tokio::test]
async fn signed_out_requests_to_host_routes_are_401_or_sent_to_sign_in() {
    let srv = common::start().await;
    let http = common::browser();
    for path in ["/personalization/1/runs", "/personalization/runs/1/cancel", "/admin/contacts/upload", "/admin/zips/import"] {
        let res = http.post(srv.url(path)).header("content-type", "multipart/form-data; boundary=x").body("--x--\r\n").send().await.unwrap();
        assert_eq!(res.status(), 401, "POST {path}");
        assert_eq!(res.text().await.unwrap(), "Please sign in.");
    }
    for path in ["/personalization", "/personalization/1", "/personalization/runs/1", "/personalization/campaigns.csv", "/client-portal/acme-roofing/events"] {
        let res = http.get(srv.url(path)).send().await.unwrap();
        assert_eq!(res.status(), 303, "GET {path}");
        assert!(res.headers()["location"].to_str().unwrap().starts_with("/login?next="), "GET {path}");
    }
}

/// Issue 11 (11): every response carries the security headers, pages and errors alike.
#[tokio::test]
async fn every_response_carries_the_security_headers() {
    let srv = common::start().await;
    let http = common::browser();
    for path in ["/login", "/no-such-page", "/healthz", "/admin"] {
        let res = http.get(srv.url(path)).send().await.unwrap();
        let h = res.headers();
        let csp = h.get("content-security-policy").map(|v| v.to_str().unwrap().to_owned()).unwrap_or_default();
        assert!(csp.contains("frame-ancestors 'none'") && csp.contains("default-src 'self'") && csp.contains("object-src 'none'"), "{path}: {csp:?}");
        assert_eq!(h.get("x-content-type-options").map(|v| v.to_str().unwrap()), Some("nosniff"), "{path}");
        assert_eq!(h.get("referrer-policy").map(|v| v.to_str().unwrap()), Some("same-origin"), "{path}");
    }
}

/// The parallel-test hang (docs/status.md, issue 11): building a router generates the route list
/// with resource loading suppressed process-wide, so a page rendered meanwhile by another host in
/// the same process waited for ever. Routers keep being built here while pages render; every
/// render must finish.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pages_render_while_other_routers_are_built_in_the_same_process() {
    let srv = common::start().await;
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let builders: Vec<_> = (0..2)
        .map(|_| {
            let (stop, state) = (stop.clone(), srv.state.clone());
            std::thread::spawn(move || {
                let leptos = leptos::config::LeptosOptions::builder().output_name("maverick").build();
                while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                    let _ = server::router::build(server::HostState { app: state.clone(), leptos: leptos.clone() });
                }
            })
        })
        .collect();
    let http = common::browser();
    for i in 0..150 {
        let res = tokio::time::timeout(std::time::Duration::from_secs(10), async { http.get(srv.url("/login")).send().await.unwrap().text().await.unwrap() }).await;
        assert!(res.is_ok_and(|page| page.contains("</html>")), "render {i} never finished");
    }
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    for b in builders {
        b.join().unwrap();
    }
}

fn files_in(dir: std::path::PathBuf) -> usize {
    std::fs::read_dir(dir).map(|d| d.count()).unwrap_or(0)
}

/// Issue 11 (2): a form with two files is refused and keeps neither; a refusal after the file was
/// streamed (a workspace the caller can't see) removes it.
#[tokio::test]
async fn refused_uploads_leave_no_file_behind() {
    let srv = common::start().await;
    let admin = srv.sign_in("admin@agency.test").await;
    let campaign = backend::personalization::create_campaign(
        &srv.state.db,
        &backend::identity::sessions::SessionUser {
            session_id: 0,
            user_id: srv.fx.admin_id,
            email: "admin@agency.test".into(),
            display_name: "Ada Admin".into(),
            role: backend::identity::users::Role::Admin,
        },
        srv.fx.ws_a,
        "Spring",
        "",
        "",
    )
    .await
    .unwrap();
    let uploads = srv.state.config.data_dir.join("uploads");
    let part = |name: &str| reqwest::multipart::Part::bytes(b"email,company\na@a.test,A\n".to_vec()).file_name(name.to_owned());
    let two = reqwest::multipart::Form::new().text("writer", "template").part("file", part("one.csv")).part("file", part("two.csv"));
    let res = admin.post(srv.url(&format!("/personalization/{campaign}/runs"))).multipart(two).send().await.unwrap();
    assert_eq!(res.status(), 303);
    assert_eq!(res.headers()["location"].to_str().unwrap(), format!("/personalization/{campaign}?error=one_file"));
    assert_eq!(files_in(uploads.clone()), 0, "neither file stays");

    let unknown = reqwest::multipart::Form::new().text("workspace", "no-such-workspace").part("file", part("contacts.csv"));
    let res = admin.post(srv.url("/admin/contacts/upload")).multipart(unknown).send().await.unwrap();
    assert_eq!(res.status(), 404);
    assert_eq!(files_in(uploads), 0, "the streamed file went with the refusal");
}

/// Issue 18 (6): "Verify now" with 8 unverified contacts and 6 DeBounce credits (read from
/// `GET /v1/balance/`, as a number under `debounce`, since none was known) is refused with what is
/// short and the page warns the same; ticked "verify as many as the credits cover", it is queued.
#[tokio::test]
async fn verify_now_is_refused_when_the_balance_cannot_cover_it_unless_confirmed() {
    use std::sync::{atomic::{AtomicUsize, Ordering}, Arc};
    let reads = Arc::new(AtomicUsize::new(0));
    let counted = reads.clone();
    let fake = axum::Router::new().route(
        "/v1/balance/",
        axum::routing::get(move |q: axum::extract::Query<std::collections::HashMap<String, String>>| {
            let counted = counted.clone();
            async move {
                if q.get("api").map(String::as_str) != Some("key-1") {
                    return (axum::http::StatusCode::UNAUTHORIZED, axum::Json(serde_json::json!({"debounce": {"error": "Wrong API", "code": "0"}, "success": "0"})));
                }
                counted.fetch_add(1, Ordering::SeqCst);
                (axum::http::StatusCode::OK, axum::Json(serde_json::json!({"debounce": {"balance": 6}})))
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}/v1/", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, fake).await.unwrap() });
    let srv = common::start_with(|c| {
        c.debounce_url = base;
        c.debounce_key = Some("key-1".into());
    })
    .await;
    for i in 0..8 {
        backend::on_db!(&srv.state.db, |p| sqlx::query("INSERT INTO contacts (workspace_id, email, created_at) VALUES ($1, $2, $3)")
            .bind(srv.fx.ws_a)
            .bind(format!("c{i}@x.test"))
            .bind(chrono::Utc::now())
            .execute(p)
            .await
            .map(|_| ()))
        .unwrap();
    }
    let admin = srv.sign_in("admin@agency.test").await;
    let page = admin.get(srv.url("/admin/contacts?workspace=acme-roofing")).send().await.unwrap().text().await.unwrap();
    assert!(page.contains("not known yet"), "no balance known before the first read");
    let warning = "This run needs 8 credits; DeBounce reports 6 left — 2 contacts would stay unverified. Buy credits or verify fewer.";
    let (status, body) = srv.call(&admin, "/api/admin/contacts/verify", &[("workspace", "acme-roofing".into())]).await;
    assert_eq!(status, 409, "{body}");
    assert!(body.contains(warning), "{body}");
    assert_eq!(reads.load(Ordering::SeqCst), 1);
    let page = admin.get(srv.url("/admin/contacts?workspace=acme-roofing")).send().await.unwrap().text().await.unwrap();
    assert!(page.contains(warning) && page.contains("DeBounce credits left: 6") && page.contains("name=\"confirm\""), "the page warns");
    assert!(!page.contains("key-1"), "the key stays on the server");
    let (status, body) = srv.call(&admin, "/api/admin/contacts/verify", &[("workspace", "acme-roofing".into()), ("confirm", "yes".into())]).await;
    assert_eq!(status, 200, "{body}");
    let run = backend::contacts::verification::latest_run(&srv.state.db, srv.fx.ws_a).await.unwrap().unwrap();
    assert_eq!(run.0.as_str(), "queued");
}
