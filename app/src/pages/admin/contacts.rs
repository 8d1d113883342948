//! Contact pipeline: upload a workspace's contact list (streamed, up to the configured size), check
//! how its columns were matched to our fields against the first rows, correct them, import; see
//! what was created, skipped as duplicate or rejected (with a downloadable CSV of the rejected rows
//! and their reasons), and the workspace's contacts by verification status.

use leptos::{form::ActionForm, prelude::*};
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use crate::{
    components::chart::{EChart, EchartsScript, SeriesChart},
    api::{load_contacts, ImportContacts, SaveBatchSettings, UploadBatch, VerifyContacts},
    components::{
        format::thousands,
        guard::RequireAdmin,
        status::{ErrorNotice, Loading},
        ui::{short_time, ActionResult, Empty},
    },
    models::{BatchSettingsView, BatchView, ContactUploadView, ContactsPage, CreditsView},
};

/// Our fields as the mapping form labels them.
const FIELDS: &[(&str, &str)] = &[
    ("email", "Email (required)"),
    ("first_name", "First name"),
    ("last_name", "Last name"),
    ("company", "Company"),
    ("title", "Job title"),
    ("phone", "Phone"),
    ("city", "City"),
    ("state", "State"),
    ("zip", "ZIP"),
];

#[component]
pub fn ContactsPipelinePage() -> impl IntoView {
    let query = use_query_map();
    let param = move |k: &str| query.with(|q| q.get(k).unwrap_or_default());
    let import = ServerAction::<ImportContacts>::new();
    let data = Resource::new_blocking(
        move || (param("workspace"), param("upload").parse::<i64>().ok(), import.version().get()),
        |(ws, upload, _)| load_contacts(Some(ws), upload),
    );
    view! {
        <Title text="Contact pipeline"/>
        <RequireAdmin>
            <h1>"Contact pipeline"</h1>
            <Suspense fallback=Loading>
                {move || Suspend::new(async move {
                    match data.await {
                        Err(e) => view! { <ErrorNotice error=e/> }.into_any(),
                        Ok(p) => view! { <Body p import/> }.into_any(),
                    }
                })}
            </Suspense>
        </RequireAdmin>
    }
}

#[component]
fn Body(p: ContactsPage, import: ServerAction<ImportContacts>) -> impl IntoView {
    let total: i64 = p.counts.iter().map(|c| c.1).sum();
    let slug = p.workspace_slug.clone();
    view! {
        <form method="get" class="filters" role="search">
            <label>"Workspace"
                <select name="workspace">
                    {p.workspaces.iter().map(|(s, n)| { let is = *s == p.workspace_slug; view! { <option value=s.clone() selected=is>{n.clone()}</option> } }).collect_view()}
                </select>
            </label>
            <button type="submit" class="button">"Show"</button>
        </form>
        <section class="card">
            <h2>{format!("{}: {} contacts", p.workspace_name, thousands(total))}</h2>
            <VerifyNow workspace=p.workspace_slug.clone() last=p.verification.clone() short=p.credits.shortfall.is_some()/>
            <Credits c=p.credits.clone()/>
            <BatchSettingsForm workspace=p.workspace_slug.clone() settings=p.batch_settings.clone()/>
            {if p.counts.is_empty() {
                view! { <p class="muted">"No contacts yet. Upload a list below."</p> }.into_any()
            } else {
                view! {
                    <table data-testid="contact-counts"><thead><tr><th scope="col">"Verification"</th><th scope="col" class="num">"Contacts"</th></tr></thead>
                    <tbody>{p.counts.iter().map(|(s, n)| view! { <tr><td>{s.clone()}</td><td class="num">{thousands(*n)}</td></tr> }).collect_view()}</tbody></table>
                }.into_any()
            }}
        </section>
        {p.current.clone().map(|u| view! { <Current u slug=slug.clone() import/> })}
        <Monthly months=p.monthly.clone()/>
        <Batches batches=p.batches.clone() unsendable=p.unsendable.clone() workspace=p.workspace_slug.clone()/>
        <section class="card">
            <h2>"Upload a contact list"</h2>
            <form method="post" action="/admin/contacts/upload" enctype="multipart/form-data" class="stack" data-testid="contacts-upload">
                <input type="hidden" name="workspace" value=p.workspace_slug.clone()/>
                <p class="muted">{format!(
                    "A CSV with a header row, up to {} MB: comma, semicolon or tab separated, UTF-8 or Excel's Windows encoding. \
                     You will see how the columns were matched before anything is imported.", p.max_upload_mb)}</p>
                <label>"File" <input type="file" name="file" accept=".csv,.txt,text/csv" required/></label>
                <button type="submit" class="button primary">"Upload"</button>
            </form>
        </section>
        <section class="card">
            <h2>"Uploads"</h2>
            {if p.uploads.is_empty() {
                view! { <Empty title="No uploads yet">"Upload this workspace's first contact list above."</Empty> }.into_any()
            } else {
                view! {
                    <div class="table-wrap"><table data-testid="contact-uploads">
                        <thead><tr><th scope="col">"When"</th><th scope="col">"File"</th><th scope="col">"Status"</th><th scope="col" class="num">"Rows"</th>
                            <th scope="col" class="num">"Created"</th><th scope="col" class="num">"Duplicates"</th><th scope="col" class="num">"Rejected"</th></tr></thead>
                        <tbody>{p.uploads.iter().map(|u| view! {
                            <tr>
                                <td><a href=format!("?workspace={}&upload={}", p.workspace_slug, u.id)>{short_time(&u.created_at)}</a></td>
                                <td>{u.file_name.clone()}</td><td>{u.status.clone()}</td>
                                <td class="num">{thousands(u.rows_total)}</td><td class="num">{thousands(u.created)}</td>
                                <td class="num">{thousands(u.duplicates)}</td><td class="num">{thousands(u.rejected)}</td>
                            </tr>
                        }).collect_view()}</tbody>
                    </table></div>
                }.into_any()
            }}
        </section>
    }
}

