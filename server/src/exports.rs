//! CSV downloads of admin tables, with the same filters as the page (taken from the same URL).

use std::collections::HashMap;

use axum::{
    extract::{Query, State},
    http::{header, HeaderValue, StatusCode},
    response::{IntoResponse, Response},
};
use app::components::sort::sort_rows;

use crate::{
    session_layer::{no_store, Caller},
    HostState,
};

/// Every CSV download of an admin table, a rejected-rows file or a personalization export.
pub fn routes() -> crate::routes::HostRoutes {
    crate::routes::HostRoutes::new()
        .get("/admin/users.csv", users_csv)
        .get("/admin/workspaces.csv", workspaces_csv)
        .get("/admin/kpi.csv", kpi_csv)
        .get("/admin/rollout.csv", rollout_csv)
        .get("/admin/volume.csv", volume_csv)
        .get("/admin/revenue.csv", revenue_csv)
        .get("/admin/roi.csv", roi_csv)
        .get("/admin/zips.csv", zips_csv)
        .get("/admin/senders.csv", senders_csv)
        .get("/admin/contacts/uploads/{id}/rejected.csv", contacts_rejected_csv)
        .get("/admin/contacts/batches/{id}/skipped.csv", batch_skipped_csv)
        .get("/admin/contacts/unsendable.csv", contacts_unsendable_csv)
        .get("/admin/zips/imports/{id}/rejected.csv", zip_import_rejected_csv)
        .get("/personalization/campaigns.csv", personalization_campaigns_csv)
        .get("/personalization/savings.csv", personalization_savings_csv)
        .get("/personalization/{campaign}/export.csv", personalization_csv)
        .get("/personalization/leads/{id}/calls.csv", personalization_calls_csv)
        .get("/personalization/runs/{id}/rejected.csv", personalization_rejected_csv)
        .get("/integrations/tokens.csv", tokens_csv)
        .get("/integrations/endpoints.csv", endpoints_csv)
        .get("/integrations/deliveries.csv", deliveries_csv)
        .get("/admin/automations/runs.csv", automation_runs_csv)
        .get("/admin/prospects/rejected.csv", prospects_rejected_csv)
        .get("/admin/prospects/masters.csv", prospects_masters_csv)
        .get("/admin/prospects/runs/{id}/report.json", prospects_report_json)
        .get("/admin/automations/steps/{id}/screenshot.png", automation_screenshot)
        .get("/admin/automations/steps/{id}/page.html", automation_page)
}

/// The Automations page's runs (`?workspace=`, `?status=` as on the page).
pub async fn automation_runs_csv(State(state): State<HostState>, Caller(caller): Caller, Query(q): Query<HashMap<String, String>>) -> Response {
    let db = &state.app.db;
    let result = async {
        backend::tenancy::access::require_admin(&caller)?;
        let ws = match q.get("workspace").map(|s| s.trim()).filter(|s| !s.is_empty()) {
            Some(slug) => Some(backend::tenancy::workspaces::visible_by_slug(db, &caller, slug).await?.0),
            None => None,
        };
        let status = q.get("status").map(|s| s.trim()).filter(|s| !s.is_empty()).map(str::parse).transpose()?;
        let names: HashMap<i64, String> = backend::tenancy::workspaces::list_visible(db, &caller).await?.into_iter().map(|(w, _)| (w.id, w.slug)).collect();
        let runs = backend::automations::runs(db, ws.map(|w| w.id), status, i64::MAX).await?;
        let ts = |t: Option<chrono::DateTime<chrono::Utc>>| t.map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)).unwrap_or_default();
        let rows = runs.into_iter().map(|r| {
            vec![
                r.id.to_string(),
                names.get(&r.workspace_id).cloned().unwrap_or_default(),
                r.first_step.as_str().into(),
                r.last_step.as_str().into(),
                r.dry_run.to_string(),
                r.trigger.as_str().into(),
                r.status.as_str().into(),
                ts(Some(r.created_at)),
                ts(r.started_at),
                ts(r.finished_at),
                r.error.unwrap_or_default(),
            ]
        });
        backend::platform::csv_output::to_csv(
            &["run", "workspace", "first_step", "last_step", "dry_run", "trigger", "status", "created_at", "started_at", "finished_at", "error"],
            rows,
        )
    }
    .await;
    csv_response("automation-runs.csv", result)
}

