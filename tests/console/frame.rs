//! The console's frame: signed-out visitors go to the sign-in page, signed-in staff see
//! the navigation, and each project page sits under the project's tabs.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use handoff::domain::people::StaffRole;

use crate::console_support::{SAM, staff_browser};
use crate::portal_support::spawn_portal;

#[tokio::test]
async fn a_signed_out_visitor_is_sent_to_sign_in_and_comes_back_after() {
    let portal = spawn_portal().await;
    let mut browser = portal.browser();
    let page = browser.get("/console").await;
    assert_eq!(page.status, 303, "{}", page.body);
    assert!(page.location().starts_with("/console/sign-in"), "{}", page.location());
}

#[tokio::test]
async fn a_signed_in_staff_member_sees_the_navigation_and_their_name() {
    let portal = spawn_portal().await;
    let mut browser = staff_browser(&portal, SAM, StaffRole::Staff).await;
    let page = browser.get("/console").await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(page.body.contains(r#"href="/console/projects""#), "{}", page.body);
    assert!(page.body.contains("Sam Staff"), "{}", page.body);
}
