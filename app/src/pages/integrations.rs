//! Integrations (issue 13): API tokens, webhook endpoints with their live delivery logs, and the
//! event catalog. Admins use `/admin/integrations` (`?workspace=slug`, none: the agency's own);
//! clients who may write use `/client-portal/:workspace/integrations` for their workspace. The
//! chosen endpoint's log (`?endpoint=id`, filters `status`, `event_type`, `since`) is asked for
//! again every 3 seconds while the page is open. Tokens and secrets are shown once, in the
//! answer of the action that made them; lists never hold them.

use leptos::{form::ActionForm, prelude::*};
use leptos_meta::Title;
use leptos_router::hooks::{use_params_map, use_query_map};

use crate::{
    api::{
        load_integrations, load_webhook_attempts, load_webhook_deliveries, CreateApiToken, CreateWebhookEndpoint, DeleteWebhookEndpoint,
        RecoverWebhookDeliveries, ReplayWebhookDelivery, RevokeApiToken, RotateWebhookSecret, SendWebhookTest, SetWebhookEndpointEnabled,
        UpdateWebhookEndpoint,
    },
    components::{
        guard::{encode_component, RequireAdmin, RequireUser},
        status::{ErrorNotice, Loading},
        ui::{short_time, ActionResult, ConfirmButton, Empty},
    },
    error::AppError,
    models::{ApiTokenRow, DeliveryRow, EndpointRow, EventTypeRow, IntegrationsOverview},
};

/// How often the delivery log is asked for again while the page is open.
pub const LOG_POLL_MS: u64 = 3000;

#[component]
pub fn AdminIntegrationsPage() -> impl IntoView {
    let query = use_query_map();
    let workspace = Signal::derive(move || query.with(|q| q.get("workspace")).filter(|s| !s.is_empty()));
    view! {
        <Title text="Integrations"/>
        <RequireAdmin>
            <Integrations workspace base=Signal::derive(|| "/admin/integrations".to_owned()) picker=true/>
        </RequireAdmin>
    }
    .into_any()
}

#[component]
pub fn PortalIntegrationsPage() -> impl IntoView {
    let params = use_params_map();
    let slug = move || params.with(|p| p.get("workspace").unwrap_or_default());
    let workspace = Signal::derive(move || Some(slug()));
    view! {
        <Title text="Integrations"/>
        <RequireUser>
            <Integrations workspace base=Signal::derive(move || format!("/client-portal/{}/integrations", slug())) picker=false/>
        </RequireUser>
    }
    .into_any()
}

/// The page's URL for a query (`?workspace=…&endpoint=…`); the client page has the workspace in
/// its path.
fn page_href(base: &str, workspace: &Option<String>, picker: bool, extra: &[(&str, String)]) -> String {
    let mut parts: Vec<String> = Vec::new();
    if picker {
        if let Some(ws) = workspace {
            parts.push(format!("workspace={}", encode_component(ws)));
        }
    }
    parts.extend(extra.iter().filter(|(_, v)| !v.is_empty()).map(|(k, v)| format!("{k}={}", encode_component(v))));
    if parts.is_empty() {
        base.to_owned()
    } else {
        format!("{base}?{}", parts.join("&"))
    }
}

/// The hidden `workspace` field every form of the page carries (none: the agency's own).
fn workspace_field(workspace: &Option<String>) -> impl IntoView {
    workspace.clone().map(|ws| view! { <input type="hidden" name="workspace" value=ws/> })
}

#[derive(Clone, Copy)]
struct Actions {
    create_token: ServerAction<CreateApiToken>,
    revoke_token: ServerAction<RevokeApiToken>,
    create_endpoint: ServerAction<CreateWebhookEndpoint>,
    update_endpoint: ServerAction<UpdateWebhookEndpoint>,
    set_enabled: ServerAction<SetWebhookEndpointEnabled>,
    rotate: ServerAction<RotateWebhookSecret>,
    test: ServerAction<SendWebhookTest>,
    delete: ServerAction<DeleteWebhookEndpoint>,
    replay: ServerAction<ReplayWebhookDelivery>,
    recover: ServerAction<RecoverWebhookDeliveries>,
}