/// The screenshot of the page a step failed on (admins).
pub async fn automation_screenshot(State(state): State<HostState>, Caller(caller): Caller, axum::extract::Path(id): axum::extract::Path<i64>) -> Response {
    stored_artifact(&state, &caller, id, "png", "image/png", None).await
}

/// The HTML of the page a step failed on, as a download in plain text: it is another site's
/// page, and served as HTML from our origin its scripts would run with an admin's session.
pub async fn automation_page(State(state): State<HostState>, Caller(caller): Caller, axum::extract::Path(id): axum::extract::Path<i64>) -> Response {
    stored_artifact(&state, &caller, id, "html", "text/plain; charset=utf-8", Some(format!("step-{id}-page.html"))).await
}

async fn stored_artifact(
    state: &HostState,
    caller: &backend::identity::sessions::SessionUser,
    id: i64,
    kind: &str,
    content_type: &'static str,
    download: Option<String>,
) -> Response {
    match backend::automations::artifact(&state.app, caller, id, kind).await {
        Ok(bytes) => {
            let mut res = bytes.into_response();
            let h = res.headers_mut();
            h.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
            h.insert("x-content-type-options", HeaderValue::from_static("nosniff"));
            h.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static("default-src 'none'; sandbox"));
            if let Some(name) = download {
                h.insert(header::CONTENT_DISPOSITION, HeaderValue::from_str(&format!("attachment; filename=\"{name}\"")).expect("ASCII file name"));
            }
            no_store(&mut res);
            res
        }
        Err(e) => error_response(e),
    }
}

/// The Integrations page's tables (`?workspace=` as on the page; none: the agency's). Secrets
/// and tokens are never in them — they are not stored in a form that could be.
pub async fn tokens_csv(State(state): State<HostState>, Caller(caller): Caller, Query(q): Query<HashMap<String, String>>) -> Response {
    let db = &state.app.db;
    let result = async {
        let (owner, _) = app::api::integrations::owner_checked(db, &caller, q.get("workspace").cloned()).await?;
        let tokens = backend::tenancy::api_tokens::list(db, &caller, owner.workspace_id()).await?;
        let when = |t: Option<chrono::DateTime<chrono::Utc>>| t.map(|t| t.to_rfc3339()).unwrap_or_default();
        let rows = tokens.into_iter().map(|t| {
            vec![
                t.name,
                t.prefix,
                t.scope.as_str().to_owned(),
                t.workspace_slug.unwrap_or_else(|| "(agency)".into()),
                t.created_by_name.unwrap_or_default(),
                t.created_at.to_rfc3339(),
                when(t.last_used_at),
                when(t.expires_at),
                when(t.revoked_at),
            ]
        });
        backend::platform::csv_output::to_csv(&["name", "prefix", "scope", "workspace", "created_by", "created_at", "last_used_at", "expires_at", "revoked_at"], rows)
    }
    .await;
    csv_response("api-tokens.csv", result)
}

pub async fn endpoints_csv(State(state): State<HostState>, Caller(caller): Caller, Query(q): Query<HashMap<String, String>>) -> Response {
    let db = &state.app.db;
    let result = async {
        let (owner, _) = app::api::integrations::owner_checked(db, &caller, q.get("workspace").cloned()).await?;
        let rows = backend::eventbus::endpoints::list(db, &owner).await?.into_iter().map(|e| {
            vec![
                e.id.to_string(),
                e.url.clone(),
                e.description.clone(),
                e.types().join(" "),
                if e.enabled { "enabled".to_owned() } else { "disabled".to_owned() },
                e.disabled_reason.clone().unwrap_or_default(),
                e.header_name.clone().unwrap_or_default(),
                e.failing_since.map(|t| t.to_rfc3339()).unwrap_or_default(),
                e.created_at.to_rfc3339(),
            ]
        });
        backend::platform::csv_output::to_csv(&["id", "url", "description", "event_types", "state", "disabled_reason", "header", "failing_since", "created_at"], rows)
    }
    .await;
    csv_response("webhook-endpoints.csv", result)
}

