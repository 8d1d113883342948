//! AI personalization: campaigns (admins: every workspace; clients: theirs, when allowed), what
//! they saved, and per campaign the upload of a leads CSV, its runs with live progress, the
//! results (edit a line, write one again) and the CSV export.

use leptos::{form::ActionForm, prelude::*};
use leptos_meta::Title;
use leptos_router::hooks::{use_params_map, use_query_map};

use crate::{
    api::{
        load_personalization, load_personalization_campaign, CancelPersonalizationRun, CreatePersonalizationCampaign, EditPersonalizationLine,
        RegeneratePersonalizationLead, ResumePersonalizationRun, SetPersonalizationClientAccess, LEADS_PER_PAGE,
    },
    components::{
        format::thousands,
        status::{ErrorNotice, Loading},
        ui::{short_time, ActionResult, Empty},
    },
    models::{PersonalizationCampaignPage, PersonalizationHub, PersonalizationLeadView, PersonalizationRunView},
};

fn writer_label(w: &str) -> &'static str {
    match w {
        "ai" => "AI (Perplexity + Claude)",
        "template" => "template, not AI",
        "manual" => "written by hand",
        _ => "—",
    }
}

/// Says that AI writing is off: admins get the server settings to fix it, clients and viewers
/// what it means for them (the settings are none of their business).
#[component]
fn NoKeysNotice(ai_ready: bool, admin: bool) -> impl IntoView {
    (!ai_ready).then(|| {
        if admin {
            view! {
                <div class="alert alert-warn" role="status" data-testid="no-ai-keys">
                    <strong>"AI writing is not set up: "</strong>
                    "the server has no MAVERICK_PERPLEXITY_KEY and MAVERICK_OPENROUTER_KEY. Until they are set, runs use the built-in "
                    <strong>"template writer (template, not AI)"</strong>
                    ", which composes a line from each row's own columns — enough to try the whole flow."
                </div>
            }
            .into_any()
        } else {
            view! {
                <div class="alert alert-warn" role="status" data-testid="no-ai-keys">
                    <strong>"AI writing is not switched on yet. "</strong>
                    "For now each first line is written by a "<strong>"template (not AI)"</strong>
                    " from the columns of your own file. Your agency can switch AI writing on."
                </div>
            }
            .into_any()
        }
    })
}

/// Whether the signed-in user is an agency admin (for wording, never for access).
async fn signed_in_admin() -> bool {
    crate::components::guard::CurrentUser::resource().await.ok().flatten().is_some_and(|m| m.is_admin())
}

