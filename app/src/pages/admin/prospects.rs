//! Prospects (issue 15): upload agent and company lists (streamed, up to the configured size),
//! run the resolver, decide the review queue side by side, split a master, and send masters to a
//! workspace's contact pipeline. Counts per layer, the merge log, the rejected rows and the run
//! report are downloadable.

use leptos::{form::ActionForm, prelude::*};
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use crate::{
    api::{load_prospects, DecideProspectPair, ResolveProspects, SendProspectsToContacts, SplitProspectMaster},
    components::{
        format::thousands,
        guard::RequireAdmin,
        status::{ErrorNotice, Loading},
        ui::{ActionResult, Empty},
    },
    models::{MasterView, ProspectPersonView, ProspectRunProgress, ProspectsPage, ReviewPairView},
};

/// Phone regions offered for numbers written without a country code (ISO codes; a number with
/// `+` and its country code is read the same whatever is chosen).
const REGIONS: &[(&str, &str)] = &[
    ("US", "United States / Canada (+1)"),
    ("GB", "United Kingdom (+44)"),
    ("IE", "Ireland (+353)"),
    ("AU", "Australia (+61)"),
    ("NZ", "New Zealand (+64)"),
    ("DE", "Germany (+49)"),
    ("FR", "France (+33)"),
    ("ES", "Spain (+34)"),
    ("IT", "Italy (+39)"),
    ("NL", "Netherlands (+31)"),
    ("MX", "Mexico (+52)"),
    ("IN", "India (+91)"),
];

#[component]
pub fn ProspectsPage() -> impl IntoView {
    let resolve = ServerAction::<ResolveProspects>::new();
    let decide = ServerAction::<DecideProspectPair>::new();
    let split = ServerAction::<SplitProspectMaster>::new();
    let send = ServerAction::<SendProspectsToContacts>::new();
    // Bumped when a queued run ends, so the counts, queue and masters are read again.
    let run_ended = RwSignal::new(0u32);
    let data = Resource::new_blocking(
        move || (run_ended.get(), decide.version().get(), split.version().get()),
        |_| load_prospects(),
    );
    view! {
        <Title text="Prospects"/>
        <RequireAdmin>
            <h1>"Prospects"</h1>
            <Loaded/>
            <Suspense fallback=Loading>
                {move || Suspend::new(async move {
                    match data.await {
                        Err(e) => view! { <ErrorNotice error=e/> }.into_any(),
                        Ok(p) => view! { <Body p resolve run_ended decide split send/> }.into_any(),
                    }
                })}
            </Suspense>
        </RequireAdmin>
    }
}

/// What the upload that redirected here loaded (numbers only in the URL).
#[component]
fn Loaded() -> impl IntoView {
    let query = use_query_map();
    move || {
        let q = query.get();
        let kind = q.get("loaded").filter(|k| k == "agents" || k == "company")?;
        let n = |k: &str| q.get(k).and_then(|v| v.parse::<i64>().ok()).unwrap_or(0);
        Some(
            view! {
                <div class={if n("rejected") > 0 { "alert alert-warn" } else { "alert alert-ok" }} role="status" data-testid="prospects-loaded">
                    {format!(
                        "{} file loaded: {} rows read — {} new, {} already loaded, {} persons added, {} rejected.",
                        if kind == "agents" { "Agents" } else { "Company" },
                        thousands(n("rows")), thousands(n("added")), thousands(n("again")), thousands(n("persons")), thousands(n("rejected"))
                    )}
                    {(n("rejected") > 0).then(|| view! { " " <a href="/admin/prospects/rejected.csv" download>"Download the rejected rows"</a> })}
                </div>
            }
            .into_any(),
        )
    }
}

