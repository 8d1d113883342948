//! A client's profile: this month's numbers, settings (targets, pricing), Email Bison
//! credentials (shown masked, never sent back), costs, ZIP territories and members.

use leptos::{form::ActionForm, prelude::*};
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;

use crate::{
    api::{workspace_profile, AddCost, AssignZip, DeleteCost, ReplayBisonDelivery, RotateBisonWebhook, SetBisonCredentials, SetSlackWebhook, SyncNow, UnassignZip, UpdateWorkspace},
    components::{
        format::{one_decimal, percent, thousands},
        guard::RequireAdmin,
        status::{ErrorNotice, Loading},
        ui::{short_time, ActionResult, ConfirmButton},
    },
    models::{ClientProfile, SyncRunRow},
    money::format_cents,
};

/// The stages a workspace can bill at (the create form offers the same).
pub const BILLABLE_STAGES: &[(&str, &str)] = &[
    ("interested", "interested (every interested lead)"),
    ("contacted", "contacted"),
    ("follow_up", "follow-up"),
    ("meeting_booked", "meeting booked"),
    ("quote_sent", "quote sent"),
    ("won", "won"),
];

/// A cost as the confirmation names it: `the monthly cost "software — Apollo" of $99.00`.
pub fn cost_label(category: &str, description: &str, amount: &str, monthly: bool) -> String {
    let kind = if monthly { "monthly" } else { "one-off" };
    let name = if description.trim().is_empty() { category.to_owned() } else { format!("{category} — {description}") };
    format!("the {kind} cost \"{name}\" of {amount}")
}

#[component]
pub fn ClientProfilePage() -> impl IntoView {
    let params = use_params_map();
    let slug = move || params.with(|p| p.get("slug").unwrap_or_default());
    let update = ServerAction::<UpdateWorkspace>::new();
    let bison = ServerAction::<SetBisonCredentials>::new();
    let add_cost = ServerAction::<AddCost>::new();
    let delete_cost = ServerAction::<DeleteCost>::new();
    let assign = ServerAction::<AssignZip>::new();
    let unassign = ServerAction::<UnassignZip>::new();
    let profile = Resource::new_blocking(
        move || {
            (
                slug(),
                update.version().get(),
                bison.version().get(),
                add_cost.version().get(),
                delete_cost.version().get(),
                assign.version().get(),
                unassign.version().get(),
            )
        },
        |(slug, ..)| workspace_profile(slug),
    );
    view! {
        <RequireAdmin>
            <Suspense fallback=Loading>
                {move || Suspend::new(async move {
                    match profile.await {
                        Err(e) => view! { <ErrorNotice error=e/> }.into_any(),
                        Ok(p) => view! { <Profile p update bison add_cost delete_cost assign unassign/> }.into_any(),
                    }
                })}
            </Suspense>
        </RequireAdmin>
    }
}

