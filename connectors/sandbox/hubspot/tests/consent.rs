//! The install/consent flow as a browser and an app drive it over HTTP: authorize → consent
//! page → Allow/Deny → code → token → token metadata → refresh-token deletion → refused.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{spawn, spawn_with};
use sandbox_hubspot::{Config, RateLimits};
use serde_json::Value;

const CLIENT_ID: &str = "handoff-sandbox";
const SECRET: &str = "handoff-sandbox-secret";
const CALLBACK: &str = "http://127.0.0.1:4173/auth/hubspot/callback";

fn authorize_query<'a>(extra: &[(&'a str, &'a str)]) -> Vec<(&'a str, &'a str)> {
    let mut q = vec![("client_id", CLIENT_ID), ("redirect_uri", CALLBACK)];
    q.extend_from_slice(extra);
    q
}

fn exchange<'a>(code: &'a str, redirect: &'a str) -> [(&'a str, &'a str); 5] {
    [
        ("grant_type", "authorization_code"),
        ("code", code),
        ("redirect_uri", redirect),
        ("client_id", CLIENT_ID),
        ("client_secret", SECRET),
    ]
}

#[tokio::test]
async fn connect_hubspot_runs_from_consent_to_a_deleted_refresh_token() {
    let app = spawn().await;
    // The page: one radio input per owner (by user id), the first chosen, Allow and Deny.
    let page = app
        .http
        .get(app.url("/oauth/authorize"))
        .query(&authorize_query(&[
            ("scope", "oauth crm.objects.deals.read"),
            ("optional_scope", "crm.objects.contacts.write"),
            ("state", "st-7"),
        ]))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status().as_u16(), 200);
    let html = page.text().await.unwrap();
    assert!(html.contains("name=\"user\" id=\"user-0\" value=\"91000001\" checked>"), "{html}");
    assert!(html.contains("name=\"user\" id=\"user-2\" value=\"91000003\">"));
    assert!(html.contains("Priya Iyer") && html.contains("priya.iyer@sandbox.example.com"));
    assert!(html.contains("id=\"approve\">Allow</button>") && html.contains("id=\"deny\">Deny</button>"));
    assert!(html.contains("<code>crm.objects.contacts.write</code>") && !html.contains("<script"));

    let query = authorize_query(&[
        ("scope", "oauth crm.objects.deals.read"),
        ("optional_scope", "crm.objects.contacts.write"),
        ("state", "st-7"),
    ]);
    let back = app.consent(&query, "91000003", "allow").await;
    assert_eq!(back["state"], "st-7");
    let v = app.post_form("/oauth/v1/token", &exchange(&back["code"], CALLBACK)).await;
    assert_eq!((v["token_type"].as_str(), v["expires_in"].as_u64()), (Some("bearer"), Some(1800)));
    let access = v["access_token"].as_str().unwrap().to_string();
    let refresh = v["refresh_token"].as_str().unwrap().to_string();

    // Who connected, from the token metadata.
    let info = app.get_json(&format!("/oauth/v1/access-tokens/{access}")).await;
    assert_eq!(info["token"], access.as_str());
    assert_eq!(info["user"], "priya.iyer@sandbox.example.com");
    assert_eq!(info["user_id"], 91_000_003);
    assert_eq!(
        (info["hub_id"].as_u64(), info["app_id"].as_u64()),
        (Some(2_026_001), Some(3_715_530))
    );
    assert_eq!(info["token_type"], "access");
    assert!(info["hub_domain"].is_string() && info["expires_in"].as_u64().unwrap() > 1700);
    assert_eq!(
        info["scopes"],
        serde_json::json!(["oauth", "crm.objects.deals.read", "crm.objects.contacts.write"])
    );
    let r = app
        .http
        .get(app.url("/crm/v3/objects/deals"))
        .bearer_auth(&access)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    let rinfo = app.get_json(&format!("/oauth/v1/refresh-tokens/{refresh}")).await;
    assert_eq!(
        (
            rinfo["user"].as_str(),
            rinfo["user_id"].as_u64(),
            rinfo["client_id"].as_str(),
            rinfo["token_type"].as_str()
        ),
        (
            Some("priya.iyer@sandbox.example.com"),
            Some(91_000_003),
            Some(CLIENT_ID),
            Some("refresh")
        )
    );

    // Deleting the refresh token: refreshing with it fails with BAD_REFRESH_TOKEN.
    let r = app
        .http
        .delete(app.url(&format!("/oauth/v1/refresh-tokens/{refresh}")))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 204);
    let v = app
        .post_form(
            "/oauth/v1/token",
            &[
                ("grant_type", "refresh_token"),
                ("refresh_token", refresh.as_str()),
                ("client_id", CLIENT_ID),
                ("client_secret", SECRET),
            ],
        )
        .await;
    assert_eq!(
        (v["status"].as_str(), v["error"].as_str()),
        (Some("BAD_REFRESH_TOKEN"), Some("invalid_grant"))
    );
    assert!(v["message"].is_string() && v["correlationId"].is_string());
    let r = app
        .http
        .get(app.url(&format!("/oauth/v1/refresh-tokens/{refresh}")))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 404);
    let r = app
        .http
        .delete(app.url(&format!("/oauth/v1/refresh-tokens/{refresh}")))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 404);
}

