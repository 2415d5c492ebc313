//! `handoff demo`: handoff as a new user first meets it, with nothing to configure.
//!
//! In one process: both CRM simulators, an SMTP capture, and handoff on a fresh SQLite
//! database with the shipped workflows. Webhooks and Outbound Messages are wired to
//! handoff; a won deal is created in each CRM through the CRM's own API (handoff's
//! connector clients, as any integration would); the demo then shows what handoff made
//! of them — projects, customer users with their roles, invitation emails with their
//! links — completes each project's first phase, shows the writeback as it now stands in
//! each CRM, and keeps serving.

use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use secrecy::SecretString;
use serde_json::json;

use crate::app::{self, AppState};
use handoff_config::connections::{CrmSettings, HubspotAuth, HubspotSettings, SalesforceAuth, SalesforceSettings};
use handoff_config::{Config, ConnectionConfig, MasterKey};
use handoff_mail::capture::SmtpCapture;

/// Where the demo keeps its data; replaced on every run so the demo is repeatable.
const DEMO_DB: &str = "data/demo.db";
const OUTBOUND_SECRET: &str = "demo-outbound-secret";
/// The shipped workflows, used when no workflows folder is found (run from elsewhere).
const WORKFLOWS: &[(&str, &str)] = &[
    (
        "salesforce-closed-won.toml",
        include_str!("../../workflows/salesforce-closed-won.toml"),
    ),
    ("hubspot-closedwon.toml", include_str!("../../workflows/hubspot-closedwon.toml")),
];

pub async fn run(mut config: Config) -> anyhow::Result<ExitCode> {
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{DEMO_DB}{suffix}"));
    }
    println!("handoff demo — starting the CRM sandboxes, an SMTP capture and handoff …\n");
    let salesforce = sandbox_salesforce::start(sandbox_salesforce::Config {
        listen: "127.0.0.1:0".parse()?,
        ..Default::default()
    })
    .await?;
    let (hubspot, hubspot_portal) = start_hubspot().await?;
    let smtp = SmtpCapture::start().await.context("cannot start the SMTP capture")?;

    let workflows_dir = tempfile_dir()?;
    if !config.workflows.dir.exists() {
        for (name, text) in WORKFLOWS {
            std::fs::write(workflows_dir.join(name), text)?;
        }
        config.workflows.dir = workflows_dir.clone();
    }
    config.database.url = SecretString::from(format!("sqlite://{DEMO_DB}"));
    config.secrets.master_key = MasterKey::generate();
    config.smtp.url = Some(SecretString::from(smtp.url()));
    let listen = config.server.listen;
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .with_context(|| format!("cannot listen on {listen} (set HANDOFF_LISTEN to another address)"))?;
    let address = listener.local_addr()?;
    config.server.base_url = format!("http://{address}").parse()?;
    config.connections = connections(&salesforce, &hubspot, hubspot_portal)?;
    let state = AppState::build(config).await?.validate_workflows_live().await;
    let server = tokio::spawn(app::serve(listener, state.clone(), app::shutdown_signal()));

    salesforce.set_outbound_target(Some(format!("http://{address}/webhooks/salesforce/salesforce/{OUTBOUND_SECRET}")));
    hubspot.set_webhook_target(Some(format!("http://{address}/webhooks/hubspot/hubspot")));

    let sf_owner = add_staff(&state, &salesforce).await.context("adding the demo's staff")?;
    let sf_deal = win_salesforce_deal(&salesforce, sf_owner.as_deref())
        .await
        .context("creating the Salesforce deal")?;
    let hs_deal = win_hubspot_deal(&hubspot).await.context("creating the HubSpot deal")?;
    println!("Won a deal in each CRM through its API: Salesforce Opportunity {sf_deal}, HubSpot deal {hs_deal}.");
    println!("Waiting for the webhook / Outbound Message, the workflows and the invitation emails …\n");
    wait_for(&state, &smtp, 2, Duration::from_secs(60)).await;

    show(&state, &smtp, &address).await?;
    complete_first_phases(
        &state,
        &[
            ("salesforce-closed-won", "salesforce", &sf_deal),
            ("hubspot-closedwon", "hubspot", &hs_deal),
        ],
    )
    .await?;
    wait_for_writebacks(&state, Duration::from_secs(30)).await;
    show_writebacks(&salesforce, &sf_deal, &hubspot, &hs_deal)?;
    println!(
        "\nCustomer portal: open an invitation link above in a browser and press its button to sign in as that \
         customer (each link works once)."
    );
    let console = console_link(&state, &smtp, &address)
        .await
        .context("emailing the staff console link")?;
    println!(
        "\nStaff console: open this link (it works once, for 30 minutes) to sign in as Maria Lopez, an admin:\n  {console}\n\
         (or http://{address}/console/sign-in: \"Sign in with Salesforce\" as Maria Lopez, \"Sign in with HubSpot\" \
         as Ava Lindqvist, or \"Email me a sign-in link\" for {SALESFORCE_OWNER_EMAIL})"
    );
    println!("\nhandoff            http://{address}  (portal: /projects; console: /console; health: /healthz, readiness: /readyz)");
    println!(
        "Salesforce sandbox {}  (JWT user {}, org {})",
        salesforce.base_url(),
        sandbox_salesforce::DEFAULT_USERNAME,
        salesforce.organization_id()
    );
    println!(
        "HubSpot sandbox    {}  (private-app token {})",
        hubspot.base_url(),
        sandbox_hubspot::DEFAULT_PRIVATE_APP_TOKEN
    );
    println!("database           {DEMO_DB} — try: HANDOFF_DATABASE_URL=sqlite://{DEMO_DB} cargo run --release -- project list");
    println!("press Ctrl-C to stop");
    server.await??;
    salesforce.shutdown().await;
    hubspot.shutdown().await;
    let _ = std::fs::remove_dir_all(&workflows_dir);
    Ok(ExitCode::SUCCESS)
}

