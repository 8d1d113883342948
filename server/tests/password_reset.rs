//! Password reset by email and the public home, over HTTP against a real host and a local SMTP
//! server (issue 19): the forgot form answers the same for any address, the mailed link opens
//! the form once, expired and used links get a page that says so, requests are throttled, every
//! session of the user ends, admins send set-password links, and `/` is a public page for
//! visitors only. SQLite by default, PostgreSQL when TEST_DATABASE_URL is set.

mod common;

use backend::platform::{config::MailSettings, testing::FakeSmtp};
use common::{browser, TestServer};
use reqwest::Client;

async fn mailing_host(smtp: &FakeSmtp) -> TestServer {
    let url = smtp.url();
    common::start_with(move |c| {
        c.public_url = Some("https://maverick.example".into());
        c.mail = MailSettings { smtp_url: Some(url), from: Some("Maverick <noreply@agency.test>".into()) };
    })
    .await
}

fn location(res: &reqwest::Response) -> String {
    assert_eq!(res.status(), 303, "expected a redirect");
    res.headers()["location"].to_str().unwrap().to_owned()
}

async fn forgot(srv: &TestServer, c: &Client, email: &str) -> String {
    location(&c.post(srv.url("/auth/forgot")).form(&[("email", email)]).send().await.unwrap())
}

async fn page(srv: &TestServer, c: &Client, path: &str) -> String {
    let res = c.get(srv.url(path)).send().await.unwrap();
    assert_eq!(res.status(), 200, "{path}");
    res.text().await.unwrap()
}

async fn page_or_404(srv: &TestServer, c: &Client, path: &str) -> String {
    c.get(srv.url(path)).send().await.unwrap().text().await.unwrap()
}

async fn set_password(srv: &TestServer, c: &Client, token: &str, new: &str, confirm: &str) -> String {
    location(&c.post(srv.url("/auth/reset")).form(&[("token", token), ("password", new), ("confirm", confirm)]).send().await.unwrap())
}

async fn signed_in(srv: &TestServer, c: &Client) -> bool {
    let (status, body) = srv.call(c, "/api/me", &[]).await;
    assert_eq!(status, 200, "{body}");
    body != "null"
}

#[tokio::test]
async fn the_mailed_link_sets_the_password_once_and_signs_out_every_session() {
    let smtp = FakeSmtp::start().await;
    let srv = mailing_host(&smtp).await;
    let visitor = browser();
    assert!(page(&srv, &visitor, "/login").await.contains("href=\"/forgot-password\""));
    let form = page(&srv, &visitor, "/forgot-password").await;
    assert!(form.contains("action=\"/auth/forgot\""), "a plain form");
    assert!(!form.contains("sends no mail"), "mail is configured");

    let (tab1, tab2) = (srv.sign_in("clienta@acme.test").await, srv.sign_in("clienta@acme.test").await);
    assert!(signed_in(&srv, &tab1).await && signed_in(&srv, &tab2).await);

    // Known and unknown addresses: the same answer.
    assert_eq!(forgot(&srv, &visitor, "ClientA@acme.test").await, "/forgot-password?sent=1");
    assert_eq!(forgot(&srv, &visitor, "nobody@acme.test").await, "/forgot-password?sent=1");
    assert!(page(&srv, &visitor, "/forgot-password?sent=1").await.contains("a link to choose a new password is on its way"));
    let mails = smtp.wait_for(1).await;
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert_eq!(smtp.mails().len(), 1, "no mail for the unknown address");
    assert_eq!(mails[0].to, vec!["clienta@acme.test".to_string()]);
    let token = mails[0].reset_token().unwrap();
    assert!(mails[0].text().contains(&format!("https://maverick.example/auth/reset?token={token}")));

    // The link opens the form.
    let to = location(&visitor.get(srv.url(&format!("/auth/reset?token={token}"))).send().await.unwrap());
    assert_eq!(to, format!("/reset-password?token={token}"));
    let form = page(&srv, &visitor, &to).await;
    assert!(form.contains("action=\"/auth/reset\"") && form.contains(&format!("value=\"{token}\"")), "{form}");

    // A password to fix goes back to the form, with the words on the page.
    let to = set_password(&srv, &visitor, &token, "new-password-22", "new-password-23").await;
    assert_eq!(to, format!("/reset-password?token={token}&error=mismatch"));
    assert!(page(&srv, &visitor, &to).await.contains("The two passwords differ."));
    let to = set_password(&srv, &visitor, &token, "short", "short").await;
    assert!(page(&srv, &visitor, &to).await.contains("at least 10 characters"));

    assert_eq!(set_password(&srv, &visitor, &token, "new-password-22", "new-password-22").await, "/login?reset=1");
    assert!(page(&srv, &visitor, "/login?reset=1").await.contains("Your new password is set."));
    // Both sessions ended; the new password signs in, the old one does not.
    assert!(!signed_in(&srv, &tab1).await && !signed_in(&srv, &tab2).await, "every session of the user is signed out");
    let res = srv.post_login(&browser(), "clienta@acme.test", common::PASSWORD, None).await;
    assert!(location(&res).contains("error=credentials"));
    let res = srv.post_login(&browser(), "clienta@acme.test", "new-password-22", None).await;
    assert_eq!(location(&res), "/client-portal");

    // Used: the link and the form both say so, and change nothing.
    let to = location(&visitor.get(srv.url(&format!("/auth/reset?token={token}"))).send().await.unwrap());
    assert_eq!(to, "/reset-password?error=used");
    let refused = page(&srv, &visitor, &to).await;
    assert!(refused.contains("This link was already used — ask for a new one.") && refused.contains("href=\"/forgot-password\""), "{refused}");
    assert!(!refused.contains("action=\"/auth/reset\""), "no form for a used link");
    assert_eq!(set_password(&srv, &visitor, &token, "third-password-3", "third-password-3").await, "/reset-password?error=used");
    let res = srv.post_login(&browser(), "clienta@acme.test", "new-password-22", None).await;
    assert_eq!(location(&res), "/client-portal");
    // A made-up link.
    let to = location(&visitor.get(srv.url("/auth/reset?token=made-up")).send().await.unwrap());
    assert!(page(&srv, &visitor, &to).await.contains("This link is not valid — ask for a new one."));
}

