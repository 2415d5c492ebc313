//! OAuth against the HubSpot sandbox: code exchange on both token paths, refresh after
//! expiry (once for concurrent callers), revoked grants and bad client credentials.
// Helpers outside #[test] functions may panic too: this is test code.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use common::*;
use crm_hubspot::auth::{OAuth, OAuthConfig, RefreshingToken, TokenSet};
use crm_hubspot::objects::types::DEALS;
use crm_hubspot::{ApiPaths, Client, ReadOptions, TokenError};
use sandbox_hubspot::{DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, Sandbox};
use secrecy::ExposeSecret;

const REDIRECT: &str = "https://app.example.com/oauth/callback";

/// A sandbox that approves the consent step at once (these tests are about the
/// client's code exchange, not the consent page) and knows the app's callback.
async fn oauth_sandbox() -> Sandbox {
    sandbox_with(sandbox_hubspot::Config {
        auto_approve: Some("ava.lindqvist@sandbox.example.com".into()),
        redirect_uris: vec![REDIRECT.into()],
        ..sandbox_hubspot::Config::for_tests()
    })
    .await
}

fn config(sb: &Sandbox, paths: &ApiPaths) -> OAuthConfig {
    OAuthConfig::new(DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET.to_owned().into(), REDIRECT)
        .with_api(&sb.base_url(), paths)
        .with_authorize_url(format!("{}/oauth/authorize", sb.base_url()))
}

/// Follows the consent step as a browser would and returns the `code` from the redirect.
async fn authorization_code(config: &OAuthConfig) -> String {
    let request = config.authorize_url(&["oauth", "crm.objects.deals.read"], &[], None).unwrap();
    crm_http::install_crypto_provider();
    let browser = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let response = browser.get(request.url).send().await.unwrap();
    assert_eq!(response.status(), 302);
    let location = url::Url::parse(response.headers()["location"].to_str().unwrap()).unwrap();
    let pairs: std::collections::HashMap<_, _> = location.query_pairs().into_owned().collect();
    assert_eq!(pairs["state"], request.state);
    pairs["code"].clone()
}

async fn tokens(sb: &Sandbox, paths: &ApiPaths) -> (OAuth, TokenSet) {
    let config = config(sb, paths);
    let code = authorization_code(&config).await;
    let oauth = OAuth::new(config, Duration::from_secs(5)).unwrap();
    let set = oauth.exchange_code(&code).await.unwrap();
    (oauth, set)
}

fn api_client(sb: &Sandbox, provider: Arc<RefreshingToken>) -> Client {
    Client::builder(provider)
        .base_url(sb.base_url())
        .retry(fast_retry())
        .build()
        .unwrap()
}

#[tokio::test]
async fn a_code_is_exchanged_for_tokens_that_expire_as_the_response_says() {
    let sb = oauth_sandbox().await;
    let (_, set) = tokens(&sb, &ApiPaths::legacy()).await;
    assert!(!set.access_token.expose_secret().is_empty());
    assert!(set.refresh_token.is_some());
    assert_eq!(set.expires_in, Some(Duration::from_secs(1800)));
    assert!(set.expires_at().is_some());
    assert_eq!(sb.requests().count("POST /oauth/v1/token"), 1);
    sb.shutdown().await;
}

#[tokio::test]
async fn the_date_versioned_token_endpoint_exchanges_and_refreshes_too() {
    let sb = oauth_sandbox().await;
    let (oauth, set) = tokens(&sb, &ApiPaths::dated("2026-03")).await;
    let refreshed = oauth.refresh(set.refresh_token.as_ref().unwrap()).await.unwrap();
    assert_ne!(refreshed.access_token.expose_secret(), set.access_token.expose_secret());
    assert_eq!(sb.requests().count("POST /oauth/2026-03/token"), 2);
    sb.shutdown().await;
}

