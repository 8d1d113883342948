//! The client portal: the hub of the caller's workspaces with their KPIs, and a workspace's
//! pipeline board — drag a card to another column (or pick a stage in its "Move to" menu and press
//! Enter or "Move"), the move shows at once and is rolled back with a message if the server
//! refuses it; other people's moves and new leads arrive live over server-sent events. A client
//! with a single workspace goes straight to its board.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::{
    components::Redirect,
    hooks::{use_params_map, use_query_map},
};

use crate::{
    api::{load_board, move_lead, my_workspaces},
    components::{
        format::{one_decimal, percent, thousands},
        guard::{CurrentUser, RequireUser},
        status::{ErrorNotice, Loading},
        ui::Empty,
    },
    models::{BoardColumn, LeadCard, PortalBoard, PortalKpi, STAGES},
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
    let user = CurrentUser::resource();
    view! {
        <Title text="My workspaces"/>
        <RequireUser>
            <Suspense fallback=Loading>
                {move || Suspend::new(async move {
                    let admin = matches!(user.await, Ok(Some(me)) if me.is_admin());
                    match workspaces.await {
                        Err(e) => view! { <h1>"My workspaces"</h1> <ErrorNotice error=e/> }.into_any(),
                        // One workspace is nothing to choose from: its board (a 302 before the
                        // first byte). Admins keep the hub, their way into every workspace.
                        Ok(list) if list.len() == 1 && !admin => view! { <Redirect path=format!("/client-portal/{}", list[0].slug)/> }.into_any(),
                        Ok(list) if list.is_empty() => view! {
                            <h1>"My workspaces"</h1>
                            <Empty title="No workspaces yet">
                                "You don't have access to any workspace yet. Ask your agency admin to grant you one."
                            </Empty>
                        }.into_any(),
                        Ok(list) => view! {
                            <h1>"My workspaces"</h1>
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

/// Cards a column shows at first, and how many more each "Show more" adds: the page holds at
/// most 7 × 20 cards however long the pipeline is (each column scrolls inside itself).
pub const CARDS_PER_STEP: i64 = 20;

fn per_column(per: &str) -> i64 {
    per.parse::<i64>().unwrap_or(CARDS_PER_STEP).clamp(1, crate::api::leads::MAX_PER_COLUMN)
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

/// Focuses the first element matching `selector` once the DOM has caught up with a change (the
/// card just moved, the dialog just opened): keyboard users stay where they were working.
fn focus_later(selector: String) {
    #[cfg(feature = "hydrate")]
    request_animation_frame(move || {
        use wasm_bindgen::JsCast;
        if let Some(el) = document().query_selector(&selector).ok().flatten().and_then(|e| e.dyn_into::<web_sys::HtmlElement>().ok()) {
            let _ = el.focus();
        }
    });
    #[cfg(not(feature = "hydrate"))]
    let _ = selector;
}

fn focus_card(lead_id: i64) {
    focus_later(format!(".lead-card[data-lead-id=\"{lead_id}\"] .move-menu"));
}

#[component]
pub fn WorkspacePortal() -> impl IntoView {
    let params = use_params_map();
    let query = use_query_map();
    let slug = move || params.with(|p| p.get("workspace").unwrap_or_default());
    let param = move |k: &str| query.with(|q| q.get(k).unwrap_or_default());
    // Bumped by live events from other people: the board reloads its cards in place.
    let version = RwSignal::new(0u64);
    let data = Resource::new_blocking(
        move || (slug(), param("q"), param("from"), param("to"), param("campaign"), param("per")),
        |(slug, q, from, to, campaign, per)| load_board(slug, Some(q), Some(from), Some(to), Some(campaign), Some(per_column(&per))),
    );
    // The live connection (and its indicator) starts only once the board was shown: never
    // beside a refusal. Set after hydration, so the server's HTML and the first render agree.
    let allowed = RwSignal::new(false);
    Effect::new(move |_| {
        if let Some(ok) = data.with(|d| d.as_ref().map(|r| r.is_ok())) {
            if allowed.get_untracked() != ok {
                allowed.set(ok);
            }
        }
    });
    view! {
        <RequireUser>
            <Transition fallback=Loading>
                {move || Suspend::new(async move {
                    match data.await {
                        // A filter the server can't read: the page frame stays, with a way out.
                        Err(crate::error::AppError::Invalid(message)) => view! { <BadFilter slug=slug() message/> }.into_any(),
                        Err(e) => view! { <ErrorNotice error=e/> }.into_any(),
                        Ok(b) => view! { <BoardPage board=b version/> }.into_any(),
                    }
                })}
            </Transition>
            {move || allowed.get().then(|| view! { <LiveUpdates slug=Signal::derive(slug) version/> })}
        </RequireUser>
    }
}

#[component]
fn BoardPage(board: PortalBoard, version: RwSignal<u64>) -> impl IntoView {
    let query = use_query_map();
    // The page is rendered again for every new query (the board is fetched per query).
    let param = move |k: &str| query.with_untracked(|q| q.get(k).unwrap_or_default());
    let w = board.workspace.clone();
    let export = {
        let slug = w.slug.clone();
        move || format!("/client-portal/{slug}/leads.csv{}", query.with(|q| q.to_query_string()))
    };
    let slug = StoredValue::new(w.slug.clone());
    let kpi = RwSignal::new(w.kpi.clone());
    let columns = RwSignal::new(board.columns.clone());
    let per = RwSignal::new(board.per_column);
    // Fetches the cards again with the page's filters and swaps them in place: the page, each
    // column's scroll position and the focused card stay (re-rendering the page would reset them).
    let reload = move || {
        let (q, from, to, campaign) = (param("q"), param("from"), param("to"), param("campaign"));
        let (slug, n) = (slug.get_value(), per.get_untracked());
        leptos::task::spawn_local(async move {
            if let Ok(b) = load_board(slug, Some(q), Some(from), Some(to), Some(campaign), Some(n)).await {
                columns.set(b.columns);
                kpi.set(b.workspace.kpi);
            }
        });
    };
    Effect::watch(move || version.get(), move |_, _, _| reload(), false);
    let show_more = move || {
        per.update(|p| *p = (*p + CARDS_PER_STEP).min(crate::api::leads::MAX_PER_COLUMN));
        reload();
    };
    let empty = Memo::new(move |_| columns.with(|c| c.iter().all(|c| c.total == 0)));
    let filtered = ["q", "from", "to", "campaign"].iter().any(|k| !param(k).is_empty());
    let can_write = board.can_write;
    view! {
        <Title text=w.name.clone()/>
        <p class="breadcrumb"><a href="/client-portal">"My workspaces"</a> " / "</p>
        <div class="page-head">
            <h1 data-testid="workspace-name">{w.name.clone()}</h1>
            <div class="page-actions">
                // Tokens and webhooks need write access (the page refuses the others).
                {can_write.then(|| view! { <a class="button" href=format!("/client-portal/{}/integrations", w.slug)>"Integrations"</a> })}
                <a class="button" href=export download>"Export CSV"</a>
            </div>
        </div>
        <p>
            <span class=format!("badge badge-{}", w.access)>{w.access.clone()}</span>
            {(!can_write).then(|| view! { " " <span class="muted" data-testid="read-only">"Read-only: you can look, not move or annotate."</span> })}
        </p>
        {move || kpi.get().map(|k| view! { <KpiLine kpi=k/> })}
        <form method="get" class="filters board-filters" role="search">
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
        {move || if empty.get() {
            if filtered {
                view! { <Empty title="No lead matches">"Nothing matches these filters. Clear them to see the whole pipeline."</Empty> }.into_any()
            } else {
                view! { <Empty title="Your pipeline will appear here">"Interested leads arrive on this board as soon as your campaigns produce them."</Empty> }.into_any()
            }
        } else {
            view! { <Board columns per can_write slug=slug.get_value() show_more/> }.into_any()
        }}
    }
    .into_any()
}

/// The board itself: a row of columns that scrolls sideways (with a jump bar naming every column
/// and a fade at the edge that has more), each column scrolling inside itself; draggable cards,
/// their "Move to" menus and the won/lost question.
#[component]
fn Board<M>(columns: RwSignal<Vec<BoardColumn>>, per: RwSignal<i64>, can_write: bool, slug: String, show_more: M) -> impl IntoView
where
    M: Fn() + Copy + Send + Sync + 'static,
{
    let dragging = RwSignal::new(None::<i64>);
    let over = RwSignal::new(None::<String>);
    // A move to won or lost waits here for its deal value or reason.
    let asking = RwSignal::new(None::<(i64, String)>);
    provide_context(MoveQuestion(asking));
    let deal_value = RwSignal::new(String::new());
    let reason = RwSignal::new(String::new());
    let problem = RwSignal::new(None::<String>);

    let perform = move |lead_id: i64, to: String, deal: Option<String>, lost_reason: Option<String>| {
        let deal_cents = match deal.as_deref().map(str::trim).filter(|v| !v.is_empty()).map(parse_dollars) {
            Some(Err(e)) => {
                problem.set(Some(e));
                focus_card(lead_id);
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
        // The card is drawn anew in its new column; focus follows it there.
        focus_card(lead_id);
        problem.set(None);
        leptos::task::spawn_local(async move {
            if let Err(e) = move_lead(lead_id, to.clone(), deal, lost_reason).await {
                columns.set(before);
                problem.set(Some(format!("The card went back: {e}")));
                focus_card(lead_id);
            }
        });
    };
    let request = move |lead_id: i64, to: String| {
        if to == "won" || to == "lost" {
            deal_value.set(String::new());
            reason.set(String::new());
            asking.set(Some((lead_id, to)));
            focus_later("[data-testid=move-dialog] input".into());
        } else {
            perform(lead_id, to, None, None);
        }
    };
    let cancel = move |lead_id: i64| {
        asking.set(None);
        focus_card(lead_id);
    };

    // Whether columns are hidden to the left or right of the visible part (the fades at the edges).
    let board_ref = NodeRef::<leptos::html::Div>::new();
    let more_left = RwSignal::new(false);
    let more_right = RwSignal::new(false);
    let measure = move || {
        #[cfg(feature = "hydrate")]
        if let Some(el) = board_ref.get_untracked() {
            let (x, width, total) = (el.scroll_left(), el.client_width(), el.scroll_width());
            more_left.set(x > 1);
            more_right.set(x + width < total - 1);
        }
    };
    #[cfg(feature = "hydrate")]
    {
        Effect::new(move |_| {
            if board_ref.get().is_some() {
                measure();
            }
        });
        let resize = window_event_listener(leptos::ev::resize, move |_| measure());
        on_cleanup(move || resize.remove());
    }
    // The jump bar scrolls the board to a column and puts the keyboard on its heading.
    let jump = move |stage: &'static str| {
        #[cfg(feature = "hydrate")]
        {
            use wasm_bindgen::JsCast;
            let heading = document().get_element_by_id(&format!("col-{stage}")).and_then(|e| e.dyn_into::<web_sys::HtmlElement>().ok());
            let section = heading.as_ref().and_then(|h| h.closest("section").ok().flatten()).and_then(|e| e.dyn_into::<web_sys::HtmlElement>().ok());
            if let (Some(board), Some(heading), Some(section)) = (board_ref.get_untracked(), heading, section) {
                let _ = heading.focus();
                board.set_scroll_left(section.offset_left());
            }
        }
        #[cfg(not(feature = "hydrate"))]
        let _ = stage;
    };
    // The arrows at the edges scroll by one column (the pointer's way; keys have the jump bar).
    let nudge = move |direction: i32| {
        #[cfg(feature = "hydrate")]
        if let Some(board) = board_ref.get_untracked() {
            use wasm_bindgen::JsCast;
            let column = board.first_element_child().and_then(|c| c.dyn_into::<web_sys::HtmlElement>().ok()).map_or(240, |c| c.offset_width() + 12);
            board.scroll_by_with_x_and_y(f64::from(direction * column), 0.0);
        }
        #[cfg(not(feature = "hydrate"))]
        let _ = direction;
    };
    let query = use_query_map();
    let more_href = Signal::derive(move || {
        let mut q = query.get();
        q.replace("per", (per.get() + CARDS_PER_STEP).min(crate::api::leads::MAX_PER_COLUMN).to_string());
        q.to_query_string()
    });

    view! {
        {move || problem.get().map(|p| view! { <p class="alert alert-error" role="alert" data-testid="move-error">{p}</p> })}
        <nav class="board-jump" aria-label="Board columns" data-testid="board-jump">
            {STAGES.iter().map(|&(stage, label)| {
                let total = move || columns.with(|cs| cs.iter().find(|c| c.stage == stage).map_or(0, |c| c.total));
                view! {
                    <a class="chip" href=format!("#col-{stage}") on:click=move |ev| { ev.prevent_default(); jump(stage); }>
                        {label} " " <span class="count">{move || thousands(total())}</span>
                    </a>
                }
            }).collect_view()}
        </nav>
        <div class="board-wrap" class:more-left=move || more_left.get() class:more-right=move || more_right.get() data-testid="board-wrap">
            <button type="button" class="board-scroll board-scroll-left" tabindex="-1" aria-hidden="true" on:click=move |_| nudge(-1)>"‹"</button>
            <button type="button" class="board-scroll board-scroll-right" tabindex="-1" aria-hidden="true" data-testid="scroll-right" on:click=move |_| nudge(1)>"›"</button>
            <div class="board" node_ref=board_ref data-testid="board" data-can-write=can_write.to_string() on:scroll=move |_| measure()>
                {STAGES.iter().map(|&(stage, label)| view! {
                    <Column stage label columns slug=slug.clone() can_write dragging over request more_href show_more/>
                }).collect_view()}
            </div>
        </div>
        {move || asking.get().map(|(lead_id, to)| {
            let won = to == "won";
            let to_confirm = to.clone();
            view! {
                // A click beside the question cancels it, like Escape.
                <div class="modal-backdrop" on:click=move |ev| if ev.target() == ev.current_target() { cancel(lead_id); }>
                    <form class="modal card" role="dialog" aria-modal="true" aria-labelledby="move-question" data-testid="move-dialog"
                        on:keydown=move |ev| match ev.key().as_str() {
                            "Escape" => cancel(lead_id),
                            "Tab" => keep_tab_inside(&ev),
                            _ => {}
                        }
                        on:submit=move |ev| {
                            ev.prevent_default();
                            asking.set(None);
                            let (d, r) = (deal_value.get_untracked(), reason.get_untracked());
                            perform(lead_id, to_confirm.clone(), won.then_some(d), (!won).then_some(r));
                        }>
                        <h2 id="move-question">{if won { "Won: what is the deal worth?" } else { "Lost: why? (optional)" }}</h2>
                        {if won {
                            view! { <label>"Deal value ($)" <input type="text" inputmode="decimal" required placeholder="2500.00"
                                prop:value=move || deal_value.get() on:input=move |ev| deal_value.set(event_target_value(&ev))/></label> }.into_any()
                        } else {
                            view! { <label>"Reason" <input type="text" maxlength="500" placeholder="e.g. went with a competitor"
                                prop:value=move || reason.get() on:input=move |ev| reason.set(event_target_value(&ev))/></label> }.into_any()
                        }}
                        <div class="actions">
                            <button type="submit" class="button primary">{if won { "Move to won" } else { "Move to lost" }}</button>
                            <button type="button" class="button" on:click=move |_| cancel(lead_id)>"Cancel"</button>
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

/// One stage's column: its head stays put while its cards scroll, and a "Show more" at the end
/// when the stage holds more cards than are drawn.
#[component]
fn Column<R, M>(
    stage: &'static str,
    label: &'static str,
    columns: RwSignal<Vec<BoardColumn>>,
    slug: String,
    can_write: bool,
    dragging: RwSignal<Option<i64>>,
    over: RwSignal<Option<String>>,
    request: R,
    more_href: Signal<String>,
    show_more: M,
) -> impl IntoView
where
    R: Fn(i64, String) + Copy + Send + Sync + 'static,
    M: Fn() + Copy + Send + Sync + 'static,
{
    let col = Memo::new(move |_| {
        columns.with(|cs| cs.iter().find(|c| c.stage == stage).cloned()).unwrap_or(BoardColumn { stage: stage.into(), total: 0, value_cents: 0, cards: Vec::new() })
    });
    let is_over = move || over.get().as_deref() == Some(stage);
    view! {
        <section class="board-col" class:drop-target=is_over data-stage=stage aria-labelledby=format!("col-{stage}")
            on:dragover=move |ev| {
                if can_write && dragging.get_untracked().is_some() {
                    ev.prevent_default();
                    if over.get_untracked().as_deref() != Some(stage) { over.set(Some(stage.to_owned())); }
                }
            }
            on:dragleave=move |_| { if over.get_untracked().as_deref() == Some(stage) { over.set(None); } }
            on:drop=move |ev| {
                ev.prevent_default();
                over.set(None);
                if let Some(id) = dragging.get_untracked() {
                    dragging.set(None);
                    request(id, stage.to_owned());
                }
            }
        >
            <header class="board-col-head">
                <h2 id=format!("col-{stage}") tabindex="-1">{label}</h2>
                <span class="count" data-testid="column-count">{move || thousands(col.with(|c| c.total))}</span>
                {(stage == "won").then(|| view! { <span class="muted" data-testid="won-value">{move || format_cents(col.with(|c| c.value_cents))}</span> })}
            </header>
            <div class="board-col-body">
                <ol class="board-cards">
                    <For each=move || col.with(|c| c.cards.clone()) key=|c| (c.id, c.stage.clone(), c.deal_value_cents) let:card>
                        <Card card slug=slug.clone() can_write dragging request/>
                    </For>
                </ol>
                {move || {
                    let (shown, total) = col.with(|c| (c.cards.len() as i64, c.total));
                    (shown < total).then(|| view! {
                        <p class="col-more">
                            <span class="muted small">{format!("{} of {} shown", thousands(shown), thousands(total))}</span>
                            <a class="button small" href=move || more_href.get() data-testid="show-more"
                                on:click=move |ev| { ev.prevent_default(); show_more(); }>"Show more"</a>
                        </p>
                    })
                }}
            </div>
        </section>
    }
    .into_any()
}

#[component]
fn Card<R>(card: LeadCard, slug: String, can_write: bool, dragging: RwSignal<Option<i64>>, request: R) -> impl IntoView
where
    R: Fn(i64, String) + Copy + Send + Sync + 'static,
{
    let id = card.id;
    let stage = card.stage.clone();
    let href = format!("/client-portal/{slug}/leads/{id}");
    // The menu only picks a stage; the move happens on Enter or the Move button (arrow keys
    // change a native select's value, and a move on every change moved a lead per key press).
    let choice = RwSignal::new(stage.clone());
    // A won/lost question cancelled: the menu shows the card's own stage again.
    if let Some(MoveQuestion(asking)) = use_context::<MoveQuestion>() {
        let stage = stage.clone();
        Effect::watch(
            move || asking.get(),
            move |now, before, _| {
                if now.is_none() && matches!(before, Some(Some((lead, _))) if *lead == id) {
                    choice.set(stage.clone());
                }
            },
            false,
        );
    }
    let commit = {
        let stage = stage.clone();
        move || {
            let to = choice.get_untracked();
            if to != stage {
                request(id, to);
            }
        }
    };
    let commit = StoredValue::new(commit);
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
            <a class="lead-name" href=href.clone()>{card.name.clone()}</a>
            <div class="muted small">
                {card.company.clone().unwrap_or_default()}
                {card.received_on.clone().map(|d| format!(" · {d}"))}
                {card.deal_value_cents.filter(|_| card.stage == "won").map(|v| format!(" · {}", format_cents(v)))}
            </div>
            {card.snippet.clone().map(|s| view! { <p class="snippet">{s}</p> })}
            // Without the WASM the form opens the lead's page, whose own form moves it.
            {can_write.then(|| view! {
                <form class="move-row" method="get" action=href.clone() on:submit=move |ev| { ev.prevent_default(); commit.with_value(|c| c()); }>
                    <select class="move-menu" aria-label=format!("Move {} to", card.name) data-testid="move-menu"
                        prop:value=move || choice.get()
                        on:change=move |ev| choice.set(event_target_value(&ev))
                        on:keydown=move |ev| if ev.key() == "Enter" { ev.prevent_default(); commit.with_value(|c| c()); }>
                        {STAGES.iter().map(|(k, l)| view! { <option value=*k selected=*k == stage>{*l}</option> }).collect_view()}
                    </select>
                    <button type="submit" class="button small" aria-label=format!("Move {}", card.name) data-testid="move-button">"Move"</button>
                </form>
            })}
        </li>
    }
    .into_any()
}

/// The board's page when a filter in the URL can't be read (a bad date, an unknown campaign):
/// heading, the filters as typed, what is wrong, and a link back to the whole pipeline.
/// A modal question keeps the keyboard inside it: Tab from its last control goes to its first,
/// Shift+Tab from the first to the last (the board behind can't be reached until it is answered).
fn keep_tab_inside(ev: &leptos::ev::KeyboardEvent) {
    #[cfg(feature = "hydrate")]
    {
        use wasm_bindgen::JsCast;
        let Some(target) = ev.target().and_then(|t| t.dyn_into::<web_sys::Element>().ok()) else { return };
        let Some(dialog) = target.closest("[role=dialog]").ok().flatten() else { return };
        let Ok(controls) = dialog.query_selector_all("input, button") else { return };
        let (Some(first), Some(last)) = (controls.item(0), controls.item(controls.length().saturating_sub(1))) else { return };
        let wrap_to = match (ev.shift_key(), target.is_same_node(Some(&first)), target.is_same_node(Some(&last))) {
            (true, true, _) => Some(last),
            (false, _, true) => Some(first),
            _ => None,
        };
        if let Some(el) = wrap_to.and_then(|n| n.dyn_into::<web_sys::HtmlElement>().ok()) {
            ev.prevent_default();
            let _ = el.focus();
        }
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = ev;
}

/// The won/lost question open on the board, if any: (lead, stage asked for).
#[derive(Clone, Copy)]
struct MoveQuestion(RwSignal<Option<(i64, String)>>);

#[component]
fn BadFilter(slug: String, message: String) -> impl IntoView {
    let query = use_query_map();
    let param = move |k: &str| query.with_untracked(|q| q.get(k).unwrap_or_default());
    let reset = format!("/client-portal/{slug}");
    view! {
        <Title text="Pipeline"/>
        <p class="breadcrumb"><a href="/client-portal">"My workspaces"</a> " / "</p>
        <div class="page-head"><h1>"Pipeline"</h1></div>
        <form method="get" class="filters" role="search" data-testid="bad-filter">
            <label>"Search" <input type="search" name="q" value=param("q") placeholder="name, email or company"/></label>
            <label>"Received from" <input type="date" name="from" value=param("from")/></label>
            <label>"to" <input type="date" name="to" value=param("to")/></label>
            <button type="submit" class="button">"Apply"</button>
        </form>
        <p class="alert alert-error" role="alert">{format!("These filters can't be applied. {message}")}</p>
        <p><a class="button" href=reset data-testid="reset-filters">"Reset the filters"</a></p>
    }
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