#[component]
fn Body(
    p: ProspectsPage,
    resolve: ServerAction<ResolveProspects>,
    run_ended: RwSignal<u32>,
    decide: ServerAction<DecideProspectPair>,
    split: ServerAction<SplitProspectMaster>,
    send: ServerAction<SendProspectsToContacts>,
) -> impl IntoView {
    let stat = |value: i64, label: &'static str, testid: &'static str| {
        view! { <div class="stat"><span class="stat-value" data-testid=testid>{thousands(value)}</span><span class="stat-label">{label}</span></div> }
    };
    view! {
        <section aria-label="Layers" data-testid="prospect-counts" class="stat-grid prospect-layers">
            {stat(p.raw_rows, "raw rows loaded", "count-raw")}
            <div class="stat">
                <span class="stat-value" data-testid="count-rejected">{thousands(p.rejected_rows)}</span>
                <span class="stat-label">"rows rejected"</span>
                {(p.rejected_rows > 0).then(|| view! { <a class="muted" href="/admin/prospects/rejected.csv" download>"Download them, with reasons"</a> })}
            </div>
            {stat(p.persons, "persons (normalised)", "count-persons")}
            <div class="stat">
                <span class="stat-value" data-testid="count-masters">{thousands(p.masters)}</span>
                <span class="stat-label">"master records"</span>
                <span class="muted">{format!("{:.1} % of persons were duplicates", p.duplicate_rate * 100.0)}</span>
            </div>
            <div class="stat">
                <span class="stat-value" data-testid="count-review">{thousands(p.open_review_pairs)}</span>
                <span class="stat-label">"pairs to review"</span>
                <span class="muted">{format!("{} masters wait on them", thousands(p.masters_needing_review))}</span>
            </div>
        </section>
        <div class="card-row">
        <section class="card">
            <h2>"Upload a list"</h2>
            <form method="post" action="/admin/prospects/upload" enctype="multipart/form-data" class="stack" data-testid="prospects-upload">
                <p class="muted">{format!(
                    "A CSV with a header row, up to {} MB. Agents: full_name (or first_name/last_name), email(s), phone(s), team_id. \
                     Company research: research_uuid, team_id, website and team_members (a JSON array of people). Loading the same file twice adds nothing.",
                    p.max_upload_mb)}</p>
                <label>"Kind"
                    <select name="kind" data-testid="prospects-kind">
                        <option value="agents">"Agents"</option>
                        <option value="company">"Company research"</option>
                    </select>
                </label>
                <label>"Phone numbers without a country code are from"
                    <select name="region" data-testid="prospects-region">
                        {REGIONS.iter().map(|(code, name)| view! { <option value=*code>{*name}</option> }).collect_view()}
                    </select>
                </label>
                <label>"File" <input type="file" name="file" accept=".csv,.txt,text/csv" required data-testid="prospects-file"/></label>
                <button type="submit" class="button primary" data-testid="prospects-upload-submit">"Upload"</button>
            </form>
        </section>
        <section class="card">
            <h2>"Resolve"</h2>
            <p class="muted">"Merges every person loaded into master records: same email 100, same phone 90, same name and team 80, \
                similar name 60. Above 70 merges by itself; 70 or less waits in the review queue."</p>
            <RunPanel resolve run_ended initial=p.progress.clone()/>
            {if p.runs.is_empty() {
                view! { <Empty title="No runs yet">"Upload a list, then run the resolver to build the master records."</Empty> }.into_any()
            } else {
                view! {
                    <div class="table-wrap"><table data-testid="prospect-runs">
                        <thead><tr><th scope="col">"Run"</th><th scope="col">"Status"</th><th scope="col" class="num">"Processed"</th>
                            <th scope="col" class="num">"Merged"</th><th scope="col" class="num">"Flagged"</th><th scope="col">"Report"</th></tr></thead>
                        <tbody>{p.runs.iter().map(|r| view! {
                            <tr>
                                <td>{r.id}</td><td>{r.status.clone()}{r.error.clone().map(|e| format!(" — {e}"))}</td>
                                <td class="num">{thousands(r.processed)}</td><td class="num">{thousands(r.merged)}</td><td class="num">{thousands(r.flagged)}</td>
                                <td><a href=format!("/admin/prospects/runs/{}/report.json", r.id) download>"JSON"</a></td>
                            </tr>
                        }).collect_view()}</tbody>
                    </table></div>
                }.into_any()
            }}
        </section>
        </div>
        <Review pairs=p.review.clone() open=p.open_review_pairs decide/>
        <Masters rows=p.master_rows.clone() total=p.masters workspaces=p.workspaces.clone() split send/>
    }
    .into_any()
}

