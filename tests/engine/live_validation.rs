//! Workflows against the live field catalogs of both sandboxes: the shipped workflows
//! fit; a workflow naming an unknown field, comparing text with `gt`, writing a
//! picklist value the CRM lacks, writing a read-only field or filtering on an unknown
//! contact role is refused, naming file, line, key and reason — by the library, by
//! `handoff serve`'s start (which does not run it) and by `handoff check` (exit 1).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::Duration;

use common::TestDb;
use handoff::app::AppState;
use handoff::config::connections::{CrmSettings, HubspotAuth, HubspotSettings, SalesforceAuth, SalesforceSettings};
use handoff::config::{Config, ConnectionConfig};
use handoff::domain::change::ObjectKind;
use handoff::domain::field_catalog::FieldKind;
use handoff::domain::field_catalog::Resolved;
use handoff::engine::validate_live::{Verdict, validate_live};
use sandbox_hubspot as hs;
use sandbox_salesforce as sf;
use secrecy::SecretString;

const MASTER_KEY: &str = "dGVzdC1vbmx5LW1hc3Rlci1rZXktMzItYnl0ZXMhISE=";
const SF_WORKFLOW: &str = include_str!("../../workflows/salesforce-closed-won.toml");
const HS_WORKFLOW: &str = include_str!("../../workflows/hubspot-closedwon.toml");

struct Sandboxes {
    sf: sf::Sandbox,
    hs: hs::Sandbox,
}

async fn sandboxes() -> Sandboxes {
    common::init_test_log();
    crm_http::install_crypto_provider();
    Sandboxes {
        sf: sf::start(sf::Config::for_tests()).await.unwrap(),
        hs: hs::start(hs::Config::for_tests()).await.unwrap(),
    }
}

fn salesforce(sb: &sf::Sandbox) -> ConnectionConfig {
    ConnectionConfig {
        name: "salesforce".into(),
        poll_interval: Duration::from_secs(300),
        crm: CrmSettings::Salesforce(SalesforceSettings {
            login_url: sb.base_url().parse().unwrap(),
            api_version: "67.0".into(),
            auth: SalesforceAuth::JwtBearer {
                client_id: sf::DEFAULT_CLIENT_ID.into(),
                username: sf::DEFAULT_USERNAME.into(),
                private_key: SecretString::from(sf::TEST_JWT_PRIVATE_KEY_PEM),
                client_secret: None,
            },
            organization_id: sb.organization_id().to_owned(),
            webhook_secret: SecretString::from("secret"),
        }),
    }
}

fn hubspot(name: &str, base_url: &str) -> ConnectionConfig {
    ConnectionConfig {
        name: name.into(),
        poll_interval: Duration::from_secs(300),
        crm: CrmSettings::Hubspot(HubspotSettings {
            base_url: base_url.parse().unwrap(),
            client_id: None,
            auth: HubspotAuth::PrivateApp {
                token: SecretString::from("pat-sandbox-handoff"),
            },
            client_secret: Some(SecretString::from("handoff-sandbox-secret")),
            portal_id: Some(hs::Config::for_tests().portal_id),
            accept_legacy_signatures: false,
        }),
    }
}

fn config(db: &TestDb, sb: &Sandboxes, workflows: &Path) -> Config {
    let mut config = db.config();
    config.workflows.dir = workflows.to_owned();
    config.connections = vec![salesforce(&sb.sf), hubspot("hubspot", &sb.hs.base_url())];
    config
}

/// A shipped workflow with one piece replaced (which must occur exactly once).
fn variant(base: &str, edits: &[(&str, &str)]) -> String {
    let mut text = base.to_owned();
    for (from, to) in edits {
        assert_eq!(text.matches(from).count(), 1, "`{from}` must occur once");
        text = text.replace(from, to);
    }
    text
}