/// An endpoint's delivery log with the page's filters (`endpoint`, `status`, `event_type`,
/// `since` as a day), newest first, up to 10,000 rows.
pub async fn deliveries_csv(State(state): State<HostState>, Caller(caller): Caller, Query(q): Query<HashMap<String, String>>) -> Response {
    let db = &state.app.db;
    let given = |k: &str| q.get(k).map(|v| v.trim().to_owned()).filter(|v| !v.is_empty());
    let result = async {
        let (owner, _) = app::api::integrations::owner_checked(db, &caller, q.get("workspace").cloned()).await?;
        let endpoint: i64 = given("endpoint").and_then(|e| e.parse().ok()).ok_or_else(|| backend::Error::invalid("Choose an endpoint (endpoint=ID)."))?;
        let since = match given("since") {
            None => None,
            Some(d) => Some(
                chrono::NaiveDate::parse_from_str(&d, "%Y-%m-%d")
                    .map_err(|_| backend::Error::invalid("since: give a day as YYYY-MM-DD."))?
                    .and_hms_opt(0, 0, 0)
                    .unwrap_or_default()
                    .and_utc(),
            ),
        };
        let mut rows = Vec::new();
        let mut before = None;
        while rows.len() < 10_000 {
            let filter = backend::eventbus::log::DeliveryFilter { status: given("status"), event_type: given("event_type"), since, before_id: before, limit: 500 };
            let page = backend::eventbus::log::deliveries(db, &owner, endpoint, &filter).await?;
            before = page.last().map(|d| d.id);
            let done = page.len() < 500;
            rows.extend(page.into_iter().map(|d| {
                vec![
                    d.id.to_string(),
                    d.created_at.to_rfc3339(),
                    d.event_type,
                    d.message_id,
                    d.status,
                    d.attempts.to_string(),
                    d.last_status_code.map(|c| c.to_string()).unwrap_or_default(),
                    d.last_error.unwrap_or_default(),
                    d.trace_id.unwrap_or_default(),
                    d.finished_at.map(|t| t.to_rfc3339()).unwrap_or_default(),
                ]
            }));
            if done {
                break;
            }
        }
        backend::platform::csv_output::to_csv(
            &["id", "created_at", "event_type", "webhook_id", "status", "attempts", "last_status_code", "last_error", "trace_id", "finished_at"],
            rows,
        )
    }
    .await;
    csv_response("webhook-deliveries.csv", result)
}