#[component]
fn Integrations(workspace: Signal<Option<String>>, base: Signal<String>, picker: bool) -> impl IntoView {
    let query = use_query_map();
    let a = Actions {
        create_token: ServerAction::new(),
        revoke_token: ServerAction::new(),
        create_endpoint: ServerAction::new(),
        update_endpoint: ServerAction::new(),
        set_enabled: ServerAction::new(),
        rotate: ServerAction::new(),
        test: ServerAction::new(),
        delete: ServerAction::new(),
        replay: ServerAction::new(),
        recover: ServerAction::new(),
    };
    let version = move || {
        (
            a.create_token.version().get(),
            a.revoke_token.version().get(),
            a.create_endpoint.version().get(),
            a.update_endpoint.version().get(),
            a.set_enabled.version().get(),
            a.rotate.version().get(),
            a.delete.version().get(),
        )
    };
    let overview = Resource::new_blocking(move || (workspace.get(), version()), |(ws, _)| load_integrations(ws));
    let endpoint = move || query.with(|q| q.get("endpoint")).and_then(|e| e.parse::<i64>().ok());
    // The chosen endpoint's log as the page opens (rendered on the server with the rest; the log
    // then polls by itself). One resource beside the overview: never created inside its view.
    let log_filters = move || query.with(|q| ["status", "event_type", "since"].map(|k| q.get(k).unwrap_or_default()));
    let log = Resource::new_blocking(
        move || (workspace.get(), endpoint(), log_filters()),
        |(ws, endpoint, [status, event_type, since])| async move {
            match endpoint {
                None => Ok(Vec::new()),
                Some(id) => load_webhook_deliveries(ws, id, Some(status), Some(event_type), Some(since)).await,
            }
        },
    );
    view! {
        <Transition fallback=Loading>
            {move || Suspend::new(async move {
                let (o, log) = (overview.await, log.await);
                match o {
                    // A viewer of the workspace: say what is missing (the generic 403 page speaks of admins).
                    Err(AppError::Forbidden) if !picker => view! { <NeedsWrite/> }.into_any(),
                    Err(e) => view! { <ErrorNotice error=e/> }.into_any(),
                    Ok(o) => view! { <Overview o base=base.get_untracked() picker a endpoint=endpoint() log/> }.into_any(),
                }
            })}
        </Transition>
    }
    .into_any()
}

#[component]
fn NeedsWrite() -> impl IntoView {
    crate::components::status::set_http_status(403);
    view! {
        <section class="status-page" data-testid="forbidden">
            <h1>"Integrations need write access"</h1>
            <p>"API tokens and webhooks can change this workspace, so they are for people who may write in it. Ask your agency admin if you need them."</p>
            <p><a href="/client-portal" class="button">"Back to my workspaces"</a></p>
        </section>
    }
    .into_any()
}

#[component]
fn Overview(o: IntegrationsOverview, base: String, picker: bool, a: Actions, endpoint: Option<i64>, log: Result<Vec<DeliveryRow>, AppError>) -> impl IntoView {
    let ws: Option<String> = o.workspace.as_ref().map(|(slug, _)| slug.clone());
    let owner_name = o.workspace.as_ref().map(|(_, name)| name.clone()).unwrap_or_else(|| "Agency-wide".into());
    let chosen = endpoint.and_then(|id| o.endpoints.iter().find(|e| e.id == id).cloned());
    let public_types: Vec<String> = o.catalog.iter().map(|t| t.name.clone()).filter(|n| n != "webhook.test").collect();
    view! {
        {(!picker).then(|| view! {
            <p class="breadcrumb"><a href="/client-portal">"My workspaces"</a> " / "
                <a href=format!("/client-portal/{}", ws.clone().unwrap_or_default())>{owner_name.clone()}</a> " / "</p>
        })}
        <div class="page-head">
            <h1>"Integrations"</h1>
            <a class="button" href="/api/docs">"API documentation"</a>
        </div>
        <p class="muted">"Tokens for the REST API (n8n, Zapier, scripts), webhook endpoints that receive signed events, and what each delivery did. "
            <strong data-testid="integrations-owner">{owner_name.clone()}</strong>
            {if ws.is_some() { ": this workspace's tokens and endpoints." } else { ": every token of the agency, and the agency's own endpoints, which receive every workspace's events." }}
        </p>
        {picker.then(|| view! { <WorkspacePicker workspaces=o.workspaces.clone() selected=ws.clone()/> })}
        <TokensSection tokens=o.tokens.clone() ws=ws.clone() a agency=ws.is_none()/>
        <EndpointsSection endpoints=o.endpoints.clone() types=public_types.clone() ws=ws.clone() base=base.clone() picker a chosen=chosen.as_ref().map(|e| e.id)/>
        {match (endpoint, chosen) {
            (_, Some(e)) => view! { <DeliveryLogSection endpoint=e log types=o.catalog.iter().map(|t| t.name.clone()).collect() ws=ws.clone() base=base.clone() picker a/> }.into_any(),
            (Some(_), None) => view! { <p class="alert alert-error" role="alert">"That endpoint is not here (deleted, or it belongs to another owner). Pick one above."</p> }.into_any(),
            (None, None) => ().into_any(),
        }}
        <CatalogSection catalog=o.catalog.clone()/>
    }
    .into_any()
}

