//! The web-server flow as a browser and an app drive it over HTTP: authorize → consent page →
//! Allow/Deny → code → token (PKCE) → UserInfo / identity URL → revoke → refused.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use common::{V, client, error_code};
use reqwest::Client;
use sandbox_salesforce::{Config, Sandbox};
use serde_json::Value;

const CLIENT_ID: &str = "handoff-sandbox";
const SECRET: &str = "handoff-sandbox-secret";
const CALLBACK: &str = "http://127.0.0.1:4173/auth/salesforce/callback";
const VERIFIER: &str = "a-code-verifier-of-forty-three-characters-or-more-0123";

fn challenge(verifier: &str) -> String {
    URL_SAFE_NO_PAD.encode(ring::digest::digest(&ring::digest::SHA256, verifier.as_bytes()))
}

/// The value of `name="{name}" value="…"` in a page.
fn field(html: &str, name: &str) -> String {
    let marker = format!("name=\"{name}\" value=\"");
    let at = html.find(&marker).unwrap_or_else(|| panic!("no {name} field in {html}")) + marker.len();
    html[at..].split('"').next().unwrap().to_string()
}

/// The user id of a seeded user by username.
fn user(sandbox: &Sandbox, username: &str) -> String {
    sandbox
        .ids("User")
        .into_iter()
        .find(|id| sandbox.record("User", id).unwrap()["Username"] == username)
        .unwrap()
}

fn query_of(location: &str) -> std::collections::HashMap<String, String> {
    let q = location.split_once('?').map(|(_, q)| q).unwrap_or("");
    form_urlencoded::parse(q.as_bytes()).into_owned().collect()
}

/// Opens the consent page for `params` (client_id, redirect_uri and response_type added).
async fn consent_page(http: &Client, base: &str, extra: &[(&str, &str)]) -> reqwest::Response {
    let mut q = vec![("response_type", "code"), ("client_id", CLIENT_ID), ("redirect_uri", CALLBACK)];
    q.extend_from_slice(extra);
    http.get(format!("{base}/services/oauth2/authorize"))
        .query(&q)
        .send()
        .await
        .unwrap()
}

/// Submits the consent form as the browser would.
async fn submit(http: &Client, base: &str, request: &str, user: &str, decision: &str) -> reqwest::Response {
    http.post(format!("{base}/services/oauth2/authorize"))
        .form(&[("request", request), ("user", user), ("decision", decision)])
        .send()
        .await
        .unwrap()
}

/// Authorize → page → Allow as `user`: the redirect's query.
async fn approved(http: &Client, base: &str, user: &str, extra: &[(&str, &str)]) -> std::collections::HashMap<String, String> {
    let page = consent_page(http, base, extra).await;
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    let r = submit(http, base, &field(&html, "request"), user, "allow").await;
    assert_eq!(r.status(), 302);
    let location = r.headers()["location"].to_str().unwrap().to_string();
    assert!(location.starts_with(CALLBACK), "{location}");
    query_of(&location)
}

async fn token(http: &Client, base: &str, form: &[(&str, &str)]) -> (u16, Value) {
    let r = http.post(format!("{base}/services/oauth2/token")).form(form).send().await.unwrap();
    (r.status().as_u16(), r.json().await.unwrap())
}

async fn get(http: &Client, url: &str, bearer: &str) -> reqwest::Response {
    http.get(url).bearer_auth(bearer).send().await.unwrap()
}

