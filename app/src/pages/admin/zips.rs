//! ZIP territories: a US map of every assigned ZIP coloured by workspace, the table behind it,
//! conflicts (one ZIP held by two workspaces) highlighted, and a CSV upload of assignments whose
//! rejected rows can be downloaded with the reason for each.

use std::cmp::Ordering;

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use crate::{
    api::zip_territories,
    components::{
        chart::{EchartsScript, UsStatesScript, ZipMap, ZipMapPoints},
        format::thousands,
        guard::RequireAdmin,
        status::{ErrorNotice, Loading},
        sort::{KeepSort, SortLink},
        ui::{export_href, short_time, Empty, WorkspaceFilter},
    },
    models::{ZipImportSummary, ZipLine},
};

/// Orders the table: `zip` (default), `city`, `state`, `workspace`, `assigned`; `dir=desc` reverses.
pub fn sort_lines(lines: &mut [ZipLine], key: &str, dir: &str) {
    let text = |v: &Option<String>| v.as_deref().unwrap_or("").to_lowercase();
    let cmp = |a: &ZipLine, b: &ZipLine| -> Ordering {
        let first = |l: &ZipLine| l.workspaces.first().map(|w| w.1.to_lowercase()).unwrap_or_default();
        match key {
            "city" => text(&a.city).cmp(&text(&b.city)),
            "state" => text(&a.state).cmp(&text(&b.state)),
            "workspace" => first(a).cmp(&first(b)),
            "assigned" => a.assigned_on.cmp(&b.assigned_on),
            _ => Ordering::Equal,
        }
        .then_with(|| a.zip.cmp(&b.zip))
    };
    lines.sort_by(|a, b| if dir == "desc" { cmp(b, a) } else { cmp(a, b) });
}

/// The map's points: one series per workspace, plus the conflicts.
pub fn map_points(lines: &[ZipLine]) -> ZipMapPoints {
    let mut series: Vec<(String, Vec<(String, f32, f32)>)> = Vec::new();
    let mut conflicts = Vec::new();
    for l in lines {
        let Some((x, y)) = l.map_point else { continue };
        for (_, name) in &l.workspaces {
            match series.iter_mut().find(|(n, _)| n == name) {
                Some((_, pts)) => pts.push((l.zip.clone(), x, y)),
                None => series.push((name.clone(), vec![(l.zip.clone(), x, y)])),
            }
        }
        if l.conflict() {
            conflicts.push((l.zip.clone(), x, y));
        }
    }
    series.sort_by(|a, b| a.0.cmp(&b.0));
    ZipMapPoints { title: format!("Map of {} assigned ZIP codes by workspace", lines.len()), series, conflicts }
}