#[tokio::test]
async fn an_expired_link_gets_a_page_that_says_so() {
    let smtp = FakeSmtp::start().await;
    let srv = mailing_host(&smtp).await;
    let visitor = browser();
    forgot(&srv, &visitor, "clienta@acme.test").await;
    let token = smtp.wait_for(1).await[0].reset_token().unwrap();
    backend::on_db!(&srv.state.db, |p| sqlx::query("UPDATE password_resets SET expires_at = $1")
        .bind(chrono::Utc::now() - chrono::Duration::seconds(1))
        .execute(p)
        .await
        .map(|_| ()))
    .unwrap();
    let to = location(&visitor.get(srv.url(&format!("/auth/reset?token={token}"))).send().await.unwrap());
    assert_eq!(to, "/reset-password?error=expired");
    assert!(page(&srv, &visitor, &to).await.contains("This link has expired — ask for a new one."));
    assert_eq!(set_password(&srv, &visitor, &token, "new-password-22", "new-password-22").await, "/reset-password?error=expired");
    let res = srv.post_login(&browser(), "clienta@acme.test", common::PASSWORD, None).await;
    assert_eq!(location(&res), "/client-portal", "the password is unchanged");
}

#[tokio::test]
async fn requests_are_throttled_and_without_smtp_the_page_points_to_the_admin() {
    let srv = common::start().await;
    let visitor = browser();
    assert!(page(&srv, &visitor, "/forgot-password").await.contains("your agency admin can reset your password"));
    for _ in 0..3 {
        assert_eq!(forgot(&srv, &visitor, "clienta@acme.test").await, "/forgot-password?sent=1");
    }
    let to = forgot(&srv, &visitor, "clienta@acme.test").await;
    assert_eq!(to, "/forgot-password?error=throttled&retry=60");
    assert!(page(&srv, &visitor, &to).await.contains("Too many reset requests. Try again in 60 minutes"));
    assert_eq!(forgot(&srv, &visitor, "  ").await, "/forgot-password?error=missing");
    // Without SMTP the links were written to the log, and they work.
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let links: i64 = backend::on_db!(&srv.state.db, |p| sqlx::query_scalar("SELECT COUNT(*) FROM password_resets").fetch_one(p).await).unwrap();
    assert_eq!(links, 3);
}