/// An error as a plain-text response with its status; internal details stay in the log.
pub fn error_response(e: backend::Error) -> Response {
    let status = StatusCode::from_u16(e.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    if !e.is_user_facing() {
        tracing::error!(error = %e, "request failed");
    }
    (status, if e.is_user_facing() { e.to_string() } else { "That did not work; try again.".into() }).into_response()
}

pub fn csv_response(filename: &str, result: backend::Result<Vec<u8>>) -> Response {
    match result {
        Ok(bytes) => {
            let mut res = bytes.into_response();
            let h = res.headers_mut();
            h.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/csv; charset=utf-8"));
            h.insert(
                header::CONTENT_DISPOSITION,
                HeaderValue::from_str(&format!("attachment; filename=\"{filename}\"")).expect("ASCII file name"),
            );
            no_store(&mut res);
            res
        }
        Err(e) => error_response(e),
    }
}

pub async fn users_csv(
    State(state): State<HostState>,
    Caller(caller): Caller,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let result = async {
        backend::tenancy::access::require_admin(&caller)?;
        let grants = backend::tenancy::access::list_grants(&state.app.db).await?;
        let users = backend::identity::users::list(&state.app.db).await?;
        let (text, role) = (q.get("q").cloned().unwrap_or_default(), q.get("role").cloned().unwrap_or_default());
        let mut shown: Vec<_> = users
            .into_iter()
            .map(|u| app::api::identity::user_row(u, &grants))
            .filter(|u| app::pages::admin::users::matches(u, &text, &role))
            .collect();
        sort_rows(&mut shown, app::pages::admin::users::SORTS, q.get("sort").map_or("", String::as_str), q.get("dir").map_or("", String::as_str));
        let rows = shown.into_iter().map(|u| {
                let grants = u.grants.iter().map(|g| format!("{} ({})", g.workspace_slug, g.level)).collect::<Vec<_>>().join("; ");
                vec![
                    u.id.to_string(),
                    u.email,
                    u.display_name,
                    u.role,
                    if u.disabled { "disabled" } else { "active" }.to_owned(),
                    u.created_at,
                    u.last_login_at.unwrap_or_default(),
                    grants,
                ]
            });
        backend::platform::csv_output::to_csv(&["id", "email", "name", "role", "status", "created_at", "last_login_at", "workspaces"], rows)
    }
    .await;
    csv_response("users.csv", result)
}

pub async fn workspaces_csv(
    State(state): State<HostState>,
    Caller(caller): Caller,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let result = async {
        backend::tenancy::access::require_admin(&caller)?;
        let grants = backend::tenancy::access::list_grants(&state.app.db).await?;
        let list = backend::tenancy::workspaces::list_visible(&state.app.db, &caller).await?;
        let (text, status) = (q.get("q").cloned().unwrap_or_default(), q.get("status").cloned().unwrap_or_default());
        let mut shown: Vec<_> = list
            .into_iter()
            .map(|(w, _)| app::api::tenancy::workspace_row(w, &grants))
            .filter(|w| app::pages::admin::clients::matches(w, &text, &status))
            .collect();
        sort_rows(&mut shown, app::pages::admin::clients::SORTS, q.get("sort").map_or("", String::as_str), q.get("dir").map_or("", String::as_str));
        let rows = shown.into_iter().map(|w| {
                vec![
                    w.id.to_string(),
                    w.name,
                    w.slug,
                    if w.active { "active" } else { "archived" }.to_owned(),
                    w.monthly_lead_target.to_string(),
                    w.daily_send_target.to_string(),
                    w.weekly_contact_target.to_string(),
                    w.pricing_model,
                    format!("{:.2}", w.price_per_lead_cents as f64 / 100.0),
                    format!("{:.2}", w.retainer_fee_cents as f64 / 100.0),
                    w.member_count.to_string(),
                ]
            });
        backend::platform::csv_output::to_csv(
            &[
                "id",
                "name",
                "slug",
                "status",
                "monthly_lead_target",
                "daily_send_target",
                "weekly_contact_target",
                "pricing_model",
                "price_per_lead",
                "retainer_fee",
                "members",
            ],
            rows,
        )
    }
    .await;
    csv_response("workspaces.csv", result)
}

pub async fn kpi_csv(
    State(state): State<HostState>,
    Caller(caller): Caller,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let get = |k: &str| q.get(k).map(String::as_str);
    let result = async {
        let report = app::api::reporting::kpi_report(&state.app, &caller, get("from"), get("to"), get("workspace")).await?;
        let mut lines = report.lines;
        app::pages::admin::kpi::sort_lines(&mut lines, get("sort").unwrap_or(""), get("dir").unwrap_or(""));
        let num = |v: Option<f64>| v.map(|v| format!("{v:.4}")).unwrap_or_default();
        let rows = lines.into_iter().map(|l| {
            vec![
                l.name,
                l.slug,
                l.mtd.to_string(),
                l.target.to_string(),
                num(l.percent_of_target),
                format!("{:.2}", l.expected_by_today),
                num(l.pacing),
                format!("{:.2}", l.projection),
                l.status,
                l.contacted.to_string(),
                l.replies.to_string(),
                l.interested.to_string(),
                num(l.reply_rate),
                num(l.positive_of_replies),
                num(l.positive_of_contacted),
            ]
        });
        backend::platform::csv_output::to_csv(
            &[
                "workspace",
                "slug",
                "interested_mtd",
                "monthly_target",
                "share_of_target",
                "expected_by_today",
                "pacing",
                "projection",
                "status",
                "contacted",
                "replies",
                "interested_in_period",
                "reply_rate",
                "positive_of_replies",
                "positive_of_contacted",
            ],
            rows,
        )
    }
    .await;
    csv_response("kpi.csv", result)
}

pub async fn rollout_csv(
    State(state): State<HostState>,
    Caller(caller): Caller,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let show = q.get("show").cloned().unwrap_or_default();
    let result = async {
        let rows = app::api::reporting::rollout_rows(&state.app, &caller).await?;
        let lines = rows.into_iter().filter(|r| app::pages::admin::rollout::matches(r, &show)).flat_map(|r| {
            let (name, slug) = (r.workspace_name, r.workspace_slug);
            r.steps.into_iter().map(move |s| {
                let (due, done) = (s.due_on.unwrap_or_default(), s.completed_on.unwrap_or_default());
                vec![name.clone(), slug.clone(), s.label, due, done, s.overdue.to_string(), s.proof.unwrap_or_default(), s.conflict.unwrap_or_default()]
            })
        });
        backend::platform::csv_output::to_csv(&["workspace", "slug", "step", "due_on", "completed_on", "overdue", "proof", "conflict"], lines)
    }
    .await;
    csv_response("rollout.csv", result)
}

pub async fn volume_csv(
    State(state): State<HostState>,
    Caller(caller): Caller,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let get = |k: &str| q.get(k).map(String::as_str);
    let result = async {
        let mut r = app::api::reporting::volume_report(&state.app, &caller, get("from"), get("to"), get("workspace")).await?;
        sort_rows(&mut r.lines, app::pages::admin::volume::SORTS, get("sort").unwrap_or(""), get("dir").unwrap_or(""));
        let days = r.days.clone();
        // One row per workspace and day: the shape a spreadsheet pivots best.
        let rows = r.lines.into_iter().flat_map(move |l| {
            let days = days.clone();
            (0..days.len()).map(move |i| {
                let sent = l.sent_per_day.get(i).copied().unwrap_or(0);
                vec![
                    l.name.clone(),
                    l.slug.clone(),
                    days[i].clone(),
                    sent.to_string(),
                    l.daily_send_target.to_string(),
                    l.under_sending_days.contains(&days[i]).to_string(),
                    l.capacity.to_string(),
                ]
            })
        });
        backend::platform::csv_output::to_csv(&["workspace", "slug", "day", "sent", "daily_send_target", "under_sending", "sending_capacity"], rows)
    }
    .await;
    csv_response("volume.csv", result)
}

pub async fn revenue_csv(
    State(state): State<HostState>,
    Caller(caller): Caller,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let get = |k: &str| q.get(k).map(String::as_str);
    let result = async {
        let mut r = app::api::reporting::revenue_report(&state.app, &caller, get("month"), get("workspace")).await?;
        sort_rows(&mut r.lines, app::pages::admin::revenue::SORTS, get("sort").unwrap_or(""), get("dir").unwrap_or(""));
        let month = r.month.clone();
        let money = |c: i64| format!("{:.2}", c as f64 / 100.0);
        let ratio = |v: Option<f64>| v.map(|v| format!("{v:.4}")).unwrap_or_default();
        let rows = r.lines.into_iter().chain(std::iter::once(r.total)).map(|l| {
            vec![
                month.clone(),
                l.name,
                l.slug,
                l.pricing_model,
                l.billable_leads.to_string(),
                money(l.revenue_cents),
                money(l.costs_cents),
                money(l.profit_cents),
                ratio(l.margin),
                ratio(l.roi),
                money(l.won_value_cents),
                ratio(l.client_roi),
                l.frozen.to_string(),
            ]
        });
        backend::platform::csv_output::to_csv(
            &["month", "workspace", "slug", "pricing_model", "billable_leads", "revenue", "costs", "profit", "margin", "agency_roi", "won_value", "client_roi", "frozen"],
            rows,
        )
    }
    .await;
    csv_response("revenue.csv", result)
}

pub async fn roi_csv(
    State(state): State<HostState>,
    Caller(caller): Caller,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let result = async {
        let mut r = app::api::reporting::roi_report(&state.app, &caller, q.get("workspace").map(String::as_str)).await?;
        let get = |k: &str| q.get(k).map(String::as_str).unwrap_or("");
        sort_rows(&mut r.lines, app::pages::admin::roi::SORTS, get("sort"), get("dir"));
        let money = |c: i64| format!("{:.2}", c as f64 / 100.0);
        let ratio = |v: Option<f64>| v.map(|v| format!("{v:.4}")).unwrap_or_default();
        let rows = r.lines.into_iter().flat_map(move |l| {
            let (name, slug) = (l.name, l.slug);
            l.months.into_iter().map(move |m| {
                let one = [m.clone()];
                let (agency, client) = app::pages::admin::roi::rois(&one);
                vec![name.clone(), slug.clone(), m.0, money(m.1), money(m.2), money(m.3), ratio(agency), ratio(client)]
            })
        });
        backend::platform::csv_output::to_csv(&["workspace", "slug", "month", "fees", "costs", "won_value", "agency_roi", "client_roi"], rows)
    }
    .await;
    csv_response("roi.csv", result)
}

pub async fn zips_csv(
    State(state): State<HostState>,
    Caller(caller): Caller,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let get = |k: &str| q.get(k).cloned().unwrap_or_default();
    let result = async {
        let filter = app::api::ZipFilter { q: get("q"), workspace: get("workspace"), state: get("state"), show: get("show") };
        let report = app::api::zips::zip_report(&state.app, &caller, &filter, None).await?;
        let mut lines = report.lines;
        app::pages::admin::zips::sort_lines(&mut lines, &get("sort"), &get("dir"));
        let rows = lines.into_iter().map(|l| {
            vec![
                l.zip.clone(),
                l.city.clone().unwrap_or_default(),
                l.state.clone().unwrap_or_default(),
                l.workspaces.iter().map(|w| w.1.as_str()).collect::<Vec<_>>().join("; "),
                l.workspaces.iter().map(|w| w.0.as_str()).collect::<Vec<_>>().join("; "),
                if l.conflict() { "yes" } else { "no" }.to_owned(),
                l.assigned_on.clone(),
            ]
        });
        backend::platform::csv_output::to_csv(&["zip", "city", "state", "workspaces", "workspace_slugs", "conflict", "assigned_on"], rows)
    }
    .await;
    csv_response("zips.csv", result)
}

/// The rejected rows of one ZIP upload, each with its line and reason.
pub async fn zip_import_rejected_csv(
    State(state): State<HostState>,
    Caller(caller): Caller,
    axum::extract::Path(id): axum::extract::Path<i64>,
) -> Response {
    let result = backend::zips::get_import(&state.app.db, &caller, id)
        .await
        .map(|i| i.rejected_csv.unwrap_or_default().into_bytes());
    csv_response(&format!("zip-upload-{id}-rejected.csv"), result)
}

pub async fn senders_csv(
    State(state): State<HostState>,
    Caller(caller): Caller,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let get = |k: &str| q.get(k).map(String::as_str);
    let result = async {
        let mut r = app::api::reporting::sender_report(&state.app, &caller, get("workspace"), get("band"), get("status"), get("q")).await?;
        app::pages::admin::senders::default_order(&mut r.senders);
        sort_rows(&mut r.senders, app::pages::admin::senders::SORTS, get("sort").unwrap_or(""), get("dir").unwrap_or(""));
        let rows = r.senders.into_iter().map(|s| {
            vec![
                s.workspace_name,
                s.workspace_slug,
                s.email,
                s.status,
                s.daily_limit.to_string(),
                s.sent.to_string(),
                s.bounced.to_string(),
                s.bounce_rate.map(|v| format!("{v:.4}")).unwrap_or_default(),
                s.band,
                s.warmup_enabled.to_string(),
                s.last_synced_at.unwrap_or_default(),
            ]
        });
        backend::platform::csv_output::to_csv(
            &["workspace", "slug", "sender", "status", "daily_limit", "sent", "bounced", "bounce_rate", "health", "warmup", "last_synced_at"],
            rows,
        )
    }
    .await;
    csv_response("senders.csv", result)
}

/// A file an import wrote (its rejected rows), or not found when there is none (any more).
async fn stored_file(path: Option<String>) -> backend::Result<Vec<u8>> {
    tokio::fs::read(path.ok_or(backend::Error::NotFound)?).await.map_err(|_| backend::Error::NotFound)
}

/// The rejected rows of one contact upload (written by the import, with line and reason).
pub async fn contacts_rejected_csv(
    State(state): State<HostState>,
    Caller(caller): Caller,
    axum::extract::Path(id): axum::extract::Path<i64>,
) -> Response {
    let result = async {
        let upload = backend::contacts::get_upload(&state.app.db, &caller, id).await?;
        stored_file(upload.rejected_path).await
    }
    .await;
    csv_response(&format!("contacts-upload-{id}-rejected.csv"), result)
}

/// The contacts of a weekly batch Email Bison could not take, by email, with why.
pub async fn batch_skipped_csv(
    State(state): State<HostState>,
    Caller(caller): Caller,
    axum::extract::Path(id): axum::extract::Path<i64>,
) -> Response {
    let db = &state.app.db;
    let result = async {
        backend::tenancy::access::require_admin(&caller)?;
        let batch = backend::contacts::batches::get(db, id).await?;
        backend::tenancy::access::scope(db, &caller, batch.workspace_id).await?;
        let rows = backend::contacts::batches::skipped_contacts(db, id).await?.into_iter().map(|(email, why)| vec![email, why]);
        backend::platform::csv_output::to_csv(&["email", "reason"], rows)
    }
    .await;
    csv_response(&format!("batch-{id}-skipped.csv"), result)
}

/// `?workspace=slug`: its verified contacts no batch takes (no first or last name), with why.
pub async fn contacts_unsendable_csv(State(state): State<HostState>, Caller(caller): Caller, Query(q): Query<HashMap<String, String>>) -> Response {
    let db = &state.app.db;
    let result = async {
        backend::tenancy::access::require_admin(&caller)?;
        // As on the contacts page: the workspace named, or the first active one.
        let ws = match q.get("workspace").map(|s| s.trim()).filter(|s| !s.is_empty()) {
            Some(slug) => backend::tenancy::workspaces::visible_by_slug(db, &caller, slug).await?.0,
            None => backend::tenancy::workspaces::list_visible(db, &caller)
                .await?
                .into_iter()
                .map(|(w, _)| w)
                .find(|w| w.active)
                .ok_or(backend::Error::NotFound)?,
        };
        let (_, rows) = backend::contacts::batches::unsendable(db, ws.id, i64::MAX).await?;
        backend::platform::csv_output::to_csv(&["email", "reason"], rows.into_iter().map(|(email, why)| vec![email, why]))
    }
    .await;
    csv_response("contacts-unsendable.csv", result)
}

/// `GET /personalization/runs/{id}/rejected.csv`: the rows a run's file could not use, with why.
pub async fn personalization_rejected_csv(
    State(state): State<HostState>,
    Caller(caller): Caller,
    axum::extract::Path(id): axum::extract::Path<i64>,
) -> Response {
    let result = async {
        let run = backend::personalization::get_run(&state.app.db, &caller, id).await?;
        stored_file(run.rejected_path).await
    }
    .await;
    csv_response(&format!("personalization-run-{id}-rejected.csv"), result)
}

#[derive(serde::Deserialize)]
pub struct RunQuery {
    run: Option<i64>,
}

/// `GET /personalization/{campaign}/export.csv[?run=]`: the uploaded columns plus
/// `personalized_message`, `enrichment_status` and `research`, formula-safe.
pub async fn personalization_csv(
    State(state): State<HostState>,
    Caller(caller): Caller,
    axum::extract::Path(campaign): axum::extract::Path<i64>,
    axum::extract::Query(q): axum::extract::Query<RunQuery>,
) -> Response {
    let result = async {
        let (header, rows) = backend::personalization::export(&state.app.db, &caller, campaign, q.run).await?;
        backend::platform::csv_output::to_csv(&header, rows)
    }
    .await;
    let name = match q.run {
        Some(run) => format!("personalization-{campaign}-run-{run}.csv"),
        None => format!("personalization-{campaign}.csv"),
    };
    csv_response(&name, result)
}

/// `GET /personalization/campaigns.csv`: the campaigns the caller may see, with their counts.
pub async fn personalization_campaigns_csv(State(state): State<HostState>, Caller(caller): Caller) -> Response {
    let result = async {
        let rows = backend::personalization::list_campaigns(&state.app.db, &caller).await?;
        backend::platform::csv_output::to_csv(
            &["campaign", "workspace", "leads", "personalized", "failed", "created_at"],
            rows.into_iter().map(|c| {
                vec![c.name, c.workspace_name, c.leads.to_string(), c.personalized.to_string(), c.failed.to_string(), c.created_at.to_rfc3339()]
            }),
        )
    }
    .await;
    csv_response("personalization-campaigns.csv", result)
}

/// `GET /personalization/savings.csv`: personalized leads, hours and money saved, per workspace
/// and per user.
pub async fn personalization_savings_csv(State(state): State<HostState>, Caller(caller): Caller) -> Response {
    let result = async {
        let (by_ws, by_user) = backend::personalization::kpis(&state.app.db, &caller, state.app.config.personalization.hourly_rate).await?;
        let rows = by_ws.into_iter().map(|s| ("workspace", s)).chain(by_user.into_iter().map(|s| ("user", s)));
        backend::platform::csv_output::to_csv(
            &["per", "who", "personalized_leads", "hours_saved", "money_saved"],
            rows.map(|(per, s)| vec![per.to_owned(), s.who, s.personalized.to_string(), format!("{:.2}", s.hours), format!("{:.2}", s.money)]),
        )
    }
    .await;
    csv_response("personalization-savings.csv", result)
}

/// `GET /personalization/leads/{id}/calls.csv`: every call made for a lead — prompt sent, answer
/// received, status, tokens, cost and time — for checking what the AI was told and said.
pub async fn personalization_calls_csv(
    State(state): State<HostState>,
    Caller(caller): Caller,
    axum::extract::Path(id): axum::extract::Path<i64>,
) -> Response {
    let result = async {
        let calls = backend::personalization::calls_of(&state.app.db, &caller, id).await?;
        backend::platform::csv_output::to_csv(
            &["at", "provider", "model", "attempt", "http_status", "error", "prompt_tokens", "completion_tokens", "cost_usd", "latency_ms", "request", "response"],
            calls.into_iter().map(|c| {
                vec![
                    c.at.to_rfc3339(),
                    c.provider,
                    c.model,
                    c.attempt.to_string(),
                    c.http_status.map(|s| s.to_string()).unwrap_or_default(),
                    c.error.unwrap_or_default(),
                    c.prompt_tokens.to_string(),
                    c.completion_tokens.to_string(),
                    c.cost_usd.map_or_else(|| "unknown".to_owned(), |usd| format!("{usd:.6}")),
                    c.latency_ms.to_string(),
                    c.request,
                    c.response.unwrap_or_default(),
                ]
            }),
        )
    }
    .await;
    csv_response(&format!("personalization-lead-{id}-calls.csv"), result)
}

/// Every rejected prospect row with its file, line and reason. Admins only.
pub async fn prospects_rejected_csv(State(state): State<HostState>, Caller(caller): Caller) -> Response {
    let result = match backend::tenancy::access::require_admin(&caller) {
        Err(e) => Err(e),
        Ok(()) => backend::prospects::store::rejects_csv(&state.app.db).await,
    };
    csv_response("prospects-rejected.csv", result)
}

/// Every master record (one real person). Admins only.
pub async fn prospects_masters_csv(State(state): State<HostState>, Caller(caller): Caller) -> Response {
    async fn build(db: &backend::platform::db::Db) -> backend::Result<Vec<u8>> {
        let err = |e: csv::Error| backend::Error::Internal(format!("writing the masters: {e}"));
        let mut out = csv::Writer::from_writer(Vec::new());
        out.write_record(["id", "full_name", "emails", "phones", "team_id", "records", "confidence", "needs_review"]).map_err(err)?;
        for m in backend::prospects::store::masters(db, i64::MAX).await? {
            out.write_record([
                m.id.to_string(),
                m.full_name,
                m.emails.join(" "),
                m.phones.join(" "),
                m.team_id.unwrap_or_default(),
                m.persons.to_string(),
                m.confidence.to_string(),
                m.needs_review.to_string(),
            ])
            .map_err(err)?;
        }
        out.into_inner().map_err(|e| backend::Error::Internal(format!("writing the masters: {e}")))
    }
    let result = match backend::tenancy::access::require_admin(&caller) {
        Err(e) => Err(e),
        Ok(()) => build(&state.app.db).await,
    };
    csv_response("prospect-masters.csv", result)
}

/// The JSON report of one resolver run. Admins only.
pub async fn prospects_report_json(State(state): State<HostState>, Caller(caller): Caller, axum::extract::Path(id): axum::extract::Path<i64>) -> Response {
    if let Err(e) = backend::tenancy::access::require_admin(&caller) {
        return error_response(e);
    }
    match backend::prospects::store::run_report(&state.app.db, Some(id)).await {
        Ok(json) => {
            let mut res = json.into_response();
            let h = res.headers_mut();
            h.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
            h.insert(header::CONTENT_DISPOSITION, HeaderValue::from_str(&format!("attachment; filename=\"prospects-run-{id}.json\"")).expect("ASCII file name"));
            no_store(&mut res);
            res
        }
        Err(e) => error_response(e),
    }
}
