//! Workspace isolation, proven over HTTP: a client of workspace A calls *every* registered server
//! function with workspace B's ids (and with made-up ids) and gets 403/404 and none of B's data.
//! The list of functions comes from the server's registry, so a new server function without a
//! case here fails this test until somebody decides what it must do for a foreign caller.

mod common;

use std::collections::BTreeSet;

use common::{Fixture, B_MARKERS};

enum Expect {
    /// Refused: 403 or 404.
    Denied,
    /// Allowed (it is about the caller's own data) and answered with this status.
    Own(u16),
}

/// For each server function: the argument sets to try as a client of A, and what must happen.
fn cases(path: &str, fx: &Fixture) -> Option<Vec<(Vec<(&'static str, String)>, Expect)>> {
    use Expect::*;
    let made_up = "987654321".to_string();
    let ids = |f: &dyn Fn(String) -> Vec<(&'static str, String)>| -> Vec<(Vec<(&'static str, String)>, Expect)> {
        vec![(f(fx.ws_b.to_string()), Denied), (f(made_up.clone()), Denied)]
    };
    let users = |f: &dyn Fn(String) -> Vec<(&'static str, String)>| -> Vec<(Vec<(&'static str, String)>, Expect)> {
        vec![(f(fx.client_b_id.to_string()), Denied), (f(made_up.clone()), Denied), (f(fx.admin_id.to_string()), Denied)]
    };
    let s = |v: &str| v.to_string();
    Some(match path {
        "/api/me" => vec![(vec![], Own(200))],
        // The public home's name and line, for signed-out pages: anyone gets them (no workspace data).
        "/api/public/info" => vec![(vec![], Own(200))],
        "/api/admin/public_home" => vec![(vec![("agency_name", s("Hijacked")), ("text", s("pwned"))], Denied)],
        "/api/admin/users/send_password_link" => users(&|id| vec![("user_id", id)]),
        "/api/account/change_password" => vec![(
            vec![("current", s("not-my-password")), ("new_password", s("whatever-123")), ("confirm", s("whatever-123"))],
            Own(400),
        )],
        "/api/portal/workspaces" => vec![(vec![], Own(200))],
        "/api/portal/workspace" => vec![(vec![("slug", s("beta-secret"))], Denied), (vec![("slug", s("no-such-ws"))], Denied)],
        "/api/admin/overview" | "/api/admin/users" | "/api/admin/workspaces" | "/api/admin/rollout" => vec![(vec![], Denied)],
        "/api/admin/roi" => vec![(vec![("workspace", s("beta-secret"))], Denied), (vec![], Denied)],
        "/api/admin/revenue" => vec![(vec![("workspace", s("beta-secret")), ("month", s(""))], Denied), (vec![], Denied)],
        "/api/admin/kpi" | "/api/admin/volume" => vec![
            (vec![("workspace", s("beta-secret")), ("from", s("")), ("to", s(""))], Denied),
            (vec![], Denied),
        ],
        "/api/admin/users/create" => vec![(
            vec![("email", s("intruder@beta.test")), ("display_name", s("X")), ("role", s("admin")), ("password", s("password-123"))],
            Denied,
        )],
        "/api/admin/users/set_disabled" => users(&|id| vec![("user_id", id), ("disabled", s("true"))]),
        "/api/admin/users/reset_password" => users(&|id| vec![("user_id", id), ("new_password", s("hijacked-pass-1"))]),
        "/api/admin/access/grant" => {
            let mut v = ids(&|ws| vec![("user_id", fx.client_a_id.to_string()), ("workspace_id", ws), ("level", s("client"))]);
            v.extend(users(&|u| vec![("user_id", u), ("workspace_id", fx.ws_b.to_string()), ("level", s("viewer"))]));
            v
        }
        "/api/admin/access/revoke" => users(&|u| vec![("user_id", u), ("workspace_id", fx.ws_b.to_string())]),
        "/api/admin/workspaces/create" => vec![(
            vec![
                ("name", s("Beta Secret Dental 2")),
                ("slug", s("")),
                ("monthly_lead_target", s("1")),
                ("daily_send_target", s("1")),
                ("weekly_contact_target", s("1")),
                ("pricing_model", s("per_lead")),
                ("price", s("1")),
            ],
            Denied,
        )],
        "/api/admin/clients/profile" => vec![(vec![("slug", s("beta-secret"))], Denied), (vec![("slug", s("acme-roofing"))], Denied)],
        "/api/admin/clients/update" => ids(&|ws| {
            vec![
                ("workspace_id", ws),
                ("name", s("Hijacked")),
                ("slug", s("hijacked")),
                ("monthly_lead_target", s("1")),
                ("daily_send_target", s("1")),
                ("weekly_contact_target", s("1")),
                ("pricing_model", s("per_lead")),
                ("price", s("1")),
                ("billable_stage", s("interested")),
            ]
        }),
        "/api/admin/clients/bison" => ids(&|ws| vec![("workspace_id", ws), ("bison_workspace_id", s("1")), ("api_key", s(""))]),
        "/api/admin/clients/costs/add" => ids(&|ws| {
            vec![
                ("workspace_id", ws),
                ("category", s("x")),
                ("description", s("")),
                ("amount", s("10")),
                ("recurrence", s("monthly")),
                ("starts_on", s("2026-01-01")),
                ("ends_on", s("")),
            ]
        }),
        "/api/admin/clients/costs/delete" => ids(&|ws| vec![("workspace_id", ws), ("cost_id", s("1"))]),
        "/api/admin/clients/zips/assign" => ids(&|ws| vec![("workspace_id", ws), ("zip", s("10001")), ("state_code", s("NY")), ("city", s(""))]),
        "/api/admin/clients/zips/unassign" => ids(&|ws| vec![("workspace_id", ws), ("zip", s("10001"))]),
        "/api/portal/board" => vec![(vec![("slug", s("beta-secret"))], Denied), (vec![("slug", s("no-such-ws"))], Denied)],
        "/api/portal/leads/move" => vec![
            (vec![("lead_id", fx.lead_b.to_string()), ("to_stage", s("lost")), ("lost_reason", s("x"))], Denied),
            (vec![("lead_id", made_up.clone()), ("to_stage", s("contacted"))], Denied),
        ],
        "/api/portal/lead" => vec![
            (vec![("slug", s("beta-secret")), ("lead_id", fx.lead_b.to_string())], Denied),
            (vec![("slug", s("acme-roofing")), ("lead_id", fx.lead_b.to_string())], Denied),
            (vec![("slug", s("acme-roofing")), ("lead_id", made_up.clone())], Denied),
        ],
        "/api/portal/notes/add" => vec![(vec![("lead_id", fx.lead_b.to_string()), ("body", s("hello"))], Denied)],
        "/api/portal/notes/edit" => vec![
            (vec![("note_id", fx.note_b.to_string()), ("body", s("overwritten"))], Denied),
            (vec![("note_id", made_up.clone()), ("body", s("x"))], Denied),
        ],
        "/api/admin/clients/bison_webhook" => ids(&|ws| vec![("workspace_id", ws)]),
        "/api/admin/slack_webhook" => vec![
            (vec![("workspace_id", fx.ws_b.to_string()), ("url", s("https://hooks.slack.com/services/evil"))], Denied),
            (vec![("url", s("https://hooks.slack.com/services/evil"))], Denied),
        ],
        "/api/admin/slack_failed" => vec![(vec![], Denied)],
        "/api/admin/slack_retry" => vec![(vec![("message_id", s("1"))], Denied), (vec![("message_id", made_up.clone())], Denied)],
        "/api/admin/clients/sync_now" | "/api/admin/clients/sync_runs" => ids(&|ws| vec![("workspace_id", ws)]),
        "/api/admin/clients/replay_delivery" => ids(&|ws| vec![("workspace_id", ws), ("delivery_id", s("1"))]),
        "/api/admin/senders" => vec![(vec![("workspace", s("beta-secret"))], Denied), (vec![], Denied)],
        "/api/admin/contacts" => vec![(vec![("workspace", s("beta-secret"))], Denied), (vec![("upload", s("1"))], Denied)],
        "/api/admin/contacts/verify" => vec![(vec![("workspace", s("beta-secret"))], Denied), (vec![("workspace", s("acme-roofing"))], Denied)],
        "/api/admin/contacts/batches/upload" => vec![(vec![("batch_id", s("1"))], Denied)],
        "/api/admin/contacts/batch_settings" => vec![(vec![("workspace", s("beta-secret")), ("accept", s("yes"))], Denied)],
        "/api/admin/contacts/import" => vec![(vec![("upload_id", s("1")), ("email", s("1"))], Denied)],
        "/api/admin/zips" => vec![(vec![("workspace", s("beta-secret"))], Denied), (vec![("import", s("1"))], Denied)],
        "/api/admin/automations" => vec![(vec![("workspace", s("beta-secret"))], Denied), (vec![("run", s("1"))], Denied)],
        "/api/admin/prospects" => vec![(vec![], Denied)],
        "/api/admin/prospects/resolve" => vec![(vec![], Denied)],
        "/api/admin/prospects/progress" => vec![(vec![], Denied)],
        "/api/admin/prospects/decide" => vec![(vec![("pair", s("1")), ("approve", s("yes"))], Denied)],
        "/api/admin/prospects/split" => vec![(vec![("master", s("1"))], Denied)],
        "/api/admin/prospects/send" => vec![
            (vec![("workspace", s("acme-roofing")), ("min_confidence", s("0"))], Denied),
            (vec![("workspace", s("beta-secret")), ("ids", s("1"))], Denied),
        ],
        "/api/admin/automations/run" => vec![(vec![("run", s("1"))], Denied)],
        "/api/admin/automations/start" => {
            vec![(vec![("workspace", s("beta-secret")), ("first", s("pt1_pull")), ("last", s("pt5_rotate")), ("dry_run", s("on"))], Denied)]
        }
        "/api/admin/automations/retry" => vec![(vec![("run", s("1"))], Denied)],
        "/api/admin/automations/settings" => vec![(
            vec![
                ("workspace", s("beta-secret")),
                ("cole_state", s("NJ")),
                ("pull_cron", s("0 0 6 15 * *")),
                ("upload_cron", s("0 0 9 * * Fri")),
                ("lookback_days", s("30")),
                ("supplemental_max", s("1")),
                ("clay_table", s("")),
                ("rename_pattern", s("{client}")),
                ("step_timeout_secs", s("60")),
            ],
            Denied,
        )],
        "/api/admin/automations/credentials" => vec![(vec![("site", s("cole")), ("region", s("NJ")), ("username", s("x")), ("password", s("y"))], Denied)],
        "/api/admin/automations/credentials/delete" => vec![(vec![("id", s("1"))], Denied)],
        // Workspace B's campaign, run and lead are ids 1 (made in the test); B allows its clients.
        "/api/personalization/hub" => vec![(vec![], Own(200))],
        "/api/personalization/create" => vec![(
            vec![("workspace", s("beta-secret")), ("name", s("Mine now")), ("offer", s("")), ("example_line", s(""))],
            Denied,
        )],
        "/api/personalization/client_access" => vec![(vec![("shown[acme-roofing]", s("1")), ("allowed[acme-roofing]", s("yes"))], Denied), (vec![], Denied)],
        "/api/personalization/campaign" => vec![(vec![("id", s("1"))], Denied), (vec![("id", made_up.clone())], Denied)],
        "/api/personalization/cancel" | "/api/personalization/resume" => vec![(vec![("run_id", s("1"))], Denied), (vec![("run_id", made_up.clone())], Denied)],
        "/api/personalization/edit_line" => vec![(vec![("lead_id", s("1")), ("line", s("Hijacked."))], Denied)],
        "/api/personalization/regenerate" => vec![(vec![("lead_id", s("1"))], Denied)],
        "/api/admin/workspaces/set_active" => ids(&|ws| vec![("workspace_id", ws), ("active", s("false"))]),
        // Integrations: B's workspace (not visible: 404), the agency's own (admins only: 403), and
        // ids that are not the caller's own workspace's (404).
        "/api/integrations/overview" => vec![(vec![("workspace", s("beta-secret"))], Denied), (vec![], Denied)],
        "/api/integrations/tokens/create" => vec![
            (vec![("workspace", s("beta-secret")), ("name", s("mine")), ("scope", s("write"))], Denied),
            (vec![("name", s("agency")), ("scope", s("write"))], Denied),
        ],
        "/api/integrations/tokens/revoke" => vec![(vec![("token_id", s("1"))], Denied), (vec![("token_id", made_up.clone())], Denied)],
        "/api/integrations/endpoints/create" => vec![
            (vec![("workspace", s("beta-secret")), ("url", s("https://example.com/hook"))], Denied),
            (vec![("url", s("https://example.com/hook"))], Denied),
        ],
        "/api/integrations/endpoints/update" => vec![
            (vec![("workspace", s("beta-secret")), ("endpoint_id", s("1")), ("url", s("https://example.com/hook")), ("enabled", s("yes"))], Denied),
            (vec![("workspace", s("acme-roofing")), ("endpoint_id", made_up.clone()), ("url", s("https://example.com/hook"))], Denied),
        ],
        "/api/integrations/endpoints/set_enabled" => vec![
            (vec![("workspace", s("beta-secret")), ("endpoint_id", s("1")), ("enabled", s("false"))], Denied),
            (vec![("endpoint_id", s("1")), ("enabled", s("false"))], Denied),
            (vec![("workspace", s("acme-roofing")), ("endpoint_id", made_up.clone()), ("enabled", s("false"))], Denied),
        ],
        "/api/integrations/endpoints/rotate" | "/api/integrations/endpoints/test" | "/api/integrations/endpoints/delete" => vec![
            (vec![("workspace", s("beta-secret")), ("endpoint_id", s("1"))], Denied),
            (vec![("endpoint_id", s("1"))], Denied),
            (vec![("workspace", s("acme-roofing")), ("endpoint_id", made_up.clone())], Denied),
        ],
        "/api/integrations/deliveries" => vec![
            (vec![("workspace", s("beta-secret")), ("endpoint_id", s("1"))], Denied),
            (vec![("endpoint_id", s("1"))], Denied),
            (vec![("workspace", s("acme-roofing")), ("endpoint_id", made_up.clone())], Denied),
        ],
        "/api/integrations/deliveries/attempts" | "/api/integrations/deliveries/replay" => vec![
            (vec![("workspace", s("beta-secret")), ("delivery_id", s("1"))], Denied),
            (vec![("delivery_id", s("1"))], Denied),
            (vec![("workspace", s("acme-roofing")), ("delivery_id", made_up.clone())], Denied),
        ],
        "/api/integrations/deliveries/recover" => vec![
            (vec![("workspace", s("beta-secret")), ("endpoint_id", s("1")), ("since", s("2026-01-01"))], Denied),
            (vec![("endpoint_id", s("1")), ("since", s("2026-01-01"))], Denied),
            (vec![("workspace", s("acme-roofing")), ("endpoint_id", made_up.clone()), ("since", s("2026-01-01"))], Denied),
        ],
        _ => return None,
    })
}