/// A broken workflow: its file stem, its text, and each key refused with a part of the reason.
type Broken = (&'static str, String, Vec<(&'static str, &'static str)>);

/// One workflow per defect.
fn broken_workflows() -> Vec<Broken> {
    vec![
        (
            "sf-unknown-field",
            variant(
                SF_WORKFLOW,
                &[("product_line = \"Product_Line__c\"", "product_line = \"Product_Family__c\"")],
            ),
            vec![("project.custom_fields.product_line", "Opportunity has no field `Product_Family__c`")],
        ),
        (
            "sf-unknown-parent-field",
            variant(
                SF_WORKFLOW,
                &[(
                    "name = \"{{ Account.Name }} onboarding\"",
                    "name = \"{{ Account.Nmae }} onboarding\"",
                )],
            ),
            vec![("project.name", "no field `Account.Nmae`")],
        ),
        (
            "sf-wrong-type",
            variant(
                SF_WORKFLOW,
                &[("{ field = \"Amount\", op = \"gt\"", "{ field = \"Name\", op = \"gt\"")],
            ),
            vec![(
                "trigger.condition.all[0].op",
                "`Name` is a text field; gt and lt compare numbers and dates",
            )],
        ),
        (
            "sf-picklist-value",
            variant(SF_WORKFLOW, &[("active = \"In Progress\"", "active = \"Launched\"")]),
            vec![(
                "writeback[0].status_values.active",
                "`Launched` is not a value of `Onboarding_Status__c`",
            )],
        ),
        (
            "sf-read-only",
            variant(
                SF_WORKFLOW,
                &[(
                    "Project_URL__c = \"{{ project.url }}\"",
                    "IsClosed = \"{{ project.url }}\", CreatedDate = \"{{ project.url }}\"",
                )],
            ),
            vec![
                ("writeback[0].set.IsClosed", "`IsClosed` is read-only in Opportunity"),
                ("writeback[0].set.CreatedDate", "`CreatedDate` is read-only in Opportunity"),
            ],
        ),
        (
            "sf-unknown-role",
            variant(
                SF_WORKFLOW,
                &[("contact_roles = [\"Economic Buyer\"]", "contact_roles = [\"Champion\"]")],
            ),
            vec![("customers[2].contact_roles", "the CRM has no contact role or label `Champion`")],
        ),
        (
            "hs-unknown-field",
            variant(HS_WORKFLOW, &[("deal_amount = \"amount\"", "deal_amount = \"deal_value\"")]),
            vec![("project.custom_fields.deal_amount", "deals has no field `deal_value`")],
        ),
        (
            "hs-stage",
            variant(HS_WORKFLOW, &[("stage = \"closedwon\"", "stage = \"won\"")]),
            vec![("trigger.stage", "`won` is not a value of `dealstage`")],
        ),
        (
            "hs-enumeration-value",
            variant(HS_WORKFLOW, &[("active = \"in_progress\"", "active = \"launched\"")]),
            vec![(
                "writeback[0].status_values.active",
                "`launched` is not a value of `onboarding_status`",
            )],
        ),
        (
            "hs-read-only",
            variant(
                HS_WORKFLOW,
                &[(
                    "onboarding_project_url = \"{{ project.url }}\"",
                    "hs_object_id = \"{{ project.url }}\", createdate = \"{{ project.url }}\"",
                )],
            ),
            vec![
                ("writeback[0].set.hs_object_id", "`hs_object_id` is read-only in deals"),
                ("writeback[0].set.createdate", "`createdate` is read-only in deals"),
            ],
        ),
        (
            "hs-unknown-label",
            variant(
                HS_WORKFLOW,
                &[("association_labels = [\"Billing contact\"]", "association_labels = [\"Champion\"]")],
            ),
            vec![("customers[2].association_labels", "the CRM has no contact role or label `Champion`")],
        ),
    ]
}

fn write_broken(dir: &Path) {
    for (stem, text, _) in broken_workflows() {
        std::fs::write(dir.join(format!("{stem}.toml")), text).unwrap();
    }
}

fn shipped_dir() -> PathBuf {
    common::repo_path("workflows")
}

#[tokio::test]
async fn the_catalogs_come_from_the_crms_own_descriptions() {
    let sb = sandboxes().await;
    let db = TestDb::new().await;
    let state = AppState::build(config(&db, &sb, &shipped_dir())).await.unwrap();

    let sf = state.crms.get("salesforce").unwrap();
    let opportunity = sf.field_catalog(ObjectKind::Deal).await.unwrap();
    assert_eq!(opportunity.object, "Opportunity");
    let status = opportunity.get("Onboarding_Status__c").unwrap();
    assert_eq!(status.kind, FieldKind::Picklist);
    assert!(status.options.iter().any(|o| o == "In Progress"), "{status:?}");
    assert_eq!(opportunity.get("Onboarding_Progress__c").unwrap().kind, FieldKind::Percent);
    assert_eq!(opportunity.get("Amount").unwrap().kind, FieldKind::Number);
    assert!(!opportunity.get("IsClosed").unwrap().updateable);
    assert!(!opportunity.get("CreatedDate").unwrap().updateable);
    // The parents the adapter reads through are described too.
    assert!(matches!(opportunity.resolve("Account.Name"), Some(Resolved::Field(f)) if f.kind == FieldKind::Text));
    assert!(matches!(opportunity.resolve("Owner.Email"), Some(Resolved::Field(f)) if f.kind == FieldKind::Email));
    assert_eq!(opportunity.resolve("Account.Nmae"), None);
    let roles = sf.contact_roles_known().await.unwrap();
    assert!(roles.iter().any(|r| r == "Decision Maker"), "{roles:?}");

    let hs = state.crms.get("hubspot").unwrap();
    let deals = hs.field_catalog(ObjectKind::Deal).await.unwrap();
    assert_eq!(deals.object, "deals");
    assert_eq!(deals.get("hubspot_owner_id").unwrap().kind, FieldKind::Reference);
    assert!(deals.get("dealstage").unwrap().options.iter().any(|o| o == "closedwon"));
    assert!(!deals.get("hs_object_id").unwrap().updateable);
    assert!(!deals.get("createdate").unwrap().updateable);
    let labels = hs.contact_roles_known().await.unwrap();
    assert!(labels.iter().any(|l| l == "Decision maker"), "{labels:?}");
}

#[tokio::test]
async fn the_shipped_workflows_fit_both_sandboxes() {
    let sb = sandboxes().await;
    let db = TestDb::new().await;
    let state = AppState::build(config(&db, &sb, &shipped_dir())).await.unwrap();
    assert_eq!(state.workflows.len(), 2);
    let verdicts = validate_live(&state.workflows, &shipped_dir(), &state.crms).await;
    assert!(verdicts.iter().all(|v| matches!(v, Verdict::Valid)), "{verdicts:?}");
}

#[tokio::test]
async fn a_workflow_that_does_not_fit_is_refused_naming_file_key_and_reason() {
    let sb = sandboxes().await;
    let db = TestDb::new().await;
    let dir = tempfile::tempdir().unwrap();
    write_broken(dir.path());
    let state = AppState::build(config(&db, &sb, dir.path())).await.unwrap();
    let verdicts = validate_live(&state.workflows, dir.path(), &state.crms).await;
    let expected = broken_workflows();
    assert_eq!(verdicts.len(), expected.len());
    // Loaded sorted by name, like the broken list.
    let mut expected = expected;
    expected.sort_by(|a, b| a.0.cmp(b.0));
    for ((w, verdict), (stem, _, refusals)) in state.workflows.iter().zip(&verdicts).zip(&expected) {
        assert_eq!(&w.name, stem);
        let Verdict::Invalid(problems) = verdict else {
            panic!("{stem}: {verdict:?}")
        };
        let file = dir.path().join(format!("{stem}.toml")).display().to_string();
        let keys: BTreeSet<&str> = problems.iter().map(|p| p.key.as_str()).collect();
        let wanted: BTreeSet<&str> = refusals.iter().map(|(k, _)| *k).collect();
        assert_eq!(keys, wanted, "{stem}: exactly the defect is refused: {problems:#?}");
        for (key, reason) in refusals {
            let p = problems.iter().find(|p| p.key == *key).unwrap();
            assert_eq!(p.file, file);
            assert!(p.line.is_some(), "{p}");
            assert!(p.message.contains(reason), "{stem}: `{}` should say {reason:?}", p.message);
        }
    }
}

#[tokio::test]
async fn serve_does_not_run_a_workflow_that_does_not_fit_and_runs_the_rest() {
    let sb = sandboxes().await;
    let db = TestDb::new().await;
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("salesforce-closed-won.toml"), SF_WORKFLOW).unwrap();
    std::fs::write(dir.path().join("hubspot-closedwon.toml"), HS_WORKFLOW).unwrap();
    let (stem, text, _) = broken_workflows().into_iter().find(|(s, ..)| *s == "sf-picklist-value").unwrap();
    std::fs::write(dir.path().join(format!("{stem}.toml")), text).unwrap();
    // A workflow on a CRM that cannot be reached runs as parsed (nothing reaches it from
    // that CRM until it answers again).
    let offline = HS_WORKFLOW.replace("connection = \"hubspot\"", "connection = \"hubspot-offline\"");
    std::fs::write(dir.path().join("offline-closedwon.toml"), offline).unwrap();
    let mut config = config(&db, &sb, dir.path());
    config.connections.push(hubspot("hubspot-offline", "http://127.0.0.1:1"));

    let state = AppState::build(config).await.unwrap();
    assert_eq!(state.workflows.len(), 4);
    let state = state.validate_workflows_live().await;
    let running: Vec<&str> = state.workflows.iter().map(|w| w.name.as_str()).collect();
    assert_eq!(running, ["hubspot-closedwon", "offline-closedwon", "salesforce-closed-won"]);
}