fn tempfile_dir() -> anyhow::Result<std::path::PathBuf> {
    let dir = std::env::temp_dir().join(format!("handoff-demo-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    Ok(dir)
}

/// The HubSpot simulator and the account (portal) id its webhook events carry: its
/// seed's, else its configuration's, as the simulator itself chooses.
async fn start_hubspot() -> anyhow::Result<(sandbox_hubspot::Sandbox, u64)> {
    let config = sandbox_hubspot::Config {
        listen: "127.0.0.1:0".parse()?,
        ..Default::default()
    };
    let portal_id = config.seed.portal_id.unwrap_or(config.portal_id);
    Ok((sandbox_hubspot::start(config).await?, portal_id))
}

fn connections(
    sf: &sandbox_salesforce::Sandbox,
    hs: &sandbox_hubspot::Sandbox,
    hubspot_portal: u64,
) -> anyhow::Result<Vec<ConnectionConfig>> {
    // Polls would also find the sandboxes' seeded deals; the demo is about the live flow.
    let poll_interval = Duration::from_secs(3600);
    Ok(vec![
        ConnectionConfig {
            name: "salesforce".into(),
            poll_interval,
            crm: CrmSettings::Salesforce(SalesforceSettings {
                login_url: sf.base_url().parse()?,
                api_version: "67.0".into(),
                auth: SalesforceAuth::JwtBearer {
                    client_id: sandbox_salesforce::DEFAULT_CLIENT_ID.into(),
                    username: sandbox_salesforce::DEFAULT_USERNAME.into(),
                    private_key: SecretString::from(sandbox_salesforce::TEST_JWT_PRIVATE_KEY_PEM),
                    // The connected app's secret also lets staff "Sign in with Salesforce".
                    client_secret: Some(SecretString::from(sandbox_salesforce::DEFAULT_CLIENT_SECRET)),
                },
                organization_id: sf.organization_id().to_owned(),
                webhook_secret: SecretString::from(OUTBOUND_SECRET),
            }),
        },
        ConnectionConfig {
            name: "hubspot".into(),
            poll_interval,
            crm: CrmSettings::Hubspot(HubspotSettings {
                base_url: hs.base_url().parse()?,
                // The public app beside the private-app token: "Sign in with HubSpot".
                client_id: Some(sandbox_hubspot::DEFAULT_CLIENT_ID.into()),
                auth: HubspotAuth::PrivateApp {
                    token: SecretString::from(sandbox_hubspot::DEFAULT_PRIVATE_APP_TOKEN),
                },
                client_secret: Some(SecretString::from(sandbox_hubspot::DEFAULT_CLIENT_SECRET)),
                // As a deployment should: events signed for other accounts are refused.
                portal_id: Some(hubspot_portal),
                accept_legacy_signatures: false,
            }),
        },
    ])
}

/// The sandbox HubSpot owner who owns the demo's deal (seeded: Ava Lindqvist).
const HUBSPOT_OWNER: &str = "81000001";
/// Ava's HubSpot user id: signing in with HubSpot names the user, not the owner.
const HUBSPOT_USER: &str = "91000001";
/// The sandbox Salesforce user who owns the demo's opportunity.
const SALESFORCE_OWNER_EMAIL: &str = "maria.lopez@sandbox.example.com";

/// Staff accounts for the deals' owners, as an admin would add them with `handoff users
/// add-staff`: Maria matched by her email, Ava linked by her HubSpot owner id (deals
/// name owners) and user id (sign-in names users). Returns
/// Maria's Salesforce user id.
async fn add_staff(state: &AppState, sf: &sandbox_salesforce::Sandbox) -> anyhow::Result<Option<String>> {
    use handoff_domain::Email;
    use handoff_store::NewStaff;
    let maria = sf.ids("User").into_iter().find(|id| {
        sf.record("User", id)
            .is_some_and(|u| u.get("Email").and_then(|e| e.as_str()) == Some(SALESFORCE_OWNER_EMAIL))
    });
    let staff = [
        ("Maria", "Lopez", SALESFORCE_OWNER_EMAIL, Vec::new()),
        (
            "Ava",
            "Lindqvist",
            "ava@handoff-demo.example",
            vec![
                ("hubspot".to_owned(), HUBSPOT_OWNER.to_owned()),
                ("hubspot".to_owned(), HUBSPOT_USER.to_owned()),
            ],
        ),
    ];
    for (first, last, email, link) in staff {
        let new = NewStaff {
            email: Email::parse(email)?,
            first_name: Some(first.into()),
            last_name: Some(last.into()),
            crm_users: link,
            // The demo's staff can reach everything, the admin pages included.
            role: handoff_domain::people::StaffRole::Admin,
        };
        state.engine.add_staff(&new, "demo").await?;
    }
    Ok(maria)
}

/// Asks for an emailed console sign-in link for Maria, as the sign-in page's "Email me
/// a link" does, and returns it as the SMTP capture received it.
async fn console_link(state: &AppState, smtp: &SmtpCapture, address: &std::net::SocketAddr) -> anyhow::Result<String> {
    let email = handoff_domain::Email::parse(SALESFORCE_OWNER_EMAIL)?;
    let asked = state.engine.request_console_link(&email).await?;
    anyhow::ensure!(
        matches!(asked, handoff_engine::staff::ConsoleLinkRequest::Sent { .. }),
        "no console link was sent: {asked:?}"
    );
    let prefix = format!("http://{address}/console/link/");
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let found = smtp.messages().iter().find_map(|message| {
            // Quoted-printable soft line breaks would split the link.
            let body = message.raw.replace("=\r\n", "");
            body.split(|c: char| c.is_whitespace() || c == '"' || c == '<' || c == '>')
                .find(|w| w.starts_with(&prefix))
                .map(str::to_owned)
        });
        if let Some(link) = found {
            return Ok(link);
        }
        anyhow::ensure!(Instant::now() < deadline, "the console sign-in email did not arrive within 30 s");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// An account, two contacts with contact roles and an opportunity owned by `owner`,
/// moved to Closed Won.
async fn win_salesforce_deal(sb: &sandbox_salesforce::Sandbox, owner: Option<&str>) -> anyhow::Result<String> {
    use crm_salesforce::auth::{Grant, JwtBearer, RefreshingTokenProvider};
    let jwt = JwtBearer::new(
        &sb.base_url(),
        sandbox_salesforce::DEFAULT_CLIENT_ID,
        sandbox_salesforce::DEFAULT_USERNAME,
        &SecretString::from(sandbox_salesforce::TEST_JWT_PRIVATE_KEY_PEM),
    )?;
    let client = crm_salesforce::Client::new(Arc::new(RefreshingTokenProvider::new(Grant::JwtBearer(jwt))?))?;
    let account = client.create_record("Account", &json!({ "Name": "Initech" })).await?;
    let dana = client
        .create_record(
            "Contact",
            &json!({ "FirstName": "Dana", "LastName": "Reyes", "Email": "dana.reyes@initech.example", "AccountId": account }),
        )
        .await?;
    let omar = client
        .create_record(
            "Contact",
            &json!({ "FirstName": "Omar", "LastName": "Haddad", "Email": "omar.haddad@initech.example", "AccountId": account }),
        )
        .await?;
    let close = chrono::Utc::now().date_naive().to_string();
    let mut fields = json!({ "Name": "Initech — Analytics", "AccountId": account, "StageName": "Negotiation/Review", "CloseDate": close,
                             "Amount": 48000, "Type": "New Business", "Product_Line__c": "Analytics" });
    if let (Some(owner), Some(map)) = (owner, fields.as_object_mut()) {
        map.insert("OwnerId".into(), json!(owner));
    }
    let opp = client.create_record("Opportunity", &fields).await?;
    for (contact, role, primary) in [(&dana, "Decision Maker", true), (&omar, "Technical Buyer", false)] {
        client
            .create_record(
                "OpportunityContactRole",
                &json!({ "OpportunityId": opp, "ContactId": contact, "Role": role, "IsPrimary": primary }),
            )
            .await?;
    }
    let mut won = serde_json::Map::new();
    won.insert("StageName".into(), json!("Closed Won"));
    client.update_record("Opportunity", &opp, &won).await?;
    Ok(opp)
}

/// A company, two contacts with association labels and a deal, moved to closedwon.
async fn win_hubspot_deal(sb: &sandbox_hubspot::Sandbox) -> anyhow::Result<String> {
    use crm_hubspot::associations::AssociationSpec;
    use crm_hubspot::objects::NewObject;
    let token = crm_http::StaticToken(crm_http::AccessToken::new(SecretString::from(
        sandbox_hubspot::DEFAULT_PRIVATE_APP_TOKEN,
    )));
    let client = crm_hubspot::Client::builder(Arc::new(token)).base_url(sb.base_url()).build()?;
    let object = |pairs: &[(&str, &str)]| NewObject {
        properties: pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect(),
        ..Default::default()
    };
    let company = client
        .create_object("companies", &object(&[("name", "Umbrella Health"), ("domain", "umbrella.example")]))
        .await?
        .id;
    let deal = client
        .create_object(
            "deals",
            &object(&[
                ("dealname", "Umbrella Health — Core platform"),
                ("pipeline", "default"),
                ("dealstage", "contractsent"),
                ("amount", "36000"),
                ("hubspot_owner_id", HUBSPOT_OWNER),
            ]),
        )
        .await?
        .id;
    client.associate_default("deals", &deal, "companies", &company).await?;
    let labels = client.association_labels("deals", "contacts").await?;
    for (first, last, label) in [("Lena", "Park", "Decision maker"), ("Tom", "Novak", "Technical contact")] {
        let email = format!("{}.{}@umbrella.example", first.to_lowercase(), last.to_lowercase());
        let contact = client
            .create_object("contacts", &object(&[("firstname", first), ("lastname", last), ("email", &email)]))
            .await?
            .id;
        let spec = labels
            .iter()
            .find(|l| l.label.as_deref() == Some(label))
            .map(|l| AssociationSpec {
                association_category: l.category,
                association_type_id: l.type_id,
            })
            .with_context(|| format!("the sandbox has no `{label}` association label"))?;
        client.associate("deals", &deal, "contacts", &contact, &[spec]).await?;
    }
    client
        .update_object(
            "deals",
            &deal,
            &[("dealstage".to_owned(), "closedwon".to_owned())].into_iter().collect(),
        )
        .await?;
    Ok(deal)
}

async fn wait_for(state: &AppState, smtp: &SmtpCapture, projects: i64, limit: Duration) {
    let deadline = Instant::now() + limit;
    while Instant::now() < deadline {
        // Invitations are created with their project, so once every project exists the
        // number of invitations is final: wait until all of them have been emailed.
        let counts = state.store.engine_counts().await.unwrap_or_default();
        if counts.projects >= projects && i64::try_from(smtp.messages().len()).unwrap_or(0) >= counts.invitations {
            return;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    println!("(still waiting after {} s; showing what there is)", limit.as_secs());
}

/// Completes the first phase of each deal's project, as a person would from the CLI or
/// the API: handoff then writes the progress and a completed activity back to the CRM.
async fn complete_first_phases(state: &AppState, deals: &[(&str, &str, &str)]) -> anyhow::Result<()> {
    println!("\nCompleting the first phase of each project (as `handoff task complete` would) …");
    for (workflow, connection, deal) in deals {
        let Some(project) = state.store.project_for_source(workflow, connection, deal).await? else {
            println!("  ({connection}: no project for deal {deal}; nothing to complete)");
            continue;
        };
        let details = state.store.project_details(project).await?.context("a project vanished")?;
        let Some(phase) = details.phases.first() else { continue };
        let mut done = Vec::new();
        for task in details.tasks.iter().filter(|t| t.phase_id == phase.id) {
            state
                .engine
                .complete_task(project, task.key.as_str(), handoff_domain::people::Actor::System, "demo")
                .await?;
            done.push(task.key.as_str());
        }
        println!("  {connection}: completed {} in phase “{}”", done.join(", "), phase.name);
    }
    Ok(())
}

async fn wait_for_writebacks(state: &AppState, limit: Duration) {
    let deadline = Instant::now() + limit;
    while Instant::now() < deadline {
        match state.store.outbox_counts(handoff_domain::outbox::OutboxKind::Writeback).await {
            Ok(c) if c.pending == 0 => return,
            _ => tokio::time::sleep(Duration::from_millis(250)).await,
        }
    }
    println!(
        "(writebacks still pending after {} s; `handoff jobs failed` lists failures)",
        limit.as_secs()
    );
}

/// The deals as they now stand in each CRM: the fields handoff wrote and its activities.
fn show_writebacks(sf: &sandbox_salesforce::Sandbox, sf_deal: &str, hs: &sandbox_hubspot::Sandbox, hs_deal: &str) -> anyhow::Result<()> {
    println!("\nWritten back to the CRMs (read from each CRM now):");
    if let Some(opp) = sf.record("Opportunity", sf_deal) {
        println!("  Salesforce Opportunity {sf_deal}");
        for field in ["Onboarding_Status__c", "Onboarding_Progress__c", "Project_URL__c"] {
            println!("    {field:<24} {}", opp.get(field).map_or_else(|| "—".to_owned(), plain));
        }
        for id in sf.ids("Task") {
            if let Some(task) = sf
                .record("Task", &id)
                .filter(|t| t.get("WhatId").and_then(|v| v.as_str()) == Some(sf_deal))
            {
                println!(
                    "    Task ({}): {}",
                    task.get("Status").map_or_else(String::new, plain),
                    task.get("Subject").map_or_else(String::new, plain)
                );
            }
        }
    }
    let hs_id: u64 = hs_deal.parse()?;
    if let Some(deal) = hs.record(sandbox_hubspot::ObjectType::Deals, hs_id) {
        println!("  HubSpot deal {hs_deal}");
        for field in ["onboarding_status", "onboarding_progress", "onboarding_project_url"] {
            println!("    {field:<24} {}", deal.properties.get(field).map_or("—", String::as_str));
        }
        let deal_tasks = hs.associated((sandbox_hubspot::ObjectType::Deals, hs_id), sandbox_hubspot::ObjectType::Tasks);
        for task in deal_tasks
            .into_iter()
            .filter_map(|id| hs.record(sandbox_hubspot::ObjectType::Tasks, id))
        {
            let field = |name: &str| task.properties.get(name).map_or("", String::as_str);
            println!("    task ({}): {}", field("hs_task_status"), field("hs_task_subject"));
        }
    }
    Ok(())
}

/// A JSON value as a person reads it: strings without quotes.
fn plain(v: &serde_json::Value) -> String {
    match v {
        serde_json::Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

async fn show(state: &AppState, smtp: &SmtpCapture, address: &std::net::SocketAddr) -> anyhow::Result<()> {
    for summary in state.store.list_projects().await? {
        let id = summary.project.id;
        let details = state.store.project_details(id).await?.context("a project vanished")?;
        let mapping = super::project::mapping_lines(state, id).await?;
        let rendered = super::project::render_with(&details, &mapping);
        // The header and the first phase tell the story; `handoff project show` has the rest.
        let shown: Vec<&str> = rendered.lines().take_while(|l| !l.starts_with("2. ")).collect();
        println!("{}", shown.join("\n"));
        println!("   … (handoff project show {id})\n  people:");
        for (m, u) in state.store.project_members(id).await? {
            let role = m.contact_role.map(|r| format!(" — {r} in the CRM")).unwrap_or_default();
            println!("    {:<16} {:<34} {}{role}", m.role.as_str(), u.email.as_str(), u.display_name());
        }
        println!();
    }
    println!("Invitation emails (delivered over SMTP to the demo's capture):");
    for message in smtp.messages() {
        // Quoted-printable soft line breaks would split the link.
        let body = message.raw.replace("=\r\n", "");
        let link = body
            .split(|c: char| c.is_whitespace() || c == '"' || c == '<' || c == '>')
            .find(|w| w.starts_with(&format!("http://{address}/invite/")))
            .unwrap_or("(no link found)");
        println!("  to {:<34} {link}", message.rcpt_to.join(", "));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The demo configures its connections as a deployment should: the HubSpot one
    /// names the sandbox's account, so nothing warns and events for other accounts are
    /// refused (the demo's own HubSpot deal reaching a project, tests/cli.rs, shows it
    /// is the right account).
    #[tokio::test]
    async fn the_demo_hubspot_connection_names_the_sandbox_account() {
        let salesforce = sandbox_salesforce::start(sandbox_salesforce::Config {
            listen: "127.0.0.1:0".parse().unwrap(),
            ..Default::default()
        })
        .await
        .unwrap();
        let (hubspot, portal) = start_hubspot().await.unwrap();
        let connections = connections(&salesforce, &hubspot, portal).unwrap();
        let hs = connections.iter().find(|c| c.name == "hubspot").unwrap();
        let CrmSettings::Hubspot(settings) = &hs.crm else {
            panic!("the demo's `hubspot` connection is not HubSpot");
        };
        assert_eq!(settings.portal_id, Some(portal));
        assert_eq!(portal, sandbox_hubspot::Config::default().portal_id);
        for c in &connections {
            assert_eq!(c.warnings(), Vec::<String>::new(), "{}", c.name);
        }
        hubspot.shutdown().await;
        salesforce.shutdown().await;
    }
}
