//! Signing in to the console with the CRM, against both sandboxes over their real wire
//! formats: the authorization code flow (state bound to the browser, PKCE for
//! Salesforce), the identity read from Salesforce's userinfo and HubSpot's access-token
//! info, matched to a staff account by CRM user id, then by verified email. Every way it
//! can go wrong — no staff account, a revoked one, a tampered, replayed or foreign state
//! — is refused and changes nothing.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use handoff::config::ConnectionConfig;
use handoff::config::connections::{CrmSettings, HubspotAuth, HubspotSettings, SalesforceAuth, SalesforceSettings};
use handoff::domain::Email;
use handoff::domain::people::{Actor, StaffRole};
use handoff::store::NewStaff;
use secrecy::SecretString;

use crate::portal_support::{Browser, Page, Portal, spawn_portal_with};

const SF: &str = "sf";
const HS: &str = "hs";
/// The HubSpot sandbox's user the consent step signs in as.
const HUBSPOT_USER: &str = "omar.haddad@sandbox.example.com";

/// A portal with a Salesforce connection whose connected app also signs staff in.
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
            poll_interval: Duration::from_secs(300),
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
    (sb, portal)
}

/// A portal with a HubSpot private-app connection that names its public app for sign-in.
async fn with_hubspot() -> (sandbox_hubspot::Sandbox, Portal) {
    crm_http::install_crypto_provider();
    let config = sandbox_hubspot::Config {
        auto_approve: Some(HUBSPOT_USER.into()),
        ..sandbox_hubspot::Config::for_tests()
    };
    let portal_id = config.portal_id;
    let sb = sandbox_hubspot::start(config).await.unwrap();
    let base = sb.base_url();
    let portal = spawn_portal_with(move |c| {
        c.connections = vec![ConnectionConfig {
            name: HS.into(),
            poll_interval: Duration::from_secs(300),
            crm: CrmSettings::Hubspot(HubspotSettings {
                base_url: base.parse().unwrap(),
                client_id: Some(sandbox_hubspot::DEFAULT_CLIENT_ID.into()),
                auth: HubspotAuth::PrivateApp {
                    token: SecretString::from(sandbox_hubspot::DEFAULT_PRIVATE_APP_TOKEN),
                },
                client_secret: Some(SecretString::from(sandbox_hubspot::DEFAULT_CLIENT_SECRET)),
                portal_id: Some(portal_id),
                accept_legacy_signatures: false,
            }),
        }];
    })
    .await;
    (sb, portal)
}

/// What the CRM answered the consent step with: the callback's path and query.
struct Consent {
    callback: String,
}

impl Consent {
    fn param(&self, name: &str) -> String {
        let url = url::Url::parse(&format!("http://x{}", self.callback)).unwrap();
        url.query_pairs().find(|(k, _)| k == name).map(|(_, v)| v.into_owned()).unwrap()
    }

    /// The same callback with `state` swapped for `value`.
    fn with_state(&self, value: &str) -> String {
        let mut url = url::Url::parse(&format!("http://x{}", self.callback)).unwrap();
        let pairs: Vec<(String, String)> = url
            .query_pairs()
            .map(|(k, v)| {
                let v = if k == "state" { value.to_owned() } else { v.into_owned() };
                (k.into_owned(), v)
            })
            .collect();
        url.query_pairs_mut().clear().extend_pairs(pairs);
        format!("{}?{}", url.path(), url.query().unwrap())
    }
}

/// Starts "Sign in with …" in `browser` and lets the CRM's consent step (the sandbox,
/// approving as its configured user) answer: the redirect back to handoff, not yet
/// followed.
async fn consent(portal: &Portal, browser: &mut Browser, connection: &str) -> Consent {
    let page = browser.get("/console/sign-in").await;
    assert!(
        page.body.contains(&format!("/console/sign-in/{connection}")),
        "the sign-in page offers the CRM: {}",
        page.body
    );
    let start = browser.get(&format!("/console/sign-in/{connection}")).await;
    assert_eq!(start.status, 303, "{}", start.body);
    let authorize = start.location().to_owned();
    assert!(authorize.contains("state="), "{authorize}");
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
    let callback = back.strip_prefix(portal.base()).expect("back to handoff's callback").to_owned();
    assert!(callback.starts_with("/console/oauth/callback?"), "{callback}");
    Consent { callback }
}

async fn console_sessions(portal: &Portal) -> i64 {
    portal.count("SELECT COUNT(*) FROM console_sessions").await
}

async fn users(portal: &Portal) -> i64 {
    portal.count("SELECT COUNT(*) FROM users").await
}

async fn add_staff(portal: &Portal, email: &str, crm_users: Vec<(String, String)>) -> handoff::domain::UserId {
    let new = NewStaff {
        email: Email::parse(email).unwrap(),
        first_name: Some("Ada".into()),
        last_name: Some("Admin".into()),
        crm_users,
        role: StaffRole::Admin,
    };
    portal.app.state.engine.add_staff(&new, "test").await.unwrap().user_id
}

fn assert_signed_in(page: &Page) {
    assert_eq!(page.status, 303, "{}", page.body);
    assert_eq!(page.location(), "/console");
}

