//! Email accounts: every sender across workspaces with its bounce-rate band (< 2 % healthy,
//! 2–5 % warning, > 5 % critical), warm-up and last sync; each workspace's sending capacity
//! against its daily target and how many days of leads it has left. Filters and sort in the URL.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use crate::{
    api::sender_health,
    components::{
        format::{one_decimal, percent, thousands},
        guard::RequireAdmin,
        sort::{ratio, text, Compare, KeepSort, Pager, SortLink},
        status::{ErrorNotice, Loading},
        ui::{export_href, short_time, Empty, WorkspaceFilter},
    },
    models::SenderLine,
};

fn band_rank(b: &str) -> u8 {
    match b {
        "critical" => 0,
        "warning" => 1,
        "healthy" => 2,
        _ => 3,
    }
}

/// The senders table's columns; the default order puts critical senders first.
pub const SORTS: &[(&str, Compare<SenderLine>)] = &[
    ("workspace", |a, b| text(&a.workspace_name, &b.workspace_name)),
    ("email", |a, b| a.email.cmp(&b.email)),
    ("status", |a, b| a.status.cmp(&b.status)),
    ("limit", |a, b| a.daily_limit.cmp(&b.daily_limit)),
    ("sent", |a, b| a.sent.cmp(&b.sent)),
    ("bounce", |a, b| ratio(a.bounce_rate, b.bounce_rate)),
    ("band", |a, b| band_rank(&a.band).cmp(&band_rank(&b.band))),
    ("synced", |a, b| a.last_synced_at.cmp(&b.last_synced_at)),
];

/// Default order: critical first, then by bounce rate, highest first.
pub fn default_order(lines: &mut [SenderLine]) {
    lines.sort_by(|a, b| band_rank(&a.band).cmp(&band_rank(&b.band)).then(ratio(b.bounce_rate, a.bounce_rate)));
}

fn band_label(b: &str) -> &'static str {
    match b {
        "healthy" => "healthy",
        "warning" => "warning",
        "critical" => "critical",
        _ => "no data",
    }
}

fn band_class(b: &str) -> &'static str {
    match b {
        "healthy" => "badge status-on_track",
        "warning" => "badge status-at_risk",
        "critical" => "badge status-behind",
        _ => "badge",
    }
}