/// A personalization campaign of B (id 1), with a run and a written lead (ids 1); B's clients may
/// use personalization, so only workspace membership stands between A and them.
async fn personalization_of_b(srv: &common::TestServer) -> i64 {
    let (db, fx) = (&srv.state.db, &srv.fx);
    let admin = admin_caller(fx);
    backend::personalization::set_client_access(db, &admin, fx.ws_b, true).await.unwrap();
    let campaign = backend::personalization::create_campaign(db, &admin, fx.ws_b, "Beta Secret Dental outreach", "", "").await.unwrap();
    backend::on_db!(db, |p| async {
        sqlx::query("INSERT INTO personalization_runs (campaign_id, workspace_id, created_at, file_name, writer, status, headers, total, done) VALUES ($1, $2, $3, 'b.csv', 'template', 'completed', '[\"email\"]', 1, 1)")
            .bind(campaign)
            .bind(fx.ws_b)
            .bind(chrono::Utc::now())
            .execute(p)
            .await?;
        sqlx::query("INSERT INTO personalization_leads (campaign_id, run_id, line_no, email, company, fields, original, status, line) VALUES ($1, 1, 2, 'x@beta.test', 'Beta Secret Dental', '{}', '[]', 'done', 'Beta Secret Dental line.')")
            .bind(campaign)
            .execute(p)
            .await
            .map(|_| ())
    }
    .await)
    .unwrap();
    assert_eq!(campaign, 1);
    campaign
}

