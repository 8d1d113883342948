//! Sign-in. A plain HTML form posted to the host (`POST /auth/login`), so it works before (and
//! without) the WASM; errors come back as a code in the URL and are worded here.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

/// The words for each refusal code the host may send back.
pub fn login_message(code: &str, minutes: Option<&str>) -> Option<String> {
    Some(match code {
        "credentials" => "Wrong email or password.".into(),
        "missing" => "Enter your email and password.".into(),
        "disabled" => "This account is disabled. Ask your agency admin to re-enable it.".into(),
        "throttled" => format!(
            "Too many failed sign-in attempts. Try again in {} minutes, or ask your agency admin to reset your password.",
            minutes.and_then(|m| m.parse::<u32>().ok()).unwrap_or(15)
        ),
        "expired" => "Your session has ended. Please sign in again.".into(),
        "internal" => "Something went wrong on our side. Please try again.".into(),
        _ => return None,
    })
}

#[component]
pub fn LoginPage() -> impl IntoView {
    let query = use_query_map();
    let error = move || query.with(|q| q.get("error").and_then(|c| login_message(&c, q.get("retry").as_deref())));
    let signed_out = move || query.with(|q| q.get("signed_out").is_some());
    let reset_done = move || query.with(|q| q.get("reset").is_some());
    let next = move || query.with(|q| q.get("next").unwrap_or_default());
    let email = move || query.with(|q| q.get("email").unwrap_or_default());
    view! {
        <Title text="Sign in"/>
        <section class="auth-card">
            <h1>"Sign in to Maverick"</h1>
            {move || signed_out().then(|| view! { <p class="alert alert-ok" role="status">"You are signed out."</p> })}
            {move || reset_done().then(|| view! { <p class="alert alert-ok" role="status" data-testid="reset-done">"Your new password is set. Sign in with it."</p> })}
            {move || error().map(|m| view! { <p class="alert alert-error" role="alert" data-testid="login-error">{m}</p> })}
            <form method="post" action="/auth/login" class="stack">
                <input type="hidden" name="next" value=next/>
                <label>"Email" <input type="email" name="email" autocomplete="username" required autofocus value=email/></label>
                <label>"Password" <input type="password" name="password" autocomplete="current-password" required/></label>
                <button type="submit" class="button primary">"Sign in"</button>
            </form>
            <p><a href="/forgot-password" data-testid="forgot-link">"Forgot password?"</a></p>
        </section>
    }
}
