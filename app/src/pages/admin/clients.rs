//! Client workspaces: list, create, archive. (Targets, pricing, costs, ZIPs and the client profile
//! grow here with the dashboards issue.)

use leptos::{form::ActionForm, prelude::*};
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use crate::{
    api::{failed_slack_messages, list_workspaces, public_info, CreateWorkspace, RetrySlackMessage, SetPublicHome, SetSlackWebhook, SetWorkspaceActive},
    components::{
        guard::RequireAdmin,
        sort::{sort_rows, text, Compare, KeepSort, SortLink},
        status::{ErrorNotice, Loading},
        ui::{export_href, short_time, ActionResult, ConfirmButton, Empty},
    },
    models::WorkspaceRow,
    money::format_cents,
};

/// The table's sortable columns (default: by name).
pub const SORTS: &[(&str, Compare<WorkspaceRow>)] = &[
    ("name", |a, b| text(&a.name, &b.name)),
    ("slug", |a, b| a.slug.cmp(&b.slug)),
    ("status", |a, b| b.active.cmp(&a.active)),
    ("lead_target", |a, b| a.monthly_lead_target.cmp(&b.monthly_lead_target)),
    ("send_target", |a, b| a.daily_send_target.cmp(&b.daily_send_target)),
    ("pricing", |a, b| a.pricing_model.cmp(&b.pricing_model)),
    ("members", |a, b| a.member_count.cmp(&b.member_count)),
];

pub fn matches(w: &WorkspaceRow, q: &str, status: &str) -> bool {
    let q = q.trim().to_lowercase();
    (q.is_empty() || w.name.to_lowercase().contains(&q) || w.slug.contains(&q))
        && match status {
            "active" => w.active,
            "archived" => !w.active,
            _ => true,
        }
}

/// What archiving a workspace does, said before it happens.
pub fn archive_message(name: &str, members: i64) -> String {
    let people = match members {
        0 => "Nobody has access to it yet.".to_owned(),
        1 => "Its 1 member can still look at it, but not change anything.".to_owned(),
        n => format!("Its {n} members can still look at it, but not change anything."),
    };
    format!(
        "Archive {name}? It leaves the dashboards, and its pipeline, syncs and personalization become read-only. {people} You can restore it at any time."
    )
}

