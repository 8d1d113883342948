//! Automations (PT1–PT5): "Run now" (for real or as a dry run), the runs with filters kept in the
//! URL, one run opened with its steps, its log tailed live while it goes, the screenshot and page
//! of a failed step, retry from the failed step; each workspace's schedules and settings; the
//! sites' sign-ins (passwords are write-only).

use leptos::{form::ActionForm, prelude::*};
use leptos_meta::Title;
use leptos_router::hooks::{use_navigate, use_query_map};

use crate::{
    api::{
        load_automations, DeleteSiteCredential, RetryAutomationRun, SaveAutomationSettings, SaveSiteCredential, StartAutomationRun,
    },
    components::{
        format::thousands,
        guard::{encode_component, RequireAdmin},
        status::{ErrorNotice, Loading},
        ui::{short_time, ActionResult, Empty},
    },
    models::{AutomationRunDetail, AutomationRunView, AutomationsPage, SiteCredentialView},
};

const STATUSES: &[&str] = &["queued", "running", "completed", "failed", "interrupted"];

fn step_short(step: &str) -> String {
    step.split('_').next().unwrap_or(step).to_uppercase()
}

fn duration(secs: Option<i64>) -> String {
    match secs {
        None => "—".into(),
        Some(s) if s < 60 => format!("{s} s"),
        Some(s) => format!("{} min {} s", s / 60, s % 60),
    }
}

fn badge(status: &str) -> &'static str {
    match status {
        "completed" => "badge status-on_track",
        "failed" => "badge status-behind",
        "interrupted" => "badge status-at_risk",
        _ => "badge",
    }
}

#[component]
pub fn AutomationsPage() -> impl IntoView {
    let query = use_query_map();
    let q = move |k: &str| query.with(|q| q.get(k).unwrap_or_default());
    let start = ServerAction::<StartAutomationRun>::new();
    let retry = ServerAction::<RetryAutomationRun>::new();
    let save = ServerAction::<SaveAutomationSettings>::new();
    let cred = ServerAction::<SaveSiteCredential>::new();
    let delete = ServerAction::<DeleteSiteCredential>::new();
    // Bumped by the workspace's live stream while the opened run goes.
    let live = RwSignal::new(0u64);
    let data = Resource::new_blocking(
        move || {
            (
                q("workspace"),
                q("status"),
                q("run").parse::<i64>().ok(),
                (retry.version().get(), save.version().get(), cred.version().get(), delete.version().get(), live.get()),
            )
        },
        |(ws, status, run, _)| load_automations(Some(ws), Some(status), run),
    );
    // A started run opens on the page (its id in the URL, so a reload keeps it).
    let navigate = use_navigate();
    Effect::new(move |_| {
        if let Some(Ok(id)) = start.value().get() {
            let ws = query.with_untracked(|q| q.get("workspace").unwrap_or_default());
            navigate(&format!("/admin/automations?workspace={}&run={id}", encode_component(&ws)), Default::default());
        }
    });
    view! {
        <Title text="Automations"/>
        <RequireAdmin>
            <div class="page-head">
                <h1>"Automations"</h1>
                <a class="button" href=move || format!("/admin/automations/runs.csv?workspace={}&status={}", encode_component(&q("workspace")), encode_component(&q("status"))) download>"Export CSV"</a>
            </div>
            <p class="muted">"PT1 pulls contacts from Cole X Dates for the workspace's ZIP codes (monthly on the 15th) → PT2 cleans them (Clay when set, the contact import, DeBounce) → PT3 checks the month's need and pulls more when short → PT4 uploads the week's batch to Email Bison (Fridays) → PT5 renames the campaign. A dry run does everything except write to Email Bison, DeBounce or the contact pipeline."</p>
            <Transition fallback=Loading>
                {move || Suspend::new(async move {
                    match data.await {
                        Err(e) => view! { <ErrorNotice error=e/><p><a class="button" href="/admin/automations">"Reset the filters"</a></p> }.into_any(),
                        Ok(p) => view! { <Body p start retry save cred delete live/> }.into_any(),
                    }
                })}
            </Transition>
        </RequireAdmin>
    }
}