fn admin_caller(fx: &Fixture) -> backend::identity::sessions::SessionUser {
    backend::identity::sessions::SessionUser {
        session_id: 0,
        user_id: fx.admin_id,
        email: "admin@agency.test".into(),
        display_name: "Ada Admin".into(),
        role: backend::identity::users::Role::Admin,
    }
}

#[tokio::test]
async fn a_client_of_one_workspace_gets_nothing_of_another_from_any_server_function() {
    let srv = common::start().await;
    let fx = &srv.fx;
    let client_a = srv.sign_in("clienta@acme.test").await;
    let b_campaign = personalization_of_b(&srv).await;

    let paths: BTreeSet<String> = server_fn::axum::server_fn_paths().map(|(p, _)| p.to_string()).collect();
    assert!(paths.len() >= 49, "server functions are registered: {paths:?}");
    let missing: Vec<&String> = paths.iter().filter(|p| cases(p, fx).is_none()).collect();
    assert!(missing.is_empty(), "add an isolation case for these server functions: {missing:?}");

    for path in &paths {
        for (args, expect) in cases(path, fx).unwrap() {
            let (status, body) = srv.call(&client_a, path, &args).await;
            for marker in B_MARKERS {
                assert!(!body.contains(marker), "{path} {args:?} leaked {marker:?}: {body}");
            }
            match expect {
                Expect::Denied => assert!(status == 403 || status == 404, "{path} {args:?} answered {status}: {body}"),
                Expect::Own(code) => assert_eq!(status, code, "{path} {args:?}: {body}"),
            }
        }
    }

    // And nothing of B changed.
    let db = &srv.state.db;
    let b_user = backend::identity::users::get(db, fx.client_b_id).await.unwrap();
    assert!(!b_user.disabled);
    let b_ws = backend::tenancy::workspaces::get(db, fx.ws_b).await.unwrap();
    assert!(b_ws.active);
    let d = backend::leads::pipeline::lead_detail(db, &admin_caller(fx), fx.lead_b).await.unwrap();
    assert_eq!((d.lead.stage.as_str(), d.notes[0].body.as_str(), d.history.len()), ("new", "Beta Secret Dental private note", 0));
    let grants = backend::tenancy::access::list_grants(db).await.unwrap();
    assert_eq!(grants.len(), 3, "no grant was added or removed");
    assert_eq!(backend::identity::users::list(db).await.unwrap().len(), 4, "no user was created");
    srv.sign_in("clientb@beta.test").await; // B's password still works
    let (leads, _) = backend::personalization::leads(db, b_campaign, None, None, 0, 10).await.unwrap();
    assert_eq!((leads[0].status.as_str(), leads[0].line.as_deref()), ("done", Some("Beta Secret Dental line.")), "B's lead untouched");
    // A's own view holds only A.
    let (status, body) = srv.call(&client_a, "/api/portal/workspaces", &[]).await;
    assert_eq!(status, 200);
    assert!(body.contains("acme-roofing"), "{body}");
}

