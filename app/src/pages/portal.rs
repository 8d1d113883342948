//! The client portal: the hub of the caller's workspaces with their KPIs, and a workspace's
//! pipeline board — drag a card to another column (or use its "Move to" menu), the move shows at
//! once and is rolled back with a message if the server refuses it; other people's moves and new
//! leads arrive live over server-sent events.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::{use_params_map, use_query_map};

use crate::{
    api::{load_board, move_lead, my_workspaces},
    components::{
        format::{one_decimal, percent, thousands},
        guard::RequireUser,
        status::{ErrorNotice, Loading},
        ui::Empty,
    },
    models::{stage_label, BoardColumn, LeadCard, PortalBoard, PortalKpi, STAGES},
    money::{format_cents, parse_dollars},
};

fn status_label(s: &str) -> &'static str {
    match s {
        "on_track" => "on track",
        "at_risk" => "at risk",
        "behind" => "behind",
        _ => "no target",
    }
}

/// Interested this month against the target, with pacing and the status colour.
#[component]
fn KpiLine(kpi: PortalKpi) -> impl IntoView {
    view! {
        <p class="kpi-line" data-testid="portal-kpi">
            <span class=format!("badge status-{}", kpi.status)>{status_label(&kpi.status)}</span>
            " "
            <strong>{format!("{} of {} interested leads this month", thousands(kpi.mtd), thousands(kpi.target))}</strong>
            {format!(" ({}) · expected by today {} · pacing {} · month-end projection {}",
                percent(kpi.percent_of_target), one_decimal(kpi.expected_by_today), percent(kpi.pacing), one_decimal(kpi.projection))}
        </p>
    }
}

#[component]
pub fn PortalHub() -> impl IntoView {
    let workspaces = Resource::new_blocking(|| (), |_| my_workspaces());
    view! {
        <Title text="My workspaces"/>
        <RequireUser>
            <h1>"My workspaces"</h1>
            <Suspense fallback=Loading>
                {move || Suspend::new(async move {
                    match workspaces.await {
                        Err(e) => view! { <ErrorNotice error=e/> }.into_any(),
                        Ok(list) if list.is_empty() => view! {
                            <Empty title="No workspaces yet">
                                "You don't have access to any workspace yet. Ask your agency admin to grant you one."
                            </Empty>
                        }.into_any(),
                        Ok(list) => view! {
                            <ul class="card-grid" data-testid="workspace-list">
                                {list.into_iter().map(|w| view! {
                                    <li class="card">
                                        <h2><a href=format!("/client-portal/{}", w.slug)>{w.name.clone()}</a></h2>
                                        {w.kpi.clone().map(|k| view! { <KpiLine kpi=k/> })}
                                        <p><span class=format!("badge badge-{}", w.access)>{w.access.clone()}</span>
                                           {(!w.active).then(|| view! { " " <span class="badge">"archived"</span> })}</p>
                                    </li>
                                }).collect_view()}
                            </ul>
                        }.into_any(),
                    }
                })}
            </Suspense>
        </RequireUser>
    }
}

/// Moves a card between columns in the page's copy of the board (the optimistic half of a move):
/// counts and the won column's value follow. Returns false when the card is not on the board.
pub fn move_card(columns: &mut [BoardColumn], lead_id: i64, to: &str, deal_value_cents: Option<i64>) -> bool {
    let Some((ci, pos)) = columns.iter().enumerate().find_map(|(ci, c)| c.cards.iter().position(|k| k.id == lead_id).map(|p| (ci, p))) else {
        return false;
    };
    let mut card = columns[ci].cards.remove(pos);
    columns[ci].total -= 1;
    if columns[ci].stage == "won" {
        columns[ci].value_cents -= card.deal_value_cents.unwrap_or(0);
    }
    if to == "won" {
        card.deal_value_cents = deal_value_cents.or(card.deal_value_cents);
    }
    card.stage = to.to_owned();
    if let Some(target) = columns.iter_mut().find(|c| c.stage == to) {
        target.total += 1;
        if to == "won" {
            target.value_cents += card.deal_value_cents.unwrap_or(0);
        }
        target.cards.insert(0, card);
    }
    true
}

#[component]
pub fn WorkspacePortal() -> impl IntoView {
    let params = use_params_map();
    let query = use_query_map();
    let slug = move || params.with(|p| p.get("workspace").unwrap_or_default());
    let param = move |k: &str| query.with(|q| q.get(k).unwrap_or_default());
    // Bumped by live events from other people: the board is fetched again.
    let version = RwSignal::new(0u64);
    let data = Resource::new_blocking(
        move || (slug(), param("q"), param("from"), param("to"), param("campaign"), param("per"), version.get()),
        |(slug, q, from, to, campaign, per, _)| load_board(slug, Some(q), Some(from), Some(to), Some(campaign), per.parse().ok()),
    );
    view! {
        <RequireUser>
            <Transition fallback=Loading>
                {move || Suspend::new(async move {
                    match data.await {
                        Err(e) => view! { <ErrorNotice error=e/> }.into_any(),
                        Ok(b) => view! { <BoardPage board=b/> }.into_any(),
                    }
                })}
            </Transition>
            <LiveUpdates slug=Signal::derive(slug) version/>
        </RequireUser>
    }
}