#[component]
fn Body(
    p: AutomationsPage,
    start: ServerAction<StartAutomationRun>,
    retry: ServerAction<RetryAutomationRun>,
    save: ServerAction<SaveAutomationSettings>,
    cred: ServerAction<SaveSiteCredential>,
    delete: ServerAction<DeleteSiteCredential>,
    live: RwSignal<u64>,
) -> impl IntoView {
    let query = use_query_map();
    let selected = query.with_untracked(|q| q.get("workspace").unwrap_or_default());
    let status = query.with_untracked(|q| q.get("status").unwrap_or_default());
    let run_now_ws = if selected.is_empty() { p.settings_slug.clone() } else { selected.clone() };
    let run_now = (p.workspaces.clone(), p.steps.clone());
    view! {
        <section class="card" data-testid="run-now">
            <h2>"Run now"</h2>
            {if run_now.0.is_empty() {
                view! { <Empty title="No active workspaces">"Create a client workspace first."</Empty> }.into_any()
            } else {
                let (workspaces, steps) = run_now;
                let last = steps.len();
                view! {
                    <ActionForm action=start attr:class="form-grid">
                        <label>"Workspace"
                            <select name="workspace">
                                {workspaces.iter().map(|(slug, name)| view! { <option value=slug.clone() selected=*slug == run_now_ws>{name.clone()}</option> }).collect_view()}
                            </select>
                        </label>
                        <label>"From"
                            <select name="first">
                                {steps.iter().enumerate().map(|(i, (v, l))| view! { <option value=v.clone() selected=i == 0>{l.clone()}</option> }).collect_view()}
                            </select>
                        </label>
                        <label>"Through"
                            <select name="last">
                                {steps.iter().enumerate().map(|(i, (v, l))| view! { <option value=v.clone() selected=i + 1 == last>{l.clone()}</option> }).collect_view()}
                            </select>
                        </label>
                        <label class="check"><input type="checkbox" name="dry_run" value="on" checked/>" Dry run (no writes to Email Bison, DeBounce or contacts)"</label>
                        <button type="submit" class="button primary">"Start"</button>
                    </ActionForm>
                    <ActionResult value=start.value() success="Run queued."/>
                }.into_any()
            }}
        </section>
        {p.detail.clone().map(|d| view! { <RunDetail d retry live/> })}
        <section class="card">
            <h2>"Runs"</h2>
            <form method="get" class="filters" role="search">
                <label>"Workspace"
                    <select name="workspace">
                        <option value="" selected=selected.is_empty()>"All workspaces"</option>
                        {p.workspaces.iter().map(|(slug, name)| view! { <option value=slug.clone() selected=*slug == selected>{name.clone()}</option> }).collect_view()}
                    </select>
                </label>
                <label>"Status"
                    <select name="status">
                        <option value="" selected=status.is_empty()>"Any"</option>
                        {STATUSES.iter().map(|s| view! { <option value=*s selected=*s == status>{*s}</option> }).collect_view()}
                    </select>
                </label>
                <button type="submit" class="button">"Apply"</button>
            </form>
            {if p.runs.is_empty() {
                view! { <Empty title="No runs match">"Start one above, or clear the filters. Enabled workspaces also run on their schedules."</Empty> }.into_any()
            } else {
                view! { <RunsTable runs=p.runs.clone() selected=selected.clone() status=status.clone()/> }.into_any()
            }}
        </section>
        <SettingsCard p=p.clone() save/>
        <CredentialsCard credentials=p.credentials.clone() cred delete/>
    }
    .into_any()
}

#[component]
fn RunsTable(runs: Vec<AutomationRunView>, selected: String, status: String) -> impl IntoView {
    let base = format!("/admin/automations?workspace={}&status={}", encode_component(&selected), encode_component(&status));
    view! {
        <div class="table-wrap"><table data-testid="automation-runs">
            <thead><tr>
                <th scope="col">"Run"</th><th scope="col">"Workspace"</th><th scope="col">"Steps"</th><th scope="col">"Trigger"</th>
                <th scope="col">"Status"</th><th scope="col">"Started"</th><th scope="col" class="num">"Took"</th><th scope="col">"Error"</th>
            </tr></thead>
            <tbody>{runs.into_iter().map(|r| view! {
                <tr data-status=r.status.clone()>
                    <td><a href=format!("{base}&run={}", r.id)>{format!("#{}", r.id)}</a>{r.dry_run.then(|| view! { " "<span class="badge">"dry run"</span> })}</td>
                    <td>{r.workspace_name.clone()}</td>
                    <td>{format!("{} → {}", step_short(&r.first_step), step_short(&r.last_step))}</td>
                    <td>{r.trigger.clone()}</td>
                    <td><span class=badge(&r.status)>{r.status.clone()}</span>{r.current_step.clone().map(|s| view! { <span class="muted small">{format!(" {}", step_short(&s))}</span> })}</td>
                    <td>{r.started_at.as_deref().map(short_time).unwrap_or_else(|| "—".into())}</td>
                    <td class="num">{duration(r.seconds)}</td>
                    <td class="small">{r.error.clone().unwrap_or_default()}</td>
                </tr>
            }).collect_view()}</tbody>
        </table></div>
    }
    .into_any()
}

