//! Admin home: agency totals and recent activity. (Alerts and KPIs arrive with the dashboards issue.)

use leptos::prelude::*;
use leptos_meta::Title;

use crate::{
    api::admin_overview,
    components::{
        guard::RequireAdmin,
        status::{ErrorNotice, Loading},
        ui::short_time,
    },
};

#[component]
pub fn AdminHome() -> impl IntoView {
    let overview = Resource::new_blocking(|| (), |_| admin_overview());
    view! {
        <Title text="Admin home"/>
        <RequireAdmin>
            <h1 data-testid="admin-home">"Agency overview"</h1>
            <Suspense fallback=Loading>
                {move || Suspend::new(async move {
                    match overview.await {
                        Err(e) => view! { <ErrorNotice error=e/> }.into_any(),
                        Ok(o) => view! {
                            <div class="stat-grid">
                                <a class="stat" href="/admin/clients"><span class="stat-value">{o.workspaces_active}</span>
                                    <span class="stat-label">"active client workspaces"</span>
                                    <span class="muted">{o.workspaces_total} " in total"</span></a>
                                <a class="stat" href="/admin/users"><span class="stat-value">{o.users_total}</span>
                                    <span class="stat-label">"users"</span>
                                    <span class="muted">{o.users_disabled} " disabled"</span></a>
                            </div>
                            <h2>"Recent activity"</h2>
                            <div class="table-wrap">
                            <table>
                                <thead><tr><th scope="col">"When"</th><th scope="col">"Who"</th><th scope="col">"What"</th><th scope="col">"Target"</th><th scope="col">"IP"</th></tr></thead>
                                <tbody>
                                    {o.recent_activity.into_iter().map(|a| view! {
                                        <tr><td>{short_time(&a.at)}</td><td>{a.actor.unwrap_or_else(|| "system".into())}</td>
                                            <td><code>{a.action}</code></td><td>{a.target.unwrap_or_default()}</td><td>{a.ip.unwrap_or_default()}</td></tr>
                                    }).collect_view()}
                                </tbody>
                            </table>
                            </div>
                        }.into_any(),
                    }
                })}
            </Suspense>
        </RequireAdmin>
    }
}
