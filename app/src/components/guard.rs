//! Who is signed in, for every page, and the guards that keep pages to the right people.
//! The host already redirects visitors away from protected paths before rendering; these guards
//! decide admin-versus-client and cover navigation inside the hydrated app.

use leptos::prelude::*;
use leptos_router::{components::Redirect, hooks::use_location};

use super::status::{Forbidden, Loading};
use crate::{api::current_user, error::AppError, models::Me};

#[derive(Clone, Copy)]
pub struct CurrentUser(pub Resource<Result<Option<Me>, AppError>>);

impl CurrentUser {
    /// Loads the signed-in user once per page load; blocking, so guarded pages get their
    /// HTTP status (403…) before the first byte is sent.
    pub fn provide() {
        provide_context(CurrentUser(Resource::new_blocking(|| (), |_| current_user())));
    }

    pub fn resource() -> Resource<Result<Option<Me>, AppError>> {
        expect_context::<CurrentUser>().0
    }
}

fn login_redirect() -> impl IntoView {
    let location = use_location();
    let next = location.pathname.get_untracked();
    let path = format!("/login?next={}", encode_component(&next));
    view! { <Redirect path=path/> }
}

/// Percent-encodes a URL query component.
pub fn encode_component(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len());
    for b in raw.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b'/' => out.push(b as char),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// Renders `children` for any signed-in user (given to them), else sends them to sign in.
#[component]
pub fn RequireUser(children: ChildrenFn) -> impl IntoView {
    let user = CurrentUser::resource();
    view! {
        <Suspense fallback=Loading>
            {move || {
                let children = children.clone();
                Suspend::new(async move {
                    match user.await {
                        Ok(Some(_)) => children().into_any(),
                        _ => login_redirect().into_any(),
                    }
                })
            }}
        </Suspense>
    }
}

/// Renders `children` for admins; other users get a 403 page, visitors the sign-in page.
#[component]
pub fn RequireAdmin(children: ChildrenFn) -> impl IntoView {
    let user = CurrentUser::resource();
    view! {
        <Suspense fallback=Loading>
            {move || {
                let children = children.clone();
                Suspend::new(async move {
                    match user.await {
                        Ok(Some(me)) if me.is_admin() => children().into_any(),
                        Ok(Some(_)) => view! { <Forbidden/> }.into_any(),
                        _ => login_redirect().into_any(),
                    }
                })
            }}
        </Suspense>
    }
}
