//! Maverick's pages, components and server functions. Compiled twice: with `ssr` into the host
//! (where server functions run and call the `backend` crate) and with `hydrate` into WASM.

pub mod api;
pub mod components;
pub mod error;
pub mod models;
pub mod money;
pub mod pages;

use leptos::prelude::*;
use leptos_meta::{provide_meta_context, HashedStylesheet, Link, Meta, MetaTags, Title};
use leptos_router::{
    components::{Route, Router, Routes},
    path, SsrMode,
};

use crate::{
    components::{guard::CurrentUser, layout::AppShell, status::NotFound},
    pages::{account::ChangePasswordPage, admin, integrations, lead, login::LoginPage, personalization, portal, public},
};

/// The HTML document. The theme comes from a cookie so the first paint is already right. The
/// stylesheet and scripts carry content hashes in their names when the build made them (see
/// server/src/assets.rs).
pub fn shell(options: LeptosOptions) -> impl IntoView {
    let theme = components::theme::theme_from_request();
    let hydrate = page_needs_wasm();
    view! {
        <!DOCTYPE html>
        <html lang="en" data-theme=theme>
            <head>
                <meta charset="utf-8"/>
                <meta name="viewport" content="width=device-width, initial-scale=1"/>
                <HashedStylesheet options=options.clone() id="leptos"/>
                <AutoReload options=options.clone()/>
                {hydrate.then(|| view! { <HydrationScripts options/> })}
                <MetaTags/>
            </head>
            <body>
                <App/>
            </body>
        </html>
    }
}

/// Sign-in is a plain form posted to the host (and the theme toggle a form too), so its page works
/// entirely as HTML: it skips the WASM, which a first visit would otherwise download before the
/// user has even signed in (docs/performance.md). So do the other signed-out pages (public home,
/// forgot password, reset). Every other page hydrates.
pub const PLAIN_HTML_PAGES: &[&str] = &["/", "/login", "/forgot-password", "/reset-password"];

fn page_needs_wasm() -> bool {
    #[cfg(feature = "ssr")]
    {
        use_context::<http::request::Parts>().is_none_or(|parts| !PLAIN_HTML_PAGES.contains(&parts.uri.path()))
    }
    #[cfg(not(feature = "ssr"))]
    true
}

#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    CurrentUser::provide();

    view! {
        <Link rel="icon" href="/favicon.svg" type_="image/svg+xml"/>
        <Meta name="color-scheme" content="light dark"/>
        <Title formatter=|text: String| if text.is_empty() { "Maverick".to_owned() } else { format!("{text} · Maverick") }/>
        <Router>
            <AppShell>
                <Routes fallback=NotFound>
                    <Route path=path!("/") view=public::PublicHomePage ssr=SsrMode::Async/>
                    <Route path=path!("/login") view=LoginPage/>
                    <Route path=path!("/forgot-password") view=public::ForgotPasswordPage ssr=SsrMode::Async/>
                    <Route path=path!("/reset-password") view=public::ResetPasswordPage/>
                    <Route path=path!("/account/password") view=ChangePasswordPage ssr=SsrMode::Async/>
                    <Route path=path!("/admin") view=admin::home::AdminHome ssr=SsrMode::Async/>
                    <Route path=path!("/admin/kpi") view=admin::kpi::KpiPage ssr=SsrMode::Async/>
                    <Route path=path!("/admin/revenue") view=admin::revenue::RevenuePage ssr=SsrMode::Async/>
                    <Route path=path!("/admin/roi") view=admin::roi::RoiPage ssr=SsrMode::Async/>
                    <Route path=path!("/admin/volume") view=admin::volume::VolumePage ssr=SsrMode::Async/>
                    <Route path=path!("/admin/rollout") view=admin::rollout::RolloutPage ssr=SsrMode::Async/>
                    <Route path=path!("/admin/zips") view=admin::zips::ZipsPage ssr=SsrMode::Async/>
                    <Route path=path!("/admin/senders") view=admin::senders::SendersPage ssr=SsrMode::Async/>
                    <Route path=path!("/admin/contacts") view=admin::contacts::ContactsPipelinePage ssr=SsrMode::Async/>
                    <Route path=path!("/admin/automations") view=admin::automations::AutomationsPage ssr=SsrMode::Async/>
                    <Route path=path!("/admin/prospects") view=admin::prospects::ProspectsPage ssr=SsrMode::Async/>
                    <Route path=path!("/admin/users") view=admin::users::UsersPage ssr=SsrMode::Async/>
                    <Route path=path!("/admin/integrations") view=integrations::AdminIntegrationsPage ssr=SsrMode::Async/>
                    <Route path=path!("/admin/clients") view=admin::clients::ClientsPage ssr=SsrMode::Async/>
                    <Route path=path!("/admin/clients/:slug") view=admin::client_profile::ClientProfilePage ssr=SsrMode::Async/>
                    <Route path=path!("/personalization") view=personalization::PersonalizationHubPage ssr=SsrMode::Async/>
                    <Route path=path!("/personalization/:id") view=personalization::PersonalizationCampaignPageView ssr=SsrMode::Async/>
                    <Route path=path!("/client-portal") view=portal::PortalHub ssr=SsrMode::Async/>
                    <Route path=path!("/client-portal/:workspace") view=portal::WorkspacePortal ssr=SsrMode::Async/>
                    <Route path=path!("/client-portal/:workspace/leads/:id") view=lead::LeadPage ssr=SsrMode::Async/>
                    <Route path=path!("/client-portal/:workspace/integrations") view=integrations::PortalIntegrationsPage ssr=SsrMode::Async/>
                </Routes>
            </AppShell>
        </Router>
    }
}
