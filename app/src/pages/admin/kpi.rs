//! KPI dashboard: per workspace, interested leads month to date against the monthly target,
//! expected by today, pacing, month-end projection and status; reply rates with their
//! denominators; a 30-day trend. Filters and sort order live in the URL.

use std::cmp::Ordering;

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use crate::{
    api::kpi_dashboard,
    components::{
        chart::Sparkline,
        format::{one_decimal, percent, thousands},
        guard::{encode_component, RequireAdmin},
        status::{ErrorNotice, Loading},
        ui::{Empty, WorkspaceFilter},
    },
    models::KpiLine,
};

/// Sort keys the table offers, with their column titles.
pub const SORTS: &[(&str, &str)] = &[
    ("name", "Workspace"),
    ("mtd", "Interested MTD"),
    ("percent", "% of target"),
    ("pacing", "Pacing"),
    ("projection", "Projection"),
    ("reply_rate", "Reply rate"),
];

fn status_rank(s: &str) -> u8 {
    match s {
        "behind" => 0,
        "at_risk" => 1,
        "on_track" => 2,
        _ => 3,
    }
}

/// Orders lines by `key` (`asc`/`desc`); the default puts the workspaces that need attention first.
pub fn sort_lines(lines: &mut [KpiLine], key: &str, dir: &str) {
    let opt = |v: Option<f64>| v.unwrap_or(f64::NEG_INFINITY);
    let cmp = |a: &KpiLine, b: &KpiLine| -> Ordering {
        match key {
            "name" => a.name.to_lowercase().cmp(&b.name.to_lowercase()),
            "mtd" => a.mtd.cmp(&b.mtd),
            "percent" => opt(a.percent_of_target).total_cmp(&opt(b.percent_of_target)),
            "pacing" => opt(a.pacing).total_cmp(&opt(b.pacing)),
            "projection" => a.projection.total_cmp(&b.projection),
            "reply_rate" => opt(a.reply_rate).total_cmp(&opt(b.reply_rate)),
            _ => status_rank(&a.status).cmp(&status_rank(&b.status)).then(opt(a.pacing).total_cmp(&opt(b.pacing))),
        }
    };
    lines.sort_by(|a, b| if dir == "desc" { cmp(b, a) } else { cmp(a, b) });
}

fn status_label(s: &str) -> &'static str {
    match s {
        "on_track" => "on track",
        "at_risk" => "at risk",
        "behind" => "behind",
        _ => "no target",
    }
}