/// "Run the resolver" and the run's progress: while a run is queued or working, the browser asks
/// where it is every second; when it ends, the page's data is read again.
#[component]
fn RunPanel(resolve: ServerAction<ResolveProspects>, run_ended: RwSignal<u32>, initial: Option<ProspectRunProgress>) -> impl IntoView {
    let progress = RwSignal::new(initial);
    #[cfg(feature = "hydrate")]
    {
        let poll = move || {
            leptos::task::spawn_local(async move {
                if let Ok(now) = crate::api::prospects_progress().await {
                    // Ended: the run we watched stopped, or a new run finished before we first looked.
                    let (was_active, before) = progress.with_untracked(|p| (p.as_ref().is_some_and(ProspectRunProgress::active), p.as_ref().map(|p| p.id)));
                    let ended = now.as_ref().is_some_and(|n| !n.active() && (was_active || before != Some(n.id)));
                    progress.set(now);
                    if ended {
                        run_ended.update(|n| *n += 1);
                    }
                }
            })
        };
        Effect::new(move |_| {
            if resolve.version().get() > 0 {
                poll();
            }
        });
        Effect::new(move |_| {
            if progress.with(|p| p.as_ref().is_some_and(ProspectRunProgress::active)) {
                set_timeout(poll, std::time::Duration::from_secs(1));
            }
        });
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = run_ended;
    view! {
        <ActionForm action=resolve attr:class="inline">
            <button type="submit" class="button primary" data-testid="prospects-resolve"
                disabled=move || progress.with(|p| p.as_ref().is_some_and(ProspectRunProgress::active))>"Run the resolver"</button>
        </ActionForm>
        {move || resolve.value().get().and_then(Result::err).map(|e| view! { <p class="alert alert-error" role="alert">{e.to_string()}</p> })}
        {move || progress.get().map(|p| {
            if p.active() {
                view! {
                    <div data-testid="prospects-progress" data-status=p.status.clone() role="status">
                        <p>{run_label(&p)}</p>
                        <progress max="100" value=run_percent(&p).to_string() aria-label="Resolver progress"></progress>
                    </div>
                }.into_any()
            } else if p.status == "failed" {
                view! { <p class="alert alert-error" role="alert" data-testid="prospects-progress" data-status="failed">
                    {format!("Run {} failed: {}", p.id, p.error.clone().unwrap_or_default())}</p> }.into_any()
            } else {
                view! { <p class="alert alert-ok" role="status" data-testid="prospects-progress" data-status=p.status.clone()>
                    {format!("Run {} finished.", p.id)}</p> }.into_any()
            }
        })}
    }
}

/// What the bar says, in words.
fn run_label(p: &ProspectRunProgress) -> String {
    match (p.status.as_str(), p.phase.as_deref()) {
        ("queued", _) => format!("Run {} is waiting for a worker…", p.id),
        (_, Some("reading")) => format!("Run {}: reading the persons…", p.id),
        (_, Some("resolving")) => format!("Run {}: resolving {} persons…", p.id, thousands(p.total)),
        (_, Some("writing")) => format!("Run {}: writing master records, {} of {} rows…", p.id, thousands(p.done), thousands(p.total)),
        (_, Some("saving")) => format!("Run {}: saving the master records…", p.id),
        _ => format!("Run {}…", p.id),
    }
}

/// Percent for the bar: writing is the part that takes time at scale, so it spans 10–95 %.
fn run_percent(p: &ProspectRunProgress) -> i64 {
    match (p.status.as_str(), p.phase.as_deref()) {
        ("succeeded", _) => 100,
        (_, Some("resolving")) => 5,
        (_, Some("writing")) if p.total > 0 => 10 + 85 * p.done / p.total,
        (_, Some("saving")) => 95,
        _ => 0,
    }
}

fn person_cell(p: &ProspectPersonView) -> AnyView {
    view! {
        <td>
            <strong>{p.full_name.clone()}</strong><br/>
            <span class="muted">{p.emails.join(", ")}</span><br/>
            <span class="muted">{p.phones.join(", ")}</span><br/>
            <span class="muted">{p.team_id.clone().map(|t| format!("team {t}")).unwrap_or_default()}</span>
        </td>
    }
    .into_any()
}

/// What a review pair's rule means, in words.
fn rule_label(rule: &str) -> String {
    match rule {
        "email" => "same email".into(),
        "phone" => "same phone".into(),
        "name_team" => "same name and team".into(),
        "shared_contact" => "a shared email or phone (an office line?)".into(),
        "fuzzy_name" => "similar name".into(),
        other => other.replace('_', " "),
    }
}

/// Pairs scored 70 or less, best first, side by side.
#[component]
fn Review(pairs: Vec<ReviewPairView>, open: i64, decide: ServerAction<DecideProspectPair>) -> impl IntoView {
    view! {
        <section class="card">
            <h2>{format!("Review queue ({})", thousands(open))}</h2>
            <ActionResult value=decide.value() success="Decision saved: merged pairs are one master now, kept-apart pairs stay apart in every run."/>
            {if pairs.is_empty() {
                view! { <Empty title="Nothing to review">"Pairs the resolver is unsure of (confidence 70 or less, or held back because the two differ) appear here after a run."</Empty> }.into_any()
            } else {
                view! {
                    <div class="table-wrap"><table data-testid="review-queue">
                        <thead><tr><th scope="col">"Person A"</th><th scope="col">"Person B"</th><th scope="col">"Matched by"</th>
                            <th scope="col" class="num">"Confidence"</th><th scope="col">"Decision"</th></tr></thead>
                        <tbody>{pairs.into_iter().map(|r| view! {
                            <tr data-testid="review-pair" data-pair=r.id.to_string()>
                                {person_cell(&r.a)}{person_cell(&r.b)}
                                <td>{rule_label(&r.rule)}{(r.confidence > 70).then_some(" (held back: emails and phones differ)")}</td>
                                <td class="num">{r.confidence}</td>
                                <td>
                                    <ActionForm action=decide attr:class="inline">
                                        <input type="hidden" name="pair" value=r.id.to_string()/>
                                        <input type="hidden" name="approve" value="yes"/>
                                        <button type="submit" class="button" data-testid="review-approve">"Merge"</button>
                                    </ActionForm>
                                    " "
                                    <ActionForm action=decide attr:class="inline">
                                        <input type="hidden" name="pair" value=r.id.to_string()/>
                                        <input type="hidden" name="approve" value="no"/>
                                        <button type="submit" class="button" data-testid="review-reject">"Keep apart"</button>
                                    </ActionForm>
                                </td>
                            </tr>
                        }).collect_view()}</tbody>
                    </table></div>
                }.into_any()
            }}
        </section>
    }
    .into_any()
}

/// The master records, split, CSV, and "Send to contacts".
#[component]
fn Masters(
    rows: Vec<MasterView>,
    total: i64,
    workspaces: Vec<(String, String)>,
    split: ServerAction<SplitProspectMaster>,
    send: ServerAction<SendProspectsToContacts>,
) -> impl IntoView {
    let chosen = RwSignal::new(Vec::<i64>::new());
    let ids = move || chosen.with(|c| c.iter().map(|i| i.to_string()).collect::<Vec<_>>().join(","));
    view! {
        <section class="card">
            <h2>{format!("Master records ({})", thousands(total))}</h2>
            {if rows.is_empty() {
                view! { <Empty title="No master records yet">"Upload an agents or company file, then run the resolver."</Empty> }.into_any()
            } else {
                view! {
                    <p><a href="/admin/prospects/masters.csv" download data-testid="masters-csv">"Download all as CSV"</a></p>
                    <ActionResult value=split.value() success="Split: each of its persons is its own master now, and stays apart in every run."/>
                    <div class="table-wrap"><table data-testid="prospect-masters">
                        <thead><tr><th scope="col">"Name (tick to send)"</th><th scope="col">"Emails"</th><th scope="col">"Phones"</th><th scope="col">"Team"</th>
                            <th scope="col" class="num">"Records"</th><th scope="col" class="num">"Confidence"</th><th scope="col"></th></tr></thead>
                        <tbody>{rows.into_iter().map(|m| { let id = m.id; view! {
                            <tr data-testid="master-row">
                                <td><label class="check">
                                    <input type="checkbox"
                                        on:change=move |ev| { let on = event_target_checked(&ev); chosen.update(|c| { c.retain(|x| *x != id); if on { c.push(id); } }); }/>
                                    {m.full_name.clone()}{m.needs_review.then_some(" (review)")}
                                </label></td>
                                <td>{m.emails.join(", ")}</td><td>{m.phones.join(", ")}</td><td>{m.team_id.clone().unwrap_or_default()}</td>
                                <td class="num">{m.persons}</td><td class="num">{m.confidence}</td>
                                <td>{(m.persons > 1).then(|| view! {
                                    <ActionForm action=split attr:class="inline">
                                        <input type="hidden" name="master" value=id.to_string()/>
                                        <button type="submit" class="button" data-testid="master-split">"Split"</button>
                                    </ActionForm>
                                })}</td>
                            </tr>
                        }}).collect_view()}</tbody>
                    </table></div>
                    <h3>"Send to contacts"</h3>
                    {if workspaces.is_empty() {
                        view! { <p class="muted">"Create a client workspace first: masters become contacts of a workspace's contact pipeline."</p> }.into_any()
                    } else {
                        view! {
                            <ActionForm action=send attr:class="stack" attr:data-testid="send-to-contacts">
                                <p class="muted">"The ticked masters, or (none ticked) every master with at least this confidence. The contact pipeline's validation and dedupe apply."</p>
                                <input type="hidden" name="ids" prop:value=ids/>
                                <label>"Workspace"
                                    <select name="workspace" data-testid="send-workspace">
                                        {workspaces.iter().map(|(s, n)| view! { <option value=s.clone()>{n.clone()}</option> }).collect_view()}
                                    </select>
                                </label>
                                <label>"Minimum confidence" <input type="number" name="min_confidence" min="0" max="100" value="80" data-testid="send-min-confidence"/></label>
                                <button type="submit" class="button primary" data-testid="send-submit">"Send to contacts"</button>
                            </ActionForm>
                            {move || send.value().get().map(|r| match r {
                                Err(e) => view! { <p class="alert alert-error" role="alert">{e.to_string()}</p> }.into_any(),
                                Ok(s) => view! {
                                    <p class="alert alert-ok" role="status" data-testid="send-outcome">{format!(
                                        "{} masters sent to {}: {} created, {} duplicates, {} rejected. {} now has {} contacts.",
                                        thousands(s.masters as i64), s.workspace_name, thousands(s.created as i64), thousands(s.duplicates as i64),
                                        thousands(s.rejected as i64), s.workspace_name, thousands(s.contacts_total)
                                    )}</p>
                                }.into_any(),
                            })}
                        }.into_any()
                    }}
                }.into_any()
            }}
        </section>
    }
    .into_any()
}
