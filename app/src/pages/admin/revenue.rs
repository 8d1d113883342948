//! Revenue: per workspace and agency-wide, by pricing model — revenue, costs, profit, margin,
//! agency ROI (profit / costs) and client ROI (won deal value / fees) for a month; the agency's
//! last six months (closed months from frozen snapshots) and its daily billable revenue.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use crate::{
    api::revenue_dashboard,
    components::{
        chart::{EChart, EchartsScript, SeriesChart},
        format::{percent, thousands},
        guard::RequireAdmin,
        sort::{ratio, sort_rows, text, Compare, KeepSort, SortLink},
        status::{ErrorNotice, Loading},
        ui::{export_href, Empty, WorkspaceFilter},
    },
    models::{RevenueLine, RevenueReport},
    money::format_cents,
};

/// The table's sortable columns (default: by workspace name); the agency total stays last.
pub const SORTS: &[(&str, Compare<RevenueLine>)] = &[
    ("name", |a, b| text(&a.name, &b.name)),
    ("pricing", |a, b| a.pricing_model.cmp(&b.pricing_model)),
    ("billable", |a, b| a.billable_leads.cmp(&b.billable_leads)),
    ("revenue", |a, b| a.revenue_cents.cmp(&b.revenue_cents)),
    ("costs", |a, b| a.costs_cents.cmp(&b.costs_cents)),
    ("profit", |a, b| a.profit_cents.cmp(&b.profit_cents)),
    ("margin", |a, b| ratio(a.margin, b.margin)),
    ("roi", |a, b| ratio(a.roi, b.roi)),
    ("client_roi", |a, b| ratio(a.client_roi, b.client_roi)),
];

/// Why a line's billable leads are fewer than its interested leads, in words (`None` when equal):
/// by default invalid leads are not billed.
pub fn billable_note(l: &RevenueLine) -> Option<String> {
    let (all, invalid) = (thousands(l.interested_leads), thousands(l.invalid_leads));
    if l.interested_leads == l.billable_leads {
        None
    } else if l.interested_leads - l.invalid_leads == l.billable_leads {
        Some(format!("{all} interested − {invalid} invalid"))
    } else if !l.billable_stage.is_empty() && l.billable_stage != "interested" {
        Some(format!("{all} interested; billed on reaching {}", l.billable_stage.replace('_', " ")))
    } else if l.frozen {
        Some(format!("counted when the month closed; now {all} interested − {invalid} invalid"))
    } else {
        Some(format!("{all} interested, {invalid} invalid"))
    }
}

fn dollars(cents: i64) -> f64 {
    cents as f64 / 100.0
}

pub fn history_chart(r: &RevenueReport) -> SeriesChart {
    SeriesChart {
        title: format!("Agency revenue, costs and profit by month, {} to {}", r.history.first().map(|h| h.0.as_str()).unwrap_or(""), r.month),
        categories: r.history.iter().map(|h| h.0.clone()).collect(),
        series: vec![
            ("Revenue".into(), r.history.iter().map(|h| dollars(h.1)).collect(), true),
            ("Costs".into(), r.history.iter().map(|h| dollars(h.2)).collect(), true),
            ("Profit".into(), r.history.iter().map(|h| dollars(h.1 - h.2)).collect(), false),
        ],
        y_name: "USD".into(),
    }
}

pub fn daily_chart(r: &RevenueReport) -> SeriesChart {
    SeriesChart {
        title: format!("Billable revenue per day in {}", r.month),
        categories: r.daily.iter().map(|d| d.0[8..].to_owned()).collect(),
        series: vec![("Billable revenue".into(), r.daily.iter().map(|d| dollars(d.1)).collect(), true)],
        y_name: "USD".into(),
    }
}

#[component]
fn Row(line: RevenueLine, #[prop(optional)] total: bool) -> impl IntoView {
    let model = match line.pricing_model.as_str() {
        "per_lead" => "per lead",
        "retainer" => "retainer",
        _ => "",
    };
    view! {
        <tr class:total-row=total>
            <td>{if total { view! { <strong>{line.name.clone()}</strong> }.into_any() } else { view! { <a href=format!("?workspace={}", line.slug)>{line.name.clone()}</a> }.into_any() }}
                {line.frozen.then(|| view! { " " <span class="badge" title="closed month: frozen at the prices of the time">"frozen"</span> })}</td>
            <td>{model}</td>
            <td class="num">{thousands(line.billable_leads)}
                {billable_note(&line).map(|n| view! { <br/><span class="muted" data-testid="billable-note">{n}</span> })}</td>
            <td class="num">{format_cents(line.revenue_cents)}</td>
            <td class="num">{format_cents(line.costs_cents)}</td>
            <td class="num">{format_cents(line.profit_cents)}</td>
            <td class="num">{percent(line.margin)}</td>
            <td class="num">{percent(line.roi)}</td>
            <td class="num" title=format!("won deals {} / fees {}", format_cents(line.won_value_cents), format_cents(line.revenue_cents))>
                {percent(line.client_roi)}</td>
        </tr>
    }
}

