//! The client portal: the hub of the caller's workspaces, and one workspace's page.
//! (The pipeline board arrives with the client-portal issue.)

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;

use crate::{
    api::{my_workspaces, portal_workspace},
    components::{
        guard::RequireUser,
        status::{ErrorNotice, Loading},
        ui::Empty,
    },
};

#[component]
pub fn PortalHub() -> impl IntoView {
    let workspaces = Resource::new_blocking(|| (), |_| my_workspaces());
    view! {
        <Title text="My workspaces"/>
        <RequireUser>
            <h1>"My workspaces"</h1>
            <Suspense fallback=Loading>
                {move || Suspend::new(async move {
                    match workspaces.await {
                        Err(e) => view! { <ErrorNotice error=e/> }.into_any(),
                        Ok(list) if list.is_empty() => view! {
                            <Empty title="No workspaces yet">
                                "You don't have access to any workspace yet. Ask your agency admin to grant you one."
                            </Empty>
                        }.into_any(),
                        Ok(list) => view! {
                            <ul class="card-grid" data-testid="workspace-list">
                                {list.into_iter().map(|w| view! {
                                    <li class="card">
                                        <h2><a href=format!("/client-portal/{}", w.slug)>{w.name.clone()}</a></h2>
                                        <p class="muted">"Monthly target: " {w.monthly_lead_target} " interested leads"</p>
                                        <p><span class=format!("badge badge-{}", w.access)>{w.access.clone()}</span>
                                           {(!w.active).then(|| view! { " " <span class="badge">"archived"</span> })}</p>
                                    </li>
                                }).collect_view()}
                            </ul>
                        }.into_any(),
                    }
                })}
            </Suspense>
        </RequireUser>
    }
}

#[component]
pub fn WorkspacePortal() -> impl IntoView {
    let params = use_params_map();
    let slug = move || params.with(|p| p.get("workspace").unwrap_or_default());
    let workspace = Resource::new_blocking(slug, portal_workspace);
    view! {
        <RequireUser>
            <Suspense fallback=Loading>
                {move || Suspend::new(async move {
                    match workspace.await {
                        Err(e) => view! { <ErrorNotice error=e/> }.into_any(),
                        Ok(w) => view! {
                            <Title text=w.name.clone()/>
                            <p class="breadcrumb"><a href="/client-portal">"My workspaces"</a> " / "</p>
                            <h1 data-testid="workspace-name">{w.name.clone()}</h1>
                            <p><span class=format!("badge badge-{}", w.access)>{w.access.clone()}</span></p>
                            <Empty title="Your pipeline will appear here">
                                "Interested leads arrive on this page as soon as your campaigns produce them."
                            </Empty>
                        }.into_any(),
                    }
                })}
            </Suspense>
        </RequireUser>
    }
}
