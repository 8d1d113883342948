//! User management: create, disable/enable, reset passwords, grant and revoke workspace access.
//! Filters live in the URL (`?q=…&role=…`); the CSV export downloads the rows shown.

use leptos::{form::ActionForm, prelude::*};
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use crate::{
    api::{list_users, list_workspaces, CreateUser, GrantAccess, ResetUserPassword, RevokeAccess, SendPasswordLink, SetUserDisabled},
    components::{
        guard::{CurrentUser, RequireAdmin},
        sort::{sort_rows, text, Compare, KeepSort, SortLink},
        status::{ErrorNotice, Loading},
        ui::{export_href, short_time, ActionResult, ConfirmButton, Empty},
    },
    models::{UserRow, WorkspaceRow},
};

/// The table's sortable columns (default: by email).
pub const SORTS: &[(&str, Compare<UserRow>)] = &[
    ("email", |a, b| a.email.cmp(&b.email)),
    ("name", |a, b| text(&a.display_name, &b.display_name)),
    ("role", |a, b| a.role.cmp(&b.role)),
    ("status", |a, b| a.disabled.cmp(&b.disabled)),
    ("last_login", |a, b| a.last_login_at.cmp(&b.last_login_at)),
];

/// Whether a user matches the filters (text in email or name; role).
pub fn matches(u: &UserRow, q: &str, role: &str) -> bool {
    let q = q.trim().to_lowercase();
    (q.is_empty() || u.email.contains(&q) || u.display_name.to_lowercase().contains(&q)) && (role.is_empty() || u.role == role)
}

/// What disabling an account does, said before it happens.
pub fn disable_message(email: &str, admin: bool) -> String {
    let rights = if admin { " They lose admin access to every workspace." } else { "" };
    format!("Disable {email}? They are signed out everywhere at once and can't sign in until an admin enables the account again.{rights}")
}

#[component]
pub fn UsersPage() -> impl IntoView {
    let query = use_query_map();
    let q = move || query.with(|m| m.get("q").unwrap_or_default());
    let role = move || query.with(|m| m.get("role").unwrap_or_default());

    let create = ServerAction::<CreateUser>::new();
    let disable = ServerAction::<SetUserDisabled>::new();
    let reset = ServerAction::<ResetUserPassword>::new();
    let send_link = ServerAction::<SendPasswordLink>::new();
    let grant = ServerAction::<GrantAccess>::new();
    let revoke = ServerAction::<RevokeAccess>::new();
    let version = move || {
        (create.version().get(), disable.version().get(), reset.version().get(), grant.version().get(), revoke.version().get())
    };
    let users = Resource::new_blocking(version, |_| list_users());
    let workspaces = Resource::new_blocking(|| (), |_| list_workspaces());
    let export_href = export_href("/admin/users.csv");

    view! {
        <Title text="Users"/>
        <RequireAdmin>
            <div class="page-head">
                <h1>"Users"</h1>
                <a class="button" href=export_href download>"Export CSV"</a>
            </div>
            <form method="get" class="filters" role="search">
                <label>"Search" <input type="search" name="q" placeholder="email or name" value=q/></label>
                <label>"Role"
                    <select name="role">
                        {["", "admin", "client", "viewer"].map(|r| view! {
                            <option value=r selected=move || role() == r>{if r.is_empty() { "any" } else { r }}</option>
                        })}
                    </select>
                </label>
                <KeepSort/>
                <button type="submit" class="button">"Filter"</button>
            </form>
            <ActionResult value=disable.value() success="Saved."/>
            <ActionResult value=reset.value() success="Password reset; the user's sessions were ended."/>
            {move || send_link.value().get().map(|r| match r {
                Ok(m) => view! { <p class="alert alert-ok" role="status" data-testid="link-sent">{m}</p> }.into_any(),
                Err(e) => view! { <p class="alert alert-error" role="alert">{e.to_string()}</p> }.into_any(),
            })}
            <ActionResult value=grant.value() success="Access granted."/>
            <ActionResult value=revoke.value() success="Access revoked."/>
            <Suspense fallback=Loading>
                {move || Suspend::new(async move {
                    let (users, workspaces) = (users.await, workspaces.await.unwrap_or_default());
                    let me = CurrentUser::resource().await.ok().flatten().map(|m| m.user_id);
                    match users {
                        Err(e) => view! { <ErrorNotice error=e/> }.into_any(),
                        Ok(all) => {
                            let (q, role) = (q(), role());
                            let mut shown: Vec<UserRow> = all.into_iter().filter(|u| matches(u, &q, &role)).collect();
                            query.with(|m| sort_rows(&mut shown, SORTS, m.get_str("sort").unwrap_or(""), m.get_str("dir").unwrap_or("")));
                            if shown.is_empty() {
                                view! { <Empty title="No users match">"Change the filters, or create a user below."</Empty> }.into_any()
                            } else {
                                view! { <UserTable users=shown workspaces me disable reset send_link grant revoke/> }.into_any()
                            }
                        }
                    }
                })}
            </Suspense>
            <section class="card">
                <h2>"Create a user"</h2>
                <ActionForm action=create attr:class="form-grid" attr:data-testid="create-user">
                    <label>"Email" <input type="email" name="email" required/></label>
                    <label>"Name" <input type="text" name="display_name" required maxlength="120"/></label>
                    <label>"Role"
                        <select name="role">
                            <option value="client">"client"</option>
                            <option value="viewer">"viewer"</option>
                            <option value="admin">"admin"</option>
                        </select>
                    </label>
                    <label>"Initial password" <input type="password" name="password" minlength="10" autocomplete="new-password" placeholder="empty: email a set-password link"/></label>
                    <button type="submit" class="button primary" disabled=move || create.pending().get()>"Create user"</button>
                </ActionForm>
                <p class="muted small">"Leave the password empty to send them a single-use link (30 minutes) to set their own."</p>
                <ActionResult value=create.value() success="User created. Without a password given, a set-password link went out (by mail, or to the server log when SMTP is not configured)."/>
            </section>
        </RequireAdmin>
    }
}

