//! Project mapping end to end through the CRM sandboxes: the record's owner and team
//! (CRM user-lookup fields) become project members matched to staff by email or CRM
//! user id, custom fields follow the CRM, and `company_contacts` brings the contacts
//! of the deal's company.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common;

use handoff::engine::EngineError;

use std::time::Duration;

use common::{TestApp, spawn_app_with};
use handoff::config::ConnectionConfig;
use handoff::config::connections::{CrmSettings, HubspotAuth, HubspotSettings, SalesforceAuth, SalesforceSettings};
use handoff::domain::change::{ChangeSource, ObjectKind};
use handoff::domain::people::ProjectRole;
use handoff::domain::{Email, ProjectId};
use handoff::engine::run::{Planner, RunReport, run_pending};
use handoff::store::NewStaff;
use handoff::store::sealed::Sealer;
use handoff::sync::poll::poll_once;
use secrecy::SecretString;
use serde_json::json;

/// A Salesforce workflow using every mapping: owner, a team field (the opportunity's
/// creator, a standard User lookup), custom fields (one through a lookup path) and the
/// account's contacts as viewers.
const SF_WORKFLOW: &str = r#"
[trigger]
connection = "salesforce"
object = "deal"
event = "field_becomes"
field = "StageName"
value = "Closed Won"

[template]
name = "saas-onboarding"

[project]
name = "{{ Account.Name }} onboarding"
start = "close_date"
owner_field = "OwnerId"
team_fields = ["CreatedById"]
initial_status = "draft"

[project.custom_fields]
deal_amount = "Amount"
account_name = "Account.Name"
product_line = "Product_Line__c"

[[customers]]
contact_roles = ["Decision Maker"]
role = "customer_admin"
invite = "when_active"

[[customers]]
company_contacts = true
role = "customer_viewer"
invite = "silently"
"#;

/// The HubSpot counterpart: the deal owner, custom fields and the company's contacts.
const HS_WORKFLOW: &str = r#"
[trigger]
connection = "hubspot"
object = "deal"
event = "enters_stage"
stage = "closedwon"

[template]
name = "saas-onboarding"

[project]
name = "{{ dealname }}"
start = "close_date"
owner_field = "hubspot_owner_id"
initial_status = "draft"

[project.custom_fields]
deal_amount = "amount"

[[customers]]
company_contacts = true
role = "customer_viewer"
invite = "silently"
"#;

fn salesforce_connection(sb: &sandbox_salesforce::Sandbox) -> ConnectionConfig {
    ConnectionConfig {
        name: "salesforce".into(),
        poll_interval: Duration::from_secs(300),
        crm: CrmSettings::Salesforce(SalesforceSettings {
            login_url: sb.base_url().parse().unwrap(),
            api_version: "67.0".into(),
            auth: SalesforceAuth::JwtBearer {
                client_id: sandbox_salesforce::DEFAULT_CLIENT_ID.into(),
                username: sandbox_salesforce::DEFAULT_USERNAME.into(),
                private_key: SecretString::from(sandbox_salesforce::TEST_JWT_PRIVATE_KEY_PEM),
                client_secret: None,
            },
            organization_id: sb.organization_id().to_owned(),
            webhook_secret: SecretString::from("secret"),
        }),
    }
}

fn hubspot_connection(sb: &sandbox_hubspot::Sandbox) -> ConnectionConfig {
    ConnectionConfig {
        name: "hubspot".into(),
        poll_interval: Duration::from_secs(300),
        crm: CrmSettings::Hubspot(HubspotSettings {
            base_url: sb.base_url().parse().unwrap(),
            client_id: None,
            auth: HubspotAuth::PrivateApp {
                token: SecretString::from("pat-sandbox-handoff"),
            },
            client_secret: Some(SecretString::from("handoff-sandbox-secret")),
            portal_id: Some(sandbox_hubspot::Config::for_tests().portal_id),
            accept_legacy_signatures: false,
        }),
    }
}

/// The app with one connection and one workflow file (the folder lives as long as the app).
async fn app_with(connection: ConnectionConfig, workflow: &str) -> (TestApp, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("mapped.toml"), workflow).unwrap();
    let path = dir.path().to_owned();
    let app = spawn_app_with(move |c| {
        c.connections = vec![connection];
        c.workflows.dir = path;
    })
    .await;
    (app, dir)
}

async fn sync_and_run(app: &TestApp, connection: &str) -> RunReport {
    let crm = app.state.crms.get(connection).unwrap().clone();
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
    let report = run_pending(app.store(), &app.state.workflows, &planner, 1000).await.unwrap();
    assert_eq!(report.failed, 0, "{report:?}");
    report
}

