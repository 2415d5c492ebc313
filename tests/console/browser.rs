//! The staff console in real headless Chromium, at a desktop and a phone viewport:
//! browser/console.mjs signs in with the Salesforce sandbox (its consent page, as a
//! person clicks it), activates a Draft, bulk-reassigns three tasks with a shift-click
//! range, rejects a document a customer uploaded (the customer then sees the note in
//! the portal, in a browser of their own), sends a reminder, and finds the rejection in
//! the activity search. Here, around it: the world it works in, and what only the SMTP
//! capture and the database can tell — the invitations and the reminder were emailed,
//! the tasks changed hands. Screenshots go to target/browser-screenshots/console/.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use handoff::config::ConnectionConfig;
use handoff::config::connections::{CrmSettings, SalesforceAuth, SalesforceSettings};
use handoff::domain::people::{Actor, ProjectRole, StaffRole, UserKind};
use handoff::domain::plan::InviteMode;
use handoff::domain::project::{ProjectSpec, plan_project};
use handoff::domain::review::ReviewStatus;
use handoff::domain::{Email, ProjectId, ProjectStatus, TaskStatus};
use handoff::store::{DocumentQuery, NewStaff, NewUser};
use secrecy::SecretString;

use crate::browser_support::Scripts;
use crate::console_support::add_staff;
use crate::portal_support::{Portal, spawn_portal_with};

/// The Salesforce user the staff member signs in as (seeded in the sandbox).
const MARIA: &str = "maria.lopez@sandbox.example.com";
/// The customer who uploads the document and reads the rejection.
const MIA: &str = "mia@acme.example";
/// The Draft's customers, invited when it is activated.
const GLOBEX: [&str; 2] = ["gus@globex.example", "gia@globex.example"];

/// The live project; its names are in browser/console.mjs too.
const TEMPLATE: &str = r#"
name = "Console browser test"
[[phases]]
key = "start"
name = "Getting started"
[[phases.tasks]]
key = "sign-contract"
title = "Sign the contract"
type = "todo"
owner = "customer"
[[phases.tasks]]
key = "logo"
title = "Upload your logo"
type = "upload"
owner = "customer"
accept = ["png"]
max_files = 3
[[phases.tasks]]
key = "kickoff"
title = "Kickoff meeting"
type = "todo"
owner = "staff"
[[phases.tasks]]
key = "provision"
title = "Provision the workspace"
type = "todo"
owner = "staff"
[[phases.tasks]]
key = "import-data"
title = "Import the data"
type = "todo"
owner = "staff"
[[phases.tasks]]
key = "train-admins"
title = "Train the admins"
type = "todo"
owner = "staff"
"#;

/// A 1×1 PNG: the customer's upload.
const PNG: &[u8] = &[
    0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x48, 0x44, 0x52, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00,
    0x00, 0x01, 0x08, 0x06, 0x00, 0x00, 0x00, 0x1f, 0x15, 0xc4, 0x89, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x44, 0x41, 0x54, 0x78, 0x9c, 0x63,
    0xf8, 0xcf, 0xc0, 0xf0, 0x1f, 0x00, 0x05, 0x00, 0x01, 0xff, 0x89, 0x99, 0x3d, 0x1d, 0x00, 0x00, 0x00, 0x00, 0x49, 0x45, 0x4e, 0x44,
    0xae, 0x42, 0x60, 0x82,
];

struct World {
    _salesforce: sandbox_salesforce::Sandbox,
    portal: Portal,
    live: ProjectId,
    draft: ProjectId,
}

async fn world() -> World {
    crm_http::install_crypto_provider();
    // No auto-approval: the consent page is clicked in the browser.
    let salesforce = sandbox_salesforce::start(sandbox_salesforce::Config::for_tests()).await.unwrap();
    let (base, org) = (salesforce.base_url(), salesforce.organization_id().to_owned());
    let mut portal = spawn_portal_with(move |c| {
        c.connections = vec![ConnectionConfig {
            name: "salesforce".into(),
            poll_interval: Duration::from_secs(3600),
            crm: CrmSettings::Salesforce(SalesforceSettings {
                login_url: base.parse().unwrap(),
                api_version: "67.0".into(),
                auth: SalesforceAuth::JwtBearer {
                    client_id: sandbox_salesforce::DEFAULT_CLIENT_ID.into(),
                    username: sandbox_salesforce::DEFAULT_USERNAME.into(),
                    private_key: SecretString::from(sandbox_salesforce::TEST_JWT_PRIVATE_KEY_PEM),
                    client_secret: Some(SecretString::from(sandbox_salesforce::DEFAULT_CLIENT_SECRET)),
                },
                organization_id: org,
                webhook_secret: SecretString::from("path-secret"),
            }),
        }];
    })
    .await;
    // Maria signs in with Salesforce (matched by her verified email); Sam takes tasks.
    let maria = portal
        .app
        .state
        .engine
        .add_staff(
            &NewStaff {
                email: Email::parse(MARIA).unwrap(),
                first_name: Some("Maria".into()),
                last_name: Some("Lopez".into()),
                crm_users: Vec::new(),
                role: StaffRole::Staff,
            },
            "test",
        )
        .await
        .unwrap()
        .user_id;
    let sam = add_staff(&portal, crate::console_support::SAM, StaffRole::Staff).await;

    let live = project(&portal, "Acme rollout", "Acme", ProjectStatus::Active).await;
    let draft = project(&portal, "Globex pilot", "Globex", ProjectStatus::Draft).await;
    let engine = &portal.app.state.engine;
    for (project, staff, role) in [
        (live, maria, ProjectRole::Owner),
        (live, sam, ProjectRole::Staff),
        (draft, maria, ProjectRole::Owner),
    ] {
        engine.add_member(project, staff, role, None, Actor::System, "test").await.unwrap();
    }
    customer(&portal, live, MIA, "Mia", InviteMode::Now).await;
    engine
        .resend_invitation(live, &Email::parse(MIA).unwrap(), Actor::System, "test")
        .await
        .unwrap();
    for email in GLOBEX {
        customer(&portal, draft, email, "Gus", InviteMode::WhenActive).await;
    }
    // Mia uploads her logo through the portal, as a customer would.
    assert_eq!(portal.deliver().await, 1, "Mia's invitation; the Draft's wait");
    let mut mia = portal.signed_in(MIA).await;
    let token = handoff::web::form_token::token_for(&SecretString::from(mia.session().unwrap().clone()));
    let uploaded = mia
        .post_file(
            &format!("/projects/{live}/tasks/logo/files"),
            &[("csrf", &token)],
            ("file", "acme-logo.png", PNG),
        )
        .await;
    assert!(uploaded.status < 400, "{}", uploaded.body);
    let handed_in = mia
        .post(&format!("/projects/{live}/tasks/logo/files-done"), &[("csrf", &token)])
        .await;
    assert!(handed_in.status < 400, "{}", handed_in.body);
    World {
        _salesforce: salesforce,
        portal,
        live,
        draft,
    }
}