#[component]
pub fn PersonalizationHubPage() -> impl IntoView {
    let create = ServerAction::<CreatePersonalizationCampaign>::new();
    let access = ServerAction::<SetPersonalizationClientAccess>::new();
    let data = Resource::new_blocking(move || access.version().get(), |_| load_personalization());
    view! {
        <Title text="Personalization"/>
        <h1>"AI personalization"</h1>
        <Suspense fallback=Loading>
            {move || Suspend::new(async move {
                let admin = signed_in_admin().await;
                match data.await {
                    Err(e) => view! { <ErrorNotice error=e/> }.into_any(),
                    Ok(h) => view! { <Hub h admin create access/> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn Hub(h: PersonalizationHub, admin: bool, create: ServerAction<CreatePersonalizationCampaign>, access: ServerAction<SetPersonalizationClientAccess>) -> impl IntoView {
    let money = |m: f64| format!("${m:.2}");
    let savings_table = move |rows: Vec<(String, i64, f64, f64)>, who: &'static str, testid: &'static str| {
        if rows.is_empty() {
            return view! { <p class="muted" data-testid=testid>"Nothing saved yet: savings appear here once the first leads are personalized."</p> }.into_any();
        }
        view! {
        <div class="table-wrap"><table data-testid=testid>
            <thead><tr><th scope="col">{who}</th><th scope="col" class="num">"Personalized leads"</th><th scope="col" class="num">"Hours saved"</th><th scope="col" class="num">"Money saved"</th></tr></thead>
            <tbody>{rows.into_iter().map(|(w, n, hours, m)| view! {
                <tr><td>{w}</td><td class="num">{thousands(n)}</td><td class="num">{format!("{hours:.2}")}</td><td class="num">{money(m)}</td></tr>
            }).collect_view()}</tbody>
        </table></div>
        }.into_any()
    };
    view! {
        <NoKeysNotice ai_ready=h.ai_ready admin/>
        {(admin && h.ai_ready).then(|| view! { <p class="muted">{format!("Research: Perplexity {} · writing: {} through OpenRouter.", h.models.0, h.models.1)}</p> })}
        <section class="card">
            <h2>"Campaigns" " " <a class="button small" href="/personalization/campaigns.csv" download>"CSV"</a></h2>
            {if h.campaigns.is_empty() && h.workspaces.is_empty() {
                view! { <Empty title="Personalization is not turned on for you">"Your agency can let your workspace run its own campaigns."</Empty> }.into_any()
            } else if h.campaigns.is_empty() {
                view! { <Empty title="No campaigns yet">"Create one below, then upload a CSV of leads to it."</Empty> }.into_any()
            } else {
                view! {
                    <div class="table-wrap"><table data-testid="campaigns">
                        <thead><tr><th scope="col">"Campaign"</th><th scope="col">"Workspace"</th><th scope="col" class="num">"Leads"</th><th scope="col" class="num">"Personalized"</th><th scope="col" class="num">"Failed"</th><th scope="col">"Created"</th></tr></thead>
                        <tbody>{h.campaigns.into_iter().map(|c| view! {
                            <tr>
                                <td><a href=format!("/personalization/{}", c.id)>{c.name}</a></td>
                                <td>{c.workspace_name}</td>
                                <td class="num">{thousands(c.leads)}</td>
                                <td class="num">{thousands(c.personalized)}</td>
                                <td class="num">{thousands(c.failed)}</td>
                                <td>{short_time(&c.created_at)}</td>
                            </tr>
                        }).collect_view()}</tbody>
                    </table></div>
                }.into_any()
            }}
        </section>
        <section class="card">
            <h2>"Time and money saved" " " <a class="button small" href="/personalization/savings.csv" download>"CSV"</a></h2>
            <p class="muted">{format!("Each personalized lead saves 0.02 h; money at ${:.2} an hour.", h.hourly_rate)}</p>
            {savings_table(h.by_workspace, "Workspace", "savings-workspaces")}
            // Per person only for admins: the server sends clients no names of agency staff.
            {admin.then(|| savings_table(h.by_user, "User", "savings-users"))}
        </section>
        {(!h.workspaces.is_empty()).then(|| view! {
            <section class="card">
                <h2>"New campaign"</h2>
                <ActionForm action=create attr:class="form-grid" attr:data-testid="new-campaign">
                    <label>"Workspace"
                        <select name="workspace" required>
                            {h.workspaces.iter().map(|(s, n)| view! { <option value=s.clone()>{n.clone()}</option> }).collect_view()}
                        </select>
                    </label>
                    <label>"Name" <input name="name" required maxlength="120"/></label>
                    <label>"What the client offers (context for the writer)" <textarea name="offer" rows="3"></textarea></label>
                    <label>"An example first line in the voice you want (optional)" <input name="example_line"/></label>
                    <button type="submit" class="button primary">"Create campaign"</button>
                </ActionForm>
                <ActionResult value=create.value() success="Created."/>
            </section>
        })}
        {(!h.client_access.is_empty()).then(|| view! {
            <section class="card">
                <h2>"Client access"</h2>
                <p class="muted">"Client users of these workspaces may create and run their own campaigns."</p>
                // One form, one Save for every workspace (each box names its workspace).
                <ActionForm action=access attr:class="stack" attr:data-testid="client-access">
                    <fieldset class="checks">
                        <legend class="visually-hidden">"Workspaces whose clients may run personalization"</legend>
                        {h.client_access.into_iter().map(|(slug, name, allowed)| view! {
                            <input type="hidden" name=format!("shown[{slug}]") value="1"/>
                            <label><input type="checkbox" name=format!("allowed[{slug}]") value="yes" checked=allowed/>{name}</label>
                        }).collect_view()}
                    </fieldset>
                    <button type="submit" class="button primary">"Save client access"</button>
                </ActionForm>
                <ActionResult value=access.value() success="Saved."/>
            </section>
        })}
    }
}

#[component]
pub fn PersonalizationCampaignPageView() -> impl IntoView {
    let params = use_params_map();
    let query = use_query_map();
    let q = move |k: &str| query.with(|q| q.get(k));
    let cancel = ServerAction::<CancelPersonalizationRun>::new();
    let resume = ServerAction::<ResumePersonalizationRun>::new();
    let edit = ServerAction::<EditPersonalizationLine>::new();
    let regenerate = ServerAction::<RegeneratePersonalizationLead>::new();
    // Bumped by the live progress stream when a run moves on.
    let live = RwSignal::new(0u64);
    let data = Resource::new_blocking(
        move || {
            (
                params.with(|p| p.get("id").and_then(|v| v.parse::<i64>().ok()).unwrap_or(0)),
                q("run").and_then(|v| v.parse::<i64>().ok()),
                q("status"),
                q("offset").and_then(|v| v.parse::<i64>().ok()),
                (cancel.version().get(), resume.version().get(), edit.version().get(), regenerate.version().get(), live.get()),
            )
        },
        |(id, run, status, offset, _)| load_personalization_campaign(id, run, status, offset),
    );
    view! {
        <Title text="Personalization campaign"/>
        <Suspense fallback=Loading>
            {move || Suspend::new(async move {
                let admin = signed_in_admin().await;
                match data.await {
                    Err(e) => view! { <ErrorNotice error=e/> }.into_any(),
                    Ok(p) => view! { <CampaignBody p admin cancel resume edit regenerate live error=q("error")/> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn CampaignBody(
    p: PersonalizationCampaignPage,
    admin: bool,
    cancel: ServerAction<CancelPersonalizationRun>,
    resume: ServerAction<ResumePersonalizationRun>,
    edit: ServerAction<EditPersonalizationLine>,
    regenerate: ServerAction<RegeneratePersonalizationLead>,
    live: RwSignal<u64>,
    error: Option<String>,
) -> impl IntoView {
    let id = p.id;
    let current = p.run.and_then(|r| p.runs.iter().find(|x| x.id == r).cloned());
    view! {
        <p class="muted"><a href="/personalization">"Personalization"</a> " / " {p.workspace_name.clone()}</p>
        <h1>{p.name.clone()}</h1>
        {error.as_deref().and_then(crate::models::upload_refusal).map(|e| view! { <div class="alert alert-error" role="alert" data-testid="upload-error">{e}</div> })}
        <NoKeysNotice ai_ready=p.ai_ready admin/>
        {p.can_write.then(|| view! {
            <section class="card">
                <h2>"Upload leads"</h2>
                <p class="muted">{format!(
                    "A CSV (up to {} MB) with at least an email and a company column; other columns are kept. Leads already personalized in this campaign are skipped.",
                    p.max_upload_mb
                )}</p>
                <form method="post" action=format!("/personalization/{id}/runs") enctype="multipart/form-data" class="form-grid" data-testid="upload-leads">
                    <label>"Leads CSV" <input type="file" name="file" accept=".csv,text/csv" required/></label>
                    <fieldset>
                        <legend>"Who writes the lines"</legend>
                        <label><input type="radio" name="writer" value="ai" checked=p.ai_ready disabled=!p.ai_ready/>" AI (Perplexity research + Claude)"</label>
                        <label><input type="radio" name="writer" value="template" checked=!p.ai_ready/>" Template, not AI (offline, from the row's own columns)"</label>
                    </fieldset>
                    <button type="submit" class="button primary">"Upload and start"</button>
                </form>
            </section>
        })}
        {current.clone().map(|r| view! { <RunProgress run=r slug=p.workspace_slug.clone() after=p.last_event_id live/> })}
        <section class="card">
            <h2>"Runs"</h2>
            {if p.runs.is_empty() {
                view! { <Empty title="No runs yet">"Upload a CSV of leads to start one."</Empty> }.into_any()
            } else {
                view! { <RunsTable runs=p.runs.clone() campaign=id can_write=p.can_write cancel resume/> }.into_any()
            }}
        </section>
        {current.map(|run| view! { <Results p=p.clone() run edit regenerate/> })}
    }
}

/// The chosen run's progress bar, moved by the workspace's live event stream while it runs (no
/// polling); when it ends, the page's data is fetched again.
#[component]
fn RunProgress(run: PersonalizationRunView, slug: String, after: i64, live: RwSignal<u64>) -> impl IntoView {
    let progress = RwSignal::new((run.status.clone(), run.done, run.failed, run.total));
    #[cfg(feature = "hydrate")]
    {
        let (event, _) = crate::components::live::workspace_events(&slug, Some(after));
        let run_id = run.id;
        Effect::new(move |_| {
            let Some(v) = event.get() else { return };
            let p = &v["payload"];
            if v["kind"] != "personalization.progress" || p["run_id"].as_i64() != Some(run_id) {
                return;
            }
            let status = p["status"].as_str().unwrap_or("").to_owned();
            let finished = !matches!(status.as_str(), "extracting" | "personalizing");
            progress.set((status, p["done"].as_i64().unwrap_or(0), p["failed"].as_i64().unwrap_or(0), p["total"].as_i64().unwrap_or(0)));
            if finished {
                live.update(|n| *n += 1);
            }
        });
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = (slug, after, live);
    let pct = move || progress.with(|(_, d, f, t)| if *t > 0 { ((d + f) * 100 / t).min(100) } else { 0 });
    view! {
        <section class="card" data-testid="run-progress">
            <h2>{format!("Run {} — {}", run.id, run.file_name)}</h2>
            <p>{move || progress.with(|(s, d, f, t)| format!("{s}: {d} written, {f} failed of {t}"))}</p>
            <progress max="100" value=move || pct().to_string() aria-label="Progress" data-testid="run-progress-bar"></progress>
            <span class="muted" data-testid="run-progress-pct">{move || format!(" {} %", pct())}</span>
        </section>
    }
}

#[component]
fn RunsTable(
    runs: Vec<PersonalizationRunView>,
    campaign: i64,
    can_write: bool,
    cancel: ServerAction<CancelPersonalizationRun>,
    resume: ServerAction<ResumePersonalizationRun>,
) -> impl IntoView {
    view! {
        <div class="table-wrap"><table data-testid="runs">
            <thead><tr>
                <th scope="col">"Run"</th><th scope="col">"File"</th><th scope="col">"Writer"</th><th scope="col">"Status"</th>
                <th scope="col" class="num">"Rows"</th><th scope="col" class="num">"Rejected"</th><th scope="col" class="num">"Skipped"</th>
                <th scope="col" class="num">"Written"</th><th scope="col" class="num">"Failed"</th><th scope="col"><span class="visually-hidden">"Actions"</span></th>
            </tr></thead>
            <tbody>{runs.into_iter().map(|r| {
                let active = matches!(r.status.as_str(), "extracting" | "personalizing");
                let resumable = matches!(r.status.as_str(), "cancelled" | "failed") && r.done + r.failed < r.total;
                view! {
                    <tr>
                        <td><a href=format!("/personalization/{campaign}?run={}", r.id)>{format!("#{}", r.id)}</a>" "<span class="muted small">{short_time(&r.created_at)}</span></td>
                        <td>{r.file_name.clone()}</td>
                        <td>{writer_label(&r.writer)}</td>
                        <td>{r.status.clone()}{r.error.clone().map(|e| view! { <div class="small muted">{e}</div> })}</td>
                        <td class="num">{thousands(r.rows_total)}</td>
                        <td class="num">{if r.has_rejected_file {
                            view! { <a href=format!("/personalization/runs/{}/rejected.csv", r.id) download>{thousands(r.rejected)}</a> }.into_any()
                        } else { view! { {thousands(r.rejected)} }.into_any() }}</td>
                        <td class="num">{thousands(r.skipped)}</td>
                        <td class="num">{format!("{} / {}", thousands(r.done), thousands(r.total))}</td>
                        <td class="num">{thousands(r.failed)}</td>
                        <td>
                            {(can_write && active && !r.cancel_requested).then(|| view! {
                                <ActionForm action=cancel attr:class="inline"><input type="hidden" name="run_id" value=r.id.to_string()/><button type="submit" class="button small">"Cancel"</button></ActionForm>
                            })}
                            {(can_write && resumable).then(|| view! {
                                <ActionForm action=resume attr:class="inline"><input type="hidden" name="run_id" value=r.id.to_string()/><button type="submit" class="button small">"Resume"</button></ActionForm>
                            })}
                        </td>
                    </tr>
                }
            }).collect_view()}</tbody>
        </table></div>
        <ActionResult value=cancel.value() success="Stopping: leads in flight finish first."/>
        <ActionResult value=resume.value() success="Resumed."/>
    }
}

#[component]
fn Results(
    p: PersonalizationCampaignPage,
    run: PersonalizationRunView,
    edit: ServerAction<EditPersonalizationLine>,
    regenerate: ServerAction<RegeneratePersonalizationLead>,
) -> impl IntoView {
    let (id, run_id) = (p.id, run.id);
    let page_link = move |offset: i64| format!("/personalization/{id}?run={run_id}&offset={offset}");
    let (from, to) = (p.offset + 1, (p.offset + LEADS_PER_PAGE).min(p.leads_total));
    view! {
        <section class="card">
            <h2>{format!("Results of run #{run_id}")}</h2>
            <p>
                <a class="button" href=format!("/personalization/{id}/export.csv?run={run_id}") download data-testid="export-run">"Download CSV"</a>
                " "
                <a href=format!("/personalization/{id}/export.csv") download>"Whole campaign"</a>
                " · "
                <a href=format!("/personalization/{id}?run={run_id}")>"All"</a>" · "
                <a href=format!("/personalization/{id}?run={run_id}&status=done")>"Written"</a>" · "
                <a href=format!("/personalization/{id}?run={run_id}&status=failed")>"Failed"</a>" · "
                <a href=format!("/personalization/{id}?run={run_id}&status=pending")>"Pending"</a>
            </p>
            {if p.leads.is_empty() {
                view! { <Empty title="No leads to show">"Leads appear here as the run reads the file."</Empty> }.into_any()
            } else {
                view! {
                    <div class="table-wrap"><table data-testid="results">
                        <thead><tr><th scope="col">"Line"</th><th scope="col">"Lead"</th><th scope="col">"Research"</th><th scope="col">"First line"</th><th scope="col">"Status"</th></tr></thead>
                        <tbody>{p.leads.into_iter().map(|l| view! { <LeadRow l can_write=p.can_write edit regenerate/> }).collect_view()}</tbody>
                    </table></div>
                    <p class="muted">
                        {format!("{from}–{to} of {}", thousands(p.leads_total))}
                        {(p.offset > 0).then(|| view! { " " <a href=page_link((p.offset - LEADS_PER_PAGE).max(0))>"Previous"</a> })}
                        {(p.offset + LEADS_PER_PAGE < p.leads_total).then(|| view! { " " <a href=page_link(p.offset + LEADS_PER_PAGE)>"Next"</a> })}
                    </p>
                }.into_any()
            }}
            <ActionResult value=edit.value() success="Saved."/>
            <ActionResult value=regenerate.value() success="Written again."/>
        </section>
    }
}

#[component]
fn LeadRow(l: PersonalizationLeadView, can_write: bool, edit: ServerAction<EditPersonalizationLine>, regenerate: ServerAction<RegeneratePersonalizationLead>) -> impl IntoView {
    let research = l.research.clone().unwrap_or_default();
    view! {
        <tr data-testid="result-row">
            <td class="num">{l.line_no}</td>
            <td><div>{l.name.clone()}</div><div class="small muted">{l.email.clone()}</div><div class="small">{l.company.clone()}</div></td>
            <td class="small">{if research.is_empty() { "—".to_owned() } else { research.chars().take(400).collect::<String>() }}</td>
            <td>
                {if can_write {
                    view! {
                        <ActionForm action=edit attr:class="inline">
                            <input type="hidden" name="lead_id" value=l.id.to_string()/>
                            <textarea name="line" rows="2" aria-label=format!("First line for {}", l.email)>{l.line.clone().unwrap_or_default()}</textarea>
                            <button type="submit" class="button small">"Save"</button>
                        </ActionForm>
                    }.into_any()
                } else {
                    view! { <span>{l.line.clone().unwrap_or_default()}</span> }.into_any()
                }}
                <div class="small muted">{writer_label(l.writer.as_deref().unwrap_or(""))}</div>
            </td>
            <td>
                {l.status.clone()}
                {l.error.clone().map(|e| view! { <div class="small muted">{e}</div> })}
                {l.ai_cost.clone().map(|cost| view! {
                    <div class="small muted">
                        {format!("AI cost {cost} · ")}
                        <a href=format!("/personalization/leads/{}/calls.csv", l.id) download>"prompts and answers"</a>
                    </div>
                })}
                {can_write.then(|| view! {
                    <ActionForm action=regenerate attr:class="inline">
                        <input type="hidden" name="lead_id" value=l.id.to_string()/>
                        <button type="submit" class="button small">"Write again"</button>
                    </ActionForm>
                })}
            </td>
        </tr>
    }
}