#[component]
fn BoardPage(board: PortalBoard) -> impl IntoView {
    let query = use_query_map();
    // The page is rendered again for every new query (the board is fetched per query).
    let param = move |k: &str| query.with_untracked(|q| q.get(k).unwrap_or_default());
    let w = board.workspace.clone();
    let export = {
        let slug = w.slug.clone();
        move || format!("/client-portal/{slug}/leads.csv{}", query.with(|q| q.to_query_string()))
    };
    let more = {
        let per = board.per_column;
        move || {
            let mut q = query.get();
            q.replace("per", (per * 2).min(crate::api::leads::MAX_PER_COLUMN).to_string());
            q.to_query_string()
        }
    };
    let shown_all = board.columns.iter().all(|c| c.cards.len() as i64 >= c.total);
    let empty = board.columns.iter().all(|c| c.total == 0);
    let filtered = ["q", "from", "to", "campaign"].iter().any(|k| !param(k).is_empty());
    view! {
        <Title text=w.name.clone()/>
        <p class="breadcrumb"><a href="/client-portal">"My workspaces"</a> " / "</p>
        <div class="page-head">
            <h1 data-testid="workspace-name">{w.name.clone()}</h1>
            <a class="button" href=export download>"Export CSV"</a>
        </div>
        <p>
            <span class=format!("badge badge-{}", w.access)>{w.access.clone()}</span>
            {(!board.can_write).then(|| view! { " " <span class="muted" data-testid="read-only">"Read-only: you can look, not move or annotate."</span> })}
        </p>
        {w.kpi.clone().map(|k| view! { <KpiLine kpi=k/> })}
        <form method="get" class="filters" role="search">
            <label>"Search" <input type="search" name="q" value=param("q") placeholder="name, email or company"/></label>
            <label>"Received from" <input type="date" name="from" value=param("from")/></label>
            <label>"to" <input type="date" name="to" value=param("to")/></label>
            <label>"Campaign"
                <select name="campaign">
                    <option value="">"all"</option>
                    {board.campaigns.iter().map(|(id, name)| {
                        let is = id.to_string() == param("campaign");
                        view! { <option value=id.to_string() selected=is>{name.clone()}</option> }
                    }).collect_view()}
                </select>
            </label>
            <button type="submit" class="button">"Apply"</button>
        </form>
        {if empty {
            if filtered {
                view! { <Empty title="No lead matches">"Nothing matches these filters. Clear them to see the whole pipeline."</Empty> }.into_any()
            } else {
                view! { <Empty title="Your pipeline will appear here">"Interested leads arrive on this board as soon as your campaigns produce them."</Empty> }.into_any()
            }
        } else {
            view! {
                <Board board=board.clone()/>
                {(!shown_all).then(|| view! { <p><a class="button" href=more>"Show more cards per column"</a></p> })}
            }.into_any()
        }}
    }
    .into_any()
}