#[component]
fn Profile(
    p: ClientProfile,
    update: ServerAction<UpdateWorkspace>,
    bison: ServerAction<SetBisonCredentials>,
    add_cost: ServerAction<AddCost>,
    delete_cost: ServerAction<DeleteCost>,
    assign: ServerAction<AssignZip>,
    unassign: ServerAction<UnassignZip>,
) -> impl IntoView {
    let w = p.workspace.clone();
    let id = w.id;
    let price = if w.pricing_model == "per_lead" { w.price_per_lead_cents } else { w.retainer_fee_cents };
    let price = format!("{}.{:02}", price / 100, price % 100);
    view! {
        <Title text=w.name.clone()/>
        <p class="breadcrumb"><a href="/admin/clients">"Clients"</a> " / "</p>
        <div class="page-head">
            <h1 data-testid="client-name">{w.name.clone()}</h1>
            <a class="button" href=format!("/client-portal/{}", w.slug)>"Open the client portal"</a>
        </div>
        {(!w.active).then(|| view! { <p class="alert alert-error">"This workspace is archived: it is left out of the dashboards."</p> })}

        <div class="stat-grid">
            {p.kpi.clone().map(|k| view! {
                <a class="stat" href=format!("/admin/kpi?workspace={}", w.slug)>
                    <span class="stat-value">{format!("{} / {}", k.mtd, k.target)}</span>
                    <span class="stat-label">"interested this month / target"</span>
                    <span class="muted">{format!("pacing {}, projected {}", percent(k.pacing), one_decimal(k.projection))}</span>
                    <span class=format!("badge status-{}", k.status)>{k.status.replace('_', " ")}</span>
                </a>
            })}
            {p.revenue.clone().map(|r| view! {
                <a class="stat" href=format!("/admin/revenue?workspace={}", w.slug)>
                    <span class="stat-value">{format_cents(r.profit_cents)}</span>
                    <span class="stat-label">"profit this month"</span>
                    <span class="muted">{format!("revenue {} − costs {}; margin {}", format_cents(r.revenue_cents), format_cents(r.costs_cents), percent(r.margin))}</span>
                </a>
            })}
            <div class="stat"><span class="stat-value">{thousands(w.daily_send_target)}</span><span class="stat-label">"daily send target"</span></div>
        </div>

        <section class="card">
            <h2>"Settings"</h2>
            <ActionForm action=update attr:class="form-grid" attr:data-testid="workspace-settings">
                <input type="hidden" name="workspace_id" value=id.to_string()/>
                <label>"Name" <input type="text" name="name" required maxlength="120" value=w.name.clone()/></label>
                <label>"URL name" <input type="text" name="slug" required pattern="[a-z0-9-]{2,60}" value=w.slug.clone()/></label>
                <label>"Monthly lead target" <input type="number" name="monthly_lead_target" min="0" required value=w.monthly_lead_target.to_string()/></label>
                <label>"Daily send target" <input type="number" name="daily_send_target" min="0" required value=w.daily_send_target.to_string()/></label>
                <label>"Weekly contact target" <input type="number" name="weekly_contact_target" min="0" required value=w.weekly_contact_target.to_string()/></label>
                <label>"Pricing model"
                    <select name="pricing_model">
                        <option value="per_lead" selected=w.pricing_model == "per_lead">"per lead"</option>
                        <option value="retainer" selected=w.pricing_model == "retainer">"monthly retainer"</option>
                    </select>
                </label>
                <label>"Price per lead or monthly fee ($)" <input type="text" name="price" inputmode="decimal" value=price/></label>
                <label>"Billable when a lead reaches"
                    <select name="billable_stage">
                        {BILLABLE_STAGES.iter().map(|(v, l)| view! { <option value=*v selected=w.billable_stage == *v>{*l}</option> }).collect_view()}
                    </select>
                </label>
                <button type="submit" class="button primary">"Save settings"</button>
            </ActionForm>
            <ActionResult value=update.value() success="Settings saved."/>
        </section>

        <section class="card">
            <h2>"Email Bison"</h2>
            <p class="muted">"API key: " <span data-testid="bison-key">{w.bison_api_key_masked.clone().unwrap_or_else(|| "not set".into())}</span>
               ". The key is stored encrypted and never shown again."</p>
            {match (w.bison_api_key_masked.is_some(), w.bison_key_reads.clone()) {
                (true, Some(reads)) => view! {
                    <p data-testid="bison-key-reads">"Verified: the key reads Email Bison " {reads}
                       ". Every sync and upload checks it again and stops if the key reads another workspace."</p>
                }.into_any(),
                (true, None) => view! {
                    <p class="alert alert-warn" data-testid="bison-key-reads">"This key was saved before keys were verified: save it again so "
                       "Maverick can check which Email Bison workspace it reads. Syncs stop until then if no workspace id is saved."</p>
                }.into_any(),
                _ => ().into_any(),
            }}
            <ActionForm action=bison attr:class="form-grid">
                <input type="hidden" name="workspace_id" value=id.to_string()/>
                <label>"Bison workspace id" <input type="text" name="bison_workspace_id" inputmode="numeric"
                    placeholder="from the key" value=w.bison_workspace_id.clone().unwrap_or_default()/></label>
                <label>"API key" <input type="password" name="api_key" autocomplete="off" placeholder="leave empty to keep the stored key"/></label>
                <button type="submit" class="button primary">"Save credentials"</button>
            </ActionForm>
            <ConfirmButton label="Remove the credentials" message="Remove the Email Bison key and workspace id? Syncs stop until new credentials are saved.">
                <ActionForm action=bison attr:class="inline">
                    <input type="hidden" name="workspace_id" value=id.to_string()/>
                    <input type="hidden" name="bison_workspace_id" value=""/>
                    <input type="hidden" name="api_key" value=""/>
                    <input type="hidden" name="remove" value="1"/>
                    <button type="submit" class="button small danger">"Remove them"</button>
                </ActionForm>
            </ConfirmButton>
            {move || match bison.value().get() {
                Some(Err(e)) => view! { <p class="alert alert-error" role="alert">{e.to_string()}</p> }.into_any(),
                Some(Ok(said)) => view! { <p class="alert alert-ok" role="status">{said}</p> }.into_any(),
                None => ().into_any(),
            }}
        </section>

        <SyncPanel workspace_id=id initial=p.sync_runs.clone()/>
        <Integrations workspace_id=id bison_webhook=w.bison_webhook_masked.clone() slack=w.slack_webhook_masked.clone()/>
        <FailedDeliveries workspace_id=id rows=p.failed_deliveries.clone()/>

        <section class="card">
            <h2>"Costs"</h2>
            <div class="table-wrap">
            <table data-testid="costs-table">
                <thead><tr><th scope="col">"Category"</th><th scope="col">"Description"</th><th scope="col" class="num">"Amount"</th>
                    <th scope="col">"Kind"</th><th scope="col">"From"</th><th scope="col">"Until"</th><th scope="col">"Actions"</th></tr></thead>
                <tbody>
                {p.costs.clone().into_iter().map(|c| {
                    let what = cost_label(&c.category, &c.description, &format_cents(c.amount_cents), c.recurrence == "monthly");
                    view! {
                    <tr>
                        <td>{c.category.clone()}</td><td>{c.description.clone()}</td>
                        <td class="num">{format_cents(c.amount_cents)}</td>
                        <td>{if c.recurrence == "monthly" { "monthly" } else { "one-off" }}</td>
                        <td>{c.starts_on.clone()}</td><td>{c.ends_on.clone().unwrap_or_default()}</td>
                        <td>
                            <ConfirmButton label="Delete" message=format!(
                                "Delete {what}? This month's costs, profit and ROI change at once. This can't be undone."
                            )>
                                <ActionForm action=delete_cost attr:class="inline">
                                    <input type="hidden" name="workspace_id" value=id.to_string()/>
                                    <input type="hidden" name="cost_id" value=c.id.to_string()/>
                                    <button type="submit" class="button small danger">"Delete the cost"</button>
                                </ActionForm>
                            </ConfirmButton>
                        </td>
                    </tr>
                    }
                }).collect_view()}
                </tbody>
            </table>
            </div>
            {p.costs.is_empty().then(|| view! {
                <p class="muted" data-testid="no-costs">"No costs recorded yet: revenue counts as profit until you add them below (software, inboxes, data)."</p>
            })}
            <ActionForm action=add_cost attr:class="form-grid" attr:data-testid="add-cost">
                <input type="hidden" name="workspace_id" value=id.to_string()/>
                <label>"Category" <input type="text" name="category" required maxlength="60" placeholder="software"/></label>
                <label>"Description" <input type="text" name="description"/></label>
                <label>"Amount ($)" <input type="text" name="amount" inputmode="decimal" required/></label>
                <label>"Kind"
                    <select name="recurrence"><option value="monthly">"monthly"</option><option value="one_off">"one-off"</option></select>
                </label>
                <label>"From (or the day incurred)" <input type="date" name="starts_on" required/></label>
                <label>"Until (monthly, optional)" <input type="date" name="ends_on"/></label>
                <button type="submit" class="button primary">"Add cost"</button>
            </ActionForm>
            <ActionResult value=add_cost.value() success="Cost added."/>
            <ActionResult value=delete_cost.value() success="Cost deleted."/>
        </section>

        <section class="card">
            <h2>"ZIP territories"</h2>
            {(!p.zip_conflicts.is_empty()).then(|| view! {
                <p class="alert alert-error" data-testid="zip-conflicts">
                    {p.zip_conflicts.iter().map(|(z, other)| format!("{z} is also assigned to {other}")).collect::<Vec<_>>().join("; ")}
                </p>
            })}
            <ul class="chips" data-testid="zip-list">
                {p.zips.clone().into_iter().map(|(zip, state, city)| view! {
                    <li class="chip">{format!("{zip} {} {}", city.clone().unwrap_or_default(), state.clone().unwrap_or_default())}
                        <ActionForm action=unassign attr:class="inline">
                            <input type="hidden" name="workspace_id" value=id.to_string()/>
                            <input type="hidden" name="zip" value=zip.clone()/>
                            <button type="submit" class="chip-remove" aria-label=format!("Remove ZIP {zip}")>"×"</button>
                        </ActionForm>
                    </li>
                }).collect_view()}
            </ul>
            <ActionForm action=assign attr:class="filters">
                <input type="hidden" name="workspace_id" value=id.to_string()/>
                <label>"ZIP" <input type="text" name="zip" required inputmode="numeric" maxlength="10"/></label>
                <label>"State" <input type="text" name="state_code" maxlength="2" placeholder="TX"/></label>
                <label>"City" <input type="text" name="city"/></label>
                <button type="submit" class="button">"Assign ZIP"</button>
            </ActionForm>
            <ActionResult value=assign.value() success="ZIP assigned."/>
            <ActionResult value=unassign.value() success="ZIP removed."/>
        </section>

        <section class="card">
            <h2>"Members"</h2>
            {if p.members.is_empty() {
                view! { <p class="muted">"Nobody has access yet: grant it on the Users page."</p> }.into_any()
            } else {
                view! { <ul>{p.members.iter().map(|(email, name, level)| view! { <li>{format!("{name} <{email}> — {level}")}</li> }).collect_view()}</ul> }.into_any()
            }}
        </section>
    }
}