fn staff(email: &str, crm_users: &[(&str, &str)]) -> NewStaff {
    NewStaff {
        email: Email::parse(email).unwrap(),
        first_name: Some("Staff".into()),
        last_name: None,
        crm_users: crm_users.iter().map(|(c, u)| ((*c).to_owned(), (*u).to_owned())).collect(),
        role: handoff::domain::people::StaffRole::Staff,
    }
}

/// Role of each member, by email.
async fn roles(app: &TestApp, project: ProjectId) -> Vec<(String, ProjectRole)> {
    let mut out: Vec<(String, ProjectRole)> = app
        .store()
        .project_members(project)
        .await
        .unwrap()
        .into_iter()
        .map(|(m, u)| (u.email.as_str().to_owned(), m.role))
        .collect();
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out
}

fn role_of(roles: &[(String, ProjectRole)], email: &str) -> Option<ProjectRole> {
    roles.iter().find(|(e, _)| e == email).map(|(_, r)| *r)
}

fn salesforce_user(sb: &sandbox_salesforce::Sandbox, email: &str) -> String {
    sb.ids("User")
        .into_iter()
        .find(|id| sb.record("User", id).unwrap()["Email"] == email)
        .unwrap()
}

async fn actions(app: &TestApp, project: ProjectId, action: &str) -> Vec<serde_json::Value> {
    app.store()
        .project_activity(project)
        .await
        .unwrap()
        .into_iter()
        .filter(|a| a.entry.action == action)
        .map(|a| a.entry.details)
        .collect()
}

const MARIA: &str = "maria.lopez@sandbox.example.com";
const JAMES: &str = "james.okafor@sandbox.example.com";

#[tokio::test]
async fn a_won_opportunity_gets_its_owner_team_custom_fields_and_account_contacts() {
    crm_http::install_crypto_provider();
    let sb = sandbox_salesforce::start(sandbox_salesforce::Config::for_tests()).await.unwrap();
    let (app, _dir) = app_with(salesforce_connection(&sb), SF_WORKFLOW).await;
    // Maria's account exists, under another capitalisation: matched by email anyway.
    crate::common::engine(app.store())
        .add_staff(&staff("Maria.Lopez@Sandbox.Example.com", &[]), "test")
        .await
        .unwrap();
    sync_and_run(&app, "salesforce").await;

    // Northwind's open opportunity (owned by Maria) is won.
    let opp = sb
        .ids("Opportunity")
        .into_iter()
        .find(|id| sb.record("Opportunity", id).unwrap()["Name"] == "Northwind - 40 Stores")
        .unwrap();
    sb.update_record("Opportunity", &opp, &[("StageName", json!("Closed Won"))])
        .unwrap();
    let report = sync_and_run(&app, "salesforce").await;
    assert_eq!(report.projects_created, 1, "{report:?}");
    let project = app.store().project_for_source("mapped", "salesforce", &opp).await.unwrap().unwrap();

    let members = roles(&app, project).await;
    assert_eq!(role_of(&members, MARIA), Some(ProjectRole::Owner), "{members:?}");
    // Hugo is a Business User, not a Decision Maker: he joins as an account contact.
    assert_eq!(
        role_of(&members, "hugo.martin@northwind.example.com"),
        Some(ProjectRole::CustomerViewer),
        "{members:?}"
    );
    // The creator (the API's user) has no staff account: said once, not added.
    let creator = sb.record("Opportunity", &opp).unwrap()["CreatedById"].as_str().unwrap().to_owned();
    assert_eq!(members.len(), 2, "{members:?}");
    let unmatched = actions(&app, project, "staff.unmatched").await;
    assert_eq!(unmatched.len(), 1, "{unmatched:?}");
    let message = unmatched[0]["message"].as_str().unwrap();
    assert!(
        message.contains(&creator) && message.contains("has no handoff account"),
        "{message}"
    );

    let mapping = app.store().project_mapping(project).await.unwrap();
    assert_eq!(mapping.custom_fields["deal_amount"], json!(22000.0));
    assert_eq!(mapping.custom_fields["account_name"], json!("Northwind Traders"));
    assert_eq!(mapping.custom_fields["product_line"], json!("Core Platform"));
    assert_eq!(mapping.crm_staff.len(), 2);
    assert_eq!(mapping.crm_staff[0].role, ProjectRole::Owner);
    assert!(mapping.crm_staff[1].user_id.is_none());

    // The amount changes and the deal moves to James, who has no account: the field
    // follows; Maria stays owner until James can sign in, and James is reported once.
    let james = salesforce_user(&sb, JAMES);
    sb.update_record("Opportunity", &opp, &[("Amount", json!(30000)), ("OwnerId", json!(james))])
        .unwrap();
    sync_and_run(&app, "salesforce").await;
    sync_and_run(&app, "salesforce").await;
    let mapping = app.store().project_mapping(project).await.unwrap();
    assert_eq!(mapping.custom_fields["deal_amount"], json!(30000.0));
    assert_eq!(actions(&app, project, "project.custom_field_changed").await.len(), 1);
    assert_eq!(role_of(&roles(&app, project).await, MARIA), Some(ProjectRole::Owner));
    let unmatched = actions(&app, project, "staff.unmatched").await;
    assert_eq!(unmatched.len(), 2, "{unmatched:?}");
    assert!(
        unmatched[1]["message"]
            .as_str()
            .unwrap()
            .contains("owner James Okafor <james.okafor@sandbox.example.com>")
    );

    // James gets an account: he joins as owner at once; Maria stays, as staff.
    let added = crate::common::engine(app.store())
        .add_staff(&staff(JAMES, &[]), "test")
        .await
        .unwrap();
    assert_eq!((added.created, added.joined), (true, 1));
    let members = roles(&app, project).await;
    assert_eq!(role_of(&members, JAMES), Some(ProjectRole::Owner), "{members:?}");
    assert_eq!(role_of(&members, MARIA), Some(ProjectRole::Staff), "{members:?}");

    // The creator gets one too, linked by CRM user id: it joins the team (of the three
    // won opportunities' projects, as it created every one).
    let added = crate::common::engine(app.store())
        .add_staff(&staff("integration@handoff.example", &[("salesforce", &creator)]), "test")
        .await
        .unwrap();
    assert_eq!(added.joined, 3);
    assert_eq!(
        role_of(&roles(&app, project).await, "integration@handoff.example"),
        Some(ProjectRole::Staff)
    );

    // A later change with the same owner and team changes nobody's role.
    sb.update_record("Opportunity", &opp, &[("Amount", json!(31000))]).unwrap();
    sync_and_run(&app, "salesforce").await;
    let members = roles(&app, project).await;
    assert_eq!(role_of(&members, JAMES), Some(ProjectRole::Owner));
    assert_eq!(role_of(&members, MARIA), Some(ProjectRole::Staff));
    assert_eq!(actions(&app, project, "staff.unmatched").await.len(), 2);
}

