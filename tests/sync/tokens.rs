//! OAuth tokens in the hub: sealed in the database, refreshed once however many callers
//! or processes see them expire. Against the HubSpot sandbox's real token endpoint.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common;

use std::sync::Arc;
use std::time::Duration;

use common::{TestApp, spawn_app_with};
use crm_http::TokenProvider;
use crm_hubspot::auth::{OAuth, OAuthConfig};
use handoff::config::ConnectionConfig;
use handoff::config::connections::{CrmSettings, HubspotAuth, HubspotSettings};
use handoff::domain::change::{ChangeSource, ObjectKind};
use handoff::store::sealed::Sealer;
use handoff::sync::adapters::HubspotGrant;
use handoff::sync::poll::poll_once;
use handoff::sync::tokens::DbTokenProvider;
use sandbox_hubspot as sandbox;
use secrecy::{ExposeSecret, SecretString};

const CONNECTION: &str = "hubspot-oauth";
const REDIRECT: &str = "http://127.0.0.1/oauth/callback";
const TOKEN_ENDPOINT: &str = "POST /oauth/v1/token";

fn oauth_config(sb: &sandbox::Sandbox) -> OAuthConfig {
    OAuthConfig::new(
        sandbox::DEFAULT_CLIENT_ID,
        SecretString::from(sandbox::DEFAULT_CLIENT_SECRET),
        REDIRECT,
    )
    .with_api(&sb.base_url(), &crm_hubspot::ApiPaths::legacy())
    .with_authorize_url(format!("{}/oauth/authorize", sb.base_url()))
}

/// Connects the account as an admin would in a browser, returning the refresh token.
async fn connect_account(sb: &sandbox::Sandbox) -> SecretString {
    let config = oauth_config(sb);
    let request = config.authorize_url(&["oauth", "crm.objects.deals.read"], &[], None).unwrap();
    let browser = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let response = browser.get(request.url).send().await.unwrap();
    let location = url::Url::parse(response.headers()["location"].to_str().unwrap()).unwrap();
    let code = location.query_pairs().find(|(k, _)| k == "code").unwrap().1.into_owned();
    let set = OAuth::new(config, Duration::from_secs(5))
        .unwrap()
        .exchange_code(&code)
        .await
        .unwrap();
    set.refresh_token.unwrap()
}

async fn start() -> (sandbox::Sandbox, TestApp, SecretString) {
    crm_http::install_crypto_provider();
    // 450 deals: a poll takes three pages, so a token can expire in the middle of one.
    let config = sandbox::Config {
        seed: sandbox::Seed::generate(450, 3),
        rate_limits: sandbox::RateLimits::unlimited(),
        // The consent step approves at once: these tests are about tokens, not the page.
        auto_approve: Some("ava.lindqvist@sandbox.example.com".into()),
        ..sandbox::Config::for_tests()
    };
    let sb = sandbox::start(config).await.unwrap();
    let refresh = connect_account(&sb).await;
    let (base, bootstrap) = (sb.base_url(), refresh.clone());
    let app = spawn_app_with(move |c| {
        c.connections = vec![ConnectionConfig {
            name: CONNECTION.into(),
            poll_interval: Duration::from_secs(300),
            crm: CrmSettings::Hubspot(HubspotSettings {
                base_url: base.parse().unwrap(),
                auth: HubspotAuth::OAuth {
                    client_id: sandbox::DEFAULT_CLIENT_ID.into(),
                    client_secret: SecretString::from(sandbox::DEFAULT_CLIENT_SECRET),
                    refresh_token: Some(bootstrap),
                },
                client_secret: Some(SecretString::from(sandbox::DEFAULT_CLIENT_SECRET)),
                portal_id: None,
                accept_legacy_signatures: false,
            }),
        }]
    })
    .await;
    (sb, app, refresh)
}

#[tokio::test]
async fn a_token_expiring_in_the_middle_of_a_sync_is_refreshed_once_and_the_sync_completes() {
    let (sb, app, _) = start().await;
    let crm = app.state.crms.get(CONNECTION).unwrap().clone();
    let before = sb.requests().count(TOKEN_ENDPOINT);
    let faults = sb.faults();
    let mut pages = 0;
    let report = poll_once(app.store(), crm.as_ref(), ObjectKind::Deal, ChangeSource::Poll, &mut |_| {
        pages += 1;
        // Every access token issued so far stops working after the first page.
        if pages == 1 {
            faults.expire_access_tokens();
        }
    })
    .await
    .unwrap();
    assert_eq!(report.records, sb.count(sandbox::ObjectType::Deals));
    // One refresh for the first token (none was stored yet), one after the expiry.
    assert_eq!(sb.requests().count(TOKEN_ENDPOINT) - before, 2);

    let stored = app.store().connection_token(CONNECTION).await.unwrap().unwrap();
    assert_eq!(stored.version, 2);
    assert!(
        !stored.sealed.contains("pat-") && stored.sealed.len() > 40,
        "the token is stored sealed"
    );
}

#[tokio::test]
async fn two_processes_seeing_one_expired_token_refresh_it_once() {
    let (sb, app, refresh) = start().await;
    let key = "dGVzdC1vbmx5LW1hc3Rlci1rZXktMzItYnl0ZXMhISE=";
    let env = [("HANDOFF_MASTER_KEY".to_owned(), key.to_owned())];
    let config = handoff::config::Config::load(None, env).unwrap().config;
    let sealer = Arc::new(Sealer::new(config.secrets.master_key.as_ref()).unwrap());
    let process = |store: handoff::store::Store| {
        let oauth = OAuth::new(oauth_config(&sb), Duration::from_secs(5)).unwrap();
        Arc::new(DbTokenProvider::new(
            CONNECTION,
            store,
            sealer.clone(),
            Box::new(HubspotGrant(oauth)),
            Some(refresh.clone()),
        ))
    };
    // Two providers on one database stand for two handoff processes.
    let a = process(app.store().clone());
    let b = process(app.store().clone());
    let first = a.token().await.unwrap();
    let before = sb.requests().count(TOKEN_ENDPOINT);

    let (ra, rb) = tokio::join!(a.refresh(&first), b.refresh(&first));
    let (ra, rb) = (ra.unwrap(), rb.unwrap());
    assert_eq!(ra.secret.expose_secret(), rb.secret.expose_secret(), "both use the one new token");
    assert!(!ra.same_as(&first));
    assert_eq!(sb.requests().count(TOKEN_ENDPOINT) - before, 1, "one refresh between them");

    // Many callers in one process: still one refresh.
    let mut callers = tokio::task::JoinSet::new();
    for _ in 0..8 {
        let (a, rejected) = (a.clone(), ra.clone());
        callers.spawn(async move { a.refresh(&rejected).await.map(|t| t.secret.expose_secret().to_owned()) });
    }
    let fresh: std::collections::HashSet<String> = callers.join_all().await.into_iter().map(Result::unwrap).collect();
    assert_eq!(fresh.len(), 1, "all callers got the same new token");
    assert_eq!(sb.requests().count(TOKEN_ENDPOINT) - before, 2);
}
