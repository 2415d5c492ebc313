//! Sync against the Salesforce sandbox (connectors/sandbox/salesforce-sim): JWT bearer
//! tokens through the sealed store, SOQL polling with contact roles, Outbound Messages
//! through intake to changes, expired sessions and the daily request limit.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common;

use std::time::Duration;

use common::{TestApp, spawn_app_with};
use handoff::config::ConnectionConfig;
use handoff::config::connections::{CrmSettings, SalesforceAuth, SalesforceSettings};
use handoff::domain::change::{ChangeSource, ObjectKind};
use handoff::sync::poll::{PollReport, SyncError, poll_once};
use handoff::sync::process::resolve_inbound;
use sandbox_salesforce as sandbox;
use secrecy::SecretString;

const CONNECTION: &str = "sf";
const PATH_SECRET: &str = "outbound-path-secret";

async fn start_with(config: sandbox::Config) -> (sandbox::Sandbox, TestApp) {
    crm_http::install_crypto_provider();
    let sb = sandbox::start(config).await.unwrap();
    let (base, org) = (sb.base_url(), sb.organization_id().to_owned());
    let app = spawn_app_with(move |c| {
        c.connections = vec![ConnectionConfig {
            name: CONNECTION.into(),
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
                webhook_secret: SecretString::from(PATH_SECRET),
            }),
        }]
    })
    .await;
    sb.set_outbound_target(Some(format!("{}/webhooks/salesforce/{CONNECTION}/{PATH_SECRET}", app.base_url)));
    (sb, app)
}

async fn start() -> (sandbox::Sandbox, TestApp) {
    start_with(sandbox::Config::for_tests()).await
}

async fn poll(app: &TestApp) -> Result<PollReport, SyncError> {
    let crm = app.state.crms.get(CONNECTION).unwrap().clone();
    poll_once(app.store(), crm.as_ref(), ObjectKind::Deal, ChangeSource::Poll, &mut |_| {}).await
}

#[tokio::test]
async fn a_first_poll_reads_every_opportunity_with_its_contact_roles_in_one_query() {
    let (sb, app) = start().await;
    let report = poll(&app).await.unwrap();
    assert_eq!(report.records, sb.count("Opportunity"));
    assert_eq!(report.calls, 1, "one SOQL with the contact-role subquery: {report:?}");
    let changes = app.store().pending_record_changes(1000).await.unwrap();
    let with_roles = changes
        .iter()
        .find(|c| c.change.0.contacts.iter().any(|p| !p.roles.is_empty()))
        .expect("an opportunity with contact roles");
    let person = with_roles.change.0.contacts.iter().find(|p| !p.roles.is_empty()).unwrap();
    assert!(person.email.as_deref().is_some_and(|e| e.contains('@')), "{person:?}");
    assert!(with_roles.change.0.fields.contains_key("StageName"));
    assert!(with_roles.change.0.company.is_some());
    assert!(
        app.store().connection_token(CONNECTION).await.unwrap().is_some(),
        "the session is kept, sealed"
    );
}

#[tokio::test]
async fn a_poll_with_nothing_changed_costs_one_call() {
    let (_sb, app) = start().await;
    poll(&app).await.unwrap();
    let again = poll(&app).await.unwrap();
    assert_eq!((again.calls, again.new_changes), (1, 0), "{again:?}");
}

#[tokio::test]
async fn a_closed_won_outbound_message_and_the_next_poll_make_one_change() {
    let (sb, app) = start().await;
    poll(&app).await.unwrap();
    let before = app.store().count_record_changes(CONNECTION).await.unwrap();
    let open = sb
        .ids("Opportunity")
        .into_iter()
        .find(|id| sb.record("Opportunity", id).unwrap()["StageName"] != "Closed Won")
        .unwrap();
    sb.update_record("Opportunity", &open, &[("StageName", serde_json::json!("Closed Won"))])
        .unwrap();
    let attempts = sb.wait_for_outbound(Duration::from_secs(10), |a| a.iter().any(|a| a.acked)).await;
    assert!(attempts.iter().any(|a| a.acked), "{attempts:?}");

    let resolved = resolve_inbound(app.store(), &app.state.crms, 100).await.unwrap();
    assert_eq!((resolved.failed, resolved.new_changes), (0, 1), "{resolved:?}");
    let polled = poll(&app).await.unwrap();
    assert_eq!(
        polled.new_changes, 0,
        "the poll saw the edit the Outbound Message brought: {polled:?}"
    );
    assert_eq!(app.store().count_record_changes(CONNECTION).await.unwrap(), before + 1);
    let latest = app
        .store()
        .pending_record_changes(1000)
        .await
        .unwrap()
        .into_iter()
        .last()
        .unwrap()
        .change
        .0;
    assert_eq!((latest.external_id.as_str(), latest.source), (open.as_str(), ChangeSource::Webhook));
    assert_eq!(latest.fields["StageName"], "Closed Won");
}

