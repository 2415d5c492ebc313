use crm_http::OAuthHttp;
use crm_salesforce::auth::{AuthError, ClientCredentials, Grant, JwtBearer, RefreshingTokenProvider, WebServerFlow};
use crm_salesforce::{Client, Error, TokenError, TokenProvider};
use sandbox_salesforce::{DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, TEST_JWT_PRIVATE_KEY_PEM};
use secrecy::{ExposeSecret, SecretString};
use std::sync::Arc;
use std::time::Duration;

use super::{Env, env, env_with, fast_retries, jwt};

fn http() -> OAuthHttp {
    OAuthHttp::new("crm-salesforce-tests", Duration::from_secs(5)).unwrap()
}

const REDIRECT: &str = "http://127.0.0.1:9/oauth/callback";

#[tokio::test]
async fn the_jwt_bearer_flow_returns_a_token_for_the_sandbox_instance() {
    let env = env().await;
    let token = jwt(&env.sandbox).fetch_token(&http()).await.unwrap();
    assert_eq!(token.access_token.instance_url.as_deref(), Some(env.sandbox.base_url().as_str()));
    assert!(token.refresh_token.is_none(), "the JWT flow issues no refresh token");
    assert_eq!(token.organization_id(), Some(env.sandbox.organization_id()));
}

#[tokio::test]
async fn a_jwt_for_an_unknown_user_is_rejected_as_invalid_grant() {
    let env = env().await;
    let key = SecretString::from(TEST_JWT_PRIVATE_KEY_PEM);
    let jwt = JwtBearer::new(&env.sandbox.base_url(), DEFAULT_CLIENT_ID, "nobody@nowhere.example", &key).unwrap();
    let err = jwt.fetch_token(&http()).await.unwrap_err();
    assert!(
        matches!(err, AuthError::Rejected { ref error, .. } if error == "invalid_grant"),
        "{err}"
    );
}

#[tokio::test]
async fn a_jwt_signed_with_another_key_is_rejected() {
    let env = env().await;
    let other = SecretString::from(include_str!("../fixtures/jwt_test_key.pem"));
    let jwt = JwtBearer::new(&env.sandbox.base_url(), DEFAULT_CLIENT_ID, super::DEFAULT_USERNAME, &other).unwrap();
    assert!(matches!(jwt.fetch_token(&http()).await, Err(AuthError::Rejected { .. })));
}

/// Follows the authorize URL the way a browser would, up to the redirect, and returns
/// the callback's query parameters.
/// An org whose consent step approves at once as the default user: these tests are
/// about the client's code exchange, not the consent page.
async fn consenting_env() -> Env {
    let config = sandbox_salesforce::Config {
        auto_approve: Some(sandbox_salesforce::DEFAULT_USERNAME.into()),
        ..sandbox_salesforce::Config::for_tests()
    };
    env_with(config, Duration::from_secs(10), fast_retries(2)).await
}

async fn authorize(url: &url::Url) -> std::collections::HashMap<String, String> {
    let browser = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let response = browser.get(url.as_str()).send().await.unwrap();
    assert!(response.status().is_redirection(), "{}", response.status());
    let location = response.headers()["location"].to_str().unwrap();
    url::Url::parse(location).unwrap().query_pairs().into_owned().collect()
}

#[tokio::test]
async fn the_web_server_flow_exchanges_a_code_and_refreshes_with_the_refresh_token() {
    let env = consenting_env().await;
    let secret = SecretString::from(DEFAULT_CLIENT_SECRET);
    let flow = WebServerFlow::new(&env.sandbox.base_url(), DEFAULT_CLIENT_ID, &secret, REDIRECT).unwrap();
    let request = flow.authorize_url(&["api", "refresh_token"], true);
    let callback = authorize(&request.url).await;
    assert_eq!(callback["state"], request.state);
    let code = SecretString::from(callback["code"].clone());

    let issued = flow.exchange_code(&http(), &code, request.pkce_verifier.as_ref()).await.unwrap();
    let refresh_token = issued
        .refresh_token
        .clone()
        .expect("api refresh_token scope yields a refresh token");
    let refreshed = flow
        .refresh(&http(), &refresh_token, issued.access_token.instance_url.as_deref())
        .await
        .unwrap();
    assert!(!refreshed.access_token.same_as(&issued.access_token));
    assert_eq!(refreshed.access_token.instance_url, issued.access_token.instance_url);

    let second_use = flow.exchange_code(&http(), &code, request.pkce_verifier.as_ref()).await;
    assert!(matches!(second_use, Err(AuthError::Rejected { .. })), "codes are single-use");
}

#[tokio::test]
async fn a_revoked_refresh_token_surfaces_as_a_final_token_rejection() {
    let env = consenting_env().await;
    let secret = SecretString::from(DEFAULT_CLIENT_SECRET);
    let flow = WebServerFlow::new(&env.sandbox.base_url(), DEFAULT_CLIENT_ID, &secret, REDIRECT).unwrap();
    let request = flow.authorize_url(&["api", "refresh_token"], false);
    let code = SecretString::from(authorize(&request.url).await["code"].clone());
    let issued = flow.exchange_code(&http(), &code, None).await.unwrap();
    let refresh_token = issued.refresh_token.clone().unwrap();
    let tokens = Arc::new(
        RefreshingTokenProvider::new(Grant::RefreshToken { flow, refresh_token })
            .unwrap()
            .with_token(issued.access_token),
    );
    let client = Client::new(tokens.clone()).unwrap();
    client.query("SELECT Id FROM Account").await.unwrap();

    env.sandbox.faults().revoke_all_tokens();
    let err = client.query("SELECT Id FROM Account").await.unwrap_err();
    assert!(matches!(err, Error::Token(TokenError::Rejected(_))), "{err}");
    assert_eq!(tokens.token_requests(), 1, "one refresh attempt, no loop");
}

#[tokio::test]
async fn client_credentials_get_a_token_and_a_wrong_secret_is_refused() {
    let env = env().await;
    let good = ClientCredentials::new(
        &env.sandbox.base_url(),
        DEFAULT_CLIENT_ID,
        &SecretString::from(DEFAULT_CLIENT_SECRET),
    )
    .unwrap();
    let token = good.fetch_token(&http()).await.unwrap();
    assert!(!token.access_token.secret.expose_secret().is_empty());
    assert_eq!(token.access_token.instance_url.as_deref(), Some(env.sandbox.base_url().as_str()));

    let bad = ClientCredentials::new(&env.sandbox.base_url(), DEFAULT_CLIENT_ID, &SecretString::from("wrong")).unwrap();
    assert!(matches!(bad.fetch_token(&http()).await, Err(AuthError::Rejected { .. })));
}

#[tokio::test]
async fn a_client_on_the_refreshing_provider_calls_the_api_as_the_jwt_user() {
    let env = env().await;
    let token = env.tokens.token().await.unwrap();
    assert_eq!(token.instance_url.as_deref(), Some(env.sandbox.base_url().as_str()));
    let page = env.client.query("SELECT Id, Name FROM Account").await.unwrap();
    assert!(page.total_size > 0);
}