#[tokio::test]
async fn visitors_get_401_from_every_server_function_except_me_and_the_public_info() {
    let srv = common::start().await;
    let anonymous = common::browser();
    for (path, _) in server_fn::axum::server_fn_paths() {
        let Some(case) = cases(path, &srv.fx) else { continue };
        let (args, _) = &case[0];
        let (status, body) = srv.call(&anonymous, path, args).await;
        if path == "/api/me" {
            assert_eq!((status, body.as_str()), (200, "null"));
        } else if path == "/api/public/info" {
            assert_eq!(status, 200, "{path}: {body}");
        } else {
            assert_eq!(status, 401, "{path}: {body}");
        }
    }
}

#[tokio::test]
async fn pages_of_another_workspace_and_admin_pages_are_refused_to_a_client() {
    let srv = common::start().await;
    let client_a = srv.sign_in("clienta@acme.test").await;
    personalization_of_b(&srv).await;
    for (path, want) in [
        ("/personalization/1/export.csv", 404),
        ("/personalization/runs/1", 404),
        ("/personalization/runs/1/rejected.csv", 404),
        ("/personalization/leads/1/calls.csv", 404),
        ("/personalization/campaigns.csv", 200),
        ("/personalization/savings.csv", 200),
        ("/client-portal/beta-secret", 404),
        ("/client-portal/no-such-workspace", 404),
        ("/admin", 403),
        ("/admin/users", 403),
        ("/admin/clients", 403),
        ("/admin/users.csv", 403),
        ("/admin/workspaces.csv", 403),
        ("/admin/kpi", 403),
        ("/admin/kpi.csv", 403),
        ("/admin/rollout", 403),
        ("/admin/rollout.csv", 403),
        ("/admin/volume", 403),
        ("/admin/volume.csv", 403),
        ("/admin/revenue", 403),
        ("/admin/revenue.csv", 403),
        ("/admin/roi", 403),
        ("/admin/roi.csv", 403),
        ("/admin/zips", 403),
        ("/admin/senders", 403),
        ("/admin/senders.csv", 403),
        ("/admin/contacts", 403),
        ("/admin/contacts/uploads/1/rejected.csv", 403),
        ("/admin/contacts/batches/1/skipped.csv", 403),
        ("/admin/contacts/unsendable.csv?workspace=beta-secret", 403),
        ("/admin/zips.csv", 403),
        ("/admin/automations", 403),
        ("/admin/automations/runs.csv", 403),
        ("/admin/prospects", 403),
        ("/admin/prospects/rejected.csv", 403),
        ("/admin/prospects/masters.csv", 403),
        ("/admin/prospects/runs/1/report.json", 403),
        ("/admin/automations/steps/1/screenshot.png", 403),
        ("/admin/automations/steps/1/page.html", 403),
        ("/admin/zips/imports/1/rejected.csv", 403),
        ("/admin/clients/beta-secret", 403),
        ("/admin/clients/acme-roofing", 403),
        ("/client-portal/beta-secret/events", 404),
        ("/client-portal/beta-secret/leads.csv", 404),
    ] {
        let res = client_a.get(srv.url(path)).send().await.unwrap();
        assert_eq!(res.status().as_u16(), want, "{path}");
        let body = res.text().await.unwrap();
        // The slug the caller typed may echo back (it is in the URL); nothing else of B may.
        for marker in B_MARKERS.iter().filter(|m| !path.contains(**m)) {
            assert!(!body.contains(marker), "{path} leaked {marker}");
        }
    }
    // Nor can A start or stop B's personalization runs.
    let form = reqwest::multipart::Form::new().text("writer", "template").part("file", reqwest::multipart::Part::bytes(b"email,company\na@a.test,A\n".to_vec()).file_name("l.csv"));
    let res = client_a.post(srv.url("/personalization/1/runs")).header("accept", "application/json").multipart(form).send().await.unwrap();
    assert_eq!(res.status(), 404);
    let res = client_a.post(srv.url("/personalization/runs/1/cancel")).send().await.unwrap();
    assert_eq!(res.status(), 404);
    // A lead of B is not found, not even through A's own workspace URL.
    for path in [format!("/client-portal/beta-secret/leads/{}", srv.fx.lead_b), format!("/client-portal/acme-roofing/leads/{}", srv.fx.lead_b)] {
        let res = client_a.get(srv.url(&path)).send().await.unwrap();
        assert_eq!(res.status(), 404, "{path}");
        let body = res.text().await.unwrap();
        assert!(!body.contains("lead@beta-secret.test") && !body.contains("private note"), "{path} leaked B's lead");
    }
    let res = client_a.get(srv.url("/client-portal/acme-roofing")).send().await.unwrap();
    assert_eq!(res.status(), 200);
    assert!(res.text().await.unwrap().contains("Acme Roofing"));
}

