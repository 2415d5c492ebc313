//! The customer portal in real headless Chromium: starts handoff (SQLite or PostgreSQL,
//! as the other tests) with an SMTP capture and a seeded project, takes the emailed
//! invitation from the capture, and runs browser/portal.mjs (playwright-core driving
//! Debian's /usr/bin/chromium) at a desktop and a phone viewport (see
//! tests/browser_support). Screenshots of every page go to
//! target/browser-screenshots/portal/{desktop,phone}/.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::browser_support::Scripts;
use crate::portal_support;

use handoff::domain::people::{Actor, ProjectRole, UserKind};
use handoff::domain::project::{ProjectSpec, plan_project};
use handoff::domain::{Email, ProjectId, ProjectStatus};
use handoff::store::NewUser;
use portal_support::{Portal, spawn_portal};

const MIA: &str = "mia@acme.example";
const THEO: &str = "theo@acme.example";

/// The project the script walks through; its names are in browser/portal.mjs too.
const TEMPLATE: &str = r#"
name = "Browser test"
[[phases]]
key = "start"
name = "Getting started"
[[phases.tasks]]
key = "sign-contract"
title = "Sign the contract"
type = "todo"
owner = "customer"
[[phases.tasks]]
key = "kickoff"
title = "Kickoff meeting"
type = "todo"
owner = "staff"
[[phases.tasks]]
key = "stakeholders"
title = "Name your project team"
type = "form"
owner = "customer"
fields = [
  { key = "sponsor", label = "Executive sponsor (email)", type = "email", required = true },
  { key = "project_manager", label = "Project manager (email)", type = "email", required = true },
  { key = "weekly_slot", label = "Preferred weekly status slot", type = "select", options = ["Monday morning", "Friday morning"] },
]
[[phases]]
key = "setup"
name = "Setup"
[[phases.tasks]]
key = "logo"
title = "Upload your logo"
type = "upload"
owner = "customer"
accept = ["png", "pdf"]
max_files = 3
[[phases.tasks]]
key = "internal-prep"
title = "Internal preparation"
type = "todo"
visibility = "internal"
"#;

/// Acme's live project with Mia (admin) and Theo (member), invitations emailed.
async fn seeded(portal: &mut Portal) -> ProjectId {
    let store = portal.app.store();
    let template = handoff::domain::template::parse("browser-test.toml", TEMPLATE).unwrap();
    let spec = ProjectSpec {
        name: "Acme rollout".into(),
        template_key: "browser-test".into(),
        company_id: None,
        start_date: "2026-11-23".parse().unwrap(),
        goal_date: Some("2027-01-15".parse().unwrap()),
    };
    let mut project = plan_project(&template, spec).unwrap();
    let company = store.find_or_create_company("Acme").await.unwrap();
    project.company_id = Some(company.id);
    project.status = ProjectStatus::Active;
    project.welcome_message = Some("Welcome to Acme's rollout!\n\nWe start on Monday.".into());
    let id = store.create_project(&project, Actor::System, "test").await.unwrap();
    for (email, first, role) in [
        (MIA, "Mia", ProjectRole::CustomerAdmin),
        (THEO, "Theo", ProjectRole::CustomerMember),
    ] {
        let email = Email::parse(email).unwrap();
        let mut new = NewUser::new(UserKind::Customer, email.clone());
        new.first_name = Some(first.into());
        new.last_name = Some("Example".into());
        new.company_id = Some(company.id);
        let (user, _) = store.upsert_user(&new).await.unwrap();
        crate::common::engine(store)
            .add_member(id, user.id, role, None, Actor::System, "test")
            .await
            .unwrap();
        portal
            .app
            .state
            .engine
            .resend_invitation(id, &email, Actor::System, "test")
            .await
            .unwrap();
    }
    assert_eq!(portal.deliver().await, 2, "both invitations went out through SMTP");
    id
}

async fn run_viewport(scripts: &Scripts, viewport: &str) {
    let mut portal = spawn_portal().await;
    seeded(&mut portal).await;
    // The link as Mia received it: read from the SMTP capture's message.
    let invite = format!("{}{}", portal.base(), portal.link(MIA));
    scripts
        .run("portal.mjs", "portal", viewport, vec![("PORTAL_INVITE_URL", invite)])
        .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_portal_works_in_headless_chromium_on_desktop_and_phone() {
    let Some(scripts) = Scripts::find() else { return };
    for viewport in ["desktop", "phone"] {
        run_viewport(&scripts, viewport).await;
    }
}
