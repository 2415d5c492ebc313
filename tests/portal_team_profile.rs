//! The portal's team page (both sides of the project, inviting a teammate) and the
//! person's profile (text fields and picture). Over HTTP, on SQLite or PostgreSQL.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;
mod mail_support;
mod portal_support;

use handoff::domain::people::{Actor, ProjectRole, UserKind};
use handoff::domain::{Email, ProjectId, ProjectStatus};
use handoff::store::NewUser;
use portal_support::{Portal, Setup, spawn_portal};

const DANA: &str = "dana@acme.example";
const OMAR: &str = "omar@acme.example";
const VERA: &str = "vera@acme.example";
const ZOE: &str = "zoe@globex.example";
const SAM: &str = "sam.staff@handoff.example";
const NEW: &str = "nina.new@acme.example";

/// Acme's project with Dana (admin), Omar (member), Vera (viewer) and Sam (staff,
/// owner); Globex's with Zoe. Everyone's links are delivered.
async fn two_companies(portal: &mut Portal) -> (ProjectId, ProjectId) {
    let acme = portal
        .project(Setup::active(
            "Acme onboarding",
            "Acme",
            &[
                (DANA, ProjectRole::CustomerAdmin),
                (OMAR, ProjectRole::CustomerMember),
                (VERA, ProjectRole::CustomerViewer),
            ],
        ))
        .await;
    let globex = portal
        .project(Setup::active("Globex onboarding", "Globex", &[(ZOE, ProjectRole::CustomerAdmin)]))
        .await;
    let store = portal.app.store();
    let mut sam = NewUser::new(UserKind::Internal, Email::parse(SAM).unwrap());
    sam.first_name = Some("Sam".into());
    sam.last_name = Some("Rivera".into());
    sam.title = Some("Onboarding lead".into());
    let (sam, _) = store.upsert_user(&sam).await.unwrap();
    store
        .add_member(acme, sam.id, ProjectRole::Owner, None, Actor::System, "test")
        .await
        .unwrap();
    portal.deliver().await;
    (acme, globex)
}

async fn emails(portal: &Portal) -> i64 {
    portal.count("SELECT COUNT(*) FROM outbox WHERE kind = 'email'").await
}

async fn users(portal: &Portal) -> i64 {
    portal.count("SELECT COUNT(*) FROM users").await
}

async fn memberships(portal: &Portal) -> i64 {
    portal.count("SELECT COUNT(*) FROM memberships").await
}

fn team(project: ProjectId) -> String {
    format!("/projects/{project}/team")
}

fn invite(project: ProjectId) -> String {
    format!("/projects/{project}/team/invite")
}