/// The interested-lead webhook URL (made here, shown once) and the workspace's Slack channel.
#[component]
fn Integrations(workspace_id: i64, bison_webhook: Option<String>, slack: Option<String>) -> impl IntoView {
    let rotate = ServerAction::<RotateBisonWebhook>::new();
    let slack_action = ServerAction::<SetSlackWebhook>::new();
    let (id, id2) = (workspace_id.to_string(), workspace_id.to_string());
    view! {
        <section class="card" data-testid="integrations">
            <h2>"Webhook and Slack"</h2>
            <p class="muted">"Email Bison webhook (event: lead interested): "
                <span data-testid="webhook-state">{bison_webhook.map(|h| format!("set, URL ending {h}")).unwrap_or_else(|| "not set".into())}</span>
                ". Making a new URL stops the old one."</p>
            <ActionForm action=rotate attr:class="inline">
                <input type="hidden" name="workspace_id" value=id/>
                <button type="submit" class="button">"Make a new webhook URL"</button>
            </ActionForm>
            {move || match rotate.value().get() {
                Some(Ok(url)) => Some(view! {
                    <p class="alert alert-ok" role="status">"Paste this into Email Bison's webhook settings now — it is not shown again: "
                        <code data-testid="webhook-url">{url}</code></p>
                }.into_any()),
                Some(Err(e)) => Some(view! { <p class="alert alert-error" role="alert">{e.to_string()}</p> }.into_any()),
                None => None,
            }}
            <p class="muted">"Slack channel for this client's new interested leads: "
                <span data-testid="slack-state">{slack.unwrap_or_else(|| "not set".into())}</span></p>
            <ActionForm action=slack_action attr:class="form-grid">
                <input type="hidden" name="workspace_id" value=id2/>
                <label>"Slack incoming-webhook URL" <input type="password" name="url" autocomplete="off" placeholder="https://hooks.slack.com/services/…"/></label>
                <button type="submit" class="button">"Save Slack webhook"</button>
            </ActionForm>
            <ActionResult value=slack_action.value() success="Slack webhook saved."/>
        </section>
    }
}

