//! The engine end to end against the Salesforce sandbox with the shipped workflow
//! (workflows/salesforce-closed-won.toml): a deal moved to Closed Won becomes exactly
//! one project, with its contacts as customer users in their roles.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common;

use std::time::Duration;

use common::{TestApp, spawn_app_with};
use handoff::config::ConnectionConfig;
use handoff::config::connections::{CrmSettings, SalesforceAuth, SalesforceSettings};
use handoff::domain::change::{ChangeSource, ObjectKind};
use handoff::engine::run::{Planner, run_pending};
use handoff::store::sealed::Sealer;
use handoff::sync::poll::poll_once;
use sandbox_salesforce as sandbox;
use secrecy::SecretString;

pub(crate) async fn start() -> (sandbox::Sandbox, TestApp) {
    crm_http::install_crypto_provider();
    let sb = sandbox::start(sandbox::Config::for_tests()).await.unwrap();
    let (base, org) = (sb.base_url(), sb.organization_id().to_owned());
    let app = spawn_app_with(move |c| {
        c.connections = vec![ConnectionConfig {
            name: "salesforce".into(),
            poll_interval: Duration::from_secs(300),
            crm: CrmSettings::Salesforce(SalesforceSettings {
                login_url: base.parse().unwrap(),
                api_version: "67.0".into(),
                auth: SalesforceAuth::JwtBearer {
                    client_id: sandbox::DEFAULT_CLIENT_ID.into(),
                    username: sandbox::DEFAULT_USERNAME.into(),
                    private_key: SecretString::from(sandbox::TEST_JWT_PRIVATE_KEY_PEM),
                    client_secret: None,
                },
                organization_id: org,
                webhook_secret: SecretString::from("secret"),
            }),
        }]
    })
    .await;
    (sb, app)
}

/// An open opportunity that the shipped workflow's condition accepts (Amount > 0, New
/// Business): moved to Closed Won, it fires.
pub(crate) fn open_new_business(sb: &sandbox::Sandbox) -> String {
    sb.ids("Opportunity")
        .into_iter()
        .find(|id| {
            let r = sb.record("Opportunity", id).unwrap();
            r["StageName"] != "Closed Won" && r["Amount"].as_f64().unwrap_or(0.0) > 0.0 && r["Type"] == "New Business"
        })
        .expect("an open New Business opportunity in the fixture")
}

pub(crate) async fn sync_and_run(app: &TestApp) -> handoff::engine::run::RunReport {
    let crm = app.state.crms.get("salesforce").unwrap().clone();
    poll_once(app.store(), crm.as_ref(), ObjectKind::Deal, ChangeSource::Poll, &mut |_| {})
        .await
        .unwrap();
    let sealer = Sealer::new(app.state.config.secrets.master_key.as_ref()).unwrap();
    let planner = Planner {
        catalog: &app.state.catalog,
        sealer: Some(&sealer),
        now: chrono::Utc::now(),
        today: chrono::Utc::now().date_naive(),
        invitation_validity: app.state.config.portal.invitation_validity,
    };
    run_pending(app.store(), &app.state.workflows, &planner, 1000).await.unwrap()
}

#[tokio::test]
async fn a_deal_moved_to_closed_won_becomes_one_project_with_its_people() {
    let (sb, app) = start().await;
    assert!(app.state.workflows.iter().any(|w| w.name == "salesforce-closed-won"));
    let first = sync_and_run(&app).await;
    assert_eq!(first.failed, 0, "{first:?}");
    let before = app.store().engine_counts().await.unwrap().projects;

    // An open opportunity that the workflow's condition accepts, moved to Closed Won.
    let open = open_new_business(&sb);
    sb.update_record("Opportunity", &open, &[("StageName", serde_json::json!("Closed Won"))])
        .unwrap();
    let second = sync_and_run(&app).await;
    assert_eq!((second.failed, second.projects_created), (0, 1), "{second:?}");

    let project = app
        .store()
        .project_for_source("salesforce-closed-won", "salesforce", &open)
        .await
        .unwrap()
        .expect("the project");
    let details = app.store().project_details(project).await.unwrap().unwrap();
    let account = sb.record("Opportunity", &open).unwrap()["AccountId"].as_str().unwrap().to_owned();
    let account_name = sb.record("Account", &account).unwrap()["Name"].as_str().unwrap().to_owned();
    assert_eq!(details.project.name, format!("{account_name} onboarding"));
    assert_eq!(details.project.company_name.as_deref(), Some(account_name.as_str()));
    let members = app.store().project_members(project).await.unwrap();
    assert!(!members.is_empty(), "contacts with matching roles join the project");
    assert!(members.iter().all(|(m, _)| m.contact_role.is_some()));

    // Nothing changed: running again creates nothing.
    let third = sync_and_run(&app).await;
    assert_eq!(third.projects_created, 0);
    assert_eq!(app.store().engine_counts().await.unwrap().projects, before + 1);
}