#[tokio::test]
async fn a_code_is_single_use_and_bound_to_its_redirect_url_and_the_secret() {
    let app = spawn().await;
    let back = app.consent(&authorize_query(&[]), "omar.haddad@sandbox.example.com", "allow").await;
    let code = back["code"].clone();
    let v = app
        .post_form("/oauth/v1/token", &exchange(&code, "http://127.0.0.1:4173/elsewhere"))
        .await;
    assert_eq!(v["status"], "BAD_REDIRECT_URI");
    let mut wrong_secret = exchange(&code, CALLBACK);
    wrong_secret[4] = ("client_secret", "nope");
    let v = app.post_form("/oauth/v1/token", &wrong_secret).await;
    assert_eq!(v["status"], "BAD_CLIENT_SECRET");
    let v = app.post_form("/oauth/v1/token", &exchange(&code, CALLBACK)).await;
    assert!(v["access_token"].is_string(), "{v}");
    let info = app
        .get_json(&format!("/oauth/v1/access-tokens/{}", v["access_token"].as_str().unwrap()))
        .await;
    assert_eq!(info["user_id"], 91_000_002);
    // No scope asked: the sandbox's default set.
    assert!(info["scopes"].as_array().unwrap().iter().any(|s| s == "crm.objects.deals.read"));
    let v = app.post_form("/oauth/v1/token", &exchange(&code, CALLBACK)).await;
    assert_eq!(
        (v["status"].as_str(), v["error"].as_str()),
        (Some("BAD_AUTH_CODE"), Some("invalid_grant"))
    );
}