/// The upload named in the URL: its mapping step, or its outcome.
#[component]
fn Current(u: ContactUploadView, slug: String, import: ServerAction<ImportContacts>) -> impl IntoView {
    let title = format!("{} ({})", u.file_name, short_time(&u.created_at));
    match u.status.as_str() {
        "failed" => view! {
            <div class="alert alert-error" role="alert" data-testid="contacts-outcome">
                <strong>{title}</strong>{format!(": nothing was imported. {}", u.failure.clone().unwrap_or_default())}
            </div>
        }
        .into_any(),
        "imported" => view! {
            <div class={if u.rejected > 0 { "alert alert-warn" } else { "alert alert-ok" }} role="status" data-testid="contacts-outcome">
                <strong>{title}</strong>
                {format!(": {} rows read — {} created, {} duplicates skipped, {} rejected.", thousands(u.rows_total), thousands(u.created), thousands(u.duplicates), thousands(u.rejected))}
                {(u.rejected > 0).then(|| view! { " " <a href=format!("/admin/contacts/uploads/{}/rejected.csv", u.id) download>"Download the rejected rows"</a> })}
            </div>
            {u.warnings.clone().map(|w| view! { <p class="alert alert-warn" role="status" data-testid="contacts-warnings">{w}</p> })}
        }
        .into_any(),
        _ => {
            let chosen = move |field: &str| u.mapping.iter().find(|(f, _)| f == field).map(|(_, c)| c + 1);
            let headers = u.headers.clone();
            view! {
                <section class="card" data-testid="contacts-mapping">
                    <h2>{format!("Match the columns of {title}")}</h2>
                    <p class="muted">"We matched what we could from the header. Check it against the first rows, correct it, then import."</p>
                    <ActionForm action=import attr:class="form-grid">
                        <input type="hidden" name="upload_id" value=u.id.to_string()/>
                        {FIELDS.iter().map(|(field, label)| {
                            let current = chosen(field);
                            view! {
                                <label>{*label}
                                    <select name=*field>
                                        <option value="" selected=current.is_none()>"— not in the file —"</option>
                                        {headers.iter().enumerate().map(|(i, h)| {
                                            let n = i + 1;
                                            view! { <option value=n.to_string() selected=current == Some(n)>{format!("column {n}: {h}")}</option> }
                                        }).collect_view()}
                                    </select>
                                </label>
                            }
                        }).collect_view()}
                        <button type="submit" class="button primary" disabled=move || import.pending().get()>
                            {move || if import.pending().get() { "Importing…" } else { "Import" }}
                        </button>
                    </ActionForm>
                    <ActionResult value=import.value() success="Imported."/>
                    <div class="table-wrap"><table data-testid="contacts-preview">
                        <thead><tr>{u.headers.iter().map(|h| view! { <th scope="col">{h.clone()}</th> }).collect_view()}</tr></thead>
                        <tbody>{u.preview.iter().map(|r| view! { <tr>{r.iter().map(|c| view! { <td>{c.clone()}</td> }).collect_view()}</tr> }).collect_view()}</tbody>
                    </table></div>
                    <p class="muted small"><a href=format!("?workspace={slug}")>"Cancel"</a></p>
                </section>
            }
            .into_any()
        }
    }
}