#[component]
pub fn SendersPage() -> impl IntoView {
    let query = use_query_map();
    let param = move |k: &str| query.with(|q| q.get(k).unwrap_or_default());
    let data = Resource::new_blocking(
        move || (param("workspace"), param("band"), param("status"), param("q"), param("sort"), param("dir"), param("page"), param("size")),
        |(w, b, s, q, sort, dir, page, size)| sender_health(Some(w), Some(b), Some(s), Some(q), Some(sort), Some(dir), page.parse().ok(), size.parse().ok()),
    );
    let export = export_href("/admin/senders.csv");
    view! {
        <Title text="Email accounts"/>
        <RequireAdmin>
            <div class="page-head">
                <h1>"Email accounts"</h1>
                <a class="button" href=export download>"Export CSV"</a>
            </div>
            <Suspense fallback=Loading>
                {move || Suspend::new(async move {
                    match data.await {
                        Err(e) => view! { <ErrorNotice error=e/> }.into_any(),
                        Ok(r) => {
                            // Sorted and paged by the server (`sender_health`).
                            let (healthy, warning, critical, none) = r.bands;
                            let workspaces: Vec<(String, String)> = r.workspaces.iter().map(|w| (w.slug.clone(), w.name.clone())).collect();
                            view! {
                                <p class="muted" data-testid="band-counts">{format!("{} healthy · {} warning · {} critical · {} with nothing sent yet (bounce rate: < 2 % healthy, 2–5 % warning, > 5 % critical)", thousands(healthy as i64), thousands(warning as i64), thousands(critical as i64), thousands(none as i64))}</p>
                                <form method="get" class="filters" role="search">
                                    <label>"Search" <input type="search" name="q" value=param("q") placeholder="sender email"/></label>
                                    <WorkspaceFilter workspaces=workspaces selected=param("workspace")/>
                                    <label>"Health"
                                        <select name="band">
                                            {[("", "all"), ("critical", "critical"), ("warning", "warning"), ("healthy", "healthy"), ("no_data", "no data")].map(|(v, l)| {
                                                let is = param("band") == v;
                                                view! { <option value=v selected=is>{l}</option> }
                                            })}
                                        </select>
                                    </label>
                                    <label>"Status"
                                        <select name="status">
                                            {[("", "all"), ("connected", "connected"), ("disconnected", "disconnected"), ("paused", "paused")].map(|(v, l)| {
                                                let is = param("status") == v;
                                                view! { <option value=v selected=is>{l}</option> }
                                            })}
                                        </select>
                                    </label>
                                    <KeepSort/>
                                    <button type="submit" class="button">"Apply"</button>
                                </form>
                                <section class="card">
                                    <h2>"Capacity and runway"</h2>
                                    <div class="table-wrap">
                                    <table data-testid="capacity-table">
                                        <thead><tr><th scope="col">"Workspace"</th><th scope="col" class="num">"Daily send target"</th>
                                            <th scope="col" class="num" title="Σ daily limits of connected senders">"Capacity"</th><th scope="col" class="num">"Connected senders"</th>
                                            <th scope="col" class="num" title="leads not yet contacted in active campaigns">"Leads left"</th>
                                            <th scope="col" class="num" title="leads left ÷ daily send target">"Runway (days)"</th></tr></thead>
                                        <tbody>
                                        {r.workspaces.iter().map(|w| {
                                            let short = w.capacity < w.daily_send_target;
                                            let low = w.runway_days.is_some_and(|d| d < 7.0);
                                            view! {
                                                <tr>
                                                    <td><a href=format!("/admin/clients/{}", w.slug)>{w.name.clone()}</a></td>
                                                    <td class="num">{thousands(w.daily_send_target)}</td>
                                                    <td class="num">{thousands(w.capacity)}{short.then(|| view! { " " <span class="badge status-behind">"short"</span> })}</td>
                                                    <td class="num">{thousands(w.connected_senders)}</td>
                                                    <td class="num">{thousands(w.uncontacted_leads)}</td>
                                                    <td class="num">{w.runway_days.map(one_decimal).unwrap_or_else(|| "—".into())}
                                                        {low.then(|| view! { " " <span class="badge status-at_risk">"low"</span> })}</td>
                                                </tr>
                                            }
                                        }).collect_view()}
                                        </tbody>
                                    </table>
                                    </div>
                                </section>
                                {if r.senders.is_empty() {
                                    view! { <Empty title="No sender matches">"Change the filters, or sync a workspace with Email Bison to bring its senders in."</Empty> }.into_any()
                                } else {
                                    view! {
                                        <div class="table-wrap">
                                        <table data-testid="senders-table">
                                            <thead><tr>
                                                <th scope="col"><SortLink key="workspace" title="Workspace"/></th>
                                                <th scope="col"><SortLink key="email" title="Sender"/></th>
                                                <th scope="col"><SortLink key="status" title="Status"/></th>
                                                <th scope="col" class="num"><SortLink key="limit" title="Daily limit"/></th>
                                                <th scope="col" class="num"><SortLink key="sent" title="Sent"/></th>
                                                <th scope="col" class="num"><SortLink key="bounce" title="Bounce rate"/><br/><span class="muted">"bounced / sent"</span></th>
                                                <th scope="col"><SortLink key="band" title="Health"/></th>
                                                <th scope="col">"Warm-up"</th>
                                                <th scope="col"><SortLink key="synced" title="Last synced"/></th>
                                            </tr></thead>
                                            <tbody>
                                            {r.senders.into_iter().map(|s| view! {
                                                <tr data-band=s.band.clone()>
                                                    <td>{s.workspace_name.clone()}</td>
                                                    <td>{s.email.clone()}</td>
                                                    <td>{s.status.clone()}</td>
                                                    <td class="num">{thousands(s.daily_limit)}</td>
                                                    <td class="num">{thousands(s.sent)}</td>
                                                    <td class="num">{percent(s.bounce_rate)}<br/><span class="muted">{format!("{} / {}", thousands(s.bounced), thousands(s.sent))}</span></td>
                                                    <td><span class=band_class(&s.band)>{band_label(&s.band)}</span></td>
                                                    <td>{if s.warmup_enabled { "on" } else { "off" }}</td>
                                                    <td>{s.last_synced_at.as_deref().map(short_time).unwrap_or_else(|| "never".into())}</td>
                                                </tr>
                                            }).collect_view()}
                                            </tbody>
                                        </table>
                                        </div>
                                        <Pager total=r.total page=r.page size=r.size/>
                                    }.into_any()
                                }}
                            }.into_any()
                        }
                    }
                })}
            </Suspense>
        </RequireAdmin>
    }
}