#[component]
pub fn KpiPage() -> impl IntoView {
    let query = use_query_map();
    let param = move |k: &str| query.with(|q| q.get(k).unwrap_or_default());
    let data = Resource::new_blocking(
        move || (param("from"), param("to"), param("workspace")),
        |(from, to, ws)| kpi_dashboard(Some(from), Some(to), Some(ws)),
    );
    // A link that keeps every filter and changes the sort.
    let sort_href = move |key: &str| {
        let (cur, dir) = (param("sort"), param("dir"));
        let next_dir = if cur == key && dir != "desc" { "desc" } else { "asc" };
        format!(
            "?from={}&to={}&workspace={}&sort={key}&dir={next_dir}",
            encode_component(&param("from")),
            encode_component(&param("to")),
            encode_component(&param("workspace"))
        )
    };
    let export_href = move || {
        format!(
            "/admin/kpi.csv?from={}&to={}&workspace={}&sort={}&dir={}",
            encode_component(&param("from")),
            encode_component(&param("to")),
            encode_component(&param("workspace")),
            encode_component(&param("sort")),
            encode_component(&param("dir"))
        )
    };

    view! {
        <Title text="KPI"/>
        <RequireAdmin>
            <div class="page-head">
                <h1>"KPI vs target"</h1>
                <a class="button" href=export_href download>"Export CSV"</a>
            </div>
            <Suspense fallback=Loading>
                {move || Suspend::new(async move {
                    match data.await {
                        Err(e) => view! {
                            <ErrorNotice error=e/>
                            <p><a class="button" href="/admin/kpi">"Reset the filters"</a></p>
                        }.into_any(),
                        Ok(d) => {
                            let mut lines = d.lines.clone();
                            sort_lines(&mut lines, &param("sort"), &param("dir"));
                            let selected = param("workspace");
                            view! {
                                <form method="get" class="filters" role="search">
                                    <WorkspaceFilter workspaces=d.workspaces.clone() selected=selected.clone()/>
                                    <label>"Activity from" <input type="date" name="from" value=d.from.clone()/></label>
                                    <label>"to" <input type="date" name="to" value=d.to.clone()/></label>
                                    <input type="hidden" name="sort" value=param("sort")/>
                                    <input type="hidden" name="dir" value=param("dir")/>
                                    <button type="submit" class="button">"Apply"</button>
                                </form>
                                <p class="muted" data-testid="kpi-clock">
                                    {format!("Today is {} (agency time): day {} of {}. Targets, pacing and projection are month to date; contacted, replies and rates cover {} to {}.",
                                        d.today, d.elapsed_days, d.days_in_month, d.from, d.to)}
                                </p>
                                {if lines.is_empty() && !selected.is_empty() && !d.workspaces.iter().any(|(s, _)| *s == selected) {
                                    // A workspace in the URL that isn't there (mistyped, archived): say so, not "none exist".
                                    let clear = format!("?from={}&to={}", encode_component(&param("from")), encode_component(&param("to")));
                                    view! {
                                        <Empty title="Workspace not found">
                                            {format!("No active workspace has the URL name \"{selected}\". ")}
                                            <a href=clear data-testid="clear-workspace">"Show all workspaces"</a>
                                        </Empty>
                                    }.into_any()
                                } else if lines.is_empty() {
                                    view! { <Empty title="No active workspaces">"Create a client workspace to see its KPIs here."</Empty> }.into_any()
                                } else {
                                    view! {
                                        <div class="table-wrap">
                                        <table data-testid="kpi-table">
                                            <thead><tr>
                                                {SORTS.iter().take(2).map(|(k, t)| view! { <th scope="col"><a href=sort_href(k)>{*t}</a></th> }).collect_view()}
                                                <th scope="col" class="num">"Target"</th>
                                                <th scope="col" class="num"><a href=sort_href("percent")>"% of target"</a></th>
                                                <th scope="col" class="num" title="target × days elapsed / days in month">"Expected by today"</th>
                                                <th scope="col" class="num"><a href=sort_href("pacing")>"Pacing"</a></th>
                                                <th scope="col" class="num" title="MTD + mean daily interested of the last 7 complete days × days left">
                                                    <a href=sort_href("projection")>"Projection"</a></th>
                                                <th scope="col"><a href=sort_href("status")>"Status"</a></th>
                                                <th scope="col" class="num"><a href=sort_href("reply_rate")>"Reply rate"</a><br/><span class="muted">"replies / contacted"</span></th>
                                                <th scope="col" class="num">"Positive"<br/><span class="muted">"interested / replies"</span></th>
                                                <th scope="col" class="num">"Positive"<br/><span class="muted">"interested / contacted"</span></th>
                                                <th scope="col">"30-day trend"</th>
                                            </tr></thead>
                                            <tbody>
                                            {lines.into_iter().map(|l| view! {
                                                <tr data-status=l.status.clone()>
                                                    <td><a href=format!("/admin/clients/{}", l.slug)>{l.name.clone()}</a></td>
                                                    <td class="num">{thousands(l.mtd)}</td>
                                                    <td class="num">{thousands(l.target)}</td>
                                                    <td class="num">{percent(l.percent_of_target)}</td>
                                                    <td class="num">{one_decimal(l.expected_by_today)}</td>
                                                    <td class="num">{percent(l.pacing)}</td>
                                                    <td class="num">{one_decimal(l.projection)}</td>
                                                    <td><span class=format!("badge status-{}", l.status)>{status_label(&l.status)}</span></td>
                                                    <td class="num" title=format!("{} / {}", thousands(l.replies), thousands(l.contacted))>{percent(l.reply_rate)}
                                                        <br/><span class="muted">{format!("{} / {}", thousands(l.replies), thousands(l.contacted))}</span></td>
                                                    <td class="num">{percent(l.positive_of_replies)}<br/><span class="muted">{format!("{} / {}", thousands(l.interested), thousands(l.replies))}</span></td>
                                                    <td class="num">{percent(l.positive_of_contacted)}<br/><span class="muted">{format!("{} / {}", thousands(l.interested), thousands(l.contacted))}</span></td>
                                                    <td><Sparkline values=l.trend_30_days.clone() label=format!("Interested per day, last 30 days, {}", l.name)/></td>
                                                </tr>
                                            }).collect_view()}
                                            </tbody>
                                        </table>
                                        </div>
                                        <StatusLegend/>
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

/// What each status means, with the badges the table uses, so "at risk" is never a guess.
#[component]
fn StatusLegend() -> impl IntoView {
    view! {
        <p class="muted legend" data-testid="kpi-status-legend">
            "Status: "
            <span class="badge status-on_track">"on track"</span>" projection reaches the target · "
            <span class="badge status-at_risk">"at risk"</span>" projection reaches 80 % of it · "
            <span class="badge status-behind">"behind"</span>" projection falls short of 80 %."
        </p>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(name: &str, status: &str, pacing: Option<f64>, mtd: i64) -> KpiLine {
        KpiLine {
            slug: name.to_lowercase(),
            name: name.into(),
            target: 10,
            mtd,
            expected_by_today: 5.0,
            pacing,
            projection: mtd as f64,
            percent_of_target: None,
            status: status.into(),
            contacted: 0,
            replies: 0,
            interested: 0,
            reply_rate: None,
            positive_of_replies: None,
            positive_of_contacted: None,
            trend_30_days: vec![],
        }
    }

    #[test]
    fn default_order_puts_trouble_first_and_sorts_are_reversible() {
        let mut v = vec![line("A", "on_track", Some(1.2), 9), line("B", "behind", Some(0.4), 2), line("C", "at_risk", Some(0.8), 5), line("D", "behind", Some(0.2), 1)];
        sort_lines(&mut v, "", "");
        assert_eq!(v.iter().map(|l| l.name.as_str()).collect::<String>(), "DBCA");
        sort_lines(&mut v, "mtd", "desc");
        assert_eq!(v.iter().map(|l| l.name.as_str()).collect::<String>(), "ACBD");
        sort_lines(&mut v, "name", "asc");
        assert_eq!(v.iter().map(|l| l.name.as_str()).collect::<String>(), "ABCD");
    }
}