/// The board itself: columns, draggable cards, the "Move to" menus and the won/lost question.
#[component]
fn Board(board: PortalBoard) -> impl IntoView {
    let can_write = board.can_write;
    let slug = board.workspace.slug.clone();
    let columns = RwSignal::new(board.columns);
    let dragging = RwSignal::new(None::<i64>);
    let over = RwSignal::new(None::<String>);
    // A move to won or lost waits here for its deal value or reason.
    let asking = RwSignal::new(None::<(i64, String)>);
    let deal_value = RwSignal::new(String::new());
    let reason = RwSignal::new(String::new());
    let problem = RwSignal::new(None::<String>);

    let perform = move |lead_id: i64, to: String, deal: Option<String>, lost_reason: Option<String>| {
        let deal_cents = match deal.as_deref().map(str::trim).filter(|v| !v.is_empty()).map(parse_dollars) {
            Some(Err(e)) => {
                problem.set(Some(e));
                return;
            }
            Some(Ok(c)) => Some(c),
            None => None,
        };
        let before = columns.get_untracked();
        let from = before.iter().find(|c| c.cards.iter().any(|k| k.id == lead_id)).map(|c| c.stage.clone());
        if from.as_deref() == Some(to.as_str()) && to != "won" {
            return;
        }
        columns.update(|cols| {
            move_card(cols, lead_id, &to, deal_cents);
        });
        problem.set(None);
        leptos::task::spawn_local(async move {
            if let Err(e) = move_lead(lead_id, to.clone(), deal, lost_reason).await {
                columns.set(before);
                problem.set(Some(format!("The card went back: {e}")));
            }
        });
    };
    let request = move |lead_id: i64, to: String| {
        if to == "won" || to == "lost" {
            deal_value.set(String::new());
            reason.set(String::new());
            asking.set(Some((lead_id, to)));
        } else {
            perform(lead_id, to, None, None);
        }
    };

    view! {
        {move || problem.get().map(|p| view! { <p class="alert alert-error" role="alert" data-testid="move-error">{p}</p> })}
        <div class="board" data-testid="board" data-can-write=can_write.to_string()>
            {move || {
                let slug = slug.clone();
                columns.get().into_iter().map(|col| {
                    let stage = col.stage.clone();
                    let (drop_stage, over_stage, leave_stage) = (stage.clone(), stage.clone(), stage.clone());
                    let is_over = { let s = stage.clone(); move || over.get().as_deref() == Some(s.as_str()) };
                    let slug = slug.clone();
                    view! {
                        <section class="board-col" class:drop-target=is_over data-stage=stage.clone() aria-label=stage_label(&stage)
                            on:dragover=move |ev| {
                                if can_write && dragging.get_untracked().is_some() {
                                    ev.prevent_default();
                                    if over.get_untracked().as_deref() != Some(over_stage.as_str()) { over.set(Some(over_stage.clone())); }
                                }
                            }
                            on:dragleave=move |_| { if over.get_untracked().as_deref() == Some(leave_stage.as_str()) { over.set(None); } }
                            on:drop=move |ev| {
                                ev.prevent_default();
                                over.set(None);
                                if let Some(id) = dragging.get_untracked() {
                                    dragging.set(None);
                                    request(id, drop_stage.clone());
                                }
                            }
                        >
                            <header class="board-col-head">
                                <h2>{stage_label(&stage)}</h2>
                                <span class="count" data-testid="column-count">{thousands(col.total)}</span>
                                {(stage == "won").then(|| view! { <span class="muted" data-testid="won-value">{format_cents(col.value_cents)}</span> })}
                            </header>
                            <ol class="board-cards">
                                {col.cards.into_iter().map(|card| view! { <Card card slug=slug.clone() can_write dragging request/> }).collect_view()}
                            </ol>
                        </section>
                    }
                    .into_any()
                }).collect_view()
            }}
        </div>
        {move || asking.get().map(|(lead_id, to)| {
            let won = to == "won";
            let to_confirm = to.clone();
            view! {
                <div class="modal-backdrop">
                    <form class="modal card" role="dialog" aria-modal="true" aria-labelledby="move-question" data-testid="move-dialog"
                        on:submit=move |ev| {
                            ev.prevent_default();
                            asking.set(None);
                            let (d, r) = (deal_value.get_untracked(), reason.get_untracked());
                            perform(lead_id, to_confirm.clone(), won.then_some(d), (!won).then_some(r));
                        }>
                        <h2 id="move-question">{if won { "Won: what is the deal worth?" } else { "Lost: why? (optional)" }}</h2>
                        {if won {
                            view! { <label>"Deal value ($)" <input type="text" inputmode="decimal" required autofocus placeholder="2500.00"
                                prop:value=move || deal_value.get() on:input=move |ev| deal_value.set(event_target_value(&ev))/></label> }.into_any()
                        } else {
                            view! { <label>"Reason" <input type="text" maxlength="500" autofocus placeholder="e.g. went with a competitor"
                                prop:value=move || reason.get() on:input=move |ev| reason.set(event_target_value(&ev))/></label> }.into_any()
                        }}
                        <div class="actions">
                            <button type="submit" class="button primary">{if won { "Move to won" } else { "Move to lost" }}</button>
                            <button type="button" class="button" on:click=move |_| asking.set(None)>"Cancel"</button>
                        </div>
                    </form>
                </div>
            }
            .into_any()
        })}
    }
    // Erased at the component boundary: the release build (no `erase_components`) otherwise
    // nests every column, card and dialog type into one that overflows rustc's query depth.
    .into_any()
}