/// Polls the Salesforce sandbox's opportunities and runs the workflows on what came in.
async fn poll_and_run(state: &AppState) -> handoff::engine::run::RunReport {
    let crm = state.crms.get("salesforce").unwrap().clone();
    handoff::sync::poll::poll_once(
        &state.store,
        crm.as_ref(),
        ObjectKind::Deal,
        handoff::domain::change::ChangeSource::Poll,
        &mut |_| {},
    )
    .await
    .unwrap();
    run(state).await
}

async fn run(state: &AppState) -> handoff::engine::run::RunReport {
    let now = chrono::Utc::now();
    let planner = handoff::engine::run::Planner {
        catalog: &state.catalog,
        sealer: None,
        now,
        today: now.date_naive(),
        invitation_validity: state.config.portal.invitation_validity,
    };
    handoff::engine::run::run_pending(&state.store, &state.workflows, &planner, 1000)
        .await
        .unwrap()
}

/// A workflow that did not fit is off, and record changes go past it meanwhile; once it
/// is fixed and handoff restarts, the deals it missed still become projects, once.
#[tokio::test]
async fn a_workflow_fixed_after_an_outage_catches_up_on_what_it_missed() {
    let sb = sandboxes().await;
    let db = TestDb::new().await;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("salesforce-closed-won.toml");
    let (_, broken, _) = broken_workflows().into_iter().find(|(s, ..)| *s == "sf-picklist-value").unwrap();
    std::fs::write(&file, broken).unwrap();
    let start = || async {
        AppState::build(config(&db, &sb, dir.path()))
            .await
            .unwrap()
            .validate_workflows_live()
            .await
    };

    let off = start().await;
    assert!(off.workflows.is_empty(), "the broken workflow does not run");
    let missed = poll_and_run(&off).await;
    assert!(missed.changes > 0, "{missed:?}");
    assert_eq!(missed.projects_created, 0);
    // Restarted while still broken: still off (the outage keeps its first start).
    let still_off = start().await;
    assert!(still_off.workflows.is_empty());

    std::fs::write(&file, SF_WORKFLOW).unwrap();
    let fixed = start().await;
    assert_eq!(fixed.workflows.len(), 1);
    let caught_up = run(&fixed).await;
    assert_eq!(caught_up.changes, missed.changes, "every change it missed is handled again");
    assert!(caught_up.projects_created > 0, "the won deals became projects: {caught_up:?}");
    let projects = fixed.store.engine_counts().await.unwrap().projects;
    assert_eq!(i64::try_from(caught_up.projects_created).unwrap(), projects);

    // Nothing is caught up twice.
    let again = start().await;
    assert_eq!(run(&again).await.changes, 0);
    assert_eq!(again.store.engine_counts().await.unwrap().projects, projects);
}

