//! The Connections page (admins): every connection's facts, and connecting an account
//! in the browser against both sandboxes over their real wire formats — HubSpot's app
//! install and Salesforce's web-server flow with PKCE, through the same callback as
//! staff sign-in — then testing it with one read through the sync's own adapter, and
//! disconnecting it (the refresh token revoked at the CRM, then forgotten). An account
//! other than the connection's, a refusal at the CRM, a callback without an admin, and
//! a disconnect that is not confirmed all change nothing.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use handoff::config::ConnectionConfig;
use handoff::config::connections::{CrmSettings, HubspotAuth, HubspotSettings, SalesforceAuth, SalesforceSettings};
use handoff::domain::people::StaffRole;
use secrecy::{ExposeSecret, SecretString};

use crate::console_support::{ADA, SAM, csrf, staff_browser};
use crate::portal_support::{Browser, Page, Portal, spawn_portal_with};

const HS: &str = "hs";
const SF: &str = "sf";
const PAGE: &str = "/console/admin/connections";

/// A HubSpot sandbox that approves every install as its user, and a portal whose
/// connection to it is an OAuth app bound to `portal_id` (the sandbox's, or not).
async fn with_hubspot(bound_to_sandbox: bool) -> (sandbox_hubspot::Sandbox, Portal, u64) {
    crm_http::install_crypto_provider();
    let config = sandbox_hubspot::Config {
        auto_approve: Some("omar.haddad@sandbox.example.com".into()),
        ..sandbox_hubspot::Config::for_tests()
    };
    let portal_id = if bound_to_sandbox { config.portal_id } else { config.portal_id + 1 };
    let sb = sandbox_hubspot::start(config).await.unwrap();
    let base = sb.base_url();
    let portal = spawn_portal_with(move |c| {
        c.connections = vec![ConnectionConfig {
            name: HS.into(),
            poll_interval: Duration::from_secs(24 * 3600),
            crm: CrmSettings::Hubspot(HubspotSettings {
                base_url: base.parse().unwrap(),
                client_id: None,
                auth: HubspotAuth::OAuth {
                    client_id: sandbox_hubspot::DEFAULT_CLIENT_ID.into(),
                    client_secret: SecretString::from(sandbox_hubspot::DEFAULT_CLIENT_SECRET),
                    refresh_token: None,
                },
                client_secret: Some(SecretString::from(sandbox_hubspot::DEFAULT_CLIENT_SECRET)),
                portal_id: Some(portal_id),
                accept_legacy_signatures: false,
            }),
        }];
    })
    .await;
    (sb, portal, portal_id)
}

/// The Salesforce sandbox and a connection to it by the web-server flow.
async fn with_salesforce() -> (sandbox_salesforce::Sandbox, Portal) {
    crm_http::install_crypto_provider();
    let sb = sandbox_salesforce::start(sandbox_salesforce::Config {
        auto_approve: Some(sandbox_salesforce::DEFAULT_USERNAME.into()),
        ..sandbox_salesforce::Config::for_tests()
    })
    .await
    .unwrap();
    let (base, org) = (sb.base_url(), sb.organization_id().to_owned());
    let portal = spawn_portal_with(move |c| {
        c.connections = vec![ConnectionConfig {
            name: SF.into(),
            poll_interval: Duration::from_secs(24 * 3600),
            crm: CrmSettings::Salesforce(SalesforceSettings {
                login_url: base.parse().unwrap(),
                api_version: "67.0".into(),
                auth: SalesforceAuth::WebServer {
                    client_id: sandbox_salesforce::DEFAULT_CLIENT_ID.into(),
                    client_secret: SecretString::from(sandbox_salesforce::DEFAULT_CLIENT_SECRET),
                    refresh_token: None,
                },
                organization_id: org,
                webhook_secret: SecretString::from("path-secret-never-shown"),
            }),
        }];
    })
    .await;
    (sb, portal)
}

/// Presses Connect in `admin`'s browser and lets the CRM's consent step answer: the
/// callback's path and query, not yet followed.
async fn approve_at_crm(portal: &Portal, admin: &mut Browser, connection: &str) -> String {
    let page = admin.get(PAGE).await;
    let link = format!("{PAGE}/{connection}/connect");
    assert!(page.body.contains(&link), "the page offers Connect: {}", page.body);
    let start = admin.get(&link).await;
    assert_eq!(start.status, 303, "{}", start.body);
    let authorize = start.location().to_owned();
    let crm = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let answer = crm.get(&authorize).send().await.unwrap();
    assert!(
        answer.status().is_redirection(),
        "{}: {}",
        answer.status(),
        answer.text().await.unwrap()
    );
    let back = answer.headers()["location"].to_str().unwrap().to_owned();
    let callback = back.strip_prefix(portal.base()).expect("back to handoff").to_owned();
    assert!(callback.starts_with("/console/oauth/callback?"), "{callback}");
    callback
}