/// "Verify now": DeBounce checks the unverified contacts in the background (at most 5 at a time).
/// When the known balance is short, the server refuses unless the box is ticked (the server
/// decides on a fresh balance; the box only carries the admin's consent).
#[component]
fn VerifyNow(workspace: String, last: Option<(String, String)>, short: bool) -> impl IntoView {
    let verify = ServerAction::<VerifyContacts>::new();
    view! {
        <div data-testid="verify">
            {last.map(|(status, what)| view! { <p class="muted">{format!("Last verification: {status} — {what}")}</p> })}
            <ActionForm action=verify attr:class="inline">
                <input type="hidden" name="workspace" value=workspace/>
                <button type="submit" class="button">"Verify now"</button>
                {short.then(|| view! {
                    " "<label><input type="checkbox" name="confirm" value="yes"/>" Verify as many as the credits cover"</label>
                })}
            </ActionForm>
            <ActionResult value=verify.value() success="Verification queued: reload in a moment to see the outcome."/>
        </div>
    }
}

/// DeBounce credits: the key's balance (agency-wide: one key), the next run's need, and this
/// workspace's credits per month beside the contacts verified that month.
#[component]
fn Credits(c: CreditsView) -> impl IntoView {
    view! {
        <div data-testid="debounce-credits">
            <p>
                {match &c.balance {
                    Some((b, at)) => format!("DeBounce credits left: {} (reported {}).", thousands(*b), short_time(at)),
                    None => "DeBounce credits left: not known yet — read from DeBounce before the next run.".to_owned(),
                }}
                {format!(" The next run checks {} unverified contact{}, one credit each.", thousands(c.needed), if c.needed == 1 { "" } else { "s" })}
            </p>
            {c.shortfall.map(|w| view! { <p class="alert alert-warn" role="status" data-testid="credits-shortfall">{w}</p> })}
            {if c.months.is_empty() {
                view! { <p class="muted small">"No DeBounce credits used by this workspace in the last 12 months."</p> }.into_any()
            } else {
                view! {
                    <table data-testid="credits-by-month"><thead><tr><th scope="col">"Month"</th><th scope="col" class="num">"Credits used"</th>
                        <th scope="col" class="num">"Contacts checked that month"</th></tr></thead>
                    <tbody>{c.months.iter().map(|(m, used, verified)| view! {
                        <tr><td>{m.clone()}</td><td class="num">{thousands(*used)}</td><td class="num">{thousands(*verified)}</td></tr>
                    }).collect_view()}</tbody></table>
                }.into_any()
            }}
        </div>
    }
    .into_any()
}