// ---- `handoff check`, the binary -------------------------------------------------------

/// A configuration file for both sandboxes (the HubSpot one at `hubspot_url`), and the
/// environment that goes with it.
struct CheckSetup {
    dir: tempfile::TempDir,
    config: PathBuf,
    key: PathBuf,
}

fn check_setup(sb: &Sandboxes, hubspot_url: &str) -> CheckSetup {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("handoff.toml");
    std::fs::write(
        &config,
        format!(
            "[connections.salesforce]\ncrm = \"salesforce\"\nlogin_url = \"{}\"\nclient_id = \"{}\"\nusername = \"{}\"\norganization_id = \"{}\"\n\n\
             [connections.hubspot]\ncrm = \"hubspot\"\nbase_url = \"{hubspot_url}\"\nauth = \"private_app\"\n",
            sb.sf.base_url(),
            sf::DEFAULT_CLIENT_ID,
            sf::DEFAULT_USERNAME,
            sb.sf.organization_id(),
        ),
    )
    .unwrap();
    let key = dir.path().join("key.pem");
    std::fs::write(&key, sf::TEST_JWT_PRIVATE_KEY_PEM).unwrap();
    CheckSetup { dir, config, key }
}

fn check(setup: &CheckSetup, db: &TestDb, workflows: &Path, extra: &[&str]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_handoff"));
    for (k, _) in std::env::vars().filter(|(k, _)| k.starts_with("HANDOFF_")) {
        cmd.env_remove(k);
    }
    cmd.current_dir(setup.dir.path())
        .arg("--config")
        .arg(&setup.config)
        .arg("check")
        .args(extra)
        .env("HANDOFF_DATABASE_URL", db.url())
        .env("HANDOFF_MASTER_KEY", MASTER_KEY)
        .env("HANDOFF_CONNECTION_SALESFORCE_PRIVATE_KEY_FILE", &setup.key)
        .env("HANDOFF_CONNECTION_SALESFORCE_WEBHOOK_SECRET", "secret")
        .env("HANDOFF_CONNECTION_HUBSPOT_PRIVATE_APP_TOKEN", "pat-sandbox-handoff")
        .env("HANDOFF_TEMPLATES_DIR", common::repo_path("templates/projects"))
        .env("HANDOFF_WORKFLOWS_DIR", workflows)
        .env("HANDOFF_LOG", "warn")
        .output()
        .unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

// Multi-threaded: the handoff child process calls the in-process sandboxes while this
// test waits for the child, blocking its own thread.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn check_passes_the_shipped_workflows_against_the_live_catalogs() {
    let sb = sandboxes().await;
    let db = TestDb::new().await;
    let setup = check_setup(&sb, &sb.hs.base_url());
    let out = check(&setup, &db, &shipped_dir(), &[]);
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    assert!(out.status.success(), "{stdout}\n{stderr}");
    assert!(
        stdout.contains("CRM fields: checked against each connection's live catalog"),
        "{stdout}"
    );
    assert!(stdout.contains(&format!("  {:<24} ok", "salesforce-closed-won")), "{stdout}");
    assert!(stdout.contains(&format!("  {:<24} ok", "hubspot-closedwon")), "{stdout}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn check_fails_on_workflows_that_do_not_fit_printing_file_line_key_and_reason() {
    let sb = sandboxes().await;
    let db = TestDb::new().await;
    let setup = check_setup(&sb, &sb.hs.base_url());
    let workflows = tempfile::tempdir().unwrap();
    write_broken(workflows.path());
    let out = check(&setup, &db, workflows.path(), &[]);
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{}\n{stderr}", text(&out.stdout));
    for (stem, _, refusals) in broken_workflows() {
        let file = workflows.path().join(format!("{stem}.toml")).display().to_string();
        for (key, reason) in refusals {
            // `file:line: `key`: reason`
            let printed = stderr.lines().any(|l| {
                l.strip_prefix(&format!("{file}:"))
                    .and_then(|rest| rest.split_once(": "))
                    .is_some_and(|(line, rest)| {
                        line.parse::<usize>().is_ok() && rest.starts_with(&format!("`{key}`: ")) && rest.contains(reason)
                    })
            });
            assert!(printed, "{stem}: `{key}`: {reason} not printed:\n{stderr}");
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn check_warns_about_an_unreachable_crm_without_failing_and_offline_asks_none() {
    let sb = sandboxes().await;
    let db = TestDb::new().await;
    let setup = check_setup(&sb, "http://127.0.0.1:1");
    let out = check(&setup, &db, &shipped_dir(), &[]);
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    assert!(out.status.success(), "{stdout}\n{stderr}");
    assert!(stderr.contains("warning: connection `hubspot` cannot be reached"), "{stderr}");
    assert!(
        stdout.contains("hubspot-closedwon        not checked: hubspot cannot be reached"),
        "{stdout}"
    );
    assert!(stdout.contains(&format!("  {:<24} ok", "salesforce-closed-won")), "{stdout}");

    // Offline: no CRM and no database is asked, even with broken workflows on file.
    let workflows = tempfile::tempdir().unwrap();
    write_broken(workflows.path());
    let fresh = TestDb::new().await;
    let out = check(&setup, &fresh, workflows.path(), &["--offline"]);
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    assert!(out.status.success(), "{stdout}\n{stderr}");
    assert!(stdout.contains("CRM fields: not checked (--offline)"), "{stdout}");
    if let Some(file) = fresh.url().strip_prefix("sqlite://") {
        assert!(!Path::new(file).exists(), "--offline opens no database");
    }
}
