//! Pages for signed-out visitors: the agency's public home at `/`, "forgot password" and the
//! page a reset link leads to. Their forms are plain HTML posted to the host
//! (`server/src/web_auth.rs`), so they work without the WASM (which these pages skip); refusals
//! come back as codes in the URL and are worded here.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use crate::{api::public_info, components::status::Loading};

/// `/` for visitors (signed-in users are sent to their home by the host before this renders).
#[component]
pub fn PublicHomePage() -> impl IntoView {
    let info = Resource::new_blocking(|| (), |_| public_info());
    view! {
        <Suspense fallback=Loading>
            {move || Suspend::new(async move {
                let info = info.await.unwrap_or_default();
                view! {
                    <Title text=info.agency_name.clone()/>
                    <section class="auth-card" data-testid="public-home">
                        <h1>{info.agency_name}</h1>
                        <p>{info.text}</p>
                        <a class="button primary" href="/login">"Sign in"</a>
                    </section>
                }.into_any()
            })}
        </Suspense>
    }
}

/// The words for each code the host sends back to the forgot-password page.
pub fn forgot_message(code: &str, minutes: Option<&str>) -> Option<String> {
    Some(match code {
        "missing" => "Enter your email address.".into(),
        "throttled" => format!(
            "Too many reset requests. Try again in {} minutes, or ask your agency admin to reset your password.",
            minutes.and_then(|m| m.parse::<u32>().ok()).unwrap_or(60)
        ),
        "internal" => "Something went wrong on our side. Please try again.".into(),
        _ => return None,
    })
}

#[component]
pub fn ForgotPasswordPage() -> impl IntoView {
    let query = use_query_map();
    let info = Resource::new_blocking(|| (), |_| public_info());
    let sent = move || query.with(|q| q.get("sent").is_some());
    let error = move || query.with(|q| q.get("error").and_then(|c| forgot_message(&c, q.get("retry").as_deref())));
    view! {
        <Title text="Forgot password"/>
        <section class="auth-card">
            <h1>"Forgot your password?"</h1>
            {move || sent().then(|| view! {
                <p class="alert alert-ok" role="status" data-testid="reset-sent">
                    "If that address belongs to an account, a link to choose a new password is on its way. It works once, for 30 minutes."
                </p>
            })}
            {move || error().map(|m| view! { <p class="alert alert-error" role="alert" data-testid="forgot-error">{m}</p> })}
            <form method="post" action="/auth/forgot" class="stack">
                <label>"Email" <input type="email" name="email" autocomplete="username" required autofocus/></label>
                <button type="submit" class="button primary">"Email me a link"</button>
            </form>
            <Suspense fallback=|| ()>
                {move || Suspend::new(async move {
                    let mail = info.await.map(|i| i.mail_configured).unwrap_or(true);
                    (!mail).then(|| view! {
                        <p class="muted" data-testid="no-mail">"This server sends no mail yet: your agency admin can reset your password for you."</p>
                    })
                })}
            </Suspense>
            <p><a href="/login">"Back to sign in"</a></p>
        </section>
    }
}

/// The words for each code the host sends back to the reset page: a link that can't be used
/// (then there is no form, only the way to a new link), or a password to fix.
pub fn reset_message(code: &str) -> Option<(&'static str, bool)> {
    Some(match code {
        "expired" => ("This link has expired — ask for a new one.", true),
        "used" => ("This link was already used — ask for a new one.", true),
        "invalid" => ("This link is not valid — ask for a new one.", true),
        "short" => ("The password must be at least 10 characters long.", false),
        "long" => ("The password must be at most 256 characters long.", false),
        "blank" => ("The password cannot be only spaces.", false),
        "mismatch" => ("The two passwords differ.", false),
        "internal" => ("Something went wrong on our side. Please try again.", false),
        _ => return None,
    })
}

#[component]
pub fn ResetPasswordPage() -> impl IntoView {
    let query = use_query_map();
    let token = move || query.with(|q| q.get("token").unwrap_or_default());
    let message = move || query.with(|q| q.get("error").and_then(|c| reset_message(&c)));
    view! {
        <Title text="Choose a new password"/>
        <section class="auth-card">
            <h1>"Choose a new password"</h1>
            {move || match (message(), token().is_empty()) {
                (Some((m, true)), _) => view! {
                    <p class="alert alert-error" role="alert" data-testid="link-refused">{m}</p>
                    <p><a class="button primary" href="/forgot-password">"Ask for a new link"</a></p>
                }.into_any(),
                (_, true) => view! {
                    <p class="alert alert-error" role="alert" data-testid="link-refused">"This link is not valid — ask for a new one."</p>
                    <p><a class="button primary" href="/forgot-password">"Ask for a new link"</a></p>
                }.into_any(),
                (m, false) => view! {
                    {m.map(|(m, _)| view! { <p class="alert alert-error" role="alert" data-testid="reset-error">{m}</p> })}
                    <form method="post" action="/auth/reset" class="stack">
                        <input type="hidden" name="token" value=token()/>
                        <label>"New password" <input type="password" name="password" autocomplete="new-password" minlength="10" required autofocus/></label>
                        <label>"Repeat it" <input type="password" name="confirm" autocomplete="new-password" minlength="10" required/></label>
                        <button type="submit" class="button primary">"Set the password"</button>
                    </form>
                    <p class="muted">"Every session of your account is signed out when the new password is set."</p>
                }.into_any(),
            }}
        </section>
    }
}