/// "Agency-wide" or one workspace; a plain GET form, so the choice is in the URL.
#[component]
fn WorkspacePicker(workspaces: Vec<(String, String)>, selected: Option<String>) -> impl IntoView {
    let selected = selected.unwrap_or_default();
    view! {
        <form method="get" class="filters" role="search" data-testid="workspace-picker">
            <label>"Tokens and endpoints of"
                <select name="workspace">
                    <option value="" selected=selected.is_empty()>"Agency-wide"</option>
                    {workspaces.into_iter().map(|(slug, name)| {
                        let is = slug == selected;
                        view! { <option value=slug selected=is>{name}</option> }
                    }).collect_view()}
                </select>
            </label>
            <button type="submit" class="button">"Show"</button>
        </form>
    }
    .into_any()
}

/// A token or secret, shown once: a read-only box to copy from, and a plain warning.
#[component]
fn SecretOnce(title: &'static str, value: String, testid: &'static str, #[prop(into)] note: String) -> impl IntoView {
    let copied = RwSignal::new(false);
    let copy_value = value.clone();
    view! {
        <div class="secret-once" role="status" data-testid=testid>
            <p><strong>{title}</strong> " Copy it now: you won't see it again. " {note}</p>
            <div class="secret-row">
                <input type="text" readonly value=value class="secret-value" aria-label=title spellcheck="false"
                    on:focus=|ev| {
                        #[cfg(feature = "hydrate")]
                        {
                            use wasm_bindgen::JsCast;
                            if let Some(i) = ev.target().and_then(|t| t.dyn_into::<web_sys::HtmlInputElement>().ok()) { i.select(); }
                        }
                        #[cfg(not(feature = "hydrate"))]
                        let _ = ev;
                    }/>
                <button type="button" class="button small" on:click=move |_| { copy_to_clipboard(&copy_value); copied.set(true); }>
                    {move || if copied.get() { "Copied" } else { "Copy" }}
                </button>
            </div>
        </div>
    }
    .into_any()
}