#[component]
pub fn ClientsPage() -> impl IntoView {
    let query = use_query_map();
    let q = move || query.with(|m| m.get("q").unwrap_or_default());
    let status = move || query.with(|m| m.get("status").unwrap_or_default());
    let create = ServerAction::<CreateWorkspace>::new();
    let set_active = ServerAction::<SetWorkspaceActive>::new();
    let list = Resource::new_blocking(move || (create.version().get(), set_active.version().get()), |_| list_workspaces());
    let export_href = export_href("/admin/workspaces.csv");

    view! {
        <Title text="Clients"/>
        <RequireAdmin>
            <div class="page-head">
                <h1>"Client workspaces"</h1>
                <a class="button" href=export_href download>"Export CSV"</a>
            </div>
            <form method="get" class="filters" role="search">
                <label>"Search" <input type="search" name="q" placeholder="name" value=q/></label>
                <label>"Status"
                    <select name="status">
                        {["", "active", "archived"].map(|v| view! {
                            <option value=v selected=move || status() == v>{if v.is_empty() { "any" } else { v }}</option>
                        })}
                    </select>
                </label>
                <KeepSort/>
                <button type="submit" class="button">"Filter"</button>
            </form>
            <ActionResult value=set_active.value() success="Saved."/>
            <Suspense fallback=Loading>
                {move || Suspend::new(async move {
                    match list.await {
                        Err(e) => view! { <ErrorNotice error=e/> }.into_any(),
                        Ok(all) => {
                            let (q, status) = (q(), status());
                            let mut shown: Vec<WorkspaceRow> = all.into_iter().filter(|w| matches(w, &q, &status)).collect();
                            query.with(|m| sort_rows(&mut shown, SORTS, m.get_str("sort").unwrap_or(""), m.get_str("dir").unwrap_or("")));
                            if shown.is_empty() {
                                return view! { <Empty title="No workspaces match">"Change the filters, or create a workspace below."</Empty> }.into_any();
                            }
                            view! {
                                <div class="table-wrap">
                                <table data-testid="workspaces-table">
                                    <thead><tr><th scope="col"><SortLink key="name" title="Name"/></th><th scope="col"><SortLink key="slug" title="URL name"/></th>
                                        <th scope="col"><SortLink key="status" title="Status"/></th>
                                        <th scope="col" class="num"><SortLink key="lead_target" title="Monthly lead target"/></th>
                                        <th scope="col" class="num"><SortLink key="send_target" title="Daily send target"/></th>
                                        <th scope="col"><SortLink key="pricing" title="Pricing"/></th><th scope="col">"Email Bison key"</th>
                                        <th scope="col" class="num"><SortLink key="members" title="Members"/></th><th scope="col">"Actions"</th></tr></thead>
                                    <tbody>
                                    {shown.into_iter().map(|w| {
                                        let pricing = if w.pricing_model == "per_lead" {
                                            format!("{} per lead", format_cents(w.price_per_lead_cents))
                                        } else {
                                            format!("{} / month", format_cents(w.retainer_fee_cents))
                                        };
                                        view! {
                                            <tr>
                                                <td><a href=format!("/admin/clients/{}", w.slug)>{w.name.clone()}</a></td>
                                                <td><code>{w.slug.clone()}</code></td>
                                                <td>{if w.active { view! { <span class="badge badge-ok">"active"</span> }.into_any() } else { view! { <span class="badge">"archived"</span> }.into_any() }}</td>
                                                <td class="num">{w.monthly_lead_target}</td>
                                                <td class="num">{w.daily_send_target}</td>
                                                <td>{pricing}</td>
                                                <td>{w.bison_api_key_masked.clone().unwrap_or_else(|| "not set".into())}</td>
                                                <td class="num">{w.member_count}</td>
                                                <td>
                                                    {if w.active {
                                                        // Archiving is one wrong click away from hiding a client: ask first.
                                                        view! {
                                                            <ConfirmButton label="Archive" message=archive_message(&w.name, w.member_count)>
                                                                <ActionForm action=set_active attr:class="inline">
                                                                    <input type="hidden" name="workspace_id" value=w.id.to_string()/>
                                                                    <input type="hidden" name="active" value="false"/>
                                                                    <button type="submit" class="button small danger">{format!("Archive {}", w.name)}</button>
                                                                </ActionForm>
                                                            </ConfirmButton>
                                                        }.into_any()
                                                    } else {
                                                        view! {
                                                            <ActionForm action=set_active attr:class="inline">
                                                                <input type="hidden" name="workspace_id" value=w.id.to_string()/>
                                                                <input type="hidden" name="active" value="true"/>
                                                                <button type="submit" class="button small">"Restore"</button>
                                                            </ActionForm>
                                                        }.into_any()
                                                    }}
                                                </td>
                                            </tr>
                                        }
                                    }).collect_view()}
                                    </tbody>
                                </table>
                                </div>
                            }.into_any()
                        }
                    }
                })}
            </Suspense>
            <section class="card">
                <h2>"Create a workspace"</h2>
                <ActionForm action=create attr:class="form-grid" attr:data-testid="create-workspace">
                    <label>"Name" <input type="text" name="name" required maxlength="120"/></label>
                    <label>"URL name (optional)" <input type="text" name="slug" pattern="[a-z0-9-]{2,60}" placeholder="derived from the name"/></label>
                    <label>"Monthly lead target" <input type="number" name="monthly_lead_target" min="0" value="0" required/></label>
                    <label>"Daily send target" <input type="number" name="daily_send_target" min="0" value="0" required/></label>
                    <label>"Weekly contact target" <input type="number" name="weekly_contact_target" min="0" value="0" required/></label>
                    <label>"Pricing model"
                        <select name="pricing_model">
                            <option value="per_lead">"per lead"</option>
                            <option value="retainer">"monthly retainer"</option>
                        </select>
                    </label>
                    <label>"Price per lead or monthly fee ($)" <input type="text" name="price" inputmode="decimal" placeholder="150.00"/></label>
                    <label>"Bill per-lead clients at"
                        <select name="billable_stage">
                            {super::client_profile::BILLABLE_STAGES.iter().map(|(v, l)| view! { <option value=*v>{*l}</option> }).collect_view()}
                        </select>
                    </label>
                    <label>"Email Bison workspace id (optional)" <input type="text" name="bison_workspace_id" autocomplete="off"/></label>
                    <label>"Email Bison API key (optional)" <input type="password" name="bison_api_key" autocomplete="off" placeholder="stored encrypted, never shown again"/></label>
                    <button type="submit" class="button primary" disabled=move || create.pending().get()>"Create workspace"</button>
                </ActionForm>
                <ActionResult value=create.value() success="Workspace created."/>
            </section>
            <AgencySlack/>
            <PublicHomeSettings/>
            <FailedSlack/>
        </RequireAdmin>
    }
}