/// What each role gets from a host route: signed out, a client of A, a viewer of A, an admin.
/// The URL points at workspace B's data (or at made-up ids).
struct HostCase {
    url: String,
    signed_out: u16,
    client_a: u16,
    viewer_a: u16,
    admin: u16,
}

fn host_case(method: &str, template: &str, b_campaign: i64) -> Option<HostCase> {
    let case = |url: String, signed_out: u16, client_a: u16, viewer_a: u16, admin: u16| Some(HostCase { url, signed_out, client_a, viewer_a, admin });
    // Admin tables: visitors are sent to sign in, clients and viewers refused, admins served.
    if method == "GET" && template.starts_with("/admin/") && template.ends_with(".csv") && !template.contains('{') {
        return case(template.to_owned(), 303, 403, 403, 200);
    }
    match (method, template) {
        // `/` is no longer a host route but a page (the public home); its answers per role are
        // pinned in server/tests/password_reset.rs (visitor 200, users 303 to their home).
        ("POST", "/auth/forgot") => case("/auth/forgot".into(), 303, 303, 303, 303),
        ("GET", "/auth/reset") => case("/auth/reset?token=made-up-token".into(), 303, 303, 303, 303),
        ("POST", "/auth/reset") => case("/auth/reset".into(), 303, 303, 303, 303),
        ("POST", "/auth/login") => case("/auth/login".into(), 303, 303, 303, 303),
        ("POST", "/auth/logout") => case("/auth/logout".into(), 303, 303, 303, 303),
        ("POST", "/prefs/theme") => case("/prefs/theme".into(), 303, 303, 303, 303),
        ("GET", "/healthz") => case("/healthz".into(), 200, 200, 200, 200),
        // No worker runs beside the test host.
        ("GET", "/readyz") => case("/readyz".into(), 503, 503, 503, 503),
        // No metrics token is configured: the route is not there (server/tests/api.rs has it on).
        ("GET", "/metrics") => case("/metrics".into(), 404, 404, 404, 404),
        // Integrations tables of B: not found for A's users, the agency's refused to non-admins.
        ("GET", "/integrations/tokens.csv") => case("/integrations/tokens.csv?workspace=beta-secret".into(), 401, 404, 404, 200),
        ("GET", "/integrations/endpoints.csv") => case("/integrations/endpoints.csv".into(), 401, 403, 403, 200),
        ("GET", "/integrations/deliveries.csv") => case("/integrations/deliveries.csv?workspace=beta-secret&endpoint=1".into(), 401, 404, 404, 404),
        ("GET", "/admin/contacts/uploads/{id}/rejected.csv") => case("/admin/contacts/uploads/999/rejected.csv".into(), 303, 403, 403, 404),
        ("GET", "/admin/zips/imports/{id}/rejected.csv") => case("/admin/zips/imports/999/rejected.csv".into(), 303, 403, 403, 404),
        ("GET", "/admin/contacts/batches/{id}/skipped.csv") => case("/admin/contacts/batches/999/skipped.csv".into(), 303, 403, 403, 404),
        ("GET", "/admin/automations/steps/{id}/screenshot.png") => case("/admin/automations/steps/999/screenshot.png".into(), 303, 403, 403, 404),
        ("GET", "/admin/automations/steps/{id}/page.html") => case("/admin/automations/steps/999/page.html".into(), 303, 403, 403, 404),
        // Lists of what the caller may see: their own.
        ("GET", "/personalization/campaigns.csv" | "/personalization/savings.csv") => case(template.to_owned(), 303, 200, 200, 200),
        ("GET", "/personalization/{campaign}/export.csv") => case(format!("/personalization/{b_campaign}/export.csv"), 303, 404, 404, 200),
        ("GET", "/personalization/leads/{id}/calls.csv") => case("/personalization/leads/1/calls.csv".into(), 303, 404, 404, 200),
        ("GET", "/personalization/runs/{id}/rejected.csv") => case("/personalization/runs/1/rejected.csv".into(), 303, 404, 404, 404),
        ("GET", "/personalization/runs/{id}") => case("/personalization/runs/1".into(), 303, 404, 404, 200),
        ("GET", "/client-portal/{workspace}/events") => case("/client-portal/beta-secret/events".into(), 303, 404, 404, 200),
        ("GET", "/client-portal/{workspace}/leads.csv") => case("/client-portal/beta-secret/leads.csv".into(), 303, 404, 404, 200),
        // Writes. An empty multipart body: refused for who the caller is before it is read.
        ("POST", "/personalization/runs/{id}/cancel") => case("/personalization/runs/1/cancel".into(), 401, 404, 404, 409),
        ("POST", "/personalization/{campaign}/runs") => case(format!("/personalization/{b_campaign}/runs"), 401, 404, 404, 303),
        ("POST", "/admin/zips/import") => case("/admin/zips/import".into(), 401, 403, 403, 303),
        ("POST", "/admin/contacts/upload") => case("/admin/contacts/upload".into(), 401, 403, 403, 400),
        // No kind, no file: the admin is told what to send.
        ("POST", "/admin/prospects/upload") => case("/admin/prospects/upload".into(), 401, 403, 403, 400),
        ("GET", "/admin/prospects/runs/{id}/report.json") => case("/admin/prospects/runs/999/report.json".into(), 303, 403, 403, 404),
        ("POST", "/webhooks/bison/{token}") => case("/webhooks/bison/made-up-token-0123456789".into(), 404, 404, 404, 404),
        _ => None,
    }
}

