//! Rollout progress: each workspace's launch checklist, with overdue steps highlighted. A step
//! the data proves done (connected senders, campaign mail, an interested lead) shows as done with
//! the proof; a tick dated after today shows as a conflict.

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
        "overdue" => r.steps.iter().any(|s| s.overdue),
        "in_progress" => r.steps.iter().any(|s| s.completed_on.is_none()),
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
                                        let done = r.steps.iter().filter(|s| s.completed_on.is_some()).count();
                                        let total = r.steps.len().max(1);
                                        view! {
                                            <tr>
                                                <td>{r.workspace_name.clone()}</td>
                                                <td>
                                                    <progress max=total value=done aria-label=format!("{done} of {total} steps done")></progress>
                                                    <span class="muted">{format!(" {done}/{total}")}</span>
                                                </td>
                                                <td><ul class="chips">
                                                    {r.steps.into_iter().map(|s| {
                                                        let class = if s.conflict.is_some() { "chip step-conflict" } else if s.completed_on.is_some() { "chip step-done" } else if s.overdue { "chip step-overdue" } else { "chip" };
                                                        let mut note = match (&s.completed_on, &s.due_on) {
                                                            (Some(c), _) => format!("done {c}"),
                                                            (None, Some(d)) if s.overdue => format!("overdue since {d}"),
                                                            (None, Some(d)) => format!("due {d}"),
                                                            (None, None) => "no due date".into(),
                                                        };
                                                        // Nobody ticked it: say what in the data shows it done.
                                                        if let Some(p) = &s.proof { note = format!("{note} (from the data: {p})"); }
                                                        if let Some(c) = &s.conflict { note = format!("{note}; conflict: {c}"); }
                                                        view! { <li class=class data-overdue=s.overdue.to_string() data-conflict=s.conflict.is_some().to_string()>{format!("{} — {note}", s.label)}</li> }
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
