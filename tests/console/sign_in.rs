//! Signing in to the console by emailed link, end to end over SMTP: the link only shows
//! a page, its button signs in once; a customer's portal cookie never opens the console.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use handoff::domain::people::{ProjectRole, StaffRole};

use crate::console_support::{ADA, add_staff};
use crate::portal_support::{DANA, Setup, spawn_portal};

#[tokio::test]
async fn an_emailed_link_signs_a_staff_member_in_once_and_the_form_tells_strangers_nothing() {
    let mut portal = spawn_portal().await;
    add_staff(&portal, ADA, StaffRole::Admin).await;
    let mut browser = portal.browser();

    for email in [ADA, "nobody@handoff.example"] {
        let answered = browser.post("/console/sign-in/email", &[("email", email)]).await;
        assert_eq!(answered.status, 200, "{}", answered.body);
        assert!(answered.body.contains("a sign-in link is on its way"), "{}", answered.body);
    }
    assert_eq!(portal.deliver().await, 1, "only the staff member's address gets an email");
    let messages = portal.smtp.messages();
    assert_eq!(messages[0].rcpt_to, [ADA]);
    let body = messages[0].raw.replace("=\r\n", "");
    let prefix = format!("{}/console/link/", portal.base());
    let link = body
        .split(|c: char| c.is_whitespace() || c == '"' || c == '<' || c == '>')
        .find(|w| w.starts_with(&prefix))
        .expect("the email carries a console link")
        .trim_start_matches(portal.base())
        .to_owned();

    // A mail scanner that follows the link signs nobody in.
    let shown = browser.get(&link).await;
    assert_eq!(shown.status, 200, "{}", shown.body);
    assert_eq!(browser.get("/console").await.status, 303);

    let signed_in = browser.post(&link, &[]).await;
    assert_eq!(signed_in.status, 303, "{}", signed_in.body);
    assert_eq!(signed_in.location(), "/console");
    let dashboard = browser.get("/console").await;
    assert_eq!(dashboard.status, 200, "{}", dashboard.body);
    assert!(dashboard.body.contains("Ada Staff"), "{}", dashboard.body);

    let again = portal.browser().post(&link, &[]).await;
    assert_eq!(again.status, 410, "a link works once: {}", again.body);
}

#[tokio::test]
async fn a_customers_portal_session_does_not_open_the_console() {
    let mut portal = spawn_portal().await;
    portal
        .project(Setup::active("Acme onboarding", "Acme", &[(DANA, ProjectRole::CustomerAdmin)]))
        .await;
    let mut customer = portal.signed_in(DANA).await;
    assert!(customer.session().is_some());
    assert_eq!(customer.get("/projects").await.status, 200);
    let console = customer.get("/console").await;
    assert_eq!(console.status, 303, "{}", console.body);
    assert!(console.location().starts_with("/console/sign-in"), "{}", console.location());
    // Nor does the portal cookie's value under the console's name.
    let value = customer.session().unwrap().clone();
    customer.cookies.insert("handoff_console".into(), value);
    assert_eq!(customer.get("/console").await.status, 303);
}