async fn project(portal: &Portal, name: &str, company: &str, status: ProjectStatus) -> ProjectId {
    let store = portal.app.store();
    let template = handoff::domain::template::parse("console-browser.toml", TEMPLATE).unwrap();
    let spec = ProjectSpec {
        name: name.into(),
        template_key: "console-browser".into(),
        company_id: None,
        start_date: chrono::Utc::now().date_naive(),
        goal_date: None,
    };
    let mut project = plan_project(&template, spec).unwrap();
    let company = store.find_or_create_company(company).await.unwrap();
    project.company_id = Some(company.id);
    project.status = status;
    store.create_project(&project, Actor::System, "test").await.unwrap()
}

async fn customer(portal: &Portal, project: ProjectId, email: &str, first: &str, invite: InviteMode) {
    let store = portal.app.store();
    let mut new = NewUser::new(UserKind::Customer, Email::parse(email).unwrap());
    new.first_name = Some(first.into());
    new.last_name = Some("Example".into());
    let (user, _) = store.upsert_user(&new).await.unwrap();
    let mut tx = store.begin().await.unwrap();
    tx.add_membership(project, user.id, ProjectRole::CustomerAdmin, None, Some(invite))
        .await
        .unwrap();
    tx.commit().await.unwrap();
}

async fn run_viewport(scripts: &Scripts, viewport: &str) {
    let mut world = world().await;
    // A fresh link for Mia's own browser, which reads the rejection.
    world
        .portal
        .app
        .state
        .engine
        .resend_invitation(world.live, &Email::parse(MIA).unwrap(), Actor::System, "test")
        .await
        .unwrap();
    world.portal.deliver().await;
    let mia_link = format!("{}{}", world.portal.base(), world.portal.link(MIA));
    let before = world.portal.smtp.messages().len();
    scripts
        .run(
            "console.mjs",
            "console",
            viewport,
            vec![
                ("CONSOLE_URL", format!("{}/console", world.portal.base())),
                ("PORTAL_INVITE_URL", mia_link),
            ],
        )
        .await;

    // What the browser cannot see: the emails that went out, the tasks' new hands.
    world.portal.deliver().await;
    let sent: Vec<_> = world.portal.smtp.messages()[before..].to_vec();
    for email in GLOBEX {
        assert!(
            sent.iter().any(|m| m.rcpt_to == [email] && m.raw.contains("/invite/")),
            "activating the Draft invited {email}"
        );
    }
    let reminders = sent
        .iter()
        .filter(|m| m.rcpt_to == [MIA] && m.raw.contains("Sign the contract") && !m.raw.contains("/invite/"))
        .count();
    assert_eq!(reminders, 1, "the reminder reached Mia once, double click and all");
    let status = world
        .portal
        .app
        .store()
        .project_details(world.draft)
        .await
        .unwrap()
        .unwrap()
        .project
        .status;
    assert_eq!(status, ProjectStatus::Active);
    let sam = world.portal.user_id(crate::console_support::SAM).await;
    let details = world.portal.app.store().project_details(world.live).await.unwrap().unwrap();
    let sams: Vec<&str> = details
        .tasks
        .iter()
        .filter(|t| t.assignee_id == Some(sam))
        .map(|t| t.key.as_str())
        .collect();
    assert_eq!(
        sams,
        ["kickoff", "provision", "import-data"],
        "the three reassigned tasks are Sam's"
    );
    // The rejection is stored with its note and gave the logo back to Mia.
    let logo = details.tasks.iter().find(|t| t.key.as_str() == "logo").unwrap();
    assert_ne!(logo.status, TaskStatus::Completed, "rejecting the logo reopened its task");
    let rejected = world
        .portal
        .app
        .store()
        .documents(&DocumentQuery {
            project: Some(world.live),
            status: ReviewStatus::Rejected,
            search: None,
            before: None,
            limit: 10,
        })
        .await
        .unwrap()
        .documents;
    assert_eq!(rejected.len(), 1, "one file rejected");
    assert!(rejected[0].review_note.as_deref().unwrap_or_default().contains("512 pixels"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_console_works_in_headless_chromium_on_desktop_and_phone() {
    let Some(scripts) = Scripts::find() else { return };
    for viewport in ["desktop", "phone"] {
        run_viewport(&scripts, viewport).await;
    }
}