/// The attack suite for host routes: the list comes from the router's own table
/// (`server::routes::all`), so a new route without a case fails here; each is called as every
/// role, with workspace B's ids, and must answer the decided status without B's data.
#[tokio::test]
async fn every_host_route_answers_each_role_as_decided_and_leaks_nothing_of_another_workspace() {
    let srv = common::start().await;
    let b_campaign = personalization_of_b(&srv).await;
    let routes = server::routes::all(&srv.state.config);
    let listed = routes.listed();
    assert!(listed.len() >= 27, "host routes are listed: {listed:?}");
    let missing: Vec<_> = listed.iter().filter(|(m, p)| host_case(m, p, b_campaign).is_none()).collect();
    assert!(missing.is_empty(), "add an attack case for these host routes: {missing:?}");

    let visitor = common::browser();
    let client_a = srv.sign_in("clienta@acme.test").await;
    let viewer_a = srv.sign_in("viewera@acme.test").await;
    let admin = srv.sign_in("admin@agency.test").await;
    // Sign-out routes last, so the sessions stay valid for every other call.
    let mut order: Vec<_> = listed.to_vec();
    order.sort_by_key(|(_, p)| *p == "/auth/logout");
    for (who, client) in [("signed out", &visitor), ("client of A", &client_a), ("viewer of A", &viewer_a), ("admin", &admin)] {
        for (method, template) in &order {
            let case = host_case(method, template, b_campaign).unwrap();
            let want = match who {
                "signed out" => case.signed_out,
                "client of A" => case.client_a,
                "viewer of A" => case.viewer_a,
                _ => case.admin,
            };
            let uploads = ["/runs", "/import", "/upload"].iter().any(|u| template.ends_with(u)) && !template.ends_with("/cancel");
            let req = match *method {
                "GET" => client.get(srv.url(&case.url)),
                _ if uploads => client.post(srv.url(&case.url)).header("content-type", "multipart/form-data; boundary=x").body("--x--\r\n"),
                _ => client.post(srv.url(&case.url)).header("content-type", "application/x-www-form-urlencoded").body(""),
            };
            let res = tokio::time::timeout(std::time::Duration::from_secs(10), req.send()).await.expect("answered").unwrap();
            let status = res.status().as_u16();
            assert_eq!(status, want, "{who}: {method} {}", case.url);
            if who != "admin" && !case.url.contains("/events") {
                let body = res.text().await.unwrap();
                for marker in B_MARKERS.iter().filter(|m| !case.url.contains(**m)) {
                    assert!(!body.contains(marker), "{who}: {method} {} leaked {marker}", case.url);
                }
            }
        }
    }
}