async fn tokens(portal: &Portal) -> i64 {
    portal.count("SELECT COUNT(*) FROM connection_tokens").await
}

async fn admin_entries(portal: &Portal, action: &'static str) -> Vec<serde_json::Value> {
    let sql = match action {
        "connection.connected" => "SELECT CAST(details AS TEXT) FROM activity WHERE action = 'connection.connected' AND project_id IS NULL",
        _ => "SELECT CAST(details AS TEXT) FROM activity WHERE action = 'connection.disconnected' AND project_id IS NULL",
    };
    portal.strings(sql).await.iter().map(|d| serde_json::from_str(d).unwrap()).collect()
}

fn notice(page: &Page) -> String {
    let at = page.body.find("id=\"connections-notice\"").expect("the page says what happened");
    page.body[at..].split("</div>").next().unwrap().to_owned()
}

#[tokio::test]
async fn an_admin_connects_hubspot_in_the_browser_tests_it_and_disconnects_it() {
    let (sb, portal, account) = with_hubspot(true).await;
    let mut admin = staff_browser(&portal, ADA, StaffRole::Admin).await;

    // Before: the facts, not connected, and the test read says why it cannot work.
    let page = admin.get(PAGE).await;
    assert_eq!(page.status, 200, "{}", page.body);
    for fact in [
        "Not connected",
        "OAuth app (an admin connects the account)",
        "110 requests per 10 s",
        &format!("{}/webhooks/hubspot/{HS}", portal.base()),
        "every 24 h",
    ] {
        assert!(page.body.contains(fact), "the card shows {fact}: {}", page.body);
    }
    let token = page.csrf();
    let tested = admin.post(&format!("{PAGE}/{HS}/test"), &[("csrf", &token)]).await;
    assert_eq!(tested.status, 200, "{}", tested.body);
    assert!(notice(&tested).contains("does not work"), "{}", notice(&tested));
    assert!(notice(&tested).contains("connect the HubSpot account first"), "{}", notice(&tested));

    // Connect: through the sandbox's install step and back to the shared callback.
    let callback = approve_at_crm(&portal, &mut admin, HS).await;
    let done = admin.get(&callback).await;
    assert_eq!(done.status, 303, "{}", done.body);
    assert_eq!(done.location(), format!("{PAGE}?done=connected&connection={HS}"));
    assert_eq!(tokens(&portal).await, 1, "the tokens are stored");
    let stored = handoff::sync::tokens::open_stored_token(portal.app.store(), &portal.sealer, HS)
        .await
        .unwrap()
        .expect("sealed with the master key");
    let refresh = stored.refresh_token.expect("a refresh token to keep the access");
    let sealed: Vec<String> = portal.strings("SELECT sealed FROM connection_tokens").await;
    assert!(!sealed[0].contains(stored.access_token.expose_secret()), "sealed at rest");
    let page = admin.get(done.location()).await;
    assert!(notice(&page).contains("Connected"), "{}", notice(&page));
    assert!(
        page.body.contains("Working") || page.body.contains("Not polled yet"),
        "{}",
        page.body
    );
    assert!(page.body.contains(&format!("{PAGE}/{HS}/disconnect")), "Disconnect is offered");

    // Who connected what is an admin activity entry, without the tokens.
    let entries = admin_entries(&portal, "connection.connected").await;
    assert_eq!(entries.len(), 1);
    assert_eq!(entries[0]["connection"], HS);
    assert_eq!(entries[0]["account"], account.to_string());
    assert_eq!(entries[0]["before"], "not connected");
    let text = entries[0].to_string();
    assert!(!text.contains(refresh.expose_secret()) && !text.contains(stored.access_token.expose_secret()));
    let activity = admin.get("/console/activity").await;
    assert!(
        activity
            .body
            .contains(&format!("connected the CRM account {} to connection {HS}", account)),
        "{}",
        activity.body
    );

    // Test: one read through the sync's adapter, with the connected token.
    let tested = admin.post(&format!("{PAGE}/{HS}/test"), &[("csrf", &token)]).await;
    assert!(
        notice(&tested).contains("hs works: read the deal–contact association labels"),
        "{}",
        notice(&tested)
    );

    // Disconnect must be confirmed; unconfirmed, nothing changes.
    let unconfirmed = admin.post(&format!("{PAGE}/{HS}/disconnect"), &[("csrf", &token)]).await;
    assert_eq!(unconfirmed.status, 422, "{}", unconfirmed.body);
    assert_eq!(tokens(&portal).await, 1);
    let crm = reqwest::Client::new();
    let info = format!("{}/oauth/v1/refresh-tokens/{}", sb.base_url(), refresh.expose_secret());
    assert_eq!(crm.get(&info).send().await.unwrap().status(), 200, "the CRM still knows the token");

    let gone = admin
        .post(&format!("{PAGE}/{HS}/disconnect"), &[("csrf", &token), ("confirm", "yes")])
        .await;
    assert_eq!(gone.status, 303, "{}", gone.body);
    assert_eq!(tokens(&portal).await, 0, "forgotten");
    assert_eq!(crm.get(&info).send().await.unwrap().status(), 404, "revoked at the CRM");
    let entries = admin_entries(&portal, "connection.disconnected").await;
    assert_eq!(entries.len(), 1);
    assert_eq!(entries[0]["revoked_at_crm"], true);
    let page = admin.get(gone.location()).await;
    assert!(notice(&page).contains("Disconnected"), "{}", notice(&page));
    assert!(page.body.contains("Not connected"), "{}", page.body);

    // Disconnecting what is not connected says so and records nothing.
    let again = admin
        .post(&format!("{PAGE}/{HS}/disconnect"), &[("csrf", &token), ("confirm", "yes")])
        .await;
    assert_eq!(again.status, 409, "{}", again.body);
    assert_eq!(admin_entries(&portal, "connection.disconnected").await.len(), 1);
}