/// `navigator.clipboard.writeText(text)`, looked up by name (the web-sys clipboard bindings are
/// not compiled in for this one call).
fn copy_to_clipboard(text: &str) {
    #[cfg(feature = "hydrate")]
    {
        use wasm_bindgen::{JsCast, JsValue};
        let get = |o: &JsValue, k: &str| js_sys::Reflect::get(o, &JsValue::from_str(k)).ok();
        let clipboard = get(&js_sys::global().into(), "navigator").and_then(|n| get(&n, "clipboard"));
        if let Some(c) = clipboard {
            if let Some(f) = get(&c, "writeText").and_then(|f| f.dyn_into::<js_sys::Function>().ok()) {
                let _ = f.call1(&c, &JsValue::from_str(text));
            }
        }
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = text;
}

/// A CSV download of one of the page's tables, for the workspace shown (none: the agency's),
/// with the log's filters (`extra`).
fn csv_link(path: &str, ws: &Option<String>, extra: &[(&str, String)], testid: &'static str) -> impl IntoView {
    let mut params: Vec<(&str, String)> = ws.iter().map(|w| ("workspace", w.clone())).collect();
    params.extend(extra.iter().filter(|(_, v)| !v.is_empty()).cloned());
    let query: Vec<String> = params.iter().map(|(k, v)| format!("{k}={}", query_value(v))).collect();
    let href = if query.is_empty() { path.to_owned() } else { format!("{path}?{}", query.join("&")) };
    view! { <a class="button" href=href download data-testid=testid>"Export CSV"</a> }
}

/// Percent-encodes a query value (slugs, ids, days and catalog names need little).
fn query_value(v: &str) -> String {
    v.bytes()
        .map(|b| if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.') { (b as char).to_string() } else { format!("%{b:02X}") })
        .collect()
}

fn or_dash(v: Option<String>) -> String {
    v.map(|t| short_time(&t)).unwrap_or_else(|| "—".into())
}

#[component]
fn TokensSection(tokens: Vec<ApiTokenRow>, ws: Option<String>, a: Actions, agency: bool) -> impl IntoView {
    let ws_now = ws.clone();
    // The new token, if it was made for what this page shows (the answer outlives a switch).
    let fresh = move || {
        a.create_token.value().get().and_then(|r| r.ok()).filter(|c| c.row.workspace_slug == ws_now).map(|c| {
            view! { <SecretOnce title="Your new API token." value=c.token testid="new-token"
                note=format!("Send it as \"Authorization: Bearer …\". The list below shows only its start, {}.", c.row.prefix)/> }
        })
    };
    let revoke = a.revoke_token;
    view! {
        <section class="card integ" data-testid="tokens">
            <div class="section-head"><h2>"API tokens"</h2>{csv_link("/integrations/tokens.csv", &ws, &[], "tokens-csv")}</div>
            {if tokens.is_empty() {
                view! { <Empty title="No API tokens yet">"Create one below for n8n, Zapier or a script."</Empty> }.into_any()
            } else {
                view! {
                    <div class="table-wrap">
                    <table data-testid="tokens-table">
                        <thead><tr>
                            <th scope="col">"Name"</th><th scope="col">"Token starts"</th><th scope="col">"Scope"</th><th scope="col">"Workspace"</th>
                            <th scope="col">"Created by"</th><th scope="col">"Last used"</th><th scope="col">"Expires"</th><th scope="col">"Revoked"</th><th scope="col">"Actions"</th>
                        </tr></thead>
                        <tbody>
                        {tokens.into_iter().map(|t| {
                            let revoked = t.revoked_at.is_some();
                            view! {
                                <tr class:muted=revoked>
                                    <td>{t.name.clone()}</td>
                                    <td><code>{format!("{}…", t.prefix)}</code></td>
                                    <td><span class=if t.scope == "write" { "badge badge-client" } else { "badge badge-viewer" }>{t.scope.clone()}</span></td>
                                    <td>{t.workspace_slug.clone().unwrap_or_else(|| "agency-wide".into())}</td>
                                    <td>{t.created_by.clone().unwrap_or_else(|| "—".into())}</td>
                                    <td>{t.last_used_at.clone().map(|v| short_time(&v)).unwrap_or_else(|| "never".into())}</td>
                                    <td>{t.expires_at.clone().map(|v| short_time(&v)).unwrap_or_else(|| "never".into())}</td>
                                    <td>{if revoked { view! { <span class="badge badge-danger">{or_dash(t.revoked_at.clone())}</span> }.into_any() } else { "—".into_any() }}</td>
                                    <td class="actions">
                                        {(!revoked).then(|| view! {
                                            <ConfirmButton label="Revoke" message=format!("Revoke the token \"{}\"? Everything that uses it is refused from now on; this can't be undone.", t.name)>
                                                <ActionForm action=revoke attr:class="inline">
                                                    <input type="hidden" name="token_id" value=t.id.to_string()/>
                                                    <button type="submit" class="button small danger">{format!("Revoke {}", t.name)}</button>
                                                </ActionForm>
                                            </ConfirmButton>
                                        })}
                                    </td>
                                </tr>
                            }
                        }).collect_view()}
                        </tbody>
                    </table>
                    </div>
                }.into_any()
            }}
            <ActionResult value=a.revoke_token.value() success="Token revoked."/>
            <h3>"Create a token"</h3>
            <ActionForm action=a.create_token attr:class="form-grid" attr:data-testid="create-token">
                {workspace_field(&ws)}
                <label>"Name" <input type="text" name="name" required maxlength="100" placeholder="n8n production"/></label>
                <label>"Scope"
                    <select name="scope">
                        <option value="read">"read"</option>
                        <option value="write">"write"</option>
                    </select>
                </label>
                <label>"Expires after (days)" <input type="number" name="expires_days" min="1" max="3650" placeholder="never"/></label>
                <button type="submit" class="button primary" disabled=move || a.create_token.pending().get()>"Create token"</button>
            </ActionForm>
            {agency.then(|| view! { <p class="muted small">"An agency-wide token reaches every workspace: keep it for the agency's own tools."</p> })}
            {move || match a.create_token.value().get() {
                Some(Err(e)) => Some(view! { <p class="alert alert-error" role="alert">{e.to_string()}</p> }),
                _ => None,
            }}
            {fresh}
        </section>
    }
    .into_any()
}

/// The event-type checkboxes of an endpoint form (`types[<name>]=yes`); none ticked: every type.
fn type_boxes(types: &[String], checked: &[String]) -> impl IntoView {
    view! {
        <fieldset class="event-types">
            <legend>"Event types " <span class="muted small">"(none ticked: every type)"</span></legend>
            {types.iter().map(|t| {
                let is = checked.contains(t);
                view! { <label class="check"><input type="checkbox" name=format!("types[{t}]") value="yes" checked=is/><code>{t.clone()}</code></label> }
            }).collect_view()}
        </fieldset>
    }
}

#[component]
fn EndpointsSection(endpoints: Vec<EndpointRow>, types: Vec<String>, ws: Option<String>, base: String, picker: bool, a: Actions, chosen: Option<i64>) -> impl IntoView {
    let ids: Vec<i64> = endpoints.iter().map(|e| e.id).collect();
    let ids2 = ids.clone();
    let created = move || {
        a.create_endpoint.value().get().and_then(|r| r.ok()).filter(|c| ids.contains(&c.endpoint.id)).map(|c| {
            view! { <SecretOnce title="The endpoint's signing secret." value=c.secret testid="endpoint-secret"
                note=format!("Your receiver verifies each message's webhook-signature with it (Standard Webhooks) for {}.", c.endpoint.url)/> }
        })
    };
    let rotated = move || {
        a.rotate.value().get().and_then(|r| r.ok()).filter(|r| ids2.contains(&r.endpoint_id)).map(|r| {
            view! { <SecretOnce title="The new signing secret." value=r.secret testid="rotated-secret"
                note=format!("The old secret keeps signing too until {}, so switch your receiver before then.", short_time(&r.previous_until))/> }
        })
    };
    view! {
        <section class="card integ" data-testid="endpoints">
            <div class="section-head"><h2>"Webhook endpoints"</h2>{csv_link("/integrations/endpoints.csv", &ws, &[], "endpoints-csv")}</div>
            {if endpoints.is_empty() {
                view! { <Empty title="No webhook endpoints yet">"Add the URL of an n8n Webhook node (or any receiver) below."</Empty> }.into_any()
            } else {
                view! {
                    <div class="table-wrap">
                    <table data-testid="endpoints-table">
                        <thead><tr>
                            <th scope="col">"URL"</th><th scope="col">"Description"</th><th scope="col">"Event types"</th>
                            <th scope="col">"Status"</th><th scope="col">"Failing since"</th><th scope="col">"Actions"</th>
                        </tr></thead>
                        <tbody>
                        {endpoints.into_iter().map(|e| view! {
                            <EndpointRowView e types=types.clone() ws=ws.clone() base=base.clone() picker a current=chosen/>
                        }).collect_view()}
                        </tbody>
                    </table>
                    </div>
                }.into_any()
            }}
            <ActionResult value=a.test.value() success="Test event queued: see it in the delivery log."/>
            <ActionResult value=a.set_enabled.value() success="Saved."/>
            <ActionResult value=a.update_endpoint.value() success="Endpoint saved."/>
            <ActionResult value=a.delete.value() success="Endpoint deleted, with its delivery log."/>
            {move || match a.rotate.value().get() {
                Some(Err(e)) => Some(view! { <p class="alert alert-error" role="alert">{e.to_string()}</p> }),
                _ => None,
            }}
            {rotated}
            <h3>"Add an endpoint"</h3>
            <ActionForm action=a.create_endpoint attr:class="form-grid" attr:data-testid="create-endpoint">
                {workspace_field(&ws)}
                <label>"URL" <input type="url" name="url" required placeholder="https://n8n.example.com/webhook/…"/></label>
                <label>"Description" <input type="text" name="description" maxlength="500" placeholder="n8n: new leads to the CRM"/></label>
                {type_boxes(&types, &[])}
                // An optional static header, e.g. for n8n's Header Auth.
                <label>"Header name (optional)" <input type="text" name="header_name" maxlength="100" placeholder="X-N8N-Auth" autocomplete="off"/></label>
                <label>"Header value (optional)" <input type="password" name="header_value" maxlength="1000" autocomplete="new-password"/></label>
                <button type="submit" class="button primary" disabled=move || a.create_endpoint.pending().get()>"Add endpoint"</button>
            </ActionForm>
            {move || match a.create_endpoint.value().get() {
                Some(Err(e)) => Some(view! { <p class="alert alert-error" role="alert">{e.to_string()}</p> }),
                _ => None,
            }}
            {created}
        </section>
    }
    .into_any()
}

#[component]
fn EndpointRowView(e: EndpointRow, types: Vec<String>, ws: Option<String>, base: String, picker: bool, a: Actions, current: Option<i64>) -> impl IntoView {
    let id = e.id;
    let log_href = format!("{}#delivery-log", page_href(&base, &ws, picker, &[("endpoint", id.to_string())]));
    let ws = StoredValue::new(ws);
    let delete_message = format!("Delete the endpoint {}? It receives nothing more, and its delivery log is deleted with it.", e.url);
    let is_current = current == Some(e.id);
    let type_list = if e.event_types.is_empty() { "all".to_owned() } else { e.event_types.join(", ") };
    view! {
        <tr data-endpoint-id=id.to_string() class:row-current=is_current>
            <td class="url-cell"><code>{e.url.clone()}</code>
                {e.header_name.clone().map(|h| view! { <br/><span class="muted small">{format!("+ header {h}")}</span> })}</td>
            <td>{if e.description.is_empty() { "—".to_owned() } else { e.description.clone() }}</td>
            <td class="small">{type_list}</td>
            <td>
                {if e.enabled {
                    view! { <span class="badge badge-ok">"enabled"</span> }.into_any()
                } else {
                    view! { <span class="badge badge-danger">"disabled"</span> }.into_any()
                }}
                {e.disabled_reason.clone().filter(|_| !e.enabled).map(|r| view! { <br/><span class="muted small">{r}</span> })}
            </td>
            <td>{or_dash(e.failing_since.clone())}</td>
            <td class="actions endpoint-actions">
                <a class="button small" href=log_href aria-current=is_current.then_some("true")>"Delivery log"</a>
                <ActionForm action=a.test attr:class="inline">
                    {workspace_field(&ws.get_value())}
                    <input type="hidden" name="endpoint_id" value=id.to_string()/>
                    <button type="submit" class="button small">"Send test event"</button>
                </ActionForm>
                <ActionForm action=a.set_enabled attr:class="inline">
                    {workspace_field(&ws.get_value())}
                    <input type="hidden" name="endpoint_id" value=id.to_string()/>
                    <input type="hidden" name="enabled" value=(!e.enabled).to_string()/>
                    <button type="submit" class="button small">{if e.enabled { "Disable" } else { "Enable" }}</button>
                </ActionForm>
                <details class="inline-details endpoint-edit">
                    <summary class="button small">"Edit"</summary>
                    <ActionForm action=a.update_endpoint attr:class="form-grid">
                        {workspace_field(&ws.get_value())}
                        <input type="hidden" name="endpoint_id" value=id.to_string()/>
                        <label>"URL" <input type="url" name="url" required value=e.url.clone()/></label>
                        <label>"Description" <input type="text" name="description" maxlength="500" value=e.description.clone()/></label>
                        {type_boxes(&types, &e.event_types)}
                        <label class="check"><input type="checkbox" name="enabled" value="yes" checked=e.enabled/>"Enabled"</label>
                        <label>"Header name" <input type="text" name="header_name" maxlength="100" value=e.header_name.clone().unwrap_or_default() autocomplete="off"/></label>
                        <label>"Header value" <input type="password" name="header_value" maxlength="1000" placeholder="unchanged" autocomplete="new-password"/></label>
                        <button type="submit" class="button primary">"Save"</button>
                    </ActionForm>
                </details>
                <ConfirmButton label="Rotate secret" message="Make a new signing secret? It is shown once; the old one keeps signing too for 24 hours, so the receiver can switch without missing a message.">
                    <ActionForm action=a.rotate attr:class="inline">
                        {workspace_field(&ws.get_value())}
                        <input type="hidden" name="endpoint_id" value=id.to_string()/>
                        <button type="submit" class="button small">"Rotate the secret"</button>
                    </ActionForm>
                </ConfirmButton>
                <ConfirmButton label="Delete" message=delete_message>
                    <ActionForm action=a.delete attr:class="inline">
                        {workspace_field(&ws.get_value())}
                        <input type="hidden" name="endpoint_id" value=id.to_string()/>
                        <button type="submit" class="button small danger">"Delete the endpoint"</button>
                    </ActionForm>
                </ConfirmButton>
            </td>
        </tr>
    }
    .into_any()
}

/// The chosen endpoint's deliveries: filters in the URL, rows asked for again every 3 s.
#[component]
fn DeliveryLogSection(endpoint: EndpointRow, log: Result<Vec<DeliveryRow>, AppError>, types: Vec<String>, ws: Option<String>, base: String, picker: bool, a: Actions) -> impl IntoView {
    let query = use_query_map();
    let param = move |k: &str| query.with_untracked(|q| q.get(k).unwrap_or_default());
    let (status, event_type, since) = (param("status"), param("event_type"), param("since"));
    let endpoint_id = endpoint.id;
    let clear_href = format!("{}#delivery-log", page_href(&base, &ws, picker, &[("endpoint", endpoint_id.to_string())]));
    let ws_table = ws.clone();
    let filters = (status.clone(), event_type.clone(), since.clone());
    view! {
        <section class="card integ" id="delivery-log" data-testid="delivery-log">
            <div class="section-head">
                <h2>"Delivery log: " <code class="url-cell">{endpoint.url.clone()}</code></h2>
                {csv_link("/integrations/deliveries.csv", &ws, &[("endpoint", endpoint_id.to_string()), ("status", status.clone()), ("event_type", event_type.clone()), ("since", since.clone())], "deliveries-csv")}
            </div>
            <p class="muted small">"The newest " {crate::api::integrations::DELIVERY_LOG_ROWS} " deliveries, refreshed every 3 seconds. A delivery is retried on its schedule until it is delivered or fails for good; the failed ones are the dead-letter list."</p>
            <form method="get" class="filters" role="search" data-testid="log-filters">
                {picker.then(|| workspace_field(&ws))}
                <input type="hidden" name="endpoint" value=endpoint_id.to_string()/>
                <label>"Status"
                    <select name="status">
                        {["", "pending", "delivered", "failed"].map(|s| view! {
                            <option value=s selected=status == s>{if s.is_empty() { "any" } else { s }}</option>
                        })}
                    </select>
                </label>
                <label>"Event type"
                    <select name="event_type">
                        <option value="">"any"</option>
                        {types.into_iter().map(|t| {
                            let is = t == event_type;
                            view! { <option value=t.clone() selected=is>{t.clone()}</option> }
                        }).collect_view()}
                    </select>
                </label>
                <label>"Since" <input type="date" name="since" value=since.clone()/></label>
                <button type="submit" class="button">"Filter"</button>
                <a class="button" href=clear_href>"Clear"</a>
            </form>
            <ActionResult value=a.replay.value() success="Replay queued."/>
            {match log {
                Err(e) => view! { <ErrorNotice error=e/> }.into_any(),
                Ok(rows) => view! { <LogTable initial=rows ws=ws_table endpoint_id filters a/> }.into_any(),
            }}
            <ActionForm action=a.recover attr:class="inline recover-form" attr:data-testid="recover">
                {workspace_field(&ws)}
                <input type="hidden" name="endpoint_id" value=endpoint_id.to_string()/>
                <label>"Recover failed since" <input type="date" name="since" required/></label>
                <button type="submit" class="button small">"Send the failed ones again"</button>
            </ActionForm>
            {move || match a.recover.value().get() {
                Some(Ok(n)) => Some(view! { <p class="alert alert-ok" role="status">{format!("{n} failed {} queued again.", if n == 1 { "delivery" } else { "deliveries" })}</p> }.into_any()),
                Some(Err(e)) => Some(view! { <p class="alert alert-error" role="alert">{e.to_string()}</p> }.into_any()),
                None => None,
            }}
        </section>
    }
    .into_any()
}

fn status_badge(status: &str) -> &'static str {
    match status {
        "delivered" => "badge badge-ok",
        "failed" => "badge badge-danger",
        _ => "badge badge-viewer",
    }
}

#[component]
fn LogTable(initial: Vec<DeliveryRow>, ws: Option<String>, endpoint_id: i64, filters: (String, String, String), a: Actions) -> impl IntoView {
    let rows = RwSignal::new(initial);
    let open = RwSignal::new(Vec::<i64>::new());
    let ws = StoredValue::new(ws);
    let filters = StoredValue::new(filters);
    let refresh = move || {
        let (ws, (status, event_type, since)) = (ws.get_value(), filters.get_value());
        leptos::task::spawn_local(async move {
            if let Ok(list) = load_webhook_deliveries(ws, endpoint_id, Some(status), Some(event_type), Some(since)).await {
                rows.set(list);
            }
        });
    };
    // A test, a replay or a recovery shows at once; everything else within 3 seconds.
    Effect::watch(move || (a.test.version().get(), a.replay.version().get(), a.recover.version().get()), move |_, _, _| refresh(), false);
    #[cfg(feature = "hydrate")]
    {
        if let Ok(handle) = set_interval_with_handle(refresh, std::time::Duration::from_millis(LOG_POLL_MS)) {
            on_cleanup(move || handle.clear());
        }
    }
    let replay = a.replay;
    view! {
        {move || rows.with(|r| r.is_empty()).then(|| view! {
            <Empty title="No deliveries yet">"Press \"Send test event\" above, or wait for the next event. Filters can hide deliveries too."</Empty>
        })}
        <div class="table-wrap" hidden=move || rows.with(|r| r.is_empty())>
        <table data-testid="deliveries-table">
            <thead><tr>
                <th scope="col">"Time"</th><th scope="col">"Event type"</th><th scope="col">"Status"</th><th scope="col">"Attempts"</th>
                <th scope="col">"Last status"</th><th scope="col">"Last error"</th><th scope="col">"Trace id"</th><th scope="col">"Actions"</th>
            </tr></thead>
            <For each=move || rows.get() key=|d| (d.id, d.status.clone(), d.attempts, d.last_status_code) let:d>
                {
                    let id = d.id;
                    let is_open = move || open.with(|o| o.contains(&id));
                    let toggle = move |_| open.update(|o| if let Some(p) = o.iter().position(|x| *x == id) { o.remove(p); } else { o.push(id); });
                    let finished = d.status != "pending";
                    let attempts = d.attempts;
                    view! {
                        <tbody class="delivery" data-delivery-id=id.to_string() data-status=d.status.clone()>
                            <tr>
                                <td>{short_time(&d.created_at)}</td>
                                <td><code>{d.event_type.clone()}</code></td>
                                <td><span class=status_badge(&d.status) data-testid="delivery-status">{d.status.clone()}</span>
                                    {(!finished).then(|| view! { <br/><span class="muted small">{format!("next try {}", short_time(&d.next_attempt_at))}</span> })}</td>
                                <td>{attempts}</td>
                                <td>{d.last_status_code.map(|c| c.to_string()).unwrap_or_else(|| "—".into())}</td>
                                <td class="small">{d.last_error.clone().unwrap_or_else(|| "—".into())}</td>
                                <td><code class="small">{d.trace_id.clone().unwrap_or_else(|| "—".into())}</code></td>
                                <td class="actions">
                                    <button type="button" class="button small" aria-expanded=move || is_open().to_string()
                                        aria-controls=format!("attempts-{id}") on:click=toggle>"Attempts"</button>
                                    {finished.then(|| view! {
                                        <ActionForm action=replay attr:class="inline">
                                            {workspace_field(&ws.get_value())}
                                            <input type="hidden" name="delivery_id" value=id.to_string()/>
                                            <button type="submit" class="button small">"Replay"</button>
                                        </ActionForm>
                                    })}
                                </td>
                            </tr>
                            <tr class="attempts-row" id=format!("attempts-{id}") hidden=move || !is_open()>
                                <td colspan="8">
                                    {move || is_open().then(|| view! { <Attempts ws=ws.get_value() delivery_id=id message_id=d.message_id.clone()/> })}
                                </td>
                            </tr>
                        </tbody>
                    }
                    .into_any()
                }
            </For>
        </table>
        </div>
    }
    .into_any()
}

#[component]
fn Attempts(ws: Option<String>, delivery_id: i64, message_id: String) -> impl IntoView {
    let attempts = LocalResource::new(move || load_webhook_attempts(ws.clone(), delivery_id));
    view! {
        <p class="muted small">"Message id " <code>{message_id}</code></p>
        <Suspense fallback=Loading>
            {move || Suspend::new(async move {
                match attempts.await {
                    Err(e) => view! { <ErrorNotice error=e/> }.into_any(),
                    Ok(list) if list.is_empty() => view! { <p class="muted">"Not attempted yet."</p> }.into_any(),
                    Ok(list) => view! {
                        <table class="attempts" data-testid="attempts-table">
                            <thead><tr><th scope="col">"Time"</th><th scope="col">"Status code"</th><th scope="col">"Latency"</th><th scope="col">"Response"</th></tr></thead>
                            <tbody>
                            {list.into_iter().map(|t| view! {
                                <tr>
                                    <td>{short_time(&t.at)}</td>
                                    <td>{t.status_code.map(|c| c.to_string()).unwrap_or_else(|| "—".into())}</td>
                                    <td>{format!("{} ms", t.latency_ms)}</td>
                                    <td><pre class="excerpt">{t.error.clone().map(|e| format!("{e}\n")).unwrap_or_default()}{t.response_excerpt.clone()}</pre></td>
                                </tr>
                            }).collect_view()}
                            </tbody>
                        </table>
                    }.into_any(),
                }
            })}
        </Suspense>
    }
    .into_any()
}

#[component]
fn CatalogSection(catalog: Vec<EventTypeRow>) -> impl IntoView {
    view! {
        <section class="card integ" data-testid="event-catalog">
            <h2>"Event catalog"</h2>
            <p class="muted">"Every message is " <code>"{\"type\", \"timestamp\", \"data\"}"</code>
                ", signed with the Standard Webhooks headers (webhook-id, webhook-timestamp, webhook-signature) and sent with a traceparent. The JSON schema of each type is in the "
                <a href="/api/docs">"API documentation"</a> "."</p>
            <ul class="event-catalog">
                {catalog.into_iter().map(|t| view! {
                    <li>
                        <h3><code>{t.name.clone()}</code></h3>
                        <p>{t.description}</p>
                        <details>
                            <summary>"Example payload"</summary>
                            <pre class="payload" data-testid=format!("example-{}", t.name)>{t.example}</pre>
                        </details>
                    </li>
                }).collect_view()}
            </ul>
        </section>
    }
    .into_any()
}