/// What signed-out visitors of `/` see: the agency's name and one line of text.
#[component]
fn PublicHomeSettings() -> impl IntoView {
    let save = ServerAction::<SetPublicHome>::new();
    let current = Resource::new_blocking(move || save.version().get(), |_| public_info());
    view! {
        <section class="card" data-testid="public-home">
            <h2>"Public home page"</h2>
            <p class="muted">"Signed-out visitors of the home page see the agency name, this line and a Sign in button."</p>
            <Suspense fallback=Loading>
                {move || Suspend::new(async move {
                    let info = current.await.unwrap_or_default();
                    view! {
                        <ActionForm action=save attr:class="form-grid">
                            <label>"Agency name" <input type="text" name="agency_name" required maxlength="80" value=info.agency_name/></label>
                            <label>"One line of text" <input type="text" name="text" maxlength="200" value=info.text/></label>
                            <button type="submit" class="button">"Save"</button>
                        </ActionForm>
                    }.into_any()
                })}
            </Suspense>
            <ActionResult value=save.value() success="Saved."/>
        </section>
    }
}

/// The agency-wide Slack channel: every new interested lead, sender and sync alert.
#[component]
fn AgencySlack() -> impl IntoView {
    let save = ServerAction::<SetSlackWebhook>::new();
    view! {
        <section class="card" data-testid="agency-slack">
            <h2>"Agency Slack channel"</h2>
            <p class="muted">"New interested leads of every client, critical senders and failed syncs are posted here. The URL is stored encrypted."</p>
            <ActionForm action=save attr:class="form-grid">
                <label>"Slack incoming-webhook URL" <input type="password" name="url" autocomplete="off" placeholder="https://hooks.slack.com/services/…"/></label>
                <button type="submit" class="button">"Save"</button>
            </ActionForm>
            <ConfirmButton label="Remove" message="Remove the agency Slack channel? Nothing is posted to Slack any more until a new URL is saved.">
                <ActionForm action=save attr:class="inline">
                    <input type="hidden" name="url" value=""/>
                    <input type="hidden" name="remove" value="1"/>
                    <button type="submit" class="button small danger">"Remove the Slack channel"</button>
                </ActionForm>
            </ConfirmButton>
            <ActionResult value=save.value() success="Saved."/>
        </section>
    }
}

/// Slack messages that were given up (the agency's channel and every client's), with why, and a
/// retry that puts each back in its channel's queue once the cause is fixed.
#[component]
fn FailedSlack() -> impl IntoView {
    let retry = ServerAction::<RetrySlackMessage>::new();
    let rows = Resource::new(move || retry.version().get(), |_| failed_slack_messages());
    view! {
        <section class="card" id="failed-slack" data-testid="failed-slack">
            <h2>"Slack messages not delivered"</h2>
            <Suspense fallback=Loading>
                {move || Suspend::new(async move {
                    match rows.await {
                        Err(e) => view! { <p class="alert alert-error" role="alert">{e.to_string()}</p> }.into_any(),
                        Ok(list) if list.is_empty() => view! {
                            <p class="muted" data-testid="failed-slack-empty">"Every Slack message was delivered (or is still on its way)."</p>
                        }.into_any(),
                        Ok(list) => view! {
                            <p class="muted">"Slack refused these, or kept failing. Fix the channel (a new webhook URL above or on the client), then retry."</p>
                            <div class="table-wrap">
                                <table>
                                    <thead><tr><th scope="col">"Failed"</th><th scope="col">"Channel"</th><th scope="col">"Message"</th>
                                        <th scope="col" class="num">"Attempts"</th><th scope="col">"Why"</th><th scope="col"><span class="visually-hidden">"Retry"</span></th></tr></thead>
                                    <tbody>
                                        {list.into_iter().map(|m| view! {
                                            <tr>
                                                <td>{short_time(&m.failed_at)}</td>
                                                <td>{m.target.clone()}</td>
                                                <td>{m.preview.clone()}</td>
                                                <td class="num">{m.attempts}</td>
                                                <td>{m.error.clone()}</td>
                                                <td>
                                                    <ActionForm action=retry attr:class="inline">
                                                        <input type="hidden" name="message_id" value=m.id.to_string()/>
                                                        <button type="submit" class="button small">"Retry"</button>
                                                    </ActionForm>
                                                </td>
                                            </tr>
                                        }).collect_view()}
                                    </tbody>
                                </table>
                            </div>
                        }.into_any(),
                    }
                })}
            </Suspense>
            <ActionResult value=retry.value() success="Queued again; it is posted in its turn."/>
        </section>
    }
    .into_any()
}