#[tokio::test]
async fn salesforce_signs_in_only_the_staff_account_linked_to_the_crm_user_and_never_a_revoked_one() {
    let (_sb, portal) = with_salesforce().await;

    // No staff account: a clear page, nobody signed in, no account made.
    let before = users(&portal).await;
    let mut stranger = portal.browser();
    let consent_given = consent(&portal, &mut stranger, SF).await;
    let page = stranger.get(&consent_given.callback).await;
    assert_eq!(page.status, 403, "{}", page.body);
    assert!(page.body.contains("No staff account for you"), "{}", page.body);
    assert_eq!(users(&portal).await, before, "no account is created silently");
    assert_eq!(console_sessions(&portal).await, 0);
    assert_eq!(stranger.get("/console").await.status, 303);

    // The page names the CRM user, so an admin can add exactly that one.
    let at = page
        .body
        .find("--crm-user sf:")
        .expect("the page shows the command to add the CRM user")
        + "--crm-user sf:".len();
    let crm_user: String = page.body[at..].chars().take_while(char::is_ascii_alphanumeric).collect();
    assert!(crm_user.starts_with("005"), "a Salesforce user id: {crm_user}");

    // Linked by CRM user id (the account's email differs from the CRM's): signed in.
    let staff = add_staff(&portal, "ada.lovelace@handoff.example", vec![(SF.into(), crm_user.clone())]).await;
    let mut browser = portal.browser();
    let consent_given = consent(&portal, &mut browser, SF).await;
    assert!(!consent_given.param("code").is_empty());
    assert_signed_in(&browser.get(&consent_given.callback).await);
    let dashboard = browser.get("/console").await;
    assert_eq!(dashboard.status, 200, "{}", dashboard.body);
    assert!(dashboard.body.contains("Ada Admin"), "{}", dashboard.body);
    let with_salesforce = portal
        .count("SELECT COUNT(*) FROM console_sessions WHERE signed_in_with = 'salesforce:sf'")
        .await;
    assert_eq!(with_salesforce, 1, "the session records how it was signed in");

    // Revoked: refused, with the reason, and no new session.
    portal
        .app
        .state
        .engine
        .set_staff_revoked(staff, true, Actor::System, "test")
        .await
        .unwrap();
    let sessions = console_sessions(&portal).await;
    let mut revoked = portal.browser();
    let consent_given = consent(&portal, &mut revoked, SF).await;
    let page = revoked.get(&consent_given.callback).await;
    assert_eq!(page.status, 403, "{}", page.body);
    assert!(page.body.contains("revoked"), "{}", page.body);
    assert_eq!(console_sessions(&portal).await, sessions);
    assert_eq!(revoked.get("/console").await.status, 303);
    // And the session it had before no longer opens the console.
    assert_eq!(browser.get("/console").await.status, 303);
}

#[tokio::test]
async fn a_tampered_replayed_or_foreign_state_signs_nobody_in() {
    let (_sb, portal) = with_salesforce().await;
    add_staff(&portal, sandbox_salesforce::DEFAULT_USERNAME, Vec::new()).await;

    // Tampered: the state the CRM returns is not the one this browser started.
    let mut browser = portal.browser();
    let consent_given = consent(&portal, &mut browser, SF).await;
    let tampered = consent_given.with_state(&format!("{}x", consent_given.param("state")));
    let page = browser.get(&tampered).await;
    assert_eq!(page.status, 400, "{}", page.body);
    assert!(page.body.contains("not started here"), "{}", page.body);
    assert_eq!(console_sessions(&portal).await, 0);

    // Foreign: a genuine callback opened in another browser (login CSRF) is refused...
    let mut browser = portal.browser();
    let consent_given = consent(&portal, &mut browser, SF).await;
    let mut victim = portal.browser();
    let page = victim.get(&consent_given.callback).await;
    assert_eq!(page.status, 400, "{}", page.body);
    assert_eq!(console_sessions(&portal).await, 0);
    // ...while the browser that started it still finishes its own sign-in.
    assert_signed_in(&browser.get(&consent_given.callback).await);
    assert_eq!(console_sessions(&portal).await, 1);

    // Replayed: a state works once.
    let mut browser = portal.browser();
    let consent_given = consent(&portal, &mut browser, SF).await;
    let oauth_cookie = browser
        .cookies
        .get("handoff_console_oauth")
        .cloned()
        .expect("the sign-in binds the browser with a cookie");
    assert_signed_in(&browser.get(&consent_given.callback).await);
    let mut replay = portal.browser();
    replay.cookies.insert("handoff_console_oauth".into(), oauth_cookie);
    let page = replay.get(&consent_given.callback).await;
    assert_eq!(page.status, 400, "{}", page.body);
    assert_eq!(console_sessions(&portal).await, 2);

    // The CRM refusing consent is said plainly.
    let mut browser = portal.browser();
    let page = browser
        .get("/console/oauth/callback?error=access_denied&error_description=end-user+denied+authorization")
        .await;
    assert_eq!(page.status, 400, "{}", page.body);
    assert!(page.body.contains("end-user denied authorization"), "{}", page.body);
    assert_eq!(console_sessions(&portal).await, 2);
}

#[tokio::test]
async fn hubspot_signs_in_a_staff_account_by_its_verified_email_and_links_the_crm_user() {
    let (_sb, portal) = with_hubspot().await;
    let staff = add_staff(&portal, HUBSPOT_USER, Vec::new()).await;

    let mut browser = portal.browser();
    let consent_given = consent(&portal, &mut browser, HS).await;
    assert_signed_in(&browser.get(&consent_given.callback).await);
    assert_eq!(browser.get("/console").await.status, 200);

    // The HubSpot user is linked now: the next sign-in matches by id.
    let linked = portal
        .count("SELECT COUNT(*) FROM crm_links WHERE connection = 'hs' AND object = 'user'")
        .await;
    assert_eq!(linked, 1);
    let account = portal.app.store().staff_account(staff).await.unwrap().unwrap();
    assert_eq!(account.user.email.as_str(), HUBSPOT_USER);
}
