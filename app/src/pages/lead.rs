//! A lead's own page (`/client-portal/:workspace/leads/:id`): contact details, the interested
//! reply, deal value, notes (add; edit your own) and the stage history. Its forms work before and
//! without the WASM, so they are also the keyboard- and menu-only way to move a lead.

use leptos::{form::ActionForm, prelude::*};
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;

use crate::{
    api::{load_lead, AddNote, EditNote, MoveLead},
    components::{
        guard::RequireUser,
        status::{ErrorNotice, Loading},
        ui::{short_time, ActionResult},
    },
    models::{stage_label, LeadView, STAGES},
    money::format_cents,
};

#[component]
pub fn LeadPage() -> impl IntoView {
    let params = use_params_map();
    let key = move || params.with(|p| (p.get("workspace").unwrap_or_default(), p.get("id").and_then(|i| i.parse::<i64>().ok()).unwrap_or(0)));
    let add = ServerAction::<AddNote>::new();
    let edit = ServerAction::<EditNote>::new();
    let mover = ServerAction::<MoveLead>::new();
    let lead = Resource::new_blocking(
        move || (key(), add.version().get(), edit.version().get(), mover.version().get()),
        |((slug, id), ..)| load_lead(slug, id),
    );
    view! {
        <RequireUser>
            <Transition fallback=Loading>
                {move || Suspend::new(async move {
                    match lead.await {
                        Err(e) => view! { <ErrorNotice error=e/> }.into_any(),
                        Ok(l) => view! { <LeadBody lead=l add edit mover/> }.into_any(),
                    }
                })}
            </Transition>
        </RequireUser>
    }
}

#[component]
fn LeadBody(lead: LeadView, add: ServerAction<AddNote>, edit: ServerAction<EditNote>, mover: ServerAction<MoveLead>) -> impl IntoView {
    let l = lead;
    let id = l.id.to_string();
    let id2 = id.clone();
    let notes = l.notes.clone();
    view! {
        <Title text=l.name.clone()/>
        <p class="breadcrumb">
            <a href="/client-portal">"My workspaces"</a> " / "
            <a href=format!("/client-portal/{}", l.workspace_slug)>{l.workspace_name.clone()}</a> " / "
        </p>
        <h1 data-testid="lead-name">{l.name.clone()}</h1>
        <p>
            <span class="badge" data-testid="lead-stage">{stage_label(&l.stage)}</span>
            {l.deal_value_cents.filter(|_| l.stage == "won").map(|v| format!(" deal value {}", format_cents(v)))}
            {l.lost_reason.clone().map(|r| format!(" · lost: {r}"))}
        </p>
        <div class="chart-grid">
            <section class="card">
                <h2>"Contact"</h2>
                <dl class="facts">
                    <dt>"Email"</dt><dd><a href=format!("mailto:{}", l.email)>{l.email.clone()}</a></dd>
                    <dt>"Company"</dt><dd>{l.company.clone().unwrap_or_else(|| "—".into())}</dd>
                    <dt>"Title"</dt><dd>{l.title.clone().unwrap_or_else(|| "—".into())}</dd>
                    <dt>"Phone"</dt><dd>{l.phone.clone().unwrap_or_else(|| "—".into())}</dd>
                    <dt>"Campaign"</dt><dd>{l.campaign.clone().unwrap_or_else(|| "—".into())}</dd>
                    <dt>"Received"</dt><dd>{l.received_at.as_deref().map(short_time).unwrap_or_else(|| "—".into())}</dd>
                </dl>
            </section>
            <section class="card">
                <h2>"Their reply"</h2>
                <blockquote class="reply" data-testid="reply-text">{l.reply_text.clone().unwrap_or_else(|| "(no reply text)".into())}</blockquote>
            </section>
        </div>
        {l.can_write.then(|| view! {
            <section class="card">
                <h2>"Move to another stage"</h2>
                <ActionForm action=mover attr:class="form-grid" attr:data-testid="move-form">
                    <input type="hidden" name="lead_id" value=id.clone()/>
                    <label>"Stage"
                        <select name="to_stage">
                            {STAGES.iter().map(|(k, lab)| view! { <option value=*k selected=*k == l.stage>{*lab}</option> }).collect_view()}
                        </select>
                    </label>
                    <label>"Deal value ($, for won)" <input type="text" name="deal_value" inputmode="decimal" placeholder="2500.00"/></label>
                    <label>"Reason (for lost)" <input type="text" name="lost_reason" maxlength="500"/></label>
                    <button type="submit" class="button primary">"Move"</button>
                </ActionForm>
                <ActionResult value=mover.value() success="Moved."/>
            </section>
        })}
        <section class="card">
            <h2>"Notes"</h2>
            {if notes.is_empty() {
                view! { <p class="muted">"No notes yet."</p> }.into_any()
            } else {
                view! {
                    <ol class="notes" data-testid="notes">
                        {notes.into_iter().map(|n| view! {
                            <li>
                                <p class="note-body">{n.body.clone()}</p>
                                <p class="muted small">{format!("{} · {}", n.author, short_time(&n.created_at))}
                                    {n.edited_at.as_deref().map(|t| format!(" · edited {}", short_time(t)))}</p>
                                {n.editable.then(|| view! {
                                    <details class="inline-details">
                                        <summary class="button small">"Edit"</summary>
                                        <ActionForm action=edit attr:class="stack">
                                            <input type="hidden" name="note_id" value=n.id.to_string()/>
                                            <textarea name="body" rows="3" required maxlength="5000">{n.body.clone()}</textarea>
                                            <button type="submit" class="button small">"Save"</button>
                                        </ActionForm>
                                    </details>
                                })}
                            </li>
                        }).collect_view()}
                    </ol>
                }.into_any()
            }}
            {l.can_write.then(|| view! {
                <ActionForm action=add attr:class="stack" attr:data-testid="add-note">
                    <input type="hidden" name="lead_id" value=id2.clone()/>
                    <label>"Add a note" <textarea name="body" rows="3" required maxlength="5000"></textarea></label>
                    <button type="submit" class="button">"Add note"</button>
                </ActionForm>
                <ActionResult value=add.value() success="Note added."/>
                <ActionResult value=edit.value() success="Note saved."/>
            })}
        </section>
        <section class="card">
            <h2>"History"</h2>
            {if l.history.is_empty() {
                view! { <p class="muted">"No stage changes yet."</p> }.into_any()
            } else {
                view! {
                    <ol class="history" data-testid="history">
                        {l.history.iter().map(|(from, to, who, note, at)| view! {
                            <li>{format!("{} → {}", from.as_deref().map(stage_label).unwrap_or("—"), stage_label(to))}
                                <span class="muted small">{format!(" · {} · {}", who.clone().unwrap_or_else(|| "system".into()), short_time(at))}
                                    {note.clone().map(|n| format!(" · {n}"))}</span></li>
                        }).collect_view()}
                    </ol>
                }.into_any()
            }}
        </section>
    }
}