#[tokio::test]
async fn the_project_api_and_show_carry_the_custom_fields_and_the_owner() {
    crm_http::install_crypto_provider();
    let sb = sandbox_salesforce::start(sandbox_salesforce::Config::for_tests()).await.unwrap();
    let (app, _dir) = app_with(salesforce_connection(&sb), SF_WORKFLOW).await;
    crate::common::engine(app.store())
        .add_staff(&staff(MARIA, &[]), "test")
        .await
        .unwrap();
    // The fixture's won opportunities (Acme, Initech) become projects on the first poll.
    sync_and_run(&app, "salesforce").await;
    let acme = sb
        .ids("Opportunity")
        .into_iter()
        .find(|id| sb.record("Opportunity", id).unwrap()["Name"] == "Acme - Plant Rollout")
        .unwrap();
    let project = app
        .store()
        .project_for_source("mapped", "salesforce", &acme)
        .await
        .unwrap()
        .unwrap();

    let token = handoff::domain::api_token::NewApiToken::generate().unwrap();
    let name = handoff::domain::api_token::ApiTokenName::parse("mapping-test").unwrap();
    app.store().create_api_token(&name, &token).await.unwrap();
    let body: serde_json::Value = app
        .client
        .get(format!("{}/api/v1/projects/{project}", app.base_url))
        .bearer_auth(secrecy::ExposeSecret::expose_secret(&token.token))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(body["custom_fields"]["deal_amount"], json!(120000.0), "{body}");
    assert_eq!(body["custom_fields"]["product_line"], json!("Enterprise Suite"));
    assert_eq!(body["crm_staff"][0]["role"], "owner");
    assert_eq!(body["crm_staff"][0]["email"], MARIA);
    assert!(body["crm_staff"][0]["user_id"].is_string(), "{body}");

    // All of Acme's contacts: Ada by her role, Ben and Chloe as account contacts.
    let members = roles(&app, project).await;
    assert_eq!(role_of(&members, "ada.reyes@acme.example.com"), Some(ProjectRole::CustomerAdmin));
    assert_eq!(role_of(&members, "ben.carter@acme.example.com"), Some(ProjectRole::CustomerViewer));
    assert_eq!(
        role_of(&members, "chloe.nguyen@acme.example.com"),
        Some(ProjectRole::CustomerViewer)
    );
}

