//! ROI: per client, the agency's ROI (profit / costs) and the client's ROI (won deal value /
//! fees billed), this month and over the last six months, with their trends.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use crate::{
    api::roi_dashboard,
    components::{
        chart::{EChart, EchartsScript, SeriesChart},
        format::percent,
        guard::RequireAdmin,
        sort::{self, sort_rows, text, Compare, KeepSort, SortLink},
        status::{ErrorNotice, Loading},
        ui::{export_href, Empty, WorkspaceFilter},
    },
    models::{RoiLine, RoiReport},
    money::format_cents,
};

fn this_month(l: &RoiLine) -> (Option<f64>, Option<f64>) {
    rois(&l.months[l.months.len().saturating_sub(1)..])
}

/// The table's sortable columns (default: by workspace name).
pub const SORTS: &[(&str, Compare<RoiLine>)] = &[
    ("name", |a, b| text(&a.name, &b.name)),
    ("agency_now", |a, b| sort::ratio(this_month(a).0, this_month(b).0)),
    ("agency_6m", |a, b| sort::ratio(rois(&a.months).0, rois(&b.months).0)),
    ("client_now", |a, b| sort::ratio(this_month(a).1, this_month(b).1)),
    ("client_6m", |a, b| sort::ratio(rois(&a.months).1, rois(&b.months).1)),
];

fn ratio(num: i64, den: i64) -> Option<f64> {
    (den != 0).then(|| num as f64 / den as f64)
}

/// (agency ROI, client ROI) over the given months: Σ profit / Σ costs, Σ won / Σ fees.
pub fn rois(months: &[(String, i64, i64, i64)]) -> (Option<f64>, Option<f64>) {
    let (rev, cost, won) = months.iter().fold((0, 0, 0), |a, m| (a.0 + m.1, a.1 + m.2, a.2 + m.3));
    (ratio(rev - cost, cost), ratio(won, rev))
}

pub fn roi_chart(r: &RoiReport) -> SeriesChart {
    let per_month = |f: &dyn Fn(&[(String, i64, i64, i64)]) -> Option<f64>| -> Vec<f64> {
        (0..r.months.len())
            .map(|i| {
                let slice: Vec<_> = r.lines.iter().filter_map(|l| l.months.get(i).cloned()).collect();
                // No costs (or no fees) that month: no ratio. NaN leaves a gap in the line
                // (ECharts skips it) where 0 would claim "broke even".
                f(&slice).map(|v| (v * 1000.0).round() / 10.0).unwrap_or(f64::NAN)
            })
            .collect()
    };
    let who = if r.lines.len() == 1 { r.lines[0].name.clone() } else { "All active workspaces".into() };
    SeriesChart {
        title: format!("{who}: agency ROI and client ROI by month, in percent (no point for a month without costs or fees)"),
        categories: r.months.clone(),
        series: vec![("Agency ROI %".into(), per_month(&|m| rois(m).0), false), ("Client ROI %".into(), per_month(&|m| rois(m).1), false)],
        y_name: "%".into(),
    }
}