#[tokio::test]
async fn a_session_expiring_in_the_middle_of_a_sync_is_renewed_and_the_sync_completes() {
    let config = sandbox::Config {
        seed: sandbox::Seed::generate(4500, 5),
        ..sandbox::Config::for_tests()
    };
    let (sb, app) = start_with(config).await;
    let crm = app.state.crms.get(CONNECTION).unwrap().clone();
    let faults = sb.faults();
    let mut pages = 0;
    let report = poll_once(app.store(), crm.as_ref(), ObjectKind::Deal, ChangeSource::Poll, &mut |_| {
        pages += 1;
        if pages == 1 {
            faults.expire_access_tokens();
        }
    })
    .await
    .unwrap();
    assert_eq!(report.records, sb.count("Opportunity"));
    assert!(report.pages >= 3, "{report:?}");
    assert_eq!(
        app.store().connection_token(CONNECTION).await.unwrap().unwrap().version,
        2,
        "one renewal"
    );
}

#[tokio::test]
async fn the_daily_request_limit_stops_the_poll_without_moving_the_cursor() {
    let (sb, app) = start().await;
    sb.faults().limit_burst(5);
    let err = poll(&app).await.unwrap_err();
    assert!(err.to_string().contains("rate limited"), "{err}");
    assert_eq!(app.store().poll_cursor(CONNECTION, "deal").await.unwrap(), None);
    sb.faults().clear();
    assert_eq!(poll(&app).await.unwrap().new_changes, sb.count("Opportunity"));
}

/// An org connected with the web-server flow polls with the refresh token its
/// configuration gives (before, the configured token was never handed to the token
/// provider, so such a connection could not get its first access token).
#[tokio::test]
async fn a_web_server_connection_polls_with_its_configured_refresh_token() {
    crm_http::install_crypto_provider();
    let sb = sandbox::start(sandbox::Config {
        auto_approve: Some(sandbox::DEFAULT_USERNAME.into()),
        ..sandbox::Config::for_tests()
    })
    .await
    .unwrap();
    let secret = SecretString::from(sandbox::DEFAULT_CLIENT_SECRET);
    let redirect = "http://127.0.0.1/oauth/callback";
    let flow = crm_salesforce::auth::WebServerFlow::new(&sb.base_url(), sandbox::DEFAULT_CLIENT_ID, &secret, redirect).unwrap();
    let request = flow.authorize_url(&["api", "refresh_token"], true);
    let browser = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let location = browser.get(request.url.as_str()).send().await.unwrap().headers()["location"]
        .to_str()
        .unwrap()
        .to_owned();
    let code = url::Url::parse(&location)
        .unwrap()
        .query_pairs()
        .find(|(k, _)| k == "code")
        .unwrap()
        .1
        .into_owned();
    let http = crm_http::OAuthHttp::new("handoff-test", Duration::from_secs(5)).unwrap();
    let issued = flow
        .exchange_code(&http, &SecretString::from(code), request.pkce_verifier.as_ref())
        .await
        .unwrap();
    let refresh_token = issued.refresh_token.unwrap();

    let (base, org) = (sb.base_url(), sb.organization_id().to_owned());
    let app = spawn_app_with(move |c| {
        c.connections = vec![ConnectionConfig {
            name: CONNECTION.into(),
            poll_interval: Duration::from_secs(300),
            crm: CrmSettings::Salesforce(SalesforceSettings {
                login_url: base.parse().unwrap(),
                api_version: "67.0".into(),
                auth: SalesforceAuth::WebServer {
                    client_id: sandbox::DEFAULT_CLIENT_ID.into(),
                    client_secret: SecretString::from(sandbox::DEFAULT_CLIENT_SECRET),
                    refresh_token: Some(refresh_token),
                },
                organization_id: org,
                webhook_secret: SecretString::from(PATH_SECRET),
            }),
        }];
    })
    .await;
    let crm = app.state.crms.get(CONNECTION).unwrap().clone();
    let report = poll_once(app.store(), crm.as_ref(), ObjectKind::Deal, ChangeSource::Poll, &mut |_| {})
        .await
        .unwrap();
    assert!(report.new_changes > 0, "{report:?}");
    app.stop().await;
}