#[tokio::test]
async fn a_hubspot_deal_owner_is_matched_by_owner_id_and_company_contacts_join() {
    crm_http::install_crypto_provider();
    let sb = sandbox_hubspot::start(sandbox_hubspot::Config::for_tests()).await.unwrap();
    let (app, _dir) = app_with(hubspot_connection(&sb), HS_WORKFLOW).await;
    // Ava (owner 81000001) signs in with another address than HubSpot's: linked by id.
    crate::common::engine(app.store())
        .add_staff(&staff("ava@handoff.example", &[("hubspot", "81000001")]), "test")
        .await
        .unwrap();
    let calls_before = app.state.crms.get("hubspot").unwrap().calls_made();
    sync_and_run(&app, "hubspot").await;
    let calls = app.state.crms.get("hubspot").unwrap().calls_made() - calls_before;
    // Search, two association reads and two object reads for the deals, the owners
    // list once, the companies' contacts once, and the search that finds no more.
    assert!(calls <= 8, "{calls} calls");

    let deal = sb
        .ids(sandbox_hubspot::ObjectType::Deals)
        .into_iter()
        .find(|id| {
            let d = sb.record(sandbox_hubspot::ObjectType::Deals, *id).unwrap();
            d.properties.get("dealname").map(String::as_str) == Some("Northwind Traders — Core platform")
        })
        .unwrap();
    let project = app
        .store()
        .project_for_source("mapped", "hubspot", &deal.to_string())
        .await
        .unwrap()
        .expect("the won Northwind deal has a project");
    let members = roles(&app, project).await;
    assert_eq!(role_of(&members, "ava@handoff.example"), Some(ProjectRole::Owner), "{members:?}");
    for contact in [
        "nora.okafor@northwind.example.com",
        "sam.brennan@northwind.example.com",
        "lena.moreau@northwind.example.com",
    ] {
        assert_eq!(
            role_of(&members, contact),
            Some(ProjectRole::CustomerViewer),
            "{contact}: {members:?}"
        );
    }
    let mapping = app.store().project_mapping(project).await.unwrap();
    assert_eq!(mapping.custom_fields["deal_amount"], json!("48000"));
    assert_eq!(mapping.crm_staff[0].email.as_deref(), Some("ava.lindqvist@sandbox.example.com"));

    // Another deal owned by Omar (no account) says so in its activity.
    let bluefin = sb
        .ids(sandbox_hubspot::ObjectType::Deals)
        .into_iter()
        .find(|id| {
            let d = sb.record(sandbox_hubspot::ObjectType::Deals, *id).unwrap();
            d.properties.get("dealname").map(String::as_str) == Some("Bluefin Logistics — Integrations")
        })
        .unwrap();
    let other = app
        .store()
        .project_for_source("mapped", "hubspot", &bluefin.to_string())
        .await
        .unwrap()
        .unwrap();
    let unmatched = actions(&app, other, "staff.unmatched").await;
    assert_eq!(unmatched.len(), 1);
    assert!(
        unmatched[0]["message"]
            .as_str()
            .unwrap()
            .contains("Omar Haddad <omar.haddad@sandbox.example.com>")
    );
}

#[tokio::test]
async fn a_staff_account_is_refused_for_a_customer_email_or_a_crm_user_linked_to_someone_else() {
    let db = common::TestDb::new().await;
    let store = db.store().await;
    store
        .upsert_user(&handoff::store::NewUser::new(
            handoff::domain::people::UserKind::Customer,
            Email::parse("dana@acme.example").unwrap(),
        ))
        .await
        .unwrap();
    let refused = crate::common::engine(&store)
        .add_staff(&staff("dana@acme.example", &[]), "test")
        .await;
    assert!(matches!(refused, Err(EngineError::Refused(_))), "{refused:?}");

    crate::common::engine(&store)
        .add_staff(&staff("maria@handoff.example", &[("salesforce", "005A")]), "test")
        .await
        .unwrap();
    let taken = crate::common::engine(&store)
        .add_staff(&staff("james@handoff.example", &[("salesforce", "005A")]), "test")
        .await;
    assert!(matches!(taken, Err(EngineError::Refused(m)) if m.to_string().contains("already linked")));
    assert!(
        store
            .user_by_email(&Email::parse("james@handoff.example").unwrap())
            .await
            .unwrap()
            .is_none(),
        "a refused add changes nothing"
    );
    // Adding the same person again is harmless.
    let again = crate::common::engine(&store)
        .add_staff(&staff("maria@handoff.example", &[]), "test")
        .await
        .unwrap();
    assert!(!again.created);
}
