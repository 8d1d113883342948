//! The signed-in user's own account: change password.

use leptos::{form::ActionForm, prelude::*};
use leptos_meta::Title;

use crate::{
    api::ChangePassword,
    components::{guard::RequireUser, ui::ActionResult},
};

#[component]
pub fn ChangePasswordPage() -> impl IntoView {
    let change = ServerAction::<ChangePassword>::new();
    view! {
        <Title text="Change password"/>
        <RequireUser>
            <section class="card narrow">
                <h1>"Change password"</h1>
                <p class="muted">"At least 10 characters. Your other signed-in browsers will be signed out."</p>
                <ActionForm action=change attr:class="stack">
                    <label>"Current password" <input type="password" name="current" autocomplete="current-password" required/></label>
                    <label>"New password" <input type="password" name="new_password" autocomplete="new-password" minlength="10" required/></label>
                    <label>"Repeat the new password" <input type="password" name="confirm" autocomplete="new-password" minlength="10" required/></label>
                    <button type="submit" class="button primary" disabled=move || change.pending().get()>"Change password"</button>
                </ActionForm>
                <ActionResult value=change.value() success="Your password was changed."/>
            </section>
        </RequireUser>
    }
}