#[tokio::test]
async fn an_expired_access_token_is_refreshed_once_and_the_call_retried() {
    let sb = oauth_sandbox().await;
    let (oauth, set) = tokens(&sb, &ApiPaths::legacy()).await;
    let refreshes = Arc::new(AtomicU32::new(0));
    let counter = refreshes.clone();
    let provider = Arc::new(RefreshingToken::new(oauth, set).on_refresh(move |_| {
        counter.fetch_add(1, Ordering::SeqCst);
    }));
    let client = api_client(&sb, provider);
    client.get_object(DEALS, NORTHWIND_CORE, &ReadOptions::default()).await.unwrap();
    sb.faults().expire_access_tokens();
    // Several calls at once see the same expired token: one refresh serves them all.
    let calls: Vec<_> = (0..5)
        .map(|_| {
            let client = client.clone();
            tokio::spawn(async move { client.get_object(DEALS, NORTHWIND_CORE, &ReadOptions::default()).await })
        })
        .collect();
    for call in calls {
        assert!(call.await.unwrap().unwrap().is_some());
    }
    assert_eq!(refreshes.load(Ordering::SeqCst), 1);
    sb.shutdown().await;
}

#[tokio::test]
async fn a_revoked_refresh_token_needs_reauthorization() {
    let sb = oauth_sandbox().await;
    let (oauth, set) = tokens(&sb, &ApiPaths::legacy()).await;
    sb.faults().revoke_token(set.refresh_token.as_ref().unwrap().expose_secret());
    sb.faults().expire_access_tokens();
    let client = api_client(&sb, Arc::new(RefreshingToken::new(oauth, set)));
    let err = client.get_object(DEALS, NORTHWIND_CORE, &ReadOptions::default()).await.unwrap_err();
    assert!(err.needs_reauthorization(), "{err:?}");
    assert!(
        matches!(err, crm_hubspot::Error::Token(TokenError::Rejected(ref m)) if m.contains("refresh token")),
        "{err:?}"
    );
    sb.shutdown().await;
}

#[tokio::test]
async fn a_wrong_client_secret_is_a_rejection() {
    let sb = oauth_sandbox().await;
    let good = config(&sb, &ApiPaths::legacy());
    let code = authorization_code(&good).await;
    let bad = OAuthConfig {
        client_secret: "wrong".to_owned().into(),
        ..good
    };
    let err = OAuth::new(bad, Duration::from_secs(5))
        .unwrap()
        .exchange_code(&code)
        .await
        .unwrap_err();
    assert!(matches!(err, TokenError::Rejected(_)), "{err:?}");
    sb.shutdown().await;
}

#[tokio::test]
async fn a_failing_token_endpoint_is_unavailable_rather_than_a_rejection() {
    let sb = oauth_sandbox().await;
    let (oauth, set) = tokens(&sb, &ApiPaths::legacy()).await;
    sb.faults().fail_next(1, 503);
    let err = oauth.refresh(set.refresh_token.as_ref().unwrap()).await.unwrap_err();
    assert!(matches!(err, TokenError::Unavailable(_)), "{err:?}");
    sb.shutdown().await;
}

#[tokio::test]
async fn a_revoked_refresh_token_can_no_longer_refresh_on_either_path_family() {
    let sb = oauth_sandbox().await;
    for paths in [ApiPaths::legacy(), ApiPaths::dated("2026-03")] {
        let (oauth, set) = tokens(&sb, &paths).await;
        let refresh = set.refresh_token.clone().unwrap();
        oauth.revoke(&refresh).await.unwrap();
        let err = oauth.refresh(&refresh).await.unwrap_err();
        assert!(matches!(err, TokenError::Rejected(_)), "{paths:?}: {err:?}");
    }
    assert_eq!(
        sb.requests().count("DELETE /oauth/v1/refresh-tokens/{token}"),
        1,
        "{:?}",
        sb.requests().by_endpoint()
    );
    sb.shutdown().await;
}
