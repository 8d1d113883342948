//! Admin home: agency totals and recent activity. (Alerts and KPIs arrive with the dashboards issue.)

use leptos::prelude::*;
use leptos_meta::Title;

use crate::{
    api::admin_overview,
    components::{
        guard::RequireAdmin,
        status::{ErrorNotice, Loading},
        format::{percent, thousands},
        ui::short_time,
    },
};

fn ratio(num: i64, den: i64) -> Option<f64> {
    (den != 0).then(|| num as f64 / den as f64)
}

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
                            <section class="alerts" aria-labelledby="alerts-title" data-testid="alerts">
                                <h2 id="alerts-title">"Needs attention"</h2>
                                {o.alerts.is_empty().then(|| view! { <p class="alert alert-ok" role="status">"All clear: no workspace behind, no critical sender, no ZIP conflict, no failed job."</p> })}
                                {(!o.alerts.behind.is_empty()).then(|| view! {
                                    <div class="alert alert-error" data-testid="alert-behind">
                                        <strong>{format!("{} workspace(s) behind target", thousands(o.alerts.behind.len() as i64))}</strong>
                                        <ul>{o.alerts.behind.iter().map(|(slug, name, mtd, target, projection)| view! {
                                            <li><a href=format!("/admin/kpi?workspace={slug}")>{name.clone()}</a>
                                                {format!(": {} of {} interested, projected {}", thousands(*mtd), thousands(*target), thousands(projection.round() as i64))}</li>
                                        }).collect_view()}</ul>
                                    </div>
                                })}
                                {(!o.alerts.critical_senders.is_empty()).then(|| view! {
                                    <div class="alert alert-error" data-testid="alert-senders">
                                        <strong>{format!("{} critical sender(s)", thousands(o.alerts.critical_senders.len() as i64))}</strong>
                                        " (bounce rate over 5 %, or disconnected; worst first)"
                                        <ul>{o.alerts.critical_senders.iter().take(8).map(|s| view! {
                                            <li>{format!("{} — {}: {}, bounce {}", s.email, s.workspace, s.status, percent(s.bounce_rate))}</li>
                                        }).collect_view()}
                                        {(o.alerts.critical_senders.len() > 8).then(|| view! {
                                            <li><a href="/admin/senders?band=critical" data-testid="more-senders">{format!("and {} more", thousands(o.alerts.critical_senders.len() as i64 - 8))}</a></li>
                                        })}</ul>
                                        {o.alerts.critical_senders.iter().any(|s| s.status == "disconnected").then(|| view! {
                                            <a href="/admin/senders?status=disconnected">"See the disconnected senders"</a>
                                        })}
                                    </div>
                                })}
                                {(!o.alerts.zip_conflicts.is_empty()).then(|| view! {
                                    <div class="alert alert-error" data-testid="alert-zips">
                                        <strong>{format!("{} ZIP conflict(s)", thousands(o.alerts.zip_conflicts.len() as i64))}</strong>
                                        <ul>{o.alerts.zip_conflicts.iter().map(|(zip, names)| view! {
                                            <li>{format!("{zip} is assigned to {}", names.join(" and "))}</li>
                                        }).collect_view()}</ul>
                                        <a href="/admin/zips?show=conflicts">"See them on the ZIP map"</a>
                                    </div>
                                })}
                                {(!o.alerts.disabled_endpoints.is_empty()).then(|| view! {
                                    <div class="alert alert-error" data-testid="alert-endpoints">
                                        <strong>{format!("{} webhook endpoint(s) disabled", thousands(o.alerts.disabled_endpoints.len() as i64))}</strong>
                                        " (they receive nothing until enabled again)"
                                        <ul>{o.alerts.disabled_endpoints.iter().map(|(place, page, host, reason)| view! {
                                            <li><a href=page.clone()>{format!("{place}: {host}")}</a>{format!(" — {reason}")}</li>
                                        }).collect_view()}</ul>
                                    </div>
                                })}
                                {(o.alerts.failed_slack_messages > 0).then(|| view! {
                                    <div class="alert alert-error" data-testid="alert-slack">
                                        <strong>{format!("{} Slack message(s) not delivered", thousands(o.alerts.failed_slack_messages))}</strong>
                                        " (Slack refused them, or kept failing) "
                                        <a href="/admin/clients#failed-slack">"See them and retry"</a>
                                    </div>
                                })}
                                {(!o.alerts.failed_jobs.is_empty()).then(|| view! {
                                    <div class="alert alert-error" data-testid="alert-jobs">
                                        <strong>"Failed jobs in the last 7 days"</strong>
                                        <ul>{o.alerts.failed_jobs.iter().map(|(kind, n)| view! { <li>{format!("{kind}: {}", thousands(*n))}</li> }).collect_view()}</ul>
                                    </div>
                                })}
                            </section>
                            <div class="stat-grid">
                                <a class="stat" href="/admin/kpi"><span class="stat-value">{thousands(o.interested_mtd)}</span>
                                    <span class="stat-label">"interested leads this month"</span>
                                    <span class="muted">{format!("of {} targeted ({})", thousands(o.target_total), percent(ratio(o.interested_mtd, o.target_total)))}</span></a>
                                <a class="stat" href="/admin/kpi"><span class="stat-value">{thousands(o.contacted_mtd)}</span>
                                    <span class="stat-label">"leads contacted this month"</span>
                                    <span class="muted">{format!("as of {}", o.today)}</span></a>
                                <a class="stat" href="/admin/clients"><span class="stat-value">{thousands(o.workspaces_active)}</span>
                                    <span class="stat-label">"active client workspaces"</span>
                                    <span class="muted">{thousands(o.workspaces_total)} " in total"</span></a>
                                <a class="stat" href="/admin/users"><span class="stat-value">{thousands(o.users_total)}</span>
                                    <span class="stat-label">"users"</span>
                                    <span class="muted">{thousands(o.users_disabled)} " disabled"</span></a>
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