#[tokio::test]
async fn sign_in_with_salesforce_runs_from_consent_to_revocation() {
    let sandbox = sandbox_salesforce::start(Config::for_tests()).await.unwrap();
    let (base, http) = (sandbox.base_url(), client());
    let maria = user(&sandbox, "maria.lopez@sandbox.example.com");
    // The seeded users' ids are stable (README, "Sign-in users").
    let ids: Vec<String> = sandbox.ids("User");
    assert_eq!(
        ids,
        [
            "005Dn0000000001IAA",
            "005Dn0000000002IAA",
            "005Dn0000000003IAA",
            "005Dn0000000004IAA"
        ]
    );
    assert_eq!(maria, "005Dn0000000002IAA");

    // The consent page: a plain form, the hinted user chosen, Allow and Deny buttons.
    let challenge = challenge(VERIFIER);
    let extra = [
        ("scope", "api id openid refresh_token"),
        ("state", "st-42"),
        ("code_challenge", challenge.as_str()),
        ("code_challenge_method", "S256"),
        ("login_hint", "maria.lopez@sandbox.example.com"),
    ];
    let page = consent_page(&http, &base, &extra).await;
    assert_eq!(page.status(), 200);
    assert!(page.headers()["content-type"].to_str().unwrap().starts_with("text/html"));
    let html = page.text().await.unwrap();
    assert!(
        html.contains(&format!("name=\"user\" id=\"user-1\" value=\"{maria}\" checked>")),
        "{html}"
    );
    assert!(html.contains("id=\"approve\">Allow</button>") && html.contains("id=\"deny\">Deny</button>"));
    assert!(html.contains("Maria Lopez") && !html.contains("<script"));

    let r = submit(&http, &base, &field(&html, "request"), &maria, "allow").await;
    assert_eq!(r.status(), 302);
    let back = query_of(r.headers()["location"].to_str().unwrap());
    assert_eq!(back["state"], "st-42");
    let code = back["code"].clone();

    // A public client with PKCE: no secret needed.
    let (status, body) = token(
        &http,
        &base,
        &[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("client_id", CLIENT_ID),
            ("redirect_uri", CALLBACK),
            ("code_verifier", VERIFIER),
        ],
    )
    .await;
    assert_eq!(status, 200, "{body}");
    for key in [
        "access_token",
        "refresh_token",
        "signature",
        "scope",
        "instance_url",
        "id",
        "token_type",
        "issued_at",
    ] {
        assert!(body[key].is_string(), "{key} in {body}");
    }
    assert_eq!(body["scope"], "api id openid refresh_token");
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["instance_url"], base.as_str());
    let id_url = body["id"].as_str().unwrap().to_string();
    assert_eq!(id_url, format!("{base}/id/{}/{maria}", sandbox.organization_id()));
    let access = body["access_token"].as_str().unwrap().to_string();
    let refresh = body["refresh_token"].as_str().unwrap().to_string();

    // Who signed in.
    let info: Value = get(&http, &format!("{base}/services/oauth2/userinfo"), &access)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(info["sub"], id_url.as_str());
    assert_eq!(info["user_id"], maria.as_str());
    assert_eq!(info["organization_id"], sandbox.organization_id());
    assert_eq!(info["preferred_username"], "maria.lopez@sandbox.example.com");
    assert_eq!(info["email"], "maria.lopez@sandbox.example.com");
    assert_eq!(
        (info["email_verified"].as_bool(), info["name"].as_str()),
        (Some(true), Some("Maria Lopez"))
    );
    assert_eq!(
        (info["given_name"].as_str(), info["family_name"].as_str()),
        (Some("Maria"), Some("Lopez"))
    );
    let id: Value = get(&http, &id_url, &access).await.json().await.unwrap();
    assert_eq!(id["id"], id_url.as_str());
    assert_eq!(id["username"], "maria.lopez@sandbox.example.com");
    assert_eq!(id["display_name"], "Maria Lopez");
    assert_eq!((id["asserted_user"].as_bool(), id["active"].as_bool()), (Some(true), Some(true)));
    assert_eq!(id["urls"]["rest"], format!("{base}/services/data/v{{version}}/").as_str());
    assert_eq!(get(&http, &format!("{base}{V}/limits"), &access).await.status(), 200);

    // Revoking the refresh token ends the sessions it gave too.
    let r = http
        .post(format!("{base}/services/oauth2/revoke"))
        .form(&[("token", refresh.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let r = get(&http, &format!("{base}{V}/limits"), &access).await;
    assert_eq!(r.status(), 401);
    assert_eq!(error_code(&r.json().await.unwrap()), "INVALID_SESSION_ID");
    let r = get(&http, &format!("{base}/services/oauth2/userinfo"), &access).await;
    assert_eq!((r.status().as_u16(), r.text().await.unwrap()), (403, "Bad_OAuth_Token".to_string()));
    let (status, body) = token(
        &http,
        &base,
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", &refresh),
            ("client_id", CLIENT_ID),
            ("client_secret", SECRET),
        ],
    )
    .await;
    assert_eq!((status, body["error"].as_str()), (400, Some("invalid_grant")));
    assert_eq!(body["error_description"], "expired access/refresh token");
    let r = http
        .post(format!("{base}/services/oauth2/revoke"))
        .form(&[("token", refresh.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    assert_eq!(r.json::<Value>().await.unwrap()["error"], "invalid_token");
    sandbox.shutdown().await;
}

#[tokio::test]
async fn revoking_an_access_token_leaves_its_refresh_token_usable() {
    let sandbox = sandbox_salesforce::start(Config::for_tests()).await.unwrap();
    let (base, http) = (sandbox.base_url(), client());
    let lena = user(&sandbox, "lena.fischer@sandbox.example.com");
    let back = approved(&http, &base, &lena, &[]).await;
    let creds = [
        ("grant_type", "authorization_code"),
        ("code", back["code"].as_str()),
        ("client_id", CLIENT_ID),
        ("client_secret", SECRET),
        ("redirect_uri", CALLBACK),
    ];
    let (status, body) = token(&http, &base, &creds).await;
    assert_eq!(status, 200, "{body}");
    let access = body["access_token"].as_str().unwrap().to_string();
    let refresh = body["refresh_token"].as_str().unwrap().to_string();
    let r = http
        .get(format!("{base}/services/oauth2/revoke"))
        .query(&[("token", access.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(get(&http, &format!("{base}{V}/limits"), &access).await.status(), 401);
    let (status, body) = token(
        &http,
        &base,
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", &refresh),
            ("client_id", CLIENT_ID),
            ("client_secret", SECRET),
        ],
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let info: Value = get(
        &http,
        &format!("{base}/services/oauth2/userinfo"),
        body["access_token"].as_str().unwrap(),
    )
    .await
    .json()
    .await
    .unwrap();
    assert_eq!(info["user_id"], lena.as_str());
    sandbox.shutdown().await;
}

#[tokio::test]
async fn a_wrong_pkce_verifier_and_a_reused_code_are_refused() {
    let sandbox = sandbox_salesforce::start(Config::for_tests()).await.unwrap();
    let (base, http) = (sandbox.base_url(), client());
    let admin = user(&sandbox, "admin@sandbox.example.com");
    let challenge = challenge(VERIFIER);
    let back = approved(&http, &base, &admin, &[("code_challenge", challenge.as_str())]).await;
    let exchange = |verifier: &'static str, code: String| {
        let http = http.clone();
        let base = base.clone();
        async move {
            token(
                &http,
                &base,
                &[
                    ("grant_type", "authorization_code"),
                    ("code", &code),
                    ("client_id", CLIENT_ID),
                    ("redirect_uri", CALLBACK),
                    ("code_verifier", verifier),
                ],
            )
            .await
        }
    };
    let (status, body) = exchange("not-the-verifier", back["code"].clone()).await;
    assert_eq!((status, body["error"].as_str()), (400, Some("invalid_grant")));
    assert_eq!(body["error_description"], "invalid code verifier");
    // The failed attempt used the code up.
    let (status, body) = exchange(VERIFIER, back["code"].clone()).await;
    assert_eq!(
        (status, body["error_description"].as_str()),
        (400, Some("invalid authorization code"))
    );

    // A good code works once, and only once.
    let back = approved(&http, &base, &admin, &[("code_challenge", challenge.as_str())]).await;
    assert_eq!(exchange(VERIFIER, back["code"].clone()).await.0, 200);
    let (status, body) = exchange(VERIFIER, back["code"].clone()).await;
    assert_eq!((status, body["error"].as_str()), (400, Some("invalid_grant")));
    // Without PKCE, the secret is required.
    let back = approved(&http, &base, &admin, &[]).await;
    let (status, body) = token(
        &http,
        &base,
        &[
            ("grant_type", "authorization_code"),
            ("code", &back["code"]),
            ("client_id", CLIENT_ID),
            ("redirect_uri", CALLBACK),
        ],
    )
    .await;
    assert_eq!((status, body["error"].as_str()), (400, Some("invalid_client")));
    sandbox.shutdown().await;
}

#[tokio::test]
async fn redirect_uris_are_checked_at_authorize_and_at_the_token_exchange() {
    let config = Config {
        redirect_uris: vec!["https://console.example.com/auth/salesforce/callback".into()],
        ..Config::for_tests()
    };
    let sandbox = sandbox_salesforce::start(config).await.unwrap();
    let (base, http) = (sandbox.base_url(), client());
    // Unregistered callback or unknown app: an error page, never a redirect.
    for (client_id, redirect, error) in [
        (CLIENT_ID, "https://evil.example.com/cb", "redirect_uri_mismatch"),
        ("someone-else", CALLBACK, "invalid_client_id"),
    ] {
        let r = http
            .get(format!("{base}/services/oauth2/authorize"))
            .query(&[("response_type", "code"), ("client_id", client_id), ("redirect_uri", redirect)])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 400);
        assert!(r.headers().get("location").is_none());
        let html = r.text().await.unwrap();
        assert!(html.contains(&format!("<code id=\"error\">{error}</code>")), "{html}");
    }
    // A registered non-loopback callback is fine.
    let r = http
        .get(format!("{base}/services/oauth2/authorize"))
        .query(&[
            ("response_type", "code"),
            ("client_id", CLIENT_ID),
            ("redirect_uri", "https://console.example.com/auth/salesforce/callback"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    // The token exchange must name the callback the code was issued for.
    let admin = user(&sandbox, "admin@sandbox.example.com");
    let back = approved(&http, &base, &admin, &[]).await;
    let (status, body) = token(
        &http,
        &base,
        &[
            ("grant_type", "authorization_code"),
            ("code", &back["code"]),
            ("client_id", CLIENT_ID),
            ("client_secret", SECRET),
            ("redirect_uri", "http://127.0.0.1:4173/other"),
        ],
    )
    .await;
    assert_eq!((status, body["error"].as_str()), (400, Some("redirect_uri_mismatch")));
    sandbox.shutdown().await;

    // Loopback callbacks can be switched off.
    let strict = Config {
        allow_loopback_redirects: false,
        ..Config::for_tests()
    };
    let sandbox = sandbox_salesforce::start(strict).await.unwrap();
    assert_eq!(consent_page(&http, &sandbox.base_url(), &[]).await.status(), 400);
    sandbox.shutdown().await;
}

#[tokio::test]
async fn deny_and_bad_requests_go_back_with_an_error_and_the_state() {
    let sandbox = sandbox_salesforce::start(Config::for_tests()).await.unwrap();
    let (base, http) = (sandbox.base_url(), client());
    let html = consent_page(&http, &base, &[("state", "s1")]).await.text().await.unwrap();
    let request = field(&html, "request");
    // No user chosen: the page again, with a note.
    let again = submit(&http, &base, &request, "nobody@example.com", "allow").await;
    assert_eq!(again.status(), 200);
    assert!(again.text().await.unwrap().contains("id=\"problem\""));
    let r = submit(&http, &base, &request, "", "deny").await;
    assert_eq!(r.status(), 302);
    let back = query_of(r.headers()["location"].to_str().unwrap());
    assert_eq!(
        (back["error"].as_str(), back["error_description"].as_str(), back["state"].as_str()),
        ("access_denied", "end-user denied authorization", "s1")
    );
    // A decision is made once.
    assert_eq!(submit(&http, &base, &request, "", "allow").await.status(), 400);
    let r = http
        .get(format!("{base}/services/oauth2/authorize"))
        .query(&[
            ("response_type", "token"),
            ("client_id", CLIENT_ID),
            ("redirect_uri", CALLBACK),
            ("state", "s2"),
        ])
        .send()
        .await
        .unwrap();
    let back = query_of(r.headers()["location"].to_str().unwrap());
    assert_eq!(
        (back["error"].as_str(), back["state"].as_str()),
        ("unsupported_response_type", "s2")
    );
    // The identity URL wants a token and an org of this sandbox.
    let r = http.get(format!("{base}/services/oauth2/userinfo")).send().await.unwrap();
    assert_eq!(
        (r.status().as_u16(), r.text().await.unwrap()),
        (403, "Missing_OAuth_Token".to_string())
    );
    sandbox.shutdown().await;
}
