//! The portal's team page (both sides of the project, inviting a teammate) and the
//! person's profile (text fields and picture). Over HTTP, on SQLite or PostgreSQL.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::portal_support;

use handoff::domain::people::{Actor, ProjectRole, UserKind};
use handoff::domain::{Email, ProjectId, ProjectStatus};
use handoff::store::NewUser;
use portal_support::{Browser, DANA, OMAR, Page, Portal, Setup, VERA, ZOE, spawn_portal};

const SAM: &str = "sam.staff@handoff.example";
const NEW: &str = "nina.new@acme.example";

/// Acme's project with Dana (admin), Omar (member), Vera (viewer) and Sam (staff,
/// owner); Globex's with Zoe. Everyone's links are delivered.
async fn two_companies(portal: &mut Portal) -> (ProjectId, ProjectId) {
    let (acme, globex) = portal.two_companies().await;
    let store = portal.app.store();
    let mut sam = NewUser::new(UserKind::Internal, Email::parse(SAM).unwrap());
    sam.first_name = Some("Sam".into());
    sam.last_name = Some("Rivera".into());
    sam.title = Some("Onboarding lead".into());
    let (sam, _) = store.upsert_user(&sam).await.unwrap();
    crate::common::engine(store)
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

/// A small valid PNG (1×1, one grey pixel).
const PNG: &[u8] = &[
    0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0x00, 0x00, 0x00, 0x0D, 0x49, 0x48, 0x44, 0x52, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00,
    0x00, 0x01, 0x08, 0x00, 0x00, 0x00, 0x00, 0x3A, 0x7E, 0x9B, 0x55, 0x00, 0x00, 0x00, 0x0A, 0x49, 0x44, 0x41, 0x54, 0x08, 0xD7, 0x63,
    0x68, 0x00, 0x00, 0x00, 0x82, 0x00, 0x81, 0xDD, 0x43, 0x6A, 0xF4, 0x00, 0x00, 0x00, 0x00, 0x49, 0x45, 0x4E, 0x44, 0xAE, 0x42, 0x60,
    0x82,
];

/// Posts the picture form as a browser does: `multipart/form-data`, the token first.
async fn post_picture(portal: &Portal, browser: &Browser, csrf: Option<&str>, file_name: &str, claimed_type: &str, bytes: &[u8]) -> Page {
    let boundary = "----handoff-test-boundary-7MA4YWxkTrZu0gW";
    let mut body = Vec::new();
    if let Some(csrf) = csrf {
        body.extend_from_slice(format!("--{boundary}\r\nContent-Disposition: form-data; name=\"csrf\"\r\n\r\n{csrf}\r\n").as_bytes());
    }
    body.extend_from_slice(
        format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"picture\"; filename=\"{file_name}\"\r\nContent-Type: {claimed_type}\r\n\r\n"
        )
        .as_bytes(),
    );
    body.extend_from_slice(bytes);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    let cookies: Vec<String> = browser.cookies.iter().map(|(k, v)| format!("{k}={v}")).collect();
    let response = no_redirects()
        .post(format!("{}/profile/picture", portal.base()))
        .header("cookie", cookies.join("; "))
        .header("content-type", format!("multipart/form-data; boundary={boundary}"))
        .body(body)
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let body = response.text().await.unwrap();
    Page { status, headers, body }
}