/// Weekly batches of verified contacts and their upload to Email Bison, with the contacts Email
/// Bison can't take (each with why) and those no batch takes (no first or last name).
#[component]
fn Batches(batches: Vec<BatchView>, unsendable: (i64, Vec<(String, String)>), workspace: String) -> impl IntoView {
    let again = ServerAction::<UploadBatch>::new();
    let (unsendable_count, unsendable_first) = unsendable;
    view! {
        <section class="card" data-testid="batches">
            <h2>"Weekly batches"</h2>
            <p class="muted">"Every Friday each workspace gets a batch of verified contacts (its weekly contact target) that goes to its active Email Bison campaign."</p>
            {(unsendable_count > 0).then(|| view! {
                <details class="alert alert-warn" data-testid="unsendable">
                    <summary>{format!(
                        "{} verified contact{} can't go to Email Bison: it requires a first and a last name, so no batch takes them.",
                        thousands(unsendable_count), if unsendable_count == 1 { "" } else { "s" }
                    )}</summary>
                    <ul class="small">{unsendable_first.into_iter().map(|(email, why)| view! { <li>{email}" — "{why}</li> }).collect_view()}</ul>
                    <a href=format!("/admin/contacts/unsendable.csv?workspace={workspace}") download>"Download them all (CSV)"</a>
                </details>
            })}
            {if batches.is_empty() {
                view! { <p class="muted">"No batch yet."</p> }.into_any()
            } else {
                view! {
                    <table><thead><tr><th scope="col">"Week of"</th><th scope="col" class="num">"Contacts"</th><th scope="col">"Status"</th>
                        <th scope="col" class="num">"In Email Bison"</th><th scope="col" class="num">"Skipped"</th>
                        <th scope="col"><span class="visually-hidden">"Actions"</span></th></tr></thead>
                    <tbody>{batches.into_iter().map(|b| {
                        let retry = b.status == "failed" || b.status == "draft";
                        let id = b.id;
                        let skipped = (b.skipped > 0).then(|| view! {
                            <details data-testid="batch-skipped">
                                <summary>{thousands(b.skipped)}</summary>
                                <ul class="small">{b.skipped_contacts.into_iter().map(|(email, why)| view! { <li>{email}" — "{why}</li> }).collect_view()}</ul>
                                <a class="small" href=format!("/admin/contacts/batches/{id}/skipped.csv") download>"CSV"</a>
                            </details>
                        });
                        view! {
                            <tr>
                                <td>{b.week_of}</td><td class="num">{thousands(b.size)}</td>
                                <td>{b.status}{b.error.map(|e| view! { <br/><span class="muted small">{e}</span> })}</td>
                                <td class="num">{thousands(b.uploaded)}</td>
                                <td class="num">{skipped.map(|s| s.into_any()).unwrap_or_else(|| "0".into_any())}</td>
                                <td>{retry.then(|| view! {
                                    <ActionForm action=again attr:class="inline">
                                        <input type="hidden" name="batch_id" value=id.to_string()/>
                                        <button type="submit" class="button small">"Upload again"</button>
                                    </ActionForm>
                                })}</td>
                            </tr>
                        }
                    }).collect_view()}</tbody></table>
                }.into_any()
            }}
            <ActionResult value=again.value() success="Upload queued."/>
        </section>
    }
    .into_any()
}

/// Uploaded → verified → batched → in Email Bison, by month of upload: a chart and its table.
#[component]
fn Monthly(months: Vec<(String, i64, i64, i64, i64)>) -> impl IntoView {
    if months.is_empty() {
        return view! { <span></span> }.into_any();
    }
    let series = |i: usize, name: &str| (name.to_owned(), months.iter().map(|m| [m.1, m.2, m.3, m.4][i] as f64).collect::<Vec<_>>(), true);
    let chart = SeriesChart {
        title: "Contacts by month of upload: uploaded, verified, batched, in Email Bison".into(),
        categories: months.iter().map(|m| m.0.clone()).collect(),
        series: vec![series(0, "Uploaded"), series(1, "Verified"), series(2, "Batched"), series(3, "In Email Bison")],
        y_name: "contacts".into(),
    };
    view! {
        <EchartsScript/>
        <section class="card" data-testid="monthly-flow">
            <h2>"Month by month"</h2>
            <EChart id="contacts-flow-chart" chart height=260/>
            <table><thead><tr><th scope="col">"Month"</th><th scope="col" class="num">"Uploaded"</th><th scope="col" class="num">"Verified"</th>
                <th scope="col" class="num">"Batched"</th><th scope="col" class="num">"In Email Bison"</th></tr></thead>
            <tbody>{months.iter().map(|m| view! {
                <tr><td>{m.0.clone()}</td><td class="num">{thousands(m.1)}</td><td class="num">{thousands(m.2)}</td>
                    <td class="num">{thousands(m.3)}</td><td class="num">{thousands(m.4)}</td></tr>
            }).collect_view()}</tbody></table>
        </section>
    }
    .into_any()
}

/// The workspace's choice: do risky contacts count as verified for its batches?
#[component]
fn BatchSettingsForm(workspace: String, settings: BatchSettingsView) -> impl IntoView {
    let save = ServerAction::<SaveBatchSettings>::new();
    let chosen = settings.campaign_id;
    view! {
        <ActionForm action=save attr:class="inline" attr:data-testid="batch-settings">
            <input type="hidden" name="workspace" value=workspace/>
            <label><input type="checkbox" name="accept" value="yes" checked=settings.accept_risky/>
                " Risky contacts (accept-all domains, role addresses) count as verified for weekly batches"</label>
            " "
            <label>"Batches go to "
                <select name="campaign">
                    <option value="" selected=chosen.is_none()>"the first active campaign"</option>
                    {settings.campaigns.into_iter().map(|(id, name, status)| view! {
                        <option value=id.to_string() selected=chosen == Some(id)>{format!("{name} ({status})")}</option>
                    }).collect_view()}
                </select>
            </label>
            " "
            <button type="submit" class="button small">"Save"</button>
        </ActionForm>
        <ActionResult value=save.value() success="Saved."/>
    }
}