#[tokio::test]
async fn admins_send_set_password_links_to_existing_and_new_users() {
    let smtp = FakeSmtp::start().await;
    let srv = mailing_host(&smtp).await;
    let admin = srv.sign_in("admin@agency.test").await;
    let (status, body) = srv.call(&admin, "/api/admin/users/send_password_link", &[("user_id", srv.fx.client_a_id.to_string())]).await;
    assert_eq!((status, body.as_str()), (200, "\"Link mailed; it works once, for 30 minutes.\""));
    let mails = smtp.wait_for(1).await;
    assert_eq!(mails[0].to, vec!["clienta@acme.test".to_string()]);
    assert!(mails[0].data.contains("Subject: Set your Maverick password"));

    // A new user without a password: created with one nobody knows, and sent a link.
    let args = [("email", "newbie@acme.test".to_string()), ("display_name", "Newbie".to_string()), ("role", "client".to_string()), ("password", String::new())];
    let (status, body) = srv.call(&admin, "/api/admin/users/create", &args).await;
    assert_eq!(status, 200, "{body}");
    let mails = smtp.wait_for(2).await;
    assert_eq!(mails[1].to, vec!["newbie@acme.test".to_string()]);
    let token = mails[1].reset_token().unwrap();
    let visitor = browser();
    assert_eq!(set_password(&srv, &visitor, &token, "my-own-password", "my-own-password").await, "/login?reset=1");
    assert_eq!(location(&srv.post_login(&browser(), "newbie@acme.test", "my-own-password", None).await), "/client-portal");

    // Clients can't.
    let client = srv.sign_in("clienta@acme.test").await;
    let (status, _) = srv.call(&client, "/api/admin/users/send_password_link", &[("user_id", srv.fx.client_b_id.to_string())]).await;
    assert_eq!(status, 403);
    let actions: Vec<String> = backend::identity::audit::recent(&srv.state.db, 50).await.unwrap().into_iter().map(|e| e.action).collect();
    assert_eq!(actions.iter().filter(|a| *a == "user.password_link_sent").count(), 2, "{actions:?}");
}

#[tokio::test]
async fn the_public_home_is_for_visitors_and_its_text_is_set_by_an_admin() {
    let srv = common::start().await;
    let visitor = browser();
    let home = page(&srv, &visitor, "/").await;
    assert!(home.contains("Client portal of our lead-generation agency.") && home.contains("href=\"/login\""), "{home}");
    // Plain pages for visitors: no WASM (a page that hydrates, for contrast, preloads it).
    assert!(page_or_404(&srv, &visitor, "/no-such-page").await.contains("modulepreload"));
    for path in ["/", "/forgot-password", "/reset-password?token=x"] {
        let html = page(&srv, &visitor, path).await;
        assert!(!html.contains(".wasm") && !html.contains("modulepreload"), "{path}: {html}");
    }

    let admin = srv.sign_in("admin@agency.test").await;
    let (status, body) = srv.call(&admin, "/api/admin/public_home", &[("agency_name", "Northwind Leads".into()), ("text", "We fill calendars.".into())]).await;
    assert_eq!(status, 200, "{body}");
    let (status, body) = srv.call(&admin, "/api/admin/public_home", &[("agency_name", " ".into()), ("text", "x".into())]).await;
    assert_eq!(status, 400);
    assert!(body.contains("The agency name must be 1 to 80 characters."), "{body}");
    let home = page(&srv, &visitor, "/").await;
    assert!(home.contains("Northwind Leads") && home.contains("We fill calendars."), "{home}");

    // Signed-in users go straight to their own home.
    assert_eq!(location(&admin.get(srv.url("/")).send().await.unwrap()), "/admin");
    let client = srv.sign_in("clienta@acme.test").await;
    assert_eq!(location(&client.get(srv.url("/")).send().await.unwrap()), "/client-portal");
    let viewer = srv.sign_in("viewera@acme.test").await;
    assert_eq!(location(&viewer.get(srv.url("/")).send().await.unwrap()), "/client-portal");
    // Clients can't change it.
    let (status, _) = srv.call(&client, "/api/admin/public_home", &[("agency_name", "Hijacked".into()), ("text", "x".into())]).await;
    assert_eq!(status, 403);
}
