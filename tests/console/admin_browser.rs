//! The admin pages in real headless Chromium, at a desktop and a phone viewport:
//! browser/admin.mjs connects the HubSpot sandbox by OAuth (its install page, clicked as
//! a person clicks it), tests the connection, wins a deal through HubSpot's API as a
//! sales rep's tool would, and follows it on the Trace page until it has its project —
//! by the real path: the sandbox's signed webhook, the intake, a fetch with the token
//! just connected, the workflow. Here, around it: the world, and what only the database
//! can tell. Screenshots go to target/browser-screenshots/admin/.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use handoff::config::ConnectionConfig;
use handoff::config::connections::{CrmSettings, HubspotAuth, HubspotSettings};
use handoff::domain::people::StaffRole;
use sandbox_hubspot as hs;
use secrecy::SecretString;

use crate::browser_support::Scripts;
use crate::console_support::{ADA, staff_browser};
use crate::portal_support::{Portal, spawn_portal_with};

/// The shipped HubSpot workflow's connection.
const CONNECTION: &str = "hubspot";

async fn world() -> (hs::Sandbox, Portal) {
    crm_http::install_crypto_provider();
    let config = hs::Config::for_tests();
    let portal_id = config.portal_id;
    let sb = hs::start(config).await.unwrap();
    let base = sb.base_url();
    let portal = spawn_portal_with(move |c| {
        c.connections = vec![ConnectionConfig {
            name: CONNECTION.into(),
            poll_interval: Duration::from_secs(24 * 3600),
            crm: CrmSettings::Hubspot(HubspotSettings {
                base_url: base.parse().unwrap(),
                client_id: None,
                auth: HubspotAuth::OAuth {
                    client_id: hs::DEFAULT_CLIENT_ID.into(),
                    client_secret: SecretString::from(hs::DEFAULT_CLIENT_SECRET),
                    refresh_token: None,
                },
                client_secret: Some(SecretString::from(hs::DEFAULT_CLIENT_SECRET)),
                portal_id: Some(portal_id),
                accept_legacy_signatures: false,
            }),
        }];
    })
    .await;
    sb.set_webhook_target(Some(format!("{}/webhooks/hubspot/{CONNECTION}", portal.base())));
    (sb, portal)
}

/// An open deal in the default pipeline, which the shipped workflow makes a project of
/// when it is won.
fn open_deal(sb: &hs::Sandbox) -> u64 {
    sb.ids(hs::ObjectType::Deals)
        .into_iter()
        .find(|id| {
            let p = sb.record(hs::ObjectType::Deals, *id).unwrap().properties;
            p.get("dealstage").map(String::as_str) != Some("closedwon") && p.get("pipeline").map(String::as_str) == Some("default")
        })
        .expect("an open deal in the fixture")
}

async fn run_viewport(scripts: &Scripts, viewport: &str) {
    let (sb, portal) = world().await;
    let admin = staff_browser(&portal, ADA, StaffRole::Admin).await;
    let deal = open_deal(&sb);
    scripts
        .run(
            "admin.mjs",
            "admin",
            viewport,
            vec![
                ("CONSOLE_URL", format!("{}/console", portal.base())),
                ("CONSOLE_SESSION", admin.cookies["handoff_console"].clone()),
                ("HUBSPOT_URL", sb.base_url()),
                ("HUBSPOT_TOKEN", hs::DEFAULT_PRIVATE_APP_TOKEN.into()),
                ("DEAL_ID", deal.to_string()),
            ],
        )
        .await;
    // What the browser cannot see: the tokens are kept sealed, and the deal's project
    // came from the shipped workflow.
    assert_eq!(portal.count("SELECT COUNT(*) FROM connection_tokens").await, 1);
    let project = portal
        .app
        .store()
        .project_for_source("hubspot-closedwon", CONNECTION, &deal.to_string())
        .await
        .unwrap();
    assert!(project.is_some(), "the won deal has its project");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_admin_connects_hubspot_and_traces_a_won_deal_in_headless_chromium_on_desktop_and_phone() {
    let Some(scripts) = Scripts::find() else { return };
    for viewport in ["desktop", "phone"] {
        run_viewport(&scripts, viewport).await;
    }
}