#[component]
pub fn ZipsPage() -> impl IntoView {
    let query = use_query_map();
    let param = move |k: &str| query.with(|q| q.get(k).unwrap_or_default());
    let data = Resource::new_blocking(
        move || (param("q"), param("workspace"), param("state"), param("show"), param("import").parse::<i64>().ok()),
        |(q, ws, st, show, import)| zip_territories(Some(q), Some(ws), Some(st), Some(show), import),
    );
    let export = export_href("/admin/zips.csv");
    view! {
        <Title text="ZIP territories"/>
        <EchartsScript/>
        <UsStatesScript/>
        <RequireAdmin>
            <div class="page-head">
                <h1>"ZIP territories"</h1>
                <a class="button" href=export download>"Export CSV"</a>
            </div>
            <Suspense fallback=Loading>
                {move || Suspend::new(async move {
                    match data.await {
                        Err(e) => view! { <ErrorNotice error=e/><p><a class="button" href="/admin/zips">"Reset the filters"</a></p> }.into_any(),
                        Ok(d) => {
                            let mut lines = d.lines.clone();
                            sort_lines(&mut lines, &param("sort"), &param("dir"));
                            let points = map_points(&lines);
                            let shown = lines.len();
                            view! {
                                {d.import.clone().map(|i| view! { <ImportOutcome import=i/> })}
                                <UploadForm workspaces=d.workspaces.clone()/>
                                <form method="get" class="filters" role="search">
                                    <label>"Search" <input type="search" name="q" value=param("q") placeholder="ZIP, city, state or workspace"/></label>
                                    <WorkspaceFilter workspaces=d.workspaces.clone() selected=param("workspace")/>
                                    <label>"State"
                                        <select name="state">
                                            <option value="">"all"</option>
                                            {d.states.iter().map(|s| { let is = *s == param("state"); view! { <option value=s.clone() selected=is>{s.clone()}</option> } }).collect_view()}
                                        </select>
                                    </label>
                                    <label>"Show"
                                        <select name="show">
                                            <option value="">"all ZIPs"</option>
                                            <option value="conflicts" selected=param("show") == "conflicts">"conflicts only"</option>
                                        </select>
                                    </label>
                                    <KeepSort/>
                                    <button type="submit" class="button">"Apply"</button>
                                </form>
                                <p class="muted" data-testid="zip-summary">
                                    {format!("{} of {} assigned ZIPs shown · {} in conflict (held by two or more workspaces).",
                                        thousands(shown as i64), thousands(d.total_zips as i64), d.total_conflicts)}
                                </p>
                                {(d.total_conflicts > 0 && param("show") != "conflicts").then(|| view! {
                                    <p class="alert alert-warn" role="status">
                                        {format!("{} ZIP{} assigned to more than one workspace. ", d.total_conflicts, if d.total_conflicts == 1 { " is" } else { "s are" })}
                                        <a href="?show=conflicts">"Show the conflicts"</a>
                                    </p>
                                })}
                                {(!d.places_loaded).then(|| view! {
                                    <p class="alert alert-warn" role="status">"ZIP places are not installed, so the map has no points: run "<code>"make assets"</code>" (or set MAVERICK_ZIP_PLACES) and restart."</p>
                                })}
                                {if lines.is_empty() {
                                    view! { <Empty title="No ZIPs to show">"Nothing matches these filters. Assign ZIPs on a client's profile or upload a CSV above."</Empty> }.into_any()
                                } else {
                                    view! {
                                        <ZipMap id="zip-map" points=points/>
                                        <div class="table-wrap">
                                        <table data-testid="zip-table">
                                            <thead><tr>
                                                <th scope="col"><SortLink key="zip" title="ZIP"/></th>
                                                <th scope="col"><SortLink key="city" title="City"/></th>
                                                <th scope="col"><SortLink key="state" title="State"/></th>
                                                <th scope="col"><SortLink key="workspace" title="Workspace"/></th>
                                                <th scope="col"><SortLink key="assigned" title="Assigned"/></th>
                                                <th scope="col">"On map"</th>
                                            </tr></thead>
                                            <tbody>
                                            {lines.into_iter().map(|l| {
                                                let conflict = l.conflict();
                                                view! {
                                                    <tr class:row-conflict=conflict data-conflict=conflict.to_string()>
                                                        <td><code>{l.zip.clone()}</code>{conflict.then(|| view! { " " <span class="badge status-behind">"conflict"</span> })}</td>
                                                        <td>{l.city.clone().unwrap_or_default()}</td>
                                                        <td>{l.state.clone().unwrap_or_default()}</td>
                                                        <td>{l.workspaces.iter().enumerate().map(|(i, (slug, name))| view! {
                                                            {(i > 0).then_some(", ")}<a href=format!("/admin/clients/{slug}")>{name.clone()}</a>
                                                        }).collect_view()}</td>
                                                        <td>{l.assigned_on.clone()}</td>
                                                        <td>{if l.map_point.is_some() { "yes" } else { "no" }}</td>
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

/// The CSV upload: a plain multipart form, so it works before and without the WASM.
#[component]
fn UploadForm(workspaces: Vec<(String, String)>) -> impl IntoView {
    view! {
        <details class="card upload-panel" data-testid="zip-upload">
            <summary>"Upload ZIP assignments (CSV)"</summary>
            <form method="post" action="/admin/zips/import" enctype="multipart/form-data" class="stack">
                <p class="muted">
                    "Columns: " <code>"workspace"</code> " (slug or name) and " <code>"zip"</code> ", optionally "
                    <code>"state"</code> " and " <code>"city"</code> ". Comma, semicolon or tab separated; UTF-8 or Excel's Windows encoding. "
                    "Valid rows are assigned together; rows that cannot be assigned are listed with the reason and can be downloaded."
                </p>
                <label>"File" <input type="file" name="file" accept=".csv,.txt,text/csv" required/></label>
                <label>"Workspace for rows without one"
                    <select name="workspace">
                        <option value="">"— use the file's workspace column —"</option>
                        {workspaces.into_iter().map(|(slug, name)| view! { <option value=slug>{name}</option> }).collect_view()}
                    </select>
                </label>
                <button type="submit" class="button primary">"Upload"</button>
            </form>
        </details>
    }
}

#[component]
fn ImportOutcome(import: ZipImportSummary) -> impl IntoView {
    let title = format!("Upload of {} ({})", import.file_name, short_time(&import.created_at));
    match import.failure {
        Some(reason) => view! {
            <div class="alert alert-error" role="alert" data-testid="zip-import">
                <strong>{title}</strong>{format!(": nothing was assigned. {reason}")}
            </div>
        }
        .into_any(),
        None => view! {
            <div class={if import.rejected > 0 { "alert alert-warn" } else { "alert alert-ok" }} role="status" data-testid="zip-import">
                <strong>{title}</strong>
                {format!(": {} rows read — {} assigned, {} unchanged (already assigned or repeated), {} rejected.",
                    import.rows_total, import.assigned, import.unchanged, import.rejected)}
                {(import.rejected > 0).then(|| view! {
                    " " <a href=format!("/admin/zips/imports/{}/rejected.csv", import.id) download>"Download the rejected rows"</a>
                    <ul class="rejected-rows">
                        {import.rejected_preview.iter().map(|(line, reason)| view! { <li>{format!("line {line}: {reason}")}</li> }).collect_view()}
                        {(import.rejected > import.rejected_preview.len() as i64).then(|| view! { <li class="muted">"… and more in the download"</li> })}
                    </ul>
                })}
            </div>
        }
        .into_any(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(zip: &str, city: &str, ws: &[&str], point: Option<(f32, f32)>) -> ZipLine {
        ZipLine {
            zip: zip.into(),
            city: Some(city.into()),
            state: Some("TX".into()),
            workspaces: ws.iter().map(|w| (w.to_lowercase(), w.to_string())).collect(),
            assigned_on: "2026-11-01".into(),
            map_point: point,
        }
    }

    #[test]
    fn map_points_group_by_workspace_and_ring_conflicts() {
        let lines = vec![
            line("78701", "Austin", &["Bright", "Glow"], Some((1.0, 2.0))),
            line("78702", "Austin", &["Glow"], Some((3.0, 4.0))),
            line("00601", "Adjuntas", &["Glow"], None),
        ];
        let p = map_points(&lines);
        assert_eq!(p.series.len(), 2);
        assert_eq!(p.series[0], ("Bright".to_string(), vec![("78701".to_string(), 1.0, 2.0)]));
        assert_eq!(p.series[1].1.len(), 2, "Glow: 78701 and 78702; 00601 is off the map");
        assert_eq!(p.conflicts, vec![("78701".to_string(), 1.0, 2.0)]);
    }

    #[test]
    fn sorting_by_city_then_zip_and_reversed() {
        let mut v = vec![line("78702", "Bastrop", &["A"], None), line("78701", "Austin", &["B"], None), line("78703", "Austin", &["A"], None)];
        sort_lines(&mut v, "city", "asc");
        assert_eq!(v.iter().map(|l| l.zip.as_str()).collect::<Vec<_>>(), ["78701", "78703", "78702"]);
        sort_lines(&mut v, "city", "desc");
        assert_eq!(v.iter().map(|l| l.zip.as_str()).collect::<Vec<_>>(), ["78702", "78703", "78701"]);
        sort_lines(&mut v, "", "");
        assert_eq!(v.iter().map(|l| l.zip.as_str()).collect::<Vec<_>>(), ["78701", "78702", "78703"]);
    }
}