#[component]
pub fn RoiPage() -> impl IntoView {
    let query = use_query_map();
    let param = move |k: &str| query.with(|q| q.get(k).unwrap_or_default());
    let data = Resource::new_blocking(move || param("workspace"), |w| roi_dashboard(Some(w)));
    view! {
        <Title text="ROI"/>
        <EchartsScript/>
        <RequireAdmin>
            <div class="page-head">
                <h1>"Return on investment"</h1>
                <a class="button" href=export_href("/admin/roi.csv") download>"Export CSV"</a>
            </div>
            <Suspense fallback=Loading>
                {move || Suspend::new(async move {
                    match data.await {
                        Err(e) => view! { <ErrorNotice error=e/> }.into_any(),
                        Ok(mut r) => {
                            sort_rows(&mut r.lines, SORTS, &param("sort"), &param("dir"));
                            let selected = param("workspace");
                            let chart = roi_chart(&r);
                            view! {
                                <form method="get" class="filters" role="search">
                                    <WorkspaceFilter workspaces=r.workspaces.clone() selected=selected.clone()/>
                                    <KeepSort/>
                                    <button type="submit" class="button">"Apply"</button>
                                </form>
                                <p class="muted">"Agency ROI = profit / costs. Client ROI = value of the client's won deals / fees billed to the client (both in percent; \"—\" and a gap in the chart when there were no costs or no fees). Six months: "
                                    {r.months.first().cloned().unwrap_or_default()} " to " {r.months.last().cloned().unwrap_or_default()} "."</p>
                                {if r.lines.is_empty() {
                                    view! { <Empty title="No active workspaces">"Create a client workspace to follow its ROI."</Empty> }.into_any()
                                } else {
                                    view! {
                                        <section class="card"><EChart id="roi-chart" chart height=280/></section>
                                        <div class="table-wrap">
                                        <table data-testid="roi-table">
                                            <thead><tr>
                                                <th scope="col"><SortLink key="name" title="Workspace"/></th>
                                                <th scope="col" class="num">"Fees, 6 months"</th>
                                                <th scope="col" class="num">"Costs, 6 months"</th>
                                                <th scope="col" class="num">"Won deals, 6 months"</th>
                                                <th scope="col" class="num"><SortLink key="agency_now" title="Agency ROI, this month"/></th>
                                                <th scope="col" class="num"><SortLink key="agency_6m" title="Agency ROI, 6 months"/></th>
                                                <th scope="col" class="num"><SortLink key="client_now" title="Client ROI, this month"/></th>
                                                <th scope="col" class="num"><SortLink key="client_6m" title="Client ROI, 6 months"/></th>
                                            </tr></thead>
                                            <tbody>
                                            {r.lines.into_iter().map(|l: RoiLine| {
                                                let (all_agency, all_client) = rois(&l.months);
                                                let (now_agency, now_client) = this_month(&l);
                                                let (rev, cost, won) = l.months.iter().fold((0, 0, 0), |a, m| (a.0 + m.1, a.1 + m.2, a.2 + m.3));
                                                view! {
                                                    <tr>
                                                        <td><a href=format!("?workspace={}", l.slug)>{l.name.clone()}</a></td>
                                                        <td class="num">{format_cents(rev)}</td>
                                                        <td class="num">{format_cents(cost)}</td>
                                                        <td class="num">{format_cents(won)}</td>
                                                        <td class="num">{percent(now_agency)}</td>
                                                        <td class="num">{percent(all_agency)}</td>
                                                        <td class="num">{percent(now_client)}</td>
                                                        <td class="num">{percent(all_client)}</td>
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rois_sum_before_dividing() {
        // Months: fees 1000/3000, costs 500/500, won 0/8000 → agency ROI (4000 − 1000)/1000 = 3,
        // client ROI 8000/4000 = 2.
        let m = vec![("2026-10".to_string(), 1000, 500, 0), ("2026-11".to_string(), 3000, 500, 8000)];
        assert_eq!(rois(&m), (Some(3.0), Some(2.0)));
        assert_eq!(rois(&[]), (None, None));
        assert_eq!(rois(&m[..1]), (Some(1.0), Some(0.0)));
    }

    #[test]
    fn a_month_without_costs_is_a_gap_not_zero() {
        // Month 1: no fees, no costs (nothing to divide); month 2: fees 3000, costs 500, won 6000
        // → agency (3000 − 500)/500 = 500 %, client 6000/3000 = 200 %.
        let line = RoiLine { slug: "a".into(), name: "A".into(), months: vec![("2026-10".into(), 0, 0, 0), ("2026-11".into(), 3000, 500, 6000)] };
        let r = RoiReport { months: vec!["2026-10".into(), "2026-11".into()], lines: vec![line], workspaces: vec![] };
        let c = roi_chart(&r);
        let (agency, client) = (&c.series[0].1, &c.series[1].1);
        assert!(agency[0].is_nan() && client[0].is_nan());
        assert_eq!((agency[1], client[1]), (500.0, 200.0));
    }
}