/// The opened run: steps, the failed page, the log (live while the run goes), retry.
#[component]
fn RunDetail(d: AutomationRunDetail, retry: ServerAction<RetryAutomationRun>, live: RwSignal<u64>) -> impl IntoView {
    let run = d.run.clone();
    let going = matches!(run.status.as_str(), "queued" | "running");
    #[cfg(feature = "hydrate")]
    if going {
        let (event, _) = crate::components::live::workspace_events(&run.workspace_slug, Some(d.last_event_id));
        let run_id = run.id;
        Effect::new(move |_| {
            let Some(v) = event.get() else { return };
            let about_this_run = v["payload"]["run_id"].as_i64() == Some(run_id);
            if about_this_run && (v["kind"] == "automation.progress" || v["kind"] == "automation.run_completed" || v["kind"] == "automation.run_failed") {
                live.update(|n| *n += 1);
            }
        });
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = live;
    let can_retry = matches!(run.status.as_str(), "failed" | "interrupted");
    let retry_label = if run.status == "interrupted" { "Resume" } else { "Retry from the failed step" };
    let run_id = run.id;
    let failed = d.steps.iter().rev().find(|s| s.status == "failed" && (s.has_screenshot || s.page_url.is_some())).cloned();
    view! {
        <section class="card" data-testid="run-detail" data-status=run.status.clone()>
            <h2>{format!("Run #{} — {}", run.id, run.workspace_name)}{run.dry_run.then(|| view! { " "<span class="badge">"dry run"</span> })}</h2>
            <p>
                <span class=badge(&run.status) data-testid="run-status">{run.status.clone()}</span>
                {format!(" {} → {}, {} · started {} · took {}", step_short(&run.first_step), step_short(&run.last_step), run.trigger,
                    run.started_at.as_deref().map(short_time).unwrap_or_else(|| "not yet".into()), duration(run.seconds))}
            </p>
            {run.error.clone().map(|e| view! { <p class="alert alert-error" role="alert">{e}</p> })}
            {can_retry.then(|| view! {
                <ActionForm action=retry attr:class="inline">
                    <input type="hidden" name="run" value=run_id.to_string()/>
                    <button type="submit" class="button primary">{retry_label}</button>
                </ActionForm>
                <ActionResult value=retry.value() success="Queued again."/>
            })}
            <div class="table-wrap"><table data-testid="run-steps">
                <thead><tr>
                    <th scope="col">"Step"</th><th scope="col" class="num">"Attempt"</th><th scope="col">"Status"</th>
                    <th scope="col" class="num">"In"</th><th scope="col" class="num">"Out"</th><th scope="col" class="num">"Took"</th><th scope="col">"Error"</th>
                </tr></thead>
                <tbody>{d.steps.iter().map(|s| view! {
                    <tr data-step=s.step.clone() data-status=s.status.clone()>
                        <td>{s.label.clone()}</td>
                        <td class="num">{s.attempt}</td>
                        <td><span class=badge(&s.status)>{s.status.clone()}</span></td>
                        <td class="num">{s.records_in.map(thousands).unwrap_or_else(|| "—".into())}</td>
                        <td class="num">{s.records_out.map(thousands).unwrap_or_else(|| "—".into())}</td>
                        <td class="num">{duration(s.seconds)}</td>
                        <td class="small">{s.error.clone().unwrap_or_default()}</td>
                    </tr>
                }).collect_view()}</tbody>
            </table></div>
            {failed.map(|s| view! {
                <figure class="screenshot" data-testid="failed-page">
                    <figcaption>
                        {format!("{} failed at \"{}\"", s.label, s.failed_action.clone().unwrap_or_default())}
                        {s.page_url.clone().map(|u| view! { " on "<code>{u}</code> })}
                        {s.has_html.then(|| view! { " · "<a href=format!("/admin/automations/steps/{}/page.html", s.id) download>"page HTML"</a> })}
                    </figcaption>
                    {s.has_screenshot.then(|| view! {
                        <a href=format!("/admin/automations/steps/{}/screenshot.png", s.id) target="_blank">
                            <img src=format!("/admin/automations/steps/{}/screenshot.png", s.id) alt=format!("Screenshot of the page where {} failed", s.label) loading="lazy"/>
                        </a>
                    })}
                </figure>
            })}
            <h3>"Log"</h3>
            <ol class="run-log" data-testid="run-log" aria-live=if going { "polite" } else { "off" }>
                {d.log.iter().map(|l| view! {
                    <li class=format!("log-{}", l.level)><time>{l.at.get(11..19).unwrap_or("").to_owned()}</time>" "{l.message.clone()}</li>
                }).collect_view()}
            </ol>
        </section>
    }
    .into_any()
}

#[component]
fn SettingsCard(p: AutomationsPage, save: ServerAction<SaveAutomationSettings>) -> impl IntoView {
    let s = p.settings.clone();
    view! {
        <section class="card" data-testid="automation-settings">
            <h2>{format!("Settings — {}", p.settings_name)}</h2>
            <p class="muted">"Choose the workspace with the filter above. Schedules are cron expressions with seconds (sec min hour day month weekday), in UTC."
                {s.run_as.clone().map(|u| format!(" Imports run with the rights of {u}, who saved these settings last."))}</p>
            <ActionForm action=save attr:class="form-grid">
                <input type="hidden" name="workspace" value=p.settings_slug.clone()/>
                <label class="check"><input type="checkbox" name="enabled" value="on" checked=s.enabled/>" Run on the schedules"</label>
                <label>"Cole X Dates state" <input name="cole_state" value=s.cole_state.clone() maxlength="2" placeholder="NJ" autocomplete="off"/></label>
                <label>"Pull schedule (PT1–PT3)" <input name="pull_cron" value=s.pull_cron.clone() required/></label>
                <label>"Upload schedule (PT4–PT5)" <input name="upload_cron" value=s.upload_cron.clone() required/></label>
                <label>"Look back (days)" <input type="number" name="lookback_days" min="1" max="365" value=s.lookback_days.to_string()/></label>
                <label>"Supplemental pulls at most" <input type="number" name="supplemental_max" min="0" max="3" value=s.supplemental_max.to_string()/></label>
                <label>"Clay table (empty: no Clay)" <input name="clay_table" value=s.clay_table.clone()/></label>
                <label>"Campaign name" <input name="rename_pattern" value=s.rename_pattern.clone() required/></label>
                <label>"Step time limit (s)" <input type="number" name="step_timeout_secs" min="5" max="7200" value=s.step_timeout_secs.to_string()/></label>
                <button type="submit" class="button primary">"Save settings"</button>
            </ActionForm>
            <p class="muted small">"Campaign name placeholders: {client}, {yyyy-mm}, {n} (week of the month)."</p>
            <ActionResult value=save.value() success="Settings saved."/>
        </section>
    }
    .into_any()
}

#[component]
fn CredentialsCard(credentials: Vec<SiteCredentialView>, cred: ServerAction<SaveSiteCredential>, delete: ServerAction<DeleteSiteCredential>) -> impl IntoView {
    view! {
        <section class="card" data-testid="site-credentials">
            <h2>"Sign-ins"</h2>
            <p class="muted">"Cole X Dates has one sign-in per state; Clay one. Passwords are stored encrypted and are never shown again."</p>
            {if credentials.is_empty() {
                view! { <Empty title="No sign-ins yet">"Add the Cole X Dates sign-in of each state you pull, and Clay's if PT2 enriches through it."</Empty> }.into_any()
            } else {
                view! {
                    <div class="table-wrap"><table>
                        <thead><tr><th scope="col">"Site"</th><th scope="col">"State"</th><th scope="col">"User name"</th><th scope="col">"Updated"</th><th scope="col"><span class="visually-hidden">"Actions"</span></th></tr></thead>
                        <tbody>{credentials.into_iter().map(|c| view! {
                            <tr>
                                <td>{c.site_label.clone()}</td><td>{if c.region.is_empty() { "—".to_owned() } else { c.region.clone() }}</td>
                                <td>{c.username.clone()}</td><td>{short_time(&c.updated_at)}</td>
                                <td><ActionForm action=delete attr:class="inline">
                                    <input type="hidden" name="id" value=c.id.to_string()/>
                                    <button type="submit" class="button small" aria-label=format!("Remove the {} sign-in {}", c.site_label, c.username)>"Remove"</button>
                                </ActionForm></td>
                            </tr>
                        }).collect_view()}</tbody>
                    </table></div>
                }.into_any()
            }}
            <ActionForm action=cred attr:class="form-grid">
                <label>"Site" <select name="site"><option value="cole">"Cole X Dates"</option><option value="clay">"Clay"</option></select></label>
                <label>"State (Cole)" <input name="region" maxlength="2" placeholder="NJ" autocomplete="off"/></label>
                <label>"User name" <input name="username" required autocomplete="off"/></label>
                <label>"Password" <input type="password" name="password" autocomplete="new-password"/></label>
                <button type="submit" class="button">"Save sign-in"</button>
            </ActionForm>
            <ActionResult value=cred.value() success="Sign-in saved."/>
            <ActionResult value=delete.value() success="Sign-in removed."/>
        </section>
    }
    .into_any()
}
