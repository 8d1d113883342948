//! Sending volume: emails sent per day against each workspace's daily send target, under-sending
//! days flagged, and sending capacity (Σ daily limits of connected senders) against the target.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use crate::{
    api::volume_dashboard,
    components::{
        chart::{EChart, EchartsScript, SeriesChart},
        format::{one_decimal, percent, thousands},
        guard::RequireAdmin,
        sort::{sort_rows, text, Compare, KeepSort, SortLink},
        status::{ErrorNotice, Loading},
        ui::{export_href, Empty, WorkspaceFilter},
    },
    models::{VolumeLine, VolumeReport},
};

/// The table's sortable columns (default: the server's order, by workspace name).
pub const SORTS: &[(&str, Compare<VolumeLine>)] = &[
    ("name", |a, b| text(&a.name, &b.name)),
    ("target", |a, b| a.daily_send_target.cmp(&b.daily_send_target)),
    ("sent", |a, b| a.total_sent.cmp(&b.total_sent)),
    ("under", |a, b| a.under_sending_days.len().cmp(&b.under_sending_days.len())),
    ("capacity", |a, b| a.capacity.cmp(&b.capacity)),
    ("senders", |a, b| a.connected_senders.cmp(&b.connected_senders)),
];

/// The chart for the lines shown: sent per day (bars) against the daily target (line).
pub fn volume_chart(r: &VolumeReport) -> SeriesChart {
    let days = r.days.len();
    let sent: Vec<f64> = (0..days).map(|i| r.lines.iter().map(|l| l.sent_per_day.get(i).copied().unwrap_or(0)).sum::<i64>() as f64).collect();
    let target = r.lines.iter().map(|l| l.daily_send_target).sum::<i64>() as f64;
    let who = if r.lines.len() == 1 { r.lines[0].name.clone() } else { "All active workspaces".into() };
    SeriesChart {
        title: format!("{who}: emails sent per day against the daily send target, {} to {}", r.from, r.to),
        categories: r.days.iter().map(|d| d[5..].to_owned()).collect(),
        series: vec![("Sent".into(), sent, true), ("Daily send target".into(), vec![target; days], false)],
        y_name: "emails".into(),
    }
}

#[component]
pub fn VolumePage() -> impl IntoView {
    let query = use_query_map();
    let param = move |k: &str| query.with(|q| q.get(k).unwrap_or_default());
    let data = Resource::new_blocking(
        move || (param("from"), param("to"), param("workspace")),
        |(from, to, ws)| volume_dashboard(Some(from), Some(to), Some(ws)),
    );
    let export_href = export_href("/admin/volume.csv");
    view! {
        <Title text="Sending volume"/>
        <EchartsScript/>
        <RequireAdmin>
            <div class="page-head">
                <h1>"Sending volume"</h1>
                <a class="button" href=export_href download>"Export CSV"</a>
            </div>
            <Suspense fallback=Loading>
                {move || Suspend::new(async move {
                    match data.await {
                        Err(e) => view! { <ErrorNotice error=e/> <p><a class="button" href="/admin/volume">"Reset the filters"</a></p> }.into_any(),
                        Ok(mut r) => {
                            sort_rows(&mut r.lines, SORTS, &param("sort"), &param("dir"));
                            let selected = param("workspace");
                            let chart = volume_chart(&r);
                            let days = r.days.len().max(1) as f64;
                            view! {
                                <form method="get" class="filters" role="search">
                                    <WorkspaceFilter workspaces=r.workspaces.clone() selected=selected.clone()/>
                                    <label>"From" <input type="date" name="from" value=r.from.clone()/></label>
                                    <label>"to" <input type="date" name="to" value=r.to.clone()/></label>
                                    <KeepSort/>
                                    <button type="submit" class="button">"Apply"</button>
                                </form>
                                {if r.lines.is_empty() {
                                    view! { <Empty title="No active workspaces">"Create a client workspace to see its sending here."</Empty> }.into_any()
                                } else {
                                    view! {
                                        <section class="card"><EChart id="volume-chart" chart/></section>
                                        <div class="table-wrap">
                                        <table data-testid="volume-table">
                                            <thead><tr>
                                                <th scope="col"><SortLink key="name" title="Workspace"/></th>
                                                <th scope="col" class="num"><SortLink key="target" title="Daily send target"/></th>
                                                <th scope="col" class="num"><SortLink key="sent" title="Sent per day (mean)"/></th>
                                                <th scope="col" class="num">"of target"</th>
                                                <th scope="col" class="num" title="days with fewer than 80 % of the daily send target sent"><SortLink key="under" title="Under-sending days"/></th>
                                                <th scope="col" class="num" title="Σ daily limits of connected senders"><SortLink key="capacity" title="Sending capacity"/></th>
                                                <th scope="col" class="num"><SortLink key="senders" title="Connected senders"/></th>
                                                <th scope="col">"Capacity vs target"</th>
                                            </tr></thead>
                                            <tbody>
                                            {r.lines.into_iter().map(|l| {
                                                let mean = l.total_sent as f64 / days;
                                                let short = l.capacity < l.daily_send_target;
                                                view! {
                                                    <tr data-under=l.under_sending_days.len().to_string()>
                                                        <td><a href=format!("?workspace={}", l.slug)>{l.name.clone()}</a></td>
                                                        <td class="num">{thousands(l.daily_send_target)}</td>
                                                        <td class="num">{one_decimal(mean)}</td>
                                                        <td class="num">{percent((l.daily_send_target > 0).then(|| mean / l.daily_send_target as f64))}</td>
                                                        <td class="num" title=l.under_sending_days.join(", ")>
                                                            {if l.under_sending_days.is_empty() { view! { <span>"0"</span> }.into_any() }
                                                             else { view! { <span class="badge status-behind">{thousands(l.under_sending_days.len() as i64)}</span> }.into_any() }}
                                                        </td>
                                                        <td class="num">{thousands(l.capacity)}</td>
                                                        <td class="num">{thousands(l.connected_senders)}</td>
                                                        <td>{if short { view! { <span class="badge status-behind">"short"</span> }.into_any() }
                                                             else { view! { <span class="badge status-on_track">"enough"</span> }.into_any() }}</td>
                                                    </tr>
                                                }
                                            }).collect_view()}
                                            </tbody>
                                        </table>
                                        </div>
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