/// Webhook deliveries that were given up (content Maverick can't use, or too many failed
/// attempts), with the reason, and a replay for each once the cause is fixed.
#[component]
fn FailedDeliveries(workspace_id: i64, rows: Vec<crate::models::FailedDeliveryRow>) -> impl IntoView {
    let replay = ServerAction::<ReplayBisonDelivery>::new();
    (!rows.is_empty()).then(|| {
        view! {
            <section class="card" data-testid="failed-deliveries">
                <h2>"Webhook deliveries given up"</h2>
                <p class="muted">"Email Bison sent these but they could not be used. Fix the cause, then replay them."</p>
                <div class="table-wrap">
                    <table>
                        <thead><tr><th>"Received"</th><th>"Event"</th><th>"Attempts"</th><th>"Why"</th><th><span class="visually-hidden">"Replay"</span></th></tr></thead>
                        <tbody>
                            {rows.into_iter().map(|d| view! {
                                <tr>
                                    <td>{d.received_at.clone()}</td>
                                    <td>{d.event_type.clone().unwrap_or_else(|| "—".into())}</td>
                                    <td class="num">{d.attempts}</td>
                                    <td>{d.error.clone().unwrap_or_default()}</td>
                                    <td>
                                        <ActionForm action=replay attr:class="inline">
                                            <input type="hidden" name="workspace_id" value=workspace_id.to_string()/>
                                            <input type="hidden" name="delivery_id" value=d.id.to_string()/>
                                            <button type="submit" class="button small">"Replay"</button>
                                        </ActionForm>
                                    </td>
                                </tr>
                            }).collect_view()}
                        </tbody>
                    </table>
                </div>
                <ActionResult value=replay.value() success="Replayed. Reload the page to see what is left."/>
            </section>
        }
        .into_any()
    })
}

