//! The customer portal in real headless Chromium: starts handoff (SQLite or PostgreSQL,
//! as the other tests) with an SMTP capture and a seeded project, takes the emailed
//! invitation from the capture, and runs browser/portal.mjs (playwright-core driving
//! Debian's /usr/bin/chromium) at a desktop and a phone viewport. Screenshots of every
//! page go to target/browser-screenshots/{desktop,phone}/.
//!
//! Needs node, Chromium (`CHROMIUM`, default /usr/bin/chromium) and `npm ci` in
//! browser/. Without them it prints a skip note — unless `HANDOFF_BROWSER_TESTS=required`
//! or `CI=true` (.ci/run installs them and sets the former), where it fails instead.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common;
use crate::portal_support;

use std::path::{Path, PathBuf};
use std::process::Command;

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

/// Whether the browser test can run here; `Err` says what is missing.
fn prerequisites() -> Result<(PathBuf, PathBuf), String> {
    let dir = common::repo_path("browser");
    let chromium = PathBuf::from(std::env::var("CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into()));
    if !chromium.exists() {
        return Err(format!("no Chromium at {} (apt-get install chromium)", chromium.display()));
    }
    if Command::new("node").arg("--version").output().is_err() {
        return Err("no node on PATH".into());
    }
    if !dir.join("node_modules/playwright-core").exists() {
        return Err(format!("playwright-core is missing: run `npm ci` in {}", dir.display()));
    }
    Ok((dir, chromium))
}

fn mandatory() -> bool {
    std::env::var("HANDOFF_BROWSER_TESTS").as_deref() == Ok("required") || std::env::var("CI").as_deref() == Ok("true")
}

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

async fn run_viewport(dir: &Path, chromium: &Path, viewport: &str) {
    let mut portal = spawn_portal().await;
    seeded(&mut portal).await;
    // The link as Mia received it: read from the SMTP capture's message.
    let invite = format!("{}{}", portal.base(), portal.link(MIA));
    let screenshots = common::repo_path("target/browser-screenshots");
    let (dir, chromium, viewport_name) = (dir.to_owned(), chromium.to_owned(), viewport.to_owned());
    let out = tokio::task::spawn_blocking(move || {
        Command::new("node")
            .arg("portal.mjs")
            .current_dir(&dir)
            .env("PORTAL_INVITE_URL", invite)
            .env("PORTAL_VIEWPORT", viewport_name)
            .env("PORTAL_SCREENSHOTS", screenshots)
            .env("CHROMIUM", chromium)
            .output()
    })
    .await
    .unwrap()
    .expect("node runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    println!("--- {viewport} ---\n{stdout}");
    assert!(out.status.success(), "browser/portal.mjs failed at {viewport}:\n{stdout}\n{stderr}");
    assert!(stdout.contains(" passed, "), "the script ran to its summary:\n{stdout}\n{stderr}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_portal_works_in_headless_chromium_on_desktop_and_phone() {
    let (dir, chromium) = match prerequisites() {
        Ok(found) => found,
        Err(missing) => {
            assert!(!mandatory(), "the browser test is required here (CI) but cannot run: {missing}");
            eprintln!("SKIPPED: the browser test: {missing}");
            return;
        }
    };
    for viewport in ["desktop", "phone"] {
        run_viewport(&dir, &chromium, viewport).await;
    }
}
