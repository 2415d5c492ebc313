//! The Members tab over HTTP, with emails delivered over real SMTP to the capture:
//! customers added (invited now or later), removed (the project closes to them at
//! once), links resent, regenerated and revoked; staff joining and leaving the team;
//! bad input and forms without their token refused with nothing changed; the same
//! changes through the JSON API.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use handoff::domain::api_token::{ApiTokenName, NewApiToken};
use handoff::domain::people::{MembershipStatus, ProjectRole, StaffRole};
use handoff::domain::{ProjectId, UserId};
use secrecy::ExposeSecret;

use crate::console_support::{ADA, SAM, add_staff, csrf, staff_browser};
use crate::portal_support::{Browser, DANA, OMAR, Page, Portal, ZOE, spawn_portal};

const NEW: &str = "nia@acme.example";

fn members_path(project: ProjectId) -> String {
    format!("/console/projects/{project}/members")
}

/// Posts a Members-tab form (`action`: the path after the project's) with the page's token.
async fn post(browser: &mut Browser, project: ProjectId, action: &str, fields: &[(&str, &str)]) -> Page {
    let token = csrf(browser, &members_path(project)).await;
    let mut form = vec![("csrf", token.as_str())];
    form.extend_from_slice(fields);
    browser.post(&format!("/console/projects/{project}{action}"), &form).await
}

async fn add_customer(browser: &mut Browser, project: ProjectId, email: &str, invite: &str) -> Page {
    let fields = [
        ("email", email),
        ("first_name", "Nia"),
        ("last_name", "Okafor"),
        ("contact_role", "Decision Maker"),
        ("role", "customer_member"),
        ("invite", invite),
    ];
    post(browser, project, "/members", &fields).await
}

/// How many emails the capture received for `email`.
fn emails_to(portal: &Portal, email: &str) -> usize {
    portal
        .smtp
        .messages()
        .iter()
        .filter(|m| m.rcpt_to.iter().any(|r| r == email))
        .count()
}

async fn actions(portal: &Portal, project: ProjectId) -> Vec<(String, String)> {
    let trail = portal.app.store().project_activity(project).await.unwrap();
    trail.into_iter().map(|a| (a.entry.action, a.entry.source)).collect()
}

async fn membership(portal: &Portal, project: ProjectId, user: UserId) -> Option<(ProjectRole, MembershipStatus)> {
    let members = portal.app.store().project_members(project).await.unwrap();
    members.into_iter().find(|(_, u)| u.id == user).map(|(m, _)| (m.role, m.status))
}