/// A client that shows redirects instead of following them, as the support module's.
fn no_redirects() -> reqwest::Client {
    crm_http::install_crypto_provider();
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

/// The status of a conditional GET (`If-None-Match: etag`) of `path`.
async fn revalidate(portal: &Portal, browser: &Browser, path: &str, etag: &str) -> u16 {
    let cookies: Vec<String> = browser.cookies.iter().map(|(k, v)| format!("{k}={v}")).collect();
    no_redirects()
        .get(format!("{}{path}", portal.base()))
        .header("cookie", cookies.join("; "))
        .header("if-none-match", etag)
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

async fn pictures(portal: &Portal) -> i64 {
    portal.count("SELECT COUNT(*) FROM user_pictures").await
}

#[tokio::test]
async fn a_picture_is_kept_and_shown_only_to_people_sharing_a_project() {
    let mut portal = spawn_portal().await;
    let (acme, _) = two_companies(&mut portal).await;
    let mut dana = portal.signed_in(DANA).await;
    let token = dana.get("/profile").await.csrf();

    let saved = post_picture(&portal, &dana, Some(&token), "me.png", "image/png", PNG).await;
    assert_eq!(saved.status, 303, "{}", saved.body);
    assert_eq!(saved.location(), "/profile?saved=picture");
    let profile = dana.get(saved.location()).await;
    assert!(profile.body.contains("Your picture was saved."));
    let dana_id = portal.user_id(DANA).await;
    assert!(
        profile.body.contains(&format!(r#"src="/profile/picture/{dana_id}?v="#)),
        "{}",
        profile.body
    );
    let team_page = dana.get(&team(acme)).await;
    assert!(
        team_page.body.contains(&format!(r#"src="/profile/picture/{dana_id}""#)),
        "the team shows it"
    );

    // To Dana and to Omar (same project): the image, as an image, never sniffed.
    let url = format!("/profile/picture/{dana_id}");
    let mut omar = portal.signed_in(OMAR).await;
    for viewer in [&mut dana, &mut omar] {
        let image = viewer.get(&url).await;
        assert_eq!(image.status, 200, "{}", image.body);
        assert_eq!(image.headers["content-type"], "image/png");
        assert_eq!(image.headers["x-content-type-options"], "nosniff");
        assert!(image.headers["cache-control"].to_str().unwrap().contains("private"));
        let etag = image.headers["etag"].to_str().unwrap().to_owned();
        let again = revalidate(&portal, viewer, &url, &etag).await;
        assert_eq!(again, 304, "unchanged: not sent again");
    }
    // To Zoe (another company), to someone signed out, for people without one: nothing.
    let mut zoe = portal.signed_in(ZOE).await;
    assert_eq!(zoe.get(&url).await.status, 404);
    assert_eq!(portal.browser().get(&url).await.status, 303, "signed out: to sign-in");
    let omar_id = portal.user_id(OMAR).await;
    assert_eq!(dana.get(&format!("/profile/picture/{omar_id}")).await.status, 404, "no picture");
    assert_eq!(dana.get("/profile/picture/not-an-id").await.status, 404);

    // Removing it.
    let token = dana.get("/profile").await.csrf();
    let removed = dana.post("/profile/remove-picture", &[("csrf", &token)]).await;
    assert_eq!(removed.status, 303);
    assert_eq!(pictures(&portal).await, 0);
    assert_eq!(dana.get(&url).await.status, 404);
    assert_eq!(
        portal
            .count("SELECT COUNT(*) FROM activity WHERE action IN ('profile.picture_changed', 'profile.picture_removed')")
            .await,
        2
    );
}

#[tokio::test]
async fn oversized_non_image_or_unsigned_pictures_are_refused_and_nothing_is_stored() {
    let mut portal = spawn_portal().await;
    two_companies(&mut portal).await;
    let mut dana = portal.signed_in(DANA).await;
    let token = dana.get("/profile").await.csrf();

    let mut big = PNG.to_vec();
    big.resize(handoff::web::portal::profile::MAX_PICTURE_BYTES + 1, 0);
    let page = post_picture(&portal, &dana, Some(&token), "big.png", "image/png", &big).await;
    assert_eq!(page.status, 413, "{}", page.body);
    assert!(page.body.contains("The picture is larger than 2048 KB"), "{}", page.body);
    assert!(page.body.contains(r#"class="field-error" id="picture-error""#), "beside the field");

    let html = b"<html><script>alert(1)</script></html>";
    let page = post_picture(&portal, &dana, Some(&token), "me.png", "image/png", html).await;
    assert_eq!(page.status, 415, "{}", page.body);
    assert!(page.body.contains("This file is not a PNG, JPEG, WebP or GIF image."));
    let svg = br#"<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>"#;
    assert_eq!(
        post_picture(&portal, &dana, Some(&token), "me.svg", "image/svg+xml", svg)
            .await
            .status,
        415
    );
    assert_eq!(
        post_picture(&portal, &dana, Some(&token), "", "application/octet-stream", b"")
            .await
            .status,
        422
    );

    for bad in [None, Some("forged")] {
        let page = post_picture(&portal, &dana, bad, "me.png", "image/png", PNG).await;
        assert_eq!(page.status, 403, "{bad:?}");
    }
    let signed_out = post_picture(&portal, &portal.browser(), Some(&token), "me.png", "image/png", PNG).await;
    assert_eq!(signed_out.status, 303);
    assert_eq!(pictures(&portal).await, 0);
    assert_eq!(
        portal
            .count("SELECT COUNT(*) FROM activity WHERE action = 'profile.picture_changed'")
            .await,
        0
    );
}