#[component]
fn Card<R>(card: LeadCard, slug: String, can_write: bool, dragging: RwSignal<Option<i64>>, request: R) -> impl IntoView
where
    R: Fn(i64, String) + Copy + Send + Sync + 'static,
{
    let id = card.id;
    let stage = card.stage.clone();
    let label = format!("Move {} to", card.name);
    view! {
        <li class="lead-card" draggable=if can_write { "true" } else { "false" } data-lead-id=id.to_string() data-testid="lead-card"
            on:dragstart=move |ev| {
                if !can_write { return; }
                dragging.set(Some(id));
                // Firefox starts a drag only when it carries data.
                #[cfg(feature = "hydrate")]
                if let Some(dt) = ev.data_transfer() {
                    let _ = dt.set_data("text/plain", &id.to_string());
                    dt.set_effect_allowed("move");
                }
                #[cfg(not(feature = "hydrate"))]
                let _ = ev;
            }
            on:dragend=move |_| dragging.set(None)
        >
            <a class="lead-name" href=format!("/client-portal/{slug}/leads/{id}")>{card.name.clone()}</a>
            <div class="muted small">
                {card.company.clone().unwrap_or_default()}
                {card.received_on.clone().map(|d| format!(" · {d}"))}
                {card.deal_value_cents.filter(|_| card.stage == "won").map(|v| format!(" · {}", format_cents(v)))}
            </div>
            {card.snippet.clone().map(|s| view! { <p class="snippet">{s}</p> })}
            {can_write.then(|| view! {
                <select class="move-menu" aria-label=label.clone() data-testid="move-menu"
                    on:change=move |ev| {
                        let to = event_target_value(&ev);
                        if !to.is_empty() { request(id, to); }
                    }>
                    {STAGES.iter().map(|(k, l)| view! { <option value=if *k == stage { "" } else { *k } selected=*k == stage>{*l}</option> }).collect_view()}
                </select>
            })}
        </li>
    }
    .into_any()
}

/// Subscribes to the workspace's event stream (leptos-use's `use_event_source`, reconnecting for
/// ever) and bumps `version` when somebody else changed the board.
#[component]
fn LiveUpdates(slug: Signal<String>, version: RwSignal<u64>) -> impl IntoView {
    #[cfg(feature = "hydrate")]
    {
        use crate::components::{guard::CurrentUser, live::{workspace_events, ConnectionReadyState}};
        let me = CurrentUser::resource();
        let (event, ready_state) = workspace_events(&slug.get_untracked(), None);
        Effect::new(move |_| {
            let Some(event) = event.get() else { return };
            let actor = event.get("actor_user_id").and_then(|a| a.as_i64());
            let mine = me.get_untracked().and_then(|r| r.ok()).flatten().map(|u| u.user_id);
            // Only lead events change the board (not, say, a personalization run's progress).
            let about_leads = event.get("kind").and_then(|k| k.as_str()).is_none_or(|k| k.starts_with("lead.") || k == "resync");
            if about_leads && (actor.is_none() || actor != mine) {
                version.update(|v| *v += 1);
            }
        });
        let status = move || match ready_state.get() {
            ConnectionReadyState::Open => ("live", "Live: changes by others appear here"),
            ConnectionReadyState::Connecting => ("connecting", "Connecting…"),
            _ => ("offline", "Offline: reconnecting…"),
        };
        view! { <p class="live-status muted small" data-testid="live-status" data-state=move || status().0>{move || status().1}</p> }.into_any()
    }
    #[cfg(not(feature = "hydrate"))]
    {
        let _ = (slug, version);
        view! { <p class="live-status muted small" data-testid="live-status" data-state="connecting">"Connecting…"</p> }.into_any()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn col(stage: &str, cards: &[(i64, Option<i64>)]) -> BoardColumn {
        BoardColumn {
            stage: stage.into(),
            total: cards.len() as i64 + 10,
            value_cents: cards.iter().filter_map(|c| c.1).sum(),
            cards: cards
                .iter()
                .map(|&(id, v)| LeadCard {
                    id,
                    name: format!("L{id}"),
                    email: format!("l{id}@x.test"),
                    company: None,
                    received_on: None,
                    snippet: None,
                    stage: stage.into(),
                    deal_value_cents: v,
                })
                .collect(),
        }
    }

    #[test]
    fn an_optimistic_move_carries_counts_and_won_value() {
        let mut cols = vec![col("new", &[(1, None), (2, None)]), col("won", &[(3, Some(500_00))]), col("lost", &[])];
        assert!(move_card(&mut cols, 2, "won", Some(1_200_00)));
        assert_eq!((cols[0].total, cols[1].total), (11, 12));
        assert_eq!(cols[1].value_cents, 1_700_00);
        assert_eq!(cols[1].cards[0].id, 2, "the moved card goes on top");
        assert_eq!(cols[1].cards[0].stage, "won");
        assert!(move_card(&mut cols, 3, "lost", None));
        assert_eq!(cols[1].value_cents, 1_200_00, "leaving won takes its value along");
        assert_eq!(cols[2].total, 11);
        assert!(!move_card(&mut cols, 99, "new", None));
    }
}