#[component]
fn UserTable(
    users: Vec<UserRow>,
    workspaces: Vec<WorkspaceRow>,
    /// The signed-in admin: their own row offers no "Disable".
    me: Option<i64>,
    disable: ServerAction<SetUserDisabled>,
    reset: ServerAction<ResetUserPassword>,
    send_link: ServerAction<SendPasswordLink>,
    grant: ServerAction<GrantAccess>,
    revoke: ServerAction<RevokeAccess>,
) -> impl IntoView {
    view! {
        <div class="table-wrap">
        <table data-testid="users-table">
            <thead><tr>
                <th scope="col"><SortLink key="email" title="Email"/></th><th scope="col"><SortLink key="name" title="Name"/></th>
                <th scope="col"><SortLink key="role" title="Role"/></th><th scope="col"><SortLink key="status" title="Status"/></th>
                <th scope="col"><SortLink key="last_login" title="Last sign-in"/></th><th scope="col">"Workspaces"</th><th scope="col">"Actions"</th>
            </tr></thead>
            <tbody>
            {users.into_iter().map(|u| {
                let workspaces = workspaces.clone();
                let id = u.id;
                let is_admin = u.role == "admin";
                let grants = u.grants.clone();
                let link_label = format!("Send set-password link to {}", u.email);
                view! {
                    <tr>
                        <td>{u.email.clone()}</td>
                        <td>{u.display_name.clone()}</td>
                        <td><span class=format!("badge badge-{}", u.role)>{u.role.clone()}</span></td>
                        <td>{if u.disabled { view! { <span class="badge badge-danger">"disabled"</span> }.into_any() } else { view! { <span class="badge badge-ok">"active"</span> }.into_any() }}</td>
                        <td>{u.last_login_at.as_deref().map(short_time).unwrap_or_else(|| "never".into())}</td>
                        <td>
                            <ul class="chips">
                            {grants.into_iter().map(|g| view! {
                                <li class="chip">{format!("{} ({})", g.workspace_name, g.level)}
                                    <ActionForm action=revoke attr:class="inline">
                                        <input type="hidden" name="user_id" value=id.to_string()/>
                                        <input type="hidden" name="workspace_id" value=g.workspace_id.to_string()/>
                                        <button type="submit" class="chip-remove" aria-label=format!("Revoke access to {}", g.workspace_name.clone())>"×"</button>
                                    </ActionForm>
                                </li>
                            }).collect_view()}
                            </ul>
                            {(!is_admin).then(move || view! {
                                <ActionForm action=grant attr:class="inline grant-form">
                                    <input type="hidden" name="user_id" value=id.to_string()/>
                                    <select name="workspace_id" aria-label="Workspace">
                                        {workspaces.iter().map(|w| view! { <option value=w.id.to_string()>{w.name.clone()}</option> }).collect_view()}
                                    </select>
                                    <select name="level" aria-label="Access level">
                                        <option value="client">"client"</option>
                                        <option value="viewer">"viewer"</option>
                                    </select>
                                    <button type="submit" class="button small">"Grant"</button>
                                </ActionForm>
                            })}
                        </td>
                        <td class="actions">
                            {if u.disabled {
                                view! {
                                    <ActionForm action=disable attr:class="inline">
                                        <input type="hidden" name="user_id" value=id.to_string()/>
                                        <input type="hidden" name="disabled" value="false"/>
                                        <button type="submit" class="button small">"Enable"</button>
                                    </ActionForm>
                                }.into_any()
                            } else if me == Some(id) {
                                // The server refuses it too; here the button is simply not offered.
                                view! { <span class="muted small" data-testid="self-row">"You can't disable yourself"</span> }.into_any()
                            } else {
                                view! {
                                    <ConfirmButton label="Disable" message=disable_message(&u.email, is_admin)>
                                        <ActionForm action=disable attr:class="inline">
                                            <input type="hidden" name="user_id" value=id.to_string()/>
                                            <input type="hidden" name="disabled" value="true"/>
                                            <button type="submit" class="button small danger">{format!("Disable {}", u.email)}</button>
                                        </ActionForm>
                                    </ConfirmButton>
                                }.into_any()
                            }}
                            <details class="inline-details">
                                <summary class="button small">"Reset password"</summary>
                                <ActionForm action=reset attr:class="inline">
                                    <input type="hidden" name="user_id" value=id.to_string()/>
                                    <input type="password" name="new_password" minlength="10" required placeholder="new password" aria-label="New password" autocomplete="new-password"/>
                                    <button type="submit" class="button small">"Set"</button>
                                </ActionForm>
                            </details>
                            {(!u.disabled).then(move || view! {
                                <ActionForm action=send_link attr:class="inline">
                                    <input type="hidden" name="user_id" value=id.to_string()/>
                                    <button type="submit" class="button small" aria-label=link_label>"Send set-password link"</button>
                                </ActionForm>
                            })}
                        </td>
                    </tr>
                }
            }).collect_view()}
            </tbody>
        </table>
        </div>
    }
}
