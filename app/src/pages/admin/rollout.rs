//! Rollout progress: each workspace's launch checklist, with overdue steps highlighted.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use crate::{
    api::rollout_progress,
    components::{
        guard::{encode_component, RequireAdmin},
        status::{ErrorNotice, Loading},
        ui::Empty,
    },
    models::RolloutRow,
};

/// `all`, `overdue` (has an overdue step) or `in_progress` (not every step done).
pub fn matches(r: &RolloutRow, show: &str) -> bool {
    match show {
        "overdue" => r.steps.iter().any(|s| s.3),
        "in_progress" => r.steps.iter().any(|s| s.2.is_none()),
        _ => true,
    }
}

#[component]
pub fn RolloutPage() -> impl IntoView {
    let query = use_query_map();
    let show = move || query.with(|q| q.get("show").unwrap_or_default());
    let data = Resource::new_blocking(|| (), |_| rollout_progress());
    view! {
        <Title text="Rollout progress"/>
        <RequireAdmin>
            <div class="page-head">
                <h1>"Rollout progress"</h1>
                <a class="button" href=move || format!("/admin/rollout.csv?show={}", encode_component(&show())) download>"Export CSV"</a>
            </div>
            <form method="get" class="filters">
                <label>"Show"
                    <select name="show">
                        {[("", "all workspaces"), ("in_progress", "still rolling out"), ("overdue", "with overdue steps")].map(|(v, l)| view! {
                            <option value=v selected=move || show() == v>{l}</option>
                        })}
                    </select>
                </label>
                <button type="submit" class="button">"Apply"</button>
            </form>
            <Suspense fallback=Loading>
                {move || Suspend::new(async move {
                    match data.await {
                        Err(e) => view! { <ErrorNotice error=e/> }.into_any(),
                        Ok(rows) => {
                            let rows: Vec<RolloutRow> = rows.into_iter().filter(|r| matches(r, &show())).collect();
                            if rows.is_empty() {
                                return view! { <Empty title="Nothing to show">"No workspace matches this filter."</Empty> }.into_any();
                            }
                            view! {
                                <div class="table-wrap">
                                <table data-testid="rollout-table">
                                    <thead><tr><th scope="col">"Workspace"</th><th scope="col">"Progress"</th><th scope="col">"Steps"</th></tr></thead>
                                    <tbody>
                                    {rows.into_iter().map(|r| {
                                        let done = r.steps.iter().filter(|s| s.2.is_some()).count();
                                        let total = r.steps.len().max(1);
                                        view! {
                                            <tr>
                                                <td>{r.workspace_name.clone()}</td>
                                                <td>
                                                    <progress max=total value=done aria-label=format!("{done} of {total} steps done")></progress>
                                                    <span class="muted">{format!(" {done}/{total}")}</span>
                                                </td>
                                                <td><ul class="chips">
                                                    {r.steps.into_iter().map(|(label, due, completed, overdue)| {
                                                        let class = if completed.is_some() { "chip step-done" } else if overdue { "chip step-overdue" } else { "chip" };
                                                        let note = match (&completed, &due) {
                                                            (Some(c), _) => format!("done {c}"),
                                                            (None, Some(d)) if overdue => format!("overdue since {d}"),
                                                            (None, Some(d)) => format!("due {d}"),
                                                            (None, None) => "no due date".into(),
                                                        };
                                                        view! { <li class=class data-overdue=overdue.to_string()>{format!("{label} — {note}")}</li> }
                                                    }).collect_view()}
                                                </ul></td>
                                            </tr>
                                        }
                                    }).collect_view()}
                                    </tbody>
                                </table>
                                </div>
                            }.into_any()
                        }
                    }
                })}
            </Suspense>
        </RequireAdmin>
    }
}