#[component]
pub fn RevenuePage() -> impl IntoView {
    let query = use_query_map();
    let param = move |k: &str| query.with(|q| q.get(k).unwrap_or_default());
    let data = Resource::new_blocking(move || (param("month"), param("workspace")), |(m, w)| revenue_dashboard(Some(m), Some(w)));
    let export_href = export_href("/admin/revenue.csv");
    view! {
        <Title text="Revenue"/>
        <EchartsScript/>
        <RequireAdmin>
            <div class="page-head">
                <h1>"Revenue and profit"</h1>
                <a class="button" href=export_href download>"Export CSV"</a>
            </div>
            <Suspense fallback=Loading>
                {move || Suspend::new(async move {
                    match data.await {
                        Err(e) => view! { <ErrorNotice error=e/> <p><a class="button" href="/admin/revenue">"Reset the filters"</a></p> }.into_any(),
                        Ok(mut r) => {
                            sort_rows(&mut r.lines, SORTS, &param("sort"), &param("dir"));
                            let selected = param("workspace");
                            let (history, daily) = (history_chart(&r), daily_chart(&r));
                            let mtd = r.month == r.current_month;
                            view! {
                                <form method="get" class="filters" role="search">
                                    <label>"Month" <input type="month" name="month" value=r.month.clone() max=r.current_month.clone()/></label>
                                    <WorkspaceFilter workspaces=r.workspaces.clone() selected=selected.clone()/>
                                    <KeepSort/>
                                    <button type="submit" class="button">"Apply"</button>
                                </form>
                                <p class="muted">{if mtd { "Month to date: retainers and recurring costs are prorated by the days elapsed." } else { "A closed month, frozen at the prices of the time." }}</p>
                                {if r.lines.is_empty() {
                                    view! { <Empty title="No active workspaces">"Create a client workspace with a price to see revenue here."</Empty> }.into_any()
                                } else {
                                    view! {
                                        <div class="chart-grid">
                                            <section class="card"><h2>"Last six months"</h2><EChart id="revenue-history-chart" chart=history height=280/></section>
                                            <section class="card"><h2>"Daily billable revenue"</h2><EChart id="revenue-daily-chart" chart=daily height=280/></section>
                                        </div>
                                        <div class="table-wrap">
                                        <table data-testid="revenue-table">
                                            <thead><tr>
                                                <th scope="col"><SortLink key="name" title="Workspace"/></th><th scope="col"><SortLink key="pricing" title="Pricing"/></th>
                                                <th scope="col" class="num" title="leads that reached the billable stage (default: interested), not marked invalid"><SortLink key="billable" title="Billable leads"/></th><th scope="col" class="num"><SortLink key="revenue" title="Revenue"/></th>
                                                <th scope="col" class="num"><SortLink key="costs" title="Costs"/></th><th scope="col" class="num"><SortLink key="profit" title="Profit"/></th>
                                                <th scope="col" class="num" title="profit / revenue"><SortLink key="margin" title="Margin"/></th>
                                                <th scope="col" class="num" title="profit / costs"><SortLink key="roi" title="Agency ROI"/></th>
                                                <th scope="col" class="num" title="won deal value / fees billed"><SortLink key="client_roi" title="Client ROI"/></th>
                                            </tr></thead>
                                            <tbody>
                                                {r.lines.into_iter().map(|line| view! { <Row line/> }).collect_view()}
                                            </tbody>
                                            <tfoot><Row line=r.total.clone() total=true/></tfoot>
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

#[cfg(test)]
mod tests {
    use super::*;

    fn line(billable: i64, interested: i64, invalid: i64, stage: &str, frozen: bool) -> RevenueLine {
        RevenueLine {
            slug: "a".into(),
            name: "A".into(),
            pricing_model: "per_lead".into(),
            billable_leads: billable,
            interested_leads: interested,
            invalid_leads: invalid,
            billable_stage: stage.into(),
            revenue_cents: 0,
            costs_cents: 0,
            profit_cents: 0,
            margin: None,
            roi: None,
            won_value_cents: 0,
            client_roi: None,
            frozen,
        }
    }

    #[test]
    fn billable_leads_say_why_they_are_fewer() {
        assert_eq!(billable_note(&line(39, 42, 3, "interested", false)).as_deref(), Some("42 interested − 3 invalid"));
        assert_eq!(billable_note(&line(1200, 1200, 0, "interested", false)), None);
        assert_eq!(billable_note(&line(5, 1234, 4, "meeting_booked", false)).as_deref(), Some("1,234 interested; billed on reaching meeting booked"));
        assert_eq!(billable_note(&line(40, 42, 3, "interested", true)).as_deref(), Some("counted when the month closed; now 42 interested − 3 invalid"));
    }
}