#[tokio::test]
async fn another_account_a_refusal_at_the_crm_or_a_callback_without_an_admin_connects_nothing() {
    // The connection is bound to another HubSpot account than the one approved.
    let (_sb, portal, _) = with_hubspot(false).await;
    let mut admin = staff_browser(&portal, ADA, StaffRole::Admin).await;
    let callback = approve_at_crm(&portal, &mut admin, HS).await;
    let refused = admin.get(&callback).await;
    assert_eq!(refused.status, 400, "{}", refused.body);
    assert!(notice(&refused).contains("another HubSpot account"), "{}", notice(&refused));
    assert_eq!(tokens(&portal).await, 0);
    assert!(admin_entries(&portal, "connection.connected").await.is_empty());

    // The admin said no at the CRM: its reason, on the page.
    let start = admin.get(&format!("{PAGE}/{HS}/connect")).await;
    let authorize = url::Url::parse(start.location()).unwrap();
    let state = authorize.query_pairs().find(|(k, _)| k == "state").unwrap().1.into_owned();
    let denied = admin
        .get(&format!(
            "/console/oauth/callback?error=access_denied&error_description=the+user+declined&state={state}"
        ))
        .await;
    assert_eq!(denied.status, 400, "{}", denied.body);
    assert!(notice(&denied).contains("the user declined"), "{}", notice(&denied));

    // A staff member's browser, even with the admin's state cookie, finishes nothing;
    // nor does a replay of a used state.
    let callback = approve_at_crm(&portal, &mut admin, HS).await;
    let mut staff = staff_browser(&portal, SAM, StaffRole::Staff).await;
    let oauth_cookie = admin.cookies["handoff_console_oauth"].clone();
    staff.cookies.insert("handoff_console_oauth".into(), oauth_cookie);
    assert_eq!(staff.get(&callback).await.status, 403);
    assert_eq!(admin.get(&callback).await.status, 400, "the state was used up");
    assert_eq!(tokens(&portal).await, 0);

    // Staff never reach the page or its actions.
    assert_eq!(staff.get(PAGE).await.status, 403);
    assert_eq!(staff.get(&format!("{PAGE}/{HS}/connect")).await.status, 403);
    let token = csrf(&mut staff, "/console").await;
    assert_eq!(staff.post(&format!("{PAGE}/{HS}/test"), &[("csrf", &token)]).await.status, 403);
}

#[tokio::test]
async fn an_admin_connects_salesforce_by_the_web_server_flow_with_pkce() {
    let (_sb, portal) = with_salesforce().await;
    let mut admin = staff_browser(&portal, ADA, StaffRole::Admin).await;
    let page = admin.get(PAGE).await;
    assert!(page.body.contains("OAuth web-server flow"), "{}", page.body);
    assert!(!page.body.contains("path-secret-never-shown"), "the webhook secret is never shown");
    assert!(page.body.contains(&format!("/webhooks/salesforce/{SF}/")), "{}", page.body);

    let callback = approve_at_crm(&portal, &mut admin, SF).await;
    assert!(callback.contains("code="), "{callback}");
    let done = admin.get(&callback).await;
    assert_eq!(done.status, 303, "{}", done.body);
    let stored = handoff::sync::tokens::open_stored_token(portal.app.store(), &portal.sealer, SF)
        .await
        .unwrap()
        .unwrap();
    assert!(stored.refresh_token.is_some(), "the web-server flow keeps a refresh token");

    // The sync's adapter reads with it: the org's limits.
    let token = admin.get(PAGE).await.csrf();
    let tested = admin.post(&format!("{PAGE}/{SF}/test"), &[("csrf", &token)]).await;
    assert!(notice(&tested).contains("sf works: read the org’s limits"), "{}", notice(&tested));

    let gone = admin
        .post(&format!("{PAGE}/{SF}/disconnect"), &[("csrf", &token), ("confirm", "yes")])
        .await;
    assert_eq!(gone.status, 303, "{}", gone.body);
    assert_eq!(tokens(&portal).await, 0);
}