// Multi-threaded: the handoff child process calls the in-process sandbox while this
// test waits for the child, blocking its own thread.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn workflows_list_and_a_dry_run_show_the_plan_and_change_nothing() {
    crm_http::install_crypto_provider();
    let sb = sandbox::start(sandbox::Config::for_tests()).await.unwrap();
    let db = common::TestDb::new().await;
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("handoff.toml");
    std::fs::write(
        &config,
        format!(
            "[connections.salesforce]\ncrm = \"salesforce\"\nlogin_url = \"{}\"\nclient_id = \"{}\"\nusername = \"{}\"\norganization_id = \"{}\"\n",
            sb.base_url(),
            sandbox::DEFAULT_CLIENT_ID,
            sandbox::DEFAULT_USERNAME,
            sb.organization_id()
        ),
    )
    .unwrap();
    let key = dir.path().join("key.pem");
    std::fs::write(&key, sandbox::TEST_JWT_PRIVATE_KEY_PEM).unwrap();
    let run = |args: &[&str]| {
        std::process::Command::new(env!("CARGO_BIN_EXE_handoff"))
            .current_dir(dir.path())
            .arg("--config")
            .arg(&config)
            .args(args)
            .env("HANDOFF_DATABASE_URL", db.url())
            .env("HANDOFF_MASTER_KEY", "dGVzdC1vbmx5LW1hc3Rlci1rZXktMzItYnl0ZXMhISE=")
            .env("HANDOFF_CONNECTION_SALESFORCE_PRIVATE_KEY_FILE", &key)
            .env("HANDOFF_CONNECTION_SALESFORCE_WEBHOOK_SECRET", "secret")
            .env("HANDOFF_WORKFLOWS_DIR", common::repo_path("workflows"))
            .env("HANDOFF_LOG", "warn")
            .output()
            .unwrap()
    };
    let listed = run(&["workflows", "list"]);
    let text = String::from_utf8_lossy(&listed.stdout);
    assert!(text.contains("salesforce-closed-won  [active]"), "{text}");
    assert!(text.contains("hubspot-closedwon  [inactive: connection not configured]"), "{text}");
    // The trigger as the admin wrote it, not Rust's debug text.
    assert!(
        text.contains("when     salesforce deal: field_becomes StageName = \"Closed Won\", when all of: Amount gt 0;"),
        "{text}"
    );

    let won = sb
        .ids("Opportunity")
        .into_iter()
        .find(|id| sb.record("Opportunity", id).unwrap()["StageName"] == "Closed Won")
        .unwrap();
    let out = run(&["workflows", "dry-run", "salesforce-closed-won", "--record", &won]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(
        text.contains("dry run: nothing is changed") && text.contains("project   would be created"),
        "{text}"
    );
    assert!(text.contains("onboarding"), "{text}");
    // The owner from OwnerId and the custom fields the workflow maps.
    assert!(text.contains("  owner     ") && text.contains("[CRM OwnerId]"), "{text}");
    assert!(text.contains("  field     "), "{text}");
    assert!(text.contains("verdict   fires"), "{text}");
    assert!(
        text.contains(": joins, invited now"),
        "the members and their invitations are planned: {text}"
    );
    let counts = db.store().await.engine_counts().await.unwrap();
    assert_eq!(
        (counts.projects, counts.users, counts.outbox_emails),
        (0, 0, 0),
        "a dry run creates nothing"
    );

    // A record the trigger does not fire on says why, and plans nothing.
    let open = sb
        .ids("Opportunity")
        .into_iter()
        .find(|id| sb.record("Opportunity", id).unwrap()["StageName"] != "Closed Won")
        .unwrap();
    let stage = sb.record("Opportunity", &open).unwrap()["StageName"].as_str().unwrap().to_owned();
    let out = run(&["workflows", "dry-run", "salesforce-closed-won", "--record", &open]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(
        text.contains(&format!("verdict   does not fire: `StageName` is \"{stage}\", not \"Closed Won\"")),
        "{text}"
    );
    assert!(
        !text.contains("would be created") && !text.contains("  people "),
        "no plan for a record that does not fire: {text}"
    );

    let missing = run(&["workflows", "dry-run", "nope", "--record", &won]);
    assert_eq!(missing.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&missing.stderr).contains("available: hubspot-closedwon, salesforce-closed-won"));
}

/// Two runs at once (two processes, or resolve ticks that overlap) split the pending
/// changes between them: each change is handled by exactly one run.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_runs_handle_each_change_once() {
    let (_sb, app) = start().await;
    let crm = app.state.crms.get("salesforce").unwrap().clone();
    poll_once(app.store(), crm.as_ref(), ObjectKind::Deal, ChangeSource::Poll, &mut |_| {})
        .await
        .unwrap();
    let stored = app.store().pending_record_changes(10_000).await.unwrap().len();
    assert!(stored >= 5, "the fixture has opportunities to work on ({stored})");
    let sealer = Sealer::new(app.state.config.secrets.master_key.as_ref()).unwrap();
    let planner = Planner {
        catalog: &app.state.catalog,
        sealer: Some(&sealer),
        now: chrono::Utc::now(),
        today: chrono::Utc::now().date_naive(),
        invitation_validity: app.state.config.portal.invitation_validity,
    };
    // One change per run, so the two workers interleave on every change.
    let worker = || async {
        let mut total = handoff::engine::run::RunReport::default();
        loop {
            let r = run_pending(app.store(), &app.state.workflows, &planner, 1).await.unwrap();
            if r.changes == 0 {
                break total;
            }
            total.changes += r.changes;
            total.projects_created += r.projects_created;
            total.failed += r.failed;
        }
    };
    let (a, b) = tokio::join!(worker(), worker());
    assert_eq!((a.failed, b.failed), (0, 0));
    assert_eq!(a.changes + b.changes, stored, "every change handled once: {a:?} {b:?}");
    let projects = app.store().engine_counts().await.unwrap().projects;
    assert_eq!(i64::try_from(a.projects_created + b.projects_created).unwrap(), projects);
    assert!(app.store().pending_record_changes(10).await.unwrap().is_empty());
}
