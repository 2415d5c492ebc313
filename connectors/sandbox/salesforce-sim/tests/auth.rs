//! OAuth flows and session expiry.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::Duration;

use common::{Api, V, assertion, client, error_code};
use sandbox_salesforce::Config;
use serde_json::Value;

async fn token(base: &str, form: &[(&str, &str)]) -> (u16, Value) {
    let r = client()
        .post(format!("{base}/services/oauth2/token"))
        .form(form)
        .send()
        .await
        .unwrap();
    (r.status().as_u16(), r.json().await.unwrap())
}

#[tokio::test]
async fn a_jwt_bearer_assertion_gets_a_token_whose_instance_url_is_the_sandbox() {
    let sandbox = sandbox_salesforce::start(Config::for_tests()).await.unwrap();
    let base = sandbox.base_url();
    let (status, body) = token(
        &base,
        &[
            ("grant_type", "urn:ietf:params:oauth:grant-type:jwt-bearer"),
            ("assertion", &assertion(120)),
        ],
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["instance_url"], base.as_str());
    assert_eq!(body["token_type"], "Bearer");
    assert!(body["refresh_token"].is_null());
    assert!(body["id"].as_str().unwrap().contains(sandbox.organization_id()));
    assert!(body["issued_at"].as_str().unwrap().parse::<i64>().is_ok());
    sandbox.shutdown().await;
}

#[tokio::test]
async fn expired_forged_or_foreign_assertions_are_refused() {
    let sandbox = sandbox_salesforce::start(Config::for_tests()).await.unwrap();
    let base = sandbox.base_url();
    let grant = "urn:ietf:params:oauth:grant-type:jwt-bearer";
    let (status, body) = token(&base, &[("grant_type", grant), ("assertion", &assertion(-10))]).await;
    assert_eq!((status, body["error"].as_str()), (400, Some("invalid_grant")));
    let mut forged = assertion(120);
    let i = forged.len() - 10;
    let c = if &forged[i..=i] == "A" { "B" } else { "A" };
    forged.replace_range(i..=i, c);
    let (status, body) = token(&base, &[("grant_type", grant), ("assertion", &forged)]).await;
    assert_eq!((status, body["error"].as_str()), (400, Some("invalid_grant")));
    let other = sandbox_salesforce::sign_assertion(
        sandbox_salesforce::TEST_JWT_PRIVATE_KEY_PEM,
        "someone-else",
        "admin@sandbox.example.com",
        "https://login.salesforce.com",
        chrono::Utc::now().timestamp() + 60,
    )
    .unwrap();
    let (_, body) = token(&base, &[("grant_type", grant), ("assertion", &other)]).await;
    assert_eq!(body["error"], "invalid_client_id");
    sandbox.shutdown().await;
}

#[tokio::test]
async fn the_authorization_code_flow_redirects_with_a_code_and_refreshes() {
    // Approving at once (no consent page), as a plain HTTP client needs; tests/consent.rs clicks through the page.
    let config = Config {
        auto_approve: Some("admin@sandbox.example.com".into()),
        ..Config::for_tests()
    };
    let sandbox = sandbox_salesforce::start(config).await.unwrap();
    let base = sandbox.base_url();
    let redirect = "http://localhost:9999/callback";
    let r = client()
        .get(format!("{base}/services/oauth2/authorize"))
        .query(&[
            ("response_type", "code"),
            ("client_id", "handoff-sandbox"),
            ("redirect_uri", redirect),
            ("state", "xyz"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 302);
    let location = r.headers()["location"].to_str().unwrap().to_string();
    assert!(location.starts_with(redirect) && location.contains("state=xyz"), "{location}");
    let code = location.split("code=").nth(1).unwrap().split('&').next().unwrap().to_string();
    let creds = [
        ("client_id", "handoff-sandbox"),
        ("client_secret", "handoff-sandbox-secret"),
        ("redirect_uri", redirect),
    ];
    let mut form = vec![("grant_type", "authorization_code"), ("code", code.as_str())];
    form.extend(creds);
    let (status, body) = token(&base, &form).await;
    assert_eq!(status, 200, "{body}");
    let refresh = body["refresh_token"].as_str().unwrap().to_string();
    // A code is single-use.
    let (status, _) = token(&base, &form).await;
    assert_eq!(status, 400);
    let mut form = vec![("grant_type", "refresh_token"), ("refresh_token", refresh.as_str())];
    form.extend(creds);
    let (status, body) = token(&base, &form).await;
    assert_eq!(status, 200, "{body}");
    assert!(body["refresh_token"].is_null() && body["access_token"].is_string());
    let (status, body) = token(
        &base,
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", "nope"),
            ("client_id", "handoff-sandbox"),
            ("client_secret", "handoff-sandbox-secret"),
        ],
    )
    .await;
    assert_eq!(
        (status, body["error_description"].as_str()),
        (400, Some("expired access/refresh token"))
    );
    sandbox.shutdown().await;
}

#[tokio::test]
async fn client_credentials_work_with_basic_auth_or_form_parameters() {
    let sandbox = sandbox_salesforce::start(Config::for_tests()).await.unwrap();
    let base = sandbox.base_url();
    let r = client()
        .post(format!("{base}/services/oauth2/token"))
        .basic_auth("handoff-sandbox", Some("handoff-sandbox-secret"))
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let (status, _) = token(
        &base,
        &[
            ("grant_type", "client_credentials"),
            ("client_id", "handoff-sandbox"),
            ("client_secret", "handoff-sandbox-secret"),
        ],
    )
    .await;
    assert_eq!(status, 200);
    let (status, body) = token(
        &base,
        &[
            ("grant_type", "client_credentials"),
            ("client_id", "handoff-sandbox"),
            ("client_secret", "wrong"),
        ],
    )
    .await;
    assert_eq!((status, body["error"].as_str()), (400, Some("invalid_client")));
    let (_, body) = token(&base, &[("grant_type", "password")]).await;
    assert_eq!(body["error"], "unsupported_grant_type");
    sandbox.shutdown().await;
}

#[tokio::test]
async fn expired_missing_or_revoked_sessions_get_invalid_session_id() {
    let config = Config {
        access_token_ttl: Duration::from_millis(300),
        ..Config::for_tests()
    };
    let sandbox = sandbox_salesforce::start(config).await.unwrap();
    let api = Api::login(&sandbox.base_url()).await;
    assert_eq!(api.get(&format!("{V}/limits")).await.status(), 200);
    tokio::time::sleep(Duration::from_millis(400)).await;
    let r = api.get(&format!("{V}/limits")).await;
    assert_eq!(r.status(), 401);
    let body: Value = r.json().await.unwrap();
    assert_eq!(
        body,
        serde_json::json!([{"message": "Session expired or invalid", "errorCode": "INVALID_SESSION_ID"}])
    );
    let anonymous = client().get(format!("{}{V}/limits", sandbox.base_url())).send().await.unwrap();
    assert_eq!(anonymous.status(), 401);
    let api = Api::login(&sandbox.base_url()).await;
    sandbox.faults().revoke_token(&api.token);
    let r = api.get(&format!("{V}/limits")).await;
    assert_eq!(error_code(&r.json().await.unwrap()), "INVALID_SESSION_ID");
    sandbox.shutdown().await;
}