#[tokio::test]
async fn the_tab_lists_customers_with_their_link_state_and_the_team() {
    let mut portal = spawn_portal().await;
    let (acme, _) = portal.two_companies().await;
    portal.deliver().await;
    let _dana = portal.signed_in(DANA).await;
    let mut staff = staff_browser(&portal, SAM, StaffRole::Staff).await;
    let page = staff.get(&members_path(acme)).await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(
        page.body.contains(r#"href="/console/projects/"#) && page.body.contains(r#"aria-current="page">Members"#),
        "{}",
        page.body
    );
    assert!(page.body.contains(DANA) && page.body.contains(OMAR), "{}", page.body);
    assert!(page.body.contains("Signed in"), "Dana used her link: {}", page.body);
    assert!(page.body.contains("Link sent"), "Omar's link is out: {}", page.body);
    assert!(!page.body.contains(ZOE), "Globex's customer is not on Acme's page");
    assert_eq!(staff.get(&members_path(ProjectId::new())).await.status, 404);
}

#[tokio::test]
async fn a_new_customer_invited_now_is_emailed_a_link_that_opens_the_project() {
    let mut portal = spawn_portal().await;
    let (acme, _) = portal.two_companies().await;
    let mut staff = staff_browser(&portal, SAM, StaffRole::Staff).await;
    let added = add_customer(&mut staff, acme, NEW, "now").await;
    assert_eq!(added.status, 303, "{}", added.body);
    assert!(added.location().contains("done=invited"), "{}", added.location());
    portal.deliver().await;
    assert_eq!(emails_to(&portal, NEW), 1);
    let mut nia = portal.signed_in(NEW).await;
    assert_eq!(nia.get(&format!("/projects/{acme}")).await.status, 200);

    let page = staff.get(added.location()).await;
    assert!(
        page.body.contains("Nia Okafor") && page.body.contains("Decision Maker"),
        "{}",
        page.body
    );
    assert!(
        page.body.contains("The customer was added and an invitation is on its way."),
        "{}",
        page.body
    );
    let user = portal.user_id(NEW).await;
    assert_eq!(
        membership(&portal, acme, user).await,
        Some((ProjectRole::CustomerMember, MembershipStatus::Active))
    );
    let sam = portal.user_id(SAM).await;
    let trail = portal.app.store().project_activity(acme).await.unwrap();
    let entry = trail
        .iter()
        .find(|a| a.entry.action == "member.added" && a.entry.source == "console")
        .unwrap();
    assert_eq!(entry.entry.actor, handoff::domain::people::Actor::User(sam));
    assert_eq!(entry.entry.details["contact_role"], "Decision Maker");

    // Adding them again changes nothing and sends nothing.
    let again = add_customer(&mut staff, acme, NEW, "now").await;
    assert!(again.location().contains("done=already-member"), "{}", again.location());
    portal.deliver().await;
    assert_eq!(emails_to(&portal, NEW), 1);
}

#[tokio::test]
async fn a_customer_invited_later_gets_no_email_until_staff_send_one() {
    let mut portal = spawn_portal().await;
    let (acme, _) = portal.two_companies().await;
    let mut staff = staff_browser(&portal, SAM, StaffRole::Staff).await;
    let added = add_customer(&mut staff, acme, NEW, "later").await;
    assert!(added.location().contains("done=added"), "{} {}", added.status, added.body);
    portal.deliver().await;
    assert_eq!(emails_to(&portal, NEW), 0, "invite later sends nothing");
    let page = staff.get(&members_path(acme)).await;
    assert!(
        page.body.contains("Not invited yet") && page.body.contains("Send invitation"),
        "{}",
        page.body
    );

    let user = portal.user_id(NEW).await;
    let sent = post(&mut staff, acme, &format!("/members/{user}/resend"), &[]).await;
    assert_eq!(sent.status, 303, "{}", sent.body);
    portal.deliver().await;
    assert_eq!(emails_to(&portal, NEW), 1);
    let mut nia = portal.signed_in(NEW).await;
    assert_eq!(nia.get(&format!("/projects/{acme}")).await.status, 200);
}

#[tokio::test]
async fn a_removed_customer_s_session_no_longer_opens_the_project() {
    let mut portal = spawn_portal().await;
    let (acme, _) = portal.two_companies().await;
    let mut omar = portal.signed_in(OMAR).await;
    let project = format!("/projects/{acme}");
    assert_eq!(omar.get(&project).await.status, 200);
    let user = portal.user_id(OMAR).await;
    let mut staff = staff_browser(&portal, SAM, StaffRole::Staff).await;

    let removed = post(&mut staff, acme, &format!("/members/{user}/remove"), &[]).await;
    assert_eq!(removed.status, 303, "{}", removed.body);
    assert!(removed.location().contains("done=removed"));
    let next = omar.get(&project).await;
    assert!(
        matches!(next.status, 303 | 404),
        "a removed member's next request is refused: {}",
        next.status
    );
    assert_eq!(
        portal.app.store().session_count(user).await.unwrap(),
        0,
        "Acme was his only project: signed out"
    );
    assert_eq!(
        membership(&portal, acme, user).await,
        Some((ProjectRole::CustomerMember, MembershipStatus::Deactivated))
    );
    assert!(actions(&portal, acme).await.contains(&("member.removed".into(), "console".into())));
    let page = staff.get(&members_path(acme)).await;
    assert!(page.body.contains("Removed customers (1)"), "{}", page.body);

    // Removing twice changes nothing; adding back gives access again with a fresh link.
    let twice = post(&mut staff, acme, &format!("/members/{user}/remove"), &[]).await;
    assert!(twice.location().contains("done=already-removed"), "{}", twice.location());
    let back = post(
        &mut staff,
        acme,
        "/members",
        &[("email", OMAR), ("role", "customer_viewer"), ("invite", "now")],
    )
    .await;
    assert!(back.location().contains("done=invited"), "{} {}", back.status, back.body);
    portal.deliver().await;
    let mut again = portal.signed_in(OMAR).await;
    assert_eq!(again.get(&project).await.status, 200);
    assert_eq!(
        membership(&portal, acme, user).await,
        Some((ProjectRole::CustomerViewer, MembershipStatus::Active))
    );
}

#[tokio::test]
async fn a_regenerated_link_replaces_the_old_one_and_a_revoked_one_signs_no_one_in() {
    let mut portal = spawn_portal().await;
    let (acme, globex) = portal.two_companies().await;
    portal.deliver().await;
    let old = portal.link(DANA);
    let user = portal.user_id(DANA).await;
    let mut staff = staff_browser(&portal, SAM, StaffRole::Staff).await;
    let regenerated = post(&mut staff, acme, &format!("/members/{user}/regenerate"), &[]).await;
    assert_eq!(regenerated.status, 303, "{}", regenerated.body);
    portal.deliver().await;
    let new = portal.link(DANA);
    assert_ne!(old, new);
    assert_eq!(portal.browser().post(&old, &[]).await.status, 410, "the old link is dead");
    assert!(
        actions(&portal, acme)
            .await
            .contains(&("invitation.regenerated".into(), "console".into()))
    );

    // Revoke the new one before she uses it.
    let live = portal.app.store().project_invitations(acme).await.unwrap();
    let live = live.iter().find(|i| i.user_id == user.as_uuid() && i.revoked_at.is_none()).unwrap();
    let page = staff.get(&members_path(acme)).await;
    assert!(page.body.contains(&format!("/invitations/{}/revoke", live.id)), "{}", page.body);
    let token = page.csrf();
    let revoked = staff
        .post(
            &format!("/console/projects/{acme}/invitations/{}/revoke", live.id),
            &[("csrf", &token)],
        )
        .await;
    assert!(revoked.location().contains("done=revoked"), "{} {}", revoked.status, revoked.body);
    assert_eq!(portal.browser().post(&new, &[]).await.status, 410, "the revoked link is dead");

    // Another project's link is not this page's to revoke.
    let zoe = portal.user_id(ZOE).await;
    let all = portal.app.store().project_invitations(globex).await.unwrap();
    let theirs = all.iter().find(|i| i.user_id == zoe.as_uuid()).unwrap();
    let token = staff.get(&members_path(acme)).await.csrf();
    let elsewhere = staff
        .post(
            &format!("/console/projects/{acme}/invitations/{}/revoke", theirs.id),
            &[("csrf", &token)],
        )
        .await;
    assert_eq!(elsewhere.status, 404);
    assert!(
        portal
            .app
            .store()
            .invitation(theirs.id)
            .await
            .unwrap()
            .unwrap()
            .revoked_at
            .is_none()
    );
}

#[tokio::test]
async fn staff_join_and_leave_the_team_and_the_owner_leaves_only_with_a_successor() {
    let portal = spawn_portal().await;
    let (acme, _) = portal.two_companies().await;
    let ada = add_staff(&portal, ADA, StaffRole::Admin).await;
    let mut staff = staff_browser(&portal, SAM, StaffRole::Staff).await;
    let sam = portal.user_id(SAM).await;

    let owner = post(&mut staff, acme, "/staff", &[("email", ADA), ("owner", "on")]).await;
    assert_eq!(owner.status, 303, "{}", owner.body);
    let joined = post(&mut staff, acme, "/staff", &[("email", SAM)]).await;
    assert!(joined.location().contains("done=staff-added"), "{}", joined.location());
    assert_eq!(
        membership(&portal, acme, ada).await,
        Some((ProjectRole::Owner, MembershipStatus::Active))
    );
    assert_eq!(
        membership(&portal, acme, sam).await,
        Some((ProjectRole::Staff, MembershipStatus::Active))
    );
    let page = staff.get(&members_path(acme)).await;
    assert!(page.body.contains("Hand over and remove"), "{}", page.body);

    // The owner cannot leave without a successor; nothing changes.
    let refused = post(&mut staff, acme, &format!("/staff/{ada}/remove"), &[]).await;
    assert_eq!(refused.status, 409, "{}", refused.body);
    assert!(refused.body.contains("without choosing another owner"), "{}", refused.body);
    assert_eq!(
        membership(&portal, acme, ada).await,
        Some((ProjectRole::Owner, MembershipStatus::Active))
    );

    let handed = post(
        &mut staff,
        acme,
        &format!("/staff/{ada}/remove"),
        &[("new_owner", &sam.to_string())],
    )
    .await;
    assert!(
        handed.location().contains("done=staff-removed"),
        "{} {}",
        handed.status,
        handed.body
    );
    assert_eq!(
        membership(&portal, acme, sam).await,
        Some((ProjectRole::Owner, MembershipStatus::Active))
    );
    assert_eq!(
        membership(&portal, acme, ada).await.map(|m| m.1),
        Some(MembershipStatus::Deactivated)
    );
    let trail = actions(&portal, acme).await;
    for action in ["staff.added", "staff.removed"] {
        assert!(trail.contains(&(action.into(), "console".into())), "{action}: {trail:?}");
    }

    // A customer's address is not a staff member's.
    let customer = post(&mut staff, acme, "/staff", &[("email", DANA)]).await;
    assert_eq!(customer.status, 409, "{}", customer.body);
}

#[tokio::test]
async fn bad_input_is_refused_and_changes_nothing() {
    let portal = spawn_portal().await;
    let (acme, globex) = portal.two_companies().await;
    let mut staff = staff_browser(&portal, SAM, StaffRole::Staff).await;
    let before = (
        portal.app.store().project_members(acme).await.unwrap().len(),
        portal.app.store().project_activity(acme).await.unwrap().len(),
        portal.count("SELECT COUNT(*) FROM outbox").await,
        portal.count("SELECT COUNT(*) FROM users").await,
    );

    let malformed = add_customer(&mut staff, acme, "not an email", "now").await;
    assert_eq!(malformed.status, 422, "{}", malformed.body);
    assert!(malformed.body.contains("is not an email address"), "{}", malformed.body);
    let other_company = post(
        &mut staff,
        acme,
        "/members",
        &[("email", ZOE), ("role", "customer_member"), ("invite", "now")],
    )
    .await;
    assert_eq!(other_company.status, 409, "{}", other_company.body);
    assert!(other_company.body.contains("another company"), "{}", other_company.body);
    let nameless = post(
        &mut staff,
        acme,
        "/members",
        &[("email", NEW), ("role", "customer_member"), ("invite", "now")],
    )
    .await;
    assert_eq!(nameless.status, 409, "{}", nameless.body);
    let staff_role = post(
        &mut staff,
        acme,
        "/members",
        &[("email", NEW), ("first_name", "Nia"), ("role", "owner"), ("invite", "now")],
    )
    .await;
    assert_eq!(staff_role.status, 422, "{}", staff_role.body);
    let staff_email = post(
        &mut staff,
        acme,
        "/members",
        &[("email", SAM), ("role", "customer_member"), ("invite", "now")],
    )
    .await;
    assert_eq!(staff_email.status, 409, "{}", staff_email.body);
    // Zoe belongs to Globex: she cannot be removed or sent a link from Acme's page.
    let zoe = portal.user_id(ZOE).await;
    assert_eq!(post(&mut staff, acme, &format!("/members/{zoe}/remove"), &[]).await.status, 404);
    assert_eq!(post(&mut staff, acme, &format!("/members/{zoe}/resend"), &[]).await.status, 404);
    assert_eq!(post(&mut staff, acme, &format!("/members/{zoe}/regenerate"), &[]).await.status, 409);
    // Without the form token: refused before anything runs.
    let no_token = staff
        .post(
            &members_path(acme),
            &[
                ("email", NEW),
                ("first_name", "Nia"),
                ("role", "customer_member"),
                ("invite", "now"),
            ],
        )
        .await;
    assert_eq!(no_token.status, 403);
    let no_token_remove = staff
        .post(&format!("{}/{}/remove", members_path(acme), portal.user_id(DANA).await), &[])
        .await;
    assert_eq!(no_token_remove.status, 403);

    let after = (
        portal.app.store().project_members(acme).await.unwrap().len(),
        portal.app.store().project_activity(acme).await.unwrap().len(),
        portal.count("SELECT COUNT(*) FROM outbox").await,
        portal.count("SELECT COUNT(*) FROM users").await,
    );
    assert_eq!(before, after);
    assert_eq!(
        membership(&portal, globex, zoe).await,
        Some((ProjectRole::CustomerAdmin, MembershipStatus::Active))
    );
}

#[tokio::test]
async fn the_api_adds_and_removes_customers_and_staff_and_regenerates_links() {
    let mut portal = spawn_portal().await;
    let (acme, _) = portal.two_companies().await;
    let ada = add_staff(&portal, ADA, StaffRole::Admin).await;
    let new = NewApiToken::generate().unwrap();
    portal
        .app
        .store()
        .create_api_token(&ApiTokenName::parse("crm-bridge").unwrap(), &new)
        .await
        .unwrap();
    let token = new.token.expose_secret().to_owned();
    let client = reqwest::Client::new();
    let base = portal.base().to_owned();
    let url = |path: &str| format!("{base}/api/v1/projects/{acme}{path}");

    let body = serde_json::json!({ "email": NEW, "first_name": "Nia", "role": "customer_admin", "invite": "now" });
    let added = client.post(url("/members")).bearer_auth(&token).json(&body).send().await.unwrap();
    assert_eq!(added.status(), 201);
    let added: serde_json::Value = added.json().await.unwrap();
    assert_eq!(added["outcome"], "added");
    portal.deliver().await;
    assert_eq!(emails_to(&portal, NEW), 1);
    let user = portal.user_id(NEW).await;

    let regenerated = client
        .post(url(&format!("/members/{user}/regenerate-link")))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(regenerated.status(), 201);
    portal.deliver().await;
    assert_eq!(emails_to(&portal, NEW), 2);

    let removed = client
        .delete(url(&format!("/members/{user}")))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(removed.status(), 200);
    assert_eq!(removed.json::<serde_json::Value>().await.unwrap()["changed"], true);
    let again = client
        .delete(url(&format!("/members/{user}")))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(again.json::<serde_json::Value>().await.unwrap()["changed"], false);

    let staff = client
        .post(url("/staff"))
        .bearer_auth(&token)
        .json(&serde_json::json!({ "email": ADA, "owner": true }))
        .send()
        .await
        .unwrap();
    assert_eq!(staff.status(), 201);
    let refused = client
        .delete(url(&format!("/staff/{ada}")))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 422);
    assert_eq!(
        membership(&portal, acme, ada).await,
        Some((ProjectRole::Owner, MembershipStatus::Active))
    );

    let bad = client
        .post(url("/members"))
        .bearer_auth(&token)
        .json(&serde_json::json!({ "email": "nope" }))
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), 400);
    let unauthenticated = client.post(url("/members")).json(&body).send().await.unwrap();
    assert_eq!(unauthenticated.status(), 401);
    let trail = actions(&portal, acme).await;
    assert!(trail.contains(&("member.added".into(), "api:crm-bridge".into())), "{trail:?}");
    assert!(trail.contains(&("member.removed".into(), "api:crm-bridge".into())), "{trail:?}");
}

#[tokio::test]
async fn removal_closes_only_that_project_to_a_customer_on_two() {
    let mut portal = spawn_portal().await;
    let (acme, _) = portal.two_companies().await;
    let rollout = portal
        .project(crate::portal_support::Setup::active(
            "Acme rollout",
            "Acme",
            &[(DANA, ProjectRole::CustomerAdmin)],
        ))
        .await;
    let mut dana = portal.signed_in(DANA).await;
    assert_eq!(dana.get(&format!("/projects/{acme}")).await.status, 200);
    let user = portal.user_id(DANA).await;
    let mut staff = staff_browser(&portal, SAM, StaffRole::Staff).await;
    let removed = post(&mut staff, acme, &format!("/members/{user}/remove"), &[]).await;
    assert_eq!(removed.status, 303, "{}", removed.body);
    assert_eq!(
        dana.get(&format!("/projects/{acme}")).await.status,
        404,
        "the project is closed to her session at once"
    );
    assert_eq!(
        dana.get(&format!("/projects/{rollout}")).await.status,
        200,
        "her other project stays open"
    );
}
