//! The frame around every page: header with navigation for the caller's role, account menu,
//! theme toggle, skip link, and an error boundary around the page itself.

use leptos::prelude::*;
use leptos_router::hooks::use_location;

use super::{guard::CurrentUser, status::ErrorPanel, theme::ThemeToggle, ui::close_on_escape};
use crate::models::Me;

#[component]
fn NavLink(href: &'static str, label: &'static str, #[prop(optional)] exact: bool) -> impl IntoView {
    let location = use_location();
    let current = move || {
        let path = location.pathname.get();
        if exact {
            path == href
        } else {
            path == href || path.starts_with(&format!("{href}/"))
        }
    };
    view! {
        <a href=href class="nav-link" aria-current=move || current().then_some("page")>{label}</a>
    }
}

/// The caller's navigation links; rendered twice (inline on wide screens, in the "Menu"
/// disclosure on narrow ones), CSS shows one.
fn links(admin: bool) -> AnyView {
    if admin {
        view! {
            <NavLink href="/admin" label="Home" exact=true/>
            <NavLink href="/admin/kpi" label="KPI"/>
            <NavLink href="/admin/volume" label="Volume"/>
            <NavLink href="/admin/revenue" label="Revenue"/>
            <NavLink href="/admin/roi" label="ROI"/>
            <NavLink href="/admin/senders" label="Senders"/>
            <NavLink href="/admin/contacts" label="Contacts"/>
            <NavLink href="/admin/automations" label="Automations"/>
            <NavLink href="/admin/prospects" label="Prospects"/>
            <NavLink href="/admin/zips" label="ZIPs"/>
            <NavLink href="/personalization" label="Personalization"/>
            <NavLink href="/admin/rollout" label="Rollout"/>
            <NavLink href="/admin/clients" label="Clients"/>
        }
        .into_any()
    } else {
        view! {
            <NavLink href="/client-portal" label="My workspaces"/>
            <NavLink href="/personalization" label="Personalization"/>
        }
        .into_any()
    }
}

#[component]
fn Nav(me: Me) -> impl IntoView {
    let admin = me.is_admin();
    // The admin's 12 links need a wide screen; they fold into the menu earlier (style/main.css).
    let long = if admin { " nav-long" } else { "" };
    // Following a link from the open menu closes it (with WASM the page changes without a reload).
    let menu = NodeRef::<leptos::html::Details>::new();
    let location = use_location();
    Effect::new(move |_| {
        location.pathname.track();
        if let Some(d) = menu.get_untracked() {
            let _ = d.remove_attribute("open");
        }
    });
    view! {
        <nav class=format!("main-nav{long}") aria-label="Main">{links(admin)}</nav>
        <details class=format!("nav-menu{long}") node_ref=menu on:keydown=close_on_escape>
            <summary class="button" data-testid="nav-menu">"Menu"</summary>
            <div class="menu">
                <nav aria-label="Main">{links(admin)}</nav>
            </div>
        </details>
        <details class="account-menu" on:keydown=close_on_escape>
            // No aria-label: the name is the visible text (avatar hidden), plus a hidden hint.
            <summary>
                <span class="avatar" aria-hidden="true">{me.display_name.chars().next().unwrap_or('?').to_string()}</span>
                <span class="account-name">{me.display_name.clone()}</span>
                <span class="visually-hidden">" (account menu)"</span>
            </summary>
            <div class="menu" role="menu">
                <p class="muted menu-email">{me.email.clone()} " · " {me.role.clone()}</p>
                // Agency settings that are not a daily page live here, keeping the header one row.
                {me.is_admin().then(|| view! {
                    <a href="/admin/users" role="menuitem">"Users and access"</a>
                    <a href="/admin/integrations" role="menuitem">"Integrations (API, webhooks)"</a>
                    <a href="/client-portal" role="menuitem">"Client portal (as clients see it)"</a>
                })}
                <a href="/account/password" role="menuitem">"Change password"</a>
                <form method="post" action="/auth/logout">
                    <button type="submit" role="menuitem" class="link-button" data-testid="logout">"Sign out"</button>
                </form>
            </div>
        </details>
    }
}

#[component]
pub fn AppShell(children: Children) -> impl IntoView {
    let user = CurrentUser::resource();
    view! {
        <a href="#main" class="skip-link">"Skip to content"</a>
        <header class="topbar">
            <a href="/" class="brand"><span class="brand-mark" aria-hidden="true">"M"</span>"Maverick"</a>
            <Suspense fallback=|| ()>
                {move || Suspend::new(async move {
                    user.await.ok().flatten().map(|me| view! { <Nav me/> })
                })}
            </Suspense>
            <ThemeToggle/>
        </header>
        <main id="main" class="page" tabindex="-1">
            <ErrorBoundary fallback=|errors| view! { <ErrorPanel errors/> }>{children()}</ErrorBoundary>
        </main>
    }
}