/// "Sync now" and the latest Email Bison syncs. While one is queued or running, the browser asks
/// for the runs again every second, so the progress bar moves.
#[component]
fn SyncPanel(workspace_id: i64, initial: Vec<SyncRunRow>) -> impl IntoView {
    let sync = ServerAction::<SyncNow>::new();
    let runs = RwSignal::new(initial);
    #[cfg(feature = "hydrate")]
    {
        let poll = move || {
            leptos::task::spawn_local(async move {
                if let Ok(list) = crate::api::sync_runs(workspace_id).await {
                    runs.set(list);
                }
            })
        };
        Effect::new(move |_| {
            if sync.version().get() > 0 {
                poll();
            }
        });
        Effect::new(move |_| {
            if runs.with(|l| l.first().is_some_and(|r| r.active())) {
                set_timeout(poll, std::time::Duration::from_secs(1));
            }
        });
    }
    view! {
        <section class="card" data-testid="sync-panel">
            <h2>"Email Bison sync"</h2>
            <ActionForm action=sync attr:class="inline">
                <input type="hidden" name="workspace_id" value=workspace_id.to_string()/>
                <button type="submit" class="button primary">"Sync now"</button>
            </ActionForm>
            <ActionResult value=sync.value() success="Sync queued."/>
            {move || {
                let list = runs.get();
                let Some(latest) = list.first().cloned() else {
                    return view! { <p class="muted">"Never synced. Add the API key above, then sync."</p> }.into_any();
                };
                view! {
                    <div data-testid="sync-latest" data-status=latest.status.clone()>
                        {if latest.active() {
                            view! {
                                <p>{format!("{} — step {} of {}{}", if latest.status == "queued" { "Queued" } else { "Syncing" },
                                    latest.step, latest.steps.max(1), latest.step_label.clone().map(|l| format!(": {l}")).unwrap_or_default())}</p>
                                <progress max=latest.steps.max(1) value=latest.step aria-label="Sync progress"></progress>
                            }.into_any()
                        } else if let Some(e) = latest.error.clone() {
                            view! { <p class="alert alert-error" role="alert">{format!("Last sync failed: {e}")}</p> }.into_any()
                        } else {
                            view! { <p class="alert alert-ok" role="status">{format!("Last sync: {}", latest.result.clone().unwrap_or_default())}</p> }.into_any()
                        }}
                    </div>
                    <ul class="muted small">
                        {list.iter().map(|r| view! {
                            <li>{format!("{} · {} · {}", short_time(&r.created_at), if r.kind == "all" { "full sync" } else { "senders" }, r.status)}</li>
                        }).collect_view()}
                    </ul>
                }.into_any()
            }}
        </section>
    }
}