/// Mixed ids: A's own objects named together with B's never reach B's data.
#[tokio::test]
async fn mixing_one_workspace_s_ids_with_another_s_is_not_found() {
    let srv = common::start().await;
    let fx = &srv.fx;
    let b_campaign = personalization_of_b(&srv).await;
    let admin = admin_caller(fx);
    backend::personalization::set_client_access(&srv.state.db, &admin, fx.ws_a, true).await.unwrap();
    let a_campaign = backend::personalization::create_campaign(&srv.state.db, &admin, fx.ws_a, "Acme outreach", "", "").await.unwrap();
    assert_ne!(a_campaign, b_campaign);
    let client_a = srv.sign_in("clienta@acme.test").await;
    // A's campaign with B's run (run 1 is B's).
    let res = client_a.get(srv.url(&format!("/personalization/{a_campaign}/export.csv?run=1"))).send().await.unwrap();
    assert_eq!(res.status(), 404);
    assert!(!res.text().await.unwrap().contains("Beta Secret"));
    // A's workspace URL with B's lead.
    let res = client_a.get(srv.url(&format!("/client-portal/acme-roofing/leads/{}", fx.lead_b))).send().await.unwrap();
    assert_eq!(res.status(), 404);
    // A viewer of A writes nothing, even in A.
    let viewer_a = srv.sign_in("viewera@acme.test").await;
    let form = reqwest::multipart::Form::new().text("writer", "template").part("file", reqwest::multipart::Part::bytes(b"email,company\na@a.test,A\n".to_vec()).file_name("l.csv"));
    let res = viewer_a.post(srv.url(&format!("/personalization/{a_campaign}/runs"))).multipart(form).send().await.unwrap();
    assert_eq!(res.status(), 403, "a viewer can't start a run, and nothing was stored");
    // Nor cancel one of A's runs.
    let a_run: i64 = backend::on_db!(&srv.state.db, |p| sqlx::query_scalar(
        "INSERT INTO personalization_runs (campaign_id, workspace_id, created_at, file_name, writer, status) VALUES ($1, $2, $3, 'a.csv', 'template', 'personalizing') RETURNING id"
    )
    .bind(a_campaign)
    .bind(fx.ws_a)
    .bind(chrono::Utc::now())
    .fetch_one(p)
    .await)
    .unwrap();
    let res = viewer_a.post(srv.url(&format!("/personalization/runs/{a_run}/cancel"))).send().await.unwrap();
    assert_eq!(res.status(), 403, "a viewer reads, never cancels");
    let res = client_a.post(srv.url(&format!("/personalization/runs/{a_run}/cancel"))).send().await.unwrap();
    assert_eq!(res.status(), 202, "A's client may");
    let staged = std::fs::read_dir(srv.state.config.data_dir.join("uploads")).map(|d| d.count()).unwrap_or(0);
    assert_eq!(staged, 0, "the refused upload left no file");
}