#[tokio::test]
async fn deny_unknown_apps_and_unregistered_redirects_are_refused() {
    let app = spawn_with(Config {
        rate_limits: RateLimits::unlimited(),
        redirect_uris: vec!["https://console.example.com/auth/hubspot/callback".into()],
        ..Config::for_tests()
    })
    .await;
    let back = app.consent(&authorize_query(&[("state", "s1")]), "91000004", "deny").await;
    assert_eq!((back["error"].as_str(), back["state"].as_str()), ("access_denied", "s1"));
    assert!(!back.contains_key("code"));
    for (client_id, redirect, error) in [
        (CLIENT_ID, "https://evil.example.com/cb", "BAD_REDIRECT_URI"),
        ("someone-else", CALLBACK, "BAD_CLIENT_ID"),
    ] {
        let r = app
            .http
            .get(app.url("/oauth/authorize"))
            .query(&[("client_id", client_id), ("redirect_uri", redirect)])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), 400);
        assert!(r.headers().get("location").is_none());
        assert!(r.text().await.unwrap().contains(&format!("<code id=\"error\">{error}</code>")));
    }
    // A registered redirect URL, and the portal-specific authorize path.
    let r = app
        .http
        .get(app.url("/oauth/2026001/authorize"))
        .query(&[
            ("client_id", CLIENT_ID),
            ("redirect_uri", "https://console.example.com/auth/hubspot/callback"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    // An unknown user gets the page again; an answered request cannot be answered twice.
    let page = app
        .http
        .get(app.url("/oauth/authorize"))
        .query(&authorize_query(&[]))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let marker = "name=\"request\" value=\"";
    let at = page.find(marker).unwrap() + marker.len();
    let request = page[at..].split('"').next().unwrap().to_string();
    let post = |user: &'static str, decision: &'static str| {
        let (http, url, request) = (app.http.clone(), app.url("/oauth/authorize"), request.clone());
        async move {
            http.post(url)
                .form(&[("request", request.as_str()), ("user", user), ("decision", decision)])
                .send()
                .await
                .unwrap()
        }
    };
    let again = post("nobody@example.com", "allow").await;
    assert_eq!(again.status().as_u16(), 200);
    assert!(again.text().await.unwrap().contains("id=\"problem\""));
    assert_eq!(post("91000001", "allow").await.status().as_u16(), 302);
    assert_eq!(post("91000001", "allow").await.status().as_u16(), 400);
}

#[tokio::test]
async fn auto_approve_skips_the_page_for_plain_http_clients() {
    let app = spawn_with(Config {
        rate_limits: RateLimits::unlimited(),
        auto_approve: Some("felix.schmidt@sandbox.example.com".into()),
        ..Config::for_tests()
    })
    .await;
    let r = app
        .http
        .get(app.url("/oauth/authorize"))
        .query(&authorize_query(&[("state", "x")]))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 302);
    let location = r.headers()["location"].to_str().unwrap().to_string();
    let q: std::collections::HashMap<String, String> = form_urlencoded::parse(location.split_once('?').unwrap().1.as_bytes())
        .into_owned()
        .collect();
    let v: Value = app.post_form("/oauth/v1/token", &exchange(&q["code"], CALLBACK)).await;
    let info = app
        .get_json(&format!("/oauth/v1/access-tokens/{}", v["access_token"].as_str().unwrap()))
        .await;
    assert_eq!(info["user"], "felix.schmidt@sandbox.example.com");
}

#[tokio::test]
async fn a_pkce_challenge_needs_the_matching_verifier() {
    use base64::Engine;
    use sha2::{Digest, Sha256};
    let app = spawn().await;
    let verifier = "a-code-verifier-of-forty-three-characters-or-more-0123";
    let challenge = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()));
    let query = authorize_query(&[("code_challenge", challenge.as_str()), ("code_challenge_method", "S256")]);
    let with = |code: &str, v: Option<&str>| {
        let mut form: Vec<(String, String)> = exchange(code, CALLBACK)
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        if let Some(v) = v {
            form.push(("code_verifier".into(), v.into()));
        }
        form
    };
    let app = &app;
    let post = |form: Vec<(String, String)>| async move {
        let pairs: Vec<(&str, &str)> = form.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        app.post_form("/oauth/v1/token", &pairs).await
    };
    let back = app.consent(&query, "91000001", "allow").await;
    let v = post(with(&back["code"], Some("not-the-verifier"))).await;
    assert_eq!(
        (v["status"].as_str(), v["error"].as_str()),
        (Some("BAD_CODE_VERIFIER"), Some("invalid_grant"))
    );
    // The failed attempt used the code up.
    let v = post(with(&back["code"], Some(verifier))).await;
    assert_eq!(v["status"], "BAD_AUTH_CODE");
    let back = app.consent(&query, "91000001", "allow").await;
    assert_eq!(post(with(&back["code"], None)).await["status"], "BAD_CODE_VERIFIER");
    let back = app.consent(&query, "91000001", "allow").await;
    assert!(post(with(&back["code"], Some(verifier))).await["access_token"].is_string());
}
