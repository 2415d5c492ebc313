//! Helpers for the console tests: the portal's test world (projects with customers,
//! emails over SMTP to a capture, a small browser) plus staff members, each signed in
//! to the console by a session made for them. The sign-in flows themselves (CRM OAuth,
//! the emailed link) are tested in tests/console/sign_in.rs; everything else starts
//! signed in.
// Shared by several test modules, each of which uses only part of it.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use handoff::domain::people::StaffRole;
use handoff::domain::{Email, UserId};
use handoff::engine::invite::token_hash;
use handoff::store::{NewConsoleSession, NewStaff};

use crate::portal_support::{Browser, Portal};

/// The staff cast: an admin and a staff member.
pub const ADA: &str = "ada@handoff.example";
pub const SAM: &str = "sam@handoff.example";

/// Adds a staff account (or finds it, giving it `role`) and returns its id.
pub async fn add_staff(portal: &Portal, email: &str, role: StaffRole) -> UserId {
    let first = email.split('@').next().unwrap();
    let new = NewStaff {
        email: Email::parse(email).unwrap(),
        first_name: Some(format!("{}{}", first[..1].to_uppercase(), &first[1..])),
        last_name: Some("Staff".into()),
        crm_users: Vec::new(),
        role,
    };
    portal.app.state.engine.add_staff(&new, "test").await.unwrap().user_id
}

/// A browser signed in to the console as `email` (added as staff with `role` first).
pub async fn staff_browser(portal: &Portal, email: &str, role: StaffRole) -> Browser {
    let user = add_staff(portal, email, role).await;
    // Shaped as the console's ids are (43 base64url characters), or the cookie is ignored.
    let id = format!("test{}{}", uuid::Uuid::now_v7().simple(), "x".repeat(7));
    let now = chrono::Utc::now();
    let session = NewConsoleSession {
        id_hash: &token_hash(&id),
        signed_in_with: "test",
        now,
        expires_at: now + chrono::Duration::hours(8),
        replacing: None,
    };
    portal.app.store().start_console_session(user, &session).await.unwrap();
    let mut browser = portal.browser();
    browser.cookies.insert("handoff_console".into(), id);
    browser
}

/// The form token of the console page at `path` (every signed-in page carries one in
/// its sign-out form).
pub async fn csrf(browser: &mut Browser, path: &str) -> String {
    let page = browser.get(path).await;
    assert_eq!(page.status, 200, "GET {path}: {}", page.body);
    page.csrf()
}

/// A token for the JSON API named `name`, made as `handoff api-token create` makes one.
pub async fn api_token(portal: &Portal, name: &str) -> String {
    let new = handoff::domain::api_token::NewApiToken::generate().unwrap();
    portal
        .app
        .store()
        .create_api_token(&handoff::domain::api_token::ApiTokenName::parse(name).unwrap(), &new)
        .await
        .unwrap();
    secrecy::ExposeSecret::expose_secret(&new.token).to_owned()
}

/// `GET path` on the JSON API with `token`: the status and the JSON answer.
pub async fn api_get(portal: &Portal, token: &str, path: &str) -> (u16, serde_json::Value) {
    let res = portal
        .app
        .client
        .get(format!("{}{path}", portal.base()))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    (res.status().as_u16(), res.json().await.unwrap())
}

/// `POST path` with a JSON `body` on the JSON API with `token`: the status and the answer.
pub async fn api_post(portal: &Portal, token: &str, path: &str, body: serde_json::Value) -> (u16, serde_json::Value) {
    let res = portal
        .app
        .client
        .post(format!("{}{path}", portal.base()))
        .bearer_auth(token)
        .json(&body)
        .send()
        .await
        .unwrap();
    (res.status().as_u16(), res.json().await.unwrap())
}