#[tokio::test]
async fn the_team_page_lists_the_onboarding_team_and_the_customer_s_members() {
    let mut portal = spawn_portal().await;
    let (acme, _) = two_companies(&mut portal).await;
    let mut dana = portal.signed_in(DANA).await;
    let project = dana.get(&format!("/projects/{acme}")).await;
    assert!(
        project.body.contains(&format!(r#"href="/projects/{acme}/team""#)),
        "the project links to its team"
    );
    assert!(project.body.contains(r#"href="/profile""#), "the layout links to the profile");

    let page = dana.get(&team(acme)).await;
    assert_eq!(page.status, 200, "{}", page.body);
    let body = &page.body;
    let staff = &body[body.find(r#"id="staff-heading""#).unwrap()..body.find(r#"id="customers-heading""#).unwrap()];
    for shown in ["Sam Rivera", "Onboarding lead", SAM, "Project owner"] {
        assert!(staff.contains(shown), "{shown} missing in {staff}");
    }
    let customers = &body[body.find(r#"id="customers-heading""#).unwrap()..body.find(r#"id="invite-heading""#).unwrap()];
    for shown in ["dana", "(you)", "Admin", "Active", "omar", "Member", "vera", "Viewer", "Invited"] {
        assert!(customers.contains(shown), "{shown} missing in {customers}");
    }
    assert!(!customers.contains(OMAR), "customers' addresses are not listed");
    assert!(!body.contains("zoe"), "another company's customer");
    assert!(
        body.contains(&format!(r#"action="/projects/{acme}/team/invite""#)),
        "an admin may invite"
    );
    assert!(
        body.contains(r#"<option value="customer_member" selected>Member</option>"#),
        "{body}"
    );
    assert!(!body.contains(r#"value="customer_admin""#), "admins are not made from the portal");

    let omar = portal.signed_in(OMAR).await.get(&team(acme)).await;
    assert_eq!(omar.status, 200);
    assert!(!omar.body.contains("/team/invite"), "a member has no invite form");
    assert!(omar.body.contains("can invite teammates (dana)"), "{}", omar.body);
}

#[tokio::test]
async fn the_team_page_is_not_found_for_non_members_and_drafts() {
    let mut portal = spawn_portal().await;
    let (acme, globex) = two_companies(&mut portal).await;
    let draft = portal
        .project(Setup {
            status: ProjectStatus::Draft,
            ..Setup::active("Acme expansion", "Acme", &[(DANA, ProjectRole::CustomerAdmin)])
        })
        .await;
    let mut zoe = portal.signed_in(ZOE).await;
    assert_eq!(zoe.get(&team(acme)).await.status, 404);
    assert_eq!(zoe.get(&team(globex)).await.status, 200);
    let token = zoe.get("/projects").await.csrf();
    let before = (users(&portal).await, memberships(&portal).await, emails(&portal).await);
    let refused = zoe
        .post(
            &invite(acme),
            &[
                ("csrf", &token),
                ("email", NEW),
                ("first_name", "Nina"),
                ("role", "customer_member"),
            ],
        )
        .await;
    assert_eq!(refused.status, 404, "{}", refused.body);
    let mut dana = portal.signed_in(DANA).await;
    assert_eq!(dana.get(&team(draft)).await.status, 404);
    let token = dana.get("/projects").await.csrf();
    let refused = dana
        .post(
            &invite(draft),
            &[
                ("csrf", &token),
                ("email", NEW),
                ("first_name", "Nina"),
                ("role", "customer_member"),
            ],
        )
        .await;
    assert_eq!(refused.status, 404, "a draft invites no one");
    assert_eq!(dana.get(&team(ProjectId::new())).await.status, 404);
    assert_eq!(dana.get("/projects/nope/team").await.status, 404);
    assert_eq!(before, (users(&portal).await, memberships(&portal).await, emails(&portal).await));
}

#[tokio::test]
async fn an_admin_invites_a_new_teammate_once_and_the_email_signs_them_in() {
    let mut portal = spawn_portal().await;
    let (acme, _) = two_companies(&mut portal).await;
    let mut dana = portal.signed_in(DANA).await;
    let token = dana.get(&team(acme)).await.csrf();
    let emails_before = emails(&portal).await;

    let sent = dana
        .post(
            &invite(acme),
            &[
                ("csrf", &token),
                ("email", " Nina.New@ACME.example "),
                ("first_name", "Nina"),
                ("last_name", "New"),
                ("role", "customer_viewer"),
            ],
        )
        .await;
    assert_eq!(sent.status, 303, "{}", sent.body);
    let nina = portal.user_id(NEW).await;
    assert_eq!(sent.location(), format!("/projects/{acme}/team?invited={nina}"));
    let page = dana.get(sent.location()).await;
    assert!(
        page.body.contains("We emailed an invitation to Nina New (nina.new@acme.example)."),
        "{}",
        page.body
    );
    assert!(page.body.contains("Nina New"));

    let store = portal.app.store();
    let user = store.user(nina).await.unwrap().unwrap();
    assert_eq!(user.kind, UserKind::Customer);
    let acme_company = store.find_or_create_company("Acme").await.unwrap();
    assert_eq!(user.company_id, Some(acme_company.id), "the project's company");
    let members = store.project_members(acme).await.unwrap();
    let (membership, _) = members.iter().find(|(_, u)| u.id == nina).unwrap();
    assert_eq!(membership.role, ProjectRole::CustomerViewer);
    assert_eq!(emails(&portal).await, emails_before + 1);
    let activity = store.project_activity(acme).await.unwrap();
    let invited: Vec<_> = activity.iter().filter(|a| a.entry.action == "member.invited").collect();
    assert_eq!(invited.len(), 1);
    assert_eq!(invited[0].entry.actor, Actor::User(portal.user_id(DANA).await));
    assert_eq!(invited[0].entry.details["user"], serde_json::json!(nina));

    // The second invitation of the same person changes nothing and says so.
    let again = dana
        .post(
            &invite(acme),
            &[
                ("csrf", &token),
                ("email", NEW),
                ("first_name", "Nina"),
                ("role", "customer_member"),
            ],
        )
        .await;
    assert_eq!(again.status, 200, "{}", again.body);
    assert!(
        again
            .body
            .contains("nina.new@acme.example is already on the team: nothing was sent."),
        "{}",
        again.body
    );
    assert_eq!(emails(&portal).await, emails_before + 1);
    assert_eq!(
        portal
            .count("SELECT COUNT(*) FROM invitations i JOIN users u ON u.id = i.user_id WHERE u.email = 'nina.new@acme.example'")
            .await,
        1
    );
    assert_eq!(
        portal.count("SELECT COUNT(*) FROM activity WHERE action = 'member.invited'").await,
        1
    );

    // Delivered once, over SMTP; the link signs Nina in to the project.
    assert_eq!(portal.deliver().await, 1);
    assert_eq!(portal.deliver().await, 0);
    let to_nina = portal.smtp.messages().iter().filter(|m| m.rcpt_to == [NEW]).count();
    assert_eq!(to_nina, 1);
    let mut nina_browser = portal.signed_in(NEW).await;
    assert_eq!(nina_browser.get(&format!("/projects/{acme}")).await.status, 200);
    let seen_by_dana = dana.get(&team(acme)).await.body;
    assert!(seen_by_dana.contains("Nina New"), "{seen_by_dana}");
}

#[tokio::test]
async fn an_existing_customer_of_the_company_is_added_without_a_new_user() {
    let mut portal = spawn_portal().await;
    let (acme, _) = two_companies(&mut portal).await;
    // Omar's colleague Lee is in another Acme project only.
    portal
        .project(Setup::active(
            "Acme training",
            "Acme",
            &[("lee@acme.example", ProjectRole::CustomerMember)],
        ))
        .await;
    let mut dana = portal.signed_in(DANA).await;
    let token = dana.get(&team(acme)).await.csrf();
    let users_before = users(&portal).await;
    let sent = dana
        .post(
            &invite(acme),
            &[
                ("csrf", &token),
                ("email", "LEE@acme.example"),
                ("first_name", "Renamed"),
                ("role", "customer_member"),
            ],
        )
        .await;
    assert_eq!(sent.status, 303, "{}", sent.body);
    assert_eq!(users(&portal).await, users_before);
    let lee = portal
        .app
        .store()
        .user(portal.user_id("lee@acme.example").await)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        lee.first_name.as_deref(),
        Some("lee"),
        "a teammate does not rename an existing person"
    );
}

#[tokio::test]
async fn invitations_that_cannot_be_made_are_refused_beside_the_field_and_change_nothing() {
    let mut portal = spawn_portal().await;
    let (acme, _) = two_companies(&mut portal).await;
    let mut dana = portal.signed_in(DANA).await;
    let token = dana.get(&team(acme)).await.csrf();
    let before = (users(&portal).await, memberships(&portal).await, emails(&portal).await);
    let sam_before = portal
        .app
        .store()
        .user_by_email(&Email::parse(SAM).unwrap())
        .await
        .unwrap()
        .unwrap();

    let cases: [(&str, &str, &str, &str); 6] = [
        (
            "SAM.Staff@handoff.example",
            "Sam",
            "customer_member",
            "belongs to someone on the onboarding team",
        ),
        (ZOE, "Zoe", "customer_member", "belongs to another company"),
        ("not-an-address", "Kim", "customer_member", "Enter an email address"),
        ("kim@acme.example", "", "customer_member", "This field is required."),
        ("kim@acme.example", "Kim", "customer_admin", "Choose one of the roles listed."),
        ("kim@acme.example", "Kim", "owner", "Choose one of the roles listed."),
    ];
    for (email, first, role, message) in cases {
        let page = dana
            .post(
                &invite(acme),
                &[
                    ("csrf", &token),
                    ("email", email),
                    ("first_name", first),
                    ("last_name", "Keep"),
                    ("role", role),
                ],
            )
            .await;
        assert_eq!(page.status, 422, "{email}: {}", page.body);
        assert!(page.body.contains(message), "{email}: {message} missing in {}", page.body);
        assert!(page.body.contains(r#"class="field-error""#) && page.body.contains(r#"aria-invalid="true""#));
        assert!(page.body.contains(r#"value="Keep""#), "values are kept");
    }
    let sam_after = portal
        .app
        .store()
        .user_by_email(&Email::parse(SAM).unwrap())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(sam_after, sam_before, "staff are never turned into customers");

    // A member and a viewer may not invite; a missing or forged token changes nothing.
    for who in [OMAR, VERA] {
        let mut b = portal.signed_in(who).await;
        let token = b.get(&team(acme)).await.csrf();
        let page = b
            .post(
                &invite(acme),
                &[
                    ("csrf", &token),
                    ("email", "kim@acme.example"),
                    ("first_name", "Kim"),
                    ("role", "customer_viewer"),
                ],
            )
            .await;
        assert_eq!(page.status, 409, "{who}: {}", page.body);
        assert!(page.body.contains("admins on this project can invite"), "{}", page.body);
    }
    for token in ["", "forged"] {
        let page = dana
            .post(
                &invite(acme),
                &[
                    ("csrf", token),
                    ("email", "kim@acme.example"),
                    ("first_name", "Kim"),
                    ("role", "customer_member"),
                ],
            )
            .await;
        assert_eq!(page.status, 403, "{}", page.body);
    }
    let no_token = dana
        .post(
            &invite(acme),
            &[("email", "kim@acme.example"), ("first_name", "Kim"), ("role", "customer_member")],
        )
        .await;
    assert_eq!(no_token.status, 403);
    assert_eq!(before, (users(&portal).await, memberships(&portal).await, emails(&portal).await));
    assert_eq!(
        portal.count("SELECT COUNT(*) FROM activity WHERE action = 'member.invited'").await,
        0
    );
}

#[tokio::test]
async fn a_removed_member_is_not_brought_back_by_a_teammate() {
    let mut portal = spawn_portal().await;
    let (acme, _) = two_companies(&mut portal).await;
    let mut dana = portal.signed_in(DANA).await;
    let token = dana.get(&team(acme)).await.csrf();
    let omar = portal.user_id(OMAR).await;
    portal
        .exec(
            "UPDATE memberships SET status = 'deactivated' WHERE $1 IS NOT NULL AND user_id = $2",
            chrono::Utc::now(),
            Some(omar.as_uuid()),
        )
        .await;
    assert!(!dana.get(&team(acme)).await.body.contains("omar"), "former members are not listed");
    let page = dana
        .post(
            &invite(acme),
            &[
                ("csrf", &token),
                ("email", OMAR),
                ("first_name", "Omar"),
                ("role", "customer_member"),
            ],
        )
        .await;
    assert_eq!(page.status, 422);
    assert!(page.body.contains("access to the project was removed"), "{}", page.body);
    assert_eq!(
        portal.count("SELECT COUNT(*) FROM memberships WHERE status = 'deactivated'").await,
        1
    );
}

#[tokio::test]
async fn the_profile_shows_email_and_company_read_only_and_keeps_values_on_errors() {
    let mut portal = spawn_portal().await;
    let (_, _) = two_companies(&mut portal).await;
    let mut dana = portal.signed_in(DANA).await;
    let page = dana.get("/profile").await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(page.body.contains(DANA) && page.body.contains("<dd>Acme</dd>"), "{}", page.body);
    assert!(!page.body.contains(r#"name="email""#), "the email is not a field");
    assert!(page.body.contains(r#"<option>Europe/Paris</option>"#));
    let token = page.csrf();

    let bad = dana
        .post(
            "/profile",
            &[
                ("csrf", &token),
                ("first_name", "Dana"),
                ("last_name", "Scully"),
                ("title", "CTO"),
                ("phone", "call me maybe"),
                ("timezone", "Mars/Olympus"),
            ],
        )
        .await;
    assert_eq!(bad.status, 422, "{}", bad.body);
    assert!(bad.body.contains("Use digits, spaces and + - ( ) . only"), "{}", bad.body);
    assert!(bad.body.contains("Choose a time zone from the list"));
    assert!(
        bad.body.contains(r#"value="Scully""#) && bad.body.contains(r#"value="call me maybe""#),
        "values are kept"
    );
    let unchanged = portal.app.store().user(portal.user_id(DANA).await).await.unwrap().unwrap();
    assert_eq!(unchanged.last_name, None);

    let saved = dana
        .post(
            "/profile",
            &[
                ("csrf", &token),
                ("first_name", " Dana "),
                ("last_name", "Scully"),
                ("title", "CTO"),
                ("phone", "+1 (555) 010-0199"),
                ("timezone", "America/New_York"),
                ("email", "someone.else@evil.example"),
                ("company", "Evil Corp"),
                ("company_id", "00000000-0000-0000-0000-000000000000"),
            ],
        )
        .await;
    assert_eq!(saved.status, 303, "{}", saved.body);
    assert_eq!(saved.location(), "/profile?saved=1");
    let page = dana.get(saved.location()).await;
    assert!(page.body.contains("Your profile was saved."));
    assert!(page.body.contains("<option selected>America/New_York</option>"), "{}", page.body);
    assert!(page.body.contains("Signed in as Dana Scully"));
    let store = portal.app.store();
    let dana_user = store.user(portal.user_id(DANA).await).await.unwrap().unwrap();
    assert_eq!(dana_user.email.as_str(), DANA, "the email is not editable");
    let acme = store.find_or_create_company("Acme").await.unwrap();
    assert_eq!(dana_user.company_id, Some(acme.id), "the company is not editable");
    assert_eq!(
        (
            dana_user.first_name.as_deref(),
            dana_user.last_name.as_deref(),
            dana_user.title.as_deref()
        ),
        (Some("Dana"), Some("Scully"), Some("CTO"))
    );
    assert_eq!(dana_user.phone.as_deref(), Some("+1 (555) 010-0199"));
    assert_eq!(dana_user.timezone.as_deref(), Some("America/New_York"));
    assert_eq!(
        portal.count("SELECT COUNT(*) FROM activity WHERE action = 'profile.updated'").await,
        1
    );
    assert_eq!(
        portal
            .count("SELECT COUNT(*) FROM users WHERE email = 'someone.else@evil.example'")
            .await,
        0
    );

    // Without the token: refused, nothing changed.
    let forged = dana.post("/profile", &[("first_name", "Mallory")]).await;
    assert_eq!(forged.status, 403);
    let still = store.user(portal.user_id(DANA).await).await.unwrap().unwrap();
    assert_eq!(still.first_name.as_deref(), Some("Dana"));
}
